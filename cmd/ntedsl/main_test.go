package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ntedsl/ntedsl/nodes/all"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// study copies the demo study into a temporary folder.
func study(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"demo.hcl", "demo.csv"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	return filepath.Join(dir, "demo.hcl")
}

func ntedsl(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.WriteFile(path, []byte(got), 0o644)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Fatalf("%s differs from golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestValidateGraphAndPlan(t *testing.T) {
	path := study(t)
	code, out, _ := ntedsl(t, "validate", path)
	if code != 0 || !strings.Contains(out, "is valid: 2 blocks, 3 node instances") {
		t.Fatalf("validate: %d %q", code, out)
	}
	code, out, _ = ntedsl(t, "graph", path)
	if code != 0 {
		t.Fatal(code)
	}
	golden(t, "demo.dot", out)
	code, out, _ = ntedsl(t, "plan", path)
	if code != 0 {
		t.Fatal(code)
	}
	golden(t, "demo.plan.txt", out)

	code, _, errs := ntedsl(t, "run", path, "-j", "2")
	if code != 0 {
		t.Fatalf("run: %d %s", code, errs)
	}
	outDir := filepath.Join(filepath.Dir(path), "out", "demo")
	csv, err := os.ReadFile(filepath.Join(outDir, "table.scaled.x2.csv"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "table.scaled.x2.csv", string(csv))

	// After an edit, plan names the changed attribute and the variable override.
	code, out, _ = ntedsl(t, "plan", path, "-var", "scale=3", "--json")
	if code != 0 {
		t.Fatal(code)
	}
	var plan []struct {
		Addr, Status string
		Reasons      []string
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range plan {
		got[p.Addr] = p.Status + " " + strings.Join(p.Reasons, "; ")
	}
	if got["dataset.d"] != "cached " || got[`table.scaled["x1"]`] != `run derive.z "alpha * 1 * 2"→"alpha * 1 * 3"` {
		t.Fatalf("plan after -var: %v", got)
	}
}

func TestRunJSONEvents(t *testing.T) {
	path := study(t)
	code, out, _ := ntedsl(t, "run", path, "--json", "--cache", filepath.Join(t.TempDir(), "c"))
	if code != 0 {
		t.Fatal(code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var first, last map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	json.Unmarshal([]byte(lines[len(lines)-1]), &last)
	if first["event"] != "run_start" || first["total"] != 3.0 || last["event"] != "run_done" {
		t.Fatalf("events: %s ... %s", lines[0], lines[len(lines)-1])
	}
}

func TestInvalidStudyExitsWithDiagnostics(t *testing.T) {
	path := study(t)
	src, _ := os.ReadFile(path)
	os.WriteFile(path, bytes.Replace(src, []byte("formula = "), []byte("formla = "), 1), 0o644)
	code, _, errs := ntedsl(t, "run", path)
	if code != exitUsage || !strings.Contains(errs, `Did you mean "formula"?`) || !strings.Contains(errs, "line 12") {
		t.Fatalf("code %d, stderr:\n%s", code, errs)
	}
}

func TestFmt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.hcl")
	os.WriteFile(path, []byte("dataset \"d\" {\nsource=\"x.csv\"\n  target   =   \"y\"\n}\n"), 0o644)
	if code, out, _ := ntedsl(t, "fmt", "-check", path); code != exitFailed || !strings.Contains(out, "s.hcl") {
		t.Fatalf("fmt -check: %d %q", code, out)
	}
	if code, _, _ := ntedsl(t, "fmt", path); code != 0 {
		t.Fatal(code)
	}
	b, _ := os.ReadFile(path)
	if string(b) != "dataset \"d\" {\n  source = \"x.csv\"\n  target = \"y\"\n}\n" {
		t.Fatalf("formatted:\n%s", b)
	}
}

func TestNodesAndCache(t *testing.T) {
	code, out, _ := ntedsl(t, "nodes", "dataset")
	if code != 0 || !strings.Contains(out, "source           string, required") {
		t.Fatalf("nodes: %s", out)
	}
	if code, _, errs := ntedsl(t, "nodes", "datset"); code != exitUsage || !strings.Contains(errs, `did you mean "dataset"?`) {
		t.Fatalf("nodes datset: %s", errs)
	}
	path := study(t)
	ntedsl(t, "run", path)
	code, out, _ = ntedsl(t, "cache", "ls", path)
	if code != 0 || !strings.Contains(out, "3 entries") {
		t.Fatalf("cache ls: %s", out)
	}
	code, out, _ = ntedsl(t, "cache", "gc", path)
	if code != 0 || !strings.Contains(out, "removed 0 records") {
		t.Fatalf("cache gc: %s", out)
	}
	if code, _, _ = ntedsl(t, "cache", "clear", path); code != 0 {
		t.Fatal(code)
	}
	code, out, _ = ntedsl(t, "plan", path)
	if !strings.Contains(out, "0 cached, 1 will run, 2 pending") {
		t.Fatalf("plan after clear: %s", out)
	}
}

// TestSpecNodeReferenceIsCurrent keeps SPEC.md's node reference equal to what the
// registry declares (go test ./cmd/ntedsl -update rewrites it).
func TestSpecNodeReferenceIsCurrent(t *testing.T) {
	const begin, end = "<!-- BEGIN GENERATED NODE REFERENCE -->\n", "<!-- END GENERATED NODE REFERENCE -->"
	path := filepath.Join("..", "..", "SPEC.md")
	spec, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(spec)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatal("SPEC.md lacks the generated node reference markers")
	}
	var b bytes.Buffer
	writeReference(&b, all.Registry())
	if got := s[i+len(begin) : j]; got != b.String() {
		if *update {
			os.WriteFile(path, []byte(s[:i+len(begin)]+b.String()+s[j:]), 0o644)
			return
		}
		t.Fatal("SPEC.md's node reference is out of date: run go test ./cmd/ntedsl -update")
	}
}

func TestDescribeAndSchedule(t *testing.T) {
	code, out, _ := ntedsl(t, "describe", "Sc2(WO4)3")
	if code != 0 || !strings.Contains(out, "Sc3+") || !strings.Contains(out, "W6+") || !strings.Contains(out, "A_shannon_radius_mean     0.745") {
		t.Fatalf("describe: %d\n%s", code, out)
	}
	code, _, errs := ntedsl(t, "describe", "Sc2(WO4)3x")
	if code != exitUsage || !strings.Contains(errs, "column 10") {
		t.Fatalf("describe bad token: %d %s", code, errs)
	}
	code, _, errs = ntedsl(t, "describe", "Zr2S0.9P2O12-d")
	if code != exitFailed || !strings.Contains(errs, "Zr2S0.9P2O12-d") {
		t.Fatalf("describe unbalanceable: %d %s", code, errs)
	}
	if code, out, _ = ntedsl(t, "describe", "Zr2S0.9P2O12-d", "-oxygen-deficiency"); code != 0 {
		t.Fatalf("describe with oxygen deficiency: %d %s", code, out)
	}
	svg := filepath.Join(t.TempDir(), "s.svg")
	code, out, _ = ntedsl(t, "schedule", "-beta-end", "0.05", "-svg", svg)
	if code != 0 || !strings.Contains(out, "ᾱ_{T−1} = 0.4091") {
		t.Fatalf("schedule: %s", out)
	}
	if b, err := os.ReadFile(svg); err != nil || !bytes.HasPrefix(b, []byte("<svg")) {
		t.Fatal("no figure")
	}
	if code, _, errs = ntedsl(t, "schedule", "-beta-end", "1.5"); code != exitUsage || !strings.Contains(errs, "beta_end") {
		t.Fatalf("schedule error: %s", errs)
	}
}

// TestPipelineDeterministicAcrossJobs runs the baseline study (2 repetitions, 1 for the
// deep GP) with -j 1 and -j 2 into two output folders and requires byte-identical results,
// then checks that a re-run is served entirely from the cache.
func TestPipelineDeterministicAcrossJobs(t *testing.T) {
	dir := t.TempDir()
	study := filepath.Join("..", "..", "pipelines", "nte_baseline.hcl")
	outs := map[string]map[string]string{}
	for _, j := range []string{"1", "2"} {
		out := filepath.Join(dir, "out"+j)
		code, _, errs := ntedsl(t, "run", study, "-var", "repeats=2", "-var", "dgp_repeats=1", "-j", j, "--cache", filepath.Join(dir, "cache"+j), "--out", out)
		if code != 0 {
			t.Fatalf("-j %s: exit %d\n%s", j, code, errs)
		}
		files := map[string]string{}
		entries, _ := os.ReadDir(out)
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(out, e.Name()))
			files[e.Name()] = string(b)
		}
		outs[j] = files
	}
	if len(outs["1"]) < 10 {
		t.Fatalf("only %d result files", len(outs["1"]))
	}
	for name, b := range outs["1"] {
		if outs["2"][name] != b {
			t.Errorf("%s differs between -j 1 and -j 2", name)
		}
	}
	code, out, _ := ntedsl(t, "run", study, "-var", "repeats=2", "-var", "dgp_repeats=1", "--cache", filepath.Join(dir, "cache1"), "--out", filepath.Join(dir, "out1"), "--json")
	if code != 0 || strings.Contains(out, `"event":"node_start"`) {
		t.Fatalf("re-run computed something:\n%s", out)
	}
}

// TestRunRemovesFilesTheStudyNoLongerWrites: dropping an instance from a for_each removes its
// result files from the output folder on the next run, and run says so.
func TestRunRemovesFilesTheStudyNoLongerWrites(t *testing.T) {
	path := study(t)
	dir := filepath.Dir(path)
	args := []string{"run", path, "--cache", filepath.Join(dir, "c"), "--out", filepath.Join(dir, "out")}
	if code, _, errs := ntedsl(t, args...); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	src, _ := os.ReadFile(path)
	edited := strings.Replace(string(src), "{ x1 = 1, x2 = 2 }", "{ x1 = 1 }", 1)
	if edited == string(src) {
		t.Fatal("the demo study changed; adjust this test")
	}
	os.WriteFile(path, []byte(edited), 0o644)
	code, out, errs := ntedsl(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "removed 2 outdated file(s) that the study no longer writes: table.scaled.x2.csv, table.scaled.x2.json") {
		t.Fatalf("stdout:\n%s", out)
	}
	for _, name := range []string{"table.scaled.x2.csv", "table.scaled.x2.json"} {
		if _, err := os.Stat(filepath.Join(dir, "out", name)); err == nil {
			t.Errorf("%s is still in the output folder", name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "table.scaled.x1.csv")); err != nil {
		t.Error(err)
	}
}

// TestEditedDataFileReruns: a data file's content is part of its dataset's cache key. Plan
// names the changed file, the run recomputes the dataset and what depends on it, and
// rewriting the file with the same bytes recomputes nothing.
func TestEditedDataFileReruns(t *testing.T) {
	path := study(t)
	dir := filepath.Dir(path)
	csvPath := filepath.Join(dir, "demo.csv")
	cache := filepath.Join(dir, "c")
	started := func() []string {
		t.Helper()
		code, out, errs := ntedsl(t, "run", path, "--cache", cache, "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var addrs []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var ev struct{ Event, Addr string }
			json.Unmarshal([]byte(line), &ev)
			if ev.Event == "node_start" {
				addrs = append(addrs, ev.Addr)
			}
		}
		return addrs
	}
	if n := len(started()); n != 3 {
		t.Fatalf("first run started %d nodes", n)
	}
	src, _ := os.ReadFile(csvPath)
	os.WriteFile(csvPath, src, 0o644) // same bytes, new modification time
	if s := started(); len(s) != 0 {
		t.Fatalf("rewriting the same bytes re-ran %v", s)
	}

	os.WriteFile(csvPath, []byte(strings.Replace(string(src), "-7.0", "-7.5", 1)), 0o644)
	code, out, _ := ntedsl(t, "plan", path, "--cache", cache)
	if code != 0 || !strings.Contains(out, "run      dataset.d           file demo.csv changed") {
		t.Fatalf("plan after the edit:\n%s", out)
	}
	if s := started(); len(s) != 3 {
		t.Fatalf("after editing the data file, started %v; want the dataset and both tables", s)
	}
}
