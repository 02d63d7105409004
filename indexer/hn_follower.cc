#include "indexer/hn_follower.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/text.h"
#include "common/thread_store.h"
#include "indexer/hn_follower_internal.h"
#include "indexer/readers.h"

namespace threadsearch {

namespace hn_internal {

Result<ApiUrl> ParseApiUrl(std::string_view url) {
  const std::string what = "--api \"" + std::string(url) + "\"";
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) {
    return Status::InvalidArgument(what +
                                   ": expected http://HOST/PATH or "
                                   "https://HOST/PATH");
  }
  const std::string scheme = AsciiLower(url.substr(0, sep));
  if (scheme != "http" && scheme != "https") {
    return Status::InvalidArgument(what + ": scheme must be http or https");
  }
#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
  if (scheme == "https") {
    return Status::InvalidArgument(
        what + ": this build of cpp-httplib has no OpenSSL; use http://");
  }
#endif
  std::string_view rest = url.substr(sep + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return Status::InvalidArgument(what + ": no query or fragment allowed");
  }
  size_t slash = rest.find('/');
  std::string_view host = rest.substr(0, slash);
  if (host.empty() || host.find('@') != std::string_view::npos) {
    return Status::InvalidArgument(what + ": missing host");
  }
  ApiUrl out;
  out.scheme_host_port = scheme + "://" + std::string(host);
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    out.path = std::string(path);
  }
  return out;
}

Result<uint64_t> ParseMaxItem(std::string_view body) {
  try {
    nlohmann::json v = nlohmann::json::parse(body.begin(), body.end());
    if (!v.is_number_unsigned() || v.get<uint64_t>() == 0) {
      return Status::Corruption("expected a positive integer");
    }
    return v.get<uint64_t>();
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("invalid JSON: ") + e.what());
  }
}

Result<std::vector<uint64_t>> ParseUpdates(std::string_view body) {
  try {
    nlohmann::json v = nlohmann::json::parse(body.begin(), body.end());
    if (!v.is_object()) return Status::Corruption("expected an object");
    std::vector<uint64_t> ids;
    auto it = v.find("items");
    if (it == v.end() || it->is_null()) return ids;
    if (!it->is_array()) {
      return Status::Corruption("field \"items\": expected array");
    }
    std::unordered_set<uint64_t> seen;
    for (const nlohmann::json& id : *it) {
      if (!id.is_number_unsigned() || id.get<uint64_t>() == 0) {
        return Status::Corruption("field \"items\": expected item ids");
      }
      if (seen.insert(id.get<uint64_t>()).second) {
        ids.push_back(id.get<uint64_t>());
      }
    }
    return ids;
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("invalid JSON: ") + e.what());
  }
}

double Backoff(int attempt, double initial, double max) {
  double d = initial;
  for (int i = 0; i < attempt && d < max; ++i) d *= 2;
  return std::min(d, max);
}

bool ContiguousTracker::Complete(uint64_t id) {
  if (id <= done_) return false;
  if (id != done_ + 1) {
    above_.insert(id);
    return false;
  }
  done_ = id;
  // Absorb the run of completed ids that this one connects.
  auto it = above_.begin();
  while (it != above_.end() && *it == done_ + 1) {
    done_ = *it;
    it = above_.erase(it);
  }
  return true;
}

}  // namespace hn_internal

namespace {

using Clock = std::chrono::steady_clock;
using hn_internal::ApiUrl;

enum class TaskKind { kMaxItem, kUpdates, kItem };
// Why an item is fetched.
enum class Purpose { kBackfill, kUpdate, kRetryFailed };

struct Task {
  TaskKind kind = TaskKind::kItem;
  uint64_t id = 0;
  Purpose purpose = Purpose::kBackfill;
  int attempt = 0;            // attempts made so far
  bool null_recheck = false;  // a second look after a `null`
};

// What a worker reports: a retry (for the log) or a task's final outcome.
struct Outcome {
  enum class Kind { kRetrying, kDone, kFailed };
  Kind kind = Kind::kDone;
  Task task;
  std::string message;       // kRetrying, kFailed
  std::optional<Item> item;  // kItem done: nullopt for `null`
  uint64_t max_id = 0;
  std::vector<uint64_t> updated;
};

std::string TaskName(const Task& t) {
  switch (t.kind) {
    case TaskKind::kMaxItem:
      return "hn maxitem.json";
    case TaskKind::kUpdates:
      return "hn updates.json";
    case TaskKind::kItem:
      break;
  }
  return "hn item " + std::to_string(t.id);
}

std::string Seconds(double s) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.3g", s);
  return std::string(buf) + "s";
}

void SetTimeout(httplib::Client& cli, double seconds) {
  auto sec = static_cast<time_t>(seconds);
  auto usec = static_cast<time_t>((seconds - static_cast<double>(sec)) * 1e6);
  cli.set_connection_timeout(sec, usec);
  cli.set_read_timeout(sec, usec);
  cli.set_write_timeout(sec, usec);
}

// Worker threads fetching tasks, each with its own connection, under one
// rate limit. Failed attempts are retried by the pool itself after a backoff
// (other tasks go on meanwhile); the coordinator sees each retry and each
// final outcome through Take().
class FetchPool {
 public:
  FetchPool(ApiUrl url, const HnFollowOptions& opts)
      : url_(std::move(url)), opts_(opts) {}
  ~FetchPool() { Stop(); }
  FetchPool(const FetchPool&) = delete;
  FetchPool& operator=(const FetchPool&) = delete;

  void Start(int threads) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this, i] { Work(static_cast<unsigned>(i)); });
    }
  }

  void Submit(Task t) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ready_.push_back(t);
    }
    work_cv_.notify_one();
  }

  // Sends `t` after `seconds`.
  void SubmitAfter(Task t, double seconds) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      delayed_.emplace(
          Clock::now() + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(seconds)),
          t);
    }
    work_cv_.notify_one();
  }

  // Tasks waiting to be sent (not counting delayed retries).
  size_t queued() {
    std::lock_guard<std::mutex> lock(mu_);
    return ready_.size();
  }

  // Waits up to `timeout` for outcomes and appends them to *out.
  void Take(std::chrono::milliseconds timeout, std::vector<Outcome>* out) {
    std::unique_lock<std::mutex> lock(mu_);
    result_cv_.wait_for(lock, timeout, [&] { return !results_.empty(); });
    for (Outcome& o : results_) out->push_back(std::move(o));
    results_.clear();
  }

  uint64_t requests() const { return requests_.load(); }

  // Cancels requests in flight and joins the workers. Idempotent.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      for (httplib::Client* c : clients_) c->stop();
    }
    work_cv_.notify_all();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void Work(unsigned seed) {
    httplib::Client cli(url_.scheme_host_port);
    SetTimeout(cli, opts_.timeout);
    cli.set_keep_alive(true);
    cli.set_tcp_nodelay(true);
    cli.set_follow_location(true);
    cli.set_default_headers({{"User-Agent", "threadsearch-follow/0.1"}});
    std::mt19937 rng(seed * 7919 + 1);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      clients_.push_back(&cli);
    }
    Task t;
    while (NextTask(&t) && Pace()) {
      Outcome o = Fetch(cli, t);
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
      if (o.kind == Outcome::Kind::kFailed &&
          t.attempt + 1 < opts_.max_attempts) {
        // ±25% jitter so that ids failing together do not retry together.
        double wait = hn_internal::Backoff(t.attempt, opts_.backoff_initial,
                                           opts_.backoff_max) *
                      std::uniform_real_distribution<double>(0.75, 1.25)(rng);
        o.kind = Outcome::Kind::kRetrying;
        o.message += "; retry " + std::to_string(t.attempt + 1) + " of " +
                     std::to_string(opts_.max_attempts - 1) + " in " +
                     Seconds(wait);
        Task again = t;
        again.attempt = t.attempt + 1;
        delayed_.emplace(
            Clock::now() + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(wait)),
            again);
        work_cv_.notify_one();
      } else if (o.kind == Outcome::Kind::kFailed) {
        o.message += " after " + std::to_string(t.attempt + 1) + " attempts";
      }
      results_.push_back(std::move(o));
      result_cv_.notify_one();
    }
    std::lock_guard<std::mutex> lock(mu_);
    clients_.erase(std::find(clients_.begin(), clients_.end(), &cli));
  }

  // The next task: a due retry first, else the oldest submitted. False when
  // stopping.
  bool NextTask(Task* t) {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      auto now = Clock::now();
      if (!delayed_.empty() && delayed_.begin()->first <= now) {
        *t = delayed_.begin()->second;
        delayed_.erase(delayed_.begin());
        return true;
      }
      if (!ready_.empty()) {
        *t = ready_.front();
        ready_.pop_front();
        return true;
      }
      if (delayed_.empty()) {
        work_cv_.wait(lock);
      } else {
        // A copy: the entry may be gone once the lock is released.
        const Clock::time_point due = delayed_.begin()->first;
        work_cv_.wait_until(lock, due);
      }
    }
    return false;
  }

  // Waits for this request's slot under the rate limit. False when stopping.
  bool Pace() {
    if (opts_.rate <= 0) return !stopping();
    Clock::time_point slot;
    {
      std::lock_guard<std::mutex> lock(rate_mu_);
      auto now = Clock::now();
      slot = std::max(now, next_slot_);
      next_slot_ = slot + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(1.0 / opts_.rate));
    }
    while (!stopping()) {
      auto now = Clock::now();
      if (now >= slot) return true;
      std::this_thread::sleep_for(
          std::min<Clock::duration>(slot - now, std::chrono::milliseconds(50)));
    }
    return false;
  }

  bool stopping() {
    std::lock_guard<std::mutex> lock(mu_);
    return stopping_;
  }

  // One attempt. kFailed (with the reason) when it should be retried.
  Outcome Fetch(httplib::Client& cli, const Task& t) {
    Outcome o;
    o.task = t;
    std::string path = url_.path;
    switch (t.kind) {
      case TaskKind::kMaxItem:
        path += "/maxitem.json";
        break;
      case TaskKind::kUpdates:
        path += "/updates.json";
        break;
      case TaskKind::kItem:
        path += "/item/" + std::to_string(t.id) + ".json";
        break;
    }
    ++requests_;
    httplib::Result res = cli.Get(path.c_str());
    auto fail = [&](std::string why) {
      o.kind = Outcome::Kind::kFailed;
      o.message = TaskName(t) + ": " + std::move(why);
      return o;
    };
    if (!res) return fail("request failed: " + httplib::to_string(res.error()));
    if (res->status != 200) return fail("HTTP " + std::to_string(res->status));
    const std::string& body = res->body;
    switch (t.kind) {
      case TaskKind::kMaxItem: {
        Result<uint64_t> m = hn_internal::ParseMaxItem(body);
        if (!m.ok()) return fail("bad response: " + m.status().message());
        o.max_id = *m;
        break;
      }
      case TaskKind::kUpdates: {
        Result<std::vector<uint64_t>> u = hn_internal::ParseUpdates(body);
        if (!u.ok()) return fail("bad response: " + u.status().message());
        o.updated = std::move(u).value();
        break;
      }
      case TaskKind::kItem: {
        Result<Item> item = ParseHnItemJson(body);
        if (item.status().IsNotFound()) break;  // `null`: nothing there
        if (!item.ok()) {
          return fail("bad or truncated response (" +
                      std::to_string(body.size()) +
                      " bytes): " + item.status().message());
        }
        if (item->id != std::to_string(t.id)) {
          return fail("response is for item \"" + item->id + "\"");
        }
        item->origin = url_.scheme_host_port + path;
        o.item = std::move(item).value();
        break;
      }
    }
    o.kind = Outcome::Kind::kDone;
    return o;
  }

  const ApiUrl url_;
  const HnFollowOptions& opts_;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> requests_{0};

  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable result_cv_;
  bool stopping_ = false;
  std::deque<Task> ready_;
  std::multimap<Clock::time_point, Task> delayed_;
  std::vector<Outcome> results_;
  std::vector<httplib::Client*> clients_;

  std::mutex rate_mu_;
  Clock::time_point next_slot_;
};

// Largest number of failed ids remembered in app.hn.failed.
constexpr size_t kMaxFailedKept = 10000;

Result<std::optional<uint64_t>> LoadCheckpoint(ItemWriter* ix) {
  Result<std::string> v = ix->GetMeta(kHnLastIdMeta);
  if (v.status().IsNotFound()) return std::optional<uint64_t>();
  if (!v.ok()) return v.status();
  try {
    size_t used = 0;
    uint64_t id = std::stoull(*v, &used);
    if (used == v->size()) return std::optional<uint64_t>(id);
  } catch (const std::exception&) {
  }
  return Status::Corruption(std::string("metadata ") + kHnLastIdMeta +
                            ": not a number: \"" + *v + "\"");
}

Result<std::set<uint64_t>> LoadFailed(ItemWriter* ix) {
  std::set<uint64_t> ids;
  Result<std::string> v = ix->GetMeta(kHnFailedMeta);
  if (v.status().IsNotFound()) return ids;
  if (!v.ok()) return v.status();
  size_t pos = 0;
  const std::string& s = *v;
  while (pos < s.size()) {
    size_t end = s.find(' ', pos);
    if (end == std::string::npos) end = s.size();
    if (end > pos) {
      uint64_t id = 0;
      for (size_t i = pos; i < end; ++i) {
        if (s[i] < '0' || s[i] > '9') {
          return Status::Corruption(std::string("metadata ") + kHnFailedMeta +
                                    ": not a list of ids");
        }
        id = id * 10 + static_cast<uint64_t>(s[i] - '0');
      }
      ids.insert(id);
    }
    pos = end + 1;
  }
  return ids;
}

// The single thread that applies items: decides what to fetch, applies what
// comes back through the Indexer, advances and writes the checkpoint.
class Follower {
 public:
  Follower(ItemWriter* ix, const HnFollowOptions& opts, ApiUrl url,
           HnFollowStats* stats)
      : ix_(ix), opts_(opts), stats_(stats), pool_(std::move(url), opts) {}

  Status Run() {
    Result<std::optional<uint64_t>> cp = LoadCheckpoint(ix_);
    if (!cp.ok()) return cp.status();
    Result<std::set<uint64_t>> failed = LoadFailed(ix_);
    if (!failed.ok()) return failed.status();
    failed_ = std::move(failed).value();
    written_checkpoint_ = *cp;
    if (opts_.from > 0) {
      StartAt(opts_.from);
    } else if (cp->has_value()) {
      StartAt(**cp + 1);
    }
    // Otherwise the start is the first maxitem.

    pool_.Start(opts_.concurrency);
    Status st = Loop();
    pool_.Stop();
    stats_->requests = pool_.requests();
    if (!st.ok()) return st;  // the Indexer may be mid-batch: no flush
    TS_RETURN_IF_ERROR(Flush(/*force=*/true));
    Progress(/*force=*/true);
    stats_->last_id = started_ ? tracker_.done_upto() : 0;
    if (maxitem_failed_) {
      return Status::IOError(opts_.api + "/maxitem.json could not be read");
    }
    return Status::OK();
  }

 private:
  void StartAt(uint64_t first) {
    started_ = true;
    tracker_ = hn_internal::ContiguousTracker(first - 1);
    next_id_ = first;
    run_start_ = first;
  }

  bool Stopping() const { return opts_.stop != nullptr && opts_.stop->load(); }

  void Warn(const std::string& msg) {
    if (opts_.on_warning) opts_.on_warning(msg);
  }

  void Submit(Task t) {
    ++outstanding_;
    if (t.kind == TaskKind::kItem) inflight_ids_.insert(t.id);
    pool_.Submit(t);
  }

  // An item re-fetch, or a note to re-fetch once the fetch in flight lands
  // (so two versions of one item never race).
  void Refetch(uint64_t id, Purpose purpose) {
    if (inflight_ids_.count(id)) {
      refetch_after_[id] = purpose;
      return;
    }
    Task t;
    t.kind = TaskKind::kItem;
    t.id = id;
    t.purpose = purpose;
    Submit(t);
  }

  Status Loop() {
    auto next_poll = Clock::now();
    auto last_flush = Clock::now();
    while (!Stopping()) {
      auto now = Clock::now();
      if (polls_pending_ == 0 && now >= next_poll &&
          (!opts_.once || stats_->polls == 0)) {
        StartPoll();
        next_poll = now + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(opts_.interval));
      }
      FeedBackfill();
      std::vector<Outcome> outcomes;
      pool_.Take(std::chrono::milliseconds(100), &outcomes);
      for (Outcome& o : outcomes) TS_RETURN_IF_ERROR(Handle(std::move(o)));
      stats_->requests = pool_.requests();
      now = Clock::now();
      if (now - last_flush >=
          std::chrono::duration<double>(opts_.flush_interval)) {
        TS_RETURN_IF_ERROR(Flush(/*force=*/false));
        last_flush = now;
      }
      Progress(/*force=*/false);
      if (opts_.once && stats_->polls > 0 && polls_pending_ == 0 &&
          outstanding_ == 0 &&
          (maxitem_failed_ || (have_max_ && next_id_ > max_id_))) {
        break;
      }
    }
    return Status::OK();
  }

  void StartPoll() {
    ++stats_->polls;
    polls_pending_ = 2;
    Task m;
    m.kind = TaskKind::kMaxItem;
    Submit(m);
    Task u;
    u.kind = TaskKind::kUpdates;
    Submit(u);
    // Ids given up earlier get another chance at every poll.
    // (Ids not reached yet are left to the backfill.)
    std::set<uint64_t> retry;
    retry.swap(failed_);
    if (!retry.empty()) failed_changed_ = true;
    for (uint64_t id : retry) {
      if (started_ && id < next_id_) Refetch(id, Purpose::kRetryFailed);
    }
  }

  // Keeps the workers busy with the next backfill ids, at most `window`
  // ahead of the checkpoint.
  void FeedBackfill() {
    if (!started_ || !have_max_) return;
    size_t want = static_cast<size_t>(std::max(1, opts_.concurrency)) * 4;
    size_t queued = pool_.queued();
    while (next_id_ <= max_id_ && queued < want &&
           next_id_ <=
               tracker_.done_upto() + std::max<uint64_t>(opts_.window, 1)) {
      Task t;
      t.kind = TaskKind::kItem;
      t.id = next_id_++;
      t.purpose = Purpose::kBackfill;
      Submit(t);
      ++queued;
    }
  }

  // Whether an id named by updates.json is ours to re-fetch: fetched (or
  // being fetched) by this run, or known to the store. Ids above next_id_
  // are fetched fresh by the backfill anyway.
  bool Wanted(uint64_t id) {
    if (!started_ || id >= next_id_) return false;
    if (id >= run_start_) return true;
    Result<bool> has = ix_->Has(Source::kHN, std::to_string(id));
    return has.ok() && *has;
  }

  Status Handle(Outcome o) {
    const Task& t = o.task;
    if (o.kind == Outcome::Kind::kRetrying) {
      ++stats_->retries;
      Warn(o.message);
      return Status::OK();
    }
    --outstanding_;
    switch (t.kind) {
      case TaskKind::kMaxItem:
        --polls_pending_;
        if (o.kind == Outcome::Kind::kFailed) {
          Warn(o.message +
               (opts_.once ? "" : "; trying again at the next poll"));
          // With --once there is nothing to backfill to: the run ends (after
          // what is in flight) with an error.
          if (opts_.once) maxitem_failed_ = true;
          return Status::OK();
        }
        if (!started_) StartAt(o.max_id);
        if (!have_max_ || o.max_id > max_id_) max_id_ = o.max_id;
        have_max_ = true;
        return Status::OK();
      case TaskKind::kUpdates:
        --polls_pending_;
        if (o.kind == Outcome::Kind::kFailed) {
          Warn(o.message +
               "; changes it listed are picked up at a later poll "
               "only if listed again");
          return Status::OK();
        }
        for (uint64_t id : o.updated) {
          if (Wanted(id)) Refetch(id, Purpose::kUpdate);
        }
        return Status::OK();
      case TaskKind::kItem:
        break;
    }
    if (o.kind == Outcome::Kind::kDone && !o.item.has_value() &&
        t.purpose == Purpose::kBackfill && !t.null_recheck &&
        t.id + opts_.recheck_null_ids > max_id_) {
      // The API can answer `null` for an id just below maxitem whose item
      // is not readable yet: look once more before counting it done.
      Task again = t;
      again.attempt = 0;
      again.null_recheck = true;
      ++outstanding_;
      pool_.SubmitAfter(again, opts_.recheck_null_delay);
      return Status::OK();
    }
    inflight_ids_.erase(t.id);
    if (o.kind == Outcome::Kind::kFailed) {
      ++stats_->failed;
      Warn(o.message + "; skipped (kept in " + kHnFailedMeta +
           ", tried again at the next poll)");
      failed_.insert(t.id);
      while (failed_.size() > kMaxFailedKept) failed_.erase(failed_.begin());
      failed_changed_ = true;
    } else if (o.item.has_value()) {
      TS_RETURN_IF_ERROR(ix_->Add(std::move(*o.item), &stats_->index));
      ++stats_->items;
      if (t.purpose == Purpose::kUpdate) ++stats_->updates;
      dirty_ = true;
    } else {
      ++stats_->nulls;
    }
    if (t.purpose == Purpose::kBackfill) {
      ++stats_->ids_done;
      tracker_.Complete(t.id);
    }
    auto again = refetch_after_.find(t.id);
    if (again != refetch_after_.end()) {
      Purpose p = again->second;
      refetch_after_.erase(again);
      Refetch(t.id, p);
    }
    return Status::OK();
  }

  // Writes the checkpoint and the failed list with the items applied so far,
  // in one Flush. Without `force`, only when something changed.
  Status Flush(bool force) {
    if (started_ && (!written_checkpoint_.has_value() ||
                     *written_checkpoint_ != tracker_.done_upto())) {
      ix_->PutMeta(kHnLastIdMeta, std::to_string(tracker_.done_upto()));
      written_checkpoint_ = tracker_.done_upto();
      dirty_ = true;
    }
    if (failed_changed_) {
      std::string list;
      for (uint64_t id : failed_) {
        if (!list.empty()) list.push_back(' ');
        list += std::to_string(id);
      }
      ix_->PutMeta(kHnFailedMeta, std::move(list));
      failed_changed_ = false;
      dirty_ = true;
    }
    if (!dirty_ && !force) return Status::OK();
    dirty_ = false;
    return ix_->Flush();
  }

  void Progress(bool force) {
    if (!opts_.on_progress) return;
    auto now = Clock::now();
    if (!force && now - last_progress_ < std::chrono::milliseconds(200)) {
      return;
    }
    last_progress_ = now;
    // Rates over the last ~10 seconds.
    samples_.push_back({now, stats_->ids_done, stats_->items});
    while (samples_.size() > 2 &&
           now - samples_.front().when > std::chrono::seconds(10)) {
      samples_.pop_front();
    }
    HnFollowProgress p;
    p.last_id = started_ ? tracker_.done_upto() : 0;
    p.max_id = have_max_ ? max_id_ : 0;
    p.ids_left = p.max_id > p.last_id ? p.max_id - p.last_id : 0;
    p.backfilling = !have_max_ || p.ids_left > 0;
    p.ids_done = stats_->ids_done;
    p.items = stats_->items;
    p.retries = stats_->retries;
    p.failed = stats_->failed;
    p.elapsed = std::chrono::duration<double>(now - start_).count();
    const Sample& first = samples_.front();
    double dt = std::chrono::duration<double>(now - first.when).count();
    if (dt > 0.5) {
      p.ids_per_second = static_cast<double>(p.ids_done - first.ids) / dt;
      p.items_per_second = static_cast<double>(p.items - first.items) / dt;
    }
    if (!have_max_) {
      p.eta_seconds = -1;
    } else if (p.ids_left == 0) {
      p.eta_seconds = 0;
    } else if (p.ids_per_second > 0) {
      p.eta_seconds = static_cast<double>(p.ids_left) / p.ids_per_second;
    }
    opts_.on_progress(p);
  }

  struct Sample {
    Clock::time_point when;
    uint64_t ids;
    uint64_t items;
  };

  ItemWriter* const ix_;
  const HnFollowOptions& opts_;
  HnFollowStats* const stats_;
  FetchPool pool_;
  const Clock::time_point start_ = Clock::now();

  bool started_ = false;  // the first id is known
  hn_internal::ContiguousTracker tracker_;
  uint64_t next_id_ = 0;    // next backfill id to submit
  uint64_t run_start_ = 0;  // first backfill id of this run
  bool have_max_ = false;
  uint64_t max_id_ = 0;
  bool maxitem_failed_ = false;
  int polls_pending_ = 0;
  uint64_t outstanding_ = 0;  // tasks submitted without a final outcome
  std::unordered_set<uint64_t> inflight_ids_;
  std::map<uint64_t, Purpose> refetch_after_;
  std::set<uint64_t> failed_;
  bool failed_changed_ = false;
  std::optional<uint64_t> written_checkpoint_;
  bool dirty_ = false;  // applied since the last flush
  Clock::time_point last_progress_;
  std::deque<Sample> samples_;
};

}  // namespace

Status FollowHn(ItemWriter* indexer, const HnFollowOptions& opts,
                HnFollowStats* stats) {
  assert(indexer != nullptr && stats != nullptr);
  Result<ApiUrl> url = hn_internal::ParseApiUrl(opts.api);
  if (!url.ok()) return url.status();
  if (opts.concurrency < 1 || opts.concurrency > 256) {
    return Status::InvalidArgument("concurrency must be 1 … 256");
  }
  if (opts.max_attempts < 1) {
    return Status::InvalidArgument("max_attempts must be at least 1");
  }
  if (!(opts.timeout > 0) || !(opts.interval >= 0) || !(opts.rate >= 0)) {
    return Status::InvalidArgument(
        "timeout must be positive, interval and rate not negative");
  }
  auto t0 = Clock::now();
  Follower f(indexer, opts, std::move(url).value(), stats);
  Status st = f.Run();
  stats->seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return st;
}

}  // namespace threadsearch
