package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/nodes"
)

// KeySchema versions the layout of cache-key pre-images.
const KeySchema = "ntedsl/key/v1"

// Engine runs studies.
type Engine struct {
	Registry *nodes.Registry
	Cache    *Cache
	Jobs     int    // worker budget shared by all nodes and their internal parallelism
	OutDir   string // where result files go; "" writes none
	// Observe receives the run's events, one at a time. May be nil.
	Observe func(Event)
}

// Result is the outcome of a run.
type Result struct {
	Values   map[string]nodes.Value // by instance address, for every finished instance
	Digests  map[string]string
	Status   map[string]string // "ran", "cached", "cheap", "failed", "interrupted", "skipped"
	Failures []Failure         // in study order
	Ran      int               // instances computed (cheap ones not counted)
	Cached   int
	Files    []string // result files written (relative to OutDir)
	// Removed lists files of the previous run that this run superseded and deleted;
	// Stale, files of the previous run kept because their node did not finish in this one,
	// and StaleNodes those nodes (see ManifestName).
	Removed, Stale, StaleNodes []string
}

// Failure is a failed or skipped instance.
type Failure struct {
	Addr    string
	Err     error
	Skipped bool // not run because an input failed
}

// ErrFailed is returned by Run when some instance failed; Result.Failures says which.
var ErrFailed = errors.New("some nodes failed")

type preimage struct {
	Schema    string          `json:"schema"`
	Kind      string          `json:"kind"`
	Version   int             `json:"version"`
	Config    json.RawMessage `json:"config"`
	Seed      string          `json:"seed,omitempty"`
	StudySeed string          `json:"study_seed,omitempty"`
	// Sources: digests of what the instance reads from outside the graph (data files).
	Sources map[string]string `json:"sources,omitempty"`
}

type keyInfo struct {
	key      string
	preimage []byte
	inputs   map[string]string // input address → digest
}

// keyOf computes an instance's cache key from its kind, configuration, seeds, the content
// digests of its inputs (never their names or keys: an upstream node that re-runs and
// produces the same bytes does not invalidate this one) and of the files it reads.
func keyOf(st *lang.Study, inst *lang.Instance, k *nodes.Kind, digests map[string]string) keyInfo {
	inputs := map[string]string{}
	cfg := k.Schema.Canonical(inst.Config, func(r lang.Ref) string {
		d := digests[r.Addr]
		inputs[r.Addr] = d
		return d
	})
	p := preimage{Schema: KeySchema, Kind: k.Name, Version: k.Version, Config: cfg, Sources: k.Sources(inst.Config, st.Dir)}
	if k.Seeded {
		p.Seed = fmt.Sprintf("%016x", nodes.NodeSeed(st.Seed, inst.Addr))
	}
	if k.Seeded || k.StudySeeded {
		p.StudySeed = fmt.Sprint(st.Seed)
	}
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return keyInfo{key: Digest("key", b), preimage: b, inputs: inputs}
}

func (e *Engine) jobs() int {
	if e.Jobs > 0 {
		return e.Jobs
	}
	return 1
}

type flight struct {
	done   chan struct{}
	value  nodes.Value
	digest string
	cached bool
	err    error
}

type runState struct {
	e       *Engine
	st      *lang.Study
	ctx     context.Context
	start   time.Time
	sem     chan struct{}
	obsMu   sync.Mutex
	mu      sync.Mutex
	flights map[string]*flight
	files   []manifestFile
	// unwritten marks instances whose result files could not all be written.
	unwritten map[string]bool
	runs      map[string]addrRecord // last-run records to remember, by address
}

func (rs *runState) emit(ev Event) {
	if rs.e.Observe == nil {
		return
	}
	ev.Elapsed = time.Since(rs.start).Seconds()
	if ev.Err != nil {
		ev.Error = ev.Err.Error()
	}
	rs.obsMu.Lock()
	defer rs.obsMu.Unlock()
	rs.e.Observe(ev)
}

// parallel runs n tasks on the calling goroutine's worker token plus every token that is
// free or becomes free before the tasks run out, never exceeding the engine's budget. Results must go to index-addressed slots, so
// the outcome does not depend on which goroutine ran which task. It returns the error of
// the lowest-indexed failing task.
func (rs *runState) parallel(ctx context.Context, n int, task func(i int) error) error {
	errs := make([]error, n)
	var next atomic.Int64
	var failed atomic.Bool
	work := func() {
		for !failed.Load() && ctx.Err() == nil {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			if err := task(i); err != nil {
				errs[i] = err
				failed.Store(true)
			}
		}
	}
	// Extra workers join whenever a worker token is free: at the start, or later when
	// another node finishes. Grabbing only what is free at the start would leave a long
	// task list serial whenever the budget happened to be busy at that moment.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for extra := 0; extra < n-1; extra++ {
			select {
			case rs.sem <- struct{}{}:
			case <-stop:
				return
			case <-ctx.Done():
				return
			}
			if next.Load() >= int64(n) || failed.Load() {
				<-rs.sem
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-rs.sem }()
				work()
			}()
		}
	}()
	work()
	close(stop)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Run executes every instance of the study, in dependency order and concurrently where
// the graph allows. Failures do not stop independent branches; Run returns ErrFailed (or
// the context's error when cancelled) together with a Result describing everything.
func (e *Engine) Run(ctx context.Context, st *lang.Study) (*Result, error) {
	rs := &runState{e: e, st: st, ctx: ctx, start: time.Now(), sem: make(chan struct{}, e.jobs()), flights: map[string]*flight{}, runs: map[string]addrRecord{}, unwritten: map[string]bool{}}
	e.Cache.warn = func(msg string) { rs.emit(Event{Kind: Warning, Message: msg}) }
	defer func() { e.Cache.warn = func(string) {} }()
	res := &Result{Values: map[string]nodes.Value{}, Digests: map[string]string{}, Status: map[string]string{}}
	insts := st.Instances
	rs.emit(Event{Kind: RunStart, Total: len(insts)})

	deps := make(map[string][]string, len(insts))
	dependents := map[string][]*lang.Instance{}
	waiting := map[string]int{}
	for _, in := range insts {
		seen := map[string]bool{}
		for _, r := range in.Refs {
			if !seen[r.Addr] {
				seen[r.Addr] = true
				deps[in.Addr] = append(deps[in.Addr], r.Addr)
				dependents[r.Addr] = append(dependents[r.Addr], in)
			}
		}
		waiting[in.Addr] = len(deps[in.Addr])
	}

	type completion struct {
		inst   *lang.Instance
		value  nodes.Value
		digest string
		status string
		err    error
	}
	done := make(chan completion)
	launch := func(in *lang.Instance, inputs map[string]nodes.Value, digests map[string]string) {
		go func() {
			v, d, status, err := rs.execute(in, inputs, digests)
			done <- completion{in, v, d, status, err}
		}()
	}
	inputsOf := func(in *lang.Instance) (map[string]nodes.Value, map[string]string) {
		vals, digs := map[string]nodes.Value{}, map[string]string{}
		for _, d := range deps[in.Addr] {
			vals[d], digs[d] = res.Values[d], res.Digests[d]
		}
		return vals, digs
	}
	running := 0
	for _, in := range insts {
		if waiting[in.Addr] == 0 {
			v, d := inputsOf(in)
			launch(in, v, d)
			running++
		}
	}
	failedDep := map[string]string{}
	interrupted := map[string]bool{}
	finished := 0
	var skip func(in *lang.Instance, cause string)
	skip = func(in *lang.Instance, cause string) {
		if _, already := res.Status[in.Addr]; already {
			return
		}
		what := "failed"
		if interrupted[cause] {
			what = "was interrupted"
		}
		res.Status[in.Addr] = "skipped"
		res.Failures = append(res.Failures, Failure{Addr: in.Addr, Skipped: true, Err: fmt.Errorf("not run: its input %s %s", cause, what)})
		rs.emit(Event{Kind: NodeSkipped, Addr: in.Addr, Message: "not run: input " + cause + " " + what})
		finished++
		for _, dn := range dependents[in.Addr] {
			skip(dn, cause)
		}
	}
	for running > 0 {
		c := <-done
		running--
		finished++
		addr := c.inst.Addr
		if c.err != nil {
			interrupted[addr] = errors.Is(c.err, context.Canceled)
			res.Status[addr] = "failed"
			if interrupted[addr] {
				res.Status[addr] = "interrupted"
			}
			res.Failures = append(res.Failures, Failure{Addr: addr, Err: c.err})
			for _, dn := range dependents[addr] {
				failedDep[dn.Addr] = addr
			}
		} else {
			res.Values[addr], res.Digests[addr], res.Status[addr] = c.value, c.digest, c.status
			switch c.status {
			case "ran":
				res.Ran++
			case "cached":
				res.Cached++
			}
		}
		for _, dn := range dependents[addr] {
			waiting[dn.Addr]--
			if waiting[dn.Addr] > 0 {
				continue
			}
			cause := ""
			for _, d := range deps[dn.Addr] {
				if st := res.Status[d]; st == "failed" || st == "interrupted" || st == "skipped" {
					cause = d
					break
				}
			}
			if cause != "" {
				skip(dn, cause)
				continue
			}
			v, d := inputsOf(dn)
			launch(dn, v, d)
			running++
		}
	}
	// Order failures as the study lists its instances, so summaries are stable.
	order := map[string]int{}
	for i, in := range insts {
		order[in.Addr] = i
	}
	sort.SliceStable(res.Failures, func(i, j int) bool { return order[res.Failures[i].Addr] < order[res.Failures[j].Addr] })
	for _, f := range rs.files {
		res.Files = append(res.Files, f.Name)
	}
	sort.Strings(res.Files)
	rs.settleOutputs(res)
	if err := e.Cache.rememberRuns(st.Path, rs.runs); err != nil {
		rs.emit(Event{Kind: Warning, Message: "could not record this run for plan: " + err.Error()})
	}
	summary := fmt.Sprintf("%d ran, %d cached, %d failed, %d skipped", res.Ran, res.Cached, countStatus(res, "failed"), countStatus(res, "skipped"))
	if n := countStatus(res, "interrupted"); n > 0 {
		summary += fmt.Sprintf(", %d interrupted", n)
	}
	rs.emit(Event{Kind: RunDone, Done: finished, Total: len(insts), Message: summary})
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if len(res.Failures) > 0 {
		return res, ErrFailed
	}
	return res, nil
}

func countStatus(res *Result, s string) int {
	n := 0
	for _, v := range res.Status {
		if v == s {
			n++
		}
	}
	return n
}

// execute computes or fetches one instance. It holds one worker token while it works.
func (rs *runState) execute(in *lang.Instance, inputs map[string]nodes.Value, digests map[string]string) (nodes.Value, string, string, error) {
	e := rs.e
	kind, _ := e.Registry.Kind(in.Block.Kind.Name)
	select {
	case rs.sem <- struct{}{}:
	case <-rs.ctx.Done():
		return nil, "", "", rs.ctx.Err()
	}
	defer func() { <-rs.sem }()
	if err := rs.ctx.Err(); err != nil {
		return nil, "", "", err
	}
	ki := keyOf(rs.st, in, kind, digests)
	if kind.Volatile {
		v, err := rs.compute(in, kind, inputs)
		if err != nil {
			return nil, "", "", err
		}
		data, err := v.MarshalBinary()
		if err != nil {
			return nil, "", "", err
		}
		rs.emit(Event{Kind: NodeDone, Addr: in.Addr, Message: "cheap"})
		return v, Digest(v.TypeName(), data), "cheap", nil
	}
	// Two instances with the same key in one run compute once.
	rs.mu.Lock()
	f, inFlight := rs.flights[ki.key]
	if !inFlight {
		f = &flight{done: make(chan struct{})}
		rs.flights[ki.key] = f
	}
	rs.mu.Unlock()
	if inFlight {
		rs.waitIdle(f.done)
		if f.err != nil {
			return nil, "", "", f.err
		}
		rs.finish(in, kind, ki, f.value, f.digest, true)
		return f.value, f.digest, "cached", nil
	}
	defer close(f.done)
	if v, rec, ok := e.Cache.Lookup(ki.key); ok {
		f.value, f.digest, f.cached = v, rec.Digest, true
		rs.finish(in, kind, ki, v, rec.Digest, true)
		return v, rec.Digest, "cached", nil
	}
	t0 := time.Now()
	rs.emit(Event{Kind: NodeStart, Addr: in.Addr})
	v, err := rs.compute(in, kind, inputs)
	if err == nil && !nodes.Conforms(v, kind.Output) {
		err = fmt.Errorf("internal error: %s produced a %s, but its kind declares %s", in.Addr, v.TypeName(), kind.Output)
	}
	var data []byte
	if err == nil {
		data, err = v.MarshalBinary()
	}
	if err != nil {
		f.err = err
		rs.emit(Event{Kind: NodeFailed, Addr: in.Addr, Err: err, Seconds: time.Since(t0).Seconds()})
		return nil, "", "", err
	}
	digest := Digest(v.TypeName(), data)
	rec := Record{Key: ki.key, Preimage: ki.preimage, Type: v.TypeName(), Digest: digest, Size: len(data), Addr: in.Addr, Created: time.Now().UTC().Format(time.RFC3339)}
	if err := e.Cache.Put(rec, v, data); err != nil {
		rs.emit(Event{Kind: Warning, Addr: in.Addr, Message: "could not store the result in the cache: " + err.Error()})
	}
	f.value, f.digest = v, digest
	rs.finish(in, kind, ki, v, digest, false)
	rs.emit(Event{Kind: NodeDone, Addr: in.Addr, Seconds: time.Since(t0).Seconds()})
	return v, digest, "ran", nil
}

// finish records the instance's last run for plan and writes its result files.
func (rs *runState) finish(in *lang.Instance, kind *nodes.Kind, ki keyInfo, v nodes.Value, digest string, cached bool) {
	rs.mu.Lock()
	rs.runs[in.Addr] = addrRecord{Key: ki.key, Preimage: ki.preimage, Inputs: ki.inputs}
	rs.mu.Unlock()
	if cached {
		rs.emit(Event{Kind: NodeCached, Addr: in.Addr})
	}
	if err := rs.writeArtifacts(in.Addr, ki.key, v); err != nil {
		rs.mu.Lock()
		rs.unwritten[in.Addr] = true
		rs.mu.Unlock()
		rs.emit(Event{Kind: Warning, Addr: in.Addr, Message: "could not write result files: " + err.Error()})
	}
}

// compute runs the kind, turning a panic into an error naming the instance so one broken
// node cannot take the whole run down.
func (rs *runState) compute(in *lang.Instance, kind *nodes.Kind, inputs map[string]nodes.Value) (v nodes.Value, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error in %s (%s kind): %v", in.Addr, kind.Name, p)
		}
	}()
	ctx, cancel := context.WithCancel(rs.ctx)
	defer cancel()
	c := &nodes.Context{
		Context:   ctx,
		Addr:      in.Addr,
		StudyDir:  rs.st.Dir,
		StudySeed: rs.st.Seed,
		Seed:      nodes.NodeSeed(rs.st.Seed, in.Addr),
		Inputs:    inputs,
		Ranges:    in.Ranges,
		Parallel: func(n int, task func(i int) error) error {
			return rs.parallel(ctx, n, task)
		},
		Progress: func(done, total int) { rs.emit(Event{Kind: NodeProgress, Addr: in.Addr, Done: done, Total: total}) },
		MemoFunc: func(key []byte, compute func() (nodes.Value, error)) (nodes.Value, error) {
			return rs.memo(in, key, compute)
		},
		Warn: func(msg string) { rs.emit(Event{Kind: Warning, Addr: in.Addr, Message: msg}) },
	}
	return kind.Run(c, in.Config)
}

// FileStem turns an instance address into a file name stem (see nodes.FileStem).
func FileStem(addr string) string { return nodes.FileStem(addr) }

// writeArtifacts writes a value's result files, each atomically, skipping files that
// already hold the same bytes, and notes them for the manifest.
func (rs *runState) writeArtifacts(addr, key string, v nodes.Value) error {
	a, ok := v.(nodes.Artifacter)
	if !ok || rs.e.OutDir == "" {
		return nil
	}
	arts, err := a.Artifacts()
	if err != nil {
		return err
	}
	suffixes := make([]string, 0, len(arts))
	for s := range arts {
		suffixes = append(suffixes, s)
	}
	sort.Strings(suffixes)
	for _, suffix := range suffixes {
		data := arts[suffix]
		name := FileStem(addr) + suffix
		path := filepath.Join(rs.e.OutDir, name)
		if old, err := os.ReadFile(path); err != nil || string(old) != string(data) {
			if err := writeAtomic(path, data); err != nil {
				return err
			}
		}
		rs.mu.Lock()
		rs.files = append(rs.files, manifestFile{Name: name, Node: addr, Key: key, SHA256: fileSHA256(data)})
		rs.mu.Unlock()
	}
	return nil
}

// waitIdle waits for another goroutine's computation of the same key. The waiting
// goroutine holds a worker token (its node's or one borrowed for internal parallelism); it
// gives it back while it waits, so that an idle wait never keeps a core from other work,
// and takes one again before it continues.
func (rs *runState) waitIdle(done <-chan struct{}) {
	select {
	case <-done:
		return
	default:
	}
	<-rs.sem
	<-done
	rs.sem <- struct{}{}
}

// memo serves a node's sub-computation from the cache. The key is the caller's alone — not
// tied to the calling kind — so kinds that share a sub-computation (csdi and evaluate both
// train CSDI models) share its result; the caller's key carries its own version.
// Concurrent requests for one key compute once.
func (rs *runState) memo(in *lang.Instance, key []byte, compute func() (nodes.Value, error)) (nodes.Value, error) {
	p, _ := json.Marshal(struct {
		Schema string `json:"schema"`
		Memo   string `json:"memo"`
	}{KeySchema + "/memo", string(key)})
	k := Digest("key", p)
	rs.mu.Lock()
	f, inFlight := rs.flights[k]
	if !inFlight {
		f = &flight{done: make(chan struct{})}
		rs.flights[k] = f
	}
	rs.mu.Unlock()
	if inFlight {
		rs.waitIdle(f.done)
		return f.value, f.err
	}
	defer close(f.done)
	if v, _, ok := rs.e.Cache.Lookup(k); ok {
		f.value = v
		return v, nil
	}
	v, err := compute()
	if err != nil {
		f.err = err
		return nil, err
	}
	data, err := v.MarshalBinary()
	if err != nil {
		f.err = err
		return nil, err
	}
	rec := Record{Key: k, Preimage: p, Type: v.TypeName(), Digest: Digest(v.TypeName(), data), Size: len(data), Addr: in.Addr + " (memo)", Created: time.Now().UTC().Format(time.RFC3339)}
	if err := rs.e.Cache.Put(rec, v, data); err != nil {
		rs.emit(Event{Kind: Warning, Addr: in.Addr, Message: "could not store a memoized result: " + err.Error()})
	}
	f.value = v
	return v, nil
}
