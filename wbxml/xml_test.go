package wbxml

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// TestXMLRoundTripOddDocuments covers token sequences the plain XML form
// cannot express without the <?wbxml?> markers.
func TestXMLRoundTripOddDocuments(t *testing.T) {
	sync := byte(0x45)   // AirSync:Sync, with content
	status := byte(0x4E) // AirSync:Status, with content
	str := func(s string) []byte { return append(append([]byte{tokStrI}, s...), 0) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	cases := map[string][]byte{
		"content flag, no content": doc(sync, status, 0x01, 0x01),
		"empty string":             doc(cat([]byte{sync, status}, str(""), []byte{0x01, 0x01})...),
		"two strings":              doc(cat([]byte{sync, status}, str("a"), str("b"), []byte{0x01, 0x01})...),
		"whitespace string":        doc(cat([]byte{sync, status}, str(" \n\t "), []byte{0x01, 0x01})...),
		"CR LF and markup":         doc(cat([]byte{sync, status}, str("a\r\nb <&> ]]>"), []byte{0x01, 0x01})...),
		"control characters":       doc(cat([]byte{sync, status}, str("bell\x07"), []byte{0x01, 0x01})...),
		"opaque in string element": doc(sync, status, tokOpaque, 3, 0, 1, 2, 0x01, 0x01),
		"empty opaque":             doc(sync, status, tokOpaque, 0, 0x01, 0x01),
		"string in binary element": doc(cat([]byte{0x00, 21, 0x45, 0x50}, str("text mime"), []byte{0x01, 0x01})...),
		"mixed content":            doc(cat([]byte{sync}, str("x"), []byte{status, 0x01}, str(" "), []byte{0x0B}, str("y"), []byte{0x01})...),
		"string then opaque":       doc(cat([]byte{sync, status}, str("a"), []byte{tokOpaque, 1, 'b'}, []byte{0x01, 0x01})...),
		"page switches":            doc(0x45, 0x00, 0x11, 0x4A, 0x00, 0x00, 0x0B, 0x00, 0x11, 0x0D, 0x01, 0x01),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			if err := decodeAll(in, Limits{}); err != nil {
				t.Fatalf("test document invalid: %v", err)
			}
			var x, out bytes.Buffer
			if err := WriteXML(&x, bytes.NewReader(in)); err != nil {
				t.Fatal(err)
			}
			if err := ReadXML(&out, bytes.NewReader(x.Bytes())); err != nil {
				t.Fatalf("ReadXML: %v\n%s", err, x.String())
			}
			if !bytes.Equal(out.Bytes(), in) {
				t.Fatalf("round trip:\n got %x\nwant %x\nXML:\n%s", out.Bytes(), in, x.String())
			}
		})
	}
}

func TestReadXMLHandWritten(t *testing.T) {
	// Indentation is not content; a leaf keeps its text as written.
	src := "<Ping xmlns=\"Ping:\">\n  <HeartbeatInterval>480</HeartbeatInterval>\n  <Folders>\n    <Folder>\n      <Id>1</Id>\n      <Class>Email</Class>\n    </Folder>\n  </Folders>\n</Ping>\n"
	var bin bytes.Buffer
	if err := ReadXML(&bin, strings.NewReader(src)); err != nil {
		t.Fatal(err)
	}
	e, err := Parse(&bin, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Path("Folders", "Folder").ChildText("Class"); got != "Email" {
		t.Fatalf("Class = %q", got)
	}
	if e.ChildText("HeartbeatInterval") != "480" || e.Text != "" {
		t.Fatalf("unexpected tree %+v", e)
	}
}

func TestReadXMLErrors(t *testing.T) {
	for name, src := range map[string]string{
		"no namespace":      `<Sync/>`,
		"unknown element":   `<Sync xmlns="AirSync:"><Nope/></Sync>`,
		"unknown namespace": `<Sync xmlns="Nowhere:"/>`,
		"attribute":         `<Sync xmlns="AirSync:" a="1"/>`,
		"bad base64":        `<SendMail xmlns="ComposeMail:"><Mime>!!!</Mime></SendMail>`,
		"not XML":           `<Sync xmlns="AirSync:">`,
		"unknown marker":    `<Sync xmlns="AirSync:"><Status><?wbxml foo?></Status></Sync>`,
	} {
		var out bytes.Buffer
		if err := ReadXML(&out, strings.NewReader(src)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error %v is not ErrMalformed", name, err)
		}
	}
}

func TestEncoderMisuse(t *testing.T) {
	tag := MustTag("AirSync:Sync")
	checks := map[string]func(e *Encoder) error{
		"end without start": func(e *Encoder) error { return e.End() },
		"string at top":     func(e *Encoder) error { return e.String("x") },
		"NUL in string":     func(e *Encoder) error { e.Start(tag); return e.String("a\x00b") },
		"bad UTF-8":         func(e *Encoder) error { e.Start(tag); return e.String("\xff") },
		"unknown tag":       func(e *Encoder) error { return e.Start(MakeTag(0, 0x3F)) },
		"two roots":         func(e *Encoder) error { e.Empty(tag); return e.Empty(tag) },
		"open at close":     func(e *Encoder) error { e.Start(tag); return e.Close() },
		"nothing at close":  func(e *Encoder) error { return e.Close() },
		"short OpaqueFrom": func(e *Encoder) error {
			e.Start(tag)
			return e.OpaqueFrom(strings.NewReader("abc"), 5)
		},
		"short Base64From": func(e *Encoder) error {
			e.Start(tag)
			return e.Base64From(strings.NewReader("abc"), 5)
		},
		"Base64From at top": func(e *Encoder) error { return e.Base64From(strings.NewReader("abc"), 3) },
	}
	for name, f := range checks {
		var b bytes.Buffer
		if err := f(NewEncoder(&b)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestEncoderLargeContentStreams(t *testing.T) {
	big := strings.Repeat("x", 3*writeBufferSize)
	var b bytes.Buffer
	e := NewEncoder(&b)
	e.Start(MustTag("AirSyncBase:Data"))
	e.String(big)
	e.Opaque([]byte(big))
	e.End()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	el, err := Parse(&b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if el.Text != big || string(el.Opaque) != big {
		t.Fatal("content differs")
	}
}

// Base64From streams binary content as the base64 text MS-ASCMD gives
// ItemOperations Data; the decoded text is the input, whatever its size
// against the buffer.
func TestEncoderBase64From(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 1000, 3*writeBufferSize + 1} {
		in := make([]byte, n)
		for i := range in {
			in[i] = byte(i * 7)
		}
		var b bytes.Buffer
		e := NewEncoder(&b)
		e.Start(MustTag("ItemOperations:Properties"))
		e.Start(MustTag("ItemOperations:Data"))
		e.Base64From(bytes.NewReader(in), int64(n))
		e.End()
		e.End()
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		el, err := Parse(&b, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		d := el.Child("Data")
		got, err := base64.StdEncoding.DecodeString(d.Text)
		if err != nil || !bytes.Equal(got, in) || d.Opaque != nil {
			t.Errorf("%d bytes: got %d bytes back (%v), opaque %v", n, len(got), err, d.Opaque != nil)
		}
	}
}
