// Package deploy holds deployment examples; its test checks their shape.
package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sipasvn/gateway/config"
)

// The Kubernetes example parses, has each kind it should, probes the
// gateway's health endpoints, and sets only settings the gateway knows.
func TestKubernetesExample(t *testing.T) {
	b, err := os.ReadFile("kubernetes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, row := range config.Table() {
		known[row[0]] = true
	}
	kinds := map[string]bool{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		kind, _ := doc["kind"].(string)
		if doc["apiVersion"] == nil || kind == "" || doc["metadata"].(map[string]any)["name"] != "sipas-gateway" {
			t.Fatalf("document without apiVersion, kind or name: %v", doc)
		}
		kinds[kind] = true
		for _, section := range []string{"data", "stringData"} {
			if m, ok := doc[section].(map[string]any); ok {
				for k := range m {
					if !known[k] {
						t.Errorf("%s sets %s, which the gateway does not read", kind, k)
					}
				}
			}
		}
	}
	for _, k := range []string{"ConfigMap", "Secret", "Deployment", "Service", "HorizontalPodAutoscaler"} {
		if !kinds[k] {
			t.Errorf("no %s", k)
		}
	}
	for _, want := range []string{`path: "/readyz?accept=degraded"`, "path: /healthz", "runAsNonRoot: true"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the Deployment lacks %q", want)
		}
	}
}
