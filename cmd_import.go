package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"incidentmap/importer"
)

// cmdImport loads an ACLED CSV, GeoJSON or GeoJSON text sequence file in one
// all-or-nothing transaction and reports every bad row (the first 100).
func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("import", stderr)
	db := dbFlag(fs)
	format := fs.String("format", "auto", "file format: auto, acled-csv, geojson or geojsonseq")
	dry := fs.Bool("dry-run", false, "check every row and count what would change, but write nothing")
	quiet := fs.Bool("quiet", false, "no progress bar")
	file, err := parseFlagsAndFile(fs, args)
	if err != nil {
		return err
	}
	tuneMallocForBulkLoad() // see malloc_linux.go: the same cost as gen --db
	f, err := importer.ParseFormat(*format)
	if err != nil {
		return &usageError{err.Error()}
	}
	if f == importer.FormatAuto {
		if byName := importer.FormatOfName(file); byName != "" {
			f = byName
		}
	}
	in, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer in.Close()
	var size int64
	if fi, err := in.Stat(); err == nil {
		size = fi.Size()
	}
	st, err := openEngine(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()

	cr := &countingReader{r: in}
	start := time.Now()
	opt := importer.Options{Format: f, DryRun: *dry, ProgressEvery: 5000}
	showed := false
	if !*quiet {
		opt.Progress = func(rows int) {
			showed = true
			fmt.Fprint(stderr, "\r"+progressLine(rows, cr.n.Load(), size, time.Since(start)))
		}
	}
	res, err := importer.Load(ctx, st, cr, opt)
	if showed {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return fmt.Errorf("import %s: %w", file, err)
	}
	verb := "imported"
	if res.DryRun {
		verb = "dry run, nothing written; would import"
	}
	fmt.Fprintf(stdout, "%s: %s %d rows in %s: %d inserted, %d updated, %d unchanged, %d older than stored\n",
		file, verb, res.Rows, time.Since(start).Round(time.Millisecond), res.Inserted, res.Updated, res.Unchanged, res.Older)
	return nil
}

// parseFlagsAndFile is parseFlags for a command that takes one FILE argument
// before, between or after its flags.
func parseFlagsAndFile(fs *flag.FlagSet, args []string) (string, error) {
	var file string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return "", err
			}
			return "", &usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			break
		}
		if file != "" {
			return "", &usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
		}
		file, args = fs.Arg(0), fs.Args()[1:]
	}
	// Environment variables apply only to flags the command line left unset.
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := os.LookupEnv(envName(f.Name)); ok && !set[f.Name] {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %v", envName(f.Name), v, err))
			}
		}
	})
	if len(errs) > 0 {
		return "", &usageError{errors.Join(errs...).Error()}
	}
	if file == "" {
		return "", &usageError{"give the FILE to import"}
	}
	return file, nil
}

// progressLine is the progress bar: rows, rows per second, and an ETA from
// how much of the file has been read.
func progressLine(rows int, read, size int64, took time.Duration) string {
	rate := float64(rows) / took.Seconds()
	line := fmt.Sprintf("%d rows, %.0f rows/s", rows, rate)
	if size > 0 && read > 0 {
		frac := float64(read) / float64(size)
		const width = 30
		n := int(frac * width)
		if n > width {
			n = width
		}
		bar := make([]byte, width)
		for i := range bar {
			bar[i] = ' '
			if i < n {
				bar[i] = '#'
			}
		}
		eta := time.Duration(float64(took) * (1 - frac) / frac).Round(time.Second)
		line = fmt.Sprintf("[%s] %3.0f%% %s, ETA %s   ", bar, frac*100, line, eta)
	}
	return line
}

// countingReader counts the bytes read, for the progress bar.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
