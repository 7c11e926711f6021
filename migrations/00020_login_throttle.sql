-- +goose Up
-- Failed-login throttle, shared by every easd instance so that a second
-- instance behind the load balancer is no way around it. One row per key:
-- 'p:<login> <address>' (one client guessing one user's password),
-- 'a:<address>' (one client trying many users) and 'u:<login>' (one user
-- tried from many addresses, with a far higher allowance so that nobody
-- can lock a user out from elsewhere). An attempt is reserved (counted)
-- before the mail server is asked and given back when the password was
-- right, so parallel guesses cannot all slip through. Past the free
-- attempts each further one must wait a delay that doubles per attempt,
-- up to a cap: delays grow, nothing is locked for good. Rows are
-- forgotten an hour after their last attempt.
CREATE TABLE login_throttle (
    key           text PRIMARY KEY,
    attempts      integer NOT NULL,          -- attempts counted since the row was last quiet for an hour
    last_attempt  timestamptz NOT NULL,
    not_before    timestamptz NOT NULL       -- no attempt under this key reaches the mail server before
);
CREATE INDEX login_throttle_last_attempt ON login_throttle (last_attempt);
