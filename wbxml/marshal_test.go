package wbxml

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

type testBodyPreference struct {
	Type           int
	TruncationSize uint32 `wbxml:",omitempty"`
	AllOrNone      *bool
}

type testOptions struct {
	FilterType     int                  `wbxml:",omitempty"`
	BodyPreference []testBodyPreference `wbxml:"AirSyncBase:BodyPreference"`
	MIMESupport    *int
}

type testCollection struct {
	SyncKey        string
	CollectionId   string
	DeletesAsMoves bool `wbxml:",omitempty"`
	GetChanges     bool `wbxml:",empty"`
	WindowSize     int  `wbxml:",omitempty"`
	Options        *testOptions
	Commands       *Element
}

type testSync struct {
	WBXMLName   Tag `wbxml:"AirSync:Sync"`
	Collections struct {
		Collection []testCollection
	}
	Partial bool       `wbxml:",empty"`
	Unknown []*Element `wbxml:",any"`
}

func TestMarshalRoundTrip(t *testing.T) {
	yes, two := true, 2
	in := testSync{
		Collections: struct{ Collection []testCollection }{[]testCollection{{
			SyncKey: "0", CollectionId: "1", GetChanges: true, WindowSize: 50,
			Options: &testOptions{
				FilterType:     3,
				BodyPreference: []testBodyPreference{{Type: 2, TruncationSize: 51200, AllOrNone: &yes}, {Type: 4}},
				MIMESupport:    &two,
			},
			Commands: NewElement(MustTag("AirSync:Commands"),
				NewElement(MustTag("AirSync:Delete"), TextElement(MustTag("AirSync:ServerId"), "1:2"))),
		}}},
		Partial: true,
	}
	data, err := Marshal(&in)
	if err != nil {
		t.Fatal(err)
	}
	var x bytes.Buffer
	if err := WriteXML(&x, bytes.NewReader(data), WithIndent("")); err != nil {
		t.Fatal(err)
	}
	wantXML := xmlProlog + `<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>0</SyncKey>` +
		`<CollectionId>1</CollectionId><GetChanges/><WindowSize>50</WindowSize><Options><FilterType>3</FilterType>` +
		`<BodyPreference xmlns="AirSyncBase:"><Type>2</Type><TruncationSize>51200</TruncationSize><AllOrNone>1</AllOrNone></BodyPreference>` +
		`<BodyPreference xmlns="AirSyncBase:"><Type>4</Type></BodyPreference><MIMESupport>2</MIMESupport></Options>` +
		`<Commands><Delete><ServerId>1:2</ServerId></Delete></Commands></Collection></Collections><Partial/></Sync>` + "\n"
	if x.String() != wantXML {
		t.Fatalf("XML:\n%s\nwant\n%s", x.String(), wantXML)
	}
	var out testSync
	if err := Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	in.WBXMLName = MustTag("AirSync:Sync")
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", out, in)
	}
}

func TestUnmarshalLenientAndStrict(t *testing.T) {
	// Unknown children are kept by the any field; a flag given as <Tag>1</Tag>
	// counts as set.
	src := `<Sync xmlns="AirSync:"><Wait>5</Wait><Partial>1</Partial></Sync>`
	var bin bytes.Buffer
	if err := ReadXML(&bin, bytes.NewReader([]byte(src))); err != nil {
		t.Fatal(err)
	}
	var s testSync
	if err := Unmarshal(bin.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if !s.Partial || len(s.Unknown) != 1 || s.Unknown[0].Name() != "Wait" || s.Unknown[0].Text != "5" {
		t.Fatalf("got %+v", s)
	}

	bad := map[string]string{
		"wrong root":  `<Ping xmlns="Ping:"/>`,
		"not int":     `<Sync xmlns="AirSync:"><Collections><Collection><WindowSize>many</WindowSize></Collection></Collections></Sync>`,
		"nested leaf": `<Sync xmlns="AirSync:"><Collections><Collection><SyncKey><Status>1</Status></SyncKey></Collection></Collections></Sync>`,
	}
	for name, src := range bad {
		var bin bytes.Buffer
		if err := ReadXML(&bin, bytes.NewReader([]byte(src))); err != nil {
			t.Fatal(err)
		}
		var s testSync
		err := Unmarshal(bin.Bytes(), &s)
		var se *SyntaxError
		if !errors.As(err, &se) || !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error %v, want a SyntaxError of class ErrMalformed", name, err)
		}
	}
}

func TestMarshalOpaqueAndBytes(t *testing.T) {
	type sendMail struct {
		WBXMLName       Tag `wbxml:"ComposeMail:SendMail"`
		ClientId        string
		SaveInSentItems bool `wbxml:",empty"`
		Mime            []byte
	}
	in := sendMail{ClientId: "42", SaveInSentItems: true, Mime: []byte("From: a\r\n\r\nhi\r\n")}
	data, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte{tokOpaque, byte(len(in.Mime))}) {
		t.Fatalf("Mime not encoded as OPAQUE: %x", data)
	}
	var out sendMail
	if err := Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	in.WBXMLName = out.WBXMLName
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("got %+v", out)
	}
}

func TestStructTagErrors(t *testing.T) {
	type badName struct {
		WBXMLName Tag `wbxml:"AirSync:Sync"`
		NoSuch    string
	}
	if _, err := Marshal(badName{}); err == nil {
		t.Error("unknown element accepted")
	}
	type noRoot struct{ SyncKey string }
	if _, err := Marshal(noRoot{}); err == nil {
		t.Error("struct without WBXMLName accepted as a document")
	}
}

// An interface field carries the data of whichever class an item has.
func TestMarshalInterfaceField(t *testing.T) {
	type note struct {
		Subject string `wbxml:"Notes:Subject"`
	}
	type item struct {
		WBXMLName       Tag    `wbxml:"AirSync:Add"`
		ServerID        string `wbxml:"ServerId"`
		ApplicationData any    `wbxml:"ApplicationData"`
	}
	b, err := Marshal(&item{ServerID: "1", ApplicationData: &note{Subject: "hi"}})
	if err != nil {
		t.Fatal(err)
	}
	var raw item
	if err := Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	el, ok := raw.ApplicationData.(*Element)
	if !ok || el.ChildText("Notes:Subject") != "hi" {
		t.Fatalf("raw decode: %#v", raw.ApplicationData)
	}
	typed := item{ApplicationData: &note{}}
	if err := Unmarshal(b, &typed); err != nil {
		t.Fatal(err)
	}
	if n := typed.ApplicationData.(*note); n.Subject != "hi" {
		t.Fatalf("typed decode: %+v", n)
	}
	if b2, err := Marshal(&raw); err != nil || string(b2) != string(b) {
		t.Fatalf("re-encode of the raw element: %v % x vs % x", err, b2, b)
	}
	if _, err := Marshal(&item{ServerID: "2"}); err != nil {
		t.Fatalf("nil interface: %v", err)
	}
}
