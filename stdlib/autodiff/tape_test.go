package autodiff

import (
	"math"
	"runtime"
	"testing"
)

// TestNoGradModes: a nil tape and an inference tape compute the same values as a recording
// tape, record nothing and leave gradients untouched.
func TestNoGradModes(t *testing.T) {
	rng := newRng(51)
	ps := NewParams()
	layer := NewTransformerEncoderLayer(ps, "t", 8, 2, 16, 0.1, rng)
	x := uniformVar(rng, -1, 1, 2, 5, 8)
	rec := NewTape()
	want := layer.Forward(rec, x, nil)
	inf := NewInferenceTape()
	for _, tp := range []*Tape{nil, inf} {
		got := layer.Forward(tp, x, nil)
		for i := range want.Data {
			if got.Data[i] != want.Data[i] {
				t.Fatalf("no-grad value %d = %v, recording %v", i, got.Data[i], want.Data[i])
			}
		}
		if got.RequiresGrad() {
			t.Fatal("no-grad output requires a gradient")
		}
	}
	if len(inf.nodes) != 0 || inf.Recording() || !rec.Recording() {
		t.Fatal("inference tape recorded ops")
	}
	if x.Grad != nil || ps.Vars()[0].Grad != nil {
		t.Fatal("no-grad pass touched gradients")
	}
}

// TestArenaReuse: after the first pass, a reset tape serves a same-shaped pass from its
// arena: the only allocations left are closures and small bookkeeping (no tensor memory),
// and the results are identical bit for bit.
func TestArenaReuse(t *testing.T) {
	rng := newRng(52)
	ps := NewParams()
	layer := NewTransformerEncoderLayer(ps, "t", 16, 4, 16, 0.1, rng)
	x := uniformVar(rng, -1, 1, 4, 6, 16)
	tp := NewTape()
	var first []float64
	step := func() {
		tp.Reset()
		ps.ZeroGrad()
		y := layer.Forward(tp, x, newRng(1))
		tp.Backward(tp.Sum(tp.Square(y)))
		g := ps.FlattenGrad(nil)
		if first == nil {
			first = g
			return
		}
		for i := range g {
			if math.Float64bits(g[i]) != math.Float64bits(first[i]) {
				t.Fatalf("gradient %d differs between passes", i)
			}
		}
	}
	step()
	step()
	bytesBefore := testingAllocBytes(step)
	// One pass needs ~17k arena floats (140 KB). What remains is bookkeeping: closures,
	// the dropout rng and FlattenGrad's copy of the ~1.7k parameters (14 KB); allow half the
	// arena so that instrumented builds (-race) pass too.
	if arena := uint64(8 * len(tp.arena.buf)); bytesBefore > arena/2 {
		t.Fatalf("reset pass allocated %d bytes (arena %d bytes); the arena is not reused", bytesBefore, arena)
	}
	t.Logf("bytes allocated per reused pass: %d, arena %d floats", bytesBefore, len(tp.arena.buf))
}

// TestGradientAccumulates: leaf gradients add up across Backward calls until zeroed, and a
// Var used twice gets both contributions.
func TestGradientAccumulates(t *testing.T) {
	x := NewVar([]float64{3}, 1)
	for i := 0; i < 2; i++ {
		tp := NewTape()
		tp.Backward(tp.Sum(tp.Add(tp.Mul(x, x), x))) // d/dx (x² + x) = 7
	}
	if x.Grad[0] != 14 {
		t.Fatalf("accumulated gradient %v, want 14", x.Grad[0])
	}
}

func TestBackwardNonScalarPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Backward of a vector accepted")
		}
	}()
	tp := NewTape()
	tp.Backward(tp.Tanh(NewVar([]float64{1, 2}, 2)))
}

func testingAllocBytes(f func()) uint64 {
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	f()
	runtime.ReadMemStats(&m1)
	return m1.TotalAlloc - m0.TotalAlloc
}
