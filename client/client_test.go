package client_test

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/client"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/server"
)

// The checked-in document is the one the server builds, and the checked-in
// client is what the pinned oapi-codegen (go.mod's tool) makes of it.
func TestClientIsCurrent(t *testing.T) {
	doc, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if want := append(server.OpenAPI("http://localhost:8080"), '\n'); !bytes.Equal(doc, want) {
		t.Fatalf("client/openapi.json is not the document the server builds: run go generate ./client")
	}
	cfg, err := os.ReadFile("oapi-codegen.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "client.gen.go")
	cfg = bytes.Replace(cfg, []byte("output: client.gen.go"), []byte("output: "+out), 1)
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "tool", "oapi-codegen", "-config", filepath.Join(dir, "config.yaml"), "openapi.json")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oapi-codegen: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	checked, _ := os.ReadFile("client.gen.go")
	if !bytes.Equal(got, checked) {
		t.Fatalf("client/client.gen.go is not what oapi-codegen makes of openapi.json: run go generate ./client")
	}
}

// A desk vendor's path through the generated client against a live
// gateway: register an agency, create an invitation, read it and its QR
// code, and read the report once the citizen answered, all typed.
func TestGeneratedClientAgainstAGateway(t *testing.T) {
	g := gwtest.New(t, "")
	g.Listen()
	ctx := t.Context()
	c, err := client.NewClientWithResponses(g.URL, client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+gwtest.AdminKey)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	ag, err := c.PutAgencyWithResponse(ctx, "000.00.12.H49", client.AgencyInput{Name: "Sở Tư pháp"})
	if err != nil || ag.JSON200 == nil || ag.JSON200.Name != "Sở Tư pháp" {
		t.Fatalf("put agency: %v %s", err, body(ag.Body))
	}
	procedure := "1.000001"
	made, err := c.CreateInvitationWithResponse(ctx, client.NewInvitation{DossierCode: "000.00.12.H49-261128-0001", AgencyCode: "000.00.12.H49", ProcedureCode: &procedure})
	if err != nil || made.JSON201 == nil {
		t.Fatalf("create: %v %d %s", err, made.StatusCode(), body(made.Body))
	}
	inv := made.JSON201
	if inv.Status != client.InvitationStatusPending || !strings.Contains(inv.SurveyUrl, "/s/") {
		t.Fatalf("invitation %+v", inv)
	}
	again, err := c.CreateInvitationWithResponse(ctx, client.NewInvitation{DossierCode: inv.DossierCode, AgencyCode: inv.AgencyCode})
	if err != nil || again.JSON200 == nil || again.JSON200.Id != inv.Id {
		t.Fatalf("the same dossier again: %v %d", err, again.StatusCode())
	}
	got, err := c.GetInvitationWithResponse(ctx, inv.Id)
	if err != nil || got.JSON200 == nil || got.JSON200.DossierCode != inv.DossierCode || *got.JSON200.ProcedureCode != procedure {
		t.Fatalf("get: %v %s", err, body(got.Body))
	}
	size := int32(300)
	qr, err := c.GetInvitationQRWithResponse(ctx, inv.Id, &client.GetInvitationQRParams{Size: &size})
	if err != nil || qr.StatusCode() != 200 {
		t.Fatalf("qr: %v %d", err, qr.StatusCode())
	}
	img, err := png.Decode(bytes.NewReader(qr.Body))
	if err != nil || img.Bounds().Dx() != int(size) {
		t.Fatalf("qr.png: %v %v", err, img)
	}
	missing, err := c.GetInvitationWithResponse(ctx, "000000000000000000000000")
	if err != nil || missing.JSON404 == nil || missing.JSON404.Error.Code != client.NotFound {
		t.Fatalf("unknown invitation: %v %d %s", err, missing.StatusCode(), body(missing.Body))
	}

	token := inv.SurveyUrl[strings.LastIndex(inv.SurveyUrl, "/")+1:]
	answers := "A1=5&A2=5&A3=5&A4=5&B1=4&B2=4&B3=4&B4=4&B5=4&C1=5&C2=5&C3=5&C4=5&C5=5&C6=5&D1=3&D2=3&D3=3&E1=5&E2=5&E3=5&E4=5&comment=C%C3%A1n+b%E1%BB%99+t%E1%BA%ADn+t%C3%ACnh"
	if res := g.Form("/s/"+token, answers); res.StatusCode != 303 {
		t.Fatalf("submit: %d", res.StatusCode)
	}
	g.Drain()
	survey := "sipas"
	rep, err := c.GetReportWithResponse(ctx, &client.GetReportParams{Survey: &survey})
	if err != nil || rep.JSON200 == nil {
		t.Fatalf("report: %v %s", err, body(rep.Body))
	}
	if r := rep.JSON200; r.Responses != 1 || len(r.Indicators) != 22 || r.Overall.Answers != 22 || r.Overall.SatisfactionRate != 86.36 {
		t.Fatalf("report %+v", r)
	}
	comments, err := c.ListCommentsWithResponse(ctx, &client.ListCommentsParams{})
	if err != nil || comments.JSON200 == nil || len(comments.JSON200.Comments) != 1 || comments.JSON200.Comments[0].Text != "Cán bộ tận tình" {
		t.Fatalf("comments: %v %s", err, body(comments.Body))
	}
}

func body(b []byte) string { return string(b) }
