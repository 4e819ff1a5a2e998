package geo

import (
	"strconv"

	"incidentmap/incident"
)

// PropertyNames are the properties AppendFeature writes, in its order.
var PropertyNames = func() []string {
	out := make([]string, len(incident.Props))
	for i, f := range incident.Props {
		out[i] = f.Name
	}
	return out
}()

// IsProperty reports whether name is a property AppendFeature writes.
func IsProperty(name string) bool { return incident.PropIndex(name) >= 0 }

// AppendFeatureSelect appends inc as a GeoJSON Feature holding only the
// properties named in props, in that order (nil: all, as AppendFeature), and
// "geometry": null when skipGeometry: the small features a GIS user asks for
// with properties= and skipGeometry=true. Unknown names are skipped; callers
// check them with IsProperty.
func AppendFeatureSelect(dst []byte, inc *incident.Incident, props []string, skipGeometry bool) []byte {
	if props == nil && !skipGeometry {
		return AppendFeature(dst, inc)
	}
	dst = append(dst, `{"type":"Feature","id":`...)
	dst = strconv.AppendInt(dst, inc.ID, 10)
	if skipGeometry {
		dst = append(dst, `,"geometry":null,"properties":{`...)
	} else {
		dst = append(dst, `,"geometry":{"type":"Point","coordinates":[`...)
		dst = AppendCoord(dst, inc.Lon)
		dst = append(dst, ',')
		dst = AppendCoord(dst, inc.Lat)
		dst = append(dst, `]},"properties":{`...)
	}
	if props == nil {
		dst = appendProps(dst, inc)
		return append(dst, "}}"...)
	}
	first := true
	for _, name := range props {
		mark := len(dst)
		if !first {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, name...)
		dst = append(dst, `":`...)
		p := incident.PropIndex(name)
		if p < 0 {
			dst = dst[:mark]
			continue
		}
		dst = appendValue(dst, &incident.Props[p], inc)
		first = false
	}
	return append(dst, "}}"...)
}
