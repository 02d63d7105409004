// The HTTP server's native API on a real server and a corpus index: every
// endpoint, the error codes, the limits, CORS, and live index updates.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "server/json_codec.h"
#include "server/params.h"
#include "tests/server_fixture.h"
#include "tests/testutil.h"

namespace threadsearch {
namespace {

using nlohmann::json;

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    db_ = tmp_->Sub("db");
    ASSERT_TRUE(IndexInto(db_, CorpusSlice()));
    server_ = new TestServer(db_);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete tmp_;
  }
  static Reply Fetch(const std::string& path) { return Get(*server_, path); }

  static TempDir* tmp_;
  static std::string db_;
  static TestServer* server_;
};
TempDir* ServerTest::tmp_ = nullptr;
std::string ServerTest::db_;
TestServer* ServerTest::server_ = nullptr;

std::string RunCli(const std::string& args) {
  std::string cmd = std::string(TS_BINARY) + " " + args + " 2>/dev/null";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

TEST_F(ServerTest, HealthzAnswersOk) {
  Reply r = Fetch("/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["status"], "ok");
}

TEST_F(ServerTest, SearchIsTheCliJsonObject) {
  Reply r = Fetch("/api/search?q=keras&limit=3");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.header("Content-Type").find("application/json"),
            std::string::npos);
  json ours = r.json();
  json cli = json::parse(
      RunCli("search --json --db " + db_ + " --limit 3 keras"));
  EXPECT_EQ(ours["total"], cli["total"]);
  ASSERT_EQ(ours["hits"].size(), cli["hits"].size());
  ASSERT_GE(ours["hits"].size(), 1u);
  for (size_t i = 0; i < ours["hits"].size(); ++i) {
    json a = ours["hits"][i], b = cli["hits"][i];
    EXPECT_EQ(a["id"], b["id"]);
    EXPECT_EQ(a["snippet"], b["snippet"]);
    EXPECT_EQ(a["context"], b["context"]);
  }
  for (auto it = cli.begin(); it != cli.end(); ++it) {
    EXPECT_TRUE(ours.contains(it.key())) << it.key();
  }
}

TEST_F(ServerTest, SearchFiltersAndPages) {
  json j = Fetch("/api/search?source=mail&type=message&limit=5&page=1"
                 "&sort=-date&after=2003-05-01&before=2003-06-01")
               .json();
  ASSERT_EQ(j["hits"].size(), 5u) << j.dump();
  EXPECT_EQ(j["page"], 1);
  int64_t prev = INT64_MAX;
  for (const json& h : j["hits"]) {
    EXPECT_EQ(h["source"], "mail");
    int64_t t = h["time"];
    EXPECT_LE(t, prev);
    EXPECT_GE(t, 1051747200);  // 2003-05-01
    EXPECT_LT(t, 1054425600);  // 2003-06-01
    prev = t;
  }
  j = Fetch("/api/search?author=pg,nobody-else&limit=50").json();
  ASSERT_GE(j["hits"].size(), 1u);
  for (const json& h : j["hits"]) EXPECT_EQ(h["author"], "pg");
  j = Fetch("/api/search?q=keras&collapse=thread").json();
  ASSERT_GE(j["hits"].size(), 1u);
  EXPECT_TRUE(j["hits"][0].contains("thread_hits"));
}

TEST_F(ServerTest, BadParametersGet400NamingTheParameter) {
  struct Case {
    std::string query;
    std::string param;
  };
  const Case cases[] = {
      {"limit=0", "limit"},
      {"limit=1001", "limit"},
      {"limit=ten", "limit"},
      {"page=-1", "page"},
      {"page=99999999999999999999", "page"},
      {"limit=1000&page=100", "page"},  // past the 100000-hit depth
      {"sort=sideways", "sort"},
      {"type=blog", "type"},
      {"source=usenet", "source"},
      {"after=yesterday", "after"},
      {"before=2003-13-01", "before"},
      {"after=2003-02-30", "after"},           // no such day
      {"before=2003-05-01xyz", "before"},      // text after the date
      {"after=2003-05-01T", "after"},
      {"collapse=forum", "collapse"},
      {"facets=maybe", "facets"},
      {"q=" + std::string(2049, 'a'), "q"},
      {"q=%22open", "q"},
  };
  for (const Case& c : cases) {
    Reply r = Fetch("/api/search?" + c.query);
    EXPECT_EQ(r.status, 400) << c.query.substr(0, 80) << ": " << r.body;
    json j = r.json();
    EXPECT_TRUE(j.contains("error")) << c.query.substr(0, 80);
    EXPECT_EQ(j.value("param", ""), c.param) << c.query.substr(0, 80);
  }
  EXPECT_EQ(Fetch("/api/search?limit=1000&page=99").status, 200);
}

// after >= before is an empty range: no hits, where the filter used to
// be dropped and every item listed.
TEST_F(ServerTest, EmptyDateRangeMatchesNothing) {
  json j = Fetch("/api/search?after=2003-05-10&before=2003-05-01").json();
  EXPECT_EQ(j["total"], 0) << j.dump().substr(0, 200);
  j = Fetch("/api/search?q=lm&after=2003-05-10&before=2003-05-10").json();
  EXPECT_EQ(j["total"], 0);
  // ISO 8601 with a Z, and a space before the time, are dates too.
  j = Fetch("/api/search?after=2003-05-01T00:00:00Z"
            "&before=2003-05-02%2000:00:00")
          .json();
  EXPECT_GT(j["total"].get<int>(), 0) << j.dump().substr(0, 200);
}

// A negative hitsPerPage names the range hn.algolia.com serves; a huge one
// is served as 1000, as a big one is.
TEST_F(ServerTest, HitsPerPageOutOfRange) {
  Reply r = Fetch("/api/v1/search?hitsPerPage=-1");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json()["message"], "hitsPerPage: must be between 0 and 1000");
  r = Fetch("/api/v1/search?hitsPerPage=99999999999999999999999&query=lm");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["hitsPerPage"], 1000);
}

// A client that POSTs its search (as many search APIs take it) hears
// that the route answers GET, not that there is no such route.
TEST_F(ServerTest, OtherMethodsOnGetRoutesAre405) {
  httplib::Client cli("127.0.0.1", server_->port());
  auto r = cli.Post("/api/search", "q=lm", "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "GET, OPTIONS");
  json j = json::parse(r->body);
  EXPECT_EQ(j["status"], 405);
  EXPECT_NE(j["error"].get<std::string>().find("answers GET"),
            std::string::npos);
  r = cli.Delete("/api/items/42134507");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  // Unknown routes stay 404, Algolia's POST routes stay theirs.
  r = cli.Post("/nowhere", "x", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = cli.Post("/1/indexes/Item_production/query", R"({"query":"lm"})",
               "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// A second server on a port one already serves fails to bind, rather
// than sharing the port's connections with it (httplib's SO_REUSEPORT).
TEST_F(ServerTest, ASecondServerCannotTakeTheSamePort) {
  HttpServerOptions o;
  o.db = db_;
  o.port = server_->port();
  Result<std::unique_ptr<HttpServer>> second = HttpServer::Open(o);
  ASSERT_OK(second);
  Result<int> bound = (*second)->Bind();
  EXPECT_FALSE(bound.ok());
  EXPECT_EQ(Fetch("/healthz").status, 200);
}

TEST_F(ServerTest, HostileRequestsNeverGet500) {
  const std::string paths[] = {
      "/api/search?q=" + std::string(100000, 'x'),
      "/api/search?q=%00%ff%fe%c3",
      "/api/search?q=((((((((((((((((",
      "/api/search?q=author%3A%22",
      "/api/search?q=*&limit=1000",
      "/api/search?q=a*",
      "/api/search?q=NOT",
      "/api/search?q=thread%3A..%2F..%2Fetc",
      "/api/search?after=9999999999999999999999",
      "/api/search?author=%00&replies_to=%ff",
      "/api/search?thread=%3C%3E",
      "/api/items/..%2F..%2Fetc%2Fpasswd",
      "/api/items/%00",
      "/api/items/1?depth=-5",
      "/api/items/1?depth=x",
      "/api/users/%ff%fe",
      "/api/users/%2F..%2F/replies?page=zz",
      "/api/v1/search?tags=((story",
      "/api/v1/search?tags=story),(",
      "/api/v1/search?tags=author_%22%3B",
      "/api/v1/search?numericFilters=points%3E%3Eabc",
      "/api/v1/search?numericFilters=created_at_i%3E99999999999999999999",
      "/api/v1/search?hitsPerPage=0",
      "/api/v1/search?page=-3",
      "/api/v1/search?query=%22%28%29AND+OR+NOT",
      "/api/v1/items/%3Cscript%3E",
      "/api/v1/users/",
      "/../../etc/passwd",
      "/static/../../../etc/passwd",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/index.html/../../etc/passwd",
      "/api/search?" + std::string(70 * 4, '&') + "a=1&b=2",
  };
  for (const std::string& p : paths) {
    Reply r = Fetch(p);
    EXPECT_GE(r.status, 200) << p.substr(0, 80);
    EXPECT_LT(r.status, 500) << p.substr(0, 80) << ": " << r.body;
    if (r.status >= 400) {
      EXPECT_TRUE(r.json().contains("error")) << p.substr(0, 80) << r.body;
    }
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << p;
  }
  // A URI over httplib's 8 KiB limit.
  Reply r = Fetch("/api/search?q=" + std::string(9000, 'y'));
  EXPECT_EQ(r.status, 414);
  EXPECT_TRUE(r.json().contains("error"));
}

TEST_F(ServerTest, ItemIsTreeWithAncestors) {
  // 42134706 answers 42134507, which answers 42134046 (thread 42133844).
  Reply r = Fetch("/api/items/42134507");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = r.json();
  EXPECT_EQ(j["asked"], "42134507");
  ASSERT_GE(j["ancestors"].size(), 2u);
  EXPECT_EQ(j["ancestors"].back()["id"], "42134046");
  EXPECT_EQ(j["thread"]["id"], "42133844");
  // Find the asked node in the nested tree and its reply.
  std::function<const json*(const json&)> find = [&](const json& n) {
    if (n.value("asked", false)) return &n;
    for (const json& c : n["children"]) {
      if (const json* f = find(c)) return f;
    }
    return static_cast<const json*>(nullptr);
  };
  const json* asked = find(j["thread"]);
  ASSERT_NE(asked, nullptr);
  ASSERT_GE((*asked)["children"].size(), 1u);
  EXPECT_EQ((*asked)["children"][0]["id"], "42134706");

  // depth=0: nothing below the asked item.
  j = Fetch("/api/items/42134507?depth=0").json();
  asked = find(j["thread"]);
  ASSERT_NE(asked, nullptr);
  EXPECT_EQ((*asked)["children"].size(), 0u);
  EXPECT_EQ((*asked).value("truncated", false), true);
}

TEST_F(ServerTest, MessageIdsWorkUrlEncoded) {
  json s = Fetch("/api/search?source=mail&limit=50").json();
  std::string id;
  for (const json& h : s["hits"]) {
    std::string i = h["id"];
    if (i.find('@') != std::string::npos) {
      id = i;
      break;
    }
  }
  ASSERT_FALSE(id.empty());
  for (const std::string& form :
       {id, UrlEncode(id),
        UrlEncode("<" + id + ">"), UrlEncode("mail:" + id)}) {
    Reply r = Fetch("/api/items/" + form);
    ASSERT_EQ(r.status, 200) << form << ": " << r.body;
    EXPECT_EQ(r.json()["asked"], id) << form;
    r = Fetch("/api/v1/items/" + form);
    ASSERT_EQ(r.status, 200) << form << ": " << r.body;
    EXPECT_EQ(r.json()["id"], id) << form;
  }
}

TEST_F(ServerTest, UnknownThingsAre404Json) {
  for (const char* p : {"/api/items/nonexistent-id", "/api/users/nobody-at-all",
                        "/api/v1/items/999999999999", "/api/v1/users/nobody-x",
                        "/no/such/route", "/api/nothing"}) {
    Reply r = Fetch(p);
    EXPECT_EQ(r.status, 404) << p;
    EXPECT_TRUE(r.json().contains("error")) << p << r.body;
  }
}

TEST_F(ServerTest, UserSummaryAndRepliesToThem) {
  Reply r = Fetch("/api/users/pg");
  ASSERT_EQ(r.status, 200) << r.body;
  json u = r.json();
  EXPECT_EQ(u["name"], "pg");
  EXPECT_GE(u["items"].get<int>(), 1);
  EXPECT_GE(u["replies_received"].get<int>(), 1);
  json rep = Fetch("/api/users/pg/replies?limit=10").json();
  ASSERT_GE(rep["hits"].size(), 1u) << rep.dump();
  EXPECT_EQ(rep["sort"], "-date");
  int64_t prev = INT64_MAX;
  for (const json& h : rep["hits"]) {
    int64_t t = h["time"];
    EXPECT_LE(t, prev);
    prev = t;
  }
  EXPECT_EQ(Fetch("/api/users/pg/replies?limit=0").json()["param"], "limit");
}

TEST_F(ServerTest, StatsCountsTheIndex) {
  Reply r = Fetch("/api/stats");
  ASSERT_EQ(r.status, 200);
  json j = r.json();
  EXPECT_GT(j["items"].get<int>(), 1000);
  EXPECT_TRUE(j["by_source"].contains("mail"));
  EXPECT_TRUE(j["by_source"].contains("hn"));
}

// A string as the JSON has it: ill-formed UTF-8 replaced as nlohmann does.
std::string AsJson(const std::string& s) {
  return json::parse(json(s).dump(-1, ' ', false,
                                  json::error_handler_t::replace))
      .get<std::string>();
}

void ExpectContextItem(const json& j, const ContextItem& c) {
  EXPECT_EQ(j.size(), 4u + !c.author_name.empty() + c.missing) << j;
  EXPECT_EQ(j.at("id"), AsJson(c.id));
  EXPECT_EQ(j.at("author"), AsJson(c.author));
  if (!c.author_name.empty()) {
    EXPECT_EQ(j.at("author_name"), AsJson(c.author_name));
  }
  EXPECT_EQ(j.at("time"), c.time);
  EXPECT_EQ(j.at("excerpt"), AsJson(c.excerpt));
  if (c.missing) {
    EXPECT_EQ(j.at("missing"), true);
  }
}

void ExpectHit(const json& j, const Hit& h) {
  const Item& it = h.item.item;
  EXPECT_EQ(j.size(), 14u + !it.author_name.empty() + !it.url.empty() +
                          it.has_points + !it.list.empty() +
                          !it.channel.empty() + it.deleted +
                          h.item.placeholder + (h.thread_hits != 0))
      << j;
  EXPECT_EQ(j.at("id"), AsJson(it.id));
  EXPECT_EQ(j.at("source"), std::string(SourceName(it.source)));
  EXPECT_EQ(j.at("type"), std::string(ItemTypeName(it.type)));
  EXPECT_EQ(j.at("author"), AsJson(it.author));
  EXPECT_EQ(j.at("time"), it.time);
  EXPECT_EQ(j.at("title"), AsJson(it.title));
  if (it.parent.empty()) {
    EXPECT_TRUE(j.at("parent").is_null());
  } else {
    EXPECT_EQ(j.at("parent"), AsJson(it.parent));
  }
  EXPECT_EQ(j.at("depth"), h.item.depth);
  EXPECT_EQ(j.at("replies"), h.item.reply_count);
  if (!it.author_name.empty()) {
    EXPECT_EQ(j.at("author_name"), AsJson(it.author_name));
  }
  if (!it.url.empty()) {
    EXPECT_EQ(j.at("url"), AsJson(it.url));
  }
  if (it.has_points) {
    EXPECT_EQ(j.at("points"), it.points);
  }
  if (!it.list.empty()) {
    EXPECT_EQ(j.at("list"), AsJson(it.list));
  }
  if (!it.channel.empty()) {
    EXPECT_EQ(j.at("subreddit"), AsJson(it.channel));
  }
  if (it.deleted) {
    EXPECT_EQ(j.at("deleted"), true);
  }
  if (h.item.placeholder) {
    EXPECT_EQ(j.at("missing"), true);
  }
  EXPECT_EQ(j.at("thread"), AsJson(h.thread_id));
  if (std::isfinite(h.score)) {
    EXPECT_EQ(j.at("score").get<double>(), h.score);
  } else {
    EXPECT_TRUE(j.at("score").is_null());
  }
  EXPECT_EQ(j.at("rank"), h.rank);
  if (h.thread_hits) {
    EXPECT_EQ(j.at("thread_hits"), h.thread_hits);
  }
  EXPECT_EQ(j.at("snippet"), AsJson(h.snippet));
  const json& c = j.at("context");
  const ThreadContext& hc = h.context;
  EXPECT_EQ(c.size(), 5u) << c;
  EXPECT_EQ(c.at("root"), json({{"id", AsJson(hc.root_id)},
                                {"title", AsJson(hc.root_title)},
                                {"author", AsJson(hc.root_author)},
                                {"time", hc.root_time},
                                {"size", hc.root_size}}));
  EXPECT_EQ(c.at("elided"), hc.elided);
  EXPECT_EQ(c.at("reply_count"), hc.reply_count);
  ASSERT_EQ(c.at("ancestors").size(), hc.ancestors.size());
  for (size_t i = 0; i < hc.ancestors.size(); ++i) {
    ExpectContextItem(c["ancestors"][i], hc.ancestors[i]);
  }
  ASSERT_EQ(c.at("replies").size(), hc.replies.size());
  for (size_t i = 0; i < hc.replies.size(); ++i) {
    ExpectContextItem(c["replies"][i], hc.replies[i]);
  }
}

// The compact search JSON (/api/search) is written without a json tree. It
// is what nlohmann writes: parsed and dumped again it comes back byte for
// byte (keys in sorted order, nlohmann's escapes and numbers, well-formed
// UTF-8 only), and it holds the result's values and no others. The CLI's
// indented answer is the same JSON.
void ExpectSearchJson(const SearchResult& r) {
  const std::string out = SearchResultToJson(r);
  json j;
  ASSERT_NO_THROW(j = json::parse(out)) << out;
  EXPECT_EQ(j.dump(), out);
  EXPECT_EQ(json::parse(SearchResultToJson(r, 2)), j);
  EXPECT_EQ(j.size(), 9u + !r.did_you_mean.empty() + r.facets.has_value() +
                          r.partial)
      << out;
  EXPECT_EQ(j.at("version"), kJsonVersion);
  EXPECT_EQ(j.at("query"), AsJson(r.query));
  EXPECT_EQ(j.at("total"), r.total);
  EXPECT_EQ(j.at("page"), r.page);
  EXPECT_EQ(j.at("limit"), r.limit);
  EXPECT_EQ(j.at("sort"), std::string(SortOrderName(r.sort)));
  if (std::isfinite(r.took_ms)) {
    EXPECT_EQ(j.at("took_ms").get<double>(), r.took_ms);
  } else {
    EXPECT_TRUE(j.at("took_ms").is_null());
  }
  EXPECT_EQ(j.at("partial"), r.partial);
  if (r.partial) {
    json m = json::array();
    for (const std::string& s : r.missing_shards) m.push_back(AsJson(s));
    EXPECT_EQ(j.at("missing_shards"), m);
  }
  if (!r.did_you_mean.empty()) {
    EXPECT_EQ(j.at("did_you_mean"), AsJson(r.did_you_mean));
  }
  if (r.facets) {
    auto counts = [](const std::vector<CountEntry>& v, const char* key) {
      json a = json::array();
      for (const CountEntry& e : v) {
        a.push_back({{key, AsJson(e.key)}, {"count", e.count}});
      }
      return a;
    };
    EXPECT_EQ(j.at("facets"),
              json({{"authors", counts(r.facets->authors, "author")},
                    {"threads", counts(r.facets->threads, "thread")},
                    {"years", counts(r.facets->years, "year")},
                    {"months", counts(r.facets->months, "month")}}));
  }
  ASSERT_EQ(j.at("hits").size(), r.hits.size());
  for (size_t i = 0; i < r.hits.size(); ++i) ExpectHit(j["hits"][i], r.hits[i]);
}

TEST_F(ServerTest, CompactSearchJsonIsWhatNlohmannWrites) {
  auto searcher = Searcher::Open(db_, SearcherOptions());
  ASSERT_OK(searcher);
  size_t hits = 0;
  for (const char* q : {"keras", "data frame", "regresion", "\"linear model\"",
                        "python OR rust", "type:story", "plot -lattice"}) {
    for (int variant = 0; variant < 4; ++variant) {
      SearchRequest req;
      req.query = q;
      req.facets = variant == 1;
      req.collapse_thread = variant == 2;
      if (variant == 3) {
        req.page = 1;
        req.sort = SortOrder::kDateDesc;
      }
      Result<SearchResult> r = (*searcher)->Search(req);
      ASSERT_OK(r);
      hits += r->hits.size();
      SCOPED_TRACE(std::string(q) + " variant " + std::to_string(variant));
      ExpectSearchJson(*r);
    }
  }
  EXPECT_GT(hits, 100u);
  // Every optional field, escapes, bytes that are not UTF-8, numbers that
  // JSON lacks.
  SearchResult r;
  r.query = "q \"quoted\" \\ \x01\x1f\x7f\t\n\r\b\f caf\xc3\xa9";
  r.did_you_mean = "bad \xff\xfe utf-8 \xc3";
  r.took_ms = std::nan("");
  r.partial = true;
  r.missing_shards = {"s1", "s\"2"};
  r.facets = Facets{{{"ann", 3}}, {{"t1", 2}}, {{"2024", 1}}, {{"2024-01", 1}}};
  Hit h;
  h.item.placeholder = true;
  h.item.depth = 3;
  h.item.reply_count = 7;
  h.item.item.id = "42";
  h.item.item.author = "pg";
  h.item.item.author_name = "Paul \xe2\x80\x94 G";
  h.item.item.time = -5;
  h.item.item.deleted = true;
  h.item.item.has_points = true;
  h.item.item.points = -2;
  h.item.item.channel = "rust";
  h.item.item.url = "https://example.com/?a=1&b=\"2\"";
  h.item.item.parent = "41";
  h.thread_hits = 4;
  h.score = -0.0;
  h.snippet = "<mark>x</mark>\x02 \xf0\x9f\x98\x80 \xe2\x80\xa6";
  // One kind of ill-formed UTF-8 a string.
  h.thread_id = "overlong \xc0\xaf";
  h.item.item.title = "surrogate \xed\xa0\x80";
  h.item.item.list = "past U+10FFFF \xf4\x90\x80\x80";
  h.context.root_title = "cut \xe2\x80 short";
  h.context.root_author = "lone \x80 continuation";
  h.context.ancestors.push_back({"1", "a", "", 1, "e\x1b", true});
  h.context.replies.push_back({"2", "b", "B", 2, "r", false});
  h.context.elided = 1;
  h.context.reply_count = 1;
  r.hits.push_back(h);
  h.score = 1e300;
  h.item.item.parent.clear();
  r.hits.push_back(h);
  ExpectSearchJson(r);
}

TEST_F(ServerTest, CorsOnApiResponsesAndErrors) {
  for (const char* p : {"/api/search?q=keras", "/api/stats", "/api/items/17",
                        "/api/v1/search?query=apple", "/api/v1/users/pg",
                        "/api/search?limit=0", "/api/items/nope"}) {
    Reply r = Fetch(p);
    EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "*") << p;
  }
  httplib::Result res = server_->client()->Options("/api/v1/search");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204);
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), "*");
}

TEST_F(ServerTest, WebPageIsServedSelfContained) {
  Reply r = Fetch("/");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.header("Content-Type").find("text/html"), std::string::npos);
  EXPECT_NE(r.body.find("<script"), std::string::npos);
  // Nothing loaded from elsewhere.
  EXPECT_EQ(r.body.find("src=\"http"), std::string::npos);
  EXPECT_EQ(r.body.find("href=\"http"), std::string::npos);
  EXPECT_NE(r.header("Content-Security-Policy").find("default-src 'none'"),
            std::string::npos);
}

TEST(ServerLiveTest, NewItemsShowWithoutRestart) {
  TempDir tmp;
  std::string db = tmp.Sub("db");
  ASSERT_TRUE(IndexInto(db, {std::string(TS_TEST_DATA) +
                             "/hn/bigquery-sample.jsonl"}));
  TestServer server(db, /*refresh_interval_ms=*/200);
  EXPECT_EQ(Get(server, "/api/search?q=zyzzyvaquux").json()["total"], 0);
  // Warm several pooled searchers so each must refresh.
  for (int i = 0; i < 8; ++i) Get(server, "/api/search?q=the");
  {
    Result<std::unique_ptr<Indexer>> ix = Indexer::Open(db, {});
    ASSERT_OK(ix);
    Item it;
    it.source = Source::kHN;
    it.id = "99999001";
    it.type = ItemType::kComment;
    it.author = "livetester";
    it.time = 1700000000;
    it.text = "a brand new zyzzyvaquux comment";
    it.text_html = true;
    IndexStats stats;
    ASSERT_OK((*ix)->Add(it, &stats));
    ASSERT_OK((*ix)->Flush());
  }
  json j;
  for (int i = 0; i < 50; ++i) {
    j = Get(server, "/api/search?q=zyzzyvaquux").json();
    if (j.value("total", 0) == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(j.value("total", 0), 1) << j.dump();
  EXPECT_EQ(j["hits"][0]["id"], "99999001");
  // Every pooled searcher sees it, and so do the other endpoints.
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(Get(server, "/api/search?q=zyzzyvaquux").json()["total"], 1);
  }
  EXPECT_EQ(Get(server, "/api/items/99999001").status, 200);
  EXPECT_EQ(Get(server, "/api/v1/search?query=zyzzyvaquux").json()["nbHits"],
            1);
}

}  // namespace
}  // namespace threadsearch
