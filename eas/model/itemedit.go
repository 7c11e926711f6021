package model

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/easd/easd/wbxml"
)

// The helpers below are what every ItemStore does the same way with a
// client's ApplicationData before its own mapping runs: refuse elements
// the class does not have, decode, tell sent from ghosted elements, and
// translate its errors into the seam's. They live here, next to
// ItemOptions, because they read nothing but the request's options and
// the class's struct from eas/message.

// ItemElements is the set of an item class's elements by qualified name
// ("Contacts:FirstName").
type ItemElements map[string]bool

// ElementsOf returns the elements of item struct T (e.g. message.Contact),
// read from its wbxml struct tags, so the set cannot drift from the
// mapping that decodes them.
func ElementsOf[T any]() ItemElements {
	m := ItemElements{}
	t := reflect.TypeFor[T]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("wbxml"), ",")
		if name != "" {
			m[name] = true
		}
	}
	return m
}

// Check refuses (ErrItemInvalid) an ApplicationData that is missing or
// holds an element of another class; what names the class's item in the
// message ("contact"). Dropping an unknown element would store something
// other than what was sent, and the phone, told Status 1, would never
// resend it.
func (es ItemElements) Check(data *wbxml.Element, what string) error {
	if data == nil {
		return fmt.Errorf("%w: no ApplicationData", ErrItemInvalid)
	}
	for _, el := range data.Children {
		if q := el.Namespace() + ":" + el.Name(); !es[q] {
			return fmt.Errorf("%w: %s is not a %s element", ErrItemInvalid, q, what)
		}
	}
	return nil
}

// DecodeItem decodes a raw ApplicationData into the item struct T.
func DecodeItem[T any](data *wbxml.Element) (*T, error) {
	b, err := data.Bytes()
	if err != nil {
		return nil, err
	}
	v := new(T)
	if err := wbxml.NewDecoder(bytes.NewReader(b), wbxml.Limits{}).Decode(v); err != nil {
		return nil, fmt.Errorf("decode ApplicationData: %w", err)
	}
	return v, nil
}

// Presence tells, for a client's Add or Change (change) of data, which
// elements it sent and which absent ones keep their stored value. An
// element counts as sent when present, except an empty one named in Keep
// (a client quirk: an empty element that means "unchanged"). For a
// Change, an absent element is ghosted (kept) when it is in Keep or when
// the client declared Supported and left it out (MS-ASCMD 2.2.3.179);
// otherwise it is cleared. An Add ghosts nothing.
func (o ItemOptions) Presence(data *wbxml.Element, change bool) (sent, ghosted func(name string) bool) {
	names, empty := map[string]bool{}, map[string]bool{}
	if data != nil {
		for _, el := range data.Children {
			names[el.Name()] = true
			if el.Text == "" && el.Opaque == nil && len(el.Children) == 0 {
				empty[el.Name()] = true
			}
		}
	}
	keep := func(name string) bool { return slices.Contains(o.Keep, name) }
	sent = func(name string) bool { return names[name] && !(keep(name) && empty[name]) }
	ghosted = func(name string) bool {
		return change && (keep(name) || (o.Supported != nil && !slices.Contains(o.Supported, name)))
	}
	return sent, ghosted
}

// ItemError translates a store's error into the seam's: one matching
// notFound wraps ErrItemNotFound, one matching any of invalid wraps
// ErrItemInvalid (Sync Status 6 for that item, the rest of the request
// goes on); any other (the database's) is returned as it is.
func ItemError(err, notFound error, invalid ...error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, notFound):
		return fmt.Errorf("%w: %w", ErrItemNotFound, err)
	}
	for _, target := range invalid {
		if errors.Is(err, target) {
			return fmt.Errorf("%w: %w", ErrItemInvalid, err)
		}
	}
	return err
}
