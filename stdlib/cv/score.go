package cv

import (
	"errors"
	"math"
	"slices"
	"strings"

	"github.com/ntedsl/ntedsl/stdlib/stats"
)

// score assembles the series, their metrics and summaries, the tests and diagnostics.
func (e *exec) score() *Result {
	s := e.spec
	level := s.Level
	if level == 0 {
		level = 0.9
	}
	res := &Result{N: e.n, Folds: s.Folds, Repeats: s.Repeats, Seed: s.Seed, Level: level}
	for _, sp := range e.splits {
		of := make([]int, e.n)
		for f, t := range sp.test {
			for _, i := range t {
				of[i] = f
			}
		}
		res.FoldOf = append(res.FoldOf, of)
	}
	for vi, st := range e.vs {
		for pi, p := range st.protos {
			train := e.trainRelation(st, p)
			for _, a := range p.arms() {
				targets := e.evalTargets(st, a)
				for mi, m := range s.Models {
					slot := e.out[vi][pi][mi]
					ser := Series{Variant: st.v.Key, Protocol: p, Arm: a.name, Eval: a.eval, Model: m.Key,
						Pred: slot.pred, Target: targets}
					if hasVariance(slot.vari) {
						ser.Var = slot.vari
					}
					for r := range s.Repeats {
						var vr []float64
						if ser.Var != nil {
							vr = ser.Var[r]
						}
						met := scoreOne(st.v.Y, targets[r], ser.Pred[r], vr, level)
						met.TrainSlope, met.TrainIntercept, met.TrainMAD = train[r][0], train[r][1], train[r][2]
						ser.Reps = append(ser.Reps, met)
						fr := make([]float64, s.Folds)
						for f, t := range e.splits[r].test {
							fr[f] = stats.RMSE(valsOf(targets[r], t), valsOf(ser.Pred[r], t))
						}
						ser.FoldRMSE = append(ser.FoldRMSE, fr)
					}
					ser.Summary = summarize(st.v.Y, ser.Reps, ser.Pred, ser.Target)
					res.Series = append(res.Series, ser)
				}
			}
		}
		res.Diagnostics = append(res.Diagnostics, st.diag...)
		for r, byFold := range st.foldDiag {
			for f, ds := range byFold {
				for _, d := range ds {
					res.Diagnostics = append(res.Diagnostics, DiagnosticRecord{st.v.Key, "fold", r, f, d.Name, d.Value})
				}
			}
		}
	}
	res.Tests = tests(res, s.FoldTests)
	return res
}

func hasVariance(v [][]float64) bool {
	for _, row := range v {
		for _, x := range row {
			if math.IsNaN(x) {
				return false
			}
		}
	}
	return true
}

// evalTargets returns, per repetition, the targets arm a is scored against.
func (e *exec) evalTargets(st *vstate, a arm) [][]float64 {
	R := e.spec.Repeats
	same := func(t []float64) [][]float64 {
		out := make([][]float64, R)
		for r := range out {
			out[r] = t
		}
		return out
	}
	switch a.eval {
	case EvalRegularized:
		return same(st.yReg)
	case EvalRescaled:
		return same(st.yRes)
	case EvalShrunk:
		return same(st.yShr)
	case EvalFoldRegularized:
		out := make([][]float64, R)
		for r := range out {
			out[r] = make([]float64, e.n)
			for f, t := range e.splits[r].test {
				for k, i := range t {
					out[r][i] = st.foldTest[r][f][k]
				}
			}
		}
		return out
	}
	return same(st.v.Y)
}

// trainRelation returns per repetition the (slope, intercept, mean |Δ|) of the training
// targets on the measured ones: averaged over folds under A, on all rows otherwise.
func (e *exec) trainRelation(st *vstate, p Protocol) [][3]float64 {
	y := st.v.Y
	rel := func(meas, t []float64) [3]float64 {
		sl, ic := stats.LinearFit(meas, t)
		return [3]float64{sl, ic, stats.MAE(meas, t)}
	}
	out := make([][3]float64, e.spec.Repeats)
	if p != A {
		var t []float64
		switch p {
		case B:
			t = st.yReg
		case Rescale:
			t = st.yRes
		case Shrink:
			t = st.yShr
		default:
			t = y
		}
		g := rel(y, t)
		for r := range out {
			out[r] = g
		}
		return out
	}
	for r := range out {
		var acc [3]float64
		for f, train := range e.splits[r].train {
			g := rel(valsOf(y, train), st.foldTrain[r][f])
			for k := range acc {
				acc[k] += g[k] / float64(len(e.splits[r].train))
			}
		}
		out[r] = acc
	}
	return out
}

// scoreOne scores predictions against targets; measured are the measured targets (for
// the Eval* relation), variance may be nil.
func scoreOne(measured, target, pred, variance []float64, level float64) Metrics {
	m := Metrics{
		R2:   stats.R2(target, pred),
		RMSE: stats.RMSE(target, pred),
		MAE:  stats.MAE(target, pred),
		NLL:  math.NaN(), Coverage: math.NaN(),
	}
	var notes []string
	var err error
	m.R, m.P, err = stats.Pearson(target, pred)
	if err != nil {
		var ce *stats.ConstantError
		if errors.As(err, &ce) && ce.Arg == "y" {
			notes = append(notes, "predictions are constant: r and p undefined")
		} else {
			notes = append(notes, "targets are constant: r, p and R² undefined")
		}
	}
	if variance != nil {
		m.NLL, err = stats.GaussianNLL(target, pred, variance)
		if err == nil {
			m.Coverage, err = stats.Coverage(target, pred, variance, level)
		}
		if err != nil {
			m.NLL, m.Coverage = math.NaN(), math.NaN()
			notes = append(notes, err.Error())
		}
	}
	m.EvalSD = stats.PopSD(target)
	m.RMSEOverSD = m.RMSE / m.EvalSD
	if m.EvalSD == 0 {
		m.RMSEOverSD = math.NaN()
	}
	m.EvalSlope, m.EvalIntercept = stats.LinearFit(measured, target)
	m.EvalMAD = stats.MAE(measured, target)
	m.Note = strings.Join(notes, "; ")
	return m
}

// summarize aggregates the repetitions of a series.
func summarize(measured []float64, reps []Metrics, pred, target [][]float64) Summary {
	R := len(reps)
	s := Summary{Reps: R}
	vals := make([]float64, R)
	for _, fd := range metricFields {
		for r := range reps {
			vals[r] = *fd.get(&reps[r])
		}
		*fd.get(&s.Mean) = stats.Mean(vals)
		*fd.get(&s.SD) = stats.SD(vals)
		*fd.get(&s.SE) = stats.SE(vals)
	}
	var notes []string
	for _, m := range reps {
		for _, n := range strings.Split(m.Note, "; ") {
			if n != "" && !slices.Contains(notes, n) {
				notes = append(notes, n)
			}
		}
	}
	s.Note = strings.Join(notes, "; ")
	n := len(measured)
	avgP, avgT := make([]float64, n), make([]float64, n)
	for i := range avgP {
		for r := range R {
			avgP[i] += pred[r][i]
			avgT[i] += target[r][i]
		}
		avgP[i] /= float64(R)
		avgT[i] /= float64(R)
	}
	s.AvgPred = scoreOne(measured, avgT, avgP, nil, 0.9)
	s.AvgPred.TrainSlope, s.AvgPred.TrainIntercept, s.AvgPred.TrainMAD = math.NaN(), math.NaN(), math.NaN()
	return s
}

// tests compares, by paired Wilcoxon over RMSEs, every pair of models within a
// (variant, arm) and every pair of (variant, arm) series within a model.
func tests(res *Result, foldTests bool) []Test {
	var out []Test
	add := func(kind string, a, b *Series) {
		ida := SeriesID{a.Variant, a.Arm, a.Model}
		idb := SeriesID{b.Variant, b.Arm, b.Model}
		comp := a.Comparable() && b.Comparable()
		ra, rb := make([]float64, len(a.Reps)), make([]float64, len(b.Reps))
		for r := range a.Reps {
			ra[r], rb[r] = a.Reps[r].RMSE, b.Reps[r].RMSE
		}
		out = append(out, wilcoxonTest(kind, "rep-rmse", ida, idb, comp, ra, rb))
		if foldTests {
			out = append(out, wilcoxonTest(kind, "fold-rmse", ida, idb, comp, slices.Concat(a.FoldRMSE...), slices.Concat(b.FoldRMSE...)))
		}
	}
	// Between models, within each (variant, arm): series of one arm are contiguous.
	for i := range res.Series {
		for j := i + 1; j < len(res.Series); j++ {
			a, b := &res.Series[i], &res.Series[j]
			if a.Variant == b.Variant && a.Arm == b.Arm {
				add("models", a, b)
			}
		}
	}
	// Between series, within each model.
	for i := range res.Series {
		for j := i + 1; j < len(res.Series); j++ {
			a, b := &res.Series[i], &res.Series[j]
			if a.Model == b.Model {
				add("series", a, b)
			}
		}
	}
	return out
}

func wilcoxonTest(kind, scores string, a, b SeriesID, comp bool, x, y []float64) Test {
	d := make([]float64, len(x))
	for i := range d {
		d[i] = x[i] - y[i]
	}
	sorted := slices.Clone(d)
	slices.Sort(sorted)
	t := Test{Kind: kind, Scores: scores, A: a, B: b, Comparable: comp, N: len(d),
		MeanDiff: stats.Mean(d), MedianDiff: stats.Quantile(0.5, sorted)}
	w, err := stats.Wilcoxon(d, nil)
	t.Statistic, t.P, t.Method = w.Statistic, w.P, w.Method
	if err != nil {
		t.Note = err.Error()
	}
	return t
}
