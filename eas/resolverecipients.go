package eas

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
)

func init() {
	addCommand("ResolveRecipients", &commandSpec{root: "ResolveRecipients:ResolveRecipients", run: resolveRecipients})
}

// ResolveRecipients statuses (MS-ASCMD 2.2.3.177.12).
const (
	rrOK            Status = 1
	rrProtocolError Status = 5
	rrServerError   Status = 6

	// of a Response
	rrResolved         = 1
	rrAmbiguous        = 2
	rrAmbiguousPartial = 3
	rrUnresolved       = 4

	// of Certificates
	rrCertOK      = 1
	rrCertNone    = 7
	rrCertLimited = 8

	// of Availability
	rrAvailOK          = 1
	rrAvailTooMany     = 160
	rrAvailUnavailable = 162
	rrAvailNoData      = 163
)

// Limits of MS-ASCMD 2.2.1.15 and its elements.
const (
	rrMaxTo           = 1000 // To elements of a request
	rrMaxToLen        = 256  // characters of a To
	rrMaxAvailability = 100  // To elements when Availability is asked
	rrMaxCount        = 9999 // MaxCertificates, MaxAmbiguousRecipients
	rrFreeBusySlot    = 30 * time.Minute
	rrMaxSpan         = 42 * 24 * time.Hour // six weeks of free/busy: 2016 digits
)

// resolveRecipients answers ResolveRecipients (MS-ASCMD 2.2.1.15): each To
// (a name or an address) is looked up in the directory (Type 1) and in
// the user's contacts (Type 2). An address resolves to the entries that
// have it; a name to its exact matches when there are any, else its
// prefix matches. One match is resolved; several are ambiguous and sent
// as suggestions, at most MaxAmbiguousRecipients of them (RecipientCount
// tells how many there are), without certificates or availability. A
// resolved recipient gets, on request, its S/MIME certificates (those
// valid now: full, or as mini certificates), its free/busy as
// MergedFreeBusy, and its photo.
func resolveRecipients(k *call) error {
	var req message.ResolveRecipientsRequest
	if err := k.decodeRequired(&req, rrProtocolError); err != nil {
		return err
	}
	o, err := rrOptionsOf(&req)
	if err != nil {
		return statusErr(rrProtocolError, "resolverecipients: %v", err)
	}
	resp := &message.ResolveRecipientsResponse{Status: int(rrOK)}
	for _, to := range req.To {
		r, err := resolveOne(k, to, o)
		if errors.Is(err, model.ErrDirectoryUnavailable) || errors.Is(err, context.DeadlineExceeded) {
			return statusErr(rrServerError, "resolverecipients: %w", err)
		}
		if err != nil {
			return err
		}
		resp.Response = append(resp.Response, r)
	}
	return k.respond(resp)
}

// rrOptions are a request's checked options.
type rrOptions struct {
	certs        int // 1 none, 2 full, 3 mini
	certsLeft    int // MaxCertificates not yet used
	maxAmbiguous int
	avail        bool
	availTooMany bool
	start, end   time.Time
	pics         *pictureBudget
}

// rrOptionsOf checks the request: the spec's limits on To and the
// options, and a well-formed time span for Availability.
func rrOptionsOf(req *message.ResolveRecipientsRequest) (*rrOptions, error) {
	if len(req.To) == 0 || len(req.To) > rrMaxTo {
		return nil, errors.New("no To, or more than 1000")
	}
	for _, to := range req.To {
		if strings.TrimSpace(to) == "" || utf8.RuneCountInString(to) > rrMaxToLen || !utf8.ValidString(to) {
			return nil, errors.New("an empty, invalid or over-long To")
		}
	}
	o := &rrOptions{certs: 1, certsLeft: rrMaxCount, maxAmbiguous: rrMaxCount}
	opt := req.Options
	if opt == nil {
		return o, nil
	}
	bounded := func(p *int, lo, hi int, dst *int) bool {
		if p == nil {
			return true
		}
		if *p < lo || *p > hi {
			return false
		}
		*dst = *p
		return true
	}
	if !bounded(opt.CertificateRetrieval, 1, 3, &o.certs) || !bounded(opt.MaxCertificates, 0, rrMaxCount, &o.certsLeft) ||
		!bounded(opt.MaxAmbiguousRecipients, 0, rrMaxCount, &o.maxAmbiguous) {
		return nil, errors.New("CertificateRetrieval, MaxCertificates or MaxAmbiguousRecipients out of range")
	}
	if a := opt.Availability; a != nil {
		start, err1 := model.ParseDateTime(a.StartTime)
		end, err2 := model.ParseDateTime(a.EndTime)
		if err1 != nil || err2 != nil || !end.After(start) || end.Sub(start) > rrMaxSpan {
			return nil, errors.New("availability needs StartTime before EndTime, at most six weeks apart")
		}
		o.avail, o.start, o.end = true, start, end
		o.availTooMany = len(req.To) > rrMaxAvailability
	}
	if p := opt.Picture; p != nil {
		if p.MaxSize < 0 || p.MaxPictures < 0 {
			return nil, errors.New("negative Picture limits")
		}
		o.pics = newPictureBudget(p)
	}
	return o, nil
}

// resolveOne answers one To.
func resolveOne(k *call, to string, o *rrOptions) (message.RecipientsResponse, error) {
	to = strings.TrimSpace(to)
	matches, err := recipientMatches(k, to)
	if err != nil {
		return message.RecipientsResponse{}, err
	}
	r := message.RecipientsResponse{To: to, RecipientCount: new(len(matches))}
	switch {
	case len(matches) == 0:
		r.Status = rrUnresolved
		return r, nil
	case len(matches) == 1:
		r.Status = rrResolved
		rec := recipientOf(&matches[0], o)
		if o.certs > 1 {
			rec.Certificates = o.certificates(matches[0].Certificates)
		}
		if o.avail {
			rec.Availability = availability(k, &matches[0].DirectoryEntry, o)
		}
		r.Recipient = []message.Recipient{rec}
		return r, nil
	}
	r.Status = rrAmbiguous
	if len(matches) > o.maxAmbiguous {
		r.Status = rrAmbiguousPartial
		matches = matches[:o.maxAmbiguous]
	}
	for i := range matches {
		r.Recipient = append(r.Recipient, recipientOf(&matches[i], o))
	}
	return r, nil
}

// typedEntry is a match and where it comes from (Type 1 or 2).
type typedEntry struct {
	kind int
	model.DirectoryEntry
}

// rrSearchLimit bounds the matches read per source: suggestions beyond
// it would not help anyone pick.
const rrSearchLimit = 100

// recipientMatches finds the entries to resolves to: directory entries
// first, then contacts whose address the directory did not give.
func recipientMatches(k *call, to string) ([]typedEntry, error) {
	var all []typedEntry
	if d := k.s.opts.Directory; d != nil {
		ctx, cancel := context.WithTimeout(k.ctx(), galSearchTimeout)
		page, err := d.Search(ctx, to, 0, rrSearchLimit)
		cancel()
		if err != nil && !errors.Is(err, model.ErrQueryTooShort) {
			return nil, err
		}
		for _, e := range page.Entries {
			all = append(all, typedEntry{message.RecipientGAL, e})
		}
	}
	if c := k.s.opts.Contacts; c != nil {
		page, err := c.SearchContacts(k.ctx(), k.dev.UserID, to, rrSearchLimit)
		if err != nil {
			return nil, err
		}
		for _, e := range page.Entries {
			all = append(all, typedEntry{message.RecipientContact, e})
		}
	}
	return narrowMatches(to, all), nil
}

// narrowMatches keeps what to names: for an address, the entries that
// have it; for a name, the exact matches if any, else all; and each
// address once, the directory's entry before a contact.
func narrowMatches(to string, all []typedEntry) []typedEntry {
	addr := ""
	if strings.Contains(to, "@") {
		addr = strings.ToLower(strings.Trim(to, "<> "))
	}
	anyExact := false
	for _, e := range all {
		anyExact = anyExact || e.Exact
	}
	seen := map[string]bool{}
	var out []typedEntry
	for _, e := range all {
		switch {
		case e.Email() == "":
			continue
		case addr != "":
			if !hasAddress(e.Emails, addr) {
				continue
			}
		case anyExact && !e.Exact:
			continue
		}
		key := strings.ToLower(e.Email())
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, e)
	}
	return out
}

func hasAddress(list []string, addr string) bool {
	for _, a := range list {
		if strings.EqualFold(a, addr) {
			return true
		}
	}
	return false
}

// recipientOf renders a match, with its photo when pictures were asked.
func recipientOf(e *typedEntry, o *rrOptions) message.Recipient {
	r := message.Recipient{Type: e.kind, DisplayName: e.DisplayName, EmailAddress: e.Email()}
	if o.pics != nil {
		st, data := o.pics.take(e.Picture)
		r.Picture = &message.RecipientPicture{Status: st, Data: data}
	}
	return r
}

// certificates answers a resolved recipient's certificates: those that
// parse and are valid now, within what MaxCertificates leaves. A mini
// certificate is the certificate itself: easd keeps no chains, and a
// client needs the recipient's certificate to encrypt either way.
func (o *rrOptions) certificates(certs [][]byte) *message.RecipientCertificates {
	now := time.Now()
	var valid [][]byte
	for _, der := range certs {
		c, err := x509.ParseCertificate(der)
		if err == nil && now.After(c.NotBefore) && now.Before(c.NotAfter) {
			valid = append(valid, der)
		}
	}
	out := &message.RecipientCertificates{CertificateCount: new(len(valid)), RecipientCount: new(1)}
	switch {
	case len(valid) == 0:
		out.Status = rrCertNone
		return out
	case o.certsLeft == 0:
		out.Status = rrCertLimited
		return out
	}
	out.Status = rrCertOK
	valid = valid[:min(len(valid), o.certsLeft)]
	o.certsLeft -= len(valid)
	for _, der := range valid {
		s := base64.StdEncoding.EncodeToString(der)
		if o.certs == 3 {
			out.MiniCertificate = append(out.MiniCertificate, s)
		} else {
			out.Certificate = append(out.Certificate, s)
		}
	}
	return out
}

// availability answers a resolved recipient's free/busy: from the
// calendar for a local user, "no data" (163) for anyone else and while
// no calendar is wired in.
func availability(k *call, e *model.DirectoryEntry, o *rrOptions) *message.RecipientAvailability {
	fb := k.s.opts.FreeBusy
	switch {
	case o.availTooMany:
		return &message.RecipientAvailability{Status: rrAvailTooMany}
	case fb == nil || e.UserID == 0:
		return &message.RecipientAvailability{Status: rrAvailNoData}
	}
	s, err := fb.MergedFreeBusy(k.ctx(), e.UserID, o.start, o.end, rrFreeBusySlot)
	if err != nil {
		k.log.Warn("resolverecipients: free/busy", "err", err)
		return &message.RecipientAvailability{Status: rrAvailUnavailable}
	}
	return &message.RecipientAvailability{Status: rrAvailOK, MergedFreeBusy: s}
}
