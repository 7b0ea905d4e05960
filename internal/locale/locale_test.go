package locale

import (
	"math"
	"testing"
	"time"
)

func TestFormats(t *testing.T) {
	day := time.Date(2026, 12, 6, 14, 5, 0, 0, time.UTC)
	for _, c := range []struct{ got, want string }{
		{Int("vi", 1234567), "1.234.567"},
		{Int("en", 1234567), "1,234,567"},
		{Int("vi", -1000), "-1.000"},
		{Int("vi", 999), "999"},
		{Int("vi", 0), "0"},
		{Fixed("vi", 3.6949, 2), "3,69"},
		{Fixed("en", 3.6951, 2), "3.70"},
		{Fixed("vi", 12345.5, 1), "12.345,5"},
		{Fixed("vi", -0.001, 2), "0,00"},
		{Fixed("vi", math.NaN(), 2), "–"},
		{Fixed("vi", 7, 0), "7"},
		{Percent("vi", 95.7612, 2), "95,76%"},
		{Percent("en", 95.7612, 2), "95.76%"},
		{Percent("vi", math.Inf(1), 2), "–"},
		{Signed("vi", 1.254, 2), "+1,25"},
		{Signed("vi", -0.4, 2), "−0,40"},
		{Signed("vi", -0.001, 2), "0,00"},
		{Date("vi", day), "06/12/2026"},
		{Date("en", day), "6 Dec 2026"},
		{DateTime("vi", day), "06/12/2026 14:05"},
		{Month("vi", "2025-01"), "01/2025"},
		{Month("en", "2025-01"), "Jan 2025"},
		{Month("vi", "bad"), "bad"},
		{Months("vi", "2025-01", "2025-12"), "01/2025–12/2025"},
		{Months("vi", "2025-03", "2025-03"), "03/2025"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
