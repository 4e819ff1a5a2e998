package incident

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
)

// CopyTable is one table that `incidentmap migrate` copies between engines,
// with the columns both engines store, in the order rows carry them.
type CopyTable struct {
	Name    string
	Columns []string
}

// CopyTables are the tables a migration copies, in the order it loads them.
// Regions are not copied: every engine loads them from the boundaries it is
// opened with.
var CopyTables = []CopyTable{
	// The field table's columns (Columns) and the source's timestamp.
	{"incidents", append(Columns(""), "source_timestamp")},
	{"history", []string{"seq", "incident_id", "event_id", "op", "feature", "changed_by", "changed_at"}},
	{"change_log", []string{"seq", "incident_id", "event_id", "op", "at"}},
	{"tokens", []string{"id", "name", "hash", "created_at", "revoked_at"}},
}

// CopyTableNamed is the CopyTables entry called name, or an error naming it.
func CopyTableNamed(name string) (CopyTable, error) {
	for _, t := range CopyTables {
		if t.Name == name {
			return t, nil
		}
	}
	return CopyTable{}, fmt.Errorf("no table %q to copy", name)
}

// Copier is what a migration needs of an engine: every row of a table, in
// key order, and a load of all tables into an empty database in one
// transaction (the engine's own triggers must not add to history or change
// log meanwhile).
type Copier interface {
	// DumpTable calls fn with each row of table (a CopyTables name), ordered
	// by its first column; a NULL is nil.
	DumpTable(ctx context.Context, table string, fn func(row []any) error) error
	// LoadTables runs fill with a put that writes one row of a table; all or
	// nothing. The incidents table must be empty.
	LoadTables(ctx context.Context, fill func(put func(table string, row []any) error) error) error
}

// RowDigest accumulates a table's rows into a count and a chained SHA-256
// over a canonical text of each value, the same whichever engine read them.
type RowDigest struct {
	Rows int64
	h    [32]byte
}

// Add adds one row.
func (d *RowDigest) Add(row []any) {
	b := append([]byte(nil), d.h[:]...)
	for _, v := range row {
		switch x := v.(type) {
		case nil:
			b = append(b, "\x00null"...)
		case int64:
			b = strconv.AppendInt(append(b, "\x00i"...), x, 10)
		case int32:
			b = strconv.AppendInt(append(b, "\x00i"...), int64(x), 10)
		case int:
			b = strconv.AppendInt(append(b, "\x00i"...), int64(x), 10)
		case float64:
			if x == float64(int64(x)) && x < 1e15 && x > -1e15 {
				// A whole number the other engine may hand back as an integer.
				b = strconv.AppendInt(append(b, "\x00i"...), int64(x), 10)
			} else {
				b = strconv.AppendFloat(append(b, "\x00f"...), x, 'g', -1, 64)
			}
		case string:
			b = append(append(b, "\x00s"...), x...)
		case []byte:
			b = append(append(b, "\x00b"...), hex.EncodeToString(x)...)
		default:
			b = append(append(b, "\x00?"...), fmt.Sprint(x)...)
		}
	}
	d.h = sha256.Sum256(b)
	d.Rows++
}

// String is the count and the start of the digest.
func (d *RowDigest) String() string {
	return fmt.Sprintf("%d rows, sha256 %x", d.Rows, d.h[:8])
}
