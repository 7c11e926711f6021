package pushevents

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/easd/easd/eas/folders"
)

// slowFolders answers only after the sender has hung up, and fails if the
// context it is given has ended.
type slowFolders struct{ hungUp <-chan struct{} }

func (f slowFolders) FindMailboxes(ctx context.Context, _, _ []string) (folders.MailboxFolders, bool, error) {
	<-f.hungUp
	if err := ctx.Err(); err != nil {
		return folders.MailboxFolders{}, false, err
	}
	return folders.MailboxFolders{UserID: 7, Login: "alice", IDs: map[string]string{"INBOX": "1"}}, true, nil
}

// Dovecot gives up on a post after a second; an event easd has read by
// then still wakes the waiting requests (found by the 100,000-phone run:
// a busy instance dropped events whose sender had hung up).
func TestEventWakesAfterTheSenderHungUp(t *testing.T) {
	hungUp := make(chan struct{})
	var woken []string
	h := &Handler{Secret: "a-secret-of-sixteen+", Folders: slowFolders{hungUp},
		Notify: func(ctx context.Context, userID int64, folderID string) error {
			woken = append(woken, folderID)
			return ctx.Err()
		}}
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequest(http.MethodPost, Path,
		strings.NewReader(`{"user":"alice","events":[{"event":"MessageNew","mailbox":"INBOX"}]}`)).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer a-secret-of-sixteen+")
	req.Header.Set("Content-Type", "application/json")
	go func() { cancel(); close(hungUp) }()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if len(woken) != 1 || woken[0] != "1" {
		t.Fatalf("woken %v (answer %d %s), want folder 1 woken", woken, rec.Code, rec.Body)
	}
}
