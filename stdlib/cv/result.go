package cv

// Result is the outcome of Run. Every slice is in a deterministic order fixed by the
// Spec (variants and models in the order given, protocols in the order Raw, A, B,
// Rescale, Shrink), never by scheduling.
type Result struct {
	N, Folds, Repeats int
	Seed              uint64
	Level             float64 // central-interval level of Metrics.Coverage
	// FoldOf[r][i] is the fold that held row i out in repetition r.
	FoldOf      [][]int
	Series      []Series
	Tests       []Test
	Diagnostics []DiagnosticRecord
}

// Series is one arm of one model on one variant: a protocol's out-of-fold predictions
// scored against one kind of evaluation targets. Its slices are read-only: the arms of
// one protocol share Pred and Var, and Target rows are shared across repetitions and
// series.
type Series struct {
	Variant  string
	Protocol Protocol
	Arm      string // raw, A, A', B, B->meas, rescale, rescale->meas, shrink, shrink->meas
	Eval     string // the evaluation targets: measured, fold-regularized, regularized, rescaled, shrunk
	Model    string
	// Pred[r][i] is the out-of-fold prediction of row i in repetition r.
	Pred [][]float64
	// Var[r][i] is its predictive variance; Var is nil when the model gives none.
	Var [][]float64
	// Target[r][i] is the evaluation target of row i in repetition r (the same slice for
	// every r except in arm A', whose test targets come from each fold's regularization).
	Target [][]float64
	// FoldRMSE[r][f] is the RMSE on fold f's test rows in repetition r.
	FoldRMSE [][]float64
	Reps     []Metrics // one per repetition
	Summary  Summary
}

// Comparable reports whether the series is scored against the measured targets, the
// only arms whose errors can be compared with each other and with the raw baseline.
func (s *Series) Comparable() bool { return s.Eval == EvalMeasured }

// Metrics are the scores of one set of N predictions against N evaluation targets.
type Metrics struct {
	R2   float64 // 1 − SS_res/SS_tot (sklearn r2_score)
	RMSE float64 // sqrt(mean squared error), 1/N
	MAE  float64
	R    float64 // Pearson r of targets and predictions
	P    float64 // its two-sided p-value (scipy pearsonr)
	// NLL is the mean Gaussian negative log-likelihood and Coverage the fraction of
	// targets inside the central Level interval; NaN without predictive variances.
	NLL, Coverage float64
	// EvalSD is the population SD of the evaluation targets, and RMSEOverSD = RMSE/EvalSD
	// = √(1 − R²): error relative to the spread being predicted.
	EvalSD, RMSEOverSD float64
	// EvalSlope and EvalIntercept are the OLS fit of the evaluation targets on the
	// measured ones (slope < 1: shrunk targets); EvalMAD is mean |target − measured|.
	EvalSlope, EvalIntercept, EvalMAD float64
	// Train* are the same for the targets the model was trained on: averaged over the
	// folds' training rows under A, on all rows for the other protocols.
	TrainSlope, TrainIntercept, TrainMAD float64
	// Note says why a value is NaN (e.g. constant predictions leave r undefined).
	Note string
}

// metricFields lists the numeric fields of Metrics in output order with their stable
// column names.
var metricFields = []struct {
	name string
	get  func(*Metrics) *float64
}{
	{"r2", func(m *Metrics) *float64 { return &m.R2 }},
	{"rmse", func(m *Metrics) *float64 { return &m.RMSE }},
	{"mae", func(m *Metrics) *float64 { return &m.MAE }},
	{"r", func(m *Metrics) *float64 { return &m.R }},
	{"p", func(m *Metrics) *float64 { return &m.P }},
	{"nll", func(m *Metrics) *float64 { return &m.NLL }},
	{"coverage", func(m *Metrics) *float64 { return &m.Coverage }},
	{"eval_sd", func(m *Metrics) *float64 { return &m.EvalSD }},
	{"rmse_over_sd", func(m *Metrics) *float64 { return &m.RMSEOverSD }},
	{"eval_slope", func(m *Metrics) *float64 { return &m.EvalSlope }},
	{"eval_intercept", func(m *Metrics) *float64 { return &m.EvalIntercept }},
	{"eval_mad", func(m *Metrics) *float64 { return &m.EvalMAD }},
	{"train_slope", func(m *Metrics) *float64 { return &m.TrainSlope }},
	{"train_intercept", func(m *Metrics) *float64 { return &m.TrainIntercept }},
	{"train_mad", func(m *Metrics) *float64 { return &m.TrainMAD }},
}

// Summary aggregates a series over its repetitions.
type Summary struct {
	Reps int
	// Mean, SD (ddof 1) and SE = SD/√R of each metric over the repetitions. Mean.P is the
	// mean of the per-repetition p-values (what the preprint most plausibly reported).
	Mean, SD, SE Metrics
	// AvgPred scores the predictions averaged over repetitions, ȳ_i = (1/R)Σ_r ŷ_i^(r),
	// against the targets averaged the same way ("averaging the predicted values"). Its
	// NLL, Coverage and Train* are NaN.
	AvgPred Metrics
	// Note joins the distinct notes of the repetitions.
	Note string
}

// SeriesID names a series.
type SeriesID struct {
	Variant string `json:"variant"`
	Arm     string `json:"arm"`
	Model   string `json:"model"`
}

// Test is a paired two-sided Wilcoxon signed-rank test (stats.Wilcoxon, scipy 1.10.1
// defaults) of the RMSEs of series A against series B on the same folds.
type Test struct {
	// Kind is "models" (two models on the same variant and arm) or "series" (one model
	// on two variant/arm series).
	Kind string
	// Scores is "rep-rmse" (R per-repetition RMSEs) or "fold-rmse" (R×K per-fold RMSEs).
	Scores string
	A, B   SeriesID
	// Comparable is true when both series are scored against measured targets.
	Comparable bool
	N          int
	// MeanDiff and MedianDiff summarize A − B (negative: A has the lower error).
	MeanDiff, MedianDiff float64
	Statistic, P         float64
	Method               string // exact or approx
	Note                 string
}

// DiagnosticRecord is one scalar reported by a regularization (see Diagnoser), or one
// of the controls' fitted constants (rescale_c, shrink_w).
type DiagnosticRecord struct {
	Variant string
	Scope   string // "all" (fitted on all rows) or "fold"
	Rep     int    // −1 for scope "all"
	Fold    int    // −1 for scope "all"
	Name    string
	Value   float64
}
