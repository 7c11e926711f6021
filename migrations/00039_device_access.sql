-- +goose Up
-- Device access rules: what a device gets when it registers (or reports
-- another type or user agent), by its DeviceType and HTTP User-Agent (patterns with * and ?, case-insensitive;
-- an empty pattern matches anything). Package eas/device evaluates them:
-- a rule naming both fields beats one naming one; among equally specific
-- rules the stricter action wins (block, then quarantine, then allow).
CREATE TABLE device_access_rules (
    id          bigserial PRIMARY KEY,
    device_type text NOT NULL DEFAULT '',
    user_agent  text NOT NULL DEFAULT '',
    action      text NOT NULL CHECK (action IN ('allow', 'block', 'quarantine')),
    note        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL DEFAULT '',
    CHECK (device_type <> '' OR user_agent <> '')
);

-- Where a device's access state came from: 'default' (--new-devices),
-- 'rule' (access_rule_id, while the rule exists) or 'admin' (a decision on
-- this one device, which rules never override). Rows that exist now were
-- allowed by default or set by an administrator.
ALTER TABLE devices
    ADD COLUMN access_source text NOT NULL DEFAULT 'default'
        CHECK (access_source IN ('default', 'rule', 'admin')),
    ADD COLUMN access_rule_id bigint REFERENCES device_access_rules(id) ON DELETE SET NULL,
    ADD COLUMN access_changed_at timestamptz;
UPDATE devices SET access_source = 'admin' WHERE access_state <> 'allowed';
