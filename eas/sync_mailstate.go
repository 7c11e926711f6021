package eas

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/eas/syncstate"
)

// mailState is what the sync engine keeps per (device, mail folder): the
// mailbox status at the last listing, which answers "did anything change"
// with one STATUS; the FilterType window it was computed for; whether a
// MoreAvailable is pending; and the messages the client holds, UID ->
// flags version (model.MailFlags.Version).
type mailState struct {
	status    model.MailboxStatus
	filterDay int64 // first day of the FilterType window (Unix days), 0: none
	pending   bool  // the last answer said MoreAvailable
	items     syncstate.Items
	raw       []byte // items, still encoded: decoded only when needed
}

// mailStateFormat is the first byte of an encoded mailState.
const mailStateFormat = 'M'

func (s mailState) encode() []byte {
	b := []byte{mailStateFormat}
	b = binary.AppendUvarint(b, uint64(s.status.UIDValidity))
	b = binary.AppendUvarint(b, uint64(s.status.UIDNext))
	b = binary.AppendUvarint(b, uint64(s.status.Messages))
	b = binary.AppendUvarint(b, s.status.HighestModSeq)
	b = binary.AppendVarint(b, s.filterDay)
	pending := uint64(0)
	if s.pending {
		pending = 1
	}
	b = binary.AppendUvarint(b, pending)
	return append(b, s.items.Encode()...)
}

var errMailState = errors.New("corrupt mail sync state")

// decodeMailState reads a state's header; empty input is the state of key
// 0. The items follow with decodeItems.
func decodeMailState(b []byte) (mailState, error) {
	if len(b) == 0 {
		return mailState{items: syncstate.Items{}}, nil
	}
	if b[0] != mailStateFormat {
		return mailState{}, fmt.Errorf("%w: format %d", errMailState, b[0])
	}
	b = b[1:]
	var vals [6]uint64
	for i := range vals {
		var n int
		if i == 4 {
			var v int64
			v, n = binary.Varint(b)
			vals[i] = uint64(v)
		} else {
			vals[i], n = binary.Uvarint(b)
		}
		if n <= 0 {
			return mailState{}, errMailState
		}
		b = b[n:]
	}
	return mailState{
		status: model.MailboxStatus{UIDValidity: uint32(vals[0]), UIDNext: uint32(vals[1]),
			Messages: uint32(vals[2]), HighestModSeq: vals[3]},
		filterDay: int64(vals[4]), pending: vals[5] == 1, raw: b,
	}, nil
}

// decodeItems decodes the items of a state read by decodeMailState. The
// O(1) path of a quiet Sync never calls it: for a large folder the items
// are most of the state's size and of its decoding time.
func (s *mailState) decodeItems() error {
	if s.items != nil {
		return nil
	}
	items, err := syncstate.DecodeItems(s.raw)
	if err != nil {
		return fmt.Errorf("%w: %w", errMailState, err)
	}
	s.items, s.raw = items, nil
	return nil
}

// Item keys in a mail state are UIDs zero-padded to ten digits: sorted as
// strings they are sorted as numbers, and the prefix-shared encoding of
// Items makes the padding cost nothing.
func uidKey(uid uint32) string {
	s := strconv.FormatUint(uint64(uid), 10)
	return strings.Repeat("0", 10-len(s)) + s
}

func keyUID(key string) uint32 {
	n, _ := strconv.ParseUint(key, 10, 32)
	return uint32(n)
}

// newestFirst orders item keys by UID, descending: phones show the newest
// mail first and expect it to arrive first.
func newestFirst(a, b string) int { return strings.Compare(b, a) }
