#!/usr/bin/env bash
# make bench: the load tool against a fresh gateway twice, first on the
# embedded default (FerretDB + miniredis in-process), then on real servers
# (redis-server and FerretDB in their own processes, as a deployment would
# run them), all on this machine. Figures go to docs/bench/embedded.txt and
# docs/bench/servers.txt with the machine they were measured on.
# DURATION, CONNS, POOL and CONVERSATIONS override the defaults.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p docs/bench
DURATION=${DURATION:-10s} CONNS=${CONNS:-16} POOL=${POOL:-2000} CONVERSATIONS=${CONVERSATIONS:-100000}
command -v redis-server >/dev/null || { sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo; $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends redis-server >/dev/null; }

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/gateway" ./cmd/gateway
go build -o "$work/loadgen" ./cmd/loadgen

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_line() { # file pattern
  for _ in $(seq 1 300); do grep -m1 -E "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "bench.sh: no '$2' in $1:" >&2; cat "$1" >&2; exit 1
}
machine() {
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB; $(go version | cut -d' ' -f3); $(redis-server --version | cut -d' ' -f3); $(date -u +%F)"
}

# 1. Embedded default.
addr=127.0.0.1:$(free_port)
mkdir -p "$work/embedded"
GATEWAY_DATA_DIR="$work/embedded" GATEWAY_ADDR=$addr GATEWAY_BASE_URL=http://$addr GATEWAY_PAGE_RATE=0 GATEWAY_PHONE_RATE=0 \
  GATEWAY_LOG_LEVEL=error "$work/gateway" >"$work/embedded.out" 2>&1 &
pids+=($!)
mongo=$(wait_line "$work/embedded.out" '^embedded stores: ' | awk '{print $4}')
wait_line "$work/embedded.out" '^admin key' >/dev/null
{ machine; echo "stores: embedded (FerretDB 1.24 SQLite + miniredis, in the gateway process)"
  "$work/loadgen" -url "http://$addr" -key "$(cat "$work/embedded/admin.key")" -duration "$DURATION" -conns "$CONNS" -pool "$POOL" -mongo "$mongo"; } | tee docs/bench/embedded.txt
kill "${pids[-1]}"

# 2. Real servers: redis-server and FerretDB (gateway mongo-server) apart.
rport=$(free_port); mport=$(free_port); addr=127.0.0.1:$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no >"$work/redis.out" 2>&1 &
pids+=($!)
GATEWAY_DATA_DIR="$work/ferret" "$work/gateway" mongo-server "127.0.0.1:$mport" >"$work/mongo.out" 2>&1 &
pids+=($!)
mongo=$(wait_line "$work/mongo.out" '^mongodb://')
mkdir -p "$work/servers"
GATEWAY_SECRET_KEY=$(openssl rand -hex 32) GATEWAY_DATA_DIR="$work/servers" GATEWAY_REDIS_URL=redis://127.0.0.1:$rport GATEWAY_MONGO_URI=$mongo GATEWAY_ADDR=$addr GATEWAY_BASE_URL=http://$addr \
  GATEWAY_PAGE_RATE=0 GATEWAY_PHONE_RATE=0 GATEWAY_LOG_LEVEL=error "$work/gateway" >"$work/servers.out" 2>&1 &
pids+=($!)
wait_line "$work/servers.out" '^admin key' >/dev/null
{ machine; echo "stores: redis-server and FerretDB 1.24 SQLite (gateway mongo-server) in their own processes"
  "$work/loadgen" -url "http://$addr" -key "$(cat "$work/servers/admin.key")" -duration "$DURATION" -conns "$CONNS" -pool "$POOL" \
    -mongo "$mongo" -redis "redis://127.0.0.1:$rport" -conversations "$CONVERSATIONS"; } | tee docs/bench/servers.txt
