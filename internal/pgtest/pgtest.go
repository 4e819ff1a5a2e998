// Package pgtest starts a throw-away PostgreSQL cluster (with PostGIS) for
// tests: initdb and pg_ctl on a temporary folder and a free port, stopped and
// removed when the tests end. Tests that need it fail, never skip, when
// CI=true and PostgreSQL cannot start.
package pgtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a running throw-away PostgreSQL cluster.
type Cluster struct {
	Dir  string // the folder holding data, socket and log
	Port int
	bin  string
	as   string // run the server binaries as this user ("" for ourselves)
}

// URL is the connection URL of database db on the cluster.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://incidentmap@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// Data is the cluster's data folder.
func (c *Cluster) Data() string { return filepath.Join(c.Dir, "data") }

var (
	shared     *Cluster
	sharedErr  error
	sharedOnce sync.Once
	dbSeq      atomic.Int64
)

// bindir finds PostgreSQL's server binaries: $PG_BINDIR, pg_config
// --bindir, or the newest of Debian's /usr/lib/postgresql/*/bin.
func bindir() (string, error) {
	if d := os.Getenv("PG_BINDIR"); d != "" {
		return d, nil
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		d := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("no PostgreSQL server binaries (initdb): install postgresql-15-postgis-3 (scripts/test-deps.sh) or set PG_BINDIR")
}

// freePort asks the kernel for a port nobody listens on.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// run runs a server binary, as c.as when set (initdb refuses root).
func (c *Cluster) run(name string, args ...string) error {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	if c.as != "" {
		cmd = exec.Command("runuser", append([]string{"-u", c.as, "--", filepath.Join(c.bin, name)}, args...)...)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w\n%s", name, err, out.String())
	}
	return nil
}

// New initialises and starts a cluster on a new temporary folder. extra are
// more server settings (name=value). Stop it with Stop.
func New(extra ...string) (*Cluster, error) {
	bin, err := bindir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "incidentmap-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		// initdb refuses to run as root; the cluster belongs to postgres.
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root and there is no postgres user to own the cluster: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		c.as = "postgres"
	}
	if err := c.run("initdb", "-D", c.Data(), "-U", "incidentmap", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := c.start(extra...); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// start starts the cluster's server on a free port.
func (c *Cluster) start(extra ...string) error {
	var err error
	if c.Port, err = freePort(); err != nil {
		return err
	}
	opts := []string{"-p " + strconv.Itoa(c.Port), "-k " + c.Dir, "-c listen_addresses=127.0.0.1",
		// A test cluster: durability is not the point, speed is.
		"-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
		"-c max_connections=100", "-c wal_level=replica", "-c max_wal_senders=4", "-c hot_standby=on"}
	for _, e := range extra {
		opts = append(opts, "-c "+e)
	}
	return c.run("pg_ctl", "-D", c.Data(), "-l", filepath.Join(c.Dir, "log"), "-o", strings.Join(opts, " "), "-w", "-t", "60", "start")
}

// Stop stops the server (fast shutdown) and removes the folder.
func (c *Cluster) Stop() {
	_ = c.run("pg_ctl", "-D", c.Data(), "-m", "immediate", "-w", "stop")
	os.RemoveAll(c.Dir)
}

// StopServer stops the server and keeps the folder (a replica that fails).
func (c *Cluster) StopServer() error {
	return c.run("pg_ctl", "-D", c.Data(), "-m", "immediate", "-w", "stop")
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
func Shared(tb testing.TB) *Cluster {
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

// Standby makes a streaming replica of c: pg_basebackup of the running
// cluster into a new folder, started as a hot standby on a free port. Stop
// it with Stop.
func (c *Cluster) Standby() (*Cluster, error) {
	dir, err := os.MkdirTemp("", "incidentmap-pg-standby-")
	if err != nil {
		return nil, err
	}
	r := &Cluster{Dir: dir, bin: c.bin, as: c.as}
	if c.as != "" {
		u, err := user.Lookup(c.as)
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	// -R writes standby.signal and the primary's connection settings.
	if err := r.run("pg_basebackup", "-D", r.Data(), "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port),
		"-U", "incidentmap", "-R", "-X", "stream", "-c", "fast", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := r.start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return r, nil
}
