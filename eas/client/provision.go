package client

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/easd/easd/eas/message"
)

// WipeRequestedError is returned by Provision when the server answers with
// a wipe directive instead of a policy. The caller decides whether to
// acknowledge it (AcknowledgeWipe).
type WipeRequestedError struct {
	AccountOnly bool
}

func (e *WipeRequestedError) Error() string {
	if e.AccountOnly {
		return "eas client: server requests an account-only remote wipe"
	}
	return "eas client: server requests a remote wipe"
}

// ProvisionError is a Provision answered with a failure status.
type ProvisionError struct {
	Status       int // Provision Status
	PolicyStatus int // Policy Status, 0 when absent
}

func (e *ProvisionError) Error() string {
	return fmt.Sprintf("eas client: Provision status %d, policy status %d", e.Status, e.PolicyStatus)
}

// Provision runs both phases of provisioning (MS-ASPROV 3.1.5.1) and sets
// c.PolicyKey to the final key. A device description may follow ctx (at
// most one; nil is none); it is sent from 14.1 on, as phones do.
func (c *Client) Provision(ctx context.Context, info ...*message.DeviceInformationSet) error {
	if len(info) > 1 {
		return errors.New("eas client: Provision takes one device description at most")
	}
	var di *message.DeviceInformationSet
	if len(info) == 1 {
		di = info[0]
	}
	first, err := c.RequestPolicy(ctx, di)
	if err != nil {
		return err
	}
	key, err := policyKey(first)
	if err != nil {
		return err
	}
	second, err := c.AcknowledgePolicy(ctx, strconv.FormatUint(uint64(key), 10), 1)
	if err != nil {
		return err
	}
	final, err := policyKey(second)
	if err != nil {
		return err
	}
	c.PolicyKey = final
	return nil
}

func policyKey(r *message.ProvisionResponse) (uint32, error) {
	switch {
	case r.RemoteWipe || r.AccountOnlyRemoteWipe:
		return 0, &WipeRequestedError{AccountOnly: r.AccountOnlyRemoteWipe}
	case r.Policies == nil:
		return 0, &ProvisionError{Status: r.Status}
	case r.Status != 1 || r.Policies.Policy.Status != 1 || r.Policies.Policy.PolicyKey == 0:
		return 0, &ProvisionError{Status: r.Status, PolicyStatus: r.Policies.Policy.Status}
	}
	return r.Policies.Policy.PolicyKey, nil
}

// RequestPolicy is phase 1: it asks for the policy (sending no policy key,
// as the protocol requires) and returns the answer with the temporary key.
func (c *Client) RequestPolicy(ctx context.Context, info *message.DeviceInformationSet) (*message.ProvisionResponse, error) {
	req := &message.ProvisionRequest{Policies: &message.PoliciesRequest{Policy: message.PolicyRequest{PolicyType: c.policyType()}}}
	if info != nil && c.versionAtLeast(141) {
		req.DeviceInformation = &message.DeviceInformation{Set: info}
	}
	c.PolicyKey = 0
	return c.provision(ctx, req)
}

// AcknowledgePolicy is phase 2: it acknowledges key with status (1 applied,
// 2 partly, 3 not at all, 4 provisioned by a third party). It does not
// change c.PolicyKey.
func (c *Client) AcknowledgePolicy(ctx context.Context, key string, status int) (*message.ProvisionResponse, error) {
	return c.provision(ctx, &message.ProvisionRequest{Policies: &message.PoliciesRequest{
		Policy: message.PolicyRequest{PolicyType: c.policyType(), PolicyKey: key, Status: status}}})
}

// AcknowledgeWipe confirms a wipe directive with status (1 done, 2 failed).
func (c *Client) AcknowledgeWipe(ctx context.Context, accountOnly bool, status int) (*message.ProvisionResponse, error) {
	req := &message.ProvisionRequest{}
	if accountOnly {
		req.AccountOnlyRemoteWipe = &message.WipeAck{Status: status}
	} else {
		req.RemoteWipe = &message.WipeAck{Status: status}
	}
	return c.provision(ctx, req)
}

// EmptyProvision sends <Provision/>, as a device does after Status 140.
func (c *Client) EmptyProvision(ctx context.Context) (*message.ProvisionResponse, error) {
	return c.provision(ctx, &message.ProvisionRequest{})
}

// RequestPolicyXML is phase 1 in protocol 2.5, whose policy is an XML
// document.
func (c *Client) RequestPolicyXML(ctx context.Context) (*message.ProvisionResponseXML, error) {
	c.PolicyKey = 0
	var resp message.ProvisionResponseXML
	req := &message.ProvisionRequest{Policies: &message.PoliciesRequest{Policy: message.PolicyRequest{PolicyType: message.PolicyTypeXML}}}
	if err := c.Do(ctx, "Provision", req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

func (c *Client) provision(ctx context.Context, req *message.ProvisionRequest) (*message.ProvisionResponse, error) {
	if !c.versionAtLeast(120) {
		return nil, errors.New("eas client: use RequestPolicyXML for protocol 2.5")
	}
	var resp message.ProvisionResponse
	if err := c.Do(ctx, "Provision", req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

func (c *Client) policyType() string {
	if c.versionAtLeast(120) {
		return message.PolicyTypeWBXML
	}
	return message.PolicyTypeXML
}

// versionAtLeast compares c.Version with v (141 for "14.1").
func (c *Client) versionAtLeast(v int) bool {
	n := 0
	for _, r := range c.Version {
		if r >= '0' && r <= '9' {
			n = n*10 + int(r-'0')
		}
	}
	return n >= v
}
