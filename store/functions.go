package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/paulmach/orb"

	"incidentmap/cql2"
	"incidentmap/internal/cqlsql"
)

// geometries holds the prepared geometry literals of the queries running,
// by content id, so that relate (called once per candidate row) finds a
// parsed, indexed geometry instead of reading it from an argument. A query
// pins its geometries for as long as it runs; the last unpin drops them, so
// the table holds only what running queries use.
type geometries struct {
	mu   sync.RWMutex
	byID map[int64]*pinnedGeometry
}

type pinnedGeometry struct {
	*preparedGeometry
	refs int
}

// pin registers the geometry literals of e and returns the function that
// releases them. Every store method that runs a Filter's SQL pins it first.
func (g *geometries) pin(e cql2.Expr) (unpin func()) {
	if e == nil {
		return func() {}
	}
	list := cqlGeometries(e)
	if len(list) == 0 {
		return func() {}
	}
	g.mu.Lock()
	if g.byID == nil {
		g.byID = map[int64]*pinnedGeometry{}
	}
	for _, pg := range list {
		if p, ok := g.byID[pg.id]; ok {
			p.refs++
			continue
		}
		g.byID[pg.id] = &pinnedGeometry{preparedGeometry: pg, refs: 1}
	}
	g.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			for _, pg := range list {
				if p := g.byID[pg.id]; p != nil {
					if p.refs--; p.refs == 0 {
						delete(g.byID, pg.id)
					}
				}
			}
		})
	}
}

// relate is the SQL function im_relate(id, op, lon, lat): whether the point
// stands in the spatial relation cql2.SpatialOps[op] to geometry id.
func (g *geometries) relate(id, op int64, lon, lat float64) (bool, error) {
	g.mu.RLock()
	p := g.byID[id]
	g.mu.RUnlock()
	if p == nil {
		return false, fmt.Errorf("geometry %d of the filter is not pinned", id)
	}
	if op < 0 || int(op) >= len(cql2.SpatialOps) {
		return false, fmt.Errorf("spatial function %d unknown", op)
	}
	x, y := lon, lat
	if p.crs != nil {
		x, y = p.crs.Forward(lon, lat)
	}
	r, _ := p.prep.Relate(cql2.SpatialOps[op], orb.Point{x, y})
	return r, nil
}

// connector opens connections of go-sqlite3 with the store's SQL functions
// registered on each, without registering a driver name process-wide.
type connector struct {
	drv *sqlite3.SQLiteDriver
	dsn string
}

// Connect implements driver.Connector.
func (c connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }

// Driver implements driver.Connector.
func (c connector) Driver() driver.Driver { return c.drv }

// openDB opens a database/sql pool on dsn whose connections know the
// functions CQL2 filters translate to.
func (s *SQLite) openDB(dsn string) *sql.DB {
	drv := &sqlite3.SQLiteDriver{ConnectHook: func(conn *sqlite3.SQLiteConn) error {
		for _, f := range []struct {
			name string
			impl any
		}{
			{"im_relate", s.geoms.relate},
			{"im_casei", cqlsql.CaseFold},
			{"im_accenti", cqlsql.AccentFold},
			{"im_pow", pow},
			{"im_secs", seconds},
			{"im_like", like},
		} {
			if err := conn.RegisterFunc(f.name, f.impl, true); err != nil {
				return fmt.Errorf("register SQL function %s: %w", f.name, err)
			}
		}
		if _, err := conn.Exec(walPragmas, nil); err != nil {
			return fmt.Errorf("WAL settings: %w", err)
		}
		return nil
	}}
	return sql.OpenDB(connector{drv: drv, dsn: dsn})
}

// pow is the SQL function im_pow(x, y): x to the power y (CQL2's ^), NULL
// when either is NULL.
func pow(x, y any) any {
	a, aok := toFloat(x)
	b, bok := toFloat(y)
	if !aok || !bok {
		return nil
	}
	return math.Pow(a, b)
}

func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

// seconds is the SQL function im_secs(text): a stored date (YYYY-MM-DD, its
// midnight) or RFC 3339 date-time as seconds since 1970 with its fraction to
// the microsecond (SQLite's own unixepoch keeps milliseconds only); NULL for
// NULL or text that is neither.
func seconds(v any) any {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return nil
	}
	layout := time.RFC3339Nano
	if len(s) == len("2006-01-02") {
		layout = "2006-01-02"
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return nil
	}
	return cqlsql.Secs(t)
}

// like is the SQL function im_like(text, pattern): CQL2's LIKE (case-
// sensitive; % any run, _ one character, \ escapes) for a pattern that is not
// a literal; NULL when either is NULL.
func like(text, pattern any) any {
	s, ok1 := text.(string)
	p, ok2 := pattern.(string)
	if !ok1 || !ok2 {
		return nil
	}
	return globMatch(likeToGlob(p), s)
}

// globMatch reports whether s matches a pattern as likeToGlob writes it:
// * any run, ? one character, [c] the character c.
func globMatch(pat, s string) bool {
	p, str := []rune(pat), []rune(s)
	// Iterative matching with one backtrack point for the last *.
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(str) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
			continue
		case pi < len(p) && p[pi] == '?':
			pi++
			si++
			continue
		case pi+2 < len(p) && p[pi] == '[' && p[pi+2] == ']' && p[pi+1] == str[si]:
			pi += 3
			si++
			continue
		case pi < len(p) && p[pi] != '[' && p[pi] == str[si]:
			pi++
			si++
			continue
		}
		if star < 0 {
			return false
		}
		pi, mark = star+1, mark+1
		si = mark
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
