#!/usr/bin/env bash
# make bench-scale (issue 11): how the gateway's throughput and latency
# change as the store grows. For each mode, the embedded default (FerretDB
# and miniredis in the gateway's process) and real servers (redis-server and
# FerretDB, `gateway mongo-server`, in their own processes), it starts one
# fresh gateway (rate limits off) and, for each N in POINTS in turn, fills
# the store up to N invitations, then runs the load tool's scenarios for
# DURATION each: invitation create, survey page load, survey submit, SMS
# webhook, GET /api/v1/invitations/{id}, the console's searches (issue 29:
# GET /api/v1/invitations?q= by a filler code's start and by a part from
# its middle, the list filtered by status, channel and one month, and
# GET /api/v1/cases?q= by words and ?dossier= by a code's start) and
# GET /api/v1/reports/sipas (the last twelve months, then grouped by
# agency). Points are cumulative on the same gateway: fill to 10,000,
# measure, fill up to 100,000, measure.
#
# The fill (`loadgen -fill N`) is not the API. It writes each invitation
# document and its token and dossier lookups exactly as the gateway's
# insert does (store.InsertBulk: unordered InsertMany batches of 1,000 from
# 4 goroutines), but skips everything CreateInvitation does around that
# insert: the HTTP layer and validation, and the Redis side: the funnel
# event that counts the invitation in the report's response-rate roll-ups
# and, for invitations with a phone or channels to send on (filler ones
# have neither), the citizen's invitation index, the invitation cache and
# the send queue, and the search indexes. Completed filler invitations get
# their response, and the cases those open, in MongoDB. So neither the
# roll-ups nor the search see filler invitations: after each fill this
# script runs `gateway rebuild`, which rebuilds the roll-ups from the stored
# invitations and responses and the dossier and case indexes from the
# invitations and cases (REBUILD=0 skips it; reports then count only
# invitations made through the API, and the search scenarios stop: they
# check that the codes they look for are found).
#
# Figures: docs/bench/scale.txt (mode, N, scenario, req/s, p99, req/s as a
# ratio of the first N's, that ratio corrected by the baseline's, errors;
# then the fill and rebuild times and the ERROR lines of the gateway's log
# at each point), docs/bench/scale.csv (every row) and docs/bench/scale.svg
# (chart). POINTS ("10000 100000"; "10000 100000 1000000" to go further),
# DURATION (6s), CONNS (16), REPORT_CONNS (2: reports take seconds each on a
# large store, and 16 at once only time out), POOL (600 invitations each for
# the submit and SMS scenarios), REBUILD (1), MODES ("embedded servers")
# change the run; NOTE adds a line to scale.txt's header; KEEP=1 keeps the
# logs and data. Between points it waits for the processes to go idle (at
# most a minute). About 12 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p docs/bench
POINTS=${POINTS:-10000 100000} DURATION=${DURATION:-6s} CONNS=${CONNS:-16} POOL=${POOL:-600} REPORT_CONNS=${REPORT_CONNS:-2} REBUILD=${REBUILD:-1} MODES=${MODES:-embedded servers}
. ./bench-lib.sh
build

started=$SECONDS failed=0
csv=$work/scale.csv notes=$work/notes.txt
: >"$notes"
errors_in() { grep -c 'level=ERROR' "$1" || true; }
# index_memory N: what the dossier index holds in redis-server (MEMORY
# USAGE of each of its keys, every element counted), per invitation it
# indexed (the rebuild's count: those within retention).
index_memory() {
  local bytes indexed
  bytes=$(redis-cli -u "$redis" eval "local s=0 for _,k in ipairs(redis.call('keys',ARGV[1])) do s=s+redis.call('memory','usage',k,'samples',0) end return s" 0 "gw:dossiers:*")
  indexed=$(sed -nE 's/^search indexes: ([0-9]+) invitations.*/\1/p' "$work/rebuild.txt")
  echo "$mode N=$1: dossier index in redis-server: $bytes bytes for ${indexed:-?} invitations indexed = $(( bytes / ${indexed:-1} )) bytes each"
}
for mode in $MODES; do
  case $mode in
    embedded) start_embedded embedded warn; stores="embedded (FerretDB 1.24 SQLite + miniredis, in the gateway process)" ;;
    servers) start_servers servers warn; stores="redis-server and FerretDB 1.24 SQLite (gateway mongo-server) in their own processes" ;;
    *) echo "bench-scale: unknown mode $mode (use embedded, servers)" >&2; exit 2 ;;
  esac
  echo "== $mode: $stores"
  log=$work/$mode.out
  for n in $POINTS; do
    e0=$(errors_in "$log") l0=$(wc -l <"$log")
    t=$SECONDS
    if ! "$work/loadgen" -fill "$n" -mongo "$mongo" | tee "$work/fill.txt"; then
      echo "$mode N=$n: the fill failed; the rest of this mode is skipped" | tee -a "$notes"; failed=1; break
    fi
    echo "$mode N=$n: $(tail -1 "$work/fill.txt")" >>"$notes"
    if [ "$REBUILD" = 1 ]; then
      # The report counts invitations from roll-ups and the search reads
      # its indexes, which the fill skips: rebuild them from the stored
      # invitations, responses and cases, as after a restore.
      tr=$SECONDS
      if GATEWAY_SECRET_KEY=$(openssl rand -hex 32) GATEWAY_DATA_DIR="$work/rebuild" GATEWAY_MONGO_URI=$mongo GATEWAY_REDIS_URL=$redis GATEWAY_LOG_LEVEL=warn \
        "$work/gateway" rebuild >"$work/rebuild.txt" 2>&1; then
        echo "$mode N=$n: gateway rebuild: $(tail -2 "$work/rebuild.txt" | paste -sd ';' | sed 's/;/; /g')" | tee -a "$notes"
      else
        cat "$work/rebuild.txt"; echo "$mode N=$n: gateway rebuild failed (its message is above)" | tee -a "$notes"
      fi
      echo "$mode N=$n: gateway rebuild (roll-ups and search indexes from all invitations, responses and cases) took $((SECONDS - tr))s" | tee -a "$notes"
      [ "$mode" != servers ] || index_memory "$n" | tee -a "$notes"
    fi
    e1=$(errors_in "$log")
    ok=1
    "$work/loadgen" -url "http://$addr" -key "$key" -duration "$DURATION" -conns "$CONNS" -report-conns "$REPORT_CONNS" -pool "$POOL" \
      -fill "$n" -mongo "$mongo" -raw=false -half=false -only invite,page,submit,sms,get,search,report -mode "$mode" -csv "$csv" || ok=0
    settle
    e2=$(errors_in "$log")
    echo "$mode N=$n: gateway log ERROR lines: $((e1 - e0)) during the fill and rebuild, $((e2 - e1)) during the scenarios; point took $((SECONDS - t))s" | tee -a "$notes"
    # What they said: the five commonest (first 150 characters, without
    # times, request ids and connection names).
    tail -n "+$((l0 + 1))" "$log" | { grep 'level=ERROR' || true; } | sed -E 's/^time=[^ ]+ //; s/ request_id=[^ ]+//; s/connection\([^)]*\)/connection(…)/; s/tcp [0-9.:]+->[0-9.:]+/tcp …/' |
      cut -c1-150 | sort | uniq -c | sort -rn | head -5 | sed 's/^/    /' | tee -a "$notes"
    if [ "$ok" = 0 ]; then
      echo "$mode N=$n: the load tool failed (its message is above); the rest of this mode is skipped" | tee -a "$notes"; failed=1; break
    fi
  done
  stop_all
done

took=$((SECONDS - started))
[ -s "$csv" ] || { echo "bench-scale: nothing was measured" >&2; exit 1; }
cp "$csv" docs/bench/scale.csv
{ machine
  echo "stores: $MODES; points $POINTS; $CONNS connections ($REPORT_CONNS for reports), $DURATION per scenario, rate limits off; roll-ups rebuilt after each fill: $([ "$REBUILD" = 1 ] && echo yes || echo no); run took ${took}s"
  [ -z "${NOTE:-}" ] || echo "note: $NOTE"
  "$work/loadgen" -chart docs/bench/scale.csv -out docs/bench/scale.svg
  echo
  cat "$notes"; } | tee docs/bench/scale.txt
echo "bench-scale: docs/bench/scale.txt, docs/bench/scale.csv and docs/bench/scale.svg written in ${took}s"
[ "$failed" = 0 ] || { echo "bench-scale: some points were not measured (see above)" >&2; exit 1; }
