package export

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strings"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver: a GeoPackage is a SQLite file

	"incidentmap/geo"
	"incidentmap/incident"
)

// gpkgSchema is an OGC GeoPackage 1.3 with one point feature table, its
// required metadata tables and an R-tree spatial index (the gpkg_rtree_index
// extension, with the triggers that keep it in step with edits in GIS tools).
var gpkgSchema = `
PRAGMA application_id = 1196444487; -- 'GPKG'
PRAGMA user_version = 10300;
CREATE TABLE gpkg_spatial_ref_sys (
	srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
	organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
INSERT INTO gpkg_spatial_ref_sys VALUES
	('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
	('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
	('WGS 84 geodetic', 4326, 'EPSG', 4326, 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
CREATE TABLE gpkg_contents (
	table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
	description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
	min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
	CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
	table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
	srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
	CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
	CONSTRAINT uk_gc_table_name UNIQUE (table_name),
	CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
	CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE gpkg_extensions (
	table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL,
	CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
` + gpkgTable() + `
INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)
	VALUES ('incidents', 'features', 'incidents', 'security incidents exported by incidentmap', 4326);
INSERT INTO gpkg_geometry_columns VALUES ('incidents', 'geom', 'POINT', 4326, 0, 0);
CREATE VIRTUAL TABLE rtree_incidents_geom USING rtree(id, minx, maxx, miny, maxy);
INSERT INTO gpkg_extensions VALUES ('incidents', 'geom', 'gpkg_rtree_index',
	'http://www.geopackage.org/spec120/#extension_rtree', 'write-only');
`

// gpkgTriggers keep the R-tree in step with later edits (GeoPackage
// extension F.3; the ST_ functions are those GIS tools register). They are
// created after the bulk load, which fills the R-tree row by row itself.
const gpkgTriggers = `
CREATE TRIGGER rtree_incidents_geom_insert AFTER INSERT ON incidents
WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
	INSERT OR REPLACE INTO rtree_incidents_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_incidents_geom_update1 AFTER UPDATE OF geom ON incidents
WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
	INSERT OR REPLACE INTO rtree_incidents_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_incidents_geom_update2 AFTER UPDATE OF geom ON incidents
WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
	DELETE FROM rtree_incidents_geom WHERE id = OLD.fid;
END;
CREATE TRIGGER rtree_incidents_geom_update3 AFTER UPDATE ON incidents
WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
	DELETE FROM rtree_incidents_geom WHERE id = OLD.fid;
	INSERT OR REPLACE INTO rtree_incidents_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_incidents_geom_update4 AFTER UPDATE ON incidents
WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
	DELETE FROM rtree_incidents_geom WHERE id IN (OLD.fid, NEW.fid);
END;
CREATE TRIGGER rtree_incidents_geom_delete AFTER DELETE ON incidents
WHEN old.geom NOT NULL
BEGIN
	DELETE FROM rtree_incidents_geom WHERE id = OLD.fid;
END;
`

// gpkgTable is the feature table: fid, the point, then a column per
// property of the field table, typed as GeoPackage's core types (GIS tools
// read dates as dates and numbers as numbers).
func gpkgTable() string {
	var b strings.Builder
	b.WriteString("CREATE TABLE incidents (\n\tfid INTEGER PRIMARY KEY AUTOINCREMENT, geom POINT")
	for i := range incident.Props {
		f := &incident.Props[i]
		b.WriteString(", " + f.Name + " " + gpkgType(f))
		if f.Name == "event_id" {
			b.WriteString(" NOT NULL UNIQUE")
		}
	}
	b.WriteString(");")
	return b.String()
}

// gpkgType is the GeoPackage column type of a property.
func gpkgType(f *incident.Field) string {
	switch f.Kind {
	case incident.Integer:
		return "MEDIUMINT"
	case incident.Date:
		return "DATE"
	case incident.DateTime:
		return "DATETIME"
	}
	return "TEXT"
}

// gpkgInsert inserts one row: fid, geom, then the properties.
var gpkgInsert = "INSERT INTO incidents (fid, geom, " + strings.Join(geo.PropertyNames, ", ") + ") VALUES (?, ?" +
	strings.Repeat(", ?", len(incident.Props)) + ")"

// GPKGPoint is a GeoPackage geometry blob of a WGS 84 point: the
// StandardGeoPackageBinary header (magic "GP", version 0, flags: little
// endian, no envelope; srs_id 4326) followed by a little-endian WKB Point.
func GPKGPoint(lon, lat float64) []byte {
	b := make([]byte, 8+21)
	b[0], b[1], b[2], b[3] = 'G', 'P', 0, 0x01
	binary.LittleEndian.PutUint32(b[4:], 4326)
	w := b[8:]
	w[0] = 1 // little endian
	binary.LittleEndian.PutUint32(w[1:], 1)
	binary.LittleEndian.PutUint64(w[5:], math.Float64bits(lon))
	binary.LittleEndian.PutUint64(w[13:], math.Float64bits(lat))
	return b
}

// WriteGeoPackage writes the incidents of cur into a new GeoPackage file at
// path (which must not exist) and returns how many it wrote. The rows stream
// from the cursor (one read snapshot of whichever engine) into one
// transaction on the new file; on failure the partial file is removed. The
// caller closes cur.
func WriteGeoPackage(ctx context.Context, path string, cur incident.Cursor) (n int, err error) {
	if _, err := os.Stat(path); err == nil {
		return 0, fmt.Errorf("geopackage %s: the file exists already", path)
	}
	defer func() {
		if err != nil {
			os.Remove(path)
			os.Remove(path + "-journal")
		}
	}()
	// A rollback journal, not WAL: the file must be whole and alone when done.
	out, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=DELETE&_synchronous=OFF")
	if err != nil {
		return 0, fmt.Errorf("geopackage: %w", err)
	}
	defer out.Close()
	out.SetMaxOpenConns(1)
	if _, err := out.ExecContext(ctx, gpkgSchema); err != nil {
		return 0, fmt.Errorf("geopackage schema: %w", err)
	}
	tx, err := out.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("geopackage: %w", err)
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, gpkgInsert)
	if err != nil {
		return 0, fmt.Errorf("geopackage: %w", err)
	}
	defer ins.Close()
	idx, err := tx.PrepareContext(ctx, "INSERT INTO rtree_incidents_geom VALUES (?,?,?,?,?)")
	if err != nil {
		return 0, fmt.Errorf("geopackage: %w", err)
	}
	defer idx.Close()
	ext := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	args := make([]any, 2+len(incident.Props))
	for cur.Next() {
		inc := cur.Incident()
		args[0], args[1] = inc.ID, GPKGPoint(inc.Lon, inc.Lat)
		for i := range incident.Props {
			f := &incident.Props[i]
			if n := f.Int(inc); n != nil {
				args[2+i] = *n
			} else {
				args[2+i] = *f.Text(inc)
			}
		}
		if _, err := ins.ExecContext(ctx, args...); err != nil {
			return n, fmt.Errorf("geopackage: incident %d: %w", inc.ID, err)
		}
		if _, err := idx.ExecContext(ctx, inc.ID, inc.Lon, inc.Lon, inc.Lat, inc.Lat); err != nil {
			return n, fmt.Errorf("geopackage spatial index: incident %d: %w", inc.ID, err)
		}
		ext = [4]float64{min(ext[0], inc.Lon), min(ext[1], inc.Lat), max(ext[2], inc.Lon), max(ext[3], inc.Lat)}
		n++
	}
	if err := cur.Err(); err != nil {
		return n, err
	}
	if n > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?
			WHERE table_name = 'incidents'`, ext[0], ext[1], ext[2], ext[3]); err != nil {
			return n, fmt.Errorf("geopackage extent: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return n, fmt.Errorf("geopackage: %w", err)
	}
	if _, err := out.ExecContext(ctx, gpkgTriggers); err != nil {
		return n, fmt.Errorf("geopackage triggers: %w", err)
	}
	return n, nil
}

// GeoPackageOf writes the incidents f selects in r to a new GeoPackage file
// at path, as WriteGeoPackage.
func GeoPackageOf(ctx context.Context, path string, r incident.Reader, f incident.Filter) (int, error) {
	cur, err := r.Incidents(ctx, f, false)
	if err != nil {
		return 0, err
	}
	defer cur.Close()
	return WriteGeoPackage(ctx, path, cur)
}
