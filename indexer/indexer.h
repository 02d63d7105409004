// Indexer: the only writer to the thread store and the Xapian index.
//
// A database directory holds two stores:
//   DIR/store   RocksDB thread store, the source of truth (common/keys.h)
//   DIR/xapian  Xapian index derived from it (common/schema.h), split into
//               parts written in parallel (indexer/index_writer.h)
//
// Consistency protocol. Items are applied in batches. Each batch gets the
// next sequence number `seq`; the store receives, in one synced WriteBatch,
// every changed item record, its index keys, a D<seq><num> entry per item
// whose Xapian document must change, and M"seq" = seq. Only then is the
// Xapian index updated and committed with metadata "seq" = seq in the same
// commit. A crash between the two leaves the store ahead; Open() replays the
// D entries the index lacks (seq greater than the index's "seq") before
// anything else, so both stores always agree after Open. D entries the index
// has committed are deleted in the next batch.
//
// Missing parents. An item whose parent is unseen gets a placeholder for
// it. When the item names a thread hint (Item::thread_hint) other than
// that parent, the placeholder gets a "hint link" to the hint's item (a
// placeholder too when unseen): the item then stays in the hinted thread,
// below its missing parent, which has no author and counts in no
// reply_count or thread_size. When the missing parent arrives, its own
// parent replaces the hint link (its replies follow, and the thread they
// leave shrinks); naming none, it stays below the hint.
//
// When a parent arrives after a large subtree of replies, the subtree moves
// into its thread in chunks (IndexOptions::relink_chunk), one batch each,
// with a marker M"relink" in the store until the last; Open() finishes a
// relink that a crash interrupted before anything else is written.
#ifndef THREADSEARCH_INDEXER_INDEXER_H_
#define THREADSEARCH_INDEXER_INDEXER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/item.h"
#include "common/status.h"
#include "indexer/readers.h"

namespace threadsearch {

class ThreadStore;

// Counters for one indexing run.
struct IndexStats {
  uint64_t files = 0;         // files read to the end
  uint64_t files_failed = 0;  // files that could not be read or told apart
  uint64_t files_unchanged = 0;  // skipped: indexed before, unchanged since
  uint64_t items_read = 0;    // good records delivered by the readers
  uint64_t added = 0;         // new items
  uint64_t updated = 0;       // existing items whose content changed
  uint64_t unchanged = 0;     // existing items seen again, identical
  uint64_t skipped = 0;       // malformed records (reported, skipped)
  uint64_t relinked = 0;      // items whose thread changed because a
                              // missing parent arrived
  uint64_t cycles_broken = 0;
  uint64_t bytes_read = 0;    // raw (compressed) bytes of input
  bool compacted = false;     // the index was compacted at the end
  uint64_t runs = 0;          // index runs merged at the end (IndexOptions)
  double seconds = 0;
};

// A snapshot for progress display.
struct IndexProgress {
  uint64_t files_done = 0;
  uint64_t files_total = 0;
  uint64_t items = 0;
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;  // 0 when unknown (stdin)
  double elapsed = 0;        // seconds
  std::string current;       // file being read
};

struct IndexOptions {
  Format format = Format::kAuto;  // kAuto: sniff each file
  // Items per store batch / Xapian commit; the first batches are smaller,
  // and on a large index they grow to 4x (Indexer::Impl::BatchLimit).
  size_t batch_size = 5000;
  // A batch is also flushed once its items' text (title + body) reaches
  // this many bytes, so that memory stays bounded whatever the items' size.
  size_t batch_bytes = size_t{64} << 20;
  // Read every file even when it is unchanged since it was last indexed.
  bool force = false;
  // Items moved per batch when a parent arrives after a large subtree of
  // replies (a relink); bounds memory whatever the subtree's size.
  size_t relink_chunk = 20000;
  // Index parts (one writer thread each) for a new database; 0: one per
  // core, at most 8. An existing database keeps the parts it has.
  unsigned parts = 0;
  // Compact the index after IndexPaths: kAuto when the run changed at least
  // a tenth of the documents (or 1,000), kAlways, or kNever.
  enum class Compaction { kAuto, kAlways, kNever };
  Compaction compact = Compaction::kAuto;
  // Bulk builds: once this writer has added a tenth of what the index held,
  // each index part writes its new documents to runs of this many documents
  // (or more, so a part has at most about 100), small databases whose
  // commits stay cheap, merged into the part by FinishRun
  // (indexer/index_writer.h). Until then
  // readers see none of the documents in runs. 0: never (what a live writer
  // needs); ignored with Compaction::kNever.
  uint64_t run_docs = 0;
  // What `index` and `check --repair` use.
  static constexpr uint64_t kBulkRunDocs = 100000;
  // Called about every 200 ms while reading, and once at the end.
  std::function<void(const IndexProgress&)> on_progress;
  // Bad records and files ("file:line: reason"), broken cycles.
  std::function<void(const std::string&)> on_warning;
};

// Where ReadInputs delivers what it reads.
struct InputSink {
  // The fingerprint recorded for a file key (keys::File), NotFound if none.
  std::function<Result<std::string>(const std::string& key)> fingerprint;
  // One good record.
  std::function<Status(Item&& item)> add;
  // A file read to its end: record its fingerprint with its last items.
  std::function<void(const std::string& key, const std::string& fp)>
      file_done;
};

// Reads every file (directories recursively, in name order; "-" is standard
// input) and hands their items to `sink`, skipping files whose fingerprint
// is unchanged (unless opts.force), reporting progress and bad records
// through `opts`. Returns the first error of sink.add (fatal); unreadable
// files are warnings counted in stats->files_failed.
Status ReadInputs(const std::vector<std::string>& paths,
                  const IndexOptions& opts, const InputSink& sink,
                  IndexStats* stats);

// What a feed writes items through: one database (Indexer) or a
// collection of shards (CollectionIndexer, indexer/collection_indexer.h).
class ItemWriter {
 public:
  virtual ~ItemWriter() = default;
  // Applies one item (buffered).
  virtual Status Add(Item item, IndexStats* stats) = 0;
  // Applies everything buffered, metadata last.
  virtual Status Flush() = 0;
  // Application metadata (names starting with "app."), written atomically
  // with (or after) the items of the next Flush, never ahead of them.
  virtual void PutMeta(const std::string& name, std::string value) = 0;
  // NotFound when never written (or not yet flushed).
  virtual Result<std::string> GetMeta(const std::string& name) = 0;
  // Whether (source, id) is stored (a placeholder counts).
  virtual Result<bool> Has(Source source, std::string_view id) = 0;
};

// The outcome of a run over input files: InvalidArgument naming how many
// could not be read, else OK.
Status InputOutcome(const IndexStats& stats);

class Indexer : public ItemWriter {
 public:
  // Opens or creates the database in `dir`, first replaying any batch the
  // Xapian index lacks. Busy when another writer holds it.
  static Result<std::unique_ptr<Indexer>> Open(const std::string& dir,
                                               const IndexOptions& opts);
  ~Indexer() override;
  Indexer(const Indexer&) = delete;
  Indexer& operator=(const Indexer&) = delete;

  // Reads every file (directories recursively, in name order; "-" is
  // standard input) and applies their items. Unreadable files are reported
  // through on_warning and counted in files_failed; the others still go in.
  // Returns OK when every file was read (bad records allowed), InvalidArgument
  // when some file failed, or the first store/index error (fatal).
  Status IndexPaths(const std::vector<std::string>& paths, IndexStats* stats);

  // Applies one item (buffered; applied at the batch size or Flush()).
  Status Add(Item item, IndexStats* stats) override;
  // Applies everything buffered: store first, then Xapian.
  Status Flush() override;

  // Application metadata kept in the store (key M<name>; names starting
  // with "app." are free for callers, e.g. a feed's checkpoint). PutMeta is
  // buffered and written atomically with the items of the next Flush, so a
  // checkpoint never runs ahead of the items it covers.
  void PutMeta(const std::string& name, std::string value) override;
  // NotFound when never written (or not yet flushed).
  Result<std::string> GetMeta(const std::string& name) override;
  Result<bool> Has(Source source, std::string_view id) override;

  // Rebuilds the Xapian index from the thread store: a new index is built
  // beside the old one (through runs, then compacted) and swapped in when
  // complete, so a crash leaves the old one in place. `progress(done,
  // total)` is called every 10,000 items.
  Status RebuildIndex(
      const std::function<void(uint64_t done, uint64_t total)>& progress);

  // Writes everything buffered to the store (one synced batch) and starts
  // its index update without waiting for it (Flush waits): what a later
  // read of the store needs, and all that crash safety needs, since the
  // store is the source of truth and Open() replays what the index lacks.
  Status FlushStore();

  // Ends a run of Add calls: flushes, compacts the index per
  // IndexOptions::compact (`changed`: items added or updated by the run),
  // and flushes the store's log so readers open without replaying it.
  Status FinishRun(uint64_t changed, IndexStats* stats);

  // Shards (indexer/collection_indexer.h). The topmost item above `num`
  // (following parent links, hint links included; a placeholder or a
  // thread root).
  Result<uint32_t> ComponentTop(uint32_t num);
  // The records of `top` and everything below it, parents before
  // children. REQUIRES: `top` is a ComponentTop.
  Status CollectComponent(uint32_t top, std::vector<StoredItem>* out);
  // Removes these records (a CollectComponent result) from the store and
  // their documents from the index, in one batch.
  Status RemoveItems(const std::vector<StoredItem>& items);

  // The store, for read-back (tests, stats).
  ThreadStore& store();
  // Items read from the store and held until the next flush.
  size_t cached_items() const;

 private:
  struct Impl;
  explicit Indexer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace threadsearch

#endif  // THREADSEARCH_INDEXER_INDEXER_H_
