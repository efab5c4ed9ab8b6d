package hessian

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/optimize"
)

// TrainSettings tunes Train and Fit. The zero value (or nil) selects the defaults.
type TrainSettings struct {
	// MaxIter bounds the L-BFGS major iterations; 0 means 5000.
	MaxIter int
	// GradTol stops training when ‖∇L‖∞ < GradTol; 0 means 1e-7. The loss is a mean over
	// rows, so with targets of unit scale this is a tight stationary point.
	GradTol float64
	// Store is the L-BFGS memory; 0 means 15 (gonum's default).
	Store int
	// WeightDecay adds (WeightDecay/2)·‖θ‖² to the training objective (PyTorch's
	// weight_decay: WeightDecay·θ is added to the gradient); 0 means none. It gives the fit a
	// well-defined minimum that L-BFGS reaches quickly, where an unpenalized network that can
	// interpolate 84 rows creeps along a valley until MaxIter. The Hessian that
	// Objective.HVP gives is still that of the data loss, as PyHessian's on the criterion;
	// the penalized objective's is Shift(hvp, WeightDecay). At the minimum the data loss's
	// eigenvalues are ≥ −WeightDecay: see Settings.NegativeFloor.
	WeightDecay float64
}

func (s *TrainSettings) withDefaults() TrainSettings {
	var t TrainSettings
	if s != nil {
		t = *s
	}
	if t.MaxIter < 0 || t.GradTol < 0 || t.Store < 0 || !(t.WeightDecay >= 0) {
		panic(fmt.Sprintf("hessian: negative TrainSettings %+v", t))
	}
	if t.MaxIter == 0 {
		t.MaxIter = 5000
	}
	if t.GradTol == 0 {
		t.GradTol = 1e-7
	}
	if t.Store == 0 {
		t.Store = 15
	}
	return t
}

// TrainResult is the outcome of Train.
type TrainResult struct {
	// Theta holds the trained parameters (the best point L-BFGS visited).
	Theta []float64
	// Loss is L(Theta), the mean squared error on the training rows.
	Loss float64
	// GradNorm is the 2-norm of the training objective's gradient at Theta (including the
	// weight decay), how far Theta is from a stationary point.
	GradNorm float64
	// Objective is the training objective at Theta: Loss + (WeightDecay/2)·‖Theta‖².
	Objective float64
	// Iterations is the number of L-BFGS major iterations and Evaluations the number of
	// loss-and-gradient evaluations.
	Iterations, Evaluations int
	// Status is gonum's termination status (e.g. "GradientThreshold", "IterationLimit",
	// "FunctionConvergence"). A line search that can make no further progress near the
	// optimum ends the run without an error; Status then says so.
	Status string
}

// Train minimizes the objective (plus the weight decay) from theta0 (not modified) by
// full-batch L-BFGS (gonum
// optimize.LBFGS, strong-Wolfe line search, default function convergence: no decrease by
// 1e-10 in 100 iterations) until ‖∇L‖∞ < GradTol or MaxIter iterations.
//
// L-BFGS is used rather than Adam because the Hessian analysis is meaningful at a stationary
// point: it gets there to a tight gradient tolerance with no learning rate to tune, and it is
// deterministic (no random numbers, serial evaluation). It returns an error if ctx is
// cancelled or the loss is not finite at the end.
func Train(ctx context.Context, obj *Objective, theta0 []float64, s *TrainSettings) (TrainResult, error) {
	set := s.withDefaults()
	obj.checkTheta("Train", theta0)
	wd := set.WeightDecay
	// gonum asks for the function and then the gradient at the same point: compute both
	// once and serve the gradient from the cache.
	p := obj.NumParams()
	lastX := make([]float64, p)
	lastG := make([]float64, p)
	haveLast := false
	eval := func(x []float64) float64 {
		f := obj.Grad(lastG, x)
		f += 0.5 * wd * floats.Dot(x, x)
		floats.AddScaled(lastG, wd, x)
		copy(lastX, x)
		haveLast = true
		return f
	}
	prob := optimize.Problem{
		Func: eval,
		Grad: func(grad, x []float64) {
			if !haveLast || !floats.Equal(x, lastX) {
				eval(x)
			}
			copy(grad, lastG)
		},
		Status: func() (optimize.Status, error) {
			if err := ctx.Err(); err != nil {
				return optimize.Failure, err
			}
			return optimize.NotTerminated, nil
		},
	}
	settings := &optimize.Settings{
		GradientThreshold: set.GradTol,
		MajorIterations:   set.MaxIter,
	}
	res, err := optimize.Minimize(prob, theta0, settings, &optimize.LBFGS{Store: set.Store})
	if cerr := ctx.Err(); cerr != nil {
		return TrainResult{}, cerr
	}
	if res == nil {
		return TrainResult{}, fmt.Errorf("hessian: L-BFGS failed: %w", err)
	}
	out := TrainResult{
		Theta:       append([]float64(nil), res.X...),
		Iterations:  res.MajorIterations,
		Evaluations: res.FuncEvaluations,
		Status:      res.Status.String(),
	}
	if err != nil {
		// Line-search failures near the optimum (no progress possible in float64) are the
		// usual end of a tight L-BFGS run; the point is still the best one visited.
		out.Status += " (" + err.Error() + ")"
	}
	g := make([]float64, len(out.Theta))
	out.Loss = obj.Grad(g, out.Theta)
	floats.AddScaled(g, wd, out.Theta)
	out.GradNorm = floats.Norm(g, 2)
	out.Objective = out.Loss + 0.5*wd*floats.Dot(out.Theta, out.Theta)
	if math.IsNaN(out.Loss) || math.IsInf(out.Loss, 0) || math.IsNaN(out.GradNorm) {
		return out, errors.New("hessian: training diverged (the loss is not finite); standardize X and y")
	}
	return out, nil
}

// Fit initializes the network's parameters from rng (MLP.Init, PyTorch's default) and
// trains them with Train. The same rng state gives the same bytes.
func Fit(ctx context.Context, obj *Objective, s *TrainSettings, rng *rand.Rand) (TrainResult, error) {
	if rng == nil {
		panic("hessian: Fit: nil *rand.Rand")
	}
	theta := make([]float64, obj.NumParams())
	obj.Net().Init(theta, rng)
	return Train(ctx, obj, theta, s)
}
