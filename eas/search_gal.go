package eas

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
)

// galSearchTimeout bounds one directory lookup, so that an LDAP server
// that does not answer costs the phone a clear status, not its request
// timeout.
const galSearchTimeout = 20 * time.Second

// galSearch runs a directory search of the results first..last.
func galSearch(k *call, query string, first, last int) (model.DirectoryPage, error) {
	if k.s.opts.Directory == nil {
		return model.DirectoryPage{}, nil
	}
	ctx, cancel := context.WithTimeout(k.ctx(), galSearchTimeout)
	defer cancel()
	page, err := k.s.opts.Directory.Search(ctx, query, first, last-first+1)
	if errors.Is(err, model.ErrQueryTooShort) {
		// Phones search as the user types: a short query finds nothing
		// rather than failing.
		return model.DirectoryPage{}, nil
	}
	return page, err
}

// searchGAL answers Search Store=GAL (MS-ASCMD 2.2.1.16): the query is
// text, Range pages the ranked matches, Total counts them (up to the
// directory's cap), and Picture asks for photos within MaxSize and
// MaxPictures.
func searchGAL(k *call, s message.SearchStore) message.SearchResponseStore {
	opts := s.Options
	if opts == nil {
		opts = &message.SearchOptions{}
	}
	first, last, err := parseRange(opts.Range)
	if err != nil || s.Query == nil || len(s.Query.Children) > 0 {
		k.log.Info("search: bad GAL request", "err", err)
		return message.SearchResponseStore{Status: int(searchBadRequest)}
	}
	page, err := galSearch(k, s.Query.Text, first, last)
	if err != nil {
		k.log.Warn("search: directory", "err", err)
		return message.SearchResponseStore{Status: int(galErrorStatus(err))}
	}
	out := message.SearchResponseStore{Status: int(searchOK), Total: new(page.Total)}
	pics := newPictureBudget(opts.Picture)
	for i := range page.Entries {
		out.Result = append(out.Result, message.SearchResult{Properties: galProperties(&page.Entries[i], pics)})
	}
	if len(out.Result) == 0 {
		out.Result = []message.SearchResult{{}}
	} else {
		out.Range = rangeOf(first, len(page.Entries))
	}
	return out
}

// galErrorStatus is the Search store status of a failed directory
// lookup: 10 when the directory did not answer in time, else 3.
func galErrorStatus(err error) Status {
	if errors.Is(err, context.DeadlineExceeded) {
		return searchTimedOut
	}
	return searchServerError
}

// searchTimedOut: Store Status 10 (MS-ASCMD 2.2.3.177.13).
const searchTimedOut Status = 10

// galProperties renders an entry as GAL elements.
func galProperties(e *model.DirectoryEntry, pics *pictureBudget) *message.GALProperties {
	p := &message.GALProperties{DisplayName: e.DisplayName, Phone: e.Phone, Office: e.Office, Title: e.Title,
		Company: e.Company, Alias: e.Alias, FirstName: e.FirstName, LastName: e.LastName, HomePhone: e.HomePhone,
		MobilePhone: e.MobilePhone, EmailAddress: e.Email()}
	if pics != nil {
		st, data := pics.take(e.Picture)
		p.Picture = &message.GALPicture{Status: st, Data: data}
	}
	return p
}

// pictureBudget applies a request's Picture limits across its results.
type pictureBudget struct {
	maxSize, maxPictures, sent int
}

// maxPictureSize is the largest MaxSize a client may ask (MS-ASCMD
// 2.2.3.96), and what applies when it names none.
const maxPictureSize = 102400

// newPictureBudget: nil when the request asked for no pictures.
func newPictureBudget(p *message.SearchPicture) *pictureBudget {
	if p == nil {
		return nil
	}
	b := &pictureBudget{maxSize: maxPictureSize, maxPictures: p.MaxPictures}
	if p.MaxSize > 0 && p.MaxSize < maxPictureSize {
		b.maxSize = p.MaxSize
	}
	return b
}

// take says whether the photo goes out: 173 none, 174 over MaxSize, 175
// MaxPictures already sent.
func (b *pictureBudget) take(pic []byte) (int, []byte) {
	switch {
	case len(pic) == 0:
		return message.PictureNone, nil
	case len(pic) > b.maxSize:
		return message.PictureTooLarge, nil
	case b.maxPictures > 0 && b.sent >= b.maxPictures:
		return message.PictureTooMany, nil
	}
	b.sent++
	return message.PictureOK, pic
}

// rangeOf is the Range of n results from first.
func rangeOf(first, n int) string { return fmt.Sprintf("%d-%d", first, first+n-1) }
