package cv

import (
	"context"
	"testing"
)

// BenchmarkBookkeeping measures the CV overhead with a trivial model (the training
// mean): 84 rows, 10 folds, 100 repetitions = 1000 fits per op, serial.
func BenchmarkBookkeeping(b *testing.B) {
	X, y := testData(84)
	spec := Spec{Folds: 10, Repeats: 100, Seed: 1,
		Variants: []Variant{{Key: "v", X: X, Y: y}}, Models: []Model{{"mean", meanModel{}}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Run(context.Background(), spec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/fit")
}

// BenchmarkBookkeepingProtocols is the same with a regularizer under A and B (2000 fits,
// 1000 fold regularizations) and the scoring of 4 arms.
func BenchmarkBookkeepingProtocols(b *testing.B) {
	X, y := testData(84)
	spec := Spec{Folds: 10, Repeats: 100, Seed: 1,
		Variants: []Variant{{Key: "v", X: X, Y: y, Regularizer: halfShrink{0.5}, Protocols: []Protocol{A, B}}},
		Models:   []Model{{"mean", meanModel{}}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Run(context.Background(), spec); err != nil {
			b.Fatal(err)
		}
	}
}
