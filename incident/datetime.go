package incident

import (
	"fmt"
	"strings"
	"time"
)

// Interval is a closed time interval; a zero Start or End means open on that side.
type Interval struct {
	Start time.Time
	End   time.Time
}

// IsZero reports whether the interval is open on both sides, that is, no filter.
func (iv Interval) IsZero() bool { return iv.Start.IsZero() && iv.End.IsZero() }

// StartDate is the first calendar day (UTC) the interval touches, "" when open.
func (iv Interval) StartDate() string { return dateOf(iv.Start) }

// EndDate is the last calendar day (UTC) the interval touches, "" when open.
func (iv Interval) EndDate() string { return dateOf(iv.End) }

func dateOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(DateLayout)
}

// ParseInterval parses an OGC API datetime value: an instant ("2021-05-08" or an
// RFC 3339 date-time), or an interval "start/end" where either side may be ".."
// or empty for open. A bare date as the end of an interval covers that whole day.
func ParseInterval(s string) (Interval, error) {
	if s == "" {
		return Interval{}, fmt.Errorf("datetime is empty")
	}
	start, end, isInterval := strings.Cut(s, "/")
	if !isInterval {
		t, day, err := parseInstant(s)
		if err != nil {
			return Interval{}, err
		}
		if day {
			return Interval{Start: t, End: t.Add(24*time.Hour - time.Nanosecond)}, nil
		}
		return Interval{Start: t, End: t}, nil
	}
	if strings.Contains(end, "/") {
		return Interval{}, fmt.Errorf("datetime %q has more than one '/'", s)
	}
	var iv Interval
	if start != "" && start != ".." {
		t, _, err := parseInstant(start)
		if err != nil {
			return Interval{}, err
		}
		iv.Start = t
	}
	if end != "" && end != ".." {
		t, day, err := parseInstant(end)
		if err != nil {
			return Interval{}, err
		}
		if day {
			t = t.Add(24*time.Hour - time.Nanosecond)
		}
		iv.End = t
	}
	if iv.IsZero() {
		return Interval{}, fmt.Errorf("datetime %q is open at both ends", s)
	}
	if !iv.Start.IsZero() && !iv.End.IsZero() && iv.Start.After(iv.End) {
		return Interval{}, fmt.Errorf("datetime %q starts after it ends", s)
	}
	return iv, nil
}

// parseInstant parses a date or an RFC 3339 date-time; day reports a bare date.
func parseInstant(s string) (t time.Time, day bool, err error) {
	// GDAL 3.6's OAPIF driver turns a -where on a Date field into a datetime
	// like "2021-01-01T/.." (a date with a bare T); read it as the date.
	if len(s) == len(DateLayout)+1 && s[len(DateLayout)] == 'T' {
		s = s[:len(DateLayout)]
	}
	if len(s) == len(DateLayout) {
		t, err = time.Parse(DateLayout, s)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("datetime %q is not a valid date YYYY-MM-DD", s)
		}
		return t, true, nil
	}
	t, err = time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("datetime %q is neither a date YYYY-MM-DD nor an RFC 3339 date-time", s)
	}
	return t.UTC(), false, nil
}
