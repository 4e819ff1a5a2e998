package testsrv

import (
	"context"
	"testing"

	"incidentmap/importer"
	"incidentmap/internal/pgtest"
	"incidentmap/postgis"
	"incidentmap/seed"
)

// Engine is a seeded server over one engine, for tests of clients (GDAL,
// OWSLib, Chromium) that must see the same service on each.
type Engine struct {
	Name string // "sqlite" or "postgis"
	*Server
}

// OpenPostGISSeeded opens the PostGIS engine on a new database of the test
// binary's throw-away cluster (pgtest.Shared: the package's TestMain must
// call pgtest.Main; under CI=true a cluster that cannot start fails the
// test) and loads the seed as OpenSeeded does.
func OpenPostGISSeeded(t testing.TB) *postgis.PostGIS {
	t.Helper()
	ctx := context.Background()
	p, err := postgis.Open(ctx, pgtest.DB(t), postgis.WithRegions(Regions(t)))
	if err != nil {
		t.Fatalf("open postgis: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	incs, err := importer.IncidentsFromGeoJSON(seed.IncidentsGeoJSON)
	if err != nil {
		t.Fatalf("read seed: %v", err)
	}
	if _, err := p.Upsert(ctx, incs); err != nil {
		t.Fatalf("load seed into postgis: %v", err)
	}
	return p
}

// StartSeededEngines starts a seeded server on SQLite and one on PostGIS.
func StartSeededEngines(t testing.TB) []Engine {
	t.Helper()
	pg := StartEngine(t, OpenPostGISSeeded(t), nil, nil)
	return []Engine{{"sqlite", StartSeeded(t)}, {"postgis", pg}}
}
