package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"incidentmap/geo"
	"incidentmap/incident"
)

// prepare normalizes, assigns the region and validates an incident about to be
// written by the write API or an import.
func (s *SQLite) prepare(inc *incident.Incident) error {
	inc.Normalize()
	s.AssignRegion(inc)
	return inc.Validate()
}

// eventIDOwner returns the id of the incident with eventID other than self, or 0.
func eventIDOwner(ctx context.Context, tx *sql.Tx, eventID string, self int64) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM incidents WHERE event_id = ? AND id <> ?", eventID, self).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("event_id %q: %w", eventID, err)
	}
	return id, nil
}

func incidentTx(ctx context.Context, tx *sql.Tx, id int64) (incident.Incident, error) {
	var inc incident.Incident
	err := scanIncident(tx.QueryRowContext(ctx, "SELECT "+incidentColumns+" FROM incidents i WHERE i.id = ?", id), &inc)
	if errors.Is(err, sql.ErrNoRows) {
		return inc, fmt.Errorf("incident %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return inc, fmt.Errorf("incident %d: %w", id, err)
	}
	return inc, nil
}

// historyMark is the highest history seq before a write; attribute names the
// writer on every history row the write's triggers added after it. The write
// transaction holds the database's write lock, so those rows are all ours.
func historyMark(ctx context.Context, tx *sql.Tx) (int64, error) {
	var seq int64
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM history").Scan(&seq); err != nil {
		return 0, fmt.Errorf("history: %w", err)
	}
	return seq, nil
}

func attribute(ctx context.Context, tx *sql.Tx, mark int64, by string) error {
	if _, err := tx.ExecContext(ctx, "UPDATE history SET changed_by = ? WHERE seq > ?", by, mark); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}

// nextIncidentID is the id for the next new incident: above every id in use
// and every id the change log has seen, so that the id of a deleted incident
// is never given to another (SQLite alone would reuse the highest one) and its
// history and event stream never mix two incidents.
func nextIncidentID(ctx context.Context, tx *sql.Tx) (int64, error) {
	var id int64
	if err := tx.QueryRowContext(ctx, `SELECT max(coalesce((SELECT max(id) FROM incidents), 0),
		coalesce((SELECT max(incident_id) FROM change_log), 0)) + 1`).Scan(&id); err != nil {
		return 0, fmt.Errorf("new incident id: %w", err)
	}
	return id, nil
}

// CreateIncident inserts a new incident and returns it as stored. Its id is
// new: never one a deleted incident had, so history and live update streams
// never confuse two incidents. An existing event_id is a *ConflictError; a
// field that breaks the data model is a *incident.FieldError.
func (s *SQLite) CreateIncident(ctx context.Context, inc incident.Incident) (incident.Incident, error) {
	if err := s.prepare(&inc); err != nil {
		return inc, err
	}
	var out incident.Incident
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		owner, err := eventIDOwner(ctx, tx, inc.EventID, 0)
		if err != nil {
			return err
		}
		if owner != 0 {
			return &incident.ConflictError{EventID: inc.EventID, ID: owner}
		}
		id, err := nextIncidentID(ctx, tx)
		if err != nil {
			return err
		}
		row := inc
		row.ID, row.UpdatedAt = id, time.Now().UTC().Format(time.RFC3339)
		_, err = tx.ExecContext(ctx, insertIncident, append(incident.Values(&row), geo.Cell(row.Lon, row.Lat))...)
		if err != nil {
			return fmt.Errorf("insert incident %s: %w", inc.EventID, err)
		}
		out, err = incidentTx(ctx, tx, id)
		return err
	})
	return out, err
}

// insertIncident inserts a row of incident.Columns and the cell key.
var insertIncident = "INSERT INTO incidents (" + incident.ColumnList("") + ", cell) VALUES (?" +
	strings.Repeat(", ?", len(incident.Columns(""))) + ")"

// updateIncident sets every column of incident.Columns but the id, and the
// cell key, of the row with the last argument's id.
var updateIncident = "UPDATE incidents SET " + strings.Join(incident.Columns("")[1:], " = ?, ") + " = ?, cell = ? WHERE id = ?"

// UpdateIncident replaces incident id by what change makes of its current
// version, in one transaction: change runs with the write lock held, so a
// precondition it checks (an ETag) cannot go stale before the write. When the
// result equals the current version nothing is written. The previous version
// goes to the history, attributed to by. Errors: ErrNotFound, what change
// returns, *incident.FieldError, *ConflictError for an event_id taken by another.
func (s *SQLite) UpdateIncident(ctx context.Context, id int64, by string, change func(cur incident.Incident) (incident.Incident, error)) (incident.Incident, error) {
	var out incident.Incident
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		cur, err := incidentTx(ctx, tx, id)
		if err != nil {
			return err
		}
		next, err := change(cur)
		if err != nil {
			return err
		}
		next.ID = id
		if err := s.prepare(&next); err != nil {
			return err
		}
		owner, err := eventIDOwner(ctx, tx, next.EventID, id)
		if err != nil {
			return err
		}
		if owner != 0 {
			return &incident.ConflictError{EventID: next.EventID, ID: owner}
		}
		next.UpdatedAt = cur.UpdatedAt
		if next == cur {
			out = cur
			return nil
		}
		mark, err := historyMark(ctx, tx)
		if err != nil {
			return err
		}
		row := next
		row.UpdatedAt = time.Now().UTC().Format(time.RFC3339)
		_, err = tx.ExecContext(ctx, updateIncident, append(incident.Values(&row)[1:], geo.Cell(row.Lon, row.Lat), id)...)
		if err != nil {
			return fmt.Errorf("update incident %d: %w", id, err)
		}
		if err := attribute(ctx, tx, mark, by); err != nil {
			return err
		}
		out, err = incidentTx(ctx, tx, id)
		return err
	})
	return out, err
}

// DeleteIncident deletes incident id after check (nil: none) accepts its
// current version, in one transaction; the deleted version goes to the
// history, attributed to by. It returns the deleted version. Errors:
// ErrNotFound or what check returns.
func (s *SQLite) DeleteIncident(ctx context.Context, id int64, by string, check func(cur incident.Incident) error) (incident.Incident, error) {
	var cur incident.Incident
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		if cur, err = incidentTx(ctx, tx, id); err != nil {
			return err
		}
		if check != nil {
			if err := check(cur); err != nil {
				return err
			}
		}
		mark, err := historyMark(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM incidents WHERE id = ?", id); err != nil {
			return fmt.Errorf("delete incident %d: %w", id, err)
		}
		return attribute(ctx, tx, mark, by)
	})
	return cur, err
}

// History returns the earlier versions of incident id, newest first. An id
// that neither exists nor has a history is ErrNotFound.
func (s *SQLite) History(ctx context.Context, id int64) ([]incident.Version, error) {
	tx, err := s.ro.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("history %d: %w", id, err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx,
		"SELECT seq, op, feature, changed_by, changed_at FROM history WHERE incident_id = ? ORDER BY seq DESC", id)
	if err != nil {
		return nil, fmt.Errorf("history %d: %w", id, err)
	}
	defer rows.Close()
	var out []incident.Version
	for rows.Next() {
		var v incident.Version
		if err := rows.Scan(&v.Seq, &v.Op, &v.Feature, &v.ChangedBy, &v.ChangedAt); err != nil {
			return nil, fmt.Errorf("history %d: %w", id, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history %d: %w", id, err)
	}
	if len(out) == 0 {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM incidents WHERE id = ?", id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("incident %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("history %d: %w", id, err)
		}
	}
	return out, nil
}
