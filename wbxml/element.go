package wbxml

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// Element is a WBXML element held in memory: a tag, its string or opaque
// content and its child elements. It is meant for small documents and for
// tests; large content should go through Decoder and Encoder.
type Element struct {
	Tag      Tag
	Text     string // string content (STR_I), concatenated
	Opaque   []byte // binary content (OPAQUE); non-nil means the content is binary
	Children []*Element
}

// NewElement returns an element with the given children.
func NewElement(t Tag, children ...*Element) *Element {
	return &Element{Tag: t, Children: children}
}

// TextElement returns an element holding the string s.
func TextElement(t Tag, s string) *Element { return &Element{Tag: t, Text: s} }

// Name returns the element name, e.g. "Collections".
func (e *Element) Name() string { return e.Tag.Name() }

// Namespace returns the code page name, e.g. "AirSync".
func (e *Element) Namespace() string { return e.Tag.Namespace() }

// Add appends children and returns e.
func (e *Element) Add(children ...*Element) *Element {
	e.Children = append(e.Children, children...)
	return e
}

// resolve turns "Name" (in the namespace of base) or "Namespace:Name" into
// a tag.
func resolve(base Tag, name string) (Tag, bool) {
	if ns, local, ok := strings.Cut(name, ":"); ok {
		return LookupTag(ns, local)
	}
	return LookupTag(base.Namespace(), name)
}

// Child returns the first child called name ("Collections", or
// "AirSyncBase:Body" for a child in another namespace), or nil.
func (e *Element) Child(name string) *Element {
	if e == nil {
		return nil
	}
	t, ok := resolve(e.Tag, name)
	if !ok {
		return nil
	}
	for _, c := range e.Children {
		if c.Tag == t {
			return c
		}
	}
	return nil
}

// ChildrenNamed returns all children called name.
func (e *Element) ChildrenNamed(name string) []*Element {
	if e == nil {
		return nil
	}
	t, ok := resolve(e.Tag, name)
	if !ok {
		return nil
	}
	var out []*Element
	for _, c := range e.Children {
		if c.Tag == t {
			out = append(out, c)
		}
	}
	return out
}

// Path follows a chain of child names and returns the element at its end,
// or nil. Each name is resolved in the namespace of the element before it.
func (e *Element) Path(names ...string) *Element {
	for _, n := range names {
		e = e.Child(n)
	}
	return e
}

// ChildText returns the text of the first child called name, or "".
func (e *Element) ChildText(name string) string {
	if c := e.Child(name); c != nil {
		return c.Text
	}
	return ""
}

// EncodeTo writes e and its subtree to enc. An element without text,
// opaque content or children is written as a tag without content.
func (e *Element) EncodeTo(enc *Encoder) error {
	if e.Opaque == nil && e.Text == "" && len(e.Children) == 0 {
		return enc.Empty(e.Tag)
	}
	if err := enc.Start(e.Tag); err != nil {
		return err
	}
	switch {
	case e.Opaque != nil:
		if err := enc.Opaque(e.Opaque); err != nil {
			return err
		}
	case e.Text != "":
		if err := enc.String(e.Text); err != nil {
			return err
		}
	}
	for _, c := range e.Children {
		if err := c.EncodeTo(enc); err != nil {
			return err
		}
	}
	return enc.End()
}

// Encode writes e as a complete WBXML document to w.
func (e *Element) Encode(w io.Writer) error {
	enc := NewEncoder(w)
	if err := e.EncodeTo(enc); err != nil {
		return err
	}
	return enc.Close()
}

// Bytes returns e encoded as a WBXML document.
func (e *Element) Bytes() ([]byte, error) {
	var b bytes.Buffer
	err := e.Encode(&b)
	return b.Bytes(), err
}

// Parse reads a whole WBXML document into an element tree.
func Parse(r io.Reader, lim Limits) (*Element, error) {
	d := NewDecoder(r, lim)
	tok, err := d.Next()
	if err != nil {
		return nil, err
	}
	root, err := d.ReadElement(tok)
	if err != nil {
		return nil, err
	}
	if _, err := d.Next(); err != io.EOF {
		if err == nil {
			err = fmt.Errorf("wbxml: data after the root element: %w", ErrMalformed)
		}
		return nil, err
	}
	return root, nil
}

// ReadElement reads the element opened by start (a StartTag just returned
// by Next) and its subtree.
func (d *Decoder) ReadElement(start Token) (*Element, error) {
	if start.Kind != StartTag {
		return nil, fmt.Errorf("wbxml: ReadElement called on %s token: %w", start.Kind, ErrUsage)
	}
	root := &Element{Tag: start.Tag}
	stack := []*Element{root}
	for len(stack) > 0 {
		tok, err := d.Next()
		if err != nil {
			return nil, err
		}
		top := stack[len(stack)-1]
		switch tok.Kind {
		case StartTag:
			el := &Element{Tag: tok.Tag}
			top.Children = append(top.Children, el)
			stack = append(stack, el)
		case EndTag:
			stack = stack[:len(stack)-1]
		case String:
			b, err := d.Bytes()
			if err != nil {
				return nil, err
			}
			top.Text += string(b)
		case Opaque:
			b, err := d.Bytes()
			if err != nil {
				return nil, err
			}
			top.Opaque = append(top.Opaque, b...)
			if top.Opaque == nil {
				top.Opaque = []byte{}
			}
		}
	}
	return root, nil
}
