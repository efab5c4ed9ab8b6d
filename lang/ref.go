package lang

import (
	"fmt"
	"reflect"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Ref is a reference from one node instance's configuration to another node instance, such
// as `dataset.nte` or `csdi.icr["b005"]`. It is an edge of the study graph; at run time the
// node reads the referenced instance's value through it.
type Ref struct {
	Addr   string    // address of the referenced instance, e.g. `csdi.icr["b005"]`
	Kind   string    // kind of the referenced block
	Output string    // the value type the referenced kind produces (e.g. "table")
	Range  hcl.Range // where the reference was written (filled when decoded)
}

func (r Ref) String() string { return r.Addr }

// refType is the cty capsule type that carries a node reference through HCL expressions,
// so that lists, maps, merge(), for_each and indexing work on references like on any value.
var refType = cty.CapsuleWithOps("node reference", reflect.TypeOf(Ref{}), &cty.CapsuleOps{
	GoString:     func(v interface{}) string { return fmt.Sprintf("lang.Ref(%q)", v.(*Ref).Addr) },
	TypeGoString: func(reflect.Type) string { return "lang.RefType" },
	Equals: func(a, b interface{}) cty.Value {
		return cty.BoolVal(a.(*Ref).Addr == b.(*Ref).Addr)
	},
	RawEquals: func(a, b interface{}) bool { return a.(*Ref).Addr == b.(*Ref).Addr },
})

// RefType is the cty type of a node reference.
func RefType() cty.Type { return refType }

func refVal(r Ref) cty.Value { return cty.CapsuleVal(refType, &r) }

// refOf returns the reference held by v, if v is a known, non-null node reference.
func refOf(v cty.Value) (Ref, bool) {
	if !v.IsKnown() || v.IsNull() || !v.Type().Equals(refType) {
		return Ref{}, false
	}
	return *v.EncapsulatedValue().(*Ref), true
}

// Expr is an expr-lang program written as a string in a study file, kept with its source
// range so compile errors point at the right place. It is compiled by the node that uses
// it, against the typed environment only that node knows (see CompileExpr).
type Expr struct {
	Src   string
	Range hcl.Range // range of the string literal, quotes included
}

// IsZero reports whether no expression was given.
func (e Expr) IsZero() bool { return e.Src == "" }
