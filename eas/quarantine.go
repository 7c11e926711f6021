package eas

import (
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/pgnotify"
)

// A quarantined device (`easd serve --new-devices=approve`, an access rule,
// or `easd device quarantine`) waits for an administrator's approval. It
// is answered as Exchange answers a device in its Allow/Block/Quarantine
// list's quarantine state, so the user learns why on the phone and the
// phone waits instead of retrying:
//
//   - Provision and FolderSync work as usual, so the account sets up, the
//     folder list shows, and nothing needs redoing once approved.
//   - Settings works (DeviceInformation tells the administrator what the
//     phone is).
//   - Sync of the Inbox delivers one message, the quarantine notice, and
//     of every other folder nothing. Its keys ("Q1", "Q2") are not the
//     sync-state engine's: once approved, the next Sync of each
//     collection answers Status 3 and the phone starts that collection
//     over, dropping the notice. A Sync carrying the phone's own changes
//     is refused whole (Status 129), since none of them would be kept;
//     marking the notice read or deleting it succeeds (it exists only on
//     the phone).
//   - Ping and a hanging Sync are held for their whole heartbeat, and end
//     early when the device is approved (the Ping then names its folders,
//     so the phone syncs at once).
//   - Every other command answers 129 (HTTP 403 before EAS 14.0).
//
// See docs/decisions.md, "Device access".

// quarantineKey is the SyncKey of a collection of a quarantined device
// after n exchanges: Q1 (answered to key 0, empty), Q2 (the notice sent).
func quarantineKey(n int) string { return fmt.Sprintf("Q%d", n) }

// quarantineAllowed are the commands a quarantined device may send.
var quarantineAllowed = map[string]bool{
	"Provision": true, "Settings": true, "FolderSync": true, "Sync": true, "Ping": true,
}

// quarantineRun returns the handler that serves cmd for a quarantined
// device in place of run.
func quarantineRun(cmd string, run func(*call) error) func(*call) error {
	switch cmd {
	case "Sync":
		return quarantineSync
	case "Ping":
		return quarantinePing
	}
	return run
}

// quarantineSync answers a Sync of a quarantined device.
func quarantineSync(k *call) error {
	var req message.SyncRequest
	empty, err := k.decode(&req)
	if err != nil {
		return err
	}
	if empty || req.Collections == nil || len(req.Collections.Collection) == 0 {
		// Nothing cached for a quarantined device: the phone sends the
		// full request, which is answered below.
		return k.respond(&message.SyncResponse{Status: int(syncEmptyNotCached)})
	}
	list, err := k.s.folders.List(k.ctx(), k.dev.UserID)
	if err != nil {
		return err
	}
	byID := folders.ByID(list)
	for _, col := range req.Collections.Collection {
		if !onlyNoticeCommands(col, byID) {
			return &StatusError{Status: StatusDeviceBlocked, Err: fmt.Errorf("device quarantined: changes in collection %q refused", col.CollectionID)}
		}
	}
	resp := &message.SyncResponse{Collections: &message.SyncResponseCollections{}}
	sent := false
	for _, col := range req.Collections.Collection {
		rc := message.SyncResponseCollection{SyncKey: col.SyncKey, CollectionID: col.CollectionID, Status: int(syncOK)}
		if k.version < 140 {
			rc.Class = col.Class
		}
		f, ok := byID[col.CollectionID]
		switch {
		case col.SyncKey == "" || col.CollectionID == "":
			rc.Status = int(syncProtocolError)
		case !ok:
			rc.Status = int(syncObjectNotFound)
		case col.SyncKey == "0":
			rc.SyncKey = quarantineKey(1)
		case col.SyncKey == quarantineKey(1):
			rc.SyncKey = quarantineKey(2)
			if f.Type == model.FolderInbox {
				n, err := k.quarantineNotice(col, f)
				if err != nil {
					return err
				}
				rc.Commands = &message.SyncCommands{Add: []message.SyncItem{n}}
				sent = true
			}
		case col.SyncKey == quarantineKey(2):
		default:
			// A key from before the quarantine: the phone starts the
			// collection over and so gets the notice.
			rc.SyncKey, rc.Status = "0", int(syncBadKey)
		}
		if k.version < 140 && rc.Class == "" && ok {
			rc.Class = string(f.Type.Class())
		}
		resp.Collections.Collection = append(resp.Collections.Collection, rc)
	}
	k.note(int(syncOK), "device quarantined")
	if !sent && (req.Wait > 0 || req.HeartbeatInterval > 0) {
		hb := time.Duration(req.HeartbeatInterval) * time.Second
		if req.Wait > 0 {
			hb = time.Duration(req.Wait) * time.Minute
		}
		lim := k.s.opts.Limits
		hb = k.capHeartbeat(min(max(hb, lim.HeartbeatMin), lim.HeartbeatMax))
		h := k.newQuarantineHold()
		defer h.close()
		if _, err := h.announce(); err != nil {
			return err
		}
		if _, gone := h.hold(hb); gone {
			return nil
		}
	} else if err := k.s.announceDone(k.ctx(), k.dev.ID); err != nil {
		return err
	}
	return k.respond(resp)
}

// onlyNoticeCommands reports whether the collection's commands, if any,
// only mark the notice read or delete it. The notice exists only on the
// phone, so that is all there is to keep, and the phone is answered with
// success; anything else would not be kept and is refused.
func onlyNoticeCommands(col message.SyncCollection, byID map[string]folders.Folder) bool {
	c := col.Commands
	if c == nil {
		return true
	}
	f, ok := byID[col.CollectionID]
	if !ok || f.Type != model.FolderInbox || len(c.Add)+len(c.Fetch) > 0 {
		return false
	}
	notice := noticeID(f)
	for _, ch := range c.Change {
		if ch.ServerID != notice {
			return false
		}
	}
	for _, d := range c.Delete {
		if d.ServerID != notice {
			return false
		}
	}
	return true
}

// noticeID is the ServerId of the notice: UID 0 names no IMAP message.
func noticeID(inbox folders.Folder) string { return inbox.ServerID + ":0" }

// quarantineNotice is the message a quarantined device shows in its
// Inbox: why it does not sync, and that it will by itself once approved.
func (k *call) quarantineNotice(col message.SyncCollection, inbox folders.Folder) (message.SyncItem, error) {
	to, err := k.userAddressIn(k.ctx())
	if err != nil {
		return message.SyncItem{}, err
	}
	d := k.dev
	subject := "Your device is waiting for approval"
	var b strings.Builder
	fmt.Fprintf(&b, "This device connected to your mailbox on %s. Before it can sync your mail, "+
		"calendar and contacts, an administrator has to approve it. Until then it shows only this message.\r\n\r\n"+
		"You need not do anything on the device: once it is approved, it starts syncing by itself. "+
		"If you did not set up this device, tell your administrator.\r\n\r\n",
		d.FirstSeen.UTC().Format("2006-01-02 15:04 MST"))
	for _, row := range [][2]string{{"Device id", d.DeviceID}, {"Device type", d.DeviceType}, {"Model", d.Model},
		{"Operating system", d.OS}, {"User agent", d.UserAgent}, {"Protocol", "EAS " + d.ProtocolVersion}} {
		if row[1] != "" {
			fmt.Fprintf(&b, "%s: %s\r\n", row[0], row[1])
		}
	}
	text := b.String()
	from := "Mail administrator <postmaster@" + domainOf(to) + ">"
	date := d.FirstSeen.UTC()
	mail := &message.Email{
		To: to, From: from, Subject: subject, DisplayTo: to, ThreadTopic: subject,
		DateReceived: date.Format("2006-01-02T15:04:05.000Z"),
		Importance:   new(2), Read: new(false), MessageClass: "IPM.Note", InternetCPID: "65001",
	}
	if k.version < 120 {
		mail.Body25, mail.BodyTruncated, mail.BodySize = text, new(false), int64(len(text))
	} else {
		mail.Body = noticeBody(col, to, from, subject, text, date)
		mail.NativeBodyType = message.BodyPlain
		mail.Flag = &message.Flag{}
	}
	return message.SyncItem{ServerID: noticeID(inbox), ApplicationData: mail}, nil
}

// noticeBody renders the notice in the first body type the collection's
// options ask for that easd can give whole (MIME, HTML or plain text).
func noticeBody(col message.SyncCollection, to, from, subject, text string, date time.Time) *message.Body {
	typ := message.BodyPlain
	for _, o := range col.Options {
		for _, p := range o.BodyPreference {
			if p.Type == message.BodyMIME || p.Type == message.BodyHTML || p.Type == message.BodyPlain {
				typ = p.Type
				break
			}
		}
	}
	var data string
	switch typ {
	case message.BodyHTML:
		paras := strings.ReplaceAll(html.EscapeString(strings.TrimSpace(text)), "\r\n\r\n", "</p><p>")
		data = "<html><body><p>" + strings.ReplaceAll(paras, "\r\n", "<br>") + "</p></body></html>"
	case message.BodyMIME:
		data = "From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\nDate: " +
			date.Format(time.RFC1123Z) + "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n" +
			"Content-Transfer-Encoding: 8bit\r\n\r\n" + text
	default:
		data = text
	}
	return &message.Body{Type: typ, EstimatedDataSize: int64(len(data)), Data: data}
}

func domainOf(addr string) string {
	if _, d, ok := strings.Cut(addr, "@"); ok && d != "" {
		return d
	}
	return "localhost"
}

// quarantinePing holds a quarantined device's Ping for its heartbeat, so
// the phone does not ask again and again; it ends early when the device is
// approved, naming the Ping's folders so that the phone syncs them (and
// learns, by Status 3, to start them over).
func quarantinePing(k *call) error {
	var req message.PingRequest
	if _, err := k.decode(&req); err != nil {
		return err
	}
	h := k.newQuarantineHold()
	defer h.close()
	raw, err := h.announce()
	if err != nil {
		return err
	}
	stored, err := raw.decode()
	if err != nil {
		return err
	}
	p, fresh, prob := mergePing(req, stored, k.s.opts.Limits)
	if prob != nil {
		return k.answerPing(&message.PingResponse{Status: int(prob.status),
			HeartbeatInterval: prob.heartbeat, MaxFolders: prob.maxFolders})
	}
	if fresh {
		if err := k.s.savePing(k.ctx(), k.dev.ID, p); err != nil {
			return err
		}
	}
	approved, gone := h.hold(k.capHeartbeat(p.heartbeat))
	if gone {
		return nil
	}
	if !approved {
		return k.answerPing(&message.PingResponse{Status: int(pingExpired)})
	}
	ids := make([]string, len(p.folders))
	for i, f := range p.folders {
		ids[i] = f.ID
	}
	return k.answerPing(&message.PingResponse{Status: int(pingChanged), Folders: &message.PingChangedFolders{Folder: ids}})
}

// quarantineHold is a held request of a quarantined device: a Ping, or a
// hanging Sync with nothing to send.
type quarantineHold struct {
	w      *pingWait // its device subscription and generation
	access NotifySub
}

// newQuarantineHold subscribes to the device's announcements and access
// changes, before the request announces itself, as a Ping does.
func (k *call) newQuarantineHold() *quarantineHold {
	h := &quarantineHold{w: &pingWait{k: k, kind: WaitPing}}
	if hub := k.s.opts.Push.Hub; hub != nil {
		h.w.device = hub.Subscribe(deviceTopic(k.dev.ID))
		h.access = hub.Subscribe(device.AccessTopic(k.dev.ID))
	}
	return h
}

// announce makes the request the device's newest, ending older waiting
// ones, and returns the stored Ping parameters.
func (h *quarantineHold) announce() (storedPing, error) {
	gen, raw, err := h.w.k.s.announceRequest(h.w.k.ctx(), h.w.k.dev.ID)
	h.w.gen = gen
	return raw, err
}

func (h *quarantineHold) close() {
	h.w.close()
	if h.access != nil {
		h.access.Close()
	}
}

// hold waits up to d, or until the device's access changes to something
// else than quarantined (approved), a newer request of the device arrives,
// or easd shuts down. gone is true when the client went away and nobody is
// left to answer.
func (h *quarantineHold) hold(d time.Duration) (approved, gone bool) {
	k := h.w.k
	// The approval may have come before the subscription.
	if dev, err := k.s.devices.Get(k.ctx(), k.dev.Login, k.dev.DeviceID); err == nil && dev.Access != device.Quarantined {
		return true, false
	}
	var accessC, deviceC <-chan pgnotify.Payload
	if h.access != nil {
		accessC = h.access.C()
	}
	if h.w.device != nil {
		deviceC = h.w.device.C()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
			return false, false
		case <-k.s.opts.Drain:
			return false, false
		case <-k.ctx().Done():
			return false, !h.w.draining()
		case p, ok := <-deviceC:
			if !ok || h.w.superseded(p) {
				return false, false
			}
		case p, ok := <-accessC:
			if !ok {
				return false, false
			}
			if p.Resync || p.Data != device.Quarantined {
				if dev, err := k.s.devices.Get(k.ctx(), k.dev.Login, k.dev.DeviceID); err == nil && dev.Access != device.Quarantined {
					return true, false
				}
			}
		}
	}
}
