package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/nodes"
	"github.com/ntedsl/ntedsl/stdlib/table"
)

const chainStudy = `
study {
  name = "chain"
  seed = 42
}
src "a" { value = 1 }
src "b" { value = 2 }
sum "ab" { inputs = [src.a, src.b] }
sum "top" {
  inputs = [sum.ab]
  add    = 10
}
sum "side" { inputs = [src.b] }
rand "r" {
  for_each = toset(["p", "q"])
  input    = sum.top
}
`

func loadStudy(t testing.TB, reg *nodes.Registry, dir, src string) *lang.Study {
	t.Helper()
	path := filepath.Join(dir, "study.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	st, diags := lang.Load(path, lang.Options{Catalog: reg})
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	return st
}

type recorder struct {
	events []Event
}

func (r *recorder) observe(ev Event) { r.events = append(r.events, ev) }

func (r *recorder) kinds(k EventKind) []string {
	var out []string
	for _, ev := range r.events {
		if ev.Kind == k {
			out = append(out, ev.Addr)
		}
	}
	sort.Strings(out)
	return out
}

func newEngine(t testing.TB, reg *nodes.Registry, cacheDir, outDir string, jobs int) (*Engine, *recorder) {
	t.Helper()
	c, err := OpenCache(cacheDir, reg)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	return &Engine{Registry: reg, Cache: c, Jobs: jobs, OutDir: outDir, Observe: rec.observe}, rec
}

func TestRerunUnchangedStudyExecutesNothing(t *testing.T) {
	dir := t.TempDir()
	reg, cnt := testRegistry(nil)
	st := loadStudy(t, reg, dir, chainStudy)
	e, _ := newEngine(t, reg, filepath.Join(dir, "cache"), "", 2)
	if _, err := e.Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if got := cnt.total(); got != 7 {
		t.Fatalf("first run executed %d nodes, want 7", got)
	}
	// A new engine and cache object: only the disk layer can answer.
	e2, rec := newEngine(t, reg, filepath.Join(dir, "cache"), "", 2)
	res, err := e2.Run(context.Background(), loadStudy(t, reg, dir, chainStudy))
	if err != nil {
		t.Fatal(err)
	}
	if got := cnt.total(); got != 7 {
		t.Fatalf("re-run executed %d more nodes, want 0", got-7)
	}
	if res.Ran != 0 || res.Cached != 7 || len(rec.kinds(NodeCached)) != 7 {
		t.Fatalf("re-run: ran %d cached %d, events %v", res.Ran, res.Cached, rec.kinds(NodeCached))
	}
}

func TestEditReexecutesExactlyTheNodeAndItsDescendants(t *testing.T) {
	dir := t.TempDir()
	reg, cnt := testRegistry(nil)
	e, _ := newEngine(t, reg, filepath.Join(dir, "cache"), "", 4)
	if _, err := e.Run(context.Background(), loadStudy(t, reg, dir, chainStudy)); err != nil {
		t.Fatal(err)
	}
	before := map[string]int{}
	for k, v := range cnt.n {
		before[k] = v
	}
	edited := strings.Replace(chainStudy, "add    = 10", "add    = 11", 1)
	if _, err := e.Run(context.Background(), loadStudy(t, reg, dir, edited)); err != nil {
		t.Fatal(err)
	}
	var reran []string
	for k, v := range cnt.n {
		if v != before[k] {
			reran = append(reran, k)
		}
	}
	sort.Strings(reran)
	want := []string{`rand.r["p"]`, `rand.r["q"]`, "sum.top"}
	if fmt.Sprint(reran) != fmt.Sprint(want) {
		t.Fatalf("re-executed %v, want %v", reran, want)
	}
}

func TestEarlyCutoffWhenUpstreamOutputIsUnchanged(t *testing.T) {
	// sum.ab's config changes but its output does not (1+2 = 0+3): only sum.ab re-runs.
	dir := t.TempDir()
	reg, cnt := testRegistry(nil)
	e, _ := newEngine(t, reg, filepath.Join(dir, "cache"), "", 2)
	src := strings.Replace(chainStudy, `sum "ab" { inputs = [src.a, src.b] }`, `sum "ab" {
  inputs = [src.a, src.b]
  add = 0
}`, 1)
	if _, err := e.Run(context.Background(), loadStudy(t, reg, dir, src)); err != nil {
		t.Fatal(err)
	}
	n0 := cnt.total()
	src2 := strings.Replace(src, `src "a" { value = 1 }`, `src "a" { value = 0 }`, 1)
	src2 = strings.Replace(src2, "add = 0", "add = 1", 1)
	if _, err := e.Run(context.Background(), loadStudy(t, reg, dir, src2)); err != nil {
		t.Fatal(err)
	}
	if got := cnt.total() - n0; got != 2 { // src.a and sum.ab
		t.Fatalf("executed %d nodes, want 2 (src.a, sum.ab): %v", got, cnt.n)
	}
}

func TestIndependentNodesRunConcurrently(t *testing.T) {
	dir := t.TempDir()
	ov := &overlap{want: 3}
	reg, _ := testRegistry(ov)
	st := loadStudy(t, reg, dir, `
wait "a" { name = "a" }
wait "b" { name = "b" }
wait "c" { name = "c" }
wait "d" { name = "d" }
`)
	e, _ := newEngine(t, reg, "", "", 3)
	if _, err := e.Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if got := ov.maxSeen.Load(); got != 3 {
		t.Fatalf("at most %d nodes ran at once with -j 3, want 3", got)
	}
	// The budget is a hard limit: with -j 2 never more than 2.
	ov2 := &overlap{want: 3, timeout: 100 * time.Millisecond}
	reg2, _ := testRegistry(ov2)
	e2, _ := newEngine(t, reg2, "", "", 2)
	if _, err := e2.Run(context.Background(), loadStudy(t, reg2, dir, `
wait "a" { name = "a" }
wait "b" { name = "b" }
wait "c" { name = "c" }
`)); err != nil {
		t.Fatal(err)
	}
	if got := ov2.maxSeen.Load(); got != 2 {
		t.Fatalf("with -j 2, %d nodes ran at once", got)
	}
}

func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func TestOutputsIdenticalForJ1AndJ8(t *testing.T) {
	dir := t.TempDir()
	reg, _ := testRegistry(nil)
	var outs []map[string]string
	for _, j := range []int{1, 8} {
		out := filepath.Join(dir, fmt.Sprint("out", j))
		e, _ := newEngine(t, reg, "", out, j)
		if _, err := e.Run(context.Background(), loadStudy(t, reg, dir, chainStudy)); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, readDir(t, out))
	}
	if len(outs[0]) != 15 { // 14 result files and the manifest
		t.Fatalf("expected 15 files, got %d", len(outs[0]))
	}
	for name, b := range outs[0] {
		if outs[1][name] != b {
			t.Fatalf("%s differs between -j 1 and -j 8", name)
		}
	}
	// The two instances of the seeded kind draw different streams.
	if outs[0][`rand.r.p.csv`] == outs[0][`rand.r.q.csv`] {
		t.Fatal("rand.r[p] and rand.r[q] produced the same numbers")
	}
}

func TestCorruptCacheEntryIsRecomputedWithWarning(t *testing.T) {
	// src.big's value (2000 rows, 16 kB) lives in a blob; the others are small enough to be
	// stored inside their records. Both kinds of damage are detected.
	study := chainStudy + "src \"big\" {\n value = 4\n rows = 2000\n}\nsum \"afterbig\" { inputs = [src.big] }\n"
	dir := t.TempDir()
	cacheDir := filepath.Join(dir, "cache")
	reg, cnt := testRegistry(nil)
	e, _ := newEngine(t, reg, cacheDir, "", 2)
	res, err := e.Run(context.Background(), loadStudy(t, reg, dir, study))
	if err != nil {
		t.Fatal(err)
	}
	damage := func(path, how string) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if how == "flip" {
			b[len(b)/2] ^= 0x40
		} else {
			b = b[:len(b)/2]
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rerun := func(what string, addr string) {
		t.Helper()
		n0 := cnt.n[addr]
		e2, rec := newEngine(t, reg, cacheDir, "", 2)
		res2, err := e2.Run(context.Background(), loadStudy(t, reg, dir, study))
		if err != nil {
			t.Fatal(err)
		}
		if cnt.n[addr] != n0+1 {
			t.Fatalf("%s: %s was not recomputed", what, addr)
		}
		if res2.Digests[addr] != res.Digests[addr] {
			t.Fatalf("%s: recomputed value differs", what)
		}
		var warned bool
		for _, ev := range rec.events {
			if ev.Kind == Warning && strings.Contains(ev.Message, "damaged") {
				warned = true
			}
		}
		if !warned {
			t.Fatalf("%s: no warning about the damaged entry", what)
		}
		if res2.Ran != 1 {
			t.Fatalf("%s: %d nodes ran, want only %s", what, res2.Ran, addr)
		}
	}
	keyOfAddr := func(addr string) string {
		recs, _ := e.Cache.Entries()
		for _, r := range recs {
			if r.Addr == addr {
				return r.Key
			}
		}
		t.Fatalf("no record for %s", addr)
		return ""
	}
	for _, how := range []string{"flip", "truncate"} {
		damage(shard(cacheDir, "blobs", res.Digests["src.big"]), how)
		rerun("blob "+how, "src.big")
		damage(shard(cacheDir, "keys", keyOfAddr("sum.top")), how)
		rerun("record "+how, "sum.top")
	}
}

func TestFailureStopsDependentsOnly(t *testing.T) {
	dir := t.TempDir()
	reg, _ := testRegistry(nil)
	// sum.bad panics (negative sum); its dependent is skipped; the rest finishes.
	st := loadStudy(t, reg, dir, `
src "a" { value = -5 }
sum "bad" { inputs = [src.a] }
sum "after" { inputs = [sum.bad] }
src "ok" { value = 1 }
sum "fine" { inputs = [src.ok] }
`)
	e, _ := newEngine(t, reg, filepath.Join(dir, "cache"), "", 2)
	res, err := e.Run(context.Background(), st)
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("err = %v, want ErrFailed", err)
	}
	if len(res.Failures) != 2 || res.Failures[0].Addr != "sum.bad" || res.Failures[1].Addr != "sum.after" || !res.Failures[1].Skipped {
		t.Fatalf("failures: %+v", res.Failures)
	}
	if !strings.Contains(res.Failures[0].Err.Error(), "negative sum") {
		t.Fatalf("panic not reported: %v", res.Failures[0].Err)
	}
	if res.Status["sum.fine"] != "ran" {
		t.Fatalf("independent branch did not finish: %v", res.Status)
	}
	// The finished branch is cached.
	e2, _ := newEngine(t, reg, filepath.Join(dir, "cache"), "", 2)
	res2, _ := e2.Run(context.Background(), st)
	if res2.Status["sum.fine"] != "cached" {
		t.Fatalf("independent branch was not cached: %v", res2.Status)
	}
}

// TestCancelStopsPromptly: a cancelled run computes nothing more; the instances it stopped
// are reported as interrupted, not as failures of their own, and their dependents name the
// interruption.
func TestCancelStopsPromptly(t *testing.T) {
	dir := t.TempDir()
	reg, cnt := testRegistry(nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e, _ := newEngine(t, reg, filepath.Join(dir, "cache"), "", 2)
	res, err := e.Run(ctx, loadStudy(t, reg, dir, chainStudy))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if cnt.total() != 0 {
		t.Fatalf("%d nodes ran after cancellation", cnt.total())
	}
	skipped := 0
	for _, f := range res.Failures {
		if f.Skipped {
			skipped++
		}
		if f.Skipped && !strings.HasSuffix(f.Err.Error(), " was interrupted") {
			t.Errorf("%s: %v", f.Addr, f.Err)
		}
		if !f.Skipped && (!errors.Is(f.Err, context.Canceled) || res.Status[f.Addr] != "interrupted") {
			t.Errorf("%s: %s with %v, want an interruption", f.Addr, res.Status[f.Addr], f.Err)
		}
	}
	if skipped == 0 || skipped == len(res.Failures) {
		t.Fatalf("%d skipped of %d not finished: want both interrupted and skipped instances", skipped, len(res.Failures))
	}
}

func TestPlanSaysWhy(t *testing.T) {
	dir := t.TempDir()
	reg, _ := testRegistry(nil)
	e, _ := newEngine(t, reg, filepath.Join(dir, "cache"), "", 2)
	plan, err := e.Plan(context.Background(), loadStudy(t, reg, dir, chainStudy))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range plan {
		got[p.Addr] = p.Status + ": " + strings.Join(p.Reasons, "; ")
	}
	if got["src.a"] != "run: not cached yet" || !strings.HasPrefix(got["sum.ab"], "pending: inputs src.a, src.b run first;") {
		t.Fatalf("cold plan: %v", got)
	}
	if _, err := e.Run(context.Background(), loadStudy(t, reg, dir, chainStudy)); err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(chainStudy, "add    = 10", "add    = 12", 1)
	edited = strings.Replace(edited, `src "b" { value = 2 }`, `src "b" { value = 3 }`, 1)
	plan, _ = e.Plan(context.Background(), loadStudy(t, reg, dir, edited))
	got = map[string]string{}
	for _, p := range plan {
		got[p.Addr] = p.Status + ": " + strings.Join(p.Reasons, "; ")
	}
	want := map[string]string{
		"src.a":  "cached: ",
		"src.b":  "run: value 2→3",
		"sum.ab": "pending: input src.b runs first; this may still come from the cache if its output is unchanged",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
	// With src.b's new value cached, sum.ab is planned with the reason "input changed".
	e.Run(context.Background(), loadStudy(t, reg, dir, strings.Replace(chainStudy, `src "b" { value = 2 }`, `src "b" { value = 3 }`, 1)))
	plan, _ = e.Plan(context.Background(), loadStudy(t, reg, dir, chainStudy))
	for _, p := range plan {
		if p.Addr == "sum.ab" && (p.Status != "cached") {
			t.Errorf("sum.ab with the old inputs should be cached, got %s %v", p.Status, p.Reasons)
		}
	}
}

func TestMemoizedSubComputationSurvivesUnrelatedEdits(t *testing.T) {
	dir := t.TempDir()
	reg, cnt := testRegistry(nil)
	run := func(src string) *Result {
		e, _ := newEngine(t, reg, filepath.Join(dir, "cache"), "", 2)
		res, err := e.Run(context.Background(), loadStudy(t, reg, dir, src))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	run("memo \"a\" {\n heavy = 3\n light = 1\n}\nmemo \"b\" {\n heavy = 3\n light = 2\n}\n")
	if cnt.n["heavy"] != 1 {
		t.Fatalf("two nodes sharing a memo key computed it %d times", cnt.n["heavy"])
	}
	res := run("memo \"a\" {\n heavy = 3\n light = 5\n}\n")
	if cnt.n["heavy"] != 1 || cnt.n["memo.a"] != 2 {
		t.Fatalf("editing only the light part recomputed the memo: %v", cnt.n)
	}
	if got := res.Values["memo.a"].(*table.Table).Cols[0].Num[0]; got != 35 {
		t.Fatalf("value %v", got)
	}
	run("memo \"a\" {\n heavy = 4\n light = 5\n}\n")
	if cnt.n["heavy"] != 2 {
		t.Fatalf("changing the memo key did not recompute it")
	}
}

// A node whose internal parallelism starts while the whole budget is busy picks up the
// tokens that free up later, instead of running its tasks serially to the end.
func TestParallelJoinsFreedWorkers(t *testing.T) {
	rs := &runState{sem: make(chan struct{}, 2)}
	rs.sem <- struct{}{} // the calling node's own token
	rs.sem <- struct{}{} // a sibling node, finishing shortly
	go func() {
		time.Sleep(20 * time.Millisecond)
		<-rs.sem
	}()
	var inside, most atomic.Int32
	err := rs.parallel(context.Background(), 8, func(i int) error {
		n := inside.Add(1)
		defer inside.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		// Each task lingers until a second worker is inside (or a generous timeout).
		deadline := time.Now().Add(500 * time.Millisecond)
		for most.Load() < 2 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := most.Load(); got != 2 {
		t.Fatalf("at most %d tasks ran at once; want 2 once the sibling's token was free", got)
	}
	if len(rs.sem) != 1 {
		t.Fatalf("%d tokens held after parallel returned; want only the caller's 1", len(rs.sem))
	}
}
