#include "indexer/readers.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "indexer/input_stream.h"
#include "indexer/json_readers_internal.h"
#include "tests/compress_util.h"
#include "tests/testutil.h"

namespace threadsearch {
namespace {

const std::string kCorpus = TS_CORPUS;
const std::string kData = TS_TEST_DATA;
const std::string kHnComments =
    kCorpus + "/hn/ntdunglc-hackernews_jobs/hn_comments.json";
const std::string kBigQuery =
    kCorpus +
    "/hn/typesense-showcase-hn-comments-semantic-search/"
    "hn-comments-1000-sample.jsonl";
const std::string kPushshift =
    kCorpus + "/reddit/Paul-E-Pushshift-Importer/test_comments.json";
const std::string kAlgolia =
    kCorpus + "/hn/algolia-api-responses/responses.json";
const std::string kThreadPage = kCorpus + "/hn-thread-page-42133844.txt";

struct Collected {
  std::vector<Item> items;
  std::vector<ReadError> errors;
  Status status;

  const Item* Find(const std::string& id) const {
    for (const Item& it : items) {
      if (it.id == id) return &it;
    }
    return nullptr;
  }
  std::string ErrorText() const {
    std::string s;
    for (const ReadError& e : errors) s += e.where + ": " + e.message + "\n";
    return s;
  }
};

Collected ReadIn(InputStream& in, Format format) {
  Collected c;
  ReadCallbacks cb;
  cb.on_item = [&](Item&& item) { c.items.push_back(std::move(item)); };
  cb.on_error = [&](const ReadError& e) { c.errors.push_back(e); };
  c.status = ReadStream(in, format, cb);
  return c;
}

Collected ReadText(const std::string& text, Format format,
                   const std::string& name = "t.json") {
  auto in = InputStream::FromString(text, name);
  return ReadIn(*in, format);
}

// Reads `text` as HN JSON from a stream that hands it out `chunk` bytes at
// a time, holding at most `max_value` bytes of one JSON value.
Collected ReadChunked(const std::string& text, size_t chunk,
                      size_t max_value = size_t{1} << 30,
                      const std::string& name = "t.json") {
  auto in = InputStream::FromString(text, name);
  in->set_chunk_size(chunk);
  Collected c;
  ReadCallbacks cb;
  cb.on_item = [&](Item&& item) { c.items.push_back(std::move(item)); };
  cb.on_error = [&](const ReadError& e) { c.errors.push_back(e); };
  c.status = ReadHnJson(*in, cb, max_value);
  return c;
}

// A status with `code` whose message starts with `prefix`.
void ExpectFailure(const Status& status, StatusCode code,
                   const std::string& prefix) {
  EXPECT_EQ(status.code(), code) << status.ToString();
  EXPECT_EQ(status.message().rfind(prefix, 0), 0u) << status.ToString();
}

// Everything a read gave, in order, for comparing two reads.
std::string Summary(const Collected& c) {
  std::string s = c.status.ToString() + "\n";
  for (const Item& it : c.items) {
    s += it.id + " " + it.origin + " " + it.author + " [" + it.text + "]\n";
  }
  return s + c.ErrorText();
}

// An HN item as a JSON object, compact or pretty-printed (two-space indent,
// one member a line: five lines).
std::string HnObject(int id, const std::string& text, bool pretty) {
  const std::string sep = pretty ? "\n  " : "";
  return "{" + sep + "\"by\": \"u" + std::to_string(id % 7) + "\"," + sep +
         "\"id\": " + std::to_string(id) + "," + sep + "\"text\": \"" + text +
         "\"" + (pretty ? "\n" : "") + "}";
}

Collected ReadPath(const std::string& path, Format format = Format::kAuto) {
  auto in = InputStream::Open(path);
  EXPECT_TRUE(in.ok()) << in.status().ToString();
  if (!in.ok()) return Collected{{}, {}, in.status()};
  return ReadIn(**in, format);
}


// The format SniffFormat names for a file, or its error.
std::string SniffPath(const std::string& path) {
  auto in = InputStream::Open(path);
  if (!in.ok()) return in.status().ToString();
  Result<Format> f = SniffFormat(**in);
  return f.ok() ? std::string(FormatName(*f)) : f.status().ToString();
}


// ---- Format names and sniffing ---------------------------------------------

TEST(ReadersTest, FormatNames) {
  for (Format f :
       {Format::kAuto, Format::kHnJson, Format::kAlgolia, Format::kBigQuery,
        Format::kPushshift, Format::kMbox, Format::kThreadPage}) {
    Result<Format> back = ParseFormat(FormatName(f));
    ASSERT_OK(back);
    EXPECT_EQ(*back, f);
  }
  Result<Format> bad = ParseFormat("xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("hn-json"), std::string::npos);
}

TEST(ReadersTest, SniffTable) {
  struct Case {
    std::string text;
    Format want;
  };
  const Case cases[] = {
      {"From alice at example.org  Sun Mar  1 18:17:33 2015\nFrom: x\n",
       Format::kMbox},
      {"\xEF\xBB\xBF"
       "From alice at example.org  Sun Mar  1 18:17:33 2015\nFrom: x\n",
       Format::kMbox},
      {"\n\n\r\n \t\nFrom alice at example.org  Sun Mar  1 18:17:33 2015\n",
       Format::kMbox},
      {"{\"by\":\"pg\",\"id\":1,\"time\":1160418111,\"type\":\"story\"}\n",
       Format::kHnJson},
      {"[{\"id\":1,\"kids\":[2]}]", Format::kHnJson},
      {"{\n  \"post\": {\n    \"by\": \"whoishiring\",", Format::kHnJson},
      {"{\"id\":\"33223750\",\"by\":\"criddell\",\"time\":\"1665929544\","
       "\"text\":\"x\",\"parent\":\"33220665\"}\n",
       Format::kBigQuery},
      {"{\"id\": \"kod0bkd\", \"parent_id\": \"t3_1afjd7n\", \"body\": \"x\"}",
       Format::kPushshift},
      {"{\"_meta\": {}, \"subreddit\": \"woodworking\", \"id\": \"x\"}",
       Format::kPushshift},
      // Cut down to a few fields: the fullname tells.
      {"{\"name\": \"t1_c14\", \"author\": \"a\", \"body\": \"x\"}\n",
       Format::kPushshift},
      {"{\"kind\": \"Listing\", \"data\": {\"after\": null, \"children\": "
       "[{\"kind\": \"t1\", \"data\": {\"id\": \"k\"}}]}}",
       Format::kPushshift},
      {"{\"data\": [{\"kind\": \"t1\", \"data\": {\"id\": \"k\"}}]}",
       Format::kPushshift},
      // A legacy BigQuery table's columns, nulls among them.
      {"{\"id\": \"1\", \"author\": \"a\", \"time_ts\": "
       "\"2014-01-01 00:00:00 UTC\", \"title\": null}\n",
       Format::kBigQuery},
      {"[{\"url\":\"/api/v1/search?x\",\"reply\":{\"hits\":[]}}]",
       Format::kAlgolia},
      {"{\"hits\":[{\"objectID\":\"1\"}],\"nbHits\":1}", Format::kAlgolia},
      {"{\"id\":17,\"created_at_i\":1160423565,\"children\":[]}",
       Format::kAlgolia},
      {"\xEF\xBB\xBF{\"objectID\":\"6805807\"}", Format::kAlgolia},
      {"\xE2\x86\x90"
       "back to thread\n\nTitle\n",
       Format::kThreadPage},
      {"x \xE2\x97\xB4[] No.1[source]\nbody\n", Format::kThreadPage},
      {"body\nreplies(1): >>2 #\n", Format::kThreadPage},
  };
  for (const Case& c : cases) {
    auto in = InputStream::FromString(c.text, "s");
    Result<Format> f = SniffFormat(*in);
    ASSERT_OK(f);
    EXPECT_EQ(FormatName(*f), FormatName(c.want)) << c.text;
    // Sniffing consumes nothing.
    EXPECT_EQ(in->Peek(c.text.size()), c.text);
  }
}

TEST(ReadersTest, SniffFailuresNameTheStream) {
  const std::string cases[] = {
      "",
      "just some text\n",
      "{\"unrelated\": 1}",
      "[1, 2, 3]",
      "\n  From here on, text\n",
      std::string("\x00\x01\xff\xfe garbage", 12),
  };
  for (const std::string& text : cases) {
    auto in = InputStream::FromString(text, "mystery.bin");
    Result<Format> f = SniffFormat(*in);
    ASSERT_FALSE(f.ok()) << text;
    EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(f.status().message().find("mystery.bin"), std::string::npos);
  }
}

// An input with nothing in it (empty, blank lines, a BOM, the HN API's
// nulls) is read as no items, not failed as of an unknown format; text that
// is not blank still is.
TEST(ReadersTest, BlankInputsHoldNoItems) {
  for (const std::string& text :
       {std::string(), std::string("\n\n  \r\n"), std::string("\xEF\xBB\xBF\n"),
        std::string("null\nnull\n")}) {
    Collected c = ReadText(text, Format::kAuto, "quiet-month.txt");
    EXPECT_OK(c.status);
    EXPECT_TRUE(c.items.empty());
    EXPECT_TRUE(c.errors.empty());
  }
  Collected c = ReadText("not blank\n", Format::kAuto, "quiet-month.txt");
  EXPECT_FALSE(c.status.ok());
}

// First records whose telling keys lie past the first 64 KiB, as real dumps
// write them with their keys sorted: an Algolia item tree ("author",
// "children", …, "created_at_i" after the children), a Pushshift
// submission with many awards before "author_fullname" and "subreddit",
// and one with a long self post. Each is sniffed, and read.
TEST(ReadersTest, SniffSortedKeysPastTheWindow) {
  // /api/v1/items/ID: a story with 300 replies, keys sorted.
  std::string tree =
      "{\"author\":\"op\",\"children\":[";
  for (int i = 0; i < 300; ++i) {
    if (i > 0) tree += ",";
    tree += "{\"author\":\"u" + std::to_string(i) +
            "\",\"children\":[],\"created_at\":\"2024-01-01T00:00:00Z\","
            "\"created_at_i\":1704067200,\"id\":" +
            std::to_string(2000 + i) +
            ",\"options\":[],\"parent_id\":1000,\"points\":null,"
            "\"story_id\":1000,\"text\":\"<p>" +
            std::string(200, 'x') +
            " capybara</p>\",\"title\":null,\"type\":\"comment\","
            "\"url\":null}";
  }
  tree +=
      "],\"created_at\":\"2024-01-01T00:00:00Z\",\"created_at_i\":1704067200,"
      "\"id\":1000,\"options\":[],\"parent_id\":null,\"points\":5,"
      "\"story_id\":1000,\"text\":null,\"title\":\"Ask HN: x\","
      "\"type\":\"story\",\"url\":null}";
  ASSERT_GT(tree.size(), 64u << 10);

  // RS: 40 awards (about 2 KiB each) before the author.
  std::string award =
      "{\"award_sub_type\":\"GLOBAL\",\"coin_price\":100,\"description\":\"" +
      std::string(1500, 'd') +
      "\",\"icon_url\":\"https://i.redd.it/award_images/t5_22cerq/x.png\","
      "\"name\":\"Helpful\"}";
  std::string awarded = "{\"_meta\":{},\"all_awardings\":[";
  for (int i = 0; i < 40; ++i) awarded += (i > 0 ? "," : "") + award;
  awarded +=
      "],\"archived\":false,\"author\":\"woodguy\",\"author_fullname\":"
      "\"t2_145ffw\",\"created_utc\":1706745600,\"id\":\"1afjd7n\","
      "\"num_comments\":3,\"selftext\":\"\",\"subreddit\":\"woodworking\","
      "\"title\":\"A full maple farmhouse table\",\"url\":"
      "\"https://i.redd.it/x.jpg\"}\n";
  ASSERT_GT(awarded.size(), 64u << 10);

  // RS: a 40,000-character self post and its HTML before "subreddit".
  const std::string post(40000, 'w');
  const std::string self_post =
      "{\"author\":\"longposter\",\"id\":\"1afzzzz\",\"is_self\":true,"
      "\"num_comments\":0,\"score\":1,\"selftext\":\"" + post +
      "\",\"selftext_html\":\"&lt;p&gt;" + post +
      "&lt;/p&gt;\",\"subreddit\":\"woodworking\",\"title\":\"Long\"}\n";

  struct Case {
    std::string text;
    Format want;
    std::string id;
  };
  const Case cases[] = {
      {tree, Format::kAlgolia, "1000"},
      {awarded, Format::kPushshift, "1afjd7n"},
      {self_post, Format::kPushshift, "1afzzzz"},
  };
  for (const Case& c : cases) {
    auto in = InputStream::FromString(c.text, "s.json");
    Result<Format> f = SniffFormat(*in);
    ASSERT_OK(f);
    EXPECT_EQ(FormatName(*f), FormatName(c.want)) << c.id;
    EXPECT_EQ(in->Peek(c.text.size()), c.text);  // nothing consumed
    Collected r = ReadText(c.text, Format::kAuto, "s.json");
    ASSERT_OK(r.status);
    EXPECT_EQ(r.ErrorText(), "");
    EXPECT_NE(r.Find(c.id), nullptr) << c.id;
  }
  // The Algolia tree is read whole: the story and its 300 replies.
  Collected r = ReadText(tree, Format::kAuto, "s.json");
  EXPECT_EQ(r.items.size(), 301u);
}

// A mailbox behind a byte order mark or blank lines is sniffed and read
// whole: its first message is not lost to the mark.
TEST(ReadersTest, MboxWithBomOrLeadingBlankLines) {
  const std::string mbox =
      "From alice@example.org Mon Jan  7 10:00:00 2019\n"
      "From: alice@example.org\n"
      "Subject: first\n"
      "Message-ID: <m1@example.org>\n"
      "\n"
      "aardvark\n"
      "\n"
      "From bob@example.org Mon Jan  7 11:00:00 2019\n"
      "From: bob@example.org\n"
      "Subject: second\n"
      "Message-ID: <m2@example.org>\n"
      "\n"
      "bandicoot\n";
  const std::string cases[] = {
      "\xEF\xBB\xBF" + mbox,
      "\n\n" + mbox,
      "\r\n  \r\n" + mbox,
      "\xEF\xBB\xBF\n" + mbox,
  };
  for (const std::string& text : cases) {
    Collected c = ReadText(text, Format::kAuto, "t.mbox");
    ASSERT_OK(c.status);
    EXPECT_EQ(c.ErrorText(), "");
    ASSERT_EQ(c.items.size(), 2u) << text;
    EXPECT_EQ(c.items[0].id, "m1@example.org");
    EXPECT_EQ(c.items[0].text, "aardvark");
    EXPECT_EQ(c.items[1].id, "m2@example.org");
  }
}

TEST(ReadersTest, SniffCorpusFiles) {
  const std::pair<std::string, Format> cases[] = {
      {kHnComments, Format::kHnJson},
      {kBigQuery, Format::kBigQuery},
      {kPushshift, Format::kPushshift},
      {kAlgolia, Format::kAlgolia},
      {kThreadPage, Format::kThreadPage},
      {kCorpus + "/mailing-lists/r-help/2003-April.txt.gz", Format::kMbox},
      {kData + "/hn/bigquery-sample.jsonl", Format::kBigQuery},
      {kData + "/reddit/pushshift-sample.json", Format::kPushshift},
  };
  for (const auto& [path, want] : cases) {
    auto in = InputStream::Open(path);
    ASSERT_OK(in);
    Result<Format> f = SniffFormat(**in);
    ASSERT_OK(f);
    EXPECT_EQ(FormatName(*f), FormatName(want)) << path;
  }
}

// ---- HN Firebase JSON ------------------------------------------------------

// hn_comments.json: {"post": story, "comments": [407 comments]}. Counts by
// python3 json.load: 407 comments, all with parent 40846428; 12 "deleted",
// 16 "dead", 3 of them both, so 25 items are deleted or dead.
TEST(ReadersTest, HnCommentsCorpus) {
  Collected c = ReadPath(kHnComments);
  ASSERT_OK(c.status);
  EXPECT_TRUE(c.errors.empty()) << c.ErrorText();
  ASSERT_EQ(c.items.size(), 408u);
  const Item& story = c.items[0];
  EXPECT_EQ(story.id, "40846428");
  EXPECT_EQ(story.type, ItemType::kStory);
  EXPECT_EQ(story.author, "whoishiring");
  EXPECT_EQ(story.title, "Ask HN: Who is hiring? (July 2024)");
  EXPECT_EQ(story.time, 1719846109);
  EXPECT_EQ(story.points, 493);
  EXPECT_TRUE(story.has_points);
  EXPECT_EQ(story.num_comments, 596);
  EXPECT_EQ(story.kids.size(), 407u);
  EXPECT_EQ(story.kids[0], "40846920");
  EXPECT_TRUE(story.text_html);
  EXPECT_EQ(story.origin, kHnComments + ":2");

  int comments = 0, deleted = 0, with_parent = 0, no_author = 0;
  for (size_t i = 1; i < c.items.size(); ++i) {
    const Item& it = c.items[i];
    EXPECT_EQ(it.source, Source::kHN);
    if (it.type == ItemType::kComment) ++comments;
    if (it.deleted) ++deleted;
    if (it.parent == "40846428") ++with_parent;
    if (it.author.empty()) ++no_author;
  }
  EXPECT_EQ(comments, 407);
  EXPECT_EQ(deleted, 25);
  EXPECT_EQ(with_parent, 407);
  EXPECT_EQ(no_author, 12);  // Deleted comments lack "by".

  const Item& first = c.items[1];
  EXPECT_EQ(first.id, "40846920");
  EXPECT_EQ(first.author, "jjwarmerdam");
  EXPECT_EQ(first.time, 1719848692);
  EXPECT_EQ(first.kids, std::vector<std::string>{"40854600"});
  EXPECT_EQ(first.text.rfind("Make Waves | <a href=\"https:&#x2F;&#x2F;", 0),
            0u);
  EXPECT_EQ(first.origin, kHnComments + ":422");  // Line of its '{'.
  EXPECT_FALSE(first.has_points);

  const Item* dead = c.Find("40893766");
  ASSERT_NE(dead, nullptr);
  EXPECT_TRUE(dead->deleted);
  EXPECT_EQ(dead->author, "MELEKE");
  const Item* gone = c.Find("40846715");  // The last one: deleted, has kids.
  ASSERT_NE(gone, nullptr);
  EXPECT_TRUE(gone->deleted);
  EXPECT_EQ(gone->kids, std::vector<std::string>{"40847162"});
  EXPECT_EQ(&c.items.back(), gone);
}

TEST(ReadersTest, HnJsonShapes) {
  struct Case {
    std::string text;
    std::vector<std::string> ids;
    size_t errors;
  };
  const Case cases[] = {
      {"{\"id\": 1, \"type\": \"story\", \"title\": \"t\"}", {"1"}, 0},
      {"[{\"id\": 1}, {\"id\": 2}]", {"1", "2"}, 0},
      {"[\n  {\"id\": 1},\n  {\"id\": 2}\n]\n", {"1", "2"}, 0},
      {"{\"id\": 1}\n{\"id\": 2}\n\n{\"id\": 3}\n", {"1", "2", "3"}, 0},
      {"\n\n{\"id\": 1}\n{\"id\": 2}\n", {"1", "2"}, 0},
      {"{\n  \"id\": 5,\n  \"by\": \"x\"\n}\n", {"5"}, 0},
      {"{\"post\": {\"id\": 1}, \"comments\": [{\"id\": 2}, {\"id\": 3}]}",
       {"1", "2", "3"},
       0},
      {"{\"id\": 1}\nnot json\n{\"id\": 3}\n", {"1", "3"}, 1},
      {"{\"id\": 1}\n{\"by\": \"nobody\"}\n", {"1"}, 1},  // Missing id.
      {"[{\"id\": 1}, 7, {\"id\": 3}]", {"1", "3"}, 1},
      {"[{\"id\": 1, \"kids\": \"x\"}]", {}, 1},
      {"[{\"id\": 1, \"deleted\": true}, {\"id\": 2, \"dead\": true}]",
       {"1", "2"},
       0},
      {"{\"id\": 18446744073709551615}", {"18446744073709551615"}, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    Collected got = ReadText(c.text, Format::kHnJson);
    ASSERT_OK(got.status);
    std::vector<std::string> ids;
    for (const Item& it : got.items) ids.push_back(it.id);
    EXPECT_EQ(ids, c.ids) << c.text;
    EXPECT_EQ(got.errors.size(), c.errors) << c.text << "\n" << got.ErrorText();
  }
}

// A crawl of the HN API keeps users (GET /v0/user/NAME.json) beside the
// items: they are not items, and no story named "pg" is made of them.
TEST(ReadersTest, HnUsersAreNotItems) {
  const std::string text =
      "{\"by\": \"pg\", \"id\": 1, \"time\": 1160418111, \"title\": \"Y "
      "Combinator\", \"type\": \"story\"}\n"
      "{\"about\": \"Bug fixer.\", \"created\": 1160418092, \"id\": \"pg\", "
      "\"karma\": 155111, \"submitted\": [1]}\n"
      "{\"created\": 1173923446, \"id\": \"jl\", \"karma\": 2937}\n"
      "{\"by\": \"sama\", \"id\": 2, \"parent\": 1, \"time\": 1160418200, "
      "\"type\": \"comment\", \"text\": \"hi\"}\n";
  Collected got = ReadText(text, Format::kAuto, "crawl.jsonl");
  ASSERT_OK(got.status);
  EXPECT_EQ(got.ErrorText(), "");
  std::vector<std::string> ids;
  for (const Item& it : got.items) ids.push_back(it.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"1", "2"}));
}

TEST(ReadersTest, HnJsonFieldErrorsNameFieldAndLine) {
  struct Case {
    std::string line;
    std::string message;
  };
  const Case cases[] = {
      {"{\"id\": 2, \"time\": \"abc\"}", "field \"time\": expected integer"},
      {"{\"id\": 2, \"time\": 1.5e300}", "field \"time\": expected integer"},
      {"{\"id\": 2, \"time\": true}", "field \"time\": expected integer"},
      {"{\"id\": 2, \"by\": 7}", "field \"by\": expected string"},
      {"{\"id\": [2]}", "field \"id\": expected string or integer"},
      {"{\"id\": 2, \"score\": {}}", "field \"score\": expected integer"},
      {"{\"id\": 2, \"deleted\": \"maybe\"}",
       "field \"deleted\": expected boolean"},
      {"{\"time\": 5}", "missing field \"id\""},
  };
  for (const Case& c : cases) {
    std::string text = "{\"id\": 1}\n" + c.line + "\n{\"id\": 3}\n";
    Collected got = ReadText(text, Format::kHnJson, "hn.jsonl");
    ASSERT_OK(got.status);
    ASSERT_EQ(got.items.size(), 2u) << c.line;
    EXPECT_EQ(got.items[1].id, "3");
    EXPECT_EQ(got.items[1].origin, "hn.jsonl:3");
    ASSERT_EQ(got.errors.size(), 1u) << c.line;
    EXPECT_EQ(got.errors[0].where, "hn.jsonl:2");
    EXPECT_EQ(got.errors[0].message, c.message);
  }
}

// Errors inside a whole document carry the line of the bad object.
TEST(ReadersTest, DocumentErrorsCarryLines) {
  std::string text =
      "[\n"
      "  {\"id\": 1},\n"
      "  {\n"
      "    \"id\": 2,\n"
      "    \"time\": \"abc\"\n"
      "  },\n"
      "  {\"id\": 3, \"text\": \"has a { brace\\\" and\\n\"}\n"
      "]\n";
  Collected got = ReadText(text, Format::kHnJson, "doc.json");
  ASSERT_OK(got.status);
  ASSERT_EQ(got.items.size(), 2u);
  EXPECT_EQ(got.items[0].origin, "doc.json:2");
  EXPECT_EQ(got.items[1].origin, "doc.json:7");
  ASSERT_EQ(got.errors.size(), 1u);
  EXPECT_EQ(got.errors[0].where, "doc.json:3");
  EXPECT_EQ(got.errors[0].message, "field \"time\": expected integer");
}

// A document cut short is an error, as a truncated .gz is; the whole
// records of an array before the cut are read, as a .gz's are.
TEST(ReadersTest, BrokenDocumentIsAnError) {
  Collected got =
      ReadText("[\n{\"id\": 1},\n{\"id\": 2\n", Format::kHnJson, "broken.json");
  EXPECT_EQ(got.status.code(), StatusCode::kCorruption);
  EXPECT_EQ(got.status.message().rfind("broken.json:3: input ends inside", 0),
            0u)
      << got.status.ToString();
  ASSERT_EQ(got.items.size(), 1u);
  EXPECT_EQ(got.items[0].id, "1");
}

// One malformed record in a JSON array (a crawler's hand-edited or
// half-written file) costs only itself: the array is read element by
// element, the bad one reported at its line.
// A saved response or crawl cut short inside its records' array (an
// Algolia search response's "hits", the post/comments wrapper, a Pushshift
// API response's "data"): the whole records before the cut are read and
// the cut is reported at the object's line; on one line as pretty-printed.
TEST(ReadersTest, ObjectCutShortKeepsItsWholeRecords) {
  const std::string hits =
      "{\"hits\":[{\"objectID\":\"1\",\"_tags\":[\"story\"],\"title\":\"A\","
      "\"created_at_i\":1},{\"objectID\":\"2\",\"_tags\":[\"comment\"],"
      "\"parent_id\":1,\"comment_text\":\"b\",\"created_at_i\":2},"
      "{\"objectID\":\"3\",\"comment_te";
  Collected a = ReadText(hits, Format::kAuto, "search.json");
  ASSERT_OK(a.status);
  ASSERT_EQ(a.items.size(), 2u) << a.ErrorText();
  EXPECT_EQ(a.items[1].id, "2");
  EXPECT_EQ(a.items[1].parent, "1");
  ASSERT_EQ(a.errors.size(), 1u);
  EXPECT_EQ(a.errors[0].where, "search.json:1");
  EXPECT_EQ(a.errors[0].message.rfind("JSON object cut short", 0), 0u);

  const std::string wrapper =
      "{\n"
      "  \"post\": {\"by\": \"whoishiring\", \"id\": 10, \"time\": 5, "
      "\"type\": \"story\", \"kids\": [11, 12, 13]},\n"
      "  \"comments\": [\n"
      "    {\"by\": \"a\", \"id\": 11, \"parent\": 10, \"time\": 6, "
      "\"type\": \"comment\", \"text\": \"first\"},\n"
      "    {\"by\": \"b\", \"id\": 12, \"parent\": 10, \"time\": 7, "
      "\"type\": \"comment\", \"kids\": [14]},\n"
      "    {\"by\": \"c\", \"id\": 13, \"parent\": 10, \"te";
  Collected b = ReadText(wrapper, Format::kAuto, "hiring.json");
  ASSERT_FALSE(b.status.ok());
  EXPECT_EQ(b.status.code(), StatusCode::kCorruption);
  EXPECT_EQ(b.status.message().rfind("hiring.json:1: JSON object cut short",
                                     0),
            0u)
      << b.status.message();
  std::vector<std::string> ids, origins;
  for (const Item& it : b.items) {
    ids.push_back(it.id);
    origins.push_back(it.origin);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"10", "11", "12"}));
  EXPECT_EQ(origins, (std::vector<std::string>{"hiring.json:2", "hiring.json:4",
                                               "hiring.json:5"}));

  const std::string data =
      "{\"data\": [{\"id\": \"g1\", \"body\": \"x\", \"parent_id\": "
      "\"t3_a\", \"subreddit\": \"w\"}, {\"id\": \"g2\", \"body\": \"y\", "
      "\"parent_id\": \"t1_g1\", \"subreddit\": \"w\"}, {\"id\": \"g3\"";
  Collected c = ReadText(data, Format::kPushshift, "ps.json");
  ASSERT_OK(c.status);
  ASSERT_EQ(c.items.size(), 2u);
  EXPECT_EQ(c.items[1].parent, "g1");

  // A record cut short is not a wrapper: its arrays of objects (awards)
  // are not records, and nothing of it is read.
  Collected d = ReadText(
      "{\"id\": \"k1\", \"body\": \"whole\", \"parent_id\": \"t3_a\"}\n"
      "{\"id\": \"k2\", \"all_awardings\": [{\"id\": \"gid_1\"}], "
      "\"body\": \"cut",
      Format::kPushshift, "rc.ndjson");
  ASSERT_OK(d.status);
  ASSERT_EQ(d.items.size(), 1u);
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_EQ(d.errors[0].where, "rc.ndjson:2");
  EXPECT_EQ(d.errors[0].message.rfind("invalid JSON", 0), 0u);
}

TEST(ReadersTest, BadRecordInAnArrayKeepsItsNeighbours) {
  const std::string text =
      "[\n"
      "  {\"by\": \"pg\", \"id\": 126809, \"time\": 1204403652, "
      "\"type\": \"poll\"},\n"
      "  {\n"
      "    \"by\": \"justin\",\n"
      "    \"id\" 192327,\n"
      "    \"type\": \"job\"\n"
      "  },\n"
      "  null,\n"
      "  {\"by\": \"norvig\", \"id\": 2921983, \"parent\": 2921506, "
      "\"time\": 1314211127, \"type\": \"comment\", \"text\": \"a ] b\"},\n"
      "  {\"by\": \"x\", \"id\": 5, \"time\": \"soon\"}\n"
      "]\n";
  Collected got = ReadText(text, Format::kAuto, "items.json");
  ASSERT_OK(got.status);
  std::vector<std::string> ids, origins;
  for (const Item& it : got.items) {
    ids.push_back(it.id);
    origins.push_back(it.origin);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"126809", "2921983"}));
  EXPECT_EQ(origins,
            (std::vector<std::string>{"items.json:2", "items.json:9"}));
  ASSERT_EQ(got.errors.size(), 2u) << got.ErrorText();
  EXPECT_EQ(got.errors[0].where, "items.json:3");
  EXPECT_EQ(got.errors[0].message.rfind("invalid JSON", 0), 0u);
  EXPECT_EQ(got.errors[1].where, "items.json:10");
  EXPECT_EQ(got.errors[1].message, "field \"time\": expected integer");
}

// `jq .` prints pretty objects one after another.
TEST(ReadersTest, ConcatenatedPrettyObjects) {
  std::string text =
      "{\n"
      "  \"id\": 1, \"by\": \"a\",\n"
      "  \"title\": \"a { brace\"\n"
      "}\n"
      "{\n"
      "  \"id\": 2,\n"
      "  \"time\": \"abc\"\n"
      "}\n"
      "null\n"
      "{\n"
      "  \"id\": 3 \"by\": \"x\"\n"
      "}\n"
      "[\n"
      "  {\"id\": 4},\n"
      "  {\"id\": 5}\n"
      "]{\"id\": 6}\n";
  for (Format f : {Format::kAuto, Format::kHnJson}) {
    Collected got = ReadText(text, f, "jq.json");
    ASSERT_OK(got.status);
    std::vector<std::string> ids, origins;
    for (const Item& it : got.items) {
      ids.push_back(it.id);
      origins.push_back(it.origin);
    }
    EXPECT_EQ(ids, (std::vector<std::string>{"1", "4", "5", "6"}));
    EXPECT_EQ(origins, (std::vector<std::string>{"jq.json:1", "jq.json:14",
                                                 "jq.json:15", "jq.json:16"}));
    ASSERT_EQ(got.errors.size(), 2u) << got.ErrorText();
    EXPECT_EQ(got.errors[0].where, "jq.json:5");
    EXPECT_EQ(got.errors[0].message, "field \"time\": expected integer");
    EXPECT_EQ(got.errors[1].where, "jq.json:10");
    EXPECT_EQ(got.errors[1].message.rfind("invalid JSON", 0), 0u);
  }
  // A broken value that runs to the end loses only itself.
  Collected tail = ReadText("{\n  \"id\": 1\n}\n{\n  \"id\": 2\n", Format::kHnJson,
                            "tail.json");
  ASSERT_OK(tail.status);
  ASSERT_EQ(tail.items.size(), 1u);
  ASSERT_EQ(tail.errors.size(), 1u);
  EXPECT_EQ(tail.errors[0].where, "tail.json:4");
}

// Ids fetched from the HN API that have no item come back as `null`.
TEST(ReadersTest, NullRecordsAreSkipped) {
  const std::string cases[] = {
      "null\n{\"by\":\"a\",\"id\":1,\"time\":5,\"type\":\"story\"}\n"
      "{\"by\":\"b\",\"id\":2,\"parent\":1,\"time\":6}\n",
      "\nnull\nnull\n{\"by\":\"a\",\"id\":1,\"time\":5,\"type\":\"story\"}\n"
      "null\n{\"by\":\"b\",\"id\":2,\"parent\":1,\"time\":6}\n",
      "null\n{\n  \"by\": \"a\",\n  \"id\": 1\n}\nnull\n{\n  \"id\": 2\n}\n",
      // A crawler's array of fetched items, and the post/comments wrapper.
      "[null, {\"by\":\"a\",\"id\":1,\"time\":5,\"type\":\"story\"}, null,\n"
      " {\"by\":\"b\",\"id\":2,\"parent\":1,\"time\":6}]\n",
      "{\"post\": {\"by\":\"a\",\"id\":1,\"time\":5,\"type\":\"story\"},\n"
      " \"comments\": [null, {\"by\":\"b\",\"id\":2,\"parent\":1}, null]}\n",
  };
  for (const std::string& text : cases) {
    for (Format f : {Format::kAuto, Format::kHnJson}) {
      SCOPED_TRACE(text);
      Collected got = ReadText(text, f, "n.jsonl");
      ASSERT_OK(got.status);
      EXPECT_TRUE(got.errors.empty()) << text << got.ErrorText();
      ASSERT_EQ(got.items.size(), 2u) << text;
      EXPECT_EQ(got.items[0].id, "1");
      EXPECT_EQ(got.items[1].id, "2");
    }
  }
  Collected first = ReadText(cases[0], Format::kHnJson, "n.jsonl");
  ASSERT_EQ(first.items.size(), 2u);
  EXPECT_EQ(first.items[1].origin, "n.jsonl:3");
  // A bad line after a leading null costs only itself.
  Collected bad = ReadText("null\n{\"id\": 1}\n{\"id\": \n{\"id\": 3}\n",
                           Format::kHnJson, "n.jsonl");
  ASSERT_OK(bad.status);
  EXPECT_EQ(bad.items.size(), 2u);
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0].where, "n.jsonl:3");
}

// nlohmann's parser is iterative but walking a value is not: very deep
// nesting must be refused, not crash.
TEST(ReadersTest, NestingBomb) {
  std::string deep(100000, '[');
  for (Format f : {Format::kHnJson, Format::kAlgolia, Format::kBigQuery,
                   Format::kPushshift}) {
    Collected doc = ReadText(deep + std::string(100000, ']'), f);
    EXPECT_FALSE(doc.status.ok()) << FormatName(f);
    EXPECT_NE(doc.status.message().find("nested deeper"), std::string::npos);
    // As one line of JSON Lines: that record fails, the others are read.
    std::string lines =
        "{\"id\": \"1\"}\n{\"a\": " + deep + "}\n{\"id\": \"3\"}\n";
    Collected jl = ReadText(lines, f, "deep.jsonl");
    EXPECT_OK(jl.status);
    EXPECT_EQ(jl.items.size(), 2u) << FormatName(f) << jl.ErrorText();
    ASSERT_EQ(jl.errors.size(), 1u) << FormatName(f);
    EXPECT_EQ(jl.errors[0].where, "deep.jsonl:2");
  }
  // An Algolia item tree nested 1,500 levels (3,000 JSON levels) is refused;
  // 300 levels are read, every node emitted.
  for (int levels : {300, 1500}) {
    std::string tree;
    for (int i = 1; i <= levels; ++i) {
      tree += "{\"id\": " + std::to_string(i) +
              ", \"type\": \"comment\", \"author\": \"a\", \"children\": [";
    }
    for (int i = 1; i <= levels; ++i) tree += "]}";
    Collected got = ReadText(tree, Format::kAlgolia);
    if (levels == 300) {
      ASSERT_OK(got.status);
      ASSERT_EQ(got.items.size(), 300u);
      EXPECT_EQ(got.items[299].parent, "");  // parent_id not given.
    } else {
      // One line, so read as JSON Lines: a bad record, reported.
      EXPECT_OK(got.status);
      EXPECT_TRUE(got.items.empty());
      ASSERT_EQ(got.errors.size(), 1u);
      EXPECT_NE(got.errors[0].message.find("nested deeper"), std::string::npos);
    }
  }
}

// ---- Whole documents, streamed -------------------------------------------

// A top-level array far larger than the per-value cap, of small elements,
// is read completely, element by element, on one line as pretty-printed,
// however the input is cut into chunks; each item gets its own line.
TEST(ReadersTest, ArrayLargerThanTheValueCapIsReadWhole) {
  for (const bool pretty : {false, true}) {
    std::string text = "[";
    for (int id = 1; id <= 3000; ++id) {
      if (id > 1) text += pretty ? ",\n" : ",";
      text += HnObject(id, "item " + std::to_string(id), pretty);
    }
    text += "]\n";
    ASSERT_GT(text.size(), 100u * 1024);
    for (const size_t chunk : {size_t{13}, size_t{4096}}) {
      SCOPED_TRACE(std::to_string(pretty) + " " + std::to_string(chunk));
      Collected got = ReadChunked(text, chunk, /*max_value=*/1024);
      ASSERT_OK(got.status);
      EXPECT_TRUE(got.errors.empty()) << got.ErrorText();
      ASSERT_EQ(got.items.size(), 3000u);
      EXPECT_EQ(got.items[2999].id, "3000");
      EXPECT_EQ(got.items[2999].text, "item 3000");
      // Pretty: "[{" opens line 1, and each object takes five lines.
      EXPECT_EQ(got.items[2999].origin,
                pretty ? "t.json:" + std::to_string(1 + 2999 * 5) : "t.json:1");
    }
  }
}

// One value larger than the cap is an error naming the file and the line
// where it starts; the records before it were read.
TEST(ReadersTest, ValueLargerThanTheCapIsAnError) {
  const std::string big(5000, 'x');
  const std::string texts[] = {
      "[\n" + HnObject(1, "a", false) + ",\n" + HnObject(2, big, false) +
          ",\n" + HnObject(3, "c", false) + "]\n",
      HnObject(1, "a", true) + "\n" + HnObject(2, big, false) + "\n" +
          HnObject(3, "c", false) + "\n",
  };
  for (const std::string& text : texts) {
    Collected got = ReadChunked(text, 100, /*max_value=*/1000, "big.json");
    const std::string where = &text == &texts[0] ? "big.json:3" : "big.json:6";
    ExpectFailure(got.status, StatusCode::kInvalidArgument,
                  where + ": JSON value larger than 1000 bytes");
    ASSERT_EQ(got.items.size(), 1u);
    EXPECT_EQ(got.items[0].id, "1");
  }
}

// Chunk boundaries anywhere (in a string, right after a backslash, between
// "\\" and a closing quote, in a scalar, in the BOM) change nothing: each
// document reads the same with 1-byte chunks as in one piece.
TEST(ReadersTest, ChunkBoundariesChangeNothing) {
  const std::string tricky[] = {
      R"(a ] b [ c } d { e)",
      R"(q \" q \"\" \\\" ],[)",
      R"(ends in \\)",
      R"(\\\\)",
      R"(\"{\"id\": 9}\")",
      R"(\u00e9 \ud83d\ude00 \/)",
  };
  std::string compact = "\xEF\xBB\xBF[", pretty = "[\n  null,\n";
  int id = 0;
  for (const std::string& t : tricky) {
    compact += HnObject(++id, t, false) + ",";
    pretty += HnObject(++id, t, true) + ",\n  1,\n";
  }
  compact += "null]";
  pretty += "{\"id\": 99, \"time\": \"x\"}\n]\n";
  const std::string documents[] = {
      compact,
      pretty,
      // A bad element between good ones.
      "[\n" + HnObject(1, "a", true) + ",\n{\"id\" 2},\n" +
          HnObject(3, "x ] \\\\", false) + "]",
      // Objects one after another, as `jq .` prints them.
      HnObject(1, "a \\\" {", true) + "\n" + HnObject(2, "b", true) +
          "\nnull\n{\n  \"id\": 3 \"by\": \"x\"\n}\n" + HnObject(4, "]", true) +
          "\n",
      // Cut short inside an array, and inside a top-level wrapper.
      "[" + HnObject(1, "a", false) + ",\n" + HnObject(2, "b\\\\", false) +
          ",\n{\"id\": 3, \"text\": \"c\\",
      "{\"post\": " + HnObject(1, "a", false) + ",\n \"comments\": [" +
          HnObject(2, "]", false) + ",\n" + HnObject(3, "\\\"", false) +
          ",\n{\"id\": 4, \"te",
  };
  for (const std::string& doc : documents) {
    SCOPED_TRACE(doc);
    const std::string whole = Summary(ReadChunked(doc, size_t{1} << 20));
    for (const size_t chunk : {1, 2, 3, 5, 8}) {
      EXPECT_EQ(Summary(ReadChunked(doc, chunk)), whole) << chunk;
    }
  }
  // What the compact and pretty documents hold.
  Collected c = ReadChunked(compact, 1);
  ASSERT_OK(c.status);
  EXPECT_TRUE(c.errors.empty()) << c.ErrorText();
  ASSERT_EQ(c.items.size(), 6u);
  EXPECT_EQ(c.items[1].text, "q \" q \"\" \\\" ],[");
  EXPECT_EQ(c.items[2].text, "ends in \\");
  EXPECT_EQ(c.items[3].text, "\\\\");
  Collected p = ReadChunked(pretty, 1, size_t{1} << 30, "p.json");
  ASSERT_OK(p.status);
  ASSERT_EQ(p.items.size(), 6u);
  EXPECT_EQ(p.items[0].origin, "p.json:3");
  EXPECT_EQ(p.items[1].origin, "p.json:9");
  EXPECT_EQ(p.items[5].text, "\xC3\xA9 \xF0\x9F\x98\x80 /");
  // The scalar elements (1) are not items; the last object is bad.
  ASSERT_EQ(p.errors.size(), 7u) << p.ErrorText();
  EXPECT_EQ(p.errors[0].where, "p.json:8");
  EXPECT_EQ(p.errors[0].message, "expected an item object");
  EXPECT_EQ(p.errors[6].where, "p.json:39");
  EXPECT_EQ(p.errors[6].message, "field \"time\": expected integer");
}

// A gzip'd array cut short: the whole elements before the break are read,
// then the stream's error; the array is never loaded whole.
TEST(ReadersTest, TruncatedGzipArrayKeepsItsWholeElements) {
  std::string text = "[\n";
  for (int id = 1; id <= 3000; ++id) {
    text += HnObject(id, "element number " + std::to_string(id), false) +
            (id < 3000 ? ",\n" : "\n]\n");
  }
  const std::string gz = Gzip(text);
  for (const bool cut : {false, true}) {
    auto in = InputStream::FromString(cut ? gz.substr(0, gz.size() / 2) : gz,
                                      "items.json.gz");
    in->set_chunk_size(1000);
    Collected got = ReadIn(*in, Format::kAuto);
    if (!cut) {
      ASSERT_OK(got.status);
      EXPECT_EQ(got.items.size(), 3000u);
      continue;
    }
    EXPECT_EQ(got.status.code(), StatusCode::kCorruption);
    EXPECT_NE(got.status.message().find("truncated gzip"), std::string::npos)
        << got.status.ToString();
    EXPECT_GT(got.items.size(), 100u);
    EXPECT_LT(got.items.size(), 3000u);
    EXPECT_EQ(got.items.back().origin,
              "items.json.gz:" + std::to_string(got.items.size() + 1));
    EXPECT_TRUE(got.errors.empty()) << got.ErrorText();
  }
}

// A nesting bomb inside an array fails the file, naming its line, but no
// longer costs its neighbours.
TEST(ReadersTest, NestingBombInAnArrayKeepsItsNeighbours) {
  const std::string deep = std::string(5000, '[') + std::string(5000, ']');
  Collected got = ReadText("[\n" + HnObject(1, "a", false) + ",\n" + deep +
                               ",\n" + HnObject(3, "c", false) + "\n]\n",
                           Format::kHnJson, "bomb.json");
  ExpectFailure(got.status, StatusCode::kCorruption,
                "bomb.json:3: JSON nested deeper");
  ASSERT_EQ(got.items.size(), 2u);
  EXPECT_EQ(got.items[1].origin, "bomb.json:4");
}

TEST(ReadersTest, InvalidUtf8Line) {
  std::string text =
      "{\"id\": \"1\", \"by\": \"a\"}\n{\"id\": \"2\", \"by\": \"\xff\xfe\"}\n"
      "{\"id\": \"3\", \"by\": \"c\"}\n";
  // Invalid bytes are replaced (U+FFFD) and the record kept.
  Collected got = ReadText(text, Format::kBigQuery, "bad-utf8.jsonl");
  ASSERT_OK(got.status);
  ASSERT_EQ(got.items.size(), 3u);
  EXPECT_EQ(got.errors.size(), 0u);
  EXPECT_EQ(got.items[1].author, "\xEF\xBF\xBD\xEF\xBF\xBD");
}

// Python's json and Reddit dumps write unpaired UTF-16 surrogates; each
// becomes U+FFFD and the record is kept.
TEST(ReadersTest, LoneSurrogateEscapes) {
  struct Case {
    std::string body;  // JSON string contents.
    std::string want;
  };
  const std::string fffd = "\xEF\xBF\xBD";
  const Case cases[] = {
      {R"(a \ud83d b)", "a " + fffd + " b"},
      {R"(a \uDE00 b)", "a " + fffd + " b"},
      {R"(\ud83d\ude00)", "\xF0\x9F\x98\x80"},
      {R"(\ud83d\ud83d\ude00)", fffd + "\xF0\x9F\x98\x80"},
      {R"(\ude00\ud83d)", fffd + fffd},
      {R"(\ud83d\n)", fffd + "\n"},
      {R"(end \ud83d)", "end " + fffd},
      {R"(\\ud83d)", "\\ud83d"},
      {R"(\\\ud83d)", "\\" + fffd},
      {R"(\u00e9)", "\xC3\xA9"},
  };
  for (const Case& c : cases) {
    std::string text = R"({"id": "s1", "parent_id": "t3_x", "body": ")" +
                       c.body + "\"}\n";
    Collected got = ReadText(text, Format::kPushshift, "RC.ndjson");
    ASSERT_OK(got.status);
    ASSERT_EQ(got.items.size(), 1u) << c.body << got.ErrorText();
    EXPECT_EQ(got.items[0].text, c.want) << c.body;
  }
  // Outside strings an escape is still a syntax error.
  Collected bad = ReadText("{\"id\": \"1\"}\n{\"id\": \\ud83d}\n",
                           Format::kPushshift, "RC.ndjson");
  ASSERT_OK(bad.status);
  EXPECT_EQ(bad.items.size(), 1u);
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0].where, "RC.ndjson:2");
}

TEST(ReadersTest, TooLongLineIsABadRecord) {
  std::string text = "{\"id\": \"1\"}\n{\"id\": \"2\", \"text\": \"" +
                     std::string(5000, 'x') + "\"}\n{\"id\": \"3\"}\n";
  auto in = InputStream::FromString(text, "long.jsonl");
  in->set_max_line(1000);
  Collected got = ReadIn(*in, Format::kBigQuery);
  ASSERT_OK(got.status);
  ASSERT_EQ(got.items.size(), 2u);
  ASSERT_EQ(got.errors.size(), 1u);
  EXPECT_EQ(got.errors[0].where, "long.jsonl:2");
}

// ---- BigQuery
// ----------------------------------------------------------------

// 1,000 lines, every value a string, no "type": `wc -l` and python3 json.
TEST(ReadersTest, BigQueryCorpus) {
  Collected c = ReadPath(kBigQuery);
  ASSERT_OK(c.status);
  EXPECT_TRUE(c.errors.empty()) << c.ErrorText();
  ASSERT_EQ(c.items.size(), 1000u);
  std::map<std::string, int> parents;
  for (const Item& it : c.items) {
    EXPECT_EQ(it.type, ItemType::kComment);
    EXPECT_FALSE(it.parent.empty());
    EXPECT_FALSE(it.author.empty());
    EXPECT_GT(it.time, 0);
    ++parents[it.parent];
  }
  EXPECT_EQ(parents.size(), 974u);
  const Item& first = c.items[0];
  EXPECT_EQ(first.id, "33223750");
  EXPECT_EQ(first.author, "criddell");
  EXPECT_EQ(first.time, 1665929544);
  EXPECT_EQ(first.parent, "33220665");
  EXPECT_TRUE(first.text_html);
  EXPECT_EQ(first.origin, kBigQuery + ":1");
  const Item& last = c.items[999];
  EXPECT_EQ(last.id, "33195042");
  EXPECT_EQ(last.author, "77pt77");
  EXPECT_EQ(last.origin, kBigQuery + ":1000");
}

TEST(ReadersTest, BigQueryFixtureWithBadLine) {
  std::string good = ReadFileOrDie(kData + "/hn/bigquery-sample.jsonl");
  // The fixture's first two lines, a bad one, then the rest.
  size_t second_end = good.find('\n', good.find('\n') + 1) + 1;
  std::string text = good.substr(0, second_end) +
                     "{\"id\":\"1\",\"by\":\"x\",\"time\":\"abc\","
                     "\"parent\":\"2\"}\n" +
                     good.substr(second_end);
  Collected got = ReadText(text, Format::kAuto, "bq.jsonl");
  ASSERT_OK(got.status);
  ASSERT_EQ(got.items.size(), 5u);
  ASSERT_EQ(got.errors.size(), 1u);
  EXPECT_EQ(got.errors[0].where, "bq.jsonl:3");
  EXPECT_EQ(got.errors[0].message, "field \"time\": expected integer");
  EXPECT_EQ(got.items[2].id, "33103583");
  EXPECT_EQ(got.items[2].origin, "bq.jsonl:4");
  EXPECT_EQ(got.items[1].text.rfind("&gt; No one is quite sure why.<p>", 0),
            0u);
}

TEST(ReadersTest, BigQueryOptionalColumns) {
  std::string line =
      "{\"id\":\"9\",\"by\":\"pg\",\"time\":\"100\",\"title\":\"T\","
      "\"url\":\"http://x\",\"score\":\"42\",\"type\":\"story\","
      "\"descendants\":\"7\",\"deleted\":\"true\",\"dead\":null}\n";
  Collected got = ReadText(line, Format::kBigQuery);
  ASSERT_OK(got.status);
  ASSERT_EQ(got.items.size(), 1u);
  const Item& it = got.items[0];
  EXPECT_EQ(it.type, ItemType::kStory);
  EXPECT_EQ(it.points, 42);
  EXPECT_TRUE(it.has_points);
  EXPECT_EQ(it.num_comments, 7);
  EXPECT_TRUE(it.deleted);
  EXPECT_EQ(it.url, "http://x");
}

// pandas writes nullable integer columns as floats, as numbers or strings.
TEST(ReadersTest, BigQueryIdsWrittenAsFloats) {
  std::string text =
      R"({"id": 33240000, "type": "story", "parent": null})" "\n"
      R"({"id": 33240001.0, "parent": 33240000.0})" "\n"
      R"({"id": "33240002.0", "parent": "33240001.00"})" "\n"
      R"({"id": 4, "parent": 33240000.5})" "\n"
      R"({"id": 5, "parent": "33240000.5"})" "\n"
      R"({"id": 6, "parent": 1e300})" "\n"
      R"({"id": 7, "parent": "33240000"})" "\n";
  Collected got = ReadText(text, Format::kBigQuery, "pandas.jsonl");
  ASSERT_OK(got.status);
  ASSERT_EQ(got.items.size(), 4u) << got.ErrorText();
  EXPECT_EQ(got.items[0].id, "33240000");
  EXPECT_EQ(got.items[1].id, "33240001");
  EXPECT_EQ(got.items[1].parent, "33240000");
  EXPECT_EQ(got.items[1].type, ItemType::kComment);
  EXPECT_EQ(got.items[2].id, "33240002");
  EXPECT_EQ(got.items[2].parent, "33240001");
  EXPECT_EQ(got.items[3].id, "7");
  ASSERT_EQ(got.errors.size(), 3u);
  EXPECT_EQ(got.errors[0].where, "pandas.jsonl:4");
  EXPECT_EQ(got.errors[0].message,
            "field \"parent\": expected an integer id, got 33240000.5");
  EXPECT_EQ(got.errors[1].where, "pandas.jsonl:5");
  EXPECT_EQ(got.errors[1].message,
            "field \"parent\": expected an integer id, got \"33240000.5\"");
  EXPECT_EQ(got.errors[2].where, "pandas.jsonl:6");
  EXPECT_EQ(got.errors[2].message.rfind(
                "field \"parent\": expected an integer id, got ", 0),
            0u);
}

// Exports in finer units (pandas' to_json writes milliseconds) are read
// as seconds, in every JSON format's time field.
TEST(ReadersTest, TimesInMillisecondsAreSeconds) {
  const int64_t t = 1661122800;
  struct Case {
    Format format;
    std::string line;
  };
  const Case cases[] = {
      {Format::kBigQuery, R"({"id": 1, "type": "story", "time": 1661122800000})"},
      {Format::kBigQuery, R"({"id": 2, "type": "story", "time": "1661122800000000"})"},
      {Format::kHnJson, R"({"id": 3, "type": "story", "time": 1661122800000000000})"},
      {Format::kAlgolia,
       R"({"hits": [{"objectID": "4", "_tags": ["story"], "created_at_i": 1661122800000}]})"},
      {Format::kPushshift,
       R"({"id": "abc", "author": "a", "created_utc": 1661122800000, "body": "x", "link_id": "t3_q", "parent_id": "t3_q"})"},
      {Format::kPushshift,
       R"({"id": "abd", "author": "a", "created_utc": "1661122800", "body": "x", "link_id": "t3_q", "parent_id": "t3_q"})"},
      {Format::kBigQuery, R"({"id": 5, "type": "story", "time": 1661122800})"},
  };
  for (const Case& c : cases) {
    Collected got = ReadText(c.line + "\n", c.format, "t.json");
    ASSERT_OK(got.status);
    ASSERT_EQ(got.items.size(), 1u) << c.line << " " << got.ErrorText();
    EXPECT_EQ(got.items[0].time, t) << c.line;
  }
}

// BigQuery rows may carry "timestamp" instead of "time", and either as a
// UTC date-time string.
TEST(ReadersTest, BigQueryTimestamps) {
  // Each is 2022-10-16 06:01:40 UTC.
  const std::string cases[] = {
      R"("timestamp": "1665900100")",
      R"("timestamp": "2022-10-16 06:01:40 UTC")",
      R"("time": "2022-10-16 06:01:40 UTC")",
      R"("time": "2022-10-16 06:01:40.250 UTC")",
      R"("time": "2022-10-16T06:01:40Z")",
      R"("time": "2022-10-16T06:01:40+00:00")",
      R"("time": "2022-10-16 08:01:40+02:00")",
      R"("time": "1665900100", "timestamp": "2001-01-01 00:00:00 UTC")",
      R"("timestamp": 1665900100)",
  };
  for (const std::string& fields : cases) {
    std::string line = R"({"id": "1", "by": "a", )" + fields + "}\n";
    Collected got = ReadText(line, Format::kBigQuery);
    ASSERT_OK(got.status);
    ASSERT_EQ(got.items.size(), 1u) << fields << got.ErrorText();
    EXPECT_EQ(got.items[0].time, 1665900100) << fields;
  }
  for (const char* bad : {R"("time": "2022-10-16 06:01:40 PST")",
                          R"("timestamp": "yesterday")"}) {
    Collected got =
        ReadText(R"({"id": "1", )" + std::string(bad) + "}\n", Format::kBigQuery);
    ASSERT_OK(got.status);
    EXPECT_TRUE(got.items.empty()) << bad;
    ASSERT_EQ(got.errors.size(), 1u) << bad;
    EXPECT_NE(got.errors[0].message.find("expected integer"), std::string::npos);
  }
}

// The legacy BigQuery tables (hacker_news.stories, .comments) carry
// "author" beside "by" and "time_ts" beside "time"; a query may keep only
// the legacy columns, and Python writes booleans as "True"/"False".
TEST(ReadersTest, BigQueryLegacyTables) {
  const std::string path = kData + "/hn/bigquery-legacy-tables.jsonl";
  EXPECT_EQ(SniffPath(path), "bigquery");
  Collected c = ReadPath(path);
  ASSERT_OK(c.status);
  EXPECT_EQ(c.ErrorText(), "");
  ASSERT_EQ(c.items.size(), 3u);
  EXPECT_EQ(c.items[0].author, "erin");
  EXPECT_EQ(c.items[0].title, "Legacy stories table row");
  EXPECT_EQ(c.items[0].time, 1388534900);  // 2014-01-01 00:08:20 UTC
  EXPECT_EQ(c.items[0].num_comments, 1);
  EXPECT_EQ(c.items[1].author, "fay");
  EXPECT_EQ(c.items[1].time, 1388535000);
  EXPECT_EQ(c.items[1].parent, "7000006");
  EXPECT_EQ(c.items[2].author, "gus");
  EXPECT_EQ(c.items[2].time, 1388535100);
  EXPECT_FALSE(c.items[2].deleted);

  // "by" wins over "author", "time" over "time_ts"; "TRUE" is true.
  Collected both = ReadText(
      "{\"id\": \"1\", \"by\": \"a\", \"author\": \"b\", \"time\": \"5\", "
      "\"time_ts\": \"2014-01-01 00:00:00 UTC\", \"dead\": \"TRUE\"}\n",
      Format::kBigQuery);
  ASSERT_OK(both.status);
  ASSERT_EQ(both.items.size(), 1u) << both.ErrorText();
  EXPECT_EQ(both.items[0].author, "a");
  EXPECT_EQ(both.items[0].time, 5);
  EXPECT_TRUE(both.items[0].deleted);
}

// ---- Pushshift
// ---------------------------------------------------------------

// 27 lines, the last without a newline; created_utc is a float on lines
// 1-10, a string on 11-15 and 27, an int on 16-26 (python3 json).
TEST(ReadersTest, PushshiftCorpus) {
  Collected c = ReadPath(kPushshift);
  ASSERT_OK(c.status);
  EXPECT_TRUE(c.errors.empty()) << c.ErrorText();
  ASSERT_EQ(c.items.size(), 27u);
  int deleted = 0, no_author = 0, top_level = 0;
  for (const Item& it : c.items) {
    EXPECT_EQ(it.source, Source::kReddit);
    EXPECT_EQ(it.type, ItemType::kComment);
    EXPECT_FALSE(it.text_html);
    EXPECT_FALSE(it.thread_hint.empty());
    EXPECT_FALSE(it.channel.empty());
    EXPECT_GT(it.time, 1000000000);
    if (it.deleted) ++deleted;
    if (it.author.empty()) ++no_author;
    if (it.parent == it.thread_hint) ++top_level;
  }
  EXPECT_EQ(deleted, 4);     // Bodies "[removed]" x2, "[deleted]" x2.
  EXPECT_EQ(no_author, 5);   // Authors "[deleted]".
  EXPECT_EQ(top_level, 18);  // parent_id "t3_…".
  const Item& first = c.items[0];
  EXPECT_EQ(first.id, "kod0bkd");
  EXPECT_EQ(first.author, "DubsAli");
  EXPECT_EQ(first.time, 1706745600);
  EXPECT_EQ(first.parent, "1afjd7n");
  EXPECT_EQ(first.thread_hint, "1afjd7n");
  EXPECT_EQ(first.channel, "woodworking");
  EXPECT_EQ(first.points, 2);
  EXPECT_EQ(first.text,
            "Absolutely stunning. Really love this, perfect finish IMO as "
            "well.");
  const Item* str_time = c.Find("c0cmuol");
  ASSERT_NE(str_time, nullptr);
  EXPECT_EQ(str_time->time, 1251763200);
  EXPECT_EQ(str_time->parent, "c0cmjyg");
  EXPECT_EQ(str_time->thread_hint, "9fure");
  const Item* int_time = c.Find("c13");
  ASSERT_NE(int_time, nullptr);
  EXPECT_EQ(int_time->time, 1134365188);
  // Old dumps escape markdown's > as &gt;.
  const Item* quoted = c.Find("c0cmuoo");
  ASSERT_NE(quoted, nullptr);
  EXPECT_EQ(quoted->text.rfind(">Nebraska\n>Diocese", 0), 0u);
  EXPECT_EQ(c.items.back().id, "c63fp23");
  EXPECT_EQ(c.items.back().origin, kPushshift + ":27");
}

TEST(ReadersTest, PushshiftFixtureAndSubmission) {
  Collected c = ReadPath(kData + "/reddit/pushshift-sample.json");
  ASSERT_OK(c.status);
  ASSERT_EQ(c.items.size(), 6u);
  EXPECT_TRUE(c.items[1].deleted);
  EXPECT_EQ(c.items[1].author, "");
  EXPECT_EQ(c.items[1].time, 1706745600);

  std::string rs =
      "{\"id\": \"1afjd7n\", \"author\": \"maker\", \"title\": \"A table\", "
      "\"selftext\": \"Made &amp; finished\", \"url\": \"https://i.redd.it/x\","
      " \"num_comments\": 12, \"score\": \"30\", \"created_utc\": "
      "\"1706745000\", \"subreddit\": \"woodworking\"}";
  Collected s = ReadText(rs, Format::kAuto);
  ASSERT_OK(s.status);
  ASSERT_EQ(s.items.size(), 1u);
  const Item& it = s.items[0];
  EXPECT_EQ(it.type, ItemType::kStory);
  EXPECT_EQ(it.title, "A table");
  EXPECT_EQ(it.text, "Made & finished");
  EXPECT_EQ(it.url, "https://i.redd.it/x");
  EXPECT_EQ(it.num_comments, 12);
  EXPECT_EQ(it.points, 30);
  EXPECT_EQ(it.parent, "");
  EXPECT_EQ(it.thread_hint, "");
  EXPECT_EQ(it.time, 1706745000);
}

// A moderator-removed self post keeps its title, but "[removed]" is not its
// text; character references that Reddit's markdown renders (the new
// editor's "&#x200B;" for a blank paragraph, "&nbsp;", an escaped "&amp;")
// are decoded, in dumps that escape & as "&amp;" and in dumps that do not.
TEST(ReadersTest, PushshiftRemovedPostsAndMarkdownEntities) {
  const std::string text =
      "{\"id\": \"s1\", \"title\": \"Removed post about chisels\", "
      "\"selftext\": \"[removed]\", \"author\": \"someone\", "
      "\"subreddit\": \"woodworking\", \"created_utc\": 1600000000}\n"
      "{\"id\": \"s2\", \"title\": \"Zero width\", \"selftext\": \"First "
      "para\\n\\n&amp;#x200B;\\n\\nSecond&amp;nbsp;para &amp;amp; AT&amp;T\","
      " \"author\": \"zw\", \"subreddit\": \"woodworking\", "
      "\"created_utc\": 1600000002}\n"
      "{\"id\": \"k1\", \"body\": \"&#x200B;\\n\\n&gt; quoted &amp; kept\", "
      "\"parent_id\": \"t3_s1\", \"link_id\": \"t3_s1\", \"author\": \"c\", "
      "\"subreddit\": \"woodworking\", \"created_utc\": 1600000003}\n"
      "{\"id\": \"k2\", \"body\": \"[removed]\", \"parent_id\": \"t1_k1\", "
      "\"link_id\": \"t3_s1\", \"author\": \"d\", "
      "\"subreddit\": \"woodworking\", \"created_utc\": 1600000004}\n";
  Collected c = ReadText(text, Format::kAuto, "RS_2020-09");
  ASSERT_OK(c.status);
  EXPECT_EQ(c.ErrorText(), "");
  ASSERT_EQ(c.items.size(), 4u);
  const Item& removed = c.items[0];
  EXPECT_EQ(removed.title, "Removed post about chisels");
  EXPECT_EQ(removed.author, "someone");
  EXPECT_EQ(removed.text, "");
  EXPECT_FALSE(removed.deleted);
  EXPECT_EQ(c.items[1].text,
            "First para\n\n\u200B\n\nSecond\u00A0para & AT&T");
  EXPECT_EQ(c.items[2].text, "\u200B\n\n> quoted & kept");
  EXPECT_TRUE(c.items[3].deleted);
}

// A Pushshift API response saved whole ({"data": [...], "metadata": ...},
// as curl or jq left it) is sniffed and read record by record.
TEST(ReadersTest, PushshiftApiResponse) {
  const std::string text =
      "{\n"
      "  \"data\": [\n"
      "    {\n"
      "      \"author\": \"alpha\",\n"
      "      \"body\": \"api comment about mortise\",\n"
      "      \"created_utc\": 1600000000,\n"
      "      \"id\": \"g1\",\n"
      "      \"link_id\": \"t3_abc\",\n"
      "      \"parent_id\": \"t3_abc\",\n"
      "      \"subreddit\": \"woodworking\"\n"
      "    },\n"
      "    {\"author\": \"beta\", \"body\": \"second\", \"created_utc\": "
      "1600000100, \"id\": \"g2\", \"link_id\": \"t3_abc\", \"parent_id\": "
      "\"t1_g1\", \"subreddit\": \"woodworking\"}\n"
      "  ],\n"
      "  \"metadata\": {\"total_results\": 2}\n"
      "}\n";
  auto in = InputStream::FromString(text, "search.json");
  Result<Format> f = SniffFormat(*in);
  ASSERT_OK(f);
  EXPECT_EQ(FormatName(*f), "pushshift");
  Collected c = ReadText(text, Format::kAuto, "search.json");
  ASSERT_OK(c.status);
  EXPECT_EQ(c.ErrorText(), "");
  ASSERT_EQ(c.items.size(), 2u);
  EXPECT_EQ(c.items[0].id, "g1");
  EXPECT_EQ(c.items[0].origin, "search.json:3");
  EXPECT_EQ(c.items[1].parent, "g1");
  EXPECT_EQ(c.items[1].thread_hint, "abc");
}

// A comment from Reddit's API listings (a user's comments, a saved search)
// names its submission: link_title and link_url, as Algolia's story_title
// and story_url.
TEST(ReadersTest, RedditCommentNamesItsSubmission) {
  const std::string text =
      "{\"author\": \"alpha\", \"body\": \"nice joint\", \"created_utc\": "
      "1600000000, \"id\": \"g1\", \"link_id\": \"t3_abc\", \"parent_id\": "
      "\"t3_abc\", \"subreddit\": \"woodworking\", \"link_title\": "
      "\"Cutting a mortise &amp; tenon\", \"link_url\": "
      "\"https://www.reddit.com/r/woodworking/comments/abc/\"}\n"
      "{\"author\": \"beta\", \"body\": \"no title here\", \"created_utc\": "
      "1600000100, \"id\": \"g2\", \"link_id\": \"t3_abc\", \"parent_id\": "
      "\"t1_g1\"}\n";
  Collected c = ReadText(text, Format::kPushshift, "rc.jsonl");
  ASSERT_OK(c.status);
  EXPECT_EQ(c.ErrorText(), "");
  ASSERT_EQ(c.items.size(), 2u);
  EXPECT_EQ(c.items[0].story_title, "Cutting a mortise & tenon");
  EXPECT_EQ(c.items[0].story_url,
            "https://www.reddit.com/r/woodworking/comments/abc/");
  EXPECT_EQ(c.items[1].story_title, "");
  EXPECT_EQ(c.items[1].story_url, "");
}

// Old dump shapes (2005-2015): created_utc a string or an int, "edited" a
// number, "[deleted]" authors, a comment with "name" ("t1_c14") and no
// "id", one with no "link_id", submissions (RS) mixed with comments (RC)
// and coming after their comments.
TEST(ReadersTest, PushshiftOldShapesMixed) {
  const std::string path = kData + "/reddit/pushshift-2005-mixed.ndjson";
  EXPECT_EQ(SniffPath(path), "pushshift");
  Collected c = ReadPath(path);
  ASSERT_OK(c.status);
  EXPECT_EQ(c.ErrorText(), "");
  ASSERT_EQ(c.items.size(), 5u);
  const Item& deleted = c.items[0];
  EXPECT_EQ(deleted.id, "c13");
  EXPECT_TRUE(deleted.deleted);
  EXPECT_EQ(deleted.author, "");
  EXPECT_EQ(deleted.time, 1134366000);
  const Item& named = c.items[1];
  EXPECT_EQ(named.id, "c14");
  EXPECT_EQ(named.origin, path + ":2");
  EXPECT_EQ(named.type, ItemType::kComment);
  EXPECT_EQ(named.parent, "c13");
  EXPECT_EQ(named.thread_hint, "87");
  EXPECT_EQ(named.author, "alexis");
  EXPECT_EQ(named.text, "The memo was leaked & then denied");
  const Item& link = c.items[2];
  EXPECT_EQ(link.id, "87");
  EXPECT_EQ(link.type, ItemType::kStory);
  EXPECT_EQ(link.title, "The Downing Street Memo");
  EXPECT_EQ(link.url, "http://www.timesonline.co.uk/memo");
  EXPECT_EQ(link.time, 1134365188);
  EXPECT_EQ(link.num_comments, 2);
  const Item& self = c.items[3];
  EXPECT_EQ(self.type, ItemType::kStory);
  EXPECT_EQ(self.text, "What is your favourite llama? > none");
  EXPECT_EQ(self.points, 5);
  EXPECT_EQ(self.num_comments, 1);
  const Item& no_link = c.items[4];
  EXPECT_EQ(no_link.parent, "88");
  EXPECT_EQ(no_link.thread_hint, "");
  EXPECT_EQ(no_link.points, 2);

  // Neither "id" nor "name": the record is reported, its neighbours kept.
  Collected bad = ReadText(
      "{\"body\": \"a\", \"parent_id\": \"t3_x\", \"id\": \"k1\"}\n"
      "{\"body\": \"b\", \"parent_id\": \"t3_x\"}\n"
      "{\"body\": \"c\", \"parent_id\": \"t3_x\", \"name\": \"t1_k3\"}\n",
      Format::kPushshift, "rc.ndjson");
  ASSERT_OK(bad.status);
  ASSERT_EQ(bad.items.size(), 2u);
  EXPECT_EQ(bad.items[1].id, "k3");
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0].where, "rc.ndjson:2");
  EXPECT_EQ(bad.errors[0].message, "missing field \"id\" (and \"name\")");
}

// Reddit's own JSON, as Arctic Shift's /api/comments/tree answers and as a
// thread's ".json" page is saved: Listings of {"kind", "data"} things, each
// comment's replies a Listing again ("" when none), "more" stubs skipped.
TEST(ReadersTest, RedditListingsAndArcticShiftTrees) {
  const std::string path = kData + "/reddit/arctic-shift-comment-tree.json";
  Collected c = ReadPath(path);
  ASSERT_OK(c.status);
  EXPECT_EQ(c.ErrorText(), "");
  std::vector<std::string> ids;
  for (const Item& it : c.items) ids.push_back(it.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"kod1aaa", "kod2bbb", "kod3ccc",
                                           "kod6fff"}));
  ASSERT_EQ(c.items.size(), 4u);
  EXPECT_EQ(c.items[0].parent, "1afjd7n");
  EXPECT_EQ(c.items[0].author, "maker");
  EXPECT_EQ(c.items[1].parent, "kod1aaa");
  EXPECT_EQ(c.items[2].parent, "kod2bbb");
  EXPECT_EQ(c.items[2].text, "Osmo polyx, two coats.");
  EXPECT_EQ(c.items[2].thread_hint, "1afjd7n");
  EXPECT_TRUE(c.items[3].deleted);

  // A saved thread page: [Listing of the submission, Listing of comments].
  const std::string page =
      "[{\"kind\": \"Listing\", \"data\": {\"children\": [{\"kind\": \"t3\", "
      "\"data\": {\"id\": \"abc\", \"name\": \"t3_abc\", \"title\": \"A "
      "bench\", \"selftext\": \"Built from pallets\", \"author\": \"op\", "
      "\"created_utc\": 1706745600.0, \"subreddit\": \"woodworking\", "
      "\"num_comments\": 1}}]}},\n"
      " {\"kind\": \"Listing\", \"data\": {\"children\": [{\"kind\": \"t1\", "
      "\"data\": {\"id\": \"k1\", \"body\": \"Nice bench\", \"author\": \"a\","
      " \"parent_id\": \"t3_abc\", \"link_id\": \"t3_abc\", \"created_utc\": "
      "1706745700.0, \"replies\": \"\"}}, {\"kind\": \"t2\", \"data\": "
      "{\"name\": \"someone\"}}]}}]\n";
  auto in = InputStream::FromString(page, "abc.json");
  Result<Format> f = SniffFormat(*in);
  ASSERT_OK(f);
  EXPECT_EQ(FormatName(*f), "pushshift");
  Collected p = ReadIn(*in, Format::kAuto);
  ASSERT_OK(p.status);
  EXPECT_EQ(p.ErrorText(), "");
  ASSERT_EQ(p.items.size(), 2u);
  EXPECT_EQ(p.items[0].type, ItemType::kStory);
  EXPECT_EQ(p.items[0].title, "A bench");
  EXPECT_EQ(p.items[1].parent, "abc");
  EXPECT_EQ(p.items[1].origin, "abc.json:2");

  // A Listing whose children are not an array is reported.
  Collected bad = ReadText(
      "{\"kind\": \"Listing\", \"data\": {\"children\": 5}}\n",
      Format::kPushshift, "l.json");
  ASSERT_OK(bad.status);
  EXPECT_TRUE(bad.items.empty());
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0].where, "l.json:1");
  EXPECT_EQ(bad.errors[0].message, "field \"children\": expected array");
}

// ---- Algolia
// -----------------------------------------------------------------

// responses.json: 26 recorded replies (python3 json): 24 search responses
// with one hit each (18 distinct objectIDs), the /api/v1/items/17 tree of 3
// items, and the /api/v1/users/pg user, which is not an item.
TEST(ReadersTest, AlgoliaCorpus) {
  Collected c = ReadPath(kAlgolia);
  ASSERT_OK(c.status);
  EXPECT_TRUE(c.errors.empty()) << c.ErrorText();
  ASSERT_EQ(c.items.size(), 27u);
  std::map<ItemType, int> types;
  for (const Item& it : c.items) {
    ++types[it.type];
    EXPECT_TRUE(it.text_html);
    EXPECT_GT(it.time, 0);
    EXPECT_FALSE(it.author.empty());
  }
  EXPECT_EQ(types[ItemType::kComment], 6 + 3);
  EXPECT_EQ(types[ItemType::kPoll], 6);
  EXPECT_EQ(types[ItemType::kStory], 12);

  const Item& hit = c.items[0];
  EXPECT_EQ(hit.id, "6805807");
  EXPECT_EQ(hit.type, ItemType::kComment);
  EXPECT_EQ(hit.author, "zedshaw");
  EXPECT_EQ(hit.time, 1385518716);
  EXPECT_EQ(hit.parent, "6805699");
  EXPECT_EQ(hit.thread_hint, "6805699");
  EXPECT_EQ(hit.points, 1081);
  EXPECT_EQ(hit.text.rfind("Hey, other comments are going to give you", 0), 0u);

  const Item* story = c.Find("3078128");
  ASSERT_NE(story, nullptr);
  EXPECT_EQ(story->type, ItemType::kStory);
  EXPECT_EQ(story->title, "Steve Jobs has passed away.");
  EXPECT_EQ(story->url, "http://www.apple.com/stevejobs/");
  EXPECT_EQ(story->num_comments, 376);
  EXPECT_EQ(story->parent, "");

  const Item* root = c.Find("17");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->parent, "15");
  EXPECT_EQ(root->thread_hint, "1");
  EXPECT_EQ(root->text, "<p>Is there anywhere to eat on Sandhill Road?</p>");
  const Item* child = c.Find("454426");
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(child->parent, "17");
  EXPECT_EQ(child->author, "Arrington");
  EXPECT_EQ(child->time, 1233174747);
  EXPECT_EQ(c.Find("pg"), nullptr);
}

TEST(ReadersTest, AlgoliaShapes) {
  struct Case {
    std::string text;
    std::vector<std::string> ids;
    size_t errors;
  };
  const Case cases[] = {
      {"{\"hits\": [{\"objectID\": \"1\", \"_tags\": [\"story\"]}, "
       "{\"objectID\": \"2\", \"_tags\": [\"comment\"]}], \"nbHits\": 2}",
       {"1", "2"},
       0},
      {"{\"objectID\": \"5\", \"created_at\": \"2013-11-27T02:18:36.000Z\"}\n"
       "{\"objectID\": \"6\", \"created_at\": \"yesterday\"}\n",
       {"5"},
       1},
      {"{\"id\": 1, \"children\": [{\"id\": 2, \"children\": [{\"id\": 3}]}, "
       "{\"id\": 4}]}",
       {"1", "2", "3", "4"},
       0},
      {"[{\"url\": \"/u\", \"reply\": {\"username\": \"pg\", \"id\": 1}}]",
       {},
       0},
      {"{\"hits\": [{\"author\": \"no id\"}]}", {}, 1},
      {"{\"something\": \"else\"}", {}, 1},
  };
  for (const Case& c : cases) {
    Collected got = ReadText(c.text, Format::kAlgolia);
    ASSERT_OK(got.status);
    std::vector<std::string> ids;
    for (const Item& it : got.items) ids.push_back(it.id);
    EXPECT_EQ(ids, c.ids) << c.text;
    EXPECT_EQ(got.errors.size(), c.errors) << c.text << got.ErrorText();
  }
  Collected iso = ReadText(
      "{\"objectID\": \"5\", \"created_at\": "
      "\"2013-11-27T02:18:36.000Z\"}",
      Format::kAlgolia);
  ASSERT_EQ(iso.items.size(), 1u);
  EXPECT_EQ(iso.items[0].time, 1385518716);
}

// The HN API links a poll option to its poll by "poll", not "parent".
TEST(ReadersTest, HnPollOptionsBelongToThePoll) {
  std::string text =
      "{\"id\": 10, \"type\": \"poll\", \"parts\": [11, 12], "
      "\"kids\": [13]}\n"
      "{\"id\": 11, \"type\": \"pollopt\", \"poll\": 10, \"text\": \"Yes\"}\n"
      "{\"id\": 12, \"poll\": \"10\", \"text\": \"No\"}\n"
      "{\"id\": 13, \"type\": \"comment\", \"parent\": 10}\n"
      "{\"id\": 14, \"poll\": [10]}\n";
  Collected got = ReadText(text, Format::kHnJson, "poll.jsonl");
  ASSERT_OK(got.status);
  ASSERT_EQ(got.items.size(), 4u) << got.ErrorText();
  EXPECT_EQ(got.items[0].parent, "");
  EXPECT_EQ(got.items[1].parent, "10");
  EXPECT_EQ(got.items[1].type, ItemType::kPollOpt);
  EXPECT_EQ(got.items[2].parent, "10");
  EXPECT_EQ(got.items[3].parent, "10");
  ASSERT_EQ(got.errors.size(), 1u);
  EXPECT_EQ(got.errors[0].where, "poll.jsonl:5");
  EXPECT_EQ(got.errors[0].message, "field \"poll\": expected string or integer");
}

// An Algolia item tree keeps a poll's options in "options"; they are items
// of the poll, before its comments.
TEST(ReadersTest, AlgoliaPollOptions) {
  std::string tree =
      "{\"id\": 10, \"type\": \"poll\", \"author\": \"pg\", "
      "\"title\": \"Poll\", \"options\": ["
      "{\"id\": 11, \"type\": \"pollopt\", \"author\": \"pg\", "
      "\"text\": \"Yes\", \"parent_id\": 10, \"options\": [], "
      "\"children\": []}, "
      "{\"id\": 12, \"author\": \"pg\", \"text\": \"No\"}], "
      "\"children\": [{\"id\": 13, \"type\": \"comment\", \"author\": \"j\", "
      "\"text\": \"c\", \"parent_id\": 10, \"options\": [], "
      "\"children\": []}]}";
  Collected got = ReadText(tree, Format::kAlgolia);
  ASSERT_OK(got.status);
  EXPECT_TRUE(got.errors.empty()) << got.ErrorText();
  std::vector<std::string> ids, parents;
  for (const Item& it : got.items) {
    ids.push_back(it.id);
    parents.push_back(it.parent);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"10", "11", "12", "13"}));
  EXPECT_EQ(parents, (std::vector<std::string>{"", "10", "10", "10"}));
  ASSERT_EQ(got.items.size(), 4u);
  EXPECT_EQ(got.items[1].type, ItemType::kPollOpt);
  EXPECT_EQ(got.items[2].type, ItemType::kPollOpt);  // No "type": an option.
  EXPECT_EQ(got.items[3].type, ItemType::kComment);
  Collected bad = ReadText("{\"id\": 10, \"options\": 3}", Format::kAlgolia);
  ASSERT_OK(bad.status);
  EXPECT_EQ(bad.items.size(), 1u);
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0].message, "field \"options\": expected array");
}

// ---- Compressed input
// --------------------------------------------------------

TEST(ReadersTest, CompressedCorpusAndTruncation) {
  std::string raw = ReadFileOrDie(kBigQuery);
  TempDir dir;
  struct Case {
    std::string name;
    std::string bytes;
  };
  std::string gz = Gzip(raw), zst = Zstd(raw);
  const Case whole[] = {{"bq.jsonl.gz", gz}, {"bq.jsonl.zst", zst}};
  for (const Case& c : whole) {
    WriteFileOrDie(dir.Sub(c.name), c.bytes);
    Collected got = ReadPath(dir.Sub(c.name));
    ASSERT_OK(got.status);
    EXPECT_EQ(got.items.size(), 1000u) << c.name;
  }
  const Case cut[] = {{"cut.jsonl.gz", gz.substr(0, gz.size() / 2)},
                      {"cut.jsonl.zst", zst.substr(0, zst.size() / 2)}};
  for (const Case& c : cut) {
    WriteFileOrDie(dir.Sub(c.name), c.bytes);
    Collected got = ReadPath(dir.Sub(c.name));
    EXPECT_EQ(got.status.code(), StatusCode::kCorruption) << c.name;
    EXPECT_NE(got.status.message().find("truncated"), std::string::npos);
    EXPECT_GT(got.items.size(), 100u) << c.name;
    EXPECT_LT(got.items.size(), 1000u) << c.name;
    EXPECT_TRUE(got.errors.empty()) << got.ErrorText();
  }
  // A whole-document format, truncated: an error and no items.
  std::string doc = ReadFileOrDie(kHnComments);
  std::string doc_gz = Gzip(doc);
  WriteFileOrDie(dir.Sub("hn.json.gz"), doc_gz.substr(0, doc_gz.size() - 10));
  Collected got = ReadPath(dir.Sub("hn.json.gz"));
  EXPECT_EQ(got.status.code(), StatusCode::kCorruption);
}

// ---- Thread page
// -------------------------------------------------------------

// hn-thread-page-42133844.txt: 4 comment headers; replies lists link
// 42133844 → 42134046 → 42134507 → 42134706. No story id on the page.
TEST(ReadersTest, ThreadPageCorpus) {
  Collected c = ReadPath(kThreadPage);
  ASSERT_OK(c.status);
  EXPECT_TRUE(c.errors.empty());
  ASSERT_EQ(c.items.size(), 4u);
  struct Want {
    std::string id, author, parent;
    size_t kids;
    std::string text_start;
    int line;
  };
  const Want want[] = {
      {"42133844", "fchollet", "", 20, "Hi HN, Francois here.", 8},
      {"42134046", "openrisk", "42133844", 4, "> I was a L5 IC at the time",
       20},
      {"42134507", "Barrin92", "42134046", 3,
       "Bureaucracy as per Weber is simply", 28},
      {"42134706", "dbspin", "42134507", 0,
       "Bureaucracies are certainly impersonal", 34},
  };
  for (size_t i = 0; i < 4; ++i) {
    const Item& it = c.items[i];
    EXPECT_EQ(it.id, want[i].id);
    EXPECT_EQ(it.author, want[i].author);
    EXPECT_EQ(it.parent, want[i].parent);
    EXPECT_EQ(it.kids.size(), want[i].kids);
    EXPECT_EQ(it.text.rfind(want[i].text_start, 0), 0u) << it.text;
    EXPECT_EQ(it.origin, kThreadPage + ":" + std::to_string(want[i].line));
    EXPECT_EQ(it.type, ItemType::kComment);
    EXPECT_FALSE(it.text_html);
    EXPECT_EQ(it.thread_hint, "");
    EXPECT_EQ(it.time, 0);
    // The page's story (not emitted: the page names no id) by its title.
    EXPECT_EQ(it.story_title, "Francois Chollet is leaving Google");
  }
  EXPECT_EQ(c.items[0].kids.front(), "42133884");
  EXPECT_EQ(c.items[0].kids.back(), "42136329");
  // Paragraphs keep their blank lines; the replies line is not text.
  EXPECT_NE(c.items[0].text.find("!\n\nHere's a start --\n\n"),
            std::string::npos);
  EXPECT_EQ(c.items[0].text.find("replies("), std::string::npos);
  EXPECT_EQ(c.items[3].text.back(), '.');
}

TEST(ReadersTest, ThreadPageWithStoryId) {
  std::string page =
      "\xE2\x86\x90"
      "back to thread\n\nA title\n\n(example.com)\n"
      "12 points alice | 3 comments | item?id=100\n"
      "bob \xE2\x97\xB4[] No.101[source]\nhello\n\nreplies(1): >>102 #\n"
      "2. carol \xE2\x97\xB4[] No.102[source]\nhi bob\n"
      "dave \xE2\x97\xB4[] No.103[source]\nunlinked\n";
  Collected c = ReadText(page, Format::kAuto, "page.txt");
  ASSERT_OK(c.status);
  ASSERT_EQ(c.items.size(), 4u);
  EXPECT_EQ(c.items[0].id, "100");
  EXPECT_EQ(c.items[0].type, ItemType::kStory);
  EXPECT_EQ(c.items[0].title, "A title");
  EXPECT_EQ(c.items[0].author, "alice");
  EXPECT_EQ(c.items[0].points, 12);
  EXPECT_EQ(c.items[1].text, "hello");
  EXPECT_EQ(c.items[1].parent, "");
  EXPECT_EQ(c.items[1].thread_hint, "100");
  EXPECT_EQ(c.items[2].author, "carol");
  EXPECT_EQ(c.items[2].parent, "101");
  EXPECT_EQ(c.items[3].parent, "");
  EXPECT_EQ(c.items[3].thread_hint, "100");
  for (size_t i = 1; i < 4; ++i) EXPECT_EQ(c.items[i].story_title, "A title");
}

// tests/data/hn/thread-page-nested-dead.txt: a page that indents replies
// by depth (their "replies(N)" lines too), a one-point story, a deleted
// comment ("[deleted]" for author and text), a dead one ("[dead]" after
// its header) and a flagged one, whose text HN still shows.
TEST(ReadersTest, ThreadPageIndentedWithRemovedComments) {
  const std::string path =
      std::string(TS_TEST_DATA) + "/hn/thread-page-nested-dead.txt";
  Collected c = ReadPath(path);
  ASSERT_OK(c.status);
  ASSERT_EQ(c.items.size(), 6u);
  EXPECT_EQ(c.items[0].id, "9000");
  EXPECT_EQ(c.items[0].title, "Ask HN: Which editor do you use?");
  EXPECT_EQ(c.items[0].author, "pollster");
  EXPECT_EQ(c.items[0].points, 1);
  struct Want {
    std::string id, author, parent, text;
    bool deleted;
  };
  const Want want[] = {
      {"9001", "alice", "",
       "Vim, obviously. \u00dcn\u00efc\u00f6d\u00e9 \u2713 \u65e5\u672c\u8a9e",
       false},
      {"9002", "bob", "9001", "Emacs.", false},
      {"9003", "", "9002", "", true},
      {"9005", "dan", "9002", "", true},
      {"9004", "carol", "9001", "> Vim\n\nNano!", false},
  };
  for (size_t i = 0; i < std::size(want); ++i) {
    const Item& it = c.items[i + 1];
    EXPECT_EQ(it.id, want[i].id);
    EXPECT_EQ(it.author, want[i].author) << it.id;
    EXPECT_EQ(it.parent, want[i].parent) << it.id;
    EXPECT_EQ(it.text, want[i].text) << it.id;
    EXPECT_EQ(it.deleted, want[i].deleted) << it.id;
    EXPECT_EQ(it.thread_hint, "9000") << it.id;
  }
}

// A time in a header's brackets, where a page shows one: Unix seconds, ISO
// and a US browser's form are read as UTC; anything else leaves time 0, and
// the header is a header all the same.
TEST(ReadersTest, ThreadPageHeaderTimes) {
  struct Case {
    std::string bracket;
    int64_t want;
  };
  // date -u -d '2024-11-14 18:04:12' +%s
  const int64_t t = 1731607452;
  const Case cases[] = {
      {"", 0},
      {"1731607452", t},
      {"2024-11-14 18:04:12", t},
      {"2024-11-14T18:04:12Z", t},
      {"2024-11-14 18:04:12 UTC", t},
      {"2024-11-14 18:04", t - 12},
      {"11/14/2024, 6:04:12 PM", t},
      {"11/14/2024, 12:04:12 AM", t - 18 * 3600},
      {"3 hours ago", 0},
      {"2024-13-14 18:04:12", 0},
      {"14/11/2024, 6:04:12 PM", 0},
      {"2024-11-14 18:04:12 +0100", 0},
  };
  for (const Case& k : cases) {
    const std::string page = "bob \xE2\x97\xB4[" + k.bracket +
                             "] No.101[source]\nhello\n";
    Collected c = ReadText(page, Format::kThreadPage, "page.txt");
    ASSERT_OK(c.status);
    ASSERT_EQ(c.items.size(), 1u) << k.bracket;
    EXPECT_EQ(c.items[0].id, "101") << k.bracket;
    EXPECT_EQ(c.items[0].time, k.want) << k.bracket;
  }
}

}  // namespace
}  // namespace threadsearch
