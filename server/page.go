package server

import (
	"errors"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"incidentmap/static"
)

// registerPage serves the map page at /map/ from the embedded static files.
func (h *handlers) registerPage(app *fiber.App) {
	app.Get("/map", func(c *fiber.Ctx) error {
		// Routing is not strict, so /map/ arrives here too. The page's relative
		// links (vendor/leaflet.js, ..) need the trailing slash.
		if !strings.HasSuffix(c.Path(), "/") {
			return c.Redirect(h.baseURL(c)+"/map/", http.StatusMovedPermanently)
		}
		return h.pageFile(c)
	})
	app.Get("/map/config.json", h.pageConfig)
	app.Get("/map/*", h.pageFile)
}

// pageConfig tells the page the settings it cannot know by itself.
func (h *handlers) pageConfig(c *fiber.Ctx) error {
	if _, err := queryValues(c, nil); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.JSON(fiber.Map{"tiles": h.cfg.Tiles, "attribution": h.cfg.TilesAttribution})
}

// pageFile serves one file of the page; the folder itself is index.html.
func (h *handlers) pageFile(c *fiber.Ctx) error {
	if _, err := queryValues(c, nil); err != nil {
		return err
	}
	name := path.Clean("/" + c.Params("*"))[1:]
	if name == "" {
		name = "index.html"
	}
	if name == "index.html" && !static.HasVendor() {
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeNotReady,
			Description: "this binary was built without the map's Leaflet files; build it with `make build` (it runs `make assets`)"}
	}
	if strings.HasSuffix(name, ".md") || name == "static.go" {
		return notFound("no file " + name + " on the map page")
	}
	data, err := fs.ReadFile(static.FS, name)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) {
		return notFound("no file " + name + " on the map page")
	}
	if err != nil {
		return err
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	c.Set(fiber.HeaderContentType, ctype)
	if strings.HasPrefix(name, "vendor/") {
		c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	} else {
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	return c.Send(data)
}
