package autodiff

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// Forward values against independent computations: gonum's mat package, explicit loops,
// scipy reference values and mathematical identities.

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

func TestMatMulMatchesGonumMat(t *testing.T) {
	rng := newRng(61)
	a, b := uniformVar(rng, -1, 1, 33, 17), uniformVar(rng, -1, 1, 17, 29)
	var want mat.Dense
	want.Mul(mat.NewDense(33, 17, a.Data), mat.NewDense(17, 29, b.Data))
	for _, tr := range []bool{false, true} {
		var got *Var
		if tr { // (bᵀ)ᵀ via a transposed copy exercises the transB path.
			bt := NewVar(mat.DenseCopyOf(mat.NewDense(17, 29, b.Data).T()).RawMatrix().Data, 29, 17)
			got = (*Tape)(nil).MatMul(a, bt, false, true)
		} else {
			got = (*Tape)(nil).MatMul(a, b, false, false)
		}
		for i := 0; i < 33; i++ {
			for j := 0; j < 29; j++ {
				if !near(got.Data[i*29+j], want.At(i, j), 1e-13) {
					t.Fatalf("trans %t: C[%d,%d] = %v, want %v", tr, i, j, got.Data[i*29+j], want.At(i, j))
				}
			}
		}
	}
}

// TestLinearIsPerTokenConv1x1: Linear on [B, K, in] equals applying W·x + b to each token.
func TestLinearIsPerTokenConv1x1(t *testing.T) {
	rng := newRng(62)
	x, w, b := uniformVar(rng, -1, 1, 3, 4, 5), uniformVar(rng, -1, 1, 6, 5), uniformVar(rng, -1, 1, 6)
	y := (*Tape)(nil).Linear(x, w, b)
	for tok := 0; tok < 12; tok++ {
		for o := 0; o < 6; o++ {
			s := b.Data[o]
			for i := 0; i < 5; i++ {
				s += w.Data[o*5+i] * x.Data[tok*5+i]
			}
			if !near(y.Data[tok*6+o], s, 1e-14) {
				t.Fatalf("token %d out %d: %v, want %v", tok, o, y.Data[tok*6+o], s)
			}
		}
	}
}

func TestBroadcastValues(t *testing.T) {
	rng := newRng(63)
	x := uniformVar(rng, -1, 1, 2, 3, 4)
	bias := uniformVar(rng, -1, 1, 4)
	per := uniformVar(rng, -1, 1, 2, 1, 4)
	col := uniformVar(rng, 1, 2, 2, 3, 1)
	var tp *Tape
	add, mul, div := tp.Add(x, bias), tp.Mul(per, x), tp.Div(x, col)
	for b := 0; b < 2; b++ {
		for k := 0; k < 3; k++ {
			for c := 0; c < 4; c++ {
				i := (b*3+k)*4 + c
				if add.Data[i] != x.Data[i]+bias.Data[c] || mul.Data[i] != per.Data[b*4+c]*x.Data[i] || div.Data[i] != x.Data[i]/col.Data[b*3+k] {
					t.Fatalf("broadcast mismatch at (%d,%d,%d)", b, k, c)
				}
			}
		}
	}
	if s := tp.Add(NewVar([]float64{2}), x); s.Data[5] != x.Data[5]+2 || !sameShape(s.Shape, x.Shape) {
		t.Fatal("scalar broadcast")
	}
}

func TestShapeOpValues(t *testing.T) {
	rng := newRng(64)
	var tp *Tape
	x := uniformVar(rng, -1, 1, 2, 3, 8)
	h := tp.SplitHeads(x, 4) // [2, 4, 3, 2]
	if h.Data[((1*4+2)*3+1)*2+1] != x.Data[(1*3+1)*8+2*2+1] {
		t.Fatal("SplitHeads layout")
	}
	back := tp.MergeHeads(h)
	for i := range x.Data {
		if back.Data[i] != x.Data[i] {
			t.Fatal("MergeHeads∘SplitHeads is not the identity")
		}
	}
	tr := tp.Transpose(tp.Reshape(x, 6, 8))
	if tr.Shape[0] != 8 || tr.Data[3*6+5] != x.Data[5*8+3] {
		t.Fatal("Transpose")
	}
	parts := tp.Split(x, 3, 5)
	if parts[1].Data[(1*3+2)*5+4] != x.Data[(1*3+2)*8+3+4] {
		t.Fatal("Split")
	}
	cat := tp.Concat(parts[0], parts[1])
	for i := range x.Data {
		if cat.Data[i] != x.Data[i] {
			t.Fatal("Concat∘Split is not the identity")
		}
	}
	table := uniformVar(rng, -1, 1, 5, 3)
	e := tp.Embedding(table, []int{4, 0})
	if e.Data[0] != table.Data[12] || e.Data[5] != table.Data[2] {
		t.Fatal("Embedding")
	}
	s := tp.SumAxis(x, 1)
	if !near(s.Data[1*8+5], x.Data[(1*3+0)*8+5]+x.Data[(1*3+1)*8+5]+x.Data[(1*3+2)*8+5], 1e-15) {
		t.Fatal("SumAxis")
	}
}

// TestElementwiseValues against scipy 1.10.1 (/usr/bin/python3: scipy.special.log_ndtr)
// and closed forms.
func TestElementwiseValues(t *testing.T) {
	var tp *Tape
	logPhi := map[float64]float64{ // scipy.special.log_ndtr
		-50: -1254.8313611394199, -37: -689.0305855768908, -30: -454.32124395634327,
		-25: -316.63940800802027, -20.5: -214.06672896326387, -20: -203.9171553710973,
		-19.5: -194.01696577749752, -10: -53.23128515051248, -5: -15.064998393988727,
		-1: -1.841021645009264, 0: -0.6931471805599453, 2: -0.023012909328963486,
		8: -6.220960574271743e-16,
	}
	for x, want := range logPhi {
		got := tp.LogNormCDF(NewVar([]float64{x})).Data[0]
		if math.Abs(got-want) > 1e-13*math.Abs(want) {
			t.Errorf("log Φ(%v) = %.17g, scipy %.17g", x, got, want)
		}
	}
	// GELU(1) = Φ(1) = 0.8413447460685429 (scipy.special.ndtr(1)); GELU(−1) = −Φ(−1).
	g := tp.GELU(NewVar([]float64{1, -1}, 2)).Data
	if !near(g[0], 0.8413447460685429, 1e-15) || !near(g[1], -0.15865525393145707, 1e-15) {
		t.Errorf("GELU(±1) = %v", g)
	}
	sp := tp.Softplus(NewVar([]float64{-800, 0, 800}, 3)).Data
	if sp[0] != 0 || !near(sp[1], math.Ln2, 1e-16) || sp[2] != 800 {
		t.Errorf("softplus = %v", sp)
	}
	sg := tp.Sigmoid(NewVar([]float64{-800, 800}, 2)).Data
	if sg[0] != 0 || sg[1] != 1 {
		t.Errorf("sigmoid saturation = %v", sg)
	}
	if v := tp.SiLU(NewVar([]float64{2})).Data[0]; !near(v, 2/(1+math.Exp(-2)), 1e-15) {
		t.Errorf("SiLU(2) = %v", v)
	}
	if v := tp.NormPDF(NewVar([]float64{1})).Data[0]; !near(v, 0.24197072451914337, 1e-15) { // scipy.stats.norm.pdf(1)
		t.Errorf("φ(1) = %v", v)
	}
}

func TestSoftmaxLogSumExpLayerNormValues(t *testing.T) {
	var tp *Tape
	x := NewVar([]float64{1000, 999, -1000, 1e-3, -2e-3, 5e-4}, 2, 3)
	s := tp.Softmax(x)
	// Row 0: e⁰/(1+e⁻¹) and e⁻¹/(1+e⁻¹); e^-2000 underflows to 0.
	if !near(s.Data[0], 1/(1+math.Exp(-1)), 1e-15) || !near(s.Data[1], math.Exp(-1)/(1+math.Exp(-1)), 1e-15) || s.Data[2] != 0 {
		t.Fatalf("softmax of large row = %v", s.Data[:3])
	}
	for r := 0; r < 2; r++ {
		if sum := s.Data[3*r] + s.Data[3*r+1] + s.Data[3*r+2]; !near(sum, 1, 1e-15) {
			t.Fatalf("row %d sums to %v", r, sum)
		}
	}
	l := tp.LogSumExp(x)
	if !near(l.Data[0], 1000+math.Log(1+math.Exp(-1)), 1e-15) {
		t.Fatalf("logsumexp = %v", l.Data[0])
	}
	y := tp.LayerNorm(NewVar([]float64{1000.5, 1001, 999, 1000, 1000.25}, 1, 5), nil, nil, 1e-5)
	mean, va := 0.0, 0.0
	for _, v := range y.Data {
		mean += v / 5
	}
	for _, v := range y.Data {
		va += (v - mean) * (v - mean) / 5
	}
	// The row's mean is 1000.15 and its biased variance (0.35² + 0.85² + 1.15² + 0.15² +
	// 0.1²)/5 = 0.44, so Var(y) = 0.44/(0.44 + 1e-5).
	if math.Abs(mean) > 1e-12 || !near(va, 0.44/(0.44+1e-5), 1e-12) {
		t.Fatalf("layer norm mean %v var %v", mean, va)
	}
}

// TestCholeskyAndSolves against gonum's mat.Cholesky on random SPD matrices.
func TestCholeskyAndSolves(t *testing.T) {
	rng := newRng(65)
	var tp *Tape
	n := 6
	a := spd(rng, 2, n)
	l, err := tp.Cholesky(a)
	if err != nil {
		t.Fatal(err)
	}
	ld := tp.LogDetChol(l)
	b := uniformVar(rng, -1, 1, 2, n, 3)
	x := tp.CholSolve(l, b)
	for k := 0; k < 2; k++ {
		var ch mat.Cholesky
		if !ch.Factorize(mat.NewSymDense(n, append([]float64(nil), a.Data[k*n*n:(k+1)*n*n]...))) {
			t.Fatal("gonum: not SPD")
		}
		var lw mat.TriDense
		ch.LTo(&lw)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				if !near(l.Data[k*n*n+i*n+j], lw.At(i, j), 1e-13) {
					t.Fatalf("L[%d][%d,%d] = %v, gonum %v", k, i, j, l.Data[k*n*n+i*n+j], lw.At(i, j))
				}
			}
		}
		if !near(ld.Data[k], ch.LogDet(), 1e-13) {
			t.Fatalf("logdet %v, gonum %v", ld.Data[k], ch.LogDet())
		}
		var want mat.Dense
		if err := ch.SolveTo(&want, mat.NewDense(n, 3, b.Data[k*n*3:(k+1)*n*3])); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			for j := 0; j < 3; j++ {
				if !near(x.Data[k*n*3+i*3+j], want.At(i, j), 1e-12) {
					t.Fatalf("solve mismatch at %d,%d", i, j)
				}
			}
		}
	}
	notPD := NewVar([]float64{1, 2, 2, 1}, 2, 2)
	if _, err := tp.Cholesky(notPD); err == nil {
		t.Fatal("indefinite matrix factorized")
	}
}

func TestMaskedMSEEmptyMask(t *testing.T) {
	a, b := NewVar([]float64{1, 2, 3}, 3), NewVar([]float64{0, 0, 0}, 3)
	tp := NewTape()
	loss := tp.MaskedMSE(a, b, []float64{0, 0, 0})
	tp.Backward(loss)
	if loss.Value() != 0 || a.Grad[0] != 0 || a.Grad[2] != 0 || b.Grad[1] != 0 {
		t.Fatalf("empty mask: loss %v, grads %v %v", loss.Value(), a.Grad, b.Grad)
	}
	tp = NewTape()
	// Σ M(a−b)²/ΣM with M = (1, 0, 1): (1 + 9)/2 = 5.
	if v := tp.MaskedMSE(a, b, []float64{1, 0, 1}).Value(); v != 5 {
		t.Fatalf("masked MSE = %v, want 5", v)
	}
}

// TestDropoutStatistics: the kept fraction of 100 000 elements is within 4 standard errors
// of 1−p, survivors are scaled by 1/(1−p), and the mask is a function of the seed.
func TestDropoutStatistics(t *testing.T) {
	const n, p = 100000, 0.1
	x := NewVar(make([]float64, n), n)
	for i := range x.Data {
		x.Data[i] = 1
	}
	var tp *Tape
	y := tp.Dropout(x, p, newRng(3))
	kept := 0
	for _, v := range y.Data {
		switch v {
		case 0:
		case 1 / (1 - p):
			kept++
		default:
			t.Fatalf("unexpected dropout output %v", v)
		}
	}
	se := math.Sqrt(p * (1 - p) / n)
	if math.Abs(float64(kept)/n-(1-p)) > 4*se {
		t.Fatalf("kept fraction %v, want %v ± %v", float64(kept)/n, 1-p, 4*se)
	}
	y2 := tp.Dropout(x, p, newRng(3))
	for i := range y.Data {
		if y.Data[i] != y2.Data[i] {
			t.Fatal("same seed, different mask")
		}
	}
}
