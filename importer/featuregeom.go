package importer

import (
	"bytes"
	"errors"
)

// geomKind is the orb type the old path made of a feature's geometry.
type geomKind uint8

const (
	geomNone geomKind = iota // no geometry, or null
	geomPoint
	geomMultiPoint
	geomLineString
	geomMultiLineString
	geomPolygon
	geomMultiPolygon
	geomCollection
)

// geomTypeNames are the "%T" of each kind, the value of the old "must be a
// Point" error.
var geomTypeNames = [...]string{"<nil>", "orb.Point", "orb.MultiPoint", "orb.LineString",
	"orb.MultiLineString", "orb.Polygon", "orb.MultiPolygon", "orb.Collection"}

// coordTypes are the Go types orb decoded each geometry type's coordinates
// into, outermost first, for the wording of type errors. The innermost is
// always orb.Point.
func coordTypes(typ string) (geomKind, []string) {
	switch typ {
	case "Point":
		return geomPoint, []string{"orb.Point"}
	case "MultiPoint":
		return geomMultiPoint, []string{"orb.MultiPoint", "orb.Point"}
	case "LineString":
		return geomLineString, []string{"orb.LineString", "orb.Point"}
	case "MultiLineString":
		return geomMultiLineString, []string{"orb.MultiLineString", "orb.LineString", "orb.Point"}
	case "Polygon":
		return geomPolygon, []string{"orb.Polygon", "orb.Ring", "orb.Point"}
	case "MultiPolygon":
		return geomMultiPolygon, []string{"orb.MultiPolygon", "orb.Polygon", "orb.Ring", "orb.Point"}
	case "GeometryCollection":
		return geomCollection, nil
	}
	return geomNone, nil
}

// The geometry's own keys. encoding/json matched them to orb's struct
// fields ignoring case (Unicode simple folding), which bytes.EqualFold does.
const (
	gOther = iota
	gType
	gCoordinates
	gGeometries
)

func geomField(key []byte) int {
	switch string(key) {
	case "type":
		return gType
	case "coordinates":
		return gCoordinates
	case "geometries":
		return gGeometries
	}
	switch {
	case bytes.EqualFold(key, []byte("type")):
		return gType
	case bytes.EqualFold(key, []byte("coordinates")):
		return gCoordinates
	case bytes.EqualFold(key, []byte("geometries")):
		return gGeometries
	}
	return gOther
}

// geometry reads the feature's "geometry" member as orb did.
func (d *featureDecoder) geometry() (geomKind, [2]float64, error) {
	v := d.member[mGeometry]
	if !v.ok() || d.b[v.lo] == 'n' {
		return geomNone, [2]float64{}, nil
	}
	return d.geometryValue(v.lo, v.hi)
}

// geometryValue is orb's Geometry.UnmarshalJSON for the (non-null) value at
// b[lo:hi]: the object's members first, the first type error among them
// reported only after all are read, except that an error inside "geometries"
// stops at once; then the type decides how the coordinates are read.
func (d *featureDecoder) geometryValue(lo, hi int) (geomKind, [2]float64, error) {
	b := d.b
	var pt [2]float64
	if b[lo] != '{' {
		return geomNone, pt, &typeError{value: jsonKind(b[lo]), typ: "geojson.jsonGeometry"}
	}
	var (
		typ, coords span
		saved       error
		nullInside  bool // the last "geometries" holds a null
	)
	for k := firstElem(b, lo); k >= 0; {
		keyEnd, kflags := scanString(b, k)
		v := valueAfterKey(b, keyEnd)
		var end int
		var vflags uint8
		if b[v] == '"' {
			end, vflags = scanString(b, v)
		} else {
			end = skipValue(b, v, 0, nil)
		}
		var field int
		if kflags == 0 {
			field = geomField(b[k+1 : keyEnd-1])
		} else {
			field = geomField([]byte(decodeString(b[k+1:keyEnd-1], kflags)))
		}
		switch field {
		case gType:
			switch b[v] {
			case '"':
				typ = span{lo: v, hi: end, flags: vflags}
			case 'n': // null leaves a Go string as it was
			default:
				if saved == nil {
					saved = &typeError{value: jsonKind(b[v]), typ: "string", struc: "jsonGeometry", field: "type"}
				}
			}
		case gCoordinates:
			coords = span{lo: v, hi: end}
		case gGeometries:
			switch b[v] {
			case 'n':
				nullInside = false
			case '[':
				nullInside = false
				for e := firstElem(b, v); e >= 0; {
					eend := skipValue(b, e, 0, nil)
					if b[e] == 'n' {
						nullInside = true
					} else if _, _, err := d.geometryValue(e, eend); err != nil {
						if te, ok := err.(*typeError); ok {
							// encoding/json names the field the error passed through.
							te.struc = "jsonGeometry"
							if te.field == "" {
								te.field = "geometries"
							} else {
								te.field = "geometries." + te.field
							}
						}
						return geomNone, pt, err
					}
					e = nextElem(b, eend)
				}
			default:
				if saved == nil {
					saved = &typeError{value: jsonKind(b[v]), typ: "[]*geojson.Geometry", struc: "jsonGeometry", field: "geometries"}
				}
			}
		}
		k = nextElem(b, end)
	}
	if saved != nil {
		return geomNone, pt, saved
	}
	kind, types := coordTypes(d.str(typ))
	switch {
	case kind == geomNone:
		return geomNone, pt, errors.New("geojson: invalid geometry")
	case kind == geomCollection:
		if nullInside {
			return geomNone, pt, errNullInCollection
		}
		return geomCollection, pt, nil
	case !coords.ok():
		// orb decoded the missing coordinates as empty input.
		return geomNone, pt, errors.New("unexpected end of JSON input")
	case kind == geomPoint:
		pt, err := d.point(coords)
		return kind, pt, err
	}
	return kind, pt, d.checkCoords(coords, types)
}

// point reads coordinates decoded into orb.Point, a [2]float64: elements
// past the second are skipped unread, missing ones stay 0, null is 0.
func (d *featureDecoder) point(v span) ([2]float64, error) {
	b := d.b
	var pt [2]float64
	switch b[v.lo] {
	case 'n':
		return pt, nil
	case '[':
	default:
		return pt, &typeError{value: jsonKind(b[v.lo]), typ: "orb.Point"}
	}
	n := 0
	for e := firstElem(b, v.lo); e >= 0 && n < 2; n++ {
		end := skipValue(b, e, 0, nil)
		ev := span{lo: e, hi: end}
		if err := d.float(ev); err != nil {
			return pt, err
		}
		if b[e] != 'n' {
			pt[n] = d.number(ev)
		}
		e = nextElem(b, end)
	}
	return pt, nil
}

// checkCoords checks coordinates decoded into nested slices of points whose
// Go types are types, outermost first.
func (d *featureDecoder) checkCoords(v span, types []string) error {
	if len(types) == 1 {
		_, err := d.point(v)
		return err
	}
	b := d.b
	switch b[v.lo] {
	case 'n':
		return nil
	case '[':
	default:
		return &typeError{value: jsonKind(b[v.lo]), typ: types[0]}
	}
	for e := firstElem(b, v.lo); e >= 0; {
		end := skipValue(b, e, 0, nil)
		if err := d.checkCoords(span{lo: e, hi: end}, types[1:]); err != nil {
			return err
		}
		e = nextElem(b, end)
	}
	return nil
}
