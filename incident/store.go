package incident

import (
	"fmt"
	"time"

	"github.com/paulmach/orb"
)

// DataVersion identifies the state of the incidents: it grows with every
// change, by anyone, and is 0 for a database that never held an incident.
type DataVersion struct {
	Seq int64     // highest change_log seq
	At  time.Time // when that change was made (zero when Seq is 0)
}

// Change is one entry of the change log.
type Change struct {
	Seq        int64
	IncidentID int64
	EventID    string
	Op         string // created, updated or deleted
	At         string // RFC 3339 with milliseconds, UTC
}

// Extent is the space and time the incidents cover.
type Extent struct {
	Count     int64     // number of incidents; when 0 the other fields are zero
	BBox      orb.Bound // smallest lon/lat box holding every point
	FirstDate string    // earliest event_date, YYYY-MM-DD
	LastDate  string    // latest event_date
}

// RegionStats is one region with the incidents counted in it.
type RegionStats struct {
	ISO        string
	Name       string // governorate; incidents are counted by their admin1
	NameSource string
	NameAr     string // the governorate's Arabic name
	Region     string // grouping (Kurdistan Region or the governorate)
	Geometry   []byte // GeoJSON geometry
	BBox       orb.Bound
	Incidents  int64 // incidents whose admin1 is this governorate
	Fatalities int64
	// RegionIncidents and RegionFatalities count the whole grouping: for
	// Erbil, all of the Kurdistan Region.
	RegionIncidents  int64
	RegionFatalities int64
}

// RegionQuery selects regions and the incidents counted in them.
type RegionQuery struct {
	Incidents Filter     // which incidents count; its BBox, Limit and Offset are ignored
	BBox      *orb.Bound // only regions whose bounding box meets this box
	ISO       string     // only this region (any letter case)
}

// TilePoint is the little of an incident a map tile carries.
type TilePoint struct {
	ID         int64
	Lon, Lat   float64
	Fatalities int
	EventDate  string
	EventType  string
}

// TileCell is one cell of a tile's cluster grid: how many incidents f
// selects in it, their fatalities and centroid; for a cell of one incident,
// that incident's id and fatalities. Its point, date and type are not read
// with the grid (a tile's layout reads nine grids, thousands of cells, and
// draws a few dozen of them as single incidents): Tiler.TilePointsByID
// reads them. The centroid of a cell of one is its point to 10⁻⁷ degrees
// (TileCoordScale).
type TileCell struct {
	Key               int64 // the cell key shifted right by the grid's shift
	Count, Fatalities int
	Lon, Lat          float64    // the centroid
	Single            *TilePoint // set when Count is 1: ID and Fatalities
}

// ConflictError says that an incident with EventID exists already (as ID); it
// wraps ErrConflict.
type ConflictError struct {
	EventID string
	ID      int64
}

// Version is one earlier version of an incident in the history.
type Version struct {
	Seq       int64
	Op        string // what ended this version: updated or deleted
	Feature   []byte // the version as a GeoJSON Feature
	ChangedBy string // the token name of the write API; "" for imports and other writers
	ChangedAt string // RFC 3339 with milliseconds, UTC
}

// Error implements error.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("event_id %q is taken by incident %d", e.EventID, e.ID)
}

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// ImportCounts says what an import did (or, dry or rejected, would have done).
type ImportCounts struct {
	Inserted  int `json:"inserted"`  // new event_ids
	Updated   int `json:"updated"`   // existing event_ids whose fields or source timestamp changed
	Unchanged int `json:"unchanged"` // existing event_ids with identical data
	Older     int `json:"older"`     // skipped: the stored row has a newer source timestamp
}

// Token describes a write API token; the secret itself is never stored.
type Token struct {
	ID        int64
	Name      string
	CreatedAt string // RFC 3339, UTC
	RevokedAt string // "" while the token is valid
}
