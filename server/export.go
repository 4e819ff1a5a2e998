package server

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"incidentmap/crs"
	"incidentmap/export"
)

// downloadPath is where every incident the items parameters select is
// downloaded as one file: f=geojson, geojsonseq, csv, kml or gpkg. Its own
// path keeps f unambiguous: on items, f=json and f=geojson are both the
// paged FeatureCollection, on download every f is a file.
const downloadPath = "/collections/incidents/download"

// downloadHref is the download of what the items parameters raw select, in
// format f: the page's own paging and shaping parameters are left out.
func downloadHref(base string, raw url.Values, f export.Format) string {
	q := url.Values{}
	for k, v := range raw {
		switch k {
		case "f", "limit", "offset", "properties", "skipGeometry", "crs":
		default:
			q[k] = v
		}
	}
	q.Set("f", string(f))
	return base + downloadPath + "?" + q.Encode()
}

// downloadLinks are the alternate links to every matching incident in each
// download format.
func downloadLinks(base string, raw url.Values) []Link {
	var out []Link
	for _, ef := range export.Formats {
		out = append(out, Link{Href: downloadHref(base, raw, ef), Rel: "alternate",
			Type: strings.TrimSuffix(ef.MediaType(), "; charset=utf-8"), Title: "every matching incident as a " + string(ef) + " download"})
	}
	return out
}

// exportFormatOf says whether items' f= asks for a download under its old
// name (an alias of downloadPath): f=geojsonseq, csv, kml, gpkg. f=geojson
// on items is the paged FeatureCollection, as negotiate has it.
func exportFormatOf(c *fiber.Ctx) (export.Format, bool) {
	ef, ok := export.Parse(c.Query("f"))
	return ef, ok && ef != export.GeoJSON
}

// download serves downloadPath: the items parameters select, f names the
// file's format.
func (h *handlers) download(c *fiber.Ctx) error {
	q, err := h.parseItemsQuery(c)
	if err != nil {
		return err
	}
	ef, ok := export.Parse(c.Query("f"))
	if !ok {
		names := make([]string, len(export.Formats))
		for i, f := range export.Formats {
			names[i] = string(f)
		}
		return badRequest(fmt.Sprintf("download needs f, the file format: one of %s (the paged GeoJSON is %s)",
			strings.Join(names, ", "), "/collections/incidents/items"))
	}
	if q.props != nil || q.skipGeometry {
		return badRequest("properties and skipGeometry shape the GeoJSON pages; a download holds every property")
	}
	return h.exportItems(c, ef)
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
	return h.streamDownload(c, release, func(w io.Writer) error {
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
