package daggm

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ntedsl/ntedsl/stdlib/autodiff"
	"gonum.org/v1/gonum/mat"
)

// toyMixture returns n standardized-scale rows in d dimensions from two clusters that
// differ in mean and spread, plus structure the autoencoder can learn (the last columns
// are smooth functions of the first two).
func toyMixture(n, d int, rng *rand.Rand) *mat.Dense {
	x := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		c := float64(i % 2)
		a, b := 2*c-1+0.4*rng.NormFloat64(), (1+c)*0.5*rng.NormFloat64()
		for j := 0; j < d; j++ {
			var v float64
			switch j {
			case 0:
				v = a
			case 1:
				v = b
			default:
				v = math.Sin(float64(j)*a) + 0.5*float64(j%3)*b + 0.05*rng.NormFloat64()
			}
			x.Set(i, j, v)
		}
	}
	return x
}

// TestLossGradient checks ∂J/∂θ for every weight of the network against central finite
// differences (§5.3.5, dropout off), and ∂E/∂z, ∂E/∂γ through GMMParams and Energy alone.
func TestLossGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	X := toyMixture(16, 5, rng)
	mean, scale := Scaling(X, ScaleStandard)
	xs := make([]float64, 0, 80)
	for i := 0; i < 16; i++ {
		for j := 0; j < 5; j++ {
			xs = append(xs, (X.At(i, j)-mean[j])/scale[j])
		}
	}
	x := autodiff.Const(xs, 16, 5)
	cfg := DefaultConfig()
	cfg.K = 3 // three components exercise the mixture more than two
	net := NewNetwork(5, cfg.Arch, rng)
	f := func(tp *autodiff.Tape) *autodiff.Var {
		l, err := net.Loss(tp, x, nil, cfg.Weights)
		if err != nil {
			t.Fatal(err)
		}
		return l.J
	}
	res, err := autodiff.CheckParamGradients(f, net.Params, &autodiff.GradCheckSettings{Tol: 1e-5})
	if err != nil {
		t.Fatal(err)
	}
	if res.Checked != net.Params.NumElements() {
		t.Fatalf("checked %d of %d weights", res.Checked, net.Params.NumElements())
	}
	t.Logf("J: %d weights, max scaled error %.2g", res.Checked, res.MaxErr)

	// The mixture part on its own, with respect to its inputs z and the (unnormalized)
	// memberships: a softmax of free logits keeps γ on the simplex.
	z := autodiff.NewVar(append([]float64(nil), xs[:16*4]...), 16, 4)
	logits := autodiff.NewVar(make([]float64, 16*3), 16, 3)
	autodiff.FillNormal(logits, 1, rng)
	g := func(tp *autodiff.Tape) *autodiff.Var {
		phi, mu, sigma := GMMParams(tp, z, tp.Softmax(logits))
		e, err := Energy(tp, z, phi, mu, sigma, DefaultJitter)
		if err != nil {
			t.Fatal(err)
		}
		return tp.Add(tp.Mean(e), tp.Scale(CovDiagPenalty(tp, sigma), 0.1))
	}
	if res, err := autodiff.CheckGradients(g, []*autodiff.Var{z, logits}, &autodiff.GradCheckSettings{Tol: 1e-6, Names: []string{"z", "logits"}}); err != nil {
		t.Fatal(err)
	} else {
		t.Logf("E: max scaled error %.2g over %d inputs", res.MaxErr, res.Checked)
	}
}

// TestTrainingLowersLoss checks that 200 Adam steps (dropout on) lower J on a toy mixture,
// measured with dropout off before and after (§5.3.5), and that training is deterministic
// for a seed.
func TestTrainingLowersLoss(t *testing.T) {
	X := toyMixture(60, 8, rand.New(rand.NewPCG(9, 10)))
	cfg := DefaultConfig()
	cfg.Steps = 200
	initial := func() float64 {
		m := &Model{}
		m.Shift, m.Scale = Scaling(X, ScaleStandard)
		x, _ := m.standardized(X)
		net := NewNetwork(8, cfg.Arch, rand.New(rand.NewPCG(11, 12)))
		l, err := net.Loss(nil, x, nil, cfg.Weights)
		if err != nil {
			t.Fatal(err)
		}
		return l.J.Value()
	}()
	m, err := Fit(context.Background(), X, cfg, rand.New(rand.NewPCG(11, 12)))
	if err != nil {
		t.Fatal(err)
	}
	// Same seed, same initial weights: J0 is the untrained loss of this very network.
	// With lr 1e-3 the reconstruction term of standardized 8-column data (≈ 8 at the start)
	// falls by well over a third in 200 steps; 0.8·J0 leaves a wide margin.
	if got := m.Final.J.Value(); !(got < 0.8*initial) {
		t.Fatalf("J after 200 steps %.4f, before %.4f: want < 80 %%", got, initial)
	}
	t.Logf("J: %.4f → %.4f (recon %.4f, energy %.4f, penalty %.4f)", initial, m.Final.J.Value(), m.Final.Recon, m.Final.Energy, m.Final.CovPenalty)

	m2, err := Fit(context.Background(), X, cfg, rand.New(rand.NewPCG(11, 12)))
	if err != nil {
		t.Fatal(err)
	}
	s1, err := m.Score(X)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := m2.Score(X)
	for i := range s1.Energy {
		if math.Float64bits(s1.Energy[i]) != math.Float64bits(s2.Energy[i]) || math.Float64bits(s1.SqErr[i]) != math.Float64bits(s2.SqErr[i]) {
			t.Fatalf("row %d: two runs with one seed differ", i)
		}
	}
	// The inference mixture is NewGMM of the training rows' (z, γ) with dropout off, so
	// the mean training energy equals the final loss's energy term.
	me := 0.0
	for _, e := range s1.Energy {
		me += e / float64(len(s1.Energy))
	}
	if !close(me, m.Final.Energy, 1e-12) {
		t.Fatalf("mean scored energy %v, loss energy term %v", me, m.Final.Energy)
	}
}

// TestScaling checks the input scalings: population SD (not N−1), min-max, and a constant
// column, and that a row scaling to the zero vector is refused by name.
func TestScaling(t *testing.T) {
	X := mat.NewDense(4, 2, []float64{1, 7, 2, 7, 3, 7, 4, 7})
	sh, sc := Scaling(X, ScaleStandard)
	// mean 2.5, population variance (2.25+0.25+0.25+2.25)/4 = 1.25 (N−1 would give 1.667).
	if sh[0] != 2.5 || math.Abs(sc[0]-math.Sqrt(1.25)) > 1e-15 || sh[1] != 7 || sc[1] != 1 {
		t.Errorf("standard: shift %v scale %v", sh, sc)
	}
	sh, sc = Scaling(X, ScaleMinMax)
	if sh[0] != 1 || sc[0] != 3 || sh[1] != 7 || sc[1] != 1 {
		t.Errorf("minmax: shift %v scale %v", sh, sc)
	}
	// Under min-max the first row is (0, 0): its relative error is undefined.
	cfg := DefaultConfig()
	cfg.Scaling, cfg.Steps = ScaleMinMax, 1
	_, err := Fit(context.Background(), X, cfg, rand.New(rand.NewPCG(1, 1)))
	var re *RowError
	if !errors.As(err, &re) || re.Row != 0 {
		t.Errorf("fit with a zero row: %v", err)
	}
}

// BenchmarkFitStep times one full-batch training step (forward, loss, backward, Adam) at
// the A2M3O12 descriptor table's size (44 compounds × 47 columns).
func BenchmarkFitStep(b *testing.B) {
	X := toyMixture(44, 47, rand.New(rand.NewPCG(1, 2)))
	cfg := DefaultConfig()
	cfg.Steps = b.N
	b.ResetTimer()
	if _, err := Fit(context.Background(), X, cfg, rand.New(rand.NewPCG(3, 4))); err != nil {
		b.Fatal(err)
	}
}
