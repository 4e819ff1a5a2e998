package server

import (
	"fmt"
	"net/url"

	"incidentmap/cql2"
	"incidentmap/incident"
)

// incidentTypes are the types of the incident's fields, for checking CQL2
// filters when they are parsed; the engines translate them (see incident.Fields).
var incidentTypes = func() map[string]cql2.Type {
	types := map[string]cql2.Type{}
	for _, f := range incident.Fields {
		types[f.Name] = map[incident.Kind]cql2.Type{
			incident.String: cql2.String, incident.Integer: cql2.Integer, incident.Number: cql2.Number,
			incident.Date: cql2.Date, incident.DateTime: cql2.DateTime, incident.Point: cql2.Point,
		}[f.Kind]
	}
	return types
}()

// parseFilter reads filter, filter-lang and filter-crs into a condition of f.
func parseFilter(vals url.Values, f *incident.Filter) error {
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
	if err := cql2.Check(e, incidentTypes); err != nil {
		return badRequest("filter: " + err.Error())
	}
	if f.Expr != nil {
		e = cql2.And{L: f.Expr, R: e}
	}
	f.Expr = e
	return nil
}
