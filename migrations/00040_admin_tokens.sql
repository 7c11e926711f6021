-- +goose Up
-- Admin API and web page credentials. A token is created by `easd admin
-- token create` and shown once; only its SHA-256 is kept, so the table
-- hands out nothing that could be replayed.
CREATE TABLE admin_tokens (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    hash         bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- refreshed at most once a minute, so a busy script does not write on
    -- every request
    last_used_at timestamptz,
    -- NULL: never expires
    expires_at   timestamptz
);

-- Web page logins: one row per session cookie (its SHA-256 again), with
-- the CSRF token its forms carry. Revoking the token ends its sessions.
CREATE TABLE admin_sessions (
    hash       bytea PRIMARY KEY,
    token_id   bigint NOT NULL REFERENCES admin_tokens(id) ON DELETE CASCADE,
    csrf       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);
