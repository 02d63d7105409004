// StoreReader: the read side of a thread store (common/keys.h), whether the
// RocksDB database is on this machine (ThreadStore) or served by a shard
// server over HTTP (searcher/remote_store.h). Everything a reader needs is
// built on two primitives: a point read and an ordered prefix scan.
#ifndef THREADSEARCH_COMMON_STORE_READER_H_
#define THREADSEARCH_COMMON_STORE_READER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/item.h"
#include "common/status.h"

namespace threadsearch {

class StoreReader {
 public:
  virtual ~StoreReader();

  // The value at `key`: NotFound when absent.
  virtual Result<std::string> GetRaw(std::string_view key) const = 0;
  // Calls fn(key, value) for each key starting with `prefix`, in key order
  // (reverse order when `reverse`), until fn returns false.
  virtual Status Scan(
      std::string_view prefix,
      const std::function<bool(std::string_view, std::string_view)>& fn,
      bool reverse = false) const = 0;
  // The values at `keys`, in order, each as GetRaw gives it (NotFound in
  // the place of an absent key). The Status returned is a failure of the
  // store as a whole (a remote one that does not answer). The default reads
  // key by key; a local store reads them in one RocksDB MultiGet and a
  // remote one in one request.
  virtual Status MultiGetRaw(const std::vector<std::string>& keys,
                             std::vector<Result<std::string>>* out) const;
  // Catches up with a writer's changes.
  virtual Status Refresh() = 0;
  // Bytes the store takes on disk.
  virtual uint64_t DiskSize() const = 0;
  // Where the store is (a directory, or host:port), for messages.
  virtual std::string Describe() const = 0;

  // The item numbered `num`: NotFound when absent, Corruption when its
  // record does not decode.
  Result<StoredItem> Get(uint32_t num) const;
  // The items numbered `nums`, in order, each as Get gives it; the Status
  // is MultiGetRaw's.
  Status GetMany(const std::vector<uint32_t>& nums,
                 std::vector<Result<StoredItem>>* out) const;
  // The num of (source, id): NotFound when absent.
  Result<uint32_t> Lookup(Source source, std::string_view id) const;
  // Resolves a user-given id: "hn:123", "reddit:abc", "mail:<id>" or a bare
  // id tried against every source (hn, reddit, mail). Angle brackets around a
  // Message-ID are ignored. NotFound when no source has it.
  Result<uint32_t> Find(std::string_view id) const;
  // Calls fn(num, item) for each stored item (placeholders included), in
  // number order, until fn returns an error, which is returned. Corruption
  // naming the item ("item #N: ...") when a record does not decode; the
  // scan's own error when the store fails. Thread-safe as Scan is.
  Status ForEachItem(
      const std::function<Status(uint32_t num, const StoredItem&)>& fn) const;
  // Numbers of the direct children of `parent`, oldest first.
  Status Children(uint32_t parent, std::vector<uint32_t>* out) const;
  // The items below the placeholder `start` (a parent the archive lacks),
  // breadth first: its children that are no placeholders and, through the
  // placeholders among them, theirs (only the first level when `direct`);
  // a child entry whose item has moved to another parent is passed over.
  // Appends at most `max` to *out. Walks on past a failed read, and
  // returns the first failure.
  Status ItemsBelowPlaceholder(uint32_t start, bool direct, size_t max,
                               std::vector<StoredItem>* out) const;
  // Counts keys under `prefix` (a scan).
  Result<uint64_t> CountPrefix(std::string_view prefix) const;
  // Metadata helpers over M<name> keys.
  Result<uint64_t> GetMetaInt(std::string_view name) const;
};

// An item found among the stores of a collection's shards.
struct FoundItem {
  size_t store = 0;  // its store's index in the stores searched
  uint32_t num = 0;
  StoredItem item;
};

// Finds an item among `stores` (null entries, shards that are down, are
// skipped); `lookup` gives its number in one store, NotFound when absent.
// A thread waits in a placeholder for a parent another shard may hold, so
// the first store holding the item itself wins, else the first holding a
// placeholder of it. NotFound when no store has it; another error of a
// store is returned as it happens.
Result<FoundItem> FindAmong(
    const std::vector<const StoreReader*>& stores,
    const std::function<Result<uint32_t>(const StoreReader&)>& lookup);

}  // namespace threadsearch

#endif  // THREADSEARCH_COMMON_STORE_READER_H_
