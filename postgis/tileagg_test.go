package postgis_test

import (
	"testing"

	"incidentmap/internal/tiletest"
)

// TestTilePreAggregatesFollowWrites: tiles from tile_cells (kept by
// statement triggers) equal the tiles computed from the incidents after a
// first import, a re-import and random writes.
func TestTilePreAggregatesFollowWrites(t *testing.T) {
	tiletest.Run(t, openPostGIS(t))
}
