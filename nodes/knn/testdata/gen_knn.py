#!/usr/bin/python3
"""sklearn 1.2.1 reference predictions for nodes/knn.

Run from this directory with /usr/bin/python3 gen_knn.py; it rewrites knn_fixtures.json.
Data: the deterministic n = 84, d = 5 set of models.md §8 (float64), plus a constant sixth
column (3.0) to exercise the zero-SD rule; rows with i % 4 == 0 are the test rows. Queries are
the test rows (no distance ties: the script asserts a relative gap > 1e-6 between the k-th
and (k+1)-th neighbour, so no rounding can reorder them) and the training rows themselves
(distance 0 to their own row). Also UCI Boston housing split 0 from testdata/uci.
"""
import json

import numpy as np
import sklearn
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

assert sklearn.__version__ == "1.2.1", sklearn.__version__


def dataset():
    i = np.arange(84)[:, None] + 1.0
    j = np.arange(5)[None, :] + 1.0
    X = np.sin(0.37 * i * j + 0.5 * (j - 1)) + 0.01 * i / j
    n = np.arange(84)
    y = 3 * X[:, 0] - 2 * X[:, 1] ** 2 + X[:, 2] * X[:, 3] + 0.1 * np.cos(n) + 5
    return np.hstack([X, np.full((84, 1), 3.0)]), y


def check_gap(Xtr, Xq, k):
    """The k-th and (k+1)-th nearest distances must be well separated."""
    sc = StandardScaler().fit(Xtr)
    A, B = sc.transform(Xtr), sc.transform(Xq)
    d = np.sqrt(((B[:, None, :] - A[None, :, :]) ** 2).sum(-1))
    d.sort(axis=1)
    if k < d.shape[1]:
        gap = (d[:, k] - d[:, k - 1]) / d[:, k]
        assert gap.min() > 1e-6, (k, gap.min())


X, y = dataset()
test = np.arange(84) % 4 == 0
Xtr, ytr, Xte = X[~test], y[~test], X[test]
out = {"sklearn": sklearn.__version__, "X": X.tolist(), "y": y.tolist(),
       "test_rows": np.flatnonzero(test).tolist(), "cases": []}
for k in [1, 3, 5, 10]:
    check_gap(Xtr, Xte, k)
    for w in ["uniform", "distance"]:
        m = make_pipeline(StandardScaler(), KNeighborsRegressor(n_neighbors=k, weights=w, algorithm="brute"))
        m.fit(Xtr, ytr)
        dist, _ = m[-1].kneighbors(m[0].transform(Xtr))
        out["cases"].append({"k": k, "weights": w, "pred_test": m.predict(Xte).tolist(),
                             "pred_train": m.predict(Xtr).tolist(),
                             "self_dist_max": float(dist[:, 0].max())})

root = "../../../testdata/uci/bostonHousing/"
data = np.loadtxt(root + "data.txt")
feat = np.loadtxt(root + "index_features.txt").astype(int)
targ = int(np.loadtxt(root + "index_target.txt"))
tr = np.loadtxt(root + "index_train_0.txt").astype(int)
te = np.loadtxt(root + "index_test_0.txt").astype(int)
check_gap(data[tr][:, feat], data[te][:, feat], 5)
m = make_pipeline(StandardScaler(), KNeighborsRegressor(n_neighbors=5, algorithm="brute"))
m.fit(data[tr][:, feat], data[tr, targ])
p = m.predict(data[te][:, feat])
out["boston_split0"] = {"k": 5, "weights": "uniform", "pred_test": p.tolist(),
                        "rmse": float(np.sqrt(np.mean((p - data[te, targ]) ** 2)))}

with open("knn_fixtures.json", "w") as f:
    json.dump(out, f)
    f.write("\n")
