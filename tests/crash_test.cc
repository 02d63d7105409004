// Crash safety for real: an indexer process SIGKILLed at random moments
// (store writes, Xapian commits, anywhere), then the database must open,
// check consistent, and a completion run must give exactly the database an
// uninterrupted run gives.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <thread>

#include "common/keys.h"
#include "common/thread_store.h"
#include "indexer/check.h"
#include "indexer/indexer.h"
#include "searcher/searcher.h"
#include "tests/testutil.h"
#include <xapian.h>

namespace threadsearch {
namespace {

const std::vector<std::string> kFiles = {
    std::string(TS_CORPUS) + "/mailing-lists/r-help/2003-March.txt.gz",
    std::string(TS_CORPUS) + "/hn/ntdunglc-hackernews_jobs/hn_comments.json",
};

IndexOptions SmallBatches(uint64_t run_docs = 0) {
  IndexOptions o;
  o.batch_size = 100;  // many commits, so kills land in them often
  o.run_docs = run_docs;
  return o;
}

Status IndexAll(const std::string& db, uint64_t run_docs = 0) {
  Result<std::unique_ptr<Indexer>> ix =
      Indexer::Open(db, SmallBatches(run_docs));
  if (!ix.ok()) return ix.status();
  IndexStats st;
  return (*ix)->IndexPaths(kFiles, &st);
}

// Everything that identifies the database's content, by item id.
std::map<std::string, std::string> Snapshot(const std::string& db) {
  std::map<std::string, std::string> out;
  StoreOptions so;
  so.read_only = true;
  auto store = ThreadStore::Open(db + "/store", so);
  EXPECT_TRUE(store.ok());
  if (!store.ok()) return out;
  EXPECT_OK((*store)->Scan(
      std::string(1, keys::kItem), [&](std::string_view, std::string_view v) {
        StoredItem s;
        EXPECT_OK(DecodeStoredItem(v, &s));
        Result<StoredItem> root = (*store)->Get(s.root_num);
        std::string desc =
            (root.ok() ? root->item.id : "?") + "|" + std::to_string(s.depth) +
            "|" + std::to_string(s.thread_size) + "|" +
            std::to_string(s.reply_count) + "|" + s.parent_author + "|" +
            std::to_string(s.placeholder) + "|" +
            std::to_string(std::hash<std::string>()(s.item.text));
        out[std::string(SourceName(s.item.source)) + ":" + s.item.id] = desc;
        return true;
      }));
  return out;
}

// Runs `run`; the wall time it took, in ms (kills are spread over it).
Result<double> WallMs(const std::function<Status()>& run) {
  const auto t0 = std::chrono::steady_clock::now();
  Status st = run();
  if (!st.ok()) return st;
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - t0)
      .count();
}

// Indexes `file` with `opts` into the database directory it is given.
std::function<Status(const std::string&)> IndexFile(IndexOptions opts,
                                                    std::string file) {
  return [opts = std::move(opts), file = std::move(file)](
             const std::string& db) -> Status {
    Result<std::unique_ptr<Indexer>> ix = Indexer::Open(db, opts);
    if (!ix.ok()) return ix.status();
    IndexStats st;
    return (*ix)->IndexPaths({file}, &st);
  };
}

// Param: IndexOptions::run_docs. With runs (tiny, so that there are many)
// kills also land in a run's creation, its commits and the merge's swap.
class KilledIndexerTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(KilledIndexerTest, RecoversToTheUninterruptedResult) {
  const uint64_t run_docs = GetParam();
  TempDir tmp;
  const std::string ref = tmp.Sub("ref");
  const Result<double> wall = WallMs([&] { return IndexAll(ref); });
  ASSERT_OK(wall);
  const double full_ms = *wall;
  const auto want = Snapshot(ref);
  ASSERT_GT(want.size(), 1500u);

  std::mt19937 rng(4242);
  // Rounds until enough kills landed mid-run (a child that finished before
  // its kill still makes a valid round); bounded either way.
  const int kWantKills = 12;
  const int kMaxRounds = 40;
  int kills = 0;
  int round = 0;
  for (; round < kMaxRounds && kills < kWantKills; ++round) {
    const std::string db = tmp.Sub("db" + std::to_string(round));
    // One to three kills in a row on the same database, then completion.
    int in_a_row = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < in_a_row; ++k) {
      pid_t pid = fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        Status st = IndexAll(db, run_docs);
        _exit(st.ok() ? 0 : 3);
      }
      const int delay_ms = static_cast<int>(rng() % static_cast<unsigned>(
                                                std::max(50.0, full_ms)));
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      kill(pid, SIGKILL);
      int status = 0;
      ASSERT_EQ(waitpid(pid, &status, 0), pid);
      if (WIFSIGNALED(status)) {
        ++kills;
      } else {
        ASSERT_EQ(WEXITSTATUS(status), 0) << "indexer failed on its own";
      }
      // After every kill the database opens and both stores agree. A kill
      // before RocksDB had made the store (perhaps halfway, without its
      // CURRENT file) left nothing to check.
      if (!std::filesystem::exists(db + "/store/CURRENT")) continue;
      CheckReport report;
      ASSERT_OK(CheckDatabase(db, {}, &report));
      EXPECT_TRUE(report.consistent())
          << "round " << round << " after " << delay_ms << " ms: "
          << (report.examples.empty() ? "" : report.examples[0]);
    }
    ASSERT_OK(IndexAll(db, run_docs));
    auto got = Snapshot(db);
    ASSERT_EQ(got.size(), want.size()) << "round " << round;
    EXPECT_TRUE(got == want) << "round " << round;
    CheckReport report;
    ASSERT_OK(CheckDatabase(db, {}, &report));
    EXPECT_TRUE(report.consistent());
    EXPECT_EQ(report.searchable, report.documents);
  }
  std::cout << "crash test: " << kills << " kills survived over " << round
            << " rounds (full run " << full_ms << " ms)\n";
  EXPECT_GE(kills, kWantKills);
}

INSTANTIATE_TEST_SUITE_P(CrashTest, KilledIndexerTest,
                         ::testing::Values(uint64_t{0}, uint64_t{150}),
                         [](const ::testing::TestParamInfo<uint64_t>& i) {
                           return i.param == 0 ? std::string("IntoParts")
                                               : std::string("ThroughRuns");
                         });

TEST(CheckTest, RepairRebuildsAnIndexThatLostDocuments) {
  TempDir tmp;
  const std::string db = tmp.Sub("db");
  ASSERT_OK(IndexAll(db));
  CheckReport before;
  ASSERT_OK(CheckDatabase(db, {}, &before));
  ASSERT_TRUE(before.consistent());
  // Break the index behind the store's back: drop some documents.
  {
    Xapian::WritableDatabase w(db + "/xapian");
    int dropped = 0;
    for (auto it = w.postlist_begin(""); it != w.postlist_end("") && dropped < 5;
         ++it, ++dropped) {
      w.delete_document(*it);
    }
    w.commit();
  }
  CheckReport broken;
  ASSERT_OK(CheckDatabase(db, {}, &broken));
  EXPECT_FALSE(broken.consistent());
  EXPECT_EQ(broken.missing_documents, 5u);
  EXPECT_GT(broken.author_mismatches + broken.thread_mismatches, 0u);
  ASSERT_FALSE(broken.examples.empty());
  CheckOptions repair;
  repair.repair = true;
  uint64_t progress_calls = 0;
  repair.on_progress = [&](const std::string&, uint64_t, uint64_t) {
    ++progress_calls;
  };
  CheckReport fixed;
  ASSERT_OK(CheckDatabase(db, repair, &fixed));
  EXPECT_TRUE(fixed.repaired);
  EXPECT_TRUE(fixed.consistent()) << (fixed.examples.empty() ? "" : fixed.examples[0]);
  EXPECT_EQ(fixed.documents, before.documents);
  EXPECT_GT(progress_calls, 0u);
}

}  // namespace
}  // namespace threadsearch

namespace threadsearch {
namespace {

// Runs `index` into fresh databases of `tmp` and kills it with SIGKILL
// after from_ms + a random part of span_ms (seeded): each killed database
// must check consistent (Open resumes a relink) and complete to `want`.
// Goes on until 8 kills, 2 of them in the middle of a relink (a M"relink"
// marker in the store), or 40 rounds; expects those 2.
void KillWhileRelinking(TempDir& tmp,
                        const std::function<Status(const std::string&)>& index,
                        const std::map<std::string, std::string>& want,
                        unsigned seed, unsigned from_ms, unsigned span_ms,
                        const std::string& name) {
  std::mt19937 rng(seed);
  int kills = 0, mid_relink = 0, round = 0;
  for (; round < 40 && (kills < 8 || mid_relink < 2); ++round) {
    const std::string db = tmp.Sub("db" + std::to_string(round));
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(index(db).ok() ? 0 : 3);
    std::this_thread::sleep_for(
        std::chrono::milliseconds(from_ms + rng() % std::max(1u, span_ms)));
    kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) ++kills;
    if (!std::filesystem::exists(db + "/store/CURRENT")) {
      // Killed before RocksDB had made the store (perhaps halfway): nothing
      // was written, and a run starts it afresh.
      ASSERT_OK(index(db));
      EXPECT_TRUE(Snapshot(db) == want) << "round " << round;
      continue;
    }
    {
      StoreOptions so;
      so.read_only = true;
      auto store = ThreadStore::Open(db + "/store", so);
      ASSERT_OK(store);
      if ((*store)->GetRaw(keys::Meta("relink")).ok()) ++mid_relink;
    }
    CheckReport report;
    ASSERT_OK(CheckDatabase(db, {}, &report));
    EXPECT_TRUE(report.consistent())
        << "round " << round << ": "
        << (report.examples.empty() ? "" : report.examples[0]);
    ASSERT_OK(index(db));
    EXPECT_TRUE(Snapshot(db) == want) << "round " << round;
  }
  std::cout << name << ": " << kills << " kills, " << mid_relink
            << " in the middle of a relink, " << round << " rounds\n";
  EXPECT_GE(mid_relink, 2);
}

// A parent that arrives after thousands of its replies moves them into its
// thread in chunks, one batch each; kills during those chunks must leave a
// database that checks consistent (Open resumes the relink) and completes to
// the uninterrupted result.
TEST(CrashTest, KilledDuringAChunkedRelinkResumes) {
  TempDir tmp;
  const std::string file = tmp.Sub("flat.jsonl");
  {
    std::string lines;
    auto reply = [&](int i) {
      lines += "{\"id\": " + std::to_string(i) +
               ", \"type\": \"comment\", \"by\": \"u" + std::to_string(i % 50) +
               "\", \"time\": " + std::to_string(1700000000 + i) +
               ", \"parent\": 1, \"text\": \"reply number " +
               std::to_string(i % 97) + "\"}\n";
    };
    for (int i = 2; i < 4000; ++i) reply(i);
    lines += "{\"id\": 1, \"type\": \"story\", \"by\": \"op\", \"time\": "
             "1700000000, \"title\": \"Everyone answers\"}\n";
    for (int i = 4000; i < 5000; ++i) reply(i);
    WriteFileOrDie(file, lines);
  }
  IndexOptions opts;
  opts.batch_size = 500;
  opts.relink_chunk = 300;
  const auto index = IndexFile(opts, file);
  const std::string ref = tmp.Sub("ref");
  const Result<double> full_ms = WallMs([&] { return index(ref); });
  ASSERT_OK(full_ms);
  const auto want = Snapshot(ref);
  ASSERT_EQ(want.size(), 4999u);

  const unsigned span = static_cast<unsigned>(std::max(50.0, *full_ms));
  KillWhileRelinking(tmp, index, want, /*seed=*/77, /*from_ms=*/0, span,
                     "relink crash test");
}

// A missing comment that thousands of replies wait for, hint-linked into
// story 1, arrives naming a parent in story 100000: the replies move there
// in chunks (and story 1 shrinks); kills during the move must leave a
// consistent database that completes to the uninterrupted result.
TEST(CrashTest, KilledWhileAMissingParentLeavesItsHintResumes) {
  TempDir tmp;
  const std::string file = tmp.Sub("hits.json");
  {
    std::string hits;
    auto hit = [&](int id, int parent, int story, const char* type) {
      if (!hits.empty()) hits += ",\n";
      hits += "{\"objectID\": \"" + std::to_string(id) + "\", \"author\": \"u" +
              std::to_string(id % 50) +
              "\", \"created_at_i\": " + std::to_string(1700000000 + id) +
              ", \"_tags\": [\"" + type + "\"]";
      if (parent != 0) {
        hits += ", \"parent_id\": " + std::to_string(parent) +
                ", \"story_id\": " + std::to_string(story) +
                ", \"comment_text\": \"reply number " +
                std::to_string(id % 97) + "\"";
      } else {
        hits += ", \"title\": \"Story " + std::to_string(id) + "\"";
      }
      hits += "}";
    };
    hit(1, 0, 0, "story");
    hit(100000, 0, 0, "story");
    for (int i = 10; i < 3000; ++i) hit(i, 5, 1, "comment");
    hit(5, 100000, 100000, "comment");
    for (int i = 3000; i < 3500; ++i) hit(i, 5, 1, "comment");
    WriteFileOrDie(file, "{\"hits\": [\n" + hits + "\n]}\n");
  }
  IndexOptions opts;
  opts.batch_size = 500;
  // Small chunks: the move takes many batches, so that kills land in it.
  opts.relink_chunk = 100;
  opts.on_warning = [](const std::string&) {};
  const auto index = IndexFile(opts, file);
  const std::string ref = tmp.Sub("ref");
  const Result<double> full_ms = WallMs([&] { return index(ref); });
  ASSERT_OK(full_ms);
  const auto want = Snapshot(ref);
  ASSERT_EQ(want.size(), 3493u);
  // Story 1 is alone again; story 100000 has 5 and every reply.
  EXPECT_EQ(want.at("hn:1"),
            "1|0|1|0||0|" + std::to_string(std::hash<std::string>()("")));
  EXPECT_EQ(want.at("hn:3499").substr(0, 9), "100000|2|");
  {
    CheckReport report;
    ASSERT_OK(CheckDatabase(ref, {}, &report));
    EXPECT_TRUE(report.consistent())
        << (report.examples.empty() ? "" : report.examples[0]);
  }

  // The move comes in the second half of the run (the replies first).
  const unsigned span = static_cast<unsigned>(std::max(50.0, *full_ms));
  KillWhileRelinking(tmp, index, want, /*seed=*/91, span / 3,
                     span - span / 3, "hint relink crash test");
}

// Every whole-store scan (check, rebuild, stats) stops at a record that
// does not decode, with Corruption naming the item.
TEST(CheckTest, UndecodableItemIsCorruptionNamingIt) {
  TempDir tmp;
  const std::string db = tmp.Sub("db");
  {
    Result<std::unique_ptr<Indexer>> ix = Indexer::Open(db, {});
    ASSERT_OK(ix);
    IndexStats st;
    ASSERT_OK((*ix)->IndexPaths(
        {std::string(TS_TEST_DATA) + "/mail/r-help-1999-August-82-84.txt"},
        &st));
  }
  {
    auto store = ThreadStore::Open(db + "/store", {});
    ASSERT_OK(store);
    ASSERT_OK((*store)->Get(2));
    StoreBatch b;
    b.Put(keys::ItemKey(2), "garbage");
    ASSERT_OK((*store)->Write(b));
  }
  auto names_item = [](const Status& st) {
    EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.message();
    EXPECT_NE(st.message().find("item #2: "), std::string::npos)
        << st.message();
  };
  CheckReport report;
  names_item(CheckDatabase(db, {}, &report));
  {
    Result<std::unique_ptr<Searcher>> s = Searcher::Open(db, {});
    ASSERT_OK(s);
    names_item((*s)->Stats().status());
  }
  Result<std::unique_ptr<Indexer>> ix = Indexer::Open(db, {});
  ASSERT_OK(ix);
  names_item((*ix)->RebuildIndex(nullptr));
}

}  // namespace
}  // namespace threadsearch
