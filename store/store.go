// Package store keeps incidents in SQLite: schema and migrations, filtered
// queries that stream rows, and transactional upserts. It is the only package
// that speaks SQL.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mattn/go-sqlite3" // registers the "sqlite3" driver

	"incidentmap/geo"
	"incidentmap/incident"
	"incidentmap/internal/bgcount"
	"incidentmap/internal/vcache"
)

// ErrNotFound is returned when a requested row does not exist; it is
// incident.ErrNotFound, the seam's error.
var ErrNotFound = incident.ErrNotFound

// SQLite is the incident store on one SQLite database file. Writes go through
// one connection that begins transactions IMMEDIATE, so writers queue in Go
// instead of failing with SQLITE_BUSY; reads use a pool of query-only
// connections whose deferred transactions see one WAL snapshot each.
type SQLite struct {
	db            *sql.DB // the writer
	ro            *sql.DB // the readers
	path          string
	fileID        fileID                               // the database file Open opened, to notice it being replaced
	regions       *geo.Regions                         // boundaries for assigning admin1; nil: no assignment
	counts        versionCache[int64]                  // numberMatched per query
	positions     versionCache[[]position]             // where pages of a query start (see spatialpage.go)
	positionClock atomic.Uint64                        // orders the positions kept
	extents       versionCache[incident.Extent]        // the extent of all incidents
	regionStats   versionCache[[]incident.RegionStats] // counts per region per query
	aggregates    versionCache[[]incident.RawGroup]    // grouped rows per aggregation query
	rolled        versionCache[incident.Aggregation]   // the groups asked for, per query and keys
	countCache    *vcache.Cache[any]                   // bytes of counts, positions, extents and region counts
	aggCache      *vcache.Cache[any]                   // bytes of aggregations (rows and groups)
	geoms         geometries                           // geometry literals of running CQL2 filters
	bg            *bgcount.Runner                      // counts pages did not wait for (see counting.go)
	bgGate        <-chan struct{}                      // see WithCountDeferral
	textProbe     *bool                                // tests: textPlan's choice, fixed
	deferRows     int64                                // see WithCountDeferral; 0 is deferCountRows
	ckpt          *sql.DB                              // one connection that never waits, for the checkpointer
	stopCkpt      chan struct{}                        // closed by Close to stop the checkpointer
	closeOnce     sync.Once                            // Close runs once
	closeErr      error                                // what the one Close returned
	ckptDone      chan struct{}                        // closed when the checkpointer has stopped
}

// Option changes how Open sets up the store.
type Option func(*SQLite)

// WithRegions gives the store boundaries: Open loads them into the regions
// table, and every write assigns admin1 and region from the point to an
// incident whose source gave no admin1 (see AssignRegion).
func WithRegions(rs *geo.Regions) Option {
	return func(s *SQLite) { s.regions = rs }
}

// WithCountDeferral sets the table size (in ids) from which a page whose
// filter allows it (Filter.MayDeferCount) may go without numberMatched
// while its count runs in the background (see counting.go); the default is
// 250,000. A non-nil gate holds every background count until it is closed:
// tests lower the size and hold the counts to see pages go without them.
func WithCountDeferral(minRows int64, gate <-chan struct{}) Option {
	return func(s *SQLite) { s.deferRows, s.bgGate = minRows, gate }
}

// deferCountRows is the table size from which counts may be deferred.
func (s *SQLite) deferCountRows() int64 {
	if s.deferRows > 0 {
		return s.deferRows
	}
	return deferCountRows
}

// Open opens (creating if needed) the database at path, turns on WAL, a busy
// timeout and foreign keys on every connection, and applies pending migrations.
func Open(ctx context.Context, path string, opts ...Option) (*SQLite, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create database folder: %w", err)
		}
	}
	s := &SQLite{path: path}
	s.initCaches()
	db := s.openDB(dsn(path, "immediate", false))
	s.db = db
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	for _, o := range opts {
		o(s)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	var fts5 bool
	if err := db.QueryRowContext(ctx, "SELECT sqlite_compileoption_used('ENABLE_FTS5')").Scan(&fts5); err != nil || !fts5 {
		db.Close()
		return nil, errors.New("this binary's SQLite lacks FTS5, which full-text search needs: build with `make build` (go build -tags sqlite_fts5)")
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.loadRegions(ctx); err != nil {
		db.Close()
		return nil, err
	}
	s.ro = s.openDB(dsn(path, "deferred", true))
	id, err := statID(path)
	if err != nil {
		s.ro.Close()
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s.fileID = id
	s.ckpt = s.openDB(strings.Replace(dsn(path, "deferred", false), "_busy_timeout=10000", "_busy_timeout=0", 1))
	s.ckpt.SetMaxOpenConns(1)
	s.stopCkpt = make(chan struct{})
	s.ckptDone = make(chan struct{})
	go s.checkpointer(walCheckEvery)
	s.ro.SetMaxOpenConns(8)
	s.ro.SetMaxIdleConns(8)
	s.bg = bgcount.New(s.bgGate)
	return s, nil
}

// dsn builds the go-sqlite3 connection string; every connection gets WAL, a
// busy timeout and foreign keys.
func dsn(path, txlock string, queryOnly bool) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "10000")
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", txlock)
	if queryOnly {
		q.Set("_query_only", "true")
	}
	return "file:" + path + "?" + q.Encode()
}

// Path is the file the store was opened on.
func (s *SQLite) Path() string { return s.path }

// Close checkpoints the WAL into the main file and closes the database. It
// may be called more than once (a command and its deferred clean-up both
// close); later calls return the first call's error.
func (s *SQLite) Close() error {
	s.closeOnce.Do(func() {
		close(s.stopCkpt)
		<-s.ckptDone
		if s.bg != nil {
			s.bg.Close()
		}
		rerr := errors.Join(s.ro.Close(), s.ckpt.Close())
		_, _ = s.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
		s.closeErr = errors.Join(rerr, s.db.Close())
	})
	return s.closeErr
}

// Ping reports whether the database answers.
func (s *SQLite) Ping(ctx context.Context) error {
	var one int
	return s.ro.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Size is FileSize, the incident.Admin way.
func (s *SQLite) Size(context.Context) int64 { return s.FileSize() }

// FileSize is the size in bytes of the database file and its WAL on disk.
func (s *SQLite) FileSize() int64 {
	var total int64
	for _, p := range []string{s.path, s.path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			total += fi.Size()
		}
	}
	return total
}

// ErrConflict is returned when a write would break a uniqueness rule, such as
// a second incident with an event_id already stored.
var ErrConflict = incident.ErrConflict

// ErrStorageFull is what IsStorageFull recognises: a write failed because
// the file system holding the database has no room.
var ErrStorageFull = errors.New("storage full")

// IsStorageFull reports whether err comes from a full disk: SQLite's
// SQLITE_FULL, or ENOSPC from the file system.
func IsStorageFull(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code == sqlite3.ErrFull {
		return true
	}
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, ErrStorageFull)
}

// FreeBytes is the room left for the database: the bytes an unprivileged
// writer may still use on the file system that holds it.
func (s *SQLite) FreeBytes() (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(s.path), &st); err != nil {
		return 0, fmt.Errorf("free space of %s: %w", filepath.Dir(s.path), err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// The SQLite engine implements the whole seam.
var _ incident.Store = (*SQLite)(nil)

// fileID is a file's identity: its device and inode.
type fileID struct{ dev, ino uint64 }

func statID(path string) (fileID, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileID{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, nil
	}
	return fileID{dev: uint64(st.Dev), ino: st.Ino}, nil
}

// ErrReplaced says the database file at the store's path is no longer the
// one the store opened (a restore renamed another over it, or it was
// deleted): the writer would write to a file nobody will open again.
var ErrReplaced = errors.New("the database file was replaced since it was opened; restart to serve the new one")

// Replaced returns an error wrapping ErrReplaced when the file at the
// store's path is not the one Open opened, and nil while it is.
func (s *SQLite) Replaced() error {
	id, err := statID(s.path)
	if err != nil {
		return fmt.Errorf("%s: %w (%v)", s.path, ErrReplaced, err)
	}
	if id != s.fileID {
		return fmt.Errorf("%s: %w", s.path, ErrReplaced)
	}
	return nil
}

// The WAL's checkpoint policy. SQLite checkpoints by itself after a commit
// once the WAL holds walAutocheckpoint pages (4 MB), but it can only start
// the WAL over when no reader still uses an older snapshot; until then the
// file grows with every write. Once it can, the file is cut back to
// walSizeLimit (journal_size_limit) instead of staying at its peak, and the
// checkpointer truncates a WAL over that size within walCheckEvery even
// when no write comes to do it. Streamed responses release their snapshot
// as soon as their rows are read (server: streamSpooled), so a slow client
// does not hold the WAL.
const (
	walAutocheckpoint = 1000     // pages
	walSizeLimit      = 32 << 20 // bytes
	walCheckEvery     = 5 * time.Second
)

// walPragmas are run on every new connection (see openDB).
var walPragmas = fmt.Sprintf("PRAGMA journal_size_limit = %d; PRAGMA wal_autocheckpoint = %d", walSizeLimit, walAutocheckpoint)

// checkpointer truncates the WAL every so often when it has grown past
// walSizeLimit, without waiting for or blocking anyone: a PASSIVE checkpoint
// copies what no reader still needs (it takes no writer lock); only when that
// left nothing behind is the file truncated, which is then quick. Otherwise
// it tries again next time.
func (s *SQLite) checkpointer(every time.Duration) {
	defer close(s.ckptDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stopCkpt:
			return
		case <-t.C:
		}
		if s.WALSize() <= walSizeLimit {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		var busy, log, done int
		err := s.ckpt.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done)
		if err == nil && busy == 0 && log == done {
			_, _ = s.ckpt.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
		}
		cancel()
	}
}

// WALSize is the size in bytes of the database's write-ahead log file.
func (s *SQLite) WALSize() int64 {
	fi, err := os.Stat(s.path + "-wal")
	if err != nil {
		return 0
	}
	return fi.Size()
}
