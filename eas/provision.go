package eas

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/policy"
	"github.com/easd/easd/internal/httpserver"
)

func init() {
	addCommand("Provision", &commandSpec{root: "Provision:Provision", run: provision, beforeProvision: true})
}

// Provision statuses (MS-ASPROV 2.2.2.54).
const (
	provisionProtocolError Status = 2 // Provision Status
	statusCannotComply     Status = 139

	policyOK          = 1 // Policy Status
	policyUnknownType = 3
	policyWrongKey    = 5
)

// provision hands out the device's policy in two phases (MS-ASPROV 3.2.5):
// phase 1 answers a PolicyType with the policy and a temporary key, phase 2
// confirms the key the device acknowledges, which then is its policy key.
// A device due a remote wipe gets the wipe directive instead and
// acknowledges it here.
//
// Phones re-send requests whose answer they lost, so both phases are
// idempotent: a repeated phase 1 gets the same temporary key while the
// policy is unchanged, and a repeated phase 2 for the key already confirmed
// is answered as the first one was. The temporary key becomes the final
// key, which is what makes the second possible without more state.
func provision(k *call) error {
	var req message.ProvisionRequest
	empty, err := k.decode(&req)
	if err != nil {
		return err
	}
	if empty {
		return statusErr(provisionProtocolError, "Provision without body")
	}
	if req.RemoteWipe != nil || req.AccountOnlyRemoteWipe != nil {
		return k.wipeAck(&req)
	}
	if full, account := wipeDue(k.dev); full || account {
		// Spec: the device asks with an empty Provision after Status 140,
		// but any Provision of a device due a wipe gets the directive.
		return k.sendProvision(provisionAnswer{status: 1, remoteWipe: full, accountWipe: account})
	}

	var devInfo *message.DeviceInformationStatus
	if di := req.DeviceInformation; di != nil && di.Set != nil {
		if err := k.s.devices.SetInfo(k.ctx(), k.dev.ID, deviceInfo(di.Set)); err != nil {
			return err
		}
		devInfo = &message.DeviceInformationStatus{Status: int(StatusOK)}
	}
	if req.Policies == nil {
		return statusErr(provisionProtocolError, "Provision without Policies")
	}
	asked := req.Policies.Policy
	want := policyType(k.version)
	if asked.PolicyType != want {
		k.note(policyUnknownType, "policy type "+strconv.Quote(asked.PolicyType)+", want "+want)
		return k.sendProvision(provisionAnswer{status: 1, devInfo: devInfo, policyStatus: policyUnknownType})
	}
	pol, err := policy.NewStore(k.s.opts.Pool).ForDevice(k.ctx(), k.dev.ID)
	if err != nil {
		return err
	}
	if asked.PolicyKey == "" && asked.Status == 0 {
		return k.sendPolicy(pol, devInfo)
	}
	return k.acknowledgePolicy(pol, asked, devInfo)
}

// sendPolicy is phase 1: the policy and a temporary key. The device's
// current key stays valid until the new one is acknowledged.
func (k *call) sendPolicy(pol *policy.Policy, devInfo *message.DeviceInformationStatus) error {
	d := k.dev
	key := d.PendingPolicyKey
	if key == 0 || d.PendingPolicyGeneration != pol.Generation {
		key = newPolicyKey()
		if err := k.s.devices.SetPendingPolicy(k.ctx(), d.ID, key, pol.Generation); err != nil {
			return err
		}
	}
	return k.sendProvision(provisionAnswer{status: 1, devInfo: devInfo, policyStatus: policyOK, key: key, policy: pol})
}

// acknowledgePolicy is phase 2. A device that applied the policy only
// partly (Status 2), not at all (3) or says it is managed by another
// system (4) may sync when its policy allows non-provisionable devices (the
// Exchange setting of that name), with a warning in the log; otherwise it
// is refused with Status 139 and stays unprovisioned, so it can ask again
// once it complies.
func (k *call) acknowledgePolicy(pol *policy.Policy, ack message.PolicyRequest, devInfo *message.DeviceInformationStatus) error {
	d := k.dev
	n, perr := strconv.ParseUint(ack.PolicyKey, 10, 32)
	key := uint32(n)
	switch {
	case perr != nil || key == 0:
		return k.wrongPolicyKey(ack.PolicyKey, devInfo)
	case key == d.PolicyKey && key != d.PendingPolicyKey:
		// A re-sent acknowledgement of the key already confirmed.
		return k.sendProvision(provisionAnswer{status: 1, devInfo: devInfo, policyStatus: policyOK, key: key})
	case key != d.PendingPolicyKey:
		return k.wrongPolicyKey(ack.PolicyKey, devInfo)
	}
	switch ack.Status {
	case 0, 1: // Status is optional in the acknowledgement
	case 2, 3, 4:
		if !pol.AllowNonProvisionable {
			return k.cannotComply(ack.Status)
		}
		k.log.Warn("device did not apply the whole policy; allowed by the policy", "policy", pol.Name, "ack_status", ack.Status)
	default:
		return statusErr(provisionProtocolError, "policy acknowledgement with Status %d", ack.Status)
	}
	ok, err := k.s.devices.ConfirmPolicyKey(k.ctx(), d.ID, key)
	if err != nil {
		return err
	}
	if !ok { // another request of the device changed the pending key meanwhile
		return k.wrongPolicyKey(ack.PolicyKey, devInfo)
	}
	return k.sendProvision(provisionAnswer{status: 1, devInfo: devInfo, policyStatus: policyOK, key: key})
}

// wrongPolicyKey answers Policy Status 5 and changes nothing.
func (k *call) wrongPolicyKey(key string, devInfo *message.DeviceInformationStatus) error {
	k.note(policyWrongKey, "acknowledged policy key "+strconv.Quote(key)+" is not the one handed out")
	return k.sendProvision(provisionAnswer{status: 1, devInfo: devInfo, policyStatus: policyWrongKey})
}

// cannotComply refuses a device that could not apply its policy: Status
// 139 from 14.0 on; before, there is no such status, and 403 keeps the
// device from syncing without inviting it to provision again.
func (k *call) cannotComply(ackStatus int) error {
	err := statusErr(statusCannotComply, "device could not apply the policy (Status %d) and the policy requires it", ackStatus)
	if k.version >= 140 {
		return err
	}
	httpserver.Info(k.c).Note = err.Error()
	return echo.NewHTTPError(http.StatusForbidden)
}

// wipeAck records a device's answer to a wipe directive (MS-ASPROV
// 3.2.5.1.2.2): on success the wipe is marked done; on failure the
// directive is repeated with Status 2 and the wipe stays pending.
func (k *call) wipeAck(req *message.ProvisionRequest) error {
	full, account := wipeDue(k.dev)
	ack, isAccount := req.RemoteWipe, false
	if ack == nil {
		ack, isAccount = req.AccountOnlyRemoteWipe, true
	}
	if !full && !account {
		return statusErr(provisionProtocolError, "wipe acknowledgement without a wipe directive")
	}
	if isAccount != account {
		return statusErr(provisionProtocolError, "acknowledgement of a wipe other than the one requested")
	}
	a := provisionAnswer{status: 1, remoteWipe: full, accountWipe: account}
	if ack.Status != 1 {
		k.note(2, "device reports the remote wipe failed (Status "+strconv.Itoa(ack.Status)+")")
		a.status = 2
		return k.sendProvision(a)
	}
	if err := k.s.devices.AckWipe(k.ctx(), k.dev.ID); err != nil {
		return err
	}
	k.log.Info("remote wipe acknowledged", "account_only", account)
	return k.sendProvision(a)
}

// wipeDue says which wipe directive the device gets. A device stays due
// after it acknowledged, so that a wiped (perhaps stolen) phone cannot
// sync again with its old partnership; removing the device lets it start
// over.
func wipeDue(d *device.Device) (full, account bool) {
	switch d.Wipe {
	case device.WipeRequested, device.Wiped:
		return true, false
	case device.WipeAccountRequested, device.AccountWiped:
		return false, true
	}
	return false, false
}

// policyType is the PolicyType of a protocol version.
func policyType(version int) string {
	if version < 120 {
		return message.PolicyTypeXML
	}
	return message.PolicyTypeWBXML
}

// newPolicyKey returns a random non-zero key.
func newPolicyKey() uint32 {
	var b [4]byte
	for {
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		if k := binary.LittleEndian.Uint32(b[:]); k != 0 {
			return k
		}
	}
}

// note records, for the access log, a status sent inside a successful
// response.
func (k *call) note(status int, why string) {
	ri := httpserver.Info(k.c)
	ri.EASStatus, ri.Note = status, why
}

func deviceInfo(s *message.DeviceInformationSet) device.Info {
	return device.Info{
		Model: s.Model, IMEI: s.IMEI, FriendlyName: s.FriendlyName, OS: s.OS, OSLanguage: s.OSLanguage,
		PhoneNumber: s.PhoneNumber, MobileOperator: s.MobileOperator, UserAgent: s.UserAgent,
	}
}

var errNoWipeVersion = errors.New("account-only remote wipe pending; EAS before 16.1 cannot receive it, so the device is refused instead")

// provisionAnswer is what a Provision response says, in any version.
type provisionAnswer struct {
	status       int
	devInfo      *message.DeviceInformationStatus
	policyStatus int // 0: no Policies element
	key          uint32
	policy       *policy.Policy // non-nil: send its settings
	remoteWipe   bool
	accountWipe  bool
}

// sendProvision writes a in the document of the call's version.
func (k *call) sendProvision(a provisionAnswer) error {
	if k.version < 120 {
		resp := &message.ProvisionResponseXML{Status: a.status, RemoteWipe: a.remoteWipe}
		if a.policyStatus != 0 {
			p := message.PolicyResponseXML{PolicyType: message.PolicyTypeXML, Status: a.policyStatus, PolicyKey: a.key}
			if a.policy != nil {
				p.Data = wapProvisioningDoc(a.policy.Settings)
			}
			resp.Policies = &message.PoliciesResponseXML{Policy: p}
		}
		return k.respond(resp)
	}
	if k.version == 120 && a.policy != nil {
		return k.respond(provisionResponse120For(a))
	}
	resp := &message.ProvisionResponse{Status: a.status, RemoteWipe: a.remoteWipe, AccountOnlyRemoteWipe: a.accountWipe}
	if k.version >= 141 {
		resp.DeviceInformation = a.devInfo
	}
	if a.policyStatus != 0 {
		p := message.PolicyResponse{PolicyType: message.PolicyTypeWBXML, Status: a.policyStatus, PolicyKey: a.key}
		if a.policy != nil {
			p.Data = &message.PolicyData{EASProvisionDoc: provisionDoc(a.policy.Settings)}
		}
		resp.Policies = &message.PoliciesResponse{Policy: p}
	}
	return k.respond(resp)
}

// provisionResponse120 is the phase 1 answer of protocol 12.0, whose
// EASProvisionDoc has only the password, storage card encryption and
// attachment elements: the others came with 12.1 (MS-ASPROV 2.2.2, the
// Protocol Versions of each element; policy.Element.Since), and a 12.0
// device need not know their tokens.
type provisionResponse120 struct {
	WBXMLName message.Tag `wbxml:"Provision:Provision"`
	Status    int         `wbxml:"Provision:Status"`
	Policies  struct {
		Policy struct {
			PolicyType string `wbxml:"PolicyType"`
			Status     int    `wbxml:"Status"`
			PolicyKey  uint32 `wbxml:"PolicyKey,omitempty"`
			Data       struct {
				EASProvisionDoc provisionDoc120 `wbxml:"EASProvisionDoc"`
			} `wbxml:"Data"`
		} `wbxml:"Policy"`
	} `wbxml:"Policies"`
}

type provisionDoc120 struct {
	DevicePasswordEnabled              bool   `wbxml:"DevicePasswordEnabled"`
	AlphanumericDevicePasswordRequired bool   `wbxml:"AlphanumericDevicePasswordRequired"`
	RequireStorageCardEncryption       bool   `wbxml:"RequireStorageCardEncryption"`
	PasswordRecoveryEnabled            bool   `wbxml:"PasswordRecoveryEnabled"`
	AttachmentsEnabled                 bool   `wbxml:"AttachmentsEnabled"`
	MinDevicePasswordLength            int    `wbxml:"MinDevicePasswordLength"`
	MaxInactivityTimeDeviceLock        int    `wbxml:"MaxInactivityTimeDeviceLock"`
	MaxDevicePasswordFailedAttempts    int    `wbxml:"MaxDevicePasswordFailedAttempts"`
	MaxAttachmentSize                  string `wbxml:"MaxAttachmentSize"`
	AllowSimpleDevicePassword          bool   `wbxml:"AllowSimpleDevicePassword"`
	DevicePasswordExpiration           int    `wbxml:"DevicePasswordExpiration"`
	DevicePasswordHistory              int    `wbxml:"DevicePasswordHistory"`
}

func provisionResponse120For(a provisionAnswer) *provisionResponse120 {
	d := provisionDoc(a.policy.Settings)
	r := &provisionResponse120{Status: a.status}
	p := &r.Policies.Policy
	p.PolicyType, p.Status, p.PolicyKey = message.PolicyTypeWBXML, a.policyStatus, a.key
	p.Data.EASProvisionDoc = provisionDoc120{
		DevicePasswordEnabled:              d.DevicePasswordEnabled,
		AlphanumericDevicePasswordRequired: d.AlphanumericDevicePasswordRequired,
		RequireStorageCardEncryption:       d.RequireStorageCardEncryption,
		PasswordRecoveryEnabled:            d.PasswordRecoveryEnabled,
		AttachmentsEnabled:                 d.AttachmentsEnabled,
		MinDevicePasswordLength:            d.MinDevicePasswordLength,
		MaxInactivityTimeDeviceLock:        d.MaxInactivityTimeDeviceLock,
		MaxDevicePasswordFailedAttempts:    d.MaxDevicePasswordFailedAttempts,
		MaxAttachmentSize:                  d.MaxAttachmentSize,
		AllowSimpleDevicePassword:          d.AllowSimpleDevicePassword,
		DevicePasswordExpiration:           d.DevicePasswordExpiration,
		DevicePasswordHistory:              d.DevicePasswordHistory,
	}
	return r
}

// provisionDoc is the EASProvisionDoc of a policy (12.1 and later).
func provisionDoc(s policy.Settings) message.EASProvisionDoc {
	d := message.EASProvisionDoc{
		DevicePasswordEnabled:                    s.DevicePasswordEnabled,
		AlphanumericDevicePasswordRequired:       s.AlphanumericDevicePasswordRequired,
		RequireStorageCardEncryption:             s.RequireStorageCardEncryption,
		PasswordRecoveryEnabled:                  s.PasswordRecoveryEnabled,
		AttachmentsEnabled:                       s.AttachmentsEnabled,
		MinDevicePasswordLength:                  s.MinDevicePasswordLength,
		MaxInactivityTimeDeviceLock:              s.MaxInactivityTimeDeviceLock,
		MaxDevicePasswordFailedAttempts:          s.MaxDevicePasswordFailedAttempts,
		AllowSimpleDevicePassword:                s.AllowSimpleDevicePassword,
		DevicePasswordExpiration:                 s.DevicePasswordExpiration,
		DevicePasswordHistory:                    s.DevicePasswordHistory,
		AllowStorageCard:                         s.AllowStorageCard,
		AllowCamera:                              s.AllowCamera,
		RequireDeviceEncryption:                  s.RequireDeviceEncryption,
		AllowUnsignedApplications:                s.AllowUnsignedApplications,
		AllowUnsignedInstallationPackages:        s.AllowUnsignedInstallationPackages,
		MinDevicePasswordComplexCharacters:       s.MinDevicePasswordComplexCharacters,
		AllowWiFi:                                s.AllowWiFi,
		AllowTextMessaging:                       s.AllowTextMessaging,
		AllowPOPIMAPEmail:                        s.AllowPOPIMAPEmail,
		AllowBluetooth:                           s.AllowBluetooth,
		AllowIrDA:                                s.AllowIrDA,
		RequireManualSyncWhenRoaming:             s.RequireManualSyncWhenRoaming,
		AllowDesktopSync:                         s.AllowDesktopSync,
		MaxCalendarAgeFilter:                     s.MaxCalendarAgeFilter,
		AllowHTMLEmail:                           s.AllowHTMLEmail,
		MaxEmailAgeFilter:                        s.MaxEmailAgeFilter,
		MaxEmailBodyTruncationSize:               s.MaxEmailBodyTruncationSize,
		MaxEmailHTMLBodyTruncationSize:           s.MaxEmailHTMLBodyTruncationSize,
		RequireSignedSMIMEMessages:               s.RequireSignedSMIMEMessages,
		RequireEncryptedSMIMEMessages:            s.RequireEncryptedSMIMEMessages,
		RequireSignedSMIMEAlgorithm:              s.RequireSignedSMIMEAlgorithm,
		RequireEncryptionSMIMEAlgorithm:          s.RequireEncryptionSMIMEAlgorithm,
		AllowSMIMEEncryptionAlgorithmNegotiation: s.AllowSMIMEEncryptionAlgorithmNegotiation,
		AllowSMIMESoftCerts:                      s.AllowSMIMESoftCerts,
		AllowBrowser:                             s.AllowBrowser,
		AllowConsumerEmail:                       s.AllowConsumerEmail,
		AllowRemoteDesktop:                       s.AllowRemoteDesktop,
		AllowInternetSharing:                     s.AllowInternetSharing,
	}
	// An empty MaxAttachmentSize is "no limit".
	if s.MaxAttachmentSize > 0 {
		d.MaxAttachmentSize = strconv.Itoa(s.MaxAttachmentSize)
	}
	// Sent even when empty, so that a device drops a list it had before.
	d.UnapprovedInROMApplicationList = &message.AppNames{ApplicationName: s.UnapprovedInROMApplicationList}
	d.ApprovedApplicationList = &message.AppHashes{Hash: s.ApprovedApplicationList}
	return d
}

// wapProvisioningDoc is the policy as the XML document of EAS 2.5
// (MS-ASPROV 2.2.2.24.2), which only knows the device password settings:
// in SecurityPolicy, 4131 says whether a password is enforced (0 yes,
// 1 no) and 4133 whether a desktop computer may unlock the device; the
// LASSD registry keys give inactivity lock (minutes), wipe threshold,
// codeword frequency, minimum length and complexity (0 alphanumeric,
// 2 anything).
func wapProvisioningDoc(s policy.Settings) string {
	var b strings.Builder
	parm := func(name string, value int) {
		fmt.Fprintf(&b, `<parm name="%s" value="%d"/>`, name, value)
	}
	b.WriteString(`<wap-provisioningdoc><characteristic type="SecurityPolicy">`)
	enforce := 1
	if s.DevicePasswordEnabled {
		enforce = 0
	}
	parm("4131", enforce)
	parm("4133", 1)
	b.WriteString(`</characteristic>`)
	if s.DevicePasswordEnabled {
		const lassd = `HKLM\Comm\Security\Policy\LASSD`
		b.WriteString(`<characteristic type="Registry">`)
		fmt.Fprintf(&b, `<characteristic type="%s\AE\{50C13377-C66D-400C-889E-C316FC4AB374}">`, lassd)
		lock := s.MaxInactivityTimeDeviceLock / 60
		if lock > 0 {
			parm("AEFrequencyType", 1)
			parm("AEFrequencyValue", lock)
		} else {
			parm("AEFrequencyType", 0)
		}
		b.WriteString(`</characteristic>`)
		if s.MaxDevicePasswordFailedAttempts > 0 {
			fmt.Fprintf(&b, `<characteristic type="%s">`, lassd)
			parm("DeviceWipeThreshold", s.MaxDevicePasswordFailedAttempts)
			b.WriteString(`</characteristic>`)
			fmt.Fprintf(&b, `<characteristic type="%s">`, lassd)
			parm("CodewordFrequency", max(1, s.MaxDevicePasswordFailedAttempts/2))
			b.WriteString(`</characteristic>`)
		}
		fmt.Fprintf(&b, `<characteristic type="%s\LAP\lap_pw">`, lassd)
		parm("MinimumPasswordLength", max(1, s.MinDevicePasswordLength))
		b.WriteString(`</characteristic>`)
		complexity := 2
		if s.AlphanumericDevicePasswordRequired {
			complexity = 0
		}
		fmt.Fprintf(&b, `<characteristic type="%s\LAP\lap_pw">`, lassd)
		parm("PasswordComplexity", complexity)
		b.WriteString(`</characteristic>`)
		b.WriteString(`</characteristic>`)
	}
	b.WriteString(`</wap-provisioningdoc>`)
	return b.String()
}
