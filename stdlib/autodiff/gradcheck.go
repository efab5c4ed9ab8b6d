package autodiff

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
)

// GradCheckSettings tunes CheckGradients. The zero value (or nil) checks every coordinate
// with the project's default step and tolerance.
type GradCheckSettings struct {
	// Step is the relative central-difference step: coordinate x moves by
	// ±Step·max(1, |x|). Zero means 1e-6.
	Step float64
	// Tol is the pass threshold on |g_ad − g_fd| / max(1, |g_ad|, |g_fd|). Zero means 1e-6.
	Tol float64
	// MaxCoords, when positive, checks at most that many coordinates of each Var, chosen
	// with Rand (or evenly spaced when Rand is nil). Zero checks all.
	MaxCoords int
	Rand      *rand.Rand
	// Names labels the Vars in the report (optional, same order as vars).
	Names []string
}

// GradMismatch is one coordinate whose gradients disagree.
type GradMismatch struct {
	Var, Index int
	AD, FD     float64
	Err        float64 // |AD − FD| / max(1, |AD|, |FD|)
}

// GradCheckResult summarizes a gradient check.
type GradCheckResult struct {
	Checked  int            // coordinates compared
	MaxErr   float64        // largest scaled error seen
	Failures []GradMismatch // coordinates above Tol, worst first
}

// CheckGradients compares the reverse-mode gradient of the scalar loss built by f with
// central finite differences, for the coordinates of vars (leaf Vars that take a
// gradient: inputs or parameters). f is called once with a recording tape and then twice
// per checked coordinate with a non-recording tape; it must be deterministic (build any
// dropout mask or noise from a fresh, fixed-seed source inside f) and must build the loss
// only from its tape's ops. The Vars' Grad fields are restored afterwards; other leaves
// that f reaches (parameters not in vars) do receive the reverse-mode gradient, so zero
// them before training on.
//
// It returns an error naming the worst coordinates when any scaled error exceeds Tol.
func CheckGradients(f func(tp *Tape) *Var, vars []*Var, s *GradCheckSettings) (GradCheckResult, error) {
	var set GradCheckSettings
	if s != nil {
		set = *s
	}
	if set.Step == 0 {
		set.Step = 1e-6
	}
	if set.Tol == 0 {
		set.Tol = 1e-6
	}
	// Reverse mode, into fresh gradient buffers.
	saved := make([][]float64, len(vars))
	ad := make([][]float64, len(vars))
	for i, v := range vars {
		if !v.needsGrad || v.tape != nil {
			panic(fmt.Sprintf("autodiff: CheckGradients: var %d is not a leaf that takes a gradient", i))
		}
		saved[i] = v.Grad
		v.Grad = make([]float64, len(v.Data))
	}
	tp := NewTape()
	loss := f(tp)
	tp.Backward(loss)
	for i, v := range vars {
		ad[i] = v.Grad
		v.Grad = saved[i]
	}
	tp.Reset()

	inf := NewInferenceTape()
	eval := func() float64 {
		inf.Reset()
		return f(inf).Value()
	}
	var res GradCheckResult
	for i, v := range vars {
		for _, j := range pickCoords(len(v.Data), set.MaxCoords, set.Rand) {
			x0 := v.Data[j]
			h := set.Step * math.Max(1, math.Abs(x0))
			xp, xm := x0+h, x0-h
			v.Data[j] = xp
			fp := eval()
			v.Data[j] = xm
			fm := eval()
			v.Data[j] = x0
			fd := (fp - fm) / (xp - xm)
			g := ad[i][j]
			e := math.Abs(g-fd) / math.Max(1, math.Max(math.Abs(g), math.Abs(fd)))
			if math.IsNaN(e) {
				e = math.Inf(1)
			}
			res.Checked++
			res.MaxErr = math.Max(res.MaxErr, e)
			if e > set.Tol {
				res.Failures = append(res.Failures, GradMismatch{Var: i, Index: j, AD: g, FD: fd, Err: e})
			}
		}
	}
	if len(res.Failures) == 0 {
		return res, nil
	}
	sort.SliceStable(res.Failures, func(a, b int) bool { return res.Failures[a].Err > res.Failures[b].Err })
	var b strings.Builder
	fmt.Fprintf(&b, "autodiff: gradient check failed at %d of %d coordinates (tolerance %g):", len(res.Failures), res.Checked, set.Tol)
	for k, m := range res.Failures {
		if k == 5 {
			fmt.Fprintf(&b, " …")
			break
		}
		name := fmt.Sprintf("var %d", m.Var)
		if m.Var < len(set.Names) {
			name = set.Names[m.Var]
		}
		fmt.Fprintf(&b, " [%s[%d]: reverse mode %.10g, finite difference %.10g]", name, m.Index, m.AD, m.FD)
	}
	return res, fmt.Errorf("%s", b.String())
}

// CheckParamGradients is CheckGradients over every parameter of ps, labelled by name.
func CheckParamGradients(f func(tp *Tape) *Var, ps *Params, s *GradCheckSettings) (GradCheckResult, error) {
	var set GradCheckSettings
	if s != nil {
		set = *s
	}
	set.Names = ps.Names()
	return CheckGradients(f, ps.Vars(), &set)
}

func pickCoords(n, maxCoords int, rng *rand.Rand) []int {
	if maxCoords <= 0 || maxCoords >= n {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	if rng != nil {
		idx := rng.Perm(n)[:maxCoords]
		sort.Ints(idx)
		return idx
	}
	idx := make([]int, maxCoords)
	for i := range idx {
		idx[i] = i * n / maxCoords
	}
	return idx
}
