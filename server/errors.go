package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"incidentmap/incident"
	"incidentmap/store"
)

// Error codes of the JSON error body, one per kind of fault a client can act on.
const (
	CodeInvalidParameter = "InvalidParameterValue"
	CodeUnknownParameter = "UnknownParameter"
	CodeNotFound         = "NotFound"
	CodeNotAcceptable    = "NotAcceptable"
	CodeMethodNotAllowed = "MethodNotAllowed"
	CodeInternal         = "InternalServerError"
	CodeTooManyRequests  = "TooManyRequests"
	CodeTooLarge         = "PayloadTooLarge"
	CodeLengthRequired   = "LengthRequired"
	CodeNotReady         = "NotReady"
	CodeBadRequest       = "BadRequest"  // a request malformed below the parameters: framing, Host
	CodeStorageFull      = "StorageFull" // the disk the database is on is full (507)
	CodeTimeout          = "Timeout"     // the request's database work outran the request timeout (503)
)

// Error is an error a handler returns to send {"code","description"} with Status.
type Error struct {
	Status      int    `json:"-"`
	Code        string `json:"code"`
	Description string `json:"description"`
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Description }

// badRequest is a 400 with the InvalidParameterValue code.
func badRequest(description string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidParameter, Description: description}
}

// notFound is a 404.
func notFound(description string) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Description: description}
}

// errorHandler is the one place that turns errors into HTTP responses. Only
// server faults are logged, and their details never reach the client.
// A write that failed on a full disk is a 507 saying so, and onFull is told
// (readiness then reports it).
func errorHandler(log *slog.Logger, onFull func()) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		var apiErr *Error
		var fe *fiber.Error
		switch {
		case errors.As(err, &apiErr):
		case store.IsStorageFull(err):
			log.Error("storage full", "method", c.Method(), "path", c.Path(), "err", err)
			if onFull != nil {
				onFull()
			}
			apiErr = &Error{Status: http.StatusInsufficientStorage, Code: CodeStorageFull,
				Description: "storage full: the disk that holds the database has no room; nothing was written"}
		case errors.Is(err, store.ErrNotFound):
			apiErr = notFound(err.Error())
		case errors.Is(err, incident.ErrInvalid):
			// The engine refused a predicate the parser let through.
			apiErr = badRequest(err.Error())
		case errors.Is(err, context.DeadlineExceeded):
			// Overload, not a fault: the database work did not finish within
			// the request timeout (the writer queue, a busy machine). 503 with
			// Retry-After tells clients and balancers to come back.
			log.Error("request timed out", "method", c.Method(), "path", c.Path(), "err", err)
			c.Set(fiber.HeaderRetryAfter, "5")
			apiErr = &Error{Status: http.StatusServiceUnavailable, Code: CodeTimeout,
				Description: "the server is busy: the request did not finish within its time limit; retry after the time in Retry-After"}
		case errors.As(err, &fe) && fe.Code < 500:
			apiErr = &Error{Status: fe.Code, Code: codeForStatus(fe.Code), Description: fe.Message}
			if fe.Code == http.StatusNotFound {
				apiErr.Description = "no resource at " + c.Path()
			}
		default:
			log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
			apiErr = &Error{Status: http.StatusInternalServerError, Code: CodeInternal,
				Description: "the server met an error; it has been logged"}
		}
		// Validators set before the fault describe the data, not this error.
		for _, hd := range []string{fiber.HeaderETag, fiber.HeaderLastModified, fiber.HeaderCacheControl} {
			c.Response().Header.Del(hd)
		}
		return c.Status(apiErr.Status).JSON(apiErr)
	}
}

func codeForStatus(status int) string {
	switch status {
	case http.StatusNotFound:
		return CodeNotFound
	case http.StatusMethodNotAllowed:
		return CodeMethodNotAllowed
	case http.StatusNotAcceptable:
		return CodeNotAcceptable
	case http.StatusBadRequest:
		return CodeInvalidParameter
	}
	return http.StatusText(status)
}
