package directory

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/testenv"
)

// peopleLDIF is a small inetOrgPerson directory: accents, a photo, a
// certificate, two addresses, and a person without mail (never listed).
func peopleLDIF(photo, cert []byte) string {
	return fmt.Sprintf(`dn: ou=people,dc=example,dc=test
objectClass: organizationalUnit
ou: people

dn: uid=elodie,ou=people,dc=example,dc=test
objectClass: inetOrgPerson
uid: elodie
cn: Élodie Martin
displayName: Élodie Martin
givenName: Élodie
sn: Martin
mail: elodie@example.test
mail: e.martin@example.test
telephoneNumber: +33 1 23
mobile: +33 6 45
title: Chemist
o: Example
roomNumber: Lab 3
ou: Research
jpegPhoto:: %s
userCertificate;binary:: %s

dn: uid=eloise,ou=people,dc=example,dc=test
objectClass: inetOrgPerson
uid: eloise
cn: Eloise Smith
sn: Smith
mail: eloise@example.test

dn: uid=elo,ou=people,dc=example,dc=test
objectClass: inetOrgPerson
uid: elo
cn: Elo Quinn
sn: Quinn
mail: quinn@example.test

dn: uid=nomail,ou=people,dc=example,dc=test
objectClass: inetOrgPerson
uid: nomail
cn: Eloquent Nomail
sn: Nomail
`, base64.StdEncoding.EncodeToString(photo), base64.StdEncoding.EncodeToString(cert))
}

func TestLDAP(t *testing.T) {
	photo, cert := []byte("\xff\xd8\xff\xe0photo"), []byte{0x30, 0x03, 0x02, 0x01, 0x07}
	srv := testenv.SlapdServer(t, peopleLDIF(photo, cert))
	ctx := context.Background()
	l, err := NewLDAP(LDAPOptions{URL: srv.URL, BindDN: srv.AdminDN, BindPassword: srv.AdminPassword, BaseDN: srv.BaseDN,
		Schema: "inetorgperson", CacheTTL: time.Minute, Timeout: 2 * time.Second, MinQuery: 2, MaxResults: 10})
	if err != nil {
		t.Fatal(err)
	}
	p, err := l.Search(ctx, "ELO", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(p); !slices.Equal(got, []string{"Elo Quinn", "Élodie Martin", "Eloise Smith"}) || p.Total != 3 || !p.Entries[0].Exact {
		t.Fatalf("elo: %v %+v", got, p)
	}
	p, _ = l.Search(ctx, "elo", 1, 1)
	if !slices.Equal(names(p), []string{"Élodie Martin"}) || p.Total != 3 {
		t.Fatalf("page: %+v", p)
	}
	e := p.Entries[0]
	if !slices.Equal(e.Emails, []string{"elodie@example.test", "e.martin@example.test"}) || e.FirstName != "Élodie" ||
		e.Phone != "+33 1 23" || e.MobilePhone != "+33 6 45" || e.Title != "Chemist" || e.Company != "Example" ||
		e.Office != "Lab 3" || e.Department != "Research" || e.Alias != "elodie" || string(e.Picture) != string(photo) ||
		len(e.Certificates) != 1 || string(e.Certificates[0]) != string(cert) {
		t.Fatalf("elodie: %+v", e)
	}
	// A word of the name, an address, and the user's accents.
	for q, want := range map[string]string{"martin": "Élodie Martin", "e.mart": "Élodie Martin", "Élodie": "Élodie Martin",
		"smith": "Eloise Smith", "quinn@example.test": "Elo Quinn"} {
		if p, err := l.Search(ctx, q, 0, 10); err != nil || !slices.Equal(names(p), []string{want}) {
			t.Errorf("%q: %v %v", q, names(p), err)
		}
	}
	// Filter injection: escaped, so it finds nothing (and no error).
	for _, q := range []string{"*)(mail=*", "*", `\2a`, "el*)(|(uid=*"} {
		if p, err := l.Search(ctx, q, 0, 10); err != nil && !errors.Is(err, model.ErrQueryTooShort) || len(p.Entries) != 0 {
			t.Errorf("%q: %v %v", q, names(p), err)
		}
	}

	// The server goes away: cached answers still come, new queries fail
	// with ErrDirectoryUnavailable within the timeout, and it recovers.
	srv.Stop()
	if p, err := l.Search(ctx, "elo", 0, 10); err != nil || p.Total != 3 {
		t.Fatalf("cached: %+v %v", p, err)
	}
	start := time.Now()
	if _, err := l.Search(ctx, "quinn", 0, 10); !errors.Is(err, model.ErrDirectoryUnavailable) {
		t.Fatalf("down: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("down took %v", d)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if p, err := l.Search(ctx, "quinn", 0, 10); err != nil || len(p.Entries) != 1 {
		t.Fatalf("back: %+v %v", p, err)
	}
	// A wrong password is a failure of the directory too.
	bad, _ := NewLDAP(LDAPOptions{URL: srv.URL, BindDN: srv.AdminDN, BindPassword: "wrong", BaseDN: srv.BaseDN, Schema: "inetorgperson"})
	if _, err := bad.Search(ctx, "smith", 0, 10); !errors.Is(err, model.ErrDirectoryUnavailable) || !strings.Contains(err.Error(), "bind") {
		t.Fatalf("bad bind: %v", err)
	}
}
