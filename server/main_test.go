package server_test

import (
	"os"
	"testing"

	"incidentmap/internal/pgtest"
)

// TestMain stops the throw-away PostgreSQL cluster the client tests against
// the PostGIS engine start (testsrv.ForEngines, testsrv.StartSeededEngines).
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
