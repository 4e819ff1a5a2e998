package server

import (
	"github.com/gofiber/fiber/v2"
)

// sortablesPath is where the incidents' sortable properties are listed.
const sortablesPath = "/collections/incidents/sortables"

// sortablesDoc serves /collections/incidents/sortables (OGC API – Records
// and the Features Part 5 draft): a JSON Schema of the properties sortby
// may name, in the form of the queryables.
func (h *handlers) sortablesDoc(c *fiber.Ctx) error {
	f, err := negotiateDocument(c)
	if err != nil {
		return err
	}
	col, _ := h.collectionByID(writable)
	base := h.baseURL(c)
	self := base + sortablesPath
	props := map[string]any{}
	for _, q := range sortables {
		props[q.Name] = q.schema()
	}
	view := *col
	view.Queryables = sortables
	return h.render(c, f, resource{Media: MediaSchemaJSON, Page: "queryables", Title: col.Title + ": sortables",
		Links: []Link{
			{Href: self, Rel: "alternate", Type: MediaSchemaJSON, Title: "as JSON Schema"},
			{Href: base + "/collections/" + col.ID, Rel: "collection", Type: MediaJSON, Title: col.Title},
		},
		View: struct {
			Collection *collection
			Sortables  bool
		}{&view, true},
		JSON: map[string]any{
			"$schema":              "https://json-schema.org/draft/2020-12/schema",
			"$id":                  self,
			"type":                 "object",
			"title":                col.Title,
			"description":          "Properties of " + col.ID + " that sortby may name (+ ascending, - descending; ties by id).",
			"properties":           props,
			"additionalProperties": false,
		}})
}
