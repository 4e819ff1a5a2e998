// Package fieldtest checks an engine's incidents table against the field
// table (incident.Fields): every field has its column with the right type,
// NOT NULL and default; the table has no column the field table does not
// know of (but the engine's own); the checks refuse what the field table's
// rules refuse and take what they take; and the history trigger, written in
// SQL in a migration, keeps a version as the GeoJSON encoder writes it.
package fieldtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"incidentmap/geo"
	"incidentmap/incident"
)

// Column is one column of the incidents table as the engine's catalogue
// describes it.
type Column struct {
	Type    string // the engine's type name, as its catalogue spells it
	NotNull bool
	Default string // the default's SQL text, "" for none
}

// Rows is what ScanColumns needs of a query's rows (database/sql's and
// pgx's both have it).
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ScanColumns reads catalogue rows of (name, type, not null, default) into
// the map Engine.Columns returns.
func ScanColumns(rows Rows) (map[string]Column, error) {
	out := map[string]Column{}
	for rows.Next() {
		var name string
		var c Column
		if err := rows.Scan(&name, &c.Type, &c.NotNull, &c.Default); err != nil {
			return nil, err
		}
		out[name] = c
	}
	return out, rows.Err()
}

// Engine is what the check needs of an engine.
type Engine struct {
	// Columns reads the incidents table's columns from the catalogue
	// (SQLite: PRAGMA table_info; PostgreSQL: information_schema.columns).
	Columns func() (map[string]Column, error)
	// Type is the column type the engine stores a field's kind in (for the
	// geometry, the type of lon and lat).
	Type func(f incident.Field) string
	// Default normalises a default's SQL text ("''::text" → "''").
	Default func(s string) string
	// Own are the engine's columns outside the field table (cell,
	// source_timestamp, geom, …).
	Own []string
	// Try runs an UPDATE of incident id setting column to v and rolls it
	// back; it returns the engine's error.
	Try func(id int64, column string, v any) error
	// Exec runs a statement for good.
	Exec func(q string, args ...any) error
	// LastHistory is the feature text of the newest history row.
	LastHistory func() (string, error)
	// FullText are the columns the engine's full-text index reads.
	FullText func() ([]string, error)
	// ID is a stored incident to try the checks on; Incident reads it.
	ID       int64
	Incident func(id int64) (incident.Incident, error)
}

// Check runs every check on e.
func Check(t *testing.T, e Engine) {
	t.Helper()
	cols, err := e.Columns()
	if err != nil {
		t.Fatal(err)
	}
	checkColumns(t, e, cols)
	checkFullText(t, e)
	checkRules(t, e)
	checkHistory(t, e)
}

func checkColumns(t *testing.T, e Engine, cols map[string]Column) {
	t.Helper()
	known := map[string]bool{}
	for _, f := range incident.Fields {
		for _, name := range f.Columns() {
			known[name] = true
			c, ok := cols[name]
			if !ok {
				t.Errorf("field %s: the incidents table has no column %s", f.Name, name)
				continue
			}
			if want := e.Type(f); !strings.EqualFold(c.Type, want) {
				t.Errorf("column %s: type %q, the field table says %q", name, c.Type, want)
			}
			if !c.NotNull {
				t.Errorf("column %s may be NULL; every field is NOT NULL", name)
			}
			if want, ok := wantDefault(f); ok && e.Default(c.Default) != want {
				t.Errorf("column %s: default %q, the field table says %q", name, c.Default, want)
			}
		}
	}
	for name := range cols {
		if !known[name] && !slices.Contains(e.Own, name) {
			t.Errorf("column %s of the incidents table is neither in the field table nor one of the engine's own %v", name, e.Own)
		}
	}
}

// checkFullText compares the full-text index's columns with the fields the
// table marks FullText.
func checkFullText(t *testing.T, e Engine) {
	t.Helper()
	got, err := e.FullText()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range incident.Fields {
		if f.FullText {
			want = append(want, f.Name)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the full-text index reads %v; the field table marks %v", got, want)
	}
}

// wantDefault is the column default a field implies: the input's default
// for a number, the empty string for optional text; nothing for required fields, the id,
// the point and updated_at (always written).
func wantDefault(f incident.Field) (string, bool) {
	if !f.Input || f.Required || f.Kind == incident.Point {
		return "", false
	}
	if f.Kind == incident.Integer {
		return strconv.Itoa(f.Default), true
	}
	return "''", true
}

// checkRules tries, for each rule of the field table that the schema must
// hold too, a value it refuses and values it takes.
func checkRules(t *testing.T, e Engine) {
	t.Helper()
	try := func(col string, v any, refuse bool) {
		t.Helper()
		err := e.Try(e.ID, col, v)
		if refuse && err == nil {
			t.Errorf("column %s took %#v, which the field table refuses", col, v)
		}
		if !refuse && err != nil {
			t.Errorf("column %s refused %#v, which the field table takes: %v", col, v, err)
		}
	}
	for _, f := range incident.Props {
		if !f.Input {
			continue
		}
		switch {
		case f.Kind == incident.Date:
			try(f.Name, "not a date", true)
			try(f.Name, "2021-05-01", false)
		case f.Kind == incident.Integer:
			try(f.Name, f.Min-1, true)
			try(f.Name, f.Min, false)
			if f.HasMax {
				try(f.Name, f.Max+1, true)
				try(f.Name, f.Max, false)
			}
		case f.Required:
			try(f.Name, "", true)
			try(f.Name, "x", false)
		}
	}
	// The key's length is the one text limit both schemas hold; the others
	// are the application's (incident.Validate).
	try("event_id", strings.Repeat("x", incident.MaxEventIDBytes+1), true)
	try("event_id", strings.Repeat("x", incident.MaxEventIDBytes), false)
	try("lon", 180.5, true)
	try("lat", -90.5, true)
}

// checkHistory updates the incident by SQL and compares the version the
// history trigger kept with the encoder's Feature of it: same members, same
// property order, same values.
func checkHistory(t *testing.T, e Engine) {
	t.Helper()
	old, err := e.Incident(e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Exec("UPDATE incidents SET fatalities = fatalities + 1 WHERE id = " + strconv.FormatInt(e.ID, 10)); err != nil {
		t.Fatal(err)
	}
	got, err := e.LastHistory()
	if err != nil {
		t.Fatal(err)
	}
	want := geo.AppendFeature(nil, &old)
	if k, w := propertyKeys(t, []byte(got)), propertyKeys(t, want); !slices.Equal(k, w) {
		t.Errorf("history keeps the properties\n%v\nthe field table's order is\n%v", k, w)
	}
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("history kept\n%s\nthe encoder writes\n%s", got, want)
	}
}

// propertyKeys are the keys of a Feature's properties, in their order.
func propertyKeys(t *testing.T, feature []byte) []string {
	t.Helper()
	var f struct{ Properties json.RawMessage }
	if err := json.Unmarshal(feature, &f); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(f.Properties))
	var keys []string
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, fmt.Sprint(tok))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}
