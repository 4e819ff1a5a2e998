package sqlitemem_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"incidentmap/internal/sqlitemem"
)

// SQLite's memory is read from the linked library, grows as a connection's
// page cache fills, and stays near the soft limit when one is set: a table
// of 16 MB read through a connection whose cache_size would allow 64 MB.
func TestSoftLimitBoundsPageCaches(t *testing.T) {
	if sqlitemem.Used() < 0 {
		t.Fatal("sqlite3_memory_used is not linked: the SQLite library is missing")
	}
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "m.db")+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	mustExec := func(q string) {
		t.Helper()
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)")
	mustExec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 4000) INSERT INTO t SELECT i, randomblob(4000) FROM n")
	mustExec("PRAGMA cache_size = -65536")
	scan := func() int64 {
		t.Helper()
		var n int64
		if err := db.QueryRow("SELECT sum(length(v)) FROM t").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return sqlitemem.Used()
	}

	old := sqlitemem.SetSoftLimit(0)
	defer sqlitemem.SetSoftLimit(old)
	mustExec("PRAGMA shrink_memory")
	unbounded := scan()
	if unbounded < 14<<20 {
		t.Fatalf("SQLite holds %d bytes after reading 16 MB with a 64 MB cache: the page cache is not counted", unbounded)
	}

	const limit = 4 << 20
	sqlitemem.SetSoftLimit(limit)
	if got := sqlitemem.SoftLimit(); got != limit {
		t.Fatalf("soft limit %d, want %d", got, limit)
	}
	mustExec("PRAGMA shrink_memory")
	sqlitemem.Highwater(true)
	for range 2 {
		scan()
	}
	// The cache stops growing at the limit; a statement's own memory (its
	// pages in use, the schema) may pass it a little.
	if hw := sqlitemem.Highwater(false); hw > limit+1<<20 {
		t.Fatalf("SQLite's high-water mark %s under a soft limit of %s", mb(hw), mb(limit))
	}
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }
