package cql2_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"incidentmap/cql2"
)

var cols = map[string]cql2.Column{
	"name":  {Type: cql2.String, SQL: "t.name"},
	"n":     {Type: cql2.Integer, SQL: "t.n"},
	"day":   {Type: cql2.Date, SQL: "t.day"},
	"at":    {Type: cql2.DateTime, SQL: "t.at"},
	"geom":  {Type: cql2.Point, X: "t.lon", Y: "t.lat"},
	"in x":  {Type: cql2.String, SQL: "t.odd"},
	"ratio": {Type: cql2.Number, SQL: "t.ratio"},
}

func TestTranslate(t *testing.T) {
	cases := []struct {
		in, sql string
		args    []any
	}{
		{"n = 3", "t.n = ?", []any{int64(3)}},
		{"n >= -2.5", "t.n >= ?", []any{-2.5}},
		{"name = 'O''Brien'", "t.name = ?", []any{"O'Brien"}},
		{`"in x" <> 'a'`, "t.odd <> ?", []any{"a"}},
		{"n > 1 AND n < 5 OR name = 'x'", "((t.n > ? AND t.n < ?) OR t.name = ?)", []any{int64(1), int64(5), "x"}},
		{"n > 1 and (n < 5 or name = 'x')", "(t.n > ? AND (t.n < ? OR t.name = ?))", []any{int64(1), int64(5), "x"}},
		{"NOT n = 1 AND n = 2", "(NOT (t.n = ?) AND t.n = ?)", []any{int64(1), int64(2)}},
		{"name LIKE 'Er_il%'", "t.name GLOB ?", []any{"Er?il*"}},
		{`name NOT LIKE 'a\%b*'`, "t.name NOT GLOB ?", []any{"a%b[*]"}},
		{"n IN (1, 2, 3)", "t.n IN (?, ?, ?)", []any{int64(1), int64(2), int64(3)}},
		{"name NOT IN ('a')", "t.name NOT IN (?)", []any{"a"}},
		{"n BETWEEN 1 AND 4", "t.n BETWEEN ? AND ?", []any{int64(1), int64(4)}},
		{"day NOT BETWEEN DATE('2021-01-01') AND '2021-12-31'", "t.day NOT BETWEEN ? AND ?", []any{"2021-01-01", "2021-12-31"}},
		{"at > TIMESTAMP('2021-01-01T03:00:00+02:00')", "t.at > ?", []any{"2021-01-01T01:00:00Z"}},
		{"at >= DATE('2021-01-01')", "t.at >= ?", []any{"2021-01-01T00:00:00Z"}},
		{"name IS NULL", "(t.name IS NULL OR t.name = '')", nil},
		{"name IS NOT NULL", "(t.name IS NOT NULL AND t.name <> '')", nil},
		{"n IS NULL", "t.n IS NULL", nil},
		{"S_INTERSECTS(geom, BBOX(43.5, 35.9, 44.5, 36.5))", "(t.lon BETWEEN ? AND ? AND t.lat BETWEEN ? AND ?)", []any{43.5, 44.5, 35.9, 36.5}},
		{"s_intersects(ENVELOPE(1,2,0,3,4,10), geom)", "(t.lon BETWEEN ? AND ? AND t.lat BETWEEN ? AND ?)", []any{1.0, 3.0, 2.0, 4.0}},
		{"TRUE AND n = 1", "(1 AND t.n = ?)", []any{int64(1)}},
		{"ratio < 1e-3", "t.ratio < ?", []any{0.001}},
		{"1 = 1", "? = ?", []any{int64(1), int64(1)}},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			e, err := cql2.Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			sql, args, err := cql2.SQL(e, cols)
			if err != nil {
				t.Fatalf("SQL: %v", err)
			}
			if sql != tc.sql || !reflect.DeepEqual(args, tc.args) {
				t.Fatalf("got %s %#v\nwant %s %#v", sql, args, tc.sql, tc.args)
			}
			// The tree prints as CQL2 that parses back to the same tree.
			again, err := cql2.Parse(e.String())
			if err != nil || again.String() != e.String() {
				t.Fatalf("round trip of %s: %v, %v", e, again, err)
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
		{"name LIKE n", 11, "quoted text"},
		{"S_INTERSECTS(geom, POINT(1 2))", 20, "POINT literals"},
		{"S_INTERSECTS(geom, BBOX(1,2,3))", 20, "4 or 6"},
		{"S_INTERSECTS(geom, BBOX(10,0,5,1))", 20, "minimum before maximum"},
		{"S_INTERSECTS(name, BBOX(0,0,1,1))", 14, "needs the geometry"},
		{"geom = 1", 1, "geometry"},
		{"upper(name) = 'A'", 1, "function upper is not supported"},
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
				_, _, err = cql2.SQL(e, cols)
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
