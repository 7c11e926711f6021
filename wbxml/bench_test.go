package wbxml

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// syncResponse builds a Sync response carrying n mails whose HTML bodies
// have bodySize bytes each, the shape of a phone's initial mail sync.
func syncResponse(n, bodySize int) []byte {
	var b bytes.Buffer
	enc := NewEncoder(&b)
	tag := MustTag
	body := strings.Repeat("<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>\r\n", bodySize/60+1)[:bodySize]
	enc.Start(tag("AirSync:Sync"))
	enc.Start(tag("AirSync:Collections"))
	enc.Start(tag("AirSync:Collection"))
	enc.Element(tag("AirSync:SyncKey"), "{8c2a1f7e-3d4b-4c1a-9f2e-1b2c3d4e5f60}7")
	enc.Element(tag("AirSync:CollectionId"), "1")
	enc.Element(tag("AirSync:Status"), "1")
	enc.Start(tag("AirSync:Commands"))
	for i := 0; i < n; i++ {
		enc.Start(tag("AirSync:Add"))
		enc.Element(tag("AirSync:ServerId"), fmt.Sprintf("1:%d", 1000+i))
		enc.Start(tag("AirSync:ApplicationData"))
		enc.Element(tag("Email:To"), `"Bob Example" <bob@example.org>`)
		enc.Element(tag("Email:From"), `"Alice Example" <alice@example.org>`)
		enc.Element(tag("Email:Subject"), fmt.Sprintf("Status report number %d", i))
		enc.Element(tag("Email:DateReceived"), "2026-03-02T09:15:00.000Z")
		enc.Element(tag("Email:DisplayTo"), "Bob Example")
		enc.Element(tag("Email:Importance"), "1")
		enc.Element(tag("Email:Read"), "0")
		enc.Start(tag("AirSyncBase:Body"))
		enc.Element(tag("AirSyncBase:Type"), "2")
		enc.Element(tag("AirSyncBase:EstimatedDataSize"), fmt.Sprint(bodySize))
		enc.Element(tag("AirSyncBase:Data"), body)
		enc.End()
		enc.Element(tag("Email:MessageClass"), "IPM.Note")
		enc.Element(tag("Email:InternetCPID"), "65001")
		enc.Start(tag("Email2:ConversationId"))
		enc.Opaque([]byte("0123456789abcdef"))
		enc.End()
		enc.End()
		enc.End()
	}
	enc.End()
	enc.End()
	enc.End()
	enc.End()
	if err := enc.Close(); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func folderSyncRequest() []byte {
	b, err := Marshal(&struct {
		WBXMLName Tag `wbxml:"FolderHierarchy:FolderSync"`
		SyncKey   string
	}{SyncKey: "0"})
	if err != nil {
		panic(err)
	}
	return b
}

func pingRequest() []byte {
	e := NewElement(MustTag("Ping:Ping"),
		TextElement(MustTag("Ping:HeartbeatInterval"), "480"),
		NewElement(MustTag("Ping:Folders"),
			NewElement(MustTag("Ping:Folder"), TextElement(MustTag("Ping:Id"), "1"), TextElement(MustTag("Ping:Class"), "Email")),
			NewElement(MustTag("Ping:Folder"), TextElement(MustTag("Ping:Id"), "3"), TextElement(MustTag("Ping:Class"), "Calendar")),
			NewElement(MustTag("Ping:Folder"), TextElement(MustTag("Ping:Id"), "4"), TextElement(MustTag("Ping:Class"), "Contacts"))))
	b, err := e.Bytes()
	if err != nil {
		panic(err)
	}
	return b
}

// benchDecode reads every token and its content, the work a handler does.
func benchDecode(b *testing.B, data []byte) {
	r := bytes.NewReader(data)
	d := NewDecoder(r, Limits{})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	tokens := 0
	for b.Loop() {
		r.Reset(data)
		d.Reset(r)
		for {
			tok, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			tokens++
			if tok.Kind == String || tok.Kind == Opaque {
				if _, err := d.Bytes(); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.ReportMetric(float64(tokens)/float64(b.N), "tokens/op")
}

// benchEncode re-encodes the document's token stream, as a handler
// streaming a response does.
func benchEncode(b *testing.B, data []byte) {
	type item struct {
		tok  Token
		text string
		raw  []byte
	}
	var items []item
	d := NewDecoder(bytes.NewReader(data), Limits{})
	for {
		tok, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		it := item{tok: tok}
		if tok.Kind == String || tok.Kind == Opaque {
			it.text, _ = d.Text()
			it.raw = []byte(it.text)
		}
		items = append(items, it)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	enc := NewEncoder(io.Discard)
	for b.Loop() {
		enc.Reset(io.Discard)
		for i := 0; i < len(items); i++ {
			it := &items[i]
			switch it.tok.Kind {
			case StartTag:
				if it.tok.HasContent {
					enc.Start(it.tok.Tag)
				} else {
					enc.Empty(it.tok.Tag)
					i++ // its EndTag
				}
			case EndTag:
				enc.End()
			case String:
				enc.String(it.text)
			case Opaque:
				enc.Opaque(it.raw)
			}
		}
		if err := enc.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

var (
	benchSync       = syncResponse(100, 10000)
	benchFolderSync = folderSyncRequest()
	benchPing       = pingRequest()
)

func BenchmarkDecodeSync1MB(b *testing.B)    { benchDecode(b, benchSync) }
func BenchmarkEncodeSync1MB(b *testing.B)    { benchEncode(b, benchSync) }
func BenchmarkDecodeFolderSync(b *testing.B) { benchDecode(b, benchFolderSync) }
func BenchmarkEncodeFolderSync(b *testing.B) { benchEncode(b, benchFolderSync) }
func BenchmarkDecodePing(b *testing.B)       { benchDecode(b, benchPing) }
func BenchmarkEncodePing(b *testing.B)       { benchEncode(b, benchPing) }

func BenchmarkParseTreeSync1MB(b *testing.B) {
	b.SetBytes(int64(len(benchSync)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(benchSync), Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteXMLSync1MB(b *testing.B) {
	b.SetBytes(int64(len(benchSync)))
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteXML(io.Discard, bytes.NewReader(benchSync)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWriteBenchFiles writes the benchmark documents to the directory named
// by WBXML_BENCH_DIR, for whole-process comparisons (docs/benchmarks.md).
func TestWriteBenchFiles(t *testing.T) {
	dir := os.Getenv("WBXML_BENCH_DIR")
	if dir == "" {
		t.Skip("set WBXML_BENCH_DIR to write the benchmark documents")
	}
	for name, data := range map[string][]byte{
		"sync-1mb.wbxml":   benchSync,
		"foldersync.wbxml": benchFolderSync,
		"ping.wbxml":       benchPing,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
