#include "indexer/indexer.h"

#include <xapian.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <ctime>
#include <deque>
#include <filesystem>
#include <unordered_map>
#include <optional>
#include <thread>
#include <unordered_set>

#include "common/keys.h"
#include "common/schema.h"
#include "common/text.h"
#include "common/thread_store.h"
#include "indexer/index_writer.h"
#include "indexer/input_stream.h"
#include "indexer/readers.h"

namespace threadsearch {

namespace {

using Clock = std::chrono::steady_clock;

// Longest ancestor chain we follow; deeper chains are cut (and a reply
// chain that long is almost surely a loop the linker missed).
constexpr uint32_t kMaxWalk = 1u << 20;
// Ancestors recorded for under: queries; a subtree deeper than this below
// the asked item is cut off there.
constexpr uint32_t kMaxUnder = 1000;


std::string Fixed32(uint32_t v) {
  std::string s;
  keys::PutFixed32(&s, v);
  return s;
}
std::string Fixed64(uint64_t v) {
  std::string s;
  keys::PutFixed64(&s, v);
  return s;
}

// Same content as far as search and display are concerned.
bool SameContent(const Item& a, const Item& b) {
  return a.type == b.type && a.author == b.author &&
         a.author_name == b.author_name && a.time == b.time &&
         a.title == b.title && a.text == b.text &&
         a.text_html == b.text_html && a.url == b.url &&
         a.points == b.points && a.has_points == b.has_points &&
         a.deleted == b.deleted && a.list == b.list &&
         a.channel == b.channel && a.num_comments == b.num_comments;
}

// Mail identity. A Message-ID should name one message, but broken mailers
// and resent drafts give two different messages one id. Two mail records
// with one id are the same message (archived twice, cross-posted, the file
// read again) when their author address, time and subject (white space
// folded, ASCII case) agree.
// The body is no part of it: R-help holds 168 pairs that agree on those
// three and differ in body, the least alike a message and its copy that
// the archive scrubbed to an attachment stub.
//
// Addresses are compared by their skeleton: R-help's archives from 2018 on
// hold every message twice, its address mangled two ways that no reader
// can undo ("chri@ti@n @ending from echoffm@nn@ch" and "chr|@t|@n @end|ng
// |rom echo||m@nn@ch" for christian at echoffmann.ch): a, s and '.' became
// '@' in both, and i, l and f '|' in the second (2,629 such pairs). The
// skeleton maps those letters the same way, which could make two addresses
// alike only for messages that already share their id, time and subject.
std::string MailFingerprint(const Item& it) {
  std::string author = AsciiLower(it.author);
  for (char& c : author) {
    if (c == 'a' || c == 's' || c == '.') c = '@';
    if (c == 'i' || c == 'l' || c == 'f') c = '|';
  }
  return author + '\n' + std::to_string(it.time) + '\n' +
         AsciiLower(FoldWhitespace(it.title));
}

// The id of a different message that shares `id`: `id` + "~" + 8 hex
// digits of its fingerprint's hash, the same whatever order the archives
// are read in.
std::string DerivedMailId(const std::string& id,
                          const std::string& fingerprint) {
  char buf[16];
  snprintf(buf, sizeof buf, "~%08llx",
           static_cast<unsigned long long>(Fnv1a64(fingerprint) >> 32));
  return id + buf;
}

// Of two different messages with one id, whether `a` keeps the plain id
// (and the replies naming it): the earlier, then the smaller fingerprint,
// so the choice does not depend on the order the messages arrive in.
bool KeepsSharedId(const Item& a, const std::string& fa, const Item& b,
                   const std::string& fb) {
  if (a.time != b.time) return a.time < b.time;
  return fa < fb;
}

void Normalise(Item* item) {
  if (item->type == ItemType::kUnknown) {
    if (item->source == Source::kMail) {
      item->type = ItemType::kMessage;
    } else {
      item->type = item->parent.empty() ? ItemType::kStory : ItemType::kComment;
    }
  }
  if (item->parent.empty() && !item->thread_hint.empty() &&
      item->thread_hint != item->id) {
    item->parent = item->thread_hint;
  }
  item->author = std::string(TrimAscii(item->author));
  if (!IsValidUtf8(item->title)) item->title = SanitizeUtf8(item->title);
  if (!IsValidUtf8(item->text)) item->text = SanitizeUtf8(item->text);
  if (!IsValidUtf8(item->author)) item->author = SanitizeUtf8(item->author);
  if (!IsValidUtf8(item->author_name)) {
    item->author_name = SanitizeUtf8(item->author_name);
  }
}

// "YYYY" and "YYYYMM" of a Unix time, UTC.
void YearMonth(int64_t t, std::string* year, std::string* month) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm;
  if (!gmtime_r(&tt, &tm)) {
    year->clear();
    month->clear();
    return;
  }
  char buf[32];
  snprintf(buf, sizeof buf, "%04d", tm.tm_year + 1900);
  *year = buf;
  snprintf(buf, sizeof buf, "%04d%02d", tm.tm_year + 1900, tm.tm_mon + 1);
  *month = buf;
}

}  // namespace

struct Indexer::Impl {
  std::string dir;
  IndexOptions opts;
  std::unique_ptr<ThreadStore> store;
  std::unique_ptr<IndexWriter> xw;

  uint32_t next_num = 1;
  uint64_t seq = 0;         // last batch written to the store
  uint64_t xapian_seq = 0;  // last batch committed to Xapian

  // Per-batch state.
  std::unordered_map<uint32_t, StoredItem> cache;
  // Records to write to the store, and what each needs in Xapian.
  enum XapianWork : uint8_t { kNone = 0, kValues = 1, kFull = 2 };
  std::unordered_map<uint32_t, XapianWork> dirty;
  std::unordered_map<std::string, uint32_t> new_ids;
  std::unordered_map<uint32_t, std::vector<uint32_t>> new_children;
  // Items removed in this batch (a thread moved to another shard): their
  // documents are deleted.
  std::vector<uint32_t> removed;
  StoreBatch batch;
  size_t pending = 0;
  size_t pending_bytes = 0;  // text of the pending items
  // Batches flushed by this indexer.
  uint64_t flushes = 0;
  // Items in the batch being gathered before it is flushed.
  //  - The first three batches are an eighth, a quarter and a half of
  //    batch_size: the index threads idle until the first one is handed
  //    over.
  //  - Then batch_size, or on a large index 1/50 of its items, up to 4x
  //    batch_size: a commit rewrites the B-tree blocks that hold each
  //    changed term's postings and positions, and on a large index those
  //    are spread over all of it (1M synthetic HN items: batches of 5000
  //    wrote 61 GB for a 1.7 GB index in 171 s, batches of 20000 wrote 20
  //    GB in 159 s, peak RSS 310 -> 526 MB).
  //  - But batch_size while the index writes through runs, whose commits
  //    stay small: larger batches only cost CPU in Xapian's change maps
  //    (3M synthetic items with runs: batches of 20000 took 465 s wall,
  //    825 s user, 684 MB; batches of 5000 442 s, 702 s, 520 MB).
  size_t BatchLimit() const {
    const size_t base = std::max<size_t>(1, opts.batch_size);
    if (flushes < 3) return std::max<size_t>(1, (base >> 3) << flushes);
    if (writing_runs) return base;
    return std::clamp<size_t>(next_num / 50, base, 4 * base);
  }
  // Whether the index had runs when the last apply was handed over (read
  // then, as the part threads add runs while they apply).
  bool writing_runs = false;
  std::string error_context;

  Status OpenAll();
  Status Recover();
  // Finishes a relink a crash interrupted (marker M"relink").
  Status ResumeRelink();
  Result<uint32_t> LookupKey(const std::string& key);
  Result<StoredItem*> Load(uint32_t num);
  Status ChildrenOf(uint32_t num, std::vector<uint32_t>* out);
  // Applies one item. `derived`: item.id is already a DerivedMailId (no
  // second look at who shares it).
  Status Apply(Item item, IndexStats* stats, bool derived = false);
  // Replaces stored item `s`'s content with `item`. `move`: take item's
  // parent too (Unlink, then Link); else s stays where it was linked.
  Status Update(StoredItem* s, Item item, bool move, IndexStats* stats);
  // Takes item `s` out from under its parent (child entry, reply count,
  // replies_to entry, its thread's size): it is a root until linked again.
  Status Unlink(StoredItem* s);
  // `moved`: s was linked before (Update), so every document below it is
  // rebuilt (its ancestors' ids changed even where root and depth did not).
  Status Link(StoredItem* s, IndexStats* stats, bool moved = false);
  // The number of the item `key` names, making a placeholder (a thread
  // root) for it when it has not been seen.
  Result<uint32_t> FindOrMakePlaceholder(Source source, const std::string& id);
  // Gives placeholder `p`, a root, a hint link to the item `hint` names
  // (made a placeholder when unseen) unless that closes a loop through `p`
  // or `child`; `*joined` tells whether `p` now belongs to a real thread.
  Status HintLink(StoredItem* p, const std::string& hint, uint32_t child,
                  bool* joined);
  // Drops the hint link of placeholder `p` (about to be filled).
  void DropHintLink(StoredItem* p);
  // A relink in progress: breadth-first over the subtree below `top`.
  struct Relink {
    uint32_t top = 0;
    bool resumed = false;  // restarted from the store's marker
    std::deque<uint32_t> queue;
    uint32_t cur = 0;             // the node whose children are being moved
    std::vector<uint32_t> kids;   // its children
    size_t next = 0;              // the next of them to look at
    std::unordered_set<uint32_t> seen;
    // Rebuild every document below the top, even those whose root, depth
    // and parent author stay (a moved item: their ancestors changed).
    bool rebuild = false;
  };
  std::optional<Relink> relink;
  void StartRelink(uint32_t top, bool rebuild = false);
  Status RelinkStep(size_t budget, bool* done, IndexStats* stats);
  Status DrainRelink(IndexStats* stats);
  Status AddToThreadSize(uint32_t root, int64_t delta);
  Status Flush();
  // Plans the Xapian side of item `s` (reads ancestors through the cache).
  Status PlanDocument(const StoredItem& s, DocPlan::Kind kind, DocPlan* plan);
  Status PlanAll(const std::vector<uint32_t>& nums, DocPlan::Kind kind,
                 std::vector<DocPlan>* plans);
  // The record changed and its Xapian document must be rebuilt.
  void MarkFull(uint32_t n) { dirty[n] = kFull; }
  // The record changed; in Xapian only its values did.
  void MarkValues(uint32_t n) {
    XapianWork& w = dirty[n];
    if (w < kValues) w = kValues;
  }
  // Only the store record changed (e.g. a root's thread size).
  void MarkRecord(uint32_t n) { dirty.try_emplace(n, kNone); }
  void Warn(const std::string& msg) {
    if (opts.on_warning) opts.on_warning(msg);
  }
};

Indexer::Indexer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Indexer::~Indexer() = default;

ThreadStore& Indexer::store() { return *impl_->store; }

Result<std::unique_ptr<Indexer>> Indexer::Open(const std::string& dir,
                                               const IndexOptions& opts) {
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->opts = opts;
  TS_RETURN_IF_ERROR(impl->OpenAll());
  TS_RETURN_IF_ERROR(impl->Recover());
  TS_RETURN_IF_ERROR(impl->ResumeRelink());
  return std::unique_ptr<Indexer>(new Indexer(std::move(impl)));
}

Status Indexer::Impl::OpenAll() {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError(dir + ": cannot create: " + ec.message());
  StoreOptions so;
  Result<std::unique_ptr<ThreadStore>> st = ThreadStore::Open(dir + "/store", so);
  if (!st.ok()) return st.status();
  store = std::move(st).value();
  {
    // A rebuild that was interrupted: before its swap the old index is still
    // live (drop the partial one); mid-swap only xapian.old is left.
    namespace fs = std::filesystem;
    std::error_code ec2;
    if (!fs::exists(dir + "/xapian") && fs::exists(dir + "/xapian.old")) {
      fs::rename(dir + "/xapian.old", dir + "/xapian", ec2);
    }
    fs::remove_all(dir + "/xapian.rebuild", ec2);
    fs::remove_all(dir + "/xapian.old", ec2);
  }
  unsigned parts = opts.parts;
  if (parts == 0) {
    parts = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  }
  Result<std::unique_ptr<IndexWriter>> w =
      IndexWriter::Open(dir + "/xapian", parts,
                        opts.compact == IndexOptions::Compaction::kNever
                            ? 0
                            : opts.run_docs);
  if (!w.ok()) return w.status();
  xw = std::move(w).value();
  xapian_seq = xw->seq();
  Result<uint64_t> nn = store->GetMetaInt("next_num");
  if (nn.ok()) {
    next_num = static_cast<uint32_t>(*nn);
  } else if (!nn.status().IsNotFound()) {
    return nn.status();
  }
  Result<uint64_t> sq = store->GetMetaInt("seq");
  if (sq.ok()) {
    seq = *sq;
  } else if (!sq.status().IsNotFound()) {
    return sq.status();
  }
  return Status::OK();
}

// Replays batches the store has and the index lacks (a crash between the
// store write and the Xapian commit).
Status Indexer::Impl::Recover() {
  if (xapian_seq > seq) {
    return Status::Corruption(dir + ": index is ahead of the thread store (" +
                              std::to_string(xapian_seq) + " > " +
                              std::to_string(seq) + "); run check --repair");
  }
  if (xapian_seq == seq) return Status::OK();
  std::vector<uint32_t> nums;
  std::string from = keys::Dirty(xapian_seq + 1, 0);
  TS_RETURN_IF_ERROR(store->Scan(
      keys::DirtyPrefix(), [&](std::string_view key, std::string_view) {
        if (key < from) return true;
        nums.push_back(keys::TrailingNum(key));
        return true;
      }));
  std::sort(nums.begin(), nums.end());
  nums.erase(std::unique(nums.begin(), nums.end()), nums.end());
  Warn("recovering: replaying " + std::to_string(nums.size()) +
       " items from batches " + std::to_string(xapian_seq + 1) + ".." +
       std::to_string(seq) + " into the index");
  std::vector<DocPlan> plans;
  Status st = PlanAll(nums, DocPlan::Kind::kFull, &plans);
  cache.clear();
  TS_RETURN_IF_ERROR(st);
  TS_RETURN_IF_ERROR(xw->Apply(std::move(plans), seq));
  xapian_seq = xw->seq();
  return Status::OK();
}

Status Indexer::Impl::ResumeRelink() {
  Result<uint64_t> top = store->GetMetaInt("relink");
  if (top.status().IsNotFound()) return Status::OK();
  if (!top.ok()) return top.status();
  Warn("resuming the relink of the thread below item #" +
       std::to_string(*top) + " that an earlier run left unfinished");
  Result<std::string> rebuild = store->GetRaw(keys::Meta("relink_rebuild"));
  if (!rebuild.ok() && !rebuild.status().IsNotFound()) return rebuild.status();
  StartRelink(static_cast<uint32_t>(*top), rebuild.ok());
  relink->resumed = true;
  IndexStats ignored;
  TS_RETURN_IF_ERROR(DrainRelink(&ignored));
  TS_RETURN_IF_ERROR(Flush());
  Status st = xw->Wait();
  xapian_seq = xw->seq();
  return st;
}

Result<uint32_t> Indexer::Impl::LookupKey(const std::string& key) {
  auto it = new_ids.find(key);
  if (it != new_ids.end()) return it->second;
  Result<std::string> raw = store->GetRaw(key);
  if (!raw.ok()) return raw.status();
  if (raw->size() != 4) return Status::Corruption("bad id record");
  return keys::GetFixed32(*raw, 0);
}

Result<StoredItem*> Indexer::Impl::Load(uint32_t num) {
  auto it = cache.find(num);
  if (it != cache.end()) return &it->second;
  Result<StoredItem> r = store->Get(num);
  if (!r.ok()) return r.status();
  auto [pos, inserted] = cache.emplace(num, std::move(r).value());
  return &pos->second;
}

Status Indexer::Impl::ChildrenOf(uint32_t num, std::vector<uint32_t>* out) {
  TS_RETURN_IF_ERROR(store->Children(num, out));
  auto it = new_children.find(num);
  if (it != new_children.end()) {
    out->insert(out->end(), it->second.begin(), it->second.end());
    std::sort(out->begin(), out->end());
    out->erase(std::unique(out->begin(), out->end()), out->end());
  }
  return Status::OK();
}

Status Indexer::Impl::AddToThreadSize(uint32_t root, int64_t delta) {
  Result<StoredItem*> r = Load(root);
  if (!r.ok()) return r.status();
  StoredItem* s = *r;
  s->thread_size = static_cast<uint32_t>(
      std::max<int64_t>(0, static_cast<int64_t>(s->thread_size) + delta));
  // Its comment count value follows the thread's size.
  MarkValues(root);
  return Status::OK();
}

Status Indexer::Add(Item item, IndexStats* stats) {
  impl_->pending_bytes += item.title.size() + item.text.size();
  TS_RETURN_IF_ERROR(impl_->Apply(std::move(item), stats));
  TS_RETURN_IF_ERROR(impl_->DrainRelink(stats));
  if (++impl_->pending >= impl_->BatchLimit() ||
      impl_->pending_bytes >= impl_->opts.batch_bytes) {
    return impl_->Flush();
  }
  return Status::OK();
}

Status Indexer::FlushStore() { return impl_->Flush(); }

size_t Indexer::cached_items() const { return impl_->cache.size(); }

Status Indexer::Flush() {
  TS_RETURN_IF_ERROR(impl_->Flush());
  Status st = impl_->xw->Wait();
  impl_->xapian_seq = impl_->xw->seq();
  return st;
}

void Indexer::PutMeta(const std::string& name, std::string value) {
  impl_->batch.Put(keys::Meta(name), std::move(value));
}

Result<std::string> Indexer::GetMeta(const std::string& name) {
  return impl_->store->GetRaw(keys::Meta(name));
}

Result<bool> Indexer::Has(Source source, std::string_view id) {
  Result<uint32_t> num = impl_->LookupKey(keys::Id(source, id));
  if (num.ok()) return true;
  if (num.status().IsNotFound()) return false;
  return num.status();
}

Status Indexer::Impl::Apply(Item item, IndexStats* stats, bool derived) {
  if (item.id.empty()) {
    ++stats->skipped;
    Warn(item.origin + ": item without id skipped");
    return Status::OK();
  }
  Normalise(&item);
  std::string key = keys::Id(item.source, item.id);
  Result<uint32_t> found = LookupKey(key);
  if (!found.ok() && !found.status().IsNotFound()) return found.status();

  if (!found.ok()) {
    // A new item.
    uint32_t num = next_num++;
    StoredItem& s = cache[num];
    s.num = num;
    s.item = std::move(item);
    s.root_num = num;
    new_ids[key] = num;
    batch.Put(key, Fixed32(num));
    if (!s.item.author.empty()) {
      batch.Put(keys::Author(AsciiLower(s.item.author), s.item.time, num), "");
    }
    MarkFull(num);
    ++stats->added;
    return Link(&s, stats);
  }

  Result<StoredItem*> loaded = Load(*found);
  if (!loaded.ok()) return loaded.status();
  StoredItem* s = *loaded;
  if (s->placeholder) {
    // The missing parent has arrived: fill it in and relink what hangs
    // below it. Its own parent wins over the hint link its replies gave
    // it; naming none, a reply (a message) stays below that hint, as jwz
    // threading places it: its replies' References put it in that thread.
    // A story, poll or job opens a thread of its own whatever its replies
    // say.
    const std::string hinted = s->parent_num != 0 ? s->item.thread_hint : "";
    DropHintLink(s);
    const bool opens_thread = item.type == ItemType::kStory ||
                              item.type == ItemType::kPoll ||
                              item.type == ItemType::kJob;
    if (item.parent.empty() && !hinted.empty() && hinted != item.id &&
        !opens_thread) {
      item.parent = hinted;
      if (item.thread_hint.empty()) item.thread_hint = hinted;
    }
    s->placeholder = false;
    s->item = std::move(item);
    if (!s->item.author.empty()) {
      batch.Put(keys::Author(AsciiLower(s->item.author), s->item.time, s->num),
                "");
    }
    MarkFull(s->num);
    ++stats->added;
    return Link(s, stats);
  }
  if (item.source == Source::kMail && !derived) {
    const std::string fp_new = MailFingerprint(item);
    const std::string fp_old = MailFingerprint(s->item);
    if (fp_new != fp_old) {
      // Another message under the same Message-ID: kept as an item of
      // its own, never an update of the one stored.
      if (!KeepsSharedId(item, fp_new, s->item, fp_old)) {
        item.id = DerivedMailId(item.id, fp_new);
        return Apply(std::move(item), stats, /*derived=*/true);
      }
      // It precedes the stored one: it takes the plain id (and the
      // replies naming it), and the stored message moves to its own id.
      // The copy is written first: should a large relink flush in between
      // and the run die there, the stored message is in both places until
      // this file, not yet recorded as read, is read again, never lost.
      Item displaced = s->item;
      displaced.id = DerivedMailId(displaced.id, fp_old);
      TS_RETURN_IF_ERROR(Apply(std::move(displaced), stats, /*derived=*/true));
      TS_RETURN_IF_ERROR(DrainRelink(stats));
      Result<StoredItem*> held = Load(*found);  // a flush empties the cache
      if (!held.ok()) return held.status();
      return Update(*held, std::move(item), /*move=*/true, stats);
    }
  }
  // A message keeps no structure from an earlier copy of itself: a copy
  // that names another parent moves it there. One that names none leaves
  // it in place (archives drop In-Reply-To more often than they invent
  // one). HN and Reddit items stay where they were first linked.
  const bool move = item.source == Source::kMail && !item.parent.empty() &&
                    item.parent != s->item.parent;
  if (!move && SameContent(s->item, item)) {
    ++stats->unchanged;
    return Status::OK();
  }
  ++stats->updated;
  return Update(s, std::move(item), move, stats);
}

Status Indexer::Impl::Update(StoredItem* s, Item item, bool move,
                             IndexStats* stats) {
  Item& old = s->item;
  std::string old_author = AsciiLower(old.author);
  std::string new_author = AsciiLower(item.author);
  if (old_author != new_author || old.time != item.time) {
    if (!old_author.empty()) {
      batch.Delete(keys::Author(old_author, old.time, s->num));
    }
    if (!new_author.empty()) {
      batch.Put(keys::Author(new_author, item.time, s->num), "");
    }
  }
  if (item.story_title.empty() && item.story_url.empty()) {
    item.story_title = old.story_title;
    item.story_url = old.story_url;
  }
  MarkFull(s->num);
  if (move) {
    const bool was_root = s->is_root();
    const uint32_t size = s->thread_size;
    TS_RETURN_IF_ERROR(Unlink(s));
    s->item = std::move(item);
    s->cycle_broken = false;
    TS_RETURN_IF_ERROR(Link(s, stats, /*moved=*/true));
    // Still a root: its replies stay in its thread (Link counted it alone).
    if (was_root && s->is_root()) s->thread_size = size;
    return Status::OK();
  }
  // The thread position stays as first linked; content changes.
  if (!s->parent_author.empty() && old.time != item.time && s->parent_num) {
    batch.Delete(keys::ReplyTo(s->parent_author, old.time, s->num));
    batch.Put(keys::ReplyTo(s->parent_author, item.time, s->num), "");
  }
  if (s->parent_num && old.time != item.time) {
    batch.Delete(keys::Child(s->parent_num, old.time, s->num));
    batch.Put(keys::Child(s->parent_num, item.time, s->num), "");
  }
  // Keep the parent we linked on; the source's other fields win.
  item.parent = old.parent;
  item.thread_hint = old.thread_hint;
  s->item = std::move(item);
  if (old_author != new_author) {
    // Replies to this item now reply to someone else.
    StartRelink(s->num);
  }
  return Status::OK();
}

Status Indexer::Impl::Unlink(StoredItem* s) {
  if (s->parent_num == 0) return Status::OK();
  Result<StoredItem*> pr = Load(s->parent_num);
  if (!pr.ok()) return pr.status();
  StoredItem* p = *pr;
  batch.Delete(keys::Child(p->num, s->item.time, s->num));
  if (p->reply_count > 0) p->reply_count--;
  MarkValues(p->num);
  if (!s->parent_author.empty()) {
    batch.Delete(keys::ReplyTo(s->parent_author, s->item.time, s->num));
  }
  if (!s->is_root()) TS_RETURN_IF_ERROR(AddToThreadSize(s->root_num, -1));
  s->parent_num = 0;
  s->root_num = s->num;
  s->depth = 0;
  s->parent_author.clear();
  return Status::OK();
}

// Links a new (or just filled) item under its parent, then fixes the thread
// fields of everything already hanging below it.
Status Indexer::Impl::Link(StoredItem* s, IndexStats* stats, bool moved) {
  const uint32_t num = s->num;
  const std::string parent_id = s->item.parent;
  uint32_t relink_top = num;
  s->root_num = num;
  s->depth = 0;
  s->parent_author.clear();

  if (!parent_id.empty() && parent_id == s->item.id) {
    s->cycle_broken = true;
    ++stats->cycles_broken;
    Warn(s->item.origin + ": item " + s->item.id +
         " names itself as parent; treated as a thread root");
  } else if (!parent_id.empty()) {
    // Unseen parent: a placeholder that the parent fills when it comes.
    Result<uint32_t> pnum = FindOrMakePlaceholder(s->item.source, parent_id);
    if (!pnum.ok()) return pnum.status();
    // (Pointers into `cache` stay valid as it grows: unordered_map nodes
    // do not move.)
    Result<StoredItem*> pr = Load(*pnum);
    if (!pr.ok()) return pr.status();
    StoredItem* p = *pr;
    // A missing parent that starts a thread of its own goes below the
    // earlier item of the thread the source names, so the item stays in
    // that thread. A placeholder that already has replies takes them
    // along (they are its replies too): relink from it.
    const std::string& hint = s->item.thread_hint;
    if (p->placeholder && p->parent_num == 0 && !hint.empty() &&
        hint != parent_id && hint != s->item.id) {
      bool joined = false;
      TS_RETURN_IF_ERROR(HintLink(p, hint, num, &joined));
      if (joined && (p->reply_count > 0 || p->hint_children)) {
        relink_top = p->num;
      }
    }
    // Does the new link close a loop? Walk up from the parent.
    // Parent links are followed even through placeholders (an item under a
    // placeholder keeps its link), so a loop through the item being filled
    // in is found.
    bool cycle = false;
    uint32_t cur = p->num;
    for (uint32_t steps = 0; steps < kMaxWalk; ++steps) {
      if (cur == num) {
        cycle = true;
        break;
      }
      Result<StoredItem*> c = Load(cur);
      if (!c.ok()) return c.status();
      if ((*c)->parent_num == 0) break;
      cur = (*c)->parent_num;
    }
    if (cycle) {
      s->cycle_broken = true;
      ++stats->cycles_broken;
      Warn(s->item.origin + ": reply cycle: " + s->item.id + " -> " +
           parent_id + " leads back to " + s->item.id +
           "; link dropped, item treated as a thread root");
    } else {
      s->parent_num = p->num;
      batch.Put(keys::Child(p->num, s->item.time, num), "");
      new_children[p->num].push_back(num);
      p->reply_count++;
      MarkValues(p->num);  // its reply count changes
      // Below a placeholder that is a root, the item starts a thread of
      // its own; below one hint-linked into a thread, it joins that thread
      // (with no parent author: the parent is unknown).
      if (!p->placeholder || !p->is_root()) {
        s->root_num = p->root_num;
        s->depth = p->depth + 1;
      }
      if (!p->placeholder) {
        s->parent_author = AsciiLower(p->item.author);
        if (!s->parent_author.empty()) {
          batch.Put(keys::ReplyTo(s->parent_author, s->item.time, num), "");
        }
      }
    }
  }
  if (s->is_root()) {
    s->thread_size = 1;
  } else {
    s->thread_size = 0;
    TS_RETURN_IF_ERROR(AddToThreadSize(s->root_num, 1));
  }
  // Everything below s (it may have been a placeholder with replies, or a
  // root that now has a parent) takes s's thread: Indexer::Add drains this
  // relink, in chunks when the subtree is large. When s's parent was just
  // hint-linked into a thread, the parent's other replies move too.
  StartRelink(relink_top, moved);
  return Status::OK();
}

Result<uint32_t> Indexer::Impl::FindOrMakePlaceholder(Source source,
                                                      const std::string& id) {
  std::string key = keys::Id(source, id);
  Result<uint32_t> found = LookupKey(key);
  if (found.ok() || !found.status().IsNotFound()) return found;
  uint32_t n = next_num++;
  StoredItem& ph = cache[n];
  ph.num = n;
  ph.placeholder = true;
  ph.item.source = source;
  ph.item.id = id;
  ph.root_num = n;
  new_ids[key] = n;
  batch.Put(key, Fixed32(n));
  MarkRecord(n);
  return n;
}

Status Indexer::Impl::HintLink(StoredItem* p, const std::string& hint,
                               uint32_t child, bool* joined) {
  *joined = false;
  Result<uint32_t> hnum = FindOrMakePlaceholder(p->item.source, hint);
  if (!hnum.ok()) return hnum.status();
  Result<StoredItem*> hr = Load(*hnum);
  if (!hr.ok()) return hr.status();
  StoredItem* h = *hr;
  // A hint is only a hint: one that would close a loop is not followed.
  uint32_t cur = h->num;
  for (uint32_t steps = 0; steps < kMaxWalk; ++steps) {
    if (cur == p->num || cur == child) return Status::OK();
    Result<StoredItem*> c = Load(cur);
    if (!c.ok()) return c.status();
    if ((*c)->parent_num == 0) break;
    cur = (*c)->parent_num;
  }
  p->parent_num = h->num;
  p->item.thread_hint = hint;
  batch.Put(keys::Child(h->num, p->item.time, p->num), "");
  new_children[h->num].push_back(p->num);
  MarkRecord(p->num);
  if (!h->hint_children) {
    h->hint_children = true;
    MarkRecord(h->num);
  }
  // Below a placeholder root, p stays a root (as a reply would).
  if (!h->placeholder || !h->is_root()) {
    p->root_num = h->root_num;
    p->depth = h->depth + 1;
    *joined = true;
  }
  return Status::OK();
}

void Indexer::Impl::DropHintLink(StoredItem* p) {
  if (p->parent_num == 0) return;
  batch.Delete(keys::Child(p->parent_num, p->item.time, p->num));
  p->parent_num = 0;
  p->root_num = p->num;
  p->depth = 0;
  MarkRecord(p->num);
}

void Indexer::Impl::StartRelink(uint32_t top, bool rebuild) {
  assert(!relink);
  // Not emplace(): clang takes a nested struct with default member
  // initializers for not default-constructible inside its enclosing class
  // (CWG 2335), and the libFuzzer build (clang) fails on it.
  relink.emplace(Relink{});
  relink->top = top;
  relink->rebuild = rebuild;
  relink->queue.push_back(top);
  relink->seen.insert(top);
}

// Moves up to `budget` items below the relink's top into the top's thread
// (root, depth, parent author) and adds those that changed thread to the
// root's size. Items already right are left as they are, so a relink that
// a crash interrupted resumes by starting again from the top.
Status Indexer::Impl::RelinkStep(size_t budget, bool* done,
                                 IndexStats* stats) {
  Relink& r = *relink;
  size_t processed = 0;
  uint32_t joined = 0;
  uint32_t root = 0;
  while ((r.next < r.kids.size() || !r.queue.empty()) && processed < budget) {
    if (r.next >= r.kids.size()) {
      // The next node's children; a node with very many is worked through
      // across steps (r.next is where the last step stopped).
      r.cur = r.queue.front();
      r.queue.pop_front();
      TS_RETURN_IF_ERROR(ChildrenOf(r.cur, &r.kids));
      r.next = 0;
      if (r.kids.empty()) continue;
    }
    const uint32_t cur = r.cur;
    Result<StoredItem*> pr = Load(cur);
    if (!pr.ok()) return pr.status();
    // The relink's top is a real item or a placeholder hint-linked into a
    // real thread, so everything below it joins that one thread.
    assert(!(*pr)->placeholder || !(*pr)->is_root());
    root = (*pr)->root_num;
    const uint32_t depth = (*pr)->depth + 1;
    const std::string cur_author = AsciiLower((*pr)->item.author);
    while (r.next < r.kids.size() && processed < budget) {
      const uint32_t k = r.kids[r.next++];
      Result<StoredItem*> cr = Load(k);
      if (!cr.ok()) return cr.status();
      StoredItem* c = *cr;
      // A stale child entry (the item has moved to another parent in this
      // batch) must not mark it seen: it is reached below its new parent.
      if (c->parent_num != cur) continue;
      if (!r.seen.insert(k).second) continue;
      ++processed;
      r.queue.push_back(k);
      // A placeholder replies to no one known.
      const std::string& author = c->placeholder ? std::string() : cur_author;
      if (c->root_num == root && c->depth == depth &&
          c->parent_author == author) {
        if (r.rebuild && !c->placeholder) MarkFull(k);
        continue;
      }
      if (c->root_num != root) {
        ++stats->relinked;
        if (!c->placeholder) {
          ++joined;
          // It leaves a thread whose root is outside this subtree (a hint
          // link's thread, when the missing parent came with a parent of
          // its own): that thread shrinks. A root inside the subtree is an
          // ancestor, seen already, and is no root any more.
          if (!r.seen.count(c->root_num)) {
            TS_RETURN_IF_ERROR(AddToThreadSize(c->root_num, -1));
          }
        }
      }
      if (c->parent_author != author) {
        if (!c->parent_author.empty()) {
          batch.Delete(keys::ReplyTo(c->parent_author, c->item.time, k));
        }
        if (!author.empty()) {
          batch.Put(keys::ReplyTo(author, c->item.time, k), "");
        }
      }
      c->root_num = root;
      c->depth = depth;
      c->parent_author = author;
      c->thread_size = 0;
      if (c->placeholder) {
        MarkRecord(k);  // no document
      } else {
        MarkFull(k);
      }
    }
  }
  if (joined > 0) TS_RETURN_IF_ERROR(AddToThreadSize(root, joined));
  *done = r.queue.empty() && r.next >= r.kids.size();
  return Status::OK();
}

// Runs the pending relink to its end. A large one is cut into chunks, each
// committed in its own batch with the marker M"relink" = top, so memory
// stays bounded; Open() resumes a marked relink after a crash.
Status Indexer::Impl::DrainRelink(IndexStats* stats) {
  bool marked = false;
  while (relink) {
    bool done = false;
    TS_RETURN_IF_ERROR(RelinkStep(opts.relink_chunk, &done, stats));
    if (done) {
      if (marked || relink->resumed) {
        batch.Delete(keys::Meta("relink"));
        batch.Delete(keys::Meta("relink_rebuild"));
      }
      relink.reset();
    } else {
      batch.Put(keys::Meta("relink"), Fixed32(relink->top));
      if (relink->rebuild) batch.Put(keys::Meta("relink_rebuild"), "");
      marked = true;
      TS_RETURN_IF_ERROR(Flush());
    }
  }
  return Status::OK();
}

Status Indexer::Impl::Flush() {
  if (dirty.empty() && batch.empty() && removed.empty()) {
    pending = 0;
    pending_bytes = 0;
    // Items read but unchanged (a file indexed again, items the HN API
    // gave again) are let go too: the cache would otherwise hold every
    // item of a long run.
    cache.clear();
    return Status::OK();
  }
  const uint64_t batch_seq = seq + 1;
  std::vector<uint32_t> full, values_only;
  for (const auto& [n, work] : dirty) {
    StoredItem& s = cache[n];
    // Its content may have changed (a new or updated item; also a relinked
    // one, whose text has not): its own lines are found again, once for the
    // store and the index both (PlanDocument's IndexedBody).
    if (work == kFull) schema::KeepOwnSpans(&s);
    batch.Put(keys::ItemKey(n), EncodeStoredItem(s));
    if (work == kNone) continue;
    batch.Put(keys::Dirty(batch_seq, n), "");
    (work == kValues ? values_only : full).push_back(n);
  }
  // D entries the index already has are no longer needed.
  if (xapian_seq > 0) {
    batch.DeleteRange(keys::Dirty(0, 0), keys::Dirty(xapian_seq + 1, 0));
  }
  batch.Put(keys::Meta("next_num"), Fixed32(next_num));
  batch.Put(keys::Meta("seq"), Fixed64(batch_seq));
  batch.Put(keys::Meta("schema"), std::to_string(schema::kSchemaVersion));
  for (uint32_t n : removed) batch.Put(keys::Dirty(batch_seq, n), "");
  std::sort(full.begin(), full.end());
  std::sort(values_only.begin(), values_only.end());
  std::vector<DocPlan> plans;
  for (uint32_t n : removed) {
    plans.emplace_back();
    plans.back().kind = DocPlan::Kind::kDelete;
    plans.back().num = n;
  }
  TS_RETURN_IF_ERROR(PlanAll(full, DocPlan::Kind::kFull, &plans));
  TS_RETURN_IF_ERROR(PlanAll(values_only, DocPlan::Kind::kValues, &plans));
  TS_RETURN_IF_ERROR(store->Write(batch, /*sync=*/true));
  seq = batch_seq;
  batch = StoreBatch();
  cache.clear();
  dirty.clear();
  new_ids.clear();
  new_children.clear();
  removed.clear();
  pending = 0;
  pending_bytes = 0;
  // The previous batch's index work ran while this one was read and
  // linked; this one's runs while the next is.
  Status st = xw->Wait();
  xapian_seq = xw->seq();
  TS_RETURN_IF_ERROR(st);
  writing_runs = xw->runs() > 0;
  xw->ApplyAsync(std::move(plans), batch_seq);
  ++flushes;
  return Status::OK();
}

Status Indexer::Impl::PlanAll(const std::vector<uint32_t>& nums,
                              DocPlan::Kind kind,
                              std::vector<DocPlan>* plans) {
  plans->reserve(plans->size() + nums.size());
  for (uint32_t n : nums) {
    Result<StoredItem*> r = Load(n);
    if (!r.ok() && r.status().IsNotFound()) {
      // Removed (its thread moved to another shard): delete by number.
      plans->emplace_back();
      plans->back().kind = DocPlan::Kind::kDelete;
      plans->back().num = n;
      continue;
    }
    if (!r.ok()) return r.status().WithContext("plan index update");
    plans->emplace_back();
    TS_RETURN_IF_ERROR(PlanDocument(**r, kind, &plans->back()));
  }
  return Status::OK();
}

Status Indexer::Impl::PlanDocument(const StoredItem& s, DocPlan::Kind kind,
                                   DocPlan* plan) {
  const Item& it = s.item;
  plan->num = s.num;
  plan->id_term =
      schema::Term(schema::kPrefixId, schema::ItemKeyString(it.source, it.id));
  if (!s.searchable()) {
    plan->kind = DocPlan::Kind::kDelete;
    return Status::OK();
  }
  plan->kind = kind;
  plan->title = it.title;
  plan->title_is_body = schema::TitleIsBody(it);
  plan->body = schema::IndexedBody(s);
  std::vector<std::string>& terms = plan->terms;
  terms.push_back(plan->id_term);
  if (!it.author.empty()) {
    terms.push_back(schema::Term(schema::kPrefixAuthor, AsciiLower(it.author)));
  }
  if (!s.parent_author.empty()) {
    terms.push_back(schema::Term(schema::kPrefixRepliesTo, s.parent_author));
  }
  terms.push_back(schema::Term(schema::kPrefixType, ItemTypeName(it.type)));
  terms.push_back(schema::Term(schema::kPrefixSource, SourceName(it.source)));
  if (!it.list.empty()) {
    terms.push_back(schema::Term(schema::kPrefixList, AsciiLower(it.list)));
  }
  if (!it.channel.empty()) {
    terms.push_back(schema::Term(schema::kPrefixList, AsciiLower(it.channel)));
  }
  if (!it.url.empty()) {
    for (const std::string& w : schema::UrlWords(it.url)) {
      terms.push_back(schema::Term(schema::kPrefixUrl, w));
    }
    for (const std::string& h : schema::UrlHosts(it.url)) {
      terms.push_back(schema::Term(schema::kPrefixHost, h));
    }
  }
  std::string year, month;
  YearMonth(it.time, &year, &month);
  if (!year.empty()) {
    terms.push_back(schema::Term(schema::kPrefixYear, year));
    terms.push_back(schema::Term(schema::kPrefixMonth, month));
  }
  // Thread and ancestors.
  std::string thread_key;
  if (s.is_root()) {
    thread_key = schema::ItemKeyString(it.source, it.id);
  } else {
    Result<StoredItem*> root = Load(s.root_num);
    if (!root.ok()) return root.status();
    thread_key = schema::ItemKeyString((*root)->item.source, (*root)->item.id);
    // Ancestors for under:, nearest first, up to kMaxUnder levels.
    uint32_t cur = s.parent_num;
    for (uint32_t steps = 0; cur != 0 && steps < kMaxUnder; ++steps) {
      Result<StoredItem*> a = Load(cur);
      if (!a.ok()) return a.status();
      const StoredItem* anc = *a;
      terms.push_back(schema::Term(
          schema::kPrefixUnder,
          schema::ItemKeyString(anc->item.source, anc->item.id)));
      if (anc->is_root()) break;
      cur = anc->parent_num;
    }
  }
  terms.push_back(schema::Term(schema::kPrefixThread, thread_key));
  auto number = [](double v) { return Xapian::sortable_serialise(v); };
  // As the HN Search API serves num_comments: a comment or a reply whose
  // parent is missing starts a thread here but has no count.
  const int64_t comments = schema::CommentCount(s);
  // A value-only update replaces every slot listed here; an empty string
  // removes the slot (items without points or a comment count).
  plan->values = {
      {schema::kValueTime, number(static_cast<double>(it.time))},
      {schema::kValuePoints,
       it.has_points ? number(static_cast<double>(it.points)) : ""},
      {schema::kValueComments,
       comments >= 0 ? number(static_cast<double>(comments)) : ""},
      {schema::kValueDepth, number(static_cast<double>(s.depth))},
      {schema::kValueReplies, number(static_cast<double>(s.reply_count))},
      {schema::kValueThread, thread_key},
      {schema::kValueAuthor, AsciiLower(it.author)},
  };
  return Status::OK();
}

Status Indexer::RebuildIndex(
    const std::function<void(uint64_t, uint64_t)>& progress) {
  Impl& im = *impl_;
  TS_RETURN_IF_ERROR(Flush());
  namespace fs = std::filesystem;
  const std::string live = im.dir + "/xapian";
  const std::string fresh = im.dir + "/xapian.rebuild";
  const std::string old = im.dir + "/xapian.old";
  std::error_code ec;
  fs::remove_all(fresh, ec);
  // Invisible until the swap: written through runs and compacted.
  Result<std::unique_ptr<IndexWriter>> out =
      IndexWriter::Open(fresh, im.xw->parts(), IndexOptions::kBulkRunDocs);
  if (!out.ok()) return out.status();
  uint64_t total = 0;
  Result<uint64_t> nn = im.store->GetMetaInt("next_num");
  if (nn.ok()) total = *nn - 1;
  uint64_t done = 0;
  std::vector<DocPlan> plans;
  auto apply = [&]() -> Status {
    if (plans.empty()) return Status::OK();
    Status st = (*out)->Apply(std::move(plans), im.seq);
    plans.clear();
    im.cache.clear();  // ancestor reads of the plans
    return st;
  };
  TS_RETURN_IF_ERROR(
      im.store->ForEachItem([&](uint32_t, const StoredItem& s) -> Status {
        if (s.searchable()) {
          plans.emplace_back();
          TS_RETURN_IF_ERROR(
              im.PlanDocument(s, DocPlan::Kind::kFull, &plans.back()));
        }
        if (++done % 10000 == 0) {
          Status st = apply();
          if (progress) progress(done, total);
          return st;
        }
        return Status::OK();
      }));
  TS_RETURN_IF_ERROR(apply());
  // Commit the seq even when there was nothing to index.
  TS_RETURN_IF_ERROR((*out)->Apply({}, im.seq));
  TS_RETURN_IF_ERROR((*out)->Compact());
  (*out)->Close();
  out->reset();
  im.xw->Close();
  im.xw.reset();
  fs::remove_all(old, ec);
  fs::rename(live, old, ec);
  if (!ec) fs::rename(fresh, live, ec);
  if (ec) return Status::IOError("swap in rebuilt index: " + ec.message());
  fs::remove_all(old, ec);
  Result<std::unique_ptr<IndexWriter>> w = IndexWriter::Open(live, 1);
  if (!w.ok()) return w.status();
  im.xw = std::move(w).value();
  im.xapian_seq = im.xw->seq();
  if (progress) progress(done, total);
  return Status::OK();
}

namespace {

// Expands directories (recursively, sorted) into files.
void ExpandPaths(const std::vector<std::string>& paths,
                 std::vector<std::string>* files,
                 std::vector<std::string>* errors) {
  namespace fs = std::filesystem;
  for (const std::string& p : paths) {
    if (p == "-") {
      files->push_back(p);
      continue;
    }
    std::error_code ec;
    fs::file_status st = fs::status(p, ec);
    if (ec || !fs::exists(st)) {
      errors->push_back(p + ": no such file or directory");
      continue;
    }
    if (fs::is_directory(st)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(
               p, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::error_code ec2;
        if (!it->is_regular_file(ec2)) continue;
        std::string name = it->path().filename().string();
        // Documentation beside the data is not data, nor are the web pages
        // of an archive's mirror (pipermail's .html beside its .txt.gz).
        if (name.starts_with(".") || name.ends_with(".md") ||
            name.ends_with(".html") || name.ends_with(".htm")) {
          continue;
        }
        found.push_back(it->path().string());
      }
      if (ec) errors->push_back(p + ": " + ec.message());
      std::sort(found.begin(), found.end());
      files->insert(files->end(), found.begin(), found.end());
    } else {
      files->push_back(p);
    }
  }
}

// Size, modification time and a hash of the first 64 KiB: cheap, and any
// append, rewrite or touch changes it. Empty when the file cannot be read.
std::string FileFingerprint(const std::string& path) {
  std::error_code ec;
  uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) return {};
  auto mtime = std::filesystem::last_write_time(path, ec);
  if (ec) return {};
  FILE* f = fopen(path.c_str(), "rb");
  if (!f) return {};
  char buf[65536];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  const uint64_t h = Fnv1a64(std::string_view(buf, n));
  return std::to_string(size) + ":" +
         std::to_string(mtime.time_since_epoch().count()) + ":" +
         std::to_string(h);
}

}  // namespace

Status ReadInputs(const std::vector<std::string>& paths,
                  const IndexOptions& opts, const InputSink& sink,
                  IndexStats* stats) {
  const auto start = Clock::now();
  auto warn = [&](const std::string& msg) {
    if (opts.on_warning) opts.on_warning(msg);
  };
  std::vector<std::string> files, errors;
  ExpandPaths(paths, &files, &errors);
  for (const std::string& e : errors) {
    warn(e);
    ++stats->files_failed;
  }
  IndexProgress progress;
  progress.files_total = files.size();
  for (const std::string& f : files) {
    std::error_code ec;
    if (f != "-") progress.bytes_total += std::filesystem::file_size(f, ec);
  }
  auto last_report = Clock::now();
  auto report = [&](bool force) {
    if (!opts.on_progress) return;
    auto now = Clock::now();
    if (!force && now - last_report < std::chrono::milliseconds(200)) return;
    last_report = now;
    progress.elapsed = std::chrono::duration<double>(now - start).count();
    opts.on_progress(progress);
  };
  Status fatal;
  uint64_t bytes_before = 0;
  for (const std::string& f : files) {
    progress.current = f;
    // A file indexed before and unchanged since is skipped whole.
    std::string fp_key, fingerprint;
    if (f != "-") {
      std::error_code ec;
      std::string abs = std::filesystem::absolute(f, ec).lexically_normal();
      fp_key = keys::File(ec ? f : abs);
      fingerprint = FileFingerprint(f);
      if (!opts.force && !fingerprint.empty()) {
        Result<std::string> seen = sink.fingerprint(fp_key);
        if (seen.ok() && *seen == fingerprint) {
          ++stats->files_unchanged;
          ++progress.files_done;
          uint64_t size = std::filesystem::file_size(f, ec);
          if (!ec) bytes_before += size;
          progress.bytes_done = bytes_before;
          report(false);
          continue;
        }
      }
    }
    Result<std::unique_ptr<InputStream>> in = InputStream::Open(f);
    if (!in.ok()) {
      warn(in.status().message());
      ++stats->files_failed;
      continue;
    }
    InputStream& stream = **in;
    ReadCallbacks cb;
    cb.on_item = [&](Item&& item) {
      if (!fatal.ok()) return;
      ++stats->items_read;
      ++progress.items;
      Status st = sink.add(std::move(item));
      if (!st.ok()) fatal = st;
      progress.bytes_done = bytes_before + stream.raw_bytes_read();
      report(false);
    };
    cb.on_error = [&](const ReadError& e) {
      ++stats->skipped;
      warn(e.where + ": " + e.message);
    };
    Status st = ReadStream(stream, opts.format, cb);
    if (!fatal.ok()) return fatal;
    uint64_t consumed = stream.raw_bytes_read();
    std::error_code ec;
    if (f != "-") {
      uint64_t size = std::filesystem::file_size(f, ec);
      if (!ec) consumed = size;
    }
    bytes_before += consumed;
    stats->bytes_read += consumed;
    progress.bytes_done = bytes_before;
    if (!st.ok()) {
      warn(st.message());
      ++stats->files_failed;
    } else {
      ++stats->files;
      // Recorded with the file's last items: a crash before that flush
      // means the file is read again next time.
      if (!fp_key.empty() && !fingerprint.empty()) {
        sink.file_done(fp_key, fingerprint);
      }
    }
    ++progress.files_done;
    report(false);
  }
  report(true);
  stats->seconds =
      std::chrono::duration<double>(Clock::now() - start).count();
  return Status::OK();
}

Status Indexer::IndexPaths(const std::vector<std::string>& paths,
                           IndexStats* stats) {
  Impl& im = *impl_;
  const auto start = Clock::now();
  InputSink sink;
  sink.fingerprint = [&](const std::string& key) {
    return im.store->GetRaw(key);
  };
  sink.add = [&](Item&& item) { return Add(std::move(item), stats); };
  sink.file_done = [&](const std::string& key, const std::string& fp) {
    im.batch.Put(key, fp);
  };
  TS_RETURN_IF_ERROR(ReadInputs(paths, im.opts, sink, stats));
  TS_RETURN_IF_ERROR(FinishRun(stats->added + stats->updated, stats));
  stats->seconds =
      std::chrono::duration<double>(Clock::now() - start).count();
  return InputOutcome(*stats);
}

Status InputOutcome(const IndexStats& stats) {
  if (stats.files_failed > 0) {
    return Status::InvalidArgument(std::to_string(stats.files_failed) +
                                   " input file(s) could not be read");
  }
  return Status::OK();
}

Status Indexer::FinishRun(uint64_t changed, IndexStats* stats) {
  Impl& im = *impl_;
  TS_RETURN_IF_ERROR(Flush());
  bool compact = false;
  switch (im.opts.compact) {
    case IndexOptions::Compaction::kAlways:
      compact = true;
      break;
    case IndexOptions::Compaction::kNever:
      break;
    case IndexOptions::Compaction::kAuto:
      compact = changed >= 1000 && changed * 10 >= im.xw->doccount();
      break;
  }
  // Runs are merged whatever the policy: readers see only the parts.
  const size_t runs = im.xw->runs();
  stats->runs += runs;
  // Readers open the store without replaying a log.
  TS_RETURN_IF_ERROR(im.store->FlushToDisk());
  if (compact || runs > 0) {
    // The store's compaction runs beside the index's, on another core
    // (joined however this scope is left).
    Status store_compacted;
    Status st;
    {
      std::jthread store_compaction;
      if (compact) {
        store_compaction =
            std::jthread([&] { store_compacted = im.store->Compact(); });
      }
      st = im.xw->Compact();
    }
    TS_RETURN_IF_ERROR(st);
    TS_RETURN_IF_ERROR(store_compacted);
    stats->compacted = true;
  }
  return Status::OK();
}

Status Indexer::CollectComponent(uint32_t top, std::vector<StoredItem>* out) {
  Impl& im = *impl_;
  TS_RETURN_IF_ERROR(FlushStore());
  out->clear();
  // Breadth-first: parents before their children.
  std::deque<uint32_t> queue{top};
  std::unordered_set<uint32_t> seen{top};
  std::vector<uint32_t> kids;
  while (!queue.empty()) {
    uint32_t n = queue.front();
    queue.pop_front();
    Result<StoredItem> s = im.store->Get(n);
    if (!s.ok()) return s.status().WithContext("collect thread");
    TS_RETURN_IF_ERROR(im.store->Children(n, &kids));
    for (uint32_t k : kids) {
      if (seen.insert(k).second) queue.push_back(k);
    }
    out->push_back(std::move(s).value());
  }
  return Status::OK();
}

Status Indexer::RemoveItems(const std::vector<StoredItem>& items) {
  Impl& im = *impl_;
  TS_RETURN_IF_ERROR(FlushStore());
  std::unordered_set<uint32_t> gone;
  for (const StoredItem& s : items) gone.insert(s.num);
  for (const StoredItem& s : items) {
    const Item& it = s.item;
    im.batch.Delete(keys::Id(it.source, it.id));
    im.batch.Delete(keys::ItemKey(s.num));
    im.batch.DeleteRange(keys::ChildPrefix(s.num),
                         keys::ChildPrefix(s.num + 1));
    if (!s.placeholder && !it.author.empty()) {
      im.batch.Delete(keys::Author(AsciiLower(it.author), it.time, s.num));
    }
    if (!s.parent_author.empty()) {
      im.batch.Delete(keys::ReplyTo(s.parent_author, it.time, s.num));
    }
    // A link under a parent that stays (only a cycle-broken top has one).
    if (s.parent_num != 0 && !gone.count(s.parent_num)) {
      im.batch.Delete(keys::Child(s.parent_num, it.time, s.num));
    }
    if (s.searchable()) im.removed.push_back(s.num);
  }
  return FlushStore();
}

Result<uint32_t> Indexer::ComponentTop(uint32_t num) {
  Impl& im = *impl_;
  TS_RETURN_IF_ERROR(FlushStore());
  uint32_t cur = num;
  std::unordered_set<uint32_t> seen;
  for (;;) {
    if (!seen.insert(cur).second) break;  // a loop: stop where it closes
    Result<StoredItem> s = im.store->Get(cur);
    if (!s.ok()) return s.status();
    if (s->parent_num == 0) break;
    cur = s->parent_num;
  }
  return cur;
}

}  // namespace threadsearch
