package importer_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"incidentmap/importer"
	"incidentmap/incident"
)

// refFeatureRow is FeatureRow as it was before the hand-written decoder
// (orb's geojson.UnmarshalFeature, then geo.IncidentFromFeature, kept below as
// refIncidentFromFeature). It stays
// here, and only here, as the reference FeatureRow must agree with.
func refFeatureRow(raw []byte) (importer.Row, error) {
	var out importer.Row
	f, err := geojson.UnmarshalFeature(raw)
	if err != nil {
		return out, &incident.FieldError{Field: "feature", Value: refSnippet(raw), Reason: "is not a GeoJSON Feature: " + err.Error()}
	}
	if f.Type != "Feature" {
		return out, &incident.FieldError{Field: "type", Value: f.Type, Reason: "must be Feature"}
	}
	inc, err := refIncidentFromFeature(f)
	if err != nil {
		return out, err
	}
	out.Incident = inc
	switch v := f.Properties["timestamp"].(type) {
	case nil:
	case float64:
		if v < 0 || v != math.Trunc(v) {
			return out, &incident.FieldError{Field: "timestamp", Value: fmt.Sprint(v), Reason: "is not a Unix time (whole seconds ≥ 0)"}
		}
		out.Timestamp = int64(v)
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return out, &incident.FieldError{Field: "timestamp", Value: v, Reason: "is not a Unix time (whole seconds ≥ 0)"}
		}
		out.Timestamp = n
	default:
		return out, &incident.FieldError{Field: "timestamp", Value: fmt.Sprint(v), Reason: "is not a Unix time (whole seconds ≥ 0)"}
	}
	return out, nil
}

func refSnippet(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "..."
	}
	return string(b)
}

// outcome is what one decoding gave: a row, a field error, or (the reference
// only) a panic.
type outcome struct {
	row      importer.Row
	lonBits  uint64 // the coordinates bit for bit: -0 and 0 must not differ either
	latBits  uint64
	err      incident.FieldError
	hasErr   bool
	panicked string
}

func (o outcome) String() string {
	switch {
	case o.panicked != "":
		return "panic: " + o.panicked
	case o.hasErr:
		return fmt.Sprintf("error %q %q %q (row %+v)", o.err.Field, o.err.Value, o.err.Reason, o.row)
	}
	return fmt.Sprintf("row %+v", o.row)
}

func outcomeOf(row importer.Row, err error) outcome {
	o := outcome{row: row, lonBits: math.Float64bits(row.Incident.Lon), latBits: math.Float64bits(row.Incident.Lat)}
	if err != nil {
		o.hasErr = true
		fe, ok := err.(*incident.FieldError)
		if !ok {
			fe = &incident.FieldError{Field: "(not a FieldError)", Value: err.Error()}
		}
		o.err = *fe
	}
	return o
}

func runRef(raw []byte) (o outcome) {
	defer func() {
		if p := recover(); p != nil {
			o = outcome{panicked: fmt.Sprint(p)}
		}
	}()
	return outcomeOf(refFeatureRow(raw))
}

// nullInCollection is FeatureRow's answer where the reference panics.
const nullInCollection = "is not a GeoJSON Feature: geojson: a GeometryCollection holds a null geometry"

// checkSame fails unless FeatureRow gives for raw an outcome the reference
// can give. The reference is not deterministic when a feature has several
// errors: orb walks the feature's members, and IncidentFromFeature the
// string properties, in Go's random map order, and reports the first bad one.
// So when the first reference run differs, it is run again (up to 3000 times:
// a given bad member comes first in at least 1 run in 16) to see whether
// FeatureRow's answer is one of its possible answers.
func checkSame(t *testing.T, raw []byte) {
	t.Helper()
	in := append([]byte(nil), raw...)
	got := outcomeOf(importer.FeatureRow(in))
	// The row must not share the input: the importer reuses its buffer.
	for i := range in {
		in[i] = 'X'
	}
	seen := map[string]bool{}
	for n := 0; n < 3000; n++ {
		ref := runRef(raw)
		if ref == got {
			return
		}
		if ref.panicked != "" && got.hasErr && got.err.Field == "feature" && got.err.Reason == nullInCollection {
			return
		}
		if stricterOnPurpose(got) {
			return
		}
		seen[ref.String()] = true
	}
	var refs []string
	for s := range seen {
		refs = append(refs, s)
	}
	t.Errorf("FeatureRow(%q)\n got %v\nwant one of:\n  %s", raw, got, strings.Join(refs, "\n  "))
}

// stricterOnPurpose says whether got refuses, on purpose, a value the
// reference let through its decoding (to accept it, or to fail later on
// another rule): a whole-number property given as a string beyond ±1e9, or
// a timestamp of 2^63 or more (the reference wrapped it to a negative number).
func stricterOnPurpose(got outcome) bool {
	if !got.hasErr {
		return false
	}
	switch got.err.Field {
	case "time_precision", "geo_precision", "fatalities":
		n, err := strconv.Atoi(got.err.Value)
		return err == nil && (n < -1e9 || n > 1e9)
	case "timestamp":
		x, err := strconv.ParseFloat(got.err.Value, 64)
		return err == nil && x >= 1<<63
	}
	return false
}

// feature builds a feature from a geometry and properties (JSON text).
func feature(geometry, properties string) string {
	return `{"type":"Feature","geometry":` + geometry + `,"properties":` + properties + `}`
}

const (
	okPoint = `{"type":"Point","coordinates":[44.4,33.3]}`
	okProps = `{"event_id":"G1","event_date":"2021-05-01","event_type":"Riots"}`
)

// withProp is okProps with one more property (or a replaced one: the last wins).
func withProp(kv string) string {
	return feature(okPoint, `{"event_id":"G1","event_date":"2021-05-01","event_type":"Riots",`+kv+`}`)
}

func withGeom(g string) string { return feature(g, okProps) }

// badFeatures are edge cases for the differential test: broken JSON, wrong
// types, missing and duplicate members, other geometries, numbers out of
// range, escapes and broken UTF-8.
func badFeatures() []string {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	out := []string{
		"", " ", "null", " null", "nul", "[]", "[1,2]", `"x"`, "1", "-", "true", "{}", "{ }", `{"a"}`, `{"a":}`, `{,}`,
		`{"type":"Feature"}`, `{"type":"Feature"} x`, `{"type":"Feature",}`, `{"type":"Feature"`, `{"type":"Feature"}}`,
		`{"type":"feature"}`, `{"type":5}`, `{"type":null}`, `{"type":["Feature"]}`, `{"type":{"a":1}}`, `{"type":true}`,
		`{"type":"Fe\u0061ture","geometry":` + okPoint + `,"properties":` + okProps + `}`,
		`{"type":"X","type":"Feature","geometry":` + okPoint + `,"properties":` + okProps + `}`,
		`{"type":"Feature","type":"X","geometry":` + okPoint + `,"properties":` + okProps + `}`,
		`{"Type":"Feature","geometry":` + okPoint + `,"properties":` + okProps + `}`,
		`{"typ\u0065":"Feature","ge\u006fmetry":` + okPoint + `,"properties":` + okProps + `}`,
		"\n\t " + feature(okPoint, okProps) + "\r\n ",
		feature(okPoint, okProps)[:70],
		feature(okPoint, okProps) + "}",
		feature(okPoint, okProps) + " 1",
	}
	for _, id := range []string{"1", "1e400", "[1,2e999]", `{"a":-1e400}`, `"x"`, "null", "1.5", "12345678901234567890123", "-0"} {
		out = append(out, `{"type":"Feature","id":`+id+`,"geometry":`+okPoint+`,"properties":`+okProps+`}`)
	}
	out = append(out, `{"type":"Feature","id":1e400,"id":1,"geometry":`+okPoint+`,"properties":`+okProps+`}`,
		`{"type":"Feature","id":1,"id":1e400,"geometry":`+okPoint+`,"properties":`+okProps+`}`)
	for _, bb := range []string{"[1,2,3,4]", "null", `"x"`, "5", "{}", "true", `[1,"a"]`, "[[1]]", "[{}]", "[true]", "[null]", "[1e400]", "[]"} {
		out = append(out, `{"type":"Feature","bbox":`+bb+`,"geometry":`+okPoint+`,"properties":`+okProps+`}`)
	}
	for _, ex := range []string{`"foo":1e400`, `"foo":1e400,"foo":1`, `"foo":1,"foo":1e400`, `"f\u006fo":1e400,"foo":1`,
		"\"a\xff\":1e400,\"a\xfe\":1", "\"a\xff\":1e400,\"b\":1", `"foo":[1,{"x":1e999}]`, `"foo":{"a":"b"}`, `"":1`} {
		out = append(out, `{"type":"Feature",`+ex+`,"geometry":`+okPoint+`,"properties":`+okProps+`}`)
	}
	out = append(out, `{"type":"Feature","properties":`+okProps+`}`, `{"type":"Feature","geometry":`+okPoint+`}`)
	for _, g := range []string{
		"null", `"x"`, "5", "[]", "[1]", "true", "{}", `{"type":"Point"}`, `{"type":"Point","coordinates":null}`,
		`{"type":"Point","coordinates":[]}`, `{"type":"Point","coordinates":[1]}`, `{"type":"Point","coordinates":[1,2,3]}`,
		`{"type":"Point","coordinates":[1,2,"x"]}`, `{"type":"Point","coordinates":[1,2,1e400]}`, `{"type":"Point","coordinates":["1",2]}`,
		`{"type":"Point","coordinates":[null,2]}`, `{"type":"Point","coordinates":[[1,2]]}`, `{"type":"Point","coordinates":[1e400,2]}`,
		`{"type":"Point","coordinates":[1,{}]}`, `{"type":"Point","coordinates":[true,1]}`,
		`{"type":"Point","coordinates":{"a":1}}`, `{"type":"Point","coordinates":"str"}`, `{"type":"Point","coordinates":5}`,
		`{"type":"Point","coordinates":true}`, `{"type":"point","coordinates":[1,2]}`, `{"TYPE":"Point","COORDINATES":[1,2]}`,
		`{"type":"Point","coordinateſ":[1,2]}`, `{"type":"Point","Coordinates":[1,2],"coordinates":[3,4]}`,
		`{"type":"Point","coordinates":[1,2],"coordinates":[3,4]}`, `{"type":5,"coordinates":[1,2]}`,
		`{"type":null,"coordinates":[1,2]}`, `{"type":"Point","type":null,"coordinates":[1,2]}`,
		`{"type":["Point"],"coordinates":[1,2]}`, `{"type":{},"coordinates":[1,2]}`, `{"type":true,"coordinates":[1,2]}`,
		`{"type":"P\u006fint","coordinates":[1,2]}`, `{"t\u0079pe":"Point","coordinates":[1,2]}`,
		`{"type":"Point","coordinates":[-0,-0.0]}`, `{"type":"Point","coordinates":[181,0]}`, `{"type":"Point","coordinates":[0,-91]}`,
		`{"type":"Point","coordinates":[1e-400,5e-324]}`, `{"type":"Point","coordinates":[44.12345649,33.0000005]}`,
		`{"type":"Point","coordinates":[1.7976931348623157e308,0]}`, `{"type":"Point","coordinates":[1.8e308,0]}`,
		`{"type":"LineString","coordinates":[[1,2],[3,4]]}`, `{"type":"LineString","coordinates":[1,2]}`,
		`{"type":"LineString","coordinates":[[1,"a"]]}`, `{"type":"LineString","coordinates":"x"}`, `{"type":"LineString","coordinates":null}`,
		`{"type":"LineString"}`, `{"type":"MultiPoint","coordinates":[[1,2]]}`, `{"type":"MultiPoint","coordinates":[5]}`,
		`{"type":"MultiLineString","coordinates":[[[1,2]]]}`, `{"type":"MultiLineString","coordinates":[[1]]}`,
		`{"type":"MultiLineString","coordinates":[5]}`, `{"type":"Polygon","coordinates":[[[1,2],[3,4],[1,2]]]}`,
		`{"type":"Polygon","coordinates":[1]}`, `{"type":"Polygon","coordinates":[[1]]}`, `{"type":"Polygon","coordinates":[[[1e400,1]]]}`,
		`{"type":"MultiPolygon","coordinates":[[[[1,2]]]]}`, `{"type":"MultiPolygon","coordinates":[[[1]]]}`,
		`{"type":"MultiPolygon","coordinates":[[{}]]}`, `{"type":"MultiPolygon","coordinates":[null,[null,[null,[null,null]]]]}`,
		`{"type":"GeometryCollection","geometries":[]}`, `{"type":"GeometryCollection"}`, `{"type":"GeometryCollection","geometries":null}`,
		`{"type":"GeometryCollection","geometries":[null]}`, `{"type":"GeometryCollection","geometries":[null],"geometries":[]}`,
		`{"type":"GeometryCollection","geometries":[],"geometries":[null]}`,
		`{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]}]}`,
		`{"type":"GeometryCollection","geometries":[{"type":"X"}]}`, `{"type":"GeometryCollection","geometries":[{"type":5}]}`,
		`{"type":"GeometryCollection","geometries":[5]}`, `{"type":"GeometryCollection","geometries":["x"]}`,
		`{"type":"GeometryCollection","geometries":[[1]]}`, `{"type":"GeometryCollection","geometries":[true]}`,
		`{"type":"GeometryCollection","geometries":"x"}`, `{"type":"GeometryCollection","geometries":5}`,
		`{"type":"GeometryCollection","geometries":{}}`, `{"type":"GeometryCollection","coordinates":"x"}`,
		`{"type":"GeometryCollection","geometries":[{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":["a"]}]}]}`,
		`{"type":"GeometryCollection","geometries":[{"type":"GeometryCollection","geometries":[{"type":[]}]}]}`,
		`{"type":"GeometryCollection","geometries":[{"type":"GeometryCollection","geometries":[null]}]}`,
		`{"type":"GeometryCollection","geometries":[{"type":"Point"}]}`,
		`{"type":"Point","coordinates":[1,2],"geometries":[{"type":"Bad"}]}`,
		`{"type":"Point","coordinates":[1,2],"geometries":[null]}`,
		`{"type":"Point","coordinates":[1,2],"geometries":[{"type":"GeometryCollection","geometries":[null]}]}`,
		`{"type":5,"geometries":[{"type":"X"}]}`, `{"type":5,"geometries":"x"}`, `{"geometries":"x","type":5}`,
		`{"type":"Point","coordinates":"x","geometries":[{"type":5}]}`,
		`{"type":"Point","coordinates":[1,2],"geometries":[{"type":"Point","coordinates":[1,2],"geometries":[{"type":{}}]}]}`,
		`{"type":"Point","coordinates":[1,2],"bbox":"x","extra":[1e400]}`,
	} {
		out = append(out, withGeom(g))
	}
	for _, p := range []string{"null", "[]", `"x"`, "5", "true", "[1e400]", "{}", `{"zzz":1e400}`, `{"zzz":[1e400]}`,
		`{"x":1e400,"x":1}`, `{"EVENT_ID":"x","event_date":"2021-05-01","event_type":"Riots"}`,
		`{"event\u005fid":"E","event_date":"2021-05-01","event_type":"Riots"}`,
		`{"event_id":"G1","event_date":"2021-05-01","event_type":"Riots","event_id":"G2"}`,
		`{"event_id":"G1","event_date":"2021-05-01","event_type":"Riots","event_id":null}`,
		`{"event_id":5,"event_date":"2021-05-01","event_type":"Riots","event_id":"G1"}`,
		`{"actor1":1,"actor2":2,"notes":false,"tags":[1],"event_id":3}`,
		`{"fatalities":"x","actor1":1}`, `{"fatalities":1.5,"event_id":"","event_date":"x"}`,
	} {
		out = append(out, feature(okPoint, p))
	}
	for _, name := range []string{"event_id", "event_date", "event_type", "sub_event_type", "actor1", "actor2", "admin1",
		"admin2", "location", "region", "source", "source_url", "notes", "tags", "updated_at"} {
		for _, v := range []string{"5", "1e21", "1.25", "-0", "true", "false", "null", `""`, `"  x  "`, `[1,"a",{"b":2}]`,
			`{"z":1,"a":[2,null]}`, "[]", "{}", `"\u00e9"`} {
			out = append(out, withProp(`"`+name+`":`+v))
		}
	}
	for _, name := range []string{"time_precision", "geo_precision", "fatalities", "timestamp"} {
		for _, v := range []string{`"5"`, `"+2"`, `" 2"`, `"2.0"`, `""`, "null", "1.5", "1e9", "1e10", "-1e9", "-1", "-0", "-0.0",
			`"99999999999"`, `"-3"`, "true", "[]", "{}", `"NaN"`, `"Infinity"`, `"1e3"`, "0", "1", "2", "3", "4", `"2"`, "2.0",
			"1e300", "9.3e18", "1e19", `"9223372036854775808"`, `"-0"`, `"0x10"`, `"1_0"`, "1700000000", `"1700000000"`,
			`[1]`, `{"a":1}`, `"٣"`} {
			out = append(out, withProp(`"`+name+`":`+v))
		}
	}
	for _, kv := range []string{
		`"event_id":"\u00e9v\u00e9nement \ud83d\ude00"`, `"event_id":"\ud800"`, `"event_id":"\ud800\u0041"`,
		`"event_id":"\udc00\ud800"`, `"event_id":"\ud83d\ude0"`, "\"event_id\":\"\xff\xfe\"", "\"event_id\":\"a\xc3\"",
		"\"notes\":\"\xed\xa0\x80\"", `"notes":"a\/b\"c\\d\b\f\n\r\t"`, `"notes":"\u0000\u001f"`, "\"notes\":\"a\x01\"",
		`"notes":"\u003cscript\u003e \u0026"`, `"notes":"\x"`, `"notes":"\u12"`, `"admin1":"al anbar"`, `"admin1":" ERBIL "`,
		`"admin1":"Nowhere","region":""`, `"admin1":"","region":"R"`, `"event_date":"2021-13-01"`, `"event_date":" 2021-05-01 "`,
		`"event_id":"` + strings.Repeat("x", 101) + `"`, `"event_id":" "`, `"event_type":""`, `"source_url":"http:\/\/x"`,
		`"location":"بغداد"`, `"notes":"` + strings.Repeat("é", 40) + `"`, "\"x\u2028\":1",
		`"deep":` + deep(9997), `"deep":` + deep(9998), `"deep":` + deep(9999),
	} {
		out = append(out, withProp(kv))
	}
	return out
}

// seedFeatures are the features of seed/incidents.geojson.
func seedFeatures(tb testing.TB) [][]byte {
	tb.Helper()
	data, err := os.ReadFile("../seed/incidents.geojson")
	if err != nil {
		tb.Fatal(err)
	}
	var fc struct {
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(data, &fc); err != nil {
		tb.Fatal(err)
	}
	if len(fc.Features) < 10 {
		tb.Fatalf("seed has %d features", len(fc.Features))
	}
	out := make([][]byte, len(fc.Features))
	for i, f := range fc.Features {
		out[i] = f
	}
	return out
}

// FuzzFeatureRowSame checks that FeatureRow gives what the old orb-based
// decoder gave, for any bytes.
func FuzzFeatureRowSame(f *testing.F) {
	for _, raw := range synthFeatures(f, 200) {
		f.Add(raw)
	}
	for _, raw := range seedFeatures(f) {
		f.Add([]byte(raw))
	}
	for _, s := range badFeatures() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkSame(t, raw)
	})
}

// TestFeatureRowValues pins a few results by value, so that a change to both
// decoders at once cannot pass unnoticed.
func TestFeatureRowValues(t *testing.T) {
	row, err := importer.FeatureRow([]byte(withProp(`"admin1":" al anbar ","fatalities":"7","timestamp":"1700000000","notes":"a\u0026b"`)))
	if err != nil {
		t.Fatal(err)
	}
	inc := row.Incident
	if inc.EventID != "G1" || inc.Admin1 != "Anbar" || inc.Region != "Anbar" || inc.Fatalities != 7 || inc.TimePrecision != 1 ||
		inc.GeoPrecision != 1 || inc.Notes != "a&b" || inc.Lon != 44.4 || inc.Lat != 33.3 || row.Timestamp != 1700000000 {
		t.Fatalf("row %+v", row)
	}
	for _, c := range []struct{ raw, field, value, reason string }{
		{withProp(`"fatalities":"99999999999"`), "fatalities", "99999999999", "must be a whole number"},
		{withProp(`"timestamp":1e19`), "timestamp", "1e+19", "is not a Unix time (whole seconds ≥ 0)"},
		{withGeom(`{"type":"LineString","coordinates":[[1,2]]}`), "geometry", "orb.LineString", "must be a Point"},
		{withProp(`"fatalities":1.5`), "fatalities", "1.5", "must be a whole number"},
		{withProp(`"timestamp":-1`), "timestamp", "-1", "is not a Unix time (whole seconds ≥ 0)"},
		{`{"type":"Feature"`, "feature", `{"type":"Feature"`, "is not a GeoJSON Feature: unexpected end of JSON input"},
		{withGeom(`{"type":"GeometryCollection","geometries":[null]}`), "feature", withGeom(`{"type":"GeometryCollection","geometries":[null]}`)[:60] + "...", nullInCollection},
	} {
		_, err := importer.FeatureRow([]byte(c.raw))
		fe, ok := err.(*incident.FieldError)
		if !ok || fe.Field != c.field || fe.Value != c.value || fe.Reason != c.reason {
			t.Errorf("FeatureRow(%s): %#v, want %s %q %s", c.raw, err, c.field, c.value, c.reason)
		}
	}
}

// refIncidentFromFeature is geo.IncidentFromFeature as it was, the reference
// decoder: it reads an incident from a GeoJSON Feature with a Point
// geometry and the data model's property names. Numbers may arrive as JSON
// numbers or numeric strings; missing precisions default to 1. The result is
// normalized and validated.
func refIncidentFromFeature(f *geojson.Feature) (incident.Incident, error) {
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
		n, err := refIntProp(p, it.name, it.def)
		if err != nil {
			return inc, err
		}
		*it.dst = n
	}
	inc.Normalize()
	return inc, inc.Validate()
}

// refIntProp reads a whole number that may be a JSON number or a numeric string.
func refIntProp(p geojson.Properties, name string, def int) (int, error) {
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

// TestDecodeFeatureIsFeatureRow checks that the write API's entry point
// (DecodeFeature) gives FeatureRow's row and error for every edge case, and
// tells the type, id and first property outside the field table.
func TestDecodeFeatureIsFeatureRow(t *testing.T) {
	for _, raw := range append(badFeatures(), withProp(`"fatalities":"7"`)) {
		f, err := importer.DecodeFeature([]byte(raw))
		row, rerr := importer.FeatureRow([]byte(raw))
		if a, b := outcomeOf(f.Row, err), outcomeOf(row, rerr); a != b {
			t.Errorf("DecodeFeature(%q) = %v; FeatureRow gives %v", raw, a, b)
		}
	}
	f, err := importer.DecodeFeature([]byte(`{"type":"Feature","id":12,"geometry":` + okPoint +
		`,"properties":{"event_id":"G1","event_date":"2021-05-01","event_type":"Riots","timestamp":5,"colour":"red"}}`))
	if err != nil || !f.Object || f.Type != "Feature" || f.ID != "12" || f.Unknown != "timestamp" || f.Incident.EventID != "G1" {
		t.Errorf("DecodeFeature: %+v, %v", f, err)
	}
	f, _ = importer.DecodeFeature([]byte(`[1]`))
	if f.Object {
		t.Errorf("an array is not an object: %+v", f)
	}
	f, err = importer.DecodeFeature([]byte(`{"type":"FeatureCollection","features":[]}`))
	if err == nil || !f.Object || f.Type != "FeatureCollection" || f.Unknown != "" {
		t.Errorf("a collection: %+v, %v", f, err)
	}
}
