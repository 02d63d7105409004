// Consistency check between the thread store and the Xapian index, and
// repair (rebuilding the index from the store, the source of truth).
#ifndef THREADSEARCH_INDEXER_CHECK_H_
#define THREADSEARCH_INDEXER_CHECK_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace threadsearch {

struct CheckReport {
  uint64_t items = 0;       // non-placeholder store items
  uint64_t searchable = 0;  // of which searchable (should have a document)
  uint64_t documents = 0;   // Xapian documents
  uint64_t missing_documents = 0;  // searchable item without its document
  uint64_t extra_documents = 0;    // documents beyond the searchable items
  uint64_t author_mismatches = 0;  // authors whose counts differ
  uint64_t thread_mismatches = 0;  // threads whose counts differ
  uint64_t structure_errors = 0;   // root/depth/size/reply-count/child-
                                   // entry errors
  uint64_t authors = 0;
  uint64_t threads = 0;
  uint64_t index_seq = 0;  // last batch in the index
  uint64_t store_seq = 0;  // last batch in the store
  bool repaired = false;
  std::vector<std::string> examples;  // the first few problems, described

  bool consistent() const {
    return missing_documents == 0 && extra_documents == 0 &&
           author_mismatches == 0 && thread_mismatches == 0 &&
           structure_errors == 0 && index_seq == store_seq;
  }
};

struct CheckOptions {
  // Rebuild the index from the store when they disagree (needs the write
  // lock), then check again.
  bool repair = false;
  // Progress: a phase name, items done, items in all (0 when unknown).
  std::function<void(const std::string& phase, uint64_t done, uint64_t total)>
      on_progress;
  size_t max_examples = 10;
};

// Checks the database in `dir`: every searchable store item has exactly its
// Xapian document and the reverse, counts per author and per thread agree,
// and the thread structure is coherent (roots, depths, thread sizes, reply
// counts, child entries). Before checking, a batch the index lacks is
// replayed (which needs the write lock; Busy when another writer holds
// it). Returns OK with the findings in *report (consistent() or not); an
// error only when the check itself could not run.
Status CheckDatabase(const std::string& dir, const CheckOptions& opts,
                     CheckReport* report);

}  // namespace threadsearch

#endif  // THREADSEARCH_INDEXER_CHECK_H_
