// Mail identity: two different messages under one Message-ID both stay
// (the later under a derived id, whatever order the archives come in);
// the same message archived twice stays one item; a message whose copy
// names another parent moves there in the store and the index alike.
// Fixtures are cut from R-help (../shared/corpus/mailing-lists/r-help).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <tuple>

#include "common/keys.h"
#include "common/thread_store.h"
#include "indexer/check.h"
#include "indexer/indexer.h"
#include "searcher/searcher.h"
#include "tests/testutil.h"

namespace threadsearch {
namespace {

const std::string kMail = std::string(TS_TEST_DATA) + "/mail";
// Two of Ted Harding's replies of 2005-04-26 21:32:55 share one id (XFMail
// made it from the second), with their two parents.
const std::string kSameSecond = kMail + "/r-help-2005-April-shared-id.txt";
constexpr char kXfmail[] = "XFMail.050426213255.Ted.Harding@nessie.mcc.ac.uk";
// Gmane's loom gave qjing's messages of three days one id: "RMySQL
// connection" (19 Jan, answered by Gavin Simpson) and "the value of Delta"
// (22 Jan).
const std::string kLoom = kMail + "/r-help-2007-January-shared-id.txt";
constexpr char kLoomId[] = "loom.20070119T092542-850@post.gmane.org";
constexpr char kSimpson[] = "1169211072.4401.17.camel@gsimpson.geog.ucl.ac.uk";
// A message and its reply, each archived twice with the address mangled
// two ways (pipermail from 2018 on).
const std::string kTwice = kMail + "/r-help-2018-April-twice.txt";
// One message archived twice, once with its text, once as a scrubbed stub.
const std::string kScrubbed = kMail + "/r-help-1997-December-scrubbed.txt";

// What identifies an item to a reader: its content and place.
struct Seen {
  std::string author, title, parent, root;
  int64_t time = 0;
  uint32_t depth = 0, reply_count = 0, thread_size = 0;
  bool operator==(const Seen&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Seen& s) {
  return os << "{" << s.author << ", " << s.time << ", " << s.title
            << ", parent " << s.parent << ", root " << s.root << ", depth "
            << s.depth << ", replies " << s.reply_count << ", size "
            << s.thread_size << "}";
}

// Every item (placeholders left out) by id.
std::map<std::string, Seen> Items(const std::string& dir) {
  StoreOptions so;
  so.read_only = true;
  auto store = ThreadStore::Open(dir + "/store", so);
  EXPECT_TRUE(store.ok());
  std::map<std::string, Seen> out;
  if (!store.ok()) return out;
  EXPECT_OK((*store)->ForEachItem([&](uint32_t, const StoredItem& s) {
    if (s.placeholder) return Status::OK();
    Seen& v = out[s.item.id];
    v.author = s.item.author;
    v.title = s.item.title;
    v.time = s.item.time;
    v.depth = s.depth;
    v.reply_count = s.reply_count;
    v.thread_size = s.thread_size;
    if (s.parent_num) v.parent = (*store)->Get(s.parent_num)->item.id;
    v.root = (*store)->Get(s.root_num)->item.id;
    return Status::OK();
  }));
  return out;
}

std::string TextOf(const std::string& dir, const std::string& id) {
  StoreOptions so;
  so.read_only = true;
  auto store = ThreadStore::Open(dir + "/store", so);
  EXPECT_TRUE(store.ok());
  auto num = (*store)->Lookup(Source::kMail, id);
  EXPECT_TRUE(num.ok()) << id;
  if (!num.ok()) return "";
  return (*store)->Get(*num)->item.text;
}

IndexStats IndexFiles(const std::string& dir,
                      const std::vector<std::string>& paths) {
  IndexOptions io;
  io.force = true;  // a copied fixture may look unchanged
  auto ix = Indexer::Open(dir, io);
  EXPECT_TRUE(ix.ok());
  IndexStats st;
  if (ix.ok()) EXPECT_OK((*ix)->IndexPaths(paths, &st));
  return st;
}

void ExpectCheckClean(const std::string& dir) {
  CheckReport report;
  ASSERT_OK(CheckDatabase(dir, {}, &report));
  EXPECT_TRUE(report.consistent())
      << (report.examples.empty() ? "" : report.examples[0]);
  EXPECT_EQ(report.missing_documents + report.extra_documents, 0u);
}

// Ids of the items a query finds.
std::vector<std::string> Find(const std::string& dir, const std::string& q) {
  auto s = Searcher::Open(dir, {});
  EXPECT_TRUE(s.ok());
  if (!s.ok()) return {};
  SearchRequest req;
  req.query = q;
  req.limit = 100;
  Result<SearchResult> r = (*s)->Search(req);
  EXPECT_TRUE(r.ok()) << q;
  std::vector<std::string> ids;
  if (r.ok()) {
    for (const Hit& h : r->hits) ids.push_back(h.item.item.id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

// The messages of a pipermail file, each written to a file of its own in
// `dir`, named so that the folder walk reads them in `order`.
std::vector<std::string> SplitMessages(const std::string& path) {
  const std::string all = ReadFileOrDie(path);
  std::vector<std::string> msgs;
  size_t start = 0;
  for (size_t at = all.find("\nFrom ", 1); at != std::string::npos;
       at = all.find("\nFrom ", at + 1)) {
    // A separator: "From ADDRESS  Www Mmm dd hh:mm:ss yyyy".
    const size_t eol = all.find('\n', at + 1);
    const std::string line = all.substr(at + 1, eol - at - 1);
    if (line.size() < 25 || line[line.size() - 5] != ' ' ||
        line[line.size() - 8] != ':') {
      continue;
    }
    msgs.push_back(all.substr(start, at + 1 - start));
    start = at + 1;
  }
  msgs.push_back(all.substr(start));
  return msgs;
}

std::string WriteInOrder(const TempDir& tmp, const std::string& name,
                         const std::vector<std::string>& msgs,
                         const std::vector<size_t>& order) {
  const std::string dir = tmp.Sub(name);
  std::filesystem::create_directories(dir);
  for (size_t i = 0; i < order.size(); ++i) {
    WriteFileOrDie(dir + "/" + std::to_string(i) + ".txt", msgs[order[i]]);
  }
  return dir;
}

TEST(MailIdentityTest, TwoMessagesOfOneIdAndOneSecondBothStay) {
  TempDir tmp;
  const std::string db = tmp.Sub("db");
  IndexStats st = IndexFiles(db, {kSameSecond});
  EXPECT_EQ(st.added, 4u);
  EXPECT_EQ(st.updated, 0u);
  ExpectCheckClean(db);
  auto items = Items(db);
  ASSERT_EQ(items.size(), 4u);
  // Same author and second: the subject tells them apart, and the smaller
  // fingerprint ("[r] finding…" < "[r] postscript…") keeps the plain id.
  ASSERT_TRUE(items.count(kXfmail));
  const Seen& ncp = items[kXfmail];
  EXPECT_EQ(ncp.title, "[R] Finding 'ncp' for t");
  EXPECT_EQ(ncp.parent, "x2mzrlsfwn.fsf@turmalin.kubism.ku.dk");
  std::string other;
  for (const auto& [id, seen] : items) {
    if (id != kXfmail && id.starts_with(std::string(kXfmail) + "~")) {
      other = id;
    }
  }
  ASSERT_EQ(other.size(), std::string(kXfmail).size() + 9) << other;
  const Seen& eps = items[other];
  EXPECT_EQ(eps.title,
            "[R] postscript (eps) / latex / par(mfg=...) / problem!");
  EXPECT_EQ(eps.author, ncp.author);
  EXPECT_EQ(eps.time, ncp.time);
  EXPECT_EQ(eps.parent,
            "Pine.LNX.4.21.0504261805150.25057-100000@mail.mrc-dunn.cam.ac.uk");
  EXPECT_EQ(eps.root, eps.parent);
  // Each is found by its own words, under its own id and thread.
  EXPECT_NE(TextOf(db, kXfmail).find("ncp"), std::string::npos);
  EXPECT_NE(TextOf(db, other).find("mfg"), std::string::npos);
  EXPECT_EQ(Find(db, "author:ted.harding@nessie.mcc.ac.uk"),
            (std::vector<std::string>{kXfmail, other}));
  EXPECT_EQ(Find(db, "id:" + other), std::vector<std::string>{other});
  EXPECT_EQ(Find(db, "id:<" + std::string(kXfmail) + ">"),
            std::vector<std::string>{kXfmail});
  EXPECT_EQ(Find(db, "thread:<" + eps.parent + ">").size(), 2u);
}

TEST(MailIdentityTest, IdsDoNotDependOnOrderOrRuns) {
  TempDir tmp;
  const std::vector<std::string> msgs = SplitMessages(kLoom);
  ASSERT_EQ(msgs.size(), 3u);  // RMySQL (19 Jan), Simpson's reply, Delta
  // In file order.
  const std::string a = tmp.Sub("a");
  IndexFiles(a, {WriteInOrder(tmp, "in-a", msgs, {0, 1, 2})});
  ExpectCheckClean(a);
  auto want = Items(a);
  ASSERT_EQ(want.size(), 3u);
  ASSERT_TRUE(want.count(kLoomId));
  EXPECT_EQ(want[kLoomId].title, "[R] RMySQL connection");
  EXPECT_EQ(want[kLoomId].reply_count, 1u);
  EXPECT_EQ(want[kLoomId].thread_size, 2u);
  EXPECT_EQ(want[kSimpson].parent, kLoomId);
  std::string delta;
  for (const auto& [id, seen] : want) {
    if (seen.title == "[R] the value of Delta") delta = id;
  }
  ASSERT_TRUE(delta.starts_with(std::string(kLoomId) + "~")) << delta;
  EXPECT_TRUE(want[delta].parent.empty());
  EXPECT_NE(TextOf(a, delta).find("Delta"), std::string::npos);

  // Backwards: Delta first holds the plain id and takes Simpson's reply,
  // then RMySQL, earlier, takes the id (and the reply) from it.
  const std::string b = tmp.Sub("b");
  IndexStats sb = IndexFiles(b, {WriteInOrder(tmp, "in-b", msgs, {2, 1, 0})});
  EXPECT_EQ(sb.added, 3u);
  ExpectCheckClean(b);
  EXPECT_EQ(Items(b), want);
  EXPECT_EQ(Find(b, "thread:<" + std::string(kLoomId) + ">"),
            (std::vector<std::string>{kSimpson, kLoomId}));
  EXPECT_EQ(Find(b, "delta"), std::vector<std::string>{delta});

  // One message a run, latest first, as a monthly cron job would if the
  // archive were read backwards.
  const std::string c = tmp.Sub("c");
  for (size_t i : {2, 1, 0}) {
    IndexFiles(c, {WriteInOrder(tmp, "in-c" + std::to_string(i), msgs, {i})});
    ExpectCheckClean(c);
  }
  EXPECT_EQ(Items(c), want);

  // The same files again, in the other order: nothing new, nothing changed.
  IndexStats again =
      IndexFiles(c, {tmp.Sub("in-c0"), tmp.Sub("in-c1"), tmp.Sub("in-c2")});
  EXPECT_EQ(again.added, 0u);
  EXPECT_EQ(again.updated, 0u);
  EXPECT_EQ(again.unchanged, 3u);
  ExpectCheckClean(c);
  EXPECT_EQ(Items(c), want);
}

TEST(MailIdentityTest, SameMessageArchivedTwiceStaysOneItem) {
  TempDir tmp;
  // Both copies in one file, their addresses mangled two ways.
  const std::string db = tmp.Sub("db");
  IndexStats st = IndexFiles(db, {kTwice});
  EXPECT_EQ(st.added, 2u);
  EXPECT_EQ(st.added + st.updated + st.unchanged, 4u);
  ExpectCheckClean(db);
  auto items = Items(db);
  ASSERT_EQ(items.size(), 2u);
  const std::string root = "9475365f-3c6a-88a2-e853-cf45d9038a31@echoffmann.ch";
  ASSERT_TRUE(items.count(root));
  EXPECT_EQ(items[root].thread_size, 2u);
  EXPECT_EQ(items[root].reply_count, 1u);

  // The same message in two files (a cross-post, two mirrors), read in one
  // run and then again one file a run: one item (holding the copy read
  // last, as an update does).
  const std::string two = tmp.Sub("two");
  std::filesystem::create_directories(two);
  std::filesystem::copy_file(kScrubbed, two + "/1997-December.txt");
  std::filesystem::copy_file(kScrubbed, two + "/1997-December-copy.txt");
  const std::string db2 = tmp.Sub("db2");
  st = IndexFiles(db2, {two});
  EXPECT_EQ(st.added, 1u);
  EXPECT_EQ(Items(db2).size(), 1u);
  ExpectCheckClean(db2);
  for (const char* f : {"/1997-December.txt", "/1997-December-copy.txt"}) {
    st = IndexFiles(db2, {two + f});
    EXPECT_EQ(st.added, 0u);
    EXPECT_EQ(Items(db2).size(), 1u);
    ExpectCheckClean(db2);
  }
}

Item Mail(const std::string& id, const std::string& parent,
          const std::string& author, int64_t time, const std::string& text) {
  Item it;
  it.source = Source::kMail;
  it.type = ItemType::kMessage;
  it.id = id;
  it.parent = parent;
  it.author = author;
  it.time = time;
  it.title = "[R] subject of " + id;
  it.text = text;
  return it;
}

// Adds `items` through one Indexer on `dir` and flushes; the run's figures.
IndexStats AddItems(const std::string& dir, const std::vector<Item>& items) {
  IndexStats st;
  auto ix = Indexer::Open(dir, {});
  EXPECT_TRUE(ix.ok());
  if (!ix.ok()) return st;
  for (const Item& it : items) EXPECT_OK((*ix)->Add(it, &st));
  EXPECT_OK((*ix)->Flush());
  return st;
}

// A copy of a message that names another parent moves it, with its
// replies, in the store and the index; a copy naming none leaves it.
TEST(MailIdentityTest, CopyNamingAnotherParentMovesTheMessage) {
  TempDir tmp;
  const std::string db = tmp.path();
  AddItems(db, {Mail("a@x", "", "ann@x", 100, "first thread"),
                Mail("b@x", "", "bob@x", 110, "second thread"),
                Mail("c@x", "a@x", "cy@x", 120, "reply"),
                Mail("d@x", "c@x", "di@x", 130, "below")});
  IndexStats st =
      AddItems(db, {Mail("c@x", "b@x", "cy@x", 120, "reply, fuller copy"),
                    Mail("d@x", "", "di@x", 130, "below, copy, no parent")});
  EXPECT_EQ(st.updated, 2u);
  ExpectCheckClean(db);
  auto items = Items(db);
  EXPECT_EQ(items["a@x"].thread_size, 1u);
  EXPECT_EQ(items["a@x"].reply_count, 0u);
  EXPECT_EQ(items["b@x"].thread_size, 3u);
  EXPECT_EQ(items["c@x"].parent, "b@x");
  EXPECT_EQ(items["c@x"].root, "b@x");
  EXPECT_EQ(items["d@x"].parent, "c@x");
  EXPECT_EQ(items["d@x"].root, "b@x");
  EXPECT_EQ(items["d@x"].depth, 2u);
  EXPECT_EQ(Find(db, "thread:b@x"),
            (std::vector<std::string>{"b@x", "c@x", "d@x"}));
  EXPECT_EQ(Find(db, "under:b@x"),
            (std::vector<std::string>{"b@x", "c@x", "d@x"}));
  EXPECT_EQ(Find(db, "under:a@x"), std::vector<std::string>{"a@x"});
  EXPECT_EQ(Find(db, "replies_to:bob@x"), std::vector<std::string>{"c@x"});

  // Between two siblings: d keeps its root and depth, but its ancestors
  // (what under: finds) change. A copy the same but for its parent moves
  // the message too.
  AddItems(db, {Mail("e@x", "b@x", "ed@x", 115, "sibling"),
                Mail("g@x", "b@x", "gil@x", 116, "sibling"),
                Mail("c@x", "e@x", "cy@x", 120, "again")});
  EXPECT_EQ(Items(db)["d@x"].depth, 3u);
  st = AddItems(db, {Mail("c@x", "g@x", "cy@x", 120, "again")});
  EXPECT_EQ(st.updated, 1u);
  ExpectCheckClean(db);
  items = Items(db);
  EXPECT_EQ(items["d@x"].depth, 3u);
  EXPECT_EQ(items["e@x"].reply_count, 0u);
  EXPECT_EQ(items["g@x"].reply_count, 1u);
  EXPECT_EQ(items["b@x"].thread_size, 5u);
  EXPECT_EQ(Find(db, "under:g@x"),
            (std::vector<std::string>{"c@x", "d@x", "g@x"}));
  EXPECT_EQ(Find(db, "under:e@x"), std::vector<std::string>{"e@x"});
}

// check counts each item's replies: a reply count the move forgot to
// lower would be reported.
TEST(MailIdentityTest, CheckReportsAWrongReplyCount) {
  TempDir tmp;
  AddItems(tmp.path(), {Mail("a@x", "", "ann@x", 100, "thread"),
                        Mail("c@x", "a@x", "cy@x", 120, "reply")});
  ExpectCheckClean(tmp.path());
  {
    auto store = ThreadStore::Open(tmp.Sub("store"), {});
    ASSERT_OK(store);
    auto num = (*store)->Lookup(Source::kMail, "a@x");
    ASSERT_OK(num);
    auto s = (*store)->Get(*num);
    ASSERT_OK(s);
    s->reply_count = 2;
    StoreBatch b;
    b.Put(keys::ItemKey(*num), EncodeStoredItem(*s));
    ASSERT_OK((*store)->Write(b));
  }
  CheckReport report;
  ASSERT_OK(CheckDatabase(tmp.path(), {}, &report));
  EXPECT_EQ(report.structure_errors, 1u);
  ASSERT_FALSE(report.examples.empty());
  EXPECT_EQ(report.examples[0], "item a@x records 2 replies, has 1");
}

// HN and Reddit: a later record with the same id is an update (an edit, a
// new score) and keeps the place it was first linked in.
TEST(MailIdentityTest, HnUpdatesStillReplaceAndKeepTheirPlace) {
  TempDir tmp;
  Item story;
  story.source = Source::kHN;
  story.type = ItemType::kStory;
  story.id = "1";
  story.author = "pg";
  story.time = 100;
  story.title = "A story";
  Item first = story;
  first.type = ItemType::kComment;
  first.id = "2";
  first.parent = "1";
  first.title.clear();
  first.text = "first words";
  Item edited = first;
  edited.text = "edited words";
  edited.time = 200;
  edited.author = "someone";
  edited.parent = "3";
  IndexStats st = AddItems(tmp.path(), {story, first, edited});
  EXPECT_EQ(st.added, 2u);
  EXPECT_EQ(st.updated, 1u);
  ExpectCheckClean(tmp.path());
  auto items = Items(tmp.path());
  EXPECT_EQ(items.size(), 2u);
  EXPECT_EQ(items["2"].author, "someone");
  EXPECT_EQ(items["2"].time, 200);
  EXPECT_EQ(items["2"].parent, "1");
  EXPECT_EQ(items["1"].reply_count, 1u);
  EXPECT_EQ(Find(tmp.path(), "edited"), std::vector<std::string>{"2"});
  EXPECT_TRUE(Find(tmp.path(), "first").empty());
}

}  // namespace
}  // namespace threadsearch
