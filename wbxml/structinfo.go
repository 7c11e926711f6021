package wbxml

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// fieldKind is how a struct field maps to WBXML.
type fieldKind uint8

const (
	kString fieldKind = iota + 1
	kBytes
	kInt
	kUint
	kBool
	kStruct
	kElement // *Element: the raw subtree
	kIface   // interface: the dynamic value (a pointer to a struct, or *Element)
)

type fieldInfo struct {
	name      string // Go field name, for error messages
	index     []int
	tag       Tag
	kind      fieldKind
	slice     bool // repeated element
	ptr       bool // pointer to the value: nil means absent
	opaque    bool // string written as OPAQUE
	omitEmpty bool
	empty     bool // bool written as an empty tag when true, omitted when false
	any       bool // []*Element collecting children no other field takes
	elemType  reflect.Type
}

type structInfo struct {
	root      Tag   // from the WBXMLName field, 0 when absent
	nameIndex []int // index of the WBXMLName field
	fields    []fieldInfo
	byTag     map[Tag]int
	anyField  int // index into fields, -1 when absent
}

type infoKey struct {
	t    reflect.Type
	page byte
}

var infoCache sync.Map // infoKey -> *structInfo or error

var (
	elementType = reflect.TypeFor[*Element]()
)

// typeInfo describes struct type t whose fields default to code page page.
func typeInfo(t reflect.Type, page byte) (*structInfo, error) {
	key := infoKey{t, page}
	if v, ok := infoCache.Load(key); ok {
		if err, isErr := v.(error); isErr {
			return nil, err
		}
		return v.(*structInfo), nil
	}
	si, err := buildInfo(t, page)
	if err != nil {
		infoCache.Store(key, err)
		return nil, err
	}
	infoCache.Store(key, si)
	return si, nil
}

func buildInfo(t reflect.Type, page byte) (*structInfo, error) {
	si := &structInfo{byTag: map[Tag]int{}, anyField: -1}
	cp := pages[page]
	if cp == nil {
		return nil, fmt.Errorf("wbxml: type %s: unknown default page %d", t, page)
	}
	// The WBXMLName field fixes the element of the struct itself and so the
	// default namespace of its fields.
	if f, ok := t.FieldByName("WBXMLName"); ok {
		qname, _, _ := strings.Cut(f.Tag.Get("wbxml"), ",")
		if qname != "" {
			root, err := ParseTag(qname)
			if err != nil {
				return nil, fmt.Errorf("wbxml: type %s: WBXMLName: %w", t, err)
			}
			si.root = root
			cp = pages[root.Page()]
		}
		si.nameIndex = f.Index
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Name == "WBXMLName" {
			continue
		}
		spec := f.Tag.Get("wbxml")
		if spec == "-" {
			continue
		}
		name, opts, _ := strings.Cut(spec, ",")
		if name == "" {
			name = f.Name
		}
		fi := fieldInfo{name: f.Name, index: f.Index}
		for _, o := range strings.Split(opts, ",") {
			switch o {
			case "":
			case "opaque":
				fi.opaque = true
			case "omitempty":
				fi.omitEmpty = true
			case "empty":
				fi.empty = true
			case "any":
				fi.any = true
			default:
				return nil, fmt.Errorf("wbxml: type %s field %s: unknown option %q", t, f.Name, o)
			}
		}
		if fi.any {
			if f.Type != reflect.TypeFor[[]*Element]() {
				return nil, fmt.Errorf("wbxml: type %s field %s: option any needs []*Element", t, f.Name)
			}
			fi.kind, fi.slice = kElement, true
			si.anyField = len(si.fields)
			si.fields = append(si.fields, fi)
			continue
		}
		tag, ok := resolve(MakeTag(cp.Number, 0), name)
		if !ok {
			return nil, fmt.Errorf("wbxml: type %s field %s: unknown element %q in namespace %s", t, f.Name, name, cp.Name)
		}
		fi.tag = tag
		ft := f.Type
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() != reflect.Uint8 {
			fi.slice = true
			ft = ft.Elem()
		}
		if ft == elementType {
			fi.kind = kElement
		} else if ft.Kind() == reflect.Interface {
			fi.kind = kIface
		} else {
			if ft.Kind() == reflect.Pointer {
				fi.ptr = true
				ft = ft.Elem()
			}
			switch ft.Kind() {
			case reflect.String:
				fi.kind = kString
			case reflect.Slice:
				fi.kind = kBytes
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
				fi.kind = kInt
			case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
				fi.kind = kUint
			case reflect.Bool:
				fi.kind = kBool
			case reflect.Struct:
				fi.kind = kStruct
			default:
				return nil, fmt.Errorf("wbxml: type %s field %s: unsupported type %s", t, f.Name, f.Type)
			}
		}
		fi.elemType = ft
		if _, dup := si.byTag[tag]; dup {
			return nil, fmt.Errorf("wbxml: type %s: two fields map to %s", t, tag)
		}
		si.byTag[tag] = len(si.fields)
		si.fields = append(si.fields, fi)
	}
	return si, nil
}
