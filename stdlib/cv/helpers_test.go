package cv

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/stdlib/ml"
	"github.com/ntedsl/ntedsl/stdlib/stats"
)

// Test models. They live here, not in nodes/, because stdlib must not import nodes.

// meanModel predicts the mean of its training targets.
type meanModel struct{}

type constPred struct{ v float64 }

func (meanModel) Fit(_ context.Context, X *mat.Dense, y []float64, _ *rand.Rand) (ml.Predictor, error) {
	return constPred{stats.Mean(y)}, nil
}

func (c constPred) Predict(X *mat.Dense) ([]float64, []float64) {
	n, _ := X.Dims()
	out := make([]float64, n)
	for i := range out {
		out[i] = c.v
	}
	return out, nil
}

// olsModel is least squares with an intercept, solved by normal equations.
type olsModel struct{}

type linPred struct{ w []float64 } // w[0] intercept

func olsFit(X *mat.Dense, y []float64) ([]float64, error) {
	n, p := X.Dims()
	A := mat.NewDense(n, p+1, nil)
	for i := 0; i < n; i++ {
		A.Set(i, 0, 1)
		for j := 0; j < p; j++ {
			A.Set(i, j+1, X.At(i, j))
		}
	}
	var ata mat.Dense
	ata.Mul(A.T(), A)
	var aty, w mat.VecDense
	aty.MulVec(A.T(), mat.NewVecDense(n, append([]float64(nil), y...)))
	if err := w.SolveVec(&ata, &aty); err != nil {
		return nil, err
	}
	return w.RawVector().Data, nil
}

func (olsModel) Fit(_ context.Context, X *mat.Dense, y []float64, _ *rand.Rand) (ml.Predictor, error) {
	w, err := olsFit(X, y)
	return linPred{w}, err
}

func (l linPred) Predict(X *mat.Dense) ([]float64, []float64) {
	n, p := X.Dims()
	out := make([]float64, n)
	for i := range out {
		v := l.w[0]
		for j := 0; j < p; j++ {
			v += l.w[j+1] * X.At(i, j)
		}
		out[i] = v
	}
	return out, nil
}

// noisyModel is OLS plus rng noise, with a predictive variance: it exercises the
// random streams and the variance path.
type noisyModel struct{ sd float64 }

type noisyPred struct {
	linPred
	shift, sd float64
}

func (m noisyModel) Fit(ctx context.Context, X *mat.Dense, y []float64, rng *rand.Rand) (ml.Predictor, error) {
	w, err := olsFit(X, y)
	return noisyPred{linPred{w}, m.sd * rng.NormFloat64(), m.sd}, err
}

func (p noisyPred) Predict(X *mat.Dense) ([]float64, []float64) {
	mean, _ := p.linPred.Predict(X)
	v := make([]float64, len(mean))
	for i := range mean {
		mean[i] += p.shift
		v[i] = p.sd*p.sd + 0.1
	}
	return mean, v
}

// oracle predicts the target stored for the row id in column 0.
type oracle struct{ y []float64 }

func (o oracle) Fit(context.Context, *mat.Dense, []float64, *rand.Rand) (ml.Predictor, error) {
	return o, nil
}

func (o oracle) Predict(X *mat.Dense) ([]float64, []float64) {
	n, _ := X.Dims()
	out := make([]float64, n)
	for i := range out {
		out[i] = o.y[int(X.At(i, 0))]
	}
	return out, nil
}

// funcModel adapts a function to ml.Regressor.
type funcModel func(ctx context.Context, X *mat.Dense, y []float64, rng *rand.Rand) (ml.Predictor, error)

func (f funcModel) Fit(ctx context.Context, X *mat.Dense, y []float64, rng *rand.Rand) (ml.Predictor, error) {
	return f(ctx, X, y, rng)
}

var errBoom = errors.New("boom")

// halfShrink regularizes y ↦ m + c(y − m), m the mean of the targets it was fitted on.
type halfShrink struct{ c float64 }

type halfShrinkFit struct{ m, c float64 }

func (h halfShrink) Fit(_ context.Context, _ *mat.Dense, y []float64, _ *rand.Rand) (Regularization, error) {
	return halfShrinkFit{stats.Mean(y), h.c}, nil
}

func (h halfShrinkFit) Apply(_ context.Context, _ *mat.Dense, y []float64, _ *rand.Rand) ([]float64, error) {
	out := make([]float64, len(y))
	for i, v := range y {
		out[i] = h.m + h.c*(v-h.m)
	}
	return out, nil
}

func (h halfShrinkFit) Diagnostics() []Diagnostic { return []Diagnostic{{"fit_mean", h.m}} }

// noisyReg adds rng noise to shrunk targets: it exercises the regularizer streams.
type noisyReg struct{}

type noisyRegFit struct{ m float64 }

func (noisyReg) Fit(_ context.Context, _ *mat.Dense, y []float64, rng *rand.Rand) (Regularization, error) {
	return noisyRegFit{stats.Mean(y) + 0.01*rng.NormFloat64()}, nil
}

func (n noisyRegFit) Apply(_ context.Context, _ *mat.Dense, y []float64, rng *rand.Rand) ([]float64, error) {
	out := make([]float64, len(y))
	for i, v := range y {
		out[i] = n.m + 0.7*(v-n.m) + 0.05*rng.NormFloat64()
	}
	return out, nil
}

// testData is the models.md §8 deterministic data set (n rows, d = 5): a smooth
// nonlinear target that OLS fits imperfectly.
func testData(n int) (*mat.Dense, []float64) {
	X := mat.NewDense(n, 5, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		for j := 0; j < 5; j++ {
			X.Set(i, j, math.Sin(0.37*float64(i+1)*float64(j+1)+0.5*float64(j))+0.01*float64(i+1)/float64(j+1))
		}
		y[i] = 3*X.At(i, 0) - 2*X.At(i, 1)*X.At(i, 1) + X.At(i, 2)*X.At(i, 3) + 0.1*math.Cos(float64(i)) + 5
	}
	return X, y
}
