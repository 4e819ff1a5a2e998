package server

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
)

// favicon answers browsers' automatic /favicon.ico request with 204 No
// Content: a browser that opens a JSON document (/healthz, an items page)
// asks for it, and a 404 there shows as an error in its console (and failed
// the map page's Chromium test at random, depending on when it arrived).
func favicon(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "max-age=86400")
	return c.SendStatus(http.StatusNoContent)
}
