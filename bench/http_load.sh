#!/usr/bin/env bash
# HTTP load check (not a unit test): `threadsearch serve` on an index of the
# R-help archive, hammered by wrk with a mix of searches.
#
#   bench/http_load.sh [BIN] [DB]
#
# BIN defaults to build/threadsearch (use a Release build); DB defaults to a
# fresh index of corpus/mailing-lists/r-help in a temporary directory.
# Env: CONNECTIONS (64), DURATION (30s), THREADS (wrk threads, 4),
# SERVER_THREADS (64: one worker per connection, as httplib holds a worker
# for each keep-alive connection). Exits 1 on any error or non-2xx reply.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/threadsearch}
DB=${2:-}
CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-30s}
THREADS=${THREADS:-4}
SERVER_THREADS=${SERVER_THREADS:-64}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
if [[ -z "$DB" ]]; then
  DB=$WORK/db
  "$BIN" index --quiet --db "$DB" corpus/mailing-lists/r-help
fi
"$BIN" serve --db "$DB" --port 0 --threads "$SERVER_THREADS" >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
URL=
for _ in $(seq 100); do
  URL=$(grep -o 'http://[^ ]*/' "$WORK/serve.log" || true)
  [[ -n "$URL" ]] && break
  sleep 0.1
done
[[ -n "$URL" ]] || { cat "$WORK/serve.log" >&2; exit 1; }
URL=${URL%/}
echo "server: $URL (db $DB)"

# The mix: native searches (words, phrases, filters, sorts, deep pages),
# HN Search API calls, items, users and stats.
cat >"$WORK/mix.lua" <<'LUA'
local paths = {
  "/api/search?q=linear+model",
  "/api/search?q=%22linear+model%22+factor&limit=20",
  "/api/search?q=lme+OR+nlme&sort=-date",
  "/api/search?q=plot*&author=ripley%40stats.ox.ac.uk",
  "/api/search?q=regression&collapse=thread&page=2",
  "/api/search?q=anova+-lm&after=2003-06-01&before=2003-09-01",
  "/api/search?replies_to=ripley%40stats.ox.ac.uk&limit=20",
  "/api/search?q=error+message&type=message&source=mail&page=5",
  "/api/search?q=data.frame+merge",
  "/api/search?sort=-date&limit=50",
  "/api/v1/search?query=glm&hitsPerPage=20",
  "/api/v1/search_by_date?query=matrix&tags=message",
  "/api/v1/search?query=install+package&numericFilters=created_at_i%3E1050000000",
  "/api/users/ripley%40stats.ox.ac.uk/replies",
  "/healthz",
}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
LUA

# Warm up (and check every path answers 2xx once).
while read -r p; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$URL$p")
  [[ "$code" == 2* ]] || { echo "warm-up: $p -> $code" >&2; exit 1; }
done < <(grep -o '"/[^"]*"' "$WORK/mix.lua" | tr -d '"')

wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/mix.lua" "$URL" | tee "$WORK/wrk.out"
if grep -q -E 'Non-2xx|Socket errors' "$WORK/wrk.out"; then
  echo "FAIL: errors or non-2xx replies" >&2
  exit 1
fi
echo "OK: zero errors, zero non-2xx"
