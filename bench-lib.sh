# Shared by bench.sh and bench-scale.sh (sourced, not run): building the
# gateway and the load tool, and starting a gateway on the embedded default
# or on real servers (redis-server and FerretDB in their own processes).
# The caller sets `set -euo pipefail` and cds to the repository first.

command -v redis-server >/dev/null || { sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo; $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends redis-server >/dev/null; }

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; if [ -n "${KEEP:-}" ]; then echo "bench: logs and data kept in $work" >&2; else rm -rf "$work"; fi; }
trap cleanup EXIT

build() {
  go build -o "$work/gateway" ./cmd/gateway
  go build -o "$work/loadgen" ./cmd/loadgen
}

# Pinning: with taskset and two cores or more, servers mode puts the stores
# (redis-server, FerretDB) on core 1 and the gateway and the load tool on
# core 0, so each one's CPU per request is its own and the two sides do not
# take each other's core. PIN=0 turns it off.
if [ "${PIN:-1}" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  on_stores="taskset -c 1"; on_gateway="taskset -c 0"
else
  on_stores=""; on_gateway=""
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_line() { # file pattern
  for _ in $(seq 1 300); do grep -m1 -E "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "bench: no '$2' in $1:" >&2; cat "$1" >&2; exit 1
}
machine() {
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB; $(go version | cut -d' ' -f3); Redis $(redis-server --version | sed -E 's/.* v=([^ ]+).*/\1/'); $(date -u +%F)"
}

# start_embedded NAME LOGLEVEL: a gateway on the embedded default (FerretDB
# and miniredis in-process), data in $work/NAME, output in $work/NAME.out.
# Sets addr, key, mongo, redis and gw_pid (rate limits off).
start_embedded() {
  addr=127.0.0.1:$(free_port)
  mkdir -p "$work/$1"
  GATEWAY_DATA_DIR="$work/$1" GATEWAY_ADDR=$addr GATEWAY_BASE_URL=http://$addr GATEWAY_PAGE_RATE=0 GATEWAY_PHONE_RATE=0 GATEWAY_KIOSK_RATE=0 \
    GATEWAY_LOG_LEVEL=$2 "$work/gateway" >"$work/$1.out" 2>&1 &
  gw_pid=$!
  pids+=($gw_pid)
  local line
  line=$(wait_line "$work/$1.out" '^embedded stores: ')
  mongo=$(awk '{print $4}' <<<"$line")
  redis=$(cat "$work/$1/redis.url") # the line shows it without its password
  wait_line "$work/$1.out" '^admin key' >/dev/null
  key=$(cat "$work/$1/admin.key")
}

# start_servers NAME LOGLEVEL: redis-server and FerretDB (gateway
# mongo-server) in their own processes, then a gateway on them, data in
# $work/NAME, output in $work/NAME.out. Sets addr, key, mongo, redis,
# gw_pid, redis_pid and mongo_pid (rate limits off); pinned as above.
start_servers() {
  local rport mport
  rport=$(free_port); mport=$(free_port); addr=127.0.0.1:$(free_port)
  $on_stores redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no >"$work/$1-redis.out" 2>&1 &
  redis_pid=$!
  pids+=($!)
  GATEWAY_DATA_DIR="$work/$1-ferret" $on_stores "$work/gateway" mongo-server "127.0.0.1:$mport" >"$work/$1-mongo.out" 2>&1 &
  mongo_pid=$!
  pids+=($!)
  mongo=$(wait_line "$work/$1-mongo.out" '^mongodb://')
  redis=redis://127.0.0.1:$rport
  mkdir -p "$work/$1"
  GATEWAY_SECRET_KEY=$(openssl rand -hex 32) GATEWAY_DATA_DIR="$work/$1" GATEWAY_REDIS_URL=$redis GATEWAY_MONGO_URI=$mongo GATEWAY_ADDR=$addr GATEWAY_BASE_URL=http://$addr \
    GATEWAY_PAGE_RATE=0 GATEWAY_PHONE_RATE=0 GATEWAY_KIOSK_RATE=0 GATEWAY_PPROF=${GATEWAY_PPROF:-} GATEWAY_LOG_LEVEL=$2 $on_gateway "$work/gateway" >"$work/$1.out" 2>&1 &
  gw_pid=$!
  pids+=($gw_pid)
  wait_line "$work/$1.out" '^admin key' >/dev/null
  key=$(cat "$work/$1/admin.key")
}

# stop_all: stop every process started so far (the next mode starts afresh).
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  pids=()
}

# settle: wait (at most 60 s) until the processes started here use less
# than a fifth of a core, so what one run left behind (reports still
# reading, roll-ups) does not weigh on the next.
cpu_ticks() {
  local s=0 p
  for p in "${pids[@]}"; do
    [ -r "/proc/$p/stat" ] && s=$((s + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$s"
}
settle() {
  local a b hz
  hz=$(getconf CLK_TCK)
  for _ in $(seq 1 60); do
    a=$(cpu_ticks); sleep 1; b=$(cpu_ticks)
    [ $((b - a)) -lt $((hz / 5)) ] && return 0
  done
}
