#!/usr/bin/env bash
# make bench: the load tool against a fresh gateway twice, first on the
# embedded default (FerretDB + miniredis in-process), then on real servers
# (redis-server and FerretDB in their own processes, as a deployment would
# run them), all on this machine. Figures go to docs/bench/embedded.txt and
# docs/bench/servers.txt with the machine they were measured on; the
# paper forms' mark reader's pages a second go to docs/bench/omr.txt.
# DURATION, CONNS, POOL and CONVERSATIONS override the defaults.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p docs/bench
DURATION=${DURATION:-10s} CONNS=${CONNS:-16} POOL=${POOL:-2000} CONVERSATIONS=${CONVERSATIONS:-100000}
. ./bench-lib.sh
build

# 1. Embedded default.
start_embedded embedded error
{ machine; echo "stores: embedded (FerretDB 1.24 SQLite + miniredis, in the gateway process)"
  "$work/loadgen" -url "http://$addr" -key "$key" -duration "$DURATION" -conns "$CONNS" -pool "$POOL" -mongo "$mongo"; } | tee docs/bench/embedded.txt
stop_all

# 2. Real servers: redis-server and FerretDB (gateway mongo-server) apart.
start_servers servers error
{ machine; echo "stores: redis-server and FerretDB 1.24 SQLite (gateway mongo-server) in their own processes"
  "$work/loadgen" -url "http://$addr" -key "$key" -duration "$DURATION" -conns "$CONNS" -pool "$POOL" \
    -mongo "$mongo" -redis "$redis" -conversations "$CONVERSATIONS"; } | tee docs/bench/servers.txt

# 3. The paper forms' mark reader: a small corpus for accuracy and 20
# clear 300 dpi pages timed one at a time, one core.
{ machine; go run ./paper/omrbench -n 10 -seed 2 -speed 20; } | tee docs/bench/omr.txt
