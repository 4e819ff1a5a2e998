// Package server is incidentmap's HTTP face: a fiber app serving the incidents
// as OGC API – Features, with one JSON error shape and streamed responses.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/paulmach/orb"

	"incidentmap/geo"
	"incidentmap/store"
)

// Store is what the server needs of the incident store.
type Store interface {
	// Incidents streams the incidents a filter selects; see store.SQLite.Incidents.
	Incidents(ctx context.Context, f store.Filter, count bool) (*store.Cursor, error)
	// Incident returns one incident or an error wrapping store.ErrNotFound.
	Incident(ctx context.Context, id int64) (geo.Incident, error)
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Extent returns the space and time all incidents cover.
	Extent(ctx context.Context) (store.Extent, error)
	// Regions returns the regions a query selects with their incident counts.
	Regions(ctx context.Context, q store.RegionQuery) ([]store.RegionStats, error)
	// Region returns one region by ISO code or an error wrapping store.ErrNotFound.
	Region(ctx context.Context, iso string, f store.Filter) (store.RegionStats, error)
	// RegionsBound is the box around every region; ok is false when there are none.
	RegionsBound(ctx context.Context) (b orb.Bound, ok bool, err error)
}

var _ Store = (*store.SQLite)(nil)

// Config is the server's configuration; DefaultConfig gives its defaults.
type Config struct {
	BaseURL        string        // public URL prefix for links; empty: from the request (X-Forwarded-* honoured)
	DefaultLimit   int           // items per page when the client names none
	MaxLimit       int           // larger limits are clamped to this
	RequestTimeout time.Duration // deadline of each request's database work
	Logger         *slog.Logger
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{DefaultLimit: 100, MaxLimit: 10000, RequestTimeout: 30 * time.Second, Logger: slog.Default()}
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
	return nil
}

// handlers holds what every handler needs; it is built once in New.
type handlers struct {
	cfg   Config
	store Store
	log   *slog.Logger
	colls []collection // the collection registry, see collections
	html  *pages       // the HTML templates
}

// New builds the fiber app over a store. It returns an error for a bad config.
func New(cfg Config, st Store) (*fiber.App, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &handlers{cfg: cfg, store: st, log: cfg.Logger}
	h.colls = h.collections()
	var err error
	if h.html, err = parsePages(); err != nil {
		return nil, err
	}
	app := fiber.New(fiber.Config{
		AppName:               "incidentmap",
		ErrorHandler:          errorHandler(cfg.Logger),
		DisableStartupMessage: true,
		StreamRequestBody:     true,
		// Long CQL2 filters travel in the query string (GET); 4 KiB, fasthttp's
		// default, would refuse them with 431 before the parser could explain.
		ReadBufferSize: 16 << 10,
	})
	app.Get("/healthz", h.health)
	// OGC API – Features: landing, conformance, /api and every registered collection.
	h.registerOGC(app)
	return app, nil
}

func (h *handlers) health(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), h.cfg.RequestTimeout)
	defer cancel()
	if err := h.store.Ping(ctx); err != nil {
		return fmt.Errorf("health: %w", err)
	}
	return c.JSON(fiber.Map{"status": "ok"})
}
