#!/usr/bin/python3
"""sklearn 1.2.1 reference predictions for nodes/ridge.

Run from this directory with /usr/bin/python3 gen_ridge.py; it rewrites ridge_fixtures.json.
Data: the deterministic n = 84, d = 5 set of models.md §8 (float64, not cast), plus a sixth
column that is constant (3.0) to exercise the zero-SD rule; rows with i % 4 == 0 are the test
rows. Also UCI Boston housing split 0 from the repository's testdata/uci.
"""
import json

import numpy as np
import sklearn
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

assert sklearn.__version__ == "1.2.1", sklearn.__version__


def dataset():
    i = np.arange(84)[:, None] + 1.0
    j = np.arange(5)[None, :] + 1.0
    X = np.sin(0.37 * i * j + 0.5 * (j - 1)) + 0.01 * i / j
    n = np.arange(84)
    y = 3 * X[:, 0] - 2 * X[:, 1] ** 2 + X[:, 2] * X[:, 3] + 0.1 * np.cos(n) + 5
    X = np.hstack([X, np.full((84, 1), 3.0)])
    return X, y


X, y = dataset()
assert abs(X[0, 0] - 0.37161544) < 1e-8 and abs(y[0] - 4.547619) < 1e-6
test = np.arange(84) % 4 == 0
Xtr, ytr, Xte = X[~test], y[~test], X[test]

out = {"sklearn": sklearn.__version__, "X": X.tolist(), "y": y.tolist(),
       "test_rows": np.flatnonzero(test).tolist(), "cases": []}
for standardize in [True, False]:
    for alpha in [0.0, 1e-3, 0.1, 1.0, 10.0, 1000.0]:
        if not standardize and alpha == 0.0:
            continue  # the constant column makes raw X'X singular; covered by the z-scored case
        # solver='svd' is sklearn's minimum-norm path (it falls back to it when Cholesky
        # fails); for alpha > 0 'auto' (Cholesky) gives the same numbers to ~1e-13.
        ridge = Ridge(alpha=alpha, solver="svd")
        model = make_pipeline(StandardScaler(), ridge) if standardize else ridge
        model.fit(Xtr, ytr)
        auto = Ridge(alpha=max(alpha, 1e-12))
        auto_model = make_pipeline(StandardScaler(), auto) if standardize else auto
        auto_model.fit(Xtr, ytr)
        assert np.allclose(auto_model.predict(Xte), model.predict(Xte), rtol=1e-9, atol=1e-9) or alpha == 0
        out["cases"].append({
            "standardize": standardize, "alpha": alpha,
            "coef": ridge.coef_.tolist(), "intercept": float(ridge.intercept_),
            "pred_test": model.predict(Xte).tolist(), "pred_train": model.predict(Xtr).tolist()})

# UCI Boston housing, split 0, z-scored inputs, alpha = 1.
root = "../../../testdata/uci/bostonHousing/"
data = np.loadtxt(root + "data.txt")
feat = np.loadtxt(root + "index_features.txt").astype(int)
targ = int(np.loadtxt(root + "index_target.txt"))
tr = np.loadtxt(root + "index_train_0.txt").astype(int)
te = np.loadtxt(root + "index_test_0.txt").astype(int)
m = make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(data[tr][:, feat], data[tr, targ])
p = m.predict(data[te][:, feat])
out["boston_split0"] = {"alpha": 1.0, "pred_test": p.tolist(),
                        "rmse": float(np.sqrt(np.mean((p - data[te, targ]) ** 2)))}

with open("ridge_fixtures.json", "w") as f:
    json.dump(out, f)
    f.write("\n")
