package imapbridge

import (
	"strconv"
	"strings"

	"github.com/emersion/go-imap/v2"

	"github.com/easd/easd/mailconv"
)

// structureOf turns an IMAP BODYSTRUCTURE into the converter's form.
func structureOf(bs imap.BodyStructure) mailconv.Structure {
	switch b := bs.(type) {
	case *imap.BodyStructureMultiPart:
		st := mailconv.Structure{MediaType: b.MediaType()}
		if b.Extended != nil {
			st.Params = b.Extended.Params
		}
		for _, child := range b.Children {
			st.Children = append(st.Children, structureOf(child))
		}
		return st
	case *imap.BodyStructureSinglePart:
		st := mailconv.Structure{MediaType: b.MediaType(), Params: b.Params, ID: b.ID,
			Encoding: b.Encoding, Size: int64(b.Size)}
		if d := b.Disposition(); d != nil {
			st.Disposition, st.DispParams = strings.ToLower(d.Value), d.Params
		}
		if b.Extended != nil {
			st.Location = b.Extended.Location
		}
		if b.MessageRFC822 != nil && b.MessageRFC822.Envelope != nil {
			st.Subject = b.MessageRFC822.Envelope.Subject
		}
		return st
	}
	return mailconv.Structure{MediaType: "text/plain"}
}

// sectionPath is the inverse of parsePath.
func sectionPath(part []int) string {
	s := make([]string, len(part))
	for i, n := range part {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ".")
}
