package autodiff

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

// Params is an ordered registry of named, long-lived parameter Vars: what an optimizer
// updates, ZeroGrad clears and MarshalBinary saves. Order is registration order, so every
// traversal is deterministic.
type Params struct {
	vars  []*Var
	names []string
	index map[string]int
}

// NewParams returns an empty registry.
func NewParams() *Params { return &Params{index: map[string]int{}} }

// New registers and returns a zero-filled parameter of the given shape.
// It panics if name is already registered.
func (ps *Params) New(name string, shape ...int) *Var {
	return ps.Add(name, NewVar(make([]float64, sizeOf(shape)), shape...))
}

// Add registers v (which must take a gradient) under name and returns it.
// It panics if name is already registered or v takes no gradient.
func (ps *Params) Add(name string, v *Var) *Var {
	if _, dup := ps.index[name]; dup {
		panic(fmt.Sprintf("autodiff: parameter %q registered twice", name))
	}
	if !v.needsGrad || v.tape != nil {
		panic(fmt.Sprintf("autodiff: parameter %q must be a leaf Var that takes a gradient", name))
	}
	ps.index[name] = len(ps.vars)
	ps.vars = append(ps.vars, v)
	ps.names = append(ps.names, name)
	return v
}

// Get returns the parameter registered under name, or nil.
func (ps *Params) Get(name string) *Var {
	if i, ok := ps.index[name]; ok {
		return ps.vars[i]
	}
	return nil
}

// Vars returns the parameters in registration order (the registry's own slice: do not modify).
func (ps *Params) Vars() []*Var { return ps.vars }

// Names returns the parameter names in registration order (do not modify).
func (ps *Params) Names() []string { return ps.names }

// Len returns the number of registered parameters.
func (ps *Params) Len() int { return len(ps.vars) }

// NumElements returns the total number of scalar parameters.
func (ps *Params) NumElements() int {
	n := 0
	for _, v := range ps.vars {
		n += len(v.Data)
	}
	return n
}

// ZeroGrad sets every parameter gradient to zero (allocating it if absent).
func (ps *Params) ZeroGrad() {
	for _, v := range ps.vars {
		if v.Grad == nil {
			v.Grad = make([]float64, len(v.Data))
		} else {
			clear(v.Grad)
		}
	}
}

// Flatten copies all parameter values, in registration order, into dst (length
// NumElements; nil allocates) and returns it.
func (ps *Params) Flatten(dst []float64) []float64 {
	dst = sizedDst(dst, ps.NumElements(), "Flatten")
	o := 0
	for _, v := range ps.vars {
		o += copy(dst[o:], v.Data)
	}
	return dst
}

// FlattenGrad copies all parameter gradients into dst like Flatten (absent gradients as 0).
func (ps *Params) FlattenGrad(dst []float64) []float64 {
	dst = sizedDst(dst, ps.NumElements(), "FlattenGrad")
	o := 0
	for _, v := range ps.vars {
		if v.Grad == nil {
			clear(dst[o : o+len(v.Data)])
		} else {
			copy(dst[o:], v.Grad)
		}
		o += len(v.Data)
	}
	return dst
}

// SetFlat copies src (length NumElements) into the parameter values, the inverse of Flatten.
func (ps *Params) SetFlat(src []float64) {
	if len(src) != ps.NumElements() {
		panic(fmt.Sprintf("autodiff: SetFlat: have %d values, parameters hold %d", len(src), ps.NumElements()))
	}
	o := 0
	for _, v := range ps.vars {
		o += copy(v.Data, src[o:o+len(v.Data)])
	}
}

func sizedDst(dst []float64, n int, op string) []float64 {
	if dst == nil {
		return make([]float64, n)
	}
	if len(dst) != n {
		panic(fmt.Sprintf("autodiff: %s: dst has length %d, want %d", op, len(dst), n))
	}
	return dst
}

const paramsMagic = "NTEDSL-AD-PARAMS-v1\n"

// MarshalBinary encodes every parameter's name, shape and values (IEEE-754 bits, little
// endian) in registration order. The encoding is bit-exact and deterministic.
func (ps *Params) MarshalBinary() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(paramsMagic)
	var b8 [8]byte
	putU := func(u uint64) {
		binary.LittleEndian.PutUint64(b8[:], u)
		buf.Write(b8[:])
	}
	putU(uint64(len(ps.vars)))
	for i, v := range ps.vars {
		putU(uint64(len(ps.names[i])))
		buf.WriteString(ps.names[i])
		putU(uint64(len(v.Shape)))
		for _, d := range v.Shape {
			putU(uint64(d))
		}
		for _, x := range v.Data {
			putU(math.Float64bits(x))
		}
	}
	return buf.Bytes(), nil
}

// UnmarshalBinary loads values saved by MarshalBinary into the already registered
// parameters, matching them by name. It returns an error, and changes nothing, unless the
// data holds exactly the registered names with the same shapes.
func (ps *Params) UnmarshalBinary(data []byte) error {
	if !bytes.HasPrefix(data, []byte(paramsMagic)) {
		return fmt.Errorf("autodiff: parameter data does not start with %q: not a saved parameter set", paramsMagic[:len(paramsMagic)-1])
	}
	p := data[len(paramsMagic):]
	getU := func() (uint64, error) {
		if len(p) < 8 {
			return 0, fmt.Errorf("autodiff: parameter data truncated")
		}
		u := binary.LittleEndian.Uint64(p)
		p = p[8:]
		return u, nil
	}
	n, err := getU()
	if err != nil {
		return err
	}
	if n != uint64(len(ps.vars)) {
		return fmt.Errorf("autodiff: saved parameter set has %d tensors, the model has %d", n, len(ps.vars))
	}
	vals := make([][]float64, len(ps.vars))
	for k := uint64(0); k < n; k++ {
		ln, err := getU()
		if err != nil {
			return err
		}
		if uint64(len(p)) < ln {
			return fmt.Errorf("autodiff: parameter data truncated")
		}
		name := string(p[:ln])
		p = p[ln:]
		i, ok := ps.index[name]
		if !ok {
			return fmt.Errorf("autodiff: saved parameter %q does not exist in the model", name)
		}
		if vals[i] != nil {
			return fmt.Errorf("autodiff: saved parameter %q appears twice", name)
		}
		v := ps.vars[i]
		rank, err := getU()
		if err != nil {
			return err
		}
		if rank != uint64(len(v.Shape)) {
			return fmt.Errorf("autodiff: saved parameter %q has rank %d, the model's has shape %v", name, rank, v.Shape)
		}
		for _, d := range v.Shape {
			sd, err := getU()
			if err != nil {
				return err
			}
			if sd != uint64(d) {
				return fmt.Errorf("autodiff: saved parameter %q has a different shape than the model's %v", name, v.Shape)
			}
		}
		vals[i] = make([]float64, len(v.Data))
		for j := range vals[i] {
			u, err := getU()
			if err != nil {
				return err
			}
			vals[i][j] = math.Float64frombits(u)
		}
	}
	if len(p) != 0 {
		return fmt.Errorf("autodiff: %d trailing bytes after the saved parameters", len(p))
	}
	for i, v := range ps.vars {
		copy(v.Data, vals[i])
	}
	return nil
}
