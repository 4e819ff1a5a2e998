package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"incidentmap/incident"
)

// The feature decoder reads one GeoJSON Feature straight from its bytes into
// a Row. It replaces geojson.UnmarshalFeature + geo.IncidentFromFeature, which
// built a map[string]any of the properties by reflection and cost most of the
// time of an import; its results, errors included, are the same as theirs
// (FuzzFeatureRowSame keeps the old path as the reference and compares). Where
// the rules below look odd, they are the old path's rules, kept on purpose.
//
// It works in two passes. The first walks the whole feature once: it checks
// that it is valid JSON (nothing else is reported before that, as with
// encoding/json), notes where each member's value lies and records where each
// known property's value lies. The second interprets those values in the order
// of the old checks.

// span is where a JSON value lies in the feature: b[lo:hi]. hi == 0 means
// absent (no value starts at 0 inside an object).
type span struct {
	lo, hi int
	flags  uint8 // for strings: strEscaped, strHigh
}

func (s span) ok() bool { return s.hi != 0 }

// The properties the decoder notes: the field table's properties (by their
// index in incident.Props), then the source's timestamp.
var (
	pTimestamp = len(incident.Props)
	nProps     = pTimestamp + 1
)

// maxProps bounds nProps so that the noted values fit an array on the stack.
const maxProps = 32

func init() {
	if nProps > maxProps {
		panic("importer: the field table has more properties than maxProps")
	}
}

// propName is the name of noted property p.
func propName(p int) string {
	if p == pTimestamp {
		return "timestamp"
	}
	return incident.Props[p].Name
}

// propIndex returns the index of a known property name, or -1. The
// conversion of key in a map index costs no copy.
func propIndex(key []byte) int {
	if p := incident.PropIndex(string(key)); p >= 0 {
		return p
	}
	if string(key) == "timestamp" {
		return pTimestamp
	}
	return -1
}

// Keys of the feature object that GeoJSON reserves; any other is an extra member.
const (
	mType = iota
	mID
	mBBox
	mGeometry
	mProperties
	nMembers
	mExtra = -1
)

func memberIndex(key []byte) int {
	switch string(key) {
	case "type":
		return mType
	case "id":
		return mID
	case "bbox":
		return mBBox
	case "geometry":
		return mGeometry
	case "properties":
		return mProperties
	}
	return mExtra
}

// extra is a member outside GeoJSON's reserved keys. The old path decoded its
// value into an any, which fails only on a number out of float64's range.
type extra struct {
	key span // the key string, quotes included
	num span // first number out of range in the value, if any
}

type featureDecoder struct {
	b []byte
	// s is b as a string, made once when a string value is needed, so that
	// every string of the incident is a substring of it and costs no copy.
	s string

	notObject span // the whole value, when it is not an object
	member    [nMembers]span
	idNum     span // first number out of range in the last "id"
	extras    []extra
	prop      [maxProps]span // value of each known property (last one wins)
	propNum   span           // first number out of range anywhere in the properties

	scanned     bool // the input is valid JSON
	noteUnknown bool // note the first property outside the field table
	unknown     span // its key, quotes included
}

// Feature is a GeoJSON Feature as DecodeFeature reads it: the row, and what
// the write API checks besides it.
type Feature struct {
	Row
	Object  bool   // the input is one JSON object, whatever else is wrong with it
	Type    string // its "type" member, when that is a string
	ID      string // its "id" member's JSON text; "" when absent
	Unknown string // the first property that is not one of incident.Props; "" for none
}

// DecodeFeature is FeatureRow (the one GeoJSON Feature decoder of imports
// and the write API), telling also the Feature's type, id and the first
// property outside the field table (the write API refuses those, where an
// import ignores them). It fills them whenever the input is a JSON object,
// even when the error says what else is wrong.
func DecodeFeature(raw []byte) (Feature, error) {
	d := featureDecoder{b: raw, noteUnknown: true}
	row, err := d.decode()
	f := Feature{Row: row}
	if d.scanned && !d.notObject.ok() {
		f.Object = true
		f.Type = d.str(d.member[mType])
		if v := d.member[mID]; v.ok() {
			f.ID = string(raw[v.lo:v.hi])
		}
		if d.unknown.ok() {
			f.Unknown = d.keyString(d.unknown)
		}
	}
	return f, err
}

// errNullInCollection stands for input the old decoder panicked on: orb
// dereferences the nil that a null inside "geometries" leaves.
var errNullInCollection = errors.New("geojson: a GeometryCollection holds a null geometry")

// decodeFeature is FeatureRow.
func decodeFeature(raw []byte) (Row, error) {
	d := featureDecoder{b: raw}
	return d.decode()
}

// decode reads d.b.
func (d *featureDecoder) decode() (Row, error) {
	raw := d.b
	if string(raw) == "null" {
		// orb reads exactly "null" as an empty feature without an error; only
		// FeatureRow's own type check then catches it.
		return Row{}, &incident.FieldError{Field: "type", Value: "", Reason: "must be Feature"}
	}
	if !d.scan() {
		return Row{}, syntaxError(raw)
	}
	d.scanned = true
	if err := d.checkMembers(); err != nil {
		return Row{}, notAFeature(raw, err.Error())
	}
	kind, pt, err := d.geometry()
	if err != nil {
		return Row{}, notAFeature(raw, err.Error())
	}
	if typ := d.str(d.member[mType]); typ != "Feature" {
		return Row{}, notAFeature(raw, "geojson: not a feature: type="+typ)
	}
	if kind != geomPoint {
		return Row{}, &incident.FieldError{Field: "geometry", Value: geomTypeNames[kind], Reason: "must be a Point"}
	}
	inc, err := d.incident(pt)
	if err != nil {
		return Row{}, err
	}
	out := Row{Incident: inc}
	out.Timestamp, err = d.timestamp()
	return out, err
}

func notAFeature(raw []byte, msg string) error {
	return &incident.FieldError{Field: "feature", Value: snippet(raw), Reason: "is not a GeoJSON Feature: " + msg}
}

// syntaxError reports broken JSON in encoding/json's words, which is what
// users saw before; it runs only for broken input, so its cost does not matter.
func syntaxError(raw []byte) error {
	var v any
	err := json.Unmarshal(raw, &v)
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		// The scanner and encoding/json disagree; FuzzFeatureRowSame exists
		// to make this unreachable.
		return notAFeature(raw, "invalid JSON")
	}
	return notAFeature(raw, se.Error())
}

// scan is the first pass: it checks the whole feature is valid JSON and
// notes where things are. It reports false for invalid JSON.
func (d *featureDecoder) scan() bool {
	b := d.b
	i := skipWS(b, 0)
	if i >= len(b) {
		return false
	}
	if b[i] != '{' {
		end := skipValue(b, i, 0, nil)
		if end < 0 || skipWS(b, end) != len(b) {
			return false
		}
		d.notObject = span{lo: i, hi: end} // checkMembers reports it
		return true
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipWS(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		keyEnd, flags := scanString(b, i)
		if keyEnd < 0 {
			return false
		}
		key := span{lo: i, hi: keyEnd, flags: flags}
		if i = skipWS(b, keyEnd); i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipWS(b, i+1)
		start := i
		var m int
		if flags == 0 {
			m = memberIndex(b[key.lo+1 : key.hi-1])
		} else {
			m = memberIndex([]byte(d.keyString(key)))
		}
		var vflags uint8
		switch m {
		case mProperties:
			i = d.scanProperties(i)
		case mID:
			d.idNum = span{}
			i = skipValue(b, i, 1, &d.idNum)
		case mExtra:
			var num span
			i = skipValue(b, i, 1, &num)
			d.extras = append(d.extras, extra{key: key, num: num})
		default:
			if i < len(b) && b[i] == '"' {
				i, vflags = scanString(b, i)
			} else {
				i = skipValue(b, i, 1, nil)
			}
		}
		if i < 0 {
			return false
		}
		if m >= 0 {
			d.member[m] = span{lo: start, hi: i, flags: vflags}
		}
		more := false
		if i, more = nextMember(b, i, '}'); !more {
			return i >= 0 && skipWS(b, i) == len(b)
		}
	}
}

// scanProperties reads the "properties" value at b[i]: every value is
// checked, and where each known property's value lies is noted.
func (d *featureDecoder) scanProperties(i int) int {
	b := d.b
	d.prop = [maxProps]span{}
	d.propNum = span{}
	d.unknown = span{}
	if i >= len(b) || b[i] != '{' {
		return skipValue(b, i, 1, nil)
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return -1
		}
		keyEnd, flags := scanString(b, i)
		if keyEnd < 0 {
			return -1
		}
		var p int
		if flags == 0 {
			p = propIndex(b[i+1 : keyEnd-1])
		} else {
			p = propIndex([]byte(d.keyString(span{lo: i, hi: keyEnd, flags: flags})))
		}
		if (p < 0 || p == pTimestamp) && d.noteUnknown && !d.unknown.ok() {
			d.unknown = span{lo: i, hi: keyEnd, flags: flags}
		}
		if i = skipWS(b, keyEnd); i >= len(b) || b[i] != ':' {
			return -1
		}
		i = skipWS(b, i+1)
		start := i
		var sflags uint8
		if i < len(b) && b[i] == '"' {
			i, sflags = scanString(b, i)
		} else {
			i = skipValue(b, i, 2, &d.propNum)
		}
		if i < 0 {
			return -1
		}
		if p >= 0 {
			d.prop[p] = span{lo: start, hi: i, flags: sflags}
		}
		more := false
		if i, more = nextMember(b, i, '}'); !more {
			return i
		}
	}
}

// keyString is a key (a string span, quotes included) decoded.
func (d *featureDecoder) keyString(k span) string {
	return decodeString(d.b[k.lo+1:k.hi-1], k.flags)
}

func decodeString(c []byte, flags uint8) string {
	if flags&strEscaped == 0 && (flags&strHigh == 0 || utf8.Valid(c)) {
		return string(c)
	}
	return unquote(c)
}

// str returns the string value at sp ("" when absent); only for string values.
func (d *featureDecoder) str(sp span) string {
	if !sp.ok() || d.b[sp.lo] != '"' {
		return ""
	}
	c := d.b[sp.lo+1 : sp.hi-1]
	if sp.flags&strEscaped == 0 && (sp.flags&strHigh == 0 || utf8.Valid(c)) {
		if d.s == "" {
			d.s = string(d.b)
		}
		return d.s[sp.lo+1 : sp.hi-1]
	}
	return unquote(c)
}

// number parses the number literal at sp, which fits a float64.
func (d *featureDecoder) number(sp span) float64 {
	if d.s == "" {
		d.s = string(d.b)
	}
	f, _ := strconv.ParseFloat(d.s[sp.lo:sp.hi], 64)
	return f
}

// typeError is encoding/json's UnmarshalTypeError as the old path worded it:
// Go type names are those of orb's types it decoded into.
type typeError struct {
	value, typ   string
	struc, field string
}

func (e *typeError) Error() string {
	if e.struc != "" || e.field != "" {
		return "json: cannot unmarshal " + e.value + " into Go struct field " + e.struc + "." + e.field + " of type " + e.typ
	}
	return "json: cannot unmarshal " + e.value + " into Go value of type " + e.typ
}

// jsonKind names a value's JSON kind from its first byte, as encoding/json's
// type errors do.
func jsonKind(c byte) string {
	switch c {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

func (d *featureDecoder) rangeError(num span) error {
	return &typeError{value: "number " + string(d.b[num.lo:num.hi]), typ: "float64"}
}

// checkMembers reports the first member the old path failed to decode. orb
// went through the members in map order, so when several are bad the old
// error was any one of them; this takes them in a fixed order.
func (d *featureDecoder) checkMembers() error {
	b := d.b
	if v := d.notObject; v.ok() {
		// Not an object: orb decoded it into a map[string]nocopyRawMessage.
		if b[v.lo] == 'n' {
			return errors.New("geojson: not a feature: type=")
		}
		return &typeError{value: jsonKind(b[v.lo]), typ: "map[string]geojson.nocopyRawMessage"}
	}
	if v := d.member[mType]; v.ok() && b[v.lo] != '"' && b[v.lo] != 'n' {
		return &typeError{value: jsonKind(b[v.lo]), typ: "string"}
	}
	if d.member[mID].ok() && d.idNum.ok() {
		return d.rangeError(d.idNum)
	}
	if v := d.member[mBBox]; v.ok() {
		if err := d.checkBBox(v); err != nil {
			return err
		}
	}
	// The geometry is checked by d.geometry, next: it comes here in orb's
	// order, and checking it after the others is one of the orders orb had.
	if v := d.member[mProperties]; v.ok() {
		if c := b[v.lo]; c != '{' && c != 'n' {
			return &typeError{value: jsonKind(c), typ: "geojson.Properties"}
		}
		if d.propNum.ok() {
			return d.rangeError(d.propNum)
		}
	}
	return d.checkExtras()
}

func (d *featureDecoder) checkBBox(v span) error {
	b := d.b
	switch b[v.lo] {
	case 'n':
		return nil
	case '[':
	default:
		return &typeError{value: jsonKind(b[v.lo]), typ: "geojson.BBox"}
	}
	for i := firstElem(b, v.lo); i >= 0; {
		end := skipValue(b, i, 0, nil)
		if err := d.float(span{lo: i, hi: end}); err != nil {
			return err
		}
		i = nextElem(b, end)
	}
	return nil
}

// float checks a value decoded into a float64: a number in range or null.
func (d *featureDecoder) float(v span) error {
	switch c := d.b[v.lo]; c {
	case 'n':
		return nil
	case '"', '{', '[', 't', 'f':
		return &typeError{value: jsonKind(c), typ: "float64"}
	}
	if overflows(d.b[v.lo:v.hi]) {
		return d.rangeError(v)
	}
	return nil
}

// checkExtras reports a number out of range in an extra member. Only the last
// member of each key counted (orb kept them in a map).
func (d *featureDecoder) checkExtras() error {
	bad := false
	for _, e := range d.extras {
		bad = bad || e.num.ok()
	}
	if !bad {
		return nil
	}
	// From the last member back, so that a key seen is one a later member
	// overrides; the last error kept is the first bad member that counted.
	seen := make(map[string]bool, len(d.extras))
	var first error
	for n := len(d.extras) - 1; n >= 0; n-- {
		e := d.extras[n]
		key := d.keyString(e.key)
		if seen[key] {
			continue
		}
		seen[key] = true
		if e.num.ok() {
			first = d.rangeError(e.num)
		}
	}
	return first
}

// incident is geo.IncidentFromFeature over the noted properties.
func (d *featureDecoder) incident(pt [2]float64) (incident.Incident, error) {
	var inc incident.Incident
	inc.Lon, inc.Lat = pt[0], pt[1]
	if math.IsInf(inc.Lon, 0) || math.IsInf(inc.Lat, 0) {
		return inc, &incident.FieldError{Field: "geometry", Value: fmt.Sprint(pt), Reason: "coordinates must be finite"}
	}
	// The old code went through a map here, so with several bad strings it
	// reported any one of them; this reports the first in the table's order.
	for p := range incident.Props {
		f := &incident.Props[p]
		v := d.prop[p]
		if !f.Input || f.Int(&inc) != nil || !v.ok() {
			continue
		}
		switch d.b[v.lo] {
		case 'n':
		case '"':
			*f.Text(&inc) = d.str(v)
		default:
			return inc, &incident.FieldError{Field: f.Name, Value: d.sprint(v), Reason: "must be a string"}
		}
	}
	for p := range incident.Props {
		f := &incident.Props[p]
		if n := f.Int(&inc); n != nil && f.Input {
			var err error
			if *n, err = d.intProp(p, f.Default); err != nil {
				return inc, err
			}
		}
	}
	inc.Normalize()
	return inc, inc.Validate()
}

// intProp reads a whole number given as a JSON number or a numeric string;
// absent, null and "" mean def. Either must lie within ±1e9 (the orb-based
// decoder bounded only numbers, and let "99999999999" fatalities through).
func (d *featureDecoder) intProp(p, def int) (int, error) {
	v := d.prop[p]
	if !v.ok() {
		return def, nil
	}
	switch d.b[v.lo] {
	case 'n':
		return def, nil
	case '"':
		s := d.str(v)
		if s == "" {
			return def, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < -1e9 || n > 1e9 {
			return 0, &incident.FieldError{Field: propName(p), Value: s, Reason: "must be a whole number"}
		}
		return n, nil
	case '{', '[', 't', 'f':
		return 0, &incident.FieldError{Field: propName(p), Value: d.sprint(v), Reason: "must be a whole number"}
	}
	x := d.number(v)
	if x != math.Trunc(x) || math.Abs(x) > 1e9 {
		return 0, &incident.FieldError{Field: propName(p), Value: fmt.Sprint(x), Reason: "must be a whole number"}
	}
	return int(x), nil
}

const badTimestamp = "is not a Unix time (whole seconds ≥ 0)"

// timestamp reads the optional "timestamp" property (Unix seconds).
func (d *featureDecoder) timestamp() (int64, error) {
	v := d.prop[pTimestamp]
	if !v.ok() {
		return 0, nil
	}
	switch d.b[v.lo] {
	case 'n':
		return 0, nil
	case '"':
		s := d.str(v)
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return 0, &incident.FieldError{Field: "timestamp", Value: s, Reason: badTimestamp}
		}
		return n, nil
	case '{', '[', 't', 'f':
		return 0, &incident.FieldError{Field: "timestamp", Value: d.sprint(v), Reason: badTimestamp}
	}
	x := d.number(v)
	// 2^63 and above would wrap to a negative int64 (the orb-based decoder
	// stored 1e19 as -9223372036854775808).
	if x < 0 || x != math.Trunc(x) || x >= 1<<63 {
		return 0, &incident.FieldError{Field: "timestamp", Value: fmt.Sprint(x), Reason: badTimestamp}
	}
	return int64(x), nil
}

// sprint formats a value that is not a string as fmt.Sprint printed the any
// encoding/json made of it (maps with sorted keys, arrays in brackets).
func (d *featureDecoder) sprint(v span) string {
	switch c := d.b[v.lo]; c {
	case 't':
		return "true"
	case 'f':
		return "false"
	case '{', '[':
		// Rare: a property given as an array or object. Decode it the way
		// the old path did so that the text matches.
		var x any
		if err := json.Unmarshal(d.b[v.lo:v.hi], &x); err != nil {
			return string(d.b[v.lo:v.hi])
		}
		return fmt.Sprint(x)
	}
	return fmt.Sprint(d.number(v))
}
