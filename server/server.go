// Package server is incidentmap's HTTP face: a fiber app serving the incidents
// as OGC API – Features, with one JSON error shape and streamed responses.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"incidentmap/incident"
	"incidentmap/internal/vcache"
	"incidentmap/store"
)

// Store is what the server needs of the incident store: the seam's small
// interfaces (see package incident), which every engine implements, and the
// aggregations of the map page.
type Store interface {
	incident.Reader
	incident.Changes
	incident.Writer
	incident.Tiler
	incident.Importer
	incident.Admin
	incident.Aggregator
	TokenChecker
}

var _ Store = (*store.SQLite)(nil)

// changeListener is what an engine shared by several servers offers (the
// PostGIS engine, by LISTEN/NOTIFY): a call of fn after every change,
// whoever made it, until ctx ends.
type changeListener interface {
	ListenChanges(ctx context.Context, fn func()) error
}

// Config is the server's configuration; DefaultConfig gives its defaults.
type Config struct {
	BaseURL        string        // public URL prefix for links; empty: from the request (X-Forwarded-* honoured)
	DefaultLimit   int           // items per page when the client names none
	MaxLimit       int           // larger limits are clamped to this
	RequestTimeout time.Duration // deadline of each request's database work
	Logger         *slog.Logger  // nil: slog.Default()

	ReadTimeout       time.Duration // reading a whole request, headers and body
	WriteTimeout      time.Duration // writing a whole response, streamed exports included
	IdleTimeout       time.Duration // keep-alive connections without a request
	BodyLimit         int           // largest request body, except imports
	ImportBodyLimit   int64         // largest body of an import request
	RateLimit         int           // GET/HEAD requests a minute per client IP; 0 is no limit
	WriteRateLimit    int           // other requests a minute per client IP; 0 is no limit
	RateLimitLoopback bool          // also limit clients on 127.0.0.0/8 and ::1
	CORSOrigins       string        // origins allowed to read cross-origin, comma-separated, or "*"
	CORSWriteOrigins  string        // origins allowed to write cross-origin (preflight of POST/PUT/PATCH/DELETE); empty: none
	TrustedProxies    string        // comma-separated IPs or CIDRs whose X-Forwarded-Proto/-Host/-For are believed; empty: none

	MaxStreamsPerIP    int           // streamed responses (items, exports) in flight per client IP; 0: no cap (loopback exempt unless RateLimitLoopback)
	StreamStallTimeout time.Duration // a client that accepts no byte of a streamed response for this long is cut off
	SpoolLimit         int64         // disk bytes all streams together may spool (see streamSpooled); 0: memory only
	Compress           bool          // gzip/brotli responses when the client accepts it

	EventsPoll       time.Duration // how often event streams look for changes made by other processes
	EventsHeartbeat  time.Duration // how often an idle event stream sends a comment to keep proxies from closing it
	WarmTiles        bool          // build the low-zoom vector tiles and the page's aggregations of all incidents at start (see warmTiles, warmAggregates)
	Tiles            string        // URL template of a raster tile layer for the map page ({z}/{x}/{y}); empty: none
	TilesAttribution string        // attribution the tile provider requires

	// Bytes each in-memory cache may hold (0: its default, negative: none).
	// Every cache is bounded in bytes, so the server's memory does not grow
	// with the number of distinct requests; the engines' caches of counts
	// and aggregations have their own (store.WithCacheBytes).
	TileCacheBytes int64 // encoded vector tiles (DefaultTileCacheBytes)
	PageCacheBytes int64 // GeoJSON items pages of up to 1,000 features (DefaultPageCacheBytes)
	GridCacheBytes int64 // tiles' cluster grids (DefaultGridCacheBytes)
}

// cacheBytes is a configured cache size: 0 is the default, negative none.
func cacheBytes(n, def int64) int64 {
	switch {
	case n == 0:
		return def
	case n < 0:
		return 0
	}
	return n
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{
		DefaultLimit: 100, MaxLimit: 10000, RequestTimeout: 30 * time.Second,
		ReadTimeout: 60 * time.Second, WriteTimeout: 10 * time.Minute, IdleTimeout: 2 * time.Minute,
		BodyLimit: 1 << 20, ImportBodyLimit: 1 << 30,
		RateLimit: 1200, WriteRateLimit: 120,
		CORSOrigins: "*", Compress: true,
		MaxStreamsPerIP: 8, StreamStallTimeout: time.Minute, SpoolLimit: 1 << 30,
		EventsPoll: time.Second, EventsHeartbeat: 15 * time.Second, WarmTiles: true,
	}
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("base URL %q must be an absolute http(s) URL", c.BaseURL)
		}
	}
	if c.DefaultLimit < 1 || c.MaxLimit < c.DefaultLimit {
		return fmt.Errorf("limits: default %d must be at least 1 and at most the maximum %d", c.DefaultLimit, c.MaxLimit)
	}
	if c.RequestTimeout <= 0 {
		return fmt.Errorf("request timeout %v must be positive", c.RequestTimeout)
	}
	if c.ReadTimeout <= 0 || c.WriteTimeout <= 0 || c.IdleTimeout <= 0 {
		return fmt.Errorf("read, write and idle timeouts (%v, %v, %v) must be positive", c.ReadTimeout, c.WriteTimeout, c.IdleTimeout)
	}
	if c.BodyLimit < 1 || c.ImportBodyLimit < int64(c.BodyLimit) {
		return fmt.Errorf("body limits: %d must be positive and the import limit %d at least as large", c.BodyLimit, c.ImportBodyLimit)
	}
	if c.RateLimit < 0 || c.WriteRateLimit < 0 {
		return fmt.Errorf("rate limits (%d, %d) must be 0 (off) or positive", c.RateLimit, c.WriteRateLimit)
	}
	if c.EventsPoll <= 0 || c.EventsHeartbeat <= 0 {
		return fmt.Errorf("event stream poll %v and heartbeat %v must be positive", c.EventsPoll, c.EventsHeartbeat)
	}
	if c.Tiles != "" && (!strings.Contains(c.Tiles, "{z}") || !strings.Contains(c.Tiles, "{x}") || !strings.Contains(c.Tiles, "{y}") ||
		!(strings.HasPrefix(c.Tiles, "https://") || strings.HasPrefix(c.Tiles, "/"))) {
		return fmt.Errorf("tiles %q must be an https:// (or same-server /…) URL template with {z}, {x} and {y}", c.Tiles)
	}
	if strings.TrimSpace(c.CORSOrigins) == "" {
		return fmt.Errorf(`CORS origins must be "*" or a comma-separated list of origins`)
	}
	if c.MaxStreamsPerIP < 0 || c.StreamStallTimeout <= 0 || c.SpoolLimit < 0 {
		return fmt.Errorf("streams per IP %d and spool limit %d must not be negative, the stall timeout %v positive",
			c.MaxStreamsPerIP, c.SpoolLimit, c.StreamStallTimeout)
	}
	if err := validOrigins(c.CORSWriteOrigins); err != nil {
		return fmt.Errorf("CORS write origins: %w", err)
	}
	if _, err := parseProxies(c.TrustedProxies); err != nil {
		return err
	}
	return nil
}

// handlers holds what every handler needs; it is built once in New.
type handlers struct {
	cfg   Config
	store Store
	log   *slog.Logger
	colls []collection // the collection registry, see collections
	html  *pages       // the HTML templates

	metrics    *Metrics
	started    time.Time     // when New ran, truncated to seconds (Last-Modified floor)
	startID    string        // distinguishes this process in request ids and ETags
	requestSeq atomic.Uint64 // numbers request ids

	auth fiber.Handler // RequireToken over the store: guards every write route
	live liveHub       // wakes event streams after this process writes

	tiles byteCache // encoded vector tiles of the current data version
	grids gridCache // tiles' cluster grid cells of the current data version (see clusterTile)
	pages byteCache // GeoJSON items pages of the current data version (see items)

	streams   streamSlots  // streamed responses in flight per client IP
	spoolUsed atomic.Int64 // disk bytes the stream spools hold

	storageFull atomic.Bool // a write failed on a full disk; readiness checks the room until there is some
}

// readyMinFree is the room the database's file system must have again before
// a server that met a full disk reports ready: a few transactions' worth.
const readyMinFree = 4 << 20

// replacedChecker is what a file-backed store can say of its file being
// replaced under it (see store.SQLite.Replaced).
type replacedChecker interface {
	Replaced() error
}

// freeSpacer is what a store on a local file system can say of its room.
type freeSpacer interface {
	FreeBytes() (int64, error)
}

// New builds the fiber app over a store. It returns an error for a bad config.
func New(cfg Config, st Store) (*fiber.App, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	now := time.Now()
	h := &handlers{cfg: cfg, store: st, log: cfg.Logger, started: now.UTC().Truncate(time.Second),
		startID: strconv.FormatInt(now.UnixNano(), 36)}
	// Every cache is bounded in bytes, so that the server's memory does not
	// grow with the number of distinct requests (see Config).
	h.tiles = newByteCache(cacheBytes(cfg.TileCacheBytes, DefaultTileCacheBytes))
	h.pages = newByteCache(cacheBytes(cfg.PageCacheBytes, DefaultPageCacheBytes))
	h.grids.cells = vcache.New[tileGridCells](cacheBytes(cfg.GridCacheBytes, DefaultGridCacheBytes))
	h.metrics = newMetrics(func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return float64(st.Size(ctx))
	})
	h.metrics.reg.MustRegister(newMemoryCollector(h.cacheStats))
	if rr, ok := st.(incident.ReplicaReporter); ok {
		h.metrics.reg.MustRegister(newReplicaCollector(rr))
	}
	h.colls = h.collections()
	h.auth = RequireToken(st, cfg.RequestTimeout)
	var err error
	if h.html, err = parsePages(); err != nil {
		return nil, err
	}
	proxies, _ := parseProxies(cfg.TrustedProxies) // validated above
	proxyHeader := ""
	if len(proxies) > 0 {
		proxyHeader = fiber.HeaderXForwardedFor // the client's IP, for rate limits and logs
	}
	app := fiber.New(fiber.Config{
		AppName:               "incidentmap",
		ErrorHandler:          errorHandler(cfg.Logger, func() { h.storageFull.Store(true) }),
		DisableStartupMessage: true,
		StreamRequestBody:     true,
		// Long CQL2 filters travel in the query string (GET); 4 KiB, fasthttp's
		// default, would refuse them with 431 before the parser could explain.
		ReadBufferSize: 16 << 10,
		ReadTimeout:    cfg.ReadTimeout,
		WriteTimeout:   cfg.WriteTimeout,
		IdleTimeout:    cfg.IdleTimeout,
		// bodyLimit refuses large bodies with a JSON error first; this is the
		// transport's hard ceiling.
		BodyLimit: int(cfg.ImportBodyLimit),
		// X-Forwarded-Proto, -Host and -For are believed only from the
		// configured proxies; from anyone else they would let a client write
		// the links other clients follow.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          proxies,
		ProxyHeader:             proxyHeader,
		EnableIPValidation:      true,
	})
	h.useMiddleware(app)
	app.Get("/healthz", h.health)
	app.Get("/readyz", h.ready)
	app.Get("/metrics", h.metrics.handler())
	app.Get("/ogc.css", stylesheet)
	app.Get("/favicon.ico", favicon)
	// OGC API – Features: landing, conformance, /api and every registered collection.
	h.registerOGC(app)
	// OPTIONS (Part 4 discovery) and search by POST, before the write routes.
	h.registerDiscovery(app)
	// Write API, history and live updates (issue 5).
	h.registerWrites(app)
	app.Get("/collections/incidents/events", h.events)
	app.Get(changesPath, h.changesFeed)
	// Counts per group for the page's timeline and charts (issue 14).
	app.Get(aggregatePath, h.aggregate)
	// The map page (issue 6).
	h.registerPage(app)
	// Vector tiles with server-side clustering (issue 8).
	h.registerTiles(app)
	// Import of ACLED CSV and GeoJSON files (issue 5, behind the same tokens).
	h.registerImport(app)
	if cl, ok := st.(changeListener); ok {
		// Writes through other servers on the same database wake this one's
		// event streams at once instead of at their next poll.
		ctx, cancel := context.WithCancel(context.Background())
		app.Hooks().OnShutdown(func() error { cancel(); return nil })
		go func() {
			if err := cl.ListenChanges(ctx, h.live.notify); err != nil && ctx.Err() == nil {
				h.log.Warn("listening for changes", "err", err)
			}
		}()
	}
	if cfg.WarmTiles {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			h.warmTiles(ctx)
			h.warmAggregates(ctx)
		}()
	}
	return app, nil
}

// requestContext is the context of a request's database work, with its deadline.
func (h *handlers) requestContext(c *fiber.Ctx) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.UserContext(), h.cfg.RequestTimeout)
}

func (h *handlers) health(c *fiber.Ctx) error {
	ctx, cancel := h.requestContext(c)
	defer cancel()
	if err := h.store.Ping(ctx); err != nil {
		return fmt.Errorf("health: %w", err)
	}
	return c.JSON(fiber.Map{"status": "ok"})
}

// ready answers 200 when the database answers and its schema is the one this
// build expects, and 503 otherwise, so a load balancer holds traffic back.
func (h *handlers) ready(c *fiber.Ctx) error {
	ctx, cancel := h.requestContext(c)
	defer cancel()
	notReady := func(why string) error {
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeNotReady, Description: why}
	}
	if err := h.store.Ping(ctx); err != nil {
		h.log.Error("readiness: database does not answer", "err", err)
		return notReady("the database does not answer")
	}
	if rc, ok := h.store.(replacedChecker); ok {
		if err := rc.Replaced(); err != nil {
			h.log.Error("readiness: database file replaced", "err", err)
			return notReady("the database file was replaced under the server (a restore?); restart it to serve the new one")
		}
	}
	if h.storageFull.Load() {
		if fs, ok := h.store.(freeSpacer); ok {
			if free, err := fs.FreeBytes(); err != nil || free < readyMinFree {
				return notReady(fmt.Sprintf("storage full: %d bytes free where the database is; writes fail until there is room", free))
			}
		}
		h.storageFull.Store(false)
	}
	r, err := h.store.Ready(ctx)
	if err != nil {
		h.log.Error("readiness", "err", err)
		if errors.Is(err, incident.ErrNotReady) {
			// The engine's own words, without the sentinel's or internals' text.
			why, _, _ := strings.Cut(err.Error(), " (")
			return notReady(strings.TrimSuffix(why, ": "+incident.ErrNotReady.Error()))
		}
		return notReady("the database cannot say whether it is ready")
	}
	return c.JSON(fiber.Map{"status": "ready", "engine": r.Engine, "schema_version": r.SchemaVersion, "replicas": r.Replicas})
}
