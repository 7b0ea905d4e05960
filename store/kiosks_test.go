package store_test

import (
	"testing"
	"time"

	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/store"
)

// A desk's screen and marks name its incarnation: another incarnation of
// the id sees and answers nothing of them. Forgetting a desk's dossiers
// spares one presented at another desk since.
func TestKioskMarksNameTheDesksIncarnation(t *testing.T) {
	k := &store.Kiosks{R: testenv.Redis(t), Name: testenv.RandomID()}
	old, now := store.DeskRef{ID: "quay-1", Incarnation: "aaaa"}, store.DeskRef{ID: "quay-1", Incarnation: "bbbb"}
	other := store.DeskRef{ID: "quay-2", Incarnation: "cccc"}
	shown := time.Now().Add(-time.Minute).Truncate(time.Millisecond).UTC()
	for _, inv := range []string{"inv-1", "inv-2"} {
		if err := k.Present(ctx, old, &store.Presented{Invitation: inv, Survey: "sipas-5", At: shown}, "tok-"+inv, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := k.Current(ctx, old); err != nil || p == nil || p.Invitation != "inv-2" {
		t.Fatalf("the incarnation's screen: %+v %v", p, err)
	}
	if p, err := k.Current(ctx, now); err != nil || p != nil {
		t.Fatalf("another incarnation's screen: %+v %v", p, err)
	}
	if desk, token, at, err := k.PresentedAt(ctx, "inv-1"); err != nil || desk != old || token != "tok-inv-1" || !at.Equal(shown) {
		t.Fatalf("mark: %v %q at %v (%v), want presented at %v", desk, token, at, err, shown)
	}
	_ = k.Present(ctx, other, &store.Presented{Invitation: "inv-2", Survey: "sipas-5"}, "tok-inv-2", time.Hour)

	invs, err := k.PresentedAtDesk(ctx, "quay-1")
	if err != nil || len(invs) != 2 {
		t.Fatalf("presented at quay-1: %v %v", invs, err)
	}
	if err := k.ForgetPresented(ctx, "quay-1", invs); err != nil {
		t.Fatal(err)
	}
	if desk, _, _, _ := k.PresentedAt(ctx, "inv-1"); desk.ID != "" {
		t.Fatalf("inv-1 still presented at %v", desk)
	}
	if desk, _, _, _ := k.PresentedAt(ctx, "inv-2"); desk != other {
		t.Fatalf("inv-2, presented at quay-2 since, is at %v", desk)
	}
	if invs, _ := k.PresentedAtDesk(ctx, "quay-1"); len(invs) != 0 {
		t.Fatalf("list left: %v", invs)
	}
}

// A desk keeps its incarnation through changes; registered again after a
// delete, it has another.
func TestDeskIncarnation(t *testing.T) {
	m := testenv.Mongo(t)
	save := func() string {
		t.Helper()
		d := &store.Desk{ID: "quay-i", Agency: "000.00.12.H49", Name: "Quầy I", Form: "short", CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := m.Desks.Save(ctx, d, false); err != nil || d.Incarnation == "" || d.Name != "Quầy I" {
			t.Fatalf("save: %+v %v", d, err)
		}
		return d.Incarnation
	}
	first := save()
	if again := save(); again != first {
		t.Fatalf("a change made a new incarnation: %s, was %s", again, first)
	}
	if err := m.Desks.Delete(ctx, "quay-i"); err != nil {
		t.Fatal(err)
	}
	if again := save(); again == first {
		t.Fatalf("registered again, the desk kept incarnation %s", first)
	}
}
