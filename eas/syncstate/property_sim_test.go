package syncstate

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// This file holds the simulation the property test drives: a store (an
// in-memory map standing in for a PIM table or a mail folder), a server
// handler that uses the real engine the way a Sync handler does, and a
// client that keeps its own view like a phone.

type simItem struct {
	content string
	version string
}

type simStore struct {
	items   map[string]simItem
	nextID  int
	nextVer int
	created map[string]int // content -> times created; >1 is a duplicate
}

func newSimStore() *simStore {
	return &simStore{items: map[string]simItem{}, created: map[string]int{}}
}

func (s *simStore) bump() string {
	s.nextVer++
	return strconv.Itoa(s.nextVer)
}

func (s *simStore) add(content string) (id, version string) {
	s.nextID++
	id = "i" + strconv.Itoa(s.nextID)
	version = s.bump()
	s.items[id] = simItem{content: content, version: version}
	s.created[content]++
	return id, version
}

func (s *simStore) change(id, content string) string {
	v := s.bump()
	s.items[id] = simItem{content: content, version: v}
	return v
}

func (s *simStore) ids() []string { return slices.Sorted(maps.Keys(s.items)) }

func (s *simStore) now() Items {
	it := make(Items, len(s.items))
	for id, item := range s.items {
		it[id] = item.version
	}
	return it
}

func (s *simStore) contents() map[string]string {
	m := make(map[string]string, len(s.items))
	for id, item := range s.items {
		m[id] = item.content
	}
	return m
}

type simAdd struct{ clientID, content string }
type simChange struct{ serverID, content string }

type simRequest struct {
	key     string
	window  int
	adds    []simAdd
	changes []simChange
	deletes []string
}

type simResponse struct {
	unknown    bool
	key        string
	addResults map[string]string // ClientId -> ServerId
	adds       map[string]string // server changes: ServerId -> content
	changes    map[string]string
	deletes    []string
	more       bool
}

// simHandle is what a Sync handler does with one request, in one
// transaction: apply the client commands (a re-sent Add is answered from
// its ClientId record, a Change the server changed meanwhile loses), then
// compute the server changes and commit the new state.
func simHandle(ctx context.Context, eng *Engine, store *simStore, dev int64, coll string, req simRequest) (simResponse, error) {
	tx, err := eng.Begin(ctx, dev, coll, req.key)
	if err != nil {
		return simResponse{}, err
	}
	defer tx.Rollback(ctx)
	if tx.KeyStatus() == KeyUnknown {
		return simResponse{unknown: true}, nil
	}
	known, err := DecodeItems(tx.State())
	if err != nil {
		return simResponse{}, err
	}
	resp := simResponse{addResults: map[string]string{}, adds: map[string]string{}, changes: map[string]string{}}
	var ops []ClientOp
	for _, a := range req.adds {
		rec, ok, err := tx.LookupClientAdd(ctx, a.clientID)
		if err != nil {
			return simResponse{}, err
		}
		if !ok {
			rec.ServerID, rec.Version = store.add(a.content)
			if err := tx.RecordClientAdd(a.clientID, rec); err != nil {
				return simResponse{}, err
			}
		}
		resp.addResults[a.clientID] = rec.ServerID
		ops = append(ops, ClientOp{Kind: OpAdd, ServerID: rec.ServerID, Version: rec.Version})
	}
	for _, c := range req.changes {
		op := ClientOp{Kind: OpChange, ServerID: c.serverID}
		if item, ok := store.items[c.serverID]; ok && !ChangedOnServer(known, c.serverID, item.version) {
			op.Version = store.change(c.serverID, c.content)
		}
		ops = append(ops, op)
	}
	for _, id := range req.deletes {
		delete(store.items, id)
		ops = append(ops, ClientOp{Kind: OpDelete, ServerID: id})
	}
	res := Exchange{Known: known, Now: store.now(), Client: ops, Window: req.window}.Run()
	for _, id := range res.Adds {
		resp.adds[id] = store.items[id].content
	}
	for _, id := range res.Changes {
		resp.changes[id] = store.items[id].content
	}
	resp.deletes = res.Deletes
	resp.more = res.MoreAvailable
	if resp.key, err = tx.Commit(ctx, res.State.Encode()); err != nil {
		return simResponse{}, err
	}
	return resp, nil
}

// simClient is a phone: its view, the local edits not sent yet, and the
// request whose response it has not received.
type simClient struct {
	name     string
	dev      int64
	key      string // "" before the first sync
	view     map[string]string
	pendAdd  []string // contents
	pendChg  map[string]string
	pendDel  map[string]bool
	inflight *simRequest
	more     bool
}

func newSimClient(name string, dev int64) *simClient {
	return &simClient{name: name, dev: dev, view: map[string]string{},
		pendChg: map[string]string{}, pendDel: map[string]bool{}}
}

func (c *simClient) idle() bool {
	return c.inflight == nil && !c.more && len(c.pendAdd)+len(c.pendChg)+len(c.pendDel) == 0
}

// request returns the request to send: the lost one again, unchanged, or a
// new one with every local edit. ClientIds count from 1 in each request,
// as some clients do, so they repeat across keys.
func (c *simClient) request(window int) simRequest {
	if c.inflight != nil {
		return *c.inflight
	}
	req := simRequest{key: c.key, window: window}
	if c.key == "" {
		req.key = InitialKey
		req.window = NoChanges
	} else {
		for i, content := range c.pendAdd {
			req.adds = append(req.adds, simAdd{clientID: strconv.Itoa(i + 1), content: content})
		}
		for _, id := range slices.Sorted(maps.Keys(c.pendChg)) {
			req.changes = append(req.changes, simChange{serverID: id, content: c.pendChg[id]})
		}
		req.deletes = slices.Sorted(maps.Keys(c.pendDel))
		c.pendAdd, c.pendChg, c.pendDel = nil, map[string]string{}, map[string]bool{}
	}
	c.inflight = &req
	return req
}

// receive applies a response. It returns an error for anything a correct
// server never sends: an Add of an item the client has, a Change or Delete
// of one it does not know.
func (c *simClient) receive(req simRequest, resp simResponse) (changed bool, err error) {
	c.inflight = nil
	if resp.unknown {
		return false, fmt.Errorf("%s: key %q unknown", c.name, req.key)
	}
	c.key, c.more = resp.key, resp.more
	for _, a := range req.adds {
		id, ok := resp.addResults[a.clientID]
		if !ok {
			return false, fmt.Errorf("%s: no answer for ClientId %s", c.name, a.clientID)
		}
		if _, dup := c.view[id]; dup {
			return false, fmt.Errorf("%s: ClientId %s answered with %s, which the client already has", c.name, a.clientID, id)
		}
		c.view[id] = a.content
	}
	for _, id := range resp.deletes {
		switch {
		case c.pendDel[id]:
			delete(c.pendDel, id)
		case c.view[id] != "":
			delete(c.view, id)
			delete(c.pendChg, id)
		default:
			return false, fmt.Errorf("%s: Delete of unknown %s", c.name, id)
		}
	}
	for id, content := range resp.changes {
		switch {
		case c.pendChg[id] != "": // a newer local edit goes to the server next
		case c.pendDel[id]:
		case c.view[id] != "":
			c.view[id] = content
		default:
			return false, fmt.Errorf("%s: Change of unknown %s", c.name, id)
		}
	}
	for id, content := range resp.adds {
		if _, dup := c.view[id]; dup || c.pendDel[id] {
			return false, fmt.Errorf("%s: duplicate Add of %s", c.name, id)
		}
		c.view[id] = content
	}
	return len(resp.adds)+len(resp.changes)+len(resp.deletes) > 0, nil
}
