package embedded

import (
	"context"
	"log/slog"
	"slices"
)

// lazyAttrs is a slog.Handler that applies a logger's With attributes and
// groups only to the records it logs. FerretDB 1.24 makes a logger With
// every SQL statement's arguments (a whole document, as JSON text) for two
// Debug records, and slog's text and JSON handlers format attributes at
// With, enabled or not: at the Info level that quoting was about a tenth
// of FerretDB's CPU for every write, for records that are dropped. The
// cost moves to the records logged, which are few below Debug.
type lazyAttrs struct {
	base slog.Handler
	with []func(slog.Handler) slog.Handler // in order
}

func lazy(h slog.Handler) slog.Handler { return lazyAttrs{base: h} }

func (h lazyAttrs) Enabled(ctx context.Context, l slog.Level) bool { return h.base.Enabled(ctx, l) }

func (h lazyAttrs) Handle(ctx context.Context, r slog.Record) error {
	b := h.base
	for _, w := range h.with {
		b = w(b)
	}
	return b.Handle(ctx, r)
}

func (h lazyAttrs) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	return lazyAttrs{h.base, append(slices.Clip(h.with), func(b slog.Handler) slog.Handler { return b.WithAttrs(as) })}
}

func (h lazyAttrs) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return lazyAttrs{h.base, append(slices.Clip(h.with), func(b slog.Handler) slog.Handler { return b.WithGroup(name) })}
}
