package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"
)

// Media types of the links and responses.
const (
	MediaGeoJSON    = "application/geo+json"
	MediaJSON       = "application/json"
	MediaHTML       = "text/html"
	MediaSchemaJSON = "application/schema+json"
	MediaOpenAPI    = "application/vnd.oai.openapi+json;version=3.0"
)

// Link is an OGC API / RFC 8288 web link.
type Link struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

// baseURL is the public URL prefix of this server for the request: the
// configured one, or the scheme and host the client reached (through proxies).
func (h *handlers) baseURL(c *fiber.Ctx) string {
	if h.cfg.BaseURL != "" {
		return h.cfg.BaseURL
	}
	return c.Protocol() + "://" + c.Hostname()
}

// pageHref is the URL of path with the request's parameters and a new offset.
func pageHref(base, path string, raw url.Values, offset int) string {
	q := url.Values{}
	for k, v := range raw {
		q[k] = v
	}
	if offset > 0 {
		q.Set("offset", strconv.Itoa(offset))
	} else {
		q.Del("offset")
	}
	if len(q) == 0 {
		return base + path
	}
	return base + path + "?" + q.Encode()
}

// marshalLinks encodes links without escaping '&' in their query strings.
func marshalLinks(links []Link) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(links); err != nil {
		return nil, fmt.Errorf("encode links: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
