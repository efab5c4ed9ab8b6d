package pbp

import "github.com/ntedsl/ntedsl/nodes"

// Register adds the pbp block kind.
func Register(r *nodes.Registry) {
	nodes.RegisterRegressor(r, nodes.RegressorDef[Config]{
		Name: "pbp",
		Doc: "Probabilistic Backpropagation (Hernández-Lobato & Adams 2015): a Bayesian ReLU network trained by assumed " +
			"density filtering with Gamma posteriors on the noise and weight precisions and EP refinement of the prior. " +
			"Predictions carry the predictive variance (model + noise).",
		Version:  1,
		Defaults: DefaultConfig(),
		New:      New,
	})
}
