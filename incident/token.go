package incident

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// TokenPrefix starts every write API token, so that a token pasted into a log,
// a chat or a repository is recognisable (and secret scanners can match it).
const TokenPrefix = "imk_"

// HashToken is the stored form of a token, the same in every engine. A plain
// SHA-256 is right here: tokens carry 256 random bits, so there is nothing
// for a slow hash to protect.
func HashToken(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// NewToken checks a token name (trimmed, 1 to 100 characters) and makes a
// new random secret for it; an engine stores HashToken(secret) under name.
func NewToken(name string) (cleanName, secret string, err error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", "", fmt.Errorf("token name %q must be 1 to 100 characters", name)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", "", fmt.Errorf("token: random bytes: %w", err)
	}
	return name, TokenPrefix + base64.RawURLEncoding.EncodeToString(raw), nil
}
