"""Reference loss and gradients of DAGMM for TestLossMatchesTorch.

An independent PyTorch (float64) implementation of the paper formulation of
methods/models.md §5.1 (Zong et al. 2018), written with torch's own ops and autograd:
compression network (tanh hidden layers, linear last layers, mirror decoder), reconstruction
features [relative Euclidean distance, cosine similarity], estimation network (tanh, no
dropout: evaluation mode), softmax memberships, the GMM parameters from them (biased
covariances), the energy E(z) = −logsumexp_k[log φ_k − ½‖L_k⁻¹(z − μ_k)‖² − (D/2) log 2π
− Σ log diag L_k] with L_k = chol(Σ_k + εI) (torch.linalg.cholesky, torch.logsumexp), and
J = mean‖x − x'‖² + λ₁ mean E + λ₂ Σ_k Σ_j 1/Σ_k,jj (no jitter in the penalty).

Random weights U(−0.5, 0.5) and inputs from a fixed seed; it exports the weights under the Go
network's names, the inputs, J and its three parts, the per-row energies and ∂J/∂θ.

Run with Debian's python3-torch (1.13.1):
    /usr/bin/python3 gen_torch_dagmm.py > torch_dagmm.json
"""
import json
import math

import torch

torch.set_default_dtype(torch.float64)
torch.manual_seed(7)

N, D_IN, HIDDEN, LATENT, EST_HIDDEN, K = 12, 6, [5], 2, [10], 3
LAMBDA1, LAMBDA2, JITTER = 0.1, 0.005, 1e-6


def mlp(name, sizes):
    return [(f"{name}.{i}", torch.nn.Linear(sizes[i], sizes[i + 1])) for i in range(len(sizes) - 1)]


def run(layers, h):
    for i, (_, layer) in enumerate(layers):
        h = layer(h)
        if i + 1 < len(layers):
            h = torch.tanh(h)
    return h


def main():
    enc = mlp("encoder", [D_IN] + HIDDEN + [LATENT])
    dec = mlp("decoder", [LATENT] + HIDDEN[::-1] + [D_IN])
    est = mlp("estimation", [LATENT + 2] + EST_HIDDEN + [K])
    layers = enc + dec + est
    with torch.no_grad():
        for _, layer in layers:
            for p in layer.parameters():
                p.uniform_(-0.5, 0.5)
    x = torch.randn(N, D_IN) + torch.linspace(-1, 1, D_IN)

    zc = run(enc, x)
    xr = run(dec, zc)
    sq = ((x - xr) ** 2).sum(dim=1)
    xn, xrn = x.norm(dim=1), xr.norm(dim=1)
    rel = sq.sqrt() / xn
    cos = (x * xr).sum(dim=1) / (xn * xrn)
    z = torch.cat([zc, rel[:, None], cos[:, None]], dim=1)
    gamma = torch.softmax(run(est, z), dim=1)

    nk = gamma.sum(dim=0)
    phi = nk / N
    mu = (gamma.t() @ z) / nk[:, None]
    diff = z[None, :, :] - mu[:, None, :]  # [K, N, D]
    sigma = torch.einsum("kn,kni,knj->kij", gamma.t(), diff, diff) / nk[:, None, None]
    dim = z.shape[1]
    chol = torch.linalg.cholesky(sigma + JITTER * torch.eye(dim))
    sol = torch.linalg.solve_triangular(chol, diff.transpose(1, 2), upper=False)  # [K, D, N]
    maha = (sol ** 2).sum(dim=1)  # [K, N]
    logdet_half = torch.log(torch.diagonal(chol, dim1=1, dim2=2)).sum(dim=1)  # ½ log|Σ+εI|
    logp = torch.log(phi)[:, None] - 0.5 * maha - 0.5 * dim * math.log(2 * math.pi) - logdet_half[:, None]
    energy = -torch.logsumexp(logp, dim=0)
    penalty = (1 / torch.diagonal(sigma, dim1=1, dim2=2)).sum()
    recon = sq.mean()
    j = recon + LAMBDA1 * energy.mean() + LAMBDA2 * penalty
    j.backward()

    params, grads = {}, {}
    for name, layer in layers:
        params[name + ".weight"] = layer.weight.detach().reshape(-1).tolist()
        params[name + ".bias"] = layer.bias.detach().reshape(-1).tolist()
        grads[name + ".weight"] = layer.weight.grad.reshape(-1).tolist()
        grads[name + ".bias"] = layer.bias.grad.reshape(-1).tolist()
    print(json.dumps({
        "torch": torch.__version__,
        "n": N, "d": D_IN, "hidden": HIDDEN, "latent": LATENT, "est_hidden": EST_HIDDEN, "k": K,
        "lambda1": LAMBDA1, "lambda2": LAMBDA2, "jitter": JITTER,
        "params": params,
        "x": x.reshape(-1).tolist(),
        "j": j.item(), "recon": recon.item(), "energy_mean": energy.mean().item(), "penalty": penalty.item(),
        "energy": energy.tolist(),
        "grads": grads,
    }))


if __name__ == "__main__":
    main()
