package server

import (
	"fmt"
	"net/url"

	"incidentmap/cql2"
	"incidentmap/store"
)

// incidentColumns maps each incident queryable to its storage for the CQL2
// translator; it is built from incidentQueryables, the one closed vocabulary.
var incidentColumns = queryableColumns(incidentQueryables)

// queryableColumns turns queryables into the CQL2 translator's column table.
func queryableColumns(qs []queryable) map[string]cql2.Column {
	cols := map[string]cql2.Column{}
	for _, q := range qs {
		c := cql2.Column{SQL: q.Column}
		switch {
		case q.Format == "geometry-point":
			c = cql2.Column{Type: cql2.Point, X: "i.lon", Y: "i.lat"}
		case q.Type == "integer":
			c.Type = cql2.Integer
		case q.Type == "number":
			c.Type = cql2.Number
		case q.Format == "date":
			c.Type = cql2.Date
		case q.Format == "date-time":
			c.Type = cql2.DateTime
		}
		cols[q.Name] = c
	}
	return cols
}

// parseFilter reads filter, filter-lang and filter-crs into a condition of f.
func parseFilter(vals url.Values, f *store.Filter) error {
	if s, ok := one(vals, "filter-lang"); ok && s != "cql2-text" {
		return badRequest(fmt.Sprintf("filter-lang %q is not supported; use cql2-text", s))
	}
	if s, ok := one(vals, "filter-crs"); ok && s != CRS84 {
		return badRequest(fmt.Sprintf("filter-crs %q is not supported; use %s", s, CRS84))
	}
	s, ok := one(vals, "filter")
	if !ok {
		return nil
	}
	if len(s) > maxFilterLen {
		return badRequest(fmt.Sprintf("filter is %d bytes long; at most %d are accepted", len(s), maxFilterLen))
	}
	e, err := cql2.Parse(s)
	if err != nil {
		return badRequest("filter: " + err.Error())
	}
	sql, args, err := cql2.SQL(e, incidentColumns)
	if err != nil {
		return badRequest("filter: " + err.Error())
	}
	f.Conditions = append(f.Conditions, store.Condition{SQL: sql, Args: args})
	return nil
}
