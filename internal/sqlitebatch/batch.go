// Package sqlitebatch reads the rows of a query on a go-sqlite3 connection
// many at a time, straight from SQLite's C API into one Go buffer.
//
// database/sql with go-sqlite3 costs, per row, a cgo call, a Go string
// allocated for every text column, an interface value for every column and a
// conversion into the destination (database/sql's convertAssign); for an
// export of a million incidents of 21 columns that was about half of the
// process's CPU time (issue 16). Here one cgo call steps as many rows as fit
// in a buffer and copies their values into it; the caller reads them from
// the buffer and may point strings into it (the buffer is never written
// again once filled).
//
// The statement runs on the same connection, inside whatever transaction
// database/sql has open on it, so it sees that transaction's snapshot and the
// SQL functions registered on the connection.
package sqlitebatch

/*
#include <stdlib.h>
#include "batch.h"

static int sb_available(void) { return sqlite3_step != 0 && sqlite3_prepare_v2 != 0; }

static int sb_bind_text(sqlite3_stmt *s, int i, _GoString_ v) {
	// SQLITE_TRANSIENT: SQLite copies the value, Go's memory is not kept.
	// A null pointer would bind NULL: "" is text.
	const char *p = _GoStringLen(v) > 0 ? _GoStringPtr(v) : "";
	return sqlite3_bind_text(s, i, p, (int)_GoStringLen(v), (void (*)(void *))-1);
}

static int sb_bind_blob(sqlite3_stmt *s, int i, void *p, int n) {
	return sqlite3_bind_blob(s, i, p, n, (void (*)(void *))-1);
}

static int sb_prepare(sqlite3 *db, _GoString_ q, sqlite3_stmt **out) {
	return sqlite3_prepare_v2(db, _GoStringPtr(q), (int)_GoStringLen(q), out, 0);
}
*/
import "C"

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"unsafe"

	"github.com/mattn/go-sqlite3"
)

// Column types as the buffer records them (SQLite's fundamental types).
const (
	Integer = C.SQLITE_INTEGER
	Float   = C.SQLITE_FLOAT
	Text    = C.SQLITE_TEXT
	Blob    = C.SQLITE_BLOB
	Null    = C.SQLITE_NULL
)

// ErrUnavailable says the connection's SQLite handle cannot be reached (a
// go-sqlite3 whose connection no longer keeps it where this package looks, or
// not a go-sqlite3 connection): the caller reads through database/sql instead.
var ErrUnavailable = errors.New("sqlitebatch: the SQLite handle of this connection is not reachable")

// Handle is the C handle of a go-sqlite3 connection, as database/sql's
// Conn.Raw passes it (driverConn). go-sqlite3 keeps it in an unexported field;
// a test of this package fails if a go-sqlite3 release moves it.
type Handle struct {
	db *C.sqlite3
}

// HandleOf finds the SQLite handle of driverConn, a *sqlite3.SQLiteConn.
func HandleOf(driverConn any) (Handle, error) {
	c, ok := driverConn.(*sqlite3.SQLiteConn)
	if !ok || c == nil || C.sb_available() == 0 {
		return Handle{}, ErrUnavailable
	}
	f := reflect.ValueOf(c).Elem().FieldByName("db")
	if !f.IsValid() || f.Kind() != reflect.Pointer || !strings.HasSuffix(f.Type().Elem().Name(), "struct_sqlite3") {
		return Handle{}, ErrUnavailable
	}
	p := f.UnsafePointer()
	if p == nil {
		return Handle{}, ErrUnavailable
	}
	return Handle{db: (*C.sqlite3)(p)}, nil
}

// Bindable reports whether Query can bind every argument: nil, bool, ints,
// float64, string and []byte.
func Bindable(args []any) bool {
	for _, a := range args {
		switch a.(type) {
		case nil, bool, int, int32, int64, uint32, float64, string, []byte:
		default:
			return false
		}
	}
	return true
}

// Rows is a query's result read in batches; see Fill.
type Rows struct {
	h       Handle
	stmt    *C.sqlite3_stmt
	ncol    int
	pending bool // a row was stepped to but not yet written (it did not fit)
	done    bool

	// Cancellation: sqlite3_interrupt from the context's AfterFunc, which
	// Close waits for, so that it never reaches a later user of the connection.
	stop    func() bool
	stopped chan struct{}
	mu      sync.Mutex
}

// Query prepares q on h and binds args (see Bindable). The context
// interrupts the statement when it ends before Close.
func Query(ctx context.Context, h Handle, q string, args ...any) (*Rows, error) {
	if h.db == nil {
		return nil, ErrUnavailable
	}
	var stmt *C.sqlite3_stmt
	if rc := C.sb_prepare(h.db, q, &stmt); rc != C.SQLITE_OK {
		return nil, h.error(rc)
	}
	r := &Rows{h: h, stmt: stmt, ncol: int(C.sqlite3_column_count(stmt))}
	if n := int(C.sqlite3_bind_parameter_count(stmt)); n != len(args) {
		C.sqlite3_finalize(stmt)
		return nil, fmt.Errorf("sqlitebatch: %d arguments for %d parameters", len(args), n)
	}
	for i, a := range args {
		if err := r.bind(C.int(i+1), a); err != nil {
			C.sqlite3_finalize(stmt)
			return nil, err
		}
	}
	r.stopped = make(chan struct{})
	r.stop = context.AfterFunc(ctx, func() {
		defer close(r.stopped)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.stmt != nil {
			C.sqlite3_interrupt(h.db)
		}
	})
	return r, nil
}

func (r *Rows) bind(i C.int, a any) error {
	var rc C.int
	switch v := a.(type) {
	case nil:
		rc = C.sqlite3_bind_null(r.stmt, i)
	case bool:
		b := C.sqlite3_int64(0)
		if v {
			b = 1
		}
		rc = C.sqlite3_bind_int64(r.stmt, i, b)
	case int:
		rc = C.sqlite3_bind_int64(r.stmt, i, C.sqlite3_int64(v))
	case int32:
		rc = C.sqlite3_bind_int64(r.stmt, i, C.sqlite3_int64(v))
	case int64:
		rc = C.sqlite3_bind_int64(r.stmt, i, C.sqlite3_int64(v))
	case uint32:
		rc = C.sqlite3_bind_int64(r.stmt, i, C.sqlite3_int64(v))
	case float64:
		rc = C.sqlite3_bind_double(r.stmt, i, C.double(v))
	case string:
		rc = C.sb_bind_text(r.stmt, i, v)
	case []byte:
		if v == nil {
			rc = C.sqlite3_bind_null(r.stmt, i)
		} else if len(v) == 0 {
			rc = C.sb_bind_blob(r.stmt, i, nil, 0)
		} else {
			rc = C.sb_bind_blob(r.stmt, i, unsafe.Pointer(&v[0]), C.int(len(v)))
		}
	default:
		return fmt.Errorf("sqlitebatch: cannot bind %T", a)
	}
	if rc != C.SQLITE_OK {
		return r.h.error(rc)
	}
	return nil
}

// Columns is how many columns each row has.
func (r *Rows) Columns() int { return r.ncol }

// errFull: not even one row fits in the buffer.
var errFull = errors.New("sqlitebatch: the row does not fit in the buffer")

// Fill writes the next rows into buf, as many whole rows as fit, and returns
// how many bytes and rows it wrote; 0 rows and a nil error at the end. A row
// larger than buf is an error that says so (IsTooSmall); a caller then
// tries again with a larger buffer, and the row is kept for it.
func (r *Rows) Fill(buf []byte) (used, rows int, err error) {
	if r.done || r.stmt == nil {
		return 0, 0, nil
	}
	if len(buf) == 0 {
		return 0, 0, errFull
	}
	var u, n C.int
	rc := C.sb_fill(r.stmt, C.int(r.ncol), boolInt(r.pending), (*C.uchar)(unsafe.Pointer(&buf[0])), C.int(min(len(buf), math.MaxInt32)), &u, &n)
	r.pending = false
	switch rc {
	case C.SB_DONE:
		r.done = true
	case C.SB_FULL:
		r.pending = true
		if n == 0 {
			return 0, 0, errFull
		}
	default:
		r.done = true
		return int(u), int(n), r.h.error(rc)
	}
	return int(u), int(n), nil
}

// IsTooSmall reports whether Fill's error says the buffer cannot hold the
// next row.
func IsTooSmall(err error) bool { return errors.Is(err, errFull) }

func boolInt(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// Interrupt stops the statement's Fill running on another goroutine, if
// any; that Fill returns SQLITE_INTERRUPT. Only Close may follow.
func (r *Rows) Interrupt() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stmt != nil {
		C.sqlite3_interrupt(r.h.db)
	}
}

// Close finalizes the statement. It does not end the transaction the
// statement ran in.
func (r *Rows) Close() error {
	if r.stop != nil && !r.stop() {
		<-r.stopped // the interrupt ran or is running: let it finish first
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stmt == nil {
		return nil
	}
	C.sqlite3_finalize(r.stmt)
	r.stmt = nil
	return nil
}

func (h Handle) error(rc C.int) error {
	// A sqlite3.Error, so that callers' checks of codes (SQLITE_INTERRUPT,
	// SQLITE_FULL …) work as they do on database/sql's errors; its message
	// is SQLite's for the code, the connection's detail follows.
	msg := C.GoString(C.sqlite3_errmsg(h.db))
	return fmt.Errorf("%w: %s", sqlite3.Error{Code: sqlite3.ErrNo(rc & 0xff), ExtendedCode: sqlite3.ErrNoExtended(rc)}, msg)
}

// Reader reads the values of the rows Fill wrote, column after column.
type Reader struct {
	buf []byte
	off int
}

// NewReader reads buf[:used] of a Fill.
func NewReader(buf []byte) Reader { return Reader{buf: buf} }

// Value is one column's value.
type Value struct {
	Type  int
	Int   int64
	Float float64
	Bytes []byte // Text or Blob: a slice of the batch's buffer
}

// Next reads the next column's value into v; false at the end of the batch.
func (rd *Reader) Next(v *Value) bool {
	if rd.off >= len(rd.buf) {
		return false
	}
	t := int(rd.buf[rd.off])
	v.Type = t
	switch t {
	case Integer:
		v.Int = int64(binary.LittleEndian.Uint64(rd.buf[rd.off+1:]))
		rd.off += 9
	case Float:
		v.Float = math.Float64frombits(binary.LittleEndian.Uint64(rd.buf[rd.off+1:]))
		rd.off += 9
	case Null:
		rd.off++
	default:
		n := int(binary.LittleEndian.Uint32(rd.buf[rd.off+1:]))
		v.Bytes = rd.buf[rd.off+5 : rd.off+5+n : rd.off+5+n]
		rd.off += 5 + n
	}
	return true
}
