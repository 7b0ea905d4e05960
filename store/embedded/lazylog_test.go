package embedded

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// countWith counts the With calls that reach the handler below.
type countWith struct {
	slog.Handler
	n *int
}

func (c countWith) WithAttrs(a []slog.Attr) slog.Handler {
	*c.n++
	return countWith{c.Handler.WithAttrs(a), c.n}
}

func (c countWith) WithGroup(g string) slog.Handler {
	*c.n++
	return countWith{c.Handler.WithGroup(g), c.n}
}

func TestLazyAttrsFormatOnlyWhatIsLogged(t *testing.T) {
	var buf bytes.Buffer
	n := 0
	base := countWith{slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}), &n}
	log := slog.New(lazy(base))

	// What FerretDB does for every statement: a Debug record With the
	// statement's arguments, dropped at Info.
	for range 100 {
		log.With("args", strings.Repeat("x", 1000)).Debug(">>> INSERT")
	}
	if n != 0 || buf.Len() != 0 {
		t.Fatalf("dropped records reached the handler: %d With calls, output %q", n, buf.String())
	}

	c := log.With("conn", "1").WithGroup("g").With("a", 1)
	c.Info("kept", "b", 2)
	c.With("d", 3).Error("again")
	got := buf.String()
	for _, want := range []string{`msg=kept conn=1 g.a=1 g.b=2`, `msg=again conn=1 g.a=1 g.d=3`} {
		if !strings.Contains(got, want) {
			t.Errorf("output %q has no %q", got, want)
		}
	}
}
