package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/store"
)

// DeskView is a desk as the API shows it: its tablets, never their tokens.
type DeskView struct {
	store.Desk
	Devices    []store.KioskDevice `json:"devices" doc:"its tablets, first paired first"`
	OfficerPIN bool                `json:"officer_pin" doc:"an officer PIN is set: dossiers can be shown from the tablet"`
	Channel    string              `json:"channel" doc:"the channel its kiosk's answers are recorded under: kiosk.<desk>[.<officer>]"`
	// PairingCode is shown once, on the answer to PUT: 8 digits a tablet
	// enters at /kiosk within 15 minutes.
	PairingCode    string     `json:"pairing_code,omitempty" doc:"one-time: enter it at /kiosk within 15 minutes"`
	PairingExpires *time.Time `json:"pairing_expires_at,omitempty"`
}

type deskList struct {
	Desks []DeskView `json:"desks"`
}

func viewDesk(d *store.Desk) DeskView {
	return DeskView{Desk: *d, Devices: d.DeviceList(), OfficerPIN: d.PINHash != "", Channel: d.Channel()}
}

// PresentInput is the body of POST /api/v1/desks/{id}/present.
type PresentInput struct {
	DossierCode   string `json:"dossier_code"`
	AgencyCode    string `json:"agency_code,omitempty" doc:"default: the desk's agency; the desk's agency or one under it"`
	ProcedureCode string `json:"procedure_code,omitempty"`
}

// presented is the answer to POST /api/v1/desks/{id}/present: the
// invitation, and what the desk's kiosk now shows.
type presented struct {
	InvitationView
	Kiosk store.Presented `json:"kiosk"`
}

// putDesk is PUT /api/v1/desks/{id}: register or change a desk, with a new
// pairing code.
func (a *API) putDesk(c *fiber.Ctx) error {
	var in core.DeskInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	d, code, err := a.Core.PutDesk(c.UserContext(), Principal(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	v := viewDesk(d)
	exp := time.Now().Add(store.PairTTL).UTC().Truncate(time.Second)
	v.PairingCode, v.PairingExpires = code, &exp
	return c.JSON(v)
}

func (a *API) desks(c *fiber.Ctx) error {
	list, err := a.Core.Desks(c.UserContext(), Principal(c))
	if err != nil {
		return err
	}
	out := deskList{Desks: make([]DeskView, len(list))}
	for i := range list {
		out.Desks[i] = viewDesk(&list[i])
	}
	return c.JSON(out)
}

func (a *API) desk(c *fiber.Ctx) error {
	d, err := a.Core.Desk(c.UserContext(), Principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(viewDesk(d))
}

func (a *API) deleteDesk(c *fiber.Ctx) error {
	if err := a.Core.DeleteDesk(c.UserContext(), Principal(c), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// revokeDevice is POST /api/v1/desks/{id}/devices/{device}/revoke.
func (a *API) revokeDevice(c *fiber.Ctx) error {
	if err := a.Core.RevokeDevice(c.UserContext(), Principal(c), c.Params("id"), c.Params("device")); err != nil {
		return err
	}
	return a.desk(c)
}

// present is POST /api/v1/desks/{id}/present: the dossier goes on the
// desk's kiosk; its invitation is made if it has none.
func (a *API) present(c *fiber.Ctx) error {
	var in PresentInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	d, err := a.Core.Desk(c.UserContext(), Principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	inv, p, err := a.Core.Present(c.UserContext(), d, core.NewInvitation{DossierCode: in.DossierCode, AgencyCode: in.AgencyCode, ProcedureCode: in.ProcedureCode, From: channels.ClientIP(c)})
	if err != nil {
		return err
	}
	return c.JSON(presented{InvitationView: a.View(inv), Kiosk: *p})
}
