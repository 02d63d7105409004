// ThreadStore: the RocksDB database that is the source of truth for items
// and thread structure. Key layout: common/keys.h.
#ifndef THREADSEARCH_COMMON_THREAD_STORE_H_
#define THREADSEARCH_COMMON_THREAD_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/item.h"
#include "common/status.h"
#include "common/store_reader.h"

namespace rocksdb {
class DB;
}

namespace threadsearch {

struct StoreOptions {
  // Open without taking the write lock; sees the database as of Open (call
  // Refresh() to see later writes). Many read-only opens may coexist with
  // one writer.
  bool read_only = false;
  // Create the database when missing (ignored when read_only).
  bool create_if_missing = true;
};

// Puts and deletes applied atomically by ThreadStore::Write.
class StoreBatch {
 public:
  void Put(std::string key, std::string value) {
    ops_.push_back({Op::kPut, std::move(key), std::move(value)});
  }
  void Delete(std::string key) {
    ops_.push_back({Op::kDelete, std::move(key), {}});
  }
  // Deletes keys in [begin, end).
  void DeleteRange(std::string begin, std::string end) {
    ops_.push_back({Op::kDeleteRange, std::move(begin), std::move(end)});
  }
  size_t size() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }

 private:
  friend class ThreadStore;
  enum class Op { kPut, kDelete, kDeleteRange };
  struct Entry {
    Op op;
    std::string key;
    std::string value;
  };
  std::vector<Entry> ops_;
};

class ThreadStore : public StoreReader {
 public:
  // Opens (or creates) the store in `dir`. Busy when another process holds
  // the write lock, IOError/Corruption otherwise.
  static Result<std::unique_ptr<ThreadStore>> Open(const std::string& dir,
                                                   const StoreOptions& opts);
  ~ThreadStore() override;
  ThreadStore(const ThreadStore&) = delete;
  ThreadStore& operator=(const ThreadStore&) = delete;

  // All reads are thread-safe.
  Result<std::string> GetRaw(std::string_view key) const override;
  Status MultiGetRaw(const std::vector<std::string>& keys,
                     std::vector<Result<std::string>>* out) const override;
  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& fn,
              bool reverse = false) const override;
  // Catches up with a writer's changes (read-only stores: reopens).
  Status Refresh() override;
  // Bytes on disk under the store directory.
  uint64_t DiskSize() const override;
  std::string Describe() const override { return dir_; }

  // Applies the batch atomically; synced to disk when `sync`. REQUIRES: not
  // read_only. Not thread-safe against other writers (one Indexer writes).
  Status Write(const StoreBatch& batch, bool sync = true);
  // Writes the in-memory table to disk and drops the write-ahead log, so
  // the next open (every reader's) has no log to replay. REQUIRES: not
  // read_only.
  Status FlushToDisk();
  // Rewrites every table into the last level, compressed as the last level
  // is (ZSTD, where the newer levels are LZ4 for speed): after a bulk
  // index, whose newest tables would otherwise stay in LZ4 (a fifth larger).
  // Readers go on reading meanwhile. REQUIRES: not read_only.
  Status Compact();
  const std::string& dir() const { return dir_; }

 private:
  ThreadStore(std::string dir, StoreOptions opts);
  Status OpenDb();
  std::string dir_;
  StoreOptions opts_;
  std::unique_ptr<rocksdb::DB> db_;
};

// Total bytes of regular files under `dir` (0 when missing).
uint64_t DirectorySize(const std::string& dir);

}  // namespace threadsearch

#endif  // THREADSEARCH_COMMON_THREAD_STORE_H_
