package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/lang/formula"
	"github.com/ntedsl/ntedsl/nodes"
	"github.com/ntedsl/ntedsl/stdlib/materials"
)

// cmdDescribe prints what the descriptor node computes for one formula: composition,
// oxidation states, sites and the descriptor vector, for a check by hand.
func cmdDescribe(o *options, stdout, stderr io.Writer) int {
	if len(o.args) != 1 {
		fmt.Fprintln(stderr, `ntedsl describe: give one formula, e.g. ntedsl describe "Sc2(WO4)3"`)
		return exitUsage
	}
	f, err := formula.Parse(o.args[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		if fe, ok := err.(*formula.Error); ok {
			fmt.Fprintln(stderr, fe.Caret())
		}
		return exitUsage
	}
	opt := materials.DefaultDescriptorOptions()
	if o.mSite != "" {
		opt.Assign.MSite = strings.Split(o.mSite, ",")
	}
	opt.Assign.AllowOxygenDeficiency = o.oxygenDeficiency
	if o.states != "" {
		opt.Assign.States = map[string]int{}
		for _, kv := range strings.Split(o.states, ",") {
			el, q, ok := strings.Cut(kv, "=")
			n, err := strconv.Atoi(strings.TrimPrefix(q, "+"))
			if !ok || err != nil {
				fmt.Fprintf(stderr, "ntedsl describe: -states %q: write Element=charge pairs, e.g. Fe=2,Mn=2\n", o.states)
				return exitUsage
			}
			opt.Assign.States[strings.TrimSpace(el)] = n
		}
	}
	d, err := materials.Describe(f.Composition(), opt)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailed
	}
	if err := d.WriteText(stdout); err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailed
	}
	return exitOK
}

// cmdSchedule prints (and optionally plots) a noise schedule built from the same
// attributes as a noise_schedule block.
func cmdSchedule(o *options, stdout, stderr io.Writer) int {
	cfg := nodes.DefaultSchedule
	cfg.Kind, cfg.Steps, cfg.Power, cfg.BetaStart, cfg.BetaEnd, cfg.Omega = o.sched.Kind, o.sched.Steps, o.sched.Power, o.sched.BetaStart, o.sched.BetaEnd, o.sched.Omega
	if o.betaExpr != "" {
		cfg.Kind, cfg.Beta = "expr", lang.Expr{Src: o.betaExpr}
	}
	s, err := cfg.Build()
	if err != nil {
		fmt.Fprintln(stderr, "ntedsl schedule:", err)
		return exitUsage
	}
	v := &nodes.ScheduleValue{Schedule: s}
	tb := v.Table()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "t\tβ_t\tα_t\tᾱ_t\tSNR\tβ̃_t\t")
	for i := range tb.IDs {
		fmt.Fprintf(tw, "%d\t%.6g\t%.6g\t%.6f\t%.6g\t%.6g\t\n", i, tb.Col("beta").Num[i], tb.Col("alpha").Num[i], tb.Col("alpha_bar").Num[i], tb.Col("snr").Num[i], tb.Col("posterior_variance").Num[i])
	}
	tw.Flush()
	fmt.Fprintln(stdout, v.Summary())
	if o.svg != "" {
		arts, _ := v.Artifacts()
		if err := os.WriteFile(o.svg, arts[".svg"], 0o644); err != nil {
			fmt.Fprintln(stderr, "ntedsl schedule:", err)
			return exitFailed
		}
		fmt.Fprintln(stdout, "figure:", o.svg)
	}
	return exitOK
}
