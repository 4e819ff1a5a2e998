package sqlitebatch

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/mattn/go-sqlite3"
)

// TestExecRows: Exec writes every whole row of its values in order (texts
// of any length, empty, floats, NULLs, the extreme integers), keeps a
// partial row for a statement of fewer rows, and on a failing row reports
// its index with the rows before it written and the values kept.
func TestExecRows(t *testing.T) {
	conn, h := open(t)
	ctx := context.Background()
	if _, err := conn.ExecContext(ctx, "CREATE TABLE t (i INTEGER, f REAL, s TEXT UNIQUE, n)"); err != nil {
		t.Fatal(err)
	}
	two, err := Prepare(h, "INSERT INTO t VALUES (?, ?, ?, ?), (?, ?, ?, ?)")
	if err != nil {
		t.Fatal(err)
	}
	defer two.Close()
	if two.Params() != 8 {
		t.Fatalf("params %d", two.Params())
	}
	long := string(make([]byte, 70000))
	var a Args
	ints := []int64{math.MinInt64, -1, 0, math.MaxInt64, 42}
	texts := []string{"a", "", "ü€", long, "e"}
	for i := range ints {
		a.Int(ints[i])
		a.Float(float64(i) + 0.5)
		a.Text(texts[i])
		a.Null()
	}
	n, err := two.Exec(&a)
	if err != nil || n != 2 {
		t.Fatalf("Exec: %d rows, %v", n, err)
	}
	if a.Values() != 4 {
		t.Fatalf("%d values left, want the 4 of the fifth row", a.Values())
	}
	one, err := Prepare(h, "INSERT INTO t VALUES (?, ?, ?, ?)")
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	if n, err := one.Exec(&a); err != nil || n != 1 || a.Values() != 0 || a.Bytes() != 0 {
		t.Fatalf("Exec of the last row: %d rows, %v, %d values left", n, err, a.Values())
	}
	rows := readAll(t, h, 1<<20, "SELECT i, f, s, n FROM t ORDER BY rowid")
	if len(rows) != 5 {
		t.Fatalf("%d rows", len(rows))
	}
	for i, r := range rows {
		if r[0].Int != ints[i] || r[1].Float != float64(i)+0.5 || r[2].Type != Text || string(r[2].Bytes) != texts[i] || r[3].Type != Null {
			t.Fatalf("row %d: %+v", i, r)
		}
	}

	// The third row repeats a unique text: rows 0 and 1 stay, 2 fails.
	a.Reset()
	for _, s := range []string{"x", "y", "a", "z"} {
		a.Int(1)
		a.Float(1)
		a.Text(s)
		a.Int(1)
	}
	n, err = one.Exec(&a)
	var se sqlite3.Error
	if n != 2 || !errors.As(err, &se) || se.Code != sqlite3.ErrConstraint || se.ExtendedCode != sqlite3.ErrConstraintUnique {
		t.Fatalf("Exec with a duplicate: %d rows, %v", n, err)
	}
	if a.Values() != 16 {
		t.Fatalf("%d values left after an error, want all 16", a.Values())
	}
	var count int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&count); err != nil || count != 7 {
		t.Fatalf("count %d, %v; want 7", count, err)
	}
}
