// Helpers shared by the bench programs.
#ifndef THREADSEARCH_BENCH_BENCH_UTIL_H_
#define THREADSEARCH_BENCH_BENCH_UTIL_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace threadsearch::bench {

// The non-empty lines of `path` (one query each). Prints "PROG: …" to stderr
// and returns false when the file cannot be read or holds no line.
inline bool ReadQueries(const std::string& path, const char* prog,
                        std::vector<std::string>* out) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << prog << ": cannot read " << path << "\n";
    return false;
  }
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out->push_back(line);
  }
  if (out->empty()) {
    std::cerr << prog << ": no queries in " << path << "\n";
    return false;
  }
  return true;
}

// The p-th percentile (nearest rank) of ascending `sorted`. REQUIRES: not
// empty.
inline double Percentile(const std::vector<double>& sorted, double p) {
  long k = std::lround(p / 100.0 * static_cast<double>(sorted.size()) + 0.5) - 1;
  k = std::clamp<long>(k, 0, static_cast<long>(sorted.size()) - 1);
  return sorted[static_cast<size_t>(k)];
}

// Prints the one-line JSON summary bench/run reads: counts and latency
// percentiles of per-query times `ms`. Returns the exit code (1 on errors).
// `extra`: more JSON members ("\"k\": v, …"), printed last when given.
inline int PrintLatencySummary(const std::vector<double>& ms, uint64_t errors,
                               uint64_t hits, const std::string& extra = "") {
  double total = 0;
  for (double d : ms) total += d;
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  std::cout << "{\"queries\": " << ms.size() << ", \"errors\": " << errors
            << ", \"hits\": " << hits
            << ", \"p50_ms\": " << Percentile(sorted, 50)
            << ", \"p95_ms\": " << Percentile(sorted, 95)
            << ", \"p99_ms\": " << Percentile(sorted, 99)
            << ", \"mean_ms\": " << total / static_cast<double>(ms.size())
            << ", \"max_ms\": " << sorted.back() << ", \"total_ms\": " << total
            << (extra.empty() ? "" : ", ") << extra << "}\n";
  return errors == 0 ? 0 : 1;
}

}  // namespace threadsearch::bench

#endif  // THREADSEARCH_BENCH_BENCH_UTIL_H_
