"""Reference numbers for the exact-GP / SVGP / Titsias identities of models.md §3.3 items 1-2.

Run with Debian 12's /usr/bin/python3 (numpy 1.24.2):
    /usr/bin/python3 gen_gp.py   # writes gp_data.csv and gp_fixtures.json next to this file

Data: models.md §8, n = 84, d = 5, X_ij = sin(0.37(i+1)(j+1) + 0.5 j) + 0.01 (i+1)/(j+1),
y_i = 3 X_i0 - 2 X_i1^2 + X_i2 X_i3 + 0.1 cos(i) + 5, y z-scored with the population SD.
Kernel: isotropic RBF, lengthscale 1.3, variance 1.7; Gaussian noise 0.05.
Every quantity is direct numpy linear algebra of the formulas; jitter 1e-10 on K_ZZ.

The *_mp values repeat the exact LML and the collapsed bounds in 40-digit arithmetic (mpmath 1.2.1)
from the same float64 X: at the optimal q(u) the SVGP ELBO equals Titsias' collapsed bound exactly,
so titsias_*_mp is also the exact value of the optimal-q ELBO. In float64 the direct optimal-q
formula loses digits at Z = X (K_ZZ has a condition number near 1e12 with jitter 1e-10): numpy
gives svgp_opt_elbo_zx = -14.51391266 here and models.md quotes -14.5139086915, both off the
true -14.5139086988 by rounding.
"""
import json, os
import mpmath as mp
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
n, d = 84, 5
i = np.arange(n)[:, None]
j = np.arange(d)[None, :]
X = np.sin(0.37 * (i + 1) * (j + 1) + 0.5 * j) + 0.01 * (i + 1) / (j + 1)
y = 3 * X[:, 0] - 2 * X[:, 1] ** 2 + X[:, 2] * X[:, 3] + 0.1 * np.cos(np.arange(n)) + 5
yz = (y - y.mean()) / y.std()

ell, sf2, s2, jit = 1.3, 1.7, 0.05, 1e-10


def K(a, b):
    d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    return sf2 * np.exp(-0.5 * d2 / ell ** 2)


def logdet(A):
    return 2 * np.log(np.diag(np.linalg.cholesky(A))).sum()


def exact_lml():
    C = K(X, X) + s2 * np.eye(n)
    return -0.5 * yz @ np.linalg.solve(C, yz) - 0.5 * logdet(C) - 0.5 * n * np.log(2 * np.pi)


def svgp_opt(Z):
    """ELBO of the SVGP at the optimal q(u) = N(m*, S*)."""
    M = len(Z)
    Kzz = K(Z, Z) + jit * np.eye(M)
    Kzx = K(Z, X)
    S = Kzz @ np.linalg.solve(Kzz + Kzx @ Kzx.T / s2, Kzz)
    m = S @ np.linalg.solve(Kzz, Kzx @ yz) / s2
    A = np.linalg.solve(Kzz, Kzx)  # M x n
    mu = A.T @ m
    var = sf2 - np.einsum('mn,mk,kn->n', A, Kzz - S, A)
    ell_term = (-0.5 * np.log(2 * np.pi * s2) - ((yz - mu) ** 2 + var) / (2 * s2)).sum()
    kl = 0.5 * (np.trace(np.linalg.solve(Kzz, S)) + m @ np.linalg.solve(Kzz, m) - M
                + logdet(Kzz) - logdet(S))
    return ell_term - kl, m.tolist(), S.tolist()


def titsias(Z):
    M = len(Z)
    Kzz = K(Z, Z) + jit * np.eye(M)
    Kzx = K(Z, X)
    Q = Kzx.T @ np.linalg.solve(Kzz, Kzx)
    C = Q + s2 * np.eye(n)
    ll = -0.5 * yz @ np.linalg.solve(C, yz) - 0.5 * logdet(C) - 0.5 * n * np.log(2 * np.pi)
    return ll - (n * sf2 - np.trace(Q)) / (2 * s2)


def mp_values():
    mp.mp.dps = 40
    Xm = [[mp.mpf(float(v)) for v in r] for r in X]
    ym = [mp.mpf(float(v)) for v in y]
    mean = sum(ym) / n
    sd = mp.sqrt(sum((v - mean) ** 2 for v in ym) / n)
    yv = mp.matrix([(v - mean) / sd for v in ym])
    l2, f2, e2, jt = mp.mpf(ell) ** 2, mp.mpf(sf2), mp.mpf(s2), mp.mpf(jit)

    def Km(A, B):
        return mp.matrix([[f2 * mp.exp(-sum((a[q] - b[q]) ** 2 for q in range(d)) / (2 * l2))
                           for b in B] for a in A])

    def gauss_ll(C):
        L = mp.cholesky(C)
        ld = 2 * sum(mp.log(L[k, k]) for k in range(n))
        return -(yv.T * mp.cholesky_solve(C, yv))[0] / 2 - ld / 2 - n * mp.log(2 * mp.pi) / 2

    def tits(Z):
        Kzx = Km(Z, Xm)
        Q = Kzx.T * (mp.inverse(Km(Z, Z) + jt * mp.eye(len(Z))) * Kzx)
        return gauss_ll(Q + e2 * mp.eye(n)) - sum(f2 - Q[k, k] for k in range(n)) / (2 * e2)

    return {"exact_lml_mp": mp.nstr(gauss_ll(Km(Xm, Xm) + e2 * mp.eye(n)), 20),
            "titsias_zx_mp": mp.nstr(tits(Xm), 20),
            "titsias_z4_mp": mp.nstr(tits(Xm[0::4]), 20)}


out = {"jitter": jit, "exact_lml": exact_lml()}
e, m, S = svgp_opt(X)
out["svgp_opt_elbo_zx"] = e
out["titsias_zx"] = titsias(X)
e, m, S = svgp_opt(X[0::4])
out["svgp_opt_elbo_z4"] = e
out["titsias_z4"] = titsias(X[0::4])
out["svgp_opt_m_z4"] = m
out["svgp_opt_S_z4"] = S
out.update(mp_values())
with open(os.path.join(here, "gp_fixtures.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
np.savetxt(os.path.join(here, "gp_data.csv"), np.column_stack([X, y]), delimiter=",",
           fmt="%.17g", header="x0,x1,x2,x3,x4,y", comments="")
print({k: v for k, v in out.items() if not isinstance(v, list)})
