package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"incidentmap/geo"
	"incidentmap/incident"
	"incidentmap/internal/sqlitebatch"
)

// A bulk load (an import into an empty table) runs without the triggers that
// keep daily_stats and tile_cells, and used to fill them at its end with SQL:
// one grouping of the million rows for the finest tile level, one for each
// coarser level from the one below and one for the rows of all types, 10 s
// of CPU a million rows, and 2.5 s more for daily_stats. bulkAgg computes
// both in Go from the rows as the writer writes them, and writes them at the
// end in primary-key order, many rows a cgo call (sqlitebatch): a sort of
// the points by cell makes every level's cells contiguous, so all levels come
// from one sorted array.
//
// It holds only rows the load inserted: a row of the file that updates an
// earlier row of the same file (a repeated event_id) turns it off, and the
// SQL fill runs as before.

// tileRun bounds the points held (24 bytes each): a run that fills is added
// to tile_cells at once (upserting onto the runs before it) and emptied.
var tileRun = 1 << 20

// tilePoint is what tile_cells sums of one incident.
type tilePoint struct {
	keyType  uint64 // the cell of the finest level (incident.TileAggMaxLevel) << 28 | month << 8 | the type's index in bulkAgg.types
	id       uint32 // the id less bulkAgg.baseID
	lon, lat int32  // trunc(coordinate × incident.TileCoordScale)
	fat      int32
}

type dailyKey struct{ date, typ, sub string }

type dailyVal struct{ n, fat int64 }

type bulkAgg struct {
	ok      bool
	types   []string
	typeIdx map[string]uint8
	baseID  int64
	points  []tilePoint
	free    func() // gives the points' memory back
	daily   map[dailyKey]*dailyVal
	flushed bool // a run was written to tile_cells already
}

// newBulkAgg aggregates a load whose ids start at baseID.
func newBulkAgg(baseID int64) *bulkAgg {
	return &bulkAgg{ok: true, typeIdx: map[string]uint8{}, daily: map[dailyKey]*dailyVal{}, baseID: baseID}
}

// close gives the points' memory back.
func (a *bulkAgg) close() {
	if a.free != nil {
		a.free()
		a.free, a.points = nil, nil
	}
}

// add counts one inserted row. False when it cannot be counted here (a value
// out of the compact ranges): the caller then turns the aggregation off.
func (a *bulkAgg) add(inc *incident.Incident, cell int64) bool {
	t, ok := a.typeIdx[inc.EventType]
	if !ok {
		if len(a.types) == math.MaxUint8 {
			return false
		}
		t = uint8(len(a.types))
		name := strings.Clone(inc.EventType)
		a.types = append(a.types, name)
		a.typeIdx[name] = t
	}
	if inc.Fatalities > math.MaxInt32 || inc.Fatalities < 0 || inc.ID < a.baseID || inc.ID-a.baseID > math.MaxUint32 {
		return false
	}
	month, ok := monthIndex(inc.EventDate)
	if !ok {
		return false
	}
	if a.points == nil {
		a.points, a.free = allocPoints(tileRun)
	}
	// The same arithmetic as the triggers' CAST(lon * 10000000 AS INTEGER):
	// an IEEE product truncated towards zero (|lon| ≤ 180 fits an int32).
	a.points = append(a.points, tilePoint{
		keyType: uint64(cell)>>(2*(geo.CellZoom-incident.TileAggMaxLevel))<<28 | uint64(month)<<8 | uint64(t),
		id:      uint32(inc.ID - a.baseID),
		lon:     int32(inc.Lon * incident.TileCoordScale), lat: int32(inc.Lat * incident.TileCoordScale),
		fat: int32(inc.Fatalities),
	})
	v := a.daily[dailyKey{inc.EventDate, inc.EventType, inc.SubEventType}]
	if v == nil {
		// The strings may point into the text of the whole row (a CSV
		// record is one string): the map keeps copies, not the rows. It is
		// never assigned an existing key again, which would store that
		// key's strings in place of the copies.
		v = &dailyVal{}
		a.daily[dailyKey{strings.Clone(inc.EventDate), a.types[t], strings.Clone(inc.SubEventType)}] = v
	}
	v.n++
	v.fat += int64(inc.Fatalities)
	return true
}

// monthIndex is year × 12 + month - 1 of a date YYYY-MM-DD (< 2²⁰).
func monthIndex(date string) (uint32, bool) {
	if len(date) < 7 {
		return 0, false
	}
	y, m := 0, 0
	for _, c := range date[:4] {
		if c < '0' || c > '9' {
			return 0, false
		}
		y = y*10 + int(c-'0')
	}
	for _, c := range date[5:7] {
		if c < '0' || c > '9' {
			return 0, false
		}
		m = m*10 + int(c-'0')
	}
	if m < 1 || m > 12 {
		return 0, false
	}
	return uint32(y*12 + m - 1), true
}

// full says the points reached a run.
func (a *bulkAgg) full() bool { return len(a.points) >= tileRun }

// tileCellsColumns are the columns of tile_cells, in bind order.
const tileCellsColumns = "tile_cells (level, key, event_type, n, fatalities, lon_sum, lat_sum, id_sum)"

// tileCellsOntoRun adds rows onto those of an earlier run (excluded: the new row).
const tileCellsOntoRun = `ON CONFLICT DO UPDATE SET n = n + excluded.n, fatalities = fatalities + excluded.fatalities,
	lon_sum = lon_sum + excluded.lon_sum, lat_sum = lat_sum + excluded.lat_sum, id_sum = id_sum + excluded.id_sum`

// execBatch is how many bytes of values a cgo call carries.
const execBatch = 256 << 10

// groupRows is how many rows one INSERT statement of a groupWriter writes:
// SQLite opens its cursors and seeks from the root once a statement, so a
// statement a row cost more than twice the insert itself.
const groupRows = 64

// groupWriter inserts rows of ncol values groupRows at a time (a VALUES
// list), through sqlitebatch; the last rows through a statement of their
// own number.
type groupWriter struct {
	h          sqlitebatch.Handle
	into, tail string // "table (columns)" and what follows the VALUES
	ncol       int
	full       *sqlitebatch.Stmt
	args       sqlitebatch.Args
}

func newGroupWriter(h sqlitebatch.Handle, into, tail string, ncol int) (*groupWriter, error) {
	g := &groupWriter{h: h, into: into, tail: tail, ncol: ncol}
	var err error
	g.full, err = sqlitebatch.Prepare(h, g.sql(groupRows))
	return g, err
}

// sql is the statement of n rows.
func (g *groupWriter) sql(n int) string {
	row := "(?" + strings.Repeat(", ?", g.ncol-1) + ")"
	return "INSERT INTO " + g.into + " VALUES " + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ") + " " + g.tail
}

// rowDone writes the rows held once they reach execBatch bytes; the values
// of each row are added to g.args before.
func (g *groupWriter) rowDone() error {
	if g.args.Bytes() < execBatch {
		return nil
	}
	_, err := g.full.Exec(&g.args)
	return err
}

// close writes the rows left and finalizes the statements.
func (g *groupWriter) close() error {
	defer g.full.Close()
	if _, err := g.full.Exec(&g.args); err != nil {
		return err
	}
	if n := g.args.Values() / g.ncol; n > 0 {
		st, err := sqlitebatch.Prepare(g.h, g.sql(n))
		if err != nil {
			return err
		}
		defer st.Close()
		if _, err := st.Exec(&g.args); err != nil {
			return err
		}
	}
	return nil
}

// writeTiles adds the points held to tile_cells and empties them: per level,
// coarsest first, the rows of all types (”) then of each type in order,
// each in key order — the table's primary-key order, so every row is
// appended to the B-tree.
func (a *bulkAgg) writeTiles(ctx context.Context, conn *sql.Conn) error {
	pts := a.points
	slices.SortFunc(pts, func(x, y tilePoint) int {
		switch {
		case x.keyType < y.keyType:
			return -1
		case x.keyType > y.keyType:
			return 1
		}
		return 0
	})
	// Types in byte order ('' first), as the key orders them.
	order := make([]int, len(a.types))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return a.types[order[i]] < a.types[order[j]] })
	err := withHandle(ctx, conn, func(h sqlitebatch.Handle) error {
		tail := ""
		if a.flushed {
			tail = tileCellsOntoRun
		}
		g, err := newGroupWriter(h, tileCellsColumns, tail, 8)
		if err != nil {
			return err
		}
		for level := incident.TileAggMinLevel; level <= incident.TileAggMaxLevel; level++ {
			shift := 28 + 2*(incident.TileAggMaxLevel-level)
			for ti := -1; ti < len(order); ti++ {
				name, want := "", -1
				if ti >= 0 {
					want = order[ti]
					name = a.types[want]
				}
				var cur uint64
				var sum cellSum
				emit := func() error {
					g.args.Int(int64(level))
					g.args.Int(int64(cur))
					g.args.Text(name)
					sum.bind(&g.args)
					return g.rowDone()
				}
				for i := range pts {
					p := &pts[i]
					if want >= 0 && int(p.keyType&0xff) != want {
						continue
					}
					if k := p.keyType >> shift; sum.n == 0 || k != cur {
						if sum.n > 0 {
							if err := emit(); err != nil {
								g.full.Close()
								return err
							}
						}
						cur, sum = k, cellSum{}
					}
					sum.add(p, a.baseID)
				}
				if sum.n > 0 {
					if err := emit(); err != nil {
						g.full.Close()
						return err
					}
				}
			}
		}
		if err := g.close(); err != nil {
			return err
		}
		return a.writePeriods(h, pts)
	})
	if err != nil {
		return fmt.Errorf("tile_cells: %w", err)
	}
	a.points = a.points[:0]
	a.flushed = true
	return nil
}

// tilePeriodsOntoRun adds rows onto those of an earlier run.
const tilePeriodsOntoRun = `ON CONFLICT DO UPDATE SET n = n + excluded.n, fatalities = fatalities + excluded.fatalities,
	lon_sum = lon_sum + excluded.lon_sum, lat_sum = lat_sum + excluded.lat_sum, id_sum = id_sum + excluded.id_sum`

// cellSum is what a tile_cells or tile_periods row holds of its points:
// their count, fatalities and the sums of their fixed-point coordinates and
// ids.
type cellSum struct{ n, fat, lon, lat, id int64 }

// add counts p, whose id is baseID + p.id.
func (s *cellSum) add(p *tilePoint, baseID int64) {
	s.n++
	s.fat += int64(p.fat)
	s.lon += int64(p.lon)
	s.lat += int64(p.lat)
	s.id += baseID + int64(p.id)
}

// bind appends the sums as the row's n, fatalities, lon_sum, lat_sum, id_sum.
func (s *cellSum) bind(args *sqlitebatch.Args) {
	args.Int(s.n)
	args.Int(s.fat)
	args.Int(s.lon)
	args.Int(s.lat)
	args.Int(s.id)
}

// writePeriods adds the points to tile_periods (see tileperiods.go): per
// level, the years then the months (a year YYYY sorts before every month
// 1YYYYMM), each in key order. The points are sorted again by month and
// cell, which gives the months in order; the years come from a second
// order of their indexes, by year and cell.
func (a *bulkAgg) writePeriods(h sqlitebatch.Handle, pts []tilePoint) error {
	month := func(p *tilePoint) uint64 { return p.keyType >> 8 & 0xfffff }
	slices.SortFunc(pts, func(x, y tilePoint) int {
		if c := cmp.Compare(month(&x), month(&y)); c != 0 {
			return c
		}
		return cmp.Compare(x.keyType>>28, y.keyType>>28)
	})
	byYear := make([]uint32, len(pts))
	for i := range byYear {
		byYear[i] = uint32(i)
	}
	slices.SortFunc(byYear, func(i, j uint32) int {
		if c := cmp.Compare(month(&pts[i])/12, month(&pts[j])/12); c != 0 {
			return c
		}
		return cmp.Compare(pts[i].keyType>>28, pts[j].keyType>>28)
	})
	tail := ""
	if a.flushed {
		tail = tilePeriodsOntoRun
	}
	g, err := newGroupWriter(h, "tile_periods (level, period, key, n, fatalities, lon_sum, lat_sum, id_sum)", tail, 8)
	if err != nil {
		return err
	}
	for level := tilePeriodMinLevel; level <= tilePeriodMaxLevel; level++ {
		shift := 28 + 2*(incident.TileAggMaxLevel-level)
		for _, years := range []bool{true, false} {
			var curKey, curPeriod uint64
			var sum cellSum
			emit := func() error {
				g.args.Int(int64(level))
				g.args.Int(int64(curPeriod))
				g.args.Int(int64(curKey))
				sum.bind(&g.args)
				return g.rowDone()
			}
			for i := range pts {
				p := &pts[i]
				if years {
					p = &pts[byYear[i]]
				}
				m := month(p)
				period := m/12*100 + m%12 + 1 + monthPeriod
				if years {
					period = m / 12
				}
				if k := p.keyType >> shift; sum.n == 0 || k != curKey || period != curPeriod {
					if sum.n > 0 {
						if err := emit(); err != nil {
							g.full.Close()
							return err
						}
					}
					curKey, curPeriod, sum = k, period, cellSum{}
				}
				sum.add(p, a.baseID)
			}
			if sum.n > 0 {
				if err := emit(); err != nil {
					g.full.Close()
					return err
				}
			}
		}
	}
	if err := g.close(); err != nil {
		return fmt.Errorf("tile_periods: %w", err)
	}
	return nil
}

// writeDaily writes daily_stats, in its primary-key order.
func (a *bulkAgg) writeDaily(ctx context.Context, conn *sql.Conn) error {
	keys := make([]dailyKey, 0, len(a.daily))
	for k := range a.daily {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y dailyKey) int {
		// strings.Compare orders by bytes, as SQLite's BINARY collation.
		if c := strings.Compare(x.date, y.date); c != 0 {
			return c
		}
		if c := strings.Compare(x.typ, y.typ); c != 0 {
			return c
		}
		return strings.Compare(x.sub, y.sub)
	})
	err := withHandle(ctx, conn, func(h sqlitebatch.Handle) error {
		g, err := newGroupWriter(h, "daily_stats (event_date, event_type, sub_event_type, n, fatalities)", "", 5)
		if err != nil {
			return err
		}
		for _, k := range keys {
			v := a.daily[k]
			g.args.Text(k.date)
			g.args.Text(k.typ)
			g.args.Text(k.sub)
			g.args.Int(v.n)
			g.args.Int(v.fat)
			if err := g.rowDone(); err != nil {
				g.full.Close()
				return err
			}
		}
		return g.close()
	})
	if err != nil {
		return fmt.Errorf("daily_stats: %w", err)
	}
	return nil
}

// withHandle runs fn with the SQLite handle of conn (inside whatever
// transaction is open on it).
func withHandle(ctx context.Context, conn *sql.Conn, fn func(sqlitebatch.Handle) error) error {
	return conn.Raw(func(dc any) error {
		h, err := sqlitebatch.HandleOf(dc)
		if err != nil {
			return err
		}
		return fn(h)
	})
}
