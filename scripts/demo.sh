#!/usr/bin/env bash
# README command 1: set everything up, index the shipped corpus/, and show
# a few searches, each hit in its thread.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
DB="${DB:-data/corpus-db}"
rm -rf "$DB"
./build/threadsearch index --db "$DB" corpus/
echo
./build/threadsearch stats --db "$DB"
run() {
  echo
  echo "\$ threadsearch $*"
  ./build/threadsearch "$@"
}
run search --db "$DB" -n 3 '"linear model"' factor
run search --db "$DB" -n 2 keras google
run search --db "$DB" -n 3 --replies-to ripley@stats.ox.ac.uk --sort -date
run thread --db "$DB" 42134706
echo
echo "Serving the corpus: open http://127.0.0.1:${PORT:-8080}/ (Ctrl-C stops)."
exec ./build/threadsearch serve --db "$DB" --port "${PORT:-8080}"
