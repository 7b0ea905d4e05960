package config

import (
	"flag"
	"fmt"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// field is one setting seen through its struct tags.
type field struct {
	env, help string
	secret    bool
	value     reflect.Value
}

func fields(cfg *Config) []field {
	v := reflect.ValueOf(cfg).Elem()
	t := v.Type()
	out := make([]field, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		out = append(out, field{env: f.Tag.Get("env"), help: f.Tag.Get("help"), secret: f.Tag.Get("secret") == "true", value: v.Field(i)})
	}
	return out
}

// flagName turns GATEWAY_BASE_URL into base-url.
func flagName(env string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(env, "GATEWAY_")), "_", "-")
}

func set(f field, raw string) error {
	switch f.value.Kind() {
	case reflect.String:
		f.value.SetString(raw)
	case reflect.Int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("%s: %q is not a whole number", f.env, raw)
		}
		f.value.SetInt(int64(n))
	case reflect.Int64: // time.Duration
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("%s: %q is not a duration; write it like 720h, 15s or 500ms", f.env, raw)
		}
		f.value.SetInt(int64(d))
	case reflect.Float64:
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s: %q is not a number; write it like 2 or 1.5", f.env, raw)
		}
		f.value.SetFloat(v)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("%s: %q is not true or false", f.env, raw)
		}
		f.value.SetBool(b)
	}
	return nil
}

// applyEnv reads GATEWAY_* variables; a secret may come from NAME_FILE instead.
func applyEnv(cfg *Config, getenv func(string) string) error {
	for _, f := range fields(cfg) {
		raw := getenv(f.env)
		if path := getenv(f.env + "_FILE"); raw == "" && path != "" && f.secret {
			b, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("%s_FILE: %w", f.env, err)
			}
			raw = strings.TrimSpace(string(b))
		}
		if raw == "" {
			continue
		}
		if err := set(f, raw); err != nil {
			return err
		}
	}
	return nil
}

// boolText is a boolean setting's flag: it may be given bare (-pprof), as the
// flag package allows for its own bools, and keeps the text for set to parse.
type boolText struct{ text string }

func (b *boolText) String() string     { return b.text }
func (b *boolText) Set(s string) error { b.text = s; return nil }
func (b *boolText) IsBoolFlag() bool   { return true }

// bindFlags declares one flag per setting and returns a function that applies
// the flags the user actually gave, so flags win over the file and environment.
func bindFlags(fs *flag.FlagSet) func(*Config) error {
	vals := map[string]*string{}
	for _, f := range fields(&Config{}) {
		name, usage := flagName(f.env), f.help+" ("+f.env+")"
		if f.value.Kind() == reflect.Bool {
			b := &boolText{}
			fs.Var(b, name, usage)
			vals[f.env] = &b.text
			continue
		}
		vals[f.env] = fs.String(name, "", usage)
	}
	return func(cfg *Config) error {
		given := map[string]bool{}
		fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
		for _, f := range fields(cfg) {
			if given[flagName(f.env)] {
				if err := set(f, *vals[f.env]); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

// Table lists every setting as (variable, file key, default, meaning) for the
// README and for -help.
func Table() [][4]string {
	d := Defaults()
	t := reflect.TypeOf(d)
	var rows [][4]string
	for i, f := range fields(&d) {
		def := fmt.Sprint(f.value.Interface())
		if def == "" {
			def = "unset"
		}
		rows = append(rows, [4]string{f.env, t.Field(i).Tag.Get("yaml"), def, f.help})
	}
	return rows
}
