// The HN Search (Algolia) API: parameter parsing, and our responses checked
// field for field (names and JSON types) against recorded hn.algolia.com
// responses.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "server/params.h"
#include "tests/server_fixture.h"
#include "tests/testutil.h"

namespace threadsearch {
namespace {

using nlohmann::json;

TEST(AlgoliaParamsTest, Tags) {
  struct Case {
    const char* tags;
    std::set<ItemType> types;  // empty: unconstrained
    std::set<std::string> authors;
    std::set<std::string> stories;
    size_t clauses;
    bool nothing;
  };
  const Case cases[] = {
      {"", {}, {}, {}, 0, false},
      {"story", {ItemType::kStory}, {}, {}, 0, false},
      {"(story,poll)", {ItemType::kStory, ItemType::kPoll}, {}, {}, 0, false},
      {"(story,poll),story", {ItemType::kStory}, {}, {}, 0, false},
      {"comment,author_PG", {ItemType::kComment}, {"pg"}, {}, 0, false},
      {"(author_a,author_b)", {}, {"a", "b"}, {}, 0, false},
      {"author_a,author_b", {}, {}, {}, 0, true},
      {"story_17,comment", {ItemType::kComment}, {}, {"17"}, 0, false},
      {"(story,author_pg)", {}, {}, {}, 1, false},
      {"ask_hn", {}, {}, {}, 1, false},
      {"front_page", {}, {}, {}, 0, true},
      {"(front_page,story)", {ItemType::kStory}, {}, {}, 0, false},
      {"story,comment", {}, {}, {}, 0, true},
      {"()", {}, {}, {}, 0, false},
      // The JSON form, and excluded tags.
      {R"(["story",["author_a","author_b"]])",
       {ItemType::kStory},
       {"a", "b"},
       {},
       0,
       false},
      {"story,-author_pg", {ItemType::kStory}, {}, {}, 1, false},
      {"(story,-comment)", {}, {}, {}, 1, false},
      {"-front_page", {}, {}, {}, 0, false},
      {R"([["-front_page","story"]])", {}, {}, {}, 0, false},
      {R"(\-story)", {}, {}, {}, 0, true},
  };
  for (const Case& c : cases) {
    Result<TagFilter> f = ParseAlgoliaTags(c.tags);
    ASSERT_OK(f);
    EXPECT_EQ(f->match_nothing, c.nothing) << c.tags;
    if (c.nothing) continue;
    EXPECT_EQ(f->types.value_or(std::set<ItemType>{}), c.types) << c.tags;
    EXPECT_EQ(f->authors.value_or(std::set<std::string>{}), c.authors)
        << c.tags;
    EXPECT_EQ(f->stories.value_or(std::set<std::string>{}), c.stories)
        << c.tags;
    EXPECT_EQ(f->clauses.size(), c.clauses) << c.tags;
  }
  for (const char* bad : {"(story", "story)", "((story))", "(a,(b))", "author_",
                          "story_", "author_a b", "(story)x", "author_\"x", "-",
                          "story,(-)", R"(["-"])", "[1]", R"(["author_"])"}) {
    Result<TagFilter> f = ParseAlgoliaTags(bad);
    EXPECT_FALSE(f.ok()) << bad;
    EXPECT_TRUE(f.status().message().starts_with("tags: ")) << bad;
  }
  // Excluded tags are clauses: NOT alone, NOT inside an OR group.
  EXPECT_EQ(ParseAlgoliaTags("story,-author_pg")->clauses,
            std::vector<std::string>{"NOT author:pg"});
  EXPECT_EQ(ParseAlgoliaTags("(story,-comment)")->clauses,
            std::vector<std::string>{"(type:story OR NOT type:comment)"});
  // tags and tagFilters AND together; errors name the parameter given.
  TagFilter f;
  ASSERT_OK(AddAlgoliaTags("(author_a,author_b)", "tags", &f));
  ASSERT_OK(AddAlgoliaTags(R"(["author_b"])", "tagFilters", &f));
  EXPECT_EQ(f.authors, std::set<std::string>{"b"});
  EXPECT_FALSE(f.match_nothing);
  ASSERT_OK(AddAlgoliaTags("author_a", "tagFilters", &f));
  EXPECT_TRUE(f.match_nothing);
  Status st = AddAlgoliaTags("story,(comment", "tagFilters", &f);
  EXPECT_EQ(st.message(), "tagFilters: unbalanced parentheses");
}

// Algolia's two ways of writing a list of conditions: a JSON array (inner
// arrays OR), or commas with parenthesised OR groups.
TEST(AlgoliaParamsTest, ListForms) {
  using Groups = std::vector<std::vector<std::string>>;
  const std::pair<const char*, Groups> cases[] = {
      {"", {}},
      {"a,b", {{"a"}, {"b"}}},
      {" a , ( b , c ) ,,", {{"a"}, {"b", "c"}}},
      {"(),a", {{"a"}}},
      {R"(["a",["b","c"]])", {{"a"}, {"b", "c"}}},
      {R"( [ ["a"], [], " ", ["", "b c"] ] )", {{"a"}, {"b c"}}},
      {R"j(["x:(1,2)"])j", {{"x:(1,2)"}}},
      {"[]", {}},
  };
  for (const auto& [text, want] : cases) {
    Result<Groups> g = ParseAlgoliaList(text, "p");
    ASSERT_OK(g);
    EXPECT_EQ(*g, want) << text;
  }
  for (const char* bad :
       {"(a", "a)", "((a))", "(a)x", "x(a)", "[", R"(["a")", "[1]",
        R"([["a",["b"]]])", R"([["a",2]])", R"(["a",null])", R"([{"a":1}])"}) {
    Result<Groups> g = ParseAlgoliaList(bad, "someFilters");
    ASSERT_FALSE(g.ok()) << bad;
    EXPECT_TRUE(g.status().message().starts_with("someFilters: ")) << bad;
  }
}

TEST(AlgoliaParamsTest, NumericFilters) {
  Result<NumericFilter> f = ParseNumericFilters(
      "created_at_i>100,created_at_i<=200,points>=5,num_comments=3");
  ASSERT_OK(f);
  EXPECT_EQ(f->time_lo, 101);
  EXPECT_EQ(f->time_hi, 200);
  EXPECT_EQ(f->points_lo, 5);
  EXPECT_FALSE(f->points_hi.has_value());
  EXPECT_EQ(f->comments_lo, 3);
  EXPECT_EQ(f->comments_hi, 3);
  EXPECT_FALSE(f->empty());
  f = ParseNumericFilters("points>1.5,num_comments<=2.5,created_at_i<7.2");
  ASSERT_OK(f);
  EXPECT_EQ(f->points_lo, 2);
  EXPECT_EQ(f->comments_hi, 2);
  EXPECT_EQ(f->time_hi, 7);
  EXPECT_TRUE(ParseNumericFilters("points=2.5")->empty());
  EXPECT_FALSE(ParseNumericFilters("points=2.0")->empty());
  f = ParseNumericFilters("points>10,points<5");
  ASSERT_OK(f);
  EXPECT_TRUE(f->empty());
  // Ranges, and the JSON form: a condition alone still narrows a range.
  f = ParseNumericFilters(
      R"(["points:10 TO 20.5",["num_comments > 3"],"created_at_i>=1e9"])");
  ASSERT_OK(f);
  EXPECT_EQ(f->points_lo, 10);
  EXPECT_EQ(f->points_hi, 20);
  EXPECT_EQ(f->comments_lo, 4);
  EXPECT_EQ(f->time_lo, 1000000000);
  EXPECT_EQ(f->clause, "");
  // OR groups and != are clauses, AND-ed with the ranges.
  struct Case {
    const char* filters;
    const char* clause;
    bool nothing;
  };
  const Case cases[] = {
      {"points!=3", "NOT points:3..3", false},
      {"(points>1,points<0)", "(points:>=2 OR points:<=-1)", false},
      {R"([["points>100","num_comments>50"],"created_at_i>1600000000"])",
       "(points:>=101 OR comments:>=51)", false},
      {"(points=1.5,num_comments=0.5)", "", true},
      {"points!=1.5", "", false},
      {R"([["points>1"],["points:1 TO 2","created_at_i!=5"]])",
       "(points:1..2 OR NOT time:5..5)", false},
  };
  for (const Case& c : cases) {
    f = ParseNumericFilters(c.filters);
    ASSERT_OK(f);
    EXPECT_EQ(f->clause, c.clause) << c.filters;
    EXPECT_EQ(f->match_nothing, c.nothing) << c.filters;
    EXPECT_EQ(f->empty(), c.nothing) << c.filters;
  }
  f = ParseNumericFilters(
      R"([["points>100","num_comments>50"],"created_at_i>1600000000"])");
  EXPECT_EQ(f->time_lo, 1600000001);
  EXPECT_FALSE(f->points_lo.has_value());
  for (const char* bad :
       {"karma>1", "points", "points>>1", "points>x", "points:5", "points!3",
        "points>99999999999999999999", "(points>1", "((points>1))", "author=pg",
        R"([["points>1","karma<2"]])", R"([["points>1",[2]]])", "points:1 TO x",
        "points>1 AND points<2", R"(["points>1")"}) {
    Result<NumericFilter> r = ParseNumericFilters(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_TRUE(r.status().message().starts_with("numericFilters: "))
        << r.status().message();
  }
}

TEST(AlgoliaParamsTest, Filters) {
  struct Case {
    const char* filters;
    const char* clause;
    bool nothing;
  };
  const Case cases[] = {
      {"", "", false},
      {"parent_id=17", "parent:17", false},
      {"parent_id=1 OR parent_id=2", "(parent:1 OR parent:2)", false},
      {"objectID:\"17\" OR objectID:\"18\"", "(id:17 OR id:18)", false},
      {"story_id=5", "(thread:5 AND NOT id:5)", false},
      {"_tags:story AND points > 100", "(type:story AND points:>=101)", false},
      {"points:10 TO 20.5", "points:10..20", false},
      {"created_at_i<1.5e9", "time:<=1499999999", false},
      {"NOT num_comments=0", "NOT comments:0..0", false},
      {"(_tags:story OR _tags:poll) AND author:PG",
       "((type:story OR type:poll) AND author:PG)", false},
      {"_tags:front_page OR _tags:show_hn", "title:\"show hn\"", false},
      {"_tags:front_page AND points>1", "", true},
      {"NOT _tags:front_page", "", false},
      {"points=1.5", "", true},
      {"points!=1.5", "", false},
  };
  for (const Case& c : cases) {
    Result<AlgoliaFilter> f = ParseAlgoliaFilters(c.filters);
    ASSERT_OK(f);
    EXPECT_EQ(f->clause, c.clause) << c.filters;
    EXPECT_EQ(f->match_nothing, c.nothing) << c.filters;
  }
  for (const char* bad :
       {"karma>1", "points>", "(points>1", "points>1)", "points", "AND",
        "parent_id>5", "objectID:\"a b\"", "points>x", "a:\"open",
        "points!1", "points:1 TO"}) {
    Result<AlgoliaFilter> f = ParseAlgoliaFilters(bad);
    EXPECT_FALSE(f.ok()) << bad;
  }
}

TEST(AlgoliaParamsTest, FacetFilters) {
  struct Case {
    const char* facets;
    const char* clause;
    bool nothing;
  };
  const Case cases[] = {
      {"", "", false},
      {"author:pg", "author:pg", false},
      {R"(["author:pg","_tags:story"])", "(author:pg AND type:story)", false},
      {R"([["author:pg","author:dang"],"_tags:story"])",
       "((author:pg OR author:dang) AND type:story)", false},
      {"(author:pg,author:dang),_tags:story",
       "((author:pg OR author:dang) AND type:story)", false},
      {"author:-pg", "NOT author:pg", false},
      {"-author:pg", "NOT author:pg", false},
      {" author : \"pg\" ", "author:pg", false},
      {"story_id:17", "(thread:17 AND NOT id:17)", false},
      {"parent_id:17", "parent:17", false},
      {"objectID:17", "id:17", false},
      {"_tags:-comment", "NOT type:comment", false},
      {"_tags:author_PG", "author:pg", false},
      {R"(_tags:\-comment)", "", true},
      {"_tags:front_page", "", true},
      {R"([["_tags:front_page","_tags:story"]])", "type:story", false},
      {"_tags:-front_page", "", false},
      {R"(points:\-12)", "points:-12..-12", false},
      {"num_comments:3,created_at_i:1.5", "", true},
      {"num_comments:3", "comments:3..3", false},
  };
  for (const Case& c : cases) {
    Result<AlgoliaFilter> f = ParseAlgoliaFacetFilters(c.facets);
    ASSERT_OK(f);
    EXPECT_EQ(f->clause, c.clause) << c.facets;
    EXPECT_EQ(f->match_nothing, c.nothing) << c.facets;
  }
  for (const char* bad :
       {"author", ":pg", "author:", "author:-", "-author:-pg", "karma:1",
        "author:a b", "author:>pg", "points:x", "points:1 TO 5", "[1]",
        "(author:pg", "_tags:author_", R"(["author:pg",[2]])"}) {
    Result<AlgoliaFilter> f = ParseAlgoliaFacetFilters(bad);
    ASSERT_FALSE(f.ok()) << bad;
    EXPECT_TRUE(f.status().message().starts_with("facetFilters: "))
        << f.status().message();
  }
}

TEST(AlgoliaParamsTest, IsoTimeAndUrlEncode) {
  EXPECT_EQ(IsoTime(1385518716), "2013-11-27T02:18:36.000Z");
  EXPECT_EQ(UrlEncode("(story,poll)"), "%28story%2Cpoll%29");
}

class AlgoliaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    db_ = tmp_->Sub("db");
    ASSERT_TRUE(IndexInto(db_, CorpusSlice()));
    server_ = new TestServer(db_);
    recorded_ = new json(json::parse(ReadFileOrDie(
        std::string(TS_CORPUS) + "/hn/algolia-api-responses/responses.json")));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete tmp_;
    delete recorded_;
  }
  static Reply Fetch(const std::string& path) { return Get(*server_, path); }
  // The recorded reply for `url`.
  static json Recorded(const std::string& url) {
    for (const json& e : *recorded_) {
      if (e["url"] == url) return e["reply"];
    }
    ADD_FAILURE() << "no recording of " << url;
    return json();
  }

  static TempDir* tmp_;
  static std::string db_;
  static TestServer* server_;
  static json* recorded_;
};
TempDir* AlgoliaTest::tmp_ = nullptr;
std::string AlgoliaTest::db_;
TestServer* AlgoliaTest::server_ = nullptr;
json* AlgoliaTest::recorded_ = nullptr;

// Fields whose value may be null where the recording happened to have one:
// data we lack (points of an imported comment, an unknown user's id), and a
// comment's title and url, which hn.algolia.com sends as null for most
// comments and as "" for some (both occur in the recording).
const std::set<std::string> kMayBeNull = {"points", "num_comments", "id",
                                          "story_title", "story_url",
                                          "title", "url"};

// Same key set, and each value of the same JSON type (or null for fields
// whose value we may not know).
void ExpectSameShape(const json& ours, const json& theirs,
                     const std::string& where) {
  std::set<std::string> a, b;
  for (auto it = ours.begin(); it != ours.end(); ++it) a.insert(it.key());
  for (auto it = theirs.begin(); it != theirs.end(); ++it) b.insert(it.key());
  EXPECT_EQ(a, b) << where;
  for (auto it = theirs.begin(); it != theirs.end(); ++it) {
    if (!ours.contains(it.key())) continue;
    const json& v = ours[it.key()];
    if (v.is_null() && kMayBeNull.count(it.key())) continue;
    bool same = v.type() == it.value().type() ||
                (v.is_number() && it.value().is_number() &&
                 v.is_number_float() == it.value().is_number_float());
    EXPECT_TRUE(same) << where << "." << it.key() << ": ours " << v.dump()
                      << " theirs " << it.value().dump();
  }
}

// An HN or Reddit item of the corpus slice as its raw file gives it.
struct RawItem {
  std::string author, type;
  std::string story;  // the story of the jobs thread's items, else ""
  // Where the file gives them: points, comment count, Unix seconds.
  std::optional<int64_t> points, comments, time;
};

// The HN and Reddit items of the JSON files of the corpus slice, read here
// rather than through the indexer, by id (Reddit ids prefixed "reddit:").
// Deleted and dead items, which are not searchable, are left out.
std::map<std::string, RawItem> RawItems() {
  std::map<std::string, RawItem> items;
  // A number (some files give strings), if `j` holds one at `key`.
  auto number = [](const json& j, const char* key) -> std::optional<int64_t> {
    if (!j.contains(key) || j[key].is_null()) return std::nullopt;
    if (j[key].is_string()) return std::stoll(j[key].get<std::string>());
    return j[key].get<int64_t>();
  };
  auto add = [&](const json& id, const json& author, const json& type,
                 const json& j, const char* points, const char* comments,
                 const char* time, const std::string& story = "") {
    if (!author.is_string()) return;  // deleted: no author
    RawItem& item = items[id.is_string() ? id.get<std::string>() : id.dump()];
    item.author = author;
    item.type = type;
    item.story = story;
    item.points = number(j, points);
    item.comments = number(j, comments);
    item.time = number(j, time);
  };
  auto lines = [](const std::string& path) {
    std::vector<json> out;
    std::istringstream in(ReadFileOrDie(path));
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) out.push_back(json::parse(line));
    }
    return out;
  };
  const std::string c = TS_CORPUS;
  const json jobs = json::parse(
      ReadFileOrDie(c + "/hn/ntdunglc-hackernews_jobs/hn_comments.json"));
  std::vector<json> nodes = {jobs["post"]};
  nodes.insert(nodes.end(), jobs["comments"].begin(), jobs["comments"].end());
  for (const json& x : nodes) {
    if (x.value("deleted", false) || x.value("dead", false)) continue;
    add(x["id"], x.value("by", json()), x["type"], x, "score", "descendants",
        "time", jobs["post"]["id"].dump());
  }
  for (const json& r :
       lines(c + "/hn/typesense-showcase-hn-comments-semantic-search/"
                 "hn-comments-1000-sample.jsonl")) {
    add(r["id"], r.value("by", json()), "comment", r, "", "", "time");
  }
  std::function<void(const json&)> walk = [&](const json& n) {
    add(n["id"], n.value("author", json()), n["type"], n, "points", "",
        "created_at_i");
    for (const char* k : {"children", "options"}) {
      for (const json& kid : n.value(k, json::array())) walk(kid);
    }
  };
  for (const json& e : json::parse(
           ReadFileOrDie(c + "/hn/algolia-api-responses/responses.json"))) {
    const json& r = e["reply"];
    for (const json& h : r.value("hits", json::array())) {
      add(h["objectID"], h["author"], h["_tags"][0], h, "points",
          "num_comments", "created_at_i");
    }
    if (r.contains("children")) walk(r);
  }
  for (const json& r :
       lines(c + "/reddit/Paul-E-Pushshift-Importer/test_comments.json")) {
    add("reddit:" + r["id"].get<std::string>(), r["author"], "comment", r,
        "score", "", "created_utc");
  }
  return items;
}

// How many raw items `pred` holds for.
size_t RawCount(const std::map<std::string, RawItem>& raw,
                const std::function<bool(const RawItem&)>& pred) {
  size_t n = 0;
  for (const auto& [id, item] : raw) n += pred(item);
  return n;
}

// The objectIDs of a page's hits, in order.
std::vector<std::string> HitIds(const json& page) {
  std::vector<std::string> out;
  for (const json& h : page["hits"]) out.push_back(h["objectID"]);
  return out;
}

// The objectIDs of a page.
std::set<std::string> Ids(const json& page) {
  const std::vector<std::string> ids = HitIds(page);
  return {ids.begin(), ids.end()};
}

TEST_F(AlgoliaTest, SearchResponsesMatchTheRecordedShape) {
  int compared_hits = 0;
  for (const json& e : *recorded_) {
    std::string url = e["url"];
    if (url.find("/search") == std::string::npos) continue;
    Reply r = Fetch(url);
    ASSERT_EQ(r.status, 200) << url << ": " << r.body;
    json ours = r.json();
    const json& theirs = e["reply"];
    // The page object: the same fields (plus exhaustiveNbHits, which the
    // HN API documents), of the same types.
    json page_ours = ours, page_theirs = theirs;
    page_ours.erase("hits");
    page_ours.erase("exhaustiveNbHits");
    page_theirs.erase("hits");
    ExpectSameShape(page_ours, page_theirs, url);
    EXPECT_TRUE(ours["exhaustiveNbHits"].is_boolean());
    EXPECT_EQ(ours["query"], theirs["query"]) << url;
    EXPECT_EQ(ours["params"], theirs["params"]) << url;
    EXPECT_EQ(ours["hitsPerPage"], theirs["hitsPerPage"]) << url;
    EXPECT_EQ(ours["page"], theirs["page"]) << url;
    if (ours["hits"].empty() || theirs["hits"].empty()) continue;
    const json& h = ours["hits"][0];
    const json& t = theirs["hits"][0];
    ExpectSameShape(h, t, url + " hit");
    // A comment's highlights are author, comment_text, story_title,
    // story_url; the "" variant above adds title and url.
    for (auto it = h["_highlightResult"].begin();
         it != h["_highlightResult"].end(); ++it) {
      EXPECT_TRUE(t["_highlightResult"].contains(it.key())) << it.key();
    }
    for (auto it = t["_highlightResult"].begin();
         it != t["_highlightResult"].end(); ++it) {
      bool optional = (it.key() == "title" || it.key() == "url") &&
                      t[it.key()] == "";
      EXPECT_TRUE(optional || h["_highlightResult"].contains(it.key()))
          << url << " _highlightResult." << it.key();
    }
    for (auto it = h["_highlightResult"].begin();
         it != h["_highlightResult"].end(); ++it) {
      ExpectSameShape(it.value(), t["_highlightResult"].begin().value(),
                      url + " _highlightResult." + it.key());
    }
    EXPECT_EQ(h["_tags"][0], t["_tags"][0]) << url;
    ++compared_hits;
  }
  EXPECT_GE(compared_hits, 10);
}

// A poll's tree lists its options under "options" and its comments under
// "children", the shape the Algolia reader takes back: indexing the served
// tree again gives the same thread.
TEST(AlgoliaPollTest, PollOptionsAreListedApartFromComments) {
  TempDir tmp;
  WriteFileOrDie(
      tmp.Sub("poll.jsonl"),
      "{\"id\": 10, \"type\": \"poll\", \"by\": \"pg\", \"time\": 100, "
      "\"title\": \"Which?\", \"parts\": [11, 12], \"kids\": [13]}\n"
      "{\"id\": 11, \"type\": \"pollopt\", \"by\": \"pg\", \"time\": 100, "
      "\"poll\": 10, \"text\": \"Yes\", \"score\": 7}\n"
      "{\"id\": 12, \"type\": \"pollopt\", \"by\": \"pg\", \"time\": 101, "
      "\"poll\": 10, \"text\": \"No\", \"score\": 3}\n"
      "{\"id\": 13, \"type\": \"comment\", \"by\": \"sama\", \"time\": 102, "
      "\"parent\": 10, \"text\": \"Yes, clearly\"}\n");
  ASSERT_TRUE(IndexInto(tmp.Sub("db"), {tmp.Sub("poll.jsonl")}));
  json tree;
  {
    TestServer server(tmp.Sub("db"));
    Reply r = Get(server, "/api/v1/items/10");
    ASSERT_EQ(r.status, 200) << r.body;
    tree = r.json();
  }
  EXPECT_EQ(tree["type"], "poll");
  ASSERT_EQ(tree["options"].size(), 2u);
  EXPECT_EQ(tree["options"][0]["id"], 11);
  EXPECT_EQ(tree["options"][0]["type"], "pollopt");
  EXPECT_EQ(tree["options"][0]["points"], 7);
  EXPECT_EQ(tree["options"][1]["id"], 12);
  ASSERT_EQ(tree["children"].size(), 1u);
  EXPECT_EQ(tree["children"][0]["id"], 13);
  // Read back, the served tree is the same thread.
  WriteFileOrDie(tmp.Sub("tree.json"), tree.dump());
  ASSERT_TRUE(IndexInto(tmp.Sub("again"), {tmp.Sub("tree.json")}));
  TestServer again(tmp.Sub("again"));
  Reply r = Get(again, "/api/v1/items/10");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json(), tree);
}

TEST_F(AlgoliaTest, ItemMatchesTheRecordedShape) {
  json theirs = Recorded("/api/v1/items/17");
  Reply r = Fetch("/api/v1/items/17");
  ASSERT_EQ(r.status, 200) << r.body;
  json ours = r.json();
  ExpectSameShape(ours, theirs, "item 17");
  EXPECT_EQ(ours["id"], 17);
  EXPECT_EQ(ours["story_id"], theirs["story_id"]);
  EXPECT_EQ(ours["parent_id"], theirs["parent_id"]);
  ASSERT_EQ(ours["children"].size(), theirs["children"].size());
  for (size_t i = 0; i < ours["children"].size(); ++i) {
    ExpectSameShape(ours["children"][i], theirs["children"][i], "child");
    EXPECT_EQ(ours["children"][i]["id"], theirs["children"][i]["id"]);
  }
  // A story node carries title and url too.
  json story = Fetch("/api/v1/items/3078128").json();
  EXPECT_EQ(story["type"], "story");
  EXPECT_TRUE(story.contains("title"));
  EXPECT_TRUE(story.contains("url"));
  EXPECT_TRUE(story["children"].is_array());
  // A parent only its replies name (the BigQuery sample's comment 33223750
  // answers 33220665, which no file holds) is no item of ours.
  ASSERT_EQ(Fetch("/api/v1/items/33223750").status, 200);
  r = Fetch("/api/v1/items/33220665");
  EXPECT_EQ(r.status, 404) << r.body;
}

TEST_F(AlgoliaTest, UserMatchesTheRecordedShape) {
  json theirs = Recorded("/api/v1/users/pg");
  Reply r = Fetch("/api/v1/users/pg");
  ASSERT_EQ(r.status, 200) << r.body;
  json ours = r.json();
  ExpectSameShape(ours, theirs, "user pg");
  EXPECT_EQ(ours["username"], "pg");
  EXPECT_GE(ours["submission_count"].get<int>(), 1);
  EXPECT_GE(ours["comment_count"].get<int>(), 1);
}

TEST_F(AlgoliaTest, HighlightsUseEmAndMatchLevels) {
  json j = Fetch("/api/v1/search?query=apple&tags=story&hitsPerPage=5").json();
  ASSERT_GE(j["hits"].size(), 1u) << j.dump();
  bool full = false;
  for (const json& h : j["hits"]) {
    const json& title = h["_highlightResult"]["title"];
    if (title["matchLevel"] == "full") {
      full = true;
      EXPECT_NE(title["value"].get<std::string>().find("<em>"),
                std::string::npos);
      EXPECT_EQ(title["matchedWords"], json::array({"apple"}));
    }
    EXPECT_EQ(h["_highlightResult"]["title"]["value"]
                  .get<std::string>()
                  .find("<mark>"),
              std::string::npos);
  }
  EXPECT_TRUE(full);
  // By date too (the recording of search_by_date?tags=(story)&query=apple
  // highlights titles): the title's words add no weight there.
  j = Fetch("/api/v1/search_by_date?query=apple&tags=story&hitsPerPage=50")
          .json();
  ASSERT_GE(j["hits"].size(), 1u);
  size_t titled = 0;
  for (const json& h : j["hits"]) {
    const json& title = h["_highlightResult"]["title"];
    static const std::regex kWord("\\bapple\\b", std::regex::icase);
    if (!std::regex_search(h["title"].get<std::string>(), kWord)) continue;
    ++titled;
    EXPECT_EQ(title["matchLevel"], "full") << h["title"];
    EXPECT_NE(title["value"].get<std::string>().find("<em>"),
              std::string::npos);
  }
  EXPECT_GE(titled, 1u);
}

// A hit's text highlight is its text as served (HTML: paragraphs, links,
// character references) with the matches in <em>, as hn.algolia.com
// serves it; the story's title and URL are highlighted too. Checked
// against every recorded hit of a query: value for value.
TEST_F(AlgoliaTest, HighlightsKeepTheTextsMarkup) {
  int compared = 0;
  for (const json& e : *recorded_) {
    const std::string url = e["url"];
    if (url.find("query=") == std::string::npos) continue;
    for (const json& theirs : e["reply"]["hits"]) {
      const std::string id = theirs["objectID"];
      // The same item in our answer to the same query, all of it.
      json ours;
      for (int page = 0; page < 100 && ours.is_null(); ++page) {
        std::string q = std::regex_replace(
            url, std::regex("hitsPerPage=1&"), "hitsPerPage=1000&");
        q = std::regex_replace(q, std::regex("&page=\\d+"), "");
        json j = Fetch(q + "&page=" + std::to_string(page)).json();
        if (j["hits"].empty()) break;
        for (const json& h : j["hits"]) {
          if (h["objectID"] == id) ours = h;
        }
      }
      // Not found: matched through a typo ("appla|uded" for "apple"),
      // which we do not do.
      if (ours.is_null()) continue;
      for (const char* field :
           {"comment_text", "story_text", "story_title", "story_url"}) {
        if (!theirs["_highlightResult"].contains(field)) continue;
        // A story the corpus lacks (only its comment's fields name it).
        if (std::string(field).starts_with("story_") &&
            ours[field] != theirs[field]) {
          continue;
        }
        const json& t = theirs["_highlightResult"][field];
        const json& o = ours["_highlightResult"][field];
        EXPECT_EQ(o["value"], t["value"]) << url << " " << id << " " << field;
        EXPECT_EQ(o["matchLevel"], t["matchLevel"]) << url << " " << field;
        ++compared;
      }
    }
  }
  EXPECT_GE(compared, 3);
  // Every hit: the highlight, less its <em> tags, is the text served.
  json j =
      Fetch("/api/v1/search?query=apple&tags=comment&hitsPerPage=200").json();
  ASSERT_GE(j["hits"].size(), 2u);
  for (const json& h : j["hits"]) {
    std::string v = h["_highlightResult"]["comment_text"]["value"];
    EXPECT_NE(v.find("<em>"), std::string::npos) << h["objectID"];
    v = std::regex_replace(v, std::regex("</?em>"), "");
    EXPECT_EQ(v, h["comment_text"]) << h["objectID"];
  }
}

TEST_F(AlgoliaTest, SortOrders) {
  json j = Fetch("/api/v1/search_by_date?hitsPerPage=50").json();
  ASSERT_EQ(j["hits"].size(), 50u);
  for (size_t i = 1; i < j["hits"].size(); ++i) {
    EXPECT_GE(j["hits"][i - 1]["created_at_i"], j["hits"][i]["created_at_i"]);
  }
  // No query: most points first.
  j = Fetch("/api/v1/search?tags=story&hitsPerPage=5").json();
  ASSERT_GE(j["hits"].size(), 2u);
  EXPECT_GE(j["hits"][0]["points"], j["hits"][1]["points"]);
}

TEST_F(AlgoliaTest, TagsAndNumericFiltersFilter) {
  json j = Fetch("/api/v1/search?tags=comment,author_pg&hitsPerPage=100").json();
  ASSERT_GE(j["hits"].size(), 1u);
  for (const json& h : j["hits"]) {
    EXPECT_EQ(h["author"], "pg");
    EXPECT_EQ(h["_tags"][0], "comment");
  }
  j = Fetch("/api/v1/search?tags=comment,story_42133844&hitsPerPage=100").json();
  ASSERT_GE(j["hits"].size(), 2u);
  for (const json& h : j["hits"]) EXPECT_EQ(h["story_id"], 42133844);
  j = Fetch("/api/v1/search?tags=(story,poll)&hitsPerPage=100").json();
  ASSERT_GE(j["hits"].size(), 2u);
  for (const json& h : j["hits"]) {
    std::string t = h["_tags"][0];
    EXPECT_TRUE(t == "story" || t == "poll") << t;
  }
  j = Fetch("/api/v1/search?tags=ask_hn&hitsPerPage=100").json();
  for (const json& h : j["hits"]) {
    EXPECT_NE(std::find(h["_tags"].begin(), h["_tags"].end(), "ask_hn"),
              h["_tags"].end());
  }
  j = Fetch("/api/v1/search?numericFilters=points%3E%3D100&hitsPerPage=100")
          .json();
  ASSERT_GE(j["hits"].size(), 1u);
  EXPECT_EQ(j["nbHits"], j["hits"].size());
  for (const json& h : j["hits"]) EXPECT_GE(h["points"].get<int>(), 100);
  // num_comments filters in the index too: every hit carries the count, and
  // the complement query covers the rest of the stories that have one.
  j = Fetch("/api/v1/search?tags=story&numericFilters=num_comments%3E%3D50&"
            "hitsPerPage=1000")
          .json();
  ASSERT_GE(j["hits"].size(), 1u);
  EXPECT_TRUE(j["exhaustiveNbHits"].get<bool>());
  for (const json& h : j["hits"]) EXPECT_GE(h["num_comments"].get<int>(), 50);
  json rest = Fetch("/api/v1/search?tags=story&numericFilters=num_comments%3C50&"
                    "hitsPerPage=1000")
                  .json();
  json all = Fetch("/api/v1/search?tags=story&hitsPerPage=1000").json();
  size_t with_count = 0;
  for (const json& h : all["hits"]) with_count += h["num_comments"].is_number();
  EXPECT_EQ(j["nbHits"].get<size_t>() + rest["nbHits"].get<size_t>(),
            with_count);
  j = Fetch("/api/v1/search_by_date?numericFilters=created_at_i%3E1400000000,"
            "created_at_i%3C1403235346&hitsPerPage=100")
          .json();
  ASSERT_GE(j["hits"].size(), 1u);
  for (const json& h : j["hits"]) {
    EXPECT_GT(h["created_at_i"].get<int64_t>(), 1400000000);
    EXPECT_LT(h["created_at_i"].get<int64_t>(), 1403235346);
  }
  j = Fetch("/api/v1/search?tags=front_page").json();
  EXPECT_EQ(j["nbHits"], 0);
  EXPECT_EQ(Fetch("/api/v1/search?tags=((x)").json()["param"], "tags");
  EXPECT_EQ(Fetch("/api/v1/search?numericFilters=karma%3E1").json()["param"],
            "numericFilters");
  EXPECT_EQ(Fetch("/api/v1/search?hitsPerPage=x").json()["param"],
            "hitsPerPage");
}

// What real clients send: unencoded operators, fractions, page sizes of 0
// or over 1000, tags for stories the index lacks, free text that is not
// query syntax.
TEST_F(AlgoliaTest, ClientsRequestsAsTheySendThem) {
  const json encoded =
      Fetch("/api/v1/search?tags=story&numericFilters=points%3E%3D10").json();
  ASSERT_GE(encoded["nbHits"].get<int>(), 1);
  // `>=` unencoded: the value is everything after the first '='.
  Reply r = Fetch("/api/v1/search?tags=story&numericFilters=points>=10");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["nbHits"], encoded["nbHits"]);
  // A fraction bounds the whole values inside it.
  r = Fetch("/api/v1/search?tags=story&numericFilters=points>9.5");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["nbHits"], encoded["nbHits"]);
  // hitsPerPage=0: the count alone; over 1000: 1000 a page.
  r = Fetch("/api/v1/search?tags=story&numericFilters=points>=10&hitsPerPage=0");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["nbHits"], encoded["nbHits"]);
  EXPECT_EQ(r.json()["hits"].size(), 0u);
  EXPECT_EQ(r.json()["hitsPerPage"], 0);
  r = Fetch("/api/v1/search_by_date?hitsPerPage=5000");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["hitsPerPage"], 1000);
  EXPECT_EQ(r.json()["hits"].size(), 1000u);
  // A story the index does not hold has no comments here (it used to
  // select the whole index), with or without words.
  for (const char* url :
       {"/api/v1/search?tags=comment,story_99999999",
        "/api/v1/search?tags=story_99999999",
        "/api/v1/search?query=the&tags=comment,story_99999999",
        "/api/v1/search_by_date?tags=(story_99999999,story_99999998)"}) {
    r = Fetch(url);
    ASSERT_EQ(r.status, 200) << url << r.body;
    EXPECT_EQ(r.json()["nbHits"], 0) << url;
  }
  // Text the query language rejects is searched as words, within the tags.
  const json words =
      Fetch("/api/v1/search?query=regression+model&tags=comment").json();
  r = Fetch("/api/v1/search?query=regression:model&tags=comment");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["nbHits"], words["nbHits"]);
  const json fallback = r.json();
  for (const json& h : fallback["hits"]) EXPECT_EQ(h["_tags"][0], "comment");
  // Operators with nothing to apply to are words then.
  EXPECT_EQ(Fetch("/api/v1/search?query=model+OR").status, 200);
  EXPECT_EQ(Fetch("/api/v1/search?query=why%20NOT").status, 200);
  EXPECT_EQ(Fetch("/api/v1/search?query=AND").status, 200);
  // A page's discussions: the link's words in the story's URL.
  r = Fetch("/api/v1/search?query=http%3A%2F%2Fwww.apple.com%2Fstevejobs%2F"
            "&restrictSearchableAttributes=url&tags=story");
  ASSERT_EQ(r.status, 200) << r.body;
  const json by_link = r.json();
  ASSERT_GE(by_link["hits"].size(), 1u) << r.body;
  for (const json& h : by_link["hits"]) {
    EXPECT_NE(h["url"].get<std::string>().find("apple.com/stevejobs"),
              std::string::npos);
  }
  const json site = Fetch("/api/v1/search?query=site%3Aapple.com").json();
  ASSERT_GE(site["hits"].size(), by_link["hits"].size());
  for (const json& h : site["hits"]) {
    EXPECT_NE(h["url"].get<std::string>().find("apple.com"),
              std::string::npos);
  }
  EXPECT_EQ(Fetch("/api/v1/search?query=%2F%2F&restrictSearchableAttributes=url")
                .json()["nbHits"],
            0);
  // Filters we do not implement are refused, not ignored.
  r = Fetch("/api/v1/search?optionalFilters=author%3Apg");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json()["param"], "optionalFilters");
  // Shaped as hn.algolia.com's errors too.
  EXPECT_EQ(r.json()["status"], 400);
  EXPECT_EQ(r.json()["message"], r.json()["error"]);
  EXPECT_EQ(Fetch("/api/v1/items/nosuch").json()["status"], 404);
  EXPECT_EQ(Fetch("/api/v1/search/?query=model").json()["nbHits"],
            Fetch("/api/v1/search?query=model").json()["nbHits"]);
  EXPECT_EQ(Fetch("/api/v1/search_by_date/?query=model").status, 200);
  EXPECT_EQ(Fetch("/api/v1/search?tagFilters=show_hn").json()["nbHits"],
            Fetch("/api/v1/search?tags=show_hn").json()["nbHits"]);
  EXPECT_EQ(Fetch("/api/v1/search?query=x&filters=").status, 200);
}

// Algolia's `filters`, as hnrss sends them for replies to an item and for
// a list of items.
TEST_F(AlgoliaTest, FiltersSelect) {
  json j = Fetch("/api/v1/search_by_date?tags=comment&"
                 "filters=parent_id%3D42133844%20OR%20parent_id%3D42134046&"
                 "hitsPerPage=100")
               .json();
  ASSERT_GE(j["nbHits"].get<int>(), 2) << j.dump().substr(0, 300);
  for (const json& h : j["hits"]) {
    EXPECT_TRUE(h["parent_id"] == 42133844 || h["parent_id"] == 42134046)
        << h["objectID"];
  }
  // Direct replies only: the thread has items deeper down.
  const json thread =
      Fetch("/api/v1/search?tags=comment,story_42133844&hitsPerPage=100")
          .json();
  EXPECT_LT(j["nbHits"].get<int>(), thread["nbHits"].get<int>());
  j = Fetch("/api/v1/search?filters=objectID%3A%226651926%22%20OR%20"
            "objectID%3A%2242134046%22")
          .json();
  std::set<std::string> ids;
  for (const json& h : j["hits"]) ids.insert(h["objectID"]);
  EXPECT_EQ(ids, (std::set<std::string>{"6651926", "42134046"}));
  j = Fetch("/api/v1/search?filters=_tags%3Astory%20AND%20points%3E100&"
            "hitsPerPage=100")
          .json();
  ASSERT_GE(j["hits"].size(), 1u);
  for (const json& h : j["hits"]) {
    EXPECT_EQ(h["_tags"][0], "story");
    EXPECT_GT(h["points"].get<int>(), 100);
  }
  EXPECT_EQ(
      Fetch("/api/v1/search?filters=_tags%3Astory%20AND%20points%3E100")
          .json()["nbHits"],
      Fetch("/api/v1/search?tags=story&numericFilters=points%3E100")
          .json()["nbHits"]);
  EXPECT_EQ(Fetch("/api/v1/search?filters=_tags%3Afront_page").json()["nbHits"],
            0);
  Reply r = Fetch("/api/v1/search?filters=karma%3E1");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json()["param"], "filters");
}

// tagFilters is tags under Algolia's name: the same hits as the same tags,
// in the string form and the JSON form, and as many items by author and
// type as the raw files hold; "-tag" excludes a tag.
TEST_F(AlgoliaTest, TagFiltersSelectAsTagsDo) {
  const std::map<std::string, RawItem> raw = RawItems();
  // Every hit of `path` (at most 1000), checked to be all of them.
  auto all = [](const std::string& path) {
    const json j = Fetch(path + "&hitsPerPage=1000").json();
    EXPECT_EQ(j["hits"].size(), j["nbHits"].get<size_t>()) << path << j;
    return j;
  };
  for (const std::string a :
       {"pg", "remram", "pixl97", "CharlesW", "whoishiring"}) {
    const size_t want =
        RawCount(raw, [&](const RawItem& i) { return i.author == a; });
    ASSERT_GT(want, 0u) << a;
    const json j = all("/api/v1/search?tagFilters=author_" + a);
    EXPECT_EQ(j["nbHits"], want) << a;
    EXPECT_EQ(Ids(j), Ids(all("/api/v1/search?tags=author_" + a))) << a;
  }
  auto is = [](const RawItem& i, std::set<std::string> types,
               std::set<std::string> authors) {
    return (types.empty() || types.count(i.type)) &&
           (authors.empty() || authors.count(i.author));
  };
  struct Case {
    std::string tag_filters;  // URL-encoded here
    std::string same_as;      // an equivalent request's parameters
    std::function<bool(const RawItem&)> raw;
  };
  const Case cases[] = {
      {"story,(author_pg,author_whoishiring)",
       "tags=story,(author_pg,author_whoishiring)",
       [&](const RawItem& i) {
         return is(i, {"story"}, {"pg", "whoishiring"});
       }},
      {UrlEncode(R"(["story",["author_pg","author_whoishiring"]])"),
       "tags=story,(author_pg,author_whoishiring)",
       [&](const RawItem& i) {
         return is(i, {"story"}, {"pg", "whoishiring"});
       }},
      {UrlEncode(R"([["story","poll"]])"), "tags=(story,poll)",
       [&](const RawItem& i) {
         return is(i, {"story", "poll"}, {});
       }},
      {"author_pg,-comment",
       "filters=" + UrlEncode("author:pg AND NOT _tags:comment"),
       [&](const RawItem& i) {
         return is(i, {}, {"pg"}) && i.type != "comment";
       }},
      {UrlEncode(R"([["story","poll"],"-author_pg"])"),
       "filters=" + UrlEncode("(_tags:story OR _tags:poll) AND NOT author:pg"),
       [&](const RawItem& i) {
         return is(i, {"story", "poll"}, {}) && i.author != "pg";
       }},
      {UrlEncode(R"([["-comment","author_pg"],"author_pg"])"), "tags=author_pg",
       [&](const RawItem& i) { return i.author == "pg"; }},
  };
  for (const Case& c : cases) {
    const json j = all("/api/v1/search?tagFilters=" + c.tag_filters);
    const size_t want = RawCount(raw, c.raw);
    ASSERT_GT(want, 0u) << c.tag_filters;
    EXPECT_EQ(j["nbHits"], want) << c.tag_filters;
    EXPECT_EQ(Ids(j), Ids(all("/api/v1/search?" + c.same_as))) << c.tag_filters;
  }
  // tags and tagFilters both apply.
  EXPECT_EQ(all("/api/v1/search?tags=story&tagFilters=author_pg")["nbHits"],
            RawCount(raw, [&](const RawItem& i) {
              return is(i, {"story"}, {"pg"});
            }));
  // The jobs thread less its comments is its story.
  EXPECT_EQ(Ids(all("/api/v1/search?tagFilters=story_40846428,-comment")),
            std::set<std::string>{"40846428"});
  EXPECT_EQ(Ids(all("/api/v1/search?tagFilters=" +
                    UrlEncode(R"(["story_40846428",["-comment"]])"))),
            std::set<std::string>{"40846428"});
  // Excluding a tag nothing has excludes nothing.
  EXPECT_EQ(Fetch("/api/v1/search?tagFilters=-front_page&hitsPerPage=0")
                .json()["nbHits"],
            Fetch("/api/v1/search?hitsPerPage=0").json()["nbHits"]);
  // Malformed values: a 400 naming tagFilters and what is wrong.
  const std::pair<std::string, std::string> bad[] = {
      {"(story", "unbalanced parentheses"},
      {UrlEncode("[1]"), "not 1"},
      {UrlEncode(R"([["story",["poll"]]])"), "strings only"},
      {"-", "\"-\" without a tag"},
      {"author_", "bad author"},
  };
  for (const auto& [value, what] : bad) {
    const Reply r = Fetch("/api/v1/search?tagFilters=" + value);
    EXPECT_EQ(r.status, 400) << value;
    EXPECT_EQ(r.json()["param"], "tagFilters") << value;
    const std::string error = r.json()["error"];
    EXPECT_TRUE(error.starts_with("tagFilters: ")) << error;
    EXPECT_NE(error.find(what), std::string::npos) << error;
  }
}

// facetFilters over author, _tags, story_id and parent_id: the hits of the
// equivalent tags= or filters= request, as many as the raw files hold.
// An author blocklist: every excluded tag is a clause of its own, and a
// hundred of them (more than the query language nests) still select what
// the raw files say, with the words of the query too.
TEST_F(AlgoliaTest, ManyExcludedTagsAreOneFlatAnd) {
  const std::map<std::string, RawItem> raw = RawItems();
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  std::set<std::string> blocked;  // lower-cased, as tags compare
  for (const auto& [id, i] : raw) {
    if (blocked.size() >= 100 || i.type != "comment" || i.author.empty() ||
        i.author.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
            std::string::npos) {
      continue;
    }
    blocked.insert(lower(i.author));
  }
  ASSERT_EQ(blocked.size(), 100u);
  std::string tags = "comment";
  for (const std::string& a : blocked) tags += ",-author_" + a;
  const size_t want = RawCount(raw, [&](const RawItem& i) {
    return i.type == "comment" && !blocked.count(lower(i.author));
  });
  ASSERT_GT(want, 0u);
  const Reply r = Fetch("/api/v1/search?hitsPerPage=0&tags=" + tags);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["nbHits"], want);
  const Reply f =
      Fetch("/api/v1/search?hitsPerPage=0&tagFilters=" + UrlEncode(tags));
  ASSERT_EQ(f.status, 200) << f.body;
  EXPECT_EQ(f.json()["nbHits"], want);
  // With words: the text and the hundred clauses.
  const Reply w =
      Fetch("/api/v1/search?hitsPerPage=0&query=the&tags=" + tags);
  ASSERT_EQ(w.status, 200) << w.body;
  EXPECT_GT(w.json()["nbHits"].get<size_t>(), 0u);
  EXPECT_LT(w.json()["nbHits"].get<size_t>(), want);
}

TEST_F(AlgoliaTest, FacetFiltersSelectAsTagsAndFiltersDo) {
  const std::map<std::string, RawItem> raw = RawItems();
  auto all = [](const std::string& path) {
    const json j = Fetch(path + "&hitsPerPage=1000").json();
    EXPECT_EQ(j["hits"].size(), j["nbHits"].get<size_t>()) << path << j;
    return j;
  };
  auto count = [](const std::string& path) {
    return Fetch(path + "&hitsPerPage=0").json()["nbHits"].get<size_t>();
  };
  const std::string jobs = "40846428";  // the jobs thread's story
  struct Case {
    std::string facet_filters;  // URL-encoded here
    std::string same_as;        // an equivalent request's parameters
    std::function<bool(const RawItem&)> raw;
  };
  const Case cases[] = {
      {"author:pg", "tags=author_pg",
       [](const RawItem& i) { return i.author == "pg"; }},
      {"author:remram", "tags=author_remram",
       [](const RawItem& i) { return i.author == "remram"; }},
      {UrlEncode(R"(["author:pg","_tags:story"])"), "tags=story,author_pg",
       [](const RawItem& i) { return i.author == "pg" && i.type == "story"; }},
      {UrlEncode(R"([["author:pg","author:whoishiring"],"_tags:story"])"),
       "tags=story,(author_pg,author_whoishiring)",
       [](const RawItem& i) {
         return (i.author == "pg" || i.author == "whoishiring") &&
                i.type == "story";
       }},
      {"(author:pg,author:whoishiring),_tags:story",
       "tags=story,(author_pg,author_whoishiring)",
       [](const RawItem& i) {
         return (i.author == "pg" || i.author == "whoishiring") &&
                i.type == "story";
       }},
      // story_id is null on the story itself; its _tags name it.
      {"story_id:" + jobs, "filters=story_id%3D" + jobs,
       [&](const RawItem& i) { return i.story == jobs && i.type != "story"; }},
      {"story_id:" + jobs, "tags=comment,story_" + jobs,
       [&](const RawItem& i) { return i.story == jobs && i.type != "story"; }},
      {"_tags:story_" + jobs, "tags=story_" + jobs,
       [&](const RawItem& i) { return i.story == jobs; }},
      {UrlEncode(R"(["story_id:40846428","author:-cube2222"])"),
       "filters=" + UrlEncode("story_id=40846428 AND NOT author:cube2222"),
       [&](const RawItem& i) {
         return i.story == jobs && i.type != "story" && i.author != "cube2222";
       }},
      {UrlEncode(R"([["_tags:story","_tags:poll"],"-author:pg"])"),
       "filters=" + UrlEncode("(_tags:story OR _tags:poll) AND NOT author:pg"),
       [](const RawItem& i) {
         return (i.type == "story" || i.type == "poll") && i.author != "pg";
       }},
  };
  for (const Case& c : cases) {
    const json j = all("/api/v1/search?facetFilters=" + c.facet_filters);
    const size_t want = RawCount(raw, c.raw);
    ASSERT_GT(want, 0u) << c.facet_filters;
    EXPECT_EQ(j["nbHits"], want) << c.facet_filters;
    EXPECT_EQ(Ids(j), Ids(all("/api/v1/search?" + c.same_as)))
        << c.facet_filters;
  }
  // The jobs thread: its story and every live comment of the raw file.
  EXPECT_EQ(
      count("/api/v1/search?facetFilters=story_id:" + jobs),
      RawCount(raw, [&](const RawItem& i) { return i.story == jobs; }) - 1);
  // Exclusions over the whole index, in both spellings.
  const size_t everything = count("/api/v1/search?query=");
  const size_t by_pg =
      RawCount(raw, [](const RawItem& i) { return i.author == "pg"; });
  for (const char* f : {"author:-pg", "-author:pg"}) {
    EXPECT_EQ(count(std::string("/api/v1/search?facetFilters=") + f),
              everything - by_pg)
        << f;
  }
  EXPECT_EQ(Ids(all("/api/v1/search_by_date?facetFilters=_tags:-comment,"
                    "_tags:-message")),
            Ids(all("/api/v1/search_by_date?filters=" +
                    UrlEncode("NOT _tags:comment AND NOT _tags:message"))));
  // Direct replies, as hnrss asks with filters=parent_id=.
  const json replies =
      all("/api/v1/search?facetFilters=(parent_id:42133844,"
          "parent_id:42134046)");
  ASSERT_GE(replies["nbHits"].get<int>(), 2);
  EXPECT_EQ(Ids(replies),
            Ids(all("/api/v1/search?filters=" +
                    UrlEncode("parent_id=42133844 OR parent_id=42134046"))));
  // With a query and tags too: all of them apply.
  EXPECT_EQ(Ids(all("/api/v1/search?query=apple&tags=comment&"
                    "facetFilters=author:-pg")),
            Ids(all("/api/v1/search?query=apple&tags=comment&filters=" +
                    UrlEncode("NOT author:pg"))));
  EXPECT_EQ(count("/api/v1/search?facetFilters=_tags:front_page"), 0u);
  // Malformed values: a 400 naming facetFilters and what is wrong.
  const std::pair<std::string, std::string> bad[] = {
      {"author", "\"author\": expected FACET:VALUE"},
      {"karma:1", "unknown attribute \"karma\""},
      {"author:a%20b", "\"author:a b\": expected author:VALUE"},
      {"points:many", "expected a number"},
      {"-author:-pg", "excluded twice"},
      {UrlEncode(R"(["author:pg",[1]])"), "strings only"},
      {UrlEncode(R"(["author:pg")"), "malformed JSON"},
      {"(author:pg", "unbalanced parentheses"},
  };
  for (const auto& [value, what] : bad) {
    const Reply r = Fetch("/api/v1/search?facetFilters=" + value);
    EXPECT_EQ(r.status, 400) << value;
    EXPECT_EQ(r.json()["param"], "facetFilters") << value;
    const std::string error = r.json()["error"];
    EXPECT_TRUE(error.starts_with("facetFilters: ")) << error;
    EXPECT_NE(error.find(what), std::string::npos) << error;
  }
}

// numericFilters with OR groups (both list forms) and !=: the stories and
// polls the raw files' numbers select, the hits of the equivalent filters=,
// and over the whole index what the served numbers select.
TEST_F(AlgoliaTest, NumericFiltersTakeOrGroupsAndNotEqual) {
  const std::map<std::string, RawItem> raw = RawItems();
  auto all = [](const std::string& path) {
    const json j = Fetch(path + "&hitsPerPage=1000").json();
    EXPECT_EQ(j["hits"].size(), j["nbHits"].get<size_t>()) << path << j;
    return j;
  };
  using Pred = std::function<bool(std::optional<int64_t> points,
                                  std::optional<int64_t> comments,
                                  std::optional<int64_t> time)>;
  struct Case {
    std::string numeric_filters;  // as sent
    std::string filters;          // the same in `filters`
    Pred pred;
  };
  auto gt = [](std::optional<int64_t> v, int64_t x) { return v && *v > x; };
  const Case cases[] = {
      {R"([["points>100","num_comments>50"],"created_at_i>1300000000"])",
       "(points>100 OR num_comments>50) AND created_at_i>1300000000",
       [&](auto p, auto c, auto t) {
         return (gt(p, 100) || gt(c, 50)) && gt(t, 1300000000);
       }},
      {"(points>100,num_comments>50),created_at_i>1300000000",
       "(points>100 OR num_comments>50) AND created_at_i>1300000000",
       [&](auto p, auto c, auto t) {
         return (gt(p, 100) || gt(c, 50)) && gt(t, 1300000000);
       }},
      {"points!=1", "points!=1",
       [](auto p, auto, auto) { return !p || *p != 1; }},
      {R"([["points<10","points>1000"]])", "points<10 OR points>1000",
       [&](auto p, auto, auto) { return (p && *p < 10) || gt(p, 1000); }},
      {"created_at_i:1300000000 TO 1400000000",
       "created_at_i:1300000000 TO 1400000000",
       [](auto, auto, auto t) {
         return t && *t >= 1300000000 && *t <= 1400000000;
       }},
      {R"([["num_comments=0","points:100 TO 200"],"points!=1"])",
       "(num_comments=0 OR points:100 TO 200) AND points!=1",
       [](auto p, auto c, auto) {
         return ((c && *c == 0) || (p && *p >= 100 && *p <= 200)) &&
                (!p || *p != 1);
       }},
      // A comment or message that starts a thread has a count in the index
      // (the items below it) but is served with num_comments null: none
      // matches.
      {"num_comments=0", "num_comments=0",
       [](auto, auto c, auto) { return c && *c == 0; }},
      {"num_comments<3", "num_comments<3",
       [](auto, auto c, auto) { return c && *c < 3; }},
  };
  // Every item's numbers as served, read once (paged by date).
  struct Served {
    std::string id;
    std::optional<int64_t> points, comments, time;
  };
  std::vector<Served> served;
  for (int page = 0;; ++page) {
    const json p = Fetch("/api/v1/search_by_date?hitsPerPage=1000&page=" +
                         std::to_string(page))
                       .json();
    if (p["hits"].empty()) break;
    for (const json& h : p["hits"]) {
      auto num = [&](const char* k) -> std::optional<int64_t> {
        if (h[k].is_null()) return std::nullopt;
        return h[k].get<int64_t>();
      };
      served.push_back({h["objectID"].get<std::string>(), num("points"),
                        num("num_comments"), num("created_at_i")});
    }
  }
  ASSERT_EQ(served.size(),
            Fetch("/api/v1/search?hitsPerPage=0").json()["nbHits"]);
  for (const Case& c : cases) {
    const std::string nf = UrlEncode(c.numeric_filters);
    const json j = all("/api/v1/search?tags=(story,poll)&numericFilters=" + nf);
    const size_t want = RawCount(raw, [&](const RawItem& i) {
      return (i.type == "story" || i.type == "poll") &&
             c.pred(i.points, i.comments, i.time);
    });
    ASSERT_GT(want, 0u) << c.numeric_filters;
    EXPECT_EQ(j["nbHits"], want) << c.numeric_filters;
    EXPECT_EQ(Ids(j), Ids(all("/api/v1/search?tags=(story,poll)&filters=" +
                              UrlEncode(c.filters))))
        << c.numeric_filters;
    // Over every item, against the numbers each hit is served with.
    std::set<std::string> selected;
    for (const Served& h : served) {
      if (c.pred(h.points, h.comments, h.time)) selected.insert(h.id);
    }
    const json every =
        Fetch("/api/v1/search?hitsPerPage=1000&numericFilters=" + nf).json();
    EXPECT_EQ(every["nbHits"], selected.size()) << c.numeric_filters;
    if (every["nbHits"].get<size_t>() <= 1000) {
      EXPECT_EQ(Ids(every), selected) << c.numeric_filters;
    }
  }
  // Malformed values: a 400 naming numericFilters and what is wrong.
  const std::pair<std::string, std::string> bad[] = {
      {"(points>1", "unbalanced parentheses"},
      {UrlEncode(R"([["points>1","karma<2"]])"), "unknown field \"karma\""},
      {"points:5", "expected FIELD OP NUMBER or FIELD:LO TO HI"},
      {"points>x", "\"points>x\": expected a number"},
      {"points", "no operator after \"points\""},
      {UrlEncode(R"(["points>1",[["points<2"]]])"), "strings only"},
  };
  for (const auto& [value, what] : bad) {
    const Reply r = Fetch("/api/v1/search?numericFilters=" + value);
    EXPECT_EQ(r.status, 400) << value;
    EXPECT_EQ(r.json()["param"], "numericFilters") << value;
    const std::string error = r.json()["error"];
    EXPECT_TRUE(error.starts_with("numericFilters: ")) << error;
    EXPECT_NE(error.find(what), std::string::npos) << error;
  }
}

// Bounds down to -2^53 reach the query language whole: a clause with one
// was a 400 blaming `query`.
TEST_F(AlgoliaTest, FilterBoundsNearTwoToThe53) {
  const json with_points =
      Fetch(
          "/api/v1/search?numericFilters=points>-9007199254740992&"
          "hitsPerPage=0")
          .json()["nbHits"];
  ASSERT_GT(with_points.get<int>(), 0);
  for (const std::string& path :
       {"/api/v1/search?numericFilters=" +
            UrlEncode("(points>-9007199254740992,points<-9007199254740991)"),
        "/api/v1/search?filters=" +
            UrlEncode("points>-9007199254740992 OR points<-9007199254740991"),
        "/api/v1/search?filters=" +
            UrlEncode("points:-9007199254740992 TO 9007199254740992")}) {
    const Reply r = Fetch(path + "&hitsPerPage=0");
    ASSERT_EQ(r.status, 200) << path << r.body;
    EXPECT_EQ(r.json()["nbHits"], with_points) << path;
  }
}

// restrictSearchableAttributes=title (hnrss sends it with every query) and
// optionalWords (hnrss's "a OR b").
TEST_F(AlgoliaTest, RestrictToTitlesAndOptionalWords) {
  const json all =
      Fetch("/api/v1/search_by_date?query=apple&tags=(story,poll)&"
            "hitsPerPage=100")
          .json();
  const json titled =
      Fetch("/api/v1/search_by_date?query=apple&tags=(story,poll)&"
            "restrictSearchableAttributes=title&hitsPerPage=100")
          .json();
  ASSERT_GE(titled["hits"].size(), 1u);
  // 6604931 says Apple in its text only.
  EXPECT_LT(titled["nbHits"].get<int>(), all["nbHits"].get<int>());
  static const std::regex kApple("\\bapple", std::regex::icase);
  for (const json& h : titled["hits"]) {
    EXPECT_TRUE(std::regex_search(h["title"].get<std::string>(), kApple))
        << h["title"];
  }
  // Every word optional: either will do.
  const json both =
      Fetch("/api/v1/search_by_date?query=%22apple%22%20%22google%22&"
            "restrictSearchableAttributes=title&tags=story").json();
  const json either =
      Fetch("/api/v1/search_by_date?query=%22apple%22%20%22google%22&"
            "optionalWords=%22apple%22%20%22google%22&"
            "restrictSearchableAttributes=title&tags=story").json();
  const json apple = Fetch("/api/v1/search_by_date?query=%22apple%22&"
                           "restrictSearchableAttributes=title&tags=story")
                         .json();
  EXPECT_EQ(both["nbHits"], 1);
  EXPECT_GE(either["nbHits"].get<int>(), apple["nbHits"].get<int>());
  EXPECT_GT(either["nbHits"].get<int>(), both["nbHits"].get<int>());
}

// A comment whose story the dump lacks shows the story's title and URL as
// hn.algolia.com did (the dump's hit carries them).
TEST_F(AlgoliaTest, OrphanCommentKeepsItsStoryTitle) {
  const json theirs =
      Recorded("/api/v1/search?hitsPerPage=1&tags=(comment)%2Cauthor_pg")
          ["hits"][0];
  ASSERT_EQ(theirs["objectID"], "6651926");
  // The story is no item of ours.
  ASSERT_EQ(Fetch("/api/v1/items/6651704").status, 404);
  const json j =
      Fetch("/api/v1/search?tags=comment,author_pg&hitsPerPage=1000").json();
  json ours;
  for (const json& h : j["hits"]) {
    if (h["objectID"] == "6651926") ours = h;
  }
  ASSERT_FALSE(ours.is_null());
  EXPECT_EQ(ours["story_id"], theirs["story_id"]);
  EXPECT_EQ(ours["story_title"], theirs["story_title"]);
  EXPECT_EQ(ours["story_url"], theirs["story_url"]);
  EXPECT_EQ(ours["_highlightResult"]["story_title"]["value"],
            theirs["story_title"]);
}

// An item tree never shows an item only its replies name (no date, author
// or text): its replies stand in its place, their parent_id naming it.
TEST_F(AlgoliaTest, ItemTreeLeavesOutMissingItems) {
  // 7494555 answers 7494175, which no input holds, in story 7493856.
  ASSERT_EQ(Fetch("/api/v1/items/7494175").status, 404);
  const json story = Fetch("/api/v1/items/7493856").json();
  bool found = false;
  std::function<void(const json&)> walk = [&](const json& n) {
    EXPECT_NE(n["type"], "unknown") << n["id"];
    EXPECT_GT(n["created_at_i"].get<int64_t>(), 0) << n["id"];
    if (n["id"] == 7494555) {
      found = true;
      EXPECT_EQ(n["parent_id"], 7494175);
    }
    for (const json& c : n["children"]) walk(c);
  };
  walk(story);
  EXPECT_TRUE(found);
}

// JSON is gzip-compressed when the client accepts it (clients send
// Accept-Encoding: gzip and read either), and plain otherwise.
TEST_F(AlgoliaTest, JsonIsGzippedWhenAccepted) {
  const std::string path = "/api/v1/search?query=apple&hitsPerPage=50";
  const Reply plain = Fetch(path);
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(plain.header("Content-Encoding"), "");
  EXPECT_EQ(plain.header("Vary"), "Accept-Encoding");
  auto c = server_->client();
  httplib::Result res =
      c->Get(path.c_str(), httplib::Headers{{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Content-Encoding"), "gzip");
  // httplib's client undid the compression.
  json a = json::parse(res->body), b = plain.json();
  a.erase("processingTimeMS");
  b.erase("processingTimeMS");
  EXPECT_EQ(a, b);
  c->set_decompress(false);
  res = c->Get(path.c_str(), httplib::Headers{{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(res);
  EXPECT_LT(res->body.size(), plain.body.size() / 2);
  EXPECT_EQ(static_cast<unsigned char>(res->body[0]), 0x1f);  // gzip magic
  res = c->Get(path.c_str(),
               httplib::Headers{{"Accept-Encoding", "gzip;q=0, identity"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Content-Encoding"), "");
}

TEST(AlgoliaParamsTest, QueryStringSplitsAtTheFirstEquals) {
  const std::vector<std::pair<std::string, std::string>> want = {
      {"a", "b=c"}, {"x", ""}, {"y", ">%zz 1"}, {"n f", "p>=2"}};
  EXPECT_EQ(ParseQueryString("a=b=c&x&&y=%3e%zz+1&n+f=p>%3D2"), want);
  EXPECT_TRUE(ParseQueryString("").empty());
  EXPECT_EQ(ParseQueryString("q=%").at(0).second, "%");
}

TEST_F(AlgoliaTest, PagingPast1000HitsWorks) {
  json j = Fetch("/api/v1/search_by_date?hitsPerPage=1&page=1500").json();
  ASSERT_EQ(j["hits"].size(), 1u) << j.dump().substr(0, 300);
  EXPECT_EQ(j["page"], 1500);
  EXPECT_GT(j["nbPages"].get<int>(), 1500);
  EXPECT_EQ(j["nbPages"], j["nbHits"]);
}

TEST_F(AlgoliaTest, MailAndRedditHitsHaveTheSameFields) {
  json mail = Fetch("/api/v1/search?query=regression&hitsPerPage=5").json();
  ASSERT_GE(mail["hits"].size(), 1u);
  json story = Recorded("/api/v1/search?hitsPerPage=1&tags=(story)");
  json comment = Recorded("/api/v1/search?hitsPerPage=1&tags=(comment)");
  for (const json& h : mail["hits"]) {
    const json& shape =
        h["comment_text"].is_null() ? story["hits"][0] : comment["hits"][0];
    std::set<std::string> a, b;
    for (auto it = h.begin(); it != h.end(); ++it) a.insert(it.key());
    for (auto it = shape.begin(); it != shape.end(); ++it) b.insert(it.key());
    EXPECT_EQ(a, b) << h.dump().substr(0, 200);
    EXPECT_TRUE(h["objectID"].is_string());
  }
}

// Algolia's native protocol (/1/indexes/…): request bodies.
TEST(AlgoliaParamsTest, NativeQueryBodies) {
  Result<ParamMap> ps = ParseAlgoliaQueryBody(
      R"({"params": "query=foo&hitsPerPage=5&tags=story", "hitsPerPage": 20.0,
          "page": 1, "advancedSyntax": true, "tagFilters": ["story", ["a"]],
          "filters": null})");
  ASSERT_OK(ps);
  const ParamMap want = {{"query", "foo"},
                         {"tags", "story"},
                         {"hitsPerPage", "20"},  // the field wins
                         {"page", "1"},
                         {"advancedSyntax", "true"},
                         {"tagFilters", R"(["story",["a"]])"}};
  EXPECT_EQ(*ps, want);
  EXPECT_EQ(ParamValue(*ps, "query"), "foo");
  EXPECT_EQ(ParamValue(*ps, "filters"), "");
  ASSERT_OK(ParseAlgoliaQueryBody(""));
  EXPECT_TRUE(ParseAlgoliaQueryBody(" ")->empty());
  const std::pair<const char*, const char*> bad[] = {
      {R"({"params": "query=x")", "body: invalid JSON"},
      {"[1]", "body: expected a JSON object"},
      {R"({"params": 5})", "params: "},
      {R"({"params": ["query=x"]})", "params: "},
  };
  for (const auto& [body, start] : bad) {
    Result<ParamMap> r = ParseAlgoliaQueryBody(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(r.status().message().starts_with(start))
        << body << ": " << r.status().message();
  }

  Result<std::vector<AlgoliaIndexQuery>> qs = ParseAlgoliaQueriesBody(
      R"({"requests": [{"indexName": "Item_production", "params": "query=a"},
                       {"indexName": "B", "query": "b", "type": "default"}],
          "strategy": "none"})");
  ASSERT_OK(qs);
  ASSERT_EQ(qs->size(), 2u);
  EXPECT_EQ((*qs)[0].index, "Item_production");
  EXPECT_EQ((*qs)[0].params, (ParamMap{{"query", "a"}}));
  EXPECT_EQ((*qs)[1].index, "B");
  EXPECT_EQ((*qs)[1].params, (ParamMap{{"query", "b"}}));
  const std::pair<const char*, const char*> bad_batches[] = {
      {"{}", "requests: "},
      {R"({"requests": {}})", "requests: "},
      {R"({"requests": [{"indexName": "a"}, 3]})", "requests[1]: "},
      {R"({"requests": [{"params": "query=a"}]})", "requests[0].indexName: "},
      {R"({"requests": [{"indexName": 7}]})", "requests[0].indexName: "},
      {R"({"requests": [{"indexName": "a", "params": 1}]})",
       "requests[0].params: "},
      {R"({"requests": [{"indexName": "a", "type": "facet"}]})",
       "requests[0].type: "},
      {R"({"requests": [)", "body: invalid JSON"},
  };
  for (const auto& [body, start] : bad_batches) {
    Result<std::vector<AlgoliaIndexQuery>> r = ParseAlgoliaQueriesBody(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_TRUE(r.status().message().starts_with(start))
        << body << ": " << r.status().message();
  }
}

// Each native form of a search answers what /api/v1 answers: the GET form,
// the POST body's params string and its JSON fields, on each index name.
TEST_F(AlgoliaTest, NativeSearchesAnswerAsApiV1) {
  struct Case {
    const char* params;  // URL-encoded
    const char* fields;  // the same as JSON fields
  };
  const Case cases[] = {
      {"query=apple&tags=story&hitsPerPage=5",
       R"({"query": "apple", "tags": "story", "hitsPerPage": 5})"},
      {"query=regression&tagFilters=%5B%22comment%22%5D&page=1&hitsPerPage=3",
       R"({"query": "regression", "tagFilters": ["comment"], "page": 1,
           "hitsPerPage": 3})"},
      {"tags=story&numericFilters=points%3E10&hitsPerPage=10",
       R"({"tagFilters": "story", "numericFilters": ["points>10"],
           "hitsPerPage": 10})"},
      {"query=keras&facetFilters=%5B%5B%22_tags%3Acomment%22%5D%5D",
       R"({"query": "keras", "facetFilters": [["_tags:comment"]]})"},
  };
  const std::pair<const char*, const char*> indices[] = {
      {"Item_production", "/api/v1/search"},
      {"Item_production_ordered", "/api/v1/search"},
      {"Item_production_sort_date", "/api/v1/search_by_date"}};
  for (const Case& c : cases) {
    for (const auto& [index, v1] : indices) {
      const std::string what = std::string(index) + " " + c.params;
      const json want = Fetch(std::string(v1) + "?" + c.params).json();
      ASSERT_GE(want["nbHits"].get<int>(), 1) << what;
      const std::string base = std::string("/1/indexes/") + index;
      const json params_body = {{"params", c.params}};
      const Reply forms[] = {
          Fetch(base + "?" + c.params),
          Post(*server_, base + "/query", params_body.dump()),
          Post(*server_, base + "/query", c.fields),
      };
      for (size_t f = 0; f < std::size(forms); ++f) {
        ASSERT_EQ(forms[f].status, 200)
            << what << " form " << f << forms[f].body;
        json got = forms[f].json();
        EXPECT_EQ(HitIds(got), HitIds(want)) << what << " form " << f;
        EXPECT_EQ(got["nbHits"], want["nbHits"]) << what << " form " << f;
        EXPECT_EQ(got["nbPages"], want["nbPages"]) << what << " form " << f;
        EXPECT_EQ(got["page"], want["page"]) << what << " form " << f;
        EXPECT_EQ(got["query"], want["query"]) << what << " form " << f;
        EXPECT_EQ(got["index"], index) << what;
        EXPECT_EQ(got["exhaustive"], (json{{"nbHits", true}, {"typo", true}}))
            << what;
        EXPECT_EQ(got["exhaustiveTypo"], true) << what;
        if (f < 2) {
          // The same parameters: the same page, field for field.
          for (const char* k :
               {"processingTimeMS", "index", "exhaustive", "exhaustiveTypo"}) {
            got.erase(k);
          }
          json v1_page = want;
          v1_page.erase("processingTimeMS");
          EXPECT_EQ(got, v1_page) << what << " form " << f;
        }
      }
    }
  }
  // The /api/v1 page itself has none of the native fields (its shape is
  // hn.algolia.com's, checked against the recording).
  EXPECT_FALSE(Fetch("/api/v1/search?query=apple").json().contains("index"));
}

TEST_F(AlgoliaTest, NativeMultiQueriesAnswerInOrder) {
  const json body = {{"requests",
                      {{{"indexName", "Item_production_sort_date"},
                        {"params", "query=&tags=comment&hitsPerPage=4"}},
                       {{"indexName", "Item_production"},
                        {"params", "query=apple&hitsPerPage=3"}},
                       // Algolia's newer clients send the parameters as fields.
                       {{"indexName", "Item_production"},
                        {"query", "regression"},
                        {"tagFilters", json::array({"comment"})},
                        {"hitsPerPage", 2},
                        {"type", "default"}}}},
                     {"strategy", "none"}};
  const Reply r = Post(*server_, "/1/indexes/*/queries", body.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const json results = r.json()["results"];
  ASSERT_EQ(results.size(), 3u) << r.body;
  const std::pair<const char*, const char*> want[] = {
      {"Item_production_sort_date",
       "/api/v1/search_by_date?query=&tags=comment&hitsPerPage=4"},
      {"Item_production", "/api/v1/search?query=apple&hitsPerPage=3"},
      {"Item_production",
       "/api/v1/search?query=regression&tags=comment&hitsPerPage=2"}};
  for (size_t i = 0; i < 3; ++i) {
    const json v1 = Fetch(want[i].second).json();
    ASSERT_GE(v1["hits"].size(), 1u) << want[i].second;
    EXPECT_EQ(results[i]["index"], want[i].first) << i;
    EXPECT_EQ(HitIds(results[i]), HitIds(v1)) << i;
    EXPECT_EQ(results[i]["nbHits"], v1["nbHits"]) << i;
  }
  // One bad search fails the batch, naming it and its parameter.
  json bad = body;
  bad["requests"][1]["params"] = "query=apple&hitsPerPage=x";
  Reply e = Post(*server_, "/1/indexes/*/queries", bad.dump());
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.json()["status"], 400);
  EXPECT_TRUE(e.json()["message"].get<std::string>().starts_with(
      "requests[1]: hitsPerPage"))
      << e.body;
  bad = body;
  bad["requests"][2]["indexName"] = "Nope";
  e = Post(*server_, "/1/indexes/*/queries", bad.dump());
  EXPECT_EQ(e.status, 404);
  EXPECT_EQ(e.json(),
            (json{{"message", "Index does not exist"}, {"status", 404}}));
  json many = {{"requests", json::array()}};
  for (int i = 0; i < 51; ++i) {
    many["requests"].push_back({{"indexName", "Item_production"}});
  }
  e = Post(*server_, "/1/indexes/*/queries", many.dump());
  EXPECT_EQ(e.status, 400);
  EXPECT_TRUE(e.json()["message"].get<std::string>().starts_with("requests:"))
      << e.body;
  e = Post(*server_, "/1/indexes/*/queries", R"({"requests": []})");
  ASSERT_EQ(e.status, 200) << e.body;
  EXPECT_EQ(e.json(), (json{{"results", json::array()}}));
}

// A body of nested brackets within the size limit (found by fuzzing: its
// array, turned back into text, overflowed the stack and took the server
// down) is a 400 naming the body, and the server keeps answering.
TEST_F(AlgoliaTest, DeeplyNestedBodyIsRefused) {
  const size_t deep = 500000;  // 1 MB, under the 1 MiB body limit
  const std::string brackets = std::string(deep, '[') + std::string(deep, ']');
  for (const auto& [path, body] :
       {std::pair<std::string, std::string>{"/1/indexes/Item_production/query",
                                            "{\"tagFilters\": " + brackets + "}"},
        {"/1/indexes/*/queries",
         "{\"requests\": [{\"indexName\": \"Item_production\", \"a\": " +
             brackets + "}]}"}}) {
    Reply r = Post(*server_, path, body);
    EXPECT_EQ(r.status, 400) << path;
    EXPECT_EQ(r.json()["message"], "body: JSON nested deeper than 64 levels")
        << path;
  }
  EXPECT_EQ(Fetch("/1/indexes/Item_production?query=apple").status, 200);
  // As deep as a search needs is fine.
  EXPECT_TRUE(ParseAlgoliaQueryBody(R"({"tagFilters": [["a", "b"]]})").ok());
}

TEST_F(AlgoliaTest, NativeErrorsAreAlgoliaShaped) {
  const json no_index = {{"message", "Index does not exist"}, {"status", 404}};
  Reply r = Fetch("/1/indexes/Items?query=apple");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.json(), no_index);
  r = Post(*server_, "/1/indexes/item_production/query", "{}");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.json(), no_index);
  r = Fetch("/1/indexes/Nope/17");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.json(), no_index);
  // Malformed bodies: 400 saying what is wrong, and nothing else.
  const std::pair<const char*, const char*> bodies[] = {
      {R"({"params": "query=apple")", "body: invalid JSON at byte"},
      {"not json", "body: invalid JSON at byte"},
      {"[]", "body: expected a JSON object"},
      {R"({"params": 3})", "params: "},
      {R"({"hitsPerPage": "many"})", "hitsPerPage: "},
      {R"({"numericFilters": ["points>>1"]})", "numericFilters: "},
      {R"({"tagFilters": [["a", ["b"]]]})", "tagFilters: "},
      {R"({"page": -1})", "page: "},
  };
  for (const auto& [body, start] : bodies) {
    r = Post(*server_, "/1/indexes/Item_production/query", body);
    EXPECT_EQ(r.status, 400) << body;
    const json j = r.json();
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_EQ(j.size(), 2u) << r.body;
    EXPECT_EQ(j["status"], 400) << body;
    EXPECT_TRUE(j["message"].get<std::string>().starts_with(start))
        << body << ": " << r.body;
  }
  for (const char* body : {"{", "", "[1", "{\"requests\": 1}"}) {
    r = Post(*server_, "/1/indexes/*/queries", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.json()["status"], 400) << body;
  }
  r = Fetch("/1/indexes/Item_production?hitsPerPage=x");
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(
      r.json()["message"].get<std::string>().starts_with("hitsPerPage: "))
      << r.body;
  // Users are fetched one by one, not searched.
  r = Fetch("/1/indexes/User_production?query=pg");
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(
      r.json()["message"].get<std::string>().starts_with("User_production: "))
      << r.body;
  // The parameter limits hold for body parameters too.
  const json long_query = {{"query", std::string(3000, 'a')}};
  r = Post(*server_, "/1/indexes/Item_production/query", long_query.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(r.json()["message"].get<std::string>().starts_with("query: "))
      << r.body;
}

// What algoliasearch sends besides the search: credentials in headers or
// the URL, a JSON body labelled as form data, and a preflight.
TEST_F(AlgoliaTest, NativeClientsCredentialsAndPreflight) {
  const std::string search = R"({"params": "query=apple&hitsPerPage=5"})";
  const json want = Fetch("/api/v1/search?query=apple&hitsPerPage=5").json();
  ASSERT_GE(want["hits"].size(), 1u);
  const std::string keys =
      "?x-algolia-agent=Algolia%20for%20JavaScript%20(4.14.2)%3B%20Browser"
      "&x-algolia-api-key=8ece23f8eb07cd25d40262a1764599b1"
      "&x-algolia-application-id=UJ5WYC0L7X";
  Reply r = Post(*server_, "/1/indexes/Item_production/query" + keys, search,
                 "application/x-www-form-urlencoded");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(HitIds(r.json()), HitIds(want));
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "*");
  r = Post(*server_, "/1/indexes/Item_production/query", search,
           "application/json",
           {{"x-algolia-application-id", "UJ5WYC0L7X"},
            {"x-algolia-api-key", "8ece23f8eb07cd25d40262a1764599b1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(HitIds(r.json()), HitIds(want));
  // The GET form: the credentials are not search parameters.
  r = Fetch("/1/indexes/Item_production" + keys + "&query=apple&hitsPerPage=5");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(HitIds(r.json()), HitIds(want));
  EXPECT_EQ(r.json()["params"], want["params"]);

  auto c = server_->client();
  httplib::Result res =
      c->Options("/1/indexes/*/queries",
                 httplib::Headers{{"Origin", "https://example.org"},
                                  {"Access-Control-Request-Method", "POST"},
                                  {"Access-Control-Request-Headers",
                                   "content-type,x-algolia-api-key,"
                                   "x-algolia-application-id"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204);
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), "*");
  EXPECT_NE(res->get_header_value("Access-Control-Allow-Methods").find("POST"),
            std::string::npos);
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Headers"),
            "content-type,x-algolia-api-key,x-algolia-application-id");
  // The /api/ routes stay read-only.
  res = c->Options("/api/v1/search", httplib::Headers{});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204);
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Methods").find("POST"),
            std::string::npos);
}

// GET /1/indexes/NAME/ID: an item's record is its search hit without the
// highlights; a user's, what /api/v1/users serves.
TEST_F(AlgoliaTest, NativeObjectsAreRecords) {
  for (const char* tags : {"story", "comment"}) {
    const json page =
        Fetch(std::string("/api/v1/search?tags=") + tags + "&hitsPerPage=3")
            .json();
    ASSERT_GE(page["hits"].size(), 1u) << tags;
    for (json hit : page["hits"]) {
      const std::string id = hit["objectID"];
      hit.erase("_highlightResult");
      for (const char* index :
           {"Item_production", "Item_production_sort_date"}) {
        const Reply r = Fetch(std::string("/1/indexes/") + index + "/" + id);
        ASSERT_EQ(r.status, 200) << id << r.body;
        EXPECT_EQ(r.json(), hit) << id;
      }
    }
    const std::string id = page["hits"][0]["objectID"];
    const Reply some = Fetch("/1/indexes/Item_production/" + id +
                             "?attributesToRetrieve=author,created_at_i");
    ASSERT_EQ(some.status, 200) << some.body;
    EXPECT_EQ(some.json(),
              (json{{"author", page["hits"][0]["author"]},
                    {"created_at_i", page["hits"][0]["created_at_i"]},
                    {"objectID", id}}));
  }
  const json user = Fetch("/api/v1/users/pg").json();
  ASSERT_EQ(user["username"], "pg");
  EXPECT_EQ(Fetch("/1/indexes/User_production/pg").json(), user);
  const json no_object = {{"message", "ObjectID does not exist"},
                          {"status", 404}};
  Reply r = Fetch("/1/indexes/Item_production/99999999999");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.json(), no_object);
  r = Fetch("/1/indexes/User_production/no-such-user-here");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.json(), no_object);
}

// hn.algolia.com's front end marks matches with its own tags and reads
// them back; the default stays <em>.
TEST_F(AlgoliaTest, HighlightTagsAreTheClients) {
  const json plain =
      Fetch("/api/v1/search?query=apple&tags=story&hitsPerPage=3").json();
  ASSERT_GE(plain["hits"].size(), 1u);
  const std::string title =
      plain["hits"][0]["_highlightResult"]["title"]["value"];
  ASSERT_NE(title.find("<em>"), std::string::npos) << title;
  const json body = {{"query", "apple"},
                     {"tagFilters", json::array({"story"})},
                     {"hitsPerPage", 3},
                     {"highlightPreTag", "__ais-highlight__"},
                     {"highlightPostTag", "__/ais-highlight__"}};
  const Reply r =
      Post(*server_, "/1/indexes/Item_production/query", body.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const json page = r.json();
  ASSERT_GE(page["hits"].size(), 1u) << r.body;
  const json& hit = page["hits"][0];
  std::string want =
      std::regex_replace(title, std::regex("<em>"), "__ais-highlight__");
  want = std::regex_replace(want, std::regex("</em>"), "__/ais-highlight__");
  EXPECT_EQ(hit["_highlightResult"]["title"]["value"], want);
  EXPECT_EQ(r.body.find("<em>"), std::string::npos);
  // The same on /api/v1, which passes Algolia's parameters on too.
  const json v1 = Fetch(
                      "/api/v1/search?query=apple&tags=story&hitsPerPage=3"
                      "&highlightPreTag=%5B&highlightPostTag=%5D")
                      .json();
  EXPECT_EQ(
      v1["hits"][0]["_highlightResult"]["title"]["value"],
      std::regex_replace(std::regex_replace(title, std::regex("</em>"), "]"),
                         std::regex("<em>"), "["));
}

}  // namespace
}  // namespace threadsearch
