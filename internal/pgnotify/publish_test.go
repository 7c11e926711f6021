package pgnotify

import (
	"errors"
	"strings"
	"testing"
)

func TestEncodeDecode(t *testing.T) {
	for _, tc := range []struct{ topic, data string }{
		{"device:123", "ping"},
		{"user:45:folder:7", ""},
		{"t", "data with spaces\nand lines"},
	} {
		msg, err := encode(tc.topic, tc.data)
		if err != nil {
			t.Fatal(err)
		}
		topic, data, err := decode(msg)
		if err != nil || topic != tc.topic || data != tc.data {
			t.Errorf("%q: got %q %q %v", msg, topic, data, err)
		}
	}
	for _, bad := range []string{"", "a b", "a\tb"} {
		if _, err := encode(bad, "x"); err == nil {
			t.Errorf("topic %q accepted", bad)
		}
	}
	if _, _, err := decode(" data"); err == nil {
		t.Error("empty topic decoded")
	}
	topic := "device:1"
	fits := strings.Repeat("x", MaxPayload-len(topic)-1)
	if _, err := encode(topic, fits); err != nil {
		t.Errorf("payload of exactly %d bytes refused: %v", MaxPayload, err)
	}
	if _, err := encode(topic, fits+"x"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized payload: %v", err)
	}
}
