package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// registerDiscovery declares OPTIONS on the items of every collection and on
// each item (OGC API – Features Part 4 discovery: a client such as QGIS turns
// editing on only when OPTIONS answers 200 with an Allow header that lists
// the write methods), and the search form of POST on the incidents' items.
// A CORS preflight (Origin and Access-Control-Request-Method) is answered by
// the CORS middleware before these routes run; a plain OPTIONS reaches them.
// It must run before registerWrites: a POST that is not a search passes on to
// the create route.
func (h *handlers) registerDiscovery(app *fiber.App) {
	app.Options("/collections/:collectionId/items", h.collectionHandler(h.itemsOptions))
	app.Options("/collections/:collectionId/items/:fid", h.collectionHandler(h.itemOptions))
	app.Post("/collections/incidents/items", h.searchItems)
}

// writable is the collection whose features the write API changes.
const writable = "incidents"

// writesOn reports whether the write API is on (a valid token exists), so
// that Allow lists only the methods a client can really use.
func (h *handlers) writesOn(c *fiber.Ctx) (bool, error) {
	ctx, cancel := h.requestContext(c)
	defer cancel()
	return h.store.HasTokens(ctx)
}

// itemsOptions answers OPTIONS on /collections/{id}/items: 200, no body, and
// Allow with POST when features can be created there.
func (h *handlers) itemsOptions(c *fiber.Ctx, col *collection) error {
	allow := "GET, HEAD, OPTIONS"
	if col.ID == writable {
		on, err := h.writesOn(c)
		if err != nil {
			return err
		}
		if on {
			allow = "GET, HEAD, OPTIONS, POST"
			c.Set("Accept-Post", MediaGeoJSON+", "+MediaJSON)
		}
	}
	c.Set(fiber.HeaderAllow, allow)
	c.Status(http.StatusOK) // and no body
	return nil
}

// itemOptions answers OPTIONS on /collections/{id}/items/{fid}: 404 when the
// feature does not exist (as GET would), else 200 with Allow listing PUT,
// PATCH and DELETE when the write API is on.
func (h *handlers) itemOptions(c *fiber.Ctx, col *collection) error {
	allow := "GET, HEAD, OPTIONS"
	if col.ID == writable {
		fid := c.Params("fid")
		id, err := strconv.ParseInt(fid, 10, 64)
		if err != nil || id < 1 {
			return notFound(fmt.Sprintf("no incident with id %q: ids are positive whole numbers", fid))
		}
		ctx, cancel := h.requestContext(c)
		_, err = h.store.Incident(ctx, id)
		cancel()
		if err != nil {
			return err
		}
		on, err := h.writesOn(c)
		if err != nil {
			return err
		}
		if on {
			allow = "GET, HEAD, OPTIONS, PUT, PATCH, DELETE"
			c.Set("Accept-Patch", MediaMergePatch)
		}
	}
	c.Set(fiber.HeaderAllow, allow)
	c.Status(http.StatusOK) // and no body
	return nil
}

// searchItems is POST /collections/incidents/items when the body is a query,
// not a Feature (OGC API – Features Part 3 "filter in the body", as OWSLib's
// cql= sends it): either a bare CQL2 JSON expression ({"op":…,"args":…}) or
// an object of items parameters, {"filter": <CQL2 JSON or text>,
// "filter-lang": …, "limit": 10, "bbox": [..], …}. The query runs as the GET
// with those parameters added to the URL's (a parameter in both is a 400),
// and its next links are GETs that carry them. Any other body passes on to
// the create route, which needs a token.
func (h *handlers) searchItems(c *fiber.Ctx) error {
	raw, err := readBody(c, int64(h.cfg.BodyLimit))
	if err != nil {
		return err
	}
	body := bytes.TrimSpace(raw)
	if len(body) == 0 || body[0] != '{' {
		return c.Next()
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		return c.Next() // the create route says what is wrong with it
	}
	if _, isFeature := members["type"]; isFeature {
		return c.Next()
	}
	params := map[string]string{}
	switch {
	case members["op"] != nil:
		// A CQL2 JSON expression on its own.
		params["filter"] = string(body)
		params["filter-lang"] = "cql2-json"
	case members["filter"] != nil:
		for name, raw := range members {
			if !contains(itemsParams, name) {
				return badRequest(fmt.Sprintf("the query body has %q, which is not an items parameter; it takes: %s",
					name, strings.Join(itemsParams, ", ")))
			}
			v, err := bodyParam(name, raw)
			if err != nil {
				return err
			}
			params[name] = v
		}
		if raw := members["filter"]; len(raw) > 0 && raw[0] == '{' {
			if _, given := params["filter-lang"]; !given {
				params["filter-lang"] = "cql2-json"
			}
		}
	default:
		return c.Next()
	}
	args := c.Context().QueryArgs()
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if args.Has(name) {
			return badRequest(fmt.Sprintf("parameter %q is given in both the URL and the query body; give it once", name))
		}
		args.Add(name, params[name])
	}
	col, _ := h.collectionByID(writable)
	return col.Items(c)
}

// bodyParam turns one member of a query body into a parameter's text: a
// string as it is, a number as written, an array of numbers or strings
// comma-separated (bbox), a JSON object (a CQL2 JSON filter) as its JSON.
func bodyParam(name string, raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	bad := badRequest(fmt.Sprintf("query body member %q must be a string, a number or a list of them", name))
	if len(raw) == 0 {
		return "", bad
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", bad
		}
		return s, nil
	case '{':
		if name != "filter" {
			return "", bad
		}
		return string(raw), nil
	case '[':
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return "", bad
		}
		parts := make([]string, len(list))
		for i, e := range list {
			if len(e) == 0 || e[0] == '[' || e[0] == '{' {
				return "", bad
			}
			s, err := bodyParam(name, e)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	case 't', 'f':
		if s := string(raw); s == "true" || s == "false" {
			return s, nil
		}
		return "", bad
	default:
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", bad
		}
		return n.String(), nil
	}
}

// discoveryOpenAPI adds OPTIONS on the items and on one item, and the search
// form of POST on the incidents' items, to the OpenAPI document. It runs
// after writeOpenAPI, whose POST it extends.
func (h *handlers) discoveryOpenAPI(doc map[string]any, errResp func(string) map[string]any) {
	paths := doc["paths"].(map[string]any)
	allow := func(desc string) map[string]any {
		return map[string]any{"description": desc,
			"headers": map[string]any{"Allow": map[string]any{"schema": map[string]any{"type": "string"}}}}
	}
	for path, p := range paths {
		op, ok := p.(map[string]any)
		if !ok || !strings.HasPrefix(path, "/collections/") {
			continue
		}
		switch {
		case strings.HasSuffix(path, "/items"):
			op["options"] = map[string]any{"operationId": "options" + strings.ReplaceAll(path, "/", "_"),
				"summary":   "The methods the items take (Part 4 discovery): POST is listed when the write API is on.",
				"responses": map[string]any{"200": allow("No body; Allow lists the methods.")}}
		case strings.HasSuffix(path, "/items/{featureId}"):
			op["options"] = map[string]any{"operationId": "options" + strings.ReplaceAll(path, "/", "_"),
				"summary":    "The methods the feature takes (Part 4 discovery): PUT, PATCH and DELETE are listed when the write API is on.",
				"parameters": []any{map[string]any{"$ref": "#/components/parameters/featureId"}},
				"responses": map[string]any{"200": allow("No body; Allow lists the methods."),
					"404": errResp("No such feature.")}}
		}
	}
	p, ok := paths["/collections/incidents/items"].(map[string]any)
	if !ok {
		return
	}
	post, ok := p["post"].(map[string]any)
	if !ok {
		return
	}
	post["description"] = "Two uses, told apart by the body. A GeoJSON Feature creates an incident (bearer token " +
		"required). A query needs no token: a CQL2 JSON expression on its own ({\"op\":…,\"args\":…}, as OWSLib's cql= " +
		"sends it), or an object of items parameters ({\"filter\": CQL2 JSON or text, \"filter-lang\": …, \"limit\": 10, " +
		"\"bbox\": [..], …}); it answers as GET …/items with those parameters added to the URL's (one given in both " +
		"is a 400), with next links as GETs."
	rs := post["responses"].(map[string]any)
	rs["200"] = map[string]any{"description": "A query body: the matching features, paged as GET …/items.",
		"content": map[string]any{MediaGeoJSON: map[string]any{}}}
}
