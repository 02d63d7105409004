// CollectionIndexer: indexes into a collection (common/collection.h) of
// local shards, a whole thread per shard, and rebalances it.
//
// Routing. Each item goes to the shard that holds its thread: the shard
// that already has the item (an update, or a placeholder its replies made),
// else the shard of its parent, else, for a new thread, the shard chosen by
// a hash of the thread's top item id (the parent's when the parent has not
// been seen, so every reply to an unseen parent lands in one shard and
// links up when the parent comes). An item whose parent is unseen (or
// waits as a placeholder of its own) but which names a thread hint goes
// to the hint's shard, unseen hint included (its hash), since the indexer
// links the missing parent below the hint; a waiting placeholder moves
// there first. A thread is a connected component of parent links (hint
// links included): a real root, or a placeholder with the replies that
// name it. When a placeholder's real item arrives and its own parent (or,
// its parent unseen, its hint) lives in another shard, the placeholder's
// component moves to that shard first; for a hint-linked placeholder that
// component is the whole hinted thread.
//
// Moves. A component moves by being added to its new shard (flushed) and
// then removed from its old one, with the move recorded first in
// DIR/move.json; Open() finishes a move a crash interrupted. Readers may
// see a moving thread in both shards for one batch, never in neither.
#ifndef THREADSEARCH_INDEXER_COLLECTION_INDEXER_H_
#define THREADSEARCH_INDEXER_COLLECTION_INDEXER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "indexer/indexer.h"

namespace threadsearch {

struct RebalanceStats {
  uint64_t threads_moved = 0;
  uint64_t items_moved = 0;
  double seconds = 0;
};

class CollectionIndexer : public ItemWriter {
 public:
  // Opens the collection in `dir`, creating it with `shards_if_new` local
  // shards (DIR/s0 …) when `dir` holds nothing yet. InvalidArgument when
  // `dir` is a plain database, or the collection has remote shards (index
  // them where they live).
  static Result<std::unique_ptr<CollectionIndexer>> Open(
      const std::string& dir, unsigned shards_if_new,
      const IndexOptions& opts);
  ~CollectionIndexer() override;
  CollectionIndexer(const CollectionIndexer&) = delete;
  CollectionIndexer& operator=(const CollectionIndexer&) = delete;

  // As Indexer::IndexPaths, routing each item to its thread's shard.
  Status IndexPaths(const std::vector<std::string>& paths, IndexStats* stats);
  Status Add(Item item, IndexStats* stats) override;
  // Flushes every shard, then writes the metadata (to shard 0).
  Status Flush() override;
  // Kept in shard 0's store; written only once every shard has flushed the
  // items before it.
  void PutMeta(const std::string& name, std::string value) override;
  Result<std::string> GetMeta(const std::string& name) override;
  Result<bool> Has(Source source, std::string_view id) override;

  // Adds an empty local shard `name` (directory DIR/name) to the shard map,
  // then moves whole threads into it from the fullest shards until each
  // shard holds about 1/N of the items. Servers keep answering meanwhile:
  // they pick up the new map on their next refresh.
  Status AddShard(const std::string& name,
                  const std::function<void(uint64_t moved, uint64_t goal)>&
                      progress,
                  RebalanceStats* stats);

  size_t shard_count() const;
  Indexer& shard(size_t i);

 private:
  struct Impl;
  explicit CollectionIndexer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace threadsearch

#endif  // THREADSEARCH_INDEXER_COLLECTION_INDEXER_H_
