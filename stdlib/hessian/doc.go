// Package hessian owns ntedsl's loss-landscape analysis: PyHessian's algorithms on an
// abstract Hessian-vector product, exact Hessian-vector products for a small MLP regressor
// (Pearlmutter's R-operator) and for linear least squares, a deterministic full-batch
// trainer, and a summary report (top eigenvalues, trace, spectral density, negative
// curvature). The specification is models.md §6 (PyHessian @ de8cf239; Pearlmutter 1994;
// Yao et al. 2020), and the comments follow its notation.
//
// # Algorithms
//
// An HVP is any symmetric operator v ↦ Hv of dimension p. On it:
//
//   - TopEigenvalues: power iteration with deflation (PyHessian's eigenvalues), including its
//     quirks: normalize(v) = v/(‖v‖ + 1e-6) and, on convergence, the stored λ is the previous
//     iterate's. It finds the largest |λ| and reports a negative one as negative.
//   - Trace: Hutchinson's estimator with Rademacher probes and PyHessian's stopping rule,
//     returning every probe so that callers can give a standard error.
//   - Density: stochastic Lanczos quadrature with full reorthogonalization, steps capped at
//     min(iter, p), restart on breakdown; nodes and weights from mat.EigenSym of T.
//   - DensityGenerate: density_plot.py's Gaussian smoothing (kernel VARIANCE 1e-5·max(1,
//     span)) on a 10 000-point grid, for plotting.
//   - Analyze: all of the above in one Report, with "appreciable negative weight" defined as
//     SLQ weight ≥ 0.01 below −1e-3·max|θ| (see Settings).
//
// Every random number comes from an explicit *rand.Rand (math/rand/v2): the same seed gives
// the same bytes.
//
// # Models
//
// MLP (tanh or ReLU hidden layers, one linear output, parameters as one flat vector in
// PyTorch's layout) with Objective, the mean squared error on fixed data: Loss, Grad and the
// exact R-operator HVP. Fit and Train fit it by full-batch L-BFGS (gonum optimize),
// deterministic, so that the landscape is analysed at a stationary point; an optional weight
// decay gives small data sets a well-defined minimum (the Hessian analysed is still the data
// loss's, whose eigenvalues are then ≥ −WeightDecay; Shift adds the penalty's WeightDecay·I).
// LeastSquaresHVP is the constant H = (2/n)X̃ᵀX̃ of linear regression.
//
// Scale matters: eigenvalues and the trace are in units of loss per parameter², so compare
// them only between fits whose X and y are scaled the same way (z-score X; scale every y by
// the same constants).
//
// Programmer errors (wrong lengths, invalid settings) panic; a non-finite Hessian-vector
// product, a failed eigendecomposition or a diverged fit are returned as errors.
package hessian
