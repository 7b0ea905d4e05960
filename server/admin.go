package server

import (
	"bytes"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
)

func (a *api) putAgency(c *fiber.Ctx) error {
	var in core.AgencyInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ag, err := a.core.PutAgency(c.UserContext(), c.Params("code"), in)
	if err != nil {
		return err
	}
	if err := a.core.Audit(c.UserContext(), principal(c), "agency.put", ag.Code, map[string]any{"name": ag.Name, "parent": ag.Parent, "level": ag.Level}); err != nil {
		return err
	}
	return c.JSON(ag)
}

func (a *api) agency(c *fiber.Ctx) error {
	ag, err := a.core.Mongo.Agencies.Agency(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	return c.JSON(ag)
}

func (a *api) agencies(c *fiber.Ctx) error {
	all, err := a.core.Mongo.Agencies.All(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"agencies": all})
}

func (a *api) deleteAgency(c *fiber.Ctx) error {
	code := c.Params("code")
	if err := a.core.DeleteAgency(c.UserContext(), code); err != nil {
		return err
	}
	if err := a.core.Audit(c.UserContext(), principal(c), "agency.delete", code, nil); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// importAgencies takes a CSV body: code,name,name_en,parent,level.
func (a *api) importAgencies(c *fiber.Ctx) error {
	n, err := a.core.ImportAgencies(c.UserContext(), bytes.NewReader(c.Body()))
	if err != nil {
		return err
	}
	if err := a.core.Audit(c.UserContext(), principal(c), "agency.import", "", map[string]any{"agencies": n}); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"imported": n})
}

func (a *api) createKey(c *fiber.Ctx) error {
	var in core.KeyInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	k, value, err := a.core.CreateKey(c.UserContext(), in)
	if err != nil {
		return err
	}
	if err := a.core.Audit(c.UserContext(), principal(c), "key.create", k.ID, map[string]any{"name": k.Name, "role": k.Role, "agency": k.Agency, "prefix": k.Prefix}); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"id": k.ID, "key": value, "prefix": k.Prefix, "name": k.Name, "role": k.Role, "agency": k.Agency, "created_at": k.Created})
}

func (a *api) keys(c *fiber.Ctx) error {
	all, err := a.core.Mongo.Keys.All(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"keys": all})
}

func (a *api) revokeKey(c *fiber.Ctx) error {
	k, err := a.core.Mongo.Keys.Revoke(c.UserContext(), c.Params("id"), time.Now())
	if err != nil {
		return err
	}
	if err := a.core.Audit(c.UserContext(), principal(c), "key.revoke", k.ID, map[string]any{"name": k.Name}); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (a *api) audit(c *fiber.Ctx) error {
	limit := c.QueryInt("limit", 100)
	if limit < 1 || limit > 1000 {
		return core.Errorf(core.Invalid, "limit", "use 1 to 1000")
	}
	entries, err := a.core.Mongo.Audit.Recent(c.UserContext(), int64(limit))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"entries": entries})
}
