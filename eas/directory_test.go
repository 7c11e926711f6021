package eas_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/calendar"

	"github.com/easd/easd/contacts"
	"github.com/easd/easd/directory"
	"github.com/easd/easd/eas"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/testenv"
	"github.com/easd/easd/wbxml"
)

// testCert makes a self-signed S/MIME certificate for addr, valid from
// notBefore for a year.
func testCert(t *testing.T, addr string, notBefore time.Time) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: addr},
		EmailAddresses: []string{addr}, NotBefore: notBefore, NotAfter: notBefore.AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// galEnv is a running easd with a directory: alice (logged in), and
// entries of every kind.
type galEnv struct {
	*syncEnv
	dir  *directory.Store
	cert []byte // Carla's valid certificate
}

func startGAL(t *testing.T) *galEnv {
	t.Helper()
	s := startSync(t)
	ctx := context.Background()
	dir := directory.NewStore(s.env.DB.Pool, directory.Options{Domain: "example.test", MaxResults: 100})
	g := &galEnv{syncEnv: s, dir: dir, cert: testCert(t, "carla@example.test", time.Now().Add(-time.Hour))}
	small, big := bytes.Repeat([]byte{0xff}, 1000), bytes.Repeat([]byte{0xd8}, 5000)
	add := func(e directory.Entry) {
		t.Helper()
		if _, err := dir.Add(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	add(directory.Entry{DirectoryEntry: model.DirectoryEntry{DisplayName: "Carla Núñez", FirstName: "Carla", LastName: "Núñez",
		Emails: []string{"carla@example.test"}, Phone: "+1 555 0100", MobilePhone: "+1 555 0101", Title: "Engineer",
		Company: "Example", Office: "B2", Alias: "cnunez", Picture: small,
		Certificates: [][]byte{g.cert, testCert(t, "carla@example.test", time.Now().AddDate(-2, 0, 0))}}})
	add(directory.Entry{DirectoryEntry: model.DirectoryEntry{DisplayName: "Carl Berg", Emails: []string{"carl@example.test"}, Picture: big,
		Certificates: [][]byte{testCert(t, "carl@example.test", time.Now().AddDate(-2, 0, 0))}}})
	add(directory.Entry{DirectoryEntry: model.DirectoryEntry{DisplayName: "Carlos Ruiz", Emails: []string{"carlos@example.test"}, Picture: small}})
	add(directory.Entry{DirectoryEntry: model.DirectoryEntry{DisplayName: "Carlotta Secret", Emails: []string{"secret@example.test"}}, Hidden: true})
	add(directory.Entry{Kind: directory.Resource, DirectoryEntry: model.DirectoryEntry{DisplayName: "Room Carlsberg", Emails: []string{"room.carlsberg@example.test"}}})
	return g
}

func (g *galEnv) gal(t *testing.T, q, rng string, pic *message.SearchPicture) message.SearchResponseStore {
	t.Helper()
	r, err := g.c.Search(context.Background(), &message.SearchRequest{Store: message.SearchStore{Name: "GAL",
		Query: wbxml.TextElement(wbxml.MustTag("Search:Query"), q), Options: &message.SearchOptions{Range: rng, Picture: pic}}})
	if err != nil || r.Status != 1 || r.Response == nil {
		t.Fatalf("GAL search %q: %+v %v", q, r, err)
	}
	return r.Response.Store
}

func galNames(st message.SearchResponseStore) []string {
	var out []string
	for _, r := range st.Result {
		if p, ok := r.Properties.(*message.GALProperties); ok {
			out = append(out, p.DisplayName)
		}
	}
	return out
}

func TestGALSearch(t *testing.T) {
	g := startGAL(t)

	// "carl" is Carl Berg's whole first name: exact first, then the
	// prefix matches by name; the hidden entry never; the resource too.
	st := g.gal(t, "CARL", "0-9", nil)
	want := []string{"Carl Berg", "Carla Núñez", "Carlos Ruiz", "Room Carlsberg"}
	if !slices.Equal(galNames(st), want) || *st.Total != 4 || st.Range != "0-3" || st.Status != 1 {
		t.Fatalf("carl: %v total %v range %q", galNames(st), *st.Total, st.Range)
	}
	st = g.gal(t, "carl", "1-2", nil)
	if !slices.Equal(galNames(st), want[1:3]) || *st.Total != 4 || st.Range != "1-2" {
		t.Fatalf("page: %v %q", galNames(st), st.Range)
	}
	// Accents and every field.
	st = g.gal(t, "nunez", "", nil)
	p, _ := st.Result[0].Properties.(*message.GALProperties)
	if len(st.Result) != 1 || p == nil || *p != (message.GALProperties{DisplayName: "Carla Núñez", Phone: "+1 555 0100",
		Office: "B2", Title: "Engineer", Company: "Example", Alias: "cnunez", FirstName: "Carla", LastName: "Núñez",
		MobilePhone: "+1 555 0101", EmailAddress: "carla@example.test"}) {
		t.Fatalf("nunez: %+v", p)
	}
	// Alice logged in: she is in the directory with her address.
	st = g.gal(t, "alice", "", nil)
	if p, _ := st.Result[0].Properties.(*message.GALProperties); len(st.Result) != 1 || p == nil || p.EmailAddress != "alice@example.test" {
		t.Fatalf("alice: %+v", st)
	}
	// Nothing found: one empty Result, Total 0.
	st = g.gal(t, "zzz", "", nil)
	if len(st.Result) != 1 || st.Result[0].Properties != nil || *st.Total != 0 {
		t.Fatalf("none: %+v", st)
	}

	// Pictures: 173 none, 174 larger than MaxSize, 175 past MaxPictures.
	st = g.gal(t, "carl", "0-9", &message.SearchPicture{MaxSize: 2000, MaxPictures: 1})
	var pics []string
	for _, r := range st.Result {
		p := r.Properties.(*message.GALProperties)
		pics = append(pics, fmt.Sprintf("%s=%d/%d", p.DisplayName, p.Picture.Status, len(p.Picture.Data)))
	}
	if want := []string{"Carl Berg=174/0", "Carla Núñez=1/1000", "Carlos Ruiz=175/0", "Room Carlsberg=173/0"}; !slices.Equal(pics, want) {
		t.Fatalf("pictures: %v, want %v", pics, want)
	}
	// iOS's empty Picture: every photo up to 100 KB.
	st = g.gal(t, "carl", "0-9", &message.SearchPicture{})
	if p := st.Result[0].Properties.(*message.GALProperties); p.Picture.Status != 1 || len(p.Picture.Data) != 5000 {
		t.Fatalf("empty Picture: %+v", p.Picture)
	}

	// A bad Range is an invalid request.
	r, err := g.c.Search(context.Background(), &message.SearchRequest{Store: message.SearchStore{Name: "GAL",
		Query: wbxml.TextElement(wbxml.MustTag("Search:Query"), "carl"), Options: &message.SearchOptions{Range: "5-1"}}})
	if err != nil || r.Response.Store.Status != 2 {
		t.Fatalf("bad range: %+v %v", r, err)
	}

	// Find (16.1) answers from the same directory.
	f, err := g.c.Find(context.Background(), &message.FindRequest{SearchID: "6b1b0bd6-7f6c-4a0d-9b7e-5d0c3b7a1e09",
		ExecuteSearch: message.FindExecuteSearch{GalSearchCriterion: &message.FindCriterion{Query: message.FindQuery{FreeText: "carl"},
			Options: &message.FindOptions{Range: "0-1", Picture: &message.SearchPicture{MaxSize: 2000}}}}})
	if err != nil || f.Status != 1 || f.Response == nil || f.Response.Store != "GAL" || *f.Response.Total != 4 || f.Response.Range != "0-1" {
		t.Fatalf("Find: %+v %v", f, err)
	}
	var found []string
	for _, r := range f.Response.Result {
		p := r.Properties.(*message.GALProperties)
		found = append(found, fmt.Sprintf("%s=%d", p.DisplayName, p.Picture.Status))
	}
	if !slices.Equal(found, []string{"Carl Berg=174", "Carla Núñez=1"}) {
		t.Fatalf("Find results: %v", found)
	}
}

func TestResolveRecipients(t *testing.T) {
	g := startGAL(t)
	ctx := context.Background()

	// A contact of alice's with a certificate of its own.
	var userID int64
	if err := g.env.DB.Pool.QueryRow(ctx, `SELECT id FROM users WHERE login = 'alice'`).Scan(&userID); err != nil {
		t.Fatal(err)
	}
	friendCert := testCert(t, "friend@elsewhere.test", time.Now().Add(-time.Hour))
	vcf := "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Frida Friend\r\nN:Friend;Frida;;;\r\nEMAIL:friend@elsewhere.test\r\n" +
		"KEY:data:application/pkix-cert;base64," + base64.StdEncoding.EncodeToString(friendCert) + "\r\nEND:VCARD\r\n"
	if _, err := contacts.NewStore(g.env.DB.Pool, nil).Import(ctx, userID, g.ids["Contacts"], strings.NewReader(vcf), contacts.ImportOptions{}); err != nil {
		t.Fatal(err)
	}

	resolve := func(opts *message.ResolveRecipientsOptions, to ...string) *message.ResolveRecipientsResponse {
		t.Helper()
		r, err := g.c.Resolve(ctx, opts, to...)
		if err != nil {
			t.Fatalf("resolve %v: %v", to, err)
		}
		return r
	}
	full := &message.ResolveRecipientsOptions{CertificateRetrieval: new(2)}
	r := resolve(full, "carla@example.test", "Frida", "nobody@nowhere.test", "Carl Berg")
	if r.Status != 1 || len(r.Response) != 4 {
		t.Fatalf("resolve: %+v", r)
	}
	// By address, from the directory, with the valid certificate only.
	c := r.Response[0]
	if c.Status != 1 || *c.RecipientCount != 1 || len(c.Recipient) != 1 {
		t.Fatalf("carla: %+v", c)
	}
	rec := c.Recipient[0]
	if rec.Type != 1 || rec.DisplayName != "Carla Núñez" || rec.EmailAddress != "carla@example.test" || rec.Certificates == nil ||
		rec.Certificates.Status != 1 || *rec.Certificates.CertificateCount != 1 ||
		!slices.Equal(rec.Certificates.Certificate, []string{base64.StdEncoding.EncodeToString(g.cert)}) {
		t.Fatalf("carla: %+v %+v", rec, rec.Certificates)
	}
	// By name, from alice's contacts (Type 2), with its KEY.
	if c := r.Response[1]; c.Status != 1 || c.Recipient[0].Type != 2 || c.Recipient[0].EmailAddress != "friend@elsewhere.test" ||
		c.Recipient[0].Certificates.Status != 1 || c.Recipient[0].Certificates.Certificate[0] != base64.StdEncoding.EncodeToString(friendCert) {
		t.Fatalf("frida: %+v", c)
	}
	if c := r.Response[2]; c.Status != 4 || len(c.Recipient) != 0 || *c.RecipientCount != 0 {
		t.Fatalf("unresolved: %+v", c)
	}
	// Carl's only certificate expired: 7.
	if c := r.Response[3]; c.Status != 1 || c.Recipient[0].Certificates.Status != 7 || *c.Recipient[0].Certificates.CertificateCount != 0 {
		t.Fatalf("carl: %+v", c.Recipient)
	}

	// Mini certificates, and MaxCertificates spent: 8.
	r = resolve(&message.ResolveRecipientsOptions{CertificateRetrieval: new(3), MaxCertificates: new(1)}, "carla@example.test", "friend@elsewhere.test")
	if cs := r.Response[0].Recipient[0].Certificates; cs.Status != 1 || len(cs.MiniCertificate) != 1 || len(cs.Certificate) != 0 {
		t.Fatalf("mini: %+v", cs)
	}
	if cs := r.Response[1].Recipient[0].Certificates; cs.Status != 8 || len(cs.MiniCertificate) != 0 {
		t.Fatalf("limit: %+v", cs)
	}

	// Ambiguous: "carlo" begins Carlos only (Carlotta is hidden); "car"
	// begins four names: all as suggestions (2), or some (3).
	if c := resolve(nil, "carlo").Response[0]; c.Status != 1 || c.Recipient[0].DisplayName != "Carlos Ruiz" {
		t.Fatalf("carlo: %+v", c)
	}
	c = resolve(full, "car").Response[0]
	if c.Status != 2 || *c.RecipientCount != 4 || len(c.Recipient) != 4 || c.Recipient[0].Certificates != nil {
		t.Fatalf("ambiguous: %+v", c)
	}
	c = resolve(&message.ResolveRecipientsOptions{MaxAmbiguousRecipients: new(2)}, "car").Response[0]
	if c.Status != 3 || *c.RecipientCount != 4 || len(c.Recipient) != 2 {
		t.Fatalf("ambiguous partial: %+v", c)
	}

	// Availability: a local user's day from her calendar, one digit per
	// half hour (a busy meeting 10:00-11:00 UTC, a tentative one
	// 14:00-14:30); no data (163) for anyone else; more than 100
	// recipients: 160.
	day := time.Now().UTC().Truncate(24 * time.Hour)
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" +
		"BEGIN:VEVENT\r\nUID:fb-busy\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:busy\r\n" +
		"DTSTART:" + day.Add(10*time.Hour).Format("20060102T150405Z") + "\r\nDTEND:" + day.Add(11*time.Hour).Format("20060102T150405Z") + "\r\n" +
		"END:VEVENT\r\nBEGIN:VEVENT\r\nUID:fb-tentative\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:maybe\r\nSTATUS:TENTATIVE\r\n" +
		"X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE\r\n" +
		"DTSTART:" + day.Add(14*time.Hour).Format("20060102T150405Z") + "\r\nDTEND:" + day.Add(14*time.Hour+30*time.Minute).Format("20060102T150405Z") + "\r\n" +
		"END:VEVENT\r\nEND:VCALENDAR\r\n"
	if _, err := calendar.NewStore(g.env.DB.Pool, nil).Import(ctx, userID, g.ids["Calendar"], strings.NewReader(ics)); err != nil {
		t.Fatal(err)
	}
	avail := &message.ResolveRecipientsOptions{Availability: &message.ResolveRecipientsWindow{
		StartTime: day.Format("2006-01-02T15:04:05.000Z"), EndTime: day.Add(24 * time.Hour).Format("2006-01-02T15:04:05.000Z")}}
	r = resolve(avail, "alice@example.test", "carla@example.test", "car")
	want := strings.Repeat("0", 20) + "22" + strings.Repeat("0", 6) + "1" + strings.Repeat("0", 19)
	if a := r.Response[0].Recipient[0].Availability; a == nil || a.Status != 1 || a.MergedFreeBusy != want {
		t.Fatalf("alice availability: %+v, want %s", a, want)
	}
	if a := r.Response[1].Recipient[0].Availability; a == nil || a.Status != 163 {
		t.Fatalf("carla availability: %+v", r.Response[1])
	}
	if r.Response[2].Recipient[0].Availability != nil {
		t.Fatalf("ambiguous with availability: %+v", r.Response[2])
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = "carla@example.test"
	}
	if a := resolve(avail, many...).Response[100].Recipient[0].Availability; a.Status != 160 {
		t.Fatalf("101 recipients: %+v", a)
	}

	// Pictures within limits.
	r = resolve(&message.ResolveRecipientsOptions{Picture: &message.SearchPicture{MaxSize: 2000, MaxPictures: 1}}, "carl@example.test", "carla@example.test", "carlos@example.test", "frida")
	var pics []int
	for _, c := range r.Response {
		pics = append(pics, c.Recipient[0].Picture.Status)
	}
	if !slices.Equal(pics, []int{174, 1, 175, 173}) || len(r.Response[1].Recipient[0].Picture.Data) != 1000 {
		t.Fatalf("pictures: %v", pics)
	}

	// Bad input: Status 5, nothing else.
	bad := []*message.ResolveRecipientsRequest{
		{},
		{To: []string{"carl"}, Options: &message.ResolveRecipientsOptions{CertificateRetrieval: new(4)}},
		{To: []string{"carl"}, Options: &message.ResolveRecipientsOptions{MaxAmbiguousRecipients: new(10000)}},
		{To: []string{"carl"}, Options: &message.ResolveRecipientsOptions{Availability: &message.ResolveRecipientsWindow{StartTime: "x", EndTime: "y"}}},
		{To: []string{"carl"}, Options: &message.ResolveRecipientsOptions{Availability: &message.ResolveRecipientsWindow{
			StartTime: "2026-01-02T00:00:00.000Z", EndTime: "2026-01-01T00:00:00.000Z"}}},
		{To: []string{strings.Repeat("x", 257)}},
		{To: make([]string, 1001)},
	}
	for i, req := range bad {
		r, err := g.c.ResolveRecipients(ctx, req)
		if err != nil || r.Status != 5 || len(r.Response) != 0 {
			t.Errorf("bad request %d: %+v %v", i, r, err)
		}
	}

	// OPTIONS advertises the command.
	_, cmds, err := g.c.Options(ctx)
	if err != nil || !slices.Contains(cmds, "ResolveRecipients") {
		t.Fatalf("OPTIONS: %v %v", cmds, err)
	}
}

// TestGALFromLDAP runs easd with its directory on a real slapd: Search,
// Find and ResolveRecipients read it (certificates included), and a
// server that is down gives clear statuses, not a hang.
func TestGALFromLDAP(t *testing.T) {
	cert := testCert(t, "elodie@example.test", time.Now().Add(-time.Hour))
	ldif := `dn: uid=elodie,dc=example,dc=test
objectClass: inetOrgPerson
uid: elodie
cn: Élodie Martin
displayName: Élodie Martin
sn: Martin
mail: elodie@example.test
title: Chemist
userCertificate;binary:: ` + base64.StdEncoding.EncodeToString(cert) + `

dn: uid=eloise,dc=example,dc=test
objectClass: inetOrgPerson
uid: eloise
cn: Eloise Smith
sn: Smith
mail: eloise@example.test
`
	srv := testenv.SlapdServer(t, ldif)
	s := startSync(t, func(c *config.Config) {
		c.Directory.LDAPURL, c.Directory.LDAPBaseDN = srv.URL, srv.BaseDN
		c.Directory.LDAPBindDN, c.Directory.LDAPBindPassword = srv.AdminDN, srv.AdminPassword
		c.Directory.LDAPTimeout, c.Directory.LDAPCacheTTL = 2*time.Second, 0
	})
	g := &galEnv{syncEnv: s}
	st := g.gal(t, "elo", "0-9", nil)
	if !slices.Equal(galNames(st), []string{"Élodie Martin", "Eloise Smith"}) || *st.Total != 2 {
		t.Fatalf("ldap search: %v", galNames(st))
	}
	if p := st.Result[0].Properties.(*message.GALProperties); p.Title != "Chemist" || p.EmailAddress != "elodie@example.test" {
		t.Fatalf("elodie: %+v", p)
	}
	r, err := s.c.Resolve(context.Background(), &message.ResolveRecipientsOptions{CertificateRetrieval: new(2)}, "elodie@example.test", "elo")
	if err != nil || r.Status != 1 || r.Response[0].Status != 1 || r.Response[0].Recipient[0].Certificates.Status != 1 ||
		r.Response[0].Recipient[0].Certificates.Certificate[0] != base64.StdEncoding.EncodeToString(cert) || r.Response[1].Status != 2 {
		t.Fatalf("ldap resolve: %+v %v", r, err)
	}

	srv.Stop()
	start := time.Now()
	sr, err := s.c.Search(context.Background(), &message.SearchRequest{Store: message.SearchStore{Name: "GAL",
		Query: wbxml.TextElement(wbxml.MustTag("Search:Query"), "smith")}})
	if err != nil || sr.Status != 1 || sr.Response.Store.Status != 3 {
		t.Fatalf("ldap down, search: %+v %v", sr, err)
	}
	if r, err := s.c.Resolve(context.Background(), nil, "smith"); err != nil || r.Status != 6 {
		t.Fatalf("ldap down, resolve: %+v %v", r, err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("ldap down took %v", d)
	}
}

// A user publishes their own certificate (as Outlook's "Publish to GAL"
// does) with their EAS credentials, and others' phones then find it.
func TestPublishCertificate(t *testing.T) {
	g := startGAL(t)
	ctx := context.Background()
	pemOf := func(der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	}
	bobCert := testCert(t, "bob@example.test", time.Now().Add(-time.Hour))

	// bob has never synced: his entry is made on the way.
	if code, _, body := g.env.Raw(t, "PUT", eas.CertificatePath, "bob", nil, pemOf(bobCert)); code != 204 {
		t.Fatalf("publish: %d %s", code, body)
	}
	if code, _, body := g.env.Raw(t, "GET", eas.CertificatePath, "bob", nil, ""); code != 200 || body != pemOf(bobCert) {
		t.Fatalf("get: %d %s", code, body)
	}
	full := &message.ResolveRecipientsOptions{CertificateRetrieval: new(2)}
	r, err := g.c.Resolve(ctx, full, "bob@example.test")
	if err != nil || r.Response[0].Status != 1 || r.Response[0].Recipient[0].Certificates == nil ||
		!slices.Equal(r.Response[0].Recipient[0].Certificates.Certificate, []string{base64.StdEncoding.EncodeToString(bobCert)}) {
		t.Fatalf("resolve: %+v %v", r, err)
	}

	// Never someone else's certificate, an expired one, a private key,
	// or without signing in; nothing changes.
	for _, c := range []struct {
		user, body string
		code       int
	}{
		{"alice", pemOf(bobCert), 422},
		{"bob", pemOf(testCert(t, "bob@example.test", time.Now().AddDate(-2, 0, 0))), 422},
		{"bob", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 400},
		{"bob", "not a certificate", 422},
		{"", pemOf(bobCert), 401},
	} {
		if code, _, body := g.env.Raw(t, "PUT", eas.CertificatePath, c.user, nil, c.body); code != c.code {
			t.Errorf("%s %.30q: %d %s, want %d", c.user, c.body, code, body, c.code)
		}
	}
	if code, _, body := g.env.Raw(t, "GET", eas.CertificatePath, "alice", nil, ""); code != 200 || body != "" {
		t.Fatalf("alice's: %d %s", code, body)
	}

	// Unpublished: the phone is told there is none.
	if code, _, body := g.env.Raw(t, "DELETE", eas.CertificatePath, "bob", nil, ""); code != 204 {
		t.Fatalf("delete: %d %s", code, body)
	}
	r, err = g.c.Resolve(ctx, full, "bob@example.test")
	if err != nil || r.Response[0].Recipient[0].Certificates == nil || len(r.Response[0].Recipient[0].Certificates.Certificate) != 0 {
		t.Fatalf("after delete: %+v %v", r.Response[0].Recipient[0], err)
	}
}
