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
//               [--no-parallel-count]  (the count pass after the page)
//               [--threads N]  (N threads, a Searcher each, all at once)
//               [--dense-min N]  (terms in N documents of a part, and one in
//                                 8 of its docids, read from memory;
//                                 default 2048, 0: never)
//               [--list-min N]  (other terms in N documents of a part read
//                                from arrays in memory; default 2048,
//                                0: never)
//               [--list-mb N]  (room for those arrays, MB; default two
//                               thirds of serve's --postings-memory
//                               default)
//               [--block-min N]  (block maxima for terms in N documents of
//                                 a part; 0: none)
//   {"queries": 500, "errors": 0, "hits": 4711, "p50_ms": …, "p95_ms": …,
//    "p99_ms": …, "mean_ms": …, "max_ms": …, "total_ms": …,
//    "block_tables": …, "blocks_skipped": …}
//
// `hits` sums the hits returned (a sanity check that the queries match);
// block_tables and blocks_skipped count, over every pass, the block maxima
// made and the blocks of postings the match skipped with them
// (searcher/bm25_source.h).
// With --threads N (throughput), every thread runs the whole set, each
// starting at its own offset, the timed passes started together; the
// summary covers all N passes and adds "threads" and "queries_per_s" (all
// timed queries over the wall time from the common start to the last end).
// With --times FILE, also writes every timed latency (ms), one a line, in
// query order. Exit codes: 0 success, 1 failure, 2 usage.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"

#include "searcher/bm25_source.h"
#include "searcher/searcher.h"

namespace {

using Clock = std::chrono::steady_clock;

// Nearest-rank percentile of a non-empty, sorted list (as bench/quality.py).
int Usage() {
  std::cerr << "usage: bench_query --db DIR --queries FILE [--warm N] "
               "[--limit N] [--no-context] [--times FILE] [--proximity W]\n"
               "       [--rescore-window N] [--title-weight W] "
               "[--no-cached-lengths] [--no-parallel-count] [--threads N]\n"
               "       [--block-min N] [--dense-min N] [--list-min N] "
               "[--list-mb N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string db, queries_path, times_path;
  int warm = 1;
  uint32_t limit = 10;
  bool context = true;
  bool cached_lengths = true;
  bool parallel_count = true;
  int threads = 0;
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
    } else if (a == "--no-parallel-count") {
      parallel_count = false;
    } else if (a == "--threads" && (v = next())) {
      threads = std::atoi(v);
      if (threads < 1) return Usage();
    } else if (a == "--proximity" && (v = next())) {
      proximity = std::atof(v);
    } else if (a == "--rescore-window" && (v = next())) {
      window = static_cast<uint32_t>(std::atoi(v));
    } else if (a == "--title-weight" && (v = next())) {
      title_weight = std::atof(v);
    } else if (a == "--list-mb" && (v = next())) {
      const long mb = std::atol(v);
      if (mb <= 0) return Usage();
      threadsearch::ListTerms::SetMaxBytes(static_cast<size_t>(mb) << 20);
    } else if ((a == "--block-min" || a == "--dense-min" ||
                a == "--list-min") &&
               (v = next())) {
      const long n = std::atol(v);
      if (n < 0) return Usage();
      // 0: never.
      const Xapian::doccount min =
          n == 0 ? std::numeric_limits<Xapian::doccount>::max()
                 : static_cast<Xapian::doccount>(n);
      if (a == "--block-min") {
        threadsearch::BlockMaxima::SetMinPostings(min);
      } else if (a == "--list-min") {
        threadsearch::ListTerms::SetMinPostings(min);
      } else {
        threadsearch::DenseTerms::SetMinPostings(min);
      }
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
  so.parallel_count = parallel_count;
  const int n = std::max(threads, 1);
  std::vector<std::unique_ptr<threadsearch::Searcher>> searchers;
  for (int t = 0; t < n; ++t) {
    auto searcher = threadsearch::Searcher::Open(db, so);
    if (!searcher.ok()) {
      std::cerr << "bench_query: " << searcher.status().ToString() << "\n";
      return 1;
    }
    searchers.push_back(std::move(searcher).value());
  }

  // One thread's passes: `warm` untimed, then the timed one, which waits
  // for every thread to be ready (`ready` counts them down).
  struct Pass {
    std::vector<double> ms;
    uint64_t hits = 0, errors = 0;
    Clock::time_point end;
  };
  std::vector<Pass> passes(n);
  std::atomic<int> ready{n};
  Clock::time_point start;
  auto run = [&](int t) {
    threadsearch::SearchRequest req;
    req.limit = limit;
    req.context = context;
    Pass& p = passes[t];
    p.ms.reserve(queries.size());
    const size_t offset = queries.size() * t / n;
    for (int round = 0; round <= warm; ++round) {
      const bool timed = round == warm;
      if (timed) {
        if (--ready == 0) start = Clock::now();
        while (ready.load() > 0) std::this_thread::yield();
      }
      for (size_t k = 0; k < queries.size(); ++k) {
        req.query = queries[(offset + k) % queries.size()];
        const auto t0 = Clock::now();
        auto r = searchers[t]->Search(req);
        const double d =
            std::chrono::duration<double, std::milli>(Clock::now() - t0)
                .count();
        if (!timed) continue;
        p.ms.push_back(d);
        if (r.ok()) {
          p.hits += r->hits.size();
        } else {
          ++p.errors;
          if (p.errors <= 3) {
            std::cerr << "bench_query: " << req.query << ": "
                      << r.status().ToString() << "\n";
          }
        }
      }
    }
    p.end = Clock::now();
  };
  if (threads == 0) {
    run(0);
  } else {
    std::vector<std::thread> pool;
    for (int t = 0; t < n; ++t) pool.emplace_back(run, t);
    for (std::thread& th : pool) th.join();
  }
  std::vector<double> ms;
  uint64_t hits = 0, errors = 0;
  Clock::time_point end = start;
  for (const Pass& p : passes) {
    ms.insert(ms.end(), p.ms.begin(), p.ms.end());
    hits += p.hits;
    errors += p.errors;
    end = std::max(end, p.end);
  }
  if (!times_path.empty()) {
    std::ofstream out(times_path);
    for (double d : ms) out << d << "\n";
  }
  std::string extra =
      "\"block_tables\": " + std::to_string(threadsearch::BlockMaxima::Made()) +
      ", \"blocks_skipped\": " +
      std::to_string(threadsearch::BlockMaxima::Skipped()) +
      ", \"docs_skipped\": " +
      std::to_string(threadsearch::BlockMaxima::DocsSkipped()) +
      ", \"dense_terms\": " + std::to_string(threadsearch::DenseTerms::Made()) +
      ", \"dense_refused\": " +
      std::to_string(threadsearch::DenseTerms::Refused()) +
      ", \"list_terms\": " + std::to_string(threadsearch::ListTerms::Made()) +
      ", \"list_refused\": " +
      std::to_string(threadsearch::ListTerms::Refused()) + ", \"list_mb\": " +
      std::to_string(threadsearch::ListTerms::Bytes() >> 20) +
      ", \"dense_mb\": " +
      std::to_string(threadsearch::DenseTerms::Bytes() >> 20);
  if (threads > 0) {
    const double wall = std::chrono::duration<double>(end - start).count();
    extra += ", \"threads\": " + std::to_string(threads) +
             ", \"queries_per_s\": " +
             std::to_string(static_cast<double>(ms.size()) / wall);
  }
  return threadsearch::bench::PrintLatencySummary(ms, errors, hits, extra);
}
