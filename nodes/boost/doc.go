// Package boost owns ntedsl's gradient-tree boosting regressor: exact greedy, level-wise
// regression trees fitted to the squared error, built to reproduce xgboost 1.7's
// XGBRegressor with tree_method "exact" (updaters grow_colmaker and prune) bit for bit
// in its tree structure and to float32 rounding in its predictions.
//
// The preprint's model is XGBRegressor(max_depth=3, learning_rate=0.1, n_estimators=100),
// which on xgboost 1.x resolves to: squared error (g = ŷ−y, h = 1), base_score 0.5,
// λ = 1, α = 0, γ = 0, min_child_weight = 1, no sampling; DefaultConfig returns exactly
// that. What has to match xgboost for the trees to be identical, and how this package
// does it:
//
//   - Data are float32: features, labels, margins and gradients are float32; node sums
//     of gradients and hessians are float64, as in xgboost's GradStats.
//   - Each node scans every feature from the largest value to the smallest (dense data
//     never need xgboost's forward scan), proposing the float32 midpoint between two
//     distinct neighbouring values, or the larger value when the midpoint rounds down onto
//     the smaller one. Rows with x < threshold go left.
//   - Gains are evaluated in float32 the way xgboost's TreeEvaluator does:
//     child = float32(G²)/float32(H+λ), loss_chg = float32(child_L+child_R) − root_gain.
//   - The best split has the largest loss_chg; a lower feature index wins ties, and
//     within a feature the first candidate of the descending scan (the largest threshold)
//     wins. A node splits when loss_chg > 1e-6 (kRtEps).
//   - Leaves hold float32(η·w) with w = −T_α(G)/(H+λ); a tree is pruned bottom-up
//     (updater_prune) where a split whose children are both leaves has loss_chg < γ.
//
// Base score: "0.5" is xgboost 1.x's default; "mean" is the mean of the float32 targets,
// which is what xgboost ≥ 2.0 estimates for squared error (2.0 also defaults to the hist
// method, which this package does not implement: "mean" gives 1.7-exact trees around a
// 2.0-style intercept).
//
// Sampling (subsample, colsample_bytree < 1) follows xgboost's scheme — a Bernoulli
// coin per row and per tree, and a uniform subset of ⌊colsample·d⌋ features per tree —
// but draws from the math/rand/v2 stream given to Fit, so only its distribution, not the
// draws, can match xgboost. With both at 1 no random number is drawn.
package boost
