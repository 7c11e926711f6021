package wbxml

import (
	"bufio"
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
	path := filepath.Join("..", "..", "shared", "reference", "eas-codepages.tsv")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("reference tables not available (%v); skipping the cross-check", err)
	}
	defer f.Close()
	// Tokens the specification lists as not used, or that only some
	// implementations carry over from pre-2.5 drafts.
	notInSpec := map[Tag]bool{
		MakeTag(0, 0x11): true, MakeTag(0, 0x19): true, MakeTag(0, 0x1A): true, MakeTag(0, 0x1F): true,
		MakeTag(7, 0x05): true, MakeTag(7, 0x06): true, MakeTag(7, 0x0B): true, MakeTag(7, 0x0D): true,
		MakeTag(7, 0x18): true, MakeTag(8, 0x0D): true, MakeTag(13, 0x0E): true, MakeTag(14, 0x12): true,
		MakeTag(21, 0x0A): true,
	}
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
