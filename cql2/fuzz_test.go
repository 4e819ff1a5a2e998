package cql2_test

import (
	"testing"

	"incidentmap/cql2"
)

// FuzzParse feeds the parser arbitrary text: it must never panic, and what it
// accepts must print as CQL2 that parses back to the same tree and check
// without a fault other than a *cql2.Error.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"n = 3", "name LIKE 'Er_il%' AND NOT (n BETWEEN 1 AND 4)", "day >= DATE('2021-01-01')",
		"at < TIMESTAMP('2021-01-01T00:00:00Z')", "S_INTERSECTS(geom, BBOX(43.5,35.9,44.5,36.5))",
		"name IN ('a', 'b') OR n IS NOT NULL", `"in x" = 'it''s'`, "((n=1))", "TRUE", "n = -1.5e3",
		"n = 1 AND", "name = 'open", "S_INTERSECTS(geom, ENVELOPE(1,2,0,3,4,1))", "\xff", "n <> 1",
		"S_WITHIN(geom, POLYGON((1 2, 3 -4, 5 6, 1 2)))", "T_DURING(day, INTERVAL('2020-01-01', '..'))",
		"CASEI(name) LIKE CASEI('a%')", "n > (ratio * -2 + 1) ^ 2", "A_CONTAINS(x, ('a', 'b'))",
		"S_INTERSECTS(geom, GEOMETRYCOLLECTION(POINT(1 2), LINESTRING(0 0, 1 1)))", "(n + 1) > 2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := cql2.Parse(s)
		if err != nil {
			if _, ok := err.(*cql2.Error); !ok {
				t.Fatalf("Parse(%q) error %T %v; want *cql2.Error", s, err, err)
			}
			return
		}
		again, err := cql2.Parse(e.String())
		if err != nil {
			t.Fatalf("Parse(%q) = %s, which does not parse: %v", s, e, err)
		}
		if again.String() != e.String() {
			t.Fatalf("round trip of %q: %s then %s", s, e, again)
		}
		if err := cql2.Check(e, props); err != nil {
			if _, ok := err.(*cql2.Error); !ok {
				t.Fatalf("Check(%q) error %T %v", s, err, err)
			}
		}
	})
}
