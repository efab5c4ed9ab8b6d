package boost

import "github.com/ntedsl/ntedsl/nodes"

// Register adds the boost block kind.
func Register(r *nodes.Registry) {
	nodes.RegisterRegressor(r, nodes.RegressorDef[Config]{
		Name: "boost",
		Doc: "Exact greedy gradient-tree boosting with squared error, reproducing xgboost 1.7's XGBRegressor " +
			"(tree_method exact, float32 data and thresholds, xgboost's tie-breaking and pruning). The defaults are the " +
			"preprint's max_depth = 3, learning_rate = 0.1, n_estimators = 100 with xgboost 1.7's base_score 0.5.",
		Version:  1,
		Defaults: DefaultConfig(),
		New:      New,
	})
}
