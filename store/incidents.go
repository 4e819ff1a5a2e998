package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"incidentmap/geo"
)

// Filter selects incidents. Zero fields do not filter; every value reaches SQL
// as a bound parameter.
type Filter struct {
	BBox          *orb.Bound   // points inside or on the edge
	Interval      geo.Interval // event_date overlaps it
	EventTypes    []string     // any of, exact
	SubEventTypes []string     // any of, exact
	Regions       []string     // any of, matched against region or admin1, case-insensitive; ISO 3166-2 codes too
	MinFatalities *int         // at least
	MaxFatalities *int         // at most
	Conditions    []Condition  // more predicates from trusted translators (CQL2, full text)
	Text          string       // full-text query in FTS5 syntax (see FullTextQuery); "" for none
	ByRelevance   bool         // with Text: best matches first (bm25), then by id
	Limit         int          // 0 means all
	Offset        int
}

// Condition is a SQL boolean expression over the incidents columns (aliased
// "i") with ? placeholders, and the values for them. Only code that builds its
// SQL from a closed vocabulary (never from input text) may make one.
type Condition struct {
	SQL  string
	Args []any
}

// incidentColumns is the column list every incident query reads, in scan order.
const incidentColumns = `i.id, i.event_id, i.event_date, i.time_precision, i.event_type, i.sub_event_type,
	i.actor1, i.actor2, i.admin1, i.admin2, i.location, i.region, i.geo_precision, i.fatalities,
	i.source, i.source_url, i.notes, i.tags, i.lon, i.lat, i.updated_at`

func scanIncident(sc interface{ Scan(...any) error }, inc *geo.Incident) error {
	return sc.Scan(&inc.ID, &inc.EventID, &inc.EventDate, &inc.TimePrecision, &inc.EventType,
		&inc.SubEventType, &inc.Actor1, &inc.Actor2, &inc.Admin1, &inc.Admin2, &inc.Location,
		&inc.Region, &inc.GeoPrecision, &inc.Fatalities, &inc.Source, &inc.SourceURL, &inc.Notes,
		&inc.Tags, &inc.Lon, &inc.Lat, &inc.UpdatedAt)
}

// where builds the WHERE clause of f and its arguments.
func (f *Filter) where() (string, []any) {
	var conds []string
	var args []any
	add := func(sql string, a ...any) {
		conds = append(conds, sql)
		args = append(args, a...)
	}
	if b := f.BBox; b != nil {
		// The R*Tree stores float32 rounded outwards, so it narrows the candidates
		// and the exact comparison on lon/lat decides.
		add(`i.id IN (SELECT id FROM incidents_rtree WHERE max_lon >= ? AND min_lon <= ? AND max_lat >= ? AND min_lat <= ?)
			AND i.lon BETWEEN ? AND ? AND i.lat BETWEEN ? AND ?`,
			b.Min[0], b.Max[0], b.Min[1], b.Max[1], b.Min[0], b.Max[0], b.Min[1], b.Max[1])
	}
	if d := f.Interval.StartDate(); d != "" {
		add("i.event_date >= ?", d)
	}
	if d := f.Interval.EndDate(); d != "" {
		add("i.event_date <= ?", d)
	}
	inList := func(expr string, vals []string) {
		if len(vals) == 0 {
			return
		}
		ph := strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")
		a := make([]any, len(vals))
		for i, v := range vals {
			a[i] = v
		}
		add(expr+" IN ("+ph+")", a...)
	}
	inList("i.event_type", f.EventTypes)
	inList("i.sub_event_type", f.SubEventTypes)
	if len(f.Regions) > 0 {
		ph := strings.TrimSuffix(strings.Repeat("?,", len(f.Regions)), ",")
		a := make([]any, 0, 2*len(f.Regions))
		for _, v := range f.Regions {
			// An ISO 3166-2 code (IQ-AN) stands for its governorate's name.
			if name, ok := geo.NameOfISO(v); ok {
				v = name
			}
			a = append(a, strings.ToLower(v))
		}
		a = append(a, a...)
		add("(lower(i.region) IN ("+ph+") OR lower(i.admin1) IN ("+ph+"))", a...)
	}
	if f.MinFatalities != nil {
		add("i.fatalities >= ?", *f.MinFatalities)
	}
	if f.MaxFatalities != nil {
		add("i.fatalities <= ?", *f.MaxFatalities)
	}
	if f.Text != "" {
		add("i.id IN (SELECT rowid FROM incidents_fts WHERE incidents_fts MATCH ?)", f.Text)
	}
	for _, c := range f.Conditions {
		add("("+c.SQL+")", c.Args...)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Cursor walks the incidents of one query inside one read snapshot. Call Next
// until it returns false, then Err, and always Close.
type Cursor struct {
	// Matched is the number of incidents the filter matches, ignoring limit and
	// offset, from the same snapshot as the rows; -1 when it was not counted.
	Matched int64
	tx      *sql.Tx
	rows    *sql.Rows
	cur     geo.Incident
	err     error
}

// Next moves to the next incident.
func (c *Cursor) Next() bool {
	if c.err != nil || !c.rows.Next() {
		return false
	}
	if err := scanIncident(c.rows, &c.cur); err != nil {
		c.err = fmt.Errorf("read incident: %w", err)
		return false
	}
	return true
}

// Incident is the current row; it is overwritten by the next call to Next.
func (c *Cursor) Incident() *geo.Incident { return &c.cur }

// Err is the first error met while iterating.
func (c *Cursor) Err() error {
	if c.err != nil {
		return c.err
	}
	return c.rows.Err()
}

// Close releases the rows and the snapshot.
func (c *Cursor) Close() error {
	err := c.rows.Close()
	return errors.Join(err, c.tx.Rollback())
}

// Incidents starts a query for the incidents f selects, ordered by id. With
// count, Matched holds the total matching count from the same snapshot.
func (s *SQLite) Incidents(ctx context.Context, f Filter, count bool) (*Cursor, error) {
	tx, err := s.ro.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin read: %w", err)
	}
	where, args := f.where()
	c := &Cursor{Matched: -1, tx: tx}
	if count {
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM incidents i"+where, args...).Scan(&c.Matched); err != nil {
			tx.Rollback()
			return nil, fmt.Errorf("count incidents: %w", err)
		}
	}
	q := "SELECT " + incidentColumns + " FROM incidents i" + where + " ORDER BY i.id"
	if f.Text != "" && f.ByRelevance {
		// Joining the match (with its bm25 rank) once is far cheaper than a rank
		// lookup per row; the join also does the text filtering.
		rest := f
		rest.Text = ""
		w, a := rest.where()
		q = "SELECT " + incidentColumns + ` FROM incidents i
			JOIN (SELECT rowid AS fid, rank AS fts_rank FROM incidents_fts WHERE incidents_fts MATCH ?) m ON m.fid = i.id` +
			w + " ORDER BY m.fts_rank, i.id"
		args = append([]any{f.Text}, a...)
	}
	if f.Limit > 0 || f.Offset > 0 {
		limit := int64(f.Limit)
		if limit <= 0 {
			limit = -1
		}
		q += " LIMIT ? OFFSET ?"
		args = append(args, limit, f.Offset)
	}
	c.rows, err = tx.QueryContext(ctx, q, args...)
	if err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("query incidents: %w", err)
	}
	return c, nil
}

// Count returns how many incidents f matches (limit and offset ignored).
func (s *SQLite) Count(ctx context.Context, f Filter) (int64, error) {
	where, args := f.where()
	var n int64
	if err := s.ro.QueryRowContext(ctx, "SELECT count(*) FROM incidents i"+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count incidents: %w", err)
	}
	return n, nil
}

// Incident returns the incident with the feature id, or ErrNotFound.
func (s *SQLite) Incident(ctx context.Context, id int64) (geo.Incident, error) {
	var inc geo.Incident
	row := s.ro.QueryRowContext(ctx, "SELECT "+incidentColumns+" FROM incidents i WHERE i.id = ?", id)
	if err := scanIncident(row, &inc); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return inc, fmt.Errorf("incident %d: %w", id, ErrNotFound)
		}
		return inc, fmt.Errorf("incident %d: %w", id, err)
	}
	return inc, nil
}

// UpsertResult counts what an upsert did.
type UpsertResult struct {
	Inserted  int
	Updated   int
	Unchanged int
}

// upsertSQL inserts an incident or, when its event_id exists, updates the row
// only if some field differs, so that loading the same data twice writes nothing
// and keeps updated_at.
const upsertSQL = `INSERT INTO incidents (id, event_id, event_date, time_precision, event_type, sub_event_type,
	actor1, actor2, admin1, admin2, location, region, geo_precision, fatalities,
	source, source_url, notes, tags, lon, lat, updated_at)
VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
ON CONFLICT (event_id) DO UPDATE SET
	event_date = excluded.event_date, time_precision = excluded.time_precision,
	event_type = excluded.event_type, sub_event_type = excluded.sub_event_type,
	actor1 = excluded.actor1, actor2 = excluded.actor2, admin1 = excluded.admin1,
	admin2 = excluded.admin2, location = excluded.location, region = excluded.region,
	geo_precision = excluded.geo_precision, fatalities = excluded.fatalities,
	source = excluded.source, source_url = excluded.source_url, notes = excluded.notes,
	tags = excluded.tags, lon = excluded.lon, lat = excluded.lat, updated_at = excluded.updated_at
WHERE (incidents.event_date, incidents.time_precision, incidents.event_type, incidents.sub_event_type,
	incidents.actor1, incidents.actor2, incidents.admin1, incidents.admin2, incidents.location,
	incidents.region, incidents.geo_precision, incidents.fatalities, incidents.source,
	incidents.source_url, incidents.notes, incidents.tags, incidents.lon, incidents.lat)
	IS NOT (excluded.event_date, excluded.time_precision, excluded.event_type, excluded.sub_event_type,
	excluded.actor1, excluded.actor2, excluded.admin1, excluded.admin2, excluded.location,
	excluded.region, excluded.geo_precision, excluded.fatalities, excluded.source,
	excluded.source_url, excluded.notes, excluded.tags, excluded.lon, excluded.lat)
RETURNING id`

// Upsert validates every incident, then writes them all in one transaction,
// keyed by event_id: either every row is written or none is.
func (s *SQLite) Upsert(ctx context.Context, incs []geo.Incident) (UpsertResult, error) {
	var res UpsertResult
	for i := range incs {
		incs[i].Normalize()
		s.AssignRegion(&incs[i])
		if err := incs[i].Validate(); err != nil {
			return res, fmt.Errorf("incident %d (%s): %w", i+1, incs[i].EventID, err)
		}
	}
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = upsertTx(ctx, tx, incs)
		return err
	})
	return res, err
}

// WriteTx runs fn in one write transaction, committed when fn returns nil and
// rolled back otherwise.
func (s *SQLite) WriteTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin write: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func upsertTx(ctx context.Context, tx *sql.Tx, incs []geo.Incident) (UpsertResult, error) {
	var res UpsertResult
	exists, err := tx.PrepareContext(ctx, "SELECT 1 FROM incidents WHERE event_id = ?")
	if err != nil {
		return res, fmt.Errorf("prepare: %w", err)
	}
	defer exists.Close()
	ins, err := tx.PrepareContext(ctx, upsertSQL)
	if err != nil {
		return res, fmt.Errorf("prepare upsert: %w", err)
	}
	defer ins.Close()
	now := time.Now().UTC().Format(time.RFC3339)
	next, err := nextIncidentID(ctx, tx)
	if err != nil {
		return res, err
	}
	for i := range incs {
		inc := &incs[i]
		var one int
		existed := true
		if err := exists.QueryRowContext(ctx, inc.EventID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			existed = false
		} else if err != nil {
			return res, fmt.Errorf("incident %d (%s): %w", i+1, inc.EventID, err)
		}
		// A new row gets an id no incident ever had (see nextIncidentID); an
		// existing event_id keeps its row's id.
		var newID any
		if !existed {
			newID = next
		}
		var id int64
		err := ins.QueryRowContext(ctx, newID, inc.EventID, inc.EventDate, inc.TimePrecision, inc.EventType,
			inc.SubEventType, inc.Actor1, inc.Actor2, inc.Admin1, inc.Admin2, inc.Location, inc.Region,
			inc.GeoPrecision, inc.Fatalities, inc.Source, inc.SourceURL, inc.Notes, inc.Tags,
			inc.Lon, inc.Lat, now).Scan(&id)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			res.Unchanged++ // the conflict's WHERE found nothing to change
		case err != nil:
			return res, fmt.Errorf("incident %d (%s): %w", i+1, inc.EventID, err)
		case existed:
			res.Updated++
			inc.ID = id
		default:
			res.Inserted++
			inc.ID = id
			next++
		}
	}
	return res, nil
}
