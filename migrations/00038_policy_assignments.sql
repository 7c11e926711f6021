-- +goose Up
-- Policies assigned per user and per device type, in addition to a
-- device's own assignment (devices.policy_id). The policy a device gets is
-- the first of: its own assignment, its user's, its device type's, the
-- default policy. device_policy_id is that rule, in one place: the device
-- registry reads the generation of the device's policy through it on every
-- request, and Provision the policy itself.
--
-- Deleting a policy deletes its assignments, so its users, device types and
-- devices fall back to the next rule; the generation then differs from the
-- one their key was issued for, and they provision again.
CREATE TABLE policy_user_assignments (
    user_id    bigint PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    policy_id  bigint NOT NULL REFERENCES policies(id) ON DELETE CASCADE
);

-- device_type is the DeviceType query parameter in lower case: phones vary
-- the case of the same type between versions ("iPhone", "IPHONE").
CREATE TABLE policy_device_type_assignments (
    device_type text PRIMARY KEY CHECK (device_type <> '' AND device_type = lower(device_type)),
    policy_id   bigint NOT NULL REFERENCES policies(id) ON DELETE CASCADE
);
CREATE INDEX policy_user_assignments_policy ON policy_user_assignments (policy_id);
CREATE INDEX policy_device_type_assignments_policy ON policy_device_type_assignments (policy_id);
CREATE INDEX devices_policy ON devices (policy_id) WHERE policy_id IS NOT NULL;

-- A one-row table function rather than a scalar one: PostgreSQL inlines a
-- SQL table function into the calling query (FROM device_policy_id(...)),
-- while a scalar SQL function with subqueries is planned on every call,
-- which made reading a device four times slower.
-- +goose StatementBegin
CREATE FUNCTION device_policy_id(own_policy bigint, owner bigint, device_type text) RETURNS TABLE (policy_id bigint)
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(own_policy,
        (SELECT a.policy_id FROM policy_user_assignments a WHERE a.user_id = owner),
        (SELECT a.policy_id FROM policy_device_type_assignments a WHERE a.device_type = lower(device_policy_id.device_type)),
        (SELECT p.id FROM policies p WHERE p.is_default))
$$;
-- +goose StatementEnd
