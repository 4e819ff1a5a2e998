package sqlitebatch

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
)

type connector struct{ dsn string }

func (c connector) Connect(context.Context) (driver.Conn, error) {
	return (&sqlite3.SQLiteDriver{}).Open(c.dsn)
}

func (c connector) Driver() driver.Driver { return &sqlite3.SQLiteDriver{} }

// open is one go-sqlite3 connection on a new file, and its handle.
func open(t *testing.T) (*sql.Conn, Handle) {
	t.Helper()
	db := sql.OpenDB(connector{dsn: "file:" + filepath.Join(t.TempDir(), "t.db")})
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var h Handle
	if err := conn.Raw(func(dc any) error {
		var err error
		h, err = HandleOf(dc)
		return err
	}); err != nil {
		// A go-sqlite3 release that keeps its handle elsewhere: the store
		// would fall back to database/sql and exports would be twice as slow.
		t.Fatalf("the SQLite handle of a go-sqlite3 connection: %v", err)
	}
	return conn, h
}

// readAll reads every row of q through Fill with a buffer of size bytes.
func readAll(t *testing.T, h Handle, size int, q string, args ...any) [][]Value {
	t.Helper()
	r, err := Query(context.Background(), h, q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out [][]Value
	for {
		buf := make([]byte, size)
		used, n, err := r.Fill(buf)
		if IsTooSmall(err) {
			size *= 2
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return out
		}
		rd := NewReader(buf[:used])
		for i := 0; i < n; i++ {
			row := make([]Value, r.Columns())
			for j := range row {
				if !rd.Next(&row[j]) {
					t.Fatalf("row %d ended at column %d", len(out), j)
				}
			}
			out = append(out, row)
		}
		var extra Value
		if rd.Next(&extra) {
			t.Fatal("values after the batch's last row")
		}
	}
}

func TestValuesAndBinds(t *testing.T) {
	_, h := open(t)
	blob := []byte{0, 1, 2, 0xff}
	rows := readAll(t, h, 1<<10, `SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?`,
		int64(math.MinInt64), int64(math.MaxInt64), 3, int32(-4), uint32(5), true,
		-0.25, math.MaxFloat64, "سلام\x00nul", "", blob, nil)
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	r := rows[0]
	want := []Value{
		{Type: Integer, Int: math.MinInt64}, {Type: Integer, Int: math.MaxInt64}, {Type: Integer, Int: 3},
		{Type: Integer, Int: -4}, {Type: Integer, Int: 5}, {Type: Integer, Int: 1},
		{Type: Float, Float: -0.25}, {Type: Float, Float: math.MaxFloat64},
		{Type: Text, Bytes: []byte("سلام\x00nul")}, {Type: Text, Bytes: []byte{}},
		{Type: Blob, Bytes: blob}, {Type: Null},
	}
	for i, w := range want {
		g := r[i]
		if g.Type != w.Type || g.Int != w.Int || g.Float != w.Float || !bytes.Equal(g.Bytes, w.Bytes) {
			t.Errorf("column %d: got %+v, want %+v", i, g, w)
		}
	}
	if Bindable([]any{time.Now()}) {
		t.Error("time.Time is bindable")
	}
	if _, err := Query(context.Background(), h, "SELECT ?", 1, 2); err == nil {
		t.Error("two arguments for one parameter")
	}
	if _, err := Query(context.Background(), h, "SELECT FROM"); err == nil || !strings.Contains(err.Error(), "syntax") {
		t.Errorf("bad SQL: %v", err)
	}
}

// Rows span many batches, and a row larger than the buffer waits for a
// larger one: no row is lost or repeated.
func TestBatchesAndLargeRows(t *testing.T) {
	conn, h := open(t)
	ctx := context.Background()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT);
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
		INSERT INTO t SELECT i, CASE WHEN i % 1000 = 0 THEN printf('%.*c', 100000, 'x') ELSE 'row ' || i END FROM n`); err != nil {
		t.Fatal(err)
	}
	rows := readAll(t, h, 4<<10, "SELECT id, s FROM t ORDER BY id")
	if len(rows) != 5000 {
		t.Fatalf("%d rows, want 5000", len(rows))
	}
	for i, r := range rows {
		id := int64(i + 1)
		if r[0].Int != id {
			t.Fatalf("row %d has id %d", i, r[0].Int)
		}
		if id%1000 == 0 {
			if len(r[1].Bytes) != 100000 {
				t.Fatalf("row %d: %d bytes, want 100000", id, len(r[1].Bytes))
			}
			continue
		}
		if got := string(r[1].Bytes); got != "row "+strconv.FormatInt(id, 10) {
			t.Fatalf("row %d: %q", id, got)
		}
	}
}

// A cancelled context interrupts a running statement, and the interrupt
// does not reach the connection's next statement.
func TestCancelInterrupts(t *testing.T) {
	conn, h := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	r, err := Query(ctx, h, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)
		SELECT i FROM n WHERE i < 0`)
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	_, _, err = r.Fill(make([]byte, 1024))
	var se sqlite3.Error
	if !errors.As(err, &se) || se.Code != sqlite3.ErrInterrupt {
		t.Fatalf("cancelled query: %v, want SQLITE_INTERRUPT", err)
	}
	r.Close()
	var n int
	if err := conn.QueryRowContext(context.Background(), "SELECT count(*) FROM (SELECT 1 UNION SELECT 2)").Scan(&n); err != nil || n != 2 {
		t.Fatalf("next query on the connection: %d, %v", n, err)
	}
}
