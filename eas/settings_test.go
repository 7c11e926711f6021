package eas_test

import (
	"context"
	"strings"
	"testing"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/policy"
	"github.com/easd/easd/internal/easdtest"
)

func TestSettingsDeviceInformation(t *testing.T) {
	env := easdtest.Start(t)
	ctx := context.Background()
	c := env.Client("alice", "phone")

	// Allowed before provisioning: a device describes itself first.
	r, err := c.SetDeviceInformation(ctx, message.DeviceInformationSet{Model: "iPhone16,1", IMEI: "3569",
		FriendlyName: "Alice's iPhone", OS: "iOS 18.2", OSLanguage: "de", PhoneNumber: "+4930", UserAgent: "Apple-iPhone/2201",
		MobileOperator: "Telekom"})
	if err != nil || r.Status != 1 || r.DeviceInformation == nil || r.DeviceInformation.Status != 1 {
		t.Fatalf("DeviceInformation Set: %+v, %v", r, err)
	}
	d := getDevice(t, env, "alice", "phone")
	if d.Model != "iPhone16,1" || d.IMEI != "3569" || d.FriendlyName != "Alice's iPhone" || d.OS != "iOS 18.2" ||
		d.OSLanguage != "de" || d.PhoneNumber != "+4930" || d.Info.UserAgent != "Apple-iPhone/2201" || d.MobileOperator != "Telekom" {
		t.Fatalf("stored: %+v", d.Info)
	}

	// A DeviceInformation without Set is a protocol error of that part only.
	r, err = c.Settings(ctx, &message.SettingsRequest{DeviceInformation: &message.DeviceInformation{},
		UserInformation: &message.GetRequest{Get: true}})
	if err != nil || r.Status != 1 || r.DeviceInformation.Status != 2 || r.UserInformation.Status != 1 {
		t.Fatalf("DeviceInformation without Set: %+v, %v", r, err)
	}
	if getDevice(t, env, "alice", "phone").Model != "iPhone16,1" {
		t.Fatal("a bad part changed the device")
	}
}

func TestSettingsUserInformation(t *testing.T) {
	env := easdtest.Start(t)
	ctx := context.Background()

	r, err := env.Client("alice", "new").UserInformation(ctx)
	if err != nil || r.UserInformation == nil || r.UserInformation.Status != 1 || r.UserInformation.Get.Accounts == nil {
		t.Fatalf("16.1 UserInformation: %+v, %v", r, err)
	}
	acc := r.UserInformation.Get.Accounts.Account
	if len(acc) != 1 || acc[0].EmailAddresses == nil || acc[0].EmailAddresses.PrimarySmtpAddress != "alice@example.test" {
		t.Fatalf("16.1 accounts: %+v", acc)
	}

	old := env.Client("bob", "old")
	old.Version = "14.0"
	r, err = old.UserInformation(ctx)
	if err != nil || r.UserInformation.Get.EmailAddresses == nil ||
		len(r.UserInformation.Get.EmailAddresses.SmtpAddress) != 1 || r.UserInformation.Get.EmailAddresses.SmtpAddress[0] != "bob@example.test" {
		t.Fatalf("14.0 UserInformation: %+v, %v", r, err)
	}
}

func TestSettingsOof(t *testing.T) {
	env := easdtest.Start(t)
	ctx := context.Background()
	c := env.Client("alice", "phone")

	// Never set: off, every audience present and disabled.
	r, err := c.GetOof(ctx, "Text")
	if err != nil || r.Oof == nil || r.Oof.Status != 1 || r.Oof.Get == nil || *r.Oof.Get.OofState != 0 || len(r.Oof.Get.OofMessage) != 3 {
		t.Fatalf("initial Oof: %+v, %v", r, err)
	}

	set := message.Oof{OofState: new(2), StartTime: "2030-07-01T08:00:00.000Z", EndTime: "2030-07-15T18:00:00.000Z",
		OofMessage: []message.OofMessage{
			{AppliesToInternal: true, Enabled: true, ReplyMessage: "On holiday.\nBack on the 16th.", BodyType: "Text"},
			{AppliesToExternalUnknown: true, Enabled: true, ReplyMessage: "<p>Away &amp; offline</p>", BodyType: "HTML"},
		}}
	if r, err = c.SetOof(ctx, set); err != nil || r.Oof == nil || r.Oof.Status != 1 {
		t.Fatalf("Oof Set: %+v, %v", r, err)
	}
	r, err = c.GetOof(ctx, "Text")
	if err != nil {
		t.Fatal(err)
	}
	g := r.Oof.Get
	if *g.OofState != 2 || g.StartTime != set.StartTime || g.EndTime != set.EndTime || len(g.OofMessage) != 3 {
		t.Fatalf("Oof Get: %+v", g)
	}
	byAudience := map[string]message.OofMessage{}
	for _, m := range g.OofMessage {
		switch {
		case m.AppliesToInternal:
			byAudience["internal"] = m
		case m.AppliesToExternalKnown:
			byAudience["known"] = m
		case m.AppliesToExternalUnknown:
			byAudience["unknown"] = m
		}
	}
	if m := byAudience["internal"]; !m.Enabled || m.ReplyMessage != "On holiday.\nBack on the 16th." || m.BodyType != "Text" {
		t.Errorf("internal: %+v", m)
	}
	if m := byAudience["unknown"]; !m.Enabled || m.ReplyMessage != "Away & offline" || m.BodyType != "Text" {
		t.Errorf("external unknown as text: %+v", m)
	}
	if m := byAudience["known"]; m.Enabled {
		t.Errorf("external known: %+v", m)
	}
	// Asked as HTML, a text reply is converted.
	r, err = c.GetOof(ctx, "HTML")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range r.Oof.Get.OofMessage {
		if m.AppliesToInternal && (m.BodyType != "HTML" || m.ReplyMessage != "On holiday.<br>Back on the 16th.") {
			t.Errorf("internal as HTML: %+v", m)
		}
	}

	// Invalid Sets: an end before the start (6), a time-based state
	// without times (5), a message for two audiences (5). Nothing changes.
	bad := []message.Oof{
		{OofState: new(2), StartTime: "2030-07-15T00:00:00.000Z", EndTime: "2030-07-01T00:00:00.000Z"},
		{OofState: new(2)},
		{OofMessage: []message.OofMessage{{AppliesToInternal: true, AppliesToExternalKnown: true, Enabled: true}}},
		{OofState: new(7)},
	}
	want := []int{6, 5, 5, 5}
	for i, b := range bad {
		r, err := c.SetOof(ctx, b)
		if err != nil || r.Status != 1 || r.Oof.Status != want[i] {
			t.Errorf("bad Set %d: %+v, %v", i, r, err)
		}
	}
	// Switching off keeps the messages; another device of the user sees it.
	if r, err = c.SetOof(ctx, message.Oof{OofState: new(0)}); err != nil || r.Oof.Status != 1 {
		t.Fatalf("Oof off: %+v, %v", r, err)
	}
	r, err = env.Client("alice", "tablet").GetOof(ctx, "Text")
	if err != nil || *r.Oof.Get.OofState != 0 || r.Oof.Get.StartTime != "" {
		t.Fatalf("Oof after off: %+v, %v", r, err)
	}
	for _, m := range r.Oof.Get.OofMessage {
		if m.AppliesToInternal && m.ReplyMessage != "On holiday.\nBack on the 16th." {
			t.Errorf("message lost: %+v", m)
		}
	}
	// Another user's settings are separate.
	r, err = env.Client("bob", "phone").GetOof(ctx, "Text")
	if err != nil || *r.Oof.Get.OofState != 0 || r.Oof.Get.OofMessage[0].ReplyMessage != "" {
		t.Fatalf("bob's Oof: %+v, %v", r, err)
	}
}

func TestSettingsDevicePassword(t *testing.T) {
	env := easdtest.Start(t)
	ctx := context.Background()
	c := env.Client("alice", "phone")
	set := func(pw string) int {
		t.Helper()
		r, err := c.Settings(ctx, &message.SettingsRequest{
			DevicePassword: &message.DevicePasswordRequest{Set: &message.DevicePasswordSet{Password: pw}}})
		if err != nil || r.Status != 1 || r.DevicePassword == nil {
			t.Fatalf("DevicePassword Set: %+v, %v", r, err)
		}
		return r.DevicePassword.Status
	}
	recorded := func() bool {
		t.Helper()
		var at *string
		if err := env.App.Pool.QueryRow(ctx, `SELECT recovery_password_at::text FROM devices WHERE device_id = 'phone'`).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at != nil
	}

	// The default policy does not enable password recovery: the device
	// was told the server keeps no recovery password, so a Set is denied
	// by policy (7), not acknowledged and dropped.
	if st := set("hunter2"); st != 7 || recorded() {
		t.Fatalf("recovery disabled: status %d, recorded %v", st, recorded())
	}

	pols := policy.NewStore(env.App.Pool)
	def, err := pols.Default(ctx)
	if err != nil {
		t.Fatal(err)
	}
	def.Settings.PasswordRecoveryEnabled = true
	if _, err := pols.UpdateDefault(ctx, def.AllowNonProvisionable, def.Settings); err != nil {
		t.Fatal(err)
	}
	if st := set("hunter2"); st != 1 || !recorded() {
		t.Fatalf("recovery enabled: status %d, recorded %v", st, recorded())
	}
	// At most 255 characters (MS-ASCMD 2.2.3.132.3): longer is invalid.
	if st := set(strings.Repeat("ü", 256)); st != 5 {
		t.Fatalf("256 characters: status %d", st)
	}
	if st := set(strings.Repeat("ü", 255)); st != 1 {
		t.Fatalf("255 characters: status %d", st)
	}
	// An empty Password clears the stored one.
	if st := set(""); st != 1 || recorded() {
		t.Fatalf("clear: status %d, recorded %v", st, recorded())
	}
	// DevicePassword without Set is a protocol error of that part.
	r, err := c.Settings(ctx, &message.SettingsRequest{DevicePassword: &message.DevicePasswordRequest{}})
	if err != nil || r.Status != 1 || r.DevicePassword.Status != 2 {
		t.Fatalf("without Set: %+v, %v", r, err)
	}
	// The password never reaches the log.
	if logs := env.Logs(); strings.Contains(logs, "hunter2") || strings.Contains(logs, "üüü") {
		t.Fatal("recovery password logged")
	}
}

func TestSettingsRightsManagement(t *testing.T) {
	env := easdtest.Start(t)
	ctx := context.Background()

	// 14.1 and later: an empty but present template list.
	for _, v := range []string{"14.1", "16.1"} {
		c := env.Client("alice", "phone"+v)
		c.Version = v
		r, err := c.Settings(ctx, &message.SettingsRequest{RightsManagementInformation: &message.GetRequest{Get: true}})
		if err != nil || r.Status != 1 || r.RightsManagementInformation == nil || r.RightsManagementInformation.Status != 1 ||
			r.RightsManagementInformation.Get == nil || r.RightsManagementInformation.Get.Templates == nil ||
			len(r.RightsManagementInformation.Get.Templates.Template) != 0 {
			t.Fatalf("%s: %+v, %v", v, r, err)
		}
	}
	// Below 14.1 the element does not exist: a protocol error for that
	// part, and the other parts are answered.
	for _, v := range []string{"12.1", "14.0"} {
		c := env.Client("alice", "old"+v)
		c.Version = v
		r, err := c.Settings(ctx, &message.SettingsRequest{RightsManagementInformation: &message.GetRequest{Get: true},
			UserInformation: &message.GetRequest{Get: true}})
		if err != nil || r.Status != 1 || r.RightsManagementInformation == nil || r.RightsManagementInformation.Status != 2 ||
			r.RightsManagementInformation.Get != nil || r.UserInformation == nil || r.UserInformation.Status != 1 {
			t.Fatalf("%s: %+v, %v", v, r, err)
		}
	}
	// Without Get: a protocol error.
	r, err := env.Client("alice", "phone").Settings(ctx, &message.SettingsRequest{RightsManagementInformation: &message.GetRequest{}})
	if err != nil || r.RightsManagementInformation.Status != 2 || r.RightsManagementInformation.Get != nil {
		t.Fatalf("without Get: %+v, %v", r, err)
	}
}

// All the user's addresses: the primary and the login's own when it is
// another one.
func TestSettingsUserInformationAddresses(t *testing.T) {
	env := easdtest.Start(t)
	ctx := context.Background()
	c := env.Client("alice", "phone")
	if _, err := c.UserInformation(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Pool.Exec(ctx, `UPDATE users SET email = 'alice.smith@example.test' WHERE login = 'alice'`); err != nil {
		t.Fatal(err)
	}
	want := []string{"alice.smith@example.test", "alice@example.test"}
	sameList := func(got []string) bool { return strings.Join(got, ",") == strings.Join(want, ",") }

	r, err := c.UserInformation(ctx)
	if err != nil || r.UserInformation == nil || r.UserInformation.Get == nil || r.UserInformation.Get.Accounts == nil ||
		len(r.UserInformation.Get.Accounts.Account) != 1 {
		t.Fatalf("16.1: %+v, %v", r, err)
	}
	acc := r.UserInformation.Get.Accounts.Account[0]
	if acc.UserDisplayName != "alice" || acc.SendDisabled || acc.EmailAddresses == nil ||
		acc.EmailAddresses.PrimarySmtpAddress != "alice.smith@example.test" || !sameList(acc.EmailAddresses.SmtpAddress) ||
		r.UserInformation.Get.EmailAddresses != nil {
		t.Fatalf("16.1 account: %+v", acc)
	}

	for _, v := range []string{"12.1", "14.0"} {
		old := env.Client("alice", "old"+v)
		old.Version = v
		r, err := old.UserInformation(ctx)
		if err != nil || r.UserInformation.Get.EmailAddresses == nil || r.UserInformation.Get.Accounts != nil ||
			!sameList(r.UserInformation.Get.EmailAddresses.SmtpAddress) || r.UserInformation.Get.EmailAddresses.PrimarySmtpAddress != "" {
			t.Fatalf("%s: %+v, %v", v, r, err)
		}
	}

	// UserInformation without Get is a protocol error of that part.
	r, err = c.Settings(ctx, &message.SettingsRequest{UserInformation: &message.GetRequest{}})
	if err != nil || r.Status != 1 || r.UserInformation.Status != 2 || r.UserInformation.Get != nil {
		t.Fatalf("without Get: %+v, %v", r, err)
	}
}
