package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"unsafe"

	"incidentmap/internal/sqlitebatch"
)

// Incident rows are read many at a time straight from SQLite into a buffer
// (package sqlitebatch) instead of one database/sql Scan per row: an export
// of a million rows spent about half its CPU converting columns (a Go string
// per text column, an interface per column, database/sql's conversions). The
// strings of an Incident point into the batch's buffer, which is never
// written again: a new buffer is allocated for every batch.

// First and later batch sizes: a page of 100 fits the first; a long read
// (an export) takes bigger batches, fewer calls into C.
const (
	firstBatch = 64 << 10
	laterBatch = 256 << 10
	// maxBatch bounds the growth for one very large row (a row is at most
	// ~1 MiB of text: incident.MaxRowBytes and the field limits).
	maxBatch = 64 << 20
	// Pages of up to maxPageRows rows are read in one batch of at most
	// maxPageBatch bytes, without read-ahead (see openBatch).
	maxPageRows  = 1001
	maxPageBatch = 1 << 20
)

// batchRows is a Cursor's source when it reads through sqlitebatch. After
// its first batch, a goroutine reads the next batches while the caller
// encodes the current one (a long read, such as an export, then uses both
// cores: SQLite on one, the encoder on the other); it runs at most
// prefetchDepth batches ahead.
type batchRows struct {
	ctx  context.Context
	conn *sql.Conn
	rows *sqlitebatch.Rows
	size int // the next buffer's size
	rd   sqlitebatch.Reader
	left int // rows of the current batch not yet read
	done bool
	sync bool // no read-ahead: every batch is read when it is needed

	ahead chan batch     // batches the prefetcher read; closed after the last
	quit  chan struct{}  // closed by close: the prefetcher stops
	wg    sync.WaitGroup // the prefetcher
}

// batch is one Fill's result.
type batch struct {
	buf  []byte
	rows int
	err  error
}

const prefetchDepth = 2

// pageRowBytes is a generous guess of a row's size in a batch, to size the
// one batch a page is read in.
const pageRowBytes = 1 << 10

// openBatch runs q on conn (inside the transaction open on it) through
// sqlitebatch; nil without an error when this connection or these arguments
// cannot go that way, and the caller uses database/sql. A query of at most
// limit rows (a page; 0: no limit) is read in one batch sized for it when
// its rows are of common sizes, and without reading ahead: for a page of 100
// the read-ahead goroutine, its hand-overs and a second, larger buffer cost
// more than the page's SQLite work.
func openBatch(ctx context.Context, conn *sql.Conn, q string, args []any, limit int) (*batchRows, error) {
	if !sqlitebatch.Bindable(args) {
		return nil, nil
	}
	b := &batchRows{ctx: ctx, conn: conn, size: firstBatch}
	if limit > 0 && limit <= maxPageRows {
		b.size, b.sync = min(max(limit*pageRowBytes, firstBatch), maxPageBatch), true
	}
	err := conn.Raw(func(dc any) error {
		h, err := sqlitebatch.HandleOf(dc)
		if err != nil {
			return err
		}
		b.rows, err = sqlitebatch.Query(ctx, h, q, args...)
		return err
	})
	if errors.Is(err, sqlitebatch.ErrUnavailable) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// read fills one new buffer with the next rows, growing it for a row that
// does not fit; 0 rows at the end.
func (b *batchRows) read() batch {
	for {
		buf := make([]byte, b.size)
		var used, n int
		var err error
		// Inside Raw, database/sql holds the connection's lock: nothing else
		// (a rollback on cancellation) runs on it meanwhile.
		rerr := b.conn.Raw(func(any) error {
			used, n, err = b.rows.Fill(buf)
			return nil
		})
		if rerr != nil {
			if errors.Is(rerr, sql.ErrConnDone) && b.ctx.Err() != nil {
				// database/sql discards the connection when the context ends.
				rerr = b.ctx.Err()
			}
			return batch{err: rerr}
		}
		if sqlitebatch.IsTooSmall(err) && b.size < maxBatch {
			b.size *= 2
			continue
		}
		b.size = max(b.size, laterBatch)
		return batch{buf: buf[:used], rows: n, err: err}
	}
}

// fill moves to the next batch; false at the end or on an error (err).
func (b *batchRows) fill() (bool, error) {
	if b.done {
		return false, nil
	}
	var next batch
	if b.ahead == nil {
		next = b.read()
		if next.err == nil && next.rows > 0 && !b.sync {
			b.startPrefetch()
		}
	} else {
		var ok bool
		if next, ok = <-b.ahead; !ok {
			b.done = true
			return false, nil
		}
	}
	if next.err != nil || next.rows == 0 {
		b.done = true
		return false, next.err
	}
	b.rd = sqlitebatch.NewReader(next.buf)
	b.left = next.rows
	return true, nil
}

// startPrefetch starts the goroutine that reads ahead.
func (b *batchRows) startPrefetch() {
	b.ahead = make(chan batch, prefetchDepth-1)
	b.quit = make(chan struct{})
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer close(b.ahead)
		for {
			next := b.read()
			select {
			case b.ahead <- next:
			case <-b.quit:
				return
			}
			if next.err != nil || next.rows == 0 {
				return
			}
		}
	}()
}

// close stops the prefetcher and finalizes the statement (the transaction
// stays the cursor's).
func (b *batchRows) close() error {
	if b.quit != nil {
		close(b.quit)
		// A read in flight would finish its batch (long, for a filter that
		// matches few of many rows) for nobody.
		b.rows.Interrupt()
		b.wg.Wait()
	}
	err := b.conn.Raw(func(any) error { return b.rows.Close() })
	if errors.Is(err, sql.ErrConnDone) {
		// database/sql closed the connection (its context ended); SQLite
		// keeps it until its last statement is finalized, which is this.
		return b.rows.Close()
	}
	return err
}

// scan reads the current row into dest (incident.ScanTargets and the cell
// key after them in spatial order), with database/sql's conversions between
// SQLite's types and the fields'.
func (b *batchRows) scan(dest []any) error {
	b.left--
	s := colScanner{rd: &b.rd}
	for i, d := range dest {
		switch p := d.(type) {
		case *string:
			*p = s.str(i)
		case *int64:
			*p = s.int64(i)
		case *int:
			*p = int(s.int64(i))
		case *float64:
			*p = s.float(i)
		default:
			return fmt.Errorf("column %d: cannot scan into %T", i, d)
		}
	}
	return s.err
}

// colScanner converts the columns of one row, keeping the first error.
type colScanner struct {
	rd  *sqlitebatch.Reader
	v   sqlitebatch.Value
	err error
}

func (s *colScanner) next(col int) bool {
	if s.err != nil {
		return false
	}
	if !s.rd.Next(&s.v) {
		s.err = fmt.Errorf("column %d: the row ended early", col)
		return false
	}
	if s.v.Type == sqlitebatch.Null {
		s.err = fmt.Errorf("column %d: NULL", col)
		return false
	}
	return true
}

func (s *colScanner) str(col int) string {
	if !s.next(col) {
		return ""
	}
	switch s.v.Type {
	case sqlitebatch.Integer:
		return strconv.FormatInt(s.v.Int, 10)
	case sqlitebatch.Float:
		return strconv.FormatFloat(s.v.Float, 'g', -1, 64)
	}
	if len(s.v.Bytes) == 0 {
		return ""
	}
	return unsafe.String(&s.v.Bytes[0], len(s.v.Bytes))
}

func (s *colScanner) int64(col int) int64 {
	if !s.next(col) {
		return 0
	}
	switch s.v.Type {
	case sqlitebatch.Integer:
		return s.v.Int
	case sqlitebatch.Float:
		n, err := strconv.ParseInt(strconv.FormatFloat(s.v.Float, 'g', -1, 64), 10, 64)
		if err != nil {
			s.err = fmt.Errorf("column %d: %w", col, err)
		}
		return n
	}
	n, err := strconv.ParseInt(string(s.v.Bytes), 10, 64)
	if err != nil {
		s.err = fmt.Errorf("column %d: %w", col, err)
	}
	return n
}

func (s *colScanner) float(col int) float64 {
	if !s.next(col) {
		return 0
	}
	switch s.v.Type {
	case sqlitebatch.Float:
		return s.v.Float
	case sqlitebatch.Integer:
		return float64(s.v.Int)
	}
	f, err := strconv.ParseFloat(string(s.v.Bytes), 64)
	if err != nil {
		s.err = fmt.Errorf("column %d: %w", col, err)
	}
	return f
}
