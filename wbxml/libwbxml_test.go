package wbxml

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The cross-check against libwbxml (Debian package libwbxml2-utils), an
// independent implementation. Its 0.11.8 tables use some names that differ
// from MS-ASWBXML (e.g. "MIME" for ComposeMail Mime); rather than keeping a
// hand-written list, the test asks wbxml2xml itself for the name and
// namespace of every token, so the mapping is whatever the installed
// libwbxml says.

func requireLibwbxml(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"xml2wbxml", "wbxml2xml"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := fmt.Sprintf("%s not found: install the Debian package libwbxml2-utils", tool)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// libTables maps our tags to libwbxml's (namespace, name) and back.
type libTables struct {
	name map[Tag]xml.Name
	tag  map[xml.Name]Tag
}

func probeLibwbxml(t *testing.T, dir string) *libTables {
	t.Helper()
	lt := &libTables{name: map[Tag]xml.Name{}, tag: map[xml.Name]Tag{}}
	for _, cp := range Pages() {
		// A root with content holding every token of the page as an empty
		// child: the decoded names come back in token order.
		doc := []byte{3, 1, 0x6a, 0, 0, cp.Number, 0x05 | flagContent}
		for tok := 0x05; tok <= 0x3F; tok++ {
			doc = append(doc, byte(tok))
		}
		doc = append(doc, tokEnd)
		out, err := runLib(dir, "wbxml2xml", doc)
		if err != nil {
			t.Logf("libwbxml has no code page %d (%s): %v", cp.Number, cp.Name, err)
			continue
		}
		names := elementNames(out)
		if len(names) != 1+0x3F-0x05+1 {
			t.Logf("libwbxml page %d (%s): unexpected output", cp.Number, cp.Name)
			continue
		}
		for i, n := range names {
			tok := byte(0x05 + i - 1)
			if i == 0 {
				tok = 0x05
			}
			tag := MakeTag(cp.Number, tok)
			if n.Local == "unknown" || !tag.Known() {
				continue
			}
			lt.name[tag] = n
			lt.tag[n] = tag
		}
	}
	return lt
}

func elementNames(doc []byte) []xml.Name {
	var names []xml.Name
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := d.Token()
		if err != nil {
			return names
		}
		if se, ok := tok.(xml.StartElement); ok {
			names = append(names, se.Name)
		}
	}
}

func runLib(dir, tool string, input []byte) ([]byte, error) {
	in := filepath.Join(dir, "in")
	out := filepath.Join(dir, "out")
	os.Remove(out)
	if err := os.WriteFile(in, input, 0o600); err != nil {
		return nil, err
	}
	var args []string
	if tool == "xml2wbxml" {
		args = []string{"-n", "-a", "-v", "1.3", "-o", out, in}
	} else {
		args = []string{"-m", "0", "-l", "ACTIVESYNC", "-o", out, in}
	}
	msg, err := exec.Command(tool, args...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %s", tool, err, msg)
	}
	return os.ReadFile(out)
}

// dump renders an XML document as sorted-free canonical lines "depth
// Namespace:Name=text", mapping element names through toTag. Opaque
// content is compared as base64 without line breaks.
func dump(t *testing.T, doc []byte, toTag func(xml.Name) (Tag, bool)) string {
	t.Helper()
	var b strings.Builder
	var stack []Tag
	var text []string
	var hasChild []bool
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("parse XML: %v\n%s", err, doc)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			tag, ok := toTag(tk.Name)
			if !ok {
				t.Fatalf("element %v has no tag", tk.Name)
			}
			if n := len(hasChild); n > 0 {
				hasChild[n-1] = true
			}
			stack = append(stack, tag)
			text = append(text, "")
			hasChild = append(hasChild, false)
		case xml.CharData:
			if len(text) > 0 {
				text[len(text)-1] += string(tk)
			}
		case xml.EndElement:
			tag := stack[len(stack)-1]
			s := text[len(text)-1]
			if hasChild[len(hasChild)-1] && strings.TrimSpace(s) == "" {
				s = "" // indentation
			}
			if IsOpaqueByDefault(tag) {
				s = stripSpace(s)
			}
			fmt.Fprintf(&b, "%d %s=%q\n", len(stack), tag, s)
			stack, text, hasChild = stack[:len(stack)-1], text[:len(text)-1], hasChild[:len(hasChild)-1]
		}
	}
	return b.String()
}

func ourTag(n xml.Name) (Tag, bool) { return LookupTag(n.Space, n.Local) }

// renderLib writes tree e as XML for xml2wbxml, with libwbxml's names.
func renderLib(lt *libTables, e *Element) ([]byte, bool) {
	var b bytes.Buffer
	b.WriteString(xmlProlog)
	ok := true
	var walk func(e *Element, parentPage int)
	walk = func(e *Element, parentPage int) {
		n, known := lt.name[e.Tag]
		if !known {
			ok = false
			return
		}
		b.WriteString("<" + n.Local)
		if int(e.Tag.Page()) != parentPage {
			fmt.Fprintf(&b, ` xmlns="%s"`, n.Space)
		}
		if e.Opaque == nil && e.Text == "" && len(e.Children) == 0 {
			b.WriteString("/>")
			return
		}
		b.WriteString(">")
		if e.Opaque != nil {
			b.WriteString(base64.StdEncoding.EncodeToString(e.Opaque))
		} else {
			xml.EscapeText(&b, []byte(e.Text))
		}
		for _, c := range e.Children {
			walk(c, int(e.Tag.Page()))
		}
		b.WriteString("</" + n.Local + ">")
	}
	walk(e, -1)
	return b.Bytes(), ok
}

func corpusFiles(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	sort.Strings(files)
	return files
}

// TestCorpusRoundTrip needs no external tool: every corpus document
// encodes, and WBXML -> XML -> WBXML is the identity.
func TestCorpusRoundTrip(t *testing.T) {
	for _, f := range corpusFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var bin bytes.Buffer
			if err := ReadXML(&bin, bytes.NewReader(src)); err != nil {
				t.Fatalf("ReadXML: %v", err)
			}
			var x bytes.Buffer
			if err := WriteXML(&x, bytes.NewReader(bin.Bytes())); err != nil {
				t.Fatalf("WriteXML: %v", err)
			}
			if got, want := dump(t, x.Bytes(), ourTag), dump(t, src, ourTag); got != want {
				t.Fatalf("XML differs after a round trip:\n got %s\nwant %s", got, want)
			}
			var again bytes.Buffer
			if err := ReadXML(&again, bytes.NewReader(x.Bytes())); err != nil {
				t.Fatalf("ReadXML of WriteXML output: %v", err)
			}
			if !bytes.Equal(again.Bytes(), bin.Bytes()) {
				t.Fatalf("encode(decode(B)) != B")
			}
		})
	}
}

func TestCrossCheckLibwbxml(t *testing.T) {
	requireLibwbxml(t)
	dir := t.TempDir()
	lt := probeLibwbxml(t, dir)
	libTag := func(n xml.Name) (Tag, bool) { tag, ok := lt.tag[n]; return tag, ok }
	checked := 0
	for _, f := range corpusFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want := dump(t, src, ourTag)
			var bin bytes.Buffer
			if err := ReadXML(&bin, bytes.NewReader(src)); err != nil {
				t.Fatalf("ReadXML: %v", err)
			}
			tree, err := Parse(bytes.NewReader(bin.Bytes()), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			libXML, ok := renderLib(lt, tree)
			if !ok {
				t.Logf("uses tokens libwbxml 0.11.8 lacks: checked against the spec tables only")
				return
			}
			// libwbxml encodes, easd decodes.
			libBin, err := runLib(dir, "xml2wbxml", libXML)
			if err != nil {
				t.Fatal(err)
			}
			var x bytes.Buffer
			if err := WriteXML(&x, bytes.NewReader(libBin)); err != nil {
				t.Fatalf("easd cannot decode libwbxml output: %v", err)
			}
			if got := dump(t, x.Bytes(), ourTag); got != want {
				t.Errorf("libwbxml-encoded document decodes differently:\n got %s\nwant %s", got, want)
			}
			if !bytes.Equal(libBin, bin.Bytes()) {
				t.Errorf("easd and libwbxml encode differently:\neasd %x\nlib  %x", bin.Bytes(), libBin)
			}
			// easd encodes, libwbxml decodes.
			out, err := runLib(dir, "wbxml2xml", bin.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(out, []byte("<unknown")) {
				t.Fatalf("libwbxml does not know a token:\n%s", out)
			}
			if got := dump(t, out, libTag); got != want {
				t.Errorf("easd-encoded document decodes differently in libwbxml:\n got %s\nwant %s", got, want)
			}
			checked++
		})
	}
	t.Logf("%d documents cross-checked with libwbxml", checked)
	if checked < 40 {
		t.Errorf("only %d documents cross-checked, want at least 40", checked)
	}
}
