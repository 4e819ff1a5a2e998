package server

import (
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"incidentmap/incident"
)

// queryable is a property that filters (CQL2, property parameters) may name.
type queryable struct {
	Name   string // property name in the GeoJSON and in filters
	Title  string
	Type   string // JSON Schema type: string, integer, number; "" for the geometry
	Format string // date, date-time, uri, geometry-point
	Enum   []any  // closed list of values, when there is one
	// Column is the SQL column (table alias "i") the property is stored in;
	// it is the closed vocabulary filters are translated from. "" for the geometry.
	Column string
}

// schema is the JSON Schema of one queryable.
func (q queryable) schema() map[string]any {
	s := map[string]any{"title": q.Title}
	if q.Type != "" {
		s["type"] = q.Type
	}
	if q.Format != "" {
		s["format"] = q.Format
	}
	if len(q.Enum) > 0 {
		s["enum"] = q.Enum
	}
	return s
}

// queryables serves /collections/{id}/queryables: a JSON Schema (2020-12) of
// the properties filters may name.
func (h *handlers) queryables(c *fiber.Ctx, col *collection) error {
	f, err := negotiateDocument(c)
	if err != nil {
		return err
	}
	base := h.baseURL(c)
	self := base + "/collections/" + col.ID + "/queryables"
	props := map[string]any{}
	for _, q := range col.Queryables {
		props[q.Name] = q.schema()
	}
	doc := map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"$id":                  self,
		"type":                 "object",
		"title":                col.Title,
		"description":          "Properties of " + col.ID + " that filter and property parameters may name.",
		"properties":           props,
		"additionalProperties": false,
	}
	return h.render(c, f, resource{Media: MediaSchemaJSON, JSON: doc, Page: "queryables", Title: col.Title + ": queryables",
		Links: []Link{
			{Href: self, Rel: "alternate", Type: MediaSchemaJSON, Title: "as JSON Schema"},
			{Href: base + "/collections/" + col.ID, Rel: "collection", Type: MediaJSON, Title: col.Title},
		},
		View: struct {
			Collection *collection
			Sortables  bool
		}{col, false}})
}

// incidentQueryables are the incident properties filters may name, one per
// field of the field table; the Column values are the only column names
// filter SQL is ever built from.
var incidentQueryables = func() []queryable {
	var out []queryable
	for _, f := range incident.Fields {
		q := queryable{Name: f.Name, Title: f.Title, Enum: f.Enum, Column: "i." + f.Name}
		switch f.Kind {
		case incident.Point:
			q.Format, q.Column = "geometry-point", ""
		case incident.Integer:
			q.Type = "integer"
		case incident.Number:
			q.Type = "number"
		case incident.Date:
			q.Type, q.Format = "string", "date"
		case incident.DateTime:
			q.Type, q.Format = "string", "date-time"
		default:
			q.Type = "string"
		}
		out = append(out, q)
	}
	return out
}()

// value converts a parameter's text to the queryable's type, refusing text
// that cannot be one.
func (q queryable) value(s string) (any, error) {
	switch {
	case q.Type == "integer":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s %q must be a whole number", q.Name, s)
		}
		return n, nil
	case q.Format == "date":
		if _, err := time.Parse("2006-01-02", s); err != nil {
			return nil, fmt.Errorf("%s %q must be a date YYYY-MM-DD", q.Name, s)
		}
	}
	return s, nil
}
