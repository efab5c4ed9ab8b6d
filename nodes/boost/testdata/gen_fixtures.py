#!/usr/bin/python3
"""Regenerate the xgboost 1.7.4 reference fixtures of nodes/boost.

Run with Debian 12's interpreter and packages (python3-xgboost 1.7.4, python3-numpy 1.24.2):

    cd nodes/boost/testdata && /usr/bin/python3 gen_fixtures.py

Writes, next to this script:
  toy84.csv          the deterministic 84x5 data set of models.md section 8 (float32, %.9g)
  toy84_xgb.json     tree dumps and predictions for the preprint's parameters and for
                     configurations with non-default lambda/alpha/gamma/min_child_weight/
                     base_score/depth/eta (no sampling, so xgboost is deterministic)
  uci_xgb.json       test-set predictions on the 20 standard splits of Boston, Concrete,
                     Energy and Yacht (repo-root testdata/uci) with the preprint's parameters

Every model is XGBRegressor(..., booster='gbtree', tree_method='exact', n_jobs=1).
Floats are written with 9 significant digits, which round-trip float32 exactly.
"""
import json
import os
import sys

import numpy as np
import xgboost as xgb

assert xgb.__version__ == "1.7.4", xgb.__version__

HERE = os.path.dirname(os.path.abspath(__file__))
UCI = os.path.normpath(os.path.join(HERE, "..", "..", "..", "testdata", "uci"))

PREPRINT = dict(max_depth=3, learning_rate=0.1, n_estimators=100)


def f9(v):
    """float32 value -> JSON number with 9 significant digits (round-trips float32)."""
    return float("%.9g" % np.float32(v))


def toy(n=84, d=5):
    """models.md section 8: computed in float64, then cast to float32."""
    i = np.arange(n)[:, None]
    j = np.arange(d)[None, :]
    X = np.sin(0.37 * (i + 1) * (j + 1) + 0.5 * j) + 0.01 * (i + 1) / (j + 1)
    y = 3 * X[:, 0] - 2 * X[:, 1] ** 2 + X[:, 2] * X[:, 3] + 0.1 * np.cos(np.arange(n)) + 5
    return X.astype(np.float32), y.astype(np.float32)


def mean_base_score(y):
    """xgboost >= 2.0's intercept for squared error: float64 mean of float32 y, as float32.
    Summed left to right, like the Go code."""
    s = 0.0
    for v in y:
        s += float(v)
    return float(np.float32(s / len(y)))


def model(params):
    return xgb.XGBRegressor(booster="gbtree", tree_method="exact", n_jobs=1, **params)


def count_leaves(dump_json):
    def walk(nd):
        if "leaf" in nd:
            return 1
        return sum(walk(c) for c in nd["children"])
    return walk(json.loads(dump_json))


def fit_record(name, params, X, y, Xoff, base_score_text):
    m = model(params)
    m.fit(X, y)
    b = m.get_booster()
    cfg = json.loads(b.save_config())
    text = b.get_dump(with_stats=True)
    js = b.get_dump(with_stats=True, dump_format="json")
    gain = b.get_score(importance_type="total_gain")
    return {
        "name": name,
        "params": {k: (f9(v) if isinstance(v, float) else v) for k, v in params.items()},
        "base_score_text": base_score_text,
        "base_score": f9(float(cfg["learner"]["learner_model_param"]["base_score"])),
        "tree0_text": text[0],
        "tree0_json": json.loads(js[0]),
        "last_tree_text": text[-1],
        "leaves_per_tree": [count_leaves(t) for t in js],
        "total_gain": {k: gain[k] for k in sorted(gain)},
        "pred_train": [f9(v) for v in m.predict(X)],
        "pred_off": [f9(v) for v in m.predict(Xoff)],
    }


def main():
    X, y = toy()
    with open(os.path.join(HERE, "toy84.csv"), "w") as f:
        f.write("x0,x1,x2,x3,x4,y\n")
        for i in range(len(y)):
            f.write(",".join("%.9g" % v for v in list(X[i]) + [y[i]]) + "\n")
    # Off-sample points: every training row shifted by 0.013 in float32.
    Xoff = X + np.float32(0.013)
    mb = mean_base_score(y)
    configs = [
        ("preprint", dict(PREPRINT), "0.5"),
        ("lambda_alpha", dict(PREPRINT, reg_lambda=3.0, reg_alpha=0.5), "0.5"),
        ("gamma", dict(PREPRINT, gamma=2.0), "0.5"),
        ("min_child_weight", dict(PREPRINT, min_child_weight=5.5), "0.5"),
        ("mean", dict(PREPRINT, base_score=mb), "mean"),
        ("combo", dict(max_depth=4, learning_rate=0.3, n_estimators=60, reg_lambda=0.4,
                       reg_alpha=0.05, gamma=0.3, min_child_weight=2.0, base_score=mb), "mean"),
        ("numeric", dict(max_depth=2, learning_rate=0.05, n_estimators=150, base_score=3.25), "3.25"),
        ("interp", dict(max_depth=7, learning_rate=1.0, n_estimators=1, reg_lambda=0.0,
                        min_child_weight=0.0), "0.5"),
    ]
    recs = [fit_record(name, p, X, y, Xoff, bs) for name, p, bs in configs]
    out = {"xgboost": xgb.__version__, "off_shift": 0.013, "mean_base_score": mb, "configs": recs}
    with open(os.path.join(HERE, "toy84_xgb.json"), "w") as f:
        json.dump(out, f, indent=1)

    uci = {"xgboost": xgb.__version__, "params": PREPRINT, "sets": {}}
    for name in ["bostonHousing", "concrete", "energy", "yacht"]:
        d = os.path.join(UCI, name)
        data = np.loadtxt(os.path.join(d, "data.txt"))
        feat = np.loadtxt(os.path.join(d, "index_features.txt"), dtype=int)
        targ = int(np.loadtxt(os.path.join(d, "index_target.txt")))
        nsp = int(np.loadtxt(os.path.join(d, "n_splits.txt")))
        splits = []
        for k in range(nsp):
            tr = np.loadtxt(os.path.join(d, "index_train_%d.txt" % k), dtype=int)
            te = np.loadtxt(os.path.join(d, "index_test_%d.txt" % k), dtype=int)
            Xtr, ytr = data[tr][:, feat], data[tr, targ]
            Xte, yte = data[te][:, feat], data[te, targ]
            m = model(PREPRINT)
            m.fit(Xtr, ytr)
            p = m.predict(Xte)
            rmse = float(np.sqrt(np.mean((p.astype(np.float64) - yte) ** 2)))
            splits.append({"split": k, "pred_test": [f9(v) for v in p], "rmse": rmse})
            print(name, k, "rmse %.4f" % rmse, file=sys.stderr)
        uci["sets"][name] = splits
    with open(os.path.join(HERE, "uci_xgb.json"), "w") as f:
        json.dump(uci, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
