// Command incidentmap keeps security incidents in SQLite and serves them as OGC
// API – Features (GeoJSON) to GIS tools and to its embedded Leaflet map.
//
// Usage:
//
//	incidentmap serve   [flags]   serve the API and the map (seeds an empty database)
//	incidentmap seed    [flags]   load the seed incidents (idempotent)
//	incidentmap gen     [flags]   make deterministic synthetic incidents
//	incidentmap token   create|list|revoke [flags]   manage write API tokens
//	incidentmap version           print the version
//
// Every flag has an environment variable: --db is INCIDENTMAP_DB, --base-url is
// INCIDENTMAP_BASE_URL, and so on. A flag on the command line wins.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"incidentmap/importer"
	"incidentmap/incident"
	"incidentmap/postgis"
	"incidentmap/seed"
	"incidentmap/server"
	"incidentmap/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	stop, err := startProfile()
	if err == nil {
		err = run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
		stop()
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "incidentmap:", err)
		}
		os.Exit(exitCode(err))
	}
}

// usageError marks a fault in how the program was called (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var ue *usageError
	if errors.As(err, &ue) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

const usage = `incidentmap keeps security incidents in SQLite and serves them as OGC API – Features.

Commands:
  serve     serve the API and the map (creates and seeds an empty database)
  seed      load the embedded seed incidents (idempotent: upsert by event_id)
  gen       make deterministic synthetic incidents (--n N --seed S [--out FILE|-] [--db FILE|URL])
  backup    write a consistent, checked copy of the database (also while serving; PostGIS: pg_dump)
  restore   replace the database with a checked backup (PostGIS: pg_restore, one transaction)
  check     SQLite: integrity and foreign-key checks; PostGIS: constraints, amcheck of tables and indexes
  import    load an ACLED CSV, GeoJSON or GeoJSON text sequence file (all or nothing)
  export    write the incidents (filtered like items) as geojson, geojsonseq, csv, kml or gpkg
  token     create, list or revoke write API tokens (create --name NAME)
  migrate   copy everything between engines (--from FILE|URL --to FILE|URL), verified by counts and checksums
  version   print the version

Run "incidentmap COMMAND --help" for a command's flags.`

// run is the whole program; main only turns its error into an exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return &usageError{"no command given"}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stdout, stderr)
	case "backup":
		return cmdBackup(ctx, rest, stdout, stderr)
	case "restore":
		return cmdRestore(ctx, rest, stdout, stderr)
	case "check":
		return cmdCheck(ctx, rest, stdout, stderr)
	case "import":
		return cmdImport(ctx, rest, stdout, stderr)
	case "export":
		return cmdExport(ctx, rest, stdout, stderr)
	case "seed":
		return cmdSeed(ctx, rest, stdout, stderr)
	case "gen":
		return cmdGen(ctx, rest, stdout, stderr)
	case "token":
		return cmdToken(ctx, rest, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "incidentmap", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return &usageError{fmt.Sprintf("unknown command %q", cmd)}
}

// newFlagSet makes a command's flag set whose usage lists each flag's
// environment variable.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: incidentmap %s [flags]\n\nFlags (environment variable, default):\n", name)
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(stderr, "  --%s  (%s, default %q)\n      %s\n", f.Name, envName(f.Name), f.DefValue, f.Usage)
		})
	}
	return fs
}

// envName is the environment variable of a flag: --base-url → INCIDENTMAP_BASE_URL.
func envName(flagName string) string {
	return "INCIDENTMAP_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseFlags applies environment variables, then the command line, so that a
// flag given on the command line overrides its variable.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %v", envName(f.Name), v, err))
			}
		}
	})
	if len(errs) > 0 {
		return &usageError{errors.Join(errs...).Error()}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// dbFlag declares the --db flag every command that opens the store has.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", "data/incidents.db", "SQLite database file (created if missing), or a postgres:// URL for the PostGIS engine")
}

func cmdSeed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("seed", stderr)
	db := dbFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	st, err := openEngine(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := loadSeed(ctx, st)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seed: %d inserted, %d updated, %d unchanged\n", res.Inserted, res.Updated, res.Unchanged)
	return nil
}

// loadSeed upserts the embedded seed incidents in one import.
func loadSeed(ctx context.Context, st incident.Importer) (incident.ImportCounts, error) {
	incs, err := importer.IncidentsFromGeoJSON(seed.IncidentsGeoJSON)
	if err != nil {
		return incident.ImportCounts{}, fmt.Errorf("seed data: %w", err)
	}
	res, err := st.Import(ctx, false, func(w incident.ImportWriter) error {
		for i := range incs {
			if err := w.Put(&incs[i], 0); err != nil {
				return fmt.Errorf("incident %d (%s): %w", i+1, incs[i].EventID, err)
			}
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("seed: %w", err)
	}
	res.Unchanged += res.Older // a stored row with a source timestamp is newer than the seed's
	return res, nil
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	db := dbFlag(fs)
	cfg := server.DefaultConfig()
	addr := fs.String("addr", ":8080", "address to listen on")
	fs.StringVar(&cfg.BaseURL, "base-url", "", "public URL of the server for links (default: from each request)")
	fs.IntVar(&cfg.DefaultLimit, "default-limit", cfg.DefaultLimit, "items per page when the client gives no limit")
	fs.IntVar(&cfg.MaxLimit, "max-limit", cfg.MaxLimit, "largest page; larger limits are clamped")
	fs.DurationVar(&cfg.RequestTimeout, "request-timeout", cfg.RequestTimeout, "deadline of each request's database work")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	var replicas listFlag
	fs.Var(&replicas, "db-replica", "a read replica of the postgres:// --db (repeatable): reads go to one that is caught up")
	maxLag := fs.Duration("db-replica-max-lag", postgis.DefaultReplicaMaxLag, "skip a read replica that replays further behind the primary than this (/readyz names it)")
	serveProductionFlags(fs, &cfg)
	var mem memoryConfig
	serveMemoryFlags(fs, &cfg, &mem)
	backupInterval := fs.Duration("backup-every", 0, "write a backup this often (0: never)")
	backupTo := fs.String("backup-to", "", "file the scheduled backup writes (default: the database path + .backup)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := newLogger(*logFormat, stderr)
	if err != nil {
		return err
	}
	cfg.Logger = log
	goLimitSet := false
	fs.Visit(func(f *flag.Flag) { goLimitSet = goLimitSet || f.Name == "memory-limit" })
	_, goLimitSet2 := os.LookupEnv(envName("memory-limit"))
	mem.apply(&cfg, goLimitSet || goLimitSet2)
	if err := cfg.Validate(); err != nil {
		return &usageError{err.Error()}
	}
	if *backupInterval < 0 {
		return &usageError{fmt.Sprintf("--backup-every %v must not be negative", *backupInterval)}
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	if !postgis.IsURL(*db) {
		// One server per SQLite file; a PostGIS database takes many.
		release, err := lockDatabase(*db)
		if err != nil {
			return err
		}
		defer release()
	}
	if *maxLag <= 0 {
		return &usageError{fmt.Sprintf("--db-replica-max-lag %v must be positive", *maxLag)}
	}
	st, err := openEngineLag(ctx, *db, replicas, *maxLag, &mem)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.Count(ctx, incident.Filter{})
	if err != nil {
		return err
	}
	if n == 0 {
		res, err := loadSeed(ctx, st)
		if err != nil {
			return err
		}
		n = int64(res.Inserted)
		log.Info("seeded empty database", "db", redactDB(*db), "incidents", n)
	}
	app, err := server.New(cfg, st)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- app.Listen(*addr) }()
	go trimMallocEvery(ctx, 10*time.Second)
	if sq, ok := st.(*store.SQLite); ok && *backupInterval > 0 {
		dest := *backupTo
		if dest == "" {
			dest = *db + ".backup"
		}
		go backupEvery(ctx, sq, *backupInterval, dest, log)
	}
	fmt.Fprintf(stdout, "incidentmap %s serving %d incidents from %s on %s\n", version, n, redactDB(*db), displayURL(*addr))
	select {
	case err := <-errc:
		return fmt.Errorf("listen on %s: %w", *addr, err)
	case <-ctx.Done():
	}
	heapProfileNow() // while the caches are still held
	log.Info("shutting down")
	if err := app.ShutdownWithTimeout(15 * time.Second); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// redactDB is --db as it may be shown: a URL without its password.
func redactDB(db string) string {
	if !postgis.IsURL(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "a postgres:// URL"
	}
	return u.Redacted()
}

// displayURL turns a listen address into a URL a person can open.
func displayURL(addr string) string {
	if strings.HasPrefix(addr, ":") {
		return "http://localhost" + addr + "/"
	}
	return "http://" + addr + "/"
}

func newLogger(format string, w io.Writer) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, &usageError{fmt.Sprintf("--log-format %q must be text or json", format)}
}
