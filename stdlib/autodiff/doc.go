// Package autodiff owns ntedsl's reverse-mode automatic differentiation: float64 tensors,
// a tape that records one forward pass, long-lived named parameters, the Adam optimizer,
// Hessian-vector products and a finite-difference gradient checker. CSDI, the deep GP,
// DAGMM and the Hessian analysis are built on it.
//
// # Model
//
// A Tensor is a shape and a row-major []float64. A Var is a Tensor with a gradient. Leaf
// Vars (NewVar, Const, or a Params registry) live as long as the caller keeps them; every
// op is a method of *Tape that returns a new Var owned by that tape. Backward seeds
// ∂loss/∂loss = 1 and runs the recorded ops in reverse, adding (+=) into every Grad.
//
// Tapes hold an arena: Reset rewinds it, so a training loop that builds the same graph each
// step reuses the same memory (no tensor allocation after the first step). Vars made by a
// tape are invalid after its Reset; copy out what must survive. A nil *Tape computes
// values only (heap-allocated), and NewInferenceTape records nothing but reuses its arena:
// use it for sampling loops.
//
// Shapes follow NumPy: Add, Sub, Mul and Div broadcast (a bias [C] over [..., C], a
// per-sample [B,1,C] over [B,K,C], a scalar). Reductions and normalizations act on the
// last axis unless given an axis. Channels-last layout makes a 1×1 convolution a Linear.
//
// Ops: MatMul, BatchMatMul, Linear; Add, Sub, Mul, Div, Scale, AddScalar, Neg; Reshape,
// Permute, Transpose, SplitHeads, MergeHeads, Concat, Split, Embedding; ReLU, SiLU,
// Sigmoid, Tanh, GELU (erf), Exp, Log, Sqrt, Square, Erf, NormCDF, NormPDF, LogNormCDF,
// Softplus; Sum, Mean, SumAxis, MeanAxis, Softmax, LogSumExp, LayerNorm, Dropout,
// MaskedMSE; Attention (fused multi-head self-attention); Cholesky, TriSolve, CholSolve,
// LogDetChol, LogDetSPD, Diag; and Custom for anything else.
//
// Matrix products use a packed AVX2/FMA kernel when the CPU has one (gonum's blas64
// otherwise, and for small products); large products and attention heads are spread over
// GOMAXPROCS goroutines in a way that leaves every result bit independent of the number
// of cores. Dropout masks come from an explicit *rand.Rand, so a seed fixes a run.
//
// Programmer errors (mismatched shapes, bad arguments) panic; numerical failure that
// depends on the data (a matrix that is not positive definite) is returned as an error.
//
// # Checking
//
// Every op is checked against central finite differences. CheckGradients (and
// CheckParamGradients) do the same for any scalar loss, for the model authors' whole-model
// checks. HVP gives Hessian-vector products from a gradient closure with a documented error
// bound.
//
// # Example
//
// A tiny MLP trained with Adam:
//
//	rng := rand.New(rand.NewPCG(1, 2))
//	ps := autodiff.NewParams()
//	mlp := autodiff.NewMLP(ps, "mlp", []int{3, 16, 1}, (*autodiff.Tape).Tanh, rng)
//	x := autodiff.Const(xs, 8, 3) // 8 rows, 3 features
//	y := autodiff.Const(ys, 8, 1)
//	opt := autodiff.NewAdam(ps.Vars(), 0.01)
//	tp := autodiff.NewTape()
//	for step := 0; step < 300; step++ {
//		tp.Reset()
//		ps.ZeroGrad()
//		loss := tp.MaskedMSE(mlp.Forward(tp, x), y, nil) // plain MSE: no mask
//		tp.Backward(loss)
//		opt.Step()
//	}
//	pred := mlp.Forward(nil, x) // inference: nothing recorded
//
// A transformer encoder layer reads the same way:
//
//	z := tp.LayerNorm(tp.Add(u, drop(tp.Linear(tp.Attention(tp.Linear(u, wIn, bIn), heads, p, rng), wOut, bOut))), g1, b1, 1e-5)
//
// or use NewTransformerEncoderLayer, which registers PyTorch-initialized parameters.
package autodiff
