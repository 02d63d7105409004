#include "indexer/collection_indexer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "common/collection.h"
#include "common/keys.h"
#include "common/text.h"
#include "common/thread_store.h"

namespace threadsearch {

namespace {

using Clock = std::chrono::steady_clock;

// Fingerprints of files read to the end wait until every shard has flushed
// their items; then they are written (to shard 0) this many at a time.
constexpr size_t kFingerprintBatch = 32;
// Items moved per batch when rebalancing.
constexpr size_t kMoveBatchItems = 5000;
// The in-run routing memory is dropped (after a flush of every shard) at
// this many entries, which bounds its memory.
constexpr size_t kMaxRecent = 1u << 20;
constexpr char kMoveFile[] = "move.json";

void AddCounts(const IndexStats& from, IndexStats* to) {
  to->added += from.added;
  to->updated += from.updated;
  to->unchanged += from.unchanged;
  to->skipped += from.skipped;
  to->relinked += from.relinked;
  to->cycles_broken += from.cycles_broken;
  to->compacted = to->compacted || from.compacted;
  to->runs += from.runs;
}

}  // namespace

struct CollectionIndexer::Impl {
  std::string dir;
  IndexOptions opts;
  Collection col;
  std::vector<std::unique_ptr<Indexer>> shards;
  std::vector<IndexStats> shard_stats;  // this run's counts per shard
  // Where items routed in this run went (they may not be flushed yet):
  // id key -> shard, and whether only a placeholder is there.
  struct Loc {
    int shard = -1;
    bool placeholder = false;
  };
  std::unordered_map<std::string, Loc> recent;
  // Metadata (file fingerprints, a feed's checkpoint) waiting for every
  // shard to flush the items it covers.
  std::vector<std::pair<std::string, std::string>> pending_meta;

  IndexOptions ShardOptions(size_t n) const {
    IndexOptions o = opts;
    o.on_progress = nullptr;
    if (o.parts == 0) {
      unsigned cores = std::max(1u, std::thread::hardware_concurrency());
      o.parts = std::clamp(cores / static_cast<unsigned>(std::max<size_t>(1, n)),
                           1u, 8u);
    }
    return o;
  }
  Status OpenShard(const ShardSpec& spec, size_t n);
  // Where (source, id) is: a shard, and whether only a placeholder.
  Result<Loc> Where(Source source, const std::string& id);
  Result<int> Route(const Item& item);
  Status FlushAll();
  Status WriteMeta();
  // Moves the components whose tops are `tops` (nums in shard `from`) to
  // shard `to`, recording the move in DIR/move.json until it is done.
  Status Move(size_t from, size_t to, const std::vector<uint32_t>& tops,
              uint64_t* items_moved);
  Status ResumeMove();
  std::string MovePath() const { return dir + "/" + kMoveFile; }
};

CollectionIndexer::CollectionIndexer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
CollectionIndexer::~CollectionIndexer() = default;
size_t CollectionIndexer::shard_count() const { return impl_->shards.size(); }
Indexer& CollectionIndexer::shard(size_t i) { return *impl_->shards[i]; }

Status CollectionIndexer::Impl::OpenShard(const ShardSpec& spec, size_t n) {
  Result<std::unique_ptr<Indexer>> ix =
      Indexer::Open(ShardDir(col, spec), ShardOptions(n));
  if (!ix.ok()) return ix.status().WithContext("shard " + spec.name);
  shards.push_back(std::move(ix).value());
  shard_stats.emplace_back();
  return Status::OK();
}

Result<std::unique_ptr<CollectionIndexer>> CollectionIndexer::Open(
    const std::string& dir, unsigned shards_if_new, const IndexOptions& opts) {
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->opts = opts;
  namespace fs = std::filesystem;
  std::error_code ec;
  if (IsCollection(dir)) {
    Result<Collection> c = LoadCollection(dir);
    if (!c.ok()) return c.status();
    impl->col = std::move(c).value();
    for (const ShardSpec& s : impl->col.shards) {
      if (s.remote()) {
        return Status::InvalidArgument(
            dir + ": shard " + s.name +
            " is remote; index a shard where its files are");
      }
    }
  } else {
    if (fs::exists(dir + "/store", ec) || fs::exists(dir + "/xapian", ec)) {
      return Status::InvalidArgument(
          dir + ": a database without shards is here; --shards makes a new "
                "collection (choose another directory)");
    }
    if (shards_if_new == 0) {
      return Status::InvalidArgument("--shards: at least 1");
    }
    impl->col.dir = dir;
    for (unsigned i = 0; i < shards_if_new; ++i) {
      ShardSpec s;
      s.name = std::to_string(i);
      s.name.insert(s.name.begin(), 's');  // (GCC 12 -Wrestrict misfires on
                                           // "s" + std::to_string(i))
      s.path = s.name;
      impl->col.shards.push_back(s);
    }
  }
  const size_t n = impl->col.shards.size();
  for (const ShardSpec& s : impl->col.shards) {
    TS_RETURN_IF_ERROR(impl->OpenShard(s, n));
  }
  // The map is written once its shards exist, so a reader never finds a
  // map naming a missing shard.
  if (!IsCollection(dir)) TS_RETURN_IF_ERROR(SaveCollection(impl->col));
  TS_RETURN_IF_ERROR(impl->ResumeMove());
  return std::unique_ptr<CollectionIndexer>(
      new CollectionIndexer(std::move(impl)));
}

Result<CollectionIndexer::Impl::Loc> CollectionIndexer::Impl::Where(
    Source source, const std::string& id) {
  auto it = recent.find(keys::Id(source, id));
  if (it != recent.end()) return it->second;
  std::vector<const StoreReader*> stores;
  for (const auto& shard : shards) stores.push_back(&shard->store());
  Result<FoundItem> found = FindAmong(stores, [&](const StoreReader& s) {
    return s.Lookup(source, id);
  });
  if (!found.ok()) {
    if (found.status().IsNotFound()) return Loc{};
    return found.status();
  }
  return Loc{static_cast<int>(found->store), found->item.placeholder};
}

Result<int> CollectionIndexer::Impl::Route(const Item& item) {
  const std::string key = keys::Id(item.source, item.id);
  Result<Loc> self = Where(item.source, item.id);
  if (!self.ok()) return self.status();
  if (self->shard >= 0 && !self->placeholder) return self->shard;
  // The parent as the indexer will link it (Indexer's Normalise).
  std::string parent = item.parent;
  if (parent.empty() && !item.thread_hint.empty() &&
      item.thread_hint != item.id) {
    parent = item.thread_hint;
  }
  if (parent == item.id) parent.clear();
  // Where an id is; nowhere for none.
  auto locate = [&](const std::string& id) -> Result<Loc> {
    if (id.empty()) return Loc{};
    return Where(item.source, id);
  };
  const std::string pkey =
      parent.empty() ? std::string() : keys::Id(item.source, parent);
  Result<Loc> p = locate(parent);
  if (!p.ok()) return p.status();
  Loc par = *p;
  // The hint the indexer may link a missing parent below (Indexer's Link):
  // an unseen parent, or one that waits as a placeholder of its own, goes
  // to the thread of the hint, so the item goes where that thread is.
  std::string hint;
  if (!pkey.empty() && item.thread_hint != parent &&
      item.thread_hint != item.id) {
    hint = item.thread_hint;
  }
  const std::string hkey =
      hint.empty() ? std::string() : keys::Id(item.source, hint);
  Result<Loc> h = locate(hint);
  if (!h.ok()) return h.status();
  const Loc hin = *h;
  if (par.shard >= 0 && par.placeholder && hin.shard >= 0 &&
      hin.shard != par.shard) {
    // The parent waits in shard B as a thread of its own, the hint's
    // thread is in shard A: the indexer will link the parent below the
    // hint, so its thread moves to A first.
    const size_t from = static_cast<size_t>(par.shard);
    TS_RETURN_IF_ERROR(shards[from]->FlushStore());
    Result<uint32_t> num = shards[from]->store().Lookup(item.source, parent);
    if (!num.ok()) return num.status();
    Result<uint32_t> top = shards[from]->ComponentTop(*num);
    if (!top.ok()) return top.status();
    if (*top == *num) {
      uint64_t moved = 0;
      TS_RETURN_IF_ERROR(
          Move(from, static_cast<size_t>(hin.shard), {*top}, &moved));
      par.shard = hin.shard;
    }
  }
  // Where the item's thread lives: its parent's shard, else (the parent
  // unseen) its hint's.
  Loc anchor = par.shard >= 0 ? par : hin;
  int target;
  if (self->shard >= 0) {
    // Replies wait in shard B for this item; its thread is in shard A.
    target = self->shard;
    if (anchor.shard >= 0 && anchor.shard != self->shard) {
      const size_t from = static_cast<size_t>(self->shard);
      TS_RETURN_IF_ERROR(shards[from]->FlushStore());
      Result<uint32_t> num = shards[from]->store().Lookup(item.source, item.id);
      if (!num.ok()) return num.status();
      Result<uint32_t> top = shards[from]->ComponentTop(*num);
      if (!top.ok()) return top.status();
      uint64_t moved = 0;
      TS_RETURN_IF_ERROR(
          Move(from, static_cast<size_t>(anchor.shard), {*top}, &moved));
      target = anchor.shard;
    }
  } else if (anchor.shard >= 0) {
    target = anchor.shard;
  } else {
    // A new thread: its top is the unseen hint, the unseen parent, or the
    // item itself.
    const std::string& top = !hkey.empty() ? hkey : pkey.empty() ? key : pkey;
    target = static_cast<int>(Fnv1a64(top) % shards.size());
  }
  // An unseen parent becomes a placeholder in the item's shard, and so
  // does an unseen hint that a placeholder parent may be linked below.
  if (!pkey.empty() && par.shard < 0) recent[pkey] = Loc{target, true};
  if (!hkey.empty() && hin.shard < 0 && (par.shard < 0 || par.placeholder)) {
    recent[hkey] = Loc{target, true};
  }
  recent[key] = Loc{target, false};
  return target;
}

Status CollectionIndexer::Add(Item item, IndexStats* stats) {
  Impl& im = *impl_;
  size_t s = 0;  // an item without an id: shard 0's indexer reports it
  if (!item.id.empty()) {
    Result<int> shard = im.Route(item);
    if (!shard.ok()) return shard.status();
    s = static_cast<size_t>(*shard);
  }
  // Counted for the caller and per shard (what each shard's compaction
  // policy looks at).
  IndexStats delta;
  Status st = im.shards[s]->Add(std::move(item), &delta);
  AddCounts(delta, stats);
  AddCounts(delta, &im.shard_stats[s]);
  TS_RETURN_IF_ERROR(st);
  if (im.recent.size() >= kMaxRecent) {
    TS_RETURN_IF_ERROR(im.FlushAll());
    im.recent.clear();
  }
  return Status::OK();
}

Status CollectionIndexer::Impl::FlushAll() {
  for (auto& s : shards) TS_RETURN_IF_ERROR(s->Flush());
  return Status::OK();
}

Status CollectionIndexer::Flush() {
  TS_RETURN_IF_ERROR(impl_->FlushAll());
  return impl_->WriteMeta();
}

void CollectionIndexer::PutMeta(const std::string& name, std::string value) {
  impl_->pending_meta.emplace_back(name, std::move(value));
}

Result<std::string> CollectionIndexer::GetMeta(const std::string& name) {
  return impl_->shards[0]->GetMeta(name);
}

Result<bool> CollectionIndexer::Has(Source source, std::string_view id) {
  Result<Impl::Loc> loc = impl_->Where(source, std::string(id));
  if (!loc.ok()) return loc.status();
  return loc->shard >= 0;
}

Status CollectionIndexer::Impl::WriteMeta() {
  if (pending_meta.empty()) return Status::OK();
  // Every shard has the items these cover on disk first.
  TS_RETURN_IF_ERROR(FlushAll());
  for (auto& [name, value] : pending_meta) {
    shards[0]->PutMeta(name, std::move(value));
  }
  pending_meta.clear();
  return shards[0]->Flush();
}

Status CollectionIndexer::IndexPaths(const std::vector<std::string>& paths,
                                     IndexStats* stats) {
  Impl& im = *impl_;
  const auto start = Clock::now();
  for (IndexStats& s : im.shard_stats) s = IndexStats();
  InputSink sink;
  sink.fingerprint = [&](const std::string& key) {
    return im.shards[0]->GetMeta("app.file:" + key);
  };
  Status fp_error;
  sink.add = [&](Item&& item) {
    TS_RETURN_IF_ERROR(fp_error);
    return Add(std::move(item), stats);
  };
  size_t files_pending = 0;
  sink.file_done = [&](const std::string& key, const std::string& fp) {
    PutMeta("app.file:" + key, fp);
    if (++files_pending >= kFingerprintBatch && fp_error.ok()) {
      files_pending = 0;
      fp_error = im.WriteMeta();
    }
  };
  TS_RETURN_IF_ERROR(ReadInputs(paths, im.opts, sink, stats));
  TS_RETURN_IF_ERROR(fp_error);
  TS_RETURN_IF_ERROR(Flush());
  for (size_t i = 0; i < im.shards.size(); ++i) {
    IndexStats& s = im.shard_stats[i];
    TS_RETURN_IF_ERROR(im.shards[i]->FinishRun(s.added + s.updated, &s));
    stats->compacted = stats->compacted || s.compacted;
    stats->runs += s.runs;
  }
  im.recent.clear();
  stats->seconds =
      std::chrono::duration<double>(Clock::now() - start).count();
  return InputOutcome(*stats);
}

Status CollectionIndexer::Impl::Move(size_t from, size_t to,
                                     const std::vector<uint32_t>& tops,
                                     uint64_t* items_moved) {
  std::vector<StoredItem> items, one;
  nlohmann::json marker_tops = nlohmann::json::array();
  for (uint32_t top : tops) {
    TS_RETURN_IF_ERROR(shards[from]->CollectComponent(top, &one));
    const Item& t = one.front().item;
    marker_tops.push_back({{"source", SourceName(t.source)}, {"id", t.id}});
    items.insert(items.end(), std::make_move_iterator(one.begin()),
                 std::make_move_iterator(one.end()));
  }
  nlohmann::json marker = {{"from", col.shards[from].name},
                           {"to", col.shards[to].name},
                           {"tops", std::move(marker_tops)}};
  TS_RETURN_IF_ERROR(WriteFileAtomically(MovePath(), marker.dump() + "\n"));
  // Into the new shard first (an item seen twice is "unchanged"), then out
  // of the old one: a crash in between leaves copies, which ResumeMove
  // removes, never a loss.
  IndexStats scratch;
  TS_RETURN_IF_ERROR(shards[to]->FlushStore());
  for (const StoredItem& s : items) {
    if (s.placeholder) continue;  // remade by the replies that name it
    TS_RETURN_IF_ERROR(shards[to]->Add(s.item, &scratch));
  }
  TS_RETURN_IF_ERROR(shards[to]->FlushStore());
  TS_RETURN_IF_ERROR(shards[from]->RemoveItems(items));
  for (const StoredItem& s : items) {
    recent[keys::Id(s.item.source, s.item.id)] =
        Loc{static_cast<int>(to), s.placeholder};
  }
  std::error_code ec;
  std::filesystem::remove(MovePath(), ec);
  *items_moved += items.size();
  return Status::OK();
}

Status CollectionIndexer::Impl::ResumeMove() {
  std::ifstream in(MovePath(), std::ios::binary);
  if (!in) return Status::OK();
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
  auto index_of = [&](const nlohmann::json& name) -> int {
    if (!name.is_string()) return -1;
    for (size_t i = 0; i < col.shards.size(); ++i) {
      if (col.shards[i].name == name.get<std::string>()) {
        return static_cast<int>(i);
      }
    }
    return -1;
  };
  int from = -1, to = -1;
  if (j.is_object()) {
    from = index_of(j.value("from", nlohmann::json()));
    to = index_of(j.value("to", nlohmann::json()));
  }
  if (from < 0 || to < 0 || !j.contains("tops") || !j["tops"].is_array()) {
    return Status::Corruption(MovePath() +
                              ": unreadable record of an interrupted move");
  }
  if (opts.on_warning) {
    opts.on_warning("finishing a move of threads from shard " +
                    col.shards[from].name + " to " + col.shards[to].name +
                    " that an earlier run left unfinished");
  }
  std::vector<uint32_t> tops;
  for (const nlohmann::json& t : j["tops"]) {
    Source source;
    if (!t.is_object() || !t.contains("id") || !t["id"].is_string() ||
        !ParseSource(t.value("source", ""), &source)) {
      return Status::Corruption(MovePath() + ": bad entry in \"tops\"");
    }
    Result<uint32_t> num =
        shards[from]->store().Lookup(source, t["id"].get<std::string>());
    if (num.status().IsNotFound()) continue;  // already removed
    if (!num.ok()) return num.status();
    Result<uint32_t> top = shards[from]->ComponentTop(*num);
    if (!top.ok()) return top.status();
    tops.push_back(*top);
  }
  std::sort(tops.begin(), tops.end());
  tops.erase(std::unique(tops.begin(), tops.end()), tops.end());
  if (tops.empty()) {
    std::error_code ec;
    std::filesystem::remove(MovePath(), ec);
    return Status::OK();
  }
  uint64_t moved = 0;
  TS_RETURN_IF_ERROR(Move(static_cast<size_t>(from), static_cast<size_t>(to),
                          tops, &moved));
  for (auto& s : shards) TS_RETURN_IF_ERROR(s->FinishRun(0, &shard_stats[0]));
  recent.clear();
  return Status::OK();
}

Status CollectionIndexer::AddShard(
    const std::string& name,
    const std::function<void(uint64_t, uint64_t)>& progress,
    RebalanceStats* stats) {
  Impl& im = *impl_;
  const auto start = Clock::now();
  if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') {
    return Status::InvalidArgument("shard name \"" + name +
                                   "\": use letters, digits, - and _");
  }
  for (const ShardSpec& s : im.col.shards) {
    if (s.name == name) {
      return Status::InvalidArgument("shard \"" + name + "\" already exists");
    }
  }
  TS_RETURN_IF_ERROR(Flush());
  ShardSpec spec;
  spec.name = name;
  spec.path = name;
  im.col.shards.push_back(spec);
  TS_RETURN_IF_ERROR(im.OpenShard(spec, im.col.shards.size()));
  // Readers see the (empty) shard from now on.
  TS_RETURN_IF_ERROR(SaveCollection(im.col));
  const size_t n = im.shards.size();
  const size_t to = n - 1;
  std::vector<uint64_t> count(n, 0);
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    Result<uint64_t> c =
        im.shards[i]->store().CountPrefix(std::string(1, keys::kItem));
    if (!c.ok()) return c.status();
    count[i] = *c;
    total += *c;
  }
  const uint64_t goal = total / n;
  uint64_t moved_total = 0;
  if (progress) progress(0, goal);
  std::vector<size_t> donors;
  for (size_t i = 0; i + 1 < n; ++i) donors.push_back(i);
  std::sort(donors.begin(), donors.end(),
            [&](size_t a, size_t b) { return count[a] > count[b]; });
  for (size_t d : donors) {
    if (count[to] >= goal) break;
    if (count[d] <= goal) continue;
    // The donor gives its excess, but never more than the new shard needs.
    uint64_t want = std::min(count[d] - goal, goal - count[to]);
    // Component tops, in number order (oldest threads first).
    std::vector<uint32_t> tops;
    TS_RETURN_IF_ERROR(im.shards[d]->store().ForEachItem(
        [&](uint32_t num, const StoredItem& s) {
          if (s.parent_num == 0) tops.push_back(num);
          return Status::OK();
        }));
    uint64_t moved = 0;
    std::vector<uint32_t> batch;
    uint64_t batch_items = 0;
    std::vector<StoredItem> one;
    for (uint32_t top : tops) {
      if (moved + batch_items >= want) break;
      TS_RETURN_IF_ERROR(im.shards[d]->CollectComponent(top, &one));
      batch.push_back(top);
      batch_items += one.size();
      ++stats->threads_moved;
      if (batch_items >= kMoveBatchItems) {
        TS_RETURN_IF_ERROR(im.Move(d, to, batch, &moved));
        moved_total += batch_items;
        batch.clear();
        batch_items = 0;
        if (progress) progress(moved_total, goal);
      }
    }
    if (!batch.empty()) {
      TS_RETURN_IF_ERROR(im.Move(d, to, batch, &moved));
      moved_total += batch_items;
    }
    count[d] -= moved;
    count[to] += moved;
    if (progress) progress(moved_total, goal);
  }
  stats->items_moved = moved_total;
  for (size_t i = 0; i < n; ++i) {
    IndexStats ignored;
    // Compact what changed much: the donors lost, the new shard gained.
    TS_RETURN_IF_ERROR(im.shards[i]->FinishRun(
        i == to ? count[to] : moved_total / std::max<size_t>(1, n - 1),
        &ignored));
  }
  im.recent.clear();
  stats->seconds =
      std::chrono::duration<double>(Clock::now() - start).count();
  return Status::OK();
}

}  // namespace threadsearch
