package dgp

import "github.com/ntedsl/ntedsl/nodes"

// Register adds the dgp block kind.
func Register(r *nodes.Registry) {
	nodes.RegisterRegressor(r, nodes.RegressorDef[Config]{
		Name: "dgp",
		Doc: "Deep Gaussian process with doubly-stochastic variational inference (Salimbeni & Deisenroth 2017): " +
			"layers of sparse variational GPs with ARD RBF kernels, linear mean functions on the inner layers, " +
			"full-rank q(u) and a Gaussian likelihood, trained with Adam on the ELBO. Inputs and targets are z-scored " +
			"on the training rows. Predictions carry the predictive variance (model + noise).",
		Version:  1,
		Defaults: DefaultConfig(),
		New:      New,
	})
}
