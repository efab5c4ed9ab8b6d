"""Exact-GP reference on the standard UCI splits (models.md §3.3 item 6, published.md).

scikit-learn 1.2.1 GaussianProcessRegressor with ConstantKernel(1.0) * RBF(ones(D)) (ARD) +
WhiteKernel(1.0), sklearn's default bounds, inputs and targets z-scored on the training split with
the population SD (StandardScaler), one L-BFGS-B start (n_restarts_optimizer=0), predictions
un-scaled to the original units; test RMSE and the mean Gaussian test log density (the white noise
is part of the kernel, so return_std includes it).

Run with Debian 12's /usr/bin/python3 (sklearn 1.2.1, numpy 1.24.2, scipy 1.10.1) from this
directory:
    /usr/bin/python3 gen_uci.py ../../../testdata/uci > uci_sklearn_gp.json
(about 5 minutes on an idle 2-core machine). Per-point predictions and the fitted hyperparameters
(sf2 = constant, lengthscales, noise = white noise level, on the z-scored data) are kept for splits
0 and 1.
"""
import json, sys, os, time
import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, RBF, WhiteKernel

root = sys.argv[1]
sets = ["yacht", "bostonHousing", "energy", "concrete"]
out = {}
for name in sets:
    d = os.path.join(root, name)
    data = np.loadtxt(os.path.join(d, "data.txt"))
    feat = np.loadtxt(os.path.join(d, "index_features.txt")).astype(int)
    targ = int(np.loadtxt(os.path.join(d, "index_target.txt")))
    X, y = data[:, feat], data[:, targ]
    res = {"rmse": [], "ll": [], "seconds": [], "splits": {}}
    for k in range(20):
        tr = np.loadtxt(os.path.join(d, "index_train_%d.txt" % k)).astype(int)
        te = np.loadtxt(os.path.join(d, "index_test_%d.txt" % k)).astype(int)
        xm, xs = X[tr].mean(0), X[tr].std(0)
        xs[xs == 0] = 1
        ym, ys = y[tr].mean(), y[tr].std()
        t0 = time.time()
        kern = ConstantKernel(1.0) * RBF(np.ones(X.shape[1])) + WhiteKernel(1.0)
        gp = GaussianProcessRegressor(kern, n_restarts_optimizer=0, normalize_y=False)
        gp.fit((X[tr] - xm) / xs, (y[tr] - ym) / ys)
        mu, sd = gp.predict((X[te] - xm) / xs, return_std=True)
        res["seconds"].append(time.time() - t0)
        mu, sd = mu * ys + ym, sd * ys
        rmse = float(np.sqrt(np.mean((mu - y[te]) ** 2)))
        ll = float(np.mean(-0.5 * np.log(2 * np.pi * sd ** 2) - 0.5 * (y[te] - mu) ** 2 / sd ** 2))
        res["rmse"].append(rmse)
        res["ll"].append(ll)
        if k < 2:
            res["splits"][str(k)] = {"mean": mu.tolist(), "sd": sd.tolist(),
                                      "kernel": str(gp.kernel_),
                                      "sf2": float(gp.kernel_.k1.k1.constant_value),
                                      "lengthscales": np.atleast_1d(gp.kernel_.k1.k2.length_scale).tolist(),
                                      "noise": float(gp.kernel_.k2.noise_level), "lml": float(gp.log_marginal_likelihood_value_)}
        print(name, k, rmse, ll, file=sys.stderr)
    r, l = np.array(res["rmse"]), np.array(res["ll"])
    res["summary"] = {"rmse_mean": r.mean(), "rmse_se": r.std(ddof=1) / np.sqrt(20),
                      "ll_mean": l.mean(), "ll_se": l.std(ddof=1) / np.sqrt(20)}
    print(name, res["summary"], file=sys.stderr)
    out[name] = res
json.dump(out, sys.stdout, indent=1)
sys.stdout.write("\n")
