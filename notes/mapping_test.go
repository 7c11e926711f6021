package notes

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/wbxml"
)

func TestRenderBody(t *testing.T) {
	n := func(v uint32) *uint32 { return &v }
	for _, c := range []struct {
		name          string
		text          string
		stored        int
		version       int
		prefs         []message.BodyPreference
		want          message.Body
		wantPreviewOK bool
	}{
		{"no preference: plain", "a\nb", BodyPlain, 161, nil, message.Body{Type: 1, EstimatedDataSize: 3, Data: "a\nb"}, false},
		{"RTF only asked: plain", "a", BodyPlain, 161, []message.BodyPreference{{Type: 3}}, message.Body{Type: 1, EstimatedDataSize: 1, Data: "a"}, false},
		{"plain as HTML", "a<b\nc", BodyPlain, 161, []message.BodyPreference{{Type: 2}},
			message.Body{Type: 2, EstimatedDataSize: 37, Data: "<html><body>a&lt;b<br>c</body></html>"}, false},
		{"HTML as HTML", "<p>x</p>", BodyHTML, 161, []message.BodyPreference{{Type: 2}}, message.Body{Type: 2, EstimatedDataSize: 8, Data: "<p>x</p>"}, false},
		{"HTML as plain", "<p>x &amp; y</p><p>z</p>", BodyHTML, 161, []message.BodyPreference{{Type: 1}},
			message.Body{Type: 1, EstimatedDataSize: 7, Data: "x & y\nz"}, false},
		{"truncated on a rune", "aé", BodyPlain, 161, []message.BodyPreference{{Type: 1, TruncationSize: n(2)}},
			message.Body{Type: 1, EstimatedDataSize: 3, Data: "a", Truncated: true}, false},
		{"all or none", "abcdef", BodyPlain, 161, []message.BodyPreference{{Type: 1, TruncationSize: n(2), AllOrNone: true}},
			message.Body{Type: 1, EstimatedDataSize: 6, Truncated: true}, false},
		{"preview", "abcdef", BodyPlain, 141, []message.BodyPreference{{Type: 1, Preview: 3}},
			message.Body{Type: 1, EstimatedDataSize: 6, Data: "abcdef", Preview: "abc"}, true},
		{"no preview before 14.0", "abcdef", BodyPlain, 121, []message.BodyPreference{{Type: 1, Preview: 3}},
			message.Body{Type: 1, EstimatedDataSize: 6, Data: "abcdef"}, false},
	} {
		got := model.RenderBody(c.text, c.stored, c.version, c.prefs)
		if !reflect.DeepEqual(*got, c.want) {
			t.Errorf("%s: got %+v, want %+v", c.name, *got, c.want)
		}
	}
	if got := model.TextOfHTML("<html><head><style>p{}</style></head><body>a<br/>b</body></html>"); got != "a\nb" {
		t.Errorf("TextOfHTML: %q", got)
	}
}

// appData builds a client's ApplicationData from elements.
func appData(children ...*wbxml.Element) *wbxml.Element {
	return wbxml.NewElement(wbxml.MustTag("AirSync:ApplicationData"), children...)
}

func text(name, v string) *wbxml.Element { return wbxml.TextElement(wbxml.MustTag(name), v) }

func TestEditGhostingAndDefaults(t *testing.T) {
	base := Note{ServerID: "10:1", UID: "u", Subject: "S", Body: "B", BodyType: BodyPlain,
		Categories: []string{"Blue Category"}, MessageClass: "IPM.StickyNote.X", LastModified: time.Unix(0, 0)}
	// Whole-item change: what is absent is cleared; LastModifiedDate is
	// the time of the write.
	before := time.Now().Add(-time.Second)
	n, err := Edit(base, appData(text("Notes:Subject", "T")), model.ItemOptions{}, true)
	if err != nil {
		t.Fatal(err)
	}
	if n.Subject != "T" || n.Body != "" || len(n.Categories) != 0 || n.MessageClass != DefaultMessageClass || n.LastModified.Before(before) || n.UID != "u" {
		t.Fatalf("whole change: %+v", n)
	}
	// Supported: only Subject is the client's; the rest is kept.
	n, err = Edit(base, appData(text("Notes:Subject", "T")), model.ItemOptions{Supported: []string{"Subject"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if n.Body != "B" || len(n.Categories) != 1 || n.MessageClass != "IPM.StickyNote.X" {
		t.Fatalf("ghosted change: %+v", n)
	}
	// A truncated body keeps the stored one; an empty Categories clears.
	body := wbxml.NewElement(wbxml.MustTag("AirSyncBase:Body"), text("AirSyncBase:Type", "1"),
		text("AirSyncBase:Truncated", "1"), text("AirSyncBase:Data", "B-cut"))
	n, err = Edit(base, appData(body, wbxml.NewElement(wbxml.MustTag("Notes:Categories")),
		text("Notes:LastModifiedDate", "20260301T093000Z")), model.ItemOptions{}, true)
	if err != nil {
		t.Fatal(err)
	}
	if n.Body != "B" || len(n.Categories) != 0 || !n.LastModified.Equal(time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)) {
		t.Fatalf("truncated body / empty categories: %+v", n)
	}
	for name, data := range map[string]*wbxml.Element{
		"unknown element": appData(text("Tasks:Subject", "x")),
		"bad date":        appData(text("Notes:LastModifiedDate", "2026-03-01")),
		"mime body":       appData(wbxml.NewElement(wbxml.MustTag("AirSyncBase:Body"), text("AirSyncBase:Type", "4"), text("AirSyncBase:Data", "x"))),
		"class":           appData(text("Notes:MessageClass", "IPM.Task")),
	} {
		if _, err := Edit(Note{}, data, model.ItemOptions{}, false); err == nil || !strings.Contains(err.Error(), model.ErrItemInvalid.Error()) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestWriteJournal(t *testing.T) {
	lm := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	ns := []Note{
		{UID: "u1", Subject: "Shop, list; today", Body: "milk\neggs, bread", BodyType: BodyPlain,
			Categories: []string{"Blue Category", "a,b"}, MessageClass: DefaultMessageClass, LastModified: lm},
		{UID: "u2", Subject: "", Body: "<p>x &amp; y</p>", BodyType: BodyHTML, MessageClass: "IPM.StickyNote.X", LastModified: lm},
	}
	var b bytes.Buffer
	if err := WriteJournal(&b, ns); err != nil {
		t.Fatal(err)
	}
	cal, err := ical.NewDecoder(bytes.NewReader(b.Bytes())).Decode()
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if len(cal.Children) != 2 || cal.Children[0].Name != ical.CompJournal {
		t.Fatalf("components: %+v", cal.Children)
	}
	j := cal.Children[0]
	desc := j.Props.Get(ical.PropDescription).Value
	cats, _ := j.Props.Get(ical.PropCategories).TextList()
	if desc != `milk\neggs\, bread` || !reflect.DeepEqual(cats, ns[0].Categories) || j.Props.Get(ical.PropUID).Value != "u1" {
		t.Fatalf("journal 1: %q %q\n%s", desc, cats, b.String())
	}
	if d, _ := cal.Children[1].Props.Text(ical.PropDescription); d != "x & y" || cal.Children[1].Props.Get(propMessageClass) == nil {
		t.Fatalf("journal 2:\n%s", b.String())
	}
	if err := WriteJournal(&b, nil); err != ErrNoNotes {
		t.Fatalf("empty export: %v", err)
	}
	// An independent parser (python3-vobject) reads the same journal.
	py := "python3"
	if exec.Command(py, "-c", "import vobject").Run() != nil {
		py = "/usr/bin/python3" // Debian's, which need not be the first on PATH
	}
	if _, err := exec.LookPath(py); err == nil {
		b.Reset()
		_ = WriteJournal(&b, ns)
		cmd := exec.Command(py, "-c", `import sys, vobject
c = vobject.readOne(sys.stdin.read())
for j in c.vjournal_list:
    print(j.summary.value if hasattr(j, "summary") else "", "|", j.description.value.replace("\n", "\\n"))`)
		cmd.Stdin = &b
		out, err := cmd.CombinedOutput()
		if err != nil && bytes.Contains(out, []byte("No module named")) {
			t.Log("python3-vobject not installed; skipped its check")
			return
		}
		if err != nil || string(out) != "Shop, list; today | milk\\neggs, bread\n | x & y\n" {
			t.Fatalf("vobject: %v\n%s", err, out)
		}
	}
}

func TestWriteTextFiles(t *testing.T) {
	dir := t.TempDir()
	lm := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	names, err := WriteTextFiles(dir, []Note{
		{Subject: "a/b: c", Body: "x", LastModified: lm},
		{Subject: "A/B: C", Body: "<p>y</p>", BodyType: BodyHTML},
		{Subject: "..", Body: "z"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a_b_ c.txt", "A_B_ C (2).txt", "note.txt"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("names %q, want %q", names, want)
	}
	b, _ := os.ReadFile(filepath.Join(dir, names[1]))
	if string(b) != "A/B: C\n\ny\n" {
		t.Fatalf("content %q", b)
	}
	if st, _ := os.Stat(filepath.Join(dir, names[0])); !st.ModTime().Equal(lm) {
		t.Fatalf("mtime %v", st.ModTime())
	}
	if _, err := WriteTextFiles(dir, []Note{{Subject: "a/b: c"}}); err == nil {
		t.Fatal("an export overwrote an existing file")
	}
}
