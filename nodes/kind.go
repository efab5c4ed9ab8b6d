package nodes

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/stdlib/table"
)

// Value is the immutable result of a node instance. MarshalBinary must be deterministic:
// equal values give equal bytes, because the bytes are what the cache stores and what the
// content digest (and so every downstream cache key) is computed from.
type Value interface {
	TypeName() string
	MarshalBinary() ([]byte, error)
}

// GobEncode encodes v with encoding/gob, the usual MarshalBinary of a Value: deterministic
// for values without maps, and float64s keep their bits. Encode a method-less copy of the
// value's type (type wire T), or gob calls MarshalBinary again.
func GobEncode(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// GobDecode decodes what GobEncode wrote into v (a pointer).
func GobDecode(data []byte, v any) error {
	return gob.NewDecoder(bytes.NewReader(data)).Decode(v)
}

// Artifacter is implemented by values that write result files to the output folder. The
// map's keys are file-name suffixes (".csv", "_folds.csv", ".svg"); each file is named
// <instance><suffix>. A plain map keeps stdlib value types free of any nodes import.
type Artifacter interface {
	Artifacts() (map[string][]byte, error)
}

// Summarizer is implemented by values with a short human-readable summary (a results
// table) that the command line prints after a run.
type Summarizer interface {
	Summary() string
}

// Kind is a registered node kind.
type Kind struct {
	Name    string
	Doc     string
	Version int    // bump whenever behaviour changes: it is part of every cache key
	Output  string // TypeName of the values Run returns
	Schema  *lang.Schema
	// Seeded kinds draw random numbers from their node stream (Context.Rand); the stream's
	// seed then enters the cache key. Unseeded kinds are keyed without it, so renaming
	// such a node keeps its cache entry.
	Seeded bool
	// StudySeeded kinds draw random numbers from streams derived from the study seed
	// alone (Context.StudySeed), not from the instance address — evaluate does, so every
	// evaluation of a study uses the same folds and comparisons between them are paired.
	// The study seed then enters the cache key.
	StudySeeded bool
	// Volatile kinds are cheap and always recomputed instead of cached (model specs).
	Volatile bool
	run      func(*Context, any) (Value, error)
	sources  func(cfg any, studyDir string) map[string]string
}

// Sources returns what an instance with this configuration reads from outside the study's
// graph, mapped to digests of the contents (see Def.Sources); nil for most kinds.
func (k *Kind) Sources(cfg any, studyDir string) map[string]string {
	if k.sources == nil {
		return nil
	}
	return k.sources(cfg, studyDir)
}

// Run executes the kind on a decoded configuration.
func (k *Kind) Run(c *Context, cfg any) (Value, error) { return k.run(c, cfg) }

// Def declares a kind with configuration type C.
type Def[C any] struct {
	Name        string
	Doc         string
	Version     int
	Output      string
	Defaults    C
	Seeded      bool
	StudySeeded bool
	Volatile    bool
	Run         func(c *Context, cfg *C) (Value, error)
	// Sources names what a configuration reads from outside the study's graph — data
	// files — mapped to digests of their contents (ContentDigest, FileDigest). The runtime
	// puts them in the cache key, so editing a data file re-runs the node and what depends
	// on it. Paths in the names are as the study writes them, so moving the study's folder
	// keeps its cache.
	Sources func(cfg *C, studyDir string) map[string]string
}

// ContentDigest is the digest Sources reports for data it has read.
func ContentDigest(data []byte) string {
	s := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(s[:])
}

// FileDigest is the digest Sources reports for a file: its content's, or "missing" or
// "unreadable" (the node then runs and reports the problem, and a failure is never cached).
func FileDigest(path string) string {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "missing"
	case err != nil:
		return "unreadable"
	}
	return ContentDigest(data)
}

// Registry holds the node kinds and value decoders of an engine.
type Registry struct {
	kinds    map[string]*Kind
	decoders map[string]func([]byte) (Value, error)
}

// NewRegistry returns an empty registry with the built-in value types.
func NewRegistry() *Registry {
	r := &Registry{kinds: map[string]*Kind{}, decoders: map[string]func([]byte) (Value, error){}}
	r.RegisterValue("table", func(b []byte) (Value, error) { return table.Decode(b) })
	return r
}

// Register adds a kind. It panics on a duplicate name or a malformed declaration, which are
// programming errors.
func Register[C any](r *Registry, d Def[C]) *Kind {
	if _, dup := r.kinds[d.Name]; dup {
		panic("nodes: kind " + d.Name + " registered twice")
	}
	if d.Name == "" || d.Output == "" || d.Run == nil || d.Version <= 0 {
		panic("nodes: kind " + d.Name + " needs a name, an output type, a positive version and a Run function")
	}
	k := &Kind{
		Name: d.Name, Doc: d.Doc, Version: d.Version, Output: d.Output,
		Schema: lang.SchemaOf(d.Defaults), Seeded: d.Seeded, StudySeeded: d.StudySeeded, Volatile: d.Volatile,
	}
	run := d.Run
	k.run = func(c *Context, cfg any) (Value, error) { return run(c, cfg.(*C)) }
	if src := d.Sources; src != nil {
		k.sources = func(cfg any, dir string) map[string]string { return src(cfg.(*C), dir) }
	}
	r.kinds[d.Name] = k
	return k
}

// RegisterValue adds a decoder for cached values of a type.
func (r *Registry) RegisterValue(typeName string, decode func([]byte) (Value, error)) {
	r.decoders[typeName] = decode
}

// DecodeValue decodes a cached value.
func (r *Registry) DecodeValue(typeName string, data []byte) (Value, error) {
	d, ok := r.decoders[typeName]
	if !ok {
		return nil, fmt.Errorf("no decoder for value type %q", typeName)
	}
	return d(data)
}

// Kind returns a registered kind.
func (r *Registry) Kind(name string) (*Kind, bool) {
	k, ok := r.kinds[name]
	return k, ok
}

// Kinds returns every kind, sorted by name.
func (r *Registry) Kinds() []*Kind {
	out := make([]*Kind, 0, len(r.kinds))
	for _, k := range r.kinds {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup implements lang.Catalog.
func (r *Registry) Lookup(name string) (*lang.KindInfo, bool) {
	k, ok := r.kinds[name]
	if !ok {
		return nil, false
	}
	return &lang.KindInfo{Name: k.Name, Doc: k.Doc, Schema: k.Schema, Output: k.Output}, true
}

// Names implements lang.Catalog.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.kinds))
	for k := range r.kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Context is what a node instance sees while it runs.
type Context struct {
	context.Context
	Addr      string // instance address, e.g. `csdi.icr["b005"]`
	StudyDir  string // directory of the study file: relative paths resolve against it
	StudySeed uint64
	// Seed is the instance's own seed, derived from (study seed, address); see NodeSeed.
	Seed     uint64
	Inputs   map[string]Value     // values of the referenced instances, by address
	Ranges   map[string]hcl.Range // attribute source ranges ("" is the block)
	Parallel func(n int, task func(i int) error) error
	Progress func(done, total int)
	Warn     func(msg string)
	// MemoFunc backs Memo; the runtime sets it.
	MemoFunc func(key []byte, compute func() (Value, error)) (Value, error)
}

// NodeSeed derives the seed of a node instance from the study seed and the instance
// address, so a node's random stream never depends on scheduling order.
func NodeSeed(studySeed uint64, addr string) uint64 {
	return DeriveSeed(studySeed, "node", addr)
}

// DeriveSeed hashes a seed and labels into a new 64-bit seed.
func DeriveSeed(seed uint64, labels ...string) uint64 {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write([]byte("ntedsl/seed/v1\x00"))
	h.Write(b[:])
	for _, l := range labels {
		h.Write([]byte{0})
		h.Write([]byte(l))
	}
	return binary.LittleEndian.Uint64(h.Sum(nil))
}

// Rand returns a new random stream of this instance for the given purpose; the same
// purpose always gives the same stream.
func (c *Context) Rand(purpose ...string) *rand.Rand {
	s := DeriveSeed(c.Seed, purpose...)
	return rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))
}

// Input returns the value of a referenced instance.
func (c *Context) Input(r lang.Ref) Value {
	v, ok := c.Inputs[r.Addr]
	if !ok {
		panic("nodes: input " + r.Addr + " was not provided to " + c.Addr)
	}
	return v
}

// Tabular is implemented by every value that is (also) a table: tables themselves, and
// richer values such as a regularized table that also carries how it was regularized.
// Kinds whose Output is "table" produce Tabular values.
type Tabular interface {
	AsTable() *table.Table
}

// Conforms reports whether v satisfies the output type a kind declares: "table" is any
// Tabular value; other types must match by name.
func Conforms(v Value, output string) bool {
	if output == "table" {
		_, ok := v.(Tabular)
		return ok
	}
	return v.TypeName() == output
}

// Table returns a referenced table.
func (c *Context) Table(r lang.Ref) (*table.Table, error) {
	t, ok := c.Input(r).(Tabular)
	if !ok {
		return nil, fmt.Errorf("%s does not produce a table", r.Addr)
	}
	return t.AsTable(), nil
}

// Memo returns the value of a sub-computation of this node — e.g. a trained model that
// several configurations or several kinds share — from the cache when an earlier run stored
// it under the same key, and otherwise computes and stores it. The key space is shared by
// all kinds: key must identify everything compute depends on, including a namespace and
// version of the code that computes it (e.g. a JSON object with "schema":"csdi-model/1"),
// bumped whenever that code's results change. The value's type must have a decoder.
// Without a cache (tests), compute simply runs.
func (c *Context) Memo(key []byte, compute func() (Value, error)) (Value, error) {
	if c.MemoFunc == nil {
		return compute()
	}
	return c.MemoFunc(key, compute)
}

// Diagnostics is an error carrying HCL diagnostics, so failures that belong to a place in
// the study file (an expr-lang error, a bad column name) are rendered with it.
type Diagnostics hcl.Diagnostics

func (d Diagnostics) Error() string {
	var s []string
	for _, x := range d {
		msg := x.Summary
		if x.Detail != "" {
			msg += ": " + x.Detail
		}
		if x.Subject != nil {
			msg = x.Subject.String() + ": " + msg
		}
		s = append(s, msg)
	}
	return strings.Join(s, "\n")
}

// AttrError returns an error located at the named attribute of this instance's block (at
// the block itself when the attribute was left at its default).
func (c *Context) AttrError(attr, summary, detail string) error {
	rng, ok := c.Ranges[attr]
	if !ok {
		rng = c.Ranges[""]
	}
	return Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rng.Ptr()}}
}

// FileStem turns an instance address into the stem of its result files:
// `evaluate.icr["b005"]` → `evaluate.icr.b005`.
func FileStem(addr string) string {
	var b strings.Builder
	for _, r := range addr {
		switch {
		case r == '[':
			b.WriteByte('.')
		case r == ']' || r == '"':
		case r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}
