package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/store"
)

// unreadView is a reply not understood, with the line it makes in the
// reader's test table once resolved.
type unreadView struct {
	store.UnreadReply
	TestCase string `json:"test_case,omitempty"`
}

type unreadList struct {
	Replies []unreadView `json:"replies"`
}

// unreadDone is a reply resolved (with the response it made) or dismissed.
type unreadDone struct {
	Reply      unreadView `json:"reply"`
	ResponseID string     `json:"response_id,omitempty"`
}

func (a *API) viewUnread(u *store.UnreadReply) unreadView {
	return unreadView{UnreadReply: *u, TestCase: a.Core.TestCase(u)}
}

// unreadReplies lists replies not understood:
// GET /api/v1/unread-replies?status=open&before=RFC3339&limit=100.
func (a *API) unreadReplies(c *fiber.Ctx) error {
	var before time.Time
	if v := c.Query("before"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return core.Errorf(core.Invalid, "before", "%q is not an RFC 3339 time; give the at of the last reply of the previous page", v)
		}
		before = t
	}
	limit := c.QueryInt("limit", 100)
	if limit < 1 || limit > 500 {
		return core.Errorf(core.Invalid, "limit", "use 1 to 500")
	}
	us, err := a.Core.UnreadReplies(c.UserContext(), Principal(c), c.Query("status", store.UnreadOpen), before, int64(limit))
	if err != nil {
		return err
	}
	out := make([]unreadView, len(us))
	for i := range us {
		out[i] = a.viewUnread(&us[i])
	}
	return c.JSON(unreadList{Replies: out})
}

// unreadReply is GET /api/v1/unread-replies/{id}.
func (a *API) unreadReply(c *fiber.Ctx) error {
	u, err := a.Core.UnreadReply(c.UserContext(), Principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(a.viewUnread(u))
}

// resolveUnread is POST /api/v1/unread-replies/{id}/resolve
// {"scores": {"A": 5, …}, "comment": "…"}.
func (a *API) resolveUnread(c *fiber.Ctx) error {
	var in core.UnreadInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	u, r, err := a.Core.ResolveUnread(c.UserContext(), Principal(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(unreadDone{Reply: a.viewUnread(u), ResponseID: r.ID})
}

// dismissUnread is POST /api/v1/unread-replies/{id}/dismiss {"note": "…"}.
func (a *API) dismissUnread(c *fiber.Ctx) error {
	var in core.UnreadInput
	if len(c.Body()) > 0 {
		if err := decodeJSON(c, &in); err != nil {
			return err
		}
	}
	u, err := a.Core.DismissUnread(c.UserContext(), Principal(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(unreadDone{Reply: a.viewUnread(u)})
}
