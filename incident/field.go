package incident

import "strings"

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

// IsText reports whether values of the kind are held as text (strings,
// dates and instants).
func (k Kind) IsText() bool { return k == String || k == Date || k == DateTime }

// Field is one property of the incident as the outside world sees it: in
// GeoJSON, in filters, in the stores' columns (a store column carries the
// field's name; the geometry is stored as lon and lat), in CSV, KML and
// GeoPackage. Fields is the one list of them: encoders, decoders, the write
// API, the queryables and both engines' column lists are made from it, and
// a test checks it against each engine's schema.
type Field struct {
	Name  string
	Kind  Kind
	Title string // human title (queryables, sortables)
	// Enum is the closed list of values, when there is one.
	Enum []any
	// Prop says the field is a GeoJSON property (all but the feature id and
	// the geometry), written in this order.
	Prop bool
	// Input says the field is read from input (write API, imports): the
	// properties but updated_at, which the store sets.
	Input bool
	// Key says the field is the incident's external key (event_id), by
	// which imports upsert.
	Key bool
	// Required says input must give a non-empty value.
	Required bool
	// Default is the value of an integer field the input leaves out.
	Default int
	// Min and Max bound an integer field (HasMax says Max applies); both
	// engines' schemas check them.
	Min, Max int
	HasMax   bool
	// MaxBytes is the largest size of a text field in bytes of UTF-8.
	MaxBytes int
	// CSV is the field's column in ACLED's CSV ("" for none: ACLED's
	// "region" is a world region, not incidentmap's grouping).
	CSV string
	// Sortable says sortby may name the field.
	Sortable bool
	// FullText says q= searches the field's words.
	FullText bool

	// slot is the Incident struct field that holds the value (see
	// Incident.textSlot and intSlot); 0 for the id and the geometry.
	slot slot
}

// Text is the text value of a String, Date or DateTime field of inc (nil
// for other kinds), to read or set.
func (f *Field) Text(inc *Incident) *string { return inc.textSlot(f.slot) }

// Int is the value of an Integer property of inc (nil for the feature id,
// an int64, and other kinds), to read or set.
func (f *Field) Int(inc *Incident) *int { return inc.intSlot(f.slot) }

// Columns are the store columns that hold the field: its name, or lon and
// lat for the geometry.
func (f *Field) Columns() []string {
	if f.Kind == Point {
		return []string{"lon", "lat"}
	}
	return []string{f.Name}
}

// Text field limits, in bytes of UTF-8 (an Arabic letter is two). They keep
// one incident small enough that a page of them, an export row or an import
// row costs a bounded amount of memory: a 100 MB notes field made every read
// of its row cost hundreds of MB (issue 15). Notes are prose and get room
// for a long report; the other fields are names, codes and tags.
const (
	MaxNotesBytes     = 64 << 10 // notes
	MaxSourceURLBytes = 2 << 10  // source_url: long tracking URLs exist
	MaxEventIDBytes   = 100      // event_id, the external key
	MaxTextBytes      = 1 << 10  // every other text field
)

// EventTypes is ACLED's closed list of event types (ACLED codebook, 2023).
var EventTypes = []string{"Battles", "Explosions/Remote violence", "Violence against civilians",
	"Protests", "Riots", "Strategic developments"}

func anys(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// text builds a String property read from input.
func text(name, title string, max int, at slot) Field {
	return Field{Name: name, Kind: String, Title: title, Prop: true, Input: true, MaxBytes: max,
		CSV: name, Sortable: true, slot: at}
}

// precision is an integer 1, 2 or 3 that defaults to 1.
func precision(name, title string, at slot) Field {
	return Field{Name: name, Kind: Integer, Title: title, Enum: []any{1, 2, 3}, Prop: true, Input: true,
		Default: 1, Min: 1, Max: 3, HasMax: true, CSV: name, Sortable: true, slot: at}
}

func with(f Field, change func(*Field)) Field {
	change(&f)
	return f
}

// Fields are the incident's fields in the order GeoJSON writes them: the
// geometry, the feature id, then the properties.
var Fields = []Field{
	{Name: "geometry", Kind: Point, Title: "Location (WGS 84 point)"},
	{Name: "id", Kind: Integer, Title: "Feature id", Sortable: true},
	with(text("event_id", "External event id (ACLED event_id_cnty)", MaxEventIDBytes,
		sEventID),
		func(f *Field) { f.Key, f.Required, f.CSV = true, true, "event_id_cnty" }),
	{Name: "event_date", Kind: Date, Title: "Date of the event", Prop: true, Input: true, Required: true,
		CSV: "event_date", Sortable: true, slot: sEventDate},
	precision("time_precision", "Time precision (1 day, 2 week, 3 month)", sTimePrecision),
	with(text("event_type", "Event type (ACLED)", MaxTextBytes, sEventType),
		func(f *Field) { f.Required, f.Enum = true, anys(EventTypes) }),
	text("sub_event_type", "Sub-event type (ACLED)", MaxTextBytes, sSubEventType),
	with(text("actor1", "First actor", MaxTextBytes, sActor1),
		func(f *Field) { f.FullText = true }),
	with(text("actor2", "Second actor", MaxTextBytes, sActor2),
		func(f *Field) { f.FullText = true }),
	text("admin1", "Governorate", MaxTextBytes, sAdmin1),
	text("admin2", "District", MaxTextBytes, sAdmin2),
	with(text("location", "Place name", MaxTextBytes, sLocation),
		func(f *Field) { f.FullText = true }),
	with(text("region", "Region", MaxTextBytes, sRegion),
		func(f *Field) { f.CSV = "" }),
	precision("geo_precision", "Location precision (1 exact, 2 near, 3 region)", sGeoPrecision),
	{Name: "fatalities", Kind: Integer, Title: "Fatalities (lowest reported)", Prop: true, Input: true,
		CSV: "fatalities", Sortable: true, slot: sFatalities},
	with(text("source", "Source", MaxTextBytes, sSource),
		func(f *Field) { f.FullText = true }),
	text("source_url", "Source URL", MaxSourceURLBytes, sSourceURL),
	// Notes are free prose: searched by q, not sorted by (an order by them
	// serves no one and sorts long strings).
	with(text("notes", "What happened", MaxNotesBytes, sNotes),
		func(f *Field) { f.FullText, f.Sortable = true, false }),
	text("tags", "Tags", MaxTextBytes, sTags),
	{Name: "updated_at", Kind: DateTime, Title: "Last change", Prop: true, Sortable: true,
		slot: sUpdatedAt},
}

// Props are the Fields that are GeoJSON properties, in their order.
var Props = func() []Field {
	var out []Field
	for _, f := range Fields {
		if f.Prop {
			out = append(out, f)
		}
	}
	return out
}()

// propIndex finds a property by name; a map, since decoders ask once per
// member of every imported feature.
var propIndex = func() map[string]int {
	m := make(map[string]int, len(Props))
	for i, f := range Props {
		m[f.Name] = i
	}
	return m
}()

// PropIndex is the index in Props of the property called name, or -1. A
// []byte key converted in the call (PropIndex(string(b))) costs no copy.
func PropIndex(name string) int {
	if i, ok := propIndex[name]; ok {
		return i
	}
	return -1
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

// Columns are the incidents table's columns that hold Fields, each prefixed
// with prefix ("i." for a table alias): the id first, then the other fields
// in Fields' order (the geometry as lon, lat). It is the column list of
// reads and writes in both engines; Columns(p)[1:] are the columns a write
// of an incident sets.
func Columns(prefix string) []string {
	out := []string{prefix + "id"}
	for i := range Fields {
		if Fields[i].Name == "id" {
			continue
		}
		for _, c := range Fields[i].Columns() {
			out = append(out, prefix+c)
		}
	}
	return out
}

// ColumnList is Columns joined by ", ".
func ColumnList(prefix string) string { return strings.Join(Columns(prefix), ", ") }

// ColumnIndex is the position of column name in Columns, from 0; -1 when
// it is not one.
func ColumnIndex(name string) int {
	for i, c := range Columns("") {
		if c == name {
			return i
		}
	}
	return -1
}

// ScanTargets are pointers into inc for the columns of Columns, in order,
// for a row scan. Scanning into int needs a driver that converts integers
// (database/sql and pgx both do).
func ScanTargets(inc *Incident) []any {
	out := make([]any, 0, len(Fields)+1)
	out = append(out, &inc.ID)
	for i := range Fields {
		f := &Fields[i]
		switch {
		case f.Name == "id":
		case f.Kind == Point:
			out = append(out, &inc.Lon, &inc.Lat)
		case f.Kind == Integer:
			out = append(out, f.Int(inc))
		default:
			out = append(out, f.Text(inc))
		}
	}
	return out
}

// isData says whether a field's columns are data an import compares and
// writes: the point and the input fields but the key.
func (f *Field) isData() bool { return f.Kind == Point || f.Input && !f.Key }

// DataColumns are the columns an import compares with a stored row and
// writes: every field's but the id, the key (event_id) and updated_at, in
// the order of Columns.
func DataColumns() []string {
	var out []string
	for i := range Fields {
		if Fields[i].isData() {
			out = append(out, Fields[i].Columns()...)
		}
	}
	return out
}

// AppendData appends inc's values for the columns of DataColumns to out.
func AppendData(out []any, inc *Incident) []any {
	for i := range Fields {
		f := &Fields[i]
		switch {
		case !f.isData():
		case f.Kind == Point:
			out = append(out, inc.Lon, inc.Lat)
		case f.Kind == Integer:
			out = append(out, *f.Int(inc))
		default:
			out = append(out, *f.Text(inc))
		}
	}
	return out
}

// Values are inc's values for the columns of Columns, in order.
func Values(inc *Incident) []any {
	return AppendValues(make([]any, 0, len(Fields)+1), inc)
}

// AppendValues appends Values(inc) to out.
func AppendValues(out []any, inc *Incident) []any {
	out = append(out, inc.ID)
	for i := range Fields {
		f := &Fields[i]
		switch {
		case f.Name == "id":
		case f.Kind == Point:
			out = append(out, inc.Lon, inc.Lat)
		case f.Kind == Integer:
			out = append(out, *f.Int(inc))
		default:
			out = append(out, *f.Text(inc))
		}
	}
	return out
}

// slot names a field of the Incident struct.
type slot int

// The slots; sNone for fields the struct holds otherwise (id, geometry).
const (
	sNone slot = iota
	sEventID
	sEventDate
	sTimePrecision
	sEventType
	sSubEventType
	sActor1
	sActor2
	sAdmin1
	sAdmin2
	sLocation
	sRegion
	sGeoPrecision
	sFatalities
	sSource
	sSourceURL
	sNotes
	sTags
	sUpdatedAt
)

// textSlot is the text struct field s of inc, or nil. A switch rather than a
// function per field: a call through a function value makes inc escape to
// the heap, and decoders run this for every field of every row.
func (inc *Incident) textSlot(s slot) *string {
	switch s {
	case sEventID:
		return &inc.EventID
	case sEventDate:
		return &inc.EventDate
	case sEventType:
		return &inc.EventType
	case sSubEventType:
		return &inc.SubEventType
	case sActor1:
		return &inc.Actor1
	case sActor2:
		return &inc.Actor2
	case sAdmin1:
		return &inc.Admin1
	case sAdmin2:
		return &inc.Admin2
	case sLocation:
		return &inc.Location
	case sRegion:
		return &inc.Region
	case sSource:
		return &inc.Source
	case sSourceURL:
		return &inc.SourceURL
	case sNotes:
		return &inc.Notes
	case sTags:
		return &inc.Tags
	case sUpdatedAt:
		return &inc.UpdatedAt
	}
	return nil
}

// intSlot is the int struct field s of inc, or nil.
func (inc *Incident) intSlot(s slot) *int {
	switch s {
	case sTimePrecision:
		return &inc.TimePrecision
	case sGeoPrecision:
		return &inc.GeoPrecision
	case sFatalities:
		return &inc.Fatalities
	}
	return nil
}
