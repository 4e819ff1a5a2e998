package importer_test

import (
	"strings"
	"testing"

	"incidentmap/importer"
)

func TestEscapeCSVText(t *testing.T) {
	for _, c := range []struct{ in, out string }{
		{"", ""},
		{"Riots", "Riots"},
		{"=1+1", "'=1+1"},
		{"+cmd", "'+cmd"},
		{"-2+3", "'-2+3"},
		{"@SUM(1)", "'@SUM(1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"'=x", "''=x"},
		{"''-x", "'''-x"},
		{"'x", "'x"},
		{"'", "'"},
		{"a=b", "a=b"},
	} {
		if got := importer.EscapeCSVText(c.in); got != c.out {
			t.Errorf("EscapeCSVText(%q) = %q, want %q", c.in, got, c.out)
		}
		if back := importer.UnescapeCSVText(c.out); back != c.in {
			t.Errorf("UnescapeCSVText(%q) = %q, want %q", c.out, back, c.in)
		}
	}
}

// FuzzCSVTextRoundTrip: escaping never leaves a formula character first, and
// unescaping gives back every string exactly.
func FuzzCSVTextRoundTrip(f *testing.F) {
	for _, s := range []string{"", "=", "'", "''=", "'-'", "x", "@'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := importer.EscapeCSVText(s)
		if e != "" && strings.ContainsRune("=+-@\t\r", rune(e[0])) {
			t.Fatalf("EscapeCSVText(%q) = %q starts with a formula character", s, e)
		}
		if back := importer.UnescapeCSVText(e); back != s {
			t.Fatalf("round trip of %q: %q -> %q", s, e, back)
		}
	})
}
