// The process's open-file limit.
#ifndef THREADSEARCH_COMMON_OPEN_FILES_H_
#define THREADSEARCH_COMMON_OPEN_FILES_H_

#include <cstdint>

namespace threadsearch {

// Raises the soft limit on open files to the hard limit (Xapian keeps a few
// files open per index part and handle, RocksDB its tables) and returns the
// limit in force: 1024 when it cannot be read, 2^20 when unlimited.
// Thread-safe.
uint64_t RaiseOpenFileLimit();

}  // namespace threadsearch

#endif  // THREADSEARCH_COMMON_OPEN_FILES_H_
