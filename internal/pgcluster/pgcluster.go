// Package pgcluster starts and stops throw-away PostgreSQL clusters (initdb
// and pg_ctl on a temporary folder and a free loopback port), for the tests
// (internal/pgtest) and the engines benchmark (scripts/bench) alike.
package pgcluster

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Cluster is a running throw-away PostgreSQL cluster.
type Cluster struct {
	Dir  string // the folder holding data, socket and log
	Port int
	bin  string
	as   string   // run the server binaries as this user ("" for ourselves)
	conf []string // the server settings (name=value) it was started with
}

// URL is the connection URL of database db on the cluster.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://incidentmap@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// Data is the cluster's data folder.
func (c *Cluster) Data() string { return filepath.Join(c.Dir, "data") }

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

// Run runs one of PostgreSQL's binaries (initdb, pg_ctl, psql, …) as the
// cluster's owner (initdb refuses root).
func (c *Cluster) Run(name string, args ...string) error {
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

// Fast are the settings of a cluster whose data may be lost (tests): no
// fsync, and WAL enough for streaming replicas.
var Fast = []string{"fsync=off", "synchronous_commit=off", "full_page_writes=off",
	"max_connections=100", "wal_level=replica", "max_wal_senders=4", "hot_standby=on"}

// New initialises and starts a cluster on a new temporary folder with the
// server settings conf (name=value; PostgreSQL's defaults for the rest: a
// durable server). Stop it with Stop.
func New(conf ...string) (*Cluster, error) {
	bin, err := bindir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "incidentmap-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, bin: bin, conf: conf}
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
	if err := c.Run("initdb", "-D", c.Data(), "-U", "incidentmap", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := c.start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// start starts the cluster's server with its settings on a free port.
func (c *Cluster) start() error {
	var err error
	if c.Port, err = freePort(); err != nil {
		return err
	}
	opts := []string{"-p " + strconv.Itoa(c.Port), "-k " + c.Dir, "-c listen_addresses=127.0.0.1"}
	for _, e := range c.conf {
		opts = append(opts, "-c "+e)
	}
	return c.Run("pg_ctl", "-D", c.Data(), "-l", filepath.Join(c.Dir, "log"), "-o", strings.Join(opts, " "), "-w", "-t", "120", "start")
}

// Stop stops the server (fast shutdown) and removes the folder.
func (c *Cluster) Stop() {
	_ = c.Run("pg_ctl", "-D", c.Data(), "-m", "immediate", "-w", "stop")
	os.RemoveAll(c.Dir)
}

// StopServer stops the server and keeps the folder (a replica that fails).
func (c *Cluster) StopServer() error {
	return c.Run("pg_ctl", "-D", c.Data(), "-m", "immediate", "-w", "stop")
}

// Standby makes a streaming replica of c: pg_basebackup of the running
// cluster into a new folder, started as a hot standby on a free port. Stop
// it with Stop.
func (c *Cluster) Standby() (*Cluster, error) {
	dir, err := os.MkdirTemp("", "incidentmap-pg-standby-")
	if err != nil {
		return nil, err
	}
	r := &Cluster{Dir: dir, bin: c.bin, as: c.as, conf: c.conf}
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
	if err := r.Run("pg_basebackup", "-D", r.Data(), "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port),
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
