// Hostile inputs end to end through the Indexer: each gets a clear error or
// is handled, the good records around it are kept, nothing crashes, and
// memory stays bounded.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <random>

#include "common/keys.h"
#include "common/thread_store.h"
#include "indexer/indexer.h"
#include "common/text.h"
#include "searcher/searcher.h"
#include "tests/testutil.h"

namespace threadsearch {
namespace {

struct Outcome {
  Status status;
  IndexStats stats;
  std::vector<std::string> warnings;
};

Outcome IndexFiles(const std::string& db, const std::vector<std::string>& files) {
  Outcome o;
  IndexOptions opts;
  opts.on_warning = [&](const std::string& w) { o.warnings.push_back(w); };
  auto ix = Indexer::Open(db, opts);
  EXPECT_TRUE(ix.ok()) << ix.status().ToString();
  if (!ix.ok()) return o;
  o.status = (*ix)->IndexPaths(files, &o.stats);
  return o;
}

std::string HnLine(const std::string& id, const std::string& parent,
                   const std::string& text) {
  return "{\"id\": " + id + ", \"type\": \"comment\", \"by\": \"u" + id +
         "\", \"time\": 1700000000, \"parent\": " + parent +
         ", \"text\": \"" + text + "\"}\n";
}

bool AnyWarningHas(const Outcome& o, const std::string& needle) {
  for (const std::string& w : o.warnings) {
    if (w.find(needle) != std::string::npos) return true;
  }
  return false;
}

long PeakRssMb() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

TEST(HostileTest, HundredMegabyteLineIsSkippedNeighboursKept) {
  TempDir tmp;
  const std::string f = tmp.Sub("big-line.jsonl");
  {
    std::ofstream out(f, std::ios::binary);
    out << HnLine("1", "0", "before the long line");
    std::string chunk(1 << 20, 'a');
    out << "{\"id\": 2, \"text\": \"";
    for (int i = 0; i < 100; ++i) out << chunk;
    out << "\"}\n";
    out << HnLine("3", "1", "after the long line");
  }
  Outcome o = IndexFiles(tmp.Sub("db"), {f});
  EXPECT_OK(o.status);
  EXPECT_EQ(o.stats.added, 2u);
  EXPECT_EQ(o.stats.skipped, 1u);
  EXPECT_TRUE(AnyWarningHas(o, "big-line.jsonl:2")) << o.warnings.size();
  EXPECT_LT(PeakRssMb(), 2048);
}

TEST(HostileTest, FiftyMegabyteMessageIsHandled) {
  TempDir tmp;
  const std::string f = tmp.Sub("2003-June.txt");
  {
    std::ofstream out(f, std::ios::binary);
    auto msg = [&](const std::string& id, const std::string& body) {
      out << "From a at b.org  Mon Jun  2 10:00:00 2003\n"
          << "From: a at b.org (A)\nDate: Mon, 2 Jun 2003 10:00:00 +0000\n"
          << "Subject: [R] test " << id << "\nMessage-ID: <" << id
          << "@b.org>\n\n"
          << body << "\n\n";
    };
    msg("first", "a small message before");
    std::string line = "the quick brown fox jumps over the lazy dog again\n";
    std::string body;
    body.reserve(50u << 20);
    while (body.size() < (50u << 20)) body += line;
    msg("huge", body + "zebracorn at the very end");
    msg("last", "a small message after");
  }
  Outcome o = IndexFiles(tmp.Sub("db"), {f});
  EXPECT_OK(o.status);
  EXPECT_EQ(o.stats.added, 3u);
  auto s = Searcher::Open(tmp.Sub("db"), {});
  ASSERT_OK(s);
  SearchRequest req;
  req.query = "small message";
  EXPECT_EQ((*s)->Search(req)->total, 2u);
  req.query = "quick brown fox";
  auto r = (*s)->Search(req);
  ASSERT_OK(r);
  EXPECT_EQ(r->total, 1u);
  EXPECT_LT(r->hits[0].snippet.size(), 2000u);
  EXPECT_LT(PeakRssMb(), 2048);
}

TEST(HostileTest, DeepJsonNestingIsAnErrorNotACrash) {
  TempDir tmp;
  const std::string bomb = tmp.Sub("bomb.json");
  {
    std::ofstream out(bomb, std::ios::binary);
    out << std::string(100000, '[') << std::string(100000, ']');
  }
  const std::string good = tmp.Sub("good.jsonl");
  WriteFileOrDie(good, HnLine("1", "0", "fine"));
  Outcome o = IndexFiles(tmp.Sub("db"), {bomb, good});
  EXPECT_FALSE(o.status.ok());
  EXPECT_EQ(o.stats.files_failed, 1u);
  EXPECT_EQ(o.stats.added, 1u);
  EXPECT_TRUE(AnyWarningHas(o, "bomb.json"));
}

// Garbage and a mailbox without separators fail, each named; an empty
// file is read as no items (it fails nothing); the good file is kept.
TEST(HostileTest, GarbageAndSeparatorlessFilesFailCleanlyEmptyOnesHoldNothing) {
  TempDir tmp;
  std::mt19937 rng(7);
  std::string garbage(1 << 16, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  WriteFileOrDie(tmp.Sub("garbage.json"), garbage);
  // Valid gzip magic, garbage after it.
  WriteFileOrDie(tmp.Sub("garbage.json.gz"), "\x1f\x8b" + garbage);
  WriteFileOrDie(tmp.Sub("empty.json"), "");
  WriteFileOrDie(tmp.Sub("2003-July.txt"),
                 "Subject: no separator\n\njust text, no From line\n");
  WriteFileOrDie(tmp.Sub("zgood.jsonl"), HnLine("9", "8", "kept"));
  Outcome o = IndexFiles(tmp.path() + "-db", {tmp.path()});
  std::error_code ec;
  std::filesystem::remove_all(tmp.path() + "-db", ec);
  EXPECT_FALSE(o.status.ok());
  EXPECT_EQ(o.stats.files_failed, 3u) << ::testing::PrintToString(o.warnings);
  EXPECT_EQ(o.stats.added, 1u);
  for (const char* name : {"garbage.json", "garbage.json.gz", "2003-July.txt"}) {
    EXPECT_TRUE(AnyWarningHas(o, name)) << name;
  }
  EXPECT_FALSE(AnyWarningHas(o, "empty.json"));
}

TEST(HostileTest, TruncatedGzipKeepsWhatCameBefore) {
  TempDir tmp;
  std::string lines;
  for (int i = 1; i <= 2000; ++i) {
    lines += HnLine(std::to_string(i), std::to_string(i - 1), "line number");
  }
  const std::string f = tmp.Sub("cut.jsonl.gz");
  gzFile gz = gzopen(f.c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  gzwrite(gz, lines.data(), static_cast<unsigned>(lines.size()));
  gzclose(gz);
  std::string whole = ReadFileOrDie(f);
  WriteFileOrDie(f, whole.substr(0, whole.size() / 2));
  Outcome o = IndexFiles(tmp.Sub("db"), {f});
  EXPECT_FALSE(o.status.ok());
  EXPECT_EQ(o.stats.files_failed, 1u);
  EXPECT_GT(o.stats.added, 100u);
  EXPECT_LT(o.stats.added, 2000u);
  EXPECT_TRUE(AnyWarningHas(o, "cut.jsonl.gz"));
}

TEST(HostileTest, InvalidUtf8IsSanitisedAndSearchable) {
  TempDir tmp;
  const std::string f = tmp.Sub("bad-utf8.jsonl");
  WriteFileOrDie(f, HnLine("1", "0", "caf\xe9 ol\xff\xfe\x80 zanzibar") +
                        HnLine("2", "1", "plain neighbour"));
  Outcome o = IndexFiles(tmp.Sub("db"), {f});
  EXPECT_OK(o.status);
  auto s = Searcher::Open(tmp.Sub("db"), {});
  ASSERT_OK(s);
  SearchRequest req;
  req.query = "zanzibar";
  auto r = (*s)->Search(req);
  ASSERT_OK(r);
  EXPECT_EQ(o.stats.added, 2u);
  EXPECT_EQ(o.stats.skipped, 0u);
  ASSERT_EQ(r->total, 1u);
  EXPECT_TRUE(IsValidUtf8(r->hits[0].item.item.text));
}

// A thread where one item has a very large number of direct replies.
// TS_HOSTILE_REPLIES raises the count (the figure is 1,000,000).
TEST(HostileTest, HugeFlatThread) {
  TempDir tmp;
  const char* env = getenv("TS_HOSTILE_REPLIES");
  const int n = env ? atoi(env) : 50000;
  const std::string f = tmp.Sub("flat.jsonl");
  {
    std::ofstream out(f, std::ios::binary);
    // Replies first, the story last: all of them relink when it arrives.
    for (int i = 1; i <= n; ++i) {
      out << HnLine(std::to_string(i), "0", "reply " + std::to_string(i % 97));
    }
    out << "{\"id\": 0, \"type\": \"story\", \"by\": \"op\", "
           "\"time\": 1700000000, \"title\": \"Everyone answers\"}\n";
  }
  Outcome o = IndexFiles(tmp.Sub("db"), {f});
  ASSERT_OK(o.status);
  EXPECT_EQ(o.stats.added, static_cast<uint64_t>(n) + 1);
  auto s = Searcher::Open(tmp.Sub("db"), {});
  ASSERT_OK(s);
  SearchRequest req;
  req.replies_to = {"op"};
  req.limit = 3;
  auto r = (*s)->Search(req);
  ASSERT_OK(r);
  EXPECT_EQ(r->total, static_cast<uint64_t>(n));
  EXPECT_EQ(r->hits[0].context.root_size, static_cast<uint32_t>(n) + 1);
  auto view = (*s)->Thread("hn:0", 1);
  ASSERT_OK(view);
  EXPECT_EQ(view->size, static_cast<uint32_t>(n) + 1);
  EXPECT_GT(view->root.children.size(), 0u);
  std::cout << "flat thread of " << n << " replies: peak RSS " << PeakRssMb()
            << " MB\n";
  EXPECT_LT(PeakRssMb(), 2048);
}

}  // namespace
}  // namespace threadsearch
