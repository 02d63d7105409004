// Helpers shared by the bench programs.
#ifndef THREADSEARCH_BENCH_BENCH_UTIL_H_
#define THREADSEARCH_BENCH_BENCH_UTIL_H_

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

}  // namespace threadsearch::bench

#endif  // THREADSEARCH_BENCH_BENCH_UTIL_H_
