package server

import (
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
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
	if f == formatHTML {
		links := []Link{
			{Href: self, Rel: "alternate", Type: MediaSchemaJSON, Title: "as JSON Schema"},
			{Href: base + "/collections/" + col.ID, Rel: "collection", Type: MediaJSON, Title: col.Title},
		}
		return h.renderHTML(c, "queryables", col.Title+": queryables", links, struct {
			Collection *collection
			Sortables  bool
		}{col, false})
	}
	return sendJSON(c, MediaSchemaJSON, doc)
}

// incidentQueryables are the incident properties filters may name; the
// Column values are the only column names filter SQL is ever built from.
var incidentQueryables = []queryable{
	{Name: "geometry", Title: "Location (WGS 84 point)", Format: "geometry-point"},
	{Name: "id", Title: "Feature id", Type: "integer", Column: "i.id"},
	{Name: "event_id", Title: "External event id (ACLED event_id_cnty)", Type: "string", Column: "i.event_id"},
	{Name: "event_date", Title: "Date of the event", Type: "string", Format: "date", Column: "i.event_date"},
	{Name: "time_precision", Title: "Time precision (1 day, 2 week, 3 month)", Type: "integer", Enum: []any{1, 2, 3}, Column: "i.time_precision"},
	{Name: "event_type", Title: "Event type (ACLED)", Type: "string", Enum: anySlice(eventTypes), Column: "i.event_type"},
	{Name: "sub_event_type", Title: "Sub-event type (ACLED)", Type: "string", Column: "i.sub_event_type"},
	{Name: "actor1", Title: "First actor", Type: "string", Column: "i.actor1"},
	{Name: "actor2", Title: "Second actor", Type: "string", Column: "i.actor2"},
	{Name: "admin1", Title: "Governorate", Type: "string", Column: "i.admin1"},
	{Name: "admin2", Title: "District", Type: "string", Column: "i.admin2"},
	{Name: "location", Title: "Place name", Type: "string", Column: "i.location"},
	{Name: "region", Title: "Region", Type: "string", Column: "i.region"},
	{Name: "geo_precision", Title: "Location precision (1 exact, 2 near, 3 region)", Type: "integer", Enum: []any{1, 2, 3}, Column: "i.geo_precision"},
	{Name: "fatalities", Title: "Fatalities (lowest reported)", Type: "integer", Column: "i.fatalities"},
	{Name: "source", Title: "Source", Type: "string", Column: "i.source"},
	{Name: "source_url", Title: "Source URL", Type: "string", Column: "i.source_url"},
	{Name: "notes", Title: "What happened", Type: "string", Column: "i.notes"},
	{Name: "tags", Title: "Tags", Type: "string", Column: "i.tags"},
	{Name: "updated_at", Title: "Last change", Type: "string", Format: "date-time", Column: "i.updated_at"},
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

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
