package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ntedsl/ntedsl/lang"
)

func outputStudy(body string) string {
	return "study {\n  name = \"outputs\"\n  seed = 1\n}\nvariable \"n\" { default = 3 }\n" + body
}

func fileNames(node string, names ...string) []string {
	var out []string
	for _, n := range names {
		out = append(out, FileStem(node)+"_"+n+".txt")
	}
	return out
}

func loadManifest(t *testing.T, dir string) *manifest {
	t.Helper()
	m, err := readManifest(dir)
	if err != nil || m == nil {
		t.Fatalf("manifest: %v, %v", m, err)
	}
	return m
}

func warnings(rec *recorder) string {
	var out []string
	for _, ev := range rec.events {
		if ev.Kind == Warning {
			out = append(out, ev.Message)
		}
	}
	return strings.Join(out, "\n")
}

// TestOutputFolderFollowsTheStudy edits a study so that a node writes fewer files, a block
// disappears, a node fails, and checks what the output folder and its manifest hold after
// each run: superseded files go, a user's edit and a failed node's last results stay.
func TestOutputFolderFollowsTheStudy(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	cache := filepath.Join(dir, "cache")
	reg, _ := testRegistry(nil)
	run := func(body string) (*Result, *recorder, error) {
		t.Helper()
		e, rec := newEngine(t, reg, cache, out, 2)
		res, err := e.Run(context.Background(), loadStudy(t, reg, dir, outputStudy(body)))
		return res, rec, err
	}
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(out, name))
		return err == nil
	}

	v1 := `
files "f" {
  names = ["a", "b", "c"]
  text  = "v1"
}
files "g" { names = ["x"] }
files "h" { names = ["y"] }
`
	if _, _, err := run(v1); err != nil {
		t.Fatal(err)
	}
	m := loadManifest(t, out)
	if len(m.Files) != 5 || m.Study != "outputs" || m.Seed != "1" || string(m.Variables["n"]) != "3" {
		t.Fatalf("manifest after the first run: %+v", m)
	}
	for _, f := range m.Files {
		data, err := os.ReadFile(filepath.Join(out, f.Name))
		if err != nil || fileSHA256(data) != f.SHA256 || !strings.HasPrefix(f.Key, "sha256:") || f.Stale {
			t.Fatalf("manifest entry %+v does not describe the file on disk (%v)", f, err)
		}
	}
	// Result files are readable by others, like any file a program writes (not 0600).
	for _, name := range []string{ManifestName, m.Files[0].Name} {
		info, err := os.Stat(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o644 {
			t.Fatalf("%s: mode %v, want 0644", name, info.Mode().Perm())
		}
	}
	first, _ := os.ReadFile(filepath.Join(out, ManifestName))

	// A fully cached re-run into another folder writes the same manifest.
	e, _ := newEngine(t, reg, cache, filepath.Join(dir, "out2"), 1)
	if res, err := e.Run(context.Background(), loadStudy(t, reg, dir, outputStudy(v1))); err != nil || res.Cached != 3 {
		t.Fatalf("cached re-run: %v, %+v", err, res)
	}
	if second, _ := os.ReadFile(filepath.Join(dir, "out2", ManifestName)); string(second) != string(first) {
		t.Fatalf("the manifest depends on caching:\n%s\n%s", first, second)
	}

	// f drops "c"; g leaves the study; h leaves it too, but a user edited h's file.
	hy := fileNames("files.h", "y")[0]
	if err := os.WriteFile(filepath.Join(out, hy), []byte("my notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, rec, err := run(`
files "f" {
  names = ["a", "b"]
  text  = "v1"
}
`)
	if err != nil {
		t.Fatal(err)
	}
	wantRemoved := append(fileNames("files.f", "c"), fileNames("files.g", "x")...)
	if !slices.Equal(res.Removed, wantRemoved) {
		t.Fatalf("removed %v, want %v", res.Removed, wantRemoved)
	}
	for _, name := range wantRemoved {
		if exists(name) {
			t.Fatalf("%s is still there", name)
		}
	}
	if !exists(hy) || !strings.Contains(warnings(rec), "kept "+filepath.Join(out, hy)+": it was changed after ntedsl wrote it") {
		t.Fatalf("the edited file: exists %v, warnings %q", exists(hy), warnings(rec))
	}
	if m := loadManifest(t, out); len(m.Files) != 2 {
		t.Fatalf("manifest after the edit: %+v", m)
	}

	// f fails: its last files stay, marked stale.
	res, _, err = run(`
files "f" {
  names = ["a", "b"]
  text  = "v2"
  fail  = true
}
`)
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("err = %v", err)
	}
	fab := fileNames("files.f", "a", "b")
	if !slices.Equal(res.Stale, fab) || !slices.Equal(res.StaleNodes, []string{"files.f"}) || len(res.Removed) != 0 || !exists(fab[0]) || !exists(fab[1]) {
		t.Fatalf("after a failure: stale %v of %v, removed %v", res.Stale, res.StaleNodes, res.Removed)
	}
	for _, f := range loadManifest(t, out).Files {
		if !f.Stale {
			t.Fatalf("%s is not marked stale", f.Name)
		}
	}

	// f succeeds again with one name: "b" goes, nothing is stale.
	res, _, err = run(`
files "f" {
  names = ["a"]
  text  = "v2"
}
`)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Removed, fileNames("files.f", "b")) || len(res.Stale) != 0 {
		t.Fatalf("removed %v, stale %v", res.Removed, res.Stale)
	}
	m = loadManifest(t, out)
	if len(m.Files) != 1 || m.Files[0].Stale {
		t.Fatalf("final manifest: %+v", m)
	}
	if b, _ := os.ReadFile(filepath.Join(out, fab[0])); string(b) != "v2 a\n" {
		t.Fatalf("file content %q", b)
	}
}

// TestOutputFolderOfAnotherStudyIsLeftAlone: pointing a second study at a folder leaves the
// first study's files in place.
func TestOutputFolderOfAnotherStudyIsLeftAlone(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	reg, _ := testRegistry(nil)
	e, _ := newEngine(t, reg, filepath.Join(dir, "cache"), out, 2)
	if _, err := e.Run(context.Background(), loadStudy(t, reg, dir, outputStudy(`files "f" { names = ["a"] }`))); err != nil {
		t.Fatal(err)
	}
	other := `
study {
  name = "other"
  seed = 1
}
files "g" { names = ["b"] }
`
	e, rec := newEngine(t, reg, filepath.Join(dir, "cache"), out, 2)
	res, err := e.Run(context.Background(), loadStudy(t, reg, dir, other))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Removed) != 0 || !strings.Contains(warnings(rec), "held the results of study outputs") {
		t.Fatalf("removed %v; warnings %q", res.Removed, warnings(rec))
	}
	if _, err := os.Stat(filepath.Join(out, fileNames("files.f", "a")[0])); err != nil {
		t.Fatal(err)
	}
	var m manifest
	b, _ := os.ReadFile(filepath.Join(out, ManifestName))
	if err := json.Unmarshal(b, &m); err != nil || m.Study != "other" || len(m.Files) != 1 {
		t.Fatalf("manifest %s (%v)", b, err)
	}
}

// TestManifestNeverReachesOutsideTheFolder: a manifest entry that is not a plain file name
// (an edited or corrupted manifest) never makes a run delete anything outside the folder.
func TestManifestNeverReachesOutsideTheFolder(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	os.MkdirAll(out, 0o755)
	victim := filepath.Join(dir, "precious.txt")
	os.WriteFile(victim, []byte("keep me\n"), 0o644)
	m := manifest{Schema: manifestSchema, Study: "outputs", Files: []manifestFile{
		{Name: "../precious.txt", Node: "files.gone", SHA256: fileSHA256([]byte("keep me\n"))},
	}}
	b, _ := json.Marshal(m)
	os.WriteFile(filepath.Join(out, ManifestName), b, 0o644)
	reg, _ := testRegistry(nil)
	e, _ := newEngine(t, reg, filepath.Join(dir, "cache"), out, 1)
	res, err := e.Run(context.Background(), loadStudy(t, reg, dir, outputStudy(`files "f" { names = ["a"] }`)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(victim); err != nil || len(res.Removed) != 0 {
		t.Fatalf("a file outside the output folder was removed (%v, removed %v)", err, res.Removed)
	}
}

// TestUnwritableFileKeepsTheEarlierOnes: when a node's new files cannot all be written, its
// earlier files are kept (and marked stale) instead of being removed as outdated.
func TestUnwritableFileKeepsTheEarlierOnes(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	reg, _ := testRegistry(nil)
	run := func(names string) (*Result, *recorder) {
		e, rec := newEngine(t, reg, filepath.Join(dir, "cache"), out, 1)
		res, err := e.Run(context.Background(), loadStudy(t, reg, dir, outputStudy(`files "f" { names = `+names+` }`)))
		if err != nil {
			t.Fatal(err)
		}
		return res, rec
	}
	run(`["a", "b"]`)
	// A non-empty directory where the new file "c" must go makes its write fail.
	blocker := filepath.Join(out, fileNames("files.f", "c")[0])
	os.MkdirAll(filepath.Join(blocker, "x"), 0o755)
	res, rec := run(`["a", "c"]`)
	b := fileNames("files.f", "b")[0]
	if _, err := os.Stat(filepath.Join(out, b)); err != nil || len(res.Removed) != 0 || !slices.Contains(res.Stale, b) {
		t.Fatalf("%s: %v; removed %v, stale %v", b, err, res.Removed, res.Stale)
	}
	if !strings.Contains(warnings(rec), "could not write result files") {
		t.Fatalf("warnings %q", warnings(rec))
	}
}

// TestCopiedStudyLeavesTheOriginalsFiles: a copy of a study under another file name that
// keeps the study name writes to the same folder, but never removes the original's files.
func TestCopiedStudyLeavesTheOriginalsFiles(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	reg, _ := testRegistry(nil)
	e, _ := newEngine(t, reg, filepath.Join(dir, "cache"), out, 1)
	if _, err := e.Run(context.Background(), loadStudy(t, reg, dir, outputStudy(`files "f" { names = ["a"] }`))); err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(dir, "copy.hcl")
	os.WriteFile(copyPath, []byte(outputStudy(`files "g" { names = ["b"] }`)), 0o644)
	st, diags := lang.Load(copyPath, lang.Options{Catalog: reg})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	e, rec := newEngine(t, reg, filepath.Join(dir, "cache"), out, 1)
	res, err := e.Run(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, fileNames("files.f", "a")[0])); err != nil || len(res.Removed) != 0 {
		t.Fatalf("the original's file: %v; removed %v", err, res.Removed)
	}
	if !strings.Contains(warnings(rec), "held the results of study outputs (study.hcl)") {
		t.Fatalf("warnings %q", warnings(rec))
	}
}
