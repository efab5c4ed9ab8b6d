package cv_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"

	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/stdlib/cv"
	"github.com/ntedsl/ntedsl/stdlib/ml"
)

// slope is a one-feature least-squares line, enough to show the API.
type slope struct{}

type line struct{ a, b float64 }

func (slope) Fit(_ context.Context, X *mat.Dense, y []float64, _ *rand.Rand) (ml.Predictor, error) {
	n := float64(len(y))
	var sx, sy, sxx, sxy float64
	for i, v := range y {
		x := X.At(i, 0)
		sx, sy, sxx, sxy = sx+x, sy+v, sxx+x*x, sxy+x*v
	}
	b := (n*sxy - sx*sy) / (n*sxx - sx*sx)
	return line{(sy - b*sx) / n, b}, nil
}

func (l line) Predict(X *mat.Dense) ([]float64, []float64) {
	n, _ := X.Dims()
	out := make([]float64, n)
	for i := range out {
		out[i] = l.a + l.b*X.At(i, 0)
	}
	return out, nil
}

func ExampleRun() {
	// y = 2x + a deterministic wiggle, 20 rows; 5-fold CV repeated 3 times.
	X := mat.NewDense(20, 1, nil)
	y := make([]float64, 20)
	for i := range y {
		X.Set(i, 0, float64(i))
		y[i] = 2*float64(i) + float64(i%3) - 1
	}
	res, err := cv.Run(context.Background(), cv.Spec{
		Folds: 5, Repeats: 3, Seed: 1,
		Variants: []cv.Variant{{Key: "data", X: X, Y: y}},
		Models:   []cv.Model{{Key: "line", Regressor: slope{}}},
		Runner:   cv.Workers(2),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	s := res.Series[0].Summary
	fmt.Printf("R² %.4f ± %.4f, RMSE %.3f, p of averaged predictions %.1e\n", s.Mean.R2, s.SD.R2, s.Mean.RMSE, s.AvgPred.P)
	cv.WriteTable(os.Stdout, res)
	// Output:
	// R² 0.9943 ± 0.0001, RMSE 0.878, p of averaged predictions 1.1e-21
	// variant  arm  eval      line R²        line RMSE      line p
	// data     raw  measured  0.994 ± 0.000  0.878 ± 0.010  1.25e-21
	//
	// 5-fold CV repeated 3 times on 20 rows. ± is the SD over repetitions (ddof 1); SE = SD/√3 is in the CSV/JSON.
	// p is the mean over repetitions of the Pearson p between predictions and evaluation targets.
	// Only rows with eval = measured are comparable with each other; B scores against regularized targets (the preprint's protocol) and is not comparable with A.
}
