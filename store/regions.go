package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/paulmach/orb"

	"incidentmap/geo"
	"incidentmap/incident"
)

// AssignRegion fills admin1 (and region, when empty) from the point when the
// source gave no admin1; the source's admin1 always wins. A point outside
// every boundary, or a store opened without boundaries, leaves both as they
// are: that is not an error. Every write path calls it after Normalize.
func (s *SQLite) AssignRegion(inc *incident.Incident) {
	if s.regions == nil || inc.Admin1 != "" {
		return
	}
	r := s.regions.Locate(orb.Point{inc.Lon, inc.Lat})
	if r == nil {
		return
	}
	inc.Admin1 = r.Name
	if inc.Region == "" {
		inc.Region = r.Region
	}
}

// loadRegions makes the regions table hold exactly the boundaries the store
// was opened with. It writes only what differs, so opening the same database
// again with the same boundaries changes nothing.
func (s *SQLite) loadRegions(ctx context.Context) error {
	if s.regions == nil {
		return nil
	}
	return s.WriteTx(ctx, func(tx *sql.Tx) error {
		up, err := tx.PrepareContext(ctx, `INSERT INTO regions
			(iso, name, name_source, name_ar, region, geometry, min_lon, min_lat, max_lon, max_lat)
			VALUES (?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT (iso) DO UPDATE SET name = excluded.name, name_source = excluded.name_source, name_ar = excluded.name_ar,
				region = excluded.region, geometry = excluded.geometry, min_lon = excluded.min_lon,
				min_lat = excluded.min_lat, max_lon = excluded.max_lon, max_lat = excluded.max_lat
			WHERE (regions.name, regions.name_source, regions.name_ar, regions.region, regions.geometry,
				regions.min_lon, regions.min_lat, regions.max_lon, regions.max_lat)
				IS NOT (excluded.name, excluded.name_source, excluded.name_ar, excluded.region, excluded.geometry,
				excluded.min_lon, excluded.min_lat, excluded.max_lon, excluded.max_lat)`)
		if err != nil {
			return fmt.Errorf("load regions: %w", err)
		}
		defer up.Close()
		all := s.regions.All()
		keep := make([]any, len(all))
		for i, r := range all {
			keep[i] = r.ISO
			if _, err := up.ExecContext(ctx, r.ISO, r.Name, r.NameSource, r.NameAr, r.Region, string(r.GeometryJSON),
				r.Bound.Min[0], r.Bound.Min[1], r.Bound.Max[0], r.Bound.Max[1]); err != nil {
				return fmt.Errorf("load region %s: %w", r.ISO, err)
			}
		}
		q := "DELETE FROM regions"
		if len(keep) > 0 {
			q += " WHERE iso NOT IN (" + strings.TrimSuffix(strings.Repeat("?,", len(keep)), ",") + ")"
		}
		if _, err := tx.ExecContext(ctx, q, keep...); err != nil {
			return fmt.Errorf("load regions: %w", err)
		}
		return nil
	})
}

// Regions returns the regions q selects, ordered by ISO code, with their
// incident counts from one snapshot. The list is bounded by the regions table
// (tens of rows), not by the incidents, so it is returned whole.
func (s *SQLite) Regions(ctx context.Context, q incident.RegionQuery) ([]incident.RegionStats, error) {
	filter := q.Incidents
	filter.BBox, filter.Limit, filter.Offset = nil, 0, 0
	f, err := compile(filter)
	if err != nil {
		return nil, err
	}
	defer s.geoms.pin(filter.Expr)()
	where, args := f.where()
	// One scan of the incidents gives counts per (admin1, region); the two
	// groupings are summed from it.
	query := `WITH c AS (SELECT i.admin1 AS admin1, i.region AS region, count(*) AS n, sum(i.fatalities) AS f
			FROM incidents i` + where + ` GROUP BY i.admin1, i.region),
		a AS (SELECT admin1 AS k, sum(n) AS n, sum(f) AS f FROM c GROUP BY admin1 COLLATE NOCASE),
		g AS (SELECT region AS k, sum(n) AS n, sum(f) AS f FROM c GROUP BY region COLLATE NOCASE)
		SELECT r.iso, r.name, r.name_source, r.name_ar, r.region, r.geometry, r.min_lon, r.min_lat, r.max_lon, r.max_lat,
			coalesce(a.n, 0), coalesce(a.f, 0), coalesce(g.n, 0), coalesce(g.f, 0)
		FROM regions r
		LEFT JOIN a ON a.k = r.name COLLATE NOCASE
		LEFT JOIN g ON g.k = r.region COLLATE NOCASE`
	var conds []string
	if b := q.BBox; b != nil {
		var or []string
		for _, p := range geo.SplitBBox(*b) { // two halves across the antimeridian
			or = append(or, "(r.max_lon >= ? AND r.min_lon <= ? AND r.max_lat >= ? AND r.min_lat <= ?)")
			args = append(args, p.Min[0], p.Max[0], p.Min[1], p.Max[1])
		}
		conds = append(conds, "("+strings.Join(or, " OR ")+")")
	}
	if q.ISO != "" {
		conds = append(conds, "r.iso = ? COLLATE NOCASE")
		args = append(args, q.ISO)
	}
	if len(conds) > 0 {
		query += " WHERE " + strings.Join(conds, " AND ")
	}
	query += " ORDER BY r.iso"
	// A scan of every matching incident (0.05–0.2 s at a million), asked on
	// every filter change of the map: cached per query and data version. The
	// regions table changes only when the server starts.
	list, err := cached(ctx, s, &s.regionStats, fmt.Sprint(query, args), func(tx *sql.Tx) ([]incident.RegionStats, error) {
		return regionRows(ctx, tx, query, args)
	})
	// Callers may reorder or trim the list; the cache keeps its own.
	return slices.Clone(list), err
}

// regionRows runs a Regions query.
func regionRows(ctx context.Context, tx *sql.Tx, query string, args []any) ([]incident.RegionStats, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("region counts: %w", err)
	}
	defer rows.Close()
	var out []incident.RegionStats
	for rows.Next() {
		var r incident.RegionStats
		var geom string
		if err := rows.Scan(&r.ISO, &r.Name, &r.NameSource, &r.NameAr, &r.Region, &geom,
			&r.BBox.Min[0], &r.BBox.Min[1], &r.BBox.Max[0], &r.BBox.Max[1],
			&r.Incidents, &r.Fatalities, &r.RegionIncidents, &r.RegionFatalities); err != nil {
			return nil, fmt.Errorf("region counts: %w", err)
		}
		r.Geometry = []byte(geom)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("region counts: %w", err)
	}
	return out, nil
}

// Region returns one region by ISO code with its counts, or ErrNotFound.
func (s *SQLite) Region(ctx context.Context, iso string, f incident.Filter) (incident.RegionStats, error) {
	list, err := s.Regions(ctx, incident.RegionQuery{Incidents: f, ISO: iso})
	if err != nil {
		return incident.RegionStats{}, err
	}
	if len(list) == 0 {
		return incident.RegionStats{}, fmt.Errorf("region %q: %w", iso, ErrNotFound)
	}
	return list[0], nil
}

// RegionsBound is the box around every region; ok is false when the table is empty.
func (s *SQLite) RegionsBound(ctx context.Context) (b orb.Bound, ok bool, err error) {
	var minLon, minLat, maxLon, maxLat sql.NullFloat64
	err = s.ro.QueryRowContext(ctx, "SELECT min(min_lon), min(min_lat), max(max_lon), max(max_lat) FROM regions").
		Scan(&minLon, &minLat, &maxLon, &maxLat)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !minLon.Valid) {
		return b, false, nil
	}
	if err != nil {
		return b, false, fmt.Errorf("regions bound: %w", err)
	}
	return orb.Bound{Min: orb.Point{minLon.Float64, minLat.Float64}, Max: orb.Point{maxLon.Float64, maxLat.Float64}}, true, nil
}
