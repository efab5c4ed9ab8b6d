#!/usr/bin/python3
"""Reference numbers for stdlib/stats, from Debian 12's scipy 1.10.1, sklearn 1.2.1, numpy 1.24.2.

Run from this directory with /usr/bin/python3 gen_stats.py; it rewrites stats_fixtures.json.
Floats are written with repr (shortest round-trip), so Go parses the same float64s.
"""
import json
import warnings

import mpmath
import numpy as np
import scipy
import sklearn
from scipy import stats
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

assert scipy.__version__ == "1.10.1", scipy.__version__
assert sklearn.__version__ == "1.2.1", sklearn.__version__
assert np.__version__ == "1.24.2", np.__version__


def fl(a):
    return [float(v) for v in a]


mpmath.mp.dps = 50
out = {"versions": {"scipy": scipy.__version__, "sklearn": sklearn.__version__, "numpy": np.__version__,
                 "mpmath": mpmath.__version__}}

# --- Pearson p-values from (r, n): scipy's beta form, 2*sf(|r|) of Beta(n/2-1, n/2-1) on [-1, 1].
pr = []
for r, n in [(0.5, 20), (np.sqrt(0.75), 84), (np.sqrt(0.80), 84), (0.3, 84), (0.9, 84), (0.95, 84),
             (0.99, 84), (0.999, 84), (0.1, 84), (0.0, 84), (-0.7, 30), (0.2, 3), (0.8, 4),
             (0.6, 1000), (0.999999, 10), (1e-8, 50)]:
    ab = n / 2 - 1
    p = 2 * stats.beta(ab, ab, loc=-1, scale=2).sf(abs(r))
    # 50-digit reference for the same float64 r: I_{1-r^2}(df/2, 1/2). scipy's beta form
    # rounds r+1 first, which costs it ~1e-9 relative accuracy near |r| = 1.
    rm = mpmath.mpf(float(r))
    pm = mpmath.betainc(mpmath.mpf(n - 2) / 2, mpmath.mpf(1) / 2, 0, 1 - rm * rm, regularized=True)
    pr.append({"r": float(r), "n": n, "p": float(p), "p_mpmath": float(pm)})
out["pearson_p_of_r"] = pr

# --- pearsonr on vectors.
pv = []
x = np.arange(1, 11, dtype=float)
pv.append({"name": "x+2sinx", "x": fl(x), "y": fl(x + 2 * np.sin(x))})
rng = np.random.default_rng(20240827)
a = rng.normal(size=84)
pv.append({"name": "strong84", "x": fl(a), "y": fl(a + 0.2 * rng.normal(size=84))})
b = rng.normal(size=84)
pv.append({"name": "weak84", "x": fl(b), "y": fl(0.1 * b + rng.normal(size=84))})
c = rng.normal(size=40)
pv.append({"name": "negative40", "x": fl(c), "y": fl(-c + 0.5 * rng.normal(size=40))})
pv.append({"name": "n2", "x": [1.0, 2.0], "y": [3.0, 1.0]})
for case in pv:
    res = stats.pearsonr(case["x"], case["y"])
    case["r"] = float(res.statistic)
    case["p"] = float(res.pvalue)
out["pearsonr"] = pv

# --- r2_score, RMSE (sqrt of mean_squared_error), MAE.
reg = []
for name, n, noise in [("good", 84, 0.3), ("bad", 20, 3.0), ("tiny", 3, 1.0)]:
    yt = rng.normal(loc=5, scale=2, size=n)
    yp = yt + noise * rng.normal(size=n) + (0.5 if name == "bad" else 0.0)
    reg.append({"name": name, "y": fl(yt), "pred": fl(yp),
                "r2": float(r2_score(yt, yp)),
                "rmse": float(np.sqrt(mean_squared_error(yt, yp))),
                "mae": float(mean_absolute_error(yt, yp))})
out["regression"] = reg

# --- moments: population SD (np.std), ddof-1 SD, standard error (scipy.stats.sem).
v = rng.normal(loc=3, scale=1.5, size=17)
out["moments"] = {"x": fl(v), "mean": float(np.mean(v)), "sd_pop": float(np.std(v)),
                  "sd": float(np.std(v, ddof=1)), "se": float(stats.sem(v))}

# --- Gaussian NLL (mean of -logpdf) and central 90 % coverage.
m = rng.normal(size=30)
s2 = np.exp(rng.normal(size=30) - 1)
yy = m + np.sqrt(s2) * rng.normal(size=30) * 1.3
lo, hi = stats.norm.interval(0.9, loc=m, scale=np.sqrt(s2))
out["gauss"] = {"y": fl(yy), "mean": fl(m), "var": fl(s2),
                "nll": float(-np.mean(stats.norm.logpdf(yy, loc=m, scale=np.sqrt(s2)))),
                "coverage90": float(np.mean((yy >= lo) & (yy <= hi))),
                "z95": float(stats.norm.ppf(0.95))}

# --- numpy quantiles (default 'linear') and the lower median (np.sort(x)[(n-1)//2], as torch.median).
qs = []
for n in [1, 2, 5, 8, 15]:
    q = rng.normal(size=n)
    probs = [0.0, 0.05, 0.25, 0.5, 0.9, 0.95, 1.0]
    qs.append({"x": fl(q), "probs": probs, "linear": fl(np.quantile(q, probs)),
               "lower_median": float(np.sort(q)[(n - 1) // 2])})
out["quantiles"] = qs

# --- Wilcoxon signed-rank, scipy 1.10.1 defaults: zero_method='wilcox', correction=False,
# alternative='two-sided', mode='auto'.
wl = []


def wcase(name, x, y=None):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        res = stats.wilcoxon(x, y) if y is not None else stats.wilcoxon(x)
    e = {"name": name, "x": fl(x), "statistic": float(res.statistic), "p": float(res.pvalue),
         "warnings": [str(i.message) for i in w]}
    if y is not None:
        e["y"] = fl(y)
    wl.append(e)


wcase("scipy-doc-corn", np.array([6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75], float))
wcase("exact-n10", rng.normal(size=10) + 0.5)
wcase("exact-n30-paired", rng.normal(size=30), rng.normal(size=30))
wcase("exact-n50", rng.normal(size=50) + 0.3)
wcase("exact-center", np.array([1.0, -2.0, -3.0, 4.0]))  # r_plus = 5 = n(n+1)/4: p = 1
wcase("exact-all-positive", np.array([0.5, 1.5, 2.0, 3.0, 4.5, 7.0]))
wcase("exact-n1", np.array([2.5]))
# Ties with no zeros stay 'exact' in scipy 1.10.1; r_plus is then truncated by int().
wcase("ties-exact", np.array([1.0, -1.0, 2.0, 2.0, -3.0, 3.0, 4.0, 5.0, -5.0, 6.0, 1.0]))
wcase("ties-exact-half", np.array([1.0, 1.0, -2.0, 3.0, 4.0, -4.0, 5.0, 6.0]))
# Zeros switch 'auto' to the normal approximation and are dropped ('wilcox').
wcase("zeros-n12", np.array([0.0, 1.2, -0.4, 2.2, 0.0, 3.1, -1.7, 0.9, 2.5, 1.1, -0.2, 4.0]))
wcase("zeros-and-ties", np.array([0.0, 1.0, -1.0, 2.0, 2.0, 0.0, 3.0, -3.0, 4.0, 4.0, 4.0, 5.0, 6.0]))
wcase("approx-n51", rng.normal(size=51) + 0.2)
wcase("approx-n100-paired", rng.normal(size=100), rng.normal(size=100) + 0.1)
wcase("approx-n80-ties", np.round(rng.normal(size=80) * 3) / 2 + 0.25)
wcase("approx-n1000", rng.normal(size=1000) * 0.1 + 0.01)
out["wilcoxon"] = wl

with open("stats_fixtures.json", "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
