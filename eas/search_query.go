package eas

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/wbxml"
)

// errTooComplex: a query easd cannot run (Or, ConversationId outside
// And, an unknown element): Store Status 8.
var errTooComplex = errors.New("search query too complex")

// parseMailQuery reads the Query of a mailbox Search into q: And (at any
// depth), FreeText, airsync:CollectionId, airsync:Class,
// GreaterThan/LessThan on email:DateReceived, and ConversationId (as a
// child of And, MS-ASCMD 2.2.3.35.2). noMail is set when the query names
// only classes other than Email: it matches no message.
func parseMailQuery(query *wbxml.Element, q *mailQuery) (noMail bool, err error) {
	if query == nil {
		return false, fmt.Errorf("%w: no Query", errTooComplex)
	}
	var classes []string
	var texts []string
	var walk func(e *wbxml.Element, inAnd bool) error
	walk = func(e *wbxml.Element, inAnd bool) error {
		for _, c := range e.Children {
			switch c.Tag.Namespace() + ":" + c.Tag.Name() {
			case "Search:And":
				if err := walk(c, true); err != nil {
					return err
				}
			case "Search:FreeText":
				if t := strings.TrimSpace(c.Text); t != "" {
					texts = append(texts, t)
				}
			case "AirSync:CollectionId":
				q.collection = strings.TrimSpace(c.Text)
			case "AirSync:Class":
				classes = append(classes, strings.TrimSpace(c.Text))
			case "Search:ConversationId":
				if !inAnd {
					return fmt.Errorf("%w: ConversationId outside And", errTooComplex)
				}
				q.conversation = c.Opaque
				if q.conversation == nil {
					q.conversation = []byte(c.Text)
				}
			case "Search:GreaterThan", "Search:LessThan":
				t, err := dateBound(c)
				if err != nil {
					return err
				}
				if c.Tag.Name() == "GreaterThan" {
					q.since = t
				} else {
					q.before = t
				}
			case "Search:EqualTo":
				// EqualTo names a property and a value; only the
				// conversation is supported (by its own element).
				return fmt.Errorf("%w: EqualTo", errTooComplex)
			default:
				return fmt.Errorf("%w: %s:%s", errTooComplex, c.Tag.Namespace(), c.Tag.Name())
			}
		}
		return nil
	}
	if err := walk(query, false); err != nil {
		return false, err
	}
	// A phone's search box is one phrase; several FreeText elements are
	// read as one.
	q.text = strings.Join(texts, " ")
	if len(classes) > 0 {
		noMail = true
		for _, c := range classes {
			if c == string(model.ClassEmail) {
				noMail = false
			}
		}
	}
	return noMail, nil
}

// dateBound reads <GreaterThan|LessThan><email:DateReceived/><Value>
// date</Value></...>.
func dateBound(e *wbxml.Element) (time.Time, error) {
	if e.Child("Email:DateReceived") == nil {
		return time.Time{}, fmt.Errorf("%w: %s without email:DateReceived", errTooComplex, e.Tag.Name())
	}
	v := e.ChildText("Value")
	t, err := model.ParseDateTime(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: date %q", errTooComplex, v)
	}
	return t, nil
}
