// Package config owns the gateway's settings: one struct, its defaults, the
// optional YAML file, the GATEWAY_* environment and the command-line flags,
// applied in that order and validated once.
package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // zone names work in an image without /usr/share/zoneinfo

	"gopkg.in/yaml.v3"

	"github.com/sipasvn/gateway/survey"
)

// Config is every setting the gateway reads. The yaml tag is the file key; the
// env tag is the environment variable (secrets also accept NAME_FILE).
type Config struct {
	Addr            string        `yaml:"addr" env:"GATEWAY_ADDR" help:"listen address"`
	BaseURL         string        `yaml:"base_url" env:"GATEWAY_BASE_URL" help:"public URL used in survey links and QR codes"`
	DataDir         string        `yaml:"data_dir" env:"GATEWAY_DATA_DIR" help:"folder for the embedded default's files and generated keys"`
	RedisURL        string        `yaml:"redis_url" env:"GATEWAY_REDIS_URL" secret:"true" help:"Redis URL: redis://host:6379/0, rediss:// for TLS, ?master_name=m&addr=h2:26379 for Sentinel, ?addr=h2:6379&addr=h3:6379 for Cluster; unset = embedded"`
	MongoURI        string        `yaml:"mongo_uri" env:"GATEWAY_MONGO_URI" secret:"true" help:"MongoDB URI; unset = embedded FerretDB"`
	MongoDatabase   string        `yaml:"mongo_database" env:"GATEWAY_MONGO_DATABASE" help:"MongoDB database name"`
	AdminKey        string        `yaml:"admin_key" env:"GATEWAY_ADMIN_KEY" secret:"true" help:"an admin API key accepted as given; unset = generated once and kept in the data folder"`
	SecretKey       string        `yaml:"secret_key" env:"GATEWAY_SECRET_KEY" secret:"true" help:"key (at least 32 characters) for respondent hashes and stored secrets; unset in embedded mode = generated once and kept in the data folder"`
	InvitationTTL   time.Duration `yaml:"invitation_ttl" env:"GATEWAY_INVITATION_TTL" help:"how long an invitation stays answerable"`
	ConversationTTL time.Duration `yaml:"conversation_ttl" env:"GATEWAY_CONVERSATION_TTL" help:"how long an SMS or chat conversation waits for the next reply"`
	PageRate        int           `yaml:"page_rate" env:"GATEWAY_PAGE_RATE" help:"survey page requests allowed per client IP per minute (0 = no limit)"`
	PhoneRate       int           `yaml:"phone_rate" env:"GATEWAY_PHONE_RATE" help:"inbound SMS allowed per phone number per hour (0 = no limit)"`
	KioskRate       int           `yaml:"kiosk_rate" env:"GATEWAY_KIOSK_RATE" help:"a desk's presentations, and its tablets' answers, allowed per minute each (0 = no limit)"`
	Retention       time.Duration `yaml:"retention" env:"GATEWAY_RETENTION" help:"how long phone numbers are kept on invitations before the sweep erases them (answers stay)"`
	LogLevel        string        `yaml:"log_level" env:"GATEWAY_LOG_LEVEL" help:"debug, info, warn or error"`
	LogFormat       string        `yaml:"log_format" env:"GATEWAY_LOG_FORMAT" help:"text or json"`
	ShutdownGrace   time.Duration `yaml:"shutdown_grace" env:"GATEWAY_SHUTDOWN_GRACE" help:"how long SIGTERM waits for in-flight requests"`
	RollupEvery     time.Duration `yaml:"rollup_every" env:"GATEWAY_ROLLUP_EVERY" help:"how often the roll-up worker looks for saved responses it has not counted"`
	TrustedProxies  string        `yaml:"trusted_proxies" env:"GATEWAY_TRUSTED_PROXIES" help:"comma-separated CIDRs or addresses of the reverse proxies in front (e.g. 10.0.0.0/8); only from these is X-Forwarded-For believed for the client address that rate limits count; unset = none, every request counts as its peer"`
	MetricsToken    string        `yaml:"metrics_token" env:"GATEWAY_METRICS_TOKEN" secret:"true" help:"when set, /metrics answers only requests with Authorization: Bearer <token>"`
	Acknowledge     string        `yaml:"acknowledge" env:"GATEWAY_ACKNOWLEDGE" help:"when a citizen's answer is acknowledged: redis (once in Redis; MongoDB gets it in batches) or mongo (once MongoDB has it); unset = mongo on the embedded default, whose Redis keeps nothing across a crash, else redis"`
	Pprof           bool          `yaml:"pprof" env:"GATEWAY_PPROF" help:"serve Go CPU, heap and trace profiles under /debug/pprof/ to admin keys"`
	Timezone        string        `yaml:"timezone" env:"GATEWAY_TIMEZONE" help:"IANA time zone the console and exports show times in (report months are always counted in Vietnam time)"`
	RequireAgencies bool          `yaml:"require_agencies" env:"GATEWAY_REQUIRE_AGENCIES" help:"refuse invitations whose agency_code is not registered (default: take them and list the code as unregistered)"`
	RankMin         int           `yaml:"rank_min_responses" env:"GATEWAY_RANK_MIN_RESPONSES" help:"responses an agency or procedure needs before the console ranks it among the lowest (fewer: listed as too few answers)"`
	// IndexGood and IndexFair band a unit's index in the dashboard's units
	// table: Đạt (met) from IndexGood, Cần cải thiện (needs improvement)
	// from IndexFair, Thấp (low) below.
	IndexGood    float64 `yaml:"index_good" env:"GATEWAY_INDEX_GOOD" help:"the satisfaction index (percent) from which the dashboard's units table marks a unit Đạt (met)"`
	IndexFair    float64 `yaml:"index_fair" env:"GATEWAY_INDEX_FAIR" help:"the satisfaction index (percent) from which the dashboard's units table marks a unit Cần cải thiện (needs improvement); below it: Thấp (low)"`
	Holidays     string  `yaml:"holidays" env:"GATEWAY_HOLIDAYS" help:"comma-separated extra non-working days (YYYY-MM-DD) for follow-up case deadlines, besides weekends and Vietnam's public holidays"`
	TopicLexicon string  `yaml:"topic_lexicon" env:"GATEWAY_TOPIC_LEXICON" help:"a JSON file of the province's own comment-topic phrases, added to the built-in lexicon (see README, Comment topics); changing it re-classifies every comment once"`
	MaxMonths    int     `yaml:"max_months" env:"GATEWAY_MAX_MONTHS" help:"the most months one report, export, comment list or case list may cover; a wider from/to is refused with a 400 naming it"`
	// PlanThreshold is the share satisfied (percent) below which a unit
	// without an improvement plan is listed (docs/plans.md).
	PlanThreshold float64 `yaml:"plan_threshold" env:"GATEWAY_PLAN_THRESHOLD" help:"the share satisfied (percent, more than 0, at most 100) below which a unit with enough answers and no active or draft improvement plan is listed as needing one"`
	// The integrity signals' settings (README, Integrity of the index).
	DossierCodeAnswers string  `yaml:"dossier_code_answers" env:"GATEWAY_DOSSIER_CODE_ANSWERS" help:"what \"DG <dossier code>\" from a phone an invitation never knew does: off (answered as an unknown code is), flag (the survey starts; the answer is flagged unverified_phone) or on (the survey starts, unflagged)"`
	SpeederSeconds     float64 `yaml:"speeder_seconds" env:"GATEWAY_SPEEDER_SECONDS" help:"a web or kiosk answer completed in fewer seconds than this per question answered is flagged speeder"`
	KioskFastSeconds   float64 `yaml:"kiosk_fast_seconds" env:"GATEWAY_KIOSK_FAST_SECONDS" help:"a kiosk answer completed within this many seconds of the dossier's presentation is flagged kiosk_fast"`
	// ScanMaxBytes bounds one upload of scanned paper forms.
	ScanMaxBytes int `yaml:"scan_max_bytes" env:"GATEWAY_SCAN_MAX_BYTES" help:"the largest upload of scanned paper forms, in bytes (one request, at most 50 pages); only keys and console sessions that may upload get past 64 KB"`

	// Reaching citizens without pestering them (docs/reach.md: send
	// hours, reminders and contact limits).
	SendHours     string        `yaml:"send_hours" env:"GATEWAY_SEND_HOURS" help:"when texts and Zalo messages to citizens go out, HH:MM-HH:MM Vietnam time, every day; what is made outside waits for the opening (an agency's send_hours overrides it)"`
	CallHours     string        `yaml:"call_hours" env:"GATEWAY_CALL_HOURS" help:"when survey calls are made, HH:MM-HH:MM Vietnam time, working days only (an agency's call_hours overrides it)"`
	ReminderAfter time.Duration `yaml:"reminder_after" env:"GATEWAY_REMINDER_AFTER" help:"how long after an invitation was sent without an answer its one reminder goes out on the same channel (0 = no reminders)"`
	ContactEvery  time.Duration `yaml:"contact_every" env:"GATEWAY_CONTACT_EVERY" help:"at most one survey invitation by text, Zalo or call per phone in this time; later dossiers keep their QR code and kiosk (0 = no limit)"`
	DailyMessages int           `yaml:"daily_messages" env:"GATEWAY_DAILY_MESSAGES" help:"at most this many messages a day to one phone (invitations, reminders, case answers, call attempts; replies to the citizen's own messages aside); what is over waits for the next day's window (0 = no limit)"`
	// Prices are what the province pays per SMS part, ZNS message and
	// call minute, for the report's cost figures (see PriceList).
	Prices string `yaml:"prices" env:"GATEWAY_PRICES" help:"what one SMS part, one Zalo template (ZNS) message and one call minute cost, in đồng, for the report's cost and cost per answer: sms_part=850,zns=300,call_minute=1500 (a price left out: that channel's cost is unknown); unset = no cost figures"`

	// The suggestion boxes' limits (docs/feedback.md).
	FeedbackRate       int `yaml:"feedback_rate" env:"GATEWAY_FEEDBACK_RATE" help:"feedback a client address may send through the feedback pages per hour (0 = no limit)"`
	FeedbackAgencyRate int `yaml:"feedback_agency_rate" env:"GATEWAY_FEEDBACK_AGENCY_RATE" help:"feedback one agency's page takes per hour, from everyone (0 = no limit)"`
	FeedbackCodes      int `yaml:"feedback_codes" env:"GATEWAY_FEEDBACK_CODES" help:"one-time codes the feedback page may text to one phone number in 24 hours (1-10)"`
}

// Defaults returns the settings used when nothing else is given.
func Defaults() Config {
	return Config{
		Addr:            ":8080",
		BaseURL:         "http://localhost:8080",
		DataDir:         "./data",
		MongoDatabase:   "sipas",
		InvitationTTL:   30 * 24 * time.Hour,
		ConversationTTL: 72 * time.Hour,
		PageRate:        120,
		PhoneRate:       30,
		KioskRate:       120,
		Retention:       180 * 24 * time.Hour,
		LogLevel:        "info",
		LogFormat:       "text",
		ShutdownGrace:   15 * time.Second,
		RollupEvery:     time.Second,
		RankMin:         30,
		IndexGood:       90,
		IndexFair:       80,
		PlanThreshold:   80,
		Timezone:        "Asia/Ho_Chi_Minh",
		MaxMonths:       24,

		DossierCodeAnswers: "flag",
		SpeederSeconds:     2,
		KioskFastSeconds:   10,
		ScanMaxBytes:       25 << 20,

		SendHours:     "07:00-21:00",
		CallHours:     "08:00-17:00",
		ReminderAfter: 24 * time.Hour,
		ContactEvery:  720 * time.Hour,
		DailyMessages: 3,

		FeedbackRate:       5,
		FeedbackAgencyRate: 60,
		FeedbackCodes:      3,
	}
}

// Location is the time zone times are shown in (Vietnam when Timezone is
// not a valid name, which Validate refuses).
func (c Config) Location() *time.Location {
	if loc, err := time.LoadLocation(c.Timezone); err == nil && c.Timezone != "" {
		return loc
	}
	return time.FixedZone("ICT", 7*3600)
}

// Lexicon is the comment-topic lexicon: the built-in one plus the
// province's file (TopicLexicon), if any.
func (c Config) Lexicon() (*survey.Lexicon, error) {
	if c.TopicLexicon == "" {
		return survey.LoadLexicon()
	}
	b, err := os.ReadFile(c.TopicLexicon)
	if err != nil {
		return nil, err
	}
	return survey.LoadLexicon(b)
}

// Hours are the send and call windows (Validate checks them; the zero
// Hours, no limit, stands in for one it refused).
func (c Config) Hours() (send, call survey.Hours) {
	send, _ = survey.ParseHours(c.SendHours)
	call, _ = survey.ParseHours(c.CallHours)
	call.WorkingDays = true
	return send, call
}

// Calendar counts working days for follow-up cases: Vietnam's public
// holidays plus Holidays.
func (c Config) Calendar() (*survey.Calendar, error) {
	var extra []string
	for _, d := range strings.Split(c.Holidays, ",") {
		if d = strings.TrimSpace(d); d != "" {
			extra = append(extra, d)
		}
	}
	return survey.NewCalendar(extra...)
}

// priceNames maps the names GATEWAY_PRICES takes to the channel family
// each prices (a unit of store.SpendUnits).
var priceNames = map[string]string{"sms_part": "sms", "zns": "zalo", "call_minute": "voice"}

// PriceList reads Prices: đồng per unit by channel family (sms, zalo,
// voice); empty when unset.
func (c Config) PriceList() (map[string]int64, error) {
	out := map[string]int64{}
	if strings.TrimSpace(c.Prices) == "" {
		return out, nil
	}
	for _, item := range strings.Split(c.Prices, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(item), "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		family, known := priceNames[name]
		if !ok || !known {
			return nil, fmt.Errorf("%q: name a price sms_part, zns or call_minute and give it in đồng, e.g. sms_part=850,zns=300,call_minute=1500", strings.TrimSpace(item))
		}
		if _, twice := out[family]; twice {
			return nil, fmt.Errorf("%s is given twice; give each price once", name)
		}
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil || n < 0 || n > 1_000_000 {
			return nil, fmt.Errorf("%s: %q is not a whole number of đồng from 0 to 1000000; write it like %s=850", name, value, name)
		}
		out[family] = n
	}
	return out, nil
}

// Embedded reports whether the gateway runs its own in-process stores.
func (c Config) Embedded() bool { return c.RedisURL == "" && c.MongoURI == "" }

// Proxies parses TrustedProxies into networks (an address is a /32 or /128).
func (c Config) Proxies() ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, p := range strings.Split(c.TrustedProxies, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !strings.Contains(p, "/") {
			ip := net.ParseIP(p)
			if ip == nil {
				return nil, fmt.Errorf("%q is not an address or CIDR", p)
			}
			bits := 32
			if ip.To4() == nil {
				bits = 128
			}
			p = fmt.Sprintf("%s/%d", p, bits)
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or CIDR", p)
		}
		out = append(out, n)
	}
	return out, nil
}

// AckAfterMongo reports whether citizens' answers are acknowledged only
// once MongoDB has them (see Acknowledge).
func (c Config) AckAfterMongo() bool {
	return c.Acknowledge == "mongo" || (c.Acknowledge == "" && c.Embedded())
}

// Load builds the configuration from defaults, then the YAML file named by
// -config or GATEWAY_CONFIG, then the environment, then the flags in args.
func Load(args []string, getenv func(string) string) (Config, error) {
	cfg := Defaults()
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	file := fs.String("config", getenv("GATEWAY_CONFIG"), "YAML configuration file (GATEWAY_CONFIG)")
	set := bindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if *file != "" {
		if err := loadFile(&cfg, *file); err != nil {
			return cfg, err
		}
	}
	if err := applyEnv(&cfg, getenv); err != nil {
		return cfg, err
	}
	if err := set(&cfg); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func loadFile(cfg *Config, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %s: %w (keys are listed in the README's configuration table)", path, err)
	}
	return nil
}

// maxMonthsCeiling is the widest GATEWAY_MAX_MONTHS may be: beyond ten
// years it would no longer bound what one request reads.
const maxMonthsCeiling = 120

// Validate checks every setting once and names the setting and the fix.
func (c Config) Validate() error {
	var errs []error
	bad := func(name, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, a...)))
	}
	if c.Addr == "" {
		bad("GATEWAY_ADDR", "empty; give a listen address such as :8080")
	}
	if _, err := c.Calendar(); err != nil {
		bad("GATEWAY_HOLIDAYS", "%v; e.g. 2026-12-24,2027-01-02", err)
	}
	if _, err := c.Lexicon(); err != nil {
		bad("GATEWAY_TOPIC_LEXICON", "%v; give a JSON file in the lexicon's format (README, Comment topics) or leave it unset", err)
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("GATEWAY_BASE_URL", "%q is not an http(s) URL; give the public address citizens reach, e.g. https://khaosat.example.gov.vn", c.BaseURL)
	} else if u.RawQuery != "" || u.Fragment != "" {
		bad("GATEWAY_BASE_URL", "%q has a query or fragment; give only scheme, host and optional path", c.BaseURL)
	}
	if c.DataDir == "" {
		bad("GATEWAY_DATA_DIR", "empty; give a writable folder such as ./data")
	}
	if (c.RedisURL == "") != (c.MongoURI == "") {
		bad("GATEWAY_REDIS_URL/GATEWAY_MONGO_URI", "set both to use external servers, or neither for the embedded default")
	}
	if _, err := c.Proxies(); err != nil {
		bad("GATEWAY_TRUSTED_PROXIES", "%v; give comma-separated CIDRs or addresses such as 10.0.0.0/8,192.168.1.10", err)
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		bad("GATEWAY_METRICS_TOKEN", "only %d characters; use at least 16 (openssl rand -hex 16)", len(c.MetricsToken))
	}
	if c.Acknowledge != "" && c.Acknowledge != "redis" && c.Acknowledge != "mongo" {
		bad("GATEWAY_ACKNOWLEDGE", "%q is neither redis nor mongo; leave it unset for the default", c.Acknowledge)
	}
	if c.MongoDatabase == "" {
		bad("GATEWAY_MONGO_DATABASE", "empty; give a database name such as sipas")
	}
	if c.SecretKey != "" && len(c.SecretKey) < 32 {
		bad("GATEWAY_SECRET_KEY", "only %d characters; use at least 32 (openssl rand -hex 32)", len(c.SecretKey))
	}
	if c.SecretKey == "" && !c.Embedded() {
		bad("GATEWAY_SECRET_KEY", "required with external stores so every replica hashes and decrypts alike; generate one with openssl rand -hex 32")
	}
	if c.AdminKey != "" && len(c.AdminKey) < 16 {
		bad("GATEWAY_ADMIN_KEY", "only %d characters; use at least 16", len(c.AdminKey))
	}
	if c.InvitationTTL < time.Hour {
		bad("GATEWAY_INVITATION_TTL", "%s is shorter than an hour; use e.g. 720h for 30 days", c.InvitationTTL)
	}
	if c.ConversationTTL < time.Minute {
		bad("GATEWAY_CONVERSATION_TTL", "%s is shorter than a minute; use e.g. 72h", c.ConversationTTL)
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil || c.Timezone == "" {
		bad("GATEWAY_TIMEZONE", "%q is not a time zone name; use an IANA name such as Asia/Ho_Chi_Minh", c.Timezone)
	}
	if c.RankMin < 1 {
		bad("GATEWAY_RANK_MIN_RESPONSES", "%d: use 1 or more (30 is the default)", c.RankMin)
	}
	if c.IndexGood <= 0 || c.IndexGood > 100 {
		bad("GATEWAY_INDEX_GOOD", "%v: use a percentage above 0 and at most 100 (90 is the default)", c.IndexGood)
	}
	if c.IndexFair < 0 || c.IndexFair >= c.IndexGood {
		bad("GATEWAY_INDEX_FAIR", "%v: use a percentage from 0 up to, not including, GATEWAY_INDEX_GOOD (%v); 80 is the default", c.IndexFair, c.IndexGood)
	}
	if c.PlanThreshold <= 0 || c.PlanThreshold > 100 {
		bad("GATEWAY_PLAN_THRESHOLD", "%v: use a percent more than 0 and at most 100 (80 is the default)", c.PlanThreshold)
	}
	if _, err := survey.ParseHours(c.SendHours); err != nil {
		bad("GATEWAY_SEND_HOURS", "%v (the default is 07:00-21:00)", err)
	}
	if _, err := survey.ParseHours(c.CallHours); err != nil {
		bad("GATEWAY_CALL_HOURS", "%v (the default is 08:00-17:00)", err)
	}
	if c.ReminderAfter < 0 || c.ReminderAfter > 0 && c.ReminderAfter < time.Hour {
		bad("GATEWAY_REMINDER_AFTER", "%s: use at least 1h (24h is the default), or 0 for no reminders", c.ReminderAfter)
	}
	if c.ReminderAfter >= c.InvitationTTL && c.InvitationTTL > 0 {
		bad("GATEWAY_REMINDER_AFTER", "%s is not shorter than GATEWAY_INVITATION_TTL %s: no invitation would be open for its reminder; use e.g. 24h, or 0 for no reminders", c.ReminderAfter, c.InvitationTTL)
	}
	if c.ContactEvery < 0 {
		bad("GATEWAY_CONTACT_EVERY", "%s: use a duration such as 720h (30 days), or 0 for no limit", c.ContactEvery)
	}
	if c.DailyMessages < 0 || c.DailyMessages > 20 {
		bad("GATEWAY_DAILY_MESSAGES", "%d: use 1-20 messages a day to one phone (3 is the default), or 0 for no limit", c.DailyMessages)
	}
	if c.MaxMonths < 1 || c.MaxMonths > maxMonthsCeiling {
		bad("GATEWAY_MAX_MONTHS", "%d: use 1 to %d (24 is the default); a longer period is asked for in parts", c.MaxMonths, maxMonthsCeiling)
	}
	switch c.DossierCodeAnswers {
	case "off", "flag", "on":
	default:
		bad("GATEWAY_DOSSIER_CODE_ANSWERS", "%q is not off, flag or on; flag (the default) lets such answers in and flags them", c.DossierCodeAnswers)
	}
	if c.SpeederSeconds <= 0 || c.SpeederSeconds > 60 {
		bad("GATEWAY_SPEEDER_SECONDS", "%v: use more than 0 and at most 60 seconds per question (2 is the default)", c.SpeederSeconds)
	}
	if c.ScanMaxBytes < 1<<20 || c.ScanMaxBytes > 200<<20 {
		bad("GATEWAY_SCAN_MAX_BYTES", "%d: use 1048576 (1 MB) to 209715200 (200 MB); 26214400 (25 MB) is the default", c.ScanMaxBytes)
	}
	if c.KioskFastSeconds <= 0 || c.KioskFastSeconds > 600 {
		bad("GATEWAY_KIOSK_FAST_SECONDS", "%v: use more than 0 and at most 600 seconds (10 is the default)", c.KioskFastSeconds)
	}
	if c.PageRate < 0 || c.PhoneRate < 0 || c.KioskRate < 0 {
		bad("GATEWAY_PAGE_RATE/GATEWAY_PHONE_RATE/GATEWAY_KIOSK_RATE", "must be 0 (no limit) or more")
	}
	if c.FeedbackRate < 0 || c.FeedbackAgencyRate < 0 {
		bad("GATEWAY_FEEDBACK_RATE/GATEWAY_FEEDBACK_AGENCY_RATE", "must be 0 (no limit) or more")
	}
	if c.FeedbackCodes < 1 || c.FeedbackCodes > 10 {
		bad("GATEWAY_FEEDBACK_CODES", "%d: use 1 to 10 codes a phone number may receive in 24 hours (3 is the default)", c.FeedbackCodes)
	}
	if _, err := c.PriceList(); err != nil {
		bad("GATEWAY_PRICES", "%v", err)
	}
	if c.Retention < 24*time.Hour {
		bad("GATEWAY_RETENTION", "%s is shorter than a day; invitations must stay answerable, e.g. 4320h for 180 days", c.Retention)
	}
	if c.Retention < c.InvitationTTL {
		bad("GATEWAY_RETENTION", "%s is shorter than GATEWAY_INVITATION_TTL %s: phone numbers would be erased while invitations are still open", c.Retention, c.InvitationTTL)
	}
	if c.ShutdownGrace <= 0 {
		bad("GATEWAY_SHUTDOWN_GRACE", "must be positive, e.g. 15s")
	}
	if c.RollupEvery < 10*time.Millisecond || c.RollupEvery > time.Minute {
		bad("GATEWAY_ROLLUP_EVERY", "%s is outside 10ms..1m; 1s keeps reports current", c.RollupEvery)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("GATEWAY_LOG_LEVEL", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("GATEWAY_LOG_FORMAT", "%q is not text or json", c.LogFormat)
	}
	return errors.Join(errs...)
}
