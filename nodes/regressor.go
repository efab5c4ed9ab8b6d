package nodes

import (
	"fmt"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/stdlib/ml"
)

// RegressorDef declares a regressor kind: a configuration struct C (its tags are the block's
// attributes, its value the defaults) and a constructor. Registering it makes `KIND "NAME"
// { ... }` a block whose value is a ModelSpec that evaluate, predict and reports accept.
type RegressorDef[C any] struct {
	Name    string
	Doc     string
	Version int // bump when the fitted model's behaviour changes
	// Defaults is the configuration of a block that sets no attributes.
	Defaults C
	// New builds an unfitted regressor; an error names the offending parameter. If C has
	// a Validate() error method it also runs when the study is loaded.
	New func(C) (ml.Regressor, error)
}

// ModelSpec is the value of a regressor block: which kind, which configuration, and a way
// to build the unfitted regressor. Its encoding is the kind, version and canonical
// configuration, so an evaluation's cache key changes exactly when a model's does.
type ModelSpec struct {
	Kind      string
	Version   int
	Config    []byte // canonical JSON of the configuration
	Regressor ml.Regressor
}

// TypeName implements Value.
func (m *ModelSpec) TypeName() string { return "model" }

// MarshalBinary implements Value.
func (m *ModelSpec) MarshalBinary() ([]byte, error) {
	return fmt.Appendf(nil, "ntedsl-model/1\n%s\n%d\n%s", m.Kind, m.Version, m.Config), nil
}

// RegisterRegressor adds a regressor kind to r.
func RegisterRegressor[C any](r *Registry, d RegressorDef[C]) *Kind {
	var schema *lang.Schema
	k := Register(r, Def[C]{
		Name:     d.Name,
		Doc:      d.Doc,
		Version:  d.Version,
		Output:   "model",
		Defaults: d.Defaults,
		Volatile: true,
		Run: func(c *Context, cfg *C) (Value, error) {
			reg, err := d.New(*cfg)
			if err != nil {
				return nil, err
			}
			return &ModelSpec{Kind: d.Name, Version: d.Version, Config: schema.Canonical(cfg, nil), Regressor: reg}, nil
		},
	})
	schema = k.Schema
	return k
}

// Models returns the model specs referenced by refs.
func (c *Context) Models(refs []lang.Ref) ([]*ModelSpec, error) {
	out := make([]*ModelSpec, len(refs))
	for i, r := range refs {
		m, ok := c.Input(r).(*ModelSpec)
		if !ok {
			return nil, fmt.Errorf("%s is not a regressor", r.Addr)
		}
		out[i] = m
	}
	return out, nil
}
