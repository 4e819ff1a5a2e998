// Package incident is incidentmap's domain: the incident and its rules, the
// vocabulary of Iraq's regions, time intervals, and (as the store seam grows)
// the filter and the store's contract that every engine implements. It
// imports neither SQL nor HTTP, so that the SQLite and PostGIS engines, the
// server and the file formats all meet here.
package incident

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// DateLayout is the layout of an incident's event_date (ISO 8601 calendar date).
const DateLayout = "2006-01-02"

// Incident is one security incident: one row of the store and one GeoJSON Feature.
// Field names follow ACLED's public codebook so ACLED exports map one to one.
type Incident struct {
	ID            int64   // feature id, assigned by the store
	EventID       string  // external id (ACLED event_id_cnty), key of idempotent upserts
	EventDate     string  // YYYY-MM-DD
	TimePrecision int     // 1 day, 2 week, 3 month
	EventType     string  // ACLED event_type
	SubEventType  string  // ACLED sub_event_type
	Actor1        string  // may be empty
	Actor2        string  // may be empty
	Admin1        string  // governorate; assigned from the point when the source gives none
	Admin2        string  // district
	Location      string  // place name
	Region        string  // grouping derived from Admin1 (Anbar, Baghdad, Kurdistan Region, …)
	GeoPrecision  int     // 1 exact, 2 near, 3 region-level
	Fatalities    int     // lowest reported count, ≥ 0
	Source        string  // who reported it
	SourceURL     string  // where, when known
	Notes         string  // what happened
	Tags          string  // free tags, ACLED style
	Lon           float64 // WGS 84 longitude
	Lat           float64 // WGS 84 latitude
	UpdatedAt     string  // RFC 3339, set by the store
}

// FieldError says which field of an incident is wrong and why.
type FieldError struct {
	Field  string
	Value  string
	Reason string
}

// Error implements error.
func (e *FieldError) Error() string {
	return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Reason)
}

// Normalize trims text fields, rounds the point to 6 decimals (about 0.1 m) and
// fills Region from Admin1, so that equal input stores as equal rows.
func (inc *Incident) Normalize() {
	for i := range Props {
		if f := &Props[i]; f.Input && f.Kind.IsText() {
			*f.Text(inc) = strings.TrimSpace(*f.Text(inc))
		}
	}
	inc.Lon = RoundCoord(inc.Lon)
	inc.Lat = RoundCoord(inc.Lat)
	if inc.Admin1 != "" {
		inc.Admin1 = CanonicalAdmin1(inc.Admin1)
	}
	if inc.Region == "" {
		inc.Region = RegionOf(inc.Admin1)
	}
}

// RoundCoord rounds a coordinate to 6 decimals, the precision the store keeps.
func RoundCoord(v float64) float64 {
	return math.Round(v*1e6) / 1e6
}

// Validate reports the first field that breaks the data model's rules.
func (inc *Incident) Validate() error {
	if inc.EventID == "" {
		return &FieldError{"event_id", inc.EventID, "is required"}
	}
	if err := inc.checkTextLimits(); err != nil {
		return err
	}
	for i := range Props {
		if err := Props[i].check(inc); err != nil {
			return err
		}
	}
	if math.IsNaN(inc.Lon) || inc.Lon < -180 || inc.Lon > 180 {
		return &FieldError{"longitude", fmt.Sprint(inc.Lon), "must be a number from -180 to 180"}
	}
	if math.IsNaN(inc.Lat) || inc.Lat < -90 || inc.Lat > 90 {
		return &FieldError{"latitude", fmt.Sprint(inc.Lat), "must be a number from -90 to 90"}
	}
	return nil
}

// check reports a value of inc that breaks the field's rules: a required
// text left empty, a date that is not one, an integer out of its bounds.
func (f *Field) check(inc *Incident) error {
	switch {
	case f.Kind == Date:
		v := *f.Text(inc)
		if _, err := time.Parse(DateLayout, v); err != nil {
			return &FieldError{f.Name, v, "is not a date YYYY-MM-DD"}
		}
	case f.Kind.IsText():
		if f.Required && *f.Text(inc) == "" {
			return &FieldError{f.Name, "", "is required"}
		}
	case f.Kind == Integer && f.slot != sNone:
		n := *f.Int(inc)
		if f.HasMax && (n < f.Min || n > f.Max) {
			return &FieldError{f.Name, fmt.Sprint(n), f.rangeText()}
		}
		if n < f.Min {
			return &FieldError{f.Name, fmt.Sprint(n), fmt.Sprintf("must be %d or more", f.Min)}
		}
	}
	return nil
}

// rangeText says which values a bounded integer field takes: its list
// ("must be 1, 2 or 3") or its bounds.
func (f *Field) rangeText() string {
	if len(f.Enum) == 0 {
		return fmt.Sprintf("must be from %d to %d", f.Min, f.Max)
	}
	var b strings.Builder
	b.WriteString("must be ")
	for i, v := range f.Enum {
		switch {
		case i == 0:
		case i == len(f.Enum)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		fmt.Fprint(&b, v)
	}
	return b.String()
}
