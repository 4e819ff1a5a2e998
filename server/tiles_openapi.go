package server

// tilesOpenAPI adds the vector tile path to the OpenAPI document, reusing the
// items filters' parameter objects, since one parser serves both.
func (h *handlers) tilesOpenAPI(doc map[string]any, errResp func(string) map[string]any) {
	paths := doc["paths"].(map[string]any)
	params := doc["components"].(map[string]any)["parameters"].(map[string]any)
	var ps []any
	for _, name := range []string{"tileMatrix", "tileRow", "tileCol"} {
		ps = append(ps, map[string]any{"$ref": "#/components/parameters/" + name})
	}
	desc := map[string]string{"tileMatrix": "Zoom level, 0 to 22.", "tileRow": "Tile row (y), from the top.", "tileCol": "Tile column (x), from the left."}
	for name, d := range desc {
		params[name] = map[string]any{"name": name, "in": "path", "required": true, "description": d,
			"schema": map[string]any{"type": "integer", "minimum": 0}}
	}
	for _, name := range tileParams {
		if _, ok := params[name]; ok {
			ps = append(ps, map[string]any{"$ref": "#/components/parameters/" + name})
		}
	}
	summary := "Incidents as a Mapbox Vector Tile (layer incidents, WebMercatorQuad). Single incidents carry id, " +
		"event_date, event_type and fatalities; at zoom levels below 8, and whenever a tile would hold more than " +
		"2,000 incidents, clusters carry count, fatalities (summed) and cluster=true; they are laid out so that circles of " +
		"radius min(28, 9 + 4·log10 count) pixels on a 256-pixel tile do not overlap, also across tile edges, and every " +
		"incident is counted in exactly one tile. Takes the items filters."
	paths["/collections/incidents/tiles/WebMercatorQuad/{tileMatrix}/{tileCol}/{tileRow}"] = map[string]any{"get": map[string]any{
		"operationId": "getTile_incidents", "summary": summary, "parameters": ps,
		"responses": map[string]any{
			"200": map[string]any{"description": "The tile, gzipped when the client accepts gzip.",
				"content": map[string]any{MediaMVT: map[string]any{}}},
			"400": errResp("A parameter or a tile coordinate is malformed."),
			"404": errResp("The tile is outside the tile matrix."),
			"500": errResp("A server fault; it has been logged."),
		},
	}}
}
