// libFuzzer entry point; TS_FUZZ_TARGET names the target (fuzz_targets.h).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  threadsearch::fuzz::RunTarget(TS_FUZZ_TARGET, data, size);
  return 0;
}
