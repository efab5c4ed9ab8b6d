package autodiff

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// TestParamsRoundTrip: MarshalBinary → UnmarshalBinary restores every value bit for bit,
// including −0, ±Inf, NaN payloads and subnormals, and encoding is deterministic.
func TestParamsRoundTrip(t *testing.T) {
	build := func() *Params {
		ps := NewParams()
		ps.New("w", 2, 3)
		ps.New("b", 3)
		ps.New("empty", 0)
		ps.New("scalar")
		return ps
	}
	src := build()
	special := []float64{math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.Float64frombits(0x7ff8000000000123), 5e-324, math.MaxFloat64}
	copy(src.Get("w").Data, special)
	copy(src.Get("b").Data, []float64{1.0 / 3, -2.5e-300, math.Pi})
	src.Get("scalar").Data[0] = -7
	data, err := src.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := src.MarshalBinary()
	if !bytes.Equal(data, again) {
		t.Fatal("encoding is not deterministic")
	}
	dst := build()
	if err := dst.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	for i, v := range src.Vars() {
		for j, x := range v.Data {
			if math.Float64bits(x) != math.Float64bits(dst.Vars()[i].Data[j]) {
				t.Fatalf("%s[%d]: %x became %x", src.Names()[i], j, math.Float64bits(x), math.Float64bits(dst.Vars()[i].Data[j]))
			}
		}
	}
}

func TestParamsUnmarshalErrors(t *testing.T) {
	ps := NewParams()
	ps.New("w", 2, 2)
	data, _ := ps.MarshalBinary()
	other := NewParams()
	other.New("w", 4)
	if err := other.UnmarshalBinary(data); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Fatalf("shape mismatch: err = %v", err)
	}
	renamed := NewParams()
	renamed.New("v", 2, 2)
	if err := renamed.UnmarshalBinary(data); err == nil || !strings.Contains(err.Error(), `"w"`) {
		t.Fatalf("name mismatch: err = %v", err)
	}
	if err := ps.UnmarshalBinary(data[:len(data)-3]); err == nil {
		t.Fatal("truncated data accepted")
	}
	if err := ps.UnmarshalBinary([]byte("garbage")); err == nil {
		t.Fatal("garbage accepted")
	}
	// A failed load changes nothing.
	ps.Get("w").Data[0] = 42
	bad := append(append([]byte(nil), data...), 0)
	if err := ps.UnmarshalBinary(bad); err == nil || ps.Get("w").Data[0] != 42 {
		t.Fatalf("trailing byte: err = %v, value %v", err, ps.Get("w").Data[0])
	}
}

func TestParamsFlattenAndZeroGrad(t *testing.T) {
	ps := NewParams()
	a, b := ps.New("a", 2), ps.New("b", 1, 3)
	copy(a.Data, []float64{1, 2})
	copy(b.Data, []float64{3, 4, 5})
	flat := ps.Flatten(nil)
	if len(flat) != 5 || flat[0] != 1 || flat[4] != 5 || ps.NumElements() != 5 || ps.Len() != 2 {
		t.Fatalf("Flatten = %v", flat)
	}
	ps.SetFlat([]float64{5, 4, 3, 2, 1})
	if a.Data[0] != 5 || b.Data[2] != 1 {
		t.Fatal("SetFlat")
	}
	tp := NewTape()
	tp.Backward(tp.Add(tp.Sum(a), tp.Sum(tp.Square(b))))
	if g := ps.FlattenGrad(nil); g[0] != 1 || g[2] != 6 {
		t.Fatalf("FlattenGrad = %v", g)
	}
	ps.ZeroGrad()
	for _, g := range ps.FlattenGrad(nil) {
		if g != 0 {
			t.Fatal("ZeroGrad left a nonzero gradient")
		}
	}
}

func TestParamsDuplicatePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("duplicate name accepted")
		}
	}()
	ps := NewParams()
	ps.New("x", 1)
	ps.New("x", 1)
}
