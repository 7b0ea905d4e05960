# The test command is ./test.sh (README); these are conveniences.
FUZZTIME ?= 30s

.PHONY: test fuzz build

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

# The load tool against a fresh embedded-default gateway; figures go to
# bench-embedded.txt. (Issue 7: the real redis-server + FerretDB run is to come.)
BENCH_ADDR ?= 127.0.0.1:18080
bench:
	go build -o /tmp/sipas-gateway ./cmd/gateway
	go build -o /tmp/sipas-loadgen ./cmd/loadgen
	rm -rf /tmp/sipas-bench && mkdir -p /tmp/sipas-bench
	GATEWAY_DATA_DIR=/tmp/sipas-bench GATEWAY_ADDR=$(BENCH_ADDR) GATEWAY_BASE_URL=http://$(BENCH_ADDR) \
	  GATEWAY_PAGE_RATE=0 GATEWAY_PHONE_RATE=0 GATEWAY_LOG_LEVEL=error /tmp/sipas-gateway >/tmp/sipas-bench/gateway.log 2>&1 & \
	  pid=$$!; sleep 4; \
	  /tmp/sipas-loadgen -url http://$(BENCH_ADDR) -key $$(cat /tmp/sipas-bench/admin.key) -duration 10s -conns 16 | tee bench-embedded.txt; \
	  kill $$pid
