package geo

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"incidentmap/incident"
)

// AppendFeature appends inc as an RFC 7946 GeoJSON Feature. It writes bytes by
// hand, not through encoding/json, because it runs once per row of exports of
// millions of rows and reflection would dominate the cost.
func AppendFeature(dst []byte, inc *incident.Incident) []byte {
	dst = append(dst, `{"type":"Feature","id":`...)
	dst = strconv.AppendInt(dst, inc.ID, 10)
	dst = append(dst, `,"geometry":{"type":"Point","coordinates":[`...)
	dst = AppendCoord(dst, inc.Lon)
	dst = append(dst, ',')
	dst = AppendCoord(dst, inc.Lat)
	dst = append(dst, `]},"properties":{`...)
	dst = appendProps(dst, inc)
	return append(dst, "}}"...)
}

// propKeys are the members' openings, `"name":` after a comma but for the
// first, made once from the field table.
var propKeys = func() []string {
	out := make([]string, len(incident.Props))
	for i, f := range incident.Props {
		out[i] = `,"` + f.Name + `":`
	}
	out[0] = out[0][1:]
	return out
}()

// appendProps appends the properties of inc in the field table's order.
func appendProps(dst []byte, inc *incident.Incident) []byte {
	for i := range incident.Props {
		dst = append(dst, propKeys[i]...)
		dst = appendValue(dst, &incident.Props[i], inc)
	}
	return dst
}

// appendValue appends the JSON value of the property f of inc.
func appendValue(dst []byte, f *incident.Field, inc *incident.Incident) []byte {
	if p := f.Int(inc); p != nil {
		return strconv.AppendInt(dst, int64(*p), 10)
	}
	return AppendString(dst, *f.Text(inc))
}

// AppendCoord appends a coordinate with at most 6 decimals and no exponent.
func AppendCoord(dst []byte, v float64) []byte {
	return strconv.AppendFloat(dst, incident.RoundCoord(v), 'f', -1, 64)
}

const hexDigits = "0123456789abcdef"

// plainJSON says which bytes AppendString copies as they are: ASCII but
// control characters, the quote, the backslash and <, >, &.
var plainJSON = func() (t [256]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return t
}()

// AppendString appends s as a JSON string. Like encoding/json it escapes <, >
// and & so that output pasted into HTML cannot close a script element, and it
// replaces invalid UTF-8 with U+FFFD.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Runs of bytes that need no escaping are the common case (a table
		// lookup each: exports of millions of rows spend their encoding
		// time here).
		for i < len(s) && plainJSON[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		b := s[i]
		if b < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but end lines in JavaScript source.
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// IncidentFromFeature reads an incident from a GeoJSON Feature with a Point
// geometry and the data model's property names. Numbers may arrive as JSON
// numbers or numeric strings; missing precisions default to 1. The result is
// normalized and validated.
func IncidentFromFeature(f *geojson.Feature) (incident.Incident, error) {
	var inc incident.Incident
	pt, ok := f.Geometry.(orb.Point)
	if !ok {
		return inc, &incident.FieldError{Field: "geometry", Value: fmt.Sprintf("%T", f.Geometry), Reason: "must be a Point"}
	}
	inc.Lon, inc.Lat = pt[0], pt[1]
	if math.IsInf(inc.Lon, 0) || math.IsInf(inc.Lat, 0) {
		return inc, &incident.FieldError{Field: "geometry", Value: fmt.Sprint(pt), Reason: "coordinates must be finite"}
	}
	p := f.Properties
	strs := map[string]*string{
		"event_id": &inc.EventID, "event_date": &inc.EventDate, "event_type": &inc.EventType,
		"sub_event_type": &inc.SubEventType, "actor1": &inc.Actor1, "actor2": &inc.Actor2,
		"admin1": &inc.Admin1, "admin2": &inc.Admin2, "location": &inc.Location, "region": &inc.Region,
		"source": &inc.Source, "source_url": &inc.SourceURL, "notes": &inc.Notes, "tags": &inc.Tags,
	}
	for name, dst := range strs {
		v, present := p[name]
		if !present || v == nil {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return inc, &incident.FieldError{Field: name, Value: fmt.Sprint(v), Reason: "must be a string"}
		}
		*dst = s
	}
	ints := []struct {
		name string
		dst  *int
		def  int
	}{{"time_precision", &inc.TimePrecision, 1}, {"geo_precision", &inc.GeoPrecision, 1}, {"fatalities", &inc.Fatalities, 0}}
	for _, it := range ints {
		n, err := intProp(p, it.name, it.def)
		if err != nil {
			return inc, err
		}
		*it.dst = n
	}
	inc.Normalize()
	return inc, inc.Validate()
}

// intProp reads a whole number that may be a JSON number or a numeric string.
func intProp(p geojson.Properties, name string, def int) (int, error) {
	v, present := p[name]
	if !present || v == nil || v == "" {
		return def, nil
	}
	switch x := v.(type) {
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1e9 {
			return 0, &incident.FieldError{Field: name, Value: fmt.Sprint(v), Reason: "must be a whole number"}
		}
		return int(x), nil
	case string:
		n, err := strconv.Atoi(x)
		if err != nil {
			return 0, &incident.FieldError{Field: name, Value: x, Reason: "must be a whole number"}
		}
		return n, nil
	}
	return 0, &incident.FieldError{Field: name, Value: fmt.Sprint(v), Reason: "must be a whole number"}
}

// IncidentsFromGeoJSON reads every incident of a small GeoJSON
// FeatureCollection held in memory, such as the embedded seed. Large files go
// through the streaming importer instead.
func IncidentsFromGeoJSON(data []byte) ([]incident.Incident, error) {
	fc, err := geojson.UnmarshalFeatureCollection(data)
	if err != nil {
		return nil, fmt.Errorf("read GeoJSON: %w", err)
	}
	incs := make([]incident.Incident, 0, len(fc.Features))
	for i, f := range fc.Features {
		inc, err := IncidentFromFeature(f)
		if err != nil {
			return nil, fmt.Errorf("feature %d: %w", i+1, err)
		}
		incs = append(incs, inc)
	}
	return incs, nil
}
