package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"incidentmap/incident"
)

// DataVersion returns the current data version, for ETags, Last-Modified and
// cache keys.
func (s *SQLite) DataVersion(ctx context.Context) (incident.DataVersion, error) {
	var v incident.DataVersion
	var at string
	err := s.ro.QueryRowContext(ctx, "SELECT seq, at FROM change_log ORDER BY seq DESC LIMIT 1").Scan(&v.Seq, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return v, nil
	}
	if err != nil {
		return v, fmt.Errorf("data version: %w", err)
	}
	if v.At, err = time.Parse("2006-01-02T15:04:05.999Z", at); err != nil {
		return v, fmt.Errorf("data version time %q: %w", at, err)
	}
	return v, nil
}

// Changes returns up to limit changes with seq greater than after, oldest first.
func (s *SQLite) Changes(ctx context.Context, after int64, limit int) ([]incident.Change, error) {
	rows, err := s.ro.QueryContext(ctx,
		"SELECT seq, incident_id, event_id, op, at FROM change_log WHERE seq > ? ORDER BY seq LIMIT ?", after, limit)
	if err != nil {
		return nil, fmt.Errorf("changes after %d: %w", after, err)
	}
	defer rows.Close()
	var out []incident.Change
	for rows.Next() {
		var c incident.Change
		if err := rows.Scan(&c.Seq, &c.IncidentID, &c.EventID, &c.Op, &c.At); err != nil {
			return nil, fmt.Errorf("changes after %d: %w", after, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
