-- +goose Up
-- Users known to easd. Mail credentials are never stored: a row only anchors
-- per-user state (devices, folders, out-of-office, PIM data).
CREATE TABLE users (
    id          bigserial PRIMARY KEY,
    login       text NOT NULL UNIQUE,          -- as the mail server knows it
    email       text NOT NULL DEFAULT '',      -- primary SMTP address
    created_at  timestamptz NOT NULL DEFAULT now()
);
