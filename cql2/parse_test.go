package cql2_test

import (
	"errors"
	"strings"
	"testing"

	"incidentmap/cql2"
)

var props = cql2.Props{
	"name":  cql2.String,
	"n":     cql2.Integer,
	"day":   cql2.Date,
	"at":    cql2.DateTime,
	"geom":  cql2.GeometryType,
	"in x":  cql2.String,
	"ratio": cql2.Number,
}

// TestParsePrints: what parses prints as CQL2 text that parses back to the
// same tree, and that text shows how the filter was read.
func TestParsePrints(t *testing.T) {
	cases := []struct{ in, out string }{
		{"n = 3", `"n" = 3`},
		{"n >= -2.5", `"n" >= -2.5`},
		{"name = 'O''Brien'", `"name" = 'O''Brien'`},
		{"n > 1 AND n < 5 OR name = 'x'", `(("n" > 1 AND "n" < 5) OR "name" = 'x')`},
		{"NOT n = 1 AND n = 2", `(NOT ("n" = 1) AND "n" = 2)`},
		{"name NOT LIKE 'a%'", `"name" NOT LIKE 'a%'`},
		{"n NOT BETWEEN 1 AND 4", `"n" NOT BETWEEN 1 AND 4`},
		{"n-1 > 2", `("n" - 1) > 2`},
		{"n - -1 > 2", `("n" - -1) > 2`},
		{"(n + 1) * 2 > ratio ^ 2 ^ 3", `(("n" + 1) * 2) > ("ratio" ^ (2 ^ 3))`},
		{"n div 2 = 1", `("n" div 2) = 1`},
		{"-n < 0", `(-1 * "n") < 0`},
		{"(n = 1)", `"n" = 1`},
		{"((n + 1) > 2)", `("n" + 1) > 2`},
		{"CASEI(name) = casei('Straße')", `CASEI("name") = CASEI('Straße')`},
		{"S_INTERSECTS(geom, POINT(43.1 -33.2))", `S_INTERSECTS("geom", POINT(43.1 -33.2))`},
		{"S_WITHIN(geom, POLYGON Z ((0 0 1, 1 0 1, 1 1 1, 0 0 1)))", `S_WITHIN("geom", POLYGON((0 0,1 0,1 1,0 0)))`},
		{"S_EQUALS(MULTIPOINT ((1 2), (3 4)), geom)", `S_EQUALS(MULTIPOINT((1 2),(3 4)), "geom")`},
		{"S_EQUALS(MULTIPOINT (1 2, 3 4), geom)", `S_EQUALS(MULTIPOINT((1 2),(3 4)), "geom")`},
		{"S_DISJOINT(geom, MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5))))", `S_DISJOINT("geom", MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5))))`},
		{"S_INTERSECTS(geom, BBOX(1, 2, -5, 3, 4, 5))", `S_INTERSECTS("geom", BBOX(1, 2, 3, 4))`},
		{"T_DURING(day, INTERVAL('2020-01-01', '..'))", `T_DURING("day", INTERVAL('2020-01-01', '..'))`},
		{"T_AFTER(at, TIMESTAMP('2020-01-01T03:00:00+03:00'))", `T_AFTER("at", TIMESTAMP('2020-01-01T00:00:00Z'))`},
		{"T_INTERSECTS(INTERVAL(day, at), DATE('2020-01-01'))", `T_INTERSECTS(INTERVAL("day", "at"), DATE('2020-01-01'))`},
		{"A_CONTAINS(name, ('a', 'b'))", `A_CONTAINS("name", ('a', 'b'))`},
		{"TRUE", "TRUE"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			e, err := cql2.Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if e.String() != tc.out {
				t.Fatalf("printed %s; want %s", e, tc.out)
			}
			again, err := cql2.Parse(e.String())
			if err != nil || again.String() != e.String() {
				t.Fatalf("round trip of %s: %v, %v", e, again, err)
			}
		})
	}
}

// TestJSONSameTree: the JSON encoding of a filter gives the tree its text
// encoding gives.
func TestJSONSameTree(t *testing.T) {
	cases := []struct{ json, text string }{
		{`{"op":"=","args":[{"property":"n"},3]}`, "n = 3"},
		{`{"op":"and","args":[{"op":">","args":[{"property":"n"},1]},{"op":"<","args":[{"property":"n"},5]},{"op":"<>","args":[{"property":"name"},"x"]}]}`, "n > 1 AND n < 5 AND name <> 'x'"},
		{`{"op":"not","args":[{"op":"like","args":[{"property":"name"},"a%"]}]}`, "NOT name LIKE 'a%'"},
		{`{"op":"in","args":[{"property":"name"},["a","b"]]}`, "name IN ('a', 'b')"},
		{`{"op":"between","args":[{"property":"n"},1,2.5]}`, "n BETWEEN 1 AND 2.5"},
		{`{"op":"isNull","args":[{"property":"name"}]}`, "name IS NULL"},
		{`{"op":"s_intersects","args":[{"property":"geom"},{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}]}`, "S_INTERSECTS(geom, POLYGON((0 0, 1 0, 1 1, 0 0)))"},
		{`{"op":"s_within","args":[{"property":"geom"},{"bbox":[1,2,3,4]}]}`, "S_WITHIN(geom, BBOX(1, 2, 3, 4))"},
		{`{"op":"t_during","args":[{"property":"day"},{"interval":["2020-01-01",".."]}]}`, "T_DURING(day, INTERVAL('2020-01-01', '..'))"},
		{`{"op":"t_before","args":[{"property":"at"},{"timestamp":"2020-01-01T00:00:00Z"}]}`, "T_BEFORE(at, TIMESTAMP('2020-01-01T00:00:00Z'))"},
		{`{"op":"=","args":[{"op":"casei","args":[{"property":"name"}]},{"op":"casei","args":["X"]}]}`, "CASEI(name) = CASEI('X')"},
		{`{"op":">","args":[{"property":"n"},{"op":"+","args":[{"property":"ratio"},10]}]}`, "n > (ratio + 10)"},
		{`{"op":"=","args":[{"property":"day"},{"date":"2021-01-01"}]}`, "day = DATE('2021-01-01')"},
		{`true`, "TRUE"},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			je, err := cql2.ParseJSON([]byte(tc.json), "")
			if err != nil {
				t.Fatalf("ParseJSON: %v", err)
			}
			te, err := cql2.Parse(tc.text)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if je.String() != te.String() {
				t.Fatalf("JSON gives %s; text gives %s", je, te)
			}
			if err := cql2.Check(je, props); err != nil {
				t.Fatalf("Check: %v", err)
			}
		})
	}
}

func TestErrorsNamePosition(t *testing.T) {
	cases := []struct {
		in   string
		pos  int
		want string
	}{
		{"", 0, "empty"},
		{"n =", 4, "ends where a property or a value"},
		{"n = 1 AND", 10, "ends where"},
		{"n == 1", 4, `found "="`},
		{"(n = 1", 7, "')'"},
		{"n = 1)", 6, `found ")"`},
		{"name = 'open", 8, "not closed"},
		{"n ! 1", 3, "unexpected character"},
		{"colour = 'red'", 1, `unknown property "colour"`},
		{"n = 'x'", 5, "not a valid integer"},
		{"name > 3", 8, "not a valid text"},
		{"day = DATE('2021-02-30')", 12, "not a date"},
		{"at = TIMESTAMP('yesterday')", 16, "RFC 3339"},
		{"n BETWEEN 1 OR 2", 13, "AND"},
		{"n IN (1 2)", 9, "',' or ')'"},
		{"name LIKE n", 11, "not a valid text"},
		{"S_INTERSECTS(geom, POINT(1))", 27, "a number"},
		{"S_INTERSECTS(geom, POLYGON((0 0, 1 0, 1 1, 0 1)))", 28, "end where it starts"},
		{"S_INTERSECTS(geom, BBOX(1,2,3))", 20, "4 or 6"},
		{"S_INTERSECTS(geom, BBOX(10,0,5,1))", 20, "minimum before the maximum"},
		{"S_INTERSECTS(name, BBOX(0,0,1,1))", 14, "needs a geometry"},
		{"S_INTERSECTS(POINT(1 2), BBOX(0,0,1,1))", 1, "two literals"},
		{"S_WITHIN(geom, GEOMETRYCOLLECTION(POINT(1 2)))", 16, "GEOMETRYCOLLECTION is not supported"},
		{"S_INTERSECTS(geom, n)", 20, "needs a geometry, and n is integer"},
		{"S_INTERSECTS(geom, 3)", 20, "compares geometries"},
		{"T_BEFORE(n, DATE('2020-01-01'))", 10, "needs a date"},
		{"T_BEFORE(name, DATE('2020-01-01'))", 10, "needs a date"},
		{"T_AFTER(day, 3)", 14, "instants or intervals"},
		{"A_CONTAINS(name, ('a'))", 1, "array functions"},
		{"geom = 1", 1, "geometry"},
		{"upper(name) = 'A'", 1, "function upper is not supported"},
		{"Foo(geom) = TRUE", 1, "function Foo is not supported"},
		{"Foo(geom)", 1, "function Foo is not supported"},
		{"CASEI(n) = 'a'", 7, "takes text"},
		{"name + 1 > 2", 1, "arithmetic takes numbers"},
		{"n = 1 AND AND", 11, "AND"},
		{"name IS 'x'", 9, "NULL"},
		{"n = 1.2.3", 5, "not a number"},
		{strings.Repeat("(", 100) + "n = 1" + strings.Repeat(")", 100), 65, "nests deeper"},
		{strings.Repeat("NOT ", 100) + "n = 1", 261, "nests deeper"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			e, err := cql2.Parse(tc.in)
			if err == nil {
				err = cql2.Check(e, props)
			}
			var ce *cql2.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v; want a *cql2.Error", err)
			}
			if ce.Pos != tc.pos || !strings.Contains(ce.Msg, tc.want) {
				t.Fatalf("error %q at %d; want %q at %d", ce.Msg, ce.Pos, tc.want, tc.pos)
			}
		})
	}
}

func TestJSONErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{`, "not JSON"},
		{`{"op":"=","args":[{"property":"n"}]}`, "takes 2 arguments"},
		{`{"op":"xor","args":[true,false]}`, `operator "xor" is not supported`},
		{`{"op":"in","args":[{"property":"n"},3]}`, "non-empty array"},
		{`{"op":"s_intersects","args":[{"property":"geom"},{"type":"Polygon","coordinates":"x"}]}`, "GeoJSON"},
		{`{"op":"t_after","args":[{"property":"day"},{"interval":["2020-01-01"]}]}`, "start and an end"},
		{`{"op":"=","args":[{"property":"n"},1]} {}`, "after its JSON value"},
		{`"n"`, "expected a predicate"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			_, err := cql2.ParseJSON([]byte(tc.in), "")
			var ce *cql2.Error
			if !errors.As(err, &ce) || !strings.Contains(ce.Msg, tc.want) {
				t.Fatalf("error %v; want a *cql2.Error with %q", err, tc.want)
			}
		})
	}
}
