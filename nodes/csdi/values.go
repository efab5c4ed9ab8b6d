package csdi

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/ntedsl/ntedsl/nodes"
	"github.com/ntedsl/ntedsl/stdlib/diffusion"
)

// Value type names of the memoized sub-results (registered with decoders by Register).
const (
	modelType  = "csdi_model"
	sweepType  = "csdi_sweep"
	valuesType = "csdi_values"
)

// ModelValue is a trained model as a cacheable value (Context.Memo).
type ModelValue struct{ *Model }

// TypeName implements nodes.Value.
func (v ModelValue) TypeName() string { return modelType }

func decodeModelValue(b []byte) (nodes.Value, error) {
	m, err := DecodeModel(b)
	if err != nil {
		return nil, err
	}
	return ModelValue{m}, nil
}

// Curves is the part of a truncation sweep kept for reports and diagnostics (standardized
// units): per grid step t the displacement D(t) = mean_i (ỹ_i^reg(t) − ỹ_i)², its
// denoised-minus-noised version, the second differences H over t and over log λ_t, and what
// they select (csdi_icr.md §2.5).
type Curves struct {
	Grid                  []int
	LogSNR                []float64
	D, DNoised            []float64
	H, HLogSNR            []float64
	TStar                 int // argmax of H over t (the rule)
	TStarLogSNR           int // argmax of H over log λ
	Inflection, Budget    int // -1 when none
	InflectionAt, BudgetC float64
}

func curvesOf(sel *diffusion.Selection) *Curves {
	return &Curves{
		Grid: sel.Grid, LogSNR: sel.LogSNR, D: sel.D, DNoised: sel.DNoised,
		H: sel.Index.H, HLogSNR: sel.LogSNRCurv.H, TStar: sel.TStar, TStarLogSNR: sel.LogSNRCurv.ArgMax,
		Inflection: sel.Index.Inflection, InflectionAt: sel.Index.InflectionAt, Budget: sel.Budget, BudgetC: sel.C,
	}
}

// at returns the curves' D at grid step t, or NaN.
func (c *Curves) at(t int) float64 {
	for g, x := range c.Grid {
		if x == t {
			return c.D[g]
		}
	}
	return math.NaN()
}

// sweepValue is a memoized t* selection: the curves and the ICR outputs of the selection's
// rows at the selected t* (standardized, [row][dim]).
type sweepValue struct {
	Curves *Curves
	Reg    []float64
}

func (v *sweepValue) TypeName() string { return sweepType }

// sweepWire is sweepValue without methods: gob would call MarshalBinary on the value itself.
type sweepWire struct {
	Curves *Curves
	Reg    []float64
}

func (v *sweepValue) MarshalBinary() ([]byte, error) {
	return nodes.GobEncode(sweepWire{v.Curves, v.Reg})
}

func decodeSweepValue(b []byte) (nodes.Value, error) {
	var w sweepWire
	if err := nodes.GobDecode(b, &w); err != nil {
		return nil, err
	}
	return &sweepValue{Curves: w.Curves, Reg: w.Reg}, nil
}

// valuesValue is a memoized vector of regularized values.
type valuesValue struct{ X []float64 }

func (v *valuesValue) TypeName() string { return valuesType }

func (v *valuesValue) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 8*len(v.X))
	for _, x := range v.X {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b, nil
}

func decodeValuesValue(b []byte) (nodes.Value, error) {
	if len(b)%8 != 0 {
		return nil, errors.New("csdi: corrupt value vector")
	}
	v := &valuesValue{X: make([]float64, len(b)/8)}
	for i := range v.X {
		v.X[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v, nil
}
