package client

import (
	"context"

	"github.com/easd/easd/eas/message"
)

// FolderSync asks for hierarchy changes since key ("0": everything).
func (c *Client) FolderSync(ctx context.Context, key string) (*message.FolderSyncResponse, error) {
	var resp message.FolderSyncResponse
	if err := c.Do(ctx, "FolderSync", &message.FolderSyncRequest{SyncKey: key}, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// FolderCreate creates a folder under parentID.
func (c *Client) FolderCreate(ctx context.Context, key, parentID, name string, folderType int) (*message.FolderCreateResponse, error) {
	var resp message.FolderCreateResponse
	err := c.Do(ctx, "FolderCreate", &message.FolderCreateRequest{SyncKey: key, ParentID: parentID, DisplayName: name, Type: folderType}, &resp)
	if err != nil {
		return nil, err
	}
	return &resp, nil
}

// FolderUpdate renames or moves a folder.
func (c *Client) FolderUpdate(ctx context.Context, key, serverID, parentID, name string) (*message.FolderUpdateResponse, error) {
	var resp message.FolderUpdateResponse
	err := c.Do(ctx, "FolderUpdate", &message.FolderUpdateRequest{SyncKey: key, ServerID: serverID, ParentID: parentID, DisplayName: name}, &resp)
	if err != nil {
		return nil, err
	}
	return &resp, nil
}

// FolderDelete deletes a folder.
func (c *Client) FolderDelete(ctx context.Context, key, serverID string) (*message.FolderDeleteResponse, error) {
	var resp message.FolderDeleteResponse
	if err := c.Do(ctx, "FolderDelete", &message.FolderDeleteRequest{SyncKey: key, ServerID: serverID}, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}
