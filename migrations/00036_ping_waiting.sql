-- +goose Up
-- Whether a request of the device may be waiting (a Ping or a hanging
-- Sync). Such a request sets it together with its generation; a request
-- that will not wait bumps the generation and sends the NOTIFY that ends
-- the waiting one only while it is set, and clears it (every request
-- waiting then is older and ends). A Sync that finds it clear writes
-- nothing and notifies nobody: PostgreSQL serialises NOTIFY at commit
-- across all sessions, and a row written on every request makes every
-- quiet Sync a write transaction.
--
-- Rows that exist now may belong to a Ping waiting at this moment: they
-- start set.
ALTER TABLE ping_params ADD COLUMN waiting boolean NOT NULL DEFAULT true;
ALTER TABLE ping_params ALTER COLUMN waiting SET DEFAULT false;
