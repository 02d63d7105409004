// `follow hn` against a local replay of the HN API: a real httplib::Server on
// a free loopback port serving /v0/maxitem.json, /v0/item/ID.json and
// /v0/updates.json from the real items of story 40846428 (every id without
// an item is `null`, as on the real API), with delays, errors, timeouts,
// truncated bodies, edits and deletions injected per test. Each test
// compares the followed database with one the Indexer builds from the same
// items.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "common/keys.h"
#include "common/thread_store.h"
#include "indexer/check.h"
#include "indexer/collection_indexer.h"
#include "indexer/hn_follower.h"
#include "indexer/hn_follower_internal.h"
#include "indexer/indexer.h"
#include "searcher/searcher.h"
#include "tests/server_fixture.h"
#include "tests/testutil.h"

namespace threadsearch {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kStory = 40846428;
// The replayed range: the story and the 71 comments within 1000 ids of it.
constexpr uint64_t kLast = kStory + 1000;

// The real items of the range, by id, as the API serves them.
std::map<uint64_t, json> RealItems() {
  std::string text = ReadFileOrDie(std::string(TS_CORPUS) +
                                   "/hn/ntdunglc-hackernews_jobs/"
                                   "hn_comments.json");
  json doc = json::parse(text);
  std::map<uint64_t, json> items;
  items[doc["post"]["id"].get<uint64_t>()] = doc["post"];
  for (const json& c : doc["comments"]) {
    uint64_t id = c["id"].get<uint64_t>();
    if (id <= kLast) items[id] = c;
  }
  return items;
}

// ---- The replay server ------------------------------------------------------

enum class Fault {
  k500,       // HTTP 500
  kTimeout,   // answers only after the client gave up
  kTruncate,  // 200 with the body cut in half
  kWrongId,   // 200 with another item
  kNull,      // 200 `null`, as for an item not readable yet
};

class ReplayServer {
 public:
  explicit ReplayServer(std::map<uint64_t, json> items)
      : items_(std::move(items)) {
    max_item_ = items_.rbegin()->first;
    // Timed-out handlers keep sleeping; enough threads that the retries
    // never queue behind them.
    server_.new_task_queue = [] { return new httplib::ThreadPool(32); };
    // Without it every response waits out the client's delayed ACK.
    server_.set_tcp_nodelay(true);
    server_.Get("/v0/maxitem.json", [this](const httplib::Request&,
                                           httplib::Response& res) {
      std::optional<Fault> f = TakeFault(&maxitem_faults_);
      if (f) return Inject(*f, "0", res);
      std::lock_guard<std::mutex> lock(mu_);
      res.set_content(std::to_string(max_item_), "application/json");
    });
    server_.Get("/v0/updates.json",
                [this](const httplib::Request&, httplib::Response& res) {
                  std::lock_guard<std::mutex> lock(mu_);
                  res.set_content(updates_.dump(), "application/json");
                });
    server_.Get(R"(/v0/item/(\d+)\.json)",
                [this](const httplib::Request& req, httplib::Response& res) {
                  uint64_t id = std::stoull(req.matches[1].str());
                  Item(id, res);
                });
    port_ = server_.bind_to_any_port("127.0.0.1");
    EXPECT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(server_.is_running());
  }
  ~ReplayServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  ReplayServer(const ReplayServer&) = delete;
  ReplayServer& operator=(const ReplayServer&) = delete;

  std::string api() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/v0";
  }

  // Configuration, safe while serving.
  void set_max_item(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    max_item_ = id;
  }
  void set_item(uint64_t id, json v) {
    std::lock_guard<std::mutex> lock(mu_);
    items_[id] = std::move(v);
  }
  void set_updates(json v) {
    std::lock_guard<std::mutex> lock(mu_);
    updates_ = std::move(v);
  }
  // Each item response waits a random 0..max_ms, and `id` `extra_ms` more.
  void set_delays(int max_ms, uint64_t id = 0, int extra_ms = 0) {
    std::lock_guard<std::mutex> lock(mu_);
    max_delay_ms_ = max_ms;
    slow_id_ = id;
    slow_ms_ = extra_ms;
  }
  // The next requests for `id` get these faults, in order, then the item.
  void add_faults(uint64_t id, std::vector<Fault> faults) {
    std::lock_guard<std::mutex> lock(mu_);
    for (Fault f : faults) faults_[id].push_back(f);
  }
  void add_maxitem_faults(std::vector<Fault> faults) {
    std::lock_guard<std::mutex> lock(mu_);
    for (Fault f : faults) maxitem_faults_.push_back(f);
  }
  // Every request for `id` gets a 500.
  void break_item(uint64_t id, bool broken) {
    std::lock_guard<std::mutex> lock(mu_);
    if (broken) {
      broken_.insert(id);
    } else {
      broken_.erase(id);
    }
  }

  // What was served.
  uint64_t item_requests() const { return item_requests_.load(); }
  uint64_t requests_for(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_[id];
  }
  // Ids of real items, in the order their responses were sent.
  std::vector<uint64_t> answered() {
    std::lock_guard<std::mutex> lock(mu_);
    return answered_;
  }
  std::set<uint64_t> requested_since(uint64_t mark) {
    std::lock_guard<std::mutex> lock(mu_);
    std::set<uint64_t> out;
    for (size_t i = mark; i < log_.size(); ++i) out.insert(log_[i]);
    return out;
  }
  uint64_t log_size() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_.size();
  }

  static constexpr int kTimeoutMs = 2500;  // clients here give up at 1 s

 private:
  std::optional<Fault> TakeFault(std::deque<Fault>* q) {
    std::lock_guard<std::mutex> lock(mu_);
    if (q->empty()) return std::nullopt;
    Fault f = q->front();
    q->pop_front();
    return f;
  }

  void Inject(Fault f, const std::string& body, httplib::Response& res) {
    switch (f) {
      case Fault::k500:
        res.status = 500;
        res.set_content("{\"error\": \"internal\"}", "application/json");
        return;
      case Fault::kTimeout:
        std::this_thread::sleep_for(std::chrono::milliseconds(kTimeoutMs));
        res.set_content(body, "application/json");
        return;
      case Fault::kTruncate:
        res.set_content(body.substr(0, body.size() / 2), "application/json");
        return;
      case Fault::kNull:
        res.set_content("null", "application/json");
        return;
      case Fault::kWrongId:
        res.set_content("{\"id\": 1, \"type\": \"story\", \"by\": \"pg\"}",
                        "application/json");
        return;
    }
  }

  void Item(uint64_t id, httplib::Response& res) {
    ++item_requests_;
    std::string body = "null";
    std::optional<Fault> fault;
    int delay_ms = 0;
    bool broken = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++requests_[id];
      log_.push_back(id);
      auto it = items_.find(id);
      if (it != items_.end()) body = it->second.dump();
      auto f = faults_.find(id);
      if (f != faults_.end() && !f->second.empty()) {
        fault = f->second.front();
        f->second.pop_front();
      }
      broken = broken_.count(id) > 0;
      if (max_delay_ms_ > 0) {
        delay_ms =
            static_cast<int>(rng_() % static_cast<unsigned>(max_delay_ms_ + 1));
      }
      if (id == slow_id_) delay_ms += slow_ms_;
    }
    if (broken) fault = Fault::k500;
    if (delay_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    }
    if (fault) return Inject(*fault, body, res);
    res.set_content(body, "application/json");
    if (body != "null") {
      std::lock_guard<std::mutex> lock(mu_);
      answered_.push_back(id);
    }
  }

  httplib::Server server_;
  int port_ = -1;
  std::thread thread_;
  std::atomic<uint64_t> item_requests_{0};

  std::mutex mu_;
  std::map<uint64_t, json> items_;
  uint64_t max_item_ = 0;
  json updates_ = {{"items", json::array()}, {"profiles", json::array()}};
  int max_delay_ms_ = 0;
  uint64_t slow_id_ = 0;
  int slow_ms_ = 0;
  std::mt19937 rng_{12345};
  std::map<uint64_t, std::deque<Fault>> faults_;
  std::deque<Fault> maxitem_faults_;
  std::set<uint64_t> broken_;
  std::map<uint64_t, uint64_t> requests_;
  std::vector<uint64_t> log_;
  std::vector<uint64_t> answered_;
};

// ---- Helpers ----------------------------------------------------------------

// Writes `items` as one JSON array and indexes it into `db` with the real
// Indexer (what `threadsearch index` does with a dump).
void IndexItems(const TempDir& tmp, const std::string& db,
                const std::vector<json>& items, const std::string& name) {
  json arr = json::array();
  for (const json& v : items) arr.push_back(v);
  const std::string file = tmp.Sub(name + ".json");
  WriteFileOrDie(file, arr.dump());
  Result<std::unique_ptr<Indexer>> ix = Indexer::Open(db, {});
  ASSERT_OK(ix);
  IndexStats stats;
  ASSERT_OK((*ix)->IndexPaths({file}, &stats));
}

std::vector<json> Values(const std::map<uint64_t, json>& items) {
  std::vector<json> out;
  for (const auto& [id, v] : items) out.push_back(v);
  return out;
}

// Everything that identifies the database's content, by item id.
std::map<std::string, std::string> Snapshot(const std::string& db) {
  std::map<std::string, std::string> out;
  StoreOptions so;
  so.read_only = true;
  auto store = ThreadStore::Open(db + "/store", so);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return out;
  EXPECT_OK((*store)->Scan(
      std::string(1, keys::kItem), [&](std::string_view, std::string_view v) {
        StoredItem s;
        EXPECT_OK(DecodeStoredItem(v, &s));
        Result<StoredItem> root = (*store)->Get(s.root_num);
        Result<StoredItem> parent =
            s.parent_num ? (*store)->Get(s.parent_num) : Result<StoredItem>(s);
        std::string desc =
            (root.ok() ? root->item.id : "?") + "|" +
            (s.parent_num && parent.ok() ? parent->item.id : "-") + "|" +
            std::to_string(s.depth) + "|" + std::to_string(s.thread_size) +
            "|" + std::to_string(s.reply_count) + "|" + s.parent_author + "|" +
            std::to_string(s.placeholder) + "|" +
            std::to_string(s.item.deleted) + "|" + s.item.author + "|" +
            std::to_string(s.item.points) + "|" + s.item.title + "|" +
            std::to_string(std::hash<std::string>()(s.item.text));
        out[std::string(SourceName(s.item.source)) + ":" + s.item.id] = desc;
        return true;
      }));
  return out;
}

std::optional<uint64_t> StoredCheckpoint(const std::string& db) {
  StoreOptions so;
  so.read_only = true;
  auto store = ThreadStore::Open(db + "/store", so);
  if (!store.ok()) return std::nullopt;
  Result<std::string> v = (*store)->GetRaw(keys::Meta(kHnLastIdMeta));
  if (!v.ok()) return std::nullopt;
  return std::stoull(*v);
}

void ExpectConsistent(const std::string& db) {
  CheckReport report;
  ASSERT_OK(CheckDatabase(db, {}, &report));
  EXPECT_TRUE(report.consistent())
      << (report.examples.empty() ? "" : report.examples[0]);
  EXPECT_EQ(report.searchable, report.documents);
}

// Options for a fast run against the replay server.
HnFollowOptions TestOptions(const ReplayServer& s) {
  HnFollowOptions o;
  o.api = s.api();
  o.from = kStory;
  o.concurrency = 8;
  o.rate = 0;
  o.interval = 0.2;
  o.once = true;
  o.timeout = 1;
  o.backoff_initial = 0.02;
  o.backoff_max = 0.2;
  o.flush_interval = 0.2;
  o.recheck_null_delay = 0.05;
  return o;
}

struct FollowRun {
  Status status;
  HnFollowStats stats;
  std::vector<std::string> warnings;
};

FollowRun Follow(const std::string& db, HnFollowOptions o) {
  FollowRun r;
  Result<std::unique_ptr<Indexer>> ix = Indexer::Open(db, {});
  if (!ix.ok()) {
    r.status = ix.status();
    return r;
  }
  o.on_warning = [&](const std::string& m) { r.warnings.push_back(m); };
  r.status = FollowHn(ix->get(), o, &r.stats);
  return r;
}

bool AnyWarning(const FollowRun& r, const std::string& needle) {
  for (const std::string& w : r.warnings) {
    if (w.find(needle) != std::string::npos) return true;
  }
  return false;
}

// Runs `threadsearch ARGS…` in a child process, stderr to `log`.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    dup2(fd, STDERR_FILENO);
    dup2(fd, STDOUT_FILENO);
  }
  std::vector<char*> argv;
  std::string bin = TS_BINARY;
  argv.push_back(bin.data());
  std::vector<std::string> copy = args;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  execv(bin.c_str(), argv.data());
  _exit(127);
}

// SIGKILLs and reaps a child still running when a test ends early.
class ChildGuard {
 public:
  explicit ChildGuard(pid_t* pid) : pid_(pid) {}
  ~ChildGuard() {
    if (*pid_ > 0 && waitpid(*pid_, nullptr, WNOHANG) == 0) {
      kill(*pid_, SIGKILL);
      waitpid(*pid_, nullptr, 0);
    }
  }
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;

 private:
  pid_t* pid_;
};

// Waits (bounded) until `pred` holds; false on timeout.
template <typename Pred>
bool WaitFor(Pred pred, double seconds) {
  auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(seconds));
  while (Clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

// ---- Helpers' own tests -----------------------------------------------------

TEST(HnFollowerInternalTest, ParsesApiUrls) {
  struct Case {
    const char* url;
    bool ok;
    const char* host;
    const char* path;
  } cases[] = {
      {"https://hacker-news.firebaseio.com/v0", true,
       "https://hacker-news.firebaseio.com", "/v0"},
      {"http://127.0.0.1:8080/v0/", true, "http://127.0.0.1:8080", "/v0"},
      {"HTTP://example.org", true, "http://example.org", ""},
      {"http://[::1]:9000/api/v0", true, "http://[::1]:9000", "/api/v0"},
      {"ftp://example.org/v0", false, "", ""},
      {"example.org/v0", false, "", ""},
      {"http:///v0", false, "", ""},
      {"http://example.org/v0?print=pretty", false, "", ""},
      {"http://user@example.org/v0", false, "", ""},
  };
  for (const Case& c : cases) {
    Result<hn_internal::ApiUrl> u = hn_internal::ParseApiUrl(c.url);
    EXPECT_EQ(u.ok(), c.ok) << c.url;
    if (!u.ok()) {
      EXPECT_EQ(u.status().code(), StatusCode::kInvalidArgument);
      continue;
    }
    EXPECT_EQ(u->scheme_host_port, c.host) << c.url;
    EXPECT_EQ(u->path, c.path) << c.url;
  }
}

TEST(HnFollowerInternalTest, ParsesMaxItemAndUpdates) {
  EXPECT_EQ(*hn_internal::ParseMaxItem("42133844"), 42133844u);
  EXPECT_EQ(*hn_internal::ParseMaxItem(" 7\n"), 7u);
  for (const char* bad :
       {"", "null", "-1", "0", "1.5", "\"12\"", "12 13", "{\"id\": 1}"}) {
    EXPECT_FALSE(hn_internal::ParseMaxItem(bad).ok()) << bad;
  }
  Result<std::vector<uint64_t>> u = hn_internal::ParseUpdates(
      R"({"items": [8863, 8857, 8863], "profiles": ["pg", "dang"]})");
  ASSERT_OK(u);
  EXPECT_EQ(*u, (std::vector<uint64_t>{8863, 8857}));
  EXPECT_TRUE(hn_internal::ParseUpdates(R"({"profiles": []})")->empty());
  for (const char* bad : {"", "null", "[1, 2]", R"({"items": 5})",
                          R"({"items": ["x"]})", R"({"items": [1, )"}) {
    EXPECT_FALSE(hn_internal::ParseUpdates(bad).ok()) << bad;
  }
  EXPECT_DOUBLE_EQ(hn_internal::Backoff(0, 0.5, 60), 0.5);
  EXPECT_DOUBLE_EQ(hn_internal::Backoff(3, 0.5, 60), 4);
  EXPECT_DOUBLE_EQ(hn_internal::Backoff(30, 0.5, 60), 60);
}

TEST(HnFollowerInternalTest, CheckpointAdvancesOnlyOverContiguousIds) {
  hn_internal::ContiguousTracker t(100);
  struct Step {
    uint64_t id;
    bool advanced;
    uint64_t done;
    size_t waiting;
  } steps[] = {
      {103, false, 100, 1},  // out of order: 101 and 102 still missing
      {105, false, 100, 2},
      {100, false, 100, 2},  // at or below the checkpoint: ignored
      {101, true, 101, 2},   // 102 missing still
      {102, true, 103, 1},   // closes the gap up to 103
      {104, true, 105, 0},
      {105, false, 105, 0},  // twice
      {106, true, 106, 0},
  };
  for (const Step& s : steps) {
    EXPECT_EQ(t.Complete(s.id), s.advanced) << s.id;
    EXPECT_EQ(t.done_upto(), s.done) << s.id;
    EXPECT_EQ(t.waiting(), s.waiting) << s.id;
  }
}

TEST(HnItemJsonTest, ParsesOneApiItem) {
  Result<Item> item = ParseHnItemJson(
      R"({"by": "pg", "id": 17, "kids": [18, 19], "parent": 1, "text": "Hi",
          "time": 1160418628, "type": "comment"})");
  ASSERT_OK(item);
  EXPECT_EQ(item->id, "17");
  EXPECT_EQ(item->parent, "1");
  EXPECT_EQ(item->author, "pg");
  EXPECT_EQ(item->type, ItemType::kComment);
  EXPECT_EQ(item->kids, (std::vector<std::string>{"18", "19"}));
  EXPECT_TRUE(ParseHnItemJson("null").status().IsNotFound());
  EXPECT_TRUE(ParseHnItemJson(" null\n").status().IsNotFound());
  for (const char* bad : {"", R"({"by": "pg", "id": 17, "te)", "[1]", "17",
                          R"({"by": "pg"})", R"({"id": 17, "time": "x"})"}) {
    Result<Item> r = ParseHnItemJson(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << bad;
  }
  Result<Item> deleted = ParseHnItemJson(
      R"({"deleted": true, "id": 40846715, "parent": 40846428,
          "time": 1719846795, "type": "comment"})");
  ASSERT_OK(deleted);
  EXPECT_TRUE(deleted->deleted);
}

// ---- Following --------------------------------------------------------------

class FollowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    items_ = RealItems();
    ASSERT_EQ(items_.begin()->first, kStory);
    ASSERT_GE(items_.size(), 50u);
    ref_ = tmp_.Sub("ref");
    IndexItems(tmp_, ref_, Values(items_), "items");
    want_ = Snapshot(ref_);
    ASSERT_EQ(want_.size(), items_.size());
  }

  uint64_t max_id() const { return items_.rbegin()->first; }
  uint64_t range() const { return max_id() - kStory + 1; }
  // The first non-deleted comment at or after `from` with text.
  uint64_t CommentWithText(uint64_t from) const {
    for (auto it = items_.lower_bound(from); it != items_.end(); ++it) {
      const json& v = it->second;
      if (v.value("type", "") == "comment" && v.contains("text") &&
          !v.value("deleted", false) && !v.value("dead", false)) {
        return it->first;
      }
    }
    ADD_FAILURE() << "no comment after " << from;
    return 0;
  }

  TempDir tmp_;
  std::map<uint64_t, json> items_;
  std::string ref_;
  std::map<std::string, std::string> want_;
};

TEST_F(FollowTest, BackfillsAWholeThreadFetchedOutOfOrder) {
  ReplayServer server(items_);
  // Random delays reorder completions; the story comes last of all, so its
  // comments arrive before their parent and must be relinked.
  server.set_delays(8, kStory, 400);
  const std::string db = tmp_.Sub("db");
  HnFollowOptions o = TestOptions(server);
  o.timeout = 5;
  FollowRun r = Follow(db, o);
  ASSERT_OK(r.status);

  std::vector<uint64_t> order = server.answered();
  ASSERT_EQ(order.size(), items_.size());
  EXPECT_FALSE(std::is_sorted(order.begin(), order.end()));
  EXPECT_NE(order.front(), kStory);

  EXPECT_EQ(r.stats.ids_done, range());
  EXPECT_EQ(r.stats.items, items_.size());
  EXPECT_EQ(r.stats.nulls, range() - items_.size());
  EXPECT_EQ(r.stats.failed, 0u);
  EXPECT_EQ(r.stats.index.added, items_.size());
  EXPECT_GT(r.stats.index.relinked, 0u);
  EXPECT_EQ(r.stats.last_id, max_id());
  EXPECT_EQ(StoredCheckpoint(db), max_id());
  EXPECT_TRUE(r.warnings.empty()) << r.warnings[0];
  EXPECT_EQ(Snapshot(db), want_);
  ExpectConsistent(db);

  // Searchable: a comment's words find it in its thread.
  Result<std::unique_ptr<Searcher>> s = Searcher::Open(db, {});
  ASSERT_OK(s);
  SearchRequest req;
  req.thread = std::to_string(kStory);
  req.limit = 1000;
  Result<SearchResult> all = (*s)->Search(req);
  ASSERT_OK(all);
  Result<SearchResult> ref_all = (*Searcher::Open(ref_, {}))->Search(req);
  ASSERT_OK(ref_all);
  EXPECT_EQ(all->total, ref_all->total);

  // Running again fetches nothing: the checkpoint is at maxitem.
  HnFollowOptions again = TestOptions(server);
  again.from = 0;
  uint64_t before = server.item_requests();
  FollowRun r2 = Follow(db, again);
  ASSERT_OK(r2.status);
  EXPECT_EQ(r2.stats.ids_done, 0u);
  EXPECT_EQ(server.item_requests(), before);
  EXPECT_EQ(Snapshot(db), want_);
}

TEST_F(FollowTest, FollowsIntoACollectionOfShards) {
  // The same out-of-order feed into a collection of three shards: the
  // whole thread lands in one shard (its comments came before the story,
  // so routing must keep them together), the checkpoint is written, and the
  // collection answers as the reference database does.
  ReplayServer server(items_);
  server.set_delays(8, kStory, 400);
  const std::string db = tmp_.Sub("coll");
  HnFollowOptions o = TestOptions(server);
  o.timeout = 5;
  FollowRun r;
  {
    IndexOptions io;
    io.on_warning = [&](const std::string& m) { r.warnings.push_back(m); };
    Result<std::unique_ptr<CollectionIndexer>> cx =
        CollectionIndexer::Open(db, 3, io);
    ASSERT_OK(cx);
    o.on_warning = [&](const std::string& m) { r.warnings.push_back(m); };
    r.status = FollowHn(cx->get(), o, &r.stats);
  }
  ASSERT_OK(r.status);
  EXPECT_EQ(r.stats.items, items_.size());
  EXPECT_EQ(r.stats.index.added, items_.size());
  EXPECT_EQ(StoredCheckpoint(db + "/s0"), max_id());
  // Every item in the shard of its thread, and each shard consistent.
  std::map<std::string, std::string> all;
  int shards_with_items = 0;
  for (const char* s : {"/s0", "/s1", "/s2"}) {
    std::map<std::string, std::string> part = Snapshot(db + s);
    if (!part.empty()) ++shards_with_items;
    all.insert(part.begin(), part.end());
    ExpectConsistent(db + s);
  }
  EXPECT_EQ(shards_with_items, 1);  // one thread
  EXPECT_EQ(all, want_);
  Result<std::unique_ptr<Searcher>> s = Searcher::Open(db, {});
  ASSERT_OK(s);
  SearchRequest req;
  req.thread = std::to_string(kStory);
  req.limit = 1000;
  Result<SearchResult> got = (*s)->Search(req);
  ASSERT_OK(got);
  Result<SearchResult> ref = (*Searcher::Open(ref_, {}))->Search(req);
  ASSERT_OK(ref);
  EXPECT_EQ(got->total, ref->total);
  EXPECT_FALSE(got->partial);
}

TEST_F(FollowTest, AppliesEditsScoresAndDeletionsFromUpdates) {
  ReplayServer server(items_);
  const std::string db = tmp_.Sub("db");
  ASSERT_OK(Follow(db, TestOptions(server)).status);
  ASSERT_EQ(Snapshot(db), want_);

  // New versions: an edited comment, a deleted one, a story with a new
  // score; updates.json lists them, an id we never had, and one beyond
  // maxitem.
  const uint64_t edited = CommentWithText(kStory + 1);
  const uint64_t deleted = CommentWithText(edited + 1);
  std::map<uint64_t, json> changed;
  json e = items_[edited];
  e["text"] = "Edited: now hiring zyxwvutsr engineers<p>Remote";
  changed[edited] = e;
  const json& d0 = items_[deleted];
  changed[deleted] = json{{"deleted", true},
                          {"id", deleted},
                          {"parent", d0["parent"]},
                          {"time", d0["time"]},
                          {"type", "comment"}};
  json story = items_[kStory];
  story["score"] = story.value("score", 0) + 10;
  changed[kStory] = story;
  for (const auto& [id, v] : changed) server.set_item(id, v);
  const uint64_t unknown = 8863;
  server.set_updates(
      json{{"items", {edited, deleted, unknown, kStory, max_id() + 5, edited}},
           {"profiles", {"whoishiring"}}});

  HnFollowOptions o = TestOptions(server);
  o.from = 0;  // resume: nothing new to backfill
  FollowRun r = Follow(db, o);
  ASSERT_OK(r.status);
  EXPECT_EQ(r.stats.ids_done, 0u);
  EXPECT_EQ(r.stats.updates, 3u);
  EXPECT_EQ(r.stats.index.updated, 3u);
  EXPECT_EQ(r.stats.index.added, 0u);
  EXPECT_EQ(server.requests_for(unknown), 0u);
  EXPECT_EQ(server.requests_for(max_id() + 5), 0u);

  // Exactly what the Indexer makes of the same versions.
  const std::string ref2 = tmp_.Sub("ref2");
  IndexItems(tmp_, ref2, Values(items_), "v1");
  IndexItems(tmp_, ref2, Values(changed), "v2");
  EXPECT_EQ(Snapshot(db), Snapshot(ref2));
  ExpectConsistent(db);

  Result<std::unique_ptr<Searcher>> s = Searcher::Open(db, {});
  ASSERT_OK(s);
  SearchRequest req;
  req.query = "zyxwvutsr";
  Result<SearchResult> hit = (*s)->Search(req);
  ASSERT_OK(hit);
  ASSERT_EQ(hit->total, 1u);
  EXPECT_EQ(hit->hits[0].item.item.id, std::to_string(edited));
  // The deleted comment stays in the tree, without its text, unsearchable.
  StoreOptions so;
  so.read_only = true;
  auto store = ThreadStore::Open(db + "/store", so);
  ASSERT_OK(store);
  Result<uint32_t> num = (*store)->Lookup(Source::kHN, std::to_string(deleted));
  ASSERT_OK(num);
  Result<StoredItem> gone = (*store)->Get(*num);
  ASSERT_OK(gone);
  EXPECT_TRUE(gone->item.deleted);
  EXPECT_TRUE(gone->item.text.empty());
  EXPECT_EQ(gone->depth, 1u);
  EXPECT_FALSE(gone->searchable());
}

TEST_F(FollowTest, RetriesErrorsTimeoutsAndBadResponsesUntilIndexed) {
  ReplayServer server(items_);
  auto it = items_.begin();
  const uint64_t a = (++it)->first;  // real comments
  const uint64_t b = (++it)->first;
  const uint64_t c = (++it)->first;
  const uint64_t d = (++it)->first;
  server.add_faults(kStory, {Fault::k500, Fault::k500, Fault::k500});
  server.add_faults(a, {Fault::kTimeout, Fault::k500});
  server.add_faults(b, {Fault::kTruncate});
  server.add_faults(c, {Fault::kWrongId, Fault::kTimeout});
  server.add_faults(d, {Fault::kTruncate, Fault::kTruncate, Fault::k500});
  server.add_faults(kStory + 1, {Fault::k500});  // a null id
  server.add_maxitem_faults({Fault::k500, Fault::kTimeout});
  const std::string db = tmp_.Sub("db");
  FollowRun r = Follow(db, TestOptions(server));
  ASSERT_OK(r.status);
  EXPECT_EQ(r.stats.failed, 0u);
  // (At least: a slow machine may time out on more.)
  EXPECT_GE(r.stats.retries, 3u + 2 + 1 + 2 + 3 + 1 + 2);
  EXPECT_EQ(server.requests_for(kStory), 4u);
  EXPECT_EQ(server.requests_for(d), 4u);
  EXPECT_EQ(Snapshot(db), want_);
  EXPECT_EQ(StoredCheckpoint(db), max_id());
  ExpectConsistent(db);
  // Each retry is logged with the item id and the reason.
  EXPECT_TRUE(
      AnyWarning(r, "hn item " + std::to_string(kStory) + ": HTTP 500"));
  EXPECT_TRUE(AnyWarning(
      r, "hn item " + std::to_string(b) + ": bad or truncated response"));
  EXPECT_TRUE(AnyWarning(
      r, "hn item " + std::to_string(c) + ": response is for item \"1\""));
  EXPECT_TRUE(
      AnyWarning(r, "hn item " + std::to_string(a) + ": request failed"));
  EXPECT_TRUE(AnyWarning(r, "hn maxitem.json: HTTP 500"));
}

TEST_F(FollowTest, GivesUpOnABrokenIdThenFetchesItOnALaterRun) {
  ReplayServer server(items_);
  const uint64_t broken = CommentWithText(kStory + 1);
  server.break_item(broken, true);
  const std::string db = tmp_.Sub("db");
  HnFollowOptions o = TestOptions(server);
  o.max_attempts = 3;
  FollowRun r = Follow(db, o);
  ASSERT_OK(r.status);
  EXPECT_EQ(r.stats.failed, 1u);
  EXPECT_EQ(server.requests_for(broken), 3u);
  EXPECT_TRUE(AnyWarning(r, "hn item " + std::to_string(broken) +
                                ": HTTP 500 after 3 attempts; skipped"));
  // Skipped, never half-indexed; the checkpoint went on past it.
  EXPECT_EQ(StoredCheckpoint(db), max_id());
  std::map<std::string, std::string> got = Snapshot(db);
  EXPECT_EQ(got.count("hn:" + std::to_string(broken)), 0u);
  EXPECT_EQ(got.size(), want_.size() - 1);
  ExpectConsistent(db);

  // The next run retries it (recorded in the store), and it gets in.
  server.break_item(broken, false);
  o.from = 0;
  FollowRun r2 = Follow(db, o);
  ASSERT_OK(r2.status);
  EXPECT_EQ(r2.stats.failed, 0u);
  EXPECT_EQ(r2.stats.index.added, 1u);
  EXPECT_EQ(server.requests_for(broken), 4u);
  EXPECT_EQ(Snapshot(db), want_);
  Result<std::unique_ptr<Indexer>> ix = Indexer::Open(db, {});
  ASSERT_OK(ix);
  Result<std::string> failed = (*ix)->GetMeta(kHnFailedMeta);
  ASSERT_OK(failed);
  EXPECT_EQ(*failed, "");
}

TEST_F(FollowTest, FailsCleanlyWhenMaxitemCannotBeRead) {
  ReplayServer server(items_);
  server.add_maxitem_faults({Fault::k500, Fault::k500, Fault::k500});
  const std::string db = tmp_.Sub("db");
  HnFollowOptions o = TestOptions(server);
  o.from = 0;
  o.max_attempts = 3;
  FollowRun r = Follow(db, o);
  EXPECT_EQ(r.status.code(), StatusCode::kIOError) << r.status.ToString();
  // A new database without a start gets no checkpoint.
  EXPECT_EQ(StoredCheckpoint(db), std::nullopt);
  EXPECT_EQ(server.item_requests(), 0u);

  o.api = "ftp://127.0.0.1/v0";
  EXPECT_EQ(Follow(db, o).status.code(), StatusCode::kInvalidArgument);
}

TEST_F(FollowTest, NewDatabaseWithoutFromStartsAtTheNewestItem) {
  ReplayServer server(items_);
  // The newest item is not readable at first: `null`, then the item.
  server.add_faults(max_id(), {Fault::kNull});
  const std::string db = tmp_.Sub("db");
  HnFollowOptions o = TestOptions(server);
  o.from = 0;
  FollowRun r = Follow(db, o);
  ASSERT_OK(r.status);
  EXPECT_EQ(r.stats.ids_done, 1u);
  EXPECT_EQ(r.stats.nulls, 0u);
  EXPECT_EQ(r.stats.index.added, 1u);
  EXPECT_EQ(server.item_requests(), 2u);
  EXPECT_EQ(StoredCheckpoint(db), max_id());
}

TEST_F(FollowTest, ResumesAfterSigkillWithExactCounts) {
  ReplayServer server(items_);
  server.set_delays(2);
  const std::string db = tmp_.Sub("db");
  const std::string log = tmp_.Sub("child.log");
  // Twice: a child follows (slowly, forever), is SIGKILLed once its
  // checkpoint has moved on, and the database must check consistent.
  std::optional<uint64_t> checkpoint;
  std::mt19937 rng(99);
  for (int round = 0; round < 2; ++round) {
    const uint64_t past =
        (checkpoint ? *checkpoint : kStory) + 150 + 100 * round;
    // The first child starts at the story, the second resumes.
    std::vector<std::string> args = {
        "follow", "hn",  "--db",          db,  "--api",      server.api(),
        "--rate", "200", "--concurrency", "4", "--interval", "0.5",
        "--quiet"};
    if (round == 0) {
      args.push_back("--from");
      args.push_back(std::to_string(kStory));
    }
    pid_t pid = Spawn(args, log);
    ChildGuard guard(&pid);
    ASSERT_GT(pid, 0);
    bool moved = WaitFor(
        [&] {
          std::optional<uint64_t> c = StoredCheckpoint(db);
          return c && *c >= past;
        },
        20);
    // Somewhere between two flushes.
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 300));
    kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    pid = 0;
    ASSERT_TRUE(moved) << ReadFileOrDie(log);
    ASSERT_TRUE(WIFSIGNALED(status)) << ReadFileOrDie(log);
    ExpectConsistent(db);
    checkpoint = StoredCheckpoint(db);
    ASSERT_TRUE(checkpoint.has_value());
    ASSERT_LT(*checkpoint, max_id()) << "killed too late to test a resume";
  }

  // Resume from the checkpoint: the ids at or below it are not fetched
  // again, and the result is exactly the uninterrupted one.
  const uint64_t mark = server.log_size();
  HnFollowOptions o = TestOptions(server);
  o.from = 0;
  FollowRun r = Follow(db, o);
  ASSERT_OK(r.status);
  std::set<uint64_t> asked = server.requested_since(mark);
  ASSERT_FALSE(asked.empty());
  EXPECT_GT(*asked.begin(), *checkpoint);
  EXPECT_EQ(r.stats.ids_done, max_id() - *checkpoint);
  EXPECT_EQ(Snapshot(db), want_);
  ExpectConsistent(db);
  Result<std::unique_ptr<Searcher>> s = Searcher::Open(db, {});
  ASSERT_OK(s);
  Result<DbStats> got = (*s)->Stats();
  Result<DbStats> want = (*Searcher::Open(ref_, {}))->Stats();
  ASSERT_OK(got);
  ASSERT_OK(want);
  EXPECT_EQ(got->items, want->items);
  EXPECT_EQ(got->placeholders, want->placeholders);
  EXPECT_EQ(got->deleted, want->deleted);
  EXPECT_EQ(got->searchable, want->searchable);
  EXPECT_EQ(got->threads, want->threads);
  EXPECT_EQ(got->authors, want->authors);
}

TEST_F(FollowTest, PollsForNewItemsSearchableWhileServing) {
  // The API first shows the first half of the range.
  const uint64_t half = std::prev(items_.lower_bound(kStory + 500))->first;
  ReplayServer server(items_);
  server.set_max_item(half);
  const std::string db = tmp_.Sub("db");
  ASSERT_OK(Follow(db, TestOptions(server)).status);
  ASSERT_EQ(StoredCheckpoint(db), half);

  // `serve` on the database, refreshing every 100 ms, while following.
  TestServer http(db, /*refresh_interval_ms=*/100);
  std::atomic<bool> stop{false};
  std::atomic<int> polls_caught_up{0};
  HnFollowOptions o = TestOptions(server);
  o.from = 0;
  o.once = false;
  o.interval = 0.2;
  o.flush_interval = 1;  // the CLI's default
  o.stop = &stop;
  o.on_progress = [&](const HnFollowProgress& p) {
    if (!p.backfilling) ++polls_caught_up;
  };
  FollowRun r;
  std::thread follower([&] { r = Follow(db, o); });

  // New items appear (a comment by someone new), and an old one is edited.
  std::string newcomer;
  std::set<std::string> old_authors;
  for (const auto& [id, v] : items_) {
    std::string by = v.value("by", "");
    if (id <= half) {
      old_authors.insert(by);
    } else if (newcomer.empty() && !by.empty() && !old_authors.count(by) &&
               !v.value("deleted", false) && !v.value("dead", false)) {
      newcomer = by;
    }
  }
  ASSERT_FALSE(newcomer.empty());
  const uint64_t old_id = CommentWithText(kStory + 1);
  json edited = items_[old_id];
  edited["text"] = "Update: qwertyuiop team is growing";
  ASSERT_TRUE(WaitFor([&] { return polls_caught_up > 0; }, 10));
  auto t0 = Clock::now();
  server.set_item(old_id, edited);
  server.set_updates(json{{"items", {old_id}}});
  server.set_max_item(max_id());
  auto found = [&](const std::string& query) {
    Reply rep = Get(http, "/api/search?" + query);
    return rep.status == 200 && rep.json().value("total", 0) > 0;
  };
  EXPECT_TRUE(WaitFor([&] { return found("author=" + newcomer); }, 10))
      << Get(http, "/api/search?author=" + newcomer).body;
  EXPECT_TRUE(WaitFor([&] { return found("q=qwertyuiop"); }, 10))
      << Get(http, "/api/search?q=qwertyuiop").body;
  double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_LT(seconds, 5) << "new items took too long to become searchable";
  ASSERT_TRUE(WaitFor([&] { return StoredCheckpoint(db) == max_id(); }, 10));

  stop = true;
  follower.join();
  ASSERT_OK(r.status);
  EXPECT_GE(r.stats.polls, 2u);
  EXPECT_EQ(r.stats.last_id, max_id());
  EXPECT_GE(r.stats.updates, 1u);
  std::map<uint64_t, json> now = items_;
  now[old_id] = edited;
  const std::string ref2 = tmp_.Sub("ref2");
  IndexItems(tmp_, ref2, Values(now), "now");
  EXPECT_EQ(Snapshot(db), Snapshot(ref2));
  ExpectConsistent(db);
}

TEST_F(FollowTest, CommandStopsCleanlyOnSigtermAndSigint) {
  ReplayServer server(items_);
  server.set_delays(2);
  const std::string db = tmp_.Sub("db");
  const std::string log = tmp_.Sub("child.log");
  auto wait_exit = [](pid_t pid, int* status) {
    return WaitFor([&] { return waitpid(pid, status, WNOHANG) == pid; }, 15);
  };
  // SIGTERM in the middle of the backfill: flushes, exits 0.
  pid_t pid = 0;
  ChildGuard guard(&pid);
  pid = Spawn({"follow", "hn", "--db", db, "--api", server.api(), "--from",
               std::to_string(kStory), "--rate", "200", "--interval", "0.5"},
              log);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(WaitFor([&] { return server.item_requests() > 300; }, 20));
  kill(pid, SIGTERM);
  int status = 0;
  ASSERT_TRUE(wait_exit(pid, &status)) << ReadFileOrDie(log);
  ASSERT_TRUE(WIFEXITED(status)) << ReadFileOrDie(log);
  EXPECT_EQ(WEXITSTATUS(status), 0) << ReadFileOrDie(log);
  std::string out = ReadFileOrDie(log);
  EXPECT_NE(out.find("(stopped)"), std::string::npos) << out;
  std::optional<uint64_t> cp = StoredCheckpoint(db);
  ASSERT_TRUE(cp.has_value());
  EXPECT_GT(*cp, kStory + 200);
  EXPECT_LT(*cp, max_id());
  ExpectConsistent(db);

  // Resumed, caught up and polling: SIGINT.
  pid = Spawn({"follow", "hn", "--db", db, "--api", server.api(), "--interval",
               "0.2", "--concurrency", "8", "--rate", "0"},
              log);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(WaitFor([&] { return StoredCheckpoint(db) == max_id(); }, 20))
      << ReadFileOrDie(log);
  kill(pid, SIGINT);
  ASSERT_TRUE(wait_exit(pid, &status)) << ReadFileOrDie(log);
  ASSERT_TRUE(WIFEXITED(status)) << ReadFileOrDie(log);
  EXPECT_EQ(WEXITSTATUS(status), 0) << ReadFileOrDie(log);
  EXPECT_EQ(Snapshot(db), want_);
  ExpectConsistent(db);

  // Usage errors exit 2.
  pid = Spawn(
      {"follow", "hn", "--db", db, "--api", "ftp://127.0.0.1/v0", "--once"},
      log);
  ASSERT_TRUE(wait_exit(pid, &status));
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2) << ReadFileOrDie(log);
  pid = Spawn({"follow", "hn", "--db", db, "--concurrency", "0"}, log);
  ASSERT_TRUE(wait_exit(pid, &status));
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2) << ReadFileOrDie(log);
}

}  // namespace
}  // namespace threadsearch
