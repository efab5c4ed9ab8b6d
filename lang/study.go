package lang

import (
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// KindInfo is what the language needs to know about a node kind.
type KindInfo struct {
	Name   string
	Doc    string
	Schema *Schema
	Output string // the type of value the kind produces, e.g. "table"
}

// Catalog resolves block kinds; the node registry implements it.
type Catalog interface {
	Lookup(kind string) (*KindInfo, bool)
	Names() []string
}

// Options configure loading a study.
type Options struct {
	Catalog  Catalog
	Vars     []string // "-var name=value" assignments, in command-line order
	VarFiles []string // "-var-file" paths, applied before Vars
}

// Study is a loaded, fully decoded study: every node instance with its configuration and
// its edges, in a deterministic dependency order (each instance after everything it
// references).
type Study struct {
	Path        string
	Dir         string
	Name        string
	Description string
	Seed        uint64
	Files       map[string]*hcl.File
	Variables   map[string]cty.Value
	Blocks      []*Block    // node blocks in dependency order
	Instances   []*Instance // node instances in dependency order
}

// Block is one node block of the study file.
type Block struct {
	Kind      *KindInfo
	Name      string
	Addr      string // kind.name
	DefRange  hcl.Range
	ForEach   bool
	Instances []*Instance
}

// Instance is one node instance: a block, or one element of a block's for_each.
type Instance struct {
	Block  *Block
	Key    string // for_each key; "" when the block has no for_each
	Addr   string // kind.name or kind.name["key"]
	Config any    // pointer to the kind's decoded configuration struct
	Refs   []Ref  // the instances this one reads, in attribute order
	// Ranges holds the source range of each attribute set in the block (the block's
	// definition range under ""), so run-time errors can point at the attribute.
	Ranges map[string]hcl.Range
}

// Load reads and decodes the study file at path.
func Load(path string, opts Options) (*Study, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read study file", Detail: err.Error()}}
	}
	return LoadSource(path, src, opts)
}

// reserved block types that are not node kinds.
var reservedBlocks = []string{"study", "variable", "locals"}

// LoadSource decodes a study from source bytes; filename is used in diagnostics and to
// resolve relative paths.
func LoadSource(filename string, src []byte, opts Options) (*Study, hcl.Diagnostics) {
	l := &loader{
		opts:   opts,
		files:  map[string]*hcl.File{},
		vars:   map[string]cty.Value{},
		locals: map[string]*localDef{},
		blocks: map[string]*blockDef{},
	}
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	l.files[filename] = file
	if diags.HasErrors() {
		return &Study{Path: filename, Files: l.files}, diags
	}
	st := &Study{Path: filename, Dir: filepath.Dir(filename), Files: l.files, Seed: 1}
	body := file.Body.(*hclsyntax.Body)
	diags = append(diags, l.collect(body, st)...)
	diags = append(diags, l.resolveVariables()...)
	st.Variables = l.vars
	if l.study != nil {
		diags = append(diags, l.decodeStudy(st)...)
	}
	// Keep going after errors so that one run reports every problem it can find; vertices
	// with a bad reference are skipped, and so is whatever depends on them.
	order, failed, gdiags := l.order()
	diags = append(diags, gdiags...)
	for _, v := range order {
		// A vertex whose input failed is skipped without a message of its own: the
		// upstream diagnostic already explains the problem. A block whose only problem is
		// a bad reference of its own is still checked, attribute by attribute.
		_, isBlock := l.blocks[v]
		skip := failed[v] && !(isBlock && l.badRef[v])
		for _, e := range l.edges[v] {
			if failed[e.to] {
				skip = true
			}
		}
		if skip {
			failed[v] = true
			continue
		}
		if ld, ok := l.locals[v]; ok {
			d := l.evalLocal(ld)
			failed[v] = d.HasErrors()
			diags = append(diags, d...)
			continue
		}
		b := l.blocks[v]
		d, ok := l.evalBlock(b)
		diags = append(diags, d...)
		if ok {
			st.Blocks = append(st.Blocks, b.block)
			st.Instances = append(st.Instances, b.block.Instances...)
		}
		// A block whose instances are known can still be referred to, so the errors of
		// its users are reported too; only an unknown instance set stops them.
		failed[v] = b.value == cty.NilVal
	}
	return st, uniqueDiags(diags)
}

// uniqueDiags drops repeats of a diagnostic: the instances of a for_each block share their
// attribute expressions, so one mistake would otherwise be reported once per instance.
func uniqueDiags(diags hcl.Diagnostics) hcl.Diagnostics {
	seen := map[string]bool{}
	var out hcl.Diagnostics
	for _, d := range diags {
		subj := ""
		if d.Subject != nil {
			subj = d.Subject.String()
		}
		k := fmt.Sprint(d.Severity, "\x00", d.Summary, "\x00", d.Detail, "\x00", subj)
		if !seen[k] {
			seen[k] = true
			out = append(out, d)
		}
	}
	return out
}

type localDef struct {
	name string
	attr *hclsyntax.Attribute
	val  cty.Value
}

type blockDef struct {
	id    string
	kind  *KindInfo
	syn   *hclsyntax.Block
	block *Block
	value cty.Value // a Ref, or a map of Refs for for_each blocks
}

type edge struct {
	to  string
	rng hcl.Range
}

type loader struct {
	opts      Options
	files     map[string]*hcl.File
	study     *hclsyntax.Block
	variables []*hclsyntax.Block
	vars      map[string]cty.Value
	varsObj   cty.Value
	locals    map[string]*localDef
	blocks    map[string]*blockDef
	ids       []string // locals and blocks in file order
	edges     map[string][]edge
	// badRef marks vertices with a reference error of their own, and badExprs the
	// expressions holding one (reported by order; evalBlock skips them).
	badRef   map[string]bool
	badExprs map[hcl.Expression]bool
}

// collect sorts the top-level blocks into study, variables, locals and node blocks.
func (l *loader) collect(body *hclsyntax.Body, st *Study) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, a := range sortedAttrs(body.Attributes) {
		diags = append(diags, errorDiag("Unexpected argument",
			fmt.Sprintf("A study file holds only blocks (study, variable, locals and node blocks such as dataset \"NAME\" { ... }); %q cannot be set at the top level.", a.Name), a.NameRange))
	}
	seenVar := map[string]hcl.Range{}
	for _, b := range body.Blocks {
		switch b.Type {
		case "study":
			if len(b.Labels) != 0 {
				diags = append(diags, errorDiag("Unexpected label", "The study block takes no label: study { name = \"...\" }.", b.LabelRanges[0]))
				continue
			}
			if l.study != nil {
				diags = append(diags, errorDiag("Duplicate study block", fmt.Sprintf("A study has one study block; the first is at %s.", l.study.TypeRange), b.TypeRange))
				continue
			}
			l.study = b
		case "variable":
			if len(b.Labels) != 1 {
				diags = append(diags, errorDiag("Missing variable name", "Write a variable block as variable \"NAME\" { default = ... }.", b.TypeRange))
				continue
			}
			if r, dup := seenVar[b.Labels[0]]; dup {
				diags = append(diags, errorDiag("Duplicate variable", fmt.Sprintf("Variable %q was already declared at %s.", b.Labels[0], r), b.LabelRanges[0]))
				continue
			}
			if !hclsyntax.ValidIdentifier(b.Labels[0]) {
				diags = append(diags, errorDiag("Invalid variable name", "A variable name must be an identifier (letters, digits, underscores, dashes).", b.LabelRanges[0]))
				continue
			}
			seenVar[b.Labels[0]] = b.LabelRanges[0]
			l.variables = append(l.variables, b)
		case "locals":
			if len(b.Labels) != 0 {
				diags = append(diags, errorDiag("Unexpected label", "The locals block takes no label.", b.LabelRanges[0]))
				continue
			}
			for _, blk := range b.Body.Blocks {
				diags = append(diags, errorDiag("Unexpected block", "A locals block holds only attributes.", blk.TypeRange))
			}
			for _, a := range sortedAttrs(b.Body.Attributes) {
				id := "local." + a.Name
				if prev, dup := l.locals[id]; dup {
					diags = append(diags, errorDiag("Duplicate local value", fmt.Sprintf("local.%s was already defined at %s.", a.Name, prev.attr.NameRange), a.NameRange))
					continue
				}
				l.locals[id] = &localDef{name: a.Name, attr: a}
				l.ids = append(l.ids, id)
			}
		default:
			kind, ok := l.opts.Catalog.Lookup(b.Type)
			if !ok {
				names := append(append([]string{}, l.opts.Catalog.Names()...), reservedBlocks...)
				diags = append(diags, errorDiag("Unknown block kind",
					didYouMean(fmt.Sprintf("There is no node kind %q. The kinds are: %s.", b.Type, strings.Join(l.opts.Catalog.Names(), ", ")), b.Type, names), b.TypeRange))
				continue
			}
			if len(b.Labels) != 1 {
				diags = append(diags, errorDiag("Missing block name", fmt.Sprintf("A %s block needs exactly one name: %s \"NAME\" { ... }.", b.Type, b.Type), b.TypeRange))
				continue
			}
			name := b.Labels[0]
			if !hclsyntax.ValidIdentifier(name) {
				diags = append(diags, errorDiag("Invalid block name", "A block name must be an identifier (letters, digits, underscores, dashes) so it can be referenced as "+b.Type+".NAME.", b.LabelRanges[0]))
				continue
			}
			id := b.Type + "." + name
			if prev, dup := l.blocks[id]; dup {
				diags = append(diags, errorDiag("Duplicate block", fmt.Sprintf("%s is already defined at %s.", id, prev.syn.DefRange()), b.LabelRanges[0]))
				continue
			}
			for _, blk := range b.Body.Blocks {
				diags = append(diags, errorDiag("Unexpected block", fmt.Sprintf("A %s block holds only attributes; nested blocks such as %q are not part of the language.", b.Type, blk.Type), blk.TypeRange))
			}
			l.blocks[id] = &blockDef{id: id, kind: kind, syn: b}
			l.ids = append(l.ids, id)
		}
	}
	return diags
}

func sortedAttrs(m hclsyntax.Attributes) []*hclsyntax.Attribute {
	out := make([]*hclsyntax.Attribute, 0, len(m))
	for _, a := range m {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SrcRange.Start.Byte < out[j].SrcRange.Start.Byte })
	return out
}

// funcCtx is an evaluation context with functions and no variables.
func funcCtx() *hcl.EvalContext { return &hcl.EvalContext{Functions: functions} }

// resolveVariables evaluates variable declarations, then applies -var-file and -var.
func (l *loader) resolveVariables() hcl.Diagnostics {
	var diags hcl.Diagnostics
	types := map[string]cty.Type{}
	decl := map[string]*hclsyntax.Block{}
	var names []string
	for _, b := range l.variables {
		name := b.Labels[0]
		names = append(names, name)
		decl[name] = b
		ty := cty.DynamicPseudoType
		for _, a := range sortedAttrs(b.Body.Attributes) {
			switch a.Name {
			case "type":
				t, d := typeexpr.TypeConstraint(a.Expr)
				diags = append(diags, d...)
				if !d.HasErrors() {
					ty = t
				}
			case "default", "description":
			default:
				diags = append(diags, errorDiag("Unsupported argument", didYouMean(fmt.Sprintf("A variable block takes type, default and description; %q is not one of them.", a.Name), a.Name, []string{"type", "default", "description"}), a.NameRange))
			}
		}
		types[name] = ty
		if a, ok := b.Body.Attributes["default"]; ok {
			for _, tr := range a.Expr.Variables() {
				diags = append(diags, errorDiag("Reference in a variable default", "A variable's default must be a constant; it cannot refer to "+traversalString(tr)+".", tr.SourceRange()))
			}
			v, d := a.Expr.Value(funcCtx())
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			if ty != cty.DynamicPseudoType {
				cv, err := convert.Convert(v, ty)
				if err != nil {
					diags = append(diags, errorDiag("Invalid default value", fmt.Sprintf("The default of variable %q does not match its type %s: %s.", name, typeexpr.TypeString(ty), err), a.Expr.Range()))
					continue
				}
				v = cv
			} else {
				types[name] = v.Type()
			}
			l.vars[name] = v
		}
	}
	set := func(name string, v cty.Value, rng *hcl.Range, origin string) {
		if _, ok := decl[name]; !ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Undeclared variable",
				Detail: didYouMean(fmt.Sprintf("%s sets %q, but the study declares no such variable.", origin, name), name, names), Subject: rng})
			return
		}
		ty := types[name]
		if ty != cty.DynamicPseudoType {
			cv, err := convert.Convert(v, ty)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
					Detail: fmt.Sprintf("%s sets %q to a value that is not a %s: %s.", origin, name, typeexpr.TypeString(ty), err), Subject: rng})
				return
			}
			v = cv
		}
		l.vars[name] = v
	}
	for _, path := range l.opts.VarFiles {
		src, err := os.ReadFile(path)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read variable file", Detail: err.Error()})
			continue
		}
		f, d := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
		l.files[path] = f
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		attrs, d := f.Body.JustAttributes()
		diags = append(diags, d...)
		list := make([]*hcl.Attribute, 0, len(attrs))
		for _, a := range attrs {
			list = append(list, a)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Range.Start.Byte < list[j].Range.Start.Byte })
		for _, a := range list {
			v, d := a.Expr.Value(funcCtx())
			diags = append(diags, d...)
			if !d.HasErrors() {
				set(a.Name, v, a.NameRange.Ptr(), "The variable file "+path)
			}
		}
	}
	for _, kv := range l.opts.Vars {
		name, raw, ok := strings.Cut(kv, "=")
		if !ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid -var option", Detail: fmt.Sprintf("%q is not of the form NAME=VALUE.", kv)})
			continue
		}
		name = strings.TrimSpace(name)
		ty, known := types[name]
		var v cty.Value
		if known && !ty.IsPrimitiveType() && ty != cty.DynamicPseudoType {
			// Collections are written as HCL expressions: -var 'betas=[0.005, 0.01]'.
			e, d := hclsyntax.ParseExpression([]byte(raw), "-var "+name, hcl.InitialPos)
			if d.HasErrors() {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid -var value", Detail: fmt.Sprintf("-var %s: %s", name, d.Error())})
				continue
			}
			v, d = e.Value(funcCtx())
			if d.HasErrors() {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid -var value", Detail: fmt.Sprintf("-var %s: %s", name, d.Error())})
				continue
			}
		} else {
			v = cty.StringVal(raw)
		}
		set(name, v, nil, "-var")
	}
	for _, name := range names {
		if _, ok := l.vars[name]; !ok {
			diags = append(diags, errorDiag("Variable has no value",
				fmt.Sprintf("Variable %q has no default; give it one, or set it with -var %s=VALUE or a -var-file.", name, name), decl[name].LabelRanges[0]))
			l.vars[name] = cty.DynamicVal
		}
	}
	obj := map[string]cty.Value{}
	for k, v := range l.vars {
		obj[k] = v
	}
	l.varsObj = cty.ObjectVal(obj)
	return diags
}

func (l *loader) decodeStudy(st *Study) hcl.Diagnostics {
	var diags hcl.Diagnostics
	ctx := &hcl.EvalContext{Functions: functions, Variables: map[string]cty.Value{"var": l.varsObj}}
	for _, a := range sortedAttrs(l.study.Body.Attributes) {
		for _, tr := range a.Expr.Variables() {
			if tr.RootName() != "var" {
				diags = append(diags, errorDiag("Invalid reference", "The study block can refer only to variables (var.NAME).", tr.SourceRange()))
			}
		}
		if diags.HasErrors() {
			continue
		}
		v, d := a.Expr.Value(ctx)
		diags = append(diags, d...)
		if d.HasErrors() || v.IsNull() {
			continue
		}
		switch a.Name {
		case "name", "description":
			sv, err := convert.Convert(v, cty.String)
			if err != nil {
				diags = append(diags, errorDiag("Incorrect attribute value type", fmt.Sprintf("The study %s must be a string.", a.Name), a.Expr.Range()))
				continue
			}
			if a.Name == "name" {
				st.Name = sv.AsString()
			} else {
				st.Description = sv.AsString()
			}
		case "seed":
			nv, err := convert.Convert(v, cty.Number)
			var u uint64
			var acc big.Accuracy = big.Below
			if err == nil {
				u, acc = nv.AsBigFloat().Uint64()
			}
			if err != nil || acc != big.Exact {
				diags = append(diags, errorDiag("Invalid seed", "The study seed must be a whole number between 0 and 2^64−1.", a.Expr.Range()))
				continue
			}
			st.Seed = u
		default:
			diags = append(diags, errorDiag("Unsupported argument", didYouMean(fmt.Sprintf("The study block takes name, seed and description; %q is not one of them.", a.Name), a.Name, []string{"name", "seed", "description"}), a.NameRange))
		}
	}
	for _, blk := range l.study.Body.Blocks {
		diags = append(diags, errorDiag("Unexpected block", "The study block holds only attributes.", blk.TypeRange))
	}
	if st.Name == "" {
		st.Name = strings.TrimSuffix(filepath.Base(st.Path), filepath.Ext(st.Path))
	}
	return diags
}

func traversalString(tr hcl.Traversal) string {
	var sb strings.Builder
	for i, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			sb.WriteString(s.Name)
		case hcl.TraverseAttr:
			sb.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			if s.Key.Type() == cty.String && s.Key.IsKnown() {
				sb.WriteString("[" + strconv.Quote(s.Key.AsString()) + "]")
			} else {
				sb.WriteString("[…]")
			}
		default:
			if i == 0 {
				sb.WriteString("?")
			}
		}
	}
	return sb.String()
}

// expressions returns every expression that belongs to a graph vertex.
func (l *loader) expressions(id string) []hcl.Expression {
	if ld, ok := l.locals[id]; ok {
		return []hcl.Expression{ld.attr.Expr}
	}
	b := l.blocks[id]
	var out []hcl.Expression
	for _, a := range sortedAttrs(b.syn.Body.Attributes) {
		out = append(out, a.Expr)
	}
	return out
}

// order checks every reference, builds the graph of locals and blocks, and returns the
// vertices in a deterministic topological order (file order among independent ones).
func (l *loader) order() ([]string, map[string]bool, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	bad := map[string]bool{}
	l.edges = map[string][]edge{}
	l.badRef, l.badExprs = map[string]bool{}, map[hcl.Expression]bool{}
	byKind := map[string][]string{}
	for id, b := range l.blocks {
		byKind[b.kind.Name] = append(byKind[b.kind.Name], b.syn.Labels[0])
		_ = id
	}
	var localNames []string
	for _, ld := range l.locals {
		localNames = append(localNames, ld.name)
	}
	varNames := make([]string, 0, len(l.vars))
	for k := range l.vars {
		varNames = append(varNames, k)
	}
	for _, id := range l.ids {
		var forEach *hclsyntax.Attribute
		if b, ok := l.blocks[id]; ok {
			forEach = b.syn.Body.Attributes["for_each"]
		}
		seen := map[string]bool{}
		for _, expr := range l.expressions(id) {
			inForEach := forEach != nil && expr == forEach.Expr
			for _, tr := range expr.Variables() {
				to, d := l.checkTraversal(id, tr, forEach != nil && !inForEach, byKind, localNames, varNames)
				diags = append(diags, d...)
				if d.HasErrors() {
					bad[id] = true
					l.badRef[id] = true
					l.badExprs[expr] = true
				}
				if to != "" && !seen[to] {
					seen[to] = true
					l.edges[id] = append(l.edges[id], edge{to: to, rng: tr.SourceRange()})
				}
			}
		}
	}
	// Depth-first topological sort; a back edge is a cycle, reported block by block.
	const (
		white = iota
		grey
		black
	)
	state := map[string]int{}
	var out []string
	var stack []string
	var stackEdges []edge
	var visit func(id string)
	visit = func(id string) {
		state[id] = grey
		stack = append(stack, id)
		for _, e := range l.edges[id] {
			switch state[e.to] {
			case grey:
				// Report the cycle, mark its members so they are not evaluated, and keep
				// sorting the rest so their errors are reported too.
				diags = append(diags, l.cycleDiag(stack, stackEdges, e))
				for i := len(stack) - 1; i >= 0; i-- {
					bad[stack[i]] = true
					if stack[i] == e.to {
						break
					}
				}
			case white:
				stackEdges = append(stackEdges, e)
				visit(e.to)
				stackEdges = stackEdges[:len(stackEdges)-1]
			}
		}
		stack = stack[:len(stack)-1]
		state[id] = black
		out = append(out, id)
	}
	for _, id := range l.ids {
		if state[id] == white {
			stack, stackEdges = stack[:0], stackEdges[:0]
			visit(id)
		}
	}
	return out, bad, diags
}

func (l *loader) cycleDiag(stack []string, stackEdges []edge, back edge) *hcl.Diagnostic {
	start := 0
	for i, id := range stack {
		if id == back.to {
			start = i
		}
	}
	var lines []string
	path := stack[start:]
	edges := append(append([]edge{}, stackEdges[start:]...), back)
	for i, id := range path {
		next := path[(i+1)%len(path)]
		lines = append(lines, fmt.Sprintf("  %s refers to %s at %s", id, next, edges[i].rng))
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Dependency cycle",
		Detail:   "These blocks depend on each other in a circle, so none of them can run first:\n" + strings.Join(lines, "\n") + "\nBreak the cycle by removing one of these references.",
		Subject:  back.rng.Ptr(),
	}
}

// checkTraversal validates one reference and returns the vertex it creates an edge to.
func (l *loader) checkTraversal(from string, tr hcl.Traversal, eachOK bool, byKind map[string][]string, localNames, varNames []string) (string, hcl.Diagnostics) {
	root := tr.RootName()
	rng := tr.SourceRange()
	attrName := func() (string, hcl.Range, bool) {
		if len(tr) < 2 {
			return "", rng, false
		}
		if a, ok := tr[1].(hcl.TraverseAttr); ok {
			return a.Name, a.SrcRange, true
		}
		return "", rng, false
	}
	switch root {
	case "var":
		name, r, ok := attrName()
		if !ok {
			return "", hcl.Diagnostics{errorDiag("Invalid reference", "Refer to a variable as var.NAME.", rng)}
		}
		if _, ok := l.vars[name]; !ok {
			return "", hcl.Diagnostics{errorDiag("Unknown variable", didYouMean(fmt.Sprintf("There is no variable %q; declare it with variable %q { default = ... }.", name, name), name, varNames), r)}
		}
		return "", nil
	case "local":
		name, r, ok := attrName()
		if !ok {
			return "", hcl.Diagnostics{errorDiag("Invalid reference", "Refer to a local value as local.NAME.", rng)}
		}
		id := "local." + name
		if _, ok := l.locals[id]; !ok {
			return "", hcl.Diagnostics{errorDiag("Unknown local value", didYouMean(fmt.Sprintf("There is no local value %q.", name), name, localNames), r)}
		}
		return id, nil
	case "each":
		if !eachOK {
			return "", hcl.Diagnostics{errorDiag("each is not available here", "each.key and each.value exist only inside a block that has a for_each argument (and not in the for_each itself).", rng)}
		}
		name, r, ok := attrName()
		if !ok || (name != "key" && name != "value") {
			return "", hcl.Diagnostics{errorDiag("Invalid each reference", didYouMean("Use each.key or each.value.", name, []string{"key", "value"}), r)}
		}
		return "", nil
	}
	if _, isKind := l.opts.Catalog.Lookup(root); isKind {
		name, r, ok := attrName()
		if !ok {
			return "", hcl.Diagnostics{errorDiag("Invalid reference", fmt.Sprintf("Refer to a %s block as %s.NAME.", root, root), rng)}
		}
		id := root + "." + name
		if _, ok := l.blocks[id]; !ok {
			detail := fmt.Sprintf("There is no %s block named %q.", root, name)
			return "", hcl.Diagnostics{errorDiag("Reference to undeclared block", didYouMean(detail, name, byKind[root]), r)}
		}
		if id == from {
			return "", hcl.Diagnostics{errorDiag("Self reference", fmt.Sprintf("%s cannot refer to itself.", id), rng)}
		}
		return id, nil
	}
	cands := append([]string{"var", "local", "each"}, l.opts.Catalog.Names()...)
	return "", hcl.Diagnostics{errorDiag("Unknown reference",
		didYouMean(fmt.Sprintf("%q is not a variable (var.NAME), a local value (local.NAME), each.key/each.value, or a node block (KIND.NAME).", root), root, cands), tr[0].SourceRange())}
}

// ctxFor builds the evaluation context of a vertex: only the values it refers to.
func (l *loader) ctxFor(id string) *hcl.EvalContext {
	vars := map[string]cty.Value{"var": l.varsObj}
	locals := map[string]cty.Value{}
	kinds := map[string]map[string]cty.Value{}
	for _, e := range l.edges[id] {
		if ld, ok := l.locals[e.to]; ok {
			locals[ld.name] = ld.val
			continue
		}
		b := l.blocks[e.to]
		if kinds[b.kind.Name] == nil {
			kinds[b.kind.Name] = map[string]cty.Value{}
		}
		kinds[b.kind.Name][b.syn.Labels[0]] = b.value
	}
	vars["local"] = cty.ObjectVal(locals)
	for k, m := range kinds {
		vars[k] = cty.ObjectVal(m)
	}
	return &hcl.EvalContext{Variables: vars, Functions: functions}
}

func (l *loader) evalLocal(ld *localDef) hcl.Diagnostics {
	v, diags := ld.attr.Expr.Value(l.ctxFor("local." + ld.name))
	if diags.HasErrors() {
		return diags
	}
	ld.val = v
	return diags
}

// evalBlock decodes the instances of a block. It checks every attribute it can, so that one
// run reports all of a block's problems, and reports ok only when every instance decoded.
func (l *loader) evalBlock(bd *blockDef) (diags hcl.Diagnostics, ok bool) {
	kind := bd.kind
	name := bd.syn.Labels[0]
	b := &Block{Kind: kind, Name: name, Addr: bd.id, DefRange: bd.syn.DefRange()}
	bd.block = b
	ctx := l.ctxFor(bd.id)

	attrs := map[string]*hclsyntax.Attribute{}
	unsupported := false
	for _, a := range sortedAttrs(bd.syn.Body.Attributes) {
		if a.Name == "for_each" {
			continue
		}
		if _, ok := kind.Schema.Attr(a.Name); !ok {
			diags = append(diags, errorDiag("Unsupported argument",
				didYouMean(fmt.Sprintf("A %s block has no argument %q (see `ntedsl nodes %s`).", kind.Name, a.Name, kind.Name), a.Name, kind.Schema.Names()), a.NameRange))
			unsupported = true
			continue
		}
		attrs[a.Name] = a
	}
	ok = !unsupported && !l.badRef[bd.id]

	type inst struct {
		key  string
		each cty.Value
	}
	var insts []inst
	if fe, found := bd.syn.Body.Attributes["for_each"]; found {
		b.ForEach = true
		if l.badExprs[fe.Expr] {
			return diags, false
		}
		v, d := fe.Expr.Value(ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			return diags, false
		}
		ty := v.Type()
		switch {
		case v.IsNull():
			return append(diags, errorDiag("Invalid for_each", "for_each is null; it must be a map or a set of strings.", fe.Expr.Range())), false
		case ty.IsMapType() || ty.IsObjectType():
			for it := v.ElementIterator(); it.Next(); {
				k, ev := it.Element()
				insts = append(insts, inst{key: k.AsString(), each: cty.ObjectVal(map[string]cty.Value{"key": k, "value": ev})})
			}
		case ty.IsSetType():
			if !ty.ElementType().Equals(cty.String) {
				return append(diags, errorDiag("Invalid for_each", "A set given to for_each must hold strings, which become the instance keys.", fe.Expr.Range())), false
			}
			for it := v.ElementIterator(); it.Next(); {
				_, ev := it.Element()
				if ev.IsNull() {
					return append(diags, errorDiag("Invalid for_each", "The for_each set contains null.", fe.Expr.Range())), false
				}
				insts = append(insts, inst{key: ev.AsString(), each: cty.ObjectVal(map[string]cty.Value{"key": ev, "value": ev})})
			}
		default:
			return append(diags, errorDiag("Invalid for_each",
				fmt.Sprintf("for_each must be a map, an object or a set of strings, not a %s; for a list of strings use toset([...]).", ty.FriendlyName()), fe.Expr.Range())), false
		}
	} else {
		insts = []inst{{}}
	}

	refs := map[string]cty.Value{}
	for _, in := range insts {
		addr := bd.id
		if b.ForEach {
			addr = bd.id + "[" + strconv.Quote(in.key) + "]"
		}
		ictx := ctx
		if b.ForEach {
			ictx = ctx.NewChild()
			ictx.Variables = map[string]cty.Value{"each": in.each}
		}
		inputs := map[string]attrInput{}
		for _, a := range sortedAttrs(attrs) {
			if l.badExprs[a.Expr] {
				inputs[a.Name] = attrInput{Unknown: true}
				continue
			}
			v, d := a.Expr.Value(ictx)
			diags = append(diags, d...)
			if d.HasErrors() {
				inputs[a.Name] = attrInput{Unknown: true}
				continue
			}
			inputs[a.Name] = attrInput{Value: v, Expr: a.Expr, Range: a.Expr.Range(), Ctx: ictx}
		}
		refs[in.key] = refVal(Ref{Addr: addr, Kind: kind.Name, Output: kind.Output})
		cfg, rs, d := kind.Schema.decode(kind.Name, inputs, bd.syn.DefRange())
		if unsupported {
			// A misspelt argument would also read as a missing required one: say it once.
			d = dropSummary(d, "Missing required argument")
		}
		diags = append(diags, d...)
		if d.HasErrors() || cfg == nil {
			ok = false
			continue
		}
		ranges := map[string]hcl.Range{"": bd.syn.DefRange()}
		for name, a := range attrs {
			ranges[name] = a.Expr.Range()
		}
		instance := &Instance{Block: b, Key: in.key, Addr: addr, Config: cfg, Refs: rs, Ranges: ranges}
		b.Instances = append(b.Instances, instance)
	}
	if b.ForEach {
		if len(refs) == 0 {
			bd.value = cty.MapValEmpty(refType)
		} else {
			bd.value = cty.MapVal(refs)
		}
	} else {
		bd.value = refs[""]
	}
	return diags, ok && !diags.HasErrors()
}

func dropSummary(diags hcl.Diagnostics, summary string) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, d := range diags {
		if d.Summary != summary {
			out = append(out, d)
		}
	}
	return out
}
