"""Reference ELBO and gradients of a two-layer doubly-stochastic deep GP for
TestELBOMatchesTorch.

An independent PyTorch (float64) implementation of the DSVI bound of methods/models.md §3.1
(Salimbeni & Deisenroth 2017) in its textbook form, not the Go code's whitened algebra:
per layer an ARD RBF kernel (variance and lengthscales through softplus) plus a White kernel
on the inner layer, K_ZZ with 1e-6 jitter, the marginals of q(f(x)) with A = K_ZZ⁻¹k_Z(x):
μ̃ = Aᵀm_d + mean function, σ̃² = k(x, x) − k_Z(x)ᵀK_ZZ⁻¹k_Z(x) + AᵀS_dA with S_d = L_dL_dᵀ
(torch.cholesky_solve), the inner layer's output sampled as μ̃ + ε·√(σ̃² + 1e-6) with given
normals ε, KL(q(u_d) ‖ p(u_d)) by torch.distributions.kl_divergence, and the Gaussian
expected log-likelihood −½log(2πσ²) − ((y − μ̃)² + σ̃²)/(2σ²), σ² = softplus(θ) + 1e-6,
averaged over S samples. ∂ELBO/∂θ by autograd.

Sizes: N = 7 rows, D = 3 inputs; layer0 3 → 2 outputs with a fixed linear mean x·W, M = 4;
layer1 2 → 1 with zero mean, M = 4; S = 2 samples. Random parameters from a fixed seed (q_sqrt
blocks lower triangular), exported under the Go names with W, x, y and ε.

Run with Debian's python3-torch (1.13.1):
    /usr/bin/python3 gen_torch_elbo.py > torch_elbo.json
"""
import json
import math

import torch
from torch.distributions import MultivariateNormal, kl_divergence

torch.set_default_dtype(torch.float64)
torch.manual_seed(11)

N, D, M, S = 7, 3, 4, 2
JITTER, WHITE, SAMPLE_JITTER, NOISE_FLOOR = 1e-6, 2e-6, 1e-6, 1e-6
LAYERS = [(D, 2, WHITE), (2, 1, 0.0)]  # (dIn, dOut, White variance)


def rbf(a, b, variance, lens):
    d2 = (((a[:, None, :] - b[None, :, :]) / lens) ** 2).sum(-1)
    return variance * torch.exp(-0.5 * d2)


def main():
    params = {}
    for i, (din, dout, _) in enumerate(LAYERS):
        p = f"layer{i}/"
        params[p + "z"] = torch.randn(M, din)
        params[p + "variance"] = torch.randn(1) * 0.5
        params[p + "lengthscales"] = torch.randn(din) * 0.5
        params[p + "q_mu"] = torch.randn(M, dout)
        blocks = [torch.tril(torch.randn(M, M) * 0.4) + torch.eye(M) * 0.6 for _ in range(dout)]
        params[p + "q_sqrt"] = torch.cat(blocks, dim=1)  # [L_1 | … | L_dOut]
    params["noise"] = torch.randn(1) * 0.3 - 1
    for v in params.values():
        v.requires_grad_(True)
    W = torch.randn(D, 2)
    x = torch.randn(N, D)
    y = torch.randn(N)
    eps = torch.randn(S * N, 2)

    f = x.repeat(S, 1)  # row s·N + n
    kl = 0.0
    for i, (din, dout, white) in enumerate(LAYERS):
        p = f"layer{i}/"
        z, qmu, qsqrt = params[p + "z"], params[p + "q_mu"], params[p + "q_sqrt"]
        variance = torch.nn.functional.softplus(params[p + "variance"])
        lens = torch.nn.functional.softplus(params[p + "lengthscales"])
        kzz = rbf(z, z, variance, lens) + (JITTER + white) * torch.eye(M)
        lz = torch.linalg.cholesky(kzz)
        kzx = rbf(z, f, variance, lens)  # [M, P]
        a = torch.cholesky_solve(kzx, lz)  # K_ZZ⁻¹ k_Z(x)
        kxx = variance + white
        mus, vs = [], []
        for d in range(dout):
            ld = qsqrt[:, d * M:(d + 1) * M]
            sd = ld @ ld.t()
            mus.append(a.t() @ qmu[:, d])
            vs.append(kxx - (kzx * a).sum(0) + ((sd @ a) * a).sum(0))
            kl = kl + kl_divergence(MultivariateNormal(qmu[:, d], scale_tril=torch.tril(ld)), MultivariateNormal(torch.zeros(M), scale_tril=lz))
        mu, v = torch.stack(mus, 1), torch.stack(vs, 1)
        if i == 0:
            mu = mu + f @ W
            f = mu + eps * torch.sqrt(v + SAMPLE_JITTER)
    noise = torch.nn.functional.softplus(params["noise"]) + NOISE_FLOOR
    yt = y.repeat(S)
    ell = (-0.5 * torch.log(2 * math.pi * noise) - ((yt - mu[:, 0]) ** 2 + v[:, 0]) / (2 * noise)).sum() / S
    elbo = ell - kl
    elbo.backward()
    print(json.dumps({
        "torch": torch.__version__, "n": N, "d": D, "m": M, "s": S,
        "params": {k: t.detach().reshape(-1).tolist() for k, t in params.items()},
        "grads": {k: t.grad.reshape(-1).tolist() for k, t in params.items()},
        "w": W.reshape(-1).tolist(), "x": x.reshape(-1).tolist(), "y": y.tolist(), "eps": eps.reshape(-1).tolist(),
        "elbo": elbo.item(), "kl": float(kl), "ell": ell.item(),
    }))


if __name__ == "__main__":
    main()
