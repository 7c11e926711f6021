package syncstate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// Items is the common shape of a collection's state: ServerId -> version,
// where the version is any non-empty string that changes whenever the item
// changes (a PIM row version, a hash of the folder name/parent/type, an IMAP
// flag fingerprint). In a stored state the empty version marks an item whose
// copy on the client is not known to match the server (a client change the
// server refused): Diff always reports it as changed, so the server's copy is
// sent again.
type Items map[string]string

// itemsFormat is the first byte of an encoded Items; a new layout gets a new
// number so old states can still be read.
const itemsFormat = 1

// Encode returns a compact, deterministic encoding: the ServerIds in byte
// order, each id and version stored as (length of the prefix shared with the
// previous one, rest), lengths as uvarints. Sorted numeric-ish ids such as
// IMAP UIDs share most of their bytes, so 100,000 mail items take well under
// 1 MB (see BenchmarkItemsEncode for measured sizes).
func (it Items) Encode() []byte {
	ids := it.sortedIDs()
	buf := make([]byte, 0, 1+binary.MaxVarintLen64+len(ids)*8)
	buf = append(buf, itemsFormat)
	buf = binary.AppendUvarint(buf, uint64(len(ids)))
	prevID, prevVer := "", ""
	for _, id := range ids {
		ver := it[id]
		buf = appendShared(buf, prevID, id)
		buf = appendShared(buf, prevVer, ver)
		prevID, prevVer = id, ver
	}
	return buf
}

// appendShared appends s as (shared prefix length with prev, suffix length,
// suffix).
func appendShared[T string | []byte](buf []byte, prev, s T) []byte {
	n := 0
	for n < len(prev) && n < len(s) && prev[n] == s[n] {
		n++
	}
	buf = binary.AppendUvarint(buf, uint64(n))
	buf = binary.AppendUvarint(buf, uint64(len(s)-n))
	return append(buf, s[n:]...)
}

func (it Items) sortedIDs() []string {
	ids := make([]string, 0, len(it))
	for id := range it {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// errCorrupt is wrapped by DecodeItems for any malformed input.
var errCorrupt = errors.New("corrupt items state")

// DecodeItems reverses Encode. Empty input (the state of a key-0 request)
// decodes to an empty Items.
func DecodeItems(b []byte) (Items, error) {
	if len(b) == 0 {
		return Items{}, nil
	}
	d, count, err := openItems(b)
	if err != nil {
		return nil, err
	}
	it := make(Items, count)
	for i := uint64(0); i < count; i++ {
		if err := d.next(i); err != nil {
			return nil, err
		}
		it[string(d.id)] = string(d.ver)
	}
	return it, d.end()
}

// decoder reads an encoded Items item by item, remembering the first
// error so that a loop checks once per item.
type decoder struct {
	buf     []byte
	err     error
	id, ver []byte // the item read last
	last    []byte // the id before it
}

// openItems checks an encoded Items' format and count and returns a
// decoder at its first item.
func openItems(b []byte) (decoder, uint64, error) {
	if b[0] != itemsFormat {
		return decoder{}, 0, fmt.Errorf("syncstate: %w: format %d", errCorrupt, b[0])
	}
	d := decoder{buf: b[1:]}
	count := d.uvarint()
	// Every item takes at least 4 bytes, which bounds the allocation for a
	// corrupt count.
	if d.err != nil || count > uint64(len(d.buf))/4 {
		return decoder{}, 0, fmt.Errorf("syncstate: %w: item count", errCorrupt)
	}
	return d, count, nil
}

// next reads item i into d.id and d.ver and checks that ids ascend.
func (d *decoder) next(i uint64) error {
	d.last = append(d.last[:0], d.id...)
	d.id = d.shared(d.id)
	d.ver = d.shared(d.ver)
	if d.err != nil {
		return fmt.Errorf("syncstate: %w: item %d", errCorrupt, i)
	}
	if i > 0 && string(d.id) <= string(d.last) {
		return fmt.Errorf("syncstate: %w: ids out of order at item %d", errCorrupt, i)
	}
	return nil
}

// end reports bytes left after the last item.
func (d *decoder) end() error {
	if len(d.buf) != 0 {
		return fmt.Errorf("syncstate: %w: %d trailing bytes", errCorrupt, len(d.buf))
	}
	return nil
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

// MergeEncoded returns the encoding (Encode) of the items encoded in b
// with add laid over them: an id in both takes add's version. It works on
// the encoded bytes, without a map of b's items or a sort of their ids,
// so adding a window of items to a large state costs a pass over its
// bytes (the windows of an initial sync of a 10,000-message folder).
func MergeEncoded(b []byte, add Items) ([]byte, error) {
	if len(b) == 0 {
		return add.Encode(), nil
	}
	d, count, err := openItems(b)
	if err != nil {
		return nil, err
	}
	ids := add.sortedIDs()
	body := make([]byte, 0, len(b)+len(ids)*12)
	var outID, outVer []byte
	n := 0
	emit := func(id, ver []byte) {
		body = appendShared(body, outID, id)
		body = appendShared(body, outVer, ver)
		outID, outVer = append(outID[:0], id...), append(outVer[:0], ver...)
		n++
	}
	next := 0
	for i := uint64(0); i < count; i++ {
		if err := d.next(i); err != nil {
			return nil, err
		}
		for next < len(ids) && ids[next] < string(d.id) {
			emit([]byte(ids[next]), []byte(add[ids[next]]))
			next++
		}
		if next < len(ids) && ids[next] == string(d.id) {
			emit(d.id, []byte(add[ids[next]]))
			next++
			continue
		}
		emit(d.id, d.ver)
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	for ; next < len(ids); next++ {
		emit([]byte(ids[next]), []byte(add[ids[next]]))
	}
	out := make([]byte, 0, 1+binary.MaxVarintLen64+len(body))
	out = append(out, itemsFormat)
	out = binary.AppendUvarint(out, uint64(n))
	return append(out, body...), nil
}

// shared reads a prefix-shared value into prev's storage.
func (d *decoder) shared(prev []byte) []byte {
	shared := d.uvarint()
	rest := d.uvarint()
	if d.err != nil {
		return prev
	}
	if shared > uint64(len(prev)) || rest > uint64(len(d.buf)) {
		d.err = errCorrupt
		return prev
	}
	out := append(prev[:shared], d.buf[:rest]...)
	d.buf = d.buf[rest:]
	return out
}
