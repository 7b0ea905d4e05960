package server

import (
	"encoding/json"
	"reflect"
	"strings"
	"time"
	"unicode"
)

// schemas derives the OpenAPI schemas of answers and bodies from the Go
// types the handlers encode, so the document describes what the code
// sends: a named struct becomes a component (referenced by $ref), other
// types are written inline. The fields are those encoding/json writes;
// one without omitempty is always there, so it is required; one tagged
// nullable:"true" (a pointer) may be null.
type schemas struct {
	components map[string]any
	names      map[reflect.Type]string
	taken      map[string]reflect.Type
	enums      map[reflect.Type]enum
}

// enum is a string type with a closed set of values, and its component
// name.
type enum struct {
	name   string
	values []string
}

func newSchemas(enums map[reflect.Type]enum) *schemas {
	return &schemas{components: map[string]any{}, names: map[reflect.Type]string{}, taken: map[string]reflect.Type{}, enums: enums}
}

var (
	timeType = reflect.TypeOf(time.Time{})
	rawType  = reflect.TypeOf(json.RawMessage{})
)

// of returns the schema of values of t.
func (s *schemas) of(t reflect.Type) map[string]any {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if e, ok := s.enums[t]; ok {
		s.components[e.name] = map[string]any{"type": "string", "enum": e.values}
		return map[string]any{"$ref": "#/components/schemas/" + e.name}
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return map[string]any{"type": "integer", "format": "int32"}
	case reflect.Int64, reflect.Uint64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number", "format": "double"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "format": "byte"}
		}
		return map[string]any{"type": "array", "items": s.of(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": s.of(t.Elem())}
	case reflect.Interface:
		return map[string]any{} // any JSON value but null (OpenAPI 3.0 has no type for "anything")
	case reflect.Struct:
		if t.Name() == "" {
			return s.object(t)
		}
		name, ok := s.names[t]
		if !ok {
			name = s.name(t)
			s.names[t] = name
			s.components[name] = map[string]any{} // a recursive type finds its name
			s.components[name] = s.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	panic("openapi: no schema for " + t.String())
}

// name is a component name for t: its Go name, exported, without a
// trailing "View"; the package's name in front when two packages share it.
func (s *schemas) name(t reflect.Type) string {
	n := []rune(strings.TrimSuffix(t.Name(), "View"))
	n[0] = unicode.ToUpper(n[0])
	name := string(n)
	if other, ok := s.taken[name]; ok && other != t {
		pkg := []rune(t.PkgPath()[strings.LastIndex(t.PkgPath(), "/")+1:])
		pkg[0] = unicode.ToUpper(pkg[0])
		name = string(pkg) + name
	}
	s.taken[name] = t
	return name
}

// object is a struct's schema: its JSON fields, embedded structs' fields
// in line.
func (s *schemas) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft)
					continue
				}
			}
			if name == "" {
				name = f.Name
			}
			p := s.of(f.Type)
			if f.Tag.Get("nullable") == "true" {
				p = nullable(p) // always there, null when unknown
			}
			if doc := f.Tag.Get("doc"); doc != "" {
				p = withDescription(p, doc)
			}
			props[name] = p
			if !strings.Contains(opts, "omitempty") {
				required = append(required, name)
			}
		}
	}
	walk(t)
	// No other field: one a handler sends that its type does not declare
	// fails the tests' answer checks.
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// withDescription describes p; a $ref cannot carry siblings in OpenAPI
// 3.0, so it goes in an allOf.
func withDescription(p map[string]any, doc string) map[string]any {
	if _, ok := p["$ref"]; ok {
		return map[string]any{"allOf": []any{p}, "description": doc}
	}
	p["description"] = doc
	return p
}

// nullable lets p be null too; a $ref cannot carry siblings in OpenAPI
// 3.0, so it goes in an allOf.
func nullable(p map[string]any) map[string]any {
	if _, ok := p["$ref"]; ok {
		return map[string]any{"allOf": []any{p}, "nullable": true}
	}
	p["nullable"] = true
	return p
}
