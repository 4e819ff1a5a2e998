// Package testsrv starts incidentmap for tests the way it runs for real: a
// SQLite file in a temporary folder, loaded with the seed, served by the fiber
// app on a loopback listener.
package testsrv

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"incidentmap/geo"
	"incidentmap/importer"
	"incidentmap/incident"
	"incidentmap/seed"
	"incidentmap/server"
	"incidentmap/store"
	"incidentmap/synth"
)

// Server is a running test server.
type Server struct {
	URL    string        // http://127.0.0.1:PORT, no trailing slash
	Store  *store.SQLite // the store behind it
	App    *fiber.App    // the app, for tests that shut it down themselves
	Engine string        // "sqlite" or "postgis"
}

// Regions parses the embedded governorate boundaries, as main does.
func Regions(t testing.TB) *geo.Regions {
	t.Helper()
	rs, err := geo.ParseRegions(seed.RegionsGeoJSON)
	if err != nil {
		t.Fatalf("region boundaries: %v", err)
	}
	return rs
}

// Open opens a store with the region boundaries (and opts) on a fresh file
// in t.TempDir().
func Open(t testing.TB, opts ...store.Option) *store.SQLite {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "incidents.db"),
		append([]store.Option{store.WithRegions(Regions(t))}, opts...)...)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// OpenSeeded opens a store with the region boundaries on a fresh file in
// t.TempDir() and loads the seed.
func OpenSeeded(t testing.TB) *store.SQLite {
	t.Helper()
	ctx := context.Background()
	st := Open(t)
	incs, err := importer.IncidentsFromGeoJSON(seed.IncidentsGeoJSON)
	if err != nil {
		t.Fatalf("read seed: %v", err)
	}
	if _, err := st.Upsert(ctx, incs); err != nil {
		t.Fatalf("load seed: %v", err)
	}
	return st
}

// OpenSynthetic opens a store like Open (with opts) and loads n synthetic incidents
// (synth, seed 1) with one import: the bulk load a first import or
// gen --db makes, with the statistics it leaves.
func OpenSynthetic(t testing.TB, n int, opts ...store.Option) *store.SQLite {
	t.Helper()
	st := Open(t, opts...)
	_, err := st.Import(context.Background(), false, func(w incident.ImportWriter) error {
		return synth.Batches(1, n, 1000, func(incs []incident.Incident) error {
			for i := range incs {
				if err := w.Put(&incs[i], 0); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		t.Fatalf("load %d synthetic incidents: %v", n, err)
	}
	return st
}

// Start serves st with cfg (DefaultConfig when nil) on 127.0.0.1 and stops it
// when the test ends.
func Start(t testing.TB, st *store.SQLite, cfg *server.Config) *Server {
	t.Helper()
	return StartWith(t, st, cfg, nil)
}

// StartWith is Start with extra routes added to the app before it listens,
// for tests that need a handler the product does not have (one that panics).
func StartWith(t testing.TB, st *store.SQLite, cfg *server.Config, extra func(*fiber.App)) *Server {
	t.Helper()
	srv := StartEngine(t, st, cfg, extra)
	srv.Store = st
	return srv
}

// StartEngine starts the server over any engine (SQLite or PostGIS); the
// returned Server's Store is nil.
func StartEngine(t testing.TB, st server.Store, cfg *server.Config, extra func(*fiber.App)) *Server {
	t.Helper()
	c := server.DefaultConfig()
	if cfg != nil {
		c = *cfg
	}
	if c.Logger == nil {
		// Request lines would drown test output; warnings and errors still show.
		c.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	app, err := server.New(c, st)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	if extra != nil {
		extra(app)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	go app.Listener(ln)
	t.Cleanup(func() { app.ShutdownWithTimeout(5 * time.Second) })
	return &Server{URL: "http://" + ln.Addr().String(), App: app, Engine: engineName(st)}
}

// StartSeeded is Start on OpenSeeded with the default configuration.
func StartSeeded(t testing.TB) *Server {
	t.Helper()
	return Start(t, OpenSeeded(t), nil)
}

// Get fetches path (with query) and returns the status, content type and body.
func (s *Server) Get(t testing.TB, path string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Get(s.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", path, err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// GetJSON fetches path, requires the status want and decodes the body into v.
func (s *Server) GetJSON(t testing.TB, path string, want int, v any) {
	t.Helper()
	status, _, body := s.Get(t, path)
	if status != want {
		t.Fatalf("GET %s: status %d, want %d; body %s", path, status, want, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: invalid JSON (%v): %s", path, err, body)
	}
}

// AllIDs are the ids of every feature of the items page at path and of the
// pages its next links lead to, in the order served.
func (s *Server) AllIDs(t testing.TB, path string) []int64 {
	t.Helper()
	var out []int64
	for path != "" {
		var fc struct {
			Features []struct {
				ID int64 `json:"id"`
			} `json:"features"`
			Links []struct{ Href, Rel string } `json:"links"`
		}
		s.GetJSON(t, path, 200, &fc)
		for _, f := range fc.Features {
			out = append(out, f.ID)
		}
		path = ""
		for _, l := range fc.Links {
			if l.Rel == "next" {
				path = strings.TrimPrefix(l.Href, s.URL)
			}
		}
	}
	return out
}
