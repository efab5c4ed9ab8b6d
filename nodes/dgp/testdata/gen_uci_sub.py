"""Exact-GP reference for the CI version of models.md §3.3 item 6: as gen_uci.py (sklearn 1.2.1
GaussianProcessRegressor, ConstantKernel(1.0) * RBF(ones(D)) + WhiteKernel(1.0), data z-scored on the
training rows with the population SD, one optimizer start), but trained on only the first n rows
of index_train_<k>.txt, so that a DGP with M = N = n inducing points stays cheap; tested on the
whole test split. Splits 0 and 1 of Boston, Yacht, Energy and Concrete, with per-point predictions
and the fitted hyperparameters (sf2 = constant, lengthscales, noise = white noise level, all on the
z-scored data).

    /usr/bin/python3 gen_uci_sub.py ../../../testdata/uci 60 > uci_sklearn_gp_sub60.json
"""
import json, sys, os
import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, RBF, WhiteKernel

root, nsub = sys.argv[1], int(sys.argv[2])
out = {}
for name in ["bostonHousing", "yacht", "energy", "concrete"]:
    d = os.path.join(root, name)
    data = np.loadtxt(os.path.join(d, "data.txt"))
    feat = np.loadtxt(os.path.join(d, "index_features.txt")).astype(int)
    targ = int(np.loadtxt(os.path.join(d, "index_target.txt")))
    X, y = data[:, feat], data[:, targ]
    res = {"rmse": [], "ll": [], "splits": {}}
    for k in range(2):
        tr = np.loadtxt(os.path.join(d, "index_train_%d.txt" % k)).astype(int)[:nsub]
        te = np.loadtxt(os.path.join(d, "index_test_%d.txt" % k)).astype(int)
        xm, xs = X[tr].mean(0), X[tr].std(0)
        xs[xs == 0] = 1
        ym, ys = y[tr].mean(), y[tr].std()
        kern = ConstantKernel(1.0) * RBF(np.ones(X.shape[1])) + WhiteKernel(1.0)
        gp = GaussianProcessRegressor(kern, n_restarts_optimizer=0, normalize_y=False)
        gp.fit((X[tr] - xm) / xs, (y[tr] - ym) / ys)
        mu, sd = gp.predict((X[te] - xm) / xs, return_std=True)
        mu, sd = mu * ys + ym, sd * ys
        rmse = float(np.sqrt(np.mean((mu - y[te]) ** 2)))
        ll = float(np.mean(-0.5 * np.log(2 * np.pi * sd ** 2) - 0.5 * (y[te] - mu) ** 2 / sd ** 2))
        res["rmse"].append(rmse)
        res["ll"].append(ll)
        res["splits"][str(k)] = {"mean": mu.tolist(), "sd": sd.tolist(), "kernel": str(gp.kernel_),
                                      "sf2": float(gp.kernel_.k1.k1.constant_value),
                                      "lengthscales": np.atleast_1d(gp.kernel_.k1.k2.length_scale).tolist(),
                                      "noise": float(gp.kernel_.k2.noise_level),
                                  "lml": float(gp.log_marginal_likelihood_value_)}
        print(name, k, rmse, ll, gp.kernel_, gp.log_marginal_likelihood_value_, file=sys.stderr)
    out[name] = res
json.dump(out, sys.stdout, indent=1)
sys.stdout.write("\n")
