package wbxml

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"strconv"
)

// Marshal encodes v, a struct or pointer to struct with a WBXMLName field,
// as a WBXML document. See the package documentation for the field tags.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := NewEncoder(&b)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Encode writes v as an element: the root element of the document, or a
// child of the open element when called between Start and End.
func (e *Encoder) Encode(v any) error {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return fmt.Errorf("wbxml: Encode of nil %s", rv.Type())
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return fmt.Errorf("wbxml: Encode of %s: want a struct", rv.Type())
	}
	si, err := typeInfo(rv.Type(), 0)
	if err != nil {
		return err
	}
	if si.root == 0 {
		return fmt.Errorf("wbxml: Encode of %s: no WBXMLName field with a tag", rv.Type())
	}
	return e.encodeStruct(si.root, rv)
}

// EncodeElement writes v as element t.
func (e *Encoder) EncodeElement(t Tag, v any) error {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return fmt.Errorf("wbxml: EncodeElement of %s: want a struct", rv.Type())
	}
	return e.encodeStruct(t, rv)
}

func (e *Encoder) encodeStruct(t Tag, rv reflect.Value) error {
	si, err := typeInfo(rv.Type(), t.Page())
	if err != nil {
		return err
	}
	if err := e.Start(t); err != nil {
		return err
	}
	for i := range si.fields {
		fi := &si.fields[i]
		fv := rv.FieldByIndex(fi.index)
		if fi.slice {
			for j := 0; j < fv.Len(); j++ {
				if err := e.encodeValue(fi, fv.Index(j)); err != nil {
					return err
				}
			}
			continue
		}
		if err := e.encodeValue(fi, fv); err != nil {
			return err
		}
	}
	return e.End()
}

func (e *Encoder) encodeValue(fi *fieldInfo, v reflect.Value) error {
	if fi.kind == kIface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
		if v.Type() == elementType {
			return v.Interface().(*Element).EncodeTo(e)
		}
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return nil
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return fmt.Errorf("wbxml: field %s holds %s, want a struct", fi.name, v.Type())
		}
		return e.encodeStruct(fi.tag, v)
	}
	if fi.kind == kElement {
		el := v.Interface().(*Element)
		if el == nil {
			return nil
		}
		return el.EncodeTo(e)
	}
	if fi.ptr {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	} else if fi.omitEmpty && v.IsZero() {
		return nil
	}
	switch fi.kind {
	case kString:
		if fi.opaque {
			return e.opaqueElement(fi.tag, []byte(v.String()))
		}
		return e.Element(fi.tag, v.String())
	case kBytes:
		return e.opaqueElement(fi.tag, v.Bytes())
	case kInt:
		return e.Element(fi.tag, strconv.FormatInt(v.Int(), 10))
	case kUint:
		return e.Element(fi.tag, strconv.FormatUint(v.Uint(), 10))
	case kBool:
		if fi.empty {
			if v.Bool() {
				return e.Empty(fi.tag)
			}
			return nil
		}
		if v.Bool() {
			return e.Element(fi.tag, "1")
		}
		return e.Element(fi.tag, "0")
	case kStruct:
		return e.encodeStruct(fi.tag, v)
	}
	return fmt.Errorf("wbxml: field %s: unsupported kind", fi.name)
}

func (e *Encoder) opaqueElement(t Tag, b []byte) error {
	if err := e.Start(t); err != nil {
		return err
	}
	if err := e.Opaque(b); err != nil {
		return err
	}
	return e.End()
}

// Unmarshal decodes the WBXML document data into v, a pointer to a struct.
func Unmarshal(data []byte, v any) error {
	// The document is in memory already: a buffer the size of it (the
	// decoder reads byte by byte, any size works) instead of the 64 KiB a
	// stream gets. A client decoding many small answers zeroed and
	// collected those buffers more than it decoded.
	d := newDecoder(bytes.NewReader(data), Limits{}, min(max(len(data), 1), readBufferSize))
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Next(); err != io.EOF {
		if err == nil {
			err = fmt.Errorf("wbxml: data after the root element: %w", ErrMalformed)
		}
		return err
	}
	return nil
}

// Decode reads the next element into v, a pointer to a struct. When v has
// a WBXMLName field with a tag, the element must be that one.
func (d *Decoder) Decode(v any) error {
	var tok Token
	for {
		var err error
		tok, err = d.Next()
		if err != nil {
			return err
		}
		if tok.Kind == StartTag {
			break
		}
		if tok.Kind == EndTag {
			return &SyntaxError{Offset: tok.Offset, Msg: "no element to decode", Err: ErrMalformed}
		}
	}
	return d.DecodeElement(v, tok)
}

// DecodeElement reads the element opened by start into v, a pointer to a
// struct. Children without a matching field are skipped (or collected by a
// field with the option any); a handler that wants to stream one large
// child reads the tokens itself instead.
func (d *Decoder) DecodeElement(v any, start Token) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("wbxml: Decode into %T: want a non-nil pointer to a struct", v)
	}
	rv = rv.Elem()
	si, err := typeInfo(rv.Type(), start.Tag.Page())
	if err != nil {
		return err
	}
	if si.root != 0 && si.root != start.Tag {
		return &SyntaxError{Offset: start.Offset, Msg: fmt.Sprintf("element %s, want %s", start.Tag, si.root), Err: ErrMalformed}
	}
	return d.decodeStruct(rv, start)
}

func (d *Decoder) decodeStruct(rv reflect.Value, start Token) error {
	si, err := typeInfo(rv.Type(), start.Tag.Page())
	if err != nil {
		return err
	}
	if si.nameIndex != nil {
		if f := rv.FieldByIndex(si.nameIndex); f.Type() == reflect.TypeFor[Tag]() {
			f.Set(reflect.ValueOf(start.Tag))
		}
	}
	for {
		tok, err := d.Next()
		if err != nil {
			return err
		}
		switch tok.Kind {
		case EndTag:
			return nil
		case String, Opaque:
			continue // text of a container element carries no meaning
		}
		i, ok := si.byTag[tok.Tag]
		if !ok {
			if si.anyField < 0 {
				if err := d.Skip(); err != nil {
					return err
				}
				continue
			}
			i = si.anyField
		}
		if err := d.decodeField(&si.fields[i], rv.FieldByIndex(si.fields[i].index), tok); err != nil {
			return err
		}
	}
}

func (d *Decoder) decodeField(fi *fieldInfo, fv reflect.Value, start Token) error {
	target := fv
	if fi.slice {
		target = reflect.New(fv.Type().Elem()).Elem()
	}
	if err := d.decodeValue(fi, target, start); err != nil {
		return err
	}
	if fi.slice {
		fv.Set(reflect.Append(fv, target))
	}
	return nil
}

func (d *Decoder) decodeValue(fi *fieldInfo, v reflect.Value, start Token) error {
	if fi.kind == kIface {
		// A pointer to a struct placed in the field beforehand says what to
		// decode into; otherwise the field receives the raw *Element.
		if !v.IsNil() && v.Elem().Kind() == reflect.Pointer && !v.Elem().IsNil() && v.Elem().Elem().Kind() == reflect.Struct {
			return d.decodeStruct(v.Elem().Elem(), start)
		}
		el, err := d.ReadElement(start)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(el))
		return nil
	}
	if fi.kind == kElement {
		el, err := d.ReadElement(start)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(el))
		return nil
	}
	if fi.ptr {
		p := reflect.New(fi.elemType)
		v.Set(p)
		v = p.Elem()
	}
	if fi.kind == kStruct {
		return d.decodeStruct(v, start)
	}
	content, err := d.leafContent()
	if err != nil {
		return err
	}
	bad := func(what string) error {
		return &SyntaxError{Offset: start.Offset, Msg: fmt.Sprintf("%s: %s %q", start.Tag, what, content), Err: ErrMalformed}
	}
	switch fi.kind {
	case kString:
		v.SetString(string(content))
	case kBytes:
		v.SetBytes(bytes.Clone(content))
	case kInt:
		n, err := strconv.ParseInt(string(content), 10, v.Type().Bits())
		if err != nil {
			return bad("not an integer")
		}
		v.SetInt(n)
	case kUint:
		n, err := strconv.ParseUint(string(content), 10, v.Type().Bits())
		if err != nil {
			return bad("not an unsigned integer")
		}
		v.SetUint(n)
	case kBool:
		switch string(content) {
		case "", "1", "true":
			// An empty element is a flag that is present.
			v.SetBool(true)
		case "0", "false":
			v.SetBool(false)
		default:
			return bad("not a boolean")
		}
	}
	return nil
}

// leafContent reads the content of a scalar element up to its end. Nested
// elements are a structure error.
func (d *Decoder) leafContent() ([]byte, error) {
	var out []byte
	for {
		tok, err := d.Next()
		if err != nil {
			return nil, err
		}
		switch tok.Kind {
		case EndTag:
			return out, nil
		case StartTag:
			return nil, &SyntaxError{Offset: tok.Offset, Msg: fmt.Sprintf("element %s inside a value", tok.Tag), Err: ErrMalformed}
		default:
			b, err := d.Bytes()
			if err != nil {
				return nil, err
			}
			out = append(out, b...)
		}
	}
}
