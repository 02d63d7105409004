// Replays every kept fuzz input (tests/fuzz/corpus/<target>/*, seeds and
// crashers found by the fuzzers) through its target in the normal build.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/fuzz/fuzz_targets.h"
#include "tests/testutil.h"

namespace threadsearch {
namespace {

TEST(FuzzRegressionTest, EveryKeptInputRunsCleanly) {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(TS_TEST_DATA).parent_path() / "fuzz" / "corpus";
  size_t inputs = 0;
  for (const std::string& target : fuzz::TargetNames()) {
    fs::path dir = root / target;
    ASSERT_TRUE(fs::is_directory(dir)) << dir;
    size_t here = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (!entry.is_regular_file()) continue;
      std::string data = ReadFileOrDie(entry.path().string());
      SCOPED_TRACE(entry.path().string());
      ASSERT_TRUE(fuzz::RunTarget(target,
                                  reinterpret_cast<const uint8_t*>(data.data()),
                                  data.size()));
      ++here;
    }
    EXPECT_GT(here, 0u) << "no kept inputs for " << target;
    inputs += here;
  }
  std::cout << "replayed " << inputs << " fuzz inputs\n";
}

TEST(FuzzRegressionTest, UnknownTargetIsRefused) {
  EXPECT_FALSE(fuzz::RunTarget("no-such-target", nullptr, 0));
}

}  // namespace
}  // namespace threadsearch
