package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/paulmach/orb/maptile"

	"incidentmap/geo"
	"incidentmap/incident"
)

// The tile pre-aggregates by period (migration 19): tile_periods holds, per
// cell of the levels tilePeriodMinLevel…tilePeriodMaxLevel (the grids of
// tiles of zoom 0–10) and per calendar month and year, the count,
// fatalities and the sums of fixed-point coordinates and ids of the
// incidents of all types in it, as tile_cells does by event type. A tile
// filtered by dates alone (the map's timeline brush, datetime=) is then
// read from the rows of the whole years and months its interval spans,
// plus the incidents of the days at its ends that fill no whole month:
// its cost is bounded by its cells times the periods (at most 10 + 22),
// not by the incidents under it (a z6 tile over Baghdad with
// datetime=2021 read 7.9 million index entries at ten million incidents).
// Rows live in one table, a year as the period YYYY and a month as
// 1YYYYMM (monthPeriod: apart from every year), so a run of whole years or
// of whole months of a level under a tile is one key range each.
const (
	tilePeriodMinLevel = incident.TileAggMinLevel
	tilePeriodMaxLevel = 16
)

// tilePeriodsTable is tile_periods as migration 19 makes it.
const tilePeriodsTable = `CREATE TABLE tile_periods (
		level      INTEGER NOT NULL,
		period     INTEGER NOT NULL, -- YYYY: a year; 1YYYYMM: a month
		key        INTEGER NOT NULL,
		n          INTEGER NOT NULL CHECK (n > 0),
		fatalities INTEGER NOT NULL,
		lon_sum    INTEGER NOT NULL,
		lat_sum    INTEGER NOT NULL,
		id_sum     INTEGER NOT NULL,
		PRIMARY KEY (level, period, key)
	) WITHOUT ROWID;`

// periodLevels is a VALUES list of the levels of tile_periods and the shift
// of a cell key to each, for the triggers (no WITH clause there).
func periodLevels() string {
	var b strings.Builder
	b.WriteString("(VALUES ")
	for l := tilePeriodMinLevel; l <= tilePeriodMaxLevel; l++ {
		if l > tilePeriodMinLevel {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d, %d)", l, 2*(geo.CellZoom-l))
	}
	b.WriteString(")")
	return b.String()
}

// monthPeriod is added to YYYYMM to name a month: above every year.
const monthPeriod = 1_000_000

// monthOf and yearOf are the periods of the row alias a's event date.
const (
	monthOf = "(1000000 + CAST(substr(%[1]s.event_date, 1, 4) AS INTEGER) * 100 + CAST(substr(%[1]s.event_date, 6, 2) AS INTEGER))"
	yearOf  = "CAST(substr(%[1]s.event_date, 1, 4) AS INTEGER)"
)

// tilePeriodsFill fills tile_periods from the incidents: the months of the
// finest level in one grouping of the table, each coarser level's months
// from the level below, then the finest level's years from its months and
// each coarser level's years from the level below.
func tilePeriodsFill() string {
	var b strings.Builder
	fmt.Fprintf(&b, `INSERT INTO tile_periods SELECT %d, %s, cell >> %d, count(*), sum(fatalities), sum(%s), sum(%s), sum(id)
		FROM incidents i GROUP BY 2, 3;
	`, tilePeriodMaxLevel, fixed(monthOf, "i"), 2*(geo.CellZoom-tilePeriodMaxLevel), fixed(fixedLon, "i"), fixed(fixedLat, "i"))
	for l := tilePeriodMaxLevel - 1; l >= tilePeriodMinLevel; l-- {
		fmt.Fprintf(&b, `INSERT INTO tile_periods SELECT %d, period, key >> 2, sum(n), sum(fatalities), sum(lon_sum), sum(lat_sum), sum(id_sum)
		FROM tile_periods WHERE level = %d AND period >= %d GROUP BY 2, 3;
	`, l, l+1, monthPeriod)
	}
	// The years of the finest level from its months, then each coarser
	// level's from the level below (fewer rows to sort than all months).
	fmt.Fprintf(&b, `INSERT INTO tile_periods SELECT %[2]d, (period - %[1]d) / 100, key, sum(n), sum(fatalities), sum(lon_sum), sum(lat_sum), sum(id_sum)
		FROM tile_periods WHERE level = %[2]d AND period >= %[1]d GROUP BY 2, 3;
	`, monthPeriod, tilePeriodMaxLevel)
	for l := tilePeriodMaxLevel - 1; l >= tilePeriodMinLevel; l-- {
		fmt.Fprintf(&b, `INSERT INTO tile_periods SELECT %d, period, key >> 2, sum(n), sum(fatalities), sum(lon_sum), sum(lat_sum), sum(id_sum)
		FROM tile_periods WHERE level = %d AND period < %d GROUP BY 2, 3;
	`, l, l+1, monthPeriod)
	}
	return b.String()
}

// tilePeriodsTriggers keep tile_periods on every write, as tile_cells'
// triggers do: the row's month and year at every level.
func tilePeriodsTriggers() string {
	periods := func(r string) string {
		return fmt.Sprintf("(SELECT %s AS p UNION ALL SELECT %s)", fixed(monthOf, r), fixed(yearOf, r))
	}
	add := func(r string) string {
		return fmt.Sprintf(`INSERT INTO tile_periods SELECT l.column1, p.p, %[1]s.cell >> l.column2, 1, %[1]s.fatalities, %[2]s, %[3]s, %[1]s.id
		FROM %[4]s l, %[5]s p WHERE 1
		ON CONFLICT DO UPDATE SET n = n + 1, fatalities = fatalities + excluded.fatalities,
			lon_sum = lon_sum + excluded.lon_sum, lat_sum = lat_sum + excluded.lat_sum, id_sum = id_sum + excluded.id_sum;`,
			r, fixed(fixedLon, r), fixed(fixedLat, r), periodLevels(), periods(r))
	}
	sub := func(r string) string {
		match := fmt.Sprintf(`(level, period, key) IN (SELECT l.column1, p.p, %[1]s.cell >> l.column2 FROM %[2]s l, %[3]s p)`,
			r, periodLevels(), periods(r))
		return fmt.Sprintf(`DELETE FROM tile_periods WHERE n = 1 AND %[1]s;
		UPDATE tile_periods SET n = n - 1, fatalities = fatalities - %[2]s.fatalities, lon_sum = lon_sum - %[3]s,
			lat_sum = lat_sum - %[4]s, id_sum = id_sum - %[2]s.id WHERE %[1]s;`,
			match, r, fixed(fixedLon, r), fixed(fixedLat, r))
	}
	return `CREATE TRIGGER tile_periods_insert AFTER INSERT ON incidents BEGIN
		` + add("new") + `
	END;
	CREATE TRIGGER tile_periods_delete AFTER DELETE ON incidents BEGIN
		` + sub("old") + `
	END;
	CREATE TRIGGER tile_periods_update AFTER UPDATE OF cell, event_date, fatalities, lon, lat ON incidents BEGIN
		` + sub("old") + `
		` + add("new") + `
	END;`
}

// tilePeriodsMigration is migration 19: the table, its fill, its triggers.
func tilePeriodsMigration() string {
	return tilePeriodsTable + `
	` + tilePeriodsFill() + `
	` + tilePeriodsTriggers()
}

// periodSpan is a date interval cut into what tile_periods answers — a run
// of whole years and up to two runs of whole months — and the days at its
// ends that fill no whole month, read from the incidents.
type periodSpan struct {
	years  [][2]int    // first and last year, YYYY
	months [][2]int    // first and last month, 1YYYYMM
	days   [][2]string // first and last day, YYYY-MM-DD
}

// tilePeriodsOf says whether tile_periods answers f (nothing but a date
// interval) and how its interval is cut.
func tilePeriodsOf(f incident.Filter) (periodSpan, bool) {
	rest := f
	rest.Interval = incident.Interval{}
	if f.Interval.IsZero() {
		return periodSpan{}, false
	}
	if _, ok := incident.TileTypes(rest); !ok || len(rest.EventTypes) > 0 || len(rest.Equals) > 0 {
		return periodSpan{}, false
	}
	first, last := f.Interval.StartDate(), f.Interval.EndDate()
	if first == "" {
		first = "0001-01-01"
	}
	if last == "" {
		last = "9999-12-31"
	}
	a, errA := time.Parse(incident.DateLayout, first)
	b, errB := time.Parse(incident.DateLayout, last)
	if errA != nil || errB != nil {
		return periodSpan{}, false
	}
	return cutPeriods(a, b), true
}

// cutPeriods cuts the days a…b (UTC midnights, inclusive).
func cutPeriods(a, b time.Time) periodSpan {
	var s periodSpan
	day := func(t time.Time) string { return t.Format(incident.DateLayout) }
	month := func(t time.Time) int { return monthPeriod + t.Year()*100 + int(t.Month()) }
	if a.After(b) {
		return s
	}
	// The days before the first whole month, and after the last.
	if a.Day() != 1 {
		next := time.Date(a.Year(), a.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		if !next.After(b) {
			s.days = append(s.days, [2]string{day(a), day(next.AddDate(0, 0, -1))})
			a = next
		} else {
			s.days = append(s.days, [2]string{day(a), day(b)})
			return s
		}
	}
	if end := b.AddDate(0, 0, 1); end.Day() != 1 {
		start := time.Date(b.Year(), b.Month(), 1, 0, 0, 0, 0, time.UTC)
		if start.After(a) {
			s.days = append(s.days, [2]string{day(start), day(b)})
			b = start.AddDate(0, 0, -1)
		} else { // a is the 1st of b's month
			s.days = append(s.days, [2]string{day(a), day(b)})
			return s
		}
	}
	// Now a is the first day of a month and b the last of one, a ≤ b: the
	// months before the first whole year, and after the last.
	if a.Month() != 1 {
		dec := time.Date(a.Year(), 12, 1, 0, 0, 0, 0, time.UTC)
		if bm := time.Date(b.Year(), b.Month(), 1, 0, 0, 0, 0, time.UTC); bm.Before(dec) {
			s.months = append(s.months, [2]int{month(a), month(bm)})
			return s
		}
		s.months = append(s.months, [2]int{month(a), month(dec)})
		a = time.Date(a.Year()+1, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if b.Month() != 12 {
		jan := time.Date(b.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		if a.After(jan) { // a is past b's January: b's year began before a
			return s
		}
		s.months = append(s.months, [2]int{month(jan), month(b)})
		b = time.Date(b.Year()-1, 12, 31, 0, 0, 0, 0, time.UTC)
	}
	if a.Year() <= b.Year() {
		s.years = append(s.years, [2]int{a.Year(), b.Year()})
	}
	return s
}

// tilePeriodLevel says whether tile_periods keeps level.
func tilePeriodLevel(level int) bool {
	return level >= tilePeriodMinLevel && level <= tilePeriodMaxLevel
}

// periodCellsText is the SELECT of one text of the cells of level under
// keys (cell key range cells) for span, as tileGridAgg reads it: the
// periods' rows and the end days' incidents, summed by key.
func periodCellsText(level int, keys, cells geo.CellRange, span periodSpan) (string, []any) {
	var parts []string
	var args []any
	for _, r := range append(append([][2]int(nil), span.years...), span.months...) {
		parts = append(parts, `SELECT key AS k, n, fatalities AS f, lon_sum AS lo, lat_sum AS la, id_sum AS i
			FROM tile_periods WHERE level = ? AND period BETWEEN ? AND ? AND key BETWEEN ? AND ?`)
		args = append(args, level, r[0], r[1], keys.Lo, keys.Hi)
	}
	for _, d := range span.days {
		// The date index holds the key, position and fatalities (and the
		// row id): the end days' incidents, all areas, at most two months'.
		parts = append(parts, fmt.Sprintf(`SELECT i.cell >> %d AS k, 1 AS n, i.fatalities AS f, %s AS lo, %s AS la, i.id AS i
			FROM incidents i INDEXED BY incidents_stats WHERE i.event_date BETWEEN ? AND ? AND i.cell BETWEEN ? AND ?`,
			2*(geo.CellZoom-level), fixed(fixedLon, "i"), fixed(fixedLat, "i")))
		args = append(args, d[0], d[1], cells.Lo, cells.Hi)
	}
	if len(parts) == 0 {
		parts = append(parts, "SELECT 0 AS k, 0 AS n, 0 AS f, 0 AS lo, 0 AS la, 0 AS i WHERE 0")
	}
	return `SELECT group_concat(k || ',' || n || ',' || f || ',' || lo || ',' || la || ',' || i, ';')
		FROM (SELECT k, sum(n) AS n, sum(f) AS f, sum(lo) AS lo, sum(la) AS la, sum(i) AS i
			FROM (` + strings.Join(parts, " UNION ALL ") + `) GROUP BY k)`, args
}

// tileGridPeriods reads the grid of tile t for span from tile_periods (and
// the incidents of its end days).
func tileGridPeriods(ctx context.Context, tx *sql.Tx, span periodSpan, t maptile.Tile) ([]incident.TileCell, error) {
	level, keys, _ := geo.TileAggGrid(uint32(t.Z), t.X, t.Y)
	q, args := periodCellsText(level, keys, geo.TileCells(uint32(t.Z), t.X, t.Y), span)
	return readGridText(ctx, tx, q, args)
}

// tileCountPeriods is how many incidents of span tile t holds, from its
// one cell of level z of tile_periods (and the end days).
func tileCountPeriods(ctx context.Context, db *sql.DB, span periodSpan, t maptile.Tile) (int64, error) {
	level, key, _ := geo.TileAggCell(uint32(t.Z), t.X, t.Y)
	q, args := periodCellsText(level, geo.CellRange{Lo: key, Hi: key}, geo.TileCells(uint32(t.Z), t.X, t.Y), span)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	cells, err := readGridText(ctx, tx, q, args)
	var n int64
	for _, c := range cells {
		n += int64(c.Count)
	}
	return n, err
}
