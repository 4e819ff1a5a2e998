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
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		tb.Fatalf("connect to the test cluster: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create database: %v", err)
	}
	return c.URL(name)
}
