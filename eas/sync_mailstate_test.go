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
