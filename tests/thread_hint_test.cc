// Thread hints: a reply whose parent is missing stays in the thread its
// source names (mail References, HN story_id), through a placeholder for
// the missing parent hint-linked below that thread's item; whatever the
// order, and when the missing parent arrives later with a parent of its
// own. Fixtures: R-help 2004-April messages 524, 527, 531 and 533 (531
// answers a message the archive lacks; its References start with 524).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "common/keys.h"
#include "common/thread_store.h"
#include "indexer/check.h"
#include "indexer/collection_indexer.h"
#include "indexer/indexer.h"
#include "indexer/input_stream.h"
#include "indexer/readers.h"
#include "searcher/searcher.h"
#include "tests/testutil.h"

namespace threadsearch {
namespace {

const std::string kFixture =
    std::string(TS_TEST_DATA) + "/mail/r-help-2004-April-524-533.txt";
// The thread's first message, a reply to it, the reply to the missing
// message, and a reply to that reply.
const std::string kRoot = "407AE4F6.5080006@ucdavis.edu";
const std::string kLigges = "407B02ED.EABB641F@statistik.uni-dortmund.de";
const std::string kOrphan = "407B164A.6040302@ucdavis.edu";
const std::string kTurner = "407B1A00.5070608@indigoindustrial.co.nz";
const std::string kMissing = "20040413101212.O2137@hortresearch.co.nz";

IndexOptions Quiet() {
  IndexOptions o;
  o.on_warning = [](const std::string&) {};
  return o;
}

std::vector<Item> ReadItems(const std::string& path) {
  std::vector<Item> items;
  Result<std::unique_ptr<InputStream>> in = InputStream::Open(path);
  EXPECT_TRUE(in.ok()) << in.status().ToString();
  if (!in.ok()) return items;
  ReadCallbacks cb;
  cb.on_item = [&](Item&& it) { items.push_back(std::move(it)); };
  cb.on_error = [](const ReadError& e) { ADD_FAILURE() << e.message; };
  EXPECT_OK(ReadStream(**in, Format::kAuto, cb));
  return items;
}

struct Place {
  std::string root;
  uint32_t depth = 0;
  std::string parent;  // the linked parent's id ("" for none)
  bool placeholder = false;
  uint32_t thread_size = 0;  // the root's
  uint32_t reply_count = 0;
  std::string parent_author;
};

Place PlaceOf(const StoreReader& store, Source source, const std::string& id) {
  Place p;
  Result<uint32_t> num = store.Lookup(source, id);
  EXPECT_TRUE(num.ok()) << id;
  if (!num.ok()) return p;
  Result<StoredItem> s = store.Get(*num);
  EXPECT_TRUE(s.ok()) << id;
  if (!s.ok()) return p;
  Result<StoredItem> root = store.Get(s->root_num);
  EXPECT_TRUE(root.ok()) << id;
  if (!root.ok()) return p;
  p.root = root->item.id;
  p.depth = s->depth;
  p.placeholder = s->placeholder;
  p.thread_size = root->thread_size;
  p.reply_count = s->reply_count;
  p.parent_author = s->parent_author;
  if (s->parent_num != 0) {
    Result<StoredItem> parent = store.Get(s->parent_num);
    EXPECT_TRUE(parent.ok()) << id;
    if (parent.ok()) p.parent = parent->item.id;
  }
  return p;
}

void ExpectConsistent(const std::string& dir) {
  CheckReport report;
  CheckOptions co;
  ASSERT_OK(CheckDatabase(dir, co, &report));
  std::string problems;
  for (const std::string& e : report.examples) problems += e + "\n";
  EXPECT_TRUE(report.consistent()) << problems;
  EXPECT_EQ(report.structure_errors, 0u) << problems;
}

// The mail thread as it should be with the message 531 answers missing:
// 524 -> {527, [missing] -> 531 -> 533}.
void ExpectMailThread(const StoreReader& store) {
  const Source m = Source::kMail;
  Place root = PlaceOf(store, m, kRoot);
  EXPECT_EQ(root.root, kRoot);
  EXPECT_EQ(root.depth, 0u);
  EXPECT_EQ(root.thread_size, 4u);  // the missing message is not counted
  EXPECT_EQ(root.reply_count, 1u);  // 527; the missing one is no reply
  Place missing = PlaceOf(store, m, kMissing);
  EXPECT_TRUE(missing.placeholder);
  EXPECT_EQ(missing.parent, kRoot);
  EXPECT_EQ(missing.root, kRoot);
  EXPECT_EQ(missing.depth, 1u);
  Place orphan = PlaceOf(store, m, kOrphan);
  EXPECT_FALSE(orphan.placeholder);
  EXPECT_EQ(orphan.parent, kMissing);
  EXPECT_EQ(orphan.root, kRoot);
  EXPECT_EQ(orphan.depth, 2u);
  EXPECT_EQ(orphan.parent_author, "");  // its parent is unknown
  Place turner = PlaceOf(store, m, kTurner);
  EXPECT_EQ(turner.root, kRoot);
  EXPECT_EQ(turner.depth, 3u);
  EXPECT_EQ(PlaceOf(store, m, kLigges).depth, 1u);
}

TEST(ThreadHintTest, MailReaderTakesTheFirstReferencesIdAsHint) {
  std::vector<Item> items = ReadItems(kFixture);
  ASSERT_EQ(items.size(), 4u);
  std::map<std::string, Item> by_id;
  for (Item& it : items) by_id[it.id] = it;
  // In-Reply-To is the parent; the first other References id the hint.
  EXPECT_EQ(by_id[kOrphan].parent, kMissing);
  EXPECT_EQ(by_id[kOrphan].thread_hint, kRoot);
  EXPECT_EQ(by_id[kTurner].parent, kOrphan);
  EXPECT_EQ(by_id[kTurner].thread_hint, kRoot);
  // References naming only the parent: no hint.
  EXPECT_EQ(by_id[kLigges].parent, kRoot);
  EXPECT_EQ(by_id[kLigges].thread_hint, "");
  EXPECT_EQ(by_id[kRoot].thread_hint, "");
}

TEST(ThreadHintTest, MailReplyToAMissingMessageStaysInItsThread) {
  TempDir tmp;
  {
    auto ix = Indexer::Open(tmp.path(), Quiet());
    ASSERT_OK(ix);
    IndexStats st;
    ASSERT_OK((*ix)->IndexPaths({kFixture}, &st));
    EXPECT_EQ(st.added, 4u);
    ExpectMailThread((*ix)->store());
  }
  ExpectConsistent(tmp.path());

  auto searcher = Searcher::Open(tmp.path(), {});
  ASSERT_OK(searcher);
  Result<DbStats> stats = (*searcher)->Stats();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->threads, 1u);
  EXPECT_EQ(stats->placeholders, 1u);
  // A search hit on 531 shows its thread: the root, then the missing
  // message it answers.
  SearchRequest req;
  req.query = "id:" + kOrphan;
  Result<SearchResult> r = (*searcher)->Search(req);
  ASSERT_OK(r);
  ASSERT_EQ(r->hits.size(), 1u);
  const Hit& hit = r->hits[0];
  EXPECT_EQ(hit.thread_id, kRoot);
  EXPECT_EQ(hit.context.root_id, kRoot);
  EXPECT_EQ(hit.context.root_size, 4u);
  ASSERT_EQ(hit.context.ancestors.size(), 2u);
  EXPECT_EQ(hit.context.ancestors[0].id, kRoot);
  EXPECT_EQ(hit.context.ancestors[1].id, kMissing);
  EXPECT_EQ(hit.context.ancestors[1].excerpt, "[not in the archive]");
  ASSERT_EQ(hit.context.replies.size(), 1u);
  EXPECT_EQ(hit.context.replies[0].id, kTurner);
  // The thread view has the missing message between the root and 531.
  Result<ThreadView> v = (*searcher)->Thread(kOrphan);
  ASSERT_OK(v);
  EXPECT_EQ(v->root.item.item.id, kRoot);
  EXPECT_EQ(v->size, 4u);
  ASSERT_EQ(v->root.children.size(), 2u);
  const ThreadNode* missing = nullptr;
  for (const ThreadNode& c : v->root.children) {
    if (c.item.item.id == kMissing) missing = &c;
  }
  ASSERT_NE(missing, nullptr);
  EXPECT_TRUE(missing->item.placeholder);
  ASSERT_EQ(missing->children.size(), 1u);
  EXPECT_EQ(missing->children[0].item.item.id, kOrphan);
  ASSERT_EQ(missing->children[0].children.size(), 1u);
  EXPECT_EQ(missing->children[0].children[0].item.item.id, kTurner);
  // Thread filters see one thread.
  req.query = "thread:" + kRoot;
  r = (*searcher)->Search(req);
  ASSERT_OK(r);
  EXPECT_EQ(r->total, 4u);
}

// Replies before their thread's first message, in every order of arrival
// that puts 524 last, one batch or a batch each.
TEST(ThreadHintTest, MailRepliesBeforeTheRootJoinItWhenItComes) {
  std::vector<Item> items = ReadItems(kFixture);
  ASSERT_EQ(items.size(), 4u);
  std::vector<size_t> order = {1, 2, 3};
  int runs = 0;
  do {
    for (bool batch_each : {false, true}) {
      SCOPED_TRACE("order " + std::to_string(order[0]) +
                   std::to_string(order[1]) + std::to_string(order[2]) +
                   (batch_each ? " batch each" : " one batch"));
      TempDir tmp;
      {
        auto ix = Indexer::Open(tmp.path(), Quiet());
        ASSERT_OK(ix);
        IndexStats st;
        std::vector<size_t> all = order;
        all.push_back(0);  // 524, the thread's first message, last
        for (size_t i : all) {
          ASSERT_OK((*ix)->Add(items[i], &st));
          if (batch_each) ASSERT_OK((*ix)->Flush());
        }
        ASSERT_OK((*ix)->Flush());
        ExpectMailThread((*ix)->store());
      }
      ExpectConsistent(tmp.path());
      ++runs;
    }
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(runs, 12);
}

// The missing message arrives in a later run, answering 527: it leaves the
// place the hint gave it and takes 531 and 533 along.
TEST(ThreadHintTest, MissingMessageArrivingLaterMovesUnderItsOwnParent) {
  TempDir tmp;
  const std::string later = tmp.Sub("2004-April-later.txt");
  {
    std::ofstream out(later);
    out << "From p.connolly at hortresearch.co.nz  Mon Apr 12 22:12:12 2004\n"
        << "From: p.connolly at hortresearch.co.nz (Patrick Connolly)\n"
        << "Date: Tue, 13 Apr 2004 10:12:12 +1200\n"
        << "Subject: [R] Line numbers in error messages\n"
        << "In-Reply-To: <" + kLigges + ">\n"
        << "References: <" + kRoot + "> <" + kLigges + ">\n"
        << "Message-ID: <" + kMissing + ">\n\n"
        << "Try options(error = recover) and look at the frames.\n\n";
  }
  for (size_t chunk : {size_t{20000}, size_t{1}}) {
    SCOPED_TRACE("relink chunk " + std::to_string(chunk));
    TempDir db;
    IndexOptions o = Quiet();
    o.relink_chunk = chunk;
    {
      auto ix = Indexer::Open(db.path(), o);
      ASSERT_OK(ix);
      IndexStats st;
      ASSERT_OK((*ix)->IndexPaths({kFixture}, &st));
    }
    {
      auto ix = Indexer::Open(db.path(), o);
      ASSERT_OK(ix);
      IndexStats st;
      ASSERT_OK((*ix)->IndexPaths({later}, &st));
      EXPECT_EQ(st.added, 1u);
      const StoreReader& store = (*ix)->store();
      const Source m = Source::kMail;
      Place missing = PlaceOf(store, m, kMissing);
      EXPECT_FALSE(missing.placeholder);
      EXPECT_EQ(missing.parent, kLigges);
      EXPECT_EQ(missing.depth, 2u);
      EXPECT_EQ(missing.root, kRoot);
      EXPECT_EQ(missing.thread_size, 5u);
      EXPECT_EQ(PlaceOf(store, m, kOrphan).depth, 3u);
      EXPECT_EQ(PlaceOf(store, m, kTurner).depth, 4u);
      EXPECT_EQ(PlaceOf(store, m, kLigges).reply_count, 1u);
      EXPECT_EQ(PlaceOf(store, m, kRoot).reply_count, 1u);
      // The hint link's child entry under 524 is gone.
      Result<uint32_t> root = store.Lookup(m, kRoot);
      ASSERT_OK(root);
      std::vector<uint32_t> kids;
      ASSERT_OK(store.Children(*root, &kids));
      EXPECT_EQ(kids.size(), 1u);
    }
    ExpectConsistent(db.path());
  }
}

// check accepts hint links and nothing else: a placeholder linked to
// another item than its hint, a hint parent that does not mark it, and a
// reply whose root is a placeholder are all reported.
TEST(ThreadHintTest, CheckReportsBrokenHintLinks) {
  TempDir tmp;
  {
    auto ix = Indexer::Open(tmp.path(), Quiet());
    ASSERT_OK(ix);
    IndexStats st;
    ASSERT_OK((*ix)->IndexPaths({kFixture}, &st));
  }
  ExpectConsistent(tmp.path());
  // Rewrites the record of `id` with `edit` applied, checks, restores.
  auto broken = [&](const std::string& id,
                    const std::function<void(StoredItem*)>& edit,
                    const std::string& want) {
    SCOPED_TRACE(want);
    StoredItem saved;
    {
      auto store = ThreadStore::Open(tmp.path() + "/store", {});
      ASSERT_OK(store);
      Result<uint32_t> num = (*store)->Lookup(Source::kMail, id);
      ASSERT_OK(num);
      Result<StoredItem> s = (*store)->Get(*num);
      ASSERT_OK(s);
      saved = *s;
      StoredItem changed = *s;
      edit(&changed);
      StoreBatch b;
      b.Put(keys::ItemKey(*num), EncodeStoredItem(changed));
      ASSERT_OK((*store)->Write(b));
    }
    CheckReport report;
    ASSERT_OK(CheckDatabase(tmp.path(), {}, &report));
    EXPECT_FALSE(report.consistent());
    EXPECT_GT(report.structure_errors, 0u);
    bool found = false;
    for (const std::string& e : report.examples) {
      if (e.find(want) != std::string::npos) found = true;
    }
    EXPECT_TRUE(found) << (report.examples.empty() ? "" : report.examples[0]);
    auto store = ThreadStore::Open(tmp.path() + "/store", {});
    ASSERT_OK(store);
    StoreBatch b;
    b.Put(keys::ItemKey(saved.num), EncodeStoredItem(saved));
    ASSERT_OK((*store)->Write(b));
  };
  broken(
      kMissing, [](StoredItem* s) { s->item.thread_hint = kLigges; },
      "is not its thread hint");
  broken(
      kMissing, [](StoredItem* s) { s->item.thread_hint.clear(); },
      "is not its thread hint");
  broken(
      kRoot, [](StoredItem* s) { s->hint_children = false; },
      "does not mark its hint-linked placeholder");
  broken(
      kMissing, [](StoredItem* s) { s->depth = 0; }, "root/depth disagree");
  broken(
      kOrphan, [](StoredItem* s) { s->root_num = s->parent_num; },
      "is the root of");
  ExpectConsistent(tmp.path());
}

Item Hn(const std::string& id, const std::string& parent,
        const std::string& story, int64_t time) {
  Item it;
  it.source = Source::kHN;
  it.id = id;
  it.parent = parent;
  it.thread_hint = story;
  it.author = "u" + id;
  it.time = time;
  it.text = "text of " + id;
  it.type = parent.empty() ? ItemType::kStory : ItemType::kComment;
  if (parent.empty()) it.title = "Story " + id;
  return it;
}

// HN Algolia hits (from hn.algolia.com responses: story 6805699 and
// comment 6805807, given here a parent comment that the dump lacks).
TEST(ThreadHintTest, AlgoliaCommentWithAMissingParentStaysInItsStory) {
  TempDir tmp;
  const std::string path = tmp.Sub("hits.json");
  {
    std::ofstream out(path);
    out << R"({"hits":[
{"created_at":"2013-11-27T00:39:44.000Z","title":"Started a stupid company. Failed. ","url":"","author":"flibertgibit","points":1316,"story_text":"","comment_text":null,"num_comments":302,"story_id":null,"parent_id":null,"created_at_i":1385512784,"_tags":["story","author_flibertgibit","story_6805699"],"objectID":"6805699"},
{"created_at":"2013-11-27T02:18:36.000Z","title":null,"url":null,"author":"zedshaw","points":1081,"story_text":null,"comment_text":"Hey, other comments are going to give you a few lines telling you to not quit.","num_comments":null,"story_id":6805699,"story_title":"Started a stupid company. Failed. ","story_url":"","parent_id":6805750,"created_at_i":1385518716,"_tags":["comment","author_zedshaw","story_6805699"],"objectID":"6805807"}
],"nbHits":2,"page":0,"nbPages":1,"hitsPerPage":20,"processingTimeMS":1})";
  }
  // Either order: the story first, or the comment first.
  for (bool comment_first : {false, true}) {
    SCOPED_TRACE(comment_first ? "comment first" : "story first");
    TempDir db;
    {
      auto ix = Indexer::Open(db.path(), Quiet());
      ASSERT_OK(ix);
      std::vector<Item> items = ReadItems(path);
      ASSERT_EQ(items.size(), 2u);
      EXPECT_EQ(items[1].thread_hint, "6805699");
      if (comment_first) std::swap(items[0], items[1]);
      IndexStats st;
      for (Item& it : items) ASSERT_OK((*ix)->Add(std::move(it), &st));
      ASSERT_OK((*ix)->Flush());
      const StoreReader& store = (*ix)->store();
      Place c = PlaceOf(store, Source::kHN, "6805807");
      EXPECT_EQ(c.root, "6805699");
      EXPECT_EQ(c.depth, 2u);
      EXPECT_EQ(c.parent, "6805750");
      EXPECT_EQ(c.thread_size, 2u);
      Place p = PlaceOf(store, Source::kHN, "6805750");
      EXPECT_TRUE(p.placeholder);
      EXPECT_EQ(p.parent, "6805699");
      EXPECT_EQ(p.depth, 1u);
    }
    ExpectConsistent(db.path());
    auto searcher = Searcher::Open(db.path(), {});
    ASSERT_OK(searcher);
    Result<DbStats> stats = (*searcher)->Stats();
    ASSERT_OK(stats);
    EXPECT_EQ(stats->threads, 1u);
  }
}

// The missing comment arrives naming a parent in another story: the
// reply follows it there, and both threads' sizes follow.
TEST(ThreadHintTest, ParentArrivingInAnotherThreadTakesItsRepliesAlong) {
  for (size_t chunk : {size_t{20000}, size_t{1}}) {
    SCOPED_TRACE("relink chunk " + std::to_string(chunk));
    TempDir tmp;
    IndexOptions o = Quiet();
    o.relink_chunk = chunk;
    {
      auto ix = Indexer::Open(tmp.path(), o);
      ASSERT_OK(ix);
      IndexStats st;
      ASSERT_OK((*ix)->Add(Hn("1", "", "", 100), &st));
      ASSERT_OK((*ix)->Add(Hn("100", "", "", 101), &st));
      ASSERT_OK((*ix)->Add(Hn("3", "2", "1", 103), &st));
      ASSERT_OK((*ix)->Add(Hn("4", "3", "1", 104), &st));
      ASSERT_OK((*ix)->Add(Hn("5", "2", "1", 105), &st));
      ASSERT_OK((*ix)->Flush());
      EXPECT_EQ(PlaceOf((*ix)->store(), Source::kHN, "4").root, "1");
      EXPECT_EQ(PlaceOf((*ix)->store(), Source::kHN, "1").thread_size, 4u);
    }
    ExpectConsistent(tmp.path());
    {
      auto ix = Indexer::Open(tmp.path(), o);
      ASSERT_OK(ix);
      IndexStats st;
      ASSERT_OK((*ix)->Add(Hn("2", "100", "100", 102), &st));
      ASSERT_OK((*ix)->Flush());
      const StoreReader& store = (*ix)->store();
      EXPECT_EQ(PlaceOf(store, Source::kHN, "1").thread_size, 1u);
      EXPECT_EQ(PlaceOf(store, Source::kHN, "100").thread_size, 5u);
      EXPECT_EQ(PlaceOf(store, Source::kHN, "100").reply_count, 1u);
      Place two = PlaceOf(store, Source::kHN, "2");
      EXPECT_EQ(two.parent, "100");
      EXPECT_EQ(two.depth, 1u);
      Place four = PlaceOf(store, Source::kHN, "4");
      EXPECT_EQ(four.root, "100");
      EXPECT_EQ(four.depth, 3u);
      EXPECT_EQ(four.parent_author, "u3");
      // 3 now answers a known author.
      EXPECT_EQ(PlaceOf(store, Source::kHN, "3").parent_author, "u2");
      EXPECT_EQ(PlaceOf(store, Source::kHN, "3").depth, 2u);
    }
    ExpectConsistent(tmp.path());
  }
}

// The missing item arrives naming no parent: a message stays below the
// hint its replies gave it; a story opens its own thread and takes its
// replies from the hinted one.
TEST(ThreadHintTest, ArrivingWithoutAParentKeepsTheHintUnlessAStory) {
  TempDir tmp;
  {
    auto ix = Indexer::Open(tmp.path(), Quiet());
    ASSERT_OK(ix);
    IndexStats st;
    ASSERT_OK((*ix)->IndexPaths({kFixture}, &st));
    Item missing;
    missing.source = Source::kMail;
    missing.id = kMissing;
    missing.author = "p.connolly@hortresearch.co.nz";
    missing.time = 1081807932;
    missing.text = "No In-Reply-To, no References.";
    ASSERT_OK((*ix)->Add(missing, &st));
    ASSERT_OK((*ix)->Flush());
    const StoreReader& store = (*ix)->store();
    Place p = PlaceOf(store, Source::kMail, kMissing);
    EXPECT_FALSE(p.placeholder);
    EXPECT_EQ(p.parent, kRoot);
    EXPECT_EQ(p.depth, 1u);
    EXPECT_EQ(p.thread_size, 5u);
    EXPECT_EQ(PlaceOf(store, Source::kMail, kRoot).reply_count, 2u);
    Place o = PlaceOf(store, Source::kMail, kOrphan);
    EXPECT_EQ(o.parent_author, "p.connolly@hortresearch.co.nz");
    EXPECT_EQ(o.depth, 2u);

    ASSERT_OK((*ix)->Add(Hn("1", "", "", 100), &st));
    ASSERT_OK((*ix)->Add(Hn("3", "2", "1", 103), &st));
    ASSERT_OK((*ix)->Flush());
    EXPECT_EQ(PlaceOf(store, Source::kHN, "3").root, "1");
    ASSERT_OK((*ix)->Add(Hn("2", "", "", 102), &st));
    ASSERT_OK((*ix)->Flush());
    Place two = PlaceOf(store, Source::kHN, "2");
    EXPECT_EQ(two.root, "2");
    EXPECT_EQ(two.parent, "");
    EXPECT_EQ(two.thread_size, 2u);
    EXPECT_EQ(PlaceOf(store, Source::kHN, "3").root, "2");
    EXPECT_EQ(PlaceOf(store, Source::kHN, "1").thread_size, 1u);
  }
  ExpectConsistent(tmp.path());
}

// Shards: whatever the order, the hinted thread lives in one shard, every
// item in exactly one, each shard checks, and the collection answers as
// one database does.
TEST(ThreadHintTest, ShardedCollectionsKeepHintedThreadsWhole) {
  std::vector<Item> items = ReadItems(kFixture);
  ASSERT_EQ(items.size(), 4u);
  // The missing message itself, answering 527, arrives last.
  Item late;
  late.source = Source::kMail;
  late.id = kMissing;
  late.type = ItemType::kMessage;
  late.author = "p.connolly@hortresearch.co.nz";
  late.time = 1081807932;
  late.title = "[R] Line numbers in error messages";
  late.text = "Try options(error = recover).";
  late.parent = kLigges;
  late.thread_hint = kRoot;
  std::vector<size_t> order = {0, 1, 2, 3};
  int cases = 0;
  do {
    for (unsigned n : {2u, 3u, 5u}) {
      SCOPED_TRACE(std::to_string(n) + " shards, order " +
                   std::to_string(order[0]) + std::to_string(order[1]) +
                   std::to_string(order[2]) + std::to_string(order[3]));
      TempDir tmp;
      const std::string dir = tmp.Sub("coll");
      {
        auto cx = CollectionIndexer::Open(dir, n, Quiet());
        ASSERT_OK(cx);
        IndexStats st;
        for (size_t i : order) ASSERT_OK((*cx)->Add(items[i], &st));
        ASSERT_OK((*cx)->Flush());
        // Where each item is.
        std::map<std::string, int> count;
        for (size_t s = 0; s < (*cx)->shard_count(); ++s) {
          ASSERT_OK((*cx)->shard(s).store().ForEachItem(
              [&](uint32_t, const StoredItem& it) {
                count[it.item.id]++;
                return Status::OK();
              }));
        }
        for (const auto& [id, c] : count) EXPECT_EQ(c, 1) << id;
        EXPECT_EQ(count.size(), 5u);  // 4 messages and the missing one
        ASSERT_OK((*cx)->Add(late, &st));
        ASSERT_OK((*cx)->Flush());
      }
      for (unsigned s = 0; s < n; ++s) {
        ExpectConsistent(dir + "/s" + std::to_string(s));
      }
      auto searcher = Searcher::Open(dir, {});
      ASSERT_OK(searcher);
      Result<DbStats> stats = (*searcher)->Stats();
      ASSERT_OK(stats);
      EXPECT_EQ(stats->items, 5u);
      EXPECT_EQ(stats->threads, 1u);
      EXPECT_EQ(stats->placeholders, 0u);
      Result<ThreadView> v = (*searcher)->Thread(kTurner);
      ASSERT_OK(v);
      EXPECT_EQ(v->root.item.item.id, kRoot);
      EXPECT_EQ(v->size, 5u);
      ++cases;
    }
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(cases, 72);
}

}  // namespace
}  // namespace threadsearch
