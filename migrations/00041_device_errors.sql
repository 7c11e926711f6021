-- +goose Up
-- The recent failed requests of each device, for the device detail of the
-- admin API, web page and `easd device show`. Written only when a request
-- ends in an error (package eas/device, RecordError), never on success, and
-- capped per device by the writing statement itself: the newest rows stay.
CREATE TABLE device_errors (
    id          bigserial PRIMARY KEY,
    device_id   bigint NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    command     text NOT NULL,
    http_status integer NOT NULL,
    eas_status  integer NOT NULL DEFAULT 0, -- 0: none in the answer
    reason      text NOT NULL DEFAULT ''
);
CREATE INDEX device_errors_device ON device_errors (device_id, id);
