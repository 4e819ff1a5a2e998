package store_test

import (
	"testing"

	"incidentmap/internal/testsrv"
	"incidentmap/internal/tiletest"
)

// TestTilePreAggregatesFollowWrites: tiles from tile_cells equal the tiles
// computed from the incidents after a bulk load, a re-import and random
// writes.
func TestTilePreAggregatesFollowWrites(t *testing.T) {
	tiletest.Run(t, testsrv.Open(t))
}
