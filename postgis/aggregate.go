package postgis

import (
	"context"
	"fmt"
	"strings"

	"incidentmap/incident"
)

// Aggregate counts the incidents f selects and sums their fatalities per
// group of keys. PostgreSQL groups by the stored columns; the buckets, the
// order and the limit are the SQLite engine's (incident.AddUp, Top), so both
// answer alike.
func (p *PostGIS) Aggregate(ctx context.Context, f incident.Filter, keys []incident.GroupKey, limit int) (incident.Aggregation, error) {
	if len(keys) == 0 {
		return incident.Aggregation{}, fmt.Errorf("aggregate: no group key")
	}
	f.Limit, f.Offset, f.ByID, f.ByRelevance = 0, 0, false, false
	q, err := compile(f)
	if err != nil {
		return incident.Aggregation{}, err
	}
	cols := incident.GroupColumns(keys)
	sel := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = "i." + c // from the closed set of group keys
	}
	tx, err := p.readTx(ctx)
	if err != nil {
		return incident.Aggregation{}, err
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, "SELECT "+strings.Join(sel, ", ")+", count(*), coalesce(sum(i.fatalities), 0) FROM incidents i"+
		q.where()+" GROUP BY "+strings.Join(sel, ", "), q.args...)
	if err != nil {
		return incident.Aggregation{}, fmt.Errorf("aggregate: %w", err)
	}
	defer rows.Close()
	agg, err := incident.AddUp(rows, keys)
	if err != nil {
		return incident.Aggregation{}, err
	}
	return agg.Top(limit), nil
}
