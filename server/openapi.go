package server

import (
	"maps"

	"github.com/gofiber/fiber/v2"

	"incidentmap/export"
)

// operation is one GET path of the API, the unit the OpenAPI document and the
// HTML API page are both written from.
type operation struct {
	Path       string
	ID         string
	Summary    string
	PathParams []string   // names of components.parameters of the path
	Params     []paramDef // query parameters
	Media      []string   // media types of the 200 response
}

// operations lists every GET path, the collections' from the registry.
func (h *handlers) operations() []operation {
	fOnly := []paramDef{fParamDef}
	ops := []operation{
		{Path: "/", ID: "getLandingPage", Summary: "Landing page: links to the API definition, conformance and data.",
			Params: fOnly, Media: []string{MediaJSON, MediaHTML}},
		{Path: "/conformance", ID: "getConformance", Summary: "The conformance classes this server implements.",
			Params: fOnly, Media: []string{MediaJSON, MediaHTML}},
		{Path: "/api", ID: "getAPI", Summary: "This API definition (OpenAPI 3.0).",
			Params: fOnly, Media: []string{MediaOpenAPI, MediaHTML}},
		{Path: "/collections", ID: "getCollections", Summary: "The feature collections.",
			Params: fOnly, Media: []string{MediaJSON, MediaHTML}},
	}
	for _, col := range h.colls {
		p := "/collections/" + col.ID
		itemParams := fOnly
		if len(col.CRS) > 1 {
			itemParams = append(pickParamDefs(col.ItemsParams, "crs"), fParamDef)
		}
		ops = append(ops,
			operation{Path: p, ID: "describe_" + col.ID, Summary: col.Title + ": description and extent.",
				Params: fOnly, Media: []string{MediaJSON, MediaHTML}},
			operation{Path: p + "/items", ID: "getFeatures_" + col.ID, Summary: col.Title + ": features, paged by next links.",
				Params: col.ItemsParams, Media: []string{MediaGeoJSON, MediaHTML}},
			operation{Path: p + "/items/{featureId}", ID: "getFeature_" + col.ID, Summary: col.Title + ": one feature.",
				PathParams: []string{"featureId"}, Params: itemParams, Media: []string{MediaGeoJSON, MediaHTML}},
			operation{Path: p + "/queryables", ID: "getQueryables_" + col.ID, Summary: col.Title + ": the properties filters may name (JSON Schema).",
				Params: fOnly, Media: []string{MediaSchemaJSON, MediaHTML}},
		)
	}
	ops = append(ops, operation{Path: changesPath, ID: "getChanges_incidents",
		Summary: "The changes to the incidents after since, oldest first, for syncing clients: " +
			`{"since":S,"next":N,"more":bool,"reset":bool,"changes":[{"seq","op":"created"|"updated"|"deleted","at","id","event_id","feature"}…],"links":[…]}; ` +
			"created and updated carry the Feature as it is when sent; apply the pages in order and continue from next. " +
			"reset: the log does not reach since (a restored database): drop everything and sync from since=0.",
		Params: changesParamDefs, Media: []string{MediaJSON, MediaGeoJSONSeq}})
	ops = append(ops, operation{Path: sortablesPath, ID: "getSortables_incidents",
		Summary: "Incidents: the properties sortby may name (JSON Schema).", Params: fOnly, Media: []string{MediaSchemaJSON, MediaHTML}})
	var fileTypes []string
	for _, ef := range export.Formats {
		fileTypes = append(fileTypes, ef.MediaType())
	}
	ops = append(ops, operation{Path: downloadPath, ID: "download_incidents",
		Summary: "Incidents: every one the items parameters select, as one file in the format f names (Content-Disposition: attachment). " +
			"/collections/incidents/items?f=geojsonseq|csv|kml|gpkg are older aliases of it.",
		Params: downloadParamDefs, Media: fileTypes})
	ops = append(ops, operation{Path: aggregatePath, ID: "getAggregate_incidents",
		Summary: "Incidents counted and fatalities summed per group (day, week, month, year, event_type, sub_event_type, " +
			"region, admin1, actor1, actor2), for the same filters as the items: " +
			`{"groupBy":[…],"groups":[{"month":"2021-01-01","event_type":"Battles","count":12,"fatalities":30},…],"numberMatched":N,"fatalities":F,…}; f=csv gives the groups as CSV.`,
		Params: aggregateParamDefs, Media: []string{MediaJSON, "text/csv"}})
	return append(ops, operation{Path: "/healthz", ID: "getHealth", Summary: "Whether the database answers.", Media: []string{MediaJSON}})
}

// paramObject is the OpenAPI parameter object of a query parameter; limit's
// default and maximum are the configured ones.
func (h *handlers) paramObject(p paramDef) map[string]any {
	schema := maps.Clone(p.Schema)
	if _, fixed := schema["default"]; p.Name == "limit" && !fixed {
		schema["default"] = h.cfg.DefaultLimit
		schema["maximum"] = h.cfg.MaxLimit
	}
	o := map[string]any{"name": p.Name, "in": "query", "required": p.Required, "description": p.Description,
		"schema": schema, "style": "form", "explode": !p.List}
	return o
}

// openAPI builds the OpenAPI 3.0 document from the operations and the
// parameter tables the handlers parse with.
func (h *handlers) openAPI(base string) map[string]any {
	params := map[string]any{
		"featureId": map[string]any{"name": "featureId", "in": "path", "required": true,
			"description": "Feature id.", "schema": map[string]any{"type": "string"}},
	}
	errResp := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{
			MediaJSON: map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/exception"}}}}
	}
	paths := map[string]any{}
	for _, op := range h.operations() {
		var ps []any
		for _, name := range op.PathParams {
			ps = append(ps, map[string]any{"$ref": "#/components/parameters/" + name})
		}
		for _, p := range op.Params {
			key := p.Name
			if prev, ok := params[key]; ok && prev.(map[string]any)["description"] != p.Description {
				key = op.ID + "." + p.Name // same name, different meaning: keep both
			}
			params[key] = h.paramObject(p)
			ps = append(ps, map[string]any{"$ref": "#/components/parameters/" + key})
		}
		content := map[string]any{}
		for _, m := range op.Media {
			content[m] = map[string]any{}
		}
		get := map[string]any{
			"operationId": op.ID, "summary": op.Summary,
			"responses": map[string]any{
				"200": map[string]any{"description": op.Summary, "content": content},
				"400": errResp("A parameter is unknown, repeated or malformed."),
				"404": errResp("No such resource."),
				"406": errResp("The requested format is not offered."),
				"500": errResp("A server fault; it has been logged."),
			},
		}
		if len(ps) > 0 {
			get["parameters"] = ps
		}
		paths[op.Path] = map[string]any{"get": get}
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       "incidentmap",
			"version":     "1.0.0",
			"description": "Security incidents as OGC API – Features (Part 1 Core, Part 3 Filtering).",
		},
		"servers": []any{map[string]any{"url": base}},
		"paths":   paths,
		"components": map[string]any{
			"parameters": params,
			"schemas": map[string]any{
				"exception": map[string]any{"type": "object", "required": []string{"code"},
					"properties": map[string]any{"code": map[string]any{"type": "string"}, "description": map[string]any{"type": "string"}}},
			},
		},
	}
	// The write API, history and event stream (issue 5).
	h.writeOpenAPI(doc, errResp)
	// OPTIONS and search by POST (Part 4 discovery, Part 3 filter in the body).
	h.discoveryOpenAPI(doc, errResp)
	// Vector tiles (issue 8).
	h.tilesOpenAPI(doc, errResp)
	return doc
}

// api serves /api: the OpenAPI document, or a page listing its paths.
func (h *handlers) api(c *fiber.Ctx) error {
	f, err := negotiateDocument(c)
	if err != nil {
		return err
	}
	base := h.baseURL(c)
	return h.render(c, f, resource{Media: MediaOpenAPI, JSON: h.openAPI(base), Page: "api", Title: "API", View: h.operations(),
		Links: []Link{{Href: base + "/api", Rel: "service-desc", Type: MediaOpenAPI, Title: "OpenAPI 3.0 document"}}})
}
