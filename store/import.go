package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"incidentmap/geo"
)

// ImportCounts says what an import did (or, dry or rejected, would have done).
type ImportCounts struct {
	Inserted  int `json:"inserted"`  // new event_ids
	Updated   int `json:"updated"`   // existing event_ids whose fields or source timestamp changed
	Unchanged int `json:"unchanged"` // existing event_ids with identical data
	Older     int `json:"older"`     // skipped: the stored row has a newer source timestamp
}

// ImportWriter writes incidents one by one inside the single transaction of an
// import; see SQLite.Import.
type ImportWriter struct {
	ctx    context.Context
	s      *SQLite
	stamp  *sql.Stmt // existing row's source timestamp
	upsert *sql.Stmt
	nextID int64
	now    string
	// Counts so far.
	Counts ImportCounts
}

// Check normalizes inc, assigns its region from the point when the source gave
// no admin1, and validates it: a *geo.FieldError names the bad field. It
// writes nothing, so an import that has already found a bad row can keep
// checking the rest cheaply.
func (w *ImportWriter) Check(inc *geo.Incident) error {
	inc.Normalize()
	w.s.AssignRegion(inc)
	return inc.Validate()
}

// importUpsertSQL inserts or updates by event_id like upsertSQL, but only from
// a source version at least as new as the stored one, and keeps the source
// timestamp. New rows get ids from nextIncidentID onwards, never an id a
// deleted incident had (history and event streams key on ids).
const importUpsertSQL = `INSERT INTO incidents (id, event_id, event_date, time_precision, event_type, sub_event_type,
	actor1, actor2, admin1, admin2, location, region, geo_precision, fatalities,
	source, source_url, notes, tags, lon, lat, source_timestamp, updated_at)
VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
ON CONFLICT (event_id) DO UPDATE SET
	event_date = excluded.event_date, time_precision = excluded.time_precision,
	event_type = excluded.event_type, sub_event_type = excluded.sub_event_type,
	actor1 = excluded.actor1, actor2 = excluded.actor2, admin1 = excluded.admin1,
	admin2 = excluded.admin2, location = excluded.location, region = excluded.region,
	geo_precision = excluded.geo_precision, fatalities = excluded.fatalities,
	source = excluded.source, source_url = excluded.source_url, notes = excluded.notes,
	tags = excluded.tags, lon = excluded.lon, lat = excluded.lat,
	source_timestamp = excluded.source_timestamp, updated_at = excluded.updated_at
WHERE excluded.source_timestamp >= incidents.source_timestamp
	AND (incidents.event_date, incidents.time_precision, incidents.event_type, incidents.sub_event_type,
	incidents.actor1, incidents.actor2, incidents.admin1, incidents.admin2, incidents.location,
	incidents.region, incidents.geo_precision, incidents.fatalities, incidents.source,
	incidents.source_url, incidents.notes, incidents.tags, incidents.lon, incidents.lat, incidents.source_timestamp)
	IS NOT (excluded.event_date, excluded.time_precision, excluded.event_type, excluded.sub_event_type,
	excluded.actor1, excluded.actor2, excluded.admin1, excluded.admin2, excluded.location,
	excluded.region, excluded.geo_precision, excluded.fatalities, excluded.source,
	excluded.source_url, excluded.notes, excluded.tags, excluded.lon, excluded.lat, excluded.source_timestamp)
RETURNING id`

// Put checks inc (see Check) and upserts it by event_id with the source's
// timestamp ts (Unix seconds; 0 when the source has none). A row stored with a
// newer timestamp is kept and counted as Older. A *geo.FieldError means the
// row is invalid and nothing was written for it.
func (w *ImportWriter) Put(inc *geo.Incident, ts int64) error {
	if err := w.Check(inc); err != nil {
		return err
	}
	var stored int64
	existed := true
	if err := w.stamp.QueryRowContext(w.ctx, inc.EventID).Scan(&stored); errors.Is(err, sql.ErrNoRows) {
		existed = false
	} else if err != nil {
		return fmt.Errorf("event_id %s: %w", inc.EventID, err)
	}
	if existed && ts < stored {
		w.Counts.Older++
		return nil
	}
	var id int64
	err := w.upsert.QueryRowContext(w.ctx, w.nextID, inc.EventID, inc.EventDate, inc.TimePrecision, inc.EventType,
		inc.SubEventType, inc.Actor1, inc.Actor2, inc.Admin1, inc.Admin2, inc.Location, inc.Region,
		inc.GeoPrecision, inc.Fatalities, inc.Source, inc.SourceURL, inc.Notes, inc.Tags,
		inc.Lon, inc.Lat, ts, w.now).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		w.Counts.Unchanged++
	case err != nil:
		return fmt.Errorf("event_id %s: %w", inc.EventID, err)
	case existed:
		w.Counts.Updated++
	default:
		w.Counts.Inserted++
		w.nextID++
	}
	return nil
}

// ErrDryRun is returned by Import after a dry run rolled its transaction back.
var ErrDryRun = errors.New("dry run: nothing written")

// Import runs fn with a writer on one write transaction. When fn returns nil
// the transaction commits, unless dryRun, when it rolls back and Import
// returns the counts it would have had with ErrDryRun. When fn returns an
// error everything is rolled back: an import is all or nothing. Rows stream
// through fn, so memory does not grow with the file.
func (s *SQLite) Import(ctx context.Context, dryRun bool, fn func(w *ImportWriter) error) (ImportCounts, error) {
	var counts ImportCounts
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		w := &ImportWriter{ctx: ctx, s: s, now: time.Now().UTC().Format(time.RFC3339)}
		// A transaction of a million rows outgrows SQLite's default 2 MB page
		// cache, which then spills and rewrites index pages (FTS, R-tree) in
		// the WAL over and over; 64 MB keeps memory bounded and the spills rare.
		if _, err := tx.ExecContext(ctx, "PRAGMA cache_size = -65536"); err != nil {
			return fmt.Errorf("import: %w", err)
		}
		var err error
		if w.nextID, err = nextIncidentID(ctx, tx); err != nil {
			return fmt.Errorf("import: %w", err)
		}
		if w.stamp, err = tx.PrepareContext(ctx, "SELECT source_timestamp FROM incidents WHERE event_id = ?"); err != nil {
			return fmt.Errorf("import: prepare: %w", err)
		}
		defer w.stamp.Close()
		if w.upsert, err = tx.PrepareContext(ctx, importUpsertSQL); err != nil {
			return fmt.Errorf("import: prepare upsert: %w", err)
		}
		defer w.upsert.Close()
		err = fn(w)
		counts = w.Counts
		if err != nil {
			return err
		}
		if dryRun {
			return ErrDryRun
		}
		return nil
	})
	return counts, err
}
