-- +goose Up
-- Sync state of one collection (a mail folder, contacts folder, ... or the
-- folder hierarchy) as one device knows it. Exactly two keys are valid at a
-- time: the current key and the previous one (so a client whose response was
-- lost can re-send its key). Rows are locked with SELECT ... FOR UPDATE for
-- the whole request, which serialises requests of one device on one
-- collection.
CREATE TABLE sync_collections (
    device_id     bigint NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    collection_id text NOT NULL,
    -- keys are '{generation}counter'; a key-0 request starts a new generation
    generation    text NOT NULL DEFAULT '',
    counter       bigint NOT NULL DEFAULT 0,
    cur_key       text NOT NULL DEFAULT '',    -- '' until a key-0 request commits
    prev_key      text NOT NULL DEFAULT '',    -- '' when there is none
    -- the current key came from a key-0 request and the client has not moved
    -- on yet: a second parallel key-0 request keeps it valid as previous key
    cur_initial   boolean NOT NULL DEFAULT false,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, collection_id)
);

-- The opaque store state behind each valid key (at most two per collection).
CREATE TABLE sync_states (
    device_id     bigint NOT NULL,
    collection_id text NOT NULL,
    sync_key      text NOT NULL,
    state         bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, collection_id, sync_key),
    FOREIGN KEY (device_id, collection_id)
        REFERENCES sync_collections (device_id, collection_id) ON DELETE CASCADE
);

-- Client Adds answered in a request made with sync_key: a re-sent request
-- (same key, same ClientId) gets the same ServerId instead of a second item.
-- Pruned together with the state of its key.
CREATE TABLE sync_client_adds (
    device_id     bigint NOT NULL,
    collection_id text NOT NULL,
    sync_key      text NOT NULL,
    client_id     text NOT NULL,
    server_id     text NOT NULL,
    version       text NOT NULL,
    PRIMARY KEY (device_id, collection_id, sync_key, client_id),
    FOREIGN KEY (device_id, collection_id, sync_key)
        REFERENCES sync_states (device_id, collection_id, sync_key) ON DELETE CASCADE
);
