"""Reference loss, gradient and full Hessian of an MLP's mean squared error for
TestMLPMatchesTorch.

PyTorch (float64) with torch.autograd.functional.hessian on the flat parameter vector θ in
nn.Linear layout and order (per layer W row-major [out × in], then b): L(θ) = mean_i (ŷ_i − y_i)²
for a 4 → 6 → 5 → 1 network with tanh hidden layers, and the same 4 → 6 → 1 with ReLU, at
random θ and data from a fixed seed.

Run with Debian's python3-torch (1.13.1):
    /usr/bin/python3 gen_torch_mlp.py > torch_mlp.json
"""
import json

import torch

torch.set_default_dtype(torch.float64)
torch.manual_seed(3)


def case(sizes, act, n):
    shapes = []
    for i in range(len(sizes) - 1):
        shapes += [(sizes[i + 1], sizes[i]), (sizes[i + 1],)]
    p = sum(torch.Size(s).numel() for s in shapes)
    theta = torch.randn(p) * 0.7
    x = torch.randn(n, sizes[0])
    y = torch.randn(n)

    def loss(th):
        h, off = x, 0
        for i in range(len(sizes) - 1):
            w = th[off:off + sizes[i + 1] * sizes[i]].reshape(sizes[i + 1], sizes[i])
            off += w.numel()
            b = th[off:off + sizes[i + 1]]
            off += b.numel()
            h = torch.nn.functional.linear(h, w, b)
            if i + 2 < len(sizes):
                h = torch.tanh(h) if act == "tanh" else torch.relu(h)
        return ((h[:, 0] - y) ** 2).mean()

    th = theta.clone().requires_grad_(True)
    value = loss(th)
    (grad,) = torch.autograd.grad(value, th)
    hess = torch.autograd.functional.hessian(loss, theta)
    return {
        "sizes": sizes, "act": act, "theta": theta.tolist(), "x": x.reshape(-1).tolist(), "y": y.tolist(),
        "loss": value.item(), "grad": grad.tolist(), "hessian": hess.reshape(-1).tolist(),
    }


if __name__ == "__main__":
    print(json.dumps({"torch": torch.__version__, "cases": [case([4, 6, 5, 1], "tanh", 9), case([4, 6, 1], "relu", 8)]}))
