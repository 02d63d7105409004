// Collections (issue 8): a corpus indexed as shards answers exactly as one
// database does, whether the shards are local directories or remote
// (xapian-tcpsrv for the index, shard-serve for the thread store); a shard
// that is down or stalled makes answers partial, not slow or wrong, and
// is used again when it is back; rebalancing moves whole threads; routing
// keeps every thread in one shard whatever order its items come in.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <httplib.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <mutex>
#include <set>
#include <thread>

#include "common/collection.h"
#include "common/keys.h"
#include "common/thread_store.h"
#include "indexer/collection_indexer.h"
#include "indexer/indexer.h"
#include "searcher/remote_store.h"
#include "searcher/searcher.h"
#include "server/json_codec.h"
#include "server/shard_server.h"
#include "testutil.h"

extern char** environ;

namespace threadsearch {
namespace {

using Clock = std::chrono::steady_clock;

const std::string kRHelp = std::string(TS_CORPUS) + "/mailing-lists/r-help";
// Four of its twelve months (4,858 of 15,797 messages): what two of the
// slowest tests index, twice each, to keep the suite quick under the
// sanitizers.
const std::vector<std::string> kRHelpPart = {
    kRHelp + "/2003-January.txt.gz", kRHelp + "/2003-February.txt.gz",
    kRHelp + "/2003-March.txt.gz", kRHelp + "/2003-April.txt.gz"};
const std::string kHnComments =
    std::string(TS_CORPUS) +
    "/hn/typesense-showcase-hn-comments-semantic-search/"
    "hn-comments-1000-sample.jsonl";

IndexOptions Quiet() {
  IndexOptions o;
  o.on_warning = [](const std::string&) {};
  return o;
}

void IndexPlain(const std::string& db, const std::vector<std::string>& paths) {
  Result<std::unique_ptr<Indexer>> ix = Indexer::Open(db, Quiet());
  ASSERT_OK(ix);
  IndexStats st;
  ASSERT_OK((*ix)->IndexPaths(paths, &st));
}

void IndexSharded(const std::string& db, unsigned shards,
                  const std::vector<std::string>& paths) {
  Result<std::unique_ptr<CollectionIndexer>> cx =
      CollectionIndexer::Open(db, shards, Quiet());
  ASSERT_OK(cx);
  IndexStats st;
  ASSERT_OK((*cx)->IndexPaths(paths, &st));
}

// The queries compared: words, phrases, boolean operators, filters,
// sorting, collapse, facets, paging, thread/under/id fields, typos.
std::vector<SearchRequest> QuerySet() {
  std::vector<SearchRequest> v;
  auto q = [&](std::string text) {
    SearchRequest r;
    r.query = std::move(text);
    r.highlight_fields = true;
    v.push_back(r);
    return &v.back();
  };
  q("lme");
  q("linear model");
  q("\"mixed effects\"");
  q("plot OR graph -lattice");
  q("read.csv encoding");
  q("regress*");
  q("glm")->authors = {"ripley@stats.ox.ac.uk"};
  q("")->replies_to = {"ripley@stats.ox.ac.uk"};
  q("error")->sort = SortOrder::kDateDesc;
  q("error")->sort = SortOrder::kReplies;
  q("regression")->collapse_thread = true;
  q("data frame")->facets = true;
  SearchRequest* r = q("the");
  r->limit = 50;
  r->page = 3;
  r = q("matrix");
  r->collapse_thread = true;
  r->facets = true;
  r->page = 1;
  q("matrx");
  q("author:bates@stat.wisc.edu nlme");
  return v;
}

// Every field but the time taken.
nlohmann::json Comparable(const SearchResult& r) {
  nlohmann::json j = nlohmann::json::parse(SearchResultToJson(r));
  j.erase("took_ms");
  j.erase("partial");
  j.erase("missing_shards");
  return j;
}

void ExpectSameResults(Searcher& want, Searcher& got,
                       const std::vector<SearchRequest>& queries) {
  for (const SearchRequest& req : queries) {
    Result<SearchResult> a = want.Search(req);
    Result<SearchResult> b = got.Search(req);
    ASSERT_OK(a);
    ASSERT_OK(b);
    EXPECT_FALSE(b->partial) << req.query;
    nlohmann::json ja = Comparable(*a), jb = Comparable(*b);
    EXPECT_EQ(ja, jb) << "query: " << req.query << "\nwant: "
                      << ja.dump().substr(0, 2000) << "\ngot:  "
                      << jb.dump().substr(0, 2000);
  }
}

// Up to `n` known-item queries (five consecutive words of a message, as
// users paste them), drawn from the data itself.
std::vector<SearchRequest> KnownItemQueries(Searcher& searcher, size_t n) {
  SearchRequest listing;
  listing.limit = 1000;
  listing.type = ItemType::kMessage;
  Result<SearchResult> items = searcher.Search(listing);
  EXPECT_TRUE(items.ok()) << items.status().ToString();
  std::vector<SearchRequest> known;
  if (!items.ok()) return known;
  for (size_t i = 0; i < items->hits.size() && known.size() < n; i += 4) {
    std::string body = items->hits[i].item.item.text;
    std::vector<std::string> words;
    std::string w;
    for (char ch : body) {
      if (std::isalpha(static_cast<unsigned char>(ch))) {
        w.push_back(static_cast<char>(std::tolower(ch)));
      } else if (!w.empty()) {
        if (w != "and" && w != "or" && w != "not") words.push_back(w);
        w.clear();
      }
    }
    if (words.size() < 20) continue;
    SearchRequest r;
    size_t at = (i * 7) % (words.size() - 5);
    for (size_t k = at; k < at + 5; ++k) r.query += words[k] + " ";
    known.push_back(r);
  }
  return known;
}

// Item ids (source:id) of each shard's store, placeholders marked.
std::map<std::string, std::vector<std::string>> WhereIs(
    const std::vector<std::string>& shard_dirs) {
  std::map<std::string, std::vector<std::string>> where;
  for (const std::string& d : shard_dirs) {
    StoreOptions so;
    so.read_only = true;
    Result<std::unique_ptr<ThreadStore>> st =
        ThreadStore::Open(d + "/store", so);
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    if (!st.ok()) continue;
    EXPECT_OK((*st)->Scan(std::string(1, keys::kItem),
                          [&](std::string_view, std::string_view v) {
                            StoredItem s;
                            EXPECT_OK(DecodeStoredItem(v, &s));
                            where[std::string(SourceName(s.item.source)) +
                                  ":" + s.item.id]
                                .push_back(d);
                            return true;
                          }));
  }
  return where;
}

TEST(CollectionTest, LocalShardsAnswerAsOneDatabase) {
  TempDir tmp;
  std::vector<std::string> inputs = kRHelpPart;
  inputs.push_back(kHnComments);
  IndexPlain(tmp.Sub("one"), inputs);
  IndexSharded(tmp.Sub("three"), 3, inputs);
  ASSERT_TRUE(IsCollection(tmp.Sub("three")));
  Result<Collection> col = LoadCollection(tmp.Sub("three"));
  ASSERT_OK(col);
  ASSERT_EQ(col->shards.size(), 3u);

  // Every item in exactly one shard, and every shard holds a fair part.
  std::vector<std::string> dirs;
  for (const ShardSpec& s : col->shards) dirs.push_back(ShardDir(*col, s));
  auto where = WhereIs(dirs);
  std::map<std::string, size_t> per_shard;
  for (const auto& [id, places] : where) {
    EXPECT_EQ(places.size(), 1u) << id << " is in " << places.size()
                                 << " shards";
    per_shard[places[0]]++;
  }
  ASSERT_EQ(per_shard.size(), 3u);
  for (const auto& [d, n] : per_shard) {
    EXPECT_GT(n, where.size() / 6) << d << " holds only " << n;
  }

  Result<std::unique_ptr<Searcher>> one = Searcher::Open(tmp.Sub("one"), {});
  Result<std::unique_ptr<Searcher>> three =
      Searcher::Open(tmp.Sub("three"), {});
  ASSERT_OK(one);
  ASSERT_OK(three);
  EXPECT_EQ((*three)->shard_names(),
            (std::vector<std::string>{"s0", "s1", "s2"}));
  ExpectSameResults(**one, **three, QuerySet());

  // Known-item queries: rankings, scores and totals equal too.
  // Multi-word queries bring in the proximity boosts, whose weights once
  // depended on the layout.
  {
    std::vector<SearchRequest> known = KnownItemQueries(**one, 200);
    ASSERT_GE(known.size(), 150u);
    ExpectSameResults(**one, **three, known);
  }

  // Thread views, user summaries and counts too.
  for (const char* id : {"33249994", "33250561",
                         "3E3FBCDD.1362.7F306C@localhost"}) {
    Result<ThreadView> a = (*one)->Thread(id);
    Result<ThreadView> b = (*three)->Thread(id);
    ASSERT_OK(a);
    ASSERT_OK(b);
    EXPECT_EQ(ThreadViewToJson(*a), ThreadViewToJson(*b)) << id;
  }
  for (const char* user : {"ripley@stats.ox.ac.uk", "bates@stat.wisc.edu"}) {
    Result<UserSummary> a = (*one)->User(user);
    Result<UserSummary> b = (*three)->User(user);
    ASSERT_OK(a);
    ASSERT_OK(b);
    EXPECT_EQ(UserSummaryToJson(*a), UserSummaryToJson(*b)) << user;
  }
  Result<DbStats> sa = (*one)->Stats();
  Result<DbStats> sb = (*three)->Stats();
  ASSERT_OK(sa);
  ASSERT_OK(sb);
  EXPECT_EQ(sa->items, sb->items);
  EXPECT_EQ(sa->searchable, sb->searchable);
  EXPECT_EQ(sa->placeholders, sb->placeholders);
  EXPECT_EQ(sa->threads, sb->threads);
  EXPECT_EQ(sa->authors, sb->authors);
  EXPECT_EQ(sb->shards, 3u);
}

TEST(CollectionTest, ThreadsStayWholeWhateverTheOrder) {
  // HN comments in reverse order: replies before their parents, and
  // parents whose own parents live in another shard, so threads must move.
  TempDir tmp;
  std::ifstream in(kHnComments);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_GT(lines.size(), 500u);
  std::reverse(lines.begin(), lines.end());
  const std::string reversed = tmp.Sub("reversed.jsonl");
  {
    std::ofstream out(reversed);
    for (const std::string& l : lines) out << l << "\n";
  }
  IndexPlain(tmp.Sub("one"), {kHnComments});
  IndexSharded(tmp.Sub("four"), 4, {reversed});
  auto where = WhereIs({tmp.Sub("four/s0"), tmp.Sub("four/s1"),
                        tmp.Sub("four/s2"), tmp.Sub("four/s3")});
  for (const auto& [id, places] : where) {
    EXPECT_EQ(places.size(), 1u) << id;
  }
  Result<std::unique_ptr<Searcher>> one = Searcher::Open(tmp.Sub("one"), {});
  Result<std::unique_ptr<Searcher>> four = Searcher::Open(tmp.Sub("four"), {});
  ASSERT_OK(one);
  ASSERT_OK(four);
  // Same threads, same sizes: every reply found its parent.
  Result<DbStats> sa = (*one)->Stats();
  Result<DbStats> sb = (*four)->Stats();
  ASSERT_OK(sa);
  ASSERT_OK(sb);
  EXPECT_EQ(sa->items, sb->items);
  EXPECT_EQ(sa->threads, sb->threads);
  EXPECT_EQ(sa->placeholders, sb->placeholders);
  for (const char* id : {"33249994", "33250561", "33253018"}) {
    Result<ThreadView> a = (*one)->Thread(id);
    Result<ThreadView> b = (*four)->Thread(id);
    ASSERT_OK(a);
    ASSERT_OK(b);
    EXPECT_EQ(a->size, b->size) << id;
    EXPECT_EQ(a->root.item.item.id, b->root.item.item.id) << id;
  }
  SearchRequest req;
  req.query = "ipad safari";
  req.collapse_thread = true;
  Result<SearchResult> a = (*one)->Search(req);
  Result<SearchResult> b = (*four)->Search(req);
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_EQ(a->total, b->total);
  ASSERT_EQ(a->hits.size(), b->hits.size());
  for (size_t i = 0; i < a->hits.size(); ++i) {
    EXPECT_EQ(a->hits[i].thread_id, b->hits[i].thread_id);
    EXPECT_EQ(a->hits[i].thread_hits, b->hits[i].thread_hits);
  }
}

TEST(CollectionTest, RebalanceMovesWholeThreadsWhileSearching) {
  TempDir tmp;
  IndexPlain(tmp.Sub("one"), kRHelpPart);
  IndexSharded(tmp.Sub("coll"), 2, kRHelpPart);
  Result<std::unique_ptr<Searcher>> one = Searcher::Open(tmp.Sub("one"), {});
  Result<std::unique_ptr<Searcher>> live =
      Searcher::Open(tmp.Sub("coll"), {});
  ASSERT_OK(one);
  ASSERT_OK(live);
  const std::vector<SearchRequest> queries = QuerySet();
  ExpectSameResults(**one, **live, queries);

  // A reader keeps searching while the shard is added and filled.
  std::atomic<bool> done{false};
  std::atomic<int> searches{0}, failures{0};
  std::mutex why_mu;
  std::string why;  // the first failure
  std::thread reader([&] {
    auto fail = [&](const std::string& what) {
      if (failures++ == 0) {
        std::lock_guard<std::mutex> lock(why_mu);
        why = what;
      }
    };
    Result<std::unique_ptr<Searcher>> s = Searcher::Open(tmp.Sub("coll"), {});
    if (!s.ok()) {
      fail("open: " + s.status().ToString());
      return;
    }
    SearchRequest req;
    req.query = "lme random";
    while (!done) {
      Status st = (*s)->Refresh();
      Result<SearchResult> r = (*s)->Search(req);
      // "Index changing; try again" (a part replaced twice during one
      // search) is what a client is told to retry: retried, as it would.
      for (int retry = 0; retry < 3 && !r.ok() &&
                          r.status().code() == StatusCode::kBusy;
           ++retry) {
        r = (*s)->Search(req);
      }
      if (!st.ok()) {
        fail("refresh: " + st.ToString());
      } else if (!r.ok()) {
        fail("search: " + r.status().ToString());
      } else if (r->total == 0) {
        fail("search: no hits");
      }
      ++searches;
    }
  });
  // The move starts once the reader has searched (and so searches during it).
  while (searches.load() == 0 && failures.load() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  {
    Result<std::unique_ptr<CollectionIndexer>> cx =
        CollectionIndexer::Open(tmp.Sub("coll"), 0, Quiet());
    ASSERT_OK(cx);
    RebalanceStats rs;
    uint64_t last_goal = 0;
    ASSERT_OK((*cx)->AddShard(
        "s2", [&](uint64_t, uint64_t goal) { last_goal = goal; }, &rs));
    EXPECT_GT(rs.threads_moved, 100u);
    EXPECT_GT(rs.items_moved, last_goal / 2);
    EXPECT_LE(rs.items_moved, last_goal + last_goal / 4);
  }
  done = true;
  reader.join();
  EXPECT_GT(searches.load(), 0);
  EXPECT_EQ(failures.load(), 0) << why;

  Result<Collection> col = LoadCollection(tmp.Sub("coll"));
  ASSERT_OK(col);
  ASSERT_EQ(col->shards.size(), 3u);
  auto where = WhereIs({tmp.Sub("coll/s0"), tmp.Sub("coll/s1"),
                        tmp.Sub("coll/s2")});
  size_t in_new = 0;
  for (const auto& [id, places] : where) {
    EXPECT_EQ(places.size(), 1u) << id;
    if (places[0] == tmp.Sub("coll/s2")) ++in_new;
  }
  EXPECT_GT(in_new, where.size() / 5);
  // The live searcher sees the new map on refresh; answers unchanged.
  ASSERT_OK((*live)->Refresh());
  EXPECT_EQ((*live)->shard_names().size(), 3u);
  ExpectSameResults(**one, **live, queries);
}

TEST(CollectionTest, InterruptedMoveIsFinishedOnOpen) {
  TempDir tmp;
  IndexSharded(tmp.Sub("coll"), 2, {kHnComments});
  // Which shard holds item 33250561's thread, and the other one.
  auto where = WhereIs({tmp.Sub("coll/s0"), tmp.Sub("coll/s1")});
  ASSERT_EQ(where["hn:33250561"].size(), 1u);
  const bool in_s0 = where["hn:33250561"][0] == tmp.Sub("coll/s0");
  const std::string from = in_s0 ? "s0" : "s1", to = in_s0 ? "s1" : "s0";
  // A crash right after the move was recorded (nothing copied yet).
  {
    std::ofstream m(tmp.Sub("coll/move.json"));
    m << R"({"from":")" << from << R"(","to":")" << to
      << R"(","tops":[{"source":"hn","id":"33249994"}]})";
  }
  {
    Result<std::unique_ptr<CollectionIndexer>> cx =
        CollectionIndexer::Open(tmp.Sub("coll"), 0, Quiet());
    ASSERT_OK(cx);
  }
  EXPECT_FALSE(std::filesystem::exists(tmp.Sub("coll/move.json")));
  where = WhereIs({tmp.Sub("coll/s0"), tmp.Sub("coll/s1")});
  for (const char* id : {"hn:33249994", "hn:33250561", "hn:33253018",
                         "hn:33251798"}) {
    ASSERT_EQ(where[id].size(), 1u) << id;
    EXPECT_EQ(where[id][0], tmp.Sub("coll/" + to)) << id;
  }
  Result<std::unique_ptr<Searcher>> s = Searcher::Open(tmp.Sub("coll"), {});
  ASSERT_OK(s);
  Result<ThreadView> v = (*s)->Thread("33253018");
  ASSERT_OK(v);
  // A reply under a missing parent heads its own thread until the parent
  // comes; the thread moved whole.
  EXPECT_EQ(v->root.item.item.id, "33250561");
  EXPECT_EQ(v->size, 2u);
}

TEST(CollectionTest, BadCollectionFilesAreClearErrors) {
  TempDir tmp;
  auto write = [&](const std::string& text) {
    std::filesystem::create_directories(tmp.path());
    std::ofstream(tmp.Sub("collection.json")) << text;
  };
  write("{");
  Result<Collection> c = LoadCollection(tmp.path());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("collection.json"), std::string::npos);
  write(R"({"format":"threadsearch-collection","version":1,"shards":[
    {"name":"a","xapian":"localhost"}]})");
  c = LoadCollection(tmp.path());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("shards[0]"), std::string::npos);
  write(R"({"format":"threadsearch-collection","version":1,"shards":[
    {"name":"a","xapian":"localhost:99999","store":"h:1"}]})");
  c = LoadCollection(tmp.path());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("port"), std::string::npos);
  // A plain database is not turned into a collection.
  IndexPlain(tmp.Sub("plain"), {kHnComments});
  Result<std::unique_ptr<CollectionIndexer>> cx =
      CollectionIndexer::Open(tmp.Sub("plain"), 3, Quiet());
  ASSERT_FALSE(cx.ok());
  EXPECT_EQ(cx.status().code(), StatusCode::kInvalidArgument);
}

// --- Remote shards --------------------------------------------------------

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// One xapian-tcpsrv process serving a shard's index.
class TcpSrv {
 public:
  TcpSrv(std::string db, int port) : db_(std::move(db)), port_(port) {}
  ~TcpSrv() { Kill(); }
  void Start() {
    std::string port = std::to_string(port_);
    std::vector<char*> argv = {const_cast<char*>("xapian-tcpsrv"),
                               const_cast<char*>("--port"), port.data(),
                               const_cast<char*>("--interface"),
                               const_cast<char*>("127.0.0.1"), db_.data(),
                               nullptr};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    // Its own process group: it forks a process per connection, and a
    // stall must stop those too.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    int rc = posix_spawnp(&pid_, "xapian-tcpsrv", &fa, &attr, argv.data(),
                          environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    ASSERT_EQ(rc, 0) << "cannot run xapian-tcpsrv (apt-get install "
                        "xapian-tools)";
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (!Accepts(port_) && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(Accepts(port_)) << "xapian-tcpsrv did not start on " << port_;
  }
  void Signal(int sig) {
    if (pid_ > 0) kill(-pid_, sig);
  }
  void Kill() {
    if (pid_ <= 0) return;
    kill(-pid_, SIGCONT);
    kill(-pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  int port() const { return port_; }

 private:
  std::string db_;
  int port_;
  pid_t pid_ = -1;
};

// One shard-serve, in a thread of this process.
class StoreServer {
 public:
  explicit StoreServer(const std::string& db) {
    ShardServerOptions o;
    o.db = db;
    Result<std::unique_ptr<ShardServer>> s = ShardServer::Open(o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    Result<int> p = server_->Bind();
    EXPECT_TRUE(p.ok());
    port_ = *p;
    thread_ = std::thread([this] { EXPECT_OK(server_->Serve()); });
  }
  ~StoreServer() {
    server_->Stop();
    thread_.join();
  }
  int port() const { return port_; }
  // How many requests of `kind` it has had (its /v1/store/info).
  uint64_t Requests(const std::string& kind) const {
    httplib::Client c("127.0.0.1", port_);
    httplib::Result r = c.Get("/v1/store/info");
    EXPECT_TRUE(r && r->status == 200);
    if (!r || r->status != 200) return 0;
    return nlohmann::json::parse(r->body)["requests"][kind].get<uint64_t>();
  }

 private:
  std::unique_ptr<ShardServer> server_;
  std::thread thread_;
  int port_ = 0;
};

// The batched positions request and its answer decode to what was
// encoded, and bytes that disagree with their counts are refused.
TEST(RemoteProtocolTest, PositionsRequestAndReplyRoundTrip) {
  const std::vector<std::string> terms = {"linear", std::string("a\0b", 3),
                                          ""};
  const std::vector<Xapian::docid> docs = {7, 1, 4000000000u};
  const std::string req = EncodePositionsRequest(terms, docs);
  std::vector<std::string> t;
  std::vector<Xapian::docid> d;
  ASSERT_TRUE(DecodePositionsRequest(req, &t, &d));
  EXPECT_EQ(t, terms);
  EXPECT_EQ(d, docs);
  EXPECT_FALSE(DecodePositionsRequest(req + "x", &t, &d));
  EXPECT_FALSE(DecodePositionsRequest(req.substr(0, req.size() - 1), &t, &d));
  // A count far larger than the body holds.
  EXPECT_FALSE(DecodePositionsRequest(std::string("\xff\xff\xff\xf0", 4),
                                      &t, &d));

  std::vector<DocPositions> want(3);
  want[0] = {{{1, 5, 9}, {2}, {}}, 120};
  want[1] = {{{}, {}, {}}, 0};
  want[2] = {{{3}, {4, 4000000000u}, {8}}, 4000000000u};
  std::string reply;
  for (const DocPositions& p : want) AppendDocPositions(&reply, p);
  std::vector<DocPositions> got;
  ASSERT_TRUE(DecodePositionsReply(reply, 3, 3, &got));
  ASSERT_EQ(got.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i].positions, want[i].positions) << i;
    EXPECT_EQ(got[i].length, want[i].length) << i;
  }
  EXPECT_FALSE(DecodePositionsReply(reply, 3, 2, &got));  // bytes left over
  EXPECT_FALSE(DecodePositionsReply(reply, 3, 4, &got));  // too few
  EXPECT_FALSE(DecodePositionsReply(reply, 2, 3, &got));  // wrong term count
  EXPECT_FALSE(DecodePositionsReply(reply.substr(0, reply.size() - 2), 3, 3,
                                    &got));
}

// The multi-get request and answer round-trip, absent keys included.
TEST(RemoteProtocolTest, MultiGetRequestAndReplyRoundTrip) {
  const std::vector<std::string> keys = {"I\x01", "", std::string(3, '\0')};
  const std::string req = EncodeMultiGetRequest(keys);
  std::vector<std::string> k;
  ASSERT_TRUE(DecodeMultiGetRequest(req, &k));
  EXPECT_EQ(k, keys);
  EXPECT_FALSE(DecodeMultiGetRequest(req + "x", &k));
  EXPECT_FALSE(DecodeMultiGetRequest(req.substr(0, req.size() - 1), &k));
  const std::string a = "value", empty;
  std::string reply;
  AppendMultiGetValue(&reply, &a);
  AppendMultiGetValue(&reply, nullptr);
  AppendMultiGetValue(&reply, &empty);
  std::vector<Result<std::string>> got;
  ASSERT_TRUE(DecodeMultiGetReply(reply, 3, &got));
  ASSERT_EQ(got.size(), 3u);
  ASSERT_OK(got[0]);
  EXPECT_EQ(*got[0], "value");
  EXPECT_TRUE(got[1].status().IsNotFound());
  ASSERT_OK(got[2]);
  EXPECT_EQ(*got[2], "");
  EXPECT_FALSE(DecodeMultiGetReply(reply, 2, &got));
  EXPECT_FALSE(DecodeMultiGetReply(reply, 4, &got));
  EXPECT_FALSE(DecodeMultiGetReply(reply.substr(0, 6), 1, &got));
}

TEST(CollectionTest, RemoteShardsThroughXapianTcpsrv) {
  TempDir tmp;
  // All of R-help: with less, some shards hold too few of the known items'
  // best results to be asked for their positions in most queries, and
  // ripley@ has too few items for the chunked reads checked below.
  IndexPlain(tmp.Sub("one"), {kRHelp});
  IndexSharded(tmp.Sub("local"), 3, {kRHelp});
  std::vector<std::unique_ptr<TcpSrv>> tcp;
  std::vector<std::unique_ptr<StoreServer>> stores;
  Collection remote;
  remote.dir = tmp.Sub("remote");
  for (int i = 0; i < 3; ++i) {
    const std::string shard = tmp.Sub("local/s" + std::to_string(i));
    tcp.push_back(std::make_unique<TcpSrv>(shard + "/xapian", FreePort()));
    tcp.back()->Start();
    stores.push_back(std::make_unique<StoreServer>(shard));
    ShardSpec s;
    s.name = "s" + std::to_string(i);
    s.xapian = "127.0.0.1:" + std::to_string(tcp.back()->port());
    s.store = "127.0.0.1:" + std::to_string(stores.back()->port());
    remote.shards.push_back(s);
  }
  ASSERT_OK(SaveCollection(remote));
  SearcherOptions so;
  so.shard_timeout_ms = 1500;
  so.shard_retry_ms = 200;
  Result<std::unique_ptr<Searcher>> one = Searcher::Open(tmp.Sub("one"), {});
  Result<std::unique_ptr<Searcher>> net = Searcher::Open(remote.dir, so);
  ASSERT_OK(one);
  ASSERT_OK(net);
  const std::vector<SearchRequest> queries = QuerySet();
  ExpectSameResults(**one, **net, queries);
  // Known-item queries rescore their best results by proximity: the
  // positions come from each shard's server, one request per shard and
  // query at most, not a Xapian round trip per document and term.
  const std::vector<SearchRequest> known = KnownItemQueries(**one, 40);
  ASSERT_GE(known.size(), 30u);
  // Each page's hits, their ancestors and replies are read a step at a
  // time for all hits at once (multi-gets), not one request per item.
  auto requests = [&](const std::string& kind) {
    std::vector<uint64_t> n;
    for (const auto& s : stores) n.push_back(s->Requests(kind));
    return n;
  };
  const std::vector<uint64_t> positions0 = requests("positions");
  const std::vector<uint64_t> gets0 = requests("get");
  const std::vector<uint64_t> multigets0 = requests("multiget");
  ExpectSameResults(**one, **net, known);
  const std::vector<uint64_t> positions1 = requests("positions");
  const std::vector<uint64_t> gets1 = requests("get");
  const std::vector<uint64_t> multigets1 = requests("multiget");
  for (size_t i = 0; i < stores.size(); ++i) {
    const uint64_t n = positions1[i] - positions0[i];
    EXPECT_GT(n, known.size() / 2) << "shard " << i;
    EXPECT_LE(n, known.size()) << "shard " << i;
    EXPECT_GT(multigets1[i] - multigets0[i], known.size() / 2) << i;
    EXPECT_LE(gets1[i] - gets0[i], known.size() / 4) << "shard " << i;
  }
  // Remote thread views and their contexts read through multi-gets too,
  // to the same views.
  for (const SearchRequest& req : {known[0], known[1], known[2]}) {
    Result<SearchResult> r = (*one)->Search(req);
    ASSERT_OK(r);
    ASSERT_FALSE(r->hits.empty());
    const std::string id = r->hits[0].item.item.id;
    Result<ThreadView> a = (*one)->Thread(id);
    Result<ThreadView> b = (*net)->Thread(id);
    ASSERT_OK(a);
    ASSERT_OK(b);
    EXPECT_EQ(ThreadViewToJson(*a), ThreadViewToJson(*b)) << id;
  }
  // A shard-serve with no index beside its store (a store copied alone, or
  // an older server) says so once; its shard's positions are then read
  // through Xapian's remote protocol, to the same answers.
  {
    ASSERT_EQ(mkdir(tmp.Sub("bare").c_str(), 0755), 0);
    ASSERT_EQ(symlink(tmp.Sub("local/s1/store").c_str(),
                      tmp.Sub("bare/store").c_str()),
              0);
    StoreServer bare(tmp.Sub("bare"));
    Collection mixed = remote;
    mixed.dir = tmp.Sub("mixed");
    mixed.shards[1].store = "127.0.0.1:" + std::to_string(bare.port());
    ASSERT_OK(SaveCollection(mixed));
    Result<std::unique_ptr<Searcher>> m = Searcher::Open(mixed.dir, so);
    ASSERT_OK(m);
    ExpectSameResults(**one, **m, known);
    EXPECT_EQ(bare.Requests("positions"), 1u);
  }
  Result<ThreadView> ta = (*one)->Thread("3E3FBCDD.1362.7F306C@localhost");
  Result<ThreadView> tb = (*net)->Thread("3E3FBCDD.1362.7F306C@localhost");
  ASSERT_OK(ta);
  ASSERT_OK(tb);
  EXPECT_EQ(ThreadViewToJson(*ta), ThreadViewToJson(*tb));
  // A user's items and their threads' roots are read in chunks, not one
  // request each.
  const std::vector<uint64_t> user_gets0 = requests("get");
  const std::vector<uint64_t> user_multigets0 = requests("multiget");
  Result<UserSummary> ua = (*one)->User("ripley@stats.ox.ac.uk");
  Result<UserSummary> ub = (*net)->User("ripley@stats.ox.ac.uk");
  ASSERT_OK(ua);
  ASSERT_OK(ub);
  EXPECT_EQ(UserSummaryToJson(*ua), UserSummaryToJson(*ub));
  ASSERT_GT(ub->items, 500u);
  uint64_t multigets = 0;
  for (size_t i = 0; i < stores.size(); ++i) {
    EXPECT_EQ(requests("get")[i], user_gets0[i]) << "shard " << i;
    multigets += requests("multiget")[i] - user_multigets0[i];
  }
  EXPECT_LE(multigets, 2 * (ub->items + ub->replies_received) / 256 + 12);

  // What the answers must be without s1: the local shards s0 and s2.
  Collection without = remote;
  without.dir = tmp.Sub("without-s1");
  without.shards = {{"s0", tmp.Sub("local/s0"), "", ""},
                    {"s2", tmp.Sub("local/s2"), "", ""}};
  ASSERT_OK(SaveCollection(without));
  Result<std::unique_ptr<Searcher>> two = Searcher::Open(without.dir, {});
  ASSERT_OK(two);

  // Kill s1's index server mid-test: answers come from s0 and s2, say so,
  // and do not hang.
  tcp[1]->Kill();
  for (const SearchRequest& req : queries) {
    const auto start = Clock::now();
    Result<SearchResult> got = (*net)->Search(req);
    const double secs =
        std::chrono::duration<double>(Clock::now() - start).count();
    ASSERT_OK(got);
    EXPECT_LT(secs, 5.0) << req.query;
    EXPECT_TRUE(got->partial) << req.query;
    EXPECT_EQ(got->missing_shards, std::vector<std::string>{"s1"});
    Result<SearchResult> want = (*two)->Search(req);
    ASSERT_OK(want);
    EXPECT_EQ(Comparable(*want), Comparable(*got)) << req.query;
  }
  std::string json = SearchResultToJson(*(*net)->Search(queries[0]));
  EXPECT_NE(json.find("\"partial\":true"), std::string::npos) << json;

  // s1 comes back on its port: after the retry interval it is used again.
  tcp[1] = std::make_unique<TcpSrv>(tmp.Sub("local/s1/xapian"),
                                    tcp[1]->port());
  tcp[1]->Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ExpectSameResults(**one, **net, queries);

  // A stalled shard (SIGSTOP) times out instead of hanging the query.
  tcp[2]->Signal(SIGSTOP);
  const auto start = Clock::now();
  Result<SearchResult> got = (*net)->Search(queries[1]);
  const double secs =
      std::chrono::duration<double>(Clock::now() - start).count();
  ASSERT_OK(got);
  EXPECT_TRUE(got->partial);
  EXPECT_EQ(got->missing_shards, std::vector<std::string>{"s2"});
  EXPECT_LT(secs, 3 * so.shard_timeout_ms / 1000.0 + 1);
  tcp[2]->Signal(SIGCONT);
  // Its old connection is gone; a fresh one after the retry interval.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ExpectSameResults(**one, **net, queries);
}

}  // namespace
}  // namespace threadsearch
