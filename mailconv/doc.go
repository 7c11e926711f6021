// Package mailconv turns an RFC 5322/MIME message, as IMAP hands it out,
// into the EAS Email item (message.Email): addresses, dates, flags, the
// body in the type the client prefers (plain, HTML or MIME, truncated on
// a UTF-8 boundary), a plain-text preview, the attachment list with
// FileReferences, the conversation id, and the 2.5 body forms. Part
// streams one part of a message for attachment download.
//
// It is pure: bytes and IMAP metadata in, a struct out; no connection,
// no state. Conversion is one pass over the message: the parts are read
// in order with go-message's textproto reader (not mail.Reader, which
// flattens the tree and hides the IMAP section numbers FileReferences
// need); attachment content is counted and dropped, never held.
//
// Choices a client would notice, written down here:
//
//   - Body type: the first BodyPreference the message can satisfy. Plain
//     and HTML always can (plain is derived from HTML, HTML from plain);
//     RTF never; MIME when MIMESupport is 2, or 1 and the message is
//     S/MIME. Without preferences the body is plain text, whole.
//   - Text is decoded to UTF-8 from every charset go-message knows.
//     ISO-8859-1 and US-ASCII are read as Windows-1252 (senders mislabel
//     it); a missing or unknown charset means UTF-8 when the bytes are
//     valid UTF-8, Windows-1252 otherwise. Plain text is sent with CRLF
//     line ends, as Exchange does. NUL bytes are dropped: WBXML strings
//     cannot hold them.
//   - Sizes: EstimatedDataSize is the size in bytes of the whole body in
//     the type sent; attachment sizes are decoded sizes (base64 estimated
//     from its length). Text beyond Options.MaxText is counted, not kept.
//   - MIME bodies travel as WBXML strings, which must be UTF-8: a message
//     with 8-bit parts that are not UTF-8 (or NUL bytes) is rewritten with
//     those parts in base64; their content is unchanged.
//   - The first text/plain and the first text/html part outside
//     attachments are the bodies; further inline text parts of the same
//     type are appended. Signatures (application/pkcs7-signature) are not
//     listed as attachments; embedded messages are, with Method 5, and are
//     not descended into.
//   - ConversationId is the MD5 of the thread's root Message-ID (first of
//     References, else In-Reply-To, else the message's own Message-ID),
//     else the GUID of Thread-Index, else of the subject without reply
//     prefixes: every message of a thread gets the same id whichever
//     mailer wrote it.
package mailconv
