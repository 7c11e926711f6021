package mailconv

import "github.com/easd/easd/eas/message"

// plan is the body the client gets.
type plan struct {
	bodyType int
	pref     message.BodyPreference // truncation, AllOrNone, preview of that type
	mime     bool
	preview  int // characters of Preview, 0 for none
}

// choose picks the body type: the first BodyPreference the message can
// satisfy. Plain and HTML always can; RTF never; MIME when MIMESupport
// allows it. An S/MIME message goes as MIME whenever MIMESupport is 1 or
// 2, whatever the order, since no other type can show it.
func choose(opts Options, smime bool) plan {
	mimeOK := opts.MIMESupport == MIMEAlways || (opts.MIMESupport == MIMESMIMEOnly && smime)
	if opts.Version < 120 {
		if mimeOK {
			return plan{bodyType: message.BodyMIME, mime: true, pref: limitPref(opts.MIMETruncation)}
		}
		return plan{bodyType: message.BodyPlain, pref: limitPref(opts.BodyTruncation)}
	}
	prefs := opts.BodyPreferences
	if smime && mimeOK {
		for _, bp := range prefs {
			if bp.Type == message.BodyMIME {
				return withPreview(plan{bodyType: message.BodyMIME, mime: true, pref: bp}, opts)
			}
		}
		return plan{bodyType: message.BodyMIME, mime: true}
	}
	for _, bp := range prefs {
		switch bp.Type {
		case message.BodyPlain, message.BodyHTML:
			return withPreview(plan{bodyType: bp.Type, pref: bp}, opts)
		case message.BodyMIME:
			if mimeOK {
				return withPreview(plan{bodyType: message.BodyMIME, mime: true, pref: bp}, opts)
			}
		}
	}
	if len(prefs) > 0 {
		// Only types the message cannot have (RTF, MIME not allowed):
		// plain text with the first preference's limits.
		bp := prefs[0]
		bp.Type = message.BodyPlain
		return withPreview(plan{bodyType: message.BodyPlain, pref: bp}, opts)
	}
	return plan{bodyType: message.BodyPlain}
}

// mimePossible reports whether any message could get a MIME body under
// opts, so that the raw bytes need keeping from the start.
func mimePossible(opts Options) bool {
	if opts.MIMESupport == MIMENever {
		return false
	}
	if opts.Version < 120 {
		return true
	}
	// S/MIME goes as MIME even without a MIME preference.
	return opts.MIMESupport >= MIMESMIMEOnly
}

func withPreview(p plan, opts Options) plan {
	if opts.Version >= 140 && p.pref.Preview > 0 {
		p.preview = min(p.pref.Preview, 255)
	}
	return p
}

// limitPref turns a 2.5 truncation size (< 0: none) into a preference.
func limitPref(size int) message.BodyPreference {
	if size < 0 {
		return message.BodyPreference{}
	}
	return message.BodyPreference{TruncationSize: new(uint32(size))}
}

// limit is how much raw MIME to keep (< 0: all).
func (p plan) limit() int {
	if p.pref.TruncationSize == nil {
		return -1
	}
	return int(*p.pref.TruncationSize)
}

// textCap is how much decoded text of one body part is worth keeping:
// with a truncated text body, a few times the truncation size (HTML
// rendered as text shrinks, often by more than half); otherwise
// opts.MaxText. Text beyond it is counted, not decoded, which spares the
// charset conversion and line-end fixing of a 1 MB newsletter when the
// phone shows its first 5 KB.
func (p plan) textCap(opts Options) int {
	if p.wholeText(opts) {
		return opts.MaxText
	}
	return min(opts.MaxText, 8*int(*p.pref.TruncationSize)+16<<10)
}

// wholeText: text parts are kept up to opts.MaxText, not by the
// truncation size.
func (p plan) wholeText(opts Options) bool {
	return p.mime || p.pref.TruncationSize == nil || (opts.Version >= 141 && len(opts.BodyPartPreferences) > 0)
}

// sameType is the media type of a part that becomes the body as it is
// (text/plain for a plain body, text/html for an HTML one), and how much
// of its decoded text a truncated body needs: the truncation size and a
// little more, to know that it was cut. "" when text is kept whole.
func (p plan) sameType(opts Options) (string, int) {
	if p.wholeText(opts) {
		return "", 0
	}
	const slack = 2 << 10
	switch p.bodyType {
	case message.BodyPlain:
		return "text/plain", int(*p.pref.TruncationSize) + slack
	case message.BodyHTML:
		return "text/html", int(*p.pref.TruncationSize) + slack
	}
	return "", 0
}

// needText reports whether text parts must be decoded: for a text body,
// a preview or a BodyPart.
func (p plan) needText(opts Options) bool {
	return !p.mime || p.preview > 0 || (opts.Version >= 141 && len(opts.BodyPartPreferences) > 0)
}
