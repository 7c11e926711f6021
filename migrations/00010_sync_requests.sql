-- +goose Up
-- The collections of a device's last Sync request, so that an empty Sync
-- (no body) or a Partial one can be completed on any easd instance
-- (MS-ASCMD 2.2.1.21.1, 2.2.3.131). collections holds each collection's
-- id and options as the client sent them, without its commands and
-- without its sync key: the device's current key per collection is in
-- sync_collections, and a cached key would be stale after the answer.
-- heartbeat_seconds is the hanging-Sync wait of that request (0: none).
CREATE TABLE sync_requests (
    device_id         bigint PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    collections       jsonb NOT NULL,
    window_size       integer NOT NULL DEFAULT 0,
    heartbeat_seconds integer NOT NULL DEFAULT 0,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
