package postgis

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// TestRawScannerDecodes checks each wire form the raw scanner reads (binary
// and text numbers, text in either format) and that it refuses NULLs and
// leaves columns it does not know to pgx's Scan.
func TestRawScannerDecodes(t *testing.T) {
	fd := func(name string, oid uint32, format int16) pgconn.FieldDescription {
		return pgconn.FieldDescription{Name: name, DataTypeOID: oid, Format: format}
	}
	be := func(n int, v uint64) []byte {
		b := make([]byte, 8)
		binary.BigEndian.PutUint64(b, v)
		return b[8-n:]
	}
	fds := []pgconn.FieldDescription{
		fd("id", pgtype.Int8OID, pgtype.BinaryFormatCode),
		fd("lon", pgtype.Float8OID, pgtype.BinaryFormatCode),
		fd("name", pgtype.TextOID, pgtype.TextFormatCode),
		fd("n", pgtype.Int4OID, pgtype.BinaryFormatCode),
		fd("small", pgtype.Int2OID, pgtype.BinaryFormatCode),
		fd("empty", pgtype.TextOID, pgtype.BinaryFormatCode),
		fd("lat", pgtype.Float8OID, pgtype.TextFormatCode),
		fd("m", pgtype.Int4OID, pgtype.TextFormatCode),
		fd("f4", pgtype.Float4OID, pgtype.BinaryFormatCode),
		fd("word", pgtype.VarcharOID, pgtype.TextFormatCode),
	}
	var (
		id, small64  int64
		lon, lat, f4 float64
		name, empty  string
		word         string
		n, m         int
	)
	dest := []any{&id, &lon, &name, &n, &small64, &empty, &lat, &m, &f4, &word}
	s := newRawScanner(fds, dest)
	if s == nil {
		t.Fatal("no raw scanner for known columns")
	}
	raw := [][]byte{be(8, uint64(1<<40+7)), be(8, math.Float64bits(44.361488)), []byte("Ḥasan – Mósul"),
		be(4, uint64(uint32(0xFFFFFFFE))), be(2, 3), {}, []byte("-33.25"), []byte("-12"), be(4, uint64(math.Float32bits(1.5))), []byte("ok")}
	if err := s.scan(fds, raw, dest); err != nil {
		t.Fatal(err)
	}
	if id != 1<<40+7 || lon != 44.361488 || name != "Ḥasan – Mósul" || n != -2 || small64 != 3 || empty != "" ||
		lat != -33.25 || m != -12 || f4 != 1.5 || word != "ok" {
		t.Fatalf("decoded %d %v %q %d %d %q %v %d %v %q", id, lon, name, n, small64, empty, lat, m, f4, word)
	}
	// The strings do not alias the wire buffer (pgx reuses it for the next row).
	raw[2][0] = 'X'
	if name != "Ḥasan – Mósul" {
		t.Fatalf("name changed with the wire buffer: %q", name)
	}
	raw[3] = nil
	if err := s.scan(fds, raw, dest); err == nil || !strings.Contains(err.Error(), "n is NULL") {
		t.Fatalf("NULL: %v", err)
	}
	raw[3] = []byte{1, 2}
	if err := s.scan(fds, raw, dest); err == nil {
		t.Fatal("a 2-byte int4 was accepted")
	}
	// Columns it does not decode, or targets of another type: Scan's job.
	if newRawScanner([]pgconn.FieldDescription{fd("j", pgtype.JSONOID, pgtype.TextFormatCode)}, []any{&name}) != nil {
		t.Error("json column taken")
	}
	if newRawScanner([]pgconn.FieldDescription{fd("id", pgtype.Int8OID, pgtype.BinaryFormatCode)}, []any{&name}) != nil {
		t.Error("int8 into a string taken")
	}
	if newRawScanner([]pgconn.FieldDescription{fd("x", pgtype.Float8OID, pgtype.BinaryFormatCode)}, []any{&n}) != nil {
		t.Error("float8 into an int taken")
	}
	if newRawScanner(fds[:2], dest) != nil {
		t.Error("fewer columns than targets taken")
	}
}
