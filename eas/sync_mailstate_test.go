package eas

import (
	"slices"
	"testing"

	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/eas/syncstate"
)

// A mail state survives encoding with its queue (in runs), and a state
// written before the queue existed still reads, without one.
func TestMailStateEncoding(t *testing.T) {
	st := mailState{
		status:    model.MailboxStatus{UIDValidity: 7, UIDNext: 5000, Messages: 4000, HighestModSeq: 99},
		filterDay: 20000, pending: true,
		queue: []uint32{4000, 3999, 3998, 17, 9, 8, 1},
		items: syncstate.Items{uidKey(4001): "s", uidKey(4002): ""},
	}
	got, err := decodeMailState(st.encode())
	if err == nil {
		err = got.decodeItems()
	}
	if err != nil || got.status != st.status || got.filterDay != st.filterDay || !got.pending ||
		!slices.Equal(got.queue, st.queue) || len(got.items) != 2 || got.items[uidKey(4001)] != "s" {
		t.Fatalf("round trip: %+v %v", got, err)
	}

	// The old format: the same without the queue.
	items := st.items.Encode()
	old := st.encode()
	old = append(old[:len(old)-len(appendQueue(nil, st.queue))-len(items)], items...)
	old[0] = mailStateFormatV1
	got, err = decodeMailState(old)
	if err == nil {
		err = got.decodeItems()
	}
	if err != nil || got.queue != nil || got.status != st.status || len(got.items) != 2 {
		t.Fatalf("old format: %+v %v", got, err)
	}

	for _, bad := range [][]byte{{mailStateFormat, 1, 1, 1, 1, 1, 1, 200}, {mailStateFormat, 1, 1, 1, 1, 1, 1, 1, 3, 9}} {
		if _, err := decodeMailState(bad); err == nil {
			t.Errorf("%v decoded", bad)
		}
	}
}

// The head a quiet Sync reads (syncstate.PeekHead, mailStateHeadLen bytes)
// holds every field it compares, whatever the sizes, the queue and the
// items after it; a head cut short or of no known format is no answer.
func TestMailStateHead(t *testing.T) {
	long := make([]uint32, 0, 1000)
	for uid := uint32(1 << 31); len(long) < 1000; uid -= 2 {
		long = append(long, uid) // no runs: the queue's longest encoding
	}
	for _, st := range []mailState{
		{status: model.MailboxStatus{UIDValidity: 1<<32 - 1, UIDNext: 1<<32 - 1, Messages: 1<<32 - 1, HighestModSeq: 1<<64 - 1},
			filterDay: -1 << 62, pending: true, queue: long, items: syncstate.Items{uidKey(1): "s"}},
		{status: model.MailboxStatus{UIDValidity: 7, UIDNext: 5000, Messages: 4000, HighestModSeq: 99},
			filterDay: 20000, items: syncstate.Items{}},
	} {
		b := st.encode()
		head := b[:min(len(b), mailStateHeadLen)]
		got, err := decodeMailHead(head)
		if err != nil || got.status != st.status || got.filterDay != st.filterDay || got.pending != st.pending {
			t.Errorf("head of %+v: %+v %v", st.status, got, err)
		}
		if len(b) > mailStateHeadLen && len(head) != mailStateHeadLen {
			t.Errorf("head of %d bytes", len(head))
		}
	}
	for _, bad := range [][]byte{nil, {mailStateFormat, 1, 1}, {'X', 1, 1, 1, 1, 1, 1}} {
		if _, err := decodeMailHead(bad); err == nil {
			t.Errorf("head %v decoded", bad)
		}
	}
}
