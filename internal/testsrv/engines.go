package testsrv

import (
	"context"
	"fmt"
	"testing"

	"incidentmap/importer"
	"incidentmap/incident"
	"incidentmap/internal/pgtest"
	"incidentmap/postgis"
	"incidentmap/seed"
	"incidentmap/server"
	"incidentmap/store"
	"incidentmap/synth"
)

// Engine is a server over one engine, for tests of clients (GDAL, OWSLib,
// Chromium) that must see the same service on each.
type Engine struct {
	Name string // "sqlite" or "postgis"
	*Server
}

// Data is what a test serves: Key names it (the PostGIS engine loads each Key
// once per test binary into a template database and copies that), Load
// writes it into an engine that holds the region boundaries and nothing
// else.
type Data struct {
	Key  string
	Load func(ctx context.Context, st server.Store) error
}

// Seed is the 13 seed incidents.
var Seed = Data{Key: "seed", Load: loadSeed}

func loadSeed(ctx context.Context, st server.Store) error {
	incs, err := importer.IncidentsFromGeoJSON(seed.IncidentsGeoJSON)
	if err != nil {
		return fmt.Errorf("read seed: %w", err)
	}
	if err := Upsert(ctx, st, incs); err != nil {
		return fmt.Errorf("load seed: %w", err)
	}
	return nil
}

// Upsert writes incs into either engine as one upsert (the engines' Upsert
// methods return results of their own types).
func Upsert(ctx context.Context, st server.Store, incs []incident.Incident) error {
	var err error
	switch e := st.(type) {
	case *store.SQLite:
		_, err = e.Upsert(ctx, incs)
	case *postgis.PostGIS:
		_, err = e.Upsert(ctx, incs)
	default:
		err = fmt.Errorf("upsert into %T: not an engine", st)
	}
	return err
}

// Synthetic is synthetic incidents 1..n of seed 1 (ids 1..n) loaded by one
// bulk import, as `gen --db` does (see OpenSynthetic).
func Synthetic(n int) Data {
	return Data{Key: fmt.Sprintf("synthetic-%d", n), Load: func(ctx context.Context, st server.Store) error {
		_, err := st.Import(ctx, false, func(w incident.ImportWriter) error {
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
			return fmt.Errorf("load %d synthetic incidents: %w", n, err)
		}
		return nil
	}}
}

// engineName is "sqlite" or "postgis" for st's engine.
func engineName(st server.Store) string {
	switch st.(type) {
	case *store.SQLite:
		return "sqlite"
	case *postgis.PostGIS:
		return "postgis"
	}
	return fmt.Sprintf("%T", st)
}

// OpenEngine opens the SQLite engine on a fresh file with d loaded.
func OpenEngine(t testing.TB, d Data) *store.SQLite {
	t.Helper()
	st := Open(t)
	if err := d.Load(context.Background(), st); err != nil {
		t.Fatalf("sqlite: %v", err)
	}
	return st
}

// OpenPostGIS opens the PostGIS engine on a new database of the test
// binary's throw-away cluster (pgtest.Shared: the package's TestMain must
// call pgtest.Main; under CI=true a cluster that cannot start fails the
// test) holding d: a copy of a template database loaded once per binary.
func OpenPostGIS(t testing.TB, d Data) *postgis.PostGIS {
	t.Helper()
	ctx := context.Background()
	url := pgtest.DBFrom(t, d.Key, func(url string) error {
		p, err := postgis.Open(ctx, url, postgis.WithRegions(Regions(t)))
		if err != nil {
			return fmt.Errorf("open postgis: %w", err)
		}
		defer p.Close()
		return d.Load(ctx, p)
	})
	p, err := postgis.Open(ctx, url, postgis.WithRegions(Regions(t)))
	if err != nil {
		t.Fatalf("open postgis: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// OpenPostGISSeeded is OpenPostGIS with the seed.
func OpenPostGISSeeded(t testing.TB) *postgis.PostGIS { return OpenPostGIS(t, Seed) }

// StartEngines starts a server with cfg (DefaultConfig when nil) over d on
// SQLite and one on PostGIS.
func StartEngines(t testing.TB, d Data, cfg *server.Config) []Engine {
	t.Helper()
	lite := Start(t, OpenEngine(t, d), cfg)
	pg := StartEngine(t, OpenPostGIS(t, d), cfg, nil)
	return []Engine{{"sqlite", lite}, {"postgis", pg}}
}

// StartSeededEngines starts a seeded server on SQLite and one on PostGIS.
func StartSeededEngines(t testing.TB) []Engine { return StartEngines(t, Seed, nil) }

// ForEngines runs fn as a subtest per engine, each on its own server over d,
// started only when its subtest runs (so -run can pick one engine).
func ForEngines(t *testing.T, d Data, cfg *server.Config, fn func(t *testing.T, srv *Server)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, Start(t, OpenEngine(t, d), cfg)) })
	t.Run("postgis", func(t *testing.T) { fn(t, StartEngine(t, OpenPostGIS(t, d), cfg, nil)) })
}
