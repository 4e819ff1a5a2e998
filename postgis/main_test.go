package postgis_test

import (
	"os"
	"testing"

	"incidentmap/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
