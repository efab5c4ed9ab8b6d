#!/usr/bin/python3
"""Time xgboost 1.7.4 on the preprint's protocol over the built-in A2M3O12 descriptors.

The Go side is the evaluate node itself: with a study that has one boost model and
repeats = 100 (10-fold), e.g. the descriptor settings of pipelines/nte_baseline.hcl, run

    ntedsl run STUDY -j 1        # or -j 2; the log line "done evaluate.NAME (T)" is the figure

then pass the descriptor table that run wrote (out/<study>/descriptor.<name>.csv):

    /usr/bin/python3 bench_xgb_nte.py out/<study>/descriptor.atomic.csv

It fits XGBRegressor(max_depth=3, learning_rate=0.1, n_estimators=100, exact) on every
training fold of 100 reshuffled 10-fold splits (scikit-learn KFold) and predicts the held-out
fold: 1,000 fits, one thread, fits and predictions only (no scoring).
"""
import sys
import time

import numpy as np
import xgboost as xgb
from sklearn.model_selection import KFold

TARGET = "alpha_l_1e6_per_K"


def main(path):
    rows = [line.rstrip("\n").split(",") for line in open(path)]
    header, data = rows[0], rows[1:]
    t = header.index(TARGET)
    feats = [j for j, h in enumerate(header) if h not in ("id", "formula", TARGET)]
    X = np.array([[float(r[j]) for j in feats] for r in data])
    y = np.array([float(r[t]) for r in data])
    t0 = time.time()
    for rep in range(100):
        for tr, te in KFold(10, shuffle=True, random_state=rep).split(X):
            m = xgb.XGBRegressor(max_depth=3, learning_rate=0.1, n_estimators=100,
                                 tree_method="exact", n_jobs=1)
            m.fit(X[tr], y[tr])
            m.predict(X[te])
    print("%d x %d; xgboost %s, 1 thread, 1,000 fits and predictions: %.1f s"
          % (X.shape[0], X.shape[1], xgb.__version__, time.time() - t0))


if __name__ == "__main__":
    main(sys.argv[1])
