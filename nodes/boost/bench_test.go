package boost

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/stdlib/datasets/uci/ucitest"
)

// The benchmarks mirror bench/bench_xgb.py, which times xgboost 1.7.4 on the same data
// in the same way (see bench/README.md for side-by-side numbers).

// wideToy is the models.md §8 formula extended to d columns (84 × 20 is the size of the
// preprint's data set), cast to float32 like the fixture.
func wideToy(n, d int) (*mat.Dense, []float64) {
	X := mat.NewDense(n, d, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			X.Set(i, j, float64(float32(math.Sin(0.37*float64(i+1)*float64(j+1)+0.5*float64(j))+0.01*float64(i+1)/float64(j+1))))
		}
		x := X.RawRowView(i)
		y[i] = float64(float32(3*x[0] - 2*x[1]*x[1] + x[2]*x[3] + 0.1*math.Cos(float64(i)) + 5))
	}
	return X, y
}

func rowsOf(X *mat.Dense, y []float64, idx []int) (*mat.Dense, []float64) {
	_, d := X.Dims()
	Xs := mat.NewDense(len(idx), d, nil)
	ys := make([]float64, len(idx))
	for k, i := range idx {
		Xs.SetRow(k, X.RawRowView(i))
		ys[k] = y[i]
	}
	return Xs, ys
}

func span(a, b int) []int {
	out := make([]int, 0, b-a)
	for i := a; i < b; i++ {
		out = append(out, i)
	}
	return out
}

func benchFitPredict(b *testing.B, Xtr *mat.Dense, ytr []float64, Xte *mat.Dense) {
	r, err := New(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m, err := r.Fit(context.Background(), Xtr, ytr, nil)
		if err != nil {
			b.Fatal(err)
		}
		m.Predict(Xte)
	}
}

// BenchmarkFitPredict75x20: fit on rows 0–74 of the 84 × 20 data, predict rows 75–83
// (xgboost 1.7.4 reference: 12.3 ms, published.md).
func BenchmarkFitPredict75x20(b *testing.B) {
	X, y := wideToy(84, 20)
	Xtr, ytr := rowsOf(X, y, span(0, 75))
	Xte, _ := rowsOf(X, y, span(75, 84))
	benchFitPredict(b, Xtr, ytr, Xte)
}

// BenchmarkFitPredictBoston: standard split 0 of Boston housing, 455 × 13 train, 51 test
// (xgboost 1.7.4 reference: 32 ms with 1 thread, published.md).
func BenchmarkFitPredictBoston(b *testing.B) {
	s := ucitest.Load(b, "bostonHousing")
	Xtr, ytr, Xte, _ := ucitest.Split(b, s, 0)
	benchFitPredict(b, Xtr, ytr, Xte)
}

// BenchmarkCV1000 times the preprint's protocol on the 84 × 20 data: 100 reshuffles ×
// 10-fold CV, 1,000 fits and out-of-fold predictions, spread over GOMAXPROCS workers as
// the runtime would. One op is the whole 1,000-fit loop (target: < 5 s on 2 cores).
func BenchmarkCV1000(b *testing.B) {
	X, y := wideToy(84, 20)
	n := len(y)
	r, _ := New(DefaultConfig())
	type job struct{ rep, fold int }
	workers := runtime.GOMAXPROCS(0)
	b.ReportAllocs()
	for b.Loop() {
		jobs := make(chan job)
		var wg sync.WaitGroup
		var sink float64
		var mu sync.Mutex
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var local float64
				for jb := range jobs {
					perm := rand.New(rand.NewPCG(uint64(jb.rep), 0)).Perm(n)
					// sklearn KFold(10) sizes: the first n mod 10 folds get one extra row.
					lo := 0
					for f := 0; f < jb.fold; f++ {
						lo += n / 10
						if f < n%10 {
							lo++
						}
					}
					size := n / 10
					if jb.fold < n%10 {
						size++
					}
					test := perm[lo : lo+size]
					train := append(append([]int{}, perm[:lo]...), perm[lo+size:]...)
					Xtr, ytr := rowsOf(X, y, train)
					Xte, _ := rowsOf(X, y, test)
					m, err := r.Fit(context.Background(), Xtr, ytr, nil)
					if err != nil {
						panic(err)
					}
					p, _ := m.Predict(Xte)
					local += p[0]
				}
				mu.Lock()
				sink += local
				mu.Unlock()
			}()
		}
		for rep := 0; rep < 100; rep++ {
			for f := 0; f < 10; f++ {
				jobs <- job{rep, f}
			}
		}
		close(jobs)
		wg.Wait()
		if math.IsNaN(sink) {
			b.Fatal("NaN prediction")
		}
	}
}
