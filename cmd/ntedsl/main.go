// Command ntedsl runs machine-learning studies declared as HCL files: it validates and
// plans them, runs them concurrently with a content-addressed cache, and writes result
// tables to an output folder. Run `ntedsl help` for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	goruntime "runtime"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/hashicorp/hcl/v2"
	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/nodes"
	"github.com/ntedsl/ntedsl/nodes/all"
	"github.com/ntedsl/ntedsl/runtime"
	"github.com/ntedsl/ntedsl/stdlib/autodiff"
	"golang.org/x/term"
)

const usage = `ntedsl — machine-learning studies declared as HCL files

Usage:
  ntedsl run FILE       run a study (only what changed is recomputed)
  ntedsl plan FILE      say, per node instance, whether it is cached or will run, and why
  ntedsl validate FILE  check a study without running it
  ntedsl graph FILE     print the study graph in Graphviz DOT
  ntedsl fmt FILE...    format study files in place (-check: only report)
  ntedsl nodes [KIND]   list the node kinds and their attributes (--markdown: as in SPEC.md)
  ntedsl cache ls|gc|clear [FILE]  inspect or prune the cache of a study (or of --cache DIR)
  ntedsl describe FORMULA  composition, oxidation states, sites and descriptors of one compound
                        (-m-site W,Mo,Cr  -states Fe=2  -oxygen-deficiency)
  ntedsl schedule       print a noise schedule (-kind power|cosine|midcourse -steps 50 -power 0.5
                        -beta-start 1e-4 -beta-end 0.05 -omega 0.005, or -beta "formula in u,t,T";
                        -svg FILE to plot it)

Common flags (before or after FILE):
  -var NAME=VALUE   set a variable (repeatable)     -var-file FILE  read variables from a file
  -j N              worker budget (default: number of CPUs)
  --cache DIR       cache directory (default: .ntedsl/cache beside the study)
  --out DIR         output folder (default: out/<study name> beside the study)
  --json            machine-readable output (plan, and run events as JSON lines)
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// exit codes
const (
	exitOK       = 0
	exitFailed   = 1 // the study ran but some node failed
	exitUsage    = 2 // bad command line or invalid study
	exitCanceled = 130
)

type options struct {
	vars     multiFlag
	varFiles multiFlag
	jobs     int
	cacheDir string
	outDir   string
	json     bool
	check    bool
	markdown bool
	cpuprof  string
	// describe
	mSite            string
	states           string
	oxygenDeficiency bool
	// schedule
	sched     nodes.ScheduleConfig
	betaExpr  string
	svg       string
	olderThan string
	args      []string
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// parseFlags accepts flags before and after positional arguments.
func parseFlags(name string, args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&o.vars, "var", "set a variable, NAME=VALUE")
	fs.Var(&o.varFiles, "var-file", "read variables from an HCL file")
	fs.IntVar(&o.jobs, "j", goruntime.GOMAXPROCS(0), "worker budget")
	fs.StringVar(&o.cacheDir, "cache", "", "cache directory")
	fs.StringVar(&o.outDir, "out", "", "output folder")
	fs.BoolVar(&o.json, "json", false, "JSON output")
	fs.BoolVar(&o.check, "check", false, "fmt: report files that are not formatted, change nothing")
	fs.StringVar(&o.cpuprof, "cpuprofile", "", "run: write a Go CPU profile of the run to this file (go tool pprof)")
	fs.BoolVar(&o.markdown, "markdown", false, "nodes: print the reference as Markdown (the generated part of SPEC.md)")
	fs.StringVar(&o.olderThan, "older-than", "", "cache gc: also remove entries older than this (e.g. 720h)")
	fs.StringVar(&o.mSite, "m-site", "", "describe: M-site elements, comma-separated (default W,Mo,V,P,S)")
	fs.StringVar(&o.states, "states", "", "describe: fixed oxidation states, e.g. Fe=2,Mn=2")
	fs.BoolVar(&o.oxygenDeficiency, "oxygen-deficiency", false, "describe: let O12-d formulas balance with 0 ≤ δ ≤ 1")
	d := nodes.DefaultSchedule
	fs.StringVar(&o.sched.Kind, "kind", d.Kind, "schedule: power, cosine or midcourse")
	fs.IntVar(&o.sched.Steps, "steps", d.Steps, "schedule: number of steps T")
	fs.Float64Var(&o.sched.Power, "power", d.Power, "schedule: exponent p of the power schedule (0.5 = quad, 1 = linear)")
	fs.Float64Var(&o.sched.BetaStart, "beta-start", d.BetaStart, "schedule: β_0")
	fs.Float64Var(&o.sched.BetaEnd, "beta-end", d.BetaEnd, "schedule: β_{T−1}")
	fs.Float64Var(&o.sched.Omega, "omega", d.Omega, "schedule: ω of the mid-course schedule")
	fs.StringVar(&o.betaExpr, "beta", "", "schedule: expr-lang formula for β_t in u, t, T")
	fs.StringVar(&o.svg, "svg", "", "schedule: also write a figure to this SVG file")
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		o.args = append(o.args, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if o.jobs < 1 {
		return nil, fmt.Errorf("-j must be at least 1")
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	// Parallelism comes from the engine's worker budget (-j), shared by nodes and their
	// folds; the autodiff kernels must not spawn their own threads on top of it.
	autodiff.SetMaxThreads(1)
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	cmd, rest := args[0], args[1:]
	o, err := parseFlags(cmd, rest, stderr)
	if err != nil {
		return exitUsage
	}
	reg := all.Registry()
	switch cmd {
	case "run", "plan", "validate", "graph":
		if len(o.args) != 1 {
			fmt.Fprintf(stderr, "ntedsl %s: give exactly one study file\n", cmd)
			return exitUsage
		}
		st, ok := load(o, reg, stderr)
		if !ok {
			return exitUsage
		}
		switch cmd {
		case "validate":
			fmt.Fprintf(stdout, "%s is valid: %d blocks, %d node instances\n", st.Path, len(st.Blocks), len(st.Instances))
			return exitOK
		case "graph":
			writeDOT(stdout, st)
			return exitOK
		case "plan":
			return cmdPlan(o, reg, st, stdout, stderr)
		default:
			return cmdRun(o, reg, st, stdout, stderr)
		}
	case "fmt":
		return cmdFmt(o, stdout, stderr)
	case "nodes":
		return cmdNodes(o, reg, stdout, stderr)
	case "describe":
		return cmdDescribe(o, stdout, stderr)
	case "schedule":
		return cmdSchedule(o, stdout, stderr)
	case "cache":
		return cmdCache(o, reg, stdout, stderr)
	}
	fmt.Fprintf(stderr, "ntedsl: unknown command %q", cmd)
	if s := lang.Suggest(cmd, []string{"run", "plan", "validate", "graph", "fmt", "nodes", "cache", "describe", "schedule", "help"}); s != "" {
		fmt.Fprintf(stderr, "; did you mean %q?", s)
	}
	fmt.Fprintln(stderr)
	return exitUsage
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func termWidth(w io.Writer) uint {
	if f, ok := w.(*os.File); ok {
		if wd, _, err := term.GetSize(int(f.Fd())); err == nil && wd > 20 {
			return uint(wd)
		}
	}
	return 100
}

func printDiags(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics) {
	_ = lang.WriteDiagnostics(w, files, diags, termWidth(w), isTerminal(w))
}

func load(o *options, reg *nodes.Registry, stderr io.Writer) (*lang.Study, bool) {
	st, diags := lang.Load(o.args[0], lang.Options{Catalog: reg, Vars: o.vars, VarFiles: o.varFiles})
	if diags.HasErrors() {
		files := map[string]*hcl.File{}
		if st != nil {
			files = st.Files
		}
		printDiags(stderr, files, diags)
		n := 0
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				n++
			}
		}
		fmt.Fprintf(stderr, "%s: %d error(s); nothing was run.\n", o.args[0], n)
		return nil, false
	}
	if len(diags) > 0 {
		printDiags(stderr, st.Files, diags)
	}
	return st, true
}

func openEngine(o *options, reg *nodes.Registry, st *lang.Study) (*runtime.Engine, error) {
	dir := o.cacheDir
	if dir == "" {
		dir = filepath.Join(st.Dir, ".ntedsl", "cache")
	}
	cache, err := runtime.OpenCache(dir, reg)
	if err != nil {
		return nil, err
	}
	out := o.outDir
	if out == "" {
		out = filepath.Join(st.Dir, "out", runtime.FileStem(st.Name))
	}
	return &runtime.Engine{Registry: reg, Cache: cache, Jobs: o.jobs, OutDir: out}, nil
}

func cmdRun(o *options, reg *nodes.Registry, st *lang.Study, stdout, stderr io.Writer) int {
	e, err := openEngine(o, reg, st)
	if err != nil {
		fmt.Fprintln(stderr, "ntedsl:", err)
		return exitFailed
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var view view
	switch {
	case o.json:
		view = newJSONView(stdout)
	case isTerminal(stderr):
		view = newLiveView(stderr, termWidth(stderr))
	default:
		view = newLogView(stderr)
	}
	e.Observe = view.Observe
	if o.cpuprof != "" {
		f, err := os.Create(o.cpuprof)
		if err != nil {
			fmt.Fprintln(stderr, "ntedsl:", err)
			return exitUsage
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "ntedsl:", err)
			return exitUsage
		}
		defer pprof.StopCPUProfile()
	}
	res, err := e.Run(ctx, st)
	view.Close()
	if !o.json {
		printResults(stdout, stderr, st, e, res)
	}
	switch {
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "interrupted: finished results are cached; run again to continue.")
		return exitCanceled
	case err != nil:
		return exitFailed
	}
	return exitOK
}
