package autodiff

import (
	"math"
	"testing"
)

// TestAdamTrajectory runs 3 Adam steps on f(θ) = ½‖θ‖² (so ∇f = θ) from θ0 = (1, −2, 0.5)
// with lr = 0.1, β1 = 0.9, β2 = 0.999, and compares with the trajectory computed by hand
// from PyTorch's update (the literals were evaluated in Python floats, /usr/bin/python3):
//
//	g = θ + wd·θ;  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//	θ ← θ − (lr/(1−β1^t))·m / (√v/√(1−β2^t) + eps)
//
// Step 1 has m̂ = g and v̂ = g², so θ1 = θ0 − lr·g/(|g|+eps): with eps = 1e-8 that is
// 1 − 0.1·(1 − 1e-8) = 0.900000001. Step 2 for the first coordinate: g = 0.900000001,
// m = 0.09 + 0.09 = 0.18, m̂ = 0.18/0.19 = 0.947368…, v = 0.000999 + 0.00081 = 0.001809,
// v̂ = 0.001809/0.001999 = 0.904952…, θ2 = 0.9 − 0.1·0.947368/0.951290 = 0.800412…
// Adam is invariant to the gradient's scale up to eps, so with eps = 1e-8 weight decay
// (g = 1.5θ) moves θ only by ~1e-10; the eps = 0.5 cases make its effect large
// (step 1: 1 − 0.1·1/1.5 = 0.93333 without, 1 − 0.1·1.5/2 = 0.925 with wd = 0.5).
func TestAdamTrajectory(t *testing.T) {
	cases := []struct {
		name    string
		wd, eps float64
		want    [3][3]float64
	}{
		{"default", 0, 1e-8, [3][3]float64{
			{0.900000001, -1.9000000005, 0.40000000199999997},
			{0.8004122297123382, -1.8001664866210927, 0.3011874237306403},
			{0.701586274504415, -1.7006233928121137, 0.20487125573945103}}},
		{"weight decay", 0.5, 1e-8, [3][3]float64{
			{0.9000000006666666, -1.9000000003333333, 0.40000000133333335},
			{0.8004122290319746, -1.8001664862841649, 0.301187422349658},
			{0.7015862734654918, -1.7006233923016814, 0.2048712536200168}}},
		{"eps 0.5", 0, 0.5, [3][3]float64{
			{0.9333333333333333, -1.92, 0.45},
			{0.8675688745059371, -1.8404233378856734, 0.4014491198647019},
			{0.8028376918033945, -1.7613487848337988, 0.35450427836581916}}},
		{"eps 0.5 weight decay", 0.5, 0.5, [3][3]float64{
			{0.925, -1.9142857142857144, 0.44},
			{0.8509164594062052, -1.8289538887732273, 0.38175858358772136},
			{0.7779283508946897, -1.7440962159656788, 0.3255534679242204}}},
	}
	for _, c := range cases {
		ps := NewParams()
		th := ps.New("theta", 3)
		copy(th.Data, []float64{1, -2, 0.5})
		opt := NewAdam(ps.Vars(), 0.1)
		opt.WeightDecay, opt.Eps = c.wd, c.eps
		for step := 0; step < 3; step++ {
			ps.ZeroGrad()
			tp := NewTape()
			tp.Backward(tp.Scale(tp.Sum(tp.Square(th)), 0.5))
			opt.Step()
			for i, w := range c.want[step] {
				// 4e-16 relative: a few ulps of rounding between Go and Python orderings.
				if math.Abs(th.Data[i]-w) > 4e-16*math.Abs(w) {
					t.Errorf("%s: step %d θ[%d] = %.17g, want %.17g", c.name, step+1, i, th.Data[i], w)
				}
			}
		}
	}
}

func TestAdamSkipsNilGrad(t *testing.T) {
	v := NewVar([]float64{3}, 1)
	opt := NewAdam([]*Var{v}, 0.1)
	opt.Step()
	if v.Data[0] != 3 {
		t.Fatalf("parameter without gradient moved to %v", v.Data[0])
	}
}

// TestMultiStepLR: CSDI's schedule for 200 epochs, milestones ⌊0.75·200⌋ = 150 and
// ⌊0.9·200⌋ = 180, γ = 0.1 (methods/csdi_icr.md §1.6).
func TestMultiStepLR(t *testing.T) {
	ms := []int{150, 180}
	for _, c := range []struct {
		epoch int
		want  float64
	}{{0, 1e-3}, {149, 1e-3}, {150, 1e-4}, {179, 1e-4}, {180, 1e-5}, {199, 1e-5}} {
		if got := MultiStepLR(1e-3, 0.1, ms, c.epoch); math.Abs(got-c.want) > 1e-18 {
			t.Errorf("epoch %d: lr %v, want %v", c.epoch, got, c.want)
		}
	}
}

// TestMLPOverfit: a 3-16-16-1 tanh MLP trained with Adam (lr 0.01) on 8 random rows must
// cut its mean squared error by more than 10× in 300 steps.
func TestMLPOverfit(t *testing.T) {
	rng := newRng(31)
	ps := NewParams()
	mlp := NewMLP(ps, "mlp", []int{3, 16, 16, 1}, (*Tape).Tanh, rng)
	x := uniformVar(rng, -1, 1, 8, 3)
	y := uniformVar(rng, -1, 1, 8, 1)
	x.needsGrad, y.needsGrad = false, false
	opt := NewAdam(ps.Vars(), 0.01)
	tp := NewTape()
	var first, last float64
	for step := 0; step < 300; step++ {
		tp.Reset()
		ps.ZeroGrad()
		loss := tp.MaskedMSE(mlp.Forward(tp, x), y, nil)
		if step == 0 {
			first = loss.Value()
		}
		last = loss.Value()
		tp.Backward(loss)
		opt.Step()
	}
	t.Logf("loss %.4g → %.4g", first, last)
	if !(last < first/10) {
		t.Fatalf("loss fell from %.4g to %.4g, less than 10×", first, last)
	}
}
