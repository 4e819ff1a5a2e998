package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"incidentmap/store"
)

// Error codes of the write API.
const (
	CodeUnauthorized         = "Unauthorized"
	CodeWritesDisabled       = "WritesDisabled"
	CodePreconditionFailed   = "PreconditionFailed"
	CodeConflict             = "Conflict"
	CodeUnsupportedMediaType = "UnsupportedMediaType"
	CodeInvalidBody          = "InvalidRequestBody"
)

// TokenChecker is what RequireToken needs of the store.
type TokenChecker interface {
	// TokenName returns the name of a valid token, or an error wrapping
	// store.ErrNotFound for an unknown or revoked one.
	TokenName(ctx context.Context, secret string) (string, error)
	// HasTokens reports whether any valid token exists.
	HasTokens(ctx context.Context) (bool, error)
}

// tokenLocal is the fiber local under which RequireToken leaves the token name.
const tokenLocal = "incidentmap.token"

// RequireToken is the middleware of every write route: it lets a request
// through only with "Authorization: Bearer <token>" naming a valid token, and
// leaves the token's name for TokenName (the write log names it). Reads never
// pass through it. With no valid token at all the write API is off: 405 with
// a message saying how to turn it on. A missing or wrong token is a 401 with
// WWW-Authenticate: Bearer.
//
// Every route that changes data must use it — the import endpoint
// (POST /collections/incidents/import) included: register it as
// app.Post(path, h.auth, handler).
func RequireToken(tokens TokenChecker, timeout time.Duration) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx, cancel := context.WithTimeout(c.UserContext(), timeout)
		defer cancel()
		on, err := tokens.HasTokens(ctx)
		if err != nil {
			return err
		}
		if !on {
			c.Set(fiber.HeaderAllow, "GET, HEAD, OPTIONS")
			return &Error{Status: http.StatusMethodNotAllowed, Code: CodeWritesDisabled,
				Description: "writes are off: no API token exists. Create one with " +
					"`incidentmap token create --name NAME` and send it as `Authorization: Bearer TOKEN`"}
		}
		unauthorized := func(why string) error {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="incidentmap"`)
			return &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Description: why}
		}
		scheme, secret, ok := strings.Cut(strings.TrimSpace(c.Get(fiber.HeaderAuthorization)), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
			return unauthorized("this request changes data: send `Authorization: Bearer TOKEN` " +
				"with a token made by `incidentmap token create`")
		}
		name, err := tokens.TokenName(ctx, strings.TrimSpace(secret))
		if errors.Is(err, store.ErrNotFound) {
			return unauthorized("the bearer token is unknown or revoked")
		}
		if err != nil {
			return err
		}
		c.Locals(tokenLocal, name)
		return c.Next()
	}
}

// TokenName is the name of the token RequireToken accepted for this request,
// or "" on a route it does not guard.
func TokenName(c *fiber.Ctx) string {
	name, _ := c.Locals(tokenLocal).(string)
	return name
}
