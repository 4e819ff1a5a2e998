// Package pgtest starts a throw-away PostgreSQL cluster (with PostGIS) for
// tests: initdb and pg_ctl on a temporary folder and a free port, stopped and
// removed when the tests end. Tests that need it fail, never skip, when
// CI=true and PostgreSQL cannot start.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"incidentmap/internal/pgcluster"
)

var (
	shared     *pgcluster.Cluster
	sharedErr  error
	sharedOnce sync.Once
	dbSeq      atomic.Int64
)

// New starts a cluster of its own with the tests' settings (pgcluster.Fast)
// and extra ones (name=value). Stop it with Stop.
func New(extra ...string) (*pgcluster.Cluster, error) {
	return pgcluster.New(append(append([]string{}, pgcluster.Fast...), extra...)...)
}

// Main runs a test binary's tests and stops the shared cluster, if one was
// started, at the end. Call it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	return code
}

// Shared is the test binary's cluster, started on first use (see Main). Off
// CI a machine without PostgreSQL skips the test; with CI=true it fails.
func Shared(tb testing.TB) *pgcluster.Cluster {
	tb.Helper()
	sharedOnce.Do(func() { shared, sharedErr = New() })
	if sharedErr != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("PostgreSQL test cluster: %v", sharedErr)
		}
		tb.Skipf("PostgreSQL test cluster (CI=true makes this a failure): %v", sharedErr)
	}
	return shared
}

// DB creates a new, empty database on the shared cluster and returns its URL.
func DB(tb testing.TB) string {
	tb.Helper()
	c := Shared(tb)
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	if err := exec(c, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create database: %v", err)
	}
	return c.URL(name)
}

var (
	templatesMu sync.Mutex
	templates   = map[string]*template{}
)

// template is one filled database that copies are made from.
type template struct {
	once sync.Once
	name string
	err  error
}

// DBFrom returns the URL of a new database on the shared cluster that holds
// what fill put into the template database called key: fill runs once per
// test binary (on a database of its own, whose URL it is given; it must close
// its connections before it returns) and every later call copies that
// database, which is much cheaper than loading it again (CREATE DATABASE …
// TEMPLATE copies files). Tests that only read, or that each write their own
// copy, share one load this way.
func DBFrom(tb testing.TB, key string, fill func(url string) error) string {
	tb.Helper()
	c := Shared(tb)
	templatesMu.Lock()
	tp := templates[key]
	if tp == nil {
		tp = &template{name: fmt.Sprintf("tmpl%d_%d", os.Getpid(), dbSeq.Add(1))}
		templates[key] = tp
	}
	templatesMu.Unlock()
	tp.once.Do(func() {
		if tp.err = exec(c, "CREATE DATABASE "+tp.name); tp.err != nil {
			return
		}
		start := time.Now()
		defer func() { tb.Logf("template database %q filled in %s", key, time.Since(start).Round(time.Millisecond)) }()
		if err := fill(c.URL(tp.name)); err != nil {
			tp.err = fmt.Errorf("fill the template database %q: %w", key, err)
			return
		}
		// No one may connect to a template while it is copied.
		tp.err = exec(c, "ALTER DATABASE "+tp.name+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
	})
	if tp.err != nil {
		tb.Fatalf("template database %q: %v", key, tp.err)
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	// FILE_COPY copies the files (one checkpoint, cheap without fsync);
	// the default WAL_LOG would write every page to the WAL.
	if err := exec(c, "CREATE DATABASE "+name+" TEMPLATE "+tp.name+" STRATEGY FILE_COPY"); err != nil {
		tb.Fatalf("copy template database %q: %v", key, err)
	}
	return c.URL(name)
}

// exec runs one statement on the cluster's postgres database.
func exec(c *pgcluster.Cluster, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connect to the test cluster: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %w", stmt, err)
	}
	return nil
}
