-- +goose Up
-- Every administrative action (command line, admin API, web page): who did
-- it, from where, what, to what. Rows are only ever added; an administrator
-- reads them with `easd audit`, the admin API or the web page.
CREATE TABLE audit_log (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    -- who: "cli:root", "token:ops", "web:alice"
    actor   text NOT NULL,
    -- from where: "local:host-name" for the command line, else the address
    -- of the HTTP client
    source  text NOT NULL DEFAULT '',
    -- what, as "noun.verb": "device.wipe", "policy.edit", "token.create"
    action  text NOT NULL,
    -- to what: "alice/ApplDNABC123", "policy:sales"
    target  text NOT NULL DEFAULT '',
    -- the parameters of the action (new settings, reason, ...)
    detail  jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_target ON audit_log (target, at DESC);
