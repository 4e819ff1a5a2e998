package geo

import (
	"strconv"

	"incidentmap/incident"
)

// PropertyNames are the properties AppendFeature writes, in its order.
var PropertyNames = []string{"event_id", "event_date", "time_precision", "event_type", "sub_event_type",
	"actor1", "actor2", "admin1", "admin2", "location", "region", "geo_precision", "fatalities",
	"source", "source_url", "notes", "tags", "updated_at"}

// propValue appends the JSON value of one property of inc; ok is false for a
// name that is not a property.
func propValue(dst []byte, inc *incident.Incident, name string) (_ []byte, ok bool) {
	str := func(s string) ([]byte, bool) { return AppendString(dst, s), true }
	num := func(n int) ([]byte, bool) { return strconv.AppendInt(dst, int64(n), 10), true }
	switch name {
	case "event_id":
		return str(inc.EventID)
	case "event_date":
		return str(inc.EventDate)
	case "time_precision":
		return num(inc.TimePrecision)
	case "event_type":
		return str(inc.EventType)
	case "sub_event_type":
		return str(inc.SubEventType)
	case "actor1":
		return str(inc.Actor1)
	case "actor2":
		return str(inc.Actor2)
	case "admin1":
		return str(inc.Admin1)
	case "admin2":
		return str(inc.Admin2)
	case "location":
		return str(inc.Location)
	case "region":
		return str(inc.Region)
	case "geo_precision":
		return num(inc.GeoPrecision)
	case "fatalities":
		return num(inc.Fatalities)
	case "source":
		return str(inc.Source)
	case "source_url":
		return str(inc.SourceURL)
	case "notes":
		return str(inc.Notes)
	case "tags":
		return str(inc.Tags)
	case "updated_at":
		return str(inc.UpdatedAt)
	}
	return dst, false
}

// IsProperty reports whether name is a property AppendFeature writes.
func IsProperty(name string) bool {
	_, ok := propValue(nil, &incident.Incident{}, name)
	return ok
}

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
		var ok bool
		if dst, ok = propValue(dst, inc, name); !ok {
			dst = dst[:mark]
			continue
		}
		first = false
	}
	return append(dst, "}}"...)
}
