// Package postgis is the incident store on PostgreSQL with PostGIS: the
// engine for several incidentmap servers in front of one shared database.
// It implements the seam of package incident as the SQLite engine (package
// store) does, with the same columns, checks, ids and order, so the two
// answer alike; what differs is how: a GiST-indexed geometry, regions as
// polygons assigned by a spatial join, triggers for history and change log,
// a tsvector for full text, COPY for imports, and LISTEN/NOTIFY so that every
// server learns of every write.
package postgis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"

	"incidentmap/geo"
	"incidentmap/incident"
	"incidentmap/internal/bgcount"
	"incidentmap/internal/vcache"
)

// PostGIS is the incident store on one PostgreSQL database with PostGIS.
type PostGIS struct {
	pool    *pgxpool.Pool
	regions *geo.Regions // boundaries loaded into the regions table at Open; nil: keep the table's

	replicaURLs []string
	replicas    []*replica
	next        atomic.Uint64 // round robin over the replicas
	seen        atomic.Int64  // the highest data version seen on the primary
	maxLag      time.Duration // replicas replaying further behind are skipped
	wal         walTrack      // the primary's recent WAL positions, for the replicas' lag
	counts      countCache    // counts of filters for the latest data version
	command     bool          // the process runs one command (ForCommand): idle pool connections are not readers
	stopChecks  func()        // ends the replicas' health checks

	// Counts that pages do not wait for (see counting.go).
	bg        *bgcount.Runner
	bgGate    <-chan struct{} // see WithCountDeferral
	deferRows int64           // see WithCountDeferral; 0 is deferCountRows
	span      idSpanCache     // the table's id span
}

// Option changes how Open sets up the store.
type Option func(*PostGIS)

// WithRegions gives the store boundaries: Open loads them into the regions
// table, where the spatial join of every write finds an incident's admin1.
func WithRegions(rs *geo.Regions) Option {
	return func(p *PostGIS) { p.regions = rs }
}

// ForCommand says the store serves one command of this process (import,
// migrate), not a server: nothing else in the process reads through its
// pool, so a bulk load into an empty table may lock the table while it
// builds the indexes once at the end, if no other session is connected to
// the database (see bulkAlone).
func ForCommand() Option {
	return func(p *PostGIS) { p.command = true }
}

// IsURL reports whether a --db value names a PostgreSQL database
// (postgres:// or postgresql://) rather than a SQLite file.
func IsURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// Open connects to the database at url, applies pending migrations and
// loads the regions.
func Open(ctx context.Context, url string, opts ...Option) (*PostGIS, error) {
	cfg, err := poolConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgis: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgis: %w", err)
	}
	p := &PostGIS{pool: pool, counts: countCache{vcache.New[int64](DefaultCountCacheBytes)}}
	for _, o := range opts {
		o(p)
	}
	p.bg = bgcount.New(p.bgGate)
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgis: connect: %w", err)
	}
	if err := p.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := p.loadRegions(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := p.openReplicas(ctx); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// poolConfig is the pool configuration of a database URL (the primary's or
// a replica's): at least 8 connections, and no JIT compiling unless the URL
// asks for it: JIT pays off for long analytic queries, but for ours (pages,
// counts, tiles) its compile time is most of the query's (a bbox page at
// 1M spent 2.4 s of 4.7 s compiling).
func poolConfig(url string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8
	}
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	return cfg, nil
}

// Close closes the pool.
func (p *PostGIS) Close() error {
	if p.stopChecks != nil {
		p.stopChecks()
	}
	p.bg.Close()
	for _, r := range p.replicas {
		r.pool.Close()
	}
	p.pool.Close()
	return nil
}

// Ping reports whether the database answers.
func (p *PostGIS) Ping(ctx context.Context) error {
	return p.pool.Ping(ctx)
}

// Ready says the engine and schema version when the database answers with
// the schema this build migrates to, else an error wrapping
// incident.ErrNotReady.
func (p *PostGIS) Ready(ctx context.Context) (incident.Readiness, error) {
	r := incident.Readiness{Engine: "postgis"}
	v, err := p.Version(ctx)
	if err != nil {
		return r, fmt.Errorf("the database does not answer (%v): %w", err, incident.ErrNotReady)
	}
	if v != SchemaVersion() {
		return r, fmt.Errorf("database schema version %d, this build needs %d: %w", v, SchemaVersion(), incident.ErrNotReady)
	}
	r.SchemaVersion = v
	r.Replicas = p.ReplicaStates()
	return r, nil
}

// Size is the database's size in bytes (pg_database_size); -1 when it
// cannot be read.
func (p *PostGIS) Size(ctx context.Context) int64 {
	var n int64
	if err := p.pool.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&n); err != nil {
		return -1
	}
	return n
}

// loadRegions writes the boundaries into the regions table, as polygons.
func (p *PostGIS) loadRegions(ctx context.Context) error {
	if p.regions == nil {
		return nil
	}
	return pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		var keep []string
		for _, r := range p.regions.All() {
			keep = append(keep, r.ISO)
			if _, err := tx.Exec(ctx, `INSERT INTO regions
				(iso, name, name_source, name_ar, region, geometry, geom, min_lon, min_lat, max_lon, max_lat)
				VALUES ($1, $2, $3, $4, $5, $6, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($6), 4326)), $7, $8, $9, $10)
				ON CONFLICT (iso) DO UPDATE SET name = excluded.name, name_source = excluded.name_source,
					name_ar = excluded.name_ar, region = excluded.region, geometry = excluded.geometry,
					geom = excluded.geom, min_lon = excluded.min_lon, min_lat = excluded.min_lat,
					max_lon = excluded.max_lon, max_lat = excluded.max_lat
				WHERE regions.geometry IS DISTINCT FROM excluded.geometry OR regions.name IS DISTINCT FROM excluded.name
					OR regions.name_ar IS DISTINCT FROM excluded.name_ar OR regions.region IS DISTINCT FROM excluded.region
					OR regions.name_source IS DISTINCT FROM excluded.name_source`,
				r.ISO, r.Name, r.NameSource, r.NameAr, r.Region, string(r.GeometryJSON),
				r.Bound.Min[0], r.Bound.Min[1], r.Bound.Max[0], r.Bound.Max[1]); err != nil {
				return fmt.Errorf("load region %s: %w", r.ISO, err)
			}
		}
		if _, err := tx.Exec(ctx, "DELETE FROM regions WHERE NOT (iso = ANY($1))", keep); err != nil {
			return fmt.Errorf("load regions: %w", err)
		}
		return nil
	})
}

// DataVersion is the highest change log seq and when it was made: from the
// database, so every server on it agrees.
func (p *PostGIS) DataVersion(ctx context.Context) (incident.DataVersion, error) {
	var v incident.DataVersion
	var at string
	err := p.pool.QueryRow(ctx, "SELECT seq, at FROM change_log ORDER BY seq DESC LIMIT 1").Scan(&v.Seq, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, nil
	}
	if err != nil {
		return v, fmt.Errorf("data version: %w", err)
	}
	if v.At, err = time.Parse("2006-01-02T15:04:05.999Z", at); err != nil {
		return v, fmt.Errorf("data version time %q: %w", at, err)
	}
	p.saw(v.Seq)
	return v, nil
}

// Changes returns up to limit changes with seq greater than after, oldest first.
func (p *PostGIS) Changes(ctx context.Context, after int64, limit int) ([]incident.Change, error) {
	rows, err := p.pool.Query(ctx,
		"SELECT seq, incident_id, event_id, op, at FROM change_log WHERE seq > $1 ORDER BY seq LIMIT $2", after, limit)
	if err != nil {
		return nil, fmt.Errorf("changes after %d: %w", after, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (incident.Change, error) {
		var c incident.Change
		err := r.Scan(&c.Seq, &c.IncidentID, &c.EventID, &c.Op, &c.At)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("changes after %d: %w", after, err)
	}
	return out, nil
}

// History returns the earlier versions of incident id, newest first; an id
// that neither exists nor has a history is ErrNotFound.
func (p *PostGIS) History(ctx context.Context, id int64) ([]incident.Version, error) {
	rows, err := p.pool.Query(ctx, `SELECT seq, op, feature::text, changed_by, changed_at FROM history
		WHERE incident_id = $1 ORDER BY seq DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("history %d: %w", id, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (incident.Version, error) {
		var v incident.Version
		var feature string
		err := r.Scan(&v.Seq, &v.Op, &feature, &v.ChangedBy, &v.ChangedAt)
		v.Feature = []byte(feature)
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("history %d: %w", id, err)
	}
	if len(out) == 0 {
		var one int
		err := p.pool.QueryRow(ctx, "SELECT 1 FROM incidents WHERE id = $1", id).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("incident %d: %w", id, incident.ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("history %d: %w", id, err)
		}
	}
	return out, nil
}

// CreateToken makes a new random token named name and returns its secret;
// only the hash is stored. A name in use by a valid token is ErrConflict.
func (p *PostGIS) CreateToken(ctx context.Context, name string) (string, error) {
	name, secret, err := incident.NewToken(name)
	if err != nil {
		return "", err
	}
	tag, err := p.pool.Exec(ctx, `INSERT INTO tokens (name, hash) VALUES ($1, $2) ON CONFLICT DO NOTHING`, name, incident.HashToken(secret))
	if err != nil {
		return "", fmt.Errorf("store token %q: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return "", fmt.Errorf("token %q exists; revoke it first or choose another name: %w", name, incident.ErrConflict)
	}
	return secret, nil
}

// Tokens lists every token, valid and revoked, oldest first.
func (p *PostGIS) Tokens(ctx context.Context) ([]incident.Token, error) {
	rows, err := p.pool.Query(ctx, "SELECT id, name, created_at, coalesce(revoked_at, '') FROM tokens ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (incident.Token, error) {
		var t incident.Token
		err := r.Scan(&t.ID, &t.Name, &t.CreatedAt, &t.RevokedAt)
		return t, err
	})
}

// RevokeToken revokes the valid token named name, or returns ErrNotFound.
func (p *PostGIS) RevokeToken(ctx context.Context, name string) error {
	tag, err := p.pool.Exec(ctx, `UPDATE tokens SET revoked_at = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
		WHERE name = $1 AND revoked_at IS NULL`, name)
	if err != nil {
		return fmt.Errorf("revoke token %q: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("no valid token named %q: %w", name, incident.ErrNotFound)
	}
	return nil
}

// TokenName returns the name of the valid token secret, or ErrNotFound.
func (p *PostGIS) TokenName(ctx context.Context, secret string) (string, error) {
	var name string
	err := p.pool.QueryRow(ctx, "SELECT name FROM tokens WHERE hash = $1 AND revoked_at IS NULL", incident.HashToken(secret)).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("token: %w", incident.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("token lookup: %w", err)
	}
	return name, nil
}

// HasTokens reports whether at least one valid token exists.
func (p *PostGIS) HasTokens(ctx context.Context) (bool, error) {
	var n int
	if err := p.pool.QueryRow(ctx, "SELECT count(*) FROM tokens WHERE revoked_at IS NULL").Scan(&n); err != nil {
		return false, fmt.Errorf("count tokens: %w", err)
	}
	return n > 0, nil
}

// RegionsBound is the box around every region; ok is false when there are none.
func (p *PostGIS) RegionsBound(ctx context.Context) (b orb.Bound, ok bool, err error) {
	var minLon, minLat, maxLon, maxLat *float64
	if err := p.pool.QueryRow(ctx, "SELECT min(min_lon), min(min_lat), max(max_lon), max(max_lat) FROM regions").
		Scan(&minLon, &minLat, &maxLon, &maxLat); err != nil {
		return b, false, fmt.Errorf("regions bound: %w", err)
	}
	if minLon == nil {
		return b, false, nil
	}
	return orb.Bound{Min: orb.Point{*minLon, *minLat}, Max: orb.Point{*maxLon, *maxLat}}, true, nil
}

// The PostGIS engine implements the whole seam.
var _ incident.Store = (*PostGIS)(nil)
