// Package sqlitemem reads and bounds the heap memory of the SQLite library
// linked into the program (go-sqlite3's amalgamation): what all its
// connections hold together — page caches, statements, sorters — which Go's
// own memory statistics do not see.
//
// The SQLite functions are declared weak (as in internal/sqlitebatch): the
// definitions come from go-sqlite3 when the program is linked. Where they
// are missing every function reports -1.
package sqlitemem

/*
typedef long long sqlite3_int64;
#define SM_WEAK __attribute__((weak))
SM_WEAK sqlite3_int64 sqlite3_memory_used(void);
SM_WEAK sqlite3_int64 sqlite3_memory_highwater(int);
SM_WEAK sqlite3_int64 sqlite3_soft_heap_limit64(sqlite3_int64);

static sqlite3_int64 sm_used(void) { return sqlite3_memory_used ? sqlite3_memory_used() : -1; }
static sqlite3_int64 sm_highwater(int reset) { return sqlite3_memory_highwater ? sqlite3_memory_highwater(reset) : -1; }
static sqlite3_int64 sm_soft_limit(sqlite3_int64 n) { return sqlite3_soft_heap_limit64 ? sqlite3_soft_heap_limit64(n) : -1; }
*/
import "C"

// Used is the bytes SQLite has allocated now, across all connections.
func Used() int64 { return int64(C.sm_used()) }

// Highwater is the most bytes SQLite has had allocated at once since the
// start or the last reset; reset starts a new high-water mark.
func Highwater(reset bool) int64 {
	r := C.int(0)
	if reset {
		r = 1
	}
	return int64(C.sm_highwater(r))
}

// SetSoftLimit sets the process-wide soft heap limit of SQLite (0: none):
// as its memory nears the limit, SQLite reuses page cache pages of any
// connection instead of allocating new ones. It returns the limit before.
// The limit is advisory: SQLite exceeds it rather than fail a statement.
func SetSoftLimit(bytes int64) int64 { return int64(C.sm_soft_limit(C.sqlite3_int64(max(bytes, 0)))) }

// SoftLimit is the soft heap limit now (0: none).
func SoftLimit() int64 { return int64(C.sm_soft_limit(-1)) }
