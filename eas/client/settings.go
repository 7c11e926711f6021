package client

import (
	"context"

	"github.com/easd/easd/eas/message"
)

// Settings sends a Settings request as it is.
func (c *Client) Settings(ctx context.Context, req *message.SettingsRequest) (*message.SettingsResponse, error) {
	var resp message.SettingsResponse
	if err := c.Do(ctx, "Settings", req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// SetDeviceInformation tells the server about the device.
func (c *Client) SetDeviceInformation(ctx context.Context, info message.DeviceInformationSet) (*message.SettingsResponse, error) {
	return c.Settings(ctx, &message.SettingsRequest{DeviceInformation: &message.DeviceInformation{Set: &info}})
}

// GetOof reads the out-of-office settings, replies in bodyType (Text or HTML).
func (c *Client) GetOof(ctx context.Context, bodyType string) (*message.SettingsResponse, error) {
	return c.Settings(ctx, &message.SettingsRequest{Oof: &message.OofRequest{Get: &message.OofGetRequest{BodyType: bodyType}}})
}

// SetOof changes the out-of-office settings.
func (c *Client) SetOof(ctx context.Context, oof message.Oof) (*message.SettingsResponse, error) {
	return c.Settings(ctx, &message.SettingsRequest{Oof: &message.OofRequest{Set: &oof}})
}

// UserInformation asks for the user's addresses.
func (c *Client) UserInformation(ctx context.Context) (*message.SettingsResponse, error) {
	return c.Settings(ctx, &message.SettingsRequest{UserInformation: &message.GetRequest{Get: true}})
}
