package postgis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"incidentmap/internal/cqlsql"
)

// migrations are applied in order, each in its own transaction, and recorded
// in schema_migrations; migration i is version i+1. Append new ones at the
// end and never edit one that has shipped. The schema holds the same columns
// and checks as the SQLite engine's, plus what PostGIS does natively: a
// geometry column with a GiST index, regions as polygons, a tsvector.
var migrations = []string{
	// 1: incidents, regions, change log, history, tokens, full text.
	`CREATE EXTENSION IF NOT EXISTS postgis;
	CREATE EXTENSION IF NOT EXISTS unaccent;
	-- unaccent() is STABLE (its dictionary could change); fixing the
	-- dictionary makes it safe for a generated column and an index.
	CREATE FUNCTION im_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
		AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;
	-- The words of a text as the SQLite engine's FTS5 tokenizer (unicode61,
	-- diacritics removed) sees them: punctuation separates words, so
	-- "Air/drone" and "al-Asad" are two words each, not a path or a
	-- hyphenated word as PostgreSQL's parser would read them.
	CREATE FUNCTION im_words(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
		AS $$ SELECT regexp_replace(im_unaccent($1), '[[:punct:][:space:]]+', ' ', 'g') $$;
	-- AND of the tsqueries of a q's terms.
	CREATE AGGREGATE tsquery_and_agg(tsquery) (SFUNC = tsquery_and, STYPE = tsquery);
	CREATE FUNCTION im_now() RETURNS text LANGUAGE sql STABLE
		AS $$ SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;
	CREATE TABLE incidents (
		id               bigint PRIMARY KEY,
		event_id         text    NOT NULL UNIQUE CHECK (length(event_id) BETWEEN 1 AND 100),
		event_date       text    NOT NULL CHECK (event_date ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
		time_precision   integer NOT NULL DEFAULT 1 CHECK (time_precision BETWEEN 1 AND 3),
		event_type       text    NOT NULL CHECK (event_type <> ''),
		sub_event_type   text    NOT NULL DEFAULT '',
		actor1           text    NOT NULL DEFAULT '',
		actor2           text    NOT NULL DEFAULT '',
		admin1           text    NOT NULL DEFAULT '',
		admin2           text    NOT NULL DEFAULT '',
		location         text    NOT NULL DEFAULT '',
		region           text    NOT NULL DEFAULT '',
		geo_precision    integer NOT NULL DEFAULT 1 CHECK (geo_precision BETWEEN 1 AND 3),
		fatalities       integer NOT NULL DEFAULT 0 CHECK (fatalities >= 0),
		source           text    NOT NULL DEFAULT '',
		source_url       text    NOT NULL DEFAULT '',
		notes            text    NOT NULL DEFAULT '',
		tags             text    NOT NULL DEFAULT '',
		lon              double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
		lat              double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
		source_timestamp bigint  NOT NULL DEFAULT 0,
		updated_at       text    NOT NULL,
		-- cell is the Morton code of the Web Mercator cell (geo.Cell), as in
		-- the SQLite engine: the spatial order of pages and the tiles' grid.
		cell             bigint  NOT NULL,
		geom geometry(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED,
		fts  tsvector GENERATED ALWAYS AS (to_tsvector('simple', im_words(
			notes || ' ' || actor1 || ' ' || actor2 || ' ' || location || ' ' || source))) STORED
	);
	CREATE INDEX incidents_geom ON incidents USING gist (geom);
	CREATE INDEX incidents_fts ON incidents USING gin (fts);
	CREATE INDEX incidents_cell ON incidents (cell, lon, lat, event_date, fatalities, id);
	CREATE INDEX incidents_date ON incidents (event_date);
	CREATE INDEX incidents_type_date ON incidents (event_type, event_date);
	CREATE INDEX incidents_admin1 ON incidents (lower(admin1));
	CREATE INDEX incidents_region ON incidents (lower(region));

	CREATE TABLE regions (
		iso         text PRIMARY KEY CHECK (iso <> ''),
		name        text NOT NULL UNIQUE CHECK (name <> ''),
		name_source text NOT NULL DEFAULT '',
		name_ar     text NOT NULL DEFAULT '',
		region      text NOT NULL,
		geometry    text NOT NULL,
		geom        geometry(MultiPolygon, 4326) NOT NULL,
		min_lon double precision NOT NULL, min_lat double precision NOT NULL,
		max_lon double precision NOT NULL, max_lat double precision NOT NULL
	);
	CREATE INDEX regions_geom ON regions USING gist (geom);

	CREATE TABLE change_log (
		seq         bigserial PRIMARY KEY,
		incident_id bigint NOT NULL,
		event_id    text   NOT NULL,
		op          text   NOT NULL CHECK (op IN ('created', 'updated', 'deleted')),
		at          text   NOT NULL DEFAULT im_now()
	);
	CREATE INDEX change_log_incident ON change_log (incident_id);

	CREATE TABLE history (
		seq         bigserial PRIMARY KEY,
		incident_id bigint NOT NULL,
		event_id    text   NOT NULL,
		op          text   NOT NULL CHECK (op IN ('updated', 'deleted')),
		feature     json   NOT NULL,
		changed_by  text   NOT NULL DEFAULT '',
		changed_at  text   NOT NULL DEFAULT im_now()
	);
	CREATE INDEX history_incident ON history (incident_id, seq);

	CREATE TABLE tokens (
		id         bigserial PRIMARY KEY,
		name       text  NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
		hash       bytea NOT NULL UNIQUE CHECK (length(hash) = 32),
		created_at text  NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
		revoked_at text
	);
	CREATE UNIQUE INDEX tokens_active_name ON tokens (name) WHERE revoked_at IS NULL;

	-- Region assignment by spatial join: an incident whose source gave no
	-- admin1 gets the governorate whose polygon covers its point.
	CREATE FUNCTION incidents_assign_region() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		IF NEW.admin1 = '' THEN
			SELECT r.name, r.region INTO NEW.admin1, NEW.region FROM regions r
			WHERE ST_Covers(r.geom, ST_SetSRID(ST_MakePoint(NEW.lon, NEW.lat), 4326))
			ORDER BY r.iso LIMIT 1;
			NEW.admin1 := coalesce(NEW.admin1, '');
			NEW.region := coalesce(NEW.region, '');
		END IF;
		RETURN NEW;
	END $$;
	CREATE TRIGGER incidents_assign_region BEFORE INSERT OR UPDATE ON incidents
		FOR EACH ROW EXECUTE FUNCTION incidents_assign_region();

	-- The previous version of an incident as a GeoJSON Feature, as the
	-- history keeps it.
	CREATE FUNCTION incident_feature(i incidents) RETURNS json LANGUAGE sql IMMUTABLE AS $$
		SELECT json_build_object('type', 'Feature', 'id', i.id,
			'geometry', json_build_object('type', 'Point', 'coordinates', json_build_array(i.lon, i.lat)),
			'properties', json_build_object(
				'event_id', i.event_id, 'event_date', i.event_date, 'time_precision', i.time_precision,
				'event_type', i.event_type, 'sub_event_type', i.sub_event_type, 'actor1', i.actor1,
				'actor2', i.actor2, 'admin1', i.admin1, 'admin2', i.admin2, 'location', i.location,
				'region', i.region, 'geo_precision', i.geo_precision, 'fatalities', i.fatalities,
				'source', i.source, 'source_url', i.source_url, 'notes', i.notes, 'tags', i.tags,
				'updated_at', i.updated_at)) $$;

	-- The change log and the history, whoever writes (any server, an import,
	-- psql): the data version of every server on this database comes from
	-- here, and a statement's changes wake every server (NOTIFY).
	CREATE FUNCTION incidents_log() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		IF TG_OP = 'INSERT' THEN
			INSERT INTO change_log (incident_id, event_id, op) VALUES (NEW.id, NEW.event_id, 'created');
		ELSIF TG_OP = 'UPDATE' THEN
			INSERT INTO history (incident_id, event_id, op, feature) VALUES (OLD.id, OLD.event_id, 'updated', incident_feature(OLD));
			INSERT INTO change_log (incident_id, event_id, op) VALUES (NEW.id, NEW.event_id, 'updated');
		ELSE
			INSERT INTO history (incident_id, event_id, op, feature) VALUES (OLD.id, OLD.event_id, 'deleted', incident_feature(OLD));
			INSERT INTO change_log (incident_id, event_id, op) VALUES (OLD.id, OLD.event_id, 'deleted');
		END IF;
		RETURN NULL;
	END $$;
	CREATE TRIGGER incidents_log AFTER INSERT OR UPDATE OR DELETE ON incidents
		FOR EACH ROW EXECUTE FUNCTION incidents_log();
	CREATE FUNCTION incidents_notify() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		PERFORM pg_notify('incidentmap_changes', '');
		RETURN NULL;
	END $$;
	CREATE TRIGGER incidents_notify AFTER INSERT OR UPDATE OR DELETE ON incidents
		FOR EACH STATEMENT EXECUTE FUNCTION incidents_notify();`,

	// 2: change log seqs in commit order. A sequence hands out numbers when
	// a row is written, not when its transaction commits: with two writers,
	// seq 10 could be visible before seq 9, and a data version of 10 (an
	// ETag, a cached page, the change feed's since=10, a replica "caught up
	// to 10") would miss change 9 for good. Every statement that changes
	// incidents first takes one transaction-scoped lock (the one that
	// serialises new ids), so writers take seqs one transaction after
	// another and whoever sees seq n sees every change up to n. Writes were
	// row-locked already; they now queue as SQLite's do.
	`CREATE FUNCTION incidents_serialize() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		PERFORM pg_advisory_xact_lock(7370102);
		RETURN NULL;
	END $$;
	CREATE TRIGGER incidents_serialize BEFORE INSERT OR UPDATE OR DELETE ON incidents
		FOR EACH STATEMENT EXECUTE FUNCTION incidents_serialize();`,
	// 3: tile pre-aggregates (issue 16; see tileagg.go).
	tileCellsMigration,

	// 4: the full-text vector weighs each field's words by its group in
	// incident.Relevance (location A, actors B, notes C, source D), so
	// sortby=relevance asks per group with weight-restricted queries. The
	// fields are joined in the same order as before, each one's positions
	// following the last one's, so what matches is unchanged.
	`ALTER TABLE incidents DROP COLUMN fts;
	ALTER TABLE incidents ADD COLUMN fts tsvector GENERATED ALWAYS AS (
		setweight(to_tsvector('simple', im_words(notes)), 'C') ||
		setweight(to_tsvector('simple', im_words(actor1)), 'B') ||
		setweight(to_tsvector('simple', im_words(actor2)), 'B') ||
		setweight(to_tsvector('simple', im_words(location)), 'A') ||
		setweight(to_tsvector('simple', im_words(source)), 'D')) STORED;
	CREATE INDEX incidents_fts ON incidents USING gin (fts);`,

	// 5: the change log and history written once a statement, from its
	// transition tables, instead of by a PL/pgSQL call and an INSERT for
	// every row: an import's INSERT of 1,000,000 rows spent most of its time
	// there. Rows are logged in id order within a statement.
	`DROP TRIGGER incidents_log ON incidents;
	DROP FUNCTION incidents_log();
	CREATE FUNCTION incidents_log_insert() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		INSERT INTO change_log (incident_id, event_id, op) SELECT id, event_id, 'created' FROM new_rows ORDER BY id;
		RETURN NULL;
	END $$;
	CREATE FUNCTION incidents_log_update() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		INSERT INTO history (incident_id, event_id, op, feature)
			SELECT o.id, o.event_id, 'updated', incident_feature(o) FROM old_rows o ORDER BY o.id;
		INSERT INTO change_log (incident_id, event_id, op) SELECT id, event_id, 'updated' FROM new_rows ORDER BY id;
		RETURN NULL;
	END $$;
	CREATE FUNCTION incidents_log_delete() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		INSERT INTO history (incident_id, event_id, op, feature)
			SELECT o.id, o.event_id, 'deleted', incident_feature(o) FROM old_rows o ORDER BY o.id;
		INSERT INTO change_log (incident_id, event_id, op) SELECT id, event_id, 'deleted' FROM old_rows ORDER BY id;
		RETURN NULL;
	END $$;
	CREATE TRIGGER incidents_log_insert AFTER INSERT ON incidents REFERENCING NEW TABLE AS new_rows
		FOR EACH STATEMENT EXECUTE FUNCTION incidents_log_insert();
	CREATE TRIGGER incidents_log_update AFTER UPDATE ON incidents REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
		FOR EACH STATEMENT EXECUTE FUNCTION incidents_log_update();
	CREATE TRIGGER incidents_log_delete AFTER DELETE ON incidents REFERENCING OLD TABLE AS old_rows
		FOR EACH STATEMENT EXECUTE FUNCTION incidents_log_delete();`,
	// 6: the common sort orders (sortby) served by an index in order, as the
	// SQLite engine's migration 16 does: the deadliest first, the latest
	// edits (and updated_since=), and dates. Each index ends with the id,
	// the tie-break of every order, and text is in the byte order the
	// queries ask for (COLLATE "C"), so a page reads the index in order and
	// stops at its end instead of sorting every match.
	`CREATE INDEX incidents_fatalities ON incidents (fatalities, id);
	CREATE INDEX incidents_updated ON incidents ((updated_at COLLATE "C"), id);
	CREATE INDEX incidents_date_id ON incidents ((event_date COLLATE "C"), id);
	ANALYZE incidents;`,
	// 7: aggregations and pages filtered by actors (actor1 or actor2, issue
	// 14) scanned every row; an index on each gives the matches as a bitmap
	// OR of two index scans. Regions, boxes and words have theirs.
	`CREATE INDEX incidents_actor1 ON incidents (actor1);
	CREATE INDEX incidents_actor2 ON incidents (actor2);`,

	// 8: im_words names im_unaccent by its schema. The generated tsvector
	// calls im_words for every row a restore loads, and pg_restore loads
	// with an empty search_path: unqualified, im_unaccent was not found and
	// a pg_dump backup could not be restored. Same words as before, so no
	// stored vector changes.
	`CREATE OR REPLACE FUNCTION im_words(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
		AS $$ SELECT regexp_replace(public.im_unaccent($1), '[[:punct:][:space:]]+', ' ', 'g') $$;`,

	// 9: the region trigger runs only for rows without admin1: PostgreSQL
	// tests the condition itself instead of calling PL/pgSQL for every row
	// (imports and migrations assign regions before they insert).
	`DROP TRIGGER incidents_assign_region ON incidents;
	CREATE TRIGGER incidents_assign_region BEFORE INSERT OR UPDATE ON incidents
		FOR EACH ROW WHEN (NEW.admin1 = '') EXECUTE FUNCTION incidents_assign_region();`,

	// 10: the words of full text are FTS5's unicode61 words on both engines
	// (cqlsql.WordsSQL, generated from the tables of unicode61 that
	// TestUnicode61Table checks against SQLite): unaccent folded ß, æ, ø
	// and more that FTS5 keeps, and kept Arabic harakat, combining marks
	// and non-ASCII punctuation that FTS5 splits at, so q matched other
	// rows on PostGIS. The vectors are rebuilt with the new words. Should
	// those tables change (another SQLite), a new migration redefines
	// im_words and rebuilds the vectors again.
	cqlsql.WordsSQL() + `
	ALTER TABLE incidents DROP COLUMN fts;
	ALTER TABLE incidents ADD COLUMN fts tsvector GENERATED ALWAYS AS (
		setweight(to_tsvector('simple', im_words(notes)), 'C') ||
		setweight(to_tsvector('simple', im_words(actor1)), 'B') ||
		setweight(to_tsvector('simple', im_words(actor2)), 'B') ||
		setweight(to_tsvector('simple', im_words(location)), 'A') ||
		setweight(to_tsvector('simple', im_words(source)), 'D')) STORED;
	CREATE INDEX incidents_fts ON incidents USING gin (fts);`,

	// 11: the tile pre-aggregates' trigger groups a statement's rows level
	// by level (see tileCellsRollup): same sums, less time.
	tileCellsChangeMigration,
}

// SchemaVersion is the version the migrations bring a database to.
func SchemaVersion() int { return len(migrations) }

// migrate applies the pending migrations. An advisory lock serialises
// servers starting together on one database.
func (p *PostGIS) migrate(ctx context.Context) error {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(7370101)"); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock(7370101)")
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var have int
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&have); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this build's %d", have, len(migrations))
	}
	for v := have + 1; v <= len(migrations); v++ {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", v)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
	}
	return installFunctions(ctx, conn.Conn())
}

// installFunctions (re)defines functions() unless the database holds this
// build's already: a digest of their text is kept as the comment of the last
// one, so a server whose role may not create functions starts on a database
// another build of the same version has set up.
func installFunctions(ctx context.Context, conn *pgx.Conn) error {
	fs := functions()
	sum := sha256.Sum256([]byte(strings.Join(fs, "\n")))
	mark := "incidentmap functions " + hex.EncodeToString(sum[:])
	var have string
	if err := conn.QueryRow(ctx, `SELECT coalesce(obj_description(to_regprocedure('im_term_query(text,text)'), 'pg_proc'), '')`).Scan(&have); err != nil {
		return fmt.Errorf("migrate: SQL functions: %w", err)
	}
	if have == mark {
		return nil
	}
	for _, f := range fs {
		if _, err := conn.Exec(ctx, f); err != nil {
			return fmt.Errorf("migrate: SQL functions: %w", err)
		}
	}
	if _, err := conn.Exec(ctx, "COMMENT ON FUNCTION im_term_query(text, text) IS '"+mark+"'"); err != nil {
		return fmt.Errorf("migrate: SQL functions: %w", err)
	}
	return nil
}

// functions define the SQL functions CQL2 filters translate to that must
// compute exactly what the SQLite engine's Go functions do. They are not
// migrations: CASEI and ACCENTI are generated from the Go tables of this
// build (cqlsql.CaseFoldSQL), so each start replaces them with its own.
func functions() []string {
	return []string{
		cqlsql.CaseFoldSQL(),
		`CREATE OR REPLACE AGGREGATE tsquery_or_agg(tsquery) (SFUNC = tsquery_or, STYPE = tsquery)`,
		// im_term_query: one full-text term of a tsQueryText parameter —
		// its spellings (separated by U+001F) each a phrase of its words
		// (simple configuration, accents removed), a prefix term's last word
		// a prefix (the term ends in a tab), OR-ed; with weights, only words
		// of those weights (fields of those relevance groups) match.
		`CREATE OR REPLACE FUNCTION im_term_query(term text, weights text) RETURNS tsquery
		LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $f$
		SELECT coalesce(tsquery_or_agg(CASE WHEN weights = '' THEN p
			ELSE regexp_replace(p::text, '''((?:[^'']|'''')*)''(?::(\*))?', '''\1'':\2' || weights, 'g')::tsquery END), ''::tsquery)
		FROM (SELECT CASE WHEN right(term, 1) = E'\t'
				THEN (phraseto_tsquery('simple', im_words(alt))::text || ':*')::tsquery
				ELSE phraseto_tsquery('simple', im_words(alt)) END AS p
			FROM unnest(string_to_array(rtrim(term, E'\t'), E'\x1f')) AS alt) alts $f$`,
		cqlsql.AccentFoldSQL(),
		// im_secs: as cqlsql.Secs, float64(unix seconds) + float64(nanos)/1e9,
		// so that equal instants compare equal on both engines.
		`CREATE OR REPLACE FUNCTION im_secs(text) RETURNS double precision LANGUAGE sql STABLE PARALLEL SAFE STRICT AS $f$
		SELECT floor(e)::double precision + ((e - floor(e)) * 1000000000)::double precision / 1e9::double precision
		FROM (SELECT extract(epoch FROM (CASE WHEN length($1) = 10 THEN $1 || 'T00:00:00Z' ELSE $1 END)::timestamptz) AS e) s $f$`,
		// im_pow: math.Pow's answers where PostgreSQL's power() raises an
		// error (0 to a negative power is +Inf, a negative number to a
		// fraction NaN, which SQLite keeps as NULL; overflow is ±Inf).
		`CREATE OR REPLACE FUNCTION im_pow(x double precision, y double precision) RETURNS double precision
		LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $f$
		BEGIN
			IF x = 0 AND y < 0 THEN RETURN 'Infinity'; END IF;
			IF x < 0 AND y <> trunc(y) THEN RETURN NULL; END IF;
			RETURN power(x, y);
		EXCEPTION WHEN numeric_value_out_of_range THEN
			IF (abs(x) > 1) = (y > 0) THEN
				RETURN CASE WHEN x < 0 AND trunc(y) = y AND (trunc(y)::numeric % 2) = 1 THEN '-Infinity'::double precision ELSE 'Infinity' END;
			END IF;
			RETURN 0;
		END $f$`,
	}
}

// Version returns the database's schema version.
func (p *PostGIS) Version(ctx context.Context) (int, error) {
	var v int
	err := p.pool.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v)
	return v, err
}
