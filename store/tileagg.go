package store

import (
	"fmt"
	"strings"

	"incidentmap/geo"
	"incidentmap/incident"
)

// The tile pre-aggregates (migration 15; see incident.TileAggMinLevel): the
// table tile_cells holds, per cell of every zoom level from
// incident.TileAggMinLevel to incident.TileAggMaxLevel and event type, the
// count, fatalities and sums of fixed-point coordinates and ids of the
// incidents in it. Triggers keep it on every write in the writing
// transaction; a bulk load fills it once at its end (finishLoad).

// tileLevels is a VALUES list of the pre-aggregated levels and the shift of
// a cell key to each (column1, column2): triggers cannot use a WITH clause.
func tileLevels() string {
	var b strings.Builder
	b.WriteString("(VALUES ")
	for l := incident.TileAggMinLevel; l <= incident.TileAggMaxLevel; l++ {
		if l > incident.TileAggMinLevel {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d, %d)", l, 2*(geo.CellZoom-l))
	}
	b.WriteString(")")
	return b.String()
}

// fixedLon and fixedLat are an incident's coordinates in the fixed point of
// the sums: trunc(v × scale), as the PostGIS engine computes them too.
const (
	fixedLon = "CAST(%[1]s.lon * 10000000 AS INTEGER)"
	fixedLat = "CAST(%[1]s.lat * 10000000 AS INTEGER)"
)

// fixed spells fixedLon or fixedLat for the row alias a.
func fixed(format, a string) string { return fmt.Sprintf(format, a) }

// tileCellsFill fills tile_cells by type from the incidents: the finest
// level in one grouping of the table, then each coarser level from the one
// below it (a quarter of its cells, roughly, where cells hold several
// incidents). A bulk load adds tileCellsAllFill.
func tileCellsFill() string {
	var b strings.Builder
	fmt.Fprintf(&b, `INSERT INTO tile_cells SELECT %d, cell >> %d, event_type, count(*), sum(fatalities), sum(%s), sum(%s), sum(id)
		FROM incidents i GROUP BY 2, 3;
	`, incident.TileAggMaxLevel, 2*(geo.CellZoom-incident.TileAggMaxLevel), fixed(fixedLon, "i"), fixed(fixedLat, "i"))
	for l := incident.TileAggMaxLevel - 1; l >= incident.TileAggMinLevel; l-- {
		fmt.Fprintf(&b, `INSERT INTO tile_cells SELECT %d, key >> 2, event_type, sum(n), sum(fatalities), sum(lon_sum), sum(lat_sum), sum(id_sum)
		FROM tile_cells WHERE level = %d GROUP BY 2, 3;
	`, l, l+1)
	}
	return b.String()
}

// tileCellsAdd and tileCellsSub are trigger statements adding the row r
// (new) to, or taking it (old) from, its cell of every level: the row of its
// event type, and with all (migration 17 on) the row of all types (the empty type).
func tileCellsAdd(r string, all bool) string {
	types := "(SELECT " + r + ".event_type AS ty)"
	if all {
		types = "(SELECT " + r + ".event_type AS ty UNION ALL SELECT '')"
	}
	return fmt.Sprintf(`INSERT INTO tile_cells SELECT l.column1, %[1]s.cell >> l.column2, t.ty, 1, %[1]s.fatalities, %[2]s, %[3]s, %[1]s.id
		FROM %[4]s l, %[5]s t WHERE 1
		ON CONFLICT DO UPDATE SET n = n + 1, fatalities = fatalities + excluded.fatalities,
			lon_sum = lon_sum + excluded.lon_sum, lat_sum = lat_sum + excluded.lat_sum, id_sum = id_sum + excluded.id_sum;`,
		r, fixed(fixedLon, r), fixed(fixedLat, r), tileLevels(), types)
}

func tileCellsSub(r string, all bool) string {
	types := "event_type = " + r + ".event_type"
	if all {
		types = "event_type IN (" + r + ".event_type, '')"
	}
	match := fmt.Sprintf(`%[3]s AND (level, key) IN (SELECT l.column1, %[1]s.cell >> l.column2 FROM %[2]s l)`, r, tileLevels(), types)
	return fmt.Sprintf(`DELETE FROM tile_cells WHERE n = 1 AND %[1]s;
		UPDATE tile_cells SET n = n - 1, fatalities = fatalities - %[2]s.fatalities, lon_sum = lon_sum - %[3]s,
			lat_sum = lat_sum - %[4]s, id_sum = id_sum - %[2]s.id WHERE %[1]s;`,
		match, r, fixed(fixedLon, r), fixed(fixedLat, r))
}

// tileCellsAllFill adds the rows of all types (the empty type) from the rows by type.
const tileCellsAllFill = `INSERT INTO tile_cells SELECT level, key, '', sum(n), sum(fatalities), sum(lon_sum), sum(lat_sum), sum(id_sum)
	FROM tile_cells GROUP BY level, key;`

// tileCellsTriggers creates the triggers keeping tile_cells.
func tileCellsTriggers(all bool) string {
	return `CREATE TRIGGER tile_cells_insert AFTER INSERT ON incidents BEGIN
		` + tileCellsAdd("new", all) + `
	END;
	CREATE TRIGGER tile_cells_delete AFTER DELETE ON incidents BEGIN
		` + tileCellsSub("old", all) + `
	END;
	CREATE TRIGGER tile_cells_update AFTER UPDATE OF cell, event_type, fatalities, lon, lat ON incidents BEGIN
		` + tileCellsSub("old", all) + `
		` + tileCellsAdd("new", all) + `
	END;`
}

// tileCellsAllMigration is migration 17: rows of all event types (the empty type), so
// an unfiltered tile reads one row a cell instead of one a type and cell,
// and the primary key puts the type before the key, so the rows of a type
// (or of all, the empty type) under a tile are one range, not every type's rows with
// the others skipped (a dense z10 tile: 3,634 rows read instead of some
// 20,000, and no grouping).
func tileCellsAllMigration() string {
	return `DROP TRIGGER tile_cells_insert;
	DROP TRIGGER tile_cells_delete;
	DROP TRIGGER tile_cells_update;
	ALTER TABLE tile_cells RENAME TO tile_cells_by_key;
	` + tileCellsTable + `
	INSERT INTO tile_cells SELECT level, key, event_type, n, fatalities, lon_sum, lat_sum, id_sum FROM tile_cells_by_key;
	DROP TABLE tile_cells_by_key;
	` + tileCellsAllFill + `
	` + tileCellsTriggers(true)
}

// tileCellsTable is tile_cells as migration 17 makes it.
const tileCellsTable = `CREATE TABLE tile_cells (
		level      INTEGER NOT NULL,
		key        INTEGER NOT NULL,
		event_type TEXT    NOT NULL, -- '': all types
		n          INTEGER NOT NULL CHECK (n > 0),
		fatalities INTEGER NOT NULL,
		lon_sum    INTEGER NOT NULL,
		lat_sum    INTEGER NOT NULL,
		id_sum     INTEGER NOT NULL,
		PRIMARY KEY (level, event_type, key)
	) WITHOUT ROWID;`

// tileCellsMigration is migration 15: the table, its fill, its triggers.
func tileCellsMigration() string {
	return `CREATE TABLE tile_cells (
		level      INTEGER NOT NULL,
		key        INTEGER NOT NULL,
		event_type TEXT    NOT NULL,
		n          INTEGER NOT NULL CHECK (n > 0),
		fatalities INTEGER NOT NULL,
		lon_sum    INTEGER NOT NULL,
		lat_sum    INTEGER NOT NULL,
		id_sum     INTEGER NOT NULL,
		PRIMARY KEY (level, key, event_type)
	) WITHOUT ROWID;
	` + tileCellsFill() + `
	` + tileCellsTriggers(false)
}
