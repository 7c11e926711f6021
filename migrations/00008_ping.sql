-- +goose Up
-- What a device's last Ping asked for, so that a Ping without a body (or
-- without HeartbeatInterval or Folders) reuses it on any easd instance
-- (MS-ASCMD 2.2.3.88.1: the server caches the interval and the folders).
-- generation counts the device's Ping and Sync requests: each new one
-- increments it and announces it with NOTIFY, and a waiting request that
-- learns of a higher generation than its own ends at once.
CREATE TABLE ping_params (
    device_id         bigint PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    heartbeat_seconds integer NOT NULL DEFAULT 0,   -- 0: none stored yet
    folders           jsonb NOT NULL DEFAULT '[]',  -- [{"id": "5", "class": "Email"}, ...]
    generation        bigint NOT NULL DEFAULT 0,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
