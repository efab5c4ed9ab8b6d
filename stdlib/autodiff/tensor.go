package autodiff

import "fmt"

// Tensor is a dense row-major array of float64: element (i0, i1, …, in) lives at
// Data[((i0·S1 + i1)·S2 + …)·Sn + in]. A scalar has an empty Shape and one element.
type Tensor struct {
	Shape []int
	Data  []float64
}

// NewTensor returns a Tensor over data (not copied) with the given shape.
// It panics if len(data) differs from the product of shape.
func NewTensor(data []float64, shape ...int) Tensor {
	if n := sizeOf(shape); n != len(data) {
		panic(fmt.Sprintf("autodiff: NewTensor: shape %v needs %d values, have %d", shape, n, len(data)))
	}
	return Tensor{Shape: append([]int(nil), shape...), Data: data}
}

// Size returns the number of elements of t.
func (t Tensor) Size() int { return len(t.Data) }

// Dims returns len(t.Shape).
func (t Tensor) Dims() int { return len(t.Shape) }

func sizeOf(shape []int) int {
	n := 1
	for _, s := range shape {
		if s < 0 {
			panic(fmt.Sprintf("autodiff: negative dimension in shape %v", shape))
		}
		n *= s
	}
	return n
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// normAxis maps a possibly negative axis to [0, rank) and panics when out of range.
func normAxis(axis, rank int, op string) int {
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		panic(fmt.Sprintf("autodiff: %s: axis out of range for rank %d", op, rank))
	}
	return axis
}
