// Package imapbridge keeps mail where it lives: it connects to the
// organisation's IMAP server for every EAS mail operation (folders, change
// detection, MIME conversion, moves, deletes, push watchers) and submits mail
// over SMTP. It holds no mail itself; easd's own state is in PostgreSQL.
package imapbridge
