package cv

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/stdlib/ml"
)

// Regularizer transforms targets, e.g. CSDI input consistency regularization. Fit
// learns from (X, y) — only the rows it may see: the training rows of a fold under
// protocol A, all rows under B — and returns the fitted Regularization. Like
// ml.Regressor it must not modify X or y, must draw every random number from rng, and
// should return ctx.Err() promptly when ctx is cancelled. Because cv passes copies of the
// permitted rows only, a Regularizer cannot see held-out targets by mistake.
type Regularizer interface {
	Fit(ctx context.Context, X *mat.Dense, y []float64, rng *rand.Rand) (Regularization, error)
}

// Regularization is a fitted Regularizer. Apply returns the regularized targets of the
// given rows (one per row of X, in order), from their descriptors X and measured targets
// y. It must not modify X or y and draws its random numbers from rng.
type Regularization interface {
	Apply(ctx context.Context, X *mat.Dense, y []float64, rng *rand.Rand) ([]float64, error)
}

// Diagnoser is optionally implemented by a Regularization to report scalars worth
// keeping (for CSDI: t*, ᾱ_{t*}); cv records them per fold and for the all-rows fit.
type Diagnoser interface {
	Diagnostics() []Diagnostic
}

// Diagnostic is one named scalar of a Regularization.
type Diagnostic struct {
	Name  string
	Value float64
}

// Protocol is how the training targets of a variant are produced. Each protocol's
// predictions are scored against one or more sets of evaluation targets; each pairing is
// an arm, reported in its own rows and never mixed with another.
type Protocol string

const (
	// Raw trains on the measured targets. Arm "raw", scored against measured targets.
	Raw Protocol = "raw"
	// A fits the Regularizer on each fold's training rows, regularizes the training
	// targets, and trains on them. Arm "A" scores against the measured test targets (the
	// honest comparison with Raw); arm "A'" scores the same predictions against the test
	// targets regularized by the same fold's Regularization.
	A Protocol = "A"
	// B fits the Regularizer on all rows and regularizes all targets before a plain CV
	// (the preprint's protocol). Arm "B" scores against the regularized targets — not
	// comparable with arms scored against measured targets; arm "B->meas" scores the same
	// predictions against the measured targets.
	B Protocol = "B"
	// Rescale is the scale-only control run through B: y′ = ȳ + c(y − ȳ) with
	// c = PopSD(y_reg)/PopSD(y) from B's all-rows regularization. Arms "rescale" (against
	// y′) and "rescale->meas".
	Rescale Protocol = "rescale"
	// Shrink is the cheap-shrinkage control run through B: y″ = w·y + (1−w)·ŷ(x), where
	// ŷ is the out-of-fold prediction of Variant.ShrinkToward and w is matched to B's
	// regularization (Variant.ShrinkMatch). Arms "shrink" (against y″) and "shrink->meas".
	//
	// ŷ is out-of-fold (one K-fold over all rows on its own stream) rather than
	// in-sample because an in-sample ŷ_i contains y_i itself: for kNN with distance
	// weights ŷ_i = y_i exactly and the control would do nothing, and for any flexible
	// model it would shrink each target partly toward itself. Like B, the control is
	// built from all rows: the ŷ_j of a CV training row j was fitted on rows that include
	// that CV fold's test rows, so "shrink->meas" carries the same kind of leakage as
	// "B->meas" — which is what makes it B's control.
	Shrink Protocol = "shrink"
)

// protocolOrder fixes the output order of protocols within a variant.
var protocolOrder = []Protocol{Raw, A, B, Rescale, Shrink}

// ShrinkMatch selects how the Shrink control's weight w is matched to the regularizer.
type ShrinkMatch string

const (
	// MatchDisplacement (the default) sets w = 1 − RMS(y_reg − y)/RMS(ŷ − y), clamped to
	// [0, 1], so y″ moves each target by the same root-mean-square amount as the
	// regularizer did. Under ICR's Gaussian theory (E[y_reg] = w·y + (1−w)·m(x)) this
	// recovers w when ŷ is as good as m (sampling noise in y_reg and excess error in ŷ
	// bias it slightly; TestShrinkMatchTheory: 0.6004 for w = 0.6 at n = 2000).
	MatchDisplacement ShrinkMatch = "displacement"
	// MatchSlope sets w to the OLS slope of y_reg on y, clamped to [0, 1]. Because y_reg
	// shrinks toward m(x), which is itself correlated with y, that slope is
	// w + (1−w)·R²(m) and overstates w: the control then shrinks less than ICR did.
	MatchSlope ShrinkMatch = "slope"
)

// Variant is one data set evaluated on the shared folds: the same N rows as every other
// variant, with its own descriptors X and measured targets Y.
type Variant struct {
	Key string
	X   *mat.Dense
	Y   []float64
	// Regularizer is required by every protocol but Raw.
	Regularizer Regularizer
	// Protocols lists the protocols to run (order is irrelevant; output follows Raw, A,
	// B, Rescale, Shrink). Empty means {Raw} without a Regularizer and {A} with one.
	Protocols []Protocol
	// ShrinkToward is the cheap model ŷ(x) of the Shrink control (ridge or kNN).
	ShrinkToward ml.Regressor
	// ShrinkMatch is the weight-matching rule of the Shrink control; empty means
	// MatchDisplacement.
	ShrinkMatch ShrinkMatch
}

// Model is a named regressor.
type Model struct {
	Key       string
	Regressor ml.Regressor
}

// Spec is a repeated K-fold cross-validation of every model on every variant, on the
// same folds.
type Spec struct {
	Folds    int // K ≥ 2
	Repeats  int // R ≥ 1
	Seed     uint64
	Variants []Variant
	Models   []Model
	// Level is the probability of the central predictive interval whose coverage is
	// reported when a model gives variances; 0 means 0.9.
	Level float64
	// FoldTests adds Wilcoxon tests over the R×K per-fold RMSEs to those over the R
	// per-repetition RMSEs.
	FoldTests bool
	// Runner executes the independent fits; nil means Serial.
	Runner Runner
	// Progress, if set, is called after each task with the number of tasks done and the
	// total. Calls are serialized and done increases by one each time; it must be quick
	// and must not call back into cv.
	Progress func(done, total int)
}

// Validate reports a Spec that Run would reject: missing or repeated keys, variants
// with different row counts or non-finite values, protocols without what they need, or
// a fold count outside [2, N].
func (s *Spec) Validate() error {
	if len(s.Variants) == 0 {
		return fmt.Errorf("cv: no data variants to evaluate")
	}
	if len(s.Models) == 0 {
		return fmt.Errorf("cv: no models to evaluate")
	}
	if s.Repeats < 1 {
		return fmt.Errorf("cv: repeats = %d; at least 1 is needed", s.Repeats)
	}
	if !(s.Level == 0 || (s.Level > 0 && s.Level < 1)) {
		return fmt.Errorf("cv: interval level %v; it must be in (0, 1)", s.Level)
	}
	seen := map[string]bool{}
	for _, m := range s.Models {
		if m.Key == "" || seen[m.Key] {
			return fmt.Errorf("cv: model key %q is empty or repeated", m.Key)
		}
		if m.Regressor == nil {
			return fmt.Errorf("cv: model %q has no regressor", m.Key)
		}
		seen[m.Key] = true
	}
	n := -1
	seen = map[string]bool{}
	for _, v := range s.Variants {
		if v.Key == "" || seen[v.Key] {
			return fmt.Errorf("cv: variant key %q is empty or repeated", v.Key)
		}
		seen[v.Key] = true
		if v.X == nil {
			return fmt.Errorf("cv: variant %q has no descriptors", v.Key)
		}
		r, _ := v.X.Dims()
		if r != len(v.Y) {
			return fmt.Errorf("cv: variant %q has %d descriptor rows but %d targets", v.Key, r, len(v.Y))
		}
		if n >= 0 && r != n {
			return fmt.Errorf("cv: variant %q has %d rows, others %d; paired folds need the same rows", v.Key, r, n)
		}
		n = r
		if err := checkFinite(v); err != nil {
			return err
		}
		for _, p := range v.protocols() {
			switch p {
			case Raw:
			case A, B, Rescale, Shrink:
				if v.Regularizer == nil {
					return fmt.Errorf("cv: variant %q: protocol %q needs a regularizer", v.Key, p)
				}
			default:
				return fmt.Errorf("cv: variant %q: unknown protocol %q (use raw, A, B, rescale or shrink)", v.Key, p)
			}
			if p == Shrink && v.ShrinkToward == nil {
				return fmt.Errorf("cv: variant %q: the shrink control needs a model to shrink toward", v.Key)
			}
		}
		switch v.ShrinkMatch {
		case "", MatchDisplacement, MatchSlope:
		default:
			return fmt.Errorf("cv: variant %q: unknown shrink match %q (use displacement or slope)", v.Key, v.ShrinkMatch)
		}
	}
	if s.Folds < 2 || s.Folds > n {
		return fmt.Errorf("cv: %d folds for %d rows; need 2 <= folds <= rows", s.Folds, n)
	}
	return nil
}

func checkFinite(v Variant) error {
	r, c := v.X.Dims()
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			if x := v.X.At(i, j); math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("cv: variant %q: descriptor row %d, column %d is %v", v.Key, i, j, x)
			}
		}
		if y := v.Y[i]; math.IsNaN(y) || math.IsInf(y, 0) {
			return fmt.Errorf("cv: variant %q: target of row %d is %v", v.Key, i, y)
		}
	}
	return nil
}

// protocols returns the variant's protocols in output order, deduplicated.
func (v *Variant) protocols() []Protocol {
	ps := v.Protocols
	if len(ps) == 0 {
		if v.Regularizer == nil {
			return []Protocol{Raw}
		}
		return []Protocol{A}
	}
	var out []Protocol
	for _, p := range protocolOrder {
		for _, q := range ps {
			if q == p {
				out = append(out, p)
				break
			}
		}
	}
	for _, q := range ps { // unknown names survive so validate can report them
		known := false
		for _, p := range protocolOrder {
			known = known || q == p
		}
		if !known {
			out = append(out, q)
		}
	}
	return out
}

// arm is one (protocol, evaluation targets) pairing.
type arm struct {
	name string
	eval string
}

// Evaluation-target kinds. Only arms scored against EvalMeasured are comparable with
// each other and with the raw baseline.
const (
	EvalMeasured        = "measured"
	EvalFoldRegularized = "fold-regularized"
	EvalRegularized     = "regularized"
	EvalRescaled        = "rescaled"
	EvalShrunk          = "shrunk"
)

func (p Protocol) arms() []arm {
	switch p {
	case Raw:
		return []arm{{"raw", EvalMeasured}}
	case A:
		return []arm{{"A", EvalMeasured}, {"A'", EvalFoldRegularized}}
	case B:
		return []arm{{"B", EvalRegularized}, {"B->meas", EvalMeasured}}
	case Rescale:
		return []arm{{"rescale", EvalRescaled}, {"rescale->meas", EvalMeasured}}
	case Shrink:
		return []arm{{"shrink", EvalShrunk}, {"shrink->meas", EvalMeasured}}
	}
	panic("cv: unknown protocol " + string(p))
}

// needsGlobal reports whether a protocol uses the all-rows regularization.
func (p Protocol) needsGlobal() bool { return p == B || p == Rescale || p == Shrink }
