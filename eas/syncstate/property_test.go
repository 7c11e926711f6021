package syncstate

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/easd/easd/internal/testenv"
)

var (
	propSeeds = flag.Int("prop.seeds", 100, "number of random seeds for TestPropertyConverges")
	propSeed  = flag.Uint64("prop.seed", 0, "run TestPropertyConverges with this seed only")
)

// TestPropertyConverges drives two simulated clients and a simulated store
// through random server edits, client edits, window sizes and lost
// responses (the client re-sends its previous key and the same commands),
// with the real engine on PostgreSQL in between. In the end every client's
// view must equal the store, nothing created twice, nothing lost.
func TestPropertyConverges(t *testing.T) {
	db := testenv.PG(t)
	eng := New(db.Pool, Options{})
	user := newUser(t, db.Pool)
	seeds := make([]uint64, 0, *propSeeds)
	if *propSeed != 0 {
		seeds = append(seeds, *propSeed)
	} else {
		for i := range *propSeeds {
			seeds = append(seeds, uint64(i)+1)
		}
	}
	syncs := 0
	for _, seed := range seeds {
		devs := []int64{newDevice(t, db.Pool, user), newDevice(t, db.Pool, user)}
		n, log, err := runProperty(context.Background(), eng, seed, devs)
		syncs += n
		if err != nil {
			t.Errorf("seed %d: %v\nsteps:\n%s\nrerun with: go test -run TestPropertyConverges -prop.seed=%d",
				seed, err, strings.Join(log, "\n"), seed)
		}
	}
	t.Logf("%d seeds, %d Sync requests", len(seeds), syncs)
}

const propSteps = 80

// runProperty runs one seed and returns the number of requests and the
// step log.
func runProperty(ctx context.Context, eng *Engine, seed uint64, devs []int64) (int, []string, error) {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	store := newSimStore()
	var log []string
	logf := func(format string, args ...any) { log = append(log, fmt.Sprintf(format, args...)) }
	var clients []*simClient
	for i, d := range devs {
		clients = append(clients, newSimClient(fmt.Sprintf("client%d", i), d))
	}
	for range 5 {
		id, _ := store.add(fmt.Sprintf("seed-%d", store.nextID))
		logf("server add %s", id)
	}
	requests := 0
	contentSeq := 0
	content := func(who string) string {
		contentSeq++
		return fmt.Sprintf("%s-%d", who, contentSeq)
	}
	var clientAdded []string

	sync := func(c *simClient, window int, lose bool) (changed, sent bool, err error) {
		req := c.request(window)
		requests++
		resp, err := simHandle(ctx, eng, store, c.dev, "col", req)
		if err != nil {
			return false, false, fmt.Errorf("%s: handle: %w", c.name, err)
		}
		sent = len(req.adds)+len(req.changes)+len(req.deletes) > 0
		logf("%s sync key=%.12s… window=%d adds=%v changes=%v deletes=%v -> key=%.12s… +%v ~%v -%v ids=%v more=%v lost=%v",
			c.name, req.key, req.window, req.adds, req.changes, req.deletes,
			resp.key, keysOf(resp.adds), keysOf(resp.changes), resp.deletes, resp.addResults, resp.more, lose)
		if lose {
			return false, sent, nil
		}
		changed, err = c.receive(req, resp)
		return changed, sent, err
	}

	for range propSteps {
		c := clients[rng.IntN(len(clients))]
		switch r := rng.IntN(100); {
		case r < 15: // server add
			id, _ := store.add(content("srv"))
			logf("server add %s", id)
		case r < 25: // server change
			if ids := store.ids(); len(ids) > 0 {
				id := ids[rng.IntN(len(ids))]
				store.change(id, content("srv"))
				logf("server change %s", id)
			}
		case r < 32: // server delete
			if ids := store.ids(); len(ids) > 0 {
				id := ids[rng.IntN(len(ids))]
				delete(store.items, id)
				logf("server delete %s", id)
			}
		case r < 42: // client add
			s := content(c.name)
			c.pendAdd = append(c.pendAdd, s)
			clientAdded = append(clientAdded, s)
			logf("%s local add %s", c.name, s)
		case r < 52: // client change
			if ids := sortedKeys(c.view); len(ids) > 0 {
				id := ids[rng.IntN(len(ids))]
				s := content(c.name)
				c.view[id], c.pendChg[id] = s, s
				logf("%s local change %s", c.name, id)
			}
		case r < 58: // client delete
			if ids := sortedKeys(c.view); len(ids) > 0 {
				id := ids[rng.IntN(len(ids))]
				delete(c.view, id)
				delete(c.pendChg, id)
				c.pendDel[id] = true
				logf("%s local delete %s", c.name, id)
			}
		default:
			if _, _, err := sync(c, 1+rng.IntN(4), rng.IntN(4) == 0); err != nil {
				return requests, log, err
			}
		}
	}

	// Settle: every client syncs until it has nothing to send and nothing
	// more to fetch, in rounds, until a round changes nothing anywhere.
	logf("-- settle")
	for round := 0; ; round++ {
		if round == 20 {
			return requests, log, fmt.Errorf("no convergence after %d rounds", round)
		}
		quiet := true
		for _, c := range clients {
			for i := 0; ; i++ {
				if i == 200 {
					return requests, log, fmt.Errorf("%s: still MoreAvailable after %d requests (sync loop)", c.name, i)
				}
				changed, sent, err := sync(c, 1+rng.IntN(4), false)
				if err != nil {
					return requests, log, err
				}
				quiet = quiet && !changed && !sent
				if c.idle() {
					break
				}
			}
		}
		if quiet {
			break
		}
	}
	return requests, log, checkConverged(store, clients, clientAdded)
}

func checkConverged(store *simStore, clients []*simClient, clientAdded []string) error {
	want := store.contents()
	for _, c := range clients {
		if !maps.Equal(c.view, want) {
			return fmt.Errorf("%s view %v\n  store %v", c.name, c.view, want)
		}
	}
	for content, n := range store.created {
		if n != 1 {
			return fmt.Errorf("content %q created %d times", content, n)
		}
	}
	for _, s := range clientAdded {
		if store.created[s] != 1 {
			return fmt.Errorf("client add %q lost", s)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func keysOf(m map[string]string) []string { return sortedKeys(m) }
