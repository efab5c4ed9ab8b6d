package autodiff

import (
	"fmt"
	"math"
)

// Adam is the Adam optimizer with PyTorch's semantics (torch.optim.Adam, amsgrad off):
// for each parameter θ with gradient g, at step k = 1, 2, …
//
//	g ← g + WeightDecay·θ            (L2 penalty added to the gradient, not AdamW)
//	m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//	θ ← θ − LR·(m/(1−β1^k)) / (√(v/(1−β2^k)) + Eps)
//
// The last line is PyTorch's order of operations: it divides √v by √(1−β2^k) before adding
// Eps. Parameters whose Grad is nil are skipped (PyTorch skips grad None), but a zeroed
// gradient still moves the moments. The step count is shared by all parameters.
type Adam struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64

	params []*Var
	m, v   [][]float64
	step   int
}

// NewAdam returns an Adam optimizer over params with learning rate lr and PyTorch's
// defaults β1 = 0.9, β2 = 0.999, eps = 1e-8 and no weight decay.
func NewAdam(params []*Var, lr float64) *Adam {
	a := &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, params: params}
	a.m = make([][]float64, len(params))
	a.v = make([][]float64, len(params))
	for i, p := range params {
		a.m[i] = make([]float64, len(p.Data))
		a.v[i] = make([]float64, len(p.Data))
	}
	return a
}

// Steps returns how many updates have been made.
func (a *Adam) Steps() int { return a.step }

// Step applies one update from the parameters' current gradients. It does not zero them.
func (a *Adam) Step() {
	a.step++
	k := float64(a.step)
	bc1 := 1 - math.Pow(a.Beta1, k)
	bc2 := math.Sqrt(1 - math.Pow(a.Beta2, k))
	stepSize := a.LR / bc1
	b1, b2, wd, eps := a.Beta1, a.Beta2, a.WeightDecay, a.Eps
	for i, p := range a.params {
		if p.Grad == nil {
			continue
		}
		m, v, th, gr := a.m[i], a.v[i], p.Data, p.Grad
		parElems(len(th), func(lo, hi int) { // elementwise: the split does not matter
			for j := lo; j < hi; j++ {
				g := gr[j]
				if wd != 0 {
					g += wd * th[j]
				}
				m[j] = b1*m[j] + (1-b1)*g
				v[j] = b2*v[j] + (1-b2)*g*g
				th[j] -= stepSize * m[j] / (math.Sqrt(v[j])/bc2 + eps)
			}
		})
	}
}

// MultiStepLR returns the learning rate of epoch (0-based) under PyTorch's MultiStepLR:
// lr0·gamma^(number of milestones ≤ epoch). Milestones need not be sorted; a repeated
// milestone counts twice, as in PyTorch.
func MultiStepLR(lr0, gamma float64, milestones []int, epoch int) float64 {
	if epoch < 0 {
		panic(fmt.Sprintf("autodiff: MultiStepLR: negative epoch %d", epoch))
	}
	n := 0
	for _, m := range milestones {
		if m <= epoch {
			n++
		}
	}
	return lr0 * math.Pow(gamma, float64(n))
}
