package mailconv

import (
	"bufio"
	"io"
	"sync"
)

// capture passes a message through and keeps a prefix of its raw bytes
// for a MIME body. It keeps everything until told the limit (the body
// type is chosen after the top header, which must be kept for MIME), and
// counts every byte for the message size.
type capture struct {
	r     io.Reader
	buf   []byte
	limit int // bytes to keep; < 0: all; keeping stops once off
	off   bool
	n     int64
}

func (c *capture) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if !c.off && n > 0 {
		keep := p[:n]
		if c.limit >= 0 {
			keep = keep[:max(0, min(len(keep), c.limit-len(c.buf)))]
		}
		c.buf = append(c.buf, keep...)
	}
	return n, err
}

// keep sets how many bytes to keep (< 0: all).
func (c *capture) keep(limit int) { c.limit = limit }

// stop ends keeping and drops what was kept.
func (c *capture) stop() { c.off, c.buf = true, nil }

// complete reports whether the whole message was kept.
func (c *capture) complete() bool { return !c.off && int64(len(c.buf)) == c.n }

var bufReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}
