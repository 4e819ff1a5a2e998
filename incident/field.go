package incident

// Kind is the type of value a field holds.
type Kind int

// The kinds of field.
const (
	String   Kind = iota // text
	Integer              // whole number
	Number               // any number
	Date                 // calendar date, text YYYY-MM-DD
	DateTime             // instant, RFC 3339 text in UTC to the second (…Z)
	Point                // the WGS 84 point (longitude, latitude)
)

// Field is one property of the incident as the outside world sees it: in
// GeoJSON, in filters, in the stores' columns (a store column carries the
// field's name).
type Field struct {
	Name string
	Kind Kind
}

// Fields are the incident's queryable properties, in the order GeoJSON
// writes them; "id" is the feature id and "geometry" the point.
var Fields = []Field{
	{"geometry", Point},
	{"id", Integer},
	{"event_id", String},
	{"event_date", Date},
	{"time_precision", Integer},
	{"event_type", String},
	{"sub_event_type", String},
	{"actor1", String},
	{"actor2", String},
	{"admin1", String},
	{"admin2", String},
	{"location", String},
	{"region", String},
	{"geo_precision", Integer},
	{"fatalities", Integer},
	{"source", String},
	{"source_url", String},
	{"notes", String},
	{"tags", String},
	{"updated_at", DateTime},
}

// FieldByName returns the field called name, and whether there is one.
func FieldByName(name string) (Field, bool) {
	for _, f := range Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// IsField reports whether name is a stored property an Equal may test:
// a field of the table other than the geometry.
func IsField(name string) bool {
	f, ok := FieldByName(name)
	return ok && f.Kind != Point
}
