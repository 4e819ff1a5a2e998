package store

import (
	"context"
	"fmt"
	"strings"

	"incidentmap/incident"
)

// ForgetCaches empties the store's caches of counts and aggregations, so a
// benchmark times the queries themselves.
func (s *SQLite) ForgetCaches() {
	s.countCache.Forget()
	s.aggCache.Forget()
}

// PositionsOf lists the offsets at which the store knows where a spatial
// page of f starts in the current data version (see spatialpage.go).
func (s *SQLite) PositionsOf(ctx context.Context, f incident.Filter) ([]int, error) {
	tx, err := s.ro.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	sf, err := compileIn(ctx, tx, f)
	if err != nil {
		return nil, err
	}
	version, err := dataVersionIn(ctx, tx)
	if err != nil {
		return nil, err
	}
	ps, _ := s.positions.get(version, positionKey(&sf, sf.spatial()))
	var out []int
	for _, p := range ps {
		out = append(out, p.offset)
	}
	return out, nil
}

// FixTextPlan makes every spatial page with text test it by a lookup per
// row (probe) or against the set of every match, whatever textPlan would
// choose.
func (s *SQLite) FixTextPlan(probe bool) { s.textProbe = &probe }

// RegionPairSeeks are the statements distinctPairs steps from one stored
// (admin1, region) pair to the next with, each taking the last pair's
// admin1 (and region, for the first).
var RegionPairSeeks = []string{nextRegionOfGovernorate, firstPairOfNextGovernorate}

// WriterCacheSize is the writer connection's PRAGMA cache_size.
func (s *SQLite) WriterCacheSize() (int, error) {
	var n int
	err := s.db.QueryRow("PRAGMA cache_size").Scan(&n)
	return n, err
}

// PagePlan is the plan of f's page started after the key of f's first row
// when resumed, as when an earlier page left a position there.
func (s *SQLite) PagePlan(ctx context.Context, f incident.Filter, resumed bool) ([]string, error) {
	tx, err := s.ro.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	sf, err := compileIn(ctx, tx, f)
	if err != nil {
		return nil, err
	}
	var start *position
	if resumed {
		cur, err := s.Incidents(ctx, f, false)
		if err != nil {
			return nil, err
		}
		c := cur.(*Cursor)
		if !c.Next() {
			c.Close()
			return nil, fmt.Errorf("no row to resume after: %w", c.Err())
		}
		start = &position{offset: f.Offset + 1, key: keyOf(&c.cur, c.cellKey)}
		start.key.date = strings.Clone(start.key.date)
		c.Close()
	}
	if resumed && !sf.spatial() && !sf.idOrder() {
		return nil, fmt.Errorf("%+v: neither a spatial page nor one in id order", f)
	}
	// Planned as Incidents plans a counted page.
	matched, err := s.countIn(ctx, tx, &sf)
	if err != nil {
		return nil, err
	}
	plan, err := s.walkIDs(ctx, tx, &sf, matched, false)
	if err != nil {
		return nil, err
	}
	q, args, _ := sf.pageQuery(plan, start)
	return explain(ctx, tx, q, args)
}
