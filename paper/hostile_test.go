package paper

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// hostilePDFs are layouts built to make a naive parser quadratic or
// exponential; each must be refused or read in bounded time.
func hostilePDFs() map[string][]byte {
	out := map[string][]byte{}
	var b bytes.Buffer

	// Objects that each open an array or a string and never close it, each
	// mentioning /ObjStm so that a rebuild looks at every one.
	b.WriteString("%PDF-1.4\n")
	for i := 1; i < 30_000; i++ {
		fmt.Fprintf(&b, "%d 0 obj [ /ObjStm (\n", i)
	}
	out["unclosed objects"] = bytes.Clone(b.Bytes())

	// Streams without endstream nor a usable /Length.
	b.Reset()
	b.WriteString("%PDF-1.4\n")
	for i := 1; i < 20_000; i++ {
		fmt.Fprintf(&b, "%d 0 obj << /Type /ObjStm /Length 999999999 >> stream\nxx\n", i)
	}
	out["streams without end"] = bytes.Clone(b.Bytes())

	// A page tree whose nodes all share one long kids array.
	b.Reset()
	b.WriteString("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n")
	b.WriteString("2 0 obj << /Type /Pages /Kids 3 0 R >> endobj\n3 0 obj [")
	for i := 10; i < 20_010; i++ {
		fmt.Fprintf(&b, " %d 0 R", i)
	}
	b.WriteString("] endobj\n")
	for i := 10; i < 20_010; i++ {
		fmt.Fprintf(&b, "%d 0 obj << /Type /Pages /Kids 3 0 R >> endobj\n", i)
	}
	b.WriteString("trailer << /Root 1 0 R >>\n")
	out["shared kids"] = bytes.Clone(b.Bytes())

	// A page that draws a form a hundred thousand times, the form a large
	// content stream of its own.
	form := strings.Repeat("0 0 m 1 1 l S ", 70_000)
	page := strings.Repeat("/Fm0 Do ", 100_000)
	b.Reset()
	b.WriteString("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n")
	b.WriteString("2 0 obj << /Type /Pages /Kids [3 0 R] >> endobj\n")
	b.WriteString("3 0 obj << /Type /Page /Resources << /XObject << /Fm0 5 0 R >> >> /Contents 4 0 R >> endobj\n")
	fmt.Fprintf(&b, "4 0 obj << /Length %d >> stream\n%s\nendstream endobj\n", len(page), page)
	fmt.Fprintf(&b, "5 0 obj << /Subtype /Form /Length %d >> stream\n%s\nendstream endobj\n", len(form), form)
	b.WriteString("trailer << /Root 1 0 R >>\n")
	out["form drawn often"] = bytes.Clone(b.Bytes())

	// Arrays nested far deeper than any real file.
	out["deep nesting"] = []byte("%PDF-1.4\n1 0 obj " + strings.Repeat("[", 1_000_000) + "\ntrailer << /Root 1 0 R >>\n")

	// References that chain through every object.
	b.Reset()
	b.WriteString("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n")
	for i := 2; i < 20_000; i++ {
		fmt.Fprintf(&b, "%d 0 obj %d 0 R endobj\n", i, i+1)
	}
	b.WriteString("20000 0 obj 2 0 R endobj\ntrailer << /Root 1 0 R >>\n")
	out["reference chain"] = bytes.Clone(b.Bytes())
	return out
}

func TestPDFHostileLayouts(t *testing.T) {
	for name, file := range hostilePDFs() {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, err := collect(t, file, Limits{})
			if err != nil {
				wantFormatError(t, err, "PDF", fePage(err), "")
			}
			t.Logf("%d bytes in %v: %v", len(file), time.Since(start), err)
		})
	}
}

func fePage(err error) int {
	if fe, ok := err.(*FormatError); ok {
		return fe.Page
	}
	return -2
}
