# The test command is ./test.sh (README); these are conveniences.
FUZZTIME ?= 30s

.PHONY: test fuzz build bench bench-scale soak omr-bench

test:
	./test.sh

build:
	go build -o gateway ./cmd/gateway

# Each fuzz target for FUZZTIME; CI runs only their seed corpora (go test).
fuzz:
	go test -run '^$$' -fuzz '^FuzzParseToken$$' -fuzztime $(FUZZTIME) ./qr/
	go test -run '^$$' -fuzz '^FuzzParseReply$$' -fuzztime $(FUZZTIME) ./survey/
	go test -run '^$$' -fuzz '^FuzzCanonicalPhone$$' -fuzztime $(FUZZTIME) ./survey/
	go test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./channels/sms/generic/
	go test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./channels/sms/twilio/
	go test -run '^$$' -fuzz '^FuzzSign$$' -fuzztime $(FUZZTIME) ./channels/sms/esms/
	go test -run '^$$' -fuzz '^FuzzParseEvent$$' -fuzztime $(FUZZTIME) ./channels/zalo/
	go test -run '^$$' -fuzz '^FuzzCleanText$$' -fuzztime $(FUZZTIME) ./survey/
	go test -run '^$$' -fuzz '^FuzzKioskBodies$$' -fuzztime $(FUZZTIME) ./channels/kiosk/
	go test -run '^$$' -fuzz '^FuzzCaseInput$$' -fuzztime $(FUZZTIME) ./core/
	go test -run '^$$' -fuzz '^FuzzUnreadInput$$' -fuzztime $(FUZZTIME) ./core/
	go test -run '^$$' -fuzz '^FuzzPages$$' -fuzztime $(FUZZTIME) ./paper/
	go test -run '^$$' -fuzz '^FuzzEXIF$$' -fuzztime $(FUZZTIME) ./paper/
	go test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME) ./paper/

# The mark reader on a generated corpus of marked, photographed forms:
# OMR_PAGES per kind of distortion (default 300: several thousand boxes
# each), boxes read right, answers stored wrong, pages to review, and
# pages a second at 300 dpi with and without JPEG decoding.
OMR_PAGES ?= 300
omr-bench:
	go run ./paper/omrbench -n $(OMR_PAGES) -seed 2

# The load tool against the embedded default and against real redis-server +
# FerretDB; figures go to docs/bench/embedded.txt and docs/bench/servers.txt,
# then the mark reader's pages a second to docs/bench/omr.txt.
bench:
	./bench.sh

# Throughput and p99 as the store grows: fills it to each N in POINTS
# (default "10000 100000") in bulk and runs the scenarios at each, embedded
# and on real servers; docs/bench/scale.{txt,csv,svg}.
bench-scale:
	./bench-scale.sh

# The roll-up writer under concurrent submits, SOAK times (default 500):
# every run must leave roll-ups equal to a rebuild. Not in CI (minutes).
# Rounds of 100 on a fresh MongoDB-protocol server each: one FerretDB
# serving 500 runs' databases runs out of SQLite handles, not of luck.
SOAK ?= 500
soak:
	@n=$(SOAK); while [ $$n -gt 0 ]; do c=$$(( n < 100 ? n : 100 )); \
	  echo "soak: $$c runs ($$n left)"; \
	  ./test.sh -run '^TestRollupsEqualRebuildAfterConcurrentLoad$$' -count=$$c -timeout 60m ./report/ || exit 1; \
	  n=$$(( n - c )); done
