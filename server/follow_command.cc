#include "server/follow_command.h"

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>

#include "common/collection.h"
#include "indexer/collection_indexer.h"
#include "indexer/hn_follower.h"
#include "indexer/indexer.h"

namespace threadsearch {

namespace {

// Set by SIGINT/SIGTERM; FollowHn polls it. A lock-free atomic is safe to
// store from a signal handler.
std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void OnStopSignal(int) { g_stop.store(true); }

// Installs the stop handlers for the life of a run. SA_RESETHAND: a second
// Ctrl-C kills at once (the store stays consistent either way).
class StopSignals {
 public:
  StopSignals() {
    g_stop.store(false);
    struct sigaction sa = {};
    sa.sa_handler = OnStopSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction old_int_ = {};
  struct sigaction old_term_ = {};
};

struct FollowArgs {
  std::string db;
  HnFollowOptions hn;
  bool quiet = false;
};

std::string Duration(double s) {
  char buf[64];
  if (s < 0) return "?";
  if (s < 120) {
    snprintf(buf, sizeof buf, "%.0fs", s);
  } else if (s < 7200) {
    snprintf(buf, sizeof buf, "%.0fm", s / 60);
  } else if (s < 172800) {
    snprintf(buf, sizeof buf, "%.1fh", s / 3600);
  } else {
    snprintf(buf, sizeof buf, "%.1fd", s / 86400);
  }
  return buf;
}

void ShowProgress(const HnFollowProgress& p) {
  char line[256];
  if (p.backfilling) {
    snprintf(line, sizeof line,
             "\rhn: at %llu of %llu  %llu ids left  %.0f ids/s  %.0f items/s  "
             "ETA %s  (%llu retries, %llu failed)   ",
             static_cast<unsigned long long>(p.last_id),
             static_cast<unsigned long long>(p.max_id),
             static_cast<unsigned long long>(p.ids_left), p.ids_per_second,
             p.items_per_second, Duration(p.eta_seconds).c_str(),
             static_cast<unsigned long long>(p.retries),
             static_cast<unsigned long long>(p.failed));
  } else {
    snprintf(line, sizeof line,
             "\rhn: following, up to date at %llu  %llu items this run  "
             "(%llu retries, %llu failed)   ",
             static_cast<unsigned long long>(p.last_id),
             static_cast<unsigned long long>(p.items),
             static_cast<unsigned long long>(p.retries),
             static_cast<unsigned long long>(p.failed));
  }
  std::cerr << line << std::flush;
}

int RunFollowHn(const FollowArgs& a) {
  bool tty = isatty(STDERR_FILENO) && !a.quiet;
  bool progress_shown = false;
  auto warn = [&](const std::string& msg) {
    if (progress_shown) std::cerr << "\r\033[K";
    std::cerr << "warning: " << msg << "\n";
  };
  IndexOptions io;
  io.on_warning = warn;
  // A collection takes the feed across its shards, a thread per shard.
  Result<std::unique_ptr<ItemWriter>> ix = Status::Internal("not opened");
  if (IsCollection(a.db)) {
    Result<std::unique_ptr<CollectionIndexer>> cx =
        CollectionIndexer::Open(a.db, 0, io);
    ix = cx.ok() ? Result<std::unique_ptr<ItemWriter>>(std::move(cx).value())
                 : Result<std::unique_ptr<ItemWriter>>(cx.status());
  } else {
    Result<std::unique_ptr<Indexer>> one = Indexer::Open(a.db, io);
    ix = one.ok() ? Result<std::unique_ptr<ItemWriter>>(std::move(one).value())
                  : Result<std::unique_ptr<ItemWriter>>(one.status());
  }
  if (!ix.ok()) {
    std::cerr << "threadsearch: " << ix.status().message() << "\n";
    return ix.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  HnFollowOptions o = a.hn;
  o.stop = &g_stop;
  o.on_warning = warn;
  if (tty) {
    o.on_progress = [&](const HnFollowProgress& p) {
      progress_shown = true;
      ShowProgress(p);
    };
  }
  HnFollowStats stats;
  Status st;
  {
    StopSignals signals;
    st = FollowHn(ix->get(), o, &stats);
  }
  if (progress_shown) std::cerr << "\r\033[K";
  std::cerr << "hn: " << stats.ids_done << " ids (" << stats.items << " items, "
            << stats.nulls << " null, " << stats.failed << " failed), "
            << stats.updates << " updates; " << stats.index.added << " added, "
            << stats.index.updated << " updated, " << stats.index.unchanged
            << " unchanged; " << stats.retries << " retries, " << stats.requests
            << " requests; checkpoint " << stats.last_id
            << (g_stop.load() ? " (stopped)" : "") << "\n";
  if (!st.ok()) {
    std::cerr << "threadsearch: " << st.message() << "\n";
    return st.code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  return 0;
}

}  // namespace

void RegisterFollowCommand(CLI::App& app, int* rc) {
  // Owned by the callback; CLI11 keeps the App alive while it runs.
  auto args = std::make_shared<FollowArgs>();
  CLI::App* follow = app.add_subcommand(
      "follow", "Keep a database current from a live source");
  follow->require_subcommand(1);
  CLI::App* hn = follow->add_subcommand(
      "hn",
      "Follow Hacker News through its official API: backfill from the "
      "checkpoint (or --from) to the newest item, then poll for new and "
      "changed items");
  HnFollowOptions& o = args->hn;
  hn->add_option("--db", args->db, "Database directory")->required();
  hn->add_option("--api", o.api, "API base URL")->capture_default_str();
  hn->add_option("--from", o.from,
                 "First item id to fetch (default: after the checkpoint; on "
                 "a new database, the newest item)")
      ->check(CLI::PositiveNumber);
  hn->add_option("--concurrency,-j", o.concurrency, "Parallel connections")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  hn->add_option("--interval", o.interval,
                 "Seconds between polls for new and changed items")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  hn->add_option("--rate", o.rate, "Requests per second at most (0: no limit)")
      ->check(CLI::Range(0.0, 10000.0))
      ->capture_default_str();
  hn->add_option("--timeout", o.timeout, "Seconds per request")
      ->check(CLI::Range(0.1, 600.0))
      ->capture_default_str();
  hn->add_flag("--once", o.once,
               "Stop after the backfill and one pass over updates");
  hn->add_flag("--quiet,-q", args->quiet, "No progress line");
  hn->callback([rc, args] { *rc = RunFollowHn(*args); });
}

}  // namespace threadsearch
