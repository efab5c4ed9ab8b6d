package ridge

import "github.com/ntedsl/ntedsl/nodes"

// Register adds the ridge block kind.
func Register(r *nodes.Registry) {
	nodes.RegisterRegressor(r, nodes.RegressorDef[Config]{
		Name:     "ridge",
		Doc:      "Ridge regression (scikit-learn Ridge on inputs z-scored on the training rows; intercept unpenalized). A linear baseline and the target of the cheap-shrinkage control.",
		Version:  1,
		Defaults: DefaultConfig(),
		New:      New,
	})
}
