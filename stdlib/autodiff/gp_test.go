package autodiff

import (
	"math"
	"testing"
)

// gpData is the deterministic data set of methods/models.md §8: n = 84, d = 5,
// X_ij = sin(0.37·(i+1)·(j+1) + 0.5·j) + 0.01·(i+1)/(j+1),
// y_i = 3X_i0 − 2X_i1² + X_i2·X_i3 + 0.1·cos(i) + 5, y z-scored with the population SD.
func gpData() (x, y []float64) {
	const n, d = 84, 5
	x = make([]float64, n*d)
	y = make([]float64, n)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			x[i*d+j] = math.Sin(0.37*float64((i+1)*(j+1))+0.5*float64(j)) + 0.01*float64(i+1)/float64(j+1)
		}
		r := x[i*d:]
		y[i] = 3*r[0] - 2*r[1]*r[1] + r[2]*r[3] + 0.1*math.Cos(float64(i)) + 5
	}
	mean, va := 0.0, 0.0
	for _, v := range y {
		mean += v / n
	}
	for _, v := range y {
		va += (v - mean) * (v - mean) / n
	}
	for i := range y {
		y[i] = (y[i] - mean) / math.Sqrt(va)
	}
	return x, y
}

// gpLML builds the exact GP log marginal likelihood log N(y | 0, K + σ²I) with an
// isotropic RBF kernel K_ij = σ_f²·exp(−‖x_i − x_j‖²/(2ℓ²)) from log-parameters
// logp = (log ℓ, log σ_f², log σ²), the way the deep-GP code will: squared distances by
// broadcasting, Cholesky, a triangular solve and the log-determinant.
func gpLML(tp *Tape, x, y, logp *Var) (*Var, error) {
	n := x.Shape[0]
	p := tp.Exp(logp)
	ps := tp.Split(tp.Reshape(p, 1, 3), 1, 1, 1) // ℓ, σ_f², σ², each [1, 1]
	xs := tp.Div(x, ps[0])                       // x/ℓ
	sq := tp.Reshape(tp.SumAxis(tp.Square(xs), 1), n, 1)
	d2 := tp.Sub(tp.Add(sq, tp.Transpose(sq)), tp.Scale(tp.MatMul(xs, xs, false, true), 2))
	k := tp.Mul(ps[1], tp.Exp(tp.Scale(d2, -0.5)))
	eye := make([]float64, n*n)
	for i := 0; i < n; i++ {
		eye[i*n+i] = 1
	}
	k = tp.Add(k, tp.Mul(ps[2], Const(eye, n, n)))
	l, err := tp.Cholesky(k)
	if err != nil {
		return nil, err
	}
	alpha := tp.TriSolve(l, tp.Reshape(y, n, 1), false) // L⁻¹y
	quad := tp.Sum(tp.Square(alpha))                    // yᵀK⁻¹y
	lml := tp.Add(tp.Scale(quad, -0.5), tp.Scale(tp.LogDetChol(l), -0.5))
	return tp.AddScalar(lml, -0.5*float64(n)*math.Log(2*math.Pi)), nil
}

// TestGPLogMarginalLikelihood: value against the fixture of methods/models.md §3.3
// (−14.513908664960638, numpy; /usr/bin/python3 with numpy 1.24.2 gives
// −14.513908664960653 here), and gradients with respect to the three
// hyperparameters and a subset of the inputs against finite differences.
func TestGPLogMarginalLikelihood(t *testing.T) {
	xd, yd := gpData()
	x, y := NewVar(xd, 84, 5), Const(yd, 84)
	logp := NewVar([]float64{math.Log(1.3), math.Log(1.7), math.Log(0.05)}, 3)
	lml, err := gpLML(nil, x, y, logp)
	if err != nil {
		t.Fatal(err)
	}
	const want = -14.513908664960638
	if math.Abs(lml.Value()-want) > 1e-11*math.Abs(want) {
		t.Fatalf("log marginal likelihood %.15g, want %.15g", lml.Value(), want)
	}
	f := func(tp *Tape) *Var {
		v, err := gpLML(tp, x, y, logp)
		if err != nil {
			panic(err)
		}
		return v
	}
	res, err := CheckGradients(f, []*Var{logp, x}, &GradCheckSettings{MaxCoords: 40, Rand: newRng(7), Names: []string{"log θ", "X"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d coordinates, max scaled error %.2g", res.Checked, res.MaxErr)
}
