#!/bin/bash
# bench/live_commit.sh BIN SRC_DB WORK ITEMS_ZST FIRST_LINE ROUNDS BATCH
# The first query after a live commit (bench/results/2026-11-27-growth-s21.md).
# BIN: a threadsearch binary; SRC_DB: a database (copied to WORK/db, so it
# needs room for a copy); ITEMS_ZST: HN item JSON Lines (zstd), from whose
# line FIRST_LINE the items are taken.
# Serves a copy of SRC_DB, then ROUNDS times: indexes BATCH new items
# (threadsearch index: a small run, written into the parts), waits for
# the server to see it, and times two queries (the first after the commit,
# then again); then restarts the server and times the first query (cold).
set -e
BIN=$1; SRC=$2; W=$3; ITEMS=$4; FIRST=$5; ROUNDS=$6; BATCH=$7
PORT=${PORT:-18473}
rm -rf $W; mkdir -p $W; cp -r $SRC $W/db
zstdcat $ITEMS | sed -n "${FIRST},$((FIRST + ROUNDS * BATCH - 1))p" > $W/items.jsonl
start() { setsid $BIN serve --db $W/db --port $PORT > $W/serve.log 2>&1 < /dev/null &
  for i in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/api/search?q=x" && break; sleep 0.1; done; }
stop() { pid=$(ss -ltnp | grep ":$PORT " | sed 's/.*pid=\([0-9]*\).*/\1/'); kill $pid; while ss -ltn | grep -q ":$PORT "; do sleep 0.1; done; }
q() { curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$PORT/api/search?q=$1"; }
start
for w in 1 2 3; do q software >/dev/null; q "data+make" > /dev/null; done
for r in $(seq $ROUNDS); do
  sed -n "$(((r - 1) * BATCH + 1)),$((r * BATCH))p" $W/items.jsonl > $W/batch.jsonl
  $BIN index --db $W/db -q $W/batch.jsonl
  sleep 1.5
  a=$(q "data+make"); b=$(q "data+make"); c=$(q software)
  echo "round $r after_commit $a again $b other $c"
done
stop; start
echo "cold $(q 'data+make') again $(q 'data+make')"
stop
