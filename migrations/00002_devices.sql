-- +goose Up
-- One row per (user, DeviceId): the EAS partnership. Every per-device table
-- (sync state, ping parameters, ...) hangs off devices.id.
CREATE TABLE devices (
    id                bigserial PRIMARY KEY,
    user_id           bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    device_id         text NOT NULL,                 -- DeviceId query parameter
    device_type       text NOT NULL DEFAULT '',
    user_agent        text NOT NULL DEFAULT '',
    protocol_version  text NOT NULL DEFAULT '',
    -- Settings DeviceInformation
    model             text NOT NULL DEFAULT '',
    imei              text NOT NULL DEFAULT '',
    friendly_name     text NOT NULL DEFAULT '',
    os                text NOT NULL DEFAULT '',
    os_language       text NOT NULL DEFAULT '',
    phone_number      text NOT NULL DEFAULT '',
    mobile_operator   text NOT NULL DEFAULT '',
    reported_user_agent text NOT NULL DEFAULT '',    -- UserAgent as the device reports it
    -- provisioning
    policy_key        bigint NOT NULL DEFAULT 0,     -- 0: not provisioned
    pending_policy_key bigint NOT NULL DEFAULT 0,    -- handed out in phase 1, confirmed in phase 2
    -- generation of the policy each key was issued for; a key issued for an
    -- older generation than the device's policy has now is stale (Status 143)
    policy_generation  bigint NOT NULL DEFAULT 0,
    pending_policy_generation bigint NOT NULL DEFAULT 0,
    -- when the device last sent a recovery password (Settings DevicePassword);
    -- the password itself is never stored
    recovery_password_at timestamptz,
    -- allowed | blocked | quarantined
    access_state      text NOT NULL DEFAULT 'allowed'
                      CHECK (access_state IN ('allowed', 'blocked', 'quarantined')),
    -- none | requested (full) | account_requested (16.1) | wiped | account_wiped
    wipe_state        text NOT NULL DEFAULT 'none'
                      CHECK (wipe_state IN ('none', 'requested', 'account_requested', 'wiped', 'account_wiped')),
    wipe_requested_at timestamptz,
    wipe_acked_at     timestamptz,
    -- protocol trace (decoded requests and responses in the log) until then
    trace_until       timestamptz,
    first_seen        timestamptz NOT NULL DEFAULT now(),
    last_seen         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, device_id)
);
