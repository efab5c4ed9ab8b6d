// Package stats owns the descriptive statistics, regression metrics and tests that
// every evaluation in ntedsl reports, each defined to match a named reference so that
// a number in a study's output means exactly what the reader expects:
//
//   - R2, RMSE, MAE: sklearn 1.2.1 r2_score, sqrt(mean_squared_error), mean_absolute_error
//     (R² = 1 − SS_res/SS_tot, not the squared correlation; it can be negative).
//   - Pearson and PearsonP: scipy 1.10.1 pearsonr, two-sided, with the p-value taken from
//     the regularized incomplete beta function so it stays accurate far below 1e-30.
//   - Mean, PopSD (ddof 0, numpy's default and the one every z-scoring uses), SD (ddof 1),
//     SE (SD/√n, scipy.stats.sem).
//   - Scaler (and MeanScale for one column): z-scoring fitted on chosen rows with the
//     population SD; a zero SD becomes 1, as in sklearn's StandardScaler.
//   - GaussianNLL and Coverage: the mean negative log density and the central-interval
//     coverage of Gaussian predictive distributions.
//   - Wilcoxon: the paired signed-rank test with scipy 1.10.1's defaults.
//   - Quantile (numpy's default 'linear') and LowerMedian (torch.median).
//
// Conventions. Length mismatches and empty inputs where a statistic needs data are
// programmer errors and panic; data-dependent trouble (a constant input, a non-positive
// variance) returns NaN together with an error saying why.
package stats
