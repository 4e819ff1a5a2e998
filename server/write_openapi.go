package server

// writeOpenAPI adds the write API (OGC API – Features Part 4 style), the
// history and the event stream to the OpenAPI document, with the bearer
// security scheme the writes require. errResp makes an error response object.
func (h *handlers) writeOpenAPI(doc map[string]any, errResp func(string) map[string]any) {
	paths := doc["paths"].(map[string]any)
	comps := doc["components"].(map[string]any)
	comps["securitySchemes"] = map[string]any{
		"bearerAuth": map[string]any{"type": "http", "scheme": "bearer",
			"description": "A token from `incidentmap token create --name NAME`."},
	}
	params := comps["parameters"].(map[string]any)
	params["If-Match"] = map[string]any{"name": "If-Match", "in": "header", "required": false,
		"description": "The ETag of the version the change is based on; 412 when the incident has changed since.",
		"schema":      map[string]any{"type": "string"}}
	params["Last-Event-ID"] = map[string]any{"name": "Last-Event-ID", "in": "header", "required": false,
		"description": "Resume the event stream after this event id (browsers send it on reconnect).",
		"schema":      map[string]any{"type": "integer", "minimum": 0}}
	params["since"] = map[string]any{"name": "since", "in": "query", "required": false,
		"description": "Resume the event stream after this event id; 0 replays every change.",
		"schema":      map[string]any{"type": "integer", "minimum": 0}}
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/parameters/" + name} }
	feature := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{MediaGeoJSON: map[string]any{}},
			"headers": map[string]any{"ETag": map[string]any{"schema": map[string]any{"type": "string"}}}}
	}
	secured := func(op map[string]any) map[string]any {
		op["security"] = []any{map[string]any{"bearerAuth": []string{}}}
		rs := op["responses"].(map[string]any)
		rs["401"] = errResp("No valid bearer token.")
		rs["405"] = errResp("Writes are off: no token exists.")
		rs["400"] = errResp("The body is not valid JSON, not a Feature, or a property is invalid (named).")
		return op
	}
	body := func(media ...string) map[string]any {
		content := map[string]any{}
		for _, m := range media {
			content[m] = map[string]any{}
		}
		return map[string]any{"required": true, "content": content}
	}
	items := "/collections/incidents/items"
	if p, ok := paths[items].(map[string]any); ok {
		p["post"] = secured(map[string]any{"operationId": "createFeature_incidents",
			"summary":     "Create an incident from a GeoJSON Feature (event_id required).",
			"requestBody": body(MediaGeoJSON, MediaJSON),
			"responses": map[string]any{"201": feature("Created; Location names it."),
				"409": errResp("The event_id exists (Location names that incident)."),
				"415": errResp("Not a JSON body.")}})
	}
	if p, ok := paths[items+"/{featureId}"].(map[string]any); ok {
		common := func() map[string]any {
			return map[string]any{"412": errResp("If-Match does not match the current version."),
				"404": errResp("No such incident.")}
		}
		put := common()
		put["200"] = feature("Replaced.")
		p["put"] = secured(map[string]any{"operationId": "replaceFeature_incidents", "summary": "Replace an incident.",
			"parameters": []any{ref("featureId"), ref("If-Match")}, "requestBody": body(MediaGeoJSON, MediaJSON), "responses": put})
		patch := common()
		patch["200"] = feature("Updated.")
		p["patch"] = secured(map[string]any{"operationId": "updateFeature_incidents",
			"summary":    "Change an incident with a JSON merge patch (RFC 7396) of its Feature.",
			"parameters": []any{ref("featureId"), ref("If-Match")}, "requestBody": body(MediaMergePatch, MediaJSON), "responses": patch})
		del := common()
		del["204"] = map[string]any{"description": "Deleted; the version stays in the history."}
		p["delete"] = secured(map[string]any{"operationId": "deleteFeature_incidents", "summary": "Delete an incident.",
			"parameters": []any{ref("featureId"), ref("If-Match")}, "responses": del})
	}
	params["dry_run"] = map[string]any{"name": "dry_run", "in": "query", "required": false,
		"description": "true: check every row and count what would change, but write nothing.",
		"schema":      map[string]any{"type": "boolean", "default": false}}
	paths["/collections/incidents/import"] = map[string]any{"post": secured(map[string]any{
		"operationId": "importFile_incidents",
		"summary": "Import a file of incidents in one all-or-nothing transaction, upserting by event_id: " +
			"an ACLED CSV (text/csv, its public columns in any order), a GeoJSON FeatureCollection or GeoJSON text sequences.",
		"parameters":  []any{ref("dry_run")},
		"requestBody": body("text/csv", MediaGeoJSON, "application/geo+json-seq", "application/x-ndjson"),
		"responses": map[string]any{
			"200": map[string]any{"description": "Imported (or, dry, checked): rows read, inserted, updated, unchanged, older.",
				"content": map[string]any{MediaJSON: map[string]any{}}},
			"413": errResp("The file is larger than the server accepts."),
			"415": errResp("The Content-Type is not an import format."),
			"422": errResp("Rows are bad (the first 100 named by row, field, value and why); nothing was written.")}})}
	paths[items+"/{featureId}/history"] = map[string]any{"get": map[string]any{
		"operationId": "getHistory_incidents", "summary": "The current and every earlier version of an incident, newest first.",
		"parameters": []any{ref("featureId")},
		"responses": map[string]any{"200": map[string]any{"description": "The versions.", "content": map[string]any{MediaJSON: map[string]any{}}},
			"404": errResp("No incident ever had this id.")}}}
	evParams := []any{ref("Last-Event-ID")}
	for _, name := range eventsParams {
		if _, ok := params[name]; ok {
			evParams = append(evParams, ref(name))
		}
	}
	paths["/collections/incidents/events"] = map[string]any{"get": map[string]any{
		"operationId": "getEvents_incidents",
		"summary":     "Server-Sent Events of created, updated and deleted incidents, filtered by the items parameters.",
		"parameters":  evParams,
		"responses": map[string]any{"200": map[string]any{"description": "The event stream.",
			"content": map[string]any{"text/event-stream": map[string]any{}}},
			"400": errResp("A parameter is unknown, repeated or malformed.")}}}
}
