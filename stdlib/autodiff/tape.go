package autodiff

import "fmt"

// Var is a node of the computation: a value, the gradient of the loss with respect to it,
// and (for Vars made by a recording Tape) how to push that gradient to its parents.
//
// Leaf Vars are made by NewVar, Const or a Params registry and outlive any tape. Vars made
// by a Tape's ops belong to that tape: their Data and Grad live in the tape's arena and are
// invalid after Tape.Reset (copy out what must survive).
type Var struct {
	Tensor
	// Grad is ∂loss/∂Data, laid out like Data. It is nil when the Var takes no gradient,
	// and for a tape Var also until some gradient has reached it during Backward.
	// Leaf gradients accumulate across Backward calls until zeroed (Params.ZeroGrad).
	Grad []float64

	needsGrad bool
	tape      *Tape
	back      func()
	shp       [6]int
}

// NewVar returns a leaf Var over data (not copied) that takes a gradient.
// It panics if len(data) differs from the product of shape.
func NewVar(data []float64, shape ...int) *Var {
	v := &Var{needsGrad: true}
	v.Tensor = NewTensor(data, shape...)
	return v
}

// Const returns a leaf Var over data (not copied) that takes no gradient.
// It panics if len(data) differs from the product of shape.
func Const(data []float64, shape ...int) *Var {
	v := &Var{}
	v.Tensor = NewTensor(data, shape...)
	return v
}

// RequiresGrad reports whether gradients flow into v.
func (v *Var) RequiresGrad() bool { return v.needsGrad }

// Value returns the only element of a one-element Var (a scalar loss).
// It panics if v has more than one element.
func (v *Var) Value() float64 {
	if len(v.Data) != 1 {
		panic(fmt.Sprintf("autodiff: Value of a Var with %d elements", len(v.Data)))
	}
	return v.Data[0]
}

// Tape records one forward pass so that Backward can run it in reverse.
//
// A Tape owns an arena: the values and gradients of the Vars it creates are carved out
// of one slab that Reset rewinds, so a training loop that runs the same graph each step
// allocates no tensor memory after the first step. A nil *Tape is valid everywhere and
// means "no gradient, plain heap allocation"; NewInferenceTape gives a tape that records
// nothing but still reuses its arena, which is what repeated sampling passes want.
//
// A Tape is not safe for concurrent use; use one tape per goroutine.
type Tape struct {
	noGrad bool
	nodes  []*Var
	arena  arena
	vars   varSlab
}

// NewTape returns a tape that records operations for Backward.
func NewTape() *Tape { return &Tape{} }

// NewInferenceTape returns a tape that records nothing (no Var it makes takes a gradient)
// and only serves as a reusable arena.
func NewInferenceTape() *Tape { return &Tape{noGrad: true} }

// Recording reports whether ops on tp are recorded for Backward.
func (tp *Tape) Recording() bool { return tp != nil && !tp.noGrad }

// Reset forgets every recorded op and rewinds the arena. All Vars made by tp since the
// last Reset become invalid. Leaf Vars (and their Grad) are untouched.
func (tp *Tape) Reset() {
	if tp == nil {
		return
	}
	for i := range tp.nodes {
		tp.nodes[i] = nil
	}
	tp.nodes = tp.nodes[:0]
	tp.arena.reset()
	tp.vars.reset()
}

// Backward seeds ∂loss/∂loss = 1 and propagates gradients to every Var that takes one,
// in reverse order of creation; gradients are added (+=) into Grad. loss must have one
// element and must have been made by tp (or be a leaf). Call it once per recorded pass.
func (tp *Tape) Backward(loss *Var) {
	if len(loss.Data) != 1 {
		panic(fmt.Sprintf("autodiff: Backward of a Var with %d elements; reduce to a scalar first", len(loss.Data)))
	}
	if !loss.needsGrad {
		return
	}
	g := tp.gradOf(loss)
	g[0] += 1
	if tp == nil {
		return
	}
	for i := len(tp.nodes) - 1; i >= 0; i-- {
		n := tp.nodes[i]
		if n.Grad == nil || n.back == nil {
			continue
		}
		n.back()
	}
}

// newVar makes an output Var of the given shape whose gradient is needed when tp records
// and any parent needs one. Data is zeroed.
func (tp *Tape) newVar(shape []int, parents ...*Var) *Var {
	return tp.makeVar(true, shape, parents...)
}

// newVarNZ is newVar for ops that overwrite every element: Data is not zeroed.
func (tp *Tape) newVarNZ(shape []int, parents ...*Var) *Var {
	return tp.makeVar(false, shape, parents...)
}

func (tp *Tape) makeVar(zero bool, shape []int, parents ...*Var) *Var {
	var v *Var
	if tp == nil {
		v = &Var{}
	} else {
		v = tp.vars.get()
		v.tape = tp
	}
	if len(shape) <= len(v.shp) {
		copy(v.shp[:], shape)
		v.Shape = v.shp[:len(shape):len(shape)]
	} else {
		v.Shape = append([]int(nil), shape...)
	}
	if zero {
		v.Data = tp.alloc(sizeOf(shape))
	} else {
		v.Data = tp.allocNZ(sizeOf(shape))
	}
	if tp.Recording() {
		for _, p := range parents {
			if p != nil && p.needsGrad {
				v.needsGrad = true
				break
			}
		}
	}
	return v
}

// view makes an output Var that shares x's Data under another shape.
func (tp *Tape) view(x *Var, shape []int) *Var {
	var v *Var
	if tp == nil {
		v = &Var{}
	} else {
		v = tp.vars.get()
		v.tape = tp
	}
	if len(shape) <= len(v.shp) {
		copy(v.shp[:], shape)
		v.Shape = v.shp[:len(shape):len(shape)]
	} else {
		v.Shape = append([]int(nil), shape...)
	}
	v.Data = x.Data
	v.needsGrad = tp.Recording() && x.needsGrad
	return v
}

// record registers out's backward function. Callers only build the closure when
// out.needsGrad, so inference passes allocate no closures.
func (tp *Tape) record(out *Var, back func()) {
	out.back = back
	tp.nodes = append(tp.nodes, out)
}

// alloc returns n zeroed float64s from the arena (or the heap for a nil tape).
func (tp *Tape) alloc(n int) []float64 {
	if tp == nil {
		return make([]float64, n)
	}
	return tp.arena.alloc(n)
}

// allocNZ is alloc without zeroing, for buffers the caller fills completely.
func (tp *Tape) allocNZ(n int) []float64 {
	if tp == nil {
		return make([]float64, n)
	}
	return tp.arena.allocNZ(n)
}

// gradOf returns v's gradient buffer, allocating it (zeroed) on first use, or nil when
// v takes no gradient.
func (tp *Tape) gradOf(v *Var) []float64 {
	if !v.needsGrad {
		return nil
	}
	if v.Grad == nil {
		if v.tape != nil && v.tape == tp {
			v.Grad = tp.arena.alloc(len(v.Data))
		} else {
			v.Grad = make([]float64, len(v.Data))
		}
	}
	return v.Grad
}

// Custom records a user-defined op: out is the already computed value (its Data is
// copied into the tape), parents are its inputs, and back receives the output gradient
// and, for each parent, its gradient buffer (nil if that parent takes no gradient) into
// which it must add. Use it for ops the package lacks; check it with CheckGradients.
func (tp *Tape) Custom(out Tensor, parents []*Var, back func(gOut []float64, gParents [][]float64)) *Var {
	v := tp.newVar(out.Shape, parents...)
	copy(v.Data, out.Data)
	if v.needsGrad {
		ps := append([]*Var(nil), parents...)
		tp.record(v, func() {
			gp := make([][]float64, len(ps))
			for i, p := range ps {
				gp[i] = tp.gradOf(p)
			}
			back(v.Grad, gp)
		})
	}
	return v
}

// arena is a bump allocator over one slab. When a pass needs more than the slab holds, the
// overflow comes from the heap and the next reset grows the slab to the whole pass's need.
type arena struct {
	buf  []float64
	off  int
	need int
}

func (a *arena) alloc(n int) []float64 {
	a.need += n
	if a.off+n <= len(a.buf) {
		s := a.buf[a.off : a.off+n : a.off+n]
		a.off += n
		clear(s)
		return s
	}
	return make([]float64, n)
}

func (a *arena) allocNZ(n int) []float64 {
	a.need += n
	if a.off+n <= len(a.buf) {
		s := a.buf[a.off : a.off+n : a.off+n]
		a.off += n
		return s
	}
	return make([]float64, n)
}

func (a *arena) reset() {
	if a.need > len(a.buf) {
		a.buf = make([]float64, a.need+a.need/8)
	}
	a.off, a.need = 0, 0
}

// varSlab hands out Var structs from fixed chunks so that their addresses stay valid.
type varSlab struct {
	chunks [][]Var
	ci, vi int
}

const varChunk = 256

func (s *varSlab) get() *Var {
	if s.ci == len(s.chunks) {
		s.chunks = append(s.chunks, make([]Var, varChunk))
	}
	v := &s.chunks[s.ci][s.vi]
	*v = Var{}
	s.vi++
	if s.vi == varChunk {
		s.ci++
		s.vi = 0
	}
	return v
}

func (s *varSlab) reset() { s.ci, s.vi = 0, 0 }
