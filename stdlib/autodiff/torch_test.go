package autodiff

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestAdamMatchesTorch: 25 steps of Adam on a quartic-plus-quadratic objective follow
// torch.optim.Adam's trajectory (testdata/gen_torch_adam.py, float64), with and without
// weight decay, with a large eps, and with the learning rate of MultiStepLR as
// torch.optim.lr_scheduler.MultiStepLR sets it (stepped after each optimizer step).
func TestAdamMatchesTorch(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "torch_adam.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Torch        string
		Theta0, C, A []float64
		LR           float64
		Cases        []struct {
			Name        string
			WeightDecay float64 `json:"weight_decay"`
			Eps         float64
			Milestones  []int
			Theta       [][]float64
		}
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	n := len(f.Theta0)
	c, a := Const(f.C, n), Const(f.A, n)
	for _, cs := range f.Cases {
		ps := NewParams()
		th := ps.New("theta", n)
		copy(th.Data, f.Theta0)
		opt := NewAdam(ps.Vars(), f.LR)
		opt.WeightDecay, opt.Eps = cs.WeightDecay, cs.Eps
		var worst float64
		for step, want := range cs.Theta {
			if cs.Milestones != nil {
				opt.LR = MultiStepLR(f.LR, 0.1, cs.Milestones, step)
			}
			ps.ZeroGrad()
			tp := NewTape()
			d := tp.Sub(th, a)
			quartic := tp.Scale(tp.Sum(tp.Mul(c, tp.Square(tp.Square(d)))), 0.25)
			tp.Backward(tp.Add(quartic, tp.Scale(tp.Sum(tp.Square(th)), 0.5)))
			opt.Step()
			for i, w := range want {
				worst = math.Max(worst, math.Abs(th.Data[i]-w)/math.Max(1, math.Abs(w)))
			}
		}
		t.Logf("%s: max relative difference from torch.optim.Adam (%s) over %d steps %.2g", cs.Name, f.Torch, len(cs.Theta), worst)
		if worst > 1e-13 {
			t.Errorf("%s: trajectory differs from torch.optim.Adam by %.3g", cs.Name, worst)
		}
	}
}
