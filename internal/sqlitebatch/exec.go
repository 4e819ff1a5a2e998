package sqlitebatch

/*
#include "batch.h"

static int sb_prepare_exec(sqlite3 *db, _GoString_ q, sqlite3_stmt **out) {
	return sqlite3_prepare_v2(db, _GoStringPtr(q), (int)_GoStringLen(q), out, 0);
}
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// Stmt is a statement run once per row of Args, many rows a cgo call: a
// bulk load writes millions of rows, and database/sql with go-sqlite3 costs
// per row a statement execution through the driver and per value an
// interface conversion and a copy of each text.
type Stmt struct {
	h    Handle
	stmt *C.sqlite3_stmt
	ncol int
}

// Prepare prepares q (of any parameters; RETURNING rows are read and
// dropped) on h, inside whatever transaction is open on it.
func Prepare(h Handle, q string) (*Stmt, error) {
	if h.db == nil {
		return nil, ErrUnavailable
	}
	var stmt *C.sqlite3_stmt
	if rc := C.sb_prepare_exec(h.db, q, &stmt); rc != C.SQLITE_OK {
		return nil, h.error(rc)
	}
	return &Stmt{h: h, stmt: stmt, ncol: int(C.sqlite3_bind_parameter_count(stmt))}, nil
}

// Params is how many values each row binds.
func (s *Stmt) Params() int { return s.ncol }

// Exec runs the statement once for each whole row of a's values (Params
// values a row), in order, and removes them from a; values of a last, partial
// row stay for a later Exec (of this statement, or of another with fewer
// parameters). It returns how many rows ran; on an error, the row at that
// index failed (SQLite undid its own changes), the rows before it stay
// written, and a is left as it was.
func (s *Stmt) Exec(a *Args) (int, error) {
	if s.ncol == 0 {
		return 0, errors.New("sqlitebatch: Exec of a statement without parameters")
	}
	rows := a.vals / s.ncol
	if rows == 0 {
		return 0, nil
	}
	if len(a.buf) > math.MaxInt32 {
		return 0, fmt.Errorf("sqlitebatch: a batch of %d bytes is too large", len(a.buf))
	}
	var used, done C.int
	rc := C.sb_exec(s.stmt, C.int(s.ncol), C.int(rows), (*C.uchar)(unsafe.Pointer(&a.buf[0])), &used, &done)
	if rc != C.SQLITE_OK {
		return int(done), s.h.error(rc)
	}
	a.buf = a.buf[:copy(a.buf, a.buf[used:])]
	a.vals -= rows * s.ncol
	return rows, nil
}

// Close finalizes the statement.
func (s *Stmt) Close() {
	if s.stmt != nil {
		C.sqlite3_finalize(s.stmt)
		s.stmt = nil
	}
}

// Args holds rows of values for Stmt.Exec, in the buffer format Reader
// reads, in parameter order.
type Args struct {
	buf  []byte
	vals int
}

// Int adds an integer value.
func (a *Args) Int(v int64) {
	a.buf = append(a.buf, Integer)
	a.buf = binary.LittleEndian.AppendUint64(a.buf, uint64(v))
	a.vals++
}

// Float adds a floating-point value.
func (a *Args) Float(v float64) {
	a.buf = append(a.buf, Float)
	a.buf = binary.LittleEndian.AppendUint64(a.buf, math.Float64bits(v))
	a.vals++
}

// Text adds a text value.
func (a *Args) Text(v string) {
	a.buf = append(a.buf, Text)
	a.buf = binary.LittleEndian.AppendUint32(a.buf, uint32(len(v)))
	a.buf = append(a.buf, v...)
	a.vals++
}

// Null adds a NULL.
func (a *Args) Null() {
	a.buf = append(a.buf, Null)
	a.vals++
}

// Values is how many values a holds.
func (a *Args) Values() int { return a.vals }

// Bytes is the size of the values held.
func (a *Args) Bytes() int { return len(a.buf) }

// Reset empties a, keeping its buffer.
func (a *Args) Reset() { a.buf, a.vals = a.buf[:0], 0 }
