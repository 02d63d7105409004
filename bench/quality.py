#!/usr/bin/env python3
"""Known-item search quality: threadsearch against SQLite FTS5.

Draws known-item queries (N consecutive words, unquoted, from one mailing-list
message's own indexed text), runs each through `threadsearch search --json`
and through an SQLite FTS5 index (tokenize "porter unicode61", ranked by bm25)
of the very same items and text, and reports success@1, success@10 and the
p50/p99 query latency of both, measured in one run with a fixed seed.

Both engines see the same items and the same text: bench_dump_items (built
with threadsearch) prints every searchable item with the body the indexer
indexed (for mail, the writer's own lines: no quotes, signature or footer).
FTS5 gets two columns mirroring the Xapian schema: `text` (the title for a
thread opener, then the body) and `title` (weight 0.2, like threadsearch's
weak title signal).

Latency: threadsearch's is its own `took_ms` (the Searcher call, including
snippets and thread context for ten hits, excluding process start); FTS5's is
the MATCH query plus fetching ten rowids, in this process.

Usage (see bench/README.md):
  bench/quality.py --build build --db data/corpus-db [--index corpus]
"""

import argparse
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import time

# A word: letters and digits, with single inner apostrophes, dots, commas or
# ampersands kept ("it's", "1.8.1", "1,000", "AT&T"), as a reader sees words.
WORD = re.compile(r"[^\W_]+(?:['\u2019.,&][^\W_]+)*")
OPERATORS = {"AND", "OR", "NOT", "NEAR"}


def percentile(values, p):
    """Nearest-rank percentile of a non-empty list."""
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def load_items(dump_bin, db):
    out = subprocess.run([dump_bin, "--db", db], check=True,
                         stdout=subprocess.PIPE).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def draw_queries(items, n, words_per_query, min_words, source, seed):
    rng = random.Random(seed)
    pool = [it for it in items if it["source"] == source]
    if not pool:
        sys.exit(f"quality.py: no {source} items in the database")
    queries = []
    tries = 0
    while len(queries) < n and tries < 100 * n:
        tries += 1
        it = pool[rng.randrange(len(pool))]
        words = WORD.findall(it["body"])
        if len(words) < min_words:
            continue
        at = rng.randrange(len(words) - words_per_query + 1)
        q = [w.lower() if w in OPERATORS else w
             for w in words[at:at + words_per_query]]
        queries.append({"words": q, "source": it["source"], "id": it["id"],
                        "num": it["num"]})
    return queries


def build_fts(items, title_weight):
    con = sqlite3.connect(":memory:")
    con.execute('CREATE VIRTUAL TABLE t USING fts5(text, title, '
                'tokenize="porter unicode61")')
    rows = []
    for it in items:
        text = (it["title"] + "\n" if it["root"] and it["title"] else "") + \
            it["body"]
        rows.append((it["num"], text, it["title"]))
    con.executemany("INSERT INTO t(rowid, text, title) VALUES (?, ?, ?)", rows)
    con.execute("INSERT INTO t(t) VALUES('optimize')")
    con.commit()
    sql = (f"SELECT rowid FROM t WHERE t MATCH ? "
           f"ORDER BY bm25(t, 1.0, {title_weight}) LIMIT 10")
    return con, sql


def run_fts(con, sql, q):
    match = " ".join('"' + w.replace('"', '""') + '"' for w in q["words"])
    t0 = time.perf_counter()
    rows = con.execute(sql, (match,)).fetchall()
    ms = (time.perf_counter() - t0) * 1000.0
    return [r[0] for r in rows], ms


def run_ours(ts_bin, db, q):
    out = subprocess.run(
        [ts_bin, "search", "--db", db, "--json", "--limit", "10",
         " ".join(q["words"])],
        check=True, stdout=subprocess.PIPE).stdout
    r = json.loads(out)
    return [(h["source"], h["id"]) for h in r["hits"]], float(r["took_ms"])


def summarize(name, ranks, times, n):
    s1 = sum(1 for r in ranks if r == 1)
    s10 = sum(1 for r in ranks if r is not None and r <= 10)
    return {"engine": name, "queries": n,
            "success@1": s1 / n, "success@10": s10 / n,
            "p50_ms": percentile(times, 50), "p99_ms": percentile(times, 99),
            "mean_ms": statistics.mean(times)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build",
                    help="CMake build directory with threadsearch and "
                         "bench_dump_items (default: build)")
    ap.add_argument("--db", required=True, help="threadsearch database")
    ap.add_argument("--index", nargs="*", default=[],
                    help="index these files or directories into --db first")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--words", type=int, default=5,
                    help="consecutive words per query (default 5)")
    ap.add_argument("--min-words", type=int, default=12,
                    help="draw only from items with this many words")
    ap.add_argument("--source", default="mail",
                    help="draw queries from items of this source")
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument("--fts-title-weight", type=float, default=0.2)
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--misses", type=int, default=0,
                    help="print this many queries we miss at rank 1")
    a = ap.parse_args()

    ts_bin = os.path.join(a.build, "threadsearch")
    dump_bin = os.path.join(a.build, "bench_dump_items")
    if a.index:
        subprocess.run([ts_bin, "index", "--db", a.db, "--quiet", *a.index],
                       check=True)
    t0 = time.time()
    items = load_items(dump_bin, a.db)
    queries = draw_queries(items, a.queries, a.words, a.min_words, a.source,
                           a.seed)
    con, sql = build_fts(items, a.fts_title_weight)
    print(f"{len(items)} items, {len(queries)} queries "
          f"(seed {a.seed}, {a.words} words from {a.source} items); "
          f"FTS5 built in {time.time() - t0:.1f} s", file=sys.stderr)

    ours_ranks, ours_ms, fts_ranks, fts_ms = [], [], [], []
    misses = []
    for q in queries:
        hits, ms = run_ours(ts_bin, a.db, q)
        rank = next((i + 1 for i, h in enumerate(hits)
                     if h == (q["source"], q["id"])), None)
        ours_ranks.append(rank)
        ours_ms.append(ms)
        if rank != 1:
            misses.append((q, rank))
        rows, ms = run_fts(con, sql, q)
        fts_ranks.append(next((i + 1 for i, r in enumerate(rows)
                               if r == q["num"]), None))
        fts_ms.append(ms)

    n = len(queries)
    results = [summarize("threadsearch", ours_ranks, ours_ms, n),
               summarize("fts5", fts_ranks, fts_ms, n)]
    print(f"{'engine':<14}{'success@1':>10}{'success@10':>11}"
          f"{'p50 ms':>9}{'p99 ms':>9}")
    for r in results:
        print(f"{r['engine']:<14}{r['success@1']:>10.3f}{r['success@10']:>11.3f}"
              f"{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}")
    for q, rank in misses[:a.misses]:
        print(f"miss (rank {rank}): {' '.join(q['words'])}  -> {q['id']}",
              file=sys.stderr)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"seed": a.seed, "items": len(items), "results": results},
                      f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
