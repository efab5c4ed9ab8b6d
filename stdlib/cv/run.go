package cv

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"sync"

	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/stdlib/ml"
	"github.com/ntedsl/ntedsl/stdlib/stats"
)

// Run cross-validates every model on every variant and protocol of spec on shared
// folds and scores every arm. It returns ctx.Err() when cancelled, and otherwise the
// first failure (in task order) of a model or regularizer, with the variant, model,
// repetition and fold that failed.
func Run(ctx context.Context, spec Spec) (*Result, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	e := newExec(ctx, &spec)
	if err := e.global(); err != nil {
		return nil, err
	}
	if err := e.foldRegularize(); err != nil {
		return nil, err
	}
	if err := e.fit(); err != nil {
		return nil, err
	}
	return e.score(), nil
}

type split struct {
	test, train [][]int // [fold] ascending rows
}

// vstate holds one variant's derived targets.
type vstate struct {
	v      *Variant
	protos []Protocol
	global bool // B, rescale or shrink requested: regularize all rows once
	yReg   []float64
	yRes   []float64 // rescale control targets
	yShr   []float64 // shrink control targets
	yHat   []float64 // out-of-fold ŷ of ShrinkToward
	// foldTrain[r][f] / foldTest[r][f]: A's regularized targets of the fold's training
	// and test rows, in ascending row order.
	foldTrain, foldTest [][][]float64
	diag                []DiagnosticRecord
	foldDiag            [][][]Diagnostic
}

// preds is the slot array of one (variant, protocol, model).
type preds struct {
	pred, vari [][]float64 // [rep][row]; vari is NaN where no variance was returned
}

type exec struct {
	ctx    context.Context
	spec   *Spec
	run    Runner
	n      int
	splits []split // [rep]
	vs     []*vstate
	out    [][][]preds // [variant][protocol index in vs.protos][model]

	mu          sync.Mutex
	done, total int
}

func newExec(ctx context.Context, spec *Spec) *exec {
	n, _ := spec.Variants[0].X.Dims()
	e := &exec{ctx: ctx, spec: spec, run: spec.Runner, n: n}
	if e.run == nil {
		e.run = Serial
	}
	for r := 0; r < spec.Repeats; r++ {
		test := KFold(n, spec.Folds, stream(spec.Seed, "folds", r))
		sp := split{test: test, train: make([][]int, len(test))}
		for f, t := range test {
			sp.train[f] = complement(n, t)
		}
		e.splits = append(e.splits, sp)
	}
	R, K, M := spec.Repeats, spec.Folds, len(spec.Models)
	nGlobal, nFold, nFit := 0, 0, 0
	for i := range spec.Variants {
		v := &spec.Variants[i]
		st := &vstate{v: v, protos: v.protocols()}
		for _, p := range st.protos {
			if p.needsGlobal() && !st.global {
				st.global = true
				nGlobal++
			}
			if p == Shrink {
				nGlobal += K
			}
			if p == A {
				nFold += R * K
			}
		}
		nFit += len(st.protos) * M * R * K
		e.vs = append(e.vs, st)
		outs := make([][]preds, len(st.protos))
		for p := range outs {
			outs[p] = make([]preds, M)
			for m := range outs[p] {
				outs[p][m] = preds{pred: grid(R, n, 0), vari: grid(R, n, math.NaN())}
			}
		}
		e.out = append(e.out, outs)
	}
	e.total = nGlobal + nFold + nFit
	return e
}

func grid(r, c int, fill float64) [][]float64 {
	g := make([][]float64, r)
	for i := range g {
		g[i] = make([]float64, c)
		if fill != 0 {
			for j := range g[i] {
				g[i][j] = fill
			}
		}
	}
	return g
}

// exec runs tasks through the runner, converting panics to errors, counting progress,
// and returning ctx.Err() or the lowest-index failure.
func (e *exec) exec(tasks []func() error) error {
	if len(tasks) == 0 {
		return e.ctx.Err()
	}
	errs := make([]error, len(tasks))
	rerr := e.run(len(tasks), func(i int) (err error) {
		if err := e.ctx.Err(); err != nil {
			return err
		}
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			}
			errs[i] = err
			e.tick()
		}()
		return tasks[i]()
	})
	if err := e.ctx.Err(); err != nil {
		return err
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return rerr
}

func (e *exec) tick() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.done++
	if e.spec.Progress != nil {
		e.spec.Progress(e.done, e.total)
	}
}

func rowsOf(X *mat.Dense, rows []int) *mat.Dense {
	_, c := X.Dims()
	out := mat.NewDense(len(rows), c, nil) // rows is a non-empty fold or its complement
	for k, i := range rows {
		copy(out.RawRowView(k), X.RawRowView(i))
	}
	return out
}

func valsOf(y []float64, rows []int) []float64 {
	out := make([]float64, len(rows))
	for k, i := range rows {
		out[k] = y[i]
	}
	return out
}

func allRows(n int) []int {
	r := make([]int, n)
	for i := range r {
		r[i] = i
	}
	return r
}

func diagnostics(g Regularization) []Diagnostic {
	if d, ok := g.(Diagnoser); ok {
		return d.Diagnostics()
	}
	return nil
}

func regularize(ctx context.Context, reg Regularizer, X *mat.Dense, y []float64, fitRows, applyRows [][]int, seed uint64, fitParts []any, applyParts [][]any) ([][]float64, []Diagnostic, error) {
	g, err := reg.Fit(ctx, rowsOf(X, fitRows[0]), valsOf(y, fitRows[0]), stream(seed, fitParts...))
	if err != nil {
		return nil, nil, fmt.Errorf("fitting the regularizer: %w", err)
	}
	out := make([][]float64, len(applyRows))
	for k, rows := range applyRows {
		v, err := g.Apply(ctx, rowsOf(X, rows), valsOf(y, rows), stream(seed, applyParts[k]...))
		if err != nil {
			return nil, nil, fmt.Errorf("applying the regularization: %w", err)
		}
		if len(v) != len(rows) {
			return nil, nil, fmt.Errorf("the regularization returned %d targets for %d rows", len(v), len(rows))
		}
		for i, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, nil, fmt.Errorf("the regularization returned %v for row %d", x, rows[i])
			}
		}
		out[k] = v
	}
	return out, diagnostics(g), nil
}

// global regularizes all rows for B and the controls, and computes the shrink control's
// out-of-fold ŷ; then derives the control targets.
func (e *exec) global() error {
	s := e.spec
	all := allRows(e.n)
	var shrinkFolds [][]int
	var tasks []func() error
	for _, st := range e.vs {
		if !st.global {
			continue
		}
		tasks = append(tasks, func() error {
			v, d, err := regularize(e.ctx, st.v.Regularizer, st.v.X, st.v.Y, [][]int{all}, [][]int{all},
				s.Seed, []any{"reg-fit-all"}, [][]any{{"reg-apply-all"}})
			if err != nil {
				return fmt.Errorf("cv: variant %q, all-rows regularization: %w", st.v.Key, err)
			}
			st.yReg = v[0]
			for _, x := range d {
				st.diag = append(st.diag, DiagnosticRecord{st.v.Key, "all", -1, -1, x.Name, x.Value})
			}
			return nil
		})
		if !hasProtocol(st.protos, Shrink) {
			continue
		}
		if shrinkFolds == nil {
			// Its own folds, so ŷ does not share a split with any repetition.
			shrinkFolds = KFold(e.n, s.Folds, stream(s.Seed, "shrink-folds"))
		}
		st.yHat = make([]float64, e.n)
		for f, test := range shrinkFolds {
			tasks = append(tasks, func() error {
				train := complement(e.n, test)
				p, err := fitPredict(e.ctx, st.v.ShrinkToward, st.v.X, st.v.Y, train, test, s.Seed, "shrink-fit", f)
				if err != nil {
					return fmt.Errorf("cv: variant %q, shrink-control model, fold %d: %w", st.v.Key, f, err)
				}
				for k, i := range test {
					st.yHat[i] = p.pred[k]
				}
				return nil
			})
		}
	}
	if err := e.exec(tasks); err != nil {
		return err
	}
	for _, st := range e.vs {
		if st.global {
			e.controls(st)
		}
	}
	return nil
}

func hasProtocol(ps []Protocol, p Protocol) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// controls derives the rescale and shrink targets from the all-rows regularization.
func (e *exec) controls(st *vstate) {
	y := st.v.Y
	ybar := stats.Mean(y)
	c := stats.PopSD(st.yReg) / stats.PopSD(y)
	st.yRes = make([]float64, e.n)
	for i, v := range y {
		st.yRes[i] = ybar + c*(v-ybar)
	}
	st.diag = append(st.diag, DiagnosticRecord{st.v.Key, "all", -1, -1, "rescale_c", c})
	if st.yHat == nil {
		return
	}
	var w float64
	switch st.v.ShrinkMatch {
	case MatchSlope:
		w, _ = stats.LinearFit(y, st.yReg)
	default:
		w = 1 - stats.RMSE(y, st.yReg)/stats.RMSE(y, st.yHat)
	}
	if math.IsNaN(w) {
		w = 1 // no displacement information: leave the targets as measured
	}
	w = math.Max(0, math.Min(1, w))
	st.yShr = make([]float64, e.n)
	for i, v := range y {
		st.yShr[i] = w*v + (1-w)*st.yHat[i]
	}
	st.diag = append(st.diag, DiagnosticRecord{st.v.Key, "all", -1, -1, "shrink_w", w})
}

// foldRegularize fits protocol A's regularizer on each fold's training rows.
func (e *exec) foldRegularize() error {
	s := e.spec
	var tasks []func() error
	for _, st := range e.vs {
		if !hasProtocol(st.protos, A) {
			continue
		}
		st.foldTrain = make([][][]float64, s.Repeats)
		st.foldTest = make([][][]float64, s.Repeats)
		st.foldDiag = make([][][]Diagnostic, s.Repeats)
		for r := range s.Repeats {
			st.foldTrain[r] = make([][]float64, s.Folds)
			st.foldTest[r] = make([][]float64, s.Folds)
			st.foldDiag[r] = make([][]Diagnostic, s.Folds)
			for f := range s.Folds {
				tasks = append(tasks, func() error {
					sp := e.splits[r]
					v, d, err := regularize(e.ctx, st.v.Regularizer, st.v.X, st.v.Y,
						[][]int{sp.train[f]}, [][]int{sp.train[f], sp.test[f]}, s.Seed,
						[]any{"reg-fit", r, f}, [][]any{{"reg-apply-train", r, f}, {"reg-apply-test", r, f}})
					if err != nil {
						return fmt.Errorf("cv: variant %q, protocol A, repetition %d, fold %d: %w", st.v.Key, r, f, err)
					}
					st.foldTrain[r][f], st.foldTest[r][f], st.foldDiag[r][f] = v[0], v[1], d
					return nil
				})
			}
		}
	}
	return e.exec(tasks)
}

// trainTargets returns the targets protocol p trains on in repetition r, fold f.
func (st *vstate) trainTargets(p Protocol, train []int, r, f int) []float64 {
	switch p {
	case A:
		return st.foldTrain[r][f]
	case B:
		return valsOf(st.yReg, train)
	case Rescale:
		return valsOf(st.yRes, train)
	case Shrink:
		return valsOf(st.yShr, train)
	}
	return valsOf(st.v.Y, train)
}

type foldPred struct{ pred, vari []float64 }

func fitPredict(ctx context.Context, reg ml.Regressor, X *mat.Dense, y []float64, train, test []int, seed uint64, parts ...any) (foldPred, error) {
	return fitPredictY(ctx, reg, X, valsOf(y, train), train, test, seed, parts...)
}

// fitPredictY fits reg on (X[train], ytrain) with the stream keyed by parts and predicts
// X[test].
func fitPredictY(ctx context.Context, reg ml.Regressor, X *mat.Dense, ytrain []float64, train, test []int, seed uint64, parts ...any) (foldPred, error) {
	p, err := reg.Fit(ctx, rowsOf(X, train), ytrain, stream(seed, parts...))
	if err != nil {
		return foldPred{}, err
	}
	mean, vari := p.Predict(rowsOf(X, test))
	if len(mean) != len(test) || (vari != nil && len(vari) != len(test)) {
		return foldPred{}, fmt.Errorf("the model returned %d predictions and %d variances for %d rows", len(mean), len(vari), len(test))
	}
	for k, v := range mean {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return foldPred{}, fmt.Errorf("the model predicted %v for row %d", v, test[k])
		}
	}
	return foldPred{mean, vari}, nil
}

// fit runs every (variant, protocol, model, repetition, fold) fit. The fit's random
// stream is keyed by (seed, model, repetition, fold) only: every variant and protocol
// sees the same model randomness, so paired comparisons differ by the data alone.
func (e *exec) fit() error {
	s := e.spec
	var tasks []func() error
	for vi, st := range e.vs {
		for pi, p := range st.protos {
			for mi, m := range s.Models {
				for r := range s.Repeats {
					for f := range s.Folds {
						tasks = append(tasks, func() error {
							sp := e.splits[r]
							train, test := sp.train[f], sp.test[f]
							fp, err := fitPredictY(e.ctx, m.Regressor, st.v.X, st.trainTargets(p, train, r, f), train, test, s.Seed, "fit", m.Key, r, f)
							if err != nil {
								return fmt.Errorf("cv: variant %q, protocol %s, model %q, repetition %d, fold %d: %w", st.v.Key, p, m.Key, r, f, err)
							}
							slot := e.out[vi][pi][mi]
							for k, i := range test {
								slot.pred[r][i] = fp.pred[k]
								if fp.vari != nil {
									slot.vari[r][i] = fp.vari[k]
								}
							}
							return nil
						})
					}
				}
			}
		}
	}
	return e.exec(tasks)
}
