// bench_query: in-process query latency of threadsearch's Searcher, for
// bench/run. Opens the database once, reads one query per line from a file,
// runs the whole set `--warm` times untimed, then once more timing each
// Searcher::Search call (the request the CLI and /api/search make: limit 10,
// relevance, snippets, and thread context unless --no-context), and prints
// one JSON object:
//
//   bench_query --db DIR --queries FILE [--warm N] [--limit N] [--no-context]
//               [--proximity W]   (the proximity boost's weight; 0: off)
//               [--rescore-window N]  (how many results get that boost)
//               [--title-weight W]  (the title signal's weight; 0: off)
//               [--no-cached-lengths]  (Xapian's BM25Weight reads lengths)
//   {"queries": 500, "errors": 0, "hits": 4711, "p50_ms": …, "p95_ms": …,
//    "p99_ms": …, "mean_ms": …, "max_ms": …, "total_ms": …}
//
// `hits` sums the hits returned (a sanity check that the queries match).
// With --times FILE, also writes every timed latency (ms), one a line, in
// query order. Exit codes: 0 success, 1 failure, 2 usage.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "bench/bench_util.h"

#include "searcher/searcher.h"

namespace {

using Clock = std::chrono::steady_clock;

// Nearest-rank percentile of a non-empty, sorted list (as bench/quality.py).
int Usage() {
  std::cerr << "usage: bench_query --db DIR --queries FILE [--warm N] "
               "[--limit N] [--no-context] [--times FILE] [--proximity W]\n"
               "       [--rescore-window N] [--title-weight W] "
               "[--no-cached-lengths]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string db, queries_path, times_path;
  int warm = 1;
  uint32_t limit = 10;
  bool context = true;
  bool cached_lengths = true;
  double proximity = threadsearch::SearcherOptions().proximity_weight;
  uint32_t window = threadsearch::SearcherOptions().rescore_window;
  double title_weight = threadsearch::SearcherOptions().title_weight;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--db" && (v = next())) {
      db = v;
    } else if (a == "--queries" && (v = next())) {
      queries_path = v;
    } else if (a == "--warm" && (v = next())) {
      warm = std::atoi(v);
    } else if (a == "--limit" && (v = next())) {
      limit = static_cast<uint32_t>(std::atoi(v));
    } else if (a == "--times" && (v = next())) {
      times_path = v;
    } else if (a == "--no-context") {
      context = false;
    } else if (a == "--no-cached-lengths") {
      cached_lengths = false;
    } else if (a == "--proximity" && (v = next())) {
      proximity = std::atof(v);
    } else if (a == "--rescore-window" && (v = next())) {
      window = static_cast<uint32_t>(std::atoi(v));
    } else if (a == "--title-weight" && (v = next())) {
      title_weight = std::atof(v);
    } else {
      return Usage();
    }
  }
  if (db.empty() || queries_path.empty()) return Usage();

  std::vector<std::string> queries;
  if (!threadsearch::bench::ReadQueries(queries_path, "bench_query", &queries)) {
    return 1;
  }

  threadsearch::SearcherOptions so;
  so.proximity_weight = proximity;
  so.rescore_window = window;
  so.title_weight = title_weight;
  so.cached_lengths = cached_lengths;
  auto searcher = threadsearch::Searcher::Open(db, so);
  if (!searcher.ok()) {
    std::cerr << "bench_query: " << searcher.status().ToString() << "\n";
    return 1;
  }
  threadsearch::SearchRequest req;
  req.limit = limit;
  req.context = context;

  std::vector<double> ms;
  ms.reserve(queries.size());
  uint64_t hits = 0, errors = 0;
  for (int round = 0; round <= warm; ++round) {
    const bool timed = round == warm;
    for (const std::string& q : queries) {
      req.query = q;
      const auto t0 = Clock::now();
      auto r = (*searcher)->Search(req);
      const double d =
          std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (!timed) continue;
      ms.push_back(d);
      if (r.ok()) {
        hits += r->hits.size();
      } else {
        ++errors;
        if (errors <= 3) {
          std::cerr << "bench_query: " << q << ": " << r.status().ToString()
                    << "\n";
        }
      }
    }
  }
  if (!times_path.empty()) {
    std::ofstream out(times_path);
    for (double d : ms) out << d << "\n";
  }
  return threadsearch::bench::PrintLatencySummary(ms, errors, hits);
}
