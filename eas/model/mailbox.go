package model

import "strings"

// Mailbox is one mailbox of the mail store as the folder hierarchy needs it.
type Mailbox struct {
	Name        string // full name, e.g. "Archive/2024"
	Delim       rune   // hierarchy separator; 0 for a flat namespace
	Type        FolderType
	NoSelect    bool   // a pure container: shown so children have a parent
	UIDValidity uint32 // 0 when unknown; survives renames on most servers
}

// Parent returns the parent mailbox name, or "" at the top level.
func (m Mailbox) Parent() string {
	if m.Delim == 0 {
		return ""
	}
	i := strings.LastIndexByte(m.Name, byte(m.Delim))
	if i < 0 {
		return ""
	}
	return m.Name[:i]
}

// Leaf returns the last component of the name, the display name.
func (m Mailbox) Leaf() string {
	if p := m.Parent(); p != "" {
		return m.Name[len(p)+1:]
	}
	return m.Name
}
