package server

import (
	"errors"
	"io/fs"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"incidentmap/basemap"
)

// basemapLayer is one offline base layer of the map page.
type basemapLayer struct {
	ID    string `json:"id"`
	URL   string `json:"url"`
	Title string `json:"title"`
}

// basemapConfig is the page configuration's basemap: its layers, drawn in
// this order (land first, labels last), and the attribution its source asks for.
type basemapConfig struct {
	Layers      []basemapLayer `json:"layers"`
	Attribution string         `json:"attribution"`
}

// basemapLayers lists the embedded base layers served under /map/basemap/.
func basemapLayers() basemapConfig {
	out := basemapConfig{Attribution: basemap.Attribution}
	for _, l := range basemap.Layers {
		out.Layers = append(out.Layers, basemapLayer{ID: l.ID, URL: "/map/basemap/" + l.ID + ".geojson", Title: l.Title})
	}
	return out
}

// basemapFile serves one embedded base layer. The files change only with
// the binary, so browsers keep them a day and revalidate by ETag after.
func (h *handlers) basemapFile(c *fiber.Ctx) error {
	name := c.Params("name")
	id, ok := strings.CutSuffix(name, ".geojson")
	if !ok {
		return notFound("no base layer " + name + "; see basemap in /map/config.json")
	}
	data, etag, err := basemap.File(id)
	if errors.Is(err, fs.ErrNotExist) {
		return notFound("no base layer " + name + "; see basemap in /map/config.json")
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	if etagMatches(c.Get(fiber.HeaderIfNoneMatch), etag) {
		return c.SendStatus(http.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, MediaGeoJSON)
	return c.Send(data)
}
