// The threadsearch program end to end: exit codes, JSON output, text output.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "tests/testutil.h"

namespace threadsearch {
namespace {

struct RunResult {
  int code = -1;
  std::string out;
};

// Runs the program with a shell command line; captures stdout.
RunResult RunCmd(const std::string& args) {
  std::string cmd = std::string(TS_BINARY) + " " + args + " 2>/dev/null";
  RunResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    db_ = tmp_->Sub("db");
    RunResult r = RunCmd("index --quiet --db " + db_ + " " + TS_CORPUS +
                      "/hn " + TS_CORPUS + "/reddit " + TS_CORPUS +
                      "/hn-thread-page-42133844.txt " + TS_CORPUS +
                      "/mailing-lists/r-help/2003-May.txt.gz");
    ASSERT_EQ(r.code, 0);
  }
  static void TearDownTestSuite() { delete tmp_; }
  static TempDir* tmp_;
  static std::string db_;
};
TempDir* CliTest::tmp_ = nullptr;
std::string CliTest::db_;

TEST_F(CliTest, SearchJsonHasTheDocumentedShape) {
  RunResult r = RunCmd("search --json --db " + db_ + " --limit 3 keras");
  ASSERT_EQ(r.code, 0);
  nlohmann::json j = nlohmann::json::parse(r.out);
  for (const char* k : {"query", "total", "page", "limit", "took_ms", "hits"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  ASSERT_GE(j["total"].get<int>(), 1);
  const auto& h = j["hits"][0];
  for (const char* k : {"id", "source", "type", "author", "time", "title",
                        "parent", "thread", "depth", "score", "snippet",
                        "context"}) {
    EXPECT_TRUE(h.contains(k)) << k;
  }
  EXPECT_TRUE(h["context"].contains("root"));
  EXPECT_TRUE(h["context"].contains("ancestors"));
  EXPECT_NE(h["snippet"].get<std::string>().find("<mark>"), std::string::npos);
}

// Context items name their authors as the items themselves do: a mail
// author's name beside the address.
TEST_F(CliTest, ContextItemsCarryAuthorNames) {
  RunResult r = RunCmd("search --json --db " + db_ + " --limit 20 lm source:mail");
  ASSERT_EQ(r.code, 0);
  nlohmann::json j = nlohmann::json::parse(r.out);
  int named = 0;
  for (const auto& h : j["hits"]) {
    for (const auto& a : h["context"]["ancestors"]) {
      if (a.value("missing", false)) continue;
      RunResult it = RunCmd("search --json --db " + db_ + " 'id:" +
                            a["id"].get<std::string>() + "'");
      ASSERT_EQ(it.code, 0);
      nlohmann::json item = nlohmann::json::parse(it.out);
      ASSERT_EQ(item["hits"].size(), 1u) << a["id"];
      EXPECT_EQ(a["author"], item["hits"][0]["author"]);
      EXPECT_EQ(a.value("author_name", ""),
                item["hits"][0].value("author_name", ""));
      if (!a.value("author_name", "").empty()) ++named;
    }
  }
  EXPECT_GT(named, 0);
}

TEST_F(CliTest, ThreadPageTreeIsRebuilt) {
  // 42134706 answers 42134507, which answers 42134046 (the page's
  // replies(N) lists say so).
  RunResult r = RunCmd("thread --json --db " + db_ + " 42134706");
  ASSERT_EQ(r.code, 0);
  nlohmann::json j = nlohmann::json::parse(r.out);
  std::vector<std::string> chain;
  for (const auto& a : j["ancestors"]) chain.push_back(a["id"]);
  ASSERT_GE(chain.size(), 2u);
  EXPECT_EQ(chain.back(), "42134507");
  EXPECT_EQ(chain[chain.size() - 2], "42134046");
  // The page's story is not in the corpus; its title, from the page, is
  // the thread's.
  EXPECT_EQ(j["title"], "Francois Chollet is leaving Google");
}

// A reply to a message the archive lacks (R-help 2004-April 531) shows
// in its References root's thread, the missing message between them.
TEST(CliHintTest, MissingParentShowsBetweenTheThreadAndTheReply) {
  TempDir tmp;
  const std::string db = tmp.Sub("db");
  const std::string missing = "20040413101212.O2137@hortresearch.co.nz";
  ASSERT_EQ(RunCmd("index --quiet --db " + db + " " + TS_TEST_DATA +
                   "/mail/r-help-2004-April-524-533.txt")
                .code,
            0);
  RunResult r = RunCmd("search --json --db " + db +
                       " id:407B1A00.5070608@indigoindustrial.co.nz");
  ASSERT_EQ(r.code, 0);
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["hits"].size(), 1u);
  const nlohmann::json& c = j["hits"][0]["context"];
  EXPECT_EQ(c["root"]["id"], "407AE4F6.5080006@ucdavis.edu");
  EXPECT_EQ(c["root"]["size"], 4);
  ASSERT_EQ(c["ancestors"].size(), 3u);
  EXPECT_EQ(c["ancestors"][1]["id"], missing);
  EXPECT_EQ(c["ancestors"][1]["missing"], true);
  EXPECT_FALSE(c["ancestors"][2].contains("missing"));
  r = RunCmd("thread --db " + db + " 407B164A.6040302@ucdavis.edu");
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("  - [not in the archive]  id " + missing +
                       "\n"
                       "    ▶ wwsprague@ucdavis.edu"),
            std::string::npos)
      << r.out;
  r = RunCmd("thread --json --db " + db + " 407B164A.6040302@ucdavis.edu");
  ASSERT_EQ(r.code, 0);
  j = nlohmann::json::parse(r.out);
  const nlohmann::json* node = nullptr;
  for (const auto& k : j["thread"]["children"]) {
    if (k["id"] == missing) node = &k;
  }
  ASSERT_NE(node, nullptr) << r.out;
  EXPECT_EQ((*node)["missing"], true);
  EXPECT_EQ((*node)["depth"], 1);
  ASSERT_EQ((*node)["children"].size(), 1u);
  EXPECT_EQ((*node)["children"][0]["id"], "407B164A.6040302@ucdavis.edu");
  r = RunCmd("check --db " + db);
  EXPECT_EQ(r.code, 0) << r.out;
}

TEST_F(CliTest, UserAndStats) {
  RunResult u = RunCmd("user --json --db " + db_ + " whoishiring");
  ASSERT_EQ(u.code, 0);
  nlohmann::json j = nlohmann::json::parse(u.out);
  EXPECT_EQ(j["items"].get<int>(), 1);
  EXPECT_GT(j["replies_received"].get<int>(), 300);
  // The text names the stored spelling and how to list the replies.
  u = RunCmd("user --db " + db_ + " WhoIsHiring");
  ASSERT_EQ(u.code, 0);
  EXPECT_EQ(u.out.find("whoishiring\n"), 0u) << u.out;
  EXPECT_NE(u.out.find("(list them: search --to whoishiring)"),
            std::string::npos)
      << u.out;
  RunResult s = RunCmd("stats --json --db " + db_);
  ASSERT_EQ(s.code, 0);
  nlohmann::json st = nlohmann::json::parse(s.out);
  EXPECT_GT(st["by_source"]["mail"].get<int>(), 1000);
  EXPECT_EQ(st["by_source"]["reddit"].get<int>(), 27);
}

TEST_F(CliTest, ExitCodes) {
  EXPECT_EQ(RunCmd("").code, 2);                     // no subcommand
  EXPECT_EQ(RunCmd("search --bogus").code, 2);       // unknown flag
  EXPECT_EQ(RunCmd("search --db " + tmp_->Sub("none") + " x").code, 1);
  EXPECT_EQ(RunCmd("search --db " + db_ + " --sort sideways x").code, 2);
  EXPECT_EQ(RunCmd("thread --db " + db_ + " no-such-item").code, 1);
  EXPECT_EQ(RunCmd("serve --db " + db_ + " --postings-memory -1").code, 2);
  // An unreadable input: non-zero, and the good file beside it still lands.
  WriteFileOrDie(tmp_->Sub("garbage.json"), std::string("\x01\x02\x03zz", 5));
  std::string db2 = tmp_->Sub("db2");
  RunResult r = RunCmd("index --quiet --db " + db2 + " " + tmp_->Sub("garbage.json") +
                    " " + TS_CORPUS + "/reddit");
  EXPECT_EQ(r.code, 1);
  RunResult s = RunCmd("stats --json --db " + db2);
  ASSERT_EQ(s.code, 0);
  EXPECT_EQ(nlohmann::json::parse(s.out)["items"].get<int>(), 27);
}

TEST_F(CliTest, IndexFromStdinThenCheck) {
  std::string db = tmp_->Sub("stdin-db");
  RunResult r = RunCmd("index --quiet --db " + db + " - < " + TS_CORPUS +
                       "/reddit/Paul-E-Pushshift-Importer/test_comments.json");
  ASSERT_EQ(r.code, 0);
  RunResult again = RunCmd("index --quiet --json --db " + db + " - < " +
                           TS_CORPUS +
                           "/reddit/Paul-E-Pushshift-Importer/test_comments.json");
  ASSERT_EQ(again.code, 0);
  nlohmann::json j = nlohmann::json::parse(again.out);
  EXPECT_EQ(j["added"].get<int>(), 0);
  EXPECT_EQ(j["unchanged"].get<int>(), 27);
  RunResult c = RunCmd("check --json --db " + db);
  ASSERT_EQ(c.code, 0) << c.out;
  nlohmann::json cj = nlohmann::json::parse(c.out);
  EXPECT_TRUE(cj["consistent"].get<bool>());
  EXPECT_EQ(cj["items"].get<int>(), 27);
}

TEST_F(CliTest, ReindexingTheSameFilesSkipsThem) {
  RunResult r = RunCmd("index --quiet --json --db " + db_ + " " + TS_CORPUS +
                       "/reddit");
  ASSERT_EQ(r.code, 0);
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["files_unchanged"].get<int>(), 1);
  EXPECT_EQ(j["items_read"].get<int>(), 0);
  EXPECT_EQ(RunCmd("search --db " + db_ + " --after 99999999999999999999 x").code,
            2);
}

TEST_F(CliTest, NameFlagsTakeOneValueEach) {
  // Words after --author are query words, not more authors.
  RunResult r = RunCmd("search --json --db " + db_ +
                       " --author ripley@stats.ox.ac.uk --author whoishiring"
                       " hiring");
  ASSERT_EQ(r.code, 0);
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["query"], "hiring");
  ASSERT_GT(j["total"].get<int>(), 0);
  for (const auto& h : j["hits"]) {
    std::string a = h["author"];
    EXPECT_TRUE(a == "ripley@stats.ox.ac.uk" || a == "whoishiring") << a;
  }
  r = RunCmd("search --json --db " + db_ + " --to whoishiring remote");
  ASSERT_EQ(r.code, 0);
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["query"], "remote");
  ASSERT_GT(j["total"].get<int>(), 0);
  for (const auto& h : j["hits"]) EXPECT_EQ(h["parent"], "40846428");
}

// A negated word or field on the command line is a query word, not an
// unknown option (CLI11 rejected `-factor` and `-author:NAME`).
TEST_F(CliTest, NegatedWordsAreQueryWords) {
  RunResult r = RunCmd("search --json --db " + db_ + " -n 50 hiring -remote");
  ASSERT_EQ(r.code, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["query"], "hiring -remote");
  RunResult plain = RunCmd("search --json --db " + db_ + " -n 50 hiring");
  ASSERT_EQ(plain.code, 0);
  EXPECT_LT(j["total"].get<int>(),
            nlohmann::json::parse(plain.out)["total"].get<int>());
  // First, between options, and with a short option's attached number.
  r = RunCmd("search --json --db " + db_ +
             " -author:whoishiring -n5 --type comment remote");
  ASSERT_EQ(r.code, 0) << r.out;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["query"], "-author:whoishiring remote");
  EXPECT_EQ(j["limit"], 5);
  ASSERT_GT(j["total"].get<int>(), 0);
  for (const auto& h : j["hits"]) EXPECT_NE(h["author"], "whoishiring");
  // A word that starts like a short option (-n) is still a word.
  r = RunCmd("search --json --db " + db_ + " remote -nginx");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["query"], "remote -nginx");
  // Unknown long options are still usage errors.
  EXPECT_EQ(RunCmd("search --db " + db_ + " --bogus remote").code, 2);
}

// --depth counts levels below the item asked for, as /api/items?depth=
// does: the item itself is always shown.
TEST_F(CliTest, ThreadDepthCountsBelowTheAskedItem) {
  // 42134706 is three levels below its thread's root.
  RunResult r = RunCmd("thread --json --depth 0 --db " + db_ + " 42134706");
  ASSERT_EQ(r.code, 0);
  nlohmann::json j = nlohmann::json::parse(r.out);
  const nlohmann::json* n = &j["thread"];
  int levels = 0;
  while (!n->value("asked", false) && !(*n)["children"].empty()) {
    n = &(*n)["children"][0];
    ++levels;
  }
  EXPECT_TRUE(n->value("asked", false)) << r.out;
  EXPECT_EQ(levels, 3);
  r = RunCmd("thread --depth 0 --db " + db_ + " 42134706");
  EXPECT_NE(r.out.find("<- asked"), std::string::npos) << r.out;
}

TEST_F(CliTest, TextOutputCountsAndEmptyPages) {
  // One match, one item, one reply: singular.
  RunResult r = RunCmd("search --db " + db_ + " id:42133844");
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("1 match, showing 1-1"), std::string::npos) << r.out;
  r = RunCmd("search --db " + db_ + " --thread 40846428 -n 1 -p 5000");
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(r.out.find("No matches"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("matches; page 5000 is past the last"),
            std::string::npos)
      << r.out;
  r = RunCmd("search --db " + db_ + " --author nobody-at-all");
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "No matches.\n");
}

// An empty date range matches nothing (it used to drop the filter and
// list everything); an impossible date is a usage error.
TEST_F(CliTest, DateFlags) {
  RunResult r = RunCmd("search --json --db " + db_ +
                       " --after 2003-05-10 --before 2003-05-01");
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(nlohmann::json::parse(r.out)["total"], 0);
  r = RunCmd("search --json --db " + db_ +
             " --after 2003-05-10 --before 2003-05-01 lm");
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(nlohmann::json::parse(r.out)["total"], 0);
  r = RunCmd("search --json --db " + db_ +
             " --after '2003-05-01 00:00:00' --before 2003-05-02T00:00:00Z");
  ASSERT_EQ(r.code, 0);
  EXPECT_GT(nlohmann::json::parse(r.out)["total"].get<int>(), 0);
  EXPECT_EQ(RunCmd("search --db " + db_ + " --after 2003-02-30 x").code, 2);
  EXPECT_EQ(RunCmd("search --db " + db_ + " --after 2003-02-01xyz x").code, 2);
}

// Replies below a deleted comment stay in the thread; the deleted comment
// reads "[deleted]", not "[unknown]" with "[deleted]" as its text, and a
// story without text shows its title without a dangling dash.
TEST(CliDeletedTest, RepliesBelowADeletedCommentShowInText) {
  TempDir tmp;
  const std::string db = tmp.Sub("db");
  WriteFileOrDie(
      tmp.Sub("del.jsonl"),
      R"({"id":100,"type":"story","by":"alice","time":1700000000,"title":"Deleted parents"}
{"id":101,"type":"comment","deleted":true,"time":1700000100,"parent":100}
{"id":102,"type":"comment","by":"bob","time":1700000200,"parent":101,"text":"zebra below a deleted comment"}
{"id":103,"type":"comment","by":"carol","time":1700000300,"parent":102,"text":"zebra answer to bob"}
)");
  ASSERT_EQ(RunCmd("index --quiet --db " + db + " " + tmp.Sub("del.jsonl")).code,
            0);
  RunResult r = RunCmd("thread --db " + db + " 103");
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("- alice  2023-11-14 22:13  id 100\n"
                       "  Deleted parents\n"
                       "  - [deleted]  2023-11-14 22:15  id 101\n"
                       "    - bob  "),
            std::string::npos)
      << r.out;
  r = RunCmd("search --db " + db + " --to bob");
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("     ↳ [deleted]\n     ↳ bob: zebra below"),
            std::string::npos)
      << r.out;
}

TEST_F(CliTest, TextOutputShowsThreadAndSnippet) {
  RunResult r = RunCmd("search --db " + db_ + " -n 2 keras");
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find(" match"), std::string::npos);
  EXPECT_NE(r.out.find("[Keras]"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace threadsearch
