package importer

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"incidentmap/incident"
)

// ACLEDColumns is ACLED's public column set in its export order, followed by
// source_url, which incidentmap keeps and ACLED does not have. An export in
// these columns re-imports losslessly.
var ACLEDColumns = []string{"event_id_cnty", "event_date", "year", "time_precision",
	"disorder_type", "event_type", "sub_event_type", "actor1", "assoc_actor_1", "inter1",
	"actor2", "assoc_actor_2", "inter2", "interaction", "civilian_targeting", "iso", "region",
	"country", "admin1", "admin2", "admin3", "location", "latitude", "longitude",
	"geo_precision", "source", "source_scale", "notes", "fatalities", "tags", "timestamp",
	"source_url"}

// requiredColumns must be in the header of an ACLED file.
var requiredColumns = []string{"event_id_cnty", "event_date", "event_type", "latitude", "longitude"}

// ACLEDDate parses ACLED's two date styles, 2021-01-02 and 02 January 2021,
// into YYYY-MM-DD.
func ACLEDDate(s string) (string, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{incident.DateLayout, "02 January 2006", "2 January 2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format(incident.DateLayout), true
		}
	}
	return "", false
}

// readACLED reads an ACLED CSV: a header naming the columns in any order
// (unknown ones are ignored), then one incident per record.
func readACLED(r io.Reader, fn func(Row, *Problem) error) error {
	// The guard bounds each record (MaxRecordBytes): csv.Reader holds a
	// record whole, however long.
	guard := &csvGuard{r: r}
	cr := csv.NewReader(guard)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return errors.New("acled-csv: the file is empty (no header)")
	}
	if err != nil {
		return fmt.Errorf("acled-csv: header: %w", err)
	}
	col := map[string]int{}
	for i, name := range header {
		name = strings.ToLower(strings.TrimSpace(name))
		if _, dup := col[name]; dup && name != "" {
			return fmt.Errorf("acled-csv: header: column %q appears twice", incident.Snippet(name, 100))
		}
		col[name] = i
		guard.names = append(guard.names, incident.Snippet(name, 100))
	}
	var missing []string
	for _, name := range requiredColumns {
		if _, ok := col[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("acled-csv: header lacks the column(s) %s (found: %s)", strings.Join(missing, ", "),
			incident.Snippet(strings.Join(header, ","), 300))
	}
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if errors.Is(err, errRecordTooLong) {
			// The rest of the record cannot be skipped reliably: stop here.
			return fmt.Errorf("acled-csv: %w", err)
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				p := Problem{Row: row, Field: "csv", Reason: pe.Err.Error() + fmt.Sprintf(" (line %d)", pe.Line)}
				if err := fn(Row{Row: row}, &p); err != nil {
					return err
				}
				continue
			}
			return fmt.Errorf("acled-csv: row %d: %w", row, err)
		}
		if len(rec) != len(header) {
			p := Problem{Row: row, Field: "csv", Value: strconv.Itoa(len(rec)),
				Reason: fmt.Sprintf("fields, but the header has %d", len(header))}
			if err := fn(Row{Row: row}, &p); err != nil {
				return err
			}
			continue
		}
		out, perr := acledRow(rec, col)
		out.Row = row
		var p *Problem
		if perr != nil {
			pp := problemOf(row, perr)
			p = &pp
		}
		if err := fn(out, p); err != nil {
			return err
		}
	}
}

// acledRow maps one record to an incident; the incident is normalized and
// validated (a *incident.FieldError names the column).
func acledRow(rec []string, col map[string]int) (Row, error) {
	get := func(name string) string {
		if i, ok := col[name]; ok {
			if csvTextColumns[name] {
				// Text that an export kept from being a formula ("'=…").
				return UnescapeCSVText(rec[i])
			}
			return rec[i]
		}
		return ""
	}
	var out Row
	inc := &out.Incident
	// Text and dates first, then the point, then the numbers: the order the
	// errors of a row with several faults have always come in.
	for i := range incident.Props {
		f := &incident.Props[i]
		if f.CSV == "" || !f.Input || f.Int(inc) != nil {
			continue
		}
		v := get(f.CSV)
		if f.Kind == incident.Date {
			date, ok := ACLEDDate(v)
			if !ok {
				return out, &incident.FieldError{Field: f.Name, Value: v, Reason: "is not a date YYYY-MM-DD or DD Month YYYY"}
			}
			v = date
		}
		*f.Text(inc) = v
	}
	var err error
	if inc.Lat, err = coord("latitude", get("latitude")); err != nil {
		return out, err
	}
	if inc.Lon, err = coord("longitude", get("longitude")); err != nil {
		return out, err
	}
	for i := range incident.Props {
		f := &incident.Props[i]
		if n := f.Int(inc); n != nil && f.CSV != "" && f.Input {
			if *n, err = whole(f.Name, get(f.CSV), f.Default); err != nil {
				return out, err
			}
		}
	}
	if ts := strings.TrimSpace(get("timestamp")); ts != "" {
		n, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || n < 0 {
			return out, &incident.FieldError{Field: "timestamp", Value: ts, Reason: "is not a Unix time (whole seconds ≥ 0)"}
		}
		out.Timestamp = n
	}
	inc.Normalize()
	return out, inc.Validate()
}

func coord(name, s string) (float64, error) {
	s = strings.TrimSpace(s)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, &incident.FieldError{Field: name, Value: s, Reason: "is not a number"}
	}
	return v, nil
}

func whole(name, s string, def int) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, &incident.FieldError{Field: name, Value: s, Reason: "is not a whole number"}
	}
	return n, nil
}
