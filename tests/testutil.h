// Shared test helpers: status assertions and per-test temporary directories.
#ifndef THREADSEARCH_TESTS_TESTUTIL_H_
#define THREADSEARCH_TESTS_TESTUTIL_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/status.h"

#define ASSERT_OK(expr)                                   \
  do {                                                    \
    const auto& _s = (expr);                              \
    ASSERT_TRUE(_s.ok()) << #expr << ": " << StatusText(_s); \
  } while (0)
#define EXPECT_OK(expr)                                   \
  do {                                                    \
    const auto& _s = (expr);                              \
    EXPECT_TRUE(_s.ok()) << #expr << ": " << StatusText(_s); \
  } while (0)

namespace threadsearch {

inline std::string StatusText(const Status& s) { return s.ToString(); }
template <typename T>
inline std::string StatusText(const Result<T>& r) {
  return r.status().ToString();
}

// A fresh mkdtemp directory for one test: removed when the test passed, kept
// (and its path printed) when it failed.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") +
                       "/threadsearch-test-XXXXXX";
    char* p = mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    if (::testing::Test::HasFailure()) {
      fprintf(stderr, "kept test directory: %s\n", path_.c_str());
    } else {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string ReadFileOrDie(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << path;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void WriteFileOrDie(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f << data;
  EXPECT_TRUE(f.good()) << path;
}

}  // namespace threadsearch

#endif  // THREADSEARCH_TESTS_TESTUTIL_H_
