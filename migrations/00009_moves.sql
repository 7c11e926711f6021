-- +goose Up
-- Mail moves made by MoveItems, per device: a client whose response was
-- lost sends the same MoveItems again, finds the message gone from the
-- source, and is answered with the ServerId the first request created
-- instead of an error (which would make it show the message twice or
-- lose it). Rows older than a few days are pruned when the device moves
-- again: a retry comes within minutes.
CREATE TABLE mail_moves (
    device_id  bigint NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    src_id     text NOT NULL,   -- ServerId before the move, "folder:uid"
    dst_folder text NOT NULL,   -- EAS folder id moved to
    dst_id     text NOT NULL,   -- ServerId after the move
    moved_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, src_id)
);
