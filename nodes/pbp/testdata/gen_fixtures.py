"""Reference numbers for the PBP unit tests (models.md §2.8 items 1-3).

Run with Debian 12's /usr/bin/python3 (numpy 1.24.2, scipy 1.10.1):
    /usr/bin/python3 gen_fixtures.py > fixtures.json

Independent of the Go code: the ReLU moments come from the textbook closed form
E[relu] = Phi(a) m + sqrt(v) phi(a), E[relu^2] = Phi(a)(m^2+v) + m sqrt(v) phi(a) with scipy's
normal cdf/pdf, and are cross-checked by adaptive quadrature (scipy.integrate.quad) of
max(x,0) and max(x,0)^2 against the N(m, v) density. The noise and prior updates evaluate the
formulas of models.md §2.5/§2.6 directly in numpy (long double is not needed at these values).
"""
import json
import sys

import numpy as np
from scipy import integrate, stats


def relu_closed(m, v):
    s = np.sqrt(v)
    a = m / s
    P = stats.norm.cdf(a)
    phi = stats.norm.pdf(a)
    e1 = P * m + s * phi
    e2 = P * (m * m + v) + m * s * phi
    return float(e1), float(e2 - e1 * e1)


def relu_quad(m, v):
    s = np.sqrt(v)
    pdf = lambda x: stats.norm.pdf(x, m, s)
    hi = max(m, 0.0) + 40 * s
    e1 = integrate.quad(lambda x: x * pdf(x), 0, hi, epsabs=0, epsrel=1e-13, limit=200)[0]
    e2 = integrate.quad(lambda x: x * x * pdf(x), 0, hi, epsabs=0, epsrel=1e-13, limit=200)[0]
    return e1, e2 - e1 * e1


def gamma_update(a, b, v, r2):
    V, V1, V2 = v + b / (a - 1), v + b / a, v + b / (a + 1)
    lz = lambda W: -0.5 * (np.log(W) + r2 / W)
    logZ, logZ1, logZ2 = lz(V), lz(V1), lz(V2)
    a_new = 1 / (np.exp(logZ2 - 2 * logZ1 + logZ) * (a + 1) / a - 1)
    b_new = 1 / (np.exp(logZ2 - logZ1) * (a + 1) / b - np.exp(logZ1 - logZ) * a / b)
    return V, float(a_new), float(b_new)


out = {"relu": [], "noise": {}, "prior": {}}
for m, v in [(0.3, 1.0), (-1.2, 0.5), (2.0, 0.1), (-3.0, 2.0)]:
    mc, vc = relu_closed(m, v)
    mq, vq = relu_quad(m, v)
    assert abs(mc - mq) <= 1e-10 * max(1, abs(mc)) and abs(vc - vq) <= 1e-9 * max(1e-3, abs(vc)), (m, v, mc, mq, vc, vq)
    out["relu"].append({"m": m, "v": v, "mean": mc, "var": vc, "mean_quad": mq, "var_quad": vq})

# Noise update: alpha = beta = 6, output moments (m, v) = (0.2, 0.3), y = 1.1.
a, b, m, v, y = 6.0, 6.0, 0.2, 0.3, 1.1
V, a_new, b_new = gamma_update(a, b, v, (y - m) ** 2)
out["noise"] = {"a": a, "b": b, "m": m, "v": v, "y": y,
                "dlogz_dm": (y - m) / V, "dlogz_dv": -0.5 / V + 0.5 * (y - m) ** 2 / V ** 2,
                "a_new": a_new, "b_new": b_new}

# Prior refinement of one weight: q(w) = N(0.3, 0.5), factor (mhat, vhat, ahat, bhat) = (0, 5/6, 0, 0),
# alpha^lambda = beta^lambda = 6.
mw, vw, mhat, vhat, ahat, bhat, a, b = 0.3, 0.5, 0.0, 5.0 / 6.0, 0.0, 0.0, 6.0, 6.0
vcav = 1 / (1 / vw - vhat)
mcav = (mw / vw - mhat) * vcav
acav, bcav = a - ahat, b + bhat
V, a_new, b_new = gamma_update(acav, bcav, vcav, mcav ** 2)
dm = -mcav / V
dv = -0.5 / V + 0.5 * mcav ** 2 / V ** 2
m_new = mcav + vcav * dm
v_new = vcav - vcav ** 2 * (dm ** 2 - 2 * dv)
out["prior"] = {"m": mw, "v": vw, "mhat": mhat, "vhat": vhat, "a": a, "b": b,
                "m_new": m_new, "v_new": v_new, "a_new": a_new, "b_new": b_new,
                "vhat_new": 1 / v_new - 1 / vcav, "mhat_new": m_new / v_new - mcav / vcav,
                "ahat_new": (a_new - 1) - (acav - 1), "bhat_new": -b_new + bcav}

# A sequential sweep over three weights sharing (alpha^lambda, beta^lambda): each weight's cavity
# uses the values left by the previous one (models.md §2.6: the order matters). The third
# factor is not the prior any more, so its cavity differs from q.
ws = [(0.3, 0.5, 0.0, 5.0 / 6.0, 0.0, 0.0), (-0.7, 0.2, 0.0, 5.0 / 6.0, 0.0, 0.0),
      (1.1, 0.05, 0.4, 2.0, 0.3, -0.2)]
a, b = 6.0, 6.0
res = []
for mw, vw, mhat, vhat, ahat, bhat in ws:
    vcav = 1 / (1 / vw - vhat)
    mcav = (mw / vw - mhat) * vcav
    acav, bcav = a - ahat, b + bhat
    assert vcav > 0 and bcav > 0 and acav > 1 and vcav < 1e6
    V, a_new, b_new = gamma_update(acav, bcav, vcav, mcav ** 2)
    dm = -mcav / V
    dv = -0.5 / V + 0.5 * mcav ** 2 / V ** 2
    m_new = mcav + vcav * dm
    v_new = vcav - vcav ** 2 * (dm ** 2 - 2 * dv)
    res.append({"m": mw, "v": vw, "mhat": mhat, "vhat": vhat, "ahat": ahat, "bhat": bhat,
                "m_new": m_new, "v_new": v_new,
                "mhat_new": m_new / v_new - mcav / vcav, "vhat_new": 1 / v_new - 1 / vcav,
                "ahat_new": (a_new - 1) - (acav - 1), "bhat_new": -b_new + bcav})
    a, b = a_new, b_new
out["prior_sweep"] = {"weights": res, "a_final": a, "b_final": b}

json.dump(out, sys.stdout, indent=1)
sys.stdout.write("\n")
