package table

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func sample() *Table {
	return &Table{
		IDs:     []string{"r1", "r2", "r3"},
		Target:  "y",
		Formula: "f",
		Cols: []*Column{
			{Name: "f", Str: []string{"Sc2W3O12", "Y2(WO4)3", "a,\"b\""}},
			{Name: "y", Num: []float64{-2.2, math.NaN(), 1e-300}},
			{Name: "x", Num: []float64{0.1, 0.2, math.Copysign(0, -1)}},
		},
	}
}

func TestRoundTripIsBitExact(t *testing.T) {
	tb := sample()
	b, err := tb.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := back.MarshalBinary()
	if !bytes.Equal(b, b2) {
		t.Fatal("re-encoding differs")
	}
	if !math.IsNaN(back.Col("y").Num[1]) || math.Float64bits(back.Col("x").Num[2]) != math.Float64bits(math.Copysign(0, -1)) {
		t.Fatal("float bits not preserved")
	}
	if back.Target != "y" || back.Formula != "f" || back.Col("f").Str[2] != `a,"b"` {
		t.Fatal("roles or strings lost")
	}
}

func TestDecodeRejectsDamage(t *testing.T) {
	b, _ := sample().MarshalBinary()
	for n := 0; n < len(b); n++ {
		if _, err := Decode(b[:n]); err == nil {
			t.Fatalf("truncation to %d bytes was accepted", n)
		}
	}
}

func TestValidate(t *testing.T) {
	tb := sample()
	tb.IDs[1] = "r1"
	if err := tb.Validate(); err == nil || !strings.Contains(err.Error(), "duplicate row id") {
		t.Fatalf("duplicate ids: %v", err)
	}
	tb = sample()
	tb.Target = "f"
	if err := tb.Validate(); err == nil {
		t.Fatal("text target accepted")
	}
}

func TestCSVAndJSON(t *testing.T) {
	tb := sample()
	want := "id,f,y,x\nr1,Sc2W3O12,-2.2,0.1\nr2,Y2(WO4)3,,0.2\nr3,\"a,\"\"b\"\"\",1e-300,-0\n"
	if got := string(tb.CSV()); got != want {
		t.Fatalf("CSV:\n%s", got)
	}
	if j := string(tb.JSON()); !strings.Contains(j, `"y":null`) || !strings.Contains(j, `"target":"y"`) {
		t.Fatalf("JSON: %s", j)
	}
	sel := tb.Select([]int{2, 0})
	if strings.Join(sel.IDs, ",") != "r3,r1" || sel.Col("y").Num[1] != -2.2 {
		t.Fatal("Select")
	}
	if f := tb.Features(); len(f) != 1 || f[0] != "x" {
		t.Fatalf("Features: %v", f)
	}
}
