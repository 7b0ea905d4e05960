#!/usr/bin/env bash
# The one test command: installs what the tests need (redis-server, zbarimg,
# chromium, poppler-utils from Debian's packages), starts the embedded
# MongoDB-protocol server (FerretDB) unless GATEWAY_TEST_MONGO_URI names a
# MongoDB, then runs go test -race ./... with any extra arguments given
# (packages named among them replace ./...).
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v zbarimg >/dev/null || need+=(zbar-tools)
command -v chromium >/dev/null || need+=(chromium)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
if ((${#need[@]})); then
  echo "test.sh: installing ${need[*]} from Debian's packages" >&2
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# A full disk fails every test at once (SQLite's "database or disk is full",
# "no space left on device" from the compiler). The Go build cache is what
# grows here, so it is cleared when less than 4 GB is left beside it.
cache=$(go env GOCACHE)
free_kb=$(df -Pk "$cache" 2>/dev/null | awk 'NR==2{print $4}' || true)
if [ -n "$free_kb" ] && [ "$free_kb" -lt 4194304 ]; then
  echo "test.sh: only $((free_kb / 1024)) MB free; clearing the Go build cache ($cache)" >&2
  go clean -cache
fi
tmp_kb=$(df -Pk "${TMPDIR:-/tmp}" | awk 'NR==2{print $4}')
[ "$tmp_kb" -ge 1048576 ] || echo "test.sh: warning: only $((tmp_kb / 1024)) MB free in ${TMPDIR:-/tmp}; tests need about 1 GB" >&2

work=$(mktemp -d)
cleanup() { [ -n "${mongo_pid:-}" ] && kill "$mongo_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

if [ -z "${GATEWAY_TEST_MONGO_URI:-}" ]; then
  go build -o "$work/gateway" ./cmd/gateway
  GATEWAY_DATA_DIR="$work/mongo" "$work/gateway" mongo-server 127.0.0.1:0 >"$work/mongo.out" 2>&1 &
  mongo_pid=$!
  for _ in $(seq 1 100); do
    uri=$(grep -m1 '^mongodb://' "$work/mongo.out" || true)
    [ -n "$uri" ] && break
    kill -0 "$mongo_pid" 2>/dev/null || { cat "$work/mongo.out" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "${uri:-}" ] || { echo "test.sh: FerretDB did not start" >&2; cat "$work/mongo.out" >&2; exit 1; }
  export GATEWAY_TEST_MONGO_URI="$uri"
fi
export GATEWAY_TEST_BIN_DIR="$work"
echo "test.sh: MongoDB at $GATEWAY_TEST_MONGO_URI" >&2
# Packages among the arguments replace ./... (./test.sh -run X ./report/).
pkgs=(./...)
for a in "$@"; do case "$a" in ./*|github.com/*) pkgs=() ;; esac; done
go test -race -timeout 20m "$@" "${pkgs[@]}"
