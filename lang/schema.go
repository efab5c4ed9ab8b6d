package lang

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strings"

	"github.com/expr-lang/expr/parser"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// A node kind declares its attributes once, as a Go struct whose fields carry tags:
//
//	type Config struct {
//	    Data     lang.Ref  `attr:"data,required" accepts:"table" doc:"The table to learn from."`
//	    Folds    int       `attr:"folds" doc:"Number of cross-validation folds."`
//	    Protocol string    `attr:"protocol" enum:"A,B" doc:"..."`
//	    Where    lang.Expr `attr:"where" doc:"expr-lang filter evaluated per row."`
//	}
//
// The struct value given to SchemaOf is the prototype: every attribute a study leaves out
// takes the prototype's value, so defaults are declared in exactly one place. Supported
// field types are string, bool, int, float64, Ref, Expr, slices and string-keyed maps of
// those, and any type implementing AttrDecoder.

// AttrDecoder is implemented by configuration types that accept more than one HCL type
// (for example a truncation step that is either a step index or "auto").
type AttrDecoder interface {
	// DecodeAttr sets the receiver from v; the error text is shown at the attribute.
	DecodeAttr(v cty.Value) error
	// TypeName describes the accepted values for `ntedsl nodes`, e.g. `number or "auto"`.
	TypeName() string
}

// Validator is implemented by configuration structs that check relations between
// attributes after decoding. Returning an *AttrError points the diagnostic at that
// attribute; AttrErrors reports several at once.
type Validator interface {
	Validate() error
}

// AttrError is a configuration error attributable to one attribute.
type AttrError struct {
	Attr    string
	Summary string
	Detail  string
}

func (e *AttrError) Error() string { return e.Attr + ": " + e.Summary }

// AttrErrors is a list of attribute errors reported together.
type AttrErrors []*AttrError

func (e AttrErrors) Error() string {
	var s []string
	for _, x := range e {
		s = append(s, x.Error())
	}
	return strings.Join(s, "; ")
}

// Attr is one declared attribute of a node kind.
type Attr struct {
	Name     string
	Doc      string
	Required bool
	Enum     []string // allowed values of a string attribute
	Accepts  []string // value types a reference attribute accepts (empty: any)
	Type     cty.Type // the HCL type values are converted to
	TypeName string   // human form of Type
	Default  string   // the prototype's value as HCL text ("" when required or empty)
	// NamedRefs marks reference attributes whose referenced addresses appear in the node's
	// output (e.g. model labels in a results table); their addresses then enter the
	// canonical configuration next to the content digests. Tag: `key:"addr"`.
	NamedRefs bool

	field  int
	goType reflect.Type
}

// Schema is the attribute declaration of a node kind.
type Schema struct {
	Attrs  []*Attr
	byName map[string]*Attr
	proto  reflect.Value
}

var (
	refGoType  = reflect.TypeOf(Ref{})
	exprGoType = reflect.TypeOf(Expr{})
	decoderIf  = reflect.TypeOf((*AttrDecoder)(nil)).Elem()
)

// SchemaOf derives the schema of a configuration struct from its tags; proto holds the
// defaults. It panics on a malformed declaration, which is a programming error of the kind.
func SchemaOf(proto any) *Schema {
	rv := reflect.ValueOf(proto)
	if rv.Kind() != reflect.Struct {
		panic(fmt.Sprintf("lang.SchemaOf: prototype must be a struct, got %T", proto))
	}
	s := &Schema{byName: map[string]*Attr{}, proto: rv}
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		tag, ok := f.Tag.Lookup("attr")
		if !ok || tag == "-" {
			continue
		}
		parts := strings.Split(tag, ",")
		a := &Attr{Name: parts[0], Doc: f.Tag.Get("doc"), field: i, goType: f.Type}
		for _, opt := range parts[1:] {
			switch opt {
			case "required":
				a.Required = true
			default:
				panic(fmt.Sprintf("lang.SchemaOf: %s.%s: unknown tag option %q", rt.Name(), f.Name, opt))
			}
		}
		if e := f.Tag.Get("enum"); e != "" {
			a.Enum = strings.Split(e, ",")
		}
		if f.Tag.Get("key") == "addr" {
			a.NamedRefs = true
		}
		if e := f.Tag.Get("accepts"); e != "" {
			a.Accepts = strings.Split(e, ",")
		}
		ty, name, err := ctyTypeOf(f.Type)
		if err != nil {
			panic(fmt.Sprintf("lang.SchemaOf: %s.%s: %v", rt.Name(), f.Name, err))
		}
		a.Type, a.TypeName = ty, name
		if !a.Required {
			a.Default = defaultText(rv.Field(i))
		}
		if _, dup := s.byName[a.Name]; dup {
			panic(fmt.Sprintf("lang.SchemaOf: %s: attribute %q declared twice", rt.Name(), a.Name))
		}
		s.Attrs = append(s.Attrs, a)
		s.byName[a.Name] = a
	}
	return s
}

// Attr returns the named attribute.
func (s *Schema) Attr(name string) (*Attr, bool) {
	a, ok := s.byName[name]
	return a, ok
}

// Names returns the attribute names in declaration order.
func (s *Schema) Names() []string {
	out := make([]string, len(s.Attrs))
	for i, a := range s.Attrs {
		out[i] = a.Name
	}
	return out
}

// Default returns a copy of the prototype: the configuration of a block with no attributes.
func (s *Schema) Default() any { return s.newConfig().Elem().Interface() }

func (s *Schema) newConfig() reflect.Value {
	p := reflect.New(s.proto.Type())
	p.Elem().Set(s.proto)
	// Slices and maps of the prototype must not be shared between instances.
	for _, a := range s.Attrs {
		f := p.Elem().Field(a.field)
		switch f.Kind() {
		case reflect.Slice:
			if !f.IsNil() {
				c := reflect.MakeSlice(f.Type(), f.Len(), f.Len())
				reflect.Copy(c, f)
				f.Set(c)
			}
		case reflect.Map:
			if !f.IsNil() {
				c := reflect.MakeMapWithSize(f.Type(), f.Len())
				it := f.MapRange()
				for it.Next() {
					c.SetMapIndex(it.Key(), it.Value())
				}
				f.Set(c)
			}
		}
	}
	return p
}

func ctyTypeOf(t reflect.Type) (cty.Type, string, error) {
	if reflect.PointerTo(t).Implements(decoderIf) {
		d := reflect.New(t).Interface().(AttrDecoder)
		return cty.DynamicPseudoType, d.TypeName(), nil
	}
	switch t {
	case refGoType:
		return refType, "reference", nil
	case exprGoType:
		return cty.String, "expression (string)", nil
	}
	switch t.Kind() {
	case reflect.String:
		return cty.String, "string", nil
	case reflect.Bool:
		return cty.Bool, "bool", nil
	case reflect.Int, reflect.Int64:
		return cty.Number, "integer", nil
	case reflect.Float64:
		return cty.Number, "number", nil
	case reflect.Slice:
		et, en, err := ctyTypeOf(t.Elem())
		if err != nil {
			return cty.NilType, "", err
		}
		return cty.List(et), "list of " + plural(en), nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return cty.NilType, "", fmt.Errorf("map keys must be strings")
		}
		et, en, err := ctyTypeOf(t.Elem())
		if err != nil {
			return cty.NilType, "", err
		}
		return cty.Map(et), "map of " + plural(en), nil
	}
	return cty.NilType, "", fmt.Errorf("unsupported field type %s", t)
}

func plural(s string) string {
	switch {
	case strings.HasPrefix(s, "expression"):
		return "expressions (strings)"
	case strings.HasSuffix(s, "s"), strings.Contains(s, " "):
		return s
	}
	return s + "s"
}

func defaultText(v reflect.Value) string {
	if v.IsZero() && (v.Kind() == reflect.String || v.Kind() == reflect.Slice || v.Kind() == reflect.Map || v.Type() == refGoType || v.Type() == exprGoType) {
		return ""
	}
	if v.Type() == exprGoType {
		return fmt.Sprintf("%q", v.Interface().(Expr).Src)
	}
	if s, ok := v.Interface().(fmt.Stringer); ok {
		return s.String()
	}
	// Not json.Marshal: it escapes <, > and & for HTML, and defaults are read as text.
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v.Interface()); err != nil {
		return fmt.Sprint(v.Interface())
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// attrInput is one attribute as written in a block: its evaluated value and expression.
type attrInput struct {
	Value cty.Value
	Expr  hcl.Expression
	Range hcl.Range
	Ctx   *hcl.EvalContext
	// Unknown marks an attribute that is present but could not be evaluated (its error is
	// reported already): decode checks the other attributes and builds no configuration.
	Unknown bool
}

// decode builds a configuration from the attributes of one block instance. It returns a
// pointer to a new config struct, the references found, and diagnostics; blockRange is
// used for errors that belong to the block (missing required attributes).
func (s *Schema) decode(kind string, attrs map[string]attrInput, blockRange hcl.Range) (any, []Ref, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	cfg := s.newConfig()
	d := &decoder{}
	unknown := false
	for _, a := range s.Attrs {
		in, ok := attrs[a.Name]
		if in.Unknown {
			unknown = true
			continue
		}
		if !ok || in.Value.IsNull() {
			if a.Required {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Missing required argument",
					Detail:   strings.TrimSpace(fmt.Sprintf("The argument %q is required in a %s block. %s", a.Name, kind, a.Doc)),
					Subject:  blockRange.Ptr(),
				})
			}
			continue
		}
		val := in.Value
		if !a.Type.Equals(cty.DynamicPseudoType) {
			conv, err := convert.Convert(val, a.Type)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity:    hcl.DiagError,
					Summary:     "Incorrect attribute value type",
					Detail:      fmt.Sprintf("Inappropriate value for attribute %q: %s; expected %s.", a.Name, describeConvErr(err, val), a.TypeName),
					Subject:     in.Range.Ptr(),
					Expression:  in.Expr,
					EvalContext: in.Ctx,
				})
				continue
			}
			val = conv
		}
		if err := d.set(cfg.Elem().Field(a.field), val, in.Expr, in.Ctx, a); err != nil {
			diags = append(diags, err.diag(a, in))
		}
	}
	if diags.HasErrors() || unknown {
		return nil, nil, diags
	}
	if v, ok := cfg.Interface().(Validator); ok {
		if err := v.Validate(); err != nil {
			diags = append(diags, validationDiags(err, kind, attrs, blockRange)...)
		}
	}
	return cfg.Interface(), d.refs, diags
}

func describeConvErr(err error, v cty.Value) string {
	if v.Type().Equals(refType) {
		r, _ := refOf(v)
		return fmt.Sprintf("%s is a reference to a node, not a value", r.Addr)
	}
	if v.Type().IsCapsuleType() {
		return "a node reference is not allowed here"
	}
	return err.Error()
}

func validationDiags(err error, kind string, attrs map[string]attrInput, blockRange hcl.Range) hcl.Diagnostics {
	var list AttrErrors
	switch e := err.(type) {
	case hcl.Diagnostics:
		return e
	case *AttrError:
		list = AttrErrors{e}
	case AttrErrors:
		list = e
	default:
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid " + kind + " configuration", Detail: err.Error(), Subject: blockRange.Ptr()}}
	}
	var diags hcl.Diagnostics
	for _, e := range list {
		subj := blockRange
		if in, ok := attrs[e.Attr]; ok {
			subj = in.Range
		}
		detail := e.Detail
		if detail == "" {
			detail = fmt.Sprintf("The %q argument of this %s block: %s.", e.Attr, kind, e.Summary)
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for " + e.Attr + ": " + e.Summary, Detail: detail, Subject: subj.Ptr()})
	}
	return diags
}

type decodeErr struct {
	summary, detail string
	rng             *hcl.Range
}

func (e *decodeErr) diag(a *Attr, in attrInput) *hcl.Diagnostic {
	subj := in.Range
	if e.rng != nil {
		subj = *e.rng
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: e.summary, Detail: e.detail, Subject: &subj, Expression: in.Expr, EvalContext: in.Ctx}
}

type decoder struct {
	refs []Ref
}

// set stores a converted cty value into a Go field; expr is the expression the value came
// from (when known), used to give expressions and references inside lists and maps their
// own source ranges.
func (d *decoder) set(f reflect.Value, v cty.Value, expr hcl.Expression, ctx *hcl.EvalContext, a *Attr) *decodeErr {
	rng := hcl.Range{}
	if expr != nil {
		rng = expr.Range()
	}
	if f.CanAddr() && f.Addr().Type().Implements(decoderIf) {
		if err := f.Addr().Interface().(AttrDecoder).DecodeAttr(v); err != nil {
			return &decodeErr{summary: "Invalid value for " + a.Name, detail: err.Error()}
		}
		return nil
	}
	switch f.Type() {
	case refGoType:
		r, ok := refOf(v)
		if !ok {
			return &decodeErr{summary: "Expected a node reference", detail: fmt.Sprintf("The %q argument takes a reference to a node block, such as dataset.NAME.", a.Name), rng: rng.Ptr()}
		}
		if len(a.Accepts) > 0 && !contains(a.Accepts, r.Output) {
			return &decodeErr{
				summary: "Wrong kind of node",
				detail: fmt.Sprintf("The %q argument takes a node that produces a %s, but %s (a %s block) produces a %s.",
					a.Name, strings.Join(a.Accepts, " or "), r.Addr, r.Kind, r.Output),
				rng: rng.Ptr(),
			}
		}
		r.Range = rng
		d.refs = append(d.refs, r)
		f.Set(reflect.ValueOf(r))
		return nil
	case exprGoType:
		e := Expr{Src: v.AsString(), Range: rng}
		if _, err := parser.Parse(e.Src); err != nil && e.Src != "" {
			d := ExprDiag(e, err, "Invalid expression")
			return &decodeErr{summary: d.Summary, detail: d.Detail, rng: d.Subject}
		}
		f.Set(reflect.ValueOf(e))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		s := v.AsString()
		if len(a.Enum) > 0 && !contains(a.Enum, s) {
			detail := fmt.Sprintf("The %q argument must be one of %s.", a.Name, quoteList(a.Enum))
			if sug := Suggest(s, a.Enum); sug != "" {
				detail = fmt.Sprintf("Did you mean %q? ", sug) + detail
			}
			return &decodeErr{summary: fmt.Sprintf("Invalid value %q for %s", s, a.Name), detail: detail, rng: rng.Ptr()}
		}
		f.SetString(s)
	case reflect.Bool:
		f.SetBool(v.True())
	case reflect.Int, reflect.Int64:
		bf := v.AsBigFloat()
		i, acc := bf.Int64()
		if acc != big.Exact || !bf.IsInt() {
			return &decodeErr{summary: "Expected a whole number", detail: fmt.Sprintf("The %q argument must be an integer, got %s.", a.Name, bf.Text('g', 10)), rng: rng.Ptr()}
		}
		f.SetInt(i)
	case reflect.Float64:
		x, _ := v.AsBigFloat().Float64()
		if math.IsInf(x, 0) {
			return &decodeErr{summary: "Number out of range", detail: fmt.Sprintf("The %q argument is too large for a float64.", a.Name), rng: rng.Ptr()}
		}
		f.SetFloat(x)
	case reflect.Slice:
		n := v.LengthInt()
		s := reflect.MakeSlice(f.Type(), n, n)
		var elems []hcl.Expression
		if expr != nil {
			if es, diags := hcl.ExprList(expr); !diags.HasErrors() && len(es) == n {
				elems = es
			}
		}
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			_, ev := it.Element()
			var ee hcl.Expression = expr
			if elems != nil {
				ee = elems[i]
			}
			if err := d.set(s.Index(i), ev, ee, ctx, a); err != nil {
				return err
			}
		}
		f.Set(s)
	case reflect.Map:
		m := reflect.MakeMapWithSize(f.Type(), v.LengthInt())
		items := map[string]hcl.Expression{}
		if expr != nil {
			if kvs, diags := hcl.ExprMap(expr); !diags.HasErrors() {
				for _, kv := range kvs {
					if k, kd := kv.Key.Value(ctx); !kd.HasErrors() && k.Type() == cty.String && k.IsKnown() && !k.IsNull() {
						items[k.AsString()] = kv.Value
					}
				}
			}
		}
		for it := v.ElementIterator(); it.Next(); {
			kv, ev := it.Element()
			k := kv.AsString()
			ee, ok := items[k]
			if !ok {
				ee = expr
			}
			elem := reflect.New(f.Type().Elem()).Elem()
			if err := d.set(elem, ev, ee, ctx, a); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(k), elem)
		}
		f.Set(m)
	default:
		panic("lang: unsupported field kind " + f.Kind().String())
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// Canonical returns the canonical JSON encoding of a decoded configuration: attributes by
// name in sorted order, numbers in shortest round-trip form, expressions by their source,
// and each reference replaced by digest(ref) — the content digest of the referenced value —
// so that the encoding names no node and changes exactly when the configuration or an
// input's content changes.
func (s *Schema) Canonical(cfg any, digest func(Ref) string) []byte {
	rv := reflect.ValueOf(cfg)
	if rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	obj := map[string]any{}
	for _, a := range s.Attrs {
		obj[a.Name] = canonicalValue(rv.Field(a.field), digest, a.NamedRefs)
	}
	b, err := json.Marshal(obj)
	if err != nil {
		panic("lang: canonical encoding: " + err.Error())
	}
	return b
}

func canonicalValue(v reflect.Value, digest func(Ref) string, named bool) any {
	switch v.Type() {
	case refGoType:
		r := v.Interface().(Ref)
		switch {
		case r.Addr == "":
			return nil
		case digest == nil:
			return r.Addr
		case named:
			return map[string]string{"addr": r.Addr, "digest": digest(r)}
		}
		return digest(r)
	case exprGoType:
		return v.Interface().(Expr).Src
	}
	if m, ok := v.Interface().(json.Marshaler); ok {
		return m
	}
	switch v.Kind() {
	case reflect.Slice:
		if v.IsNil() {
			return []any{}
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = canonicalValue(v.Index(i), digest, named)
		}
		return out
	case reflect.Map:
		out := map[string]any{}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			out[k.String()] = canonicalValue(v.MapIndex(k), digest, named)
		}
		return out
	}
	return v.Interface()
}

// Refs lists the references held by a decoded configuration, in attribute order.
func (s *Schema) Refs(cfg any) []Ref {
	rv := reflect.ValueOf(cfg)
	if rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	var out []Ref
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch {
		case v.Type() == refGoType:
			if r := v.Interface().(Ref); r.Addr != "" {
				out = append(out, r)
			}
		case v.Kind() == reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		case v.Kind() == reflect.Map:
			keys := v.MapKeys()
			sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
			for _, k := range keys {
				walk(v.MapIndex(k))
			}
		}
	}
	for _, a := range s.Attrs {
		walk(rv.Field(a.field))
	}
	return out
}
