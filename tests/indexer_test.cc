// Indexer tests: thread linking (tables of cases), updates, the two stores
// agreeing, recovery of a batch the index lacks, and the shipped corpus.
#include "indexer/indexer.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xapian.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <nlohmann/json.hpp>

#include "common/keys.h"
#include "common/mail_text.h"
#include "common/schema.h"
#include "common/thread_store.h"
#include "indexer/index_writer.h"
#include "tests/testutil.h"

namespace threadsearch {
namespace {

Item Hn(const std::string& id, const std::string& parent,
        const std::string& author, int64_t time, const std::string& text) {
  Item it;
  it.source = Source::kHN;
  it.id = id;
  it.parent = parent;
  it.author = author;
  it.time = time;
  it.text = text;
  it.type = parent.empty() ? ItemType::kStory : ItemType::kComment;
  if (parent.empty()) it.title = "Thread " + id;
  return it;
}

struct Shape {
  uint32_t depth;
  std::string root;  // root id
  std::string parent_author;
};

// Reads back (root id, depth, parent author) for an item.
Shape ShapeOf(ThreadStore& store, const std::string& id,
              Source source = Source::kHN) {
  Result<uint32_t> num = store.Lookup(source, id);
  EXPECT_TRUE(num.ok()) << id;
  if (!num.ok()) return {};
  Result<StoredItem> s = store.Get(*num);
  EXPECT_TRUE(s.ok());
  Result<StoredItem> root = store.Get(s->root_num);
  EXPECT_TRUE(root.ok());
  return {s->depth, root->item.id, s->parent_author};
}

uint32_t ThreadSize(ThreadStore& store, const std::string& id,
                    Source source = Source::kHN) {
  Result<uint32_t> num = store.Lookup(source, id);
  EXPECT_TRUE(num.ok());
  Result<StoredItem> s = store.Get(*num);
  Result<StoredItem> root = store.Get(s->root_num);
  return root->thread_size;
}

// Every searchable store item has a Xapian document and the reverse; the
// G (thread) term of each document names its root.
void ExpectStoresAgree(const std::string& dir) {
  StoreOptions so;
  so.read_only = true;
  auto store = ThreadStore::Open(dir + "/store", so);
  ASSERT_OK(store);
  Xapian::Database db(dir + "/xapian");
  uint64_t searchable = 0;
  ASSERT_OK((*store)->Scan(
      std::string(1, keys::kItem), [&](std::string_view, std::string_view v) {
        StoredItem s;
        EXPECT_OK(DecodeStoredItem(v, &s));
        if (!s.searchable()) return true;
        ++searchable;
        // A mail message keeps its own lines' spans, which give its text's
        // indexed body; other items keep none.
        const bool split = s.item.source == Source::kMail && !s.item.text_html;
        EXPECT_EQ(s.own_spans_for != 0, split) << "item " << s.item.id;
        EXPECT_EQ(schema::IndexedBody(s), schema::IndexedBody(s.item))
            << "item " << s.item.id;
        Xapian::Document doc;
        try {
          doc = db.get_document(s.num);
        } catch (const Xapian::DocNotFoundError&) {
          ADD_FAILURE() << "item " << s.item.id << " has no document";
          return true;
        }
        Result<StoredItem> root = (*store)->Get(s.root_num);
        EXPECT_TRUE(root.ok());
        std::string g = schema::Term(
            schema::kPrefixThread,
            schema::ItemKeyString(root->item.source, root->item.id));
        auto t = doc.termlist_begin();
        t.skip_to(g);
        EXPECT_TRUE(t != doc.termlist_end() && *t == g)
            << "item " << s.item.id << " lacks thread term " << g;
        return true;
      }));
  EXPECT_EQ(db.get_doccount(), searchable);
}

// Items read again unchanged (a file indexed again, the HN API polled
// again) leave nothing to write; a flush still lets them go, so a long run
// holds no more than a batch of them.
TEST(IndexerTest, UnchangedItemsAreNotHeldPastAFlush) {
  TempDir tmp;
  auto ix = Indexer::Open(tmp.path(), {});
  ASSERT_OK(ix);
  IndexStats st;
  for (int i = 1; i <= 20; ++i) {
    ASSERT_OK((*ix)->Add(Hn(std::to_string(i), i == 1 ? "" : "1", "alice",
                            100 + i, "text " + std::to_string(i)),
                         &st));
  }
  ASSERT_OK((*ix)->Flush());
  EXPECT_EQ((*ix)->cached_items(), 0u);
  for (int i = 1; i <= 20; ++i) {
    ASSERT_OK((*ix)->Add(Hn(std::to_string(i), i == 1 ? "" : "1", "alice",
                            100 + i, "text " + std::to_string(i)),
                         &st));
  }
  EXPECT_EQ(st.unchanged, 20u);
  EXPECT_GT((*ix)->cached_items(), 0u);
  ASSERT_OK((*ix)->Flush());
  EXPECT_EQ((*ix)->cached_items(), 0u);
}

TEST(IndexerTest, LinksRepliesAndCountsThreadSize) {
  TempDir tmp;
  auto ix = Indexer::Open(tmp.path(), {});
  ASSERT_OK(ix);
  IndexStats st;
  ASSERT_OK((*ix)->Add(Hn("1", "", "alice", 100, "story text"), &st));
  ASSERT_OK((*ix)->Add(Hn("2", "1", "bob", 110, "first reply"), &st));
  ASSERT_OK((*ix)->Add(Hn("3", "2", "Carol", 120, "reply to bob"), &st));
  ASSERT_OK((*ix)->Add(Hn("4", "1", "bob", 130, "second reply"), &st));
  ASSERT_OK((*ix)->Flush());
  ThreadStore& store = (*ix)->store();
  EXPECT_EQ(ShapeOf(store, "1").depth, 0u);
  EXPECT_EQ(ShapeOf(store, "3").depth, 2u);
  EXPECT_EQ(ShapeOf(store, "3").root, "1");
  EXPECT_EQ(ShapeOf(store, "3").parent_author, "bob");
  EXPECT_EQ(ThreadSize(store, "4"), 4u);
  EXPECT_EQ(st.added, 4u);
  // Children in time order.
  Result<uint32_t> one = store.Lookup(Source::kHN, "1");
  std::vector<uint32_t> kids;
  ASSERT_OK(store.Children(*one, &kids));
  ASSERT_EQ(kids.size(), 2u);
  EXPECT_EQ(store.Get(kids[0])->item.id, "2");
  EXPECT_EQ(store.Get(kids[1])->item.id, "4");
  // Replies to bob: exactly item 3. Items by bob: 2 and 4.
  EXPECT_EQ(*store.CountPrefix(keys::ReplyToPrefix("bob")), 1u);
  EXPECT_EQ(*store.CountPrefix(keys::AuthorPrefix("bob")), 2u);
  EXPECT_EQ(*store.CountPrefix(keys::ReplyToPrefix("alice")), 2u);
  ix->reset();
  ExpectStoresAgree(tmp.path());
}

// Thread linking cases: items arrive in the given order (one batch each
// when `batch_each`), then every item's root and depth is checked.
struct LinkCase {
  const char* name;
  std::vector<std::pair<std::string, std::string>> items;  // id, parent
  std::map<std::string, std::pair<std::string, uint32_t>> want;  // root, depth
  uint64_t cycles;
};

void PrintTo(const LinkCase& c, std::ostream* os) { *os << c.name; }

class LinkTableTest : public ::testing::TestWithParam<std::tuple<LinkCase, bool>> {};

TEST_P(LinkTableTest, RootsAndDepths) {
  const LinkCase& c = std::get<0>(GetParam());
  const bool batch_each = std::get<1>(GetParam());
  TempDir tmp;
  auto ix = Indexer::Open(tmp.path(), {});
  ASSERT_OK(ix);
  IndexStats st;
  int64_t t = 1000;
  for (const auto& [id, parent] : c.items) {
    ASSERT_OK((*ix)->Add(Hn(id, parent, "u" + id, t++, "text " + id), &st));
    if (batch_each) ASSERT_OK((*ix)->Flush());
  }
  ASSERT_OK((*ix)->Flush());
  for (const auto& [id, want] : c.want) {
    Shape s = ShapeOf((*ix)->store(), id);
    EXPECT_EQ(s.root, want.first) << c.name << ": root of " << id;
    EXPECT_EQ(s.depth, want.second) << c.name << ": depth of " << id;
  }
  EXPECT_EQ(st.cycles_broken, c.cycles) << c.name;
  ix->reset();
  ExpectStoresAgree(tmp.path());
}

const LinkCase kLinkCases[] = {
    {"in_order", {{"1", ""}, {"2", "1"}, {"3", "2"}},
     {{"1", {"1", 0}}, {"2", {"1", 1}}, {"3", {"1", 2}}}, 0},
    {"reply_before_parent",
     {{"3", "2"}, {"2", "1"}, {"1", ""}},
     {{"1", {"1", 0}}, {"2", {"1", 1}}, {"3", {"1", 2}}}, 0},
    {"missing_parent_is_root_until_it_arrives",
     {{"5", "4"}, {"6", "5"}},
     {{"5", {"5", 0}}, {"6", {"5", 1}}}, 0},
    {"missing_parent_arrives_later",
     {{"5", "4"}, {"6", "5"}, {"4", ""}},
     {{"4", {"4", 0}}, {"5", {"4", 1}}, {"6", {"4", 2}}}, 0},
    {"self_parent", {{"7", "7"}, {"8", "7"}},
     {{"7", {"7", 0}}, {"8", {"7", 1}}}, 1},
    {"two_cycle",
     {{"a", "b"}, {"b", "a"}, {"c", "a"}},
     {{"b", {"b", 0}}, {"a", {"b", 1}}, {"c", {"b", 2}}}, 1},
    {"three_cycle",
     {{"x", "z"}, {"y", "x"}, {"z", "y"}},
     {{"z", {"z", 0}}, {"x", {"z", 1}}, {"y", {"z", 2}}}, 1},
    {"siblings_then_root",
     {{"b1", "r"}, {"b2", "r"}, {"c1", "b1"}, {"r", ""}},
     {{"b1", {"r", 1}}, {"b2", {"r", 1}}, {"c1", {"r", 2}}}, 0},
};

INSTANTIATE_TEST_SUITE_P(
    Cases, LinkTableTest,
    ::testing::Combine(::testing::ValuesIn(kLinkCases), ::testing::Bool()),
    [](const auto& info) {
      return std::string(std::get<0>(info.param).name) +
             (std::get<1>(info.param) ? "_batch_each" : "_one_batch");
    });

TEST(IndexerTest, DeepChainHasRightDepthAndOneThread) {
  TempDir tmp;
  IndexOptions opts;
  opts.batch_size = 97;  // chains cross batches
  auto ix = Indexer::Open(tmp.path(), opts);
  ASSERT_OK(ix);
  IndexStats st;
  const int kDepth = 300;
  // Arrive deepest first: every item's parent is missing when it arrives.
  for (int i = kDepth; i >= 0; --i) {
    ASSERT_OK((*ix)->Add(
        Hn(std::to_string(i), i == 0 ? "" : std::to_string(i - 1), "u", i,
           "chain"),
        &st));
  }
  ASSERT_OK((*ix)->Flush());
  Shape s = ShapeOf((*ix)->store(), std::to_string(kDepth));
  EXPECT_EQ(s.root, "0");
  EXPECT_EQ(s.depth, static_cast<uint32_t>(kDepth));
  EXPECT_EQ(ThreadSize((*ix)->store(), "0"), static_cast<uint32_t>(kDepth + 1));
  ix->reset();
  ExpectStoresAgree(tmp.path());
}

TEST(IndexerTest, FirstBatchesAreSmallerThenFull) {
  TempDir tmp;
  IndexOptions opts;
  opts.batch_size = 80;
  auto ix = Indexer::Open(tmp.path(), opts);
  ASSERT_OK(ix);
  IndexStats st;
  // Batches of 10, 20, 40, then 80: the index threads get work early.
  const std::vector<std::pair<int, uint64_t>> after = {
      {9, 0}, {10, 1}, {29, 1}, {30, 2}, {70, 3}, {149, 3}, {150, 4},
      {229, 4}, {230, 5}};
  int added = 0;
  for (const auto& [items, batches] : after) {
    while (added < items) {
      ++added;
      ASSERT_OK((*ix)->Add(Hn(std::to_string(added), "", "u", added, "text"),
                           &st));
    }
    Result<uint64_t> seq = (*ix)->store().GetMetaInt("seq");
    const uint64_t written = seq.ok() ? *seq : 0;
    EXPECT_EQ(written, batches) << "after " << items << " items";
  }
}

TEST(IndexerTest, BatchIsFlushedWhenItsTextIsLarge) {
  TempDir tmp;
  IndexOptions opts;
  opts.batch_size = 1000;
  opts.batch_bytes = 100000;
  auto ix = Indexer::Open(tmp.path(), opts);
  ASSERT_OK(ix);
  IndexStats st;
  // 10 kB items: the tenth fills the first batch's 100 kB.
  const std::string text(10000, 'w');
  for (int i = 1; i <= 25; ++i) {
    Item it = Hn(std::to_string(i), "", "u", i, "");
    it.text = text;
    ASSERT_OK((*ix)->Add(it, &st));
    Result<uint64_t> seq = (*ix)->store().GetMetaInt("seq");
    EXPECT_EQ(seq.ok() ? *seq : 0, static_cast<uint64_t>(i / 10))
        << "after " << i << " items";
  }
}

TEST(IndexerTest, DeletedParentKeepsRepliesLinkedAndSearchable) {
  TempDir tmp;
  {
    auto ix = Indexer::Open(tmp.path(), {});
    ASSERT_OK(ix);
    IndexStats st;
    Item dead = Hn("2", "1", "", 110, "");
    dead.deleted = true;
    ASSERT_OK((*ix)->Add(Hn("1", "", "alice", 100, "root"), &st));
    ASSERT_OK((*ix)->Add(dead, &st));
    ASSERT_OK((*ix)->Add(Hn("3", "2", "bob", 120, "under a deleted one"), &st));
    ASSERT_OK((*ix)->Flush());
    Shape s = ShapeOf((*ix)->store(), "3");
    EXPECT_EQ(s.root, "1");
    EXPECT_EQ(s.depth, 2u);
  }
  ExpectStoresAgree(tmp.path());
  Xapian::Database db(tmp.path() + "/xapian");
  EXPECT_EQ(db.get_doccount(), 2u);  // the deleted one has no document
}

TEST(IndexerTest, ReindexingIsIdempotentAndUpdatesChangedItems) {
  TempDir tmp;
  auto ix = Indexer::Open(tmp.path(), {});
  ASSERT_OK(ix);
  IndexStats a, b;
  ASSERT_OK((*ix)->Add(Hn("1", "", "alice", 100, "original words"), &a));
  ASSERT_OK((*ix)->Add(Hn("2", "1", "bob", 110, "reply"), &a));
  ASSERT_OK((*ix)->Flush());
  ASSERT_OK((*ix)->Add(Hn("1", "", "alice", 100, "original words"), &b));
  Item edited = Hn("2", "1", "bob", 110, "edited reply");
  ASSERT_OK((*ix)->Add(edited, &b));
  ASSERT_OK((*ix)->Flush());
  EXPECT_EQ(b.added, 0u);
  EXPECT_EQ(b.unchanged, 1u);
  EXPECT_EQ(b.updated, 1u);
  Item deleted = Hn("2", "1", "bob", 110, "");
  deleted.deleted = true;
  IndexStats c;
  ASSERT_OK((*ix)->Add(deleted, &c));
  ASSERT_OK((*ix)->Flush());
  EXPECT_EQ(c.updated, 1u);
  EXPECT_EQ(ThreadSize((*ix)->store(), "1"), 2u);
  ix->reset();
  ExpectStoresAgree(tmp.path());
  Xapian::Database db(tmp.path() + "/xapian");
  EXPECT_EQ(db.get_doccount(), 1u);
  EXPECT_EQ(db.get_termfreq("edit"), 0u);
}

// A message whose text changes (to one of the same size, replying still:
// spans found for the old text would fit the new one's record) has its
// own lines found again, for the record and the index.
TEST(IndexerTest, UpdatedMessageKeepsTheSpansOfItsNewText) {
  TempDir tmp;
  auto ix = Indexer::Open(tmp.path(), {});
  ASSERT_OK(ix);
  Item m;
  m.source = Source::kMail;
  m.type = ItemType::kMessage;
  m.id = "m1@example.org";
  m.parent = "p1@example.org";
  m.author = "a@example.org";
  m.time = 1000;
  m.title = "Re: lme";
  m.text = "Thanks!\n> quoted\nBye!\n";
  IndexStats a, b;
  ASSERT_OK((*ix)->Add(m, &a));
  ASSERT_OK((*ix)->Flush());
  m.text = "> quoted\nThanks!\nBye!\n";
  ASSERT_OK((*ix)->Add(m, &b));
  ASSERT_OK((*ix)->Flush());
  EXPECT_EQ(b.updated, 1u);
  Result<uint32_t> num = (*ix)->store().Lookup(Source::kMail, m.id);
  ASSERT_OK(num);
  Result<StoredItem> s = (*ix)->store().Get(*num);
  ASSERT_OK(s);
  std::string own;
  ASSERT_TRUE(OwnFromSpans(s->item.text, s->own_spans, &own));
  EXPECT_EQ(own, "Thanks!\nBye!");
  EXPECT_EQ(schema::IndexedBody(*s), "Thanks!\nBye!");
  ix->reset();
  ExpectStoresAgree(tmp.path());
}

TEST(IndexerTest, OpenReplaysABatchTheIndexLacks) {
  TempDir tmp;
  {
    auto ix = Indexer::Open(tmp.path(), {});
    ASSERT_OK(ix);
    IndexStats st;
    ASSERT_OK((*ix)->Add(Hn("1", "", "alice", 100, "alpha"), &st));
    ASSERT_OK((*ix)->Flush());
  }
  // Simulate a crash after the store write of batch 2 and before the Xapian
  // commit: copy the index as it was after batch 1, write batch 2, and put
  // the old index back.
  std::filesystem::copy(tmp.Sub("xapian"), tmp.Sub("xapian.before"),
                        std::filesystem::copy_options::recursive);
  {
    auto ix = Indexer::Open(tmp.path(), {});
    ASSERT_OK(ix);
    IndexStats st;
    ASSERT_OK((*ix)->Add(Hn("2", "1", "bob", 110, "bravo"), &st));
    ASSERT_OK((*ix)->Flush());
  }
  std::filesystem::remove_all(tmp.Sub("xapian"));
  std::filesystem::rename(tmp.Sub("xapian.before"), tmp.Sub("xapian"));
  {
    Xapian::Database db(tmp.path() + "/xapian");
    EXPECT_EQ(db.get_doccount(), 1u);
  }
  std::vector<std::string> warnings;
  IndexOptions opts;
  opts.on_warning = [&](const std::string& w) { warnings.push_back(w); };
  {
    auto ix = Indexer::Open(tmp.path(), opts);
    ASSERT_OK(ix);
  }
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("recovering"), std::string::npos);
  ExpectStoresAgree(tmp.path());
  Xapian::Database db(tmp.path() + "/xapian");
  EXPECT_EQ(db.get_doccount(), 2u);
  EXPECT_EQ(db.get_termfreq("bravo"), 1u);
}

TEST(IndexerTest, SecondWriterIsBusy) {
  TempDir tmp;
  auto first = Indexer::Open(tmp.path(), {});
  ASSERT_OK(first);
  auto second = Indexer::Open(tmp.path(), {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kBusy)
      << second.status().ToString();
}

TEST(IndexerTest, MissingFileIsReportedOthersStillIndexed) {
  TempDir tmp;
  std::vector<std::string> warnings;
  IndexOptions opts;
  opts.on_warning = [&](const std::string& w) { warnings.push_back(w); };
  auto ix = Indexer::Open(tmp.Sub("db"), opts);
  ASSERT_OK(ix);
  IndexStats st;
  Status s = (*ix)->IndexPaths(
      {tmp.Sub("nope.json"),
       std::string(TS_CORPUS) + "/reddit/Paul-E-Pushshift-Importer/test_comments.json"},
      &st);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(st.files_failed, 1u);
  EXPECT_EQ(st.files, 1u);
  EXPECT_EQ(st.items_read, 27u);
  ASSERT_FALSE(warnings.empty());
  EXPECT_NE(warnings[0].find("nope.json"), std::string::npos);
}

// A mirror of a pipermail archive holds its web pages beside the monthly
// archives: indexing the folder reads the archives and passes over the
// pages and notes (named on the command line, a page is still an error).
TEST(IndexerTest, FolderWalkPassesOverWebPagesAndNotes) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.Sub("mirror/r-help/2004-April"));
  std::filesystem::copy_file(
      std::string(TS_TEST_DATA) + "/mail/r-help-2004-April-412-414.txt",
      tmp.Sub("mirror/r-help/2004-April.txt"));
  WriteFileOrDie(tmp.Sub("mirror/r-help/index.html"),
                 "<html><body><a href=\"2004-April.txt\">April</a></body></html>");
  WriteFileOrDie(tmp.Sub("mirror/r-help/2004-April/000412.htm"),
                 "<html><body>a message page</body></html>");
  WriteFileOrDie(tmp.Sub("mirror/NOTES.md"), "# notes\n");
  auto ix = Indexer::Open(tmp.Sub("db"), {});
  ASSERT_OK(ix);
  IndexStats st;
  ASSERT_OK((*ix)->IndexPaths({tmp.Sub("mirror")}, &st));
  EXPECT_EQ(st.files, 1u);
  EXPECT_EQ(st.files_failed, 0u);
  EXPECT_EQ(st.added, 3u);
  IndexStats page;
  EXPECT_FALSE((*ix)->IndexPaths({tmp.Sub("mirror/r-help/index.html")}, &page)
                   .ok());
}

// Poll options, linked by "poll" (HN API) or listed under "options"
// (Algolia item tree), are in the poll's thread.
TEST(IndexerTest, PollOptionsJoinThePollThread) {
  TempDir tmp;
  WriteFileOrDie(tmp.Sub("poll.jsonl"),
                 "{\"id\": 10, \"type\": \"poll\", \"by\": \"pg\", "
                 "\"time\": 100, \"title\": \"Poll\", \"parts\": [11]}\n"
                 "{\"id\": 11, \"type\": \"pollopt\", \"by\": \"pg\", "
                 "\"time\": 100, \"poll\": 10, \"text\": \"Yes\"}\n");
  WriteFileOrDie(tmp.Sub("algolia.json"),
                 "{\"id\": 20, \"type\": \"poll\", \"author\": \"pg\", "
                 "\"created_at_i\": 100, \"title\": \"Poll\", \"options\": "
                 "[{\"id\": 21, \"type\": \"pollopt\", \"author\": \"pg\", "
                 "\"created_at_i\": 100, \"text\": \"Yes\", \"options\": [], "
                 "\"children\": []}], \"children\": []}");
  auto ix = Indexer::Open(tmp.Sub("db"), {});
  ASSERT_OK(ix);
  IndexStats st;
  ASSERT_OK((*ix)->IndexPaths({tmp.Sub("poll.jsonl"), tmp.Sub("algolia.json")},
                              &st));
  ASSERT_OK((*ix)->Flush());
  ThreadStore& store = (*ix)->store();
  EXPECT_EQ(ShapeOf(store, "11").root, "10");
  EXPECT_EQ(ShapeOf(store, "11").depth, 1u);
  EXPECT_EQ(ShapeOf(store, "21").root, "20");
  EXPECT_EQ(ShapeOf(store, "21").depth, 1u);
  EXPECT_EQ(ThreadSize(store, "10"), 2u);
  EXPECT_EQ(ThreadSize(store, "20"), 2u);
}

// Old Pushshift dumps, comments (one known only by "name") before their
// submissions in one file, then an Arctic Shift comment tree of another
// thread: every record is indexed in its thread at its depth.
TEST(IndexerTest, RedditOldDumpsAndCommentTreesKeepTheirThreads) {
  TempDir tmp;
  const std::string data = std::string(TS_TEST_DATA) + "/reddit/";
  auto ix = Indexer::Open(tmp.Sub("db"), {});
  ASSERT_OK(ix);
  IndexStats st;
  ASSERT_OK((*ix)->IndexPaths({data + "pushshift-2005-mixed.ndjson",
                               data + "arctic-shift-comment-tree.json"},
                              &st));
  ASSERT_OK((*ix)->Flush());
  EXPECT_EQ(st.skipped, 0u);
  EXPECT_EQ(st.added, 9u);
  ThreadStore& store = (*ix)->store();
  const Source r = Source::kReddit;
  EXPECT_EQ(ShapeOf(store, "87", r).depth, 0u);
  EXPECT_EQ(ShapeOf(store, "c13", r).root, "87");
  EXPECT_EQ(ShapeOf(store, "c14", r).root, "87");
  EXPECT_EQ(ShapeOf(store, "c14", r).depth, 2u);
  EXPECT_EQ(ThreadSize(store, "87", r), 3u);
  EXPECT_EQ(ShapeOf(store, "c15", r).root, "88");
  EXPECT_EQ(ShapeOf(store, "c15", r).parent_author, "spez");
  // The tree's submission is not in the archive: its top-level comments
  // start threads of their own, the replies below them.
  EXPECT_EQ(ShapeOf(store, "kod3ccc", r).root, "kod1aaa");
  EXPECT_EQ(ShapeOf(store, "kod3ccc", r).depth, 2u);
  EXPECT_EQ(ShapeOf(store, "kod3ccc", r).parent_author, "dubsali");
  ix->reset();
  ExpectStoresAgree(tmp.Sub("db"));
}

// The shipped HN "Who is hiring" file: one story and its 407 top-level
// comments, 12 deleted and 16 dead (SOURCES.md; counted again below from
// the raw JSON).
TEST(IndexerTest, HnHiringThreadCountsMatchRawData) {
  TempDir tmp;
  const std::string path =
      std::string(TS_CORPUS) + "/hn/ntdunglc-hackernews_jobs/hn_comments.json";
  // Independent count straight from the raw JSON: items flagged deleted or
  // dead (3 carry both flags) have no searchable text.
  nlohmann::json raw = nlohmann::json::parse(ReadFileOrDie(path));
  size_t deleted = 0, dead = 0, hidden = 0;
  for (const auto& c : raw["comments"]) {
    bool del = c.value("deleted", false), dd = c.value("dead", false);
    deleted += del;
    dead += dd;
    hidden += del || dd;
  }
  ASSERT_EQ(raw["comments"].size(), 407u);
  ASSERT_EQ(deleted, 12u);
  ASSERT_EQ(dead, 16u);
  auto ix = Indexer::Open(tmp.path(), {});
  ASSERT_OK(ix);
  IndexStats st;
  ASSERT_OK((*ix)->IndexPaths({path}, &st));
  EXPECT_EQ(st.added, 408u);
  EXPECT_EQ(ThreadSize((*ix)->store(), "40846428"), 408u);
  EXPECT_EQ(*(*ix)->store().CountPrefix(keys::ReplyToPrefix("whoishiring")),
            407u);
  ix->reset();
  ExpectStoresAgree(tmp.path());
  Xapian::Database db(tmp.path() + "/xapian");
  EXPECT_EQ(db.get_doccount(), 408u - hidden);
}

}  // namespace
}  // namespace threadsearch

namespace threadsearch {
namespace {

TEST(IndexerTest, MetaIsWrittenWithTheNextFlush) {
  TempDir tmp;
  {
    auto ix = Indexer::Open(tmp.path(), {});
    ASSERT_OK(ix);
    IndexStats st;
    ASSERT_OK((*ix)->Add(Hn("1", "", "a", 1, "x"), &st));
    (*ix)->PutMeta("app.test", "42");
    EXPECT_TRUE((*ix)->GetMeta("app.test").status().IsNotFound());
    ASSERT_OK((*ix)->Flush());
    EXPECT_EQ(*(*ix)->GetMeta("app.test"), "42");
  }
  auto ix = Indexer::Open(tmp.path(), {});
  ASSERT_OK(ix);
  EXPECT_EQ(*(*ix)->GetMeta("app.test"), "42");
}

}  // namespace
}  // namespace threadsearch

namespace threadsearch {
namespace {

TEST(IndexerTest, PartsCompactionAndInterruptedSwap) {
  TempDir tmp;
  const std::string path =
      std::string(TS_CORPUS) + "/mailing-lists/r-help/2003-March.txt.gz";
  IndexOptions opts;
  opts.parts = 3;
  opts.compact = IndexOptions::Compaction::kAlways;
  uint64_t docs = 0;
  {
    auto ix = Indexer::Open(tmp.path(), opts);
    ASSERT_OK(ix);
    IndexStats st;
    ASSERT_OK((*ix)->IndexPaths({path}, &st));
    EXPECT_TRUE(st.compacted);
  }
  // Three parts behind a stub; through it every docid is the item's num.
  EXPECT_TRUE(std::filesystem::exists(tmp.Sub("xapian/XAPIANDB")));
  EXPECT_TRUE(std::filesystem::exists(tmp.Sub("xapian/p2/iamglass")));
  ExpectStoresAgree(tmp.path());
  {
    Xapian::Database db(tmp.Sub("xapian"));
    docs = db.get_doccount();
    ASSERT_GT(docs, 1000u);
  }
  // A compaction swap cut between its two renames leaves only p1.old.
  std::filesystem::rename(tmp.Sub("xapian/p1"), tmp.Sub("xapian/p1.old"));
  std::filesystem::create_directory(tmp.Sub("xapian/p0.compact"));
  {
    auto ix = Indexer::Open(tmp.path(), {});
    ASSERT_OK(ix);
  }
  EXPECT_FALSE(std::filesystem::exists(tmp.Sub("xapian/p0.compact")));
  ExpectStoresAgree(tmp.path());
  Xapian::Database db(tmp.Sub("xapian"));
  EXPECT_EQ(db.get_doccount(), docs);
}

TEST(IndexerTest, SmallUpdateDoesNotCompact) {
  TempDir tmp;
  auto ix = Indexer::Open(tmp.path(), {});
  ASSERT_OK(ix);
  IndexStats st;
  ASSERT_OK((*ix)->IndexPaths(
      {std::string(TS_CORPUS) + "/reddit/Paul-E-Pushshift-Importer/test_comments.json"},
      &st));
  EXPECT_FALSE(st.compacted);  // 27 items: under the 1,000 floor
}

// Everything Xapian holds, as text: per document its data, values and
// terms with wdf and positions; then the index's metadata.
std::string DumpIndex(const std::string& dir) {
  Xapian::Database db(dir);
  std::ostringstream out;
  out << "docs " << db.get_doccount() << " last " << db.get_lastdocid() << "\n";
  for (auto d = db.postlist_begin(""); d != db.postlist_end(""); ++d) {
    Xapian::Document doc = db.get_document(*d);
    out << "#" << *d << " len " << d.get_doclength() << " data "
        << doc.get_data().size() << "\n";
    for (auto v = doc.values_begin(); v != doc.values_end(); ++v) {
      out << " v" << v.get_valueno() << "=" << *v << "\n";
    }
    for (auto t = db.termlist_begin(*d); t != db.termlist_end(*d); ++t) {
      out << " " << *t << ":" << t.get_wdf();
      for (auto p = t.positionlist_begin(); p != t.positionlist_end(); ++p) {
        out << "," << *p;
      }
      out << "\n";
    }
  }
  for (auto k = db.metadata_keys_begin(); k != db.metadata_keys_end(); ++k) {
    // (Not what a commit changed: a record of how the index was written.)
    if ((*k).rfind("changed.", 0) == 0) continue;
    out << "meta " << *k << "=" << db.get_metadata(*k) << "\n";
  }
  return out.str();
}

size_t RunDirs(const std::string& xapian_dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(xapian_dir)) {
    if (e.path().filename().string().find(".run-") != std::string::npos) ++n;
  }
  return n;
}

IndexOptions TwoParts(size_t batch_size, uint64_t run_docs) {
  IndexOptions opts;
  opts.parts = 2;
  opts.batch_size = batch_size;
  opts.run_docs = run_docs;
  return opts;
}

// A bulk build through runs (tiny here, so that there are many) gives the
// very index a build into the parts gives: same docids, terms, positions,
// values and "seq", and no run is left on disk.
TEST(IndexerTest, RunsMergeIntoTheSameIndexAsParts) {
  TempDir tmp;
  const std::vector<std::string> files = {
      std::string(TS_CORPUS) + "/mailing-lists/r-help/2003-March.txt.gz",
      std::string(TS_CORPUS) + "/hn/ntdunglc-hackernews_jobs/hn_comments.json",
  };
  auto build = [&](const std::string& dir, uint64_t run_docs) {
    auto ix = Indexer::Open(dir, TwoParts(200, run_docs));
    EXPECT_OK(ix);
    IndexStats st;
    if (ix.ok()) EXPECT_OK((*ix)->IndexPaths(files, &st));
    return st;
  };
  IndexStats plain = build(tmp.Sub("plain"), 0);
  IndexStats runs = build(tmp.Sub("runs"), 150);
  EXPECT_EQ(plain.runs, 0u);
  EXPECT_GE(runs.runs, 6u);  // runs of 150 or more, over 2 parts
  EXPECT_TRUE(runs.compacted);
  EXPECT_EQ(RunDirs(tmp.Sub("runs/xapian")), 0u);
  const std::string want = DumpIndex(tmp.Sub("plain/xapian"));
  ASSERT_GT(want.size(), 100000u);
  const std::string got = DumpIndex(tmp.Sub("runs/xapian"));
  EXPECT_TRUE(got == want);
  if (got != want) {  // kept with the test directory, to diff
    WriteFileOrDie(tmp.Sub("want.txt"), want);
    WriteFileOrDie(tmp.Sub("got.txt"), got);
  }
  ExpectStoresAgree(tmp.Sub("runs"));
}

// Documents for IndexWriter: num N says "word<N%7> common".
std::vector<DocPlan> Plans(uint32_t from, uint32_t to) {
  std::vector<DocPlan> plans;
  for (uint32_t n = from; n < to; ++n) {
    DocPlan p;
    p.num = n;
    p.id_term = "Qdoc" + std::to_string(n);
    p.body = "word" + std::to_string(n % 7) + " common";
    p.terms = {p.id_term};
    plans.push_back(std::move(p));
  }
  return plans;
}

// Runs a killed writer left are merged when the index is next opened, and
// a merge killed after its result was whole is finished from pK.merged.
TEST(IndexerTest, OpenMergesRunsAKilledWriterLeft) {
  TempDir tmp;
  const std::string dir = tmp.Sub("xapian");
  auto write = [&](const std::string& d) {
    auto w = IndexWriter::Open(d, 2, /*run_docs=*/40);
    ASSERT_OK(w);
    for (uint32_t b = 0; b < 10; ++b) {
      ASSERT_OK((*w)->Apply(Plans(1 + b * 60, 61 + b * 60), b + 1));
    }
    // A value change reaches a document in the base, another in a run.
    std::vector<DocPlan> values = Plans(3, 4);
    auto more = Plans(450, 451);
    values.insert(values.end(), more.begin(), more.end());
    for (DocPlan& p : values) {
      p.kind = DocPlan::Kind::kValues;
      p.values = {{7, "changed"}};
    }
    const size_t runs = (*w)->runs();
    EXPECT_GE(runs, 8u);
    ASSERT_OK((*w)->Apply(std::move(values), 11));
    EXPECT_EQ((*w)->runs(), runs);  // no new documents: no new run
    EXPECT_EQ((*w)->doccount(), 600u);
    (*w)->Close();  // no Compact: as if killed
  };
  write(dir);
  ASSERT_GE(RunDirs(dir), 8u);
  // Readers see the base parts only, not the runs.
  EXPECT_LT(Xapian::Database(dir).get_doccount(), 600u);
  auto check = [&](const std::string& d, const std::string& seq) {
    Xapian::Database db(d);
    EXPECT_EQ(db.get_doccount(), 600u);
    EXPECT_EQ(db.get_termfreq("word3"), 86u);
    if (!seq.empty()) {
      EXPECT_EQ(db.get_metadata("seq"), seq);
    }
    for (uint32_t n : {1u, 3u, 77u, 450u, 600u}) {
      Xapian::Document doc = db.get_document(n);
      EXPECT_EQ(*doc.termlist_begin(), "Qdoc" + std::to_string(n));
      EXPECT_EQ(doc.get_value(7), n == 3 || n == 450 ? "changed" : "");
    }
    EXPECT_EQ(RunDirs(d), 0u);
  };
  {
    auto w = IndexWriter::Open(dir, 2);
    ASSERT_OK(w);
    EXPECT_EQ((*w)->runs(), 0u);
    EXPECT_EQ((*w)->seq(), 11u);
  }
  check(dir, "11");

  // Killed after the merged part was renamed into place as p0.merged,
  // before the runs were removed: Open takes p0.merged, drops the runs.
  const std::string dir2 = tmp.Sub("xapian2");
  write(dir2);
  {
    Xapian::Database src(dir2 + "/p0");
    for (const auto& e : std::filesystem::directory_iterator(dir2)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("p0.run-", 0) == 0) src.add_database(Xapian::Database(e.path()));
    }
    src.compact(dir2 + "/p0.merged", Xapian::DBCOMPACT_NO_RENUMBER);
  }
  std::filesystem::rename(dir2 + "/p0", dir2 + "/p0.old");  // mid-swap
  {
    auto w = IndexWriter::Open(dir2, 2);
    ASSERT_OK(w);
    EXPECT_EQ((*w)->runs(), 0u);
  }
  EXPECT_FALSE(std::filesystem::exists(dir2 + "/p0.merged"));
  EXPECT_FALSE(std::filesystem::exists(dir2 + "/p0.old"));
  // (Its "seq" is the base's: this test's compaction lacks RunMerger.)
  check(dir2, "");
}

// Under a low open-file limit, runs stop multiplying (the newest takes the
// rest) instead of failing with "too many open files", and the merge still
// fits.
TEST(IndexerTest, RunsStayWithinTheOpenFileLimit) {
  TempDir tmp;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    struct rlimit rl = {128, 128};  // 4 runs a part: 128 / 12 / 2 - 1
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) _exit(2);
    auto w = IndexWriter::Open(tmp.Sub("xapian"), 2, /*run_docs=*/20);
    if (!w.ok()) _exit(3);
    for (uint32_t b = 0; b < 40; ++b) {
      if (!(*w)->Apply(Plans(1 + b * 60, 61 + b * 60), b + 1).ok()) _exit(4);
    }
    if ((*w)->runs() != 8) _exit(5);
    if (!(*w)->Compact().ok()) _exit(6);
    if ((*w)->runs() != 0 || (*w)->doccount() != 2400) _exit(7);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  Xapian::Database db(tmp.Sub("xapian"));
  EXPECT_EQ(db.get_doccount(), 2400u);
  EXPECT_EQ(db.get_metadata("seq"), "40");
}

// Batches grow with the index (1/50 of it, up to 4x --batch) to spread a
// large part's commit cost, but not while the index writes through runs,
// whose commits stay small.
TEST(IndexerTest, BatchesDoNotGrowWhileWritingRuns) {
  auto batches_between = [](const std::string& dir, uint64_t run_docs) {
    auto ix = Indexer::Open(dir, TwoParts(8, run_docs));
    EXPECT_OK(ix);
    if (!ix.ok()) return uint64_t{0};
    IndexStats st;
    uint64_t at600 = 0;
    for (int n = 1; n <= 1200; ++n) {
      EXPECT_OK((*ix)->Add(Hn(std::to_string(n), "", "u", n, "text"), &st));
      if (n == 600) at600 = *(*ix)->store().GetMetaInt("seq");
    }
    return *(*ix)->store().GetMetaInt("seq") - at600;
  };
  TempDir tmp;
  // Into the parts: batches of 12 to 24 items (1/50 of the index).
  EXPECT_LE(batches_between(tmp.Sub("parts"), 0), 45u);
  // Through runs of 20 documents: batches of 8 throughout.
  EXPECT_GE(batches_between(tmp.Sub("runs"), 20), 74u);
}

}  // namespace
}  // namespace threadsearch
