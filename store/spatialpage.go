package store

import (
	"crypto/sha256"
	"reflect"
	"slices"
	"strings"

	"incidentmap/incident"
)

// A page of a bbox is read in spatial order (see spatialOrder): a merge of
// the cell index's range scans. Two things made its cost grow with the data
// instead of with the page (issue 16: 21 / 43 / 84 ms for the same page of
// 1,000 at 100k / 1M / 10M):
//
//   - every row before the offset was read from the table and dropped: the
//     page at offset 20,000 read 21,000 table rows, scattered over the file
//     (the spatial order is not the id order), to return 1,000;
//   - a client paging through a dense bbox goes deeper the more the bbox
//     holds.
//
// So a page whose conditions the cell index holds (bbox, dates, fatalities,
// ids) finds its keys in the index alone, skipping the offset there, and
// reads only its own rows from the table (keysFirst); and where an earlier
// page of the same filter ended is remembered per data version (positions),
// so that the next page seeks to the key after it instead of skipping the
// offset at all. Pages of the whole table in id order keep positions too
// (the id where a page ended): a client paging through every incident by
// offset made SQLite step over every row before the offset.

// spatialKey is a row's place in the spatial order: the cell index's key
// (cell, lon, lat, event_date, fatalities) and the id after it. The order is
// total, so "every row after this key" is exactly "every row after this
// row".
type spatialKey struct {
	cell       int64
	lon, lat   float64
	date       string
	fatalities int64
	id         int64
}

// keyOf is the spatial key of inc, whose cell key is cell.
func keyOf(inc *incident.Incident, cell int64) spatialKey {
	return spatialKey{cell: cell, lon: inc.Lon, lat: inc.Lat, date: inc.EventDate,
		fatalities: int64(inc.Fatalities), id: inc.ID}
}

// afterKey is the condition of a cell range arm that keeps the rows after
// k: a row value compared in the index's order.
const afterKey = "(i.cell, i.lon, i.lat, i.event_date, i.fatalities, i.id) > (?, ?, ?, ?, ?, ?)"

// position is where a page of a filter may start: the rows after key are
// the rows from offset on. In id order only the key's id counts.
type position struct {
	offset int
	key    spatialKey
	added  uint64 // when it was kept (the cache keeps the latest)
}

// positionsPerQuery bounds the positions kept per filter (the filters kept
// are bounded by the bytes of the count cache they share). Each page leaves
// one or two where it ended, which its client's next page asks for; the
// latest are kept, so that many clients paging through one filter at once
// each find theirs.
const positionsPerQuery = 128

// positionKey is the position cache's key of f's pages in spatial order,
// or in id order: a digest of the order and of what f matches (its count
// query and arguments), which fix the rows of every page.
func positionKey(f *sqlFilter, spatial bool) string {
	order := "id\x00"
	if spatial {
		order = "spatial\x00"
	}
	sum := sha256.Sum256([]byte(order + countKey(f)))
	return string(sum[:16])
}

// idOrder says whether f's pages are the table's rows in id order, which an
// id after the last row resumes: no filter, no sort. (A filtered page in id
// order is planned from its count, walking ids or an index, and may read
// the rest of the page after a bounded walk: see walkIDs.)
func (f *sqlFilter) idOrder() bool {
	return len(f.Sort) == 0 && f.bound == nil && len(f.conds) == 0 && f.fts == ""
}

// startAt is the position a spatial page of f at offset may start from in
// data version: the deepest known at or before offset; ok is false when
// there is none (the page starts at the first row).
func (s *SQLite) startAt(version int64, key string, offset int) (position, bool) {
	ps, ok := s.positions.get(version, key)
	if !ok {
		return position{}, false
	}
	i, found := slices.BinarySearchFunc(ps, offset, func(p position, off int) int { return p.offset - off })
	if found {
		return ps[i], true
	}
	if i == 0 {
		return position{}, false
	}
	return ps[i-1], true
}

// remember keeps the positions a page read (see startAt). Their strings are
// copied: a row's point into its batch's buffer, which must not stay alive.
func (s *SQLite) remember(version int64, key string, found ...position) {
	s.positions.update(version, key, func(old []position) []position {
		ps := slices.Clone(old)
		for _, p := range found {
			if p.offset <= 0 {
				continue
			}
			p.key.date = strings.Clone(p.key.date)
			p.added = s.positionClock.Add(1)
			i, ok := slices.BinarySearchFunc(ps, p.offset, func(q position, off int) int { return q.offset - off })
			if ok {
				ps[i] = p
				continue
			}
			ps = slices.Insert(ps, i, p)
		}
		for len(ps) > positionsPerQuery {
			oldest := 0
			for i := range ps {
				if ps[i].added < ps[oldest].added {
					oldest = i
				}
			}
			ps = slices.Delete(ps, oldest, oldest+1)
		}
		return ps
	})
}

// keysFirst says whether the cell index (cell, lon, lat, event_date,
// fatalities, and the row id) holds every condition of f, so that a page's
// keys, and the rows an offset skips, come from the index alone. Any other
// condition needs the table row of every candidate anyway.
func (f *sqlFilter) keysFirst() bool {
	if f.bound == nil || f.Limit <= 0 {
		return false
	}
	rest := f.Filter
	rest.BBox, rest.Interval, rest.MinFatalities, rest.MaxFatalities, rest.IDs = nil, incident.Interval{}, nil, nil, nil
	rest.Limit, rest.Offset, rest.MayDeferCount, rest.ByID = 0, 0, false, false
	return reflect.DeepEqual(rest, incident.Filter{})
}

// spatialArms is one SELECT of cols per cell key range of f's bound, each
// with all of f's conditions, joined by UNION ALL (see rangeUnion); with
// after, only the rows after that key: the ranges before its cell are left
// out and the one holding it starts there.
func (f *sqlFilter) spatialArms(cols string, after *spatialKey) (string, []any) {
	conds, cargs := f.conditions()
	rest := ""
	if len(conds) > 0 {
		rest = " AND " + strings.Join(conds, " AND ")
	}
	var arms []string
	var args []any
	for _, r := range bboxCellRanges(*f.bound) {
		lo, cond := r.Lo, ""
		var kargs []any
		if after != nil {
			if r.Hi < after.cell {
				continue
			}
			if lo <= after.cell {
				// The seek starts at the key's cell (a lower bound of the
				// range itself, which SQLite seeks to); the row value drops
				// the rows of that cell up to the key.
				lo, cond = after.cell, " AND "+afterKey
				kargs = []any{after.cell, after.lon, after.lat, after.date, after.fatalities, after.id}
			}
		}
		arms = append(arms, "SELECT "+cols+" FROM incidents i INDEXED BY incidents_cell WHERE i.cell BETWEEN ? AND ?"+cond+rest)
		args = append(append(append(args, lo, r.Hi), kargs...), cargs...)
	}
	if len(arms) == 0 {
		// Nothing is after the key.
		return "SELECT " + cols + " FROM incidents i WHERE 0", nil
	}
	return strings.Join(arms, " UNION ALL "), args
}

// spatialPageQuery is the page of f in spatial order, offset rows after
// start (the first row when start is nil), and its arguments. Its rows are
// incidentColumns and the cell key.
func (f *sqlFilter) spatialPageQuery(start *spatialKey, offset int) (string, []any) {
	limit := int64(f.Limit)
	if limit <= 0 {
		limit = -1
	}
	if f.keysFirst() {
		// The keys in order from the index alone, the offset skipped there;
		// then the page's rows by id in that order. The outer ORDER BY is
		// the subquery's (SQLite keeps it without sorting: the guard in
		// plan_test checks).
		keys, args := f.spatialArms("i.id, i.cell, i.lon, i.lat, i.event_date, i.fatalities", start)
		q := "SELECT " + incidentColumns + ", k.cell FROM (" + keys +
			" ORDER BY 2, 3, 4, 5, 6, 1 LIMIT ? OFFSET ?) k CROSS JOIN incidents i ON i.id = k.id" +
			" ORDER BY k.cell, k.lon, k.lat, k.event_date, k.fatalities, k.id"
		return q, append(args, limit, offset)
	}
	if f.fts != "" && !f.ftsProbe {
		// The set of every text match is built once, for the merged
		// stream of keys, where each range's arm built its own (sixteen
		// sets of 700,000 ids for q=drone in a country's bbox at ten
		// million incidents).
		rest := *f
		rest.fts = ""
		keys, args := rest.spatialArms("i.id, i.cell, i.lon, i.lat, i.event_date, i.fatalities", start)
		q := "SELECT " + incidentColumns + ", k.cell FROM (" + keys +
			" ORDER BY 2, 3, 4, 5, 6, 1 LIMIT -1) k CROSS JOIN incidents i ON i.id = k.id" +
			" WHERE k.id IN (SELECT rowid FROM incidents_fts WHERE incidents_fts MATCH ?)" +
			" ORDER BY k.cell, k.lon, k.lat, k.event_date, k.fatalities, k.id LIMIT ? OFFSET ?"
		return q, append(args, f.fts, limit, offset)
	}
	q, args := f.spatialArms(incidentColumns+", i.cell", start)
	q += spatialOrder
	if f.Limit > 0 || offset > 0 {
		q += " LIMIT ? OFFSET ?"
		args = append(args, limit, offset)
	}
	return q, args
}
