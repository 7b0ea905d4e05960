package gwtest

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
	"strings"

	"github.com/andybalholm/brotli"
)

// Encode compresses body with each coding of a Content-Encoding list, in
// the order listed (the first is applied first): gzip, deflate (zlib, as
// HTTP means it), br, and identity (nothing).
func Encode(codings string, body []byte) []byte {
	return encode(codings, bytes.NewReader(body))
}

// Bomb is size zero bytes under codings, made without holding them: 256 MB
// is about 1.2 KB under "gzip, gzip" or "deflate, deflate", 400 bytes
// under "br".
func Bomb(codings string, size int64) []byte {
	return encode(codings, io.LimitReader(zeros{}, size))
}

func encode(codings string, r io.Reader) []byte {
	var out bytes.Buffer
	for _, coding := range strings.Split(codings, ",") {
		out = bytes.Buffer{}
		w := writer(strings.TrimSpace(coding), &out)
		if _, err := io.Copy(w, r); err != nil {
			panic(err) // writing to memory
		}
		if err := w.Close(); err != nil {
			panic(err)
		}
		r = bytes.NewReader(out.Bytes())
	}
	return out.Bytes()
}

func writer(coding string, w io.Writer) io.WriteCloser {
	switch coding {
	case "gzip":
		z, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
		return z
	case "deflate":
		z, _ := zlib.NewWriterLevel(w, zlib.BestCompression)
		return z
	case "br":
		return brotli.NewWriterLevel(w, 4) // 256 MB of zeros in 400 bytes; 11 takes 20 s
	case "identity":
		return nopCloser{w}
	}
	panic("gwtest: no coding " + coding)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
