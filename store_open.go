package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"incidentmap/geo"
	"incidentmap/incident"
	"incidentmap/postgis"
	"incidentmap/seed"
	"incidentmap/server"
	"incidentmap/store"
)

// openStore opens the SQLite database with the embedded governorate
// boundaries, so that the regions table is loaded and every write assigns
// admin1 from the point when the source gives none. Commands that only make
// sense for a file (backup, restore, check) use it.
func openStore(ctx context.Context, path string, opts ...store.Option) (*store.SQLite, error) {
	rs, err := geo.ParseRegions(seed.RegionsGeoJSON)
	if err != nil {
		return nil, fmt.Errorf("embedded region boundaries: %w", err)
	}
	return store.Open(ctx, path, append([]store.Option{store.WithRegions(rs)}, opts...)...)
}

// engine is what the commands that work on either engine need.
type engine interface {
	server.Store
	Count(ctx context.Context, f incident.Filter) (int64, error)
	CreateToken(ctx context.Context, name string) (string, error)
	Tokens(ctx context.Context) ([]incident.Token, error)
	RevokeToken(ctx context.Context, name string) error
	Close() error
}

var (
	_ engine = (*store.SQLite)(nil)
	_ engine = (*postgis.PostGIS)(nil)
)

// openEngine opens the store --db names: a postgres:// URL is the PostGIS
// engine, anything else a SQLite file. Both get the governorate boundaries.
func openEngine(ctx context.Context, db string, replicas ...string) (engine, error) {
	// A command's engine serves that command alone (see postgis.ForCommand).
	return openEngineLag(ctx, db, replicas, 0, nil, postgis.ForCommand())
}

// openEngineLag is openEngine with the replicas' maximum replay lag (0: the
// default, postgis.DefaultReplicaMaxLag), serve's cache sizes (nil: the
// engine's defaults) and further PostGIS options.
func openEngineLag(ctx context.Context, db string, replicas []string, maxLag time.Duration, mem *memoryConfig, extra ...postgis.Option) (engine, error) {
	if !postgis.IsURL(db) {
		if len(replicas) > 0 {
			return nil, &usageError{"--db-replica needs a postgres:// --db: a SQLite file has no replicas"}
		}
		var opts []store.Option
		if mem != nil {
			opts = mem.sqliteOptions()
		}
		return openStore(ctx, db, opts...)
	}
	rs, err := geo.ParseRegions(seed.RegionsGeoJSON)
	if err != nil {
		return nil, fmt.Errorf("embedded region boundaries: %w", err)
	}
	opts := []postgis.Option{postgis.WithRegions(rs), postgis.WithReplicas(replicas...), postgis.WithReplicaMaxLag(maxLag)}
	if mem != nil {
		opts = append(opts, mem.postgisOptions()...)
	}
	return postgis.Open(ctx, db, append(opts, extra...)...)
}

// listFlag is a flag that may be given several times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }
