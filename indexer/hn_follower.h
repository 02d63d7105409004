// FollowHn: keeps a database current from the official Hacker News API
// (https://github.com/HackerNews/API): backfills every item id from a
// checkpoint up to /maxitem.json, then polls for new items and for
// /updates.json (changed items are re-fetched and applied in place).
//
// Checkpoint. The store keeps metadata "app.hn.last_id" (decimal): every id
// at or below it has been fetched and applied (an item, a `null`, or given up
// after bounded retries). Items are fetched concurrently and complete in any
// order; the checkpoint only advances over a contiguous run of completed ids,
// and it is written with Indexer::PutMeta just before the Flush, so the same
// synced store write holds it and every item it covers. A process killed at
// any point resumes from the checkpoint; ids fetched past it are fetched again
// and found unchanged. Ids given up are kept in "app.hn.failed" (space
// separated) and tried again at every poll, and on the next run.
#ifndef THREADSEARCH_INDEXER_HN_FOLLOWER_H_
#define THREADSEARCH_INDEXER_HN_FOLLOWER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "indexer/indexer.h"

namespace threadsearch {

// Metadata names (Indexer::PutMeta/GetMeta).
inline constexpr char kHnLastIdMeta[] = "app.hn.last_id";
inline constexpr char kHnFailedMeta[] = "app.hn.failed";

// A snapshot for a progress display.
struct HnFollowProgress {
  // True while ids up to the newest known are still being fetched; false
  // once caught up (polling).
  bool backfilling = true;
  uint64_t last_id = 0;       // the checkpoint
  uint64_t max_id = 0;        // newest id the API reported (0: not yet)
  uint64_t ids_left = 0;      // ids above the checkpoint up to max_id
  uint64_t ids_done = 0;      // ids completed this run
  uint64_t items = 0;         // items applied this run (backfill + updates)
  double ids_per_second = 0;  // over the last ~10 seconds
  double items_per_second = 0;
  double eta_seconds = -1;  // -1: unknown
  uint64_t retries = 0;
  uint64_t failed = 0;
  double elapsed = 0;  // seconds since the start
};

// Counters for one FollowHn run.
struct HnFollowStats {
  uint64_t requests = 0;  // HTTP requests sent (every attempt)
  uint64_t ids_done = 0;  // backfill ids completed (items, nulls, failed)
  uint64_t items = 0;     // item versions applied (backfill and updates)
  uint64_t nulls = 0;     // ids answered with `null`
  uint64_t updates = 0;   // items re-fetched because updates.json named them
  uint64_t retries = 0;   // attempts that failed and were retried
  uint64_t failed = 0;    // ids given up after max_attempts (skipped)
  uint64_t polls = 0;     // maxitem + updates polls started
  uint64_t last_id = 0;   // the checkpoint when the run ended
  IndexStats index;       // what the Indexer did with the items
  double seconds = 0;
};

struct HnFollowOptions {
  // API base URL, without a trailing slash: http:// or https:// (https
  // when the build has OpenSSL, as Debian's cpp-httplib does).
  std::string api = "https://hacker-news.firebaseio.com/v0";
  // First id to fetch. 0: resume after the checkpoint; with no checkpoint,
  // start at the current maxitem (new items only).
  uint64_t from = 0;
  // Worker threads, each with its own HTTP connection.
  int concurrency = 8;
  // Requests per second over all workers; 0: no limit.
  double rate = 20;
  // Seconds between polls of maxitem.json and updates.json.
  double interval = 30;
  // Stop after the backfill up to the first maxitem and one updates pass.
  bool once = false;
  // Per-request connect and read timeout, seconds.
  double timeout = 10;
  // Attempts per request before an id is given up (recorded as failed).
  int max_attempts = 6;
  // Exponential backoff between attempts: initial, doubled up to max.
  double backoff_initial = 0.5;
  double backoff_max = 60;
  // Seconds between flushes while items arrive, so that a running `serve`
  // finds new items within seconds.
  double flush_interval = 1;
  // Ids fetched ahead of the checkpoint at most (bounds memory).
  uint64_t window = 4096;
  // An id among the newest `recheck_null_ids` below maxitem that answers
  // `null` is fetched once more after `recheck_null_delay` seconds before it
  // counts as done: the API may list an id in maxitem an instant before the
  // item can be read. 0: never.
  uint64_t recheck_null_ids = 50;
  double recheck_null_delay = 2;
  // Set to true (e.g. from a signal handler) to stop: the run flushes what it
  // applied and returns OK. May be null.
  const std::atomic<bool>* stop = nullptr;
  // Called from the calling thread about every 200 ms, and once at the end.
  std::function<void(const HnFollowProgress&)> on_progress;
  // Retried and failed requests ("hn item 123: HTTP 500; retry 1 of 5 in
  // 0.5s"), from the calling thread.
  std::function<void(const std::string&)> on_warning;
};

// Follows the HN API into `indexer` until opts.stop is set, or with
// opts.once until the first backfill and updates pass are done. The calling
// thread is the only one that uses `indexer`; fetching happens on
// opts.concurrency worker threads that are joined before returning.
// Returns OK when stopped or done (ids given up are counted in
// stats->failed, not errors); InvalidArgument for a bad URL or option;
// IOError when opts.once and maxitem.json could not be read; the first
// store/index error otherwise (fatal: what was flushed stays consistent).
// REQUIRES: indexer != nullptr, stats != nullptr.
Status FollowHn(ItemWriter* indexer, const HnFollowOptions& opts,
                HnFollowStats* stats);

}  // namespace threadsearch

#endif  // THREADSEARCH_INDEXER_HN_FOLLOWER_H_
