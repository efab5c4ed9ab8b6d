package suggest

import "testing"

func TestDistance(t *testing.T) {
	cases := []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"kitten", "sitting", 3}, {"flaw", "lawn", 2}, {"ᾱ_t", "α_t", 1}, {"abc", "", 3}}
	for _, c := range cases {
		if got := Distance(c.a, c.b); got != c.d {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}

func TestClosest(t *testing.T) {
	names := []string{"dataset", "table", "evaluate", "Sn"}
	if got := Closest("datset", names, 2); got != "dataset" {
		t.Errorf("got %q", got)
	}
	if got := Closest("SN", names, 1); got != "Sn" {
		t.Errorf("case-insensitive: got %q", got)
	}
	if got := Closest("zzzzzz", names, 2); got != "" {
		t.Errorf("far: got %q", got)
	}
	if got := Closest("table", names, 2); got != "" {
		t.Errorf("exact name suggested itself: %q", got)
	}
}
