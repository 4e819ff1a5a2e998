package cql2_test

import (
	"testing"

	"incidentmap/cql2"
)

func BenchmarkParseAndCheck(b *testing.B) {
	const f = "(name LIKE 'Er_il%' OR n IN (1, 2, 3)) AND day BETWEEN DATE('2020-01-01') AND DATE('2021-12-31') " +
		"AND NOT (name = 'x') AND S_INTERSECTS(geom, BBOX(41, 33, 45, 37))"
	b.ReportAllocs()
	for b.Loop() {
		e, err := cql2.Parse(f)
		if err != nil {
			b.Fatal(err)
		}
		if err := cql2.Check(e, props); err != nil {
			b.Fatal(err)
		}
	}
}
