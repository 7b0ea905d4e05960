package channels

import (
	"testing"

	"github.com/gofiber/fiber/v2"
)

type fake Type

func (f fake) Type() Type             { return Type(f) }
func (f fake) Mount(*fiber.App, Deps) {}

func TestRegisterPanicsOnEmptyAndDuplicate(t *testing.T) {
	defer func() { registry = map[Type]Channel{} }()
	Register(fake("x.one"))
	for _, c := range []fake{"", "x.one"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", c)
				}
			}()
			Register(c)
		}()
	}
	if len(All()) != 1 {
		t.Fatal(All())
	}
}
