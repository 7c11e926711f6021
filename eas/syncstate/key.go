package syncstate

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// InitialKey is the SyncKey a client sends to start (or restart) a
// collection from nothing.
const InitialKey = "0"

// MaxKeyLen is the longest SyncKey MS-ASCMD allows (64 characters). The keys
// made here are at most 57.
const MaxKeyLen = 64

// key is a parsed SyncKey of the form "{generation}counter", where
// generation is a random UUID made when a key-0 request commits and counter
// counts the commits since.
type key struct {
	generation string
	counter    int64
}

func (k key) String() string {
	return "{" + k.generation + "}" + strconv.FormatInt(k.counter, 10)
}

// parseKey parses a key made by String. It reports false for anything else,
// including "0": callers test for InitialKey first.
func parseKey(s string) (key, bool) {
	if len(s) > MaxKeyLen || !strings.HasPrefix(s, "{") {
		return key{}, false
	}
	end := strings.IndexByte(s, '}')
	if end < 0 || !isUUID(s[1:end]) {
		return key{}, false
	}
	digits := s[end+1:]
	if digits == "" || digits[0] == '0' || digits[0] == '+' || digits[0] == '-' {
		return key{}, false
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n < 1 {
		return key{}, false
	}
	return key{generation: s[1:end], counter: n}, true
}

// isUUID reports whether s is a lower-case 8-4-4-4-12 hex UUID.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// newGeneration returns a random (version 4) UUID. A new generation per
// key-0 request makes every key of an earlier partnership unknown, even for
// a collection that was deleted and created again.
func newGeneration() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("syncstate: random generation: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}
