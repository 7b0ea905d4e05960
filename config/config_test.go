package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsAreValidAndEmbedded(t *testing.T) {
	c, err := Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.AckAfterMongo() || c.Acknowledge != "" {
		t.Fatalf("the embedded default must acknowledge answers after MongoDB: %+v", c)
	}
	if !c.Embedded() || c.Addr != ":8080" || c.BaseURL != "http://localhost:8080" || c.DataDir != "./data" || c.InvitationTTL != 720*time.Hour || c.MaxMonths != 24 {
		t.Fatalf("defaults: %+v", c)
	}
	if c.DossierCodeAnswers != "flag" || c.SpeederSeconds != 2 || c.KioskFastSeconds != 10 || c.PlanThreshold != 80 {
		t.Fatalf("signal defaults: %+v", c)
	}
	if c, err := Load([]string{"-speeder-seconds", "1.5"}, env(map[string]string{"GATEWAY_DOSSIER_CODE_ANSWERS": "off"})); err != nil || c.SpeederSeconds != 1.5 || c.DossierCodeAnswers != "off" {
		t.Fatalf("signal settings: %+v %v", c, err)
	}
}

func TestPrecedenceFileThenEnvThenFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "gw.yaml")
	if err := os.WriteFile(file, []byte("addr: \":7000\"\nbase_url: https://file.example\ndata_dir: /var/lib/file\ninvitation_ttl: 48h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte(strings.Repeat("s", 40)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load([]string{"-addr", ":9000"}, env(map[string]string{
		"GATEWAY_CONFIG":          file,
		"GATEWAY_ADDR":            ":8000",
		"GATEWAY_BASE_URL":        "https://env.example",
		"GATEWAY_SECRET_KEY_FILE": secret,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":9000" || c.BaseURL != "https://env.example" || c.DataDir != "/var/lib/file" || c.InvitationTTL != 48*time.Hour {
		t.Fatalf("precedence: %+v", c)
	}
	if c.SecretKey != strings.Repeat("s", 40) {
		t.Fatalf("secret from _FILE: %q", c.SecretKey)
	}
}

func TestValidationNamesTheSetting(t *testing.T) {
	cases := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"GATEWAY_BASE_URL": "ftp://x"}, nil, "GATEWAY_BASE_URL"},
		{map[string]string{"GATEWAY_REDIS_URL": "redis://r:6379"}, nil, "GATEWAY_REDIS_URL/GATEWAY_MONGO_URI"},
		{map[string]string{"GATEWAY_REDIS_URL": "redis://r", "GATEWAY_MONGO_URI": "mongodb://m"}, nil, "GATEWAY_SECRET_KEY: required"},
		{map[string]string{"GATEWAY_SECRET_KEY": "short"}, nil, "GATEWAY_SECRET_KEY: only 5"},
		{map[string]string{"GATEWAY_INVITATION_TTL": "30d"}, nil, "GATEWAY_INVITATION_TTL: \"30d\" is not a duration"},
		{map[string]string{"GATEWAY_INVITATION_TTL": "5m"}, nil, "GATEWAY_INVITATION_TTL: 5m0s is shorter"},
		{map[string]string{"GATEWAY_ACKNOWLEDGE": "disk"}, nil, "GATEWAY_ACKNOWLEDGE: \"disk\" is neither"},
		{map[string]string{"GATEWAY_TRUSTED_PROXIES": "10.0.0.0/8, proxy.local"}, nil, "GATEWAY_TRUSTED_PROXIES: \"proxy.local\" is not"},
		{map[string]string{"GATEWAY_METRICS_TOKEN": "short"}, nil, "GATEWAY_METRICS_TOKEN: only 5"},
		{nil, []string{"-log-level", "loud"}, "GATEWAY_LOG_LEVEL"},
		{map[string]string{"GATEWAY_ADMIN_KEY": "abc"}, nil, "GATEWAY_ADMIN_KEY"},
		{map[string]string{"GATEWAY_TIMEZONE": "Hanoi"}, nil, "GATEWAY_TIMEZONE: \"Hanoi\" is not a time zone"},
		{map[string]string{"GATEWAY_RANK_MIN_RESPONSES": "0"}, nil, "GATEWAY_RANK_MIN_RESPONSES"},
		{map[string]string{"GATEWAY_MAX_MONTHS": "0"}, nil, "GATEWAY_MAX_MONTHS: 0: use 1 to 120"},
		{map[string]string{"GATEWAY_MAX_MONTHS": "121"}, nil, "GATEWAY_MAX_MONTHS: 121: use 1 to 120"},
		{map[string]string{"GATEWAY_MAX_MONTHS": "two years"}, nil, "GATEWAY_MAX_MONTHS: \"two years\" is not a whole number"},
		{map[string]string{"GATEWAY_TOPIC_LEXICON": "/nonexistent/topics.json"}, nil, "GATEWAY_TOPIC_LEXICON: open /nonexistent/topics.json"},
		{map[string]string{"GATEWAY_DOSSIER_CODE_ANSWERS": "yes"}, nil, "GATEWAY_DOSSIER_CODE_ANSWERS: \"yes\" is not off, flag or on"},
		{map[string]string{"GATEWAY_SPEEDER_SECONDS": "fast"}, nil, "GATEWAY_SPEEDER_SECONDS: \"fast\" is not a number"},
		{map[string]string{"GATEWAY_SPEEDER_SECONDS": "0"}, nil, "GATEWAY_SPEEDER_SECONDS: 0: use more than 0"},
		{map[string]string{"GATEWAY_INDEX_GOOD": "101"}, nil, "GATEWAY_INDEX_GOOD: 101: use a percentage above 0 and at most 100"},
		{map[string]string{"GATEWAY_INDEX_GOOD": "high"}, nil, "GATEWAY_INDEX_GOOD: \"high\" is not a number"},
		{map[string]string{"GATEWAY_INDEX_FAIR": "-1"}, nil, "GATEWAY_INDEX_FAIR: -1: use a percentage from 0"},
		{map[string]string{"GATEWAY_INDEX_GOOD": "85", "GATEWAY_INDEX_FAIR": "85"}, nil, "GATEWAY_INDEX_FAIR: 85: use a percentage from 0 up to, not including, GATEWAY_INDEX_GOOD (85)"},
		{map[string]string{"GATEWAY_SPEEDER_SECONDS": "NaN"}, nil, "GATEWAY_SPEEDER_SECONDS: \"NaN\" is not a number"},
		{map[string]string{"GATEWAY_PLAN_THRESHOLD": "0"}, nil, "GATEWAY_PLAN_THRESHOLD: 0: use a percent more than 0 and at most 100"},
		{map[string]string{"GATEWAY_PLAN_THRESHOLD": "100.5"}, nil, "GATEWAY_PLAN_THRESHOLD: 100.5: use a percent"},
		{map[string]string{"GATEWAY_PLAN_THRESHOLD": "tám mươi"}, nil, "GATEWAY_PLAN_THRESHOLD: \"tám mươi\" is not a number"},
		{nil, []string{"-kiosk-fast-seconds", "-1"}, "GATEWAY_KIOSK_FAST_SECONDS: -1: use more than 0"},
		{map[string]string{"GATEWAY_PRICES": "sms=850"}, nil, `GATEWAY_PRICES: "sms=850": name a price sms_part, zns or call_minute`},
		{map[string]string{"GATEWAY_PRICES": "sms_part=850,zns"}, nil, `GATEWAY_PRICES: "zns": name a price`},
		{map[string]string{"GATEWAY_PRICES": "sms_part=8,5"}, nil, `GATEWAY_PRICES: "5": name a price`},
		{map[string]string{"GATEWAY_PRICES": "zns=ba trăm"}, nil, `GATEWAY_PRICES: zns: "ba trăm" is not a whole number of đồng`},
		{map[string]string{"GATEWAY_PRICES": "call_minute=-1"}, nil, `GATEWAY_PRICES: call_minute: "-1" is not a whole number`},
		{map[string]string{"GATEWAY_PRICES": "zns=300,zns=250"}, nil, "GATEWAY_PRICES: zns is given twice"},
	}
	for _, tc := range cases {
		_, err := Load(tc.args, env(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: error %v, want it to name %q", tc.env, tc.args, err, tc.want)
		}
	}
}

// GATEWAY_PRICES gives đồng per unit by channel family; unset, none.
func TestPrices(t *testing.T) {
	c, err := Load(nil, env(map[string]string{"GATEWAY_PRICES": " sms_part=850, zns=300,call_minute=1500"}))
	if err != nil {
		t.Fatal(err)
	}
	if p, err := c.PriceList(); err != nil || len(p) != 3 || p["sms"] != 850 || p["zalo"] != 300 || p["voice"] != 1500 {
		t.Fatalf("prices %v %v", p, err)
	}
	if p, err := Defaults().PriceList(); err != nil || len(p) != 0 {
		t.Fatalf("default prices %v %v", p, err)
	}
	if p, err := (Config{Prices: "zns=0"}).PriceList(); err != nil || len(p) != 1 || p["zalo"] != 0 {
		t.Fatalf("a free channel %v %v", p, err)
	}
}

func TestUnknownFileKeyIsAnError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "gw.yaml")
	_ = os.WriteFile(file, []byte("adress: \":1\"\n"), 0o600)
	if _, err := Load([]string{"-config", file}, env(nil)); err == nil || !strings.Contains(err.Error(), "adress") {
		t.Fatalf("want an error naming the unknown key, got %v", err)
	}
}

func TestREADMEListsEverySetting(t *testing.T) {
	b, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range Table() {
		if !strings.Contains(string(b), "`"+row[0]+"`") {
			t.Errorf("docs/configuration.md's table lacks %s", row[0])
		}
	}
}

// Profiles are off unless asked for, by file, environment or a bare flag; a
// value that is not a boolean is refused with the setting's name.
func TestPprofSetting(t *testing.T) {
	file := filepath.Join(t.TempDir(), "gw.yaml")
	if err := os.WriteFile(file, []byte("pprof: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		env  map[string]string
		args []string
		want bool
		err  string
	}{
		{nil, nil, false, ""},
		{map[string]string{"GATEWAY_CONFIG": file}, nil, true, ""},
		{map[string]string{"GATEWAY_PPROF": "true"}, nil, true, ""},
		{map[string]string{"GATEWAY_PPROF": "1"}, nil, true, ""},
		{nil, []string{"-pprof"}, true, ""},
		{map[string]string{"GATEWAY_CONFIG": file, "GATEWAY_PPROF": "false"}, nil, false, ""},
		{map[string]string{"GATEWAY_PPROF": "true"}, []string{"-pprof=false"}, false, ""},
		{map[string]string{"GATEWAY_PPROF": "yes"}, nil, false, `GATEWAY_PPROF: "yes" is not true or false`},
		{nil, []string{"-pprof=on"}, false, `GATEWAY_PPROF: "on" is not true or false`},
	}
	for _, tc := range cases {
		c, err := Load(tc.args, env(tc.env))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v %v: error %v, want %q", tc.env, tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || c.Pprof != tc.want {
			t.Errorf("%v %v: pprof %v, error %v; want %v", tc.env, tc.args, c.Pprof, err, tc.want)
		}
	}
}
