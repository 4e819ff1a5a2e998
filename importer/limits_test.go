package importer_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"incidentmap/importer"
	"incidentmap/internal/memtest"
	"incidentmap/internal/testsrv"
)

// repeat is a reader of n copies of b, so that tests can stream files far
// larger than they would want to hold.
type repeat struct {
	b byte
	n int64
}

func (r *repeat) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	for i := range p {
		p[i] = r.b
	}
	r.n -= int64(len(p))
	return len(p), nil
}

const csvHeader = "event_id_cnty,event_date,event_type,latitude,longitude,notes,actor1\n"

// TestHugeFieldIsRefusedWithoutReadingIt: a CSV whose second row has a
// 100 MB notes field was read into memory whole (1.14 GB peak in the server).
// Each format now stops at MaxRecordBytes (1 MiB) with an error naming the
// row (and for CSV the field), having held a few MB, and nothing is written.
func TestHugeFieldIsRefusedWithoutReadingIt(t *testing.T) {
	st := testsrv.OpenSeeded(t)
	const huge = 100 << 20
	feature := func(id, notes string) string {
		return `{"type":"Feature","geometry":{"type":"Point","coordinates":[44.4,33.3]},"properties":{"event_id":"` + id +
			`","event_date":"2021-05-01","event_type":"Riots","notes":"` + notes + `"}}`
	}
	for _, c := range []struct {
		name   string
		format importer.Format
		file   func() io.Reader
		want   string
	}{
		{"csv", importer.FormatACLED, func() io.Reader {
			return io.MultiReader(strings.NewReader(csvHeader+"H-1,2021-05-01,Riots,33.3,44.4,short,a\nH-2,2021-05-01,Riots,33.3,44.4,\""),
				&repeat{'a', huge}, strings.NewReader("\",b\nH-3,2021-05-01,Riots,33.3,44.4,x,c\n"))
		}, "row 2 is too long at field 6 (notes): longer than 1048576 bytes"},
		{"csv unquoted", importer.FormatACLED, func() io.Reader {
			return io.MultiReader(strings.NewReader(csvHeader+"H-1,2021-05-01,Riots,33.3,44.4,short,a\n\nH-2,2021-05-01,Riots,33.3,44.4,x,"),
				&repeat{'a', huge}, strings.NewReader("\n"))
		}, "row 2 is too long at field 7 (actor1)"},
		{"csv header", importer.FormatACLED, func() io.Reader {
			return io.MultiReader(strings.NewReader("event_id_cnty,"), &repeat{'a', huge})
		}, "header line is longer than 1048576 bytes"},
		{"geojson", importer.FormatGeoJSON, func() io.Reader {
			return io.MultiReader(strings.NewReader(`{"type":"FeatureCollection","features":[`+feature("H-1", "short")+
				`,{"type":"Feature","properties":{"notes":"`), &repeat{'a', huge}, strings.NewReader(`"}}]}`))
		}, "feature 2: longer than 1048576 bytes"},
		{"geojson member", importer.FormatGeoJSON, func() io.Reader {
			return io.MultiReader(strings.NewReader(`{"type":"FeatureCollection","name":"`), &repeat{'a', huge}, strings.NewReader(`","features":[]}`))
		}, "geojson: name: longer than 1048576 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var err error
			peak := memtest.PeakHeap(func() {
				_, err = importer.Load(context.Background(), st, c.file(), importer.Options{Format: c.format})
			})
			var fe *importer.FileError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v; want a file error saying %q", err, c.want)
			}
			t.Logf("%s: peak heap %d KB for a %d MB field", c.name, peak>>10, huge>>20)
			if peak > 24<<20 {
				t.Errorf("%s: heap grew by %d MB reading a %d MB field; the reader must stop at 1 MiB", c.name, peak>>20, huge>>20)
			}
			if n := count(t, st); n != 13 {
				t.Fatalf("%d incidents after a refused file, want 13", n)
			}
		})
	}

	// A text sequence resynchronises at the next record: the long one is a
	// problem of its row, and the rows after it are still checked.
	seq := io.MultiReader(strings.NewReader("\x1e"+feature("H-1", "short")+"\n\x1e"+`{"type":"Feature","properties":{"notes":"`),
		&repeat{'a', huge}, strings.NewReader("\"}}\n\x1e"+feature("H-3", "fine")+"\n\x1e"+`{"type":"Feature"}`+"\n"))
	var res *importer.Result
	var err error
	peak := memtest.PeakHeap(func() {
		res, err = importer.Load(context.Background(), st, seq, importer.Options{Format: importer.FormatGeoJSONSeq})
	})
	var rej *importer.RejectedError
	if !errors.As(err, &rej) || res.Rows != 4 || res.BadRows != 2 || res.Problems[0].Row != 2 ||
		res.Problems[0].Field != "feature" || !strings.Contains(res.Problems[0].Reason, "longer than 1048576 bytes") ||
		len(res.Problems[0].Value) > 100 || res.Problems[1].Row != 4 {
		t.Fatalf("text sequence: %v %+v", err, res)
	}
	if peak > 24<<20 {
		t.Errorf("text sequence: heap grew by %d MB", peak>>20)
	}
}

// TestFieldLimits: text over its limit is a problem naming the row and the
// field, with the value cut short in the report; at the limit it loads.
func TestFieldLimits(t *testing.T) {
	st := testsrv.OpenSeeded(t)
	row := func(id, notes, actor string) string {
		return id + ",2021-05-01,Riots,33.3,44.4," + notes + "," + actor + "\n"
	}
	file := csvHeader + row("L-1", strings.Repeat("n", 64<<10), strings.Repeat("a", 1024)) +
		row("L-2", strings.Repeat("n", 64<<10+1), "") +
		row("L-3", "x", strings.Repeat("ب", 513))
	res, err := load(t, st, []byte(file), importer.Options{})
	var rej *importer.RejectedError
	if !errors.As(err, &rej) || res.BadRows != 2 {
		t.Fatalf("err %v, result %+v; want 2 bad rows", err, res)
	}
	p := res.Problems
	if p[0].Row != 2 || p[0].Field != "notes" || p[0].Reason != "is 65537 bytes long; at most 65536 are allowed" || len(p[0].Value) > 210 {
		t.Errorf("problem %+v", p[0])
	}
	if p[1].Row != 3 || p[1].Field != "actor1" || p[1].Reason != "is 1026 bytes long; at most 1024 are allowed" {
		t.Errorf("problem %+v", p[1])
	}
	res, err = load(t, st, []byte(csvHeader+row("L-1", strings.Repeat("n", 64<<10), strings.Repeat("a", 1024))), importer.Options{})
	if err != nil || res.Inserted != 1 {
		t.Fatalf("at the limits: %v %+v", err, res)
	}
}
