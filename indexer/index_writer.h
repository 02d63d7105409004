// IndexWriter: the Xapian side of the Indexer. The index is split into N
// parts, each its own glass database written by its own thread, so indexing
// uses every core; a stub file makes them one database for readers.
//
//   DIR/xapian/XAPIANDB   stub: "auto p0\nauto p1\n…"
//   DIR/xapian/pK         part K: the documents whose num satisfies
//                         (num - 1) % N == K, at docid (num - 1) / N + 1
//
// Xapian interleaves the docids of a multi-database the same way, so through
// the stub every document's docid is its item num. Each part commits with
// metadata "seq" (the store batch it reflects) and "schema"; the index's seq
// is the smallest over the parts.
//
// Runs (bulk builds). A commit rewrites the B-tree blocks that hold each
// changed term's postings and positions; on a large part those are spread
// over all of it, so a commit's cost grows with the part and a bulk build
// grows worse than linearly (10M synthetic HN items: 618 GB written for an
// 18 GB index). When opened with run_docs > 0, a part that has taken a tenth
// of what it held at open writes its new documents to a run once its newest
// segment holds max(run_docs, part / D) documents, D = max(16, half the
// runs the open-file limit allows; 100 at the usual limits):
//
//   DIR/xapian/pK.run-F   run of part K: its documents from local docid F
//                         up to the next run's F
//
// Each run is a small glass database, so its commits stay cheap; documents
// already written (values of a thread's root, deletions) change where they
// are. Readers see only the base parts: runs are merged into them by
// Compact() (Xapian's compactor over base + runs, docids kept), which the
// Indexer calls at the end of a run, and Open() merges whatever runs a
// killed process left. Within a batch the older segments commit first and
// the newest last with "seq", so the newest segment's "seq" is the part's.
// Internal to indexer/.
#ifndef THREADSEARCH_INDEXER_INDEX_WRITER_H_
#define THREADSEARCH_INDEXER_INDEX_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"

namespace threadsearch {

// One planned change to one document, made on the indexing thread without
// touching Xapian; a part's thread turns it into a Xapian document.
struct DocPlan {
  enum class Kind {
    kDelete,  // remove the document if present
    kFull,    // (re)build the document
    kValues,  // only values changed: update them in place when the
              // document exists, else build it in full
  };
  Kind kind = Kind::kFull;
  uint32_t num = 0;
  std::string id_term;  // the Q term
  std::string title;
  bool title_is_body = false;
  std::string body;
  std::vector<std::string> terms;  // boolean terms
  std::vector<std::pair<unsigned, std::string>> values;
};

class IndexWriter {
 public:
  // Opens the index at `dir`, creating it with `parts_if_new` parts when
  // missing, and merging the runs a killed writer left. `run_docs` > 0
  // writes new documents to runs (see above); 0 never. Busy when another
  // writer holds it; InvalidArgument on a schema version mismatch.
  static Result<std::unique_ptr<IndexWriter>> Open(const std::string& dir,
                                                   unsigned parts_if_new,
                                                   uint64_t run_docs = 0);
  ~IndexWriter();  // waits for a running apply
  IndexWriter(const IndexWriter&) = delete;
  IndexWriter& operator=(const IndexWriter&) = delete;

  unsigned parts() const { return static_cast<unsigned>(parts_.size()); }
  // The last batch every part has committed.
  uint64_t seq() const { return seq_; }

  // Starts applying `plans` and committing every part with "seq" = seq, one
  // thread per part, and returns at once. REQUIRES: no apply running (call
  // Wait first).
  void ApplyAsync(std::vector<DocPlan> plans, uint64_t seq);
  // Waits for the running apply (if any); its status.
  Status Wait();
  Status Apply(std::vector<DocPlan> plans, uint64_t seq) {
    ApplyAsync(std::move(plans), seq);
    return Wait();
  }
  // Rewrites every part compactly (Xapian's compactor, fuller level, docids
  // kept), merging its runs: glass leaves B-tree blocks part-empty as it
  // grows, and a compacted index is about half the size. Each part is
  // compacted beside itself and swapped in by rename, every part at once on
  // its own thread; Open() finishes or undoes an interrupted swap.
  // REQUIRES: no apply running.
  Status Compact();
  // Runs not yet merged (Compact merges them), over all parts.
  size_t runs() const;
  // Documents in all parts.
  uint64_t doccount() const;
  // Closes every part (a swap of directories follows).
  void Close();

 private:
  struct Part;
  IndexWriter() = default;
  // Compacts every part, or only those with runs, each on its own thread.
  Status CompactParts(bool only_with_runs);
  // Compacts part k, merging its runs, and swaps it in (see Compact).
  Status CompactPart(size_t k);
  std::string dir_;
  std::vector<std::string> paths_;
  std::vector<std::unique_ptr<Part>> parts_;
  std::vector<std::thread> running_;
  std::vector<Status> results_;
  uint64_t run_docs_ = 0;
  size_t max_runs_ = 0;  // per part, from the open-file limit
  uint64_t seq_ = 0;
  uint64_t pending_seq_ = 0;
};

}  // namespace threadsearch

#endif  // THREADSEARCH_INDEXER_INDEX_WRITER_H_
