package store

import (
	"context"
	"fmt"
)

// TilePoint is the little of an incident a map tile carries.
type TilePoint struct {
	ID         int64
	Lon, Lat   float64
	Fatalities int
	EventDate  string
	EventType  string
}

// TilePoints calls fn for every incident f selects (limit, offset and order
// ignored), reading only the columns a tile needs, inside one read snapshot.
// fn's point is reused between calls. It stops at fn's first error.
func (s *SQLite) TilePoints(ctx context.Context, f Filter, fn func(*TilePoint) error) error {
	f.Limit, f.Offset, f.ByRelevance = 0, 0, false
	where, args := f.where()
	rows, err := s.ro.QueryContext(ctx,
		"SELECT i.id, i.lon, i.lat, i.fatalities, i.event_date, i.event_type FROM incidents i"+where, args...)
	if err != nil {
		return fmt.Errorf("tile points: %w", err)
	}
	defer rows.Close()
	var p TilePoint
	for rows.Next() {
		if err := rows.Scan(&p.ID, &p.Lon, &p.Lat, &p.Fatalities, &p.EventDate, &p.EventType); err != nil {
			return fmt.Errorf("tile points: %w", err)
		}
		if err := fn(&p); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("tile points: %w", err)
	}
	return nil
}
