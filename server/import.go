package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"incidentmap/importer"
)

// CodeInvalidFile is the error code of an import whose file has bad rows.
const CodeInvalidFile = "InvalidFile"

// registerImport adds POST /collections/incidents/import (issue 5). Like
// every write it needs a bearer token (h.auth).
func (h *handlers) registerImport(app fiber.Router) {
	app.Post("/collections/incidents/import", closeOnError, h.auth, h.importFile)
}

// closeOnError closes the connection after a refused import: the body streams
// from the connection and may be unread, and its rest must not be taken for
// the client's next request.
func closeOnError(c *fiber.Ctx) error {
	err := c.Next()
	if err != nil {
		c.Context().SetConnectionClose()
	}
	return err
}

// importFile loads the request body — an ACLED CSV (text/csv), a GeoJSON
// FeatureCollection (application/geo+json) or a GeoJSON text sequence
// (application/geo+json-seq) — in one all-or-nothing transaction, streaming
// it from the connection. ?dry_run=true checks it and writes nothing. A file
// with bad rows is refused with 422 and the first 100 problems.
func (h *handlers) importFile(c *fiber.Ctx) error {
	vals, err := queryValues(c, []string{"dry_run"})
	if err != nil {
		return err
	}
	dry := false
	if s, ok := one(vals, "dry_run"); ok {
		if dry, err = strconv.ParseBool(s); err != nil {
			return badRequest(fmt.Sprintf("dry_run %q must be true or false", s))
		}
	}
	ct := string(c.Request().Header.ContentType())
	format := importer.FormatOfMediaType(ct)
	if format == "" {
		return &Error{Status: http.StatusUnsupportedMediaType, Code: CodeUnsupportedMediaType,
			Description: fmt.Sprintf("Content-Type %q is not an import format; send text/csv (ACLED columns), application/geo+json or application/geo+json-seq", ct)}
	}
	// The body streams from the connection through its decoder: memory does
	// not grow with the file, and the import limit counts decoded bytes.
	body, err := requestBody(c, h.cfg.ImportBodyLimit)
	if err != nil {
		return err
	}
	// A big file takes longer than a read request: it gets the write timeout,
	// for its work and for reading its body, which now streams in while rows
	// are checked and written (--read-timeout, a minute, would cut it off).
	ctx, cancel := context.WithTimeout(c.UserContext(), h.cfg.WriteTimeout)
	defer cancel()
	if conn := c.Context().Conn(); conn != nil {
		if err := conn.SetReadDeadline(time.Now().Add(h.cfg.WriteTimeout)); err != nil {
			return fmt.Errorf("import: read deadline: %w", err)
		}
	}
	res, err := importer.Load(ctx, h.store, body, importer.Options{Format: format, DryRun: dry})
	var rej *importer.RejectedError
	var fe *importer.FileError
	if apiErr, ok := bodyError(err); ok {
		// The body itself was refused (over the limit, corrupt gzip) before
		// all its rows were read; nothing was imported.
		apiErr.Description += "; nothing was imported"
		return apiErr
	}
	switch {
	case errors.As(err, &rej):
		return c.Status(http.StatusUnprocessableEntity).JSON(fiber.Map{
			"code":        CodeInvalidFile,
			"description": fmt.Sprintf("%d of %d rows are bad; nothing was imported", res.BadRows, res.Rows),
			"problems":    res.Problems,
			"badRows":     res.BadRows,
			"rows":        res.Rows,
		})
	case errors.As(err, &fe):
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidFile, Description: fe.Error() + "; nothing was imported"}
	case err != nil:
		return fmt.Errorf("import: %w", err)
	}
	if res.Written && (res.Inserted > 0 || res.Updated > 0) {
		h.live.notify()
	}
	h.log.Info("import", "token", TokenName(c), "rows", res.Rows, "inserted", res.Inserted,
		"updated", res.Updated, "unchanged", res.Unchanged, "older", res.Older, "dry_run", dry)
	return c.JSON(res)
}
