#!/usr/bin/python3
"""Time xgboost 1.7.4 the way nodes/boost's Go benchmarks time the Go booster.

Run from this directory with Debian's interpreter (python3-xgboost 1.7.4):

    /usr/bin/python3 bench_xgb.py [--reps 50] [--threads 1]

and compare with

    go test ./nodes/boost -run '^$' -bench . -cpu 1,2

The three cases match the Go benchmarks one for one:
  FitPredict75x20  fit rows 0-74 of the 84 x 20 data (models.md section 8 formula with 20
                   columns, float32), predict rows 75-83
  FitPredictBoston fit standard split 0 of Boston housing (455 x 13), predict its 51 test rows
  CV1000           100 reshuffles x 10-fold CV on the 84 x 20 data: 1,000 fits, each
                   followed by the prediction of its held-out fold

All use XGBRegressor(max_depth=3, learning_rate=0.1, n_estimators=100, tree_method='exact').
Each fit+predict builds the DMatrix from numpy, as a user of the Python API would; the Go
benchmarks likewise include the float32 conversion and sorting inside Fit. Per-case figures
are the median over --reps repetitions (CV1000 is timed once per repetition of the whole
loop, default 1).
"""
import argparse
import os
import statistics
import time

import numpy as np
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
UCI = os.path.normpath(os.path.join(HERE, "..", "..", "..", "testdata", "uci"))


def wide_toy(n=84, d=20):
    i = np.arange(n)[:, None]
    j = np.arange(d)[None, :]
    X = (np.sin(0.37 * (i + 1) * (j + 1) + 0.5 * j) + 0.01 * (i + 1) / (j + 1)).astype(np.float32)
    Xd = X.astype(np.float64)
    y = (3 * Xd[:, 0] - 2 * Xd[:, 1] ** 2 + Xd[:, 2] * Xd[:, 3] + 0.1 * np.cos(np.arange(n)) + 5).astype(np.float32)
    return X, y


def boston_split0():
    d = os.path.join(UCI, "bostonHousing")
    data = np.loadtxt(os.path.join(d, "data.txt"))
    tr = np.loadtxt(os.path.join(d, "index_train_0.txt"), dtype=int)
    te = np.loadtxt(os.path.join(d, "index_test_0.txt"), dtype=int)
    return data[tr, :13], data[tr, 13], data[te, :13]


def fit_predict(Xtr, ytr, Xte, threads):
    m = xgb.XGBRegressor(max_depth=3, learning_rate=0.1, n_estimators=100, booster="gbtree",
                         tree_method="exact", n_jobs=threads)
    m.fit(Xtr, ytr)
    return m.predict(Xte)


def median_ms(fn, reps):
    fn()  # warm-up
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(ts), 1e3 * min(ts)


def cv1000(X, y, threads):
    n = len(y)
    sink = 0.0
    for rep in range(100):
        perm = np.random.RandomState(rep).permutation(n)
        lo = 0
        for f in range(10):
            size = n // 10 + (1 if f < n % 10 else 0)
            test = perm[lo:lo + size]
            train = np.concatenate([perm[:lo], perm[lo + size:]])
            lo += size
            sink += float(fit_predict(X[train], y[train], X[test], threads)[0])
    return sink


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--cv-reps", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    print("xgboost", xgb.__version__, "threads", a.threads, "load average", os.getloadavg())
    X, y = wide_toy()
    med, best = median_ms(lambda: fit_predict(X[:75], y[:75], X[75:], a.threads), a.reps)
    print("FitPredict75x20   median %.2f ms  min %.2f ms" % (med, best))
    Xtr, ytr, Xte = boston_split0()
    med, best = median_ms(lambda: fit_predict(Xtr, ytr, Xte, a.threads), a.reps)
    print("FitPredictBoston  median %.2f ms  min %.2f ms" % (med, best))
    ts = []
    for _ in range(a.cv_reps):
        t0 = time.perf_counter()
        cv1000(X, y, a.threads)
        ts.append(time.perf_counter() - t0)
    print("CV1000 (sequential) %.2f s (min of %d)" % (min(ts), a.cv_reps))


if __name__ == "__main__":
    main()
