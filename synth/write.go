package synth

import (
	"bufio"
	"fmt"
	"io"

	"incidentmap/geo"
	"incidentmap/incident"
)

// WriteSeq writes incidents 1..n of seed to w as GeoJSON Text Sequences
// (RFC 8142): each feature preceded by RS (0x1E) and followed by LF, so a
// reader can stream it and recover after a damaged record.
func WriteSeq(w io.Writer, seed int64, n int) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	buf := make([]byte, 0, 2048)
	for i := 1; i <= n; i++ {
		inc := Incident(seed, i)
		buf = append(buf[:0], 0x1E)
		buf = geo.AppendFeature(buf, &inc)
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("write incident %d: %w", i, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// Batches calls fn with incidents 1..n of seed in slices of at most size,
// in order. The slice is reused between calls. It stops at fn's first error.
func Batches(seed int64, n, size int, fn func([]incident.Incident) error) error {
	batch := make([]incident.Incident, 0, size)
	for i := 1; i <= n; i++ {
		batch = append(batch, Incident(seed, i))
		if len(batch) == size || i == n {
			if err := fn(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return nil
}
