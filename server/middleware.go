package server

import (
	"fmt"
	"hash/fnv"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
)

// contentSecurityPolicy allows only this server's own scripts, styles and
// connections: no inline script, no eval, no plugins, no framing. Images may
// also come from https origins because the optional raster tile layer is
// configured at run time.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data: blob: https:; connect-src 'self'; font-src 'self'; object-src 'none'; " +
	"base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// useMiddleware installs the production middleware, outermost first: request
// id, access log and metrics, panic recovery, security headers, framing and
// Host checks, CORS (writes only from an opt-in list), rate limits, body
// limits, compression, and conditional GETs.
func (h *handlers) useMiddleware(app *fiber.App) {
	app.Use(requestid.New(requestid.Config{
		Generator: func() string {
			return strconv.FormatUint(h.requestSeq.Add(1), 36) + "-" + h.startID
		},
	}))
	app.Use(h.accessLog)
	app.Use(recover.New(recover.Config{
		EnableStackTrace: true,
		StackTraceHandler: func(c *fiber.Ctx, e any) {
			h.log.Error("panic", "path", c.Path(), "panic", fmt.Sprint(e))
		},
	}))
	app.Use(securityHeaders)
	app.Use(checkFraming)
	app.Use(checkForwarded)
	app.Use(corsMiddleware(h.cfg))
	if h.cfg.RateLimit > 0 {
		app.Use(h.rateLimiter(h.cfg.RateLimit, func(c *fiber.Ctx) bool { return isRead(c.Method()) }))
	}
	if h.cfg.WriteRateLimit > 0 {
		app.Use(h.rateLimiter(h.cfg.WriteRateLimit, func(c *fiber.Ctx) bool { return !isRead(c.Method()) }))
	}
	app.Use(h.bodyLimit)
	app.Use(h.refuseWritesIfReplaced)
	if h.cfg.Compress {
		app.Use(compress.New(compress.Config{
			Level: compress.LevelBestSpeed,
			// Event streams must reach the client as each event is written.
			Next: func(c *fiber.Ctx) bool { return strings.HasSuffix(c.Path(), "/events") },
		}))
	}
	app.Use(h.conditionalGet)
}

func isRead(method string) bool {
	return method == fiber.MethodGet || method == fiber.MethodHead || method == fiber.MethodOptions
}

// securityHeaders sets the headers every response carries.
func securityHeaders(c *fiber.Ctx) error {
	hd := &c.Response().Header
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	return c.Next()
}

// accessLog writes one log line per request and records its metrics. It runs
// the error handler itself so that the status it logs is the one sent.
func (h *handlers) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	if err := c.Next(); err != nil {
		if herr := c.App().Config().ErrorHandler(c, err); herr != nil {
			c.Status(http.StatusInternalServerError)
		}
	}
	elapsed := time.Since(start)
	status := c.Response().StatusCode()
	route := c.Route().Path
	if route == "/" && c.Path() != "/" {
		// No route ran: an unknown path, or a middleware answered (304, 413,
		// 429). One label keeps arbitrary paths out of the metrics.
		route = "(no route)"
	}
	// A streamed body is still being written; its size is not known here.
	bytes := -1
	if !c.Response().IsBodyStream() && !c.Context().Hijacked() {
		bytes = len(c.Response().Body())
	}
	h.metrics.observe(route, c.Method(), status, elapsed)
	level := h.log.Info
	if status >= 500 {
		level = h.log.Error
	}
	level("request", "method", c.Method(), "route", route, "path", c.Path(), "status", status,
		"duration_ms", float64(elapsed.Microseconds())/1000, "bytes", bytes,
		"request_id", c.GetRespHeader(fiber.HeaderXRequestID), "ip", c.IP())
	return nil
}

// rateLimiter limits each client IP to max requests a minute among the
// requests applies selects; loopback clients are exempt unless configured.
func (h *handlers) rateLimiter(max int, applies func(*fiber.Ctx) bool) fiber.Handler {
	return limiter.New(limiter.Config{
		Max:        max,
		Expiration: time.Minute,
		Next: func(c *fiber.Ctx) bool {
			if !applies(c) {
				return true
			}
			ip := net.ParseIP(c.IP())
			return !h.cfg.RateLimitLoopback && ip != nil && ip.IsLoopback()
		},
		KeyGenerator:           func(c *fiber.Ctx) string { return c.IP() },
		LimiterMiddleware:      limiter.SlidingWindow{},
		SkipFailedRequests:     false,
		SkipSuccessfulRequests: false,
		LimitReached: func(c *fiber.Ctx) error {
			return &Error{Status: http.StatusTooManyRequests, Code: CodeTooManyRequests,
				Description: fmt.Sprintf("more than %d requests a minute from %s; retry after the time in Retry-After", max, c.IP())}
		},
	})
}

// bodyLimit refuses request bodies above the configured size with a JSON 413
// before any handler reads them. Import endpoints take files and have their
// own, larger limit. A body of unknown length on other routes is refused
// (411), since it could only be limited after it was read.
func (h *handlers) bodyLimit(c *fiber.Ctx) error {
	if isRead(c.Method()) || c.Method() == fiber.MethodDelete {
		return c.Next()
	}
	limit := int64(h.cfg.BodyLimit)
	if strings.HasSuffix(c.Path(), "/import") {
		limit = h.cfg.ImportBodyLimit
	}
	n := int64(c.Request().Header.ContentLength())
	switch {
	case n > limit:
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge,
			Description: fmt.Sprintf("request body of %d bytes is over the limit of %d bytes", n, limit)}
	case n == -1 && !strings.HasSuffix(c.Path(), "/import"):
		return &Error{Status: http.StatusLengthRequired, Code: CodeLengthRequired,
			Description: "send a Content-Length with the request body"}
	}
	return c.Next()
}

// conditionalGet gives GET responses a weak ETag and Last-Modified derived from
// the data version, and answers 304 when the client's copy is current. The tag
// also covers the URL, the negotiated representation and this process's start,
// since a new build may render the same data differently.
func (h *handlers) conditionalGet(c *fiber.Ctx) error {
	if (c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead) || !cacheable(c.Path()) {
		return c.Next()
	}
	ctx, cancel := h.requestContext(c)
	v, err := h.store.DataVersion(ctx)
	cancel()
	if err != nil {
		return c.Next() // no validator is better than no response
	}
	c.Locals(localDataVersion, v.Seq)
	hash := fnv.New64a()
	for _, s := range []string{h.startID, string(c.Request().RequestURI()), c.Get(fiber.HeaderAccept)} {
		hash.Write([]byte(s))
		hash.Write([]byte{0})
	}
	etag := fmt.Sprintf(`W/"%d-%x"`, v.Seq, hash.Sum64())
	modified := v.At.UTC().Truncate(time.Second)
	if h.started.After(modified) {
		modified = h.started
	}
	hd := &c.Response().Header
	hd.Set(fiber.HeaderETag, etag)
	hd.Set(fiber.HeaderLastModified, modified.Format(http.TimeFormat))
	hd.Set(fiber.HeaderCacheControl, "no-cache")
	hd.Add(fiber.HeaderVary, "Accept")
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" {
		if etagMatches(inm, etag) {
			return c.SendStatus(http.StatusNotModified)
		}
	} else if ims := c.Get(fiber.HeaderIfModifiedSince); ims != "" {
		if t, err := http.ParseTime(ims); err == nil && !modified.After(t) {
			return c.SendStatus(http.StatusNotModified)
		}
	}
	return c.Next()
}

// localDataVersion is the c.Locals key of the data version (int64) that
// conditionalGet read for the request, for handlers that cache by it.
const localDataVersion = "incidentmap.dataVersion"

// cacheable reports whether GETs of path depend only on the data and the build.
func cacheable(path string) bool {
	if strings.HasSuffix(path, "/events") || strings.HasSuffix(path, "/history") {
		return false
	}
	return path == "/" || path == "/api" || path == "/conformance" || strings.HasPrefix(path, "/collections")
}

// etagMatches compares an If-None-Match list with a tag, weakly (RFC 9110 §13.1.2).
func etagMatches(header, etag string) bool {
	want := strings.TrimPrefix(etag, "W/")
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == want {
			return true
		}
	}
	return false
}

// refuseWritesIfReplaced answers writes with 503 once the database file has
// been replaced under the server (restore --force): they would go to the old
// file, which the next start does not open. A write that passed this check
// just before the swap lands in the old file, which restore keeps as
// DB.before-restore-<time>, so it is not lost.
func (h *handlers) refuseWritesIfReplaced(c *fiber.Ctx) error {
	if isRead(c.Method()) {
		return c.Next()
	}
	if rc, ok := h.store.(replacedChecker); ok {
		if err := rc.Replaced(); err != nil {
			h.log.Error("write refused: database file replaced", "err", err)
			return &Error{Status: http.StatusServiceUnavailable, Code: CodeNotReady,
				Description: "the database file was replaced under the server (a restore?); writes are refused until it is restarted"}
		}
	}
	return c.Next()
}
