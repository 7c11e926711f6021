package eas_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/contacts"
	"github.com/easd/easd/eas"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
	"github.com/easd/easd/wbxml"
)

// fullContact has a value in every element a phone may send (16.1).
func fullContact() *message.Contact {
	return &message.Contact{
		Anniversary: "2010-06-12T00:00:00.000Z", AssistantName: "Ann Assist", AssistantPhoneNumber: "+1 555 0101",
		Birthday: "1980-02-29T00:00:00.000Z", Business2PhoneNumber: "+1 555 0102",
		BusinessAddressCity: "Springfield", BusinessAddressCountry: "USA", BusinessAddressPostalCode: "12345",
		BusinessAddressState: "IL", BusinessAddressStreet: "1 Main St\nSuite 2", BusinessFaxNumber: "+1 555 0103",
		BusinessPhoneNumber: "+1 555 0104", CarPhoneNumber: "+1 555 0105",
		Categories:  &message.ContactCategories{Category: []string{"Friends, old", "Work;Team", `Back\slash`}},
		Children:    &message.ContactChildren{Child: []string{"Kid One", "Kid Two"}},
		CompanyName: "Acme; Inc.", Department: "R&D", Email1Address: "jane@example.test",
		Email2Address: "\"Jane D\" <jd@example.test>", Email3Address: "j3@example.test", FileAs: "Doe, Jane",
		FirstName: "Jane", Home2PhoneNumber: "+1 555 0106", HomeAddressCity: "Shelbyville", HomeAddressCountry: "USA",
		HomeAddressPostalCode: "54321", HomeAddressState: "IL", HomeAddressStreet: "2 Elm St", HomeFaxNumber: "+1 555 0107",
		HomePhoneNumber: "+1 555 0108", JobTitle: "Engineer", LastName: `Doe;X\Y`, MiddleName: "Q",
		MobilePhoneNumber: "+1 555 0109", OfficeLocation: "B-2", OtherAddressCity: "Ogdenville",
		OtherAddressCountry: "USA", OtherAddressPostalCode: "99999", OtherAddressState: "IL",
		OtherAddressStreet: "3 Oak St", PagerNumber: "+1 555 0110", RadioPhoneNumber: "+1 555 0111",
		Spouse: "John Doe", Suffix: "Jr.", Title: "Dr.", WebPage: "https://example.test/jane",
		YomiCompanyName: "Akume", YomiFirstName: "Jein", YomiLastName: "Dou",
		Picture:    base64.StdEncoding.EncodeToString(jpeg(2000)),
		Body:       &message.Body{Type: message.BodyPlain, Data: "Met at the conference.\nLikes tea."},
		CustomerID: "C-1", GovernmentID: "G-2", IMAddress: "xmpp:jane@example.test", IMAddress2: "sip:jane@example.test",
		IMAddress3: "aim:jane", ManagerName: "Boss Person", CompanyMainPhone: "+1 555 0112", AccountName: "ACC-9",
		NickName: "JD", MMS: "+1 555 0113",
	}
}

// jpeg returns n bytes that start like a JPEG file.
func jpeg(n int) []byte {
	b := make([]byte, n)
	copy(b, []byte{0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F', 0})
	for i := 11; i < n; i++ {
		b[i] = byte(i * 7)
	}
	return b
}

// contactsEnv is alice's Contacts folder on a phone, synced.
type contactsEnv struct {
	*syncEnv
	folder string
	key    string
}

func startContacts(t *testing.T, s *syncEnv) *contactsEnv {
	t.Helper()
	return startFolder(t, s, "Contacts", "")
}

// pull syncs until nothing is left and returns the server's commands.
func (ce *contactsEnv) pull(t *testing.T) (string, message.SyncCommands) {
	t.Helper()
	var all message.SyncCommands
	for range 100 {
		rc := ce.sync(t, message.SyncCollection{SyncKey: ce.key, CollectionID: ce.folder, WindowSize: 512})
		if rc.Status != 1 {
			t.Fatalf("contacts sync: %+v", rc)
		}
		ce.key = rc.SyncKey
		c := commands(rc)
		all.Add = append(all.Add, c.Add...)
		all.Change = append(all.Change, c.Change...)
		all.Delete = append(all.Delete, c.Delete...)
		if !rc.MoreAvailable {
			return ce.key, all
		}
	}
	t.Fatal("MoreAvailable forever")
	return "", all
}

// send sends client commands and returns the answer; the key advances.
func (ce *contactsEnv) send(t *testing.T, cmds *message.SyncClientCommands) message.SyncResponseCollection {
	t.Helper()
	rc := ce.sync(t, message.SyncCollection{SyncKey: ce.key, CollectionID: ce.folder, Commands: cmds,
		GetChanges: ptr(false)})
	if rc.Status != 1 {
		t.Fatalf("client commands: %+v", rc)
	}
	ce.key = rc.SyncKey
	return rc
}

func ptr[T any](v T) *T { return &v }

// added is the ServerId of the only Add answer, which must be Status 1.
func added(t *testing.T, rc message.SyncResponseCollection) string {
	t.Helper()
	if rc.Responses == nil || len(rc.Responses.Add) != 1 || rc.Responses.Add[0].Status != 1 || rc.Responses.Add[0].ServerID == "" {
		t.Fatalf("Add answer: %+v", rc.Responses)
	}
	return rc.Responses.Add[0].ServerID
}

// decoded is the contact of a server Add or Change.
func decoded(t *testing.T, it message.SyncItem) *message.Contact {
	t.Helper()
	return decodedAs[message.Contact](t, it.ApplicationData)
}

func addOf(clientID string, c *message.Contact) message.SyncClientAdd {
	return message.SyncClientAdd{ClientID: clientID, ApplicationData: c}
}

// Every element goes phone -> store -> a second phone unchanged, and the
// first phone is not sent back its own contact.
func TestContactsEveryFieldBetweenPhones(t *testing.T) {
	s := startSync(t)
	a := startContacts(t, s)
	b := startContacts(t, s.device(t, "phone-b"))

	want := fullContact()
	id := added(t, a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{addOf("c1", want)}}))
	if _, cmds := a.pull(t); len(cmds.Add)+len(cmds.Change) != 0 {
		t.Fatalf("the adding phone got its own contact back: %+v", cmds)
	}
	_, cmds := b.pull(t)
	if len(cmds.Add) != 1 || cmds.Add[0].ServerID != id {
		t.Fatalf("second phone got %+v, want one Add of %s", cmds, id)
	}
	got := decoded(t, cmds.Add[0])
	if got.Body == nil || got.Body.Data != want.Body.Data {
		t.Errorf("body %+v, want %q", got.Body, want.Body.Data)
	}
	got.Body, want.Body = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("second phone's contact differs:\n got %+v\nwant %+v", got, want)
	}

	// GetItemEstimate and ItemOperations Fetch see the same contact.
	c := s.device(t, "phone-c")
	cc := &contactsEnv{syncEnv: c, folder: c.ids["Contacts"]}
	cc.key = cc.start(t, cc.folder)
	r, err := c.c.GetItemEstimate(context.Background(), cc.folder, cc.key, nil)
	if err != nil || len(r.Response) != 1 || r.Response[0].Status != 1 || r.Response[0].Collection.Estimate != 1 {
		t.Fatalf("GetItemEstimate: %+v %v", r, err)
	}
	// FilterType does not apply to contacts (MS-ASCMD 2.2.3.70.2).
	rc := c.sync(t, message.SyncCollection{SyncKey: cc.key, CollectionID: cc.folder,
		Options: []message.SyncOptions{{FilterType: ptr(3)}}})
	if rc.Status != 1 || len(commands(rc).Add) != 1 {
		t.Fatalf("Sync with FilterType 3: %+v", rc)
	}
	io, _, err := c.c.ItemOperations(context.Background(), &message.ItemOperationsRequest{Fetch: []message.ItemOperationsFetch{
		{Store: "Mailbox", CollectionID: cc.folder, ServerID: id}}}, false)
	if err != nil || io.Response == nil || len(io.Response.Fetch) != 1 || io.Response.Fetch[0].Status != 1 {
		t.Fatalf("ItemOperations Fetch: %+v %v", io, err)
	}
}

// A Sync whose answer was lost is sent again with the same key: nothing
// is created twice, nothing lost, for Add, Change and Delete.
func TestContactsLostResponseReplays(t *testing.T) {
	s := startSync(t)
	a := startContacts(t, s)
	b := startContacts(t, s.device(t, "phone-b"))

	add := &message.SyncClientCommands{Add: []message.SyncClientAdd{
		addOf("n1", &message.Contact{FirstName: "One"}), addOf("n2", &message.Contact{FirstName: "Two"})}}
	key := a.key
	first := a.send(t, add)
	a.key = key // the answer is lost: the phone sends the same request again
	again := a.send(t, add)
	for i := range first.Responses.Add {
		if f, g := first.Responses.Add[i], again.Responses.Add[i]; f.ServerID != g.ServerID || g.Status != 1 {
			t.Fatalf("replayed Add %d: %+v, first %+v", i, g, f)
		}
	}
	if _, cmds := b.pull(t); len(cmds.Add) != 2 {
		t.Fatalf("other phone got %d adds, want 2", len(cmds.Add))
	}
	one := first.Responses.Add[0].ServerID

	change := &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: one,
		ApplicationData: &message.Contact{FirstName: "Uno"}}}}
	key = a.key
	a.send(t, change)
	a.key = key
	a.send(t, change)
	_, cmds := b.pull(t)
	if len(cmds.Change) != 1 || decoded(t, cmds.Change[0]).FirstName != "Uno" {
		t.Fatalf("other phone after the replayed change: %+v", cmds)
	}
	// The replaying phone ends with the same contact.
	if _, cmds := a.pull(t); len(cmds.Change) > 1 || (len(cmds.Change) == 1 && decoded(t, cmds.Change[0]).FirstName != "Uno") {
		t.Fatalf("replaying phone: %+v", cmds)
	}

	deleteReplayed(t, a, b, one)
}

// Ghosting: with Supported, what the client leaves out and did not list
// keeps its value; without it, a Change is the whole contact. iOS's empty
// Picture keeps the photo.
func TestContactsGhosting(t *testing.T) {
	s := startSync(t)
	a := startContacts(t, s)
	pic := base64.StdEncoding.EncodeToString(jpeg(500))
	id := added(t, a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{addOf("g1",
		&message.Contact{FirstName: "Gina", LastName: "Ghost", CompanyName: "Haunt Ltd", MobilePhoneNumber: "+1 555 0199", Picture: pic})}}))

	// A phone that declares FirstName, LastName and MobilePhoneNumber.
	g := s.device(t, "phone-ghost")
	ge := &contactsEnv{syncEnv: g, folder: g.ids["Contacts"]}
	supported := wbxml.NewElement(wbxml.MustTag("AirSync:Supported"),
		wbxml.NewElement(wbxml.MustTag("Contacts:FirstName")), wbxml.NewElement(wbxml.MustTag("Contacts:LastName")),
		wbxml.NewElement(wbxml.MustTag("Contacts:MobilePhoneNumber")))
	rc := g.sync(t, message.SyncCollection{SyncKey: "0", CollectionID: ge.folder, Supported: supported})
	ge.key = rc.SyncKey
	ge.pull(t)
	ge.send(t, &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: id,
		ApplicationData: &message.Contact{FirstName: "Gina2"}}}})
	got := fetchContact(t, a, id)
	if got.FirstName != "Gina2" || got.LastName != "" || got.MobilePhoneNumber != "" || got.CompanyName != "Haunt Ltd" || got.Picture != pic {
		t.Fatalf("after a ghosting change: %+v", got)
	}

	// Without Supported, a Change is the whole contact.
	a.pull(t)
	a.send(t, &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: id,
		ApplicationData: &message.Contact{FirstName: "Gina3", Picture: pic}}}})
	if got := fetchContact(t, a, id); got.CompanyName != "" || got.FirstName != "Gina3" || got.Picture != pic {
		t.Fatalf("after a whole-contact change: %+v", got)
	}

	// iOS sends an empty Picture for a photo it did not make.
	ios := s.env.Client("alice", "ios-phone")
	ios.DeviceType = "iPhone"
	ie := &contactsEnv{syncEnv: &syncEnv{env: s.env, c: ios}, folder: s.ids["Contacts"]}
	ie.ids = syncFolderIDs(t, ios)
	ie.key = ie.start(t, ie.folder)
	ie.pull(t)
	data := wbxml.NewElement(wbxml.MustTag("AirSync:ApplicationData"),
		wbxml.TextElement(wbxml.MustTag("Contacts:FirstName"), "Gina4"), wbxml.NewElement(wbxml.MustTag("Contacts:Picture")))
	ie.send(t, &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: id, ApplicationData: data}}})
	if got := fetchContact(t, a, id); got.FirstName != "Gina4" || got.Picture != pic {
		t.Fatalf("iOS empty Picture: first name %q, picture kept %v", got.FirstName, got.Picture == pic)
	}
	// Another client's empty Picture deletes it.
	a.pull(t)
	a.send(t, &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: id, ApplicationData: wbxml.NewElement(
		wbxml.MustTag("AirSync:ApplicationData"), wbxml.TextElement(wbxml.MustTag("Contacts:FirstName"), "Gina5"),
		wbxml.NewElement(wbxml.MustTag("Contacts:Picture")))}}})
	if got := fetchContact(t, a, id); got.Picture != "" {
		t.Fatalf("empty Picture from an Android phone kept the photo")
	}
}

// fetchContact reads a contact with ItemOperations Fetch.
func fetchContact(t *testing.T, ce *contactsEnv, id string) *message.Contact {
	t.Helper()
	r, _, err := ce.c.ItemOperations(context.Background(), &message.ItemOperationsRequest{
		Fetch: []message.ItemOperationsFetch{{Store: "Mailbox", CollectionID: ce.folder, ServerID: id}}}, false)
	if err != nil || r.Response == nil || len(r.Response.Fetch) != 1 || r.Response.Fetch[0].Status != 1 {
		t.Fatalf("ItemOperations Fetch: %+v %v", r, err)
	}
	props, ok := r.Response.Fetch[0].Properties.(*wbxml.Element)
	if !ok {
		t.Fatalf("Properties %T", r.Response.Fetch[0].Properties)
	}
	c, err := contacts.DecodeContact(props)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Two phones edit one contact: the server wins by default and both end
// with the same contact; with Conflict 0 the client wins.
func TestContactsTwoPhonesEditOneContact(t *testing.T) {
	s := startSync(t)
	a := startContacts(t, s)
	b := startContacts(t, s.device(t, "phone-b"))
	id := added(t, a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{addOf("x", &message.Contact{FirstName: "Orig"})}}))
	b.pull(t)
	a.send(t, &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: id, ApplicationData: &message.Contact{FirstName: "FromA"}}}})
	// b has not synced since: its change conflicts and loses.
	rc := b.sync(t, message.SyncCollection{SyncKey: b.key, CollectionID: b.folder, Commands: &message.SyncClientCommands{
		Change: []message.SyncClientChange{{ServerID: id, ApplicationData: &message.Contact{FirstName: "FromB"}}}}})
	b.key = rc.SyncKey
	c := commands(rc)
	if len(c.Change) != 1 || decoded(t, c.Change[0]).FirstName != "FromA" {
		t.Fatalf("losing phone got %+v, want the server's copy", c)
	}
	if _, cmds := a.pull(t); len(cmds.Change) != 0 {
		t.Fatalf("winning phone got %+v", cmds)
	}
	// Conflict 0: the client wins.
	rc = b.sync(t, message.SyncCollection{SyncKey: b.key, CollectionID: b.folder, Options: []message.SyncOptions{{Conflict: ptr(0)}}})
	b.key = rc.SyncKey
	a.send(t, &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: id, ApplicationData: &message.Contact{FirstName: "A2"}}}})
	rc = b.sync(t, message.SyncCollection{SyncKey: b.key, CollectionID: b.folder, Options: []message.SyncOptions{{Conflict: ptr(0)}},
		Commands: &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: id, ApplicationData: &message.Contact{FirstName: "B2"}}}}})
	b.key = rc.SyncKey
	if _, cmds := a.pull(t); len(cmds.Change) != 1 || decoded(t, cmds.Change[0]).FirstName != "B2" {
		t.Fatalf("client-wins change not applied: %+v", cmds)
	}
}

// Bad items are refused one by one with Status 6 and nothing of them is
// kept; the rest of the request goes on.
func TestContactsBadInput(t *testing.T) {
	s := startSync(t)
	a := startContacts(t, s)
	big := base64.StdEncoding.EncodeToString(jpeg(48*1024*3/4 + 300)) // above 48 KB of base64
	unknown := wbxml.NewElement(wbxml.MustTag("AirSync:ApplicationData"),
		wbxml.TextElement(wbxml.MustTag("Contacts:FirstName"), "Odd"), wbxml.TextElement(wbxml.MustTag("Email:Subject"), "mail?"))
	rc := a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{
		addOf("big", &message.Contact{FirstName: "Pic", Picture: big}),
		addOf("date", &message.Contact{FirstName: "Date", Birthday: "the fifth of May"}),
		addOf("long", &message.Contact{FirstName: strings.Repeat("x", 100000)}),
		{ClientID: strings.Repeat("c", 65), ApplicationData: &message.Contact{FirstName: "LongClientId"}},
		{ClientID: "unknown", ApplicationData: unknown},
		addOf("good", &message.Contact{FirstName: "Good"}),
	}})
	status := map[string]int{}
	for _, r := range rc.Responses.Add {
		status[r.ClientID] = r.Status
	}
	for _, bad := range []string{"big", "date", "long", strings.Repeat("c", 65), "unknown"} {
		if status[bad] == 1 || status[bad] == 0 {
			t.Errorf("%s: Status %d, want a refusal", bad[:min(len(bad), 8)], status[bad])
		}
	}
	if status["good"] != 1 {
		t.Errorf("good contact: Status %d", status["good"])
	}
	d := s.device(t, "phone-b")
	b := &contactsEnv{syncEnv: d, folder: d.ids["Contacts"]}
	b.key = b.start(t, b.folder)
	_, cmds := b.pull(t)
	if len(cmds.Add) != 1 || decoded(t, cmds.Add[0]).FirstName != "Good" {
		t.Fatalf("stored %+v, want the good contact only", cmds.Add)
	}
}

// A quiet Sync of a contacts folder compares the CTag and reads no card:
// one statement, counted at the seam.
func TestContactsQuietSyncReadsNoCard(t *testing.T) {
	s := startSync(t)
	a := startContacts(t, s)
	for i := range 3 {
		added(t, a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{addOf(fmt.Sprint("q", i), &message.Contact{FirstName: "Q"})}}))
	}
	a.pull(t)
	quiet := regexp.MustCompile(`"msg":"sync items collection"[^\n]*"collection":"` + a.folder + `","class":"Contacts","path":"unchanged","queries":1,`)
	before := len(quiet.FindAllString(s.env.Logs(), -1))
	key := a.key
	for range 5 {
		rc := a.sync(t, message.SyncCollection{SyncKey: a.key, CollectionID: a.folder})
		if rc.Status != 1 || rc.SyncKey != key || rc.Commands != nil {
			t.Fatalf("quiet Sync: %+v", rc)
		}
	}
	if n := len(quiet.FindAllString(s.env.Logs(), -1)) - before; n != 5 {
		t.Fatalf("%d of 5 quiet Syncs answered with one statement", n)
	}
}

// A Ping on one instance wakes within a second of a contacts import made
// on another.
func TestContactsPingWokenByImportElsewhere(t *testing.T) {
	s := startPing(t)
	ce := &contactsEnv{syncEnv: s, folder: s.ids["Contacts"]}
	ce.key = ce.start(t, ce.folder)
	ce.pull(t)
	other := easdtest.StartSecond(t, s.env)
	ping := pingAsync(other.Client("alice", "phone-ping"), time.Minute, message.PingFolder{ID: ce.folder, Class: "Contacts"})
	stillWaiting(t, ping, time.Second)

	var userID int64
	if err := s.env.DB.Pool.QueryRow(context.Background(), `SELECT id FROM users WHERE login = 'alice'`).Scan(&userID); err != nil {
		t.Fatal(err)
	}
	store := contacts.NewStore(s.env.DB.Pool, eas.NotifyFolderChanged)
	start := time.Now()
	vcf := "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Imported Person\r\nN:Person;Imported;;;\r\nEMAIL:imp@example.test\r\nEND:VCARD\r\n"
	if _, err := store.Import(context.Background(), userID, ce.folder, strings.NewReader(vcf), contacts.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	wantChanged(t, answer(t, ping, time.Second), ce.folder)
	t.Logf("woken %v after the import", time.Since(start).Round(time.Millisecond))
	if _, cmds := ce.pull(t); len(cmds.Add) != 1 || decoded(t, cmds.Add[0]).Email1Address != "imp@example.test" {
		t.Fatalf("after the import: %+v", cmds)
	}
}

// Address books: FolderCreate type 14, MoveItems between books (a
// re-sent move gets the same ServerId), FolderDelete with its contacts;
// the default book cannot be deleted.
func TestContactsAddressBooks(t *testing.T) {
	s := startSync(t)
	ctx := context.Background()
	a := startContacts(t, s)
	fs, err := s.c.FolderSync(ctx, "0")
	if err != nil {
		t.Fatal(err)
	}
	fc, err := s.c.FolderCreate(ctx, fs.SyncKey, "0", "Work contacts", 14)
	if err != nil || fc.Status != 1 {
		t.Fatalf("FolderCreate: %+v %v", fc, err)
	}
	work := &contactsEnv{syncEnv: s, folder: fc.ServerID}
	work.key = work.start(t, work.folder)
	id := added(t, a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{addOf("m", &message.Contact{FirstName: "Mover"})}}))

	mv := message.MoveItem{SrcMsgID: id, SrcFldID: a.folder, DstFldID: work.folder}
	r1, err := s.c.MoveItems(ctx, mv)
	if err != nil || len(r1.Response) != 1 || r1.Response[0].Status != 3 {
		t.Fatalf("MoveItems: %+v %v", r1, err)
	}
	r2, err := s.c.MoveItems(ctx, mv)
	if err != nil || r2.Response[0].Status != 3 || r2.Response[0].DstMsgID != r1.Response[0].DstMsgID {
		t.Fatalf("re-sent MoveItems: %+v, first %+v", r2.Response, r1.Response)
	}
	// The moving phone already shows the move: its Syncs report nothing.
	if _, cmds := a.pull(t); len(cmds.Add)+len(cmds.Delete) != 0 {
		t.Fatalf("source after the move: %+v", cmds)
	}
	if _, cmds := work.pull(t); len(cmds.Add)+len(cmds.Delete) != 0 {
		t.Fatalf("destination after the move: %+v", cmds)
	}
	// Another phone sees a Delete and an Add.
	b := startContacts(t, s.device(t, "phone-b"))
	if _, cmds := b.pull(t); len(cmds.Add) != 0 {
		t.Fatalf("default book on a new phone: %+v", cmds)
	}
	if r, err := s.c.MoveItems(ctx, message.MoveItem{SrcMsgID: r1.Response[0].DstMsgID, SrcFldID: work.folder, DstFldID: s.ids["Inbox"]}); err != nil || r.Response[0].Status != 2 {
		t.Fatalf("move of a contact to the Inbox: %+v %v", r, err)
	}

	fs, err = s.c.FolderSync(ctx, fs.SyncKey)
	if err != nil {
		t.Fatal(err)
	}
	fu, err := s.c.FolderUpdate(ctx, fs.SyncKey, work.folder, "0", "Clients")
	if err != nil || fu.Status != 1 {
		t.Fatalf("FolderUpdate: %+v %v", fu, err)
	}
	fs, err = s.c.FolderSync(ctx, fu.SyncKey)
	if err != nil || fs.Changes == nil || len(fs.Changes.Update) != 0 {
		t.Fatalf("FolderSync after the rename the phone made: %+v %v", fs, err)
	}
	if fd, err := s.c.FolderDelete(ctx, fs.SyncKey, a.folder); err != nil || fd.Status != 3 {
		t.Fatalf("FolderDelete of the default book: %+v %v", fd, err)
	}
	fd, err := s.c.FolderDelete(ctx, fs.SyncKey, work.folder)
	if err != nil || fd.Status != 1 {
		t.Fatalf("FolderDelete: %+v %v", fd, err)
	}
	var n int
	if err := s.env.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM contacts`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d contacts left after deleting their book (%v)", n, err)
	}
}

// Every element goes phone -> store -> vCard file -> store -> phone: the
// export of one address book imported into another reads the same on a
// phone, and importing the export again changes nothing.
func TestContactsThroughVCard(t *testing.T) {
	s := startSync(t)
	ctx := context.Background()
	a := startContacts(t, s)
	want := fullContact()
	added(t, a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{addOf("v1", want)}}))

	var userID int64
	if err := s.env.DB.Pool.QueryRow(ctx, `SELECT id FROM users WHERE login = 'alice'`).Scan(&userID); err != nil {
		t.Fatal(err)
	}
	store := contacts.NewStore(s.env.DB.Pool, eas.NotifyFolderChanged)
	var vcf strings.Builder
	if err := store.Export(ctx, userID, a.folder, &vcf); err != nil {
		t.Fatal(err)
	}
	fs, err := s.c.FolderSync(ctx, "0")
	if err != nil {
		t.Fatal(err)
	}
	fc, err := s.c.FolderCreate(ctx, fs.SyncKey, "0", "Copy", 14)
	if err != nil || fc.Status != 1 {
		t.Fatalf("FolderCreate: %+v %v", fc, err)
	}
	for range 2 { // the second import of the same file changes nothing
		if _, err := store.Import(ctx, userID, fc.ServerID, strings.NewReader(vcf.String()), contacts.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	d := s.device(t, "phone-b")
	b := &contactsEnv{syncEnv: d, folder: fc.ServerID}
	b.key = b.start(t, b.folder)
	_, cmds := b.pull(t)
	if len(cmds.Add) != 1 {
		t.Fatalf("imported book holds %d contacts, want 1", len(cmds.Add))
	}
	got := decoded(t, cmds.Add[0])
	if got.Body == nil || got.Body.Data != want.Body.Data {
		t.Errorf("body %+v, want %q", got.Body, want.Body.Data)
	}
	got.Body, want.Body = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("contact after vCard export and import differs:\n got %+v\nwant %+v", got, want)
	}
}

// Birthdays are dates: the instants phones send for one (00:00Z, 08:00Z,
// 11:00Z, local midnight or noon in the user's zone) all store that date,
// and every phone gets it back as the same day. (2000: Kiritimati has been
// at UTC+14 only since 1995.)
func TestContactsBirthdayIsADate(t *testing.T) {
	for _, tc := range []struct {
		zone, sent string
	}{
		{"America/Los_Angeles", "2000-05-04T00:00:00.000Z"},
		{"America/Los_Angeles", "2000-05-04T08:00:00.000Z"},
		{"America/Los_Angeles", "2000-05-04T07:00:00.000Z"}, // local midnight (PDT)
		{"America/Los_Angeles", "2000-05-04T19:00:00.000Z"}, // local noon
		{"Pacific/Kiritimati", "2000-05-03T10:00:00.000Z"},  // local midnight at UTC+14
		{"Pacific/Kiritimati", "2000-05-03T22:00:00.000Z"},  // local noon at UTC+14
		{"Europe/Berlin", "2000-05-04T11:00:00.000Z"},
	} {
		t.Run(tc.zone+"/"+tc.sent[11:16], func(t *testing.T) {
			s := startSync(t, func(c *config.Config) { c.TimeZone = tc.zone })
			a := startContacts(t, s)
			id := added(t, a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{
				addOf("b", &message.Contact{FirstName: "Born", Birthday: tc.sent})}}))
			if got := fetchContact(t, a, id).Birthday; got != "2000-05-04T00:00:00.000Z" {
				t.Fatalf("sent %s in %s, stored as %s", tc.sent, tc.zone, got)
			}
		})
	}
}

// A phone that hangs up in the middle of a Sync and sends it again gets
// every contact kept exactly once, whether the first attempt committed
// or not.
func TestContactsHangUpMidRequest(t *testing.T) {
	s := startSync(t)
	a := startContacts(t, s)
	const n = 20
	for i := range n {
		req := &message.SyncRequest{Collections: &message.SyncCollections{Collection: []message.SyncCollection{{
			SyncKey: a.key, CollectionID: a.folder, GetChanges: ptr(false),
			Commands: &message.SyncClientCommands{Add: []message.SyncClientAdd{
				addOf(fmt.Sprint("h", i), &message.Contact{FirstName: fmt.Sprint("Hang ", i)})}}}}}}
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(1+i%15)*time.Millisecond)
		_, _ = a.c.Sync(ctx, req) // gives up after 1-15 ms
		cancel()
		r, err := a.c.Sync(context.Background(), req)
		if err != nil || r.Collections == nil || r.Collections.Collection[0].Status != 1 {
			t.Fatalf("retry %d: %+v %v", i, r, err)
		}
		rc := r.Collections.Collection[0]
		added(t, rc)
		a.key = rc.SyncKey
	}
	d := s.device(t, "phone-b")
	b := &contactsEnv{syncEnv: d, folder: d.ids["Contacts"]}
	b.key = b.start(t, b.folder)
	_, cmds := b.pull(t)
	seen := map[string]int{}
	for _, it := range cmds.Add {
		seen[decoded(t, it).FirstName]++
	}
	if len(cmds.Add) != n || len(seen) != n {
		t.Fatalf("%d contacts stored, %d distinct, want %d once each: %v", len(cmds.Add), len(seen), n, seen)
	}
	if _, cmds := a.pull(t); len(cmds.Add)+len(cmds.Change)+len(cmds.Delete) != 0 {
		t.Fatalf("the phone that hung up is sent %+v", cmds)
	}
}

// A 2.5 phone (Contacts:Body) and a 12.1 phone (AirSyncBase:Body) share
// contacts with a 16.1 phone, each in its own version's forms.
func TestContactsAcrossVersions(t *testing.T) {
	s := startSync(t)
	modern := startContacts(t, s)
	for _, v := range []string{"2.5", "12.1", "14.1"} {
		t.Run(v, func(t *testing.T) {
			c := s.env.Client("alice", "phone-"+v)
			c.Version = v
			d := &syncEnv{env: s.env, c: c, ids: syncFolderIDs(t, c)}
			old := &contactsEnv{syncEnv: d, folder: d.ids["Contacts"]}
			rc := d.sync(t, message.SyncCollection{Class: "Contacts", SyncKey: "0", CollectionID: old.folder})
			old.key = rc.SyncKey
			sent := &message.Contact{FirstName: "Ver " + v, Email1Address: "v@example.test"}
			if v == "2.5" {
				sent.Body25 = "note from " + v
			} else {
				sent.Body = &message.Body{Type: message.BodyPlain, Data: "note from " + v}
			}
			rc = d.sync(t, message.SyncCollection{Class: "Contacts", SyncKey: old.key, CollectionID: old.folder, GetChanges: ptr(false),
				Commands: &message.SyncClientCommands{Add: []message.SyncClientAdd{addOf("x", sent)}}})
			id := added(t, rc)
			got := fetchContact(t, modern, id)
			if got.FirstName != "Ver "+v || got.Body == nil || got.Body.Data != "note from "+v {
				t.Fatalf("16.1 phone reads %+v (body %+v)", got, got.Body)
			}
			// And the old phone reads a 16.1 phone's contact in its forms.
			mid := added(t, modern.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{addOf("m"+v,
				&message.Contact{FirstName: "Modern", Body: &message.Body{Type: message.BodyPlain, Data: "modern note"}})}}))
			rc = d.sync(t, message.SyncCollection{Class: "Contacts", SyncKey: rc.SyncKey, CollectionID: old.folder, WindowSize: 100})
			var found *message.Contact
			for _, it := range commands(rc).Add {
				if it.ServerID == mid {
					found = decoded(t, it)
				}
			}
			switch {
			case found == nil:
				t.Fatalf("old phone did not get the modern contact: %+v", rc)
			case v == "2.5" && (found.Body25 != "modern note" || found.Body != nil):
				t.Fatalf("2.5 phone body: %q %+v", found.Body25, found.Body)
			case v != "2.5" && (found.Body == nil || found.Body.Data != "modern note"):
				t.Fatalf("%s phone body: %+v", v, found.Body)
			}
		})
	}
}
