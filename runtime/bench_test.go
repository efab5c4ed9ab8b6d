package runtime

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ntedsl/ntedsl/lang"
)

// syntheticStudy is a layered graph of n trivial nodes: 100 sources, then sums each
// reading two earlier nodes.
func syntheticStudy(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i < 100 {
			fmt.Fprintf(&b, "src \"n%d\" { value = %d }\n", i, i)
			continue
		}
		a, c := (i*7919)%i, (i*104729+13)%i
		fmt.Fprintf(&b, "sum \"n%d\" {\n  inputs = [%s, %s]\n  add = %d\n}\n", i, ref(a), ref(c), i)
	}
	return b.String()
}

func ref(i int) string {
	if i < 100 {
		return fmt.Sprintf("src.n%d", i)
	}
	return fmt.Sprintf("sum.n%d", i)
}

// BenchmarkSyntheticGraph2000 plans and runs a 2,000-node graph of trivial nodes with an
// on-disk cache: cold (empty cache) and fully cached (a fresh process's view: new cache
// object, so every value comes from disk). Loading the study file is measured apart, by
// BenchmarkLoadSynthetic2000.
func BenchmarkSyntheticGraph2000(b *testing.B) {
	reg, _ := testRegistry(nil)
	src := syntheticStudy(2000)
	for _, mode := range []string{"cold", "cached"} {
		b.Run(mode, func(b *testing.B) {
			dir := b.TempDir()
			st := loadStudy(b, reg, dir, src)
			if mode == "cached" {
				e, _ := newEngine(b, reg, filepath.Join(dir, "cache"), "", 2)
				if _, err := e.Run(context.Background(), st); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				cacheDir := filepath.Join(dir, "cache")
				if mode == "cold" {
					cacheDir = filepath.Join(dir, fmt.Sprint("cold", i))
				}
				e, _ := newEngine(b, reg, cacheDir, "", 2)
				e.Observe = nil
				if _, err := e.Plan(context.Background(), st); err != nil {
					b.Fatal(err)
				}
				res, err := e.Run(context.Background(), st)
				if err != nil {
					b.Fatal(err)
				}
				if mode == "cached" && res.Cached != 2000 || mode == "cold" && res.Ran != 2000 {
					b.Fatalf("%s: ran %d cached %d", mode, res.Ran, res.Cached)
				}
			}
		})
	}
}

// BenchmarkLoadSynthetic2000 parses, checks and decodes the 2,000-block study file.
func BenchmarkLoadSynthetic2000(b *testing.B) {
	reg, _ := testRegistry(nil)
	src := []byte(syntheticStudy(2000))
	for i := 0; i < b.N; i++ {
		if _, diags := lang.LoadSource("synthetic.hcl", src, lang.Options{Catalog: reg}); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}

func TestConcurrentRunsShareOneCacheDirectory(t *testing.T) {
	dir := t.TempDir()
	cacheDir := filepath.Join(dir, "cache")
	reg, _ := testRegistry(nil)
	src := syntheticStudy(300)
	st := loadStudy(t, reg, dir, src)
	// Four engines with their own cache objects (as four processes would have) race on
	// one directory.
	var wg sync.WaitGroup
	digests := make([]map[string]string, 4)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			e, _ := newEngine(t, reg, cacheDir, "", 1+w)
			res, err := e.Run(context.Background(), st)
			if err != nil {
				t.Error(err)
				return
			}
			digests[w] = res.Digests
		}(w)
	}
	wg.Wait()
	for w := 1; w < 4; w++ {
		for k, d := range digests[0] {
			if digests[w][k] != d {
				t.Fatalf("run %d disagrees on %s", w, k)
			}
		}
	}
	// Every entry on disk is intact and complete.
	e, rec := newEngine(t, reg, cacheDir, "", 2)
	res, err := e.Run(context.Background(), loadStudy(t, reg, dir, src))
	if err != nil || res.Cached != 300 || len(rec.kinds(Warning)) != 0 {
		t.Fatalf("after concurrent runs: err %v, cached %d, warnings %v", err, res.Cached, rec.kinds(Warning))
	}
	recs, _ := e.Cache.Entries()
	if len(recs) != 300 {
		t.Fatalf("%d records on disk, want 300", len(recs))
	}
}

// TestHelperProcessRun is not a test: TestTwoProcessesShareOneCache runs the test binary
// as a separate process with NTEDSL_HELPER_CACHE set, and this function then runs the
// synthetic study against that cache directory.
func TestHelperProcessRun(t *testing.T) {
	dir := os.Getenv("NTEDSL_HELPER_CACHE")
	if dir == "" {
		return
	}
	reg, _ := testRegistry(nil)
	st := loadStudy(t, reg, t.TempDir(), syntheticStudy(400))
	e, _ := newEngine(t, reg, dir, "", 2)
	if _, err := e.Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
}

func TestTwoProcessesShareOneCache(t *testing.T) {
	if os.Getenv("NTEDSL_HELPER_CACHE") != "" {
		return
	}
	cacheDir := filepath.Join(t.TempDir(), "cache")
	var cmds []*exec.Cmd
	for i := 0; i < 2; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcessRun$", "-test.count=1")
		cmd.Env = append(os.Environ(), "NTEDSL_HELPER_CACHE="+cacheDir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper process: %v", err)
		}
	}
	reg, _ := testRegistry(nil)
	e, rec := newEngine(t, reg, cacheDir, "", 2)
	res, err := e.Run(context.Background(), loadStudy(t, reg, t.TempDir(), syntheticStudy(400)))
	if err != nil || res.Cached != 400 || len(rec.kinds(Warning)) != 0 {
		t.Fatalf("after two processes: err %v, cached %d, warnings %v", err, res.Cached, rec.kinds(Warning))
	}
	// No temporary files are left behind.
	var temps []string
	filepath.WalkDir(cacheDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			temps = append(temps, p)
		}
		return nil
	})
	if len(temps) > 0 {
		t.Fatalf("temporary files left: %v", temps)
	}
}
