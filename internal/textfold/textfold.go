// Package textfold turns names and addresses into the search terms of the
// directory and of contact lookups: lower case, accents removed, so that a
// phone's "elodie" finds "Élodie" and "MUELLER" finds "Mueller". Matching
// is by word prefix; Rank tells an exact hit from a prefix one.
package textfold

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// letters that have no decomposition into a base letter and a mark, but
// that a user types as their ASCII look-alikes.
var letters = strings.NewReplacer("ß", "ss", "æ", "ae", "œ", "oe", "ø", "o", "ł", "l", "đ", "d", "ð", "d", "þ", "th", "ı", "i")

// Fold lower-cases s and strips its diacritics.
func Fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, strings.ToLower(s))
	if err != nil {
		out = strings.ToLower(s)
	}
	return letters.Replace(out)
}

// nameSeparators split a name into words: "Jean-Luc O'Brien, Jr." is
// jean-luc, jean, luc, o'brien, o, brien, jr.
func isSpace(r rune) bool {
	return unicode.IsSpace(r) || r == ',' || r == ';' || r == '(' || r == ')' || r == '"'
}

func isJoiner(r rune) bool {
	return r == '-' || r == '\'' || r == '’' || r == '.' || r == '_' || r == '+'
}

// QueryWords are the folded words of a query; each must be the prefix of
// a term of a match.
func QueryWords(q string) []string {
	var out []string
	for w := range strings.FieldsFuncSeq(Fold(q), isSpace) {
		if w = strings.Trim(w, "."); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// NameTerms are the terms of a name: every word, and every part of a
// word joined by a hyphen, apostrophe or dot.
func NameTerms(names ...string) []string {
	var out []string
	for _, n := range names {
		for w := range strings.FieldsFuncSeq(Fold(n), isSpace) {
			w = strings.Trim(w, ".")
			if w == "" {
				continue
			}
			out = append(out, w)
			if strings.ContainsFunc(w, isJoiner) {
				for p := range strings.FieldsFuncSeq(w, isJoiner) {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// AddressTerms are the terms of e-mail addresses: the whole address, and
// the parts of its local part ("jean.luc@x" gives jean and luc too).
func AddressTerms(addrs ...string) []string {
	var out []string
	for _, a := range addrs {
		a = strings.TrimSpace(Fold(a))
		if a == "" {
			continue
		}
		out = append(out, a)
		local, _, _ := strings.Cut(a, "@")
		if local != a {
			out = append(out, local)
		}
		if strings.ContainsFunc(local, isJoiner) {
			for p := range strings.FieldsFuncSeq(local, isJoiner) {
				out = append(out, p)
			}
		}
	}
	return out
}

// Unique sorts nothing; it drops repeated and empty terms, keeping the
// first of each.
func Unique(terms []string) []string {
	seen := make(map[string]bool, len(terms))
	out := terms[:0]
	for _, t := range terms {
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// Rank says how well terms match the query words: Exact when every word
// is a whole term, Prefix when every word begins some term, else None.
func Rank(words, terms []string) Match {
	if len(words) == 0 {
		return None
	}
	m := Exact
	for _, w := range words {
		best := None
		for _, t := range terms {
			if t == w {
				best = Exact
				break
			}
			if strings.HasPrefix(t, w) {
				best = Prefix
			}
		}
		if best == None {
			return None
		}
		m = max(m, best)
	}
	return m
}

// Match is the quality of a match; lower is better.
type Match int

const (
	Exact Match = iota
	Prefix
	None
)
