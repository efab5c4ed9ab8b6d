#!/usr/bin/python3
"""Reference numbers for stdlib/diffusion, computed independently of the Go code with numpy.

Run with Debian's /usr/bin/python3 (numpy 1.24.2):  /usr/bin/python3 gen_reference.py > reference.json

Schedules follow the reference implementations' own formulas:
  - CSDI (ermongroup/CSDI main_model.py): quad = np.linspace(bs**0.5, be**0.5, T)**2,
    linear = np.linspace(bs, be, T); the power-p generalization of csdi_icr.md §1.2.
  - improved-diffusion (openai, gaussian_diffusion.py betas_for_alpha_bar): cosine with
    s = 0.008, beta = min(1 - f(t2)/f(t1), 0.999), t1 = i/T, t2 = (i+1)/T.
  - mid-course: beta_t = omega*sqrt(u - u^2), u = (t + 0.5)/T (csdi_icr.md A4).
The oracle-sampler moments follow csdi_icr.md §4.2 (affine propagation) and are cross-checked
here against a Monte Carlo run; the t* numbers are the argmax of second differences of the
analytic D(t) = s^2/(1 + lambda_t s^2)^2 (csdi_icr.md §2.5).
"""
import json
import math
import numpy as np


def power(bs, be, T, p):
    return np.linspace(bs ** p, be ** p, T) ** (1.0 / p)


def cosine(T, s=0.008, max_beta=0.999):
    f = lambda t: math.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    return np.array([min(1 - f((i + 1) / T) / f(i / T), max_beta) for i in range(T)])


def midcourse(T, omega):
    u = (np.arange(T) + 0.5) / T
    return omega * np.sqrt(u - u * u)


def propagate(beta, m, s2, tstar=None):
    """Exact moments of the oracle DDPM sampler (csdi_icr.md §4.2). Returns (M, V, G)."""
    ab = np.cumprod(1 - beta)
    T = len(beta)
    if tstar is None:
        M, V, G, start = 0.0, 1.0, 0.0, T - 1
    else:
        M, V, G, start = 0.0, 1 - ab[tstar], math.sqrt(ab[tstar]), tstar
    for t in range(start, -1, -1):
        a_t = 1 - beta[t]
        k = beta[t] / math.sqrt(1 - ab[t])
        c = math.sqrt(1 - ab[t]) / (ab[t] * s2 + 1 - ab[t])
        A = (1 - k * c) / math.sqrt(a_t)
        B = k * c * math.sqrt(ab[t]) * m / math.sqrt(a_t)
        sig2 = beta[t] * (1 - ab[t - 1]) / (1 - ab[t]) if t > 0 else 0.0
        M, V, G = A * M + B, A * A * V + sig2, A * G
    return M, V, G


def mc_check(beta, m, s2, n, seed, y=None, tstar=None):
    """Monte Carlo oracle sampler, to check propagate() inside this script."""
    rng = np.random.default_rng(seed)
    ab = np.cumprod(1 - beta)
    T = len(beta)
    if tstar is None:
        x, start = rng.standard_normal(n), T - 1
    else:
        x, start = math.sqrt(ab[tstar]) * y + math.sqrt(1 - ab[tstar]) * rng.standard_normal(n), tstar
    for t in range(start, -1, -1):
        eps = math.sqrt(1 - ab[t]) * (x - math.sqrt(ab[t]) * m) / (ab[t] * s2 + 1 - ab[t])
        x = (x - beta[t] / math.sqrt(1 - ab[t]) * eps) / math.sqrt(1 - beta[t])
        if t > 0:
            x = x + math.sqrt(beta[t] * (1 - ab[t - 1]) / (1 - ab[t])) * rng.standard_normal(n)
    return x.mean(), x.var()


def second_diff(x, f):
    hm = x[1:-1] - x[:-2]
    hp = x[2:] - x[1:-1]
    return 2 * (f[2:] / (hp * (hm + hp)) - f[1:-1] / (hm * hp) + f[:-2] / (hm * (hm + hp)))


def tstar(beta, s2, step):
    grid = np.arange(0, len(beta), step)
    ab = np.cumprod(1 - beta)
    lam = ab / (1 - ab)
    D = s2 / (1 + lam[grid] * s2) ** 2
    H = second_diff(grid.astype(float), D)
    j = int(np.argmax(H)) + 1
    Ht = second_diff(np.log(lam[grid]), D)
    jt = int(np.argmax(Ht)) + 1
    infl = -1
    for k in range(j + 1, len(grid) - 1):
        if H[k - 1] <= 0:
            infl = int(grid[k])
            break
    budget = int(grid[np.argmax(np.sqrt(D) >= 0.1)]) if np.any(np.sqrt(D) >= 0.1) else -1
    w = lam * s2 / (1 + lam * s2)
    return dict(step=step, argmax=int(grid[j]), w_at_argmax=float(w[grid[j]]),
                argmax_logsnr=int(grid[jt]), w_at_argmax_logsnr=float(w[grid[jt]]),
                inflection=infl, budget=budget)


out = {}
out["power_alphabar_last"] = []
for be in (0.05, 0.01, 0.005):
    for p in (0.5, 1.0, 0.9):
        b = power(1e-4, be, 50, p)
        out["power_alphabar_last"].append(dict(T=50, beta_start=1e-4, beta_end=be, p=p,
                                               alphabar_last=float(np.prod(1 - b))))
b = power(1e-4, 0.5, 50, 0.5)
out["quad_1e-4_0.5_T50"] = dict(beta=b.tolist(), alphabar=np.cumprod(1 - b).tolist())
out["midcourse"] = []
for om in (0.005, 0.1):
    b = midcourse(50, om)
    out["midcourse"].append(dict(T=50, omega=om, sum_beta=float(b.sum()),
                                 alphabar_last=float(np.prod(1 - b)), peak=float(b.max())))
for T in (50, 1000):
    b = cosine(T)
    out["cosine_T%d" % T] = dict(beta=b.tolist(), alphabar=np.cumprod(1 - b).tolist())

# csdi_icr.md §4.2
full = []
for (be, T, s2) in ((0.5, 50, 0.25), (0.5, 50, 0.05), (0.5, 50, 1.0), (0.5, 100, 0.25),
                    (0.5, 150, 0.25), (0.05, 50, 0.25)):
    b = power(1e-4, be, T, 0.5)
    M, V, G = propagate(b, 0.7, s2)
    mcM, mcV = mc_check(b, 0.7, s2, 200000, 1)
    assert abs(mcM - M) < 5 * math.sqrt(V / 200000) and abs(mcV / V - 1) < 5 * math.sqrt(2 / 200000)
    full.append(dict(beta_end=be, T=T, m=0.7, s2=s2, mean=M, var=V, var_over_s2=V / s2))
out["full_chain"] = full
b = power(1e-4, 0.05, 50, 0.5)
ab = np.cumprod(1 - b)
trunc = []
for ts in (10, 20, 30, 49):
    M, V, G = propagate(b, 0.7, 0.25, ts)
    lam = ab[ts] / (1 - ab[ts])
    w = lam * 0.25 / (1 + lam * 0.25)
    y = 1.3
    mcM, mcV = mc_check(b, 0.7, 0.25, 200000, 2, y=y, tstar=ts)
    assert abs(mcM - (G * y + M)) < 5 * math.sqrt(V / 200000) and abs(mcV / V - 1) < 5 * math.sqrt(2 / 200000)
    exact = 0.25 / (1 + lam * 0.25) + w * w / lam
    trunc.append(dict(tstar=ts, alphabar=float(ab[ts]), gain=G, w=float(w), mean=M,
                      one_minus_w_m=float((1 - w) * 0.7), var=V, exact_var=float(exact)))
out["truncated_quad_0.05_T50_m0.7_s2_0.25"] = trunc
b5 = power(1e-4, 0.5, 50, 0.5)
ab5 = np.cumprod(1 - b5)
out["bayes_eps_loss_quad_0.5_T50_s2_0.25"] = float(np.mean(ab5 * 0.25 / (ab5 * 0.25 + 1 - ab5)))
out["tstar_quad_0.05_T50"] = [dict(s2=s2, **tstar(b, s2, step)) for s2 in (0.25, 1.0) for step in (1, 2, 5)]
print(json.dumps(out, indent=1))
