package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// DataVersion identifies the state of the incidents: it grows with every
// change, by anyone, and is 0 for a database that never held an incident.
type DataVersion struct {
	Seq int64     // highest change_log seq
	At  time.Time // when that change was made (zero when Seq is 0)
}

// DataVersion returns the current data version, for ETags, Last-Modified and
// cache keys.
func (s *SQLite) DataVersion(ctx context.Context) (DataVersion, error) {
	var v DataVersion
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

// Change is one entry of the change log.
type Change struct {
	Seq        int64
	IncidentID int64
	EventID    string
	Op         string // created, updated or deleted
	At         string // RFC 3339 with milliseconds, UTC
}

// Changes returns up to limit changes with seq greater than after, oldest first.
func (s *SQLite) Changes(ctx context.Context, after int64, limit int) ([]Change, error) {
	rows, err := s.ro.QueryContext(ctx,
		"SELECT seq, incident_id, event_id, op, at FROM change_log WHERE seq > ? ORDER BY seq LIMIT ?", after, limit)
	if err != nil {
		return nil, fmt.Errorf("changes after %d: %w", after, err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		if err := rows.Scan(&c.Seq, &c.IncidentID, &c.EventID, &c.Op, &c.At); err != nil {
			return nil, fmt.Errorf("changes after %d: %w", after, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
