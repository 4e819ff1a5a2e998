package server

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/cors"
)

// validOrigins checks a comma-separated list of origins ("" and "*" are
// valid): each must be scheme://host[:port] with nothing after it, as a
// browser sends it in Origin.
func validOrigins(list string) error {
	if strings.TrimSpace(list) == "" || strings.TrimSpace(list) == "*" {
		return nil
	}
	for _, o := range strings.Split(list, ",") {
		o = strings.TrimSpace(o)
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
			return fmt.Errorf("origin %q must be http(s)://host[:port]", o)
		}
	}
	return nil
}

// parseProxies reads the comma-separated trusted proxies: IPs or CIDRs.
func parseProxies(list string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(list, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			return nil, fmt.Errorf("trusted proxy %q is neither an IP address nor a CIDR range", p)
		}
		out = append(out, p)
	}
	return out, nil
}

// corsHeaders are the request headers a cross-origin reader may send; writers
// add Authorization and If-Match.
const (
	corsReadHeaders  = "Accept,Content-Type,If-None-Match,If-Modified-Since,Last-Event-ID"
	corsWriteHeaders = corsReadHeaders + ",Authorization,If-Match"
	corsExpose       = "ETag,Last-Modified,Location,Link,X-Request-ID"
)

// corsMiddleware answers CORS for reads from cfg.CORSOrigins (by default any
// origin) and for writes only from the explicit cfg.CORSWriteOrigins list: a
// preflight of POST, PUT, PATCH or DELETE from any other origin is answered
// without permission, so a page elsewhere cannot use a token it got hold of.
// A plain OPTIONS (no Access-Control-Request-Method) goes on to its route.
func corsMiddleware(cfg Config) fiber.Handler {
	read := cors.New(cors.Config{
		AllowOrigins:  cfg.CORSOrigins,
		AllowMethods:  "GET,HEAD,OPTIONS",
		AllowHeaders:  corsReadHeaders,
		ExposeHeaders: corsExpose,
		MaxAge:        3600,
	})
	if strings.TrimSpace(cfg.CORSWriteOrigins) == "" {
		return read
	}
	write := cors.New(cors.Config{
		AllowOrigins:  cfg.CORSWriteOrigins,
		AllowMethods:  "GET,HEAD,OPTIONS,POST,PUT,PATCH,DELETE", // writes carry a bearer token, never a cookie
		AllowHeaders:  corsWriteHeaders,
		ExposeHeaders: corsExpose,
		MaxAge:        3600,
	})
	return func(c *fiber.Ctx) error {
		m := c.Method()
		if m == fiber.MethodOptions {
			if rm := c.Get(fiber.HeaderAccessControlRequestMethod); rm != "" {
				m = strings.ToUpper(rm)
			}
		}
		if isRead(m) {
			return read(c)
		}
		return write(c)
	}
}

// checkFraming refuses a request whose body length is ambiguous: two
// Content-Length fields that disagree (fasthttp would take the last, a proxy
// in front perhaps the first: request smuggling), or Content-Length together
// with Transfer-Encoding (RFC 9112 §6.1). The connection is closed after the
// 400, since where this request's body ends is not known.
func checkFraming(c *fiber.Ctx) error {
	var lengths [][]byte
	te := false
	raw := c.Request().Header.RawHeaders()
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte(fiber.HeaderContentLength)):
			lengths = append(lengths, value)
		case bytes.EqualFold(name, []byte(fiber.HeaderTransferEncoding)):
			te = true
		}
	}
	bad := ""
	for _, l := range lengths[min(1, len(lengths)):] {
		if !bytes.Equal(l, lengths[0]) {
			bad = fmt.Sprintf("the request has Content-Length %q and %q; send one", lengths[0], l)
		}
	}
	if te && len(lengths) > 0 {
		bad = "the request has both Content-Length and Transfer-Encoding; send one"
	}
	if bad == "" {
		return c.Next()
	}
	c.Context().SetConnectionClose()
	return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Description: bad}
}

// checkForwarded refuses a request whose scheme or host, as links would carry
// them, is not a plain http(s) scheme and host[:port]: a Host header, or an
// X-Forwarded-Proto/-Host from a trusted proxy, that could put
// "javascript:" or a path into every link of the response.
func checkForwarded(c *fiber.Ctx) error {
	if p := c.Protocol(); p != "http" && p != "https" {
		return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest,
			Description: fmt.Sprintf("the forwarded protocol %q is neither http nor https", p)}
	}
	if h := c.Hostname(); h != "" && !validHost(h) {
		return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest,
			Description: fmt.Sprintf("the host %q is not a host name or address with an optional port", h)}
	}
	return c.Next()
}

// validHost reports whether h is a DNS name, IPv4 or [IPv6] address, with an
// optional :port, and nothing else.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	host, port := h, ""
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 || net.ParseIP(h[1:end]) == nil {
			return false
		}
		host, port = "", h[end+1:]
		if port != "" && !strings.HasPrefix(port, ":") {
			return false
		}
		port = strings.TrimPrefix(port, ":")
	} else if i := strings.LastIndexByte(h, ':'); i >= 0 {
		host, port = h[:i], h[i+1:]
	}
	for _, r := range port {
		if r < '0' || r > '9' {
			return false
		}
	}
	if len(port) > 5 {
		return false
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
