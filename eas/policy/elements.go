package policy

import (
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Element describes one setting of a policy: an EASProvisionDoc element
// (MS-ASPROV 2.2.2), named as there, with the values the protocol allows.
// The command line, the admin API and validation work from this table, so
// a setting is described once.
type Element struct {
	Name string
	// Since is the first protocol version whose EASProvisionDoc has the
	// element (120: 12.0, 121: 12.1).
	Since int
	Kind  Kind
	// Min and Max bound an integer; Values, when set, lists the only
	// integers allowed instead.
	Min, Max int
	Values   []int
	// Meaning says what the value is, for help and error messages.
	Meaning string
}

// Kind is the type of an element's value.
type Kind int

// Kinds of element values.
const (
	Bool Kind = iota
	Int
	List // of strings
)

// ValueError is an element value outside what MS-ASPROV allows, or one
// that does not parse.
type ValueError struct {
	Element string
	Value   string
	Allowed string
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("%s=%s: %s", e.Element, e.Value, e.Allowed)
}

// elements lists every field of Settings, in code page order.
var elements = []Element{
	{Name: "DevicePasswordEnabled", Since: 120, Kind: Bool, Meaning: "a device password is required"},
	{Name: "AlphanumericDevicePasswordRequired", Since: 120, Kind: Bool, Meaning: "the password must contain letters and digits"},
	{Name: "RequireStorageCardEncryption", Since: 120, Kind: Bool, Meaning: "the storage card must be encrypted"},
	{Name: "PasswordRecoveryEnabled", Since: 120, Kind: Bool, Meaning: "the device may send a recovery password to the server"},
	{Name: "AttachmentsEnabled", Since: 120, Kind: Bool, Meaning: "attachments may be downloaded"},
	{Name: "MinDevicePasswordLength", Since: 120, Kind: Int, Min: 1, Max: 16, Meaning: "characters; 1 means no minimum"},
	{Name: "MaxInactivityTimeDeviceLock", Since: 120, Kind: Int, Min: 0, Max: 9999, Meaning: "seconds before the device locks; 9999 means never"},
	{Name: "MaxDevicePasswordFailedAttempts", Since: 120, Kind: Int, Min: 4, Max: 16, Meaning: "failed unlocks before the device wipes or locks out"},
	{Name: "MaxAttachmentSize", Since: 120, Kind: Int, Min: 0, Max: 1<<31 - 1, Meaning: "bytes; 0 means no limit"},
	{Name: "AllowSimpleDevicePassword", Since: 120, Kind: Bool, Meaning: "simple passwords such as 1111 are allowed"},
	{Name: "DevicePasswordExpiration", Since: 120, Kind: Int, Min: 0, Max: 9999, Meaning: "days a password is valid; 0 means forever"},
	{Name: "DevicePasswordHistory", Since: 120, Kind: Int, Min: 0, Max: 50, Meaning: "earlier passwords that may not be reused"},
	{Name: "AllowStorageCard", Since: 121, Kind: Bool, Meaning: "a storage card may be used"},
	{Name: "AllowCamera", Since: 121, Kind: Bool, Meaning: "the camera may be used"},
	{Name: "RequireDeviceEncryption", Since: 121, Kind: Bool, Meaning: "the device must be encrypted"},
	{Name: "AllowUnsignedApplications", Since: 121, Kind: Bool, Meaning: "unsigned applications may run"},
	{Name: "AllowUnsignedInstallationPackages", Since: 121, Kind: Bool, Meaning: "unsigned packages may be installed"},
	{Name: "MinDevicePasswordComplexCharacters", Since: 121, Kind: Int, Min: 1, Max: 4, Meaning: "character classes the password must contain"},
	{Name: "AllowWiFi", Since: 121, Kind: Bool, Meaning: "Wi-Fi may be used"},
	{Name: "AllowTextMessaging", Since: 121, Kind: Bool, Meaning: "text messages may be used"},
	{Name: "AllowPOPIMAPEmail", Since: 121, Kind: Bool, Meaning: "POP and IMAP accounts may be added"},
	{Name: "AllowBluetooth", Since: 121, Kind: Int, Min: 0, Max: 2, Meaning: "0 no, 1 hands-free only, 2 yes"},
	{Name: "AllowIrDA", Since: 121, Kind: Bool, Meaning: "infrared connections may be used"},
	{Name: "RequireManualSyncWhenRoaming", Since: 121, Kind: Bool, Meaning: "no automatic sync while roaming"},
	{Name: "AllowDesktopSync", Since: 121, Kind: Bool, Meaning: "the device may sync with a desktop computer"},
	{Name: "MaxCalendarAgeFilter", Since: 121, Kind: Int, Values: []int{0, 4, 5, 6, 7}, Meaning: "calendar sync window: 0 all, 4 two weeks, 5 a month, 6 three months, 7 six months"},
	{Name: "AllowHTMLEmail", Since: 121, Kind: Bool, Meaning: "mail may be shown as HTML"},
	{Name: "MaxEmailAgeFilter", Since: 121, Kind: Int, Min: 0, Max: 5, Meaning: "mail sync window: 0 all, 1 a day, 2 three days, 3 a week, 4 two weeks, 5 a month"},
	{Name: "MaxEmailBodyTruncationSize", Since: 121, Kind: Int, Min: -1, Max: 1<<31 - 1, Meaning: "plain text body size sent; -1 no truncation, 0 headers only"},
	{Name: "MaxEmailHTMLBodyTruncationSize", Since: 121, Kind: Int, Min: -1, Max: 1<<31 - 1, Meaning: "HTML body size sent; -1 no truncation, 0 headers only"},
	{Name: "RequireSignedSMIMEMessages", Since: 121, Kind: Bool, Meaning: "sent mail must be S/MIME signed"},
	{Name: "RequireEncryptedSMIMEMessages", Since: 121, Kind: Bool, Meaning: "sent mail must be S/MIME encrypted"},
	{Name: "RequireSignedSMIMEAlgorithm", Since: 121, Kind: Int, Min: 0, Max: 1, Meaning: "0 SHA-1, 1 MD5"},
	{Name: "RequireEncryptionSMIMEAlgorithm", Since: 121, Kind: Int, Min: 0, Max: 4, Meaning: "0 TripleDES, 1 DES, 2 RC2 128, 3 RC2 64, 4 RC2 40"},
	{Name: "AllowSMIMEEncryptionAlgorithmNegotiation", Since: 121, Kind: Int, Min: 0, Max: 2, Meaning: "0 no, 1 strong algorithms only, 2 any"},
	{Name: "AllowSMIMESoftCerts", Since: 121, Kind: Bool, Meaning: "S/MIME certificates stored in software may be used"},
	{Name: "AllowBrowser", Since: 121, Kind: Bool, Meaning: "the browser may be used"},
	{Name: "AllowConsumerEmail", Since: 121, Kind: Bool, Meaning: "personal mail accounts may be added"},
	{Name: "AllowRemoteDesktop", Since: 121, Kind: Bool, Meaning: "remote desktop may be used"},
	{Name: "AllowInternetSharing", Since: 121, Kind: Bool, Meaning: "the device may share its connection"},
	{Name: "UnapprovedInROMApplicationList", Since: 121, Kind: List, Meaning: "names of built-in applications that may not run"},
	{Name: "ApprovedApplicationList", Since: 121, Kind: List, Meaning: "SHA-1 hashes (40 hex digits) of the only installed applications that may run"},
}

// Elements returns the description of every setting, in the order of the
// EASProvisionDoc.
func Elements() []Element { return slices.Clone(elements) }

// LookupElement finds an element by name, ignoring case.
func LookupElement(name string) (Element, bool) {
	for _, e := range elements {
		if strings.EqualFold(e.Name, name) {
			return e, true
		}
	}
	return Element{}, false
}

// Allowed says which values e takes, for messages.
func (e Element) Allowed() string {
	switch {
	case e.Kind == Bool:
		return "true or false"
	case e.Kind == List:
		return "a comma-separated list"
	case e.Values != nil:
		s := make([]string, len(e.Values))
		for i, v := range e.Values {
			s[i] = strconv.Itoa(v)
		}
		return "one of " + strings.Join(s, ", ")
	}
	return fmt.Sprintf("%d to %d", e.Min, e.Max)
}

func (e Element) field(s *Settings) reflect.Value {
	return reflect.ValueOf(s).Elem().FieldByName(e.Name)
}

// Value returns the element's value in s: bool, int or []string.
func (e Element) Value(s Settings) any {
	return e.field(&s).Interface()
}

// Format writes the element's value in s as --set takes it.
func (e Element) Format(s Settings) string {
	switch v := e.Value(s).(type) {
	case []string:
		return strings.Join(v, ",")
	default:
		return fmt.Sprint(v)
	}
}

// Set parses value (true/false/1/0/yes/no, an integer, or a comma-separated
// list) into the element's field of s and checks it.
func (e Element) Set(s *Settings, value string) error {
	bad := &ValueError{Element: e.Name, Value: value, Allowed: "want " + e.Allowed()}
	f := e.field(s)
	switch e.Kind {
	case Bool:
		switch strings.ToLower(strings.TrimSpace(value)) {
		case "true", "1", "yes", "on":
			f.SetBool(true)
		case "false", "0", "no", "off":
			f.SetBool(false)
		default:
			return bad
		}
	case Int:
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil {
			return bad
		}
		f.SetInt(int64(n))
	case List:
		list := []string{}
		for _, item := range strings.Split(value, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		f.Set(reflect.ValueOf(list))
	}
	return e.check(*s)
}

// check reports whether the element's value in s is one MS-ASPROV allows.
func (e Element) check(s Settings) error {
	switch v := e.Value(s).(type) {
	case int:
		if e.Values != nil && !slices.Contains(e.Values, v) || e.Values == nil && (v < e.Min || v > e.Max) {
			return &ValueError{Element: e.Name, Value: strconv.Itoa(v), Allowed: "out of range, want " + e.Allowed() + " (" + e.Meaning + ")"}
		}
	case []string:
		for _, item := range v {
			err := &ValueError{Element: e.Name, Value: strings.Join(v, ","), Allowed: fmt.Sprintf("%q: ", item)}
			switch {
			case strings.TrimSpace(item) == "" || strings.Contains(item, ","):
				err.Allowed += "empty names and commas are not allowed"
				return err
			case e.Name == "ApprovedApplicationList" && !isSHA1(item):
				err.Allowed += "want a SHA-1 hash of 40 hex digits"
				return err
			case len(item) > 256:
				err.Allowed += "longer than 256 characters"
				return err
			}
		}
	}
	return nil
}

func isSHA1(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 20
}

// Validate checks every setting against the values MS-ASPROV allows and
// reports all that are not, each naming the element and its range.
func (s Settings) Validate() error {
	var errs []error
	for _, e := range elements {
		if err := e.check(s); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Change is one setting that differs between two versions of a policy.
type Change struct {
	Element string `json:"element"`
	Old     string `json:"old"`
	New     string `json:"new"`
}

// Diff lists the settings that differ from old to new, in element order.
func Diff(old, new Settings) []Change {
	var out []Change
	for _, e := range elements {
		o, n := e.Format(old), e.Format(new)
		if o != n {
			out = append(out, Change{Element: e.Name, Old: o, New: n})
		}
	}
	return out
}
