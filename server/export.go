package server

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"incidentmap/crs"
	"incidentmap/export"
)

// exportFormatOf says whether an f= value asks for a download (an export)
// rather than the paged OGC response: f=geojson, geojsonseq, csv, kml, gpkg.
// f=json stays the paged FeatureCollection.
func exportFormatOf(c *fiber.Ctx) (export.Format, bool) {
	return export.Parse(c.Query("f"))
}

// exportItems streams every incident the items parameters select as a file
// download. Unlike the paged response, an export without limit holds ALL
// matching rows; limit and offset, when given, cut it (limit is not clamped).
func (h *handlers) exportItems(c *fiber.Ctx, f export.Format) error {
	q, err := h.parseItemsQuery(c)
	if err != nil {
		return err
	}
	if q.crs != crs.CRS84 {
		return badRequest(fmt.Sprintf("crs applies to the GeoJSON pages (f=json) and single features; the %s download is in CRS84", f))
	}
	filter := q.filter
	filter.Limit = 0
	if s, ok := one(q.raw, "limit"); ok {
		filter.Limit, _ = strconv.Atoi(s) // validated by the parser
	}
	name := "incidents-" + time.Now().UTC().Format("20060102-150405") + f.Ext()
	c.Set(fiber.HeaderContentType, f.MediaType())
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	log, path := h.log, utils.CopyString(c.Path())
	ctx, cancel := h.requestContext(c)

	if f == export.GPKG {
		defer cancel()
		// A GeoPackage is a SQLite file: write it whole to a temporary file,
		// stream that, and delete it.
		dir, err := os.MkdirTemp("", "incidentmap-export-")
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		tmp := filepath.Join(dir, name)
		if _, err := export.GeoPackageOf(ctx, tmp, h.store, filter); err != nil {
			os.RemoveAll(dir)
			return fmt.Errorf("export: %w", err)
		}
		file, err := os.Open(tmp)
		if err != nil {
			os.RemoveAll(dir)
			return fmt.Errorf("export: %w", err)
		}
		// Unlinked while open, the file goes away with its descriptor whatever
		// happens to the response.
		os.RemoveAll(dir)
		fi, err := file.Stat()
		if err != nil {
			file.Close()
			return fmt.Errorf("export: %w", err)
		}
		// fasthttp closes the file when the body is sent.
		c.Context().SetBodyStream(file, int(fi.Size()))
		return nil
	}

	cur, err := h.store.Incidents(ctx, filter, false)
	if err != nil {
		cancel()
		return fmt.Errorf("export: %w", err)
	}
	metrics := h.metrics
	// The encoder runs after this handler returns, so it must not touch c. It
	// writes into a spool, so the snapshot ends with the last row, whatever
	// the client's pace (see streamSpooled).
	release := func() { cur.Close(); cancel() }
	return h.streamSpooled(c, release, func(w io.Writer) error {
		n, err := export.Write(w, f, cur)
		metrics.RowsStreamed(n)
		switch {
		case errors.Is(err, errSpoolAborted):
			log.Info("client stopped reading", "path", path, "format", string(f))
		case err != nil:
			// The status is sent already; a truncated file tells the client.
			log.Error("export stream failed", "path", path, "format", string(f), "err", err)
		}
		return err
	})
}
