package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"incidentmap/export"
	"incidentmap/incident"
	"incidentmap/server"
)

// exportFilterParams are the items parameters the export command takes as
// flags; they go through the items parser, so they mean what they mean there.
var exportFilterParams = []string{"bbox", "datetime", "event_type", "sub_event_type", "region",
	"event_types", "sub_event_types", "regions", "actors", "actor1", "actor2", "admin1", "min_fatalities", "max_fatalities", "q", "filter", "filter-lang", "limit", "offset"}

// cmdExport writes the incidents the filters select (all of them without a
// limit) to a file or stdout in one of the export formats.
func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", stderr)
	db := dbFlag(fs)
	format := fs.String("format", "geojson", "geojson, geojsonseq, csv, kml or gpkg")
	out := fs.String("out", "", "file to write (default: stdout; gpkg needs a file)")
	params := map[string]*string{}
	for _, p := range exportFilterParams {
		params[p] = fs.String(p, "", "items parameter "+p+" (as in /collections/incidents/items)")
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	f, ok := export.Parse(*format)
	if !ok {
		return &usageError{fmt.Sprintf("--format %q is not one of geojson, geojsonseq, csv, kml, gpkg", *format)}
	}
	vals := url.Values{}
	fs.Visit(func(fl *flag.Flag) {
		if p, ok := params[fl.Name]; ok {
			vals.Set(fl.Name, *p)
		}
	})
	filter, err := server.ParseFilter(vals)
	if err != nil {
		return &usageError{"export: " + errorDescription(err)}
	}
	st, err := openEngine(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()

	if f == export.GPKG {
		if *out == "" {
			return &usageError{"export: --format gpkg needs --out FILE (a GeoPackage is a database file)"}
		}
		return exportGeoPackage(ctx, st, filter, *out, stderr)
	}
	cur, err := st.Incidents(ctx, filter, false)
	if err != nil {
		return err
	}
	defer cur.Close()
	if *out == "" {
		n, err := export.Write(stdout, f, cur)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		fmt.Fprintf(stderr, "export: %d incidents\n", n)
		return nil
	}
	file, err := createOut(*out)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer file.Abort()
	n, err := export.Write(file, f, cur)
	if err == nil {
		err = file.Commit()
	}
	if err != nil {
		return fmt.Errorf("export: %s: %w", *out, err)
	}
	fmt.Fprintf(stderr, "export: %d incidents to %s\n", n, *out)
	return nil
}

// exportGeoPackage writes a GeoPackage to out. SQLite builds it in a file of
// its own; to a regular out that file is made beside it and renamed into
// place, to anything else (a FIFO, /dev/null) it is made in the temporary
// folder and copied through.
func exportGeoPackage(ctx context.Context, st incident.Reader, filter incident.Filter, out string, stderr io.Writer) error {
	file, err := createOut(out)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer file.Abort()
	// SQLite writes the GeoPackage by name into a file it creates itself.
	dir, err := os.MkdirTemp(filepath.Dir(file.Name()), ".gpkg-")
	if !file.Regular() {
		dir, err = os.MkdirTemp("", "incidentmap-gpkg-")
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "out.gpkg")
	n, err := export.GeoPackageOf(ctx, tmp, st, filter)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	in, err := os.Open(tmp)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	_, err = io.Copy(file, in)
	in.Close()
	if err == nil {
		err = file.Commit()
	}
	if err != nil {
		return fmt.Errorf("export: %s: %w", out, err)
	}
	fmt.Fprintf(stderr, "export: %d incidents to %s\n", n, out)
	return nil
}

// errorDescription is the description of a server.Error, or the error text.
func errorDescription(err error) string {
	var se *server.Error
	if errors.As(err, &se) {
		return se.Description
	}
	return strings.TrimSpace(err.Error())
}
