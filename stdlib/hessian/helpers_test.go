package hessian

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// lsFixture is testdata/linear_ls.json, made by testdata/gen_linear_ls.py with numpy.
type lsFixture struct {
	N           int       `json:"n"`
	D           int       `json:"d"`
	XRow0       []float64 `json:"x_row0"`
	YFirst3     []float64 `json:"y_first3"`
	Hessian     []float64 `json:"hessian_rowmajor"`
	Eigenvalues []float64 `json:"eigenvalues_ascending"`
	Trace       float64   `json:"trace"`
	Frobenius2  float64   `json:"frobenius2"`
	HutchVar    float64   `json:"hutchinson_variance"`
	OnesMoments []float64 `json:"ones_moments"`
}

func loadLS(t testing.TB) lsFixture {
	t.Helper()
	b, err := os.ReadFile("testdata/linear_ls.json")
	if err != nil {
		t.Fatal(err)
	}
	var f lsFixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// section8 is the deterministic 84 × 5 data set of models.md §8, in float64.
func section8() (*mat.Dense, []float64) {
	const n, d = 84, 5
	X := mat.NewDense(n, d, nil)
	y := make([]float64, n)
	for i := range n {
		for j := range d {
			X.Set(i, j, math.Sin(0.37*float64(i+1)*float64(j+1)+0.5*float64(j))+0.01*float64(i+1)/float64(j+1))
		}
		y[i] = 3*X.At(i, 0) - 2*X.At(i, 1)*X.At(i, 1) + X.At(i, 2)*X.At(i, 3) + 0.1*math.Cos(float64(i)) + 5
	}
	return X, y
}

// zscore standardizes the columns of X and y with population statistics (in place).
func zscore(X *mat.Dense, y []float64) {
	n, d := X.Dims()
	col := make([]float64, n)
	for j := range d {
		mat.Col(col, j, X)
		m, s := meanSD(col)
		for i := range n {
			X.Set(i, j, (col[i]-m)/s)
		}
	}
	m, s := meanSD(y)
	for i := range y {
		y[i] = (y[i] - m) / s
	}
}

func meanSD(x []float64) (float64, float64) {
	m := floats.Sum(x) / float64(len(x))
	var ss float64
	for _, v := range x {
		ss += (v - m) * (v - m)
	}
	return m, math.Sqrt(ss / float64(len(x)))
}

// fullHessian builds H column by column from H·e_j.
func fullHessian(hvp HVP, p int) *mat.Dense {
	H := mat.NewDense(p, p, nil)
	e := make([]float64, p)
	col := make([]float64, p)
	for j := range p {
		clear(e)
		e[j] = 1
		hvp(col, e)
		H.SetCol(j, col)
	}
	return H
}

// symEigen returns the ascending eigenvalues and eigenvectors (columns) of the symmetric
// part of H.
func symEigen(t testing.TB, H *mat.Dense) ([]float64, *mat.Dense) {
	t.Helper()
	p, _ := H.Dims()
	S := mat.NewSymDense(p, nil)
	for i := range p {
		for j := i; j < p; j++ {
			S.SetSym(i, j, 0.5*(H.At(i, j)+H.At(j, i)))
		}
	}
	var es mat.EigenSym
	if !es.Factorize(S, true) {
		t.Fatal("EigenSym failed")
	}
	var V mat.Dense
	es.VectorsTo(&V)
	return es.Values(nil), &V
}

// matHVP is the operator of an explicit matrix.
func matHVP(H mat.Matrix) HVP {
	p, _ := H.Dims()
	return func(dst, v []float64) {
		r := mat.NewVecDense(p, dst)
		r.MulVec(H, mat.NewVecDense(p, v))
	}
}

func randVec(p int, rng *rand.Rand) []float64 {
	v := make([]float64, p)
	gaussian(v, rng)
	return v
}

func relErr(got, want []float64) float64 {
	d := make([]float64, len(got))
	floats.SubTo(d, got, want)
	return floats.Norm(d, 2) / floats.Norm(want, 2)
}

func sortedCopy(x []float64) []float64 {
	c := append([]float64(nil), x...)
	sort.Float64s(c)
	return c
}
