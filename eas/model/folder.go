// Package model holds the few value types that the protocol (package eas)
// and the stores (imapbridge, contacts, calendar) both speak, so neither has
// to import the other.
package model

// FolderType is an EAS folder type (MS-ASCMD 2.2.3.186.3).
type FolderType int

const (
	FolderGeneric        FolderType = 1
	FolderInbox          FolderType = 2
	FolderDrafts         FolderType = 3
	FolderDeletedItems   FolderType = 4
	FolderSentItems      FolderType = 5
	FolderOutbox         FolderType = 6
	FolderTasks          FolderType = 7
	FolderCalendar       FolderType = 8
	FolderContacts       FolderType = 9
	FolderNotes          FolderType = 10
	FolderJournal        FolderType = 11
	FolderUserMail       FolderType = 12
	FolderUserCalendar   FolderType = 13
	FolderUserContacts   FolderType = 14
	FolderUserTasks      FolderType = 15
	FolderUserJournal    FolderType = 16
	FolderUserNotes      FolderType = 17
	FolderUnknown        FolderType = 18
	FolderRecipientCache FolderType = 19
)

// Class is the EAS item class a folder holds.
type Class string

const (
	ClassEmail    Class = "Email"
	ClassContacts Class = "Contacts"
	ClassCalendar Class = "Calendar"
	ClassTasks    Class = "Tasks"
	ClassNotes    Class = "Notes"
)

// Class returns the item class of folders of type t.
func (t FolderType) Class() Class {
	switch t {
	case FolderTasks, FolderUserTasks:
		return ClassTasks
	case FolderCalendar, FolderUserCalendar:
		return ClassCalendar
	case FolderContacts, FolderUserContacts:
		return ClassContacts
	case FolderNotes, FolderUserNotes:
		return ClassNotes
	default:
		return ClassEmail
	}
}

// Special reports whether t is a default folder that clients may not
// delete or rename (FolderDelete/FolderUpdate status 3).
func (t FolderType) Special() bool {
	switch t {
	case FolderInbox, FolderDrafts, FolderDeletedItems, FolderSentItems, FolderOutbox,
		FolderTasks, FolderCalendar, FolderContacts, FolderNotes, FolderJournal:
		return true
	}
	return false
}
