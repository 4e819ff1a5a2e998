package incident

import (
	"context"
	"errors"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"incidentmap/internal/vcache"
)

// The store's contract, split by use as callers need it: a handler that
// only reads takes a Reader, the write API a Writer, and so on. Every engine
// (SQLite, PostGIS) implements all of them; errors wrap ErrNotFound,
// ErrConflict or ErrInvalid where the comments say so, and anything else is
// the engine's own failure.

// Cursor walks the incidents of one query inside one read snapshot. Call
// Next until it returns false, then Err, and always Close.
type Cursor interface {
	// Next moves to the next incident.
	Next() bool
	// Incident is the current row; it is overwritten by the next call to Next.
	Incident() *Incident
	// Matched is how many incidents the filter matches, ignoring limit and
	// offset, from the same snapshot as the rows; -1 when it was not counted.
	Matched() int64
	// Err is the first error met while iterating.
	Err() error
	// Close releases the rows and the snapshot.
	Close() error
}

// Reader answers the read-only questions about incidents and regions.
type Reader interface {
	// Incidents streams the incidents f selects, by id, or spatially with a
	// bbox (unless f.ByID), or by relevance (f.ByRelevance); with count the
	// cursor's Matched is set. A predicate the engine cannot answer is
	// ErrInvalid.
	Incidents(ctx context.Context, f Filter, count bool) (Cursor, error)
	// Incident returns one incident, or ErrNotFound.
	Incident(ctx context.Context, id int64) (Incident, error)
	// Extent returns the space and time all incidents cover.
	Extent(ctx context.Context) (Extent, error)
	// Regions returns the regions q selects with their incident counts.
	Regions(ctx context.Context, q RegionQuery) ([]RegionStats, error)
	// Region returns one region by ISO code with its counts, or ErrNotFound.
	Region(ctx context.Context, iso string, f Filter) (RegionStats, error)
	// RegionsBound is the box around every region; ok is false when there are none.
	RegionsBound(ctx context.Context) (b orb.Bound, ok bool, err error)
}

// Aggregator adds incidents up per group (the map page's timeline, charts
// and tables).
type Aggregator interface {
	// Aggregate counts the incidents f selects (its limit and offset
	// ignored) and sums their fatalities per group of keys, all from one
	// read snapshot. Groups are ordered by their keys in the order given: a
	// time key ascending, any other key by its rank (the value with most
	// incidents over the whole selection first, ties by value), so that a
	// stacked chart's series keep one order across its bars. limit > 0 keeps
	// only the top limit combinations of the non-time keys by their total
	// count, with every time bucket of each; with only time keys it does not
	// apply. Engines end with AddUp (or RollUp) and Top, so they agree.
	Aggregate(ctx context.Context, f Filter, keys []GroupKey, limit int) (Aggregation, error)
}

// Changes is the change log: the data version and what changed.
type Changes interface {
	// DataVersion identifies the current state of the data, for ETags and
	// caches; it comes from the database, so every server on it agrees.
	DataVersion(ctx context.Context) (DataVersion, error)
	// Changes lists up to limit changes after seq after, oldest first.
	Changes(ctx context.Context, after int64, limit int) ([]Change, error)
	// History lists an incident's earlier versions, newest first, or
	// ErrNotFound for an id that never existed.
	History(ctx context.Context, id int64) ([]Version, error)
}

// Writer changes one incident at a time, each in its own transaction, with
// history and change log kept by the engine.
type Writer interface {
	// CreateIncident normalizes, assigns the region, validates (a
	// *FieldError) and inserts inc; a taken event_id is a *ConflictError.
	CreateIncident(ctx context.Context, inc Incident) (Incident, error)
	// UpdateIncident passes the stored incident to change and writes what it
	// returns (checked as by CreateIncident) as changed by by; ErrNotFound,
	// *FieldError, *ConflictError, or change's own error.
	UpdateIncident(ctx context.Context, id int64, by string, change func(Incident) (Incident, error)) (Incident, error)
	// DeleteIncident deletes one after check accepts it, keeping it in the
	// history; ErrNotFound or check's error.
	DeleteIncident(ctx context.Context, id int64, by string, check func(Incident) error) (Incident, error)
}

// Tiler reads the incidents of one Web Mercator tile, asked by z/x/y.
type Tiler interface {
	// TilePoints returns up to limit incidents f selects in tile t (f's bbox
	// is ignored); a full result means there may be more.
	TilePoints(ctx context.Context, f Filter, t maptile.Tile, limit int) ([]TilePoint, error)
	// TileGrid clusters the incidents f selects in tile t on a grid of
	// TileGridSize × TileGridSize cells; only non-empty cells are returned,
	// in key order. A cell of one incident names it (TileCell.Single) by id
	// and fatalities only.
	TileGrid(ctx context.Context, f Filter, t maptile.Tile) ([]TileCell, error)
	// TilePointsByID returns those of the incidents ids that exist, in id
	// order: the few single incidents a clustered tile draws.
	TilePointsByID(ctx context.Context, ids []int64) ([]TilePoint, error)
	// TileCount says how many incidents f selects in tile t when the engine
	// can tell without reading them (its pre-aggregates; see TileTypes); ok
	// is false when it cannot.
	TileCount(ctx context.Context, f Filter, t maptile.Tile) (n int64, ok bool, err error)
}

// TileGridSize is how many grid cells a tile's side has for clustering.
const TileGridSize = 64

// ImportWriter writes incidents inside the single transaction of an import.
type ImportWriter interface {
	// Check normalizes inc, assigns its region and validates it (a
	// *FieldError); it writes nothing and may run on another goroutine than
	// Put.
	Check(inc *Incident) error
	// Put checks inc and upserts it by event_id with the source's timestamp
	// ts (Unix seconds; 0 for none). A stored row with a newer timestamp is
	// kept (counted as Older).
	Put(inc *Incident, ts int64) error
	// PutChecked upserts a row Check has accepted, as Put does.
	PutChecked(inc *Incident, ts int64) error
}

// Importer runs imports: all rows or none.
type Importer interface {
	// Import runs fn with a writer inside one transaction, committed when fn
	// returns nil (rolled back when dryRun or on error), and says what was
	// (or would have been) done; a dry run returns its counts with
	// ErrDryRun.
	Import(ctx context.Context, dryRun bool, fn func(w ImportWriter) error) (ImportCounts, error)
}

// ErrDryRun is returned by Import after a dry run rolled its transaction back.
var ErrDryRun = errors.New("dry run: nothing written")

// Tokens checks the write API's bearer tokens.
type Tokens interface {
	// TokenName returns the name of a valid token, or ErrNotFound.
	TokenName(ctx context.Context, secret string) (string, error)
	// HasTokens reports whether any valid token exists.
	HasTokens(ctx context.Context) (bool, error)
}

// Admin is what operations need: liveness, readiness and size.
type Admin interface {
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Ready says which engine and schema answer when the database answers
	// and its schema is the one this build expects, else returns an error
	// wrapping ErrNotReady that says why.
	Ready(ctx context.Context) (Readiness, error)
	// Size is the database's size in bytes, for metrics; -1 when unknown.
	Size(ctx context.Context) int64
}

// Readiness describes a store that is ready.
type Readiness struct {
	Engine        string         `json:"engine"`             // sqlite or postgis
	SchemaVersion int            `json:"schema_version"`     // the migrations applied
	Replicas      []ReplicaState `json:"replicas,omitempty"` // read replicas, when there are any
}

// ReplicaState is how one read replica is.
type ReplicaState struct {
	Name    string `json:"name"`              // its URL without password
	OK      bool   `json:"ok"`                // it answers
	Behind  int64  `json:"behind"`            // changes it has still to replay
	Reads   int64  `json:"reads"`             // reads it has served
	Skipped string `json:"skipped,omitempty"` // why reads skip it now
	// LagBytes is the WAL the primary has written that the replica has not
	// replayed yet; LagSeconds how long ago the primary wrote the oldest of
	// it (0 when caught up).
	LagBytes   int64   `json:"lag_bytes"`
	LagSeconds float64 `json:"lag_seconds"`
}

// ReplicaReporter is an engine with read replicas: how each is, for
// /readyz and /metrics.
type ReplicaReporter interface {
	ReplicaStates() []ReplicaState
}

// CacheReporter is an engine with in-memory caches (counts,
// aggregations): what each holds against its byte budget, by name, for
// /metrics.
type CacheReporter interface {
	CacheStats() map[string]vcache.Stats
}

// ErrNotReady is wrapped by Ready's errors.
var ErrNotReady = errors.New("not ready")

// Store is the whole contract, for wiring in main and for conformance tests.
type Store interface {
	Reader
	Aggregator
	Changes
	Writer
	Tiler
	Importer
	Tokens
	Admin
	Close() error
}
