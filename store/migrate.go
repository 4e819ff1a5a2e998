package store

import (
	"context"
	"database/sql"
	"fmt"

	"incidentmap/geo"

	"incidentmap/incident"
)

// migrations are applied in order; migration i brings PRAGMA user_version to i+1.
// Append new ones at the end and never edit one that has shipped.
var migrations = []string{
	// 1: incidents, their R*Tree and the indexes of the common filters.
	`CREATE TABLE incidents (
		id             INTEGER PRIMARY KEY,
		event_id       TEXT    NOT NULL UNIQUE CHECK (length(event_id) BETWEEN 1 AND 100),
		event_date     TEXT    NOT NULL CHECK (date(event_date) IS event_date),
		time_precision INTEGER NOT NULL DEFAULT 1 CHECK (time_precision BETWEEN 1 AND 3),
		event_type     TEXT    NOT NULL CHECK (event_type <> ''),
		sub_event_type TEXT    NOT NULL DEFAULT '',
		actor1         TEXT    NOT NULL DEFAULT '',
		actor2         TEXT    NOT NULL DEFAULT '',
		admin1         TEXT    NOT NULL DEFAULT '',
		admin2         TEXT    NOT NULL DEFAULT '',
		location       TEXT    NOT NULL DEFAULT '',
		region         TEXT    NOT NULL DEFAULT '',
		geo_precision  INTEGER NOT NULL DEFAULT 1 CHECK (geo_precision BETWEEN 1 AND 3),
		fatalities     INTEGER NOT NULL DEFAULT 0 CHECK (fatalities >= 0),
		source         TEXT    NOT NULL DEFAULT '',
		source_url     TEXT    NOT NULL DEFAULT '',
		notes          TEXT    NOT NULL DEFAULT '',
		tags           TEXT    NOT NULL DEFAULT '',
		lon            REAL    NOT NULL CHECK (lon BETWEEN -180 AND 180),
		lat            REAL    NOT NULL CHECK (lat BETWEEN -90 AND 90),
		updated_at     TEXT    NOT NULL
	);
	CREATE INDEX incidents_date ON incidents (event_date);
	CREATE INDEX incidents_type_date ON incidents (event_type, event_date);
	CREATE INDEX incidents_region_date ON incidents (region, event_date);
	CREATE VIRTUAL TABLE incidents_rtree USING rtree (id, min_lon, max_lon, min_lat, max_lat);
	CREATE TRIGGER incidents_rtree_insert AFTER INSERT ON incidents BEGIN
		INSERT INTO incidents_rtree VALUES (new.id, new.lon, new.lon, new.lat, new.lat);
	END;
	CREATE TRIGGER incidents_rtree_update AFTER UPDATE OF lon, lat ON incidents BEGIN
		UPDATE incidents_rtree SET min_lon = new.lon, max_lon = new.lon, min_lat = new.lat, max_lat = new.lat
		WHERE id = new.id;
	END;
	CREATE TRIGGER incidents_rtree_delete AFTER DELETE ON incidents BEGIN
		DELETE FROM incidents_rtree WHERE id = old.id;
	END;`,
	// 2: the change log. Triggers record every insert, update and delete of an
	// incident, whoever makes it (server, CLI import, another process), so its
	// highest seq is the data version behind ETags and tile caches, and live
	// update streams resume from a seq (SSE Last-Event-ID).
	`CREATE TABLE change_log (
		seq         INTEGER PRIMARY KEY AUTOINCREMENT,
		incident_id INTEGER NOT NULL,
		event_id    TEXT    NOT NULL,
		op          TEXT    NOT NULL CHECK (op IN ('created', 'updated', 'deleted')),
		at          TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
	);
	CREATE TRIGGER change_log_insert AFTER INSERT ON incidents BEGIN
		INSERT INTO change_log (incident_id, event_id, op) VALUES (new.id, new.event_id, 'created');
	END;
	CREATE TRIGGER change_log_update AFTER UPDATE ON incidents BEGIN
		INSERT INTO change_log (incident_id, event_id, op) VALUES (new.id, new.event_id, 'updated');
	END;
	CREATE TRIGGER change_log_delete AFTER DELETE ON incidents BEGIN
		INSERT INTO change_log (incident_id, event_id, op) VALUES (old.id, old.event_id, 'deleted');
	END;`,
	// 3: the regions (governorates) with their boundaries, loaded at start from
	// the boundaries Open is given; counts per region group incidents by admin1.
	`CREATE TABLE regions (
		iso         TEXT PRIMARY KEY CHECK (iso <> ''),
		name        TEXT NOT NULL UNIQUE CHECK (name <> ''),
		name_source TEXT NOT NULL DEFAULT '',
		region      TEXT NOT NULL,
		geometry    TEXT NOT NULL CHECK (json_valid(geometry)),
		min_lon     REAL NOT NULL,
		min_lat     REAL NOT NULL,
		max_lon     REAL NOT NULL,
		max_lat     REAL NOT NULL
	);
	CREATE INDEX incidents_admin1_date ON incidents (admin1, event_date);`,
	// 4: full-text search (q=) over the text people search for. An
	// external-content FTS5 table reads the text from incidents and keeps only
	// the index; triggers keep it in step with every write, and 'rebuild'
	// indexes the rows that exist when the migration runs.
	`CREATE VIRTUAL TABLE incidents_fts USING fts5(
		notes, actor1, actor2, location, source,
		content='incidents', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
	);
	INSERT INTO incidents_fts (incidents_fts) VALUES ('rebuild');
	CREATE TRIGGER incidents_fts_insert AFTER INSERT ON incidents BEGIN
		INSERT INTO incidents_fts (rowid, notes, actor1, actor2, location, source)
		VALUES (new.id, new.notes, new.actor1, new.actor2, new.location, new.source);
	END;
	CREATE TRIGGER incidents_fts_delete AFTER DELETE ON incidents BEGIN
		INSERT INTO incidents_fts (incidents_fts, rowid, notes, actor1, actor2, location, source)
		VALUES ('delete', old.id, old.notes, old.actor1, old.actor2, old.location, old.source);
	END;
	CREATE TRIGGER incidents_fts_update AFTER UPDATE OF notes, actor1, actor2, location, source ON incidents BEGIN
		INSERT INTO incidents_fts (incidents_fts, rowid, notes, actor1, actor2, location, source)
		VALUES ('delete', old.id, old.notes, old.actor1, old.actor2, old.location, old.source);
		INSERT INTO incidents_fts (rowid, notes, actor1, actor2, location, source)
		VALUES (new.id, new.notes, new.actor1, new.actor2, new.location, new.source);
	END;`,
	// 5: write API tokens (issue 5). Only the SHA-256 of a token is kept; a
	// revoked token stays listed (revoked_at) so the log's names stay explained.
	// A name is unique among the tokens not revoked.
	`CREATE TABLE tokens (
		id         INTEGER PRIMARY KEY,
		name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
		hash       BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
		created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
		revoked_at TEXT
	);
	CREATE UNIQUE INDEX tokens_active_name ON tokens (name) WHERE revoked_at IS NULL;`,
	// 6: history (issue 5). Triggers keep the previous version of every updated
	// or deleted incident as a GeoJSON Feature, whoever writes (API, import,
	// another process), so nothing is lost; the write API then names its token
	// in changed_by. The change_log index finds the highest id ever used, so the
	// API never gives a deleted incident's id to a new one.
	`CREATE TABLE history (
		seq         INTEGER PRIMARY KEY AUTOINCREMENT,
		incident_id INTEGER NOT NULL,
		event_id    TEXT    NOT NULL,
		op          TEXT    NOT NULL CHECK (op IN ('updated', 'deleted')),
		feature     TEXT    NOT NULL CHECK (json_valid(feature)),
		changed_by  TEXT    NOT NULL DEFAULT '',
		changed_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
	);
	CREATE INDEX history_incident ON history (incident_id, seq);
	CREATE INDEX change_log_incident ON change_log (incident_id);
	CREATE TRIGGER history_update AFTER UPDATE ON incidents BEGIN
		INSERT INTO history (incident_id, event_id, op, feature) VALUES (old.id, old.event_id, 'updated',
		json_object('type', 'Feature', 'id', old.id,
		'geometry', json_object('type', 'Point', 'coordinates', json_array(old.lon, old.lat)),
		'properties', json_object(
			'event_id', old.event_id,
			'event_date', old.event_date,
			'time_precision', old.time_precision,
			'event_type', old.event_type,
			'sub_event_type', old.sub_event_type,
			'actor1', old.actor1,
			'actor2', old.actor2,
			'admin1', old.admin1,
			'admin2', old.admin2,
			'location', old.location,
			'region', old.region,
			'geo_precision', old.geo_precision,
			'fatalities', old.fatalities,
			'source', old.source,
			'source_url', old.source_url,
			'notes', old.notes,
			'tags', old.tags,
			'updated_at', old.updated_at)));
	END;
	CREATE TRIGGER history_delete AFTER DELETE ON incidents BEGIN
		INSERT INTO history (incident_id, event_id, op, feature) VALUES (old.id, old.event_id, 'deleted',
		json_object('type', 'Feature', 'id', old.id,
		'geometry', json_object('type', 'Point', 'coordinates', json_array(old.lon, old.lat)),
		'properties', json_object(
			'event_id', old.event_id,
			'event_date', old.event_date,
			'time_precision', old.time_precision,
			'event_type', old.event_type,
			'sub_event_type', old.sub_event_type,
			'actor1', old.actor1,
			'actor2', old.actor2,
			'admin1', old.admin1,
			'admin2', old.admin2,
			'location', old.location,
			'region', old.region,
			'geo_precision', old.geo_precision,
			'fatalities', old.fatalities,
			'source', old.source,
			'source_url', old.source_url,
			'notes', old.notes,
			'tags', old.tags,
			'updated_at', old.updated_at)));
	END;`,
	// 7: the source's own timestamp (ACLED's Unix "timestamp"), so an import
	// updates a row only from a version at least as new as the stored one.
	`ALTER TABLE incidents ADD COLUMN source_timestamp INTEGER NOT NULL DEFAULT 0;`,
	// 8: the spatial key (issue 8) replaces the R*Tree. cell is the Morton
	// code of the point's Web Mercator cell (geo.Cell), written by every
	// writer of ours; fillCells computes it for the rows already stored. One
	// B-tree index on it answers bbox queries as a few key ranges, counts them
	// without touching the table (lon, lat, date and fatalities ride along),
	// clusters a tile with one range scan, and builds in one sort on a bulk
	// load, where the R*Tree cost a tree insert per row.
	`ALTER TABLE incidents ADD COLUMN cell INTEGER NOT NULL DEFAULT 0;
	DROP TRIGGER incidents_rtree_insert;
	DROP TRIGGER incidents_rtree_update;
	DROP TRIGGER incidents_rtree_delete;
	DROP TABLE incidents_rtree;`,
	// 9: counts per region (the map's choropleth) scanned the admin1 index and
	// then every row, 7–12 s at 1,000,000 incidents; an index that holds what
	// they group and sum answers them from the index alone, in group order
	// (0.2 s), and still serves admin1 = ? with a date range. ANALYZE gives
	// the planner the statistics to pick it (and the others) well.
	`DROP INDEX incidents_admin1_date;
	CREATE INDEX incidents_admin1_stats ON incidents (admin1, region, event_date, fatalities);
	ANALYZE;`,
	// 10: aggregations (issue 14: the timeline, counts per type) group by
	// date, event type and sub-event type and sum fatalities. An index that
	// holds them in that order gives the groups of a million incidents
	// straight from the index, in group order, with no sort and no table
	// row; it replaces the date index, a prefix of it.
	`DROP INDEX incidents_date;
	CREATE INDEX incidents_date_stats ON incidents (event_date, event_type, sub_event_type, fatalities);
	ANALYZE incidents_date_stats;`,
	// 11: the governorates' Arabic names (issue 14), for the map's labels in
	// Arabic; loadRegions fills them from the boundaries at start.
	`ALTER TABLE regions ADD COLUMN name_ar TEXT NOT NULL DEFAULT '';`,
	// 12: counting a type or a region with a fatality bound read every row of
	// the type through its index, then the table row for its fatalities:
	// Battles with 3 or more killed took 8 s to count at a million incidents
	// on a busy machine, 28 ms from an index holding fatalities too. The two
	// indexes gain it as a last column; equality on the first column and a
	// date range still use them as before.
	`DROP INDEX incidents_type_date;
	CREATE INDEX incidents_type_stats ON incidents (event_type, event_date, fatalities);
	DROP INDEX incidents_region_date;
	CREATE INDEX incidents_region_stats ON incidents (region, event_date, fatalities);
	ANALYZE incidents;`,
	// 13: the map's top actors (issue 14: counts per actor1 and actor2 over a
	// million incidents) sorted every row for a GROUP BY, 3–5 s on a busy
	// machine; indexes holding the actor and the fatalities give the groups
	// in order from the index alone, and serve actors=A,B (actor1 or actor2)
	// as two index lookups instead of a scan.
	`CREATE INDEX incidents_actor1 ON incidents (actor1, fatalities);
	CREATE INDEX incidents_actor2 ON incidents (actor2, fatalities);
	ANALYZE incidents_actor1;
	ANALYZE incidents_actor2;`,
	// 14: the timeline (issue 14: incidents per month and event type of a
	// million) read every entry of an index, 0.4 s and more. daily_stats
	// keeps the count and fatalities per day, event type and sub-event type
	// (some 70,000 rows for a million incidents), kept by triggers on every
	// write whoever makes it, and rebuilt by a bulk load (finishLoad), so an
	// aggregation filtered by dates and types only reads it instead.
	`CREATE TABLE daily_stats (
		event_date     TEXT    NOT NULL,
		event_type     TEXT    NOT NULL,
		sub_event_type TEXT    NOT NULL,
		n              INTEGER NOT NULL CHECK (n > 0),
		fatalities     INTEGER NOT NULL,
		PRIMARY KEY (event_date, event_type, sub_event_type)
	) WITHOUT ROWID;
	INSERT INTO daily_stats ` + dailyStatsFill + `;
	CREATE TRIGGER daily_stats_insert AFTER INSERT ON incidents BEGIN
		INSERT INTO daily_stats VALUES (new.event_date, new.event_type, new.sub_event_type, 1, new.fatalities)
		ON CONFLICT DO UPDATE SET n = n + 1, fatalities = fatalities + excluded.fatalities;
	END;
	CREATE TRIGGER daily_stats_delete AFTER DELETE ON incidents BEGIN
		DELETE FROM daily_stats WHERE (event_date, event_type, sub_event_type) = (old.event_date, old.event_type, old.sub_event_type) AND n = 1;
		UPDATE daily_stats SET n = n - 1, fatalities = fatalities - old.fatalities
		WHERE (event_date, event_type, sub_event_type) = (old.event_date, old.event_type, old.sub_event_type);
	END;
	CREATE TRIGGER daily_stats_update AFTER UPDATE OF event_date, event_type, sub_event_type, fatalities ON incidents BEGIN
		DELETE FROM daily_stats WHERE (event_date, event_type, sub_event_type) = (old.event_date, old.event_type, old.sub_event_type) AND n = 1;
		UPDATE daily_stats SET n = n - 1, fatalities = fatalities - old.fatalities
		WHERE (event_date, event_type, sub_event_type) = (old.event_date, old.event_type, old.sub_event_type);
		INSERT INTO daily_stats VALUES (new.event_date, new.event_type, new.sub_event_type, 1, new.fatalities)
		ON CONFLICT DO UPDATE SET n = n + 1, fatalities = fatalities + excluded.fatalities;
	END;`,
	// 15: tile pre-aggregates (issue 16): a cold tile cost what lay under it,
	// 8.7 s for the densest of zoom 6 at ten million incidents; per-cell
	// counts by zoom level and event type answer it from at most 4,096 cells
	// a type (see tileagg.go).
	tileCellsMigration(),
	// 16: sortby=-fatalities (the deadliest first) and sortby=updated_at (the
	// latest edits, what a syncing client asks) sorted every match for a
	// page: no index led with either. Each index holds the row id after its
	// column, which is the tie-break of every sort order (orderBy), so a page
	// in either direction reads the index in order and stops at the page's
	// end. The updated_at index also serves updated_since=.
	`CREATE INDEX incidents_fatalities ON incidents (fatalities);
	CREATE INDEX incidents_updated ON incidents (updated_at);
	ANALYZE incidents_fatalities;
	ANALYZE incidents_updated;`,
	// 17: tile pre-aggregates of all event types, one row a cell.
	tileCellsAllMigration(),
	// 18: aggregations with any other filter (issue 14: an actor, a region, a
	// word, a box, a fatality bound) read the grouped columns from the table,
	// a row at a time through whichever index the filter used: 58–69 s for
	// one actor or region at a million incidents on a busy machine, 6–10 s
	// for a word or a box. An index holding every column aggregations group
	// by or filter on (and the key and position a box compares) answers them
	// all from the index alone: its entries are read in date order, so a date
	// range is a range of it, and the whole of it costs some 0.15 s of CPU at
	// a million. It replaces the date index, which it begins with.
	`DROP INDEX incidents_date_stats;
	` + statsIndexSQL + `;
	ANALYZE incidents_stats;`,
	// 19: tile pre-aggregates by month and year (issue 16): a tile filtered
	// by dates (the timeline brush) read every incident under it, 1.4 s for
	// a z6 tile at ten million incidents (see tileperiods.go).
	tilePeriodsMigration(),
}

// statsIndexSQL is the index aggregations read (migration 18): every column
// they group by or filter on but the text, in date order.
const statsIndexSQL = `CREATE INDEX incidents_stats ON incidents (event_date, event_type, sub_event_type,
	admin1, region, actor1, actor2, fatalities, cell, lon, lat)`

// dailyStatsFill is the SELECT that fills daily_stats from the incidents.
const dailyStatsFill = `SELECT event_date, event_type, sub_event_type, count(*), sum(fatalities)
	FROM incidents GROUP BY event_date, event_type, sub_event_type`

// migrationSteps are Go steps run after the SQL of a migration (by its
// number), in the same transaction: work SQL cannot express.
var migrationSteps = map[int]func(context.Context, *sql.Tx) error{
	8: fillCells,
}

// fillCells computes the spatial key of every stored incident, then indexes
// it. The triggers are off meanwhile: a new derived column is not a change
// of the incidents (no history, no change log, no live events).
func fillCells(ctx context.Context, tx *sql.Tx) error {
	off, err := dropIndexesAndTriggers(ctx, tx)
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, "SELECT id, lon, lat FROM incidents")
	if err != nil {
		return err
	}
	type point struct {
		id       int64
		lon, lat float64
	}
	var pts []point
	for rows.Next() {
		var p point
		if err := rows.Scan(&p.id, &p.lon, &p.lat); err != nil {
			rows.Close()
			return err
		}
		pts = append(pts, p)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	set, err := tx.PrepareContext(ctx, "UPDATE incidents SET cell = ? WHERE id = ?")
	if err != nil {
		return err
	}
	defer set.Close()
	for _, p := range pts {
		if _, err := set.ExecContext(ctx, geo.Cell(p.lon, p.lat), p.id); err != nil {
			return err
		}
	}
	if _, err = tx.ExecContext(ctx, cellIndexSQL); err != nil {
		return err
	}
	return off.restore(ctx, tx)
}

// cellIndexSQL is the index of the spatial key, covering what counts and
// tile clusters read.
const cellIndexSQL = `CREATE INDEX incidents_cell ON incidents (cell, lon, lat, event_date, fatalities)`

// SchemaVersion is the user_version a fully migrated database has.
func SchemaVersion() int { return len(migrations) }

// migrate applies every migration above the database's user_version, each in
// its own transaction together with the version bump, so a crash leaves the
// database at a version it really has.
func (s *SQLite) migrate(ctx context.Context) error {
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this program knows (%d)", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if step := migrationSteps[i+1]; step != nil {
			if err := step(ctx, tx); err != nil {
				tx.Rollback()
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
		}
		// PRAGMA takes no bound parameters; i+1 is an int of ours, not input.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}

// Ready returns nil when the database answers and its schema version is the
// one this build migrates to, else an error wrapping incident.ErrNotReady.
func (s *SQLite) Ready(ctx context.Context) (incident.Readiness, error) {
	r := incident.Readiness{Engine: "sqlite"}
	if err := s.Ping(ctx); err != nil {
		return r, fmt.Errorf("the database does not answer (%v): %w", err, incident.ErrNotReady)
	}
	v, err := s.Version(ctx)
	if err != nil {
		return r, fmt.Errorf("the database schema version cannot be read (%v): %w", err, incident.ErrNotReady)
	}
	if v != SchemaVersion() {
		return r, fmt.Errorf("database schema version %d, this build needs %d: %w", v, SchemaVersion(), incident.ErrNotReady)
	}
	r.SchemaVersion = v
	return r, nil
}

// Version returns the database's schema version (PRAGMA user_version).
func (s *SQLite) Version(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}
