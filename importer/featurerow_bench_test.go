package importer_test

import (
	"bytes"
	"testing"

	"incidentmap/importer"
	"incidentmap/synth"
)

// synthFeatures returns n features of the synthetic set (seed 1), one raw
// GeoJSON Feature each, as `incidentmap gen` writes them.
func synthFeatures(tb testing.TB, n int) [][]byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := synth.WriteSeq(&buf, 1, n); err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for _, rec := range bytes.Split(buf.Bytes(), []byte{0x1E}) {
		if rec = bytes.TrimSpace(rec); len(rec) > 0 {
			out = append(out, rec)
		}
	}
	if len(out) != n {
		tb.Fatalf("got %d features, want %d", len(out), n)
	}
	return out
}

// BenchmarkFeatureRow decodes features of the synthetic set, the per-row cost
// of importing a GeoJSON Text Sequence before the database sees it.
func BenchmarkFeatureRow(b *testing.B) {
	feats := synthFeatures(b, 4096)
	var size int64
	for _, f := range feats {
		size += int64(len(f))
	}
	b.SetBytes(size / int64(len(feats)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := importer.FeatureRow(feats[i%len(feats)]); err != nil {
			b.Fatal(err)
		}
	}
}
