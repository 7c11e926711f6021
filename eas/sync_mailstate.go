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
//
// While MoreAvailable is pending and only adds remain, queue holds them:
// the UIDs still to send, newest first. The next window then takes its
// messages from the queue without listing the mailbox or diffing the
// state, as long as the mailbox status shows no change (sync_mail.go):
// the cost of a window of an initial sync does not grow with the folder.
type mailState struct {
	status    model.MailboxStatus
	filterDay int64 // first day of the FilterType window (Unix days), 0: none
	pending   bool  // the last answer said MoreAvailable
	queue     []uint32
	items     syncstate.Items
	raw       []byte // items, still encoded: decoded only when needed
}

// mailStateFormat is the first byte of an encoded mailState; states
// written before the queue existed have the old one, and no queue.
const (
	mailStateFormat   = 'N'
	mailStateFormatV1 = 'M'
)

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
	b = appendQueue(b, s.queue)
	if s.items == nil {
		return append(b, s.raw...) // still encoded
	}
	return append(b, s.items.Encode()...)
}

// appendQueue encodes a descending UID list as runs: the number of runs,
// then per run its first (highest) UID and length. An initial sync's
// queue is one run or a few.
func appendQueue(b []byte, q []uint32) []byte {
	var runs [][2]uint32
	for i := 0; i < len(q); {
		j := i + 1
		for j < len(q) && q[j] == q[j-1]-1 {
			j++
		}
		runs = append(runs, [2]uint32{q[i], uint32(j - i)})
		i = j
	}
	b = binary.AppendUvarint(b, uint64(len(runs)))
	for _, r := range runs {
		b = binary.AppendUvarint(b, uint64(r[0]))
		b = binary.AppendUvarint(b, uint64(r[1]))
	}
	return b
}

func readQueue(b []byte) ([]uint32, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, nil, errMailState
	}
	b = b[k:]
	var q []uint32
	for range n {
		first, k1 := binary.Uvarint(b)
		if k1 <= 0 {
			return nil, nil, errMailState
		}
		count, k2 := binary.Uvarint(b[k1:])
		if k2 <= 0 || count > first || uint64(len(q))+count > 1<<26 {
			return nil, nil, errMailState
		}
		b = b[k1+k2:]
		for i := range uint32(count) {
			q = append(q, uint32(first)-i)
		}
	}
	return q, b, nil
}

var errMailState = errors.New("corrupt mail sync state")

// decodeMailState reads a state's header; empty input is the state of key
// 0. The items follow with decodeItems.
func decodeMailState(b []byte) (mailState, error) {
	if len(b) == 0 {
		return mailState{items: syncstate.Items{}}, nil
	}
	format := b[0]
	if format != mailStateFormat && format != mailStateFormatV1 {
		return mailState{}, fmt.Errorf("%w: format %d", errMailState, b[0])
	}
	st, b, err := decodeMailFields(b[1:])
	if err != nil {
		return mailState{}, err
	}
	if format == mailStateFormat {
		if st.queue, b, err = readQueue(b); err != nil {
			return mailState{}, err
		}
	}
	st.raw = b
	return st, nil
}

// decodeMailFields reads the fields after the format byte up to the
// queue: the mailbox status, the FilterType window and pending; it
// returns the rest.
func decodeMailFields(b []byte) (mailState, []byte, error) {
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
			return mailState{}, nil, errMailState
		}
		b = b[n:]
	}
	return mailState{
		status: model.MailboxStatus{UIDValidity: uint32(vals[0]), UIDNext: uint32(vals[1]),
			Messages: uint32(vals[2]), HighestModSeq: vals[3]},
		filterDay: int64(vals[4]), pending: vals[5] == 1,
	}, b, nil
}

// mailStateHeadLen covers the fields decodeMailHead reads: the format
// byte and six varints of at most ten bytes.
const mailStateHeadLen = 1 + 6*binary.MaxVarintLen64

// decodeMailHead reads the start of an encoded state (at least its first
// mailStateHeadLen bytes, or all of it): the mailbox status, the
// FilterType window and whether MoreAvailable is pending; not the queue
// nor the items.
func decodeMailHead(b []byte) (mailState, error) {
	if len(b) == 0 {
		return mailState{}, errMailState // key 0's: never current past key 0
	}
	if b[0] != mailStateFormat && b[0] != mailStateFormatV1 {
		return mailState{}, fmt.Errorf("%w: format %d", errMailState, b[0])
	}
	st, _, err := decodeMailFields(b[1:])
	return st, err
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
