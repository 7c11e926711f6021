package wbxml

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestCodePagesComplete(t *testing.T) {
	want := []string{"AirSync", "Contacts", "Email", "AirNotify", "Calendar", "Move",
		"GetItemEstimate", "FolderHierarchy", "MeetingResponse", "Tasks", "ResolveRecipients",
		"ValidateCert", "Contacts2", "Ping", "Provision", "Search", "GAL", "AirSyncBase",
		"Settings", "DocumentLibrary", "ItemOperations", "ComposeMail", "Email2", "Notes",
		"RightsManagement", "Find"}
	ps := Pages()
	if len(ps) != len(want) {
		t.Fatalf("%d pages, want %d", len(ps), len(want))
	}
	for i, cp := range ps {
		if int(cp.Number) != i || cp.Name != want[i] {
			t.Errorf("page %d is %d %s, want %s", i, cp.Number, cp.Name, want[i])
		}
		for _, tag := range cp.Tags() {
			if tag.Token() < 0x05 || tag.Token() > 0x3F {
				t.Errorf("%s: token 0x%02X outside 0x05-0x3F", tag, tag.Token())
			}
			back, ok := LookupTag(cp.Name+":", tag.Name())
			if !ok || back != tag {
				t.Errorf("%s does not look up to itself", tag)
			}
		}
	}
	// Spot checks of 16.0/16.1 additions and of names that other tables get wrong.
	for qname, want := range map[string]Tag{
		"Provision:AccountOnlyRemoteWipe":      MakeTag(14, 0x3B),
		"MeetingResponse:ProposedStartTime":    MakeTag(8, 0x10),
		"MeetingResponse:ProposedEndTime":      MakeTag(8, 0x11),
		"Find:Picture":                         MakeTag(25, 0x22),
		"ComposeMail:Mime":                     MakeTag(21, 0x10),
		"Contacts:BusinessAddressCity":         MakeTag(1, 0x0D),
		"Calendar:CompressedRTF":               MakeTag(4, 0x10),
		"Email:Status":                         MakeTag(2, 0x3B),
		"AirSyncBase:InstanceId":               MakeTag(17, 0x2D),
		"Settings:RightsManagementInformation": MakeTag(18, 0x2B),
	} {
		if got := MustTag(qname); got != want {
			t.Errorf("%s = %04X, want %04X", qname, got, want)
		}
	}
}

// TestCodePagesAgainstReference compares the tables with the token numbers
// of seven independent implementations, kept outside this repository. The
// specification is normative; the reference catches typos and shifted rows.
func TestCodePagesAgainstReference(t *testing.T) {
	// EASD_REFERENCE_DIR points at the tables from a checkout that is not
	// next to them (a worktree elsewhere).
	dir := os.Getenv("EASD_REFERENCE_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "reference")
	}
	path := filepath.Join(dir, "eas-codepages.tsv")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("reference tables not available (%v); skipping the cross-check", err)
	}
	defer f.Close()
	// Tokens no revision of the specification defines, which only some
	// implementations carry over from pre-2.5 drafts.
	notInSpec := map[Tag]bool{MakeTag(13, 0x0E): true, MakeTag(21, 0x0A): true}
	seen := map[Tag]bool{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 3 {
			continue
		}
		page, err1 := strconv.Atoi(cols[0])
		tok, err2 := strconv.ParseUint(strings.TrimPrefix(cols[1], "0x"), 16, 8)
		if err1 != nil || err2 != nil || page > 255 {
			t.Fatalf("bad reference line %q", sc.Text())
		}
		if _, ok := PageByNumber(byte(page)); !ok {
			continue // vendor extension pages such as 254
		}
		tag := MakeTag(byte(page), byte(tok))
		seen[tag] = true
		names := map[string]bool{}
		have := 0
		for _, n := range cols[2:] {
			if n != "-" {
				names[n] = true
				have++
			}
		}
		switch {
		case !tag.Known() && have >= 4 && !notInSpec[tag]:
			t.Errorf("%s: %d implementations define it (%v), easd does not", tag, have, cols[2:])
		case tag.Known() && !names[tag.Name()]:
			t.Errorf("%s: no implementation uses the name %q (%v)", tag, tag.Name(), cols[2:])
		}
	}
	for _, cp := range Pages() {
		for _, tag := range cp.Tags() {
			if !seen[tag] {
				t.Errorf("%s: in no reference implementation", tag)
			}
		}
	}
}

// droppedTokens are the tokens of MS-ASWBXML revisions for protocols 2.5
// and 12.x that later revisions dropped or list as "not used". Devices of
// that era send them (an iPhone's and a Windows Mobile 6.1's Sync Options
// carry Truncation and RTFTruncation), so they must keep decoding.
var droppedTokens = []struct {
	page, token byte
	name        string
}{
	{0, 0x11, "Version"}, {0, 0x19, "Truncation"}, {0, 0x1A, "RTFTruncation"},
	{0, 0x1F, "NotifyGUID"}, {0, 0x22, "MIMESupport"}, {0, 0x23, "MIMETruncation"},
	{2, 0x05, "Attachment"}, {2, 0x06, "Attachments"}, {2, 0x07, "AttName"}, {2, 0x08, "AttSize"},
	{2, 0x09, "AttOid"}, {2, 0x0A, "AttMethod"}, {2, 0x0B, "AttRemoved"}, {2, 0x0C, "Body"},
	{2, 0x0D, "BodySize"}, {2, 0x0E, "BodyTruncated"}, {2, 0x36, "MIMEData"},
	{2, 0x37, "MIMETruncated"}, {2, 0x38, "MIMESize"},
	{4, 0x0B, "Body"}, {4, 0x0C, "BodyTruncated"}, {4, 0x10, "CompressedRTF"},
	{1, 0x09, "Body"}, {1, 0x0A, "BodySize"}, {1, 0x0B, "BodyTruncated"}, {1, 0x3B, "CompressedRTF"},
	{7, 0x05, "Folders"}, {7, 0x06, "Folder"}, {7, 0x0B, "Response"}, {7, 0x0D, "ContentClass"},
	{7, 0x18, "Version"}, {8, 0x0D, "Version"}, {9, 0x05, "Body"}, {9, 0x06, "BodySize"},
	{9, 0x07, "BodyTruncated"}, {9, 0x21, "CompressedRTF"}, {14, 0x12, "DocumentBrowseEnabled"},
}

// TestEveryTokenDecodes decodes each token of every code page, and the
// dropped 2.5/12.x tokens by name, from bytes written by hand: SWITCH_PAGE,
// the tag with content, an inline string, END.
func TestEveryTokenDecodes(t *testing.T) {
	decodeOne := func(page, token byte) (Tag, string, error) {
		d := NewDecoder(bytes.NewReader(doc(0x00, page, 0x40|token, 0x03, 'x', 0x00, 0x01)), Limits{})
		tok, err := d.Next()
		if err != nil {
			return 0, "", err
		}
		if tok.Kind != StartTag {
			return 0, "", io.ErrUnexpectedEOF
		}
		if _, err := d.Next(); err != nil {
			return 0, "", err
		}
		s, err := d.Text()
		return tok.Tag, s, err
	}
	n := 0
	for _, cp := range Pages() {
		for _, tag := range cp.Tags() {
			got, text, err := decodeOne(cp.Number, tag.Token())
			if err != nil || got != tag || text != "x" {
				t.Errorf("%s: decoded %v %q %v", tag, got, text, err)
			}
			n++
		}
	}
	for _, dt := range droppedTokens {
		got, _, err := decodeOne(dt.page, dt.token)
		if err != nil || got.Name() != dt.name {
			t.Errorf("page %d token 0x%02X: got %q (%v), want %s", dt.page, dt.token, got.Name(), err, dt.name)
		}
	}
	if n < 500 {
		t.Errorf("only %d tokens in the tables", n)
	}
}
