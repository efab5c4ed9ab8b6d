package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/nodes"
	"github.com/ntedsl/ntedsl/runtime"
)

// printResults shows what a run produced: the summaries of result values, the failures
// with their errors (HCL diagnostics rendered with source), and the output folder.
func printResults(stdout, stderr io.Writer, st *lang.Study, e *runtime.Engine, res *runtime.Result) {
	for _, in := range st.Instances {
		if s, ok := res.Values[in.Addr].(nodes.Summarizer); ok {
			fmt.Fprintf(stdout, "\n%s\n%s\n", in.Addr, s.Summary())
		}
	}
	if len(res.Failures) > 0 {
		fmt.Fprintf(stderr, "\n%d node instance(s) did not finish:\n", len(res.Failures))
		for _, f := range res.Failures {
			if f.Skipped {
				fmt.Fprintf(stderr, "  %s: %v\n", f.Addr, f.Err)
				continue
			}
			if errors.Is(f.Err, context.Canceled) {
				fmt.Fprintf(stderr, "  %s: interrupted\n", f.Addr)
				continue
			}
			var d nodes.Diagnostics
			if errors.As(f.Err, &d) {
				fmt.Fprintf(stderr, "  %s failed:\n", f.Addr)
				printDiags(stderr, st.Files, hcl.Diagnostics(d))
				continue
			}
			fmt.Fprintf(stderr, "  %s failed: %v\n", f.Addr, f.Err)
		}
	}
	if len(res.Files) > 0 {
		fmt.Fprintf(stdout, "\nresults: %s (%d files)\n", e.OutDir, len(res.Files))
		for _, f := range res.Files {
			if strings.HasSuffix(f, ".html") {
				fmt.Fprintf(stdout, "report:  %s\n", filepath.Join(e.OutDir, f))
			}
		}
	}
	if len(res.Removed) > 0 {
		fmt.Fprintf(stdout, "removed %d outdated file(s) that the study no longer writes: %s\n", len(res.Removed), strings.Join(res.Removed, ", "))
	}
	if len(res.Stale) > 0 {
		fmt.Fprintf(stderr, "%d file(s) in %s are from an earlier run of nodes that did not finish this time (marked stale in %s): %s\n",
			len(res.Stale), e.OutDir, runtime.ManifestName, strings.Join(res.StaleNodes, ", "))
	}
}

func cmdPlan(o *options, reg *nodes.Registry, st *lang.Study, stdout, stderr io.Writer) int {
	e, err := openEngine(o, reg, st)
	if err != nil {
		fmt.Fprintln(stderr, "ntedsl:", err)
		return exitFailed
	}
	plan, err := e.Plan(context.Background(), st)
	if err != nil {
		fmt.Fprintln(stderr, "ntedsl plan:", err)
		return exitFailed
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(plan)
		return exitOK
	}
	counts := map[string]int{}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, p := range plan {
		counts[p.Status]++
		if p.Status == "cheap" {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Status, p.Addr, strings.Join(p.Reasons, "; "))
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\n%d cached, %d will run, %d pending (may still come from the cache)\n", counts["cached"], counts["run"], counts["pending"])
	return exitOK
}

// writeDOT prints the instance graph; edges point from an input to its user.
func writeDOT(w io.Writer, st *lang.Study) {
	fmt.Fprintf(w, "digraph %q {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n", st.Name)
	for _, in := range st.Instances {
		label := strings.ReplaceAll(in.Addr, `"`, `\"`) + `\n(` + in.Block.Kind.Name + ")"
		fmt.Fprintf(w, "  %q [label=\"%s\"];\n", in.Addr, label)
	}
	for _, in := range st.Instances {
		seen := map[string]bool{}
		for _, r := range in.Refs {
			if !seen[r.Addr] {
				seen[r.Addr] = true
				fmt.Fprintf(w, "  %q -> %q;\n", r.Addr, in.Addr)
			}
		}
	}
	fmt.Fprintln(w, "}")
}

func cmdFmt(o *options, stdout, stderr io.Writer) int {
	if len(o.args) == 0 {
		fmt.Fprintln(stderr, "ntedsl fmt: give one or more study files")
		return exitUsage
	}
	code := exitOK
	for _, path := range o.args {
		src, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(stderr, "ntedsl fmt:", err)
			code = exitFailed
			continue
		}
		f, diags := hclwrite.ParseConfig(src, path, hcl.InitialPos)
		if diags.HasErrors() {
			printDiags(stderr, nil, diags)
			code = exitUsage
			continue
		}
		out := f.Bytes()
		if string(out) == string(src) {
			continue
		}
		if o.check {
			fmt.Fprintln(stdout, path)
			code = exitFailed
			continue
		}
		info, _ := os.Stat(path)
		tmp := path + ".fmt-tmp"
		if err := os.WriteFile(tmp, out, info.Mode().Perm()); err != nil {
			fmt.Fprintln(stderr, "ntedsl fmt:", err)
			code = exitFailed
			continue
		}
		if err := os.Rename(tmp, path); err != nil {
			os.Remove(tmp)
			fmt.Fprintln(stderr, "ntedsl fmt:", err)
			code = exitFailed
			continue
		}
		fmt.Fprintln(stdout, path)
	}
	return code
}

func cmdNodes(o *options, reg *nodes.Registry, stdout, stderr io.Writer) int {
	if o.markdown {
		writeReference(stdout, reg)
		return exitOK
	}
	kinds := reg.Kinds()
	if len(o.args) > 0 {
		k, ok := reg.Kind(o.args[0])
		if !ok {
			fmt.Fprintf(stderr, "ntedsl nodes: there is no node kind %q", o.args[0])
			if s := lang.Suggest(o.args[0], reg.Names()); s != "" {
				fmt.Fprintf(stderr, "; did you mean %q?", s)
			}
			fmt.Fprintln(stderr)
			return exitUsage
		}
		kinds = []*nodes.Kind{k}
	}
	for i, k := range kinds {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "%s (version %d) → %s\n  %s\n", k.Name, k.Version, k.Output, k.Doc)
		for _, a := range k.Schema.Attrs {
			req := ""
			switch {
			case a.Required:
				req = ", required"
			case a.Default != "":
				req = ", default " + a.Default
			}
			if len(a.Enum) > 0 {
				req += ", one of " + strings.Join(a.Enum, " | ")
			}
			if len(a.Accepts) > 0 {
				req += ", a node producing " + strings.Join(a.Accepts, " or ")
			}
			fmt.Fprintf(stdout, "  %-16s %s%s\n", a.Name, a.TypeName, req)
			if a.Doc != "" {
				fmt.Fprintf(stdout, "  %-16s %s\n", "", a.Doc)
			}
		}
	}
	return exitOK
}

func cmdCache(o *options, reg *nodes.Registry, stdout, stderr io.Writer) int {
	if len(o.args) == 0 {
		fmt.Fprintln(stderr, "ntedsl cache: give ls, gc or clear")
		return exitUsage
	}
	sub := o.args[0]
	dir := o.cacheDir
	if dir == "" {
		base := "."
		if len(o.args) > 1 {
			base = filepath.Dir(o.args[1])
		}
		dir = filepath.Join(base, ".ntedsl", "cache")
	}
	if _, err := os.Stat(dir); err != nil {
		fmt.Fprintf(stderr, "ntedsl cache: no cache at %s\n", dir)
		return exitFailed
	}
	c, err := runtime.OpenCache(dir, reg)
	if err != nil {
		fmt.Fprintln(stderr, "ntedsl cache:", err)
		return exitFailed
	}
	switch sub {
	case "ls":
		recs, err := c.Entries()
		if err != nil {
			fmt.Fprintln(stderr, "ntedsl cache:", err)
			return exitFailed
		}
		sort.SliceStable(recs, func(i, j int) bool { return recs[i].Addr < recs[j].Addr })
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		total := 0
		for _, r := range recs {
			total += r.Size
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d B\t%s\n", strings.TrimPrefix(r.Key, "sha256:")[:12], r.Addr, r.Type, r.Size, r.Created)
		}
		tw.Flush()
		fmt.Fprintf(stdout, "%d entries, %d bytes, in %s\n", len(recs), total, dir)
	case "gc":
		var age time.Duration
		if o.olderThan != "" {
			if age, err = time.ParseDuration(o.olderThan); err != nil {
				fmt.Fprintln(stderr, "ntedsl cache gc: -older-than:", err)
				return exitUsage
			}
		}
		st, err := c.GC(age, time.Now())
		if err != nil {
			fmt.Fprintln(stderr, "ntedsl cache gc:", err)
			return exitFailed
		}
		fmt.Fprintf(stdout, "removed %d records, %d unreferenced blobs (%d bytes), %d leftover temporary files\n", st.Records, st.Blobs, st.Bytes, st.Temps)
	case "clear":
		if err := c.Clear(); err != nil {
			fmt.Fprintln(stderr, "ntedsl cache clear:", err)
			return exitFailed
		}
		fmt.Fprintf(stdout, "cleared %s\n", dir)
	default:
		fmt.Fprintf(stderr, "ntedsl cache: unknown subcommand %q (ls, gc, clear)\n", sub)
		return exitUsage
	}
	return exitOK
}
