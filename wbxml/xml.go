package wbxml

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// XML rendering, for logs, support and the `easd wbxml` subcommand.
//
// Elements carry their code page as a default namespace with a trailing
// colon (xmlns="AirSync:"), written where the page changes, as libwbxml
// does. The content of elements that MS-ASCMD defines as binary
// (IsOpaqueByDefault) is OPAQUE and shown as base64; all other content is a
// string. So that any document survives WBXML -> XML -> WBXML byte for
// byte, a processing instruction marks the content tokens that the plain
// form cannot express, and applies to the content up to the next markup:
//
//	<?wbxml str?>     a string token (empty, whitespace only, or following
//	                  another content token, or in a binary element)
//	<?wbxml opaque?>  an OPAQUE token in an element that is not binary
//	<?wbxml str64?>   a string holding characters XML cannot carry (control
//	                  characters), given as base64
//
// An element without content is written <Tag/>, one with the content flag
// but nothing inside <Tag></Tag>. Indentation is only added between
// elements that hold no content of their own, and whitespace-only text
// next to child elements is read as indentation.

// XMLOption configures WriteXML and ReadXML.
type XMLOption func(*xmlConfig)

type xmlConfig struct {
	indent string
	limits Limits
}

// WithIndent sets the indentation per level of WriteXML ("" for none; the
// default is two spaces).
func WithIndent(s string) XMLOption { return func(c *xmlConfig) { c.indent = s } }

// WithLimits sets the decoding limits of WriteXML; ReadXML applies its
// MaxDepth.
func WithLimits(l Limits) XMLOption { return func(c *xmlConfig) { c.limits = l } }

func xmlOptions(opts []XMLOption) xmlConfig {
	c := xmlConfig{indent: "  "}
	for _, o := range opts {
		o(&c)
	}
	return c
}

const xmlProlog = `<?xml version="1.0" encoding="utf-8"?>` + "\n" +
	`<!DOCTYPE ActiveSync PUBLIC "-//MICROSOFT//DTD ActiveSync//EN" "http://www.microsoft.com/">` + "\n"

type xmlFrame struct {
	tag      Tag
	children bool // a child element was written
	content  bool // a content token was written
}

// WriteXML reads a WBXML document from r and writes it as XML text to w.
func WriteXML(w io.Writer, r io.Reader, opts ...XMLOption) error {
	cfg := xmlOptions(opts)
	bw := bufio.NewWriterSize(w, 32<<10)
	d := NewDecoder(r, cfg.limits)
	var stack []xmlFrame
	selfClosed := false
	lastWasContent := false
	bw.WriteString(xmlProlog)
	newline := func(depth int) {
		if cfg.indent == "" {
			return
		}
		bw.WriteByte('\n')
		for i := 0; i < depth; i++ {
			bw.WriteString(cfg.indent)
		}
	}
	for {
		tok, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch tok.Kind {
		case StartTag:
			if n := len(stack); n > 0 {
				top := &stack[n-1]
				if !top.content {
					newline(n)
				}
				top.children = true
			}
			bw.WriteByte('<')
			bw.WriteString(tok.Tag.Name())
			if len(stack) == 0 || stack[len(stack)-1].tag.Page() != tok.Tag.Page() {
				bw.WriteString(` xmlns="`)
				bw.WriteString(tok.Tag.Namespace())
				bw.WriteString(`:"`)
			}
			if !tok.HasContent {
				bw.WriteString("/>")
				selfClosed = true
			} else {
				bw.WriteByte('>')
				stack = append(stack, xmlFrame{tag: tok.Tag})
			}
			lastWasContent = false
		case EndTag:
			if selfClosed {
				selfClosed = false
				continue
			}
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if top.children && !top.content {
				newline(len(stack))
			}
			bw.WriteString("</")
			bw.WriteString(top.tag.Name())
			bw.WriteByte('>')
			lastWasContent = false
		case String, Opaque:
			top := &stack[len(stack)-1]
			if err := writeXMLContent(bw, d, tok, top.tag, lastWasContent); err != nil {
				return err
			}
			top.content = true
			lastWasContent = true
		}
	}
	if len(stack) == 0 {
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("wbxml: write XML: %w", err)
	}
	return nil
}

func writeXMLContent(bw *bufio.Writer, d *Decoder, tok Token, parent Tag, afterContent bool) error {
	binary := IsOpaqueByDefault(parent)
	if tok.Kind == Opaque {
		if !binary || afterContent || tok.Length == 0 {
			bw.WriteString("<?wbxml opaque?>")
		}
		// Straight from the decoder's buffer: io.Copy would allocate a
		// copy buffer for every opaque token.
		enc := base64.NewEncoder(base64.StdEncoding, bw)
		for {
			chunk, err := d.nextChunk()
			if err == io.EOF {
				return enc.Close()
			}
			if err != nil {
				return err
			}
			enc.Write(chunk)
		}
	}
	b, err := d.Bytes()
	if err != nil {
		return err
	}
	if !xmlSafe(b) {
		bw.WriteString("<?wbxml str64?>")
		enc := base64.NewEncoder(base64.StdEncoding, bw)
		enc.Write(b)
		return enc.Close()
	}
	if binary || afterContent || len(bytes.TrimLeft(b, " \t\r\n")) == 0 {
		bw.WriteString("<?wbxml str?>")
	}
	escapeXMLText(bw, b)
	return nil
}

// xmlSafe reports whether every character of b may appear in XML 1.0.
func xmlSafe(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == 0xFFFE || r == 0xFFFF || (r >= 0xD800 && r <= 0xDFFF) {
			return false
		}
		i += n
	}
	return true
}

func escapeXMLText(bw *bufio.Writer, b []byte) {
	last := 0
	for i, c := range b {
		var esc string
		switch c {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\r':
			esc = "&#xD;" // a raw CR would be normalised away by XML readers
		default:
			continue
		}
		bw.Write(b[last:i])
		bw.WriteString(esc)
		last = i + 1
	}
	bw.Write(b[last:])
}

// content kinds of ReadXML
const (
	xmlNone = iota
	xmlStr
	xmlOpaque
	xmlStr64
)

type readFrame struct {
	tag      Tag
	children bool
	content  bool   // a content token was emitted
	ws       []byte // whitespace-only text not yet known to be content
}

// ReadXML reads the XML form of a document (as written by WriteXML or by
// libwbxml's wbxml2xml) from r and writes it as WBXML to w.
func ReadXML(w io.Writer, r io.Reader, opts ...XMLOption) error {
	cfg := xmlOptions(opts)
	maxDepth := cfg.limits.withDefaults().MaxDepth
	xd := xml.NewDecoder(r)
	enc := NewEncoder(w)
	var (
		stack    []readFrame
		cur      []byte
		curKind  int
		explicit bool
		pushback xml.Token
	)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("wbxml: XML input at byte %d: %s: %w", xd.InputOffset(), fmt.Sprintf(format, args...), ErrMalformed)
	}
	flush := func() error {
		if curKind == xmlNone {
			return nil
		}
		top := &stack[len(stack)-1]
		top.content = true
		kind, data := curKind, cur
		curKind, explicit, cur = xmlNone, false, cur[:0]
		switch kind {
		case xmlStr:
			return enc.StringBytes(data)
		case xmlOpaque, xmlStr64:
			raw, err := base64.StdEncoding.DecodeString(stripSpace(string(data)))
			if err != nil {
				return fail("bad base64 in %s: %v", top.tag, err)
			}
			if kind == xmlStr64 {
				return enc.StringBytes(raw)
			}
			return enc.Opaque(raw)
		}
		return nil
	}
	next := func() (xml.Token, error) {
		if pushback != nil {
			t := pushback
			pushback = nil
			return t, nil
		}
		return xd.Token()
	}
	for {
		tok, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("wbxml: XML input: %w", errors.Join(err, ErrMalformed))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			tag, ok := LookupTag(t.Name.Space, t.Name.Local)
			if !ok {
				return fail("unknown element %s in namespace %q", t.Name.Local, t.Name.Space)
			}
			if len(stack) >= maxDepth {
				return fail("nesting deeper than %d", maxDepth)
			}
			for _, a := range t.Attr {
				if a.Name.Space != "xmlns" && a.Name.Local != "xmlns" {
					return fail("attribute %s on %s", a.Name.Local, tag)
				}
			}
			if n := len(stack); n > 0 {
				if err := flush(); err != nil {
					return err
				}
				stack[n-1].children = true
				stack[n-1].ws = nil
			}
			// <Tag/> and <Tag></Tag> differ in WBXML: a self-closing tag
			// yields its end element without consuming input.
			off := xd.InputOffset()
			nt, err := xd.Token()
			if err != nil {
				return fmt.Errorf("wbxml: XML input: %w", errors.Join(err, ErrMalformed))
			}
			if _, isEnd := nt.(xml.EndElement); isEnd && xd.InputOffset() == off {
				if err := enc.Empty(tag); err != nil {
					return err
				}
				continue
			}
			pushback = xml.CopyToken(nt)
			if err := enc.Start(tag); err != nil {
				return err
			}
			stack = append(stack, readFrame{tag: tag})
		case xml.EndElement:
			top := &stack[len(stack)-1]
			if curKind != xmlNone {
				if err := flush(); err != nil {
					return err
				}
			} else if !top.children && !top.content && len(top.ws) > 0 {
				if err := enc.StringBytes(top.ws); err != nil {
					return err
				}
			}
			stack = stack[:len(stack)-1]
			if err := enc.End(); err != nil {
				return err
			}
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return fail("text outside the root element")
				}
				continue
			}
			top := &stack[len(stack)-1]
			switch {
			case explicit:
				cur = append(cur, t...)
			case curKind == xmlNone && len(bytes.TrimLeft(t, " \t\r\n")) == 0:
				top.ws = append(top.ws, t...)
			default:
				if curKind == xmlNone {
					curKind = xmlStr
					if IsOpaqueByDefault(top.tag) {
						curKind = xmlOpaque
					}
					cur = append(cur[:0], top.ws...)
					top.ws = nil
				}
				cur = append(cur, t...)
			}
		case xml.ProcInst:
			if t.Target != "wbxml" {
				continue // the XML declaration
			}
			if len(stack) == 0 {
				return fail("<?wbxml?> outside an element")
			}
			if err := flush(); err != nil {
				return err
			}
			stack[len(stack)-1].ws = nil
			switch strings.TrimSpace(string(t.Inst)) {
			case "str":
				curKind = xmlStr
			case "opaque":
				curKind = xmlOpaque
			case "str64":
				curKind = xmlStr64
			default:
				return fail("unknown instruction <?wbxml %s?>", t.Inst)
			}
			explicit = true
			cur = cur[:0]
		}
	}
	return enc.Close()
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
}
