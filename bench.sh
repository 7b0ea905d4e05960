#!/usr/bin/env bash
# make bench: the load tool against a fresh gateway twice, first on the
# embedded default (FerretDB + miniredis in-process), then on real servers
# (redis-server and FerretDB in their own processes, as a deployment would
# run them), all on this machine. Figures go to docs/bench/embedded.txt and
# docs/bench/servers.txt with the machine they were measured on; the
# paper forms' mark reader's pages a second go to docs/bench/omr.txt.
# Each scenario's CPU per request, per process, is read from /proc and
# printed under the table; in servers mode the stores run on core 1 and the
# gateway and the load tool on core 0 (see bench-lib.sh; PIN=0 turns it
# off). DURATION, CONNS, POOL, CONVERSATIONS and ONLY (loadgen's -only)
# override the defaults; BENCH=servers or BENCH=embedded runs one mode.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p docs/bench
DURATION=${DURATION:-10s} CONNS=${CONNS:-16} POOL=${POOL:-2000} CONVERSATIONS=${CONVERSATIONS:-100000}
BENCH=${BENCH:-all} ONLY=${ONLY:-}
. ./bench-lib.sh
build
# A partial run (BENCH or ONLY) prints its figures without replacing the
# recorded ones.
out() { if [ "$BENCH" = all ] && [ -z "$ONLY" ]; then tee "docs/bench/$1.txt"; else cat; fi; }

# 1. Embedded default.
if [ "$BENCH" = all ] || [ "$BENCH" = embedded ]; then
start_embedded embedded error
{ machine; echo "stores: embedded (FerretDB 1.24 SQLite + miniredis, in the gateway process)"
  "$work/loadgen" -url "http://$addr" -key "$key" -duration "$DURATION" -conns "$CONNS" -pool "$POOL" -mongo "$mongo" \
    -only "$ONLY" -cpu "gateway=$gw_pid"; } | out embedded
stop_all
fi

# 2. Real servers: redis-server and FerretDB (gateway mongo-server) apart.
if [ "$BENCH" = all ] || [ "$BENCH" = servers ]; then
start_servers servers error
{ machine; echo "stores: redis-server and FerretDB 1.24 SQLite (gateway mongo-server) in their own processes${on_stores:+; stores pinned to core 1, the gateway and the load tool to core 0}"
  $on_gateway "$work/loadgen" -url "http://$addr" -key "$key" -duration "$DURATION" -conns "$CONNS" -pool "$POOL" \
    -mongo "$mongo" -redis "$redis" -conversations "$CONVERSATIONS" -only "$ONLY" -cpu "gateway=$gw_pid,redis=$redis_pid,mongo=$mongo_pid"; } | out servers
stop_all
fi
[ "$BENCH" = all ] && [ -z "$ONLY" ] || exit 0

# 3. The paper forms' mark reader: a small corpus for accuracy and 20
# clear 300 dpi pages timed one at a time, one core.
{ machine; go run ./paper/omrbench -n 10 -seed 2 -speed 20; } | tee docs/bench/omr.txt
