package hessian

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestMLPMatchesTorch: the MLP objective's loss, gradient and exact Hessian-vector products
// (applied to every unit vector, i.e. the whole Hessian) equal PyTorch's autograd and
// torch.autograd.functional.hessian on the same flat parameters and data, for a two-hidden-
// layer tanh network and a ReLU network (testdata/gen_torch_mlp.py, float64).
func TestMLPMatchesTorch(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "torch_mlp.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Torch string
		Cases []struct {
			Sizes                      []int
			Act                        string
			Theta, X, Y, Grad, Hessian []float64
			Loss                       float64
		}
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Cases {
		act := Tanh
		if c.Act == "relu" {
			act = ReLU
		}
		net := MLP{Sizes: c.Sizes, Act: act}
		n := len(c.Y)
		obj := NewObjective(net, mat.NewDense(n, c.Sizes[0], c.X), c.Y)
		p := obj.NumParams()
		if p != len(c.Theta) {
			t.Fatalf("%v: %d parameters in Go, %d in PyTorch", c.Sizes, p, len(c.Theta))
		}
		rel := func(got, want float64) float64 { return math.Abs(got-want) / math.Max(1, math.Abs(want)) }
		worst := rel(obj.Loss(c.Theta), c.Loss)
		g := make([]float64, p)
		obj.Grad(g, c.Theta)
		for i := range g {
			worst = math.Max(worst, rel(g[i], c.Grad[i]))
		}
		hvp := obj.HVP(c.Theta)
		e, col := make([]float64, p), make([]float64, p)
		for j := 0; j < p; j++ {
			e[j] = 1
			hvp(col, e)
			e[j] = 0
			for i := 0; i < p; i++ {
				worst = math.Max(worst, rel(col[i], c.Hessian[i*p+j]))
			}
		}
		t.Logf("%s %v (%d parameters): max relative difference from PyTorch %s %.2g", c.Act, c.Sizes, p, f.Torch, worst)
		if worst > 1e-12 {
			t.Errorf("%s %v: loss, gradient or Hessian differs from PyTorch by %.3g", c.Act, c.Sizes, worst)
		}
	}
}
