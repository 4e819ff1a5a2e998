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
	for _, s := range []*string{&inc.EventID, &inc.EventDate, &inc.EventType, &inc.SubEventType,
		&inc.Actor1, &inc.Actor2, &inc.Admin1, &inc.Admin2, &inc.Location, &inc.Region,
		&inc.Source, &inc.SourceURL, &inc.Notes, &inc.Tags} {
		*s = strings.TrimSpace(*s)
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
	if _, err := time.Parse(DateLayout, inc.EventDate); err != nil {
		return &FieldError{"event_date", inc.EventDate, "is not a date YYYY-MM-DD"}
	}
	if inc.TimePrecision < 1 || inc.TimePrecision > 3 {
		return &FieldError{"time_precision", fmt.Sprint(inc.TimePrecision), "must be 1, 2 or 3"}
	}
	if inc.EventType == "" {
		return &FieldError{"event_type", inc.EventType, "is required"}
	}
	if inc.GeoPrecision < 1 || inc.GeoPrecision > 3 {
		return &FieldError{"geo_precision", fmt.Sprint(inc.GeoPrecision), "must be 1, 2 or 3"}
	}
	if inc.Fatalities < 0 {
		return &FieldError{"fatalities", fmt.Sprint(inc.Fatalities), "must be 0 or more"}
	}
	if math.IsNaN(inc.Lon) || inc.Lon < -180 || inc.Lon > 180 {
		return &FieldError{"longitude", fmt.Sprint(inc.Lon), "must be a number from -180 to 180"}
	}
	if math.IsNaN(inc.Lat) || inc.Lat < -90 || inc.Lat > 90 {
		return &FieldError{"latitude", fmt.Sprint(inc.Lat), "must be a number from -90 to 90"}
	}
	return nil
}
