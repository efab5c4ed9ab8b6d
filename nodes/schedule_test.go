package nodes_test

import (
	"math"
	"strings"
	"testing"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/nodes"
)

func TestScheduleNodeValues(t *testing.T) {
	res, err, _ := runStudy(t, `
noise_schedule "quad" { beta_end = 0.05 }
noise_schedule "lin" {
  power    = 1
  beta_end = 0.05
}
noise_schedule "mid" {
  kind  = "midcourse"
  omega = 0.005
}
noise_schedule "mid_expr" {
  kind = "expr"
  beta = "0.005 * sqrt(u - u*u)"
}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	abar := func(addr string) float64 {
		s := res.Values[addr].(*nodes.ScheduleValue)
		return s.AlphaBar(s.T() - 1)
	}
	// csdi_icr.md A2/A4: ᾱ_49 for T = 50: quad to 0.05 → 0.409, linear → 0.280,
	// mid-course ω = 0.005 → 0.906.
	for addr, want := range map[string]float64{"noise_schedule.quad": 0.409, "noise_schedule.lin": 0.280, "noise_schedule.mid": 0.906} {
		if got := abar(addr); math.Abs(got-want) > 5e-4 {
			t.Errorf("%s: ᾱ_49 = %.4f, want %.3f", addr, got, want)
		}
	}
	// Independent check of the quad value: the product of (1 − β_t) with β_t written out.
	p := 1.0
	for i := 0; i < 50; i++ {
		r := math.Sqrt(1e-4) + (math.Sqrt(0.05)-math.Sqrt(1e-4))*float64(i)/49
		p *= 1 - r*r
	}
	if got := abar("noise_schedule.quad"); math.Abs(got-p) > 1e-12 {
		t.Fatalf("quad ᾱ_49 %v, direct product %v", got, p)
	}
	// The expr formula of the mid-course schedule gives the same bytes as the built-in.
	a, _ := res.Values["noise_schedule.mid"].MarshalBinary()
	b, _ := res.Values["noise_schedule.mid_expr"].MarshalBinary()
	if string(a) != string(b) {
		t.Fatal("expr mid-course differs from the built-in mid-course schedule")
	}
}

func TestScheduleErrorsAtTheAttribute(t *testing.T) {
	reg := nodes.NewRegistry()
	nodes.RegisterCore(reg)
	_, diags := lang.LoadSource("s.hcl", []byte(`
noise_schedule "a" { beta_end = 1.5 }
noise_schedule "b" {
  kind = "expr"
  beta = "2 * u"
}
noise_schedule "c" {
  kind = "expr"
  beta = "0.1 * sqrt(u - )"
}
noise_schedule "d" {
  kind = "expr"
  beta = "0.1 * sqrt(x)"
}
`), lang.Options{Catalog: reg})
	want := []struct {
		line int
		frag string
	}{{2, "beta_end"}, {5, "β at step 25"}, {9, "Invalid expression"}, {13, "unknown name x"}}
	for _, w := range want {
		found := false
		for _, d := range diags {
			if d.Subject != nil && d.Subject.Start.Line == w.line && strings.Contains(d.Summary+d.Detail, w.frag) {
				found = true
			}
		}
		if !found {
			t.Errorf("no diagnostic on line %d mentioning %q; got %s", w.line, w.frag, diags.Error())
		}
	}
}
