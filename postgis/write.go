package postgis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"incidentmap/geo"
	"incidentmap/incident"
)

// assignRegion gives inc, when its source named no admin1, the governorate
// whose polygon covers its point (a spatial join in PostGIS), then validates.
func assignRegion(ctx context.Context, q queryRower, inc *incident.Incident) error {
	inc.Normalize()
	if inc.Admin1 == "" {
		var name, region string
		err := q.QueryRow(ctx, `SELECT name, region FROM regions
			WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)) ORDER BY iso LIMIT 1`, inc.Lon, inc.Lat).Scan(&name, &region)
		switch {
		case err == nil:
			inc.Admin1, inc.Region = name, region
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("assign region: %w", err)
		}
	}
	return inc.Validate()
}

// writeLock is the transaction-scoped advisory lock every change to
// incidents holds until it commits (migration 2's statement trigger takes
// it too): new ids and change log seqs are taken in commit order.
const writeLock = 7370102

// writeTx runs fn in one read-committed write transaction holding the write
// lock from the start: taken before any row lock (SELECT … FOR UPDATE), so
// that an import (which takes it at its first statement on incidents, then
// row locks) and a single write never wait for each other in a circle. The
// row locks and the unique event_id keep concurrent servers from writing
// over each other.
func (p *PostGIS) writeTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", writeLock); err != nil {
			return fmt.Errorf("write lock: %w", err)
		}
		return fn(tx)
	})
}

func eventIDOwner(ctx context.Context, tx pgx.Tx, eventID string, self int64) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, "SELECT id FROM incidents WHERE event_id = $1 AND id <> $2", eventID, self).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("event_id %q: %w", eventID, err)
	}
	return id, nil
}

// lockIDs serialises the choice of new ids among servers: the next id is
// above every id in use and every id the change log has seen, as in the
// SQLite engine, so a deleted incident's id is never given to another.
func nextIncidentID(ctx context.Context, tx pgx.Tx) (int64, error) {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", writeLock); err != nil {
		return 0, fmt.Errorf("new incident id: %w", err)
	}
	var id int64
	if err := tx.QueryRow(ctx, `SELECT greatest(coalesce((SELECT max(id) FROM incidents), 0),
		coalesce((SELECT max(incident_id) FROM change_log), 0)) + 1`).Scan(&id); err != nil {
		return 0, fmt.Errorf("new incident id: %w", err)
	}
	return id, nil
}

// attribute names the writer on the history rows the statement's triggers
// just added for incident id.
func attribute(ctx context.Context, tx pgx.Tx, id, mark int64, by string) error {
	if _, err := tx.Exec(ctx, "UPDATE history SET changed_by = $1 WHERE incident_id = $2 AND seq > $3", by, id, mark); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}

func historyMark(ctx context.Context, tx pgx.Tx, id int64) (int64, error) {
	var seq int64
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(seq), 0) FROM history WHERE incident_id = $1", id).Scan(&seq); err != nil {
		return 0, fmt.Errorf("history: %w", err)
	}
	return seq, nil
}

// CreateIncident inserts a new incident with a new id and returns it as
// stored: a *incident.FieldError for a bad field, a *incident.ConflictError
// for an event_id taken.
func (p *PostGIS) CreateIncident(ctx context.Context, inc incident.Incident) (incident.Incident, error) {
	var out incident.Incident
	err := p.writeTx(ctx, func(tx pgx.Tx) error {
		if err := assignRegion(ctx, tx, &inc); err != nil {
			return err
		}
		id, err := nextIncidentID(ctx, tx)
		if err != nil {
			return err
		}
		owner, err := eventIDOwner(ctx, tx, inc.EventID, 0)
		if err != nil {
			return err
		}
		if owner != 0 {
			return &incident.ConflictError{EventID: inc.EventID, ID: owner}
		}
		row := inc
		row.ID, row.UpdatedAt = id, time.Now().UTC().Format(time.RFC3339)
		if _, err := tx.Exec(ctx, insertIncident, append(incident.Values(&row), geo.Cell(row.Lon, row.Lat))...); err != nil {
			return fmt.Errorf("insert incident %s: %w", inc.EventID, err)
		}
		out, err = incidentIn(ctx, tx, id)
		return err
	})
	return out, err
}

// insertIncident inserts a row of incident.Columns and the cell key.
var insertIncident = func() string {
	cols := append(incident.Columns(""), "cell")
	return "INSERT INTO incidents (" + strings.Join(cols, ", ") + ") VALUES (" + placeholders(1, len(cols)) + ")"
}()

// updateIncident sets every column of incident.Columns but the id, and the
// cell key, of the row with the last argument's id.
var updateIncident = func() string {
	cols := append(incident.Columns("")[1:], "cell")
	set := make([]string, len(cols))
	for i, c := range cols {
		set[i] = c + " = $" + strconv.Itoa(i+1)
	}
	return "UPDATE incidents SET " + strings.Join(set, ", ") + " WHERE id = $" + strconv.Itoa(len(cols)+1)
}()

// placeholders is "$from, …" for n parameters.
func placeholders(from, n int) string {
	p := make([]string, n)
	for i := range p {
		p[i] = "$" + strconv.Itoa(from+i)
	}
	return strings.Join(p, ", ")
}

// UpdateIncident replaces incident id by what change makes of its current
// version, the row locked meanwhile (so an ETag change checks cannot go
// stale); nothing is written when the result equals the current version.
// The previous version goes to the history, attributed to by.
func (p *PostGIS) UpdateIncident(ctx context.Context, id int64, by string, change func(cur incident.Incident) (incident.Incident, error)) (incident.Incident, error) {
	var out incident.Incident
	err := p.writeTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT 1 FROM incidents WHERE id = $1 FOR UPDATE", id); err != nil {
			return fmt.Errorf("lock incident %d: %w", id, err)
		}
		cur, err := incidentIn(ctx, tx, id)
		if err != nil {
			return err
		}
		next, err := change(cur)
		if err != nil {
			return err
		}
		next.ID = id
		if err := assignRegion(ctx, tx, &next); err != nil {
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
		mark, err := historyMark(ctx, tx, id)
		if err != nil {
			return err
		}
		row := next
		row.UpdatedAt = time.Now().UTC().Format(time.RFC3339)
		if _, err := tx.Exec(ctx, updateIncident, append(incident.Values(&row)[1:], geo.Cell(row.Lon, row.Lat), id)...); err != nil {
			return fmt.Errorf("update incident %d: %w", id, err)
		}
		if err := attribute(ctx, tx, id, mark, by); err != nil {
			return err
		}
		out, err = incidentIn(ctx, tx, id)
		return err
	})
	return out, err
}

// DeleteIncident deletes incident id after check (nil: none) accepts its
// current version; the deleted version goes to the history, attributed to by.
func (p *PostGIS) DeleteIncident(ctx context.Context, id int64, by string, check func(cur incident.Incident) error) (incident.Incident, error) {
	var cur incident.Incident
	err := p.writeTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT 1 FROM incidents WHERE id = $1 FOR UPDATE", id); err != nil {
			return fmt.Errorf("lock incident %d: %w", id, err)
		}
		var err error
		if cur, err = incidentIn(ctx, tx, id); err != nil {
			return err
		}
		if check != nil {
			if err := check(cur); err != nil {
				return err
			}
		}
		mark, err := historyMark(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM incidents WHERE id = $1", id); err != nil {
			return fmt.Errorf("delete incident %d: %w", id, err)
		}
		return attribute(ctx, tx, id, mark, by)
	})
	return cur, err
}
