package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// memory is what seeding open conversations cost Redis.
type memory struct {
	r             redis.UniversalClient
	n             int
	before, after int64
	sample        int64 // MEMORY USAGE of one conversation's keys
	sampleKeys    int
	perKey        []string
	whos          []string
	took          time.Duration
}

// seedConversations opens n SMS conversations in Redis through the
// gateway's own store code, each two answers in (the state, the ids of the
// two messages and the index of the citizen's invitation), as a citizen
// half-way through would leave them.
func seedConversations(redisURL string, n, conns int) (*memory, error) {
	ctx := context.Background()
	r, err := store.OpenRedis(ctx, redisURL)
	if err != nil {
		return nil, err
	}
	m := &memory{r: r, n: n, whos: make([]string, n)}
	if m.before, err = usedMemory(ctx, r); err != nil {
		return nil, err
	}
	convs := &store.Conversations{R: r, TTL: 72 * time.Hour}
	def, _ := survey.Builtin().Survey(survey.SIPAS5)
	sealer := store.NewSealer(fmt.Sprintf("loadgen-%d", time.Now().UnixNano()))
	start := time.Now()
	err = parallel(conns, n, func(_, i int) error {
		who := sealer.Hash(fmt.Sprintf("849%08d", i))
		m.whos[i] = who
		// The index of the citizen's invitations, as made with the invitation.
		now := time.Now()
		inv := &store.Invitation{ID: fmt.Sprintf("%024x", i), Survey: string(survey.SIPAS5), Locale: "vi", CreatedAt: now, ExpiresAt: now.Add(30 * 24 * time.Hour)}
		if err := convs.IndexInvitations(ctx, who, true, 30*24*time.Hour, inv); err != nil {
			return err
		}
		for msg := 0; msg < 2; msg++ {
			_, err := convs.Step(ctx, who, "sms-main", fmt.Sprintf("SM%032x", uint64(i)<<8|uint64(msg)), nil, func(state []byte) ([]byte, error) {
				c := survey.NewConversation(def, fmt.Sprintf("%024x", i), "vi")
				if state != nil {
					_ = json.Unmarshal(state, c)
				}
				c.Answers[msg] = 4
				return json.Marshal(c)
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	m.took = time.Since(start)
	if m.after, err = usedMemory(ctx, r); err != nil {
		return nil, err
	}
	keys := conversationKeys(m.whos[0])
	for _, k := range keys {
		u, err := r.MemoryUsage(ctx, k).Result()
		if err != nil {
			return nil, fmt.Errorf("MEMORY USAGE %s (a real redis-server is needed): %w", k, err)
		}
		m.sample += u
		m.perKey = append(m.perKey, fmt.Sprintf("%s %d", strings.TrimPrefix(k, "gw:conv:{"+m.whos[0]+"}"), u))
	}
	m.sampleKeys = len(keys)
	return m, nil
}

func usedMemory(ctx context.Context, r redis.UniversalClient) (int64, error) {
	info, err := r.Info(ctx, "memory").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("INFO memory has no used_memory (a real redis-server is needed)")
}

// finish prints the figures, the gateways' resident memory with the
// conversations open, and removes the seeded keys.
func (m *memory) finish(w io.Writer, g *gen) error {
	ctx := context.Background()
	fmt.Fprintf(w, "open conversations: %d seeded in %s; Redis used_memory +%.1f MB = %d bytes per conversation (INFO memory); MEMORY USAGE of one conversation's %d keys = %d bytes (state%s)\n",
		m.n, m.took.Round(time.Millisecond), float64(m.after-m.before)/1e6, (m.after-m.before)/int64(m.n), m.sampleKeys, m.sample, strings.Join(m.perKey, ", "))
	if err := m.invitationCopy(w, g); err != nil {
		return err
	}
	for i, t := range g.targets {
		rss, err := residentMemory(g.client, t)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "gateway %d (%s) resident memory with them open: %.1f MB\n", i+1, t, float64(rss)/1e6)
	}
	for i := 0; i < len(m.whos); i += 500 {
		p := m.r.Pipeline()
		for _, who := range m.whos[i:min(i+500, len(m.whos))] {
			p.Del(ctx, conversationKeys(who)...)
		}
		if _, err := p.Exec(ctx); err != nil {
			return err
		}
	}
	return m.r.Close()
}

// invitationCopy prints what one open invitation's working copy costs
// Redis: one made through the API with a phone, its copy kept under its id
// and its token (store.InvitationCache) until it expires.
func (m *memory) invitationCopy(w io.Writer, g *gen) error {
	ctx := context.Background()
	inv, err := g.api(0, "POST", "/api/v1/invitations", map[string]any{"dossier_code": "000.00.12.H49-" + g.run + "-MEM",
		"agency_code": "000.00.12.H49", "procedure_code": "1.011442.000.00.00.H49", "phone": "0912345678"})
	if err != nil {
		return fmt.Errorf("invitation for the memory figure: %w", err)
	}
	id, _ := inv["id"].(string)
	u, _ := inv["survey_url"].(string)
	token := u[strings.LastIndex(u, "/")+1:]
	var total int64
	var parts []string
	for _, k := range []string{"gw:inv:id:{" + id + "}", "gw:inv:token:{" + token + "}"} {
		n, err := m.r.MemoryUsage(ctx, k).Result()
		if err != nil {
			return fmt.Errorf("MEMORY USAGE %s: %w", k, err)
		}
		total += n
		parts = append(parts, fmt.Sprintf("%s %d", k[:strings.Index(k, "{")], n))
	}
	fmt.Fprintf(w, "open invitation: MEMORY USAGE of its working copy = %d bytes (%s)\n", total, strings.Join(parts, ", "))
	return nil
}

// residentMemory reads process_resident_memory_bytes from a gateway's /metrics.
func residentMemory(c *http.Client, target string) (int64, error) {
	v, err := metrics(c, target, "process_resident_memory_bytes")
	return int64(v[0]), err
}

// metrics reads the named samples (without labels) from a gateway's
// /metrics, in the order named; a missing one is an error.
func metrics(c *http.Client, target string, names ...string) ([]float64, error) {
	res, err := c.Get(target + "/metrics")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	v, found := make([]float64, len(names)), 0
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if i := slices.Index(names, name); ok && i >= 0 {
			if v[i], err = strconv.ParseFloat(value, 64); err != nil {
				return nil, fmt.Errorf("%s/metrics: %s: %w", target, name, err)
			}
			found++
		}
	}
	if found < len(names) {
		return nil, fmt.Errorf("%s/metrics lacks one of %s", target, strings.Join(names, ", "))
	}
	return v, sc.Err()
}

// conversationKeys are the keys of one citizen's conversation (see
// store.Conversations).
func conversationKeys(who string) []string {
	k := "gw:conv:{" + who + "}"
	return []string{k, k + ":seen", k + ":invs"}
}
