package imapbridge

import (
	"math/bits"

	"github.com/easd/easd/internal/freelist"
)

// Message bodies read for a Sync window are converted and dropped at
// once; at thousands of messages per initial sync, fresh buffers would
// cost more in zeroing, page faults and garbage collection than the
// conversion itself (measured with the Sync benchmark). So whole bodies
// up to maxPooledBody are read into buffers kept in power-of-two size
// classes and reused, each class a free list of at most bodiesPerClass
// buffers, about 8 MB in all.
const (
	minPooledBody = 4 << 10
	maxPooledBody = 512 << 10
)

const bodiesPerClass = 8

// bodyPools holds the classes 4 KB, 8 KB, ... 512 KB.
var bodyPools = func() (p [8]freelist.List[[]byte]) {
	for i := range p {
		p[i] = freelist.New[[]byte](bodiesPerClass)
	}
	return p
}()

// bodyClass is the pool of buffers of at least n bytes, -1 when n is too
// large to pool.
func bodyClass(n int) int {
	if n > maxPooledBody {
		return -1
	}
	if n <= minPooledBody {
		return 0
	}
	return bits.Len(uint(n-1)) - bits.Len(minPooledBody-1)
}

// getBody returns a buffer of length n, from a pool when n allows.
func getBody(n int) []byte {
	c := bodyClass(n)
	if c < 0 {
		return make([]byte, n)
	}
	if b, ok := bodyPools[c].Get(); ok {
		return b[:n]
	}
	return make([]byte, n, minPooledBody<<c)
}

// putBody gives a buffer from getBody back; the caller keeps no slice of
// it.
func putBody(b []byte) {
	c := bodyClass(cap(b))
	if c < 0 || cap(b) != minPooledBody<<c {
		return
	}
	bodyPools[c].Put(b[:0])
}
