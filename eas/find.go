package eas

import (
	"errors"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
)

func init() {
	addCommand("Find", &commandSpec{root: "Find:Find", run: findCmd, minVersion: 161})
}

// Find statuses (MS-ASCMD 2.2.3.177.5 as easd reads it): 1 success, 2
// invalid request, 3 the folder is unknown (FolderSync first).
const (
	findOK                 Status = 1
	findBadRequest         Status = 2
	findFolderSyncRequired Status = 3
)

// findPreviewChars is the longest Preview Find may carry (2.2.3.137).
const findPreviewChars = 255

// findCmd answers Find (16.1, MS-ASCMD 2.2.1.2), the search of iOS: the
// same mail search as Search (runMailSearch), answered with a summary of
// each message (subject, sender, recipients, date, read, preview) that a
// result list shows; the phone fetches a message it opens by its ServerId.
// GAL criteria search the directory (findGAL).
func findCmd(k *call) error {
	var req message.FindRequest
	if err := k.decodeRequired(&req, StatusInvalidWBXML); err != nil {
		return err
	}
	ex := req.ExecuteSearch
	switch {
	case ex.MailBoxSearchCriterion != nil:
	case ex.GalSearchCriterion != nil:
		return findGAL(k, ex.GalSearchCriterion)
	default:
		return k.respond(&message.FindResponse{Status: int(findBadRequest)})
	}
	c := ex.MailBoxSearchCriterion
	q := mailQuery{text: strings.TrimSpace(c.Query.FreeText), collection: strings.TrimSpace(c.Query.CollectionID)}
	var rng string
	if c.Options != nil {
		rng, q.deep = c.Options.Range, c.Options.DeepTraversal
	}
	var err error
	if q.first, q.last, err = parseRange(rng); err != nil {
		k.log.Info("find: bad request", "err", err)
		return k.respond(&message.FindResponse{Status: int(findBadRequest)})
	}
	resp := &message.FindResponseResult{Store: "Mailbox", Status: int(findOK), Total: new(0)}
	if cl := c.Query.Class; cl != "" && cl != string(model.ClassEmail) {
		return k.respond(&message.FindResponse{Status: int(findOK), Response: resp})
	}
	// A short plain body yields the preview.
	fetch := model.MailFetchOptions{Version: k.version, BodyPreferences: []message.BodyPreference{
		{Type: message.BodyPlain, TruncationSize: new(uint32(4 * findPreviewChars)), Preview: findPreviewChars}}}
	res, err := searchMail(k, q, fetch, false)
	switch {
	case errors.Is(err, errSearchFolder):
		k.log.Info("find: folder", "err", err)
		return k.respond(&message.FindResponse{Status: int(findFolderSyncRequired)})
	case err != nil:
		return err
	}
	resp.Total, resp.Range = new(res.total), res.rangeString()
	for _, h := range res.hits {
		e, _ := emailOf(h.item)
		resp.Result = append(resp.Result, message.FindResult{Class: string(model.ClassEmail),
			ServerID:     model.MailID{FolderID: h.folder.ServerID, UID: h.uid}.String(),
			CollectionID: h.folder.ServerID, Properties: findProperties(e)})
	}
	return k.respond(&message.FindResponse{Status: int(findOK), Response: resp})
}

// findProperties summarizes a converted message.
func findProperties(e *message.Email) *message.FindProperties {
	if e == nil {
		return &message.FindProperties{}
	}
	p := &message.FindProperties{Subject: e.Subject, DateReceived: e.DateReceived, DisplayTo: e.DisplayTo,
		DisplayCc: displayNames(e.Cc), DisplayBcc: displayNames(e.Bcc), Importance: e.Importance,
		Read: e.Read, IsDraft: e.IsDraft, From: e.From}
	has := e.Attachments != nil && len(e.Attachments.Attachment) > 0
	p.HasAttachments = &has
	if b := e.Body; b != nil {
		p.Preview = b.Preview
		if p.Preview == "" {
			p.Preview = strings.Join(strings.Fields(b.Data), " ")
		}
		p.Preview = truncateRunes(p.Preview, findPreviewChars)
	}
	return p
}

// displayNames turns an address list into "Name; Name" as DisplayTo has
// it: the display name where there is one, else the address.
func displayNames(list string) string {
	if strings.TrimSpace(list) == "" {
		return ""
	}
	addrs, err := mail.ParseAddressList(list)
	if err != nil {
		return list
	}
	names := make([]string, len(addrs))
	for i, a := range addrs {
		names[i] = a.Name
		if names[i] == "" {
			names[i] = a.Address
		}
	}
	return strings.Join(names, "; ")
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// findGAL answers a Find GAL criterion with the directory search of
// Search Store=GAL: ranked, paged by Range, photos within the Picture
// limits.
func findGAL(k *call, c *message.FindCriterion) error {
	var rng string
	var pic *message.SearchPicture
	if c.Options != nil {
		rng, pic = c.Options.Range, c.Options.Picture
	}
	first, last, err := parseRange(rng)
	if err != nil {
		k.log.Info("find: bad request", "err", err)
		return k.respond(&message.FindResponse{Status: int(findBadRequest)})
	}
	page, err := galSearch(k, c.Query.FreeText, first, last)
	if err != nil {
		// Find has no status for a directory that failed: the global
		// server error lets the phone try again.
		return statusErr(StatusServerErrorRetryLater, "find: directory: %w", err)
	}
	resp := &message.FindResponseResult{Store: "GAL", Status: int(findOK), Total: new(page.Total)}
	pics := newPictureBudget(pic)
	for i := range page.Entries {
		resp.Result = append(resp.Result, message.FindResult{Properties: galProperties(&page.Entries[i], pics)})
	}
	if len(resp.Result) > 0 {
		resp.Range = rangeOf(first, len(resp.Result))
	}
	return k.respond(&message.FindResponse{Status: int(findOK), Response: resp})
}
