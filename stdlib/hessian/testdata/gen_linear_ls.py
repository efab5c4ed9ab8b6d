"""Reference numbers for the exact Hessian of linear least squares (models.md §6.3.1).

Run with Debian's /usr/bin/python3 (numpy 1.24.2) from this directory:

    /usr/bin/python3 gen_linear_ls.py > linear_ls.json

Data: the deterministic 84 x 5 set of models.md §8, in float64. Model yhat = X w + b with
the mean squared error L = (1/n) sum (yhat - y)^2, so the Hessian with respect to (w, b) is
H = (2/n) Xt^T Xt with Xt = [X, 1]. It does not depend on y or on the weights.
"""
import json

import numpy as np

n, d = 84, 5
i = np.arange(1, n + 1, dtype=np.float64)[:, None]
j = np.arange(1, d + 1, dtype=np.float64)[None, :]
X = np.sin(0.37 * i * j + 0.5 * (j - 1)) + 0.01 * i / j
r = np.arange(n, dtype=np.float64)
y = 3 * X[:, 0] - 2 * X[:, 1] ** 2 + X[:, 2] * X[:, 3] + 0.1 * np.cos(r) + 5

Xt = np.hstack([X, np.ones((n, 1))])
H = 2.0 / n * Xt.T @ Xt
evals = np.linalg.eigvalsh(H)  # ascending
fro2 = float(np.sum(H * H))
offdiag2 = fro2 - float(np.sum(np.diag(H) ** 2))

out = {
    "source": "gen_linear_ls.py, numpy " + np.__version__,
    "n": n,
    "d": d,
    "x_row0": X[0].tolist(),
    "y_first3": y[:3].tolist(),
    "hessian_rowmajor": H.ravel().tolist(),
    "eigenvalues_ascending": evals.tolist(),
    "trace": float(np.trace(H)),
    "frobenius2": fro2,
    # Var(v^T H v) for Rademacher v is 2 * sum_{i != j} H_ij^2.
    "hutchinson_variance": 2.0 * offdiag2,
    # v^T H^k v / ||v||^2 for the all-ones v (k = 0..11), a Lanczos moment check.
    "ones_moments": [float(np.ones(d + 1) @ np.linalg.matrix_power(H, k) @ np.ones(d + 1) / (d + 1)) for k in range(12)],
}
print(json.dumps(out, indent=1))
