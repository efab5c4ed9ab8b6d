package knn

import "github.com/ntedsl/ntedsl/nodes"

// Register adds the knn block kind.
func Register(r *nodes.Registry) {
	nodes.RegisterRegressor(r, nodes.RegressorDef[Config]{
		Name:     "knn",
		Doc:      "k-nearest-neighbours regression (Euclidean distance on inputs z-scored on the training rows; ties broken by row order), as scikit-learn KNeighborsRegressor.",
		Version:  1,
		Defaults: DefaultConfig(),
		New:      New,
	})
}
