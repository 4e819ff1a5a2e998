package server

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// CodeUnsupportedEncoding is the error code of a request body in a
// Content-Encoding the server does not decode.
const CodeUnsupportedEncoding = "UnsupportedContentEncoding"

// maxEncodings is how many codings a request body may be wrapped in
// ("gzip, gzip" is two). Real clients send one; more only serve to nest bombs.
const maxEncodings = 2

// bodyTooLargeError is the fault of a body whose decoded bytes pass the limit.
// It travels up through the readers of the importer, so handlers find it with
// errors.As and answer 413 instead of blaming the file's content.
type bodyTooLargeError struct {
	limit    int64
	encoding string
}

// Error implements error.
func (e *bodyTooLargeError) Error() string {
	if e.encoding == "" {
		return fmt.Sprintf("the request body is over the limit of %d bytes", e.limit)
	}
	return fmt.Sprintf("the request body decoded from %s is over the limit of %d bytes", e.encoding, e.limit)
}

// apiError is the 413 a handler returns for it.
func (e *bodyTooLargeError) apiError() *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge, Description: e.Error()}
}

// bodyDecodeError is a body that is not valid in its Content-Encoding (a
// truncated or corrupt gzip stream): the client's fault, a 400.
type bodyDecodeError struct {
	encoding string
	err      error
}

// Error implements error.
func (e *bodyDecodeError) Error() string {
	return fmt.Sprintf("the request body is not valid %s: %v", e.encoding, e.err)
}

// Unwrap returns the decoder's error.
func (e *bodyDecodeError) Unwrap() error { return e.err }

// apiError is the 400 a handler returns for it.
func (e *bodyDecodeError) apiError() *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidBody, Description: e.Error()}
}

// bodyError maps the faults of requestBody's reader to their responses; ok is
// false for any other error.
func bodyError(err error) (apiErr *Error, ok bool) {
	var tl *bodyTooLargeError
	var de *bodyDecodeError
	switch {
	case errors.As(err, &tl):
		return tl.apiError(), true
	case errors.As(err, &de):
		return de.apiError(), true
	}
	return nil, false
}

// requestBody returns the request body as a stream, decoded as its
// Content-Encoding says (gzip, deflate, or none), whose reads fail with a
// *bodyTooLargeError once more than limit decoded bytes have come. It never
// holds the body whole: fiber's c.Body() would inflate all of it into memory
// first (a 1 MB gzip of zeros is a 1 GB body), and would read a streamed
// upload whole even without compression. An unknown coding is a 415.
func requestBody(c *fiber.Ctx, limit int64) (io.Reader, error) {
	var raw io.Reader
	if s := c.Context().RequestBodyStream(); s != nil {
		raw = s
	} else {
		raw = bytes.NewReader(c.Request().Body())
	}
	codings, err := contentCodings(c.Get(fiber.HeaderContentEncoding))
	if err != nil {
		return nil, err
	}
	r := raw
	// Codings are listed in the order they were applied: undo the last first.
	for i := len(codings) - 1; i >= 0; i-- {
		if r, err = decoder(codings[i], r); err != nil {
			return nil, err
		}
	}
	return &limitedBody{r: r, left: limit, limit: limit, encoding: strings.Join(codings, ", ")}, nil
}

// localBody is the c.Locals key of the body readBody read, for the next
// handler of the same request (a POST to items is a search or a create).
const localBody = "incidentmap.body"

// readBody reads the whole request body (decoded, at most limit bytes) for
// handlers that need it in memory: the write API's single features and query
// bodies. A fault closes the connection, since the rest of the body may be
// unread. A second call in the same request returns the same bytes.
func readBody(c *fiber.Ctx, limit int64) ([]byte, error) {
	if b, ok := c.Locals(localBody).([]byte); ok {
		return b, nil
	}
	r, err := requestBody(c, limit)
	if err != nil {
		discardBody(c, limit)
		return nil, err
	}
	b, err := io.ReadAll(r)
	if err != nil {
		discardBody(c, limit)
		if apiErr, ok := bodyError(err); ok {
			return nil, apiErr
		}
		return nil, fmt.Errorf("read request body: %w", err)
	}
	c.Locals(localBody, b)
	return b, nil
}

// discardBody reads what is left of a refused request body, up to limit raw
// bytes, so that the client, still sending, gets the answer rather than a
// reset connection, and the connection stays usable. A body with more left
// closes the connection after the answer instead.
func discardBody(c *fiber.Ctx, limit int64) {
	s := c.Context().RequestBodyStream()
	if s == nil {
		return
	}
	n, err := io.Copy(io.Discard, io.LimitReader(s, limit+1))
	if err != nil || n > limit {
		c.Context().SetConnectionClose()
	}
}

// contentCodings parses a Content-Encoding header into its codings, lower
// case, without "identity".
func contentCodings(header string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(header, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		switch p {
		case "", "identity":
			continue
		case "gzip", "x-gzip", "deflate":
			out = append(out, p)
		default:
			return nil, &Error{Status: http.StatusUnsupportedMediaType, Code: CodeUnsupportedEncoding,
				Description: fmt.Sprintf("Content-Encoding %q is not supported; send the body as it is, or gzip or deflate it", p)}
		}
	}
	if len(out) > maxEncodings {
		return nil, &Error{Status: http.StatusUnsupportedMediaType, Code: CodeUnsupportedEncoding,
			Description: fmt.Sprintf("Content-Encoding %q applies %d codings; at most %d are decoded", header, len(out), maxEncodings)}
	}
	return out, nil
}

// decoder wraps r in the streaming decoder of one coding. Its faults become
// *bodyDecodeError. HTTP's "deflate" is the zlib format (RFC 9110 §8.4.1.2).
func decoder(coding string, r io.Reader) (io.Reader, error) {
	var dec io.Reader
	var err error
	switch coding {
	case "gzip", "x-gzip":
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(r); err == nil {
			// A gzip file may hold several members; each is read in turn, and
			// the decoded limit applies to them all together.
			dec = zr
		}
	case "deflate":
		dec, err = zlib.NewReader(r)
	default:
		err = fmt.Errorf("unknown coding %q", coding)
	}
	if err != nil {
		return nil, &bodyDecodeError{encoding: coding, err: err}
	}
	return &decodeErrors{r: dec, coding: coding}, nil
}

// decodeErrors marks the errors of a decoder (other than io.EOF) as the body's.
type decodeErrors struct {
	r      io.Reader
	coding string
}

// Read implements io.Reader.
func (d *decodeErrors) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err != nil && err != io.EOF {
		var tl *bodyTooLargeError
		if !errors.As(err, &tl) {
			err = &bodyDecodeError{encoding: d.coding, err: err}
		}
	}
	return n, err
}

// limitedBody fails with a *bodyTooLargeError when the stream has more than
// limit bytes, rather than ending quietly as io.LimitReader would: a body cut
// short could otherwise pass for a complete one.
type limitedBody struct {
	r        io.Reader
	left     int64
	limit    int64
	encoding string
}

// Read implements io.Reader.
func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, &bodyTooLargeError{limit: l.limit, encoding: l.encoding}
	}
	// Ask for one byte more than is allowed, to tell "exactly at the limit"
	// from "over it".
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n + int(l.left), &bodyTooLargeError{limit: l.limit, encoding: l.encoding}
	}
	return n, err
}
