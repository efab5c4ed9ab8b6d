"""Reference trajectories of torch.optim.Adam for TestAdamMatchesTorch.

Minimizes f(θ) = Σ_i c_i·(θ_i − a_i)⁴/4 + ½‖θ‖² (gradients that change scale along the path)
from a fixed θ0 for 25 steps with torch.optim.Adam (float64) at learning rate 0.05, with and
without weight decay and with a large eps, and with the learning rate dropped ×0.1 at steps
15 and 20 by torch.optim.lr_scheduler.MultiStepLR. Records θ after every step.

Run with Debian's python3-torch (1.13.1):
    /usr/bin/python3 gen_torch_adam.py > torch_adam.json
"""
import json

import torch

torch.set_default_dtype(torch.float64)

THETA0 = [1.0, -2.0, 0.5, 3.0]
C = [1.0, 0.5, 2.0, 0.1]
A = [0.3, -0.7, 0.0, 1.5]
STEPS, LR = 25, 0.05


def trajectory(wd, eps, milestones):
    th = torch.tensor(THETA0, requires_grad=True)
    opt = torch.optim.Adam([th], lr=LR, weight_decay=wd, eps=eps)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=milestones, gamma=0.1) if milestones else None
    c, a = torch.tensor(C), torch.tensor(A)
    out = []
    for _ in range(STEPS):
        opt.zero_grad()
        f = (c * (th - a) ** 4 / 4).sum() + 0.5 * (th ** 2).sum()
        f.backward()
        opt.step()
        if sched:
            sched.step()
        out.append(th.detach().tolist())
    return out


if __name__ == "__main__":
    cases = []
    for name, wd, eps, ms in [("default", 0, 1e-8, []), ("weight decay", 0.3, 1e-8, []), ("eps 0.5", 0, 0.5, []),
                              ("weight decay, eps 0.5", 0.3, 0.5, []), ("multistep", 0.01, 1e-8, [15, 20])]:
        cases.append({"name": name, "weight_decay": wd, "eps": eps, "milestones": ms, "theta": trajectory(wd, eps, ms)})
    print(json.dumps({"torch": torch.__version__, "theta0": THETA0, "c": C, "a": A, "lr": LR, "cases": cases}))
