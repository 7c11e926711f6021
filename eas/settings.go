package eas

import (
	"errors"
	"fmt"
	"html"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/eas/policy"
)

func init() {
	addCommand("Settings", &commandSpec{root: "Settings:Settings", run: settings, beforeProvision: true, minVersion: 120})
}

// Settings statuses (MS-ASCMD 2.2.3.177.15), overall and per part.
const (
	settingsProtocolError      = 2
	settingsInvalidArguments   = 5
	settingsConflictingArgumts = 6
	settingsDeniedByPolicy     = 7
)

// maxRecoveryPassword is the longest recovery password MS-ASCMD allows
// (2.2.3.132.3), in characters.
const maxRecoveryPassword = 255

// settings answers each part of a Settings request (MS-ASCMD 2.2.1.18)
// with its own Status; a part that fails does not fail the others.
func settings(k *call) error {
	var req message.SettingsRequest
	empty, err := k.decode(&req)
	if err != nil {
		return err
	}
	if empty {
		return statusErr(settingsProtocolError, "Settings without body")
	}
	resp := &message.SettingsResponse{Status: int(StatusOK)}
	if req.RightsManagementInformation != nil {
		resp.RightsManagementInformation = k.rightsManagement(req.RightsManagementInformation)
	}
	if req.Oof != nil {
		if resp.Oof, err = k.oof(req.Oof); err != nil {
			return err
		}
	}
	if req.DevicePassword != nil {
		st, err := k.devicePassword(req.DevicePassword)
		if err != nil {
			return err
		}
		resp.DevicePassword = &message.SettingsStatus{Status: st}
	}
	if req.DeviceInformation != nil {
		st := settingsProtocolError
		if set := req.DeviceInformation.Set; set != nil {
			if err := k.s.devices.SetInfo(k.ctx(), k.dev.ID, deviceInfo(set)); err != nil {
				return err
			}
			st = int(StatusOK)
		}
		resp.DeviceInformation = &message.SettingsStatus{Status: st}
	}
	if req.UserInformation != nil {
		if !req.UserInformation.Get {
			// Get is the only operation UserInformation has (MS-ASCMD
			// 2.2.3.192).
			k.note(settingsProtocolError, "UserInformation without Get")
			resp.UserInformation = &message.UserInformationResponse{Status: settingsProtocolError}
		} else {
			info, err := k.userInformation()
			if err != nil {
				return err
			}
			resp.UserInformation = &message.UserInformationResponse{Status: int(StatusOK), Get: info}
		}
	}
	return k.respond(resp)
}

// rightsManagement answers RightsManagementInformation Get. easd has no
// rights management, so the template list is empty, but present: 14.1+
// clients expect the RightsManagementTemplates container. The element
// exists from 14.1 on only (MS-ASCMD 2.2.3.156); an older client that
// sends it gets a protocol error for that part, as for any element its
// version does not define.
func (k *call) rightsManagement(req *message.GetRequest) *message.RightsManagementInformation {
	switch {
	case k.version < 141:
		k.note(settingsProtocolError, "RightsManagementInformation below 14.1")
		return &message.RightsManagementInformation{Status: settingsProtocolError}
	case !req.Get:
		k.note(settingsProtocolError, "RightsManagementInformation without Get")
		return &message.RightsManagementInformation{Status: settingsProtocolError}
	}
	return &message.RightsManagementInformation{Status: int(StatusOK),
		Get: &message.RightsManagementGet{Templates: &message.RightsManagementTemplates{}}}
}

// devicePassword takes the device's recovery password (MS-ASCMD 2.2.3.46):
// a password that unlocks the device once, kept by the server for when
// the user forgets the device's own. The device's policy says whether the
// server keeps one (MS-ASPROV PasswordRecoveryEnabled); when it does not,
// the Set is denied by policy rather than acknowledged and dropped. Only
// the time of the last Set is recorded, never the password nor its length
// in a log line; an empty Password clears it, as the spec defines.
func (k *call) devicePassword(req *message.DevicePasswordRequest) (int, error) {
	if req.Set == nil {
		k.note(settingsProtocolError, "DevicePassword without Set")
		return settingsProtocolError, nil
	}
	if utf8.RuneCountInString(req.Set.Password) > maxRecoveryPassword {
		k.note(settingsInvalidArguments, "recovery password longer than 255 characters")
		return settingsInvalidArguments, nil
	}
	if req.Set.Password == "" {
		_, err := k.s.opts.Pool.Exec(k.ctx(), `UPDATE devices SET recovery_password_at = NULL WHERE id = $1`, k.dev.ID)
		if err != nil {
			return 0, fmt.Errorf("device: recovery password: %w", err)
		}
		return int(StatusOK), nil
	}
	pol, err := policy.NewStore(k.s.opts.Pool).ForDevice(k.ctx(), k.dev.ID)
	if err != nil {
		return 0, err
	}
	if !pol.Settings.PasswordRecoveryEnabled {
		k.note(settingsDeniedByPolicy, "recovery password: the device's policy does not enable password recovery")
		return settingsDeniedByPolicy, nil
	}
	if err := k.s.devices.RecordRecoveryPassword(k.ctx(), k.dev.ID); err != nil {
		return 0, err
	}
	return int(StatusOK), nil
}

// userInformation lists the user's addresses. The primary one is the
// address recorded for the user, else the login when it is an address,
// else login@domain (userAddress). The login's own address, when it is
// another one (a user known by a short name at the mail domain, or who
// signs in with an alias), is listed too: mail to it reaches the same
// mailbox. Before 14.1 the list is EmailAddresses; from 14.1 on it is the
// one Account, with the display name and the primary address named.
func (k *call) userInformation() (*message.UserInformation, error) {
	addrs, err := k.userAddresses()
	if err != nil {
		return nil, err
	}
	email, login := addrs[0], k.creds.Login
	if k.version < 141 {
		return &message.UserInformation{EmailAddresses: &message.EmailAddresses{SmtpAddress: addrs}}, nil
	}
	// easd has no directory to take a display name from; the login's
	// local part is what the user recognises as theirs.
	name, _, _ := strings.Cut(login, "@")
	return &message.UserInformation{Accounts: &message.Accounts{Account: []message.Account{{
		UserDisplayName: name,
		EmailAddresses:  &message.EmailAddresses{SmtpAddress: addrs, PrimarySmtpAddress: email},
	}}}}, nil
}

// settingsServerUnavailable: the service a part needs did not answer
// (MS-ASCMD 2.2.3.177.15).
const settingsServerUnavailable = 4

// userAddresses lists the user's addresses, the primary one first (see
// userInformation).
func (k *call) userAddresses() ([]string, error) {
	email, err := k.userAddress()
	if err != nil {
		return nil, err
	}
	addrs := []string{email}
	loginAddr := k.creds.Login
	if !strings.Contains(loginAddr, "@") && k.s.opts.Domain != "" {
		loginAddr += "@" + k.s.opts.Domain
	}
	if strings.Contains(loginAddr, "@") && !strings.EqualFold(loginAddr, email) {
		addrs = append(addrs, loginAddr)
	}
	return addrs, nil
}

// oof gets or sets the user's out-of-office settings, which live on the
// mail server as a Sieve vacation script (package oof): the replies go
// out while no phone is connected. A Set that could not be applied there
// is answered with a failure status, never Status 1.
func (k *call) oof(req *message.OofRequest) (*message.OofResponse, error) {
	switch {
	case req.Set != nil:
		st, why := validateOof(req.Set)
		if st != int(StatusOK) {
			k.note(st, "Oof Set: "+why)
			return &message.OofResponse{Status: st}, nil
		}
		if k.s.opts.Oof == nil {
			k.note(settingsServerUnavailable, "Oof Set: out-of-office is off (--managesieve=off)")
			return &message.OofResponse{Status: settingsServerUnavailable}, nil
		}
		acct, err := k.oofAccount()
		if err != nil {
			return nil, err
		}
		if acct.Known, err = k.oofKnown(); err != nil {
			return nil, err
		}
		set := *req.Set
		if set.OofState != nil && *set.OofState == 2 {
			// The store reads times in one form: RFC 3339 in UTC.
			start, _ := parseOofTime(set.StartTime)
			end, _ := parseOofTime(set.EndTime)
			set.StartTime, set.EndTime = formatOofTime(start), formatOofTime(end)
		}
		if st := k.oofStatus("Oof Set", k.s.opts.Oof.SetOof(k.ctx(), acct, &set)); st != int(StatusOK) {
			return &message.OofResponse{Status: st}, nil
		}
		return &message.OofResponse{Status: int(StatusOK)}, nil
	case req.Get != nil:
		if k.s.opts.Oof == nil {
			// Nothing is in force: off.
			off := settingsOff()
			return &message.OofResponse{Status: int(StatusOK), Get: convertOof(off, req.Get.BodyType)}, nil
		}
		acct, err := k.oofAccount()
		if err != nil {
			return nil, err
		}
		rep, err := k.s.opts.Oof.GetOof(k.ctx(), acct)
		if st := k.oofStatus("Oof Get", err); st != int(StatusOK) {
			return &message.OofResponse{Status: st}, nil
		}
		if rep.Foreign != "" {
			k.log.Info("Oof Get: the active Sieve script is the user's own, not easd's; its vacation rule is reported as on for everyone",
				"script", rep.Foreign)
		}
		return &message.OofResponse{Status: int(StatusOK), Get: convertOof(rep.Oof, req.Get.BodyType)}, nil
	}
	k.note(settingsProtocolError, "Oof without Get or Set")
	return &message.OofResponse{Status: settingsProtocolError}, nil
}

// oofStatus turns the out-of-office store's error into the part's status
// (with a log line); errors it does not know are the server's own.
func (k *call) oofStatus(op string, err error) int {
	switch {
	case err == nil:
		return int(StatusOK)
	case errors.Is(err, model.ErrOofConflict):
		k.note(settingsConflictingArgumts, op+": "+err.Error())
		return settingsConflictingArgumts
	default:
		k.note(settingsServerUnavailable, op+": "+err.Error())
		return settingsServerUnavailable
	}
}

// oofAccount is what the out-of-office store needs of the user: the
// request's mail server credentials, the addresses UserInformation lists
// and their domains (a sender in one is internal).
func (k *call) oofAccount() (model.OofAccount, error) {
	addrs, err := k.userAddresses()
	if err != nil {
		return model.OofAccount{}, err
	}
	var domains []string
	if k.s.opts.Domain != "" {
		domains = append(domains, strings.ToLower(k.s.opts.Domain))
	}
	for _, a := range addrs {
		if _, d, ok := strings.Cut(a, "@"); ok && !slices.Contains(domains, strings.ToLower(d)) {
			domains = append(domains, strings.ToLower(d))
		}
	}
	return model.OofAccount{Login: k.creds.Login, Password: k.creds.Password, Addresses: addrs, Domains: domains}, nil
}

// maxOofKnown bounds the contacts' addresses written into the Sieve
// script (about 30 bytes each, twice: Pigeonhole's default script limit
// is 1 MB). Contacts beyond it are answered as strangers.
const maxOofKnown = 5000

// oofKnown lists the addresses of the user's contacts, nil when the
// contacts store cannot list them. They are taken at each Set: a contact
// added later counts as a stranger until the next Set.
func (k *call) oofKnown() ([]string, error) {
	ca, ok := k.s.opts.Contacts.(model.ContactAddresser)
	if !ok {
		return nil, nil
	}
	return ca.ContactAddresses(k.ctx(), k.dev.UserID, maxOofKnown)
}

// settingsOff is the Get answer when nothing is in force.
func settingsOff() *message.Oof {
	o := &message.Oof{OofState: new(0)}
	o.OofMessage = []message.OofMessage{{AppliesToInternal: true}, {AppliesToExternalKnown: true}, {AppliesToExternalUnknown: true}}
	return o
}

// convertOof turns every reply into the body type the client asked for.
func convertOof(o *message.Oof, bodyType string) *message.Oof {
	for i, m := range o.OofMessage {
		o.OofMessage[i].ReplyMessage, o.OofMessage[i].BodyType = convertBody(m.ReplyMessage, m.BodyType, bodyType)
	}
	return o
}

// validateOof checks an Oof Set: a known state, both times for the
// time-based state and the end after the start, one audience per message,
// known body types.
func validateOof(o *message.Oof) (int, string) {
	if o.OofState != nil {
		switch *o.OofState {
		case 0, 1:
		case 2:
			start, err1 := parseOofTime(o.StartTime)
			end, err2 := parseOofTime(o.EndTime)
			if err1 != nil || err2 != nil {
				return settingsInvalidArguments, "time-based OofState needs StartTime and EndTime"
			}
			if !end.After(start) {
				return settingsConflictingArgumts, "EndTime is not after StartTime"
			}
		default:
			return settingsInvalidArguments, fmt.Sprintf("OofState %d", *o.OofState)
		}
	}
	for _, m := range o.OofMessage {
		if err := audience(m); err != nil {
			return settingsInvalidArguments, err.Error()
		}
		if m.BodyType != "" && !strings.EqualFold(m.BodyType, "Text") && !strings.EqualFold(m.BodyType, "HTML") {
			return settingsInvalidArguments, "BodyType " + m.BodyType
		}
	}
	return int(StatusOK), ""
}

// Oof times are xs:dateTime in UTC, as MS-ASCMD's examples write them.
var oofTimeLayouts = []string{"2006-01-02T15:04:05.000Z", time.RFC3339Nano, "2006-01-02T15:04:05"}

func parseOofTime(s string) (time.Time, error) {
	for _, l := range oofTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q", s)
}

func formatOofTime(t time.Time) string { return t.UTC().Format(oofTimeLayouts[0]) }

// audience checks that an Oof message names exactly one audience.
func audience(m message.OofMessage) error {
	n := 0
	for _, b := range []bool{m.AppliesToInternal, m.AppliesToExternalKnown, m.AppliesToExternalUnknown} {
		if b {
			n++
		}
	}
	if n != 1 {
		return errors.New("OofMessage must name exactly one audience")
	}
	return nil
}

var htmlTag = regexp.MustCompile(`(?s)<[^>]*>`)
var htmlBreak = regexp.MustCompile(`(?i)<br\s*/?>|</p>`)

// convertBody turns a reply into the body type the client asked for.
// Replies are short notes: a plain conversion is enough.
func convertBody(body, from, to string) (string, string) {
	if from == "" {
		from = "Text"
	}
	switch {
	case to == "" || strings.EqualFold(from, to):
		return body, from
	case strings.EqualFold(to, "HTML"):
		return strings.ReplaceAll(html.EscapeString(body), "\n", "<br>"), "HTML"
	default:
		text := htmlBreak.ReplaceAllString(body, "\n")
		return strings.TrimSpace(html.UnescapeString(htmlTag.ReplaceAllString(text, ""))), "Text"
	}
}
