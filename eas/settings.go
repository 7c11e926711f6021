package eas

import (
	"context"
	"errors"
	"fmt"
	"html"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/eas/message"
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
	email, err := k.userAddress()
	if err != nil {
		return nil, err
	}
	login := k.creds.Login
	addrs := []string{email}
	loginAddr := login
	if !strings.Contains(loginAddr, "@") && k.s.opts.Domain != "" {
		loginAddr += "@" + k.s.opts.Domain
	}
	if strings.Contains(loginAddr, "@") && !strings.EqualFold(loginAddr, email) {
		addrs = append(addrs, loginAddr)
	}
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

// oof gets or sets the user's out-of-office settings.
func (k *call) oof(req *message.OofRequest) (*message.OofResponse, error) {
	store := oofStore{k}
	switch {
	case req.Set != nil:
		st, why := validateOof(req.Set)
		if st != int(StatusOK) {
			k.note(st, "Oof Set: "+why)
			return &message.OofResponse{Status: st}, nil
		}
		if err := store.set(k.ctx(), req.Set); err != nil {
			return nil, err
		}
		return &message.OofResponse{Status: int(StatusOK)}, nil
	case req.Get != nil:
		o, err := store.get(k.ctx(), req.Get.BodyType)
		if err != nil {
			return nil, err
		}
		return &message.OofResponse{Status: int(StatusOK), Get: o}, nil
	}
	k.note(settingsProtocolError, "Oof without Get or Set")
	return &message.OofResponse{Status: settingsProtocolError}, nil
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
		if _, err := audience(m); err != nil {
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

// Audiences of out-of-office replies, as stored.
var audiences = []string{"internal", "external_known", "external_unknown"}

func audience(m message.OofMessage) (string, error) {
	var out []string
	if m.AppliesToInternal {
		out = append(out, audiences[0])
	}
	if m.AppliesToExternalKnown {
		out = append(out, audiences[1])
	}
	if m.AppliesToExternalUnknown {
		out = append(out, audiences[2])
	}
	if len(out) != 1 {
		return "", errors.New("OofMessage must name exactly one audience")
	}
	return out[0], nil
}

// oofStore keeps out-of-office settings in PostgreSQL (tables oof_settings
// and oof_messages) for the call's user.
type oofStore struct{ k *call }

// set applies an Oof Set: the state and times when given, and each
// message given; messages not named keep their values.
func (s oofStore) set(ctx context.Context, o *message.Oof) error {
	tx, err := s.k.s.opts.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("oof: %w", err)
	}
	defer tx.Rollback(ctx)
	userID := s.k.dev.UserID
	if _, err := tx.Exec(ctx, `INSERT INTO oof_settings (user_id) VALUES ($1) ON CONFLICT DO NOTHING`, userID); err != nil {
		return fmt.Errorf("oof: %w", err)
	}
	if o.OofState != nil {
		var start, end *time.Time
		if *o.OofState == 2 {
			st, _ := parseOofTime(o.StartTime)
			en, _ := parseOofTime(o.EndTime)
			start, end = &st, &en
		}
		_, err := tx.Exec(ctx, `UPDATE oof_settings SET state = $2, start_time = $3, end_time = $4, updated_at = now()
			WHERE user_id = $1`, userID, *o.OofState, start, end)
		if err != nil {
			return fmt.Errorf("oof: %w", err)
		}
	}
	for _, m := range o.OofMessage {
		aud, _ := audience(m)
		bodyType := "Text"
		if strings.EqualFold(m.BodyType, "HTML") {
			bodyType = "HTML"
		}
		_, err := tx.Exec(ctx, `INSERT INTO oof_messages (user_id, audience, enabled, body_type, reply)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, audience) DO UPDATE
			SET enabled = EXCLUDED.enabled, body_type = EXCLUDED.body_type, reply = EXCLUDED.reply`,
			userID, aud, m.Enabled, bodyType, m.ReplyMessage)
		if err != nil {
			return fmt.Errorf("oof: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("oof: %w", err)
	}
	return nil
}

// get returns the settings with each reply in bodyType (Text or HTML; ""
// leaves them as stored). A user who never set any is "off".
func (s oofStore) get(ctx context.Context, bodyType string) (*message.Oof, error) {
	userID := s.k.dev.UserID
	var state int
	var start, end *time.Time
	err := s.k.s.opts.Pool.QueryRow(ctx, `SELECT state, start_time, end_time FROM oof_settings WHERE user_id = $1`,
		userID).Scan(&state, &start, &end)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("oof: %w", err)
	}
	o := &message.Oof{OofState: &state}
	if state == 2 && start != nil && end != nil {
		o.StartTime, o.EndTime = formatOofTime(*start), formatOofTime(*end)
	}
	stored := map[string]message.OofMessage{}
	rows, err := s.k.s.opts.Pool.Query(ctx, `SELECT audience, enabled, body_type, reply FROM oof_messages WHERE user_id = $1`, userID)
	if err != nil {
		return nil, fmt.Errorf("oof: %w", err)
	}
	for rows.Next() {
		var aud string
		var m message.OofMessage
		if err := rows.Scan(&aud, &m.Enabled, &m.BodyType, &m.ReplyMessage); err != nil {
			rows.Close()
			return nil, fmt.Errorf("oof: %w", err)
		}
		stored[aud] = m
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("oof: %w", err)
	}
	// Every audience is answered, so a client shows all three.
	for i, aud := range audiences {
		m := stored[aud]
		m.AppliesToInternal, m.AppliesToExternalKnown, m.AppliesToExternalUnknown = i == 0, i == 1, i == 2
		m.ReplyMessage, m.BodyType = convertBody(m.ReplyMessage, m.BodyType, bodyType)
		o.OofMessage = append(o.OofMessage, m)
	}
	return o, nil
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
