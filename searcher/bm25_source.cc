#include "searcher/bm25_source.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <list>
#include <mutex>
#include <unordered_set>
#include <utility>

#include "common/schema.h"

namespace threadsearch {

namespace {

// What identifies a part's contents: a copied database keeps its uuid, and
// two copies changed apart may reach the same revision, so the sizes count
// too.
struct PartKey {
  std::string uuid;
  Xapian::rev revision = 0;
  Xapian::doccount docs = 0;
  Xapian::docid last = 0;
  Xapian::totallength length = 0;
  bool operator==(const PartKey& o) const {
    return uuid == o.uuid && revision == o.revision && docs == o.docs &&
           last == o.last && length == o.length;
  }
};

// Fills `v` (last + 1 entries, by docid) from `part`: its documents from
// `first` on, and those of `again` (ascending; below `first`), over what
// `v` held (an earlier revision's array, or nothing: first == 1). False
// when the part is not the one its key describes, or its data does not
// fit. May throw Xapian::Error.
using PartLoader = bool (*)(const Xapian::Database& part, Xapian::docid first,
                            Xapian::docid last,
                            const std::vector<Xapian::docid>& again,
                            std::vector<uint32_t>* v);

uint32_t LengthOf(Xapian::termcount len) {
  return static_cast<uint32_t>(std::min<Xapian::termcount>(len, UINT32_MAX));
}

bool LoadLengths(const Xapian::Database& part, Xapian::docid first,
                 Xapian::docid last, const std::vector<Xapian::docid>& again,
                 std::vector<uint32_t>* v) {
  v->resize(last + 1, 0);
  for (Xapian::docid did : again) {
    try {
      (*v)[did] = LengthOf(part.get_doclength(did));
    } catch (const Xapian::DocNotFoundError&) {
      (*v)[did] = 0;  // deleted
    }
  }
  Xapian::PostingIterator it = part.postlist_begin("");
  if (first > 1) it.skip_to(first);
  for (; it != part.postlist_end(""); ++it) {
    const Xapian::docid did = *it;
    if (did >= v->size()) return false;
    (*v)[did] = LengthOf(it.get_doclength());
  }
  return true;
}

// A time value as whole seconds, or false.
bool TimeOf(const std::string& value, uint32_t* t) {
  const double d = Xapian::sortable_unserialise(value);
  // Only whole seconds. (Not encoded back to check the value: the indexer
  // writes sortable_serialise of whole seconds, and that check was a
  // quarter of the load.)
  if (!(d >= 0 && d < DocTimes::kNone) ||
      d != static_cast<double>(static_cast<uint32_t>(d))) {
    return false;
  }
  *t = static_cast<uint32_t>(d);
  return true;
}

bool LoadTimes(const Xapian::Database& part, Xapian::docid first,
               Xapian::docid last, const std::vector<Xapian::docid>& again,
               std::vector<uint32_t>* v) {
  v->resize(last + 1, DocTimes::kNone);
  const Xapian::valueno slot = DocTimes::kSlot;
  if (!again.empty()) {
    Xapian::ValueIterator it = part.valuestream_begin(slot);
    for (Xapian::docid did : again) {
      (*v)[did] = DocTimes::kNone;
      if (it == part.valuestream_end(slot)) continue;
      it.skip_to(did);
      if (it != part.valuestream_end(slot) && it.get_docid() == did &&
          !TimeOf(*it, &(*v)[did])) {
        return false;
      }
    }
  }
  Xapian::ValueIterator it = part.valuestream_begin(slot);
  if (first > 1 && it != part.valuestream_end(slot)) it.skip_to(first);
  for (; it != part.valuestream_end(slot); ++it) {
    const Xapian::docid did = it.get_docid();
    if (did >= v->size() || !TimeOf(*it, &(*v)[did])) return false;
  }
  return true;
}

// The documents the commits after the revision `from` describes up to
// revision `to` of `part` replaced or deleted, up to docid from.last (what
// an array of `from` holds), into *docs (ascending): false when a commit
// left no record (schema::ChangedDocs), or the first of them did not find
// the part as `from` describes it. May throw Xapian::Error.
bool ChangedSince(const Xapian::Database& part, const PartKey& from,
                  Xapian::rev to, std::vector<Xapian::docid>* docs) {
  if (to <= from.revision || to - from.revision > schema::kChangedKept) {
    return false;
  }
  docs->clear();
  const Xapian::docid last = from.last;
  schema::ChangedDocs c;
  for (Xapian::rev r = from.revision + 1; r <= to; ++r) {
    if (!schema::DecodeChanged(part.get_metadata(schema::ChangedKey(r)), &c) ||
        c.uuid != from.uuid || c.last_before < last) {
      return false;
    }
    if (r == from.revision + 1 &&
        (c.last_before != last || c.docs_before != from.docs ||
         c.length_before != from.length)) {
      return false;
    }
    for (uint32_t d : c.docs) {
      if (d <= last) docs->push_back(d);
    }
    // Past an eighth of the part, a document at a time costs more than
    // reading it whole.
    if (docs->size() > last / 8 + 64) return false;
  }
  std::sort(docs->begin(), docs->end());
  docs->erase(std::unique(docs->begin(), docs->end()), docs->end());
  return true;
}

// Part arrays (DocLengths, DocTimes) freed so far: a PartCache looks for
// entries of freed revisions only when this has moved.
std::atomic<uint64_t> arrays_freed{0};

struct Entry {
  PartKey key;
  std::shared_ptr<const std::vector<uint32_t>> array;  // by docid
};

// Whether a part's array is whole: lengths sum to the part's total, as
// many times as the part has.
using PartCheck = bool (*)(const Xapian::Database& part,
                           const std::vector<uint32_t>& v);

bool LengthsSumUp(const Xapian::Database& part,
                  const std::vector<uint32_t>& v) {
  uint64_t sum = 0;
  for (uint32_t len : v) sum += len;
  return sum == part.get_total_length();
}

// Whether as many documents have a time as the part's value stream holds.
bool TimesCountUp(const Xapian::Database& part,
                  const std::vector<uint32_t>& v) {
  const auto n = static_cast<Xapian::doccount>(std::count_if(
      v.begin(), v.end(), [](uint32_t t) { return t != DocTimes::kNone; }));
  return n == part.get_value_freq(DocTimes::kSlot);
}

// Each part's array that `load_` makes (DocLengths, DocTimes), by PartKey.
// A new revision of a part whose earlier one is held is patched when the
// commits between recorded what they changed (schema::ChangedDocs: a live
// writer's): its new documents and the changed ones are read, not the
// whole part (which costs about 0.1-0.4 s of CPU a million documents).
class Cache {
 public:
  Cache(PartLoader load, PartCheck check) : load_(load), check_(check) {}
  std::shared_ptr<const std::vector<uint32_t>> For(
      const Xapian::Database& part) {
    PartKey key;
    try {
      key = {part.get_uuid(), part.get_revision(), part.get_doccount(),
             part.get_lastdocid(), part.get_total_length()};
    } catch (const Xapian::Error&) {
      return nullptr;
    }
    std::shared_ptr<const std::vector<uint32_t>> base;
    PartKey base_key;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->key == key) {
          entries_.splice(entries_.begin(), entries_, it);  // most recent
          return it->array;
        }
        if (it->key.uuid == key.uuid && it->key.revision < key.revision &&
            it->key.last <= key.last &&
            (!base || it->key.revision > base_key.revision)) {
          base = it->array;
          base_key = it->key;
        }
      }
      // A part whose docids are mostly holes would cost more memory than
      // it saves time: Xapian reads its values itself.
      if (key.last / 8 > key.docs + (1u << 16)) return nullptr;
      if (!loading_.insert(key.uuid).second) return nullptr;
    }
    std::shared_ptr<std::vector<uint32_t>> array;
    bool patched = false;
    try {
      auto make = [] {
        return std::shared_ptr<std::vector<uint32_t>>(
            new std::vector<uint32_t>(), [](std::vector<uint32_t>* a) {
              delete a;
              arrays_freed.fetch_add(1, std::memory_order_relaxed);
            });
      };
      // `v` filled from `first` on and at `again`, if it checks out.
      auto fill = [&](std::shared_ptr<std::vector<uint32_t>> v,
                      Xapian::docid first,
                      const std::vector<Xapian::docid>& again) {
        if (load_(part, first, key.last, again, v.get()) && check_(part, *v)) {
          array = std::move(v);
        }
      };
      std::vector<Xapian::docid> again;
      if (base && ChangedSince(part, base_key, key.revision, &again)) {
        std::shared_ptr<std::vector<uint32_t>> v = make();
        v->reserve(key.last + 1);
        *v = *base;
        fill(std::move(v), base_key.last + 1, again);
        patched = array != nullptr;
      }
      base.reset();
      if (!array) fill(make(), 1, {});
    } catch (const Xapian::Error&) {
      array.reset();
    }
    std::lock_guard<std::mutex> lock(mu_);
    loading_.erase(key.uuid);
    ++(patched ? patches_ : loads_);
    if (!array) return nullptr;
    // Two revisions of a part stay: searchers refresh one by one.
    size_t same = 0;
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->key.uuid == key.uuid && ++same >= 2) {
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
    entries_.push_front(Entry{key, array});
    while (entries_.size() > kMaxEntries) entries_.pop_back();
    return array;
  }

  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_.size();
  }
  uint64_t loads() {
    std::lock_guard<std::mutex> lock(mu_);
    return loads_;
  }
  uint64_t patches() {
    std::lock_guard<std::mutex> lock(mu_);
    return patches_;
  }

 private:
  // Parts of every collection a process serves, two revisions each; a
  // compacted part is a new database (a new uuid), so old ones age out.
  static constexpr size_t kMaxEntries = 128;
  const PartLoader load_;
  const PartCheck check_;
  std::mutex mu_;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_set<std::string> loading_;  // uuids
  uint64_t loads_ = 0;                       // whole parts read
  uint64_t patches_ = 0;  // earlier revisions' arrays patched
};

Cache& TheCache() {
  static Cache* cache =
      new Cache(LoadLengths, LengthsSumUp);  // never destroyed
  return *cache;
}

Cache& TheTimeCache() {
  static Cache* cache = new Cache(LoadTimes, TimesCountUp);  // never destroyed
  return *cache;
}

// BM25's term-frequency part, as Bm25Source weighs a posting.
double TfPart(double wdf, double normlen, const Bm25Params& p) {
  const double denom = p.k1 * (normlen * p.b + (1 - p.b)) + wdf;
  return wdf / denom;
}

// The largest weight of each block of kBlock postings of a source, in
// docid order, with the block's last docid.
struct Blocks {
  static constexpr size_t kBlock = 128;
  std::vector<Xapian::docid> last;
  std::vector<double> max;
  std::vector<double> rest;  // the largest of max[i..]
};

// What a part's revision determines, by key, least recently used dropped
// past `max_bytes`: the block maxima of a source (key: its terms, scales,
// statistics and parameters), a term's frequencies.
template <class V>
class PartCache {
 public:
  // `evict`: whether a new value may push the least recently used out.
  // Without, a value that does not fit (once the entries of freed
  // revisions, and those no query asked for in `idle`, are dropped) is not
  // made: for values that cost a pass over a whole posting list, where
  // making them again and again, each pushing out another (more terms than
  // fit: at 3M items, 1,914 arrays made for 500 queries), costs more than
  // they save. (The idle ones go so that a server whose index was rebuilt
  // under it, in new part directories whose old lengths stay cached for a
  // while, or whose users moved on to other words, is not stuck with them.)
  explicit PartCache(size_t max_bytes, bool evict = true)
      : max_bytes_(max_bytes), evict_(evict) {}
  static constexpr std::chrono::seconds kIdle{60};
  // The value for `key` in the part whose DocLengths are `lengths`, made
  // by `make` when missing (or nullptr when it fails, or when the `expect`
  // bytes it will cost do not fit in a cache that does not evict);
  // `bytes_of` tells what a value costs. An entry lives while `lengths`
  // does: its address names the part's revision only while it is alive.
  std::shared_ptr<const V> For(
      const std::string& key,
      const std::shared_ptr<const std::vector<uint32_t>>& lengths,
      const std::function<std::shared_ptr<const V>()>& make,
      const std::function<size_t(const V&)>& bytes_of, size_t expect = 0) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = index_.find(key);
      if (it != index_.end()) {
        if (it->second->owner.lock() == lengths) {
          it->second->used = std::chrono::steady_clock::now();
          lru_.splice(lru_.begin(), lru_, it->second);
          return it->second->value;
        }
        Drop(it->second);  // a freed revision's, at a reused address
      }
      if (!evict_ && bytes_ + expect > max_bytes_) {
        // (Only when an array was freed since the last look: a full cache
        // is asked again and again.)
        const uint64_t freed = arrays_freed.load(std::memory_order_relaxed);
        if (freed != looked_at_) {
          looked_at_ = freed;
          for (auto e = lru_.begin(); e != lru_.end();) {
            auto here = e++;
            if (here->owner.expired()) Drop(here);
          }
        }
        const auto idle_since = std::chrono::steady_clock::now() - idle_;
        while (!lru_.empty() && bytes_ + expect > max_bytes_ &&
               std::prev(lru_.end())->used < idle_since) {
          Drop(std::prev(lru_.end()));
        }
        if (bytes_ + expect > max_bytes_) {
          ++refused_;
          return nullptr;
        }
      }
    }
    std::shared_ptr<const V> value = make();
    if (!value) return nullptr;
    // The key twice (list and index), their nodes, the value's block.
    const size_t bytes = 2 * key.size() + 192 + bytes_of(*value);
    std::lock_guard<std::mutex> lock(mu_);
    ++made_;
    if (bytes > max_bytes_) return value;
    auto it = index_.find(key);
    if (it != index_.end()) Drop(it->second);  // made meanwhile elsewhere
    lru_.push_front(
        Entry{key, lengths, value, bytes, std::chrono::steady_clock::now()});
    index_.emplace(key, lru_.begin());
    bytes_ += bytes;
    // (Without eviction, values made at once elsewhere may overshoot.)
    while (evict_ && bytes_ > max_bytes_) Drop(std::prev(lru_.end()));
    return value;
  }

  uint64_t made() {
    std::lock_guard<std::mutex> lock(mu_);
    return made_;
  }
  uint64_t refused() {
    std::lock_guard<std::mutex> lock(mu_);
    return refused_;
  }
  size_t bytes() {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_;
  }
  size_t max_bytes() {
    std::lock_guard<std::mutex> lock(mu_);
    return max_bytes_;
  }
  // How long an entry no query asked for stays when there is no room
  // (kIdle unless set: tests).
  void set_idle(std::chrono::steady_clock::duration idle) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_ = idle;
  }
  // The limit from now on.
  void set_max_bytes(size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    max_bytes_ = n;
  }

 private:
  struct Entry {
    std::string key;
    std::weak_ptr<const std::vector<uint32_t>> owner;
    std::shared_ptr<const V> value;
    size_t bytes = 0;
    std::chrono::steady_clock::time_point used;  // last asked for
  };
  void Drop(typename std::list<Entry>::iterator it) {
    bytes_ -= it->bytes;
    index_.erase(it->key);
    lru_.erase(it);
  }

  size_t max_bytes_;
  const bool evict_;
  std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, typename std::list<Entry>::iterator> index_;
  size_t bytes_ = 0;
  uint64_t made_ = 0, refused_ = 0;
  uint64_t looked_at_ = UINT64_MAX;  // arrays_freed at the last look
  std::chrono::steady_clock::duration idle_ = kIdle;
};

std::atomic<Xapian::doccount> min_block_postings{2048};
std::atomic<uint64_t> blocks_skipped{0};
std::atomic<uint64_t> spans_skipped{0};
std::atomic<uint64_t> docs_skipped{0};
std::atomic<uint64_t> time_keys{0};

PartCache<Blocks>& TheBlockCache() {
  // Never destroyed: used until exit.
  static auto* cache = new PartCache<Blocks>(BlockMaxima::kMaxBytes);
  return *cache;
}

// The cache key of `term` in the part whose DocLengths are `lengths`:
// their address names the part's revision while they live.
std::string PartKey(const std::shared_ptr<const std::vector<uint32_t>>& lengths,
                    const std::string& term) {
  const void* id = lengths.get();
  std::string key(reinterpret_cast<const char*>(&id), sizeof id);
  return key + term;
}

// A term's frequencies in a part, as a source's init reads them: each a
// B-tree lookup (often a block read), asked again by every query with the
// term.
struct PartFreqs {
  Xapian::doccount termfreq = 0;
  Xapian::termcount wdf_upper_bound = 0;
};

PartCache<PartFreqs>& TheFreqCache() {
  static auto* cache = new PartCache<PartFreqs>(16u << 20);  // never destroyed
  return *cache;
}

// The frequencies of `term` in `part`, whose DocLengths are `lengths`
// (cached with them; read from the part when null). Two copies of a part
// that were changed apart to the same revision, document count, last docid
// and total length would share them, as they share their lengths.
PartFreqs FreqsOf(const Xapian::Database& part,
                  const std::shared_ptr<const std::vector<uint32_t>>& lengths,
                  const std::string& term) {
  auto read = [&] {
    PartFreqs f;
    f.termfreq = part.get_termfreq(term);
    if (f.termfreq != 0) f.wdf_upper_bound = part.get_wdf_upper_bound(term);
    return f;
  };
  if (!lengths) return read();
  const std::string key = PartKey(lengths, term);
  auto f = TheFreqCache().For(
      key, lengths, [&] { return std::make_shared<const PartFreqs>(read()); },
      [](const PartFreqs&) { return sizeof(PartFreqs); });
  return *f;
}

// The wdfs of a term's postings in a part held in memory, a byte each:
// the wdf, or kBig for a wdf of kBig or more, or of 0 (a posting of a term
// added without occurrences is a posting too), whose value `big` holds;
// for a term of wdf 0 in every document (a filter's term), `boolean` and
// nothing held.
struct WdfBytes {
  static constexpr uint8_t kBig = 255;
  std::vector<std::pair<Xapian::docid, Xapian::termcount>> big;  // by docid
  bool boolean = false;

  // The byte of the posting (did, w), postings added in docid order.
  uint8_t Add(Xapian::docid did, Xapian::termcount w) {
    if (w < kBig && w != 0) return static_cast<uint8_t>(w);
    if (!boolean) big.emplace_back(did, w);
    return kBig;
  }
  // The wdf of the posting at `did`, whose byte is `b`.
  Xapian::termcount Of(Xapian::docid did, uint8_t b) const {
    if (b != kBig) return b;
    if (boolean) return 0;
    auto it = std::lower_bound(
        big.begin(), big.end(), did,
        [](const auto& e, Xapian::docid d) { return e.first < d; });
    return it != big.end() && it->first == did ? it->second : kBig;
  }
  size_t bytes() const { return big.capacity() * sizeof(big[0]); }
};

// A term's postings in a part as one byte a document (by docid): its
// wdf's byte (WdfBytes), or 0 where the document lacks it. Xapian decodes a
// posting list chunk from its start on every skip_to into it, so an AND with a
// word in most documents (say "the") decodes nearly all of that word's list,
// however few documents the other words leave; from this array a skip_to is a
// look at the documents from the target on, and a next() a scan for the next
// non-zero byte, eight at a time.
struct DensePostings {
  std::vector<uint8_t> wdf;
  WdfBytes wdfs;

  // The first docid from `did` on that has the term, or wdf.size().
  Xapian::docid From(Xapian::docid did) const {
    const size_t n = wdf.size();
    size_t i = did;
    const uint8_t* p = wdf.data();
    while (i < n && (i & 7) != 0) {
      if (p[i] != 0) return static_cast<Xapian::docid>(i);
      ++i;
    }
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, sizeof w);
      if (w != 0) break;
      i += 8;
    }
    while (i < n && p[i] == 0) ++i;
    return static_cast<Xapian::docid>(i);
  }
  Xapian::termcount WdfOf(Xapian::docid did) const {
    return wdfs.Of(did, wdf[did]);
  }
};

std::atomic<uint64_t> dense_made{0};

// DenseTerms' and ListTerms' shares of the room for postings in memory
// (SetPostingsMemory).
size_t DenseShare(size_t bytes) { return bytes / 3; }
size_t ListShare(size_t bytes) { return bytes - DenseShare(bytes); }

PartCache<DensePostings>& TheDenseCache() {
  static auto* cache =  // never destroyed
      new PartCache<DensePostings>(DenseShare(DefaultPostingsMemory()),
                                   /*evict=*/false);
  return *cache;
}

// The dense postings of `term` in `part` (whose DocLengths are `lengths`),
// made from its posting list on first use; nullptr when they could not be
// read.
std::shared_ptr<const DensePostings> DenseOf(
    const Xapian::Database& part,
    const std::shared_ptr<const std::vector<uint32_t>>& lengths,
    const std::string& term) {
  const std::string key = PartKey(lengths, term);
  return TheDenseCache().For(
      key, lengths,
      [&]() -> std::shared_ptr<const DensePostings> {
        auto d = std::make_shared<DensePostings>();
        try {
          d->wdf.assign(lengths->size(), 0);
          d->wdfs.boolean = part.get_wdf_upper_bound(term) == 0;
          for (Xapian::PostingIterator it = part.postlist_begin(term);
               it != part.postlist_end(term); ++it) {
            const Xapian::docid did = *it;
            if (did >= d->wdf.size()) return nullptr;
            d->wdf[did] = d->wdfs.Add(did, it.get_wdf());
          }
        } catch (const Xapian::Error&) {
          return nullptr;
        }
        dense_made.fetch_add(1, std::memory_order_relaxed);
        return d;
      },
      [](const DensePostings& d) { return d.wdf.size() + d.wdfs.bytes(); },
      lengths->size());
}

// Whether a term in `tf` documents of a part whose DocLengths are
// `lengths` reads its postings there from memory (DenseTerms).
bool IsDense(Xapian::doccount tf,
             const std::shared_ptr<const std::vector<uint32_t>>& lengths) {
  return lengths && DenseTerms::Likely(tf, lengths->size());
}

// A term's postings in a part as three arrays, its docids in order, their
// wdfs' bytes (WdfBytes) and their documents' lengths up to kLongest: for a
// term in too few documents to be dense (DenseTerms) but in many (ListTerms). A
// step is an index's increment and a skip a galloping search, where Xapian's
// list decodes each posting it passes through several calls (on 3M synthetic HN
// items, about 200 instructions a skip_to).
struct ListPostings {
  // What a posting costs (docid and two bytes), counted before a list is
  // made.
  static constexpr size_t kPostingBytes = sizeof(Xapian::docid) + 2;
  std::vector<Xapian::docid> docs;
  std::vector<uint8_t> wdf;
  // Each posting's document length, or kLongest for one at least as long:
  // what the weight's bound reads where the length itself would cost a
  // cache miss (the lengths of a large part's documents lie far apart).
  static constexpr uint32_t kLongest = 255;
  std::vector<uint8_t> len;
  WdfBytes wdfs;

  // The first index from `i` on whose docid is `did` or more, or
  // docs.size(). REQUIRES: i <= docs.size().
  size_t From(size_t i, Xapian::docid did) const {
    const size_t n = docs.size();
    if (i >= n || docs[i] >= did) return i;
    // docs[lo] < did; find hi with docs[hi] >= did (or n), doubling.
    size_t lo = i, step = 1;
    size_t hi = i + 1;
    while (hi < n && docs[hi] < did) {
      lo = hi;
      step *= 2;
      hi = lo + step;
    }
    if (hi > n) hi = n;
    return static_cast<size_t>(
        std::lower_bound(docs.begin() + lo + 1, docs.begin() + hi, did) -
        docs.begin());
  }
  Xapian::termcount WdfAt(size_t i) const { return wdfs.Of(docs[i], wdf[i]); }
};

std::atomic<uint64_t> lists_made{0};
std::atomic<Xapian::doccount> list_min_postings{2048};

PartCache<ListPostings>& TheListCache() {
  static auto* cache =  // never destroyed
      new PartCache<ListPostings>(ListShare(DefaultPostingsMemory()),
                                  /*evict=*/false);
  return *cache;
}

// The postings of `term` (in `tf` documents) in `part` (whose DocLengths
// are `lengths`) as ListPostings, made from its posting list on first
// use; nullptr when they could not be read or do not fit.
std::shared_ptr<const ListPostings> ListOf(
    const Xapian::Database& part,
    const std::shared_ptr<const std::vector<uint32_t>>& lengths,
    const std::string& term, Xapian::doccount tf) {
  const std::string key = PartKey(lengths, term);
  return TheListCache().For(
      key, lengths,
      [&]() -> std::shared_ptr<const ListPostings> {
        auto l = std::make_shared<ListPostings>();
        try {
          l->docs.reserve(tf);
          l->wdf.reserve(tf);
          l->wdfs.boolean = part.get_wdf_upper_bound(term) == 0;
          for (Xapian::PostingIterator it = part.postlist_begin(term);
               it != part.postlist_end(term); ++it) {
            const Xapian::docid did = *it;
            if (did >= lengths->size()) return nullptr;
            l->docs.push_back(did);
            l->wdf.push_back(l->wdfs.Add(did, it.get_wdf()));
          }
          // The lengths in a pass of their own, fetched ahead: a list's
          // documents lie far apart in the lengths (a cache miss each).
          constexpr size_t kAhead = 16;
          const std::vector<uint32_t>& lens = *lengths;
          l->len.resize(l->docs.size());
          for (size_t i = 0; i < l->docs.size(); ++i) {
            if (i + kAhead < l->docs.size()) {
              __builtin_prefetch(&lens[l->docs[i + kAhead]]);
            }
            l->len[i] = static_cast<uint8_t>(
                std::min(lens[l->docs[i]], ListPostings::kLongest));
          }
        } catch (const Xapian::Error&) {
          return nullptr;
        }
        lists_made.fetch_add(1, std::memory_order_relaxed);
        return l;
      },
      [](const ListPostings& l) {
        return l.docs.capacity() * sizeof(Xapian::docid) + l.wdf.capacity() +
               l.len.capacity() + l.wdfs.bytes();
      },
      size_t{tf} * ListPostings::kPostingBytes);
}

// A term's postings in a part held in memory, of one kind or the other,
// or neither (read from Xapian's list).
struct HeldPostings {
  std::shared_ptr<const DensePostings> dense;
  std::shared_ptr<const ListPostings> list;
};

// A term's postings in a part: from its DensePostings or ListPostings
// when it has them, else from Xapian's list.
struct Postings {
  HeldPostings hold;
  const DensePostings* dense = nullptr;
  const ListPostings* list = nullptr;
  // dense: the current docid, wdf.size() at the end; list: the current
  // index, docs.size() at the end.
  size_t pos = 0;
  Xapian::PostingIterator it, end;

  void Open(const Xapian::Database& part, const std::string& term,
            HeldPostings h) {
    hold = std::move(h);
    dense = hold.dense.get();
    list = dense ? nullptr : hold.list.get();
    if (!dense && !list) {
      it = part.postlist_begin(term);
      end = part.postlist_end(term);
      return;
    }
    pos = dense ? dense->From(1) : 0;
    it = end = Xapian::PostingIterator();
  }
  bool AtEnd() const {
    return dense  ? pos >= dense->wdf.size()
           : list ? pos >= list->docs.size()
                  : it == end;
  }
  Xapian::docid Doc() const {
    return dense  ? static_cast<Xapian::docid>(pos)
           : list ? list->docs[pos]
                  : *it;
  }
  Xapian::termcount Wdf() const {
    return dense  ? dense->WdfOf(static_cast<Xapian::docid>(pos))
           : list ? list->WdfAt(pos)
                  : it.get_wdf();
  }
  // At most the current document's length, without reading it: from a
  // list, its length (up to ListPostings::kLongest); else 0.
  uint32_t LengthFloor() const { return list ? list->len[pos] : 0; }
  void Next() {
    if (dense) {
      pos = dense->From(static_cast<Xapian::docid>(pos + 1));
    } else if (list) {
      ++pos;
    } else {
      ++it;
    }
  }
  // On to the first posting at `did` or after (never back).
  void SkipTo(Xapian::docid did) {
    if (dense) {
      if (did > pos) pos = dense->From(did);
    } else if (list) {
      pos = list->From(pos, did);
    } else {
      it.skip_to(did);
    }
  }
};

// A term's postings in `part` held in memory when it is dense there
// (IsDense) or in ListTerms::MinPostings() documents (when a dense term's
// array does not fit, its list is tried), else neither.
HeldPostings HeldIfAny(
    const Xapian::Database& part,
    const std::shared_ptr<const std::vector<uint32_t>>& lengths,
    const std::string& term, Xapian::doccount tf) {
  HeldPostings h;
  if (!lengths) return h;
  if (IsDense(tf, lengths)) h.dense = DenseOf(part, lengths, term);
  if (!h.dense && tf > 0 && tf >= ListTerms::MinPostings()) {
    h.list = ListOf(part, lengths, term, tf);
  }
  return h;
}

// A term's BM25 statistics: Xapian::BM25Weight (1.4) for a term of query
// frequency 1 and no relevance set; see searcher/proximity.cc for the same.
struct TermStats {
  std::string term;
  double termweight = 0;  // 0: the term is in no document (or none given)
};

TermStats StatsOf(const Xapian::Database& db, const std::string& term,
                  const Bm25Params& p, const TermFreqFn& termfreq) {
  TermStats s{term, 0};
  if (term.empty()) return s;
  const double n = db.get_doccount();
  const Xapian::doccount tf =
      termfreq ? termfreq(term) : db.get_termfreq(term);
  if (tf == 0 || n == 0) return s;
  s.termweight = Bm25TermWeight(n, tf, p.k1);
  return s;
}

// A term's postings in a part, and where its wdfs go in a MatchSeen.
struct Walk {
  Postings list;
  bool record = false;                   // the term is wanted
  MatchSeen::Wdfs* recording = nullptr;  // its list, made on first use
  std::string term, uuid;

  // `held`: the term's postings in memory, if any.
  void Init(const Xapian::Database& part, const std::string& t,
            const MatchSeen* seen, const std::string& part_uuid,
            HeldPostings held) {
    list.Open(part, t, std::move(held));
    term = t;
    uuid = part_uuid;
    recording = nullptr;
    record = seen != nullptr && seen->wdf_terms.count(t) > 0;
  }
  // The term's wdf in `did` (0 when it lacks the term), moving forward
  // only: callers ask in docid order.
  Xapian::termcount WdfAt(Xapian::docid did) {
    if (!list.AtEnd() && list.Doc() < did) list.SkipTo(did);
    return !list.AtEnd() && list.Doc() == did ? list.Wdf() : 0;
  }
  // Adds (did, wdf) to the term's list in `seen` (when it is wanted there:
  // never without a `seen`).
  void Record(Xapian::docid did, Xapian::termcount wdf, MatchSeen* seen) {
    if (!record) return;
    if (recording == nullptr) recording = &seen->wdfs[uuid][term];
    if (!recording->empty() && recording->back().first == did) return;
    if (recording->size() >= MatchSeen::kMaxWdfs) {
      seen->overflowed.insert(term);
      record = false;
      return;
    }
    recording->emplace_back(did, wdf);
  }
};

// The weights of BM25Weight(k1, 0, 1, b, min_normlen) for the postings of
// `main`, plus, at the same documents, `exact_scale` times those of `exact`
// and `title_scale` times those of `title` (each when given). Those two
// terms' postings are read only at the documents the match weighs: under
// a query's AND, where the stem of a word drives, that is the few
// documents that match the whole query, not every one the stem's postings
// move through (as AND_MAYBE's right side does).
//
// With Bm25Params::unscaled, a source skips the postings whose weight is
// below what the match asks of it even in a document as short as its list
// says (BoundHere; alone, not as a word of a Bm25AndSource, which bounds
// its words together), and a source of a term in at least
// BlockMaxima::MinPostings() documents of a part skips the blocks of its
// postings whose largest weight is below it.
class Bm25Source final : public Xapian::PostingSource {
 public:
  Bm25Source(TermStats main, TermStats exact, double exact_scale,
             TermStats title, double title_scale, double len_factor,
             const Bm25Params& p, std::shared_ptr<MatchSeen> seen)
      : main_(std::move(main)),
        exact_(std::move(exact)),
        title_(std::move(title)),
        exact_scale_(exact_scale),
        title_scale_(title_scale),
        len_factor_(len_factor),
        p_(p),
        seen_(std::move(seen)) {}

  ~Bm25Source() override {
    // The times stay the current part's only while a source holds them.
    if (seen_ && seen_->current_times == times_.get()) {
      seen_->current_times = nullptr;
    }
    if (docs_skipped_) {
      docs_skipped.fetch_add(docs_skipped_, std::memory_order_relaxed);
    }
  }

  Xapian::doccount get_termfreq_min() const override { return part_freq_; }
  Xapian::doccount get_termfreq_est() const override { return part_freq_; }
  Xapian::doccount get_termfreq_max() const override { return part_freq_; }

  void init(const Xapian::Database& part) override {
    part_ = part;
    lengths_ = DocLengths::For(part);
    std::string uuid;
    if (seen_) {
      uuid = part.get_uuid();
      if (lengths_) seen_->lengths[uuid] = lengths_;
      if (seen_->want_times) times_ = DocTimes::For(part);
    }
    const PartFreqs main_freqs = FreqsOf(part, lengths_, main_.term);
    part_freq_ = main_freqs.termfreq;
    main_walk_.Init(part, main_.term, seen_.get(), uuid,
                    HeldIfAny(part, lengths_, main_.term, main_freqs.termfreq));
    has_exact_ = exact_scale_ != 0 && exact_.termweight != 0;
    PartFreqs exact_freqs, title_freqs;
    if (has_exact_) {
      exact_freqs = FreqsOf(part, lengths_, exact_.term);
      exact_walk_.Init(
          part, exact_.term, seen_.get(), uuid,
          HeldIfAny(part, lengths_, exact_.term, exact_freqs.termfreq));
    }
    has_title_ = title_scale_ != 0 && title_.termweight != 0;
    if (has_title_) {
      title_freqs = FreqsOf(part, lengths_, title_.term);
      title_walk_.Init(
          part, title_.term, seen_.get(), uuid,
          HeldIfAny(part, lengths_, title_.term, title_freqs.termfreq));
    }
    started_ = false;
    blocks_.reset();
    block_ = 0;
    if (p_.unscaled && lengths_ && part_freq_ >= BlockMaxima::MinPostings()) {
      blocks_ = TheBlockCache().For(
          BlockKey(), lengths_, [this] { return MakeBlocks(); },
          [](const Blocks& b) {
            return b.last.size() *
                   (sizeof(Xapian::docid) + 2 * sizeof(double));
          });
    }
    // The largest weight any posting here can have: the most frequent
    // occurrence in the shortest document (Xapian prunes with it).
    const double normlen = std::max(
        part.get_doclength_lower_bound() * len_factor_, p_.min_normlen);
    shortest_normlen_ = normlen;
    double max = MaxWeight(main_freqs, main_, normlen);
    if (has_exact_) {
      max += exact_scale_ * MaxWeight(exact_freqs, exact_, normlen);
    }
    if (has_title_) {
      max += title_scale_ * MaxWeight(title_freqs, title_, normlen);
    }
    max *= 1 + 1e-9;
    // Tighter: the largest weight the part's postings have. It bounds the
    // other words of an AND, which then ask more of this one.
    if (blocks_ && !blocks_->rest.empty()) max = std::min(max, blocks_->rest[0]);
    set_maxweight(max);
  }

  void next(double min_wt) override {
    if (seen_) seen_->current_times = times_.get();
    if (started_) {
      main_walk_.list.Next();
    } else {
      started_ = true;
    }
    SkipBlocks(min_wt);
    SkipDocs(min_wt);
  }
  void skip_to(Xapian::docid did, double min_wt) override {
    if (seen_) seen_->current_times = times_.get();
    started_ = true;
    main_walk_.list.SkipTo(did);
    SkipBlocks(min_wt);
    SkipDocs(min_wt);
  }
  bool at_end() const override { return main_walk_.list.AtEnd(); }
  Xapian::docid get_docid() const override { return main_walk_.list.Doc(); }

  double get_weight() const override {
    return WeightAt(main_walk_.list.Doc(), main_walk_.list.Wdf(), &exact_walk_,
                    &title_walk_, seen_.get());
  }

  // At least the current posting's weight, without reading its document's
  // length: its weight in a document as short as its list in memory says
  // it is at least, or as the part's shortest. Of a word in an AND, a
  // document the other words lack is never asked.
  double BoundHere() const { return BoundWith(LengthFloor()); }
  // BoundHere for a document at least `len` long.
  double BoundWith(uint32_t len) const {
    const double normlen =
        std::max(static_cast<double>(len) * len_factor_, shortest_normlen_);
    return WeightWith(main_walk_.list.Doc(), main_walk_.list.Wdf(), normlen,
                      &exact_walk_, &title_walk_, nullptr) *
           (1 + 1e-9);
  }
  // At most the current document's length (from a list held in memory,
  // which holds it), or 0.
  uint32_t LengthFloor() const { return main_walk_.list.LengthFloor(); }
  // The words of a Bm25AndSource: it weighs the bounds of all of them
  // together, which asks more of each than a bound alone (SkipDocs).
  void SetInAnd() { in_and_ = true; }
  void CountDocsSkipped() { ++docs_skipped_; }

  Bm25Source* clone() const override {
    return new Bm25Source(main_, exact_, exact_scale_, title_, title_scale_,
                          len_factor_, p_, seen_);
  }

  // The largest weight of the block of postings that holds `did` (at or
  // after the current posting), and in `*last` the block's last docid;
  // without block maxima, the source's largest weight and the largest
  // docid.
  double BlockBound(Xapian::docid did, Xapian::docid* last) {
    if (!blocks_) {
      *last = std::numeric_limits<Xapian::docid>::max();
      return get_maxweight();
    }
    const size_t n = blocks_->last.size();
    while (block_ < n && blocks_->last[block_] < did) ++block_;
    if (block_ == n) {
      *last = std::numeric_limits<Xapian::docid>::max();
      return 0;
    }
    *last = blocks_->last[block_];
    return blocks_->max[block_];
  }
  bool HasBlocks() const { return blocks_ != nullptr; }
  std::string get_description() const override {
    std::string d = "Bm25Source(" + main_.term;
    if (exact_scale_ != 0 && !exact_.term.empty()) {
      d += ", " + exact_.term + " * " + std::to_string(exact_scale_);
    }
    if (title_scale_ != 0 && !title_.term.empty()) {
      d += ", " + title_.term + " * " + std::to_string(title_scale_);
    }
    return d + ")";
  }

 private:
  double Weight(const TermStats& t, double wdf, double normlen) const {
    return t.termweight * TfPart(wdf, normlen, p_);
  }
  double MaxWeight(const PartFreqs& f, const TermStats& t,
                   double normlen) const {
    const double wdf = f.wdf_upper_bound;
    return wdf == 0 ? 0 : Weight(t, wdf, normlen);
  }
  // The weight of `did`, in which the main term has `wdf`; `exact` and
  // `title` are moved on to `did`. With `seen`, records the wdfs.
  // (Inlined: it is most of get_weight, called for every candidate.)
  [[gnu::always_inline]] double WeightAt(Xapian::docid did,
                                         Xapian::termcount wdf, Walk* exact,
                                         Walk* title, MatchSeen* seen) const {
    if (seen) main_walk_.Record(did, wdf, seen);
    const double len = lengths_ && did < lengths_->size()
                           ? (*lengths_)[did]
                           : part_.get_doclength(did);
    return WeightWith(did, wdf, std::max(len * len_factor_, p_.min_normlen),
                      exact, title, seen);
  }
  // WeightAt of a document whose normalised length is `normlen`: a
  // smaller one gives at least the weight (the weights fall as it grows).
  [[gnu::always_inline]] double WeightWith(Xapian::docid did,
                                           Xapian::termcount wdf,
                                           double normlen, Walk* exact,
                                           Walk* title, MatchSeen* seen) const {
    double w = Weight(main_, wdf, normlen);
    if (has_exact_) {
      if (const Xapian::termcount e = exact->WdfAt(did)) {
        if (seen) exact->Record(did, e, seen);
        w += exact_scale_ * Weight(exact_, e, normlen);
      }
    }
    if (has_title_) {
      if (const Xapian::termcount t = title->WdfAt(did)) {
        w += title_scale_ * Weight(title_, t, normlen);
      }
    }
    return w;
  }
  // What the blocks' weights depend on, but for the part's postings: the
  // terms, their weights and scales, the parameters, and the identity of
  // the part's revision (its DocLengths).
  std::string BlockKey() const {
    std::string key;
    auto add = [&key](const auto& v) {
      key.append(reinterpret_cast<const char*>(&v), sizeof v);
    };
    add(static_cast<const void*>(lengths_.get()));
    for (double d : {len_factor_, p_.k1, p_.b, p_.min_normlen,
                     main_.termweight, has_exact_ ? exact_scale_ : 0.0,
                     has_exact_ ? exact_.termweight : 0.0,
                     has_title_ ? title_scale_ : 0.0,
                     has_title_ ? title_.termweight : 0.0}) {
      add(d);
    }
    for (const std::string* t : {&main_.term, &exact_.term, &title_.term}) {
      add(t->size());
      key += *t;
    }
    return key;
  }
  // One pass over the part's postings, weighing each as get_weight does.
  std::shared_ptr<const Blocks> MakeBlocks() const {
    auto blocks = std::make_shared<Blocks>();
    try {
      Walk main, exact, title;
      // The same lists as the source's walks, from their starts.
      main.Init(part_, main_.term, nullptr, {}, main_walk_.list.hold);
      if (has_exact_) {
        exact.Init(part_, exact_.term, nullptr, {}, exact_walk_.list.hold);
      }
      if (has_title_) {
        title.Init(part_, title_.term, nullptr, {}, title_walk_.list.hold);
      }
      Xapian::docid did = 0;
      double max = 0;
      size_t n = 0;
      auto close_block = [&] {
        blocks->last.push_back(did);
        blocks->max.push_back(max * (1 + 1e-9));
        max = 0;
        n = 0;
      };
      auto weigh = [&](Xapian::docid d, Xapian::termcount wdf) {
        did = d;  // the last posting weighed, close_block's
        max = std::max(max, WeightAt(did, wdf, &exact, &title, nullptr));
        if (++n == Blocks::kBlock) close_block();
      };
      // One loop a kind of list: the postings of a large part are many.
      Postings& list = main.list;
      if (const DensePostings* dense = list.dense) {
        for (; !list.AtEnd(); list.Next()) {
          const auto did = static_cast<Xapian::docid>(list.pos);
          weigh(did, dense->WdfOf(did));
        }
      } else if (const ListPostings* l = list.list) {
        for (size_t i = 0; i < l->docs.size(); ++i) {
          weigh(l->docs[i], l->WdfAt(i));
        }
      } else {
        for (; list.it != list.end; ++list.it) {
          weigh(*list.it, list.it.get_wdf());
        }
      }
      if (n > 0) close_block();
    } catch (const Xapian::Error&) {
      return nullptr;
    }
    blocks->rest = blocks->max;
    for (size_t i = blocks->rest.size(); i-- > 1;) {
      blocks->rest[i - 1] = std::max(blocks->rest[i - 1], blocks->rest[i]);
    }
    return blocks;
  }
  // Past the blocks whose every weight is below `min_wt` (the weight the
  // match needs from this source; below it a document cannot make the
  // results), from the current posting on.
  // Also lowers the source's largest weight to that of the blocks left,
  // when that falls.
  void SkipBlocks(double min_wt) {
    if (!blocks_) return;
    const size_t n = blocks_->last.size();
    const size_t from = block_;
    while (!at_end()) {
      const Xapian::docid did = get_docid();
      while (block_ < n && blocks_->last[block_] < did) ++block_;
      if (block_ == n || min_wt <= 0 || blocks_->max[block_] >= min_wt) {
        break;
      }
      main_walk_.list.SkipTo(blocks_->last[block_] + 1);
      ++block_;
      blocks_skipped.fetch_add(1, std::memory_order_relaxed);
    }
    if (block_ != from && block_ < n &&
        blocks_->rest[block_] < get_maxweight()) {
      set_maxweight(blocks_->rest[block_]);
    }
  }
  // Past the postings, from the current one on, whose weight is below
  // `min_wt` even in a document as short as the list says (BoundHere):
  // once the results ask more than one occurrence in a document of about
  // the average length gives, most of a common word's postings, and they
  // cost no length read (of a large part, a cache miss each).
  void SkipDocs(double min_wt) {
    if (!p_.unscaled || in_and_ || min_wt <= 0) return;
    while (!at_end() && BoundHere() < min_wt) {
      ++docs_skipped_;
      main_walk_.list.Next();
      SkipBlocks(min_wt);
    }
  }

  const TermStats main_, exact_, title_;
  const double exact_scale_, title_scale_;
  const double len_factor_;
  const Bm25Params p_;
  const std::shared_ptr<MatchSeen> seen_;
  Xapian::Database part_;
  std::shared_ptr<const std::vector<uint32_t>> lengths_;
  std::shared_ptr<const std::vector<uint32_t>> times_;  // MatchSeen::want_times
  mutable Walk main_walk_, exact_walk_, title_walk_;
  std::shared_ptr<const Blocks> blocks_;  // or none
  size_t block_ = 0;  // the block of the current posting, or one before
  bool has_exact_ = false, has_title_ = false;
  bool started_ = false;
  bool in_and_ = false;
  double shortest_normlen_ = 0;  // of the part's shortest document
  uint64_t docs_skipped_ = 0;    // added to docs_skipped when done
  Xapian::doccount part_freq_ = 0;
};

// The AND of words' Bm25Sources as one source (see Bm25WordsQuery): what
// Xapian's AND of them matches and weighs, without the matcher's layers
// between each step and the sources (an AND, a list around each source,
// its check) and with two more skips: past the documents whose words' block
// maxima together cannot reach the match's minimum, and past each whose
// words' bounds together (Bm25Source::BoundWith, no length read) cannot.
class Bm25AndSource final : public Xapian::PostingSource {
 public:
  explicit Bm25AndSource(std::vector<std::unique_ptr<Bm25Source>> words,
                         bool unscaled)
      : words_(std::move(words)), unscaled_(unscaled) {
    for (const auto& w : words_) w->SetInAnd();
  }

  Xapian::doccount get_termfreq_min() const override { return 0; }
  Xapian::doccount get_termfreq_est() const override { return est_; }
  Xapian::doccount get_termfreq_max() const override { return max_freq_; }

  void init(const Xapian::Database& part) override {
    done_ = false;
    started_ = false;
    order_.clear();
    for (size_t i = 0; i < words_.size(); ++i) {
      words_[i]->init(part);
      order_.push_back(words_[i].get());
    }
    // Rarest first, as Xapian's AND orders them: the rarest drives, and
    // the weights are summed in that order.
    std::stable_sort(order_.begin(), order_.end(),
                     [](const Bm25Source* a, const Bm25Source* b) {
                       return a->get_termfreq_est() < b->get_termfreq_est();
                     });
    const double docs = std::max<double>(1, part.get_doccount());
    max_freq_ = order_.empty() ? 0 : order_[0]->get_termfreq_est();
    double est = max_freq_;
    for (size_t i = 1; i < order_.size(); ++i) {
      est *= order_[i]->get_termfreq_est() / docs;
    }
    est_ = static_cast<Xapian::doccount>(est + 0.5);
    bounded_ = false;
    for (const Bm25Source* w : order_) bounded_ = bounded_ || w->HasBlocks();
    if (max_freq_ == 0) done_ = true;
    set_maxweight(SumOfMaxima());
  }

  void next(double min_wt) override {
    if (done_) return;
    started_ = true;
    order_[0]->next(MinOf(0, min_wt));
    Settle(min_wt);
  }
  void skip_to(Xapian::docid did, double min_wt) override {
    if (done_) return;
    if (started_ && did <= get_docid()) return;
    started_ = true;
    order_[0]->skip_to(did, MinOf(0, min_wt));
    Settle(min_wt);
  }
  bool at_end() const override { return done_; }
  Xapian::docid get_docid() const override { return order_[0]->get_docid(); }
  double get_weight() const override {
    double w = 0;
    for (const Bm25Source* s : order_) w += s->get_weight();
    return w;
  }

  PostingSource* clone() const override {
    std::vector<std::unique_ptr<Bm25Source>> words;
    for (const auto& w : words_) words.emplace_back(w->clone());
    return new Bm25AndSource(std::move(words), unscaled_);
  }
  std::string get_description() const override {
    std::string d = "Bm25AndSource(";
    for (size_t i = 0; i < words_.size(); ++i) {
      d += (i ? ", " : "") + words_[i]->get_description();
    }
    return d + ")";
  }

 private:
  double SumOfMaxima() const {
    double max = 0;
    for (const Bm25Source* s : order_) max += s->get_maxweight();
    return max;
  }
  // What word `k` must weigh for a document to reach `min_wt`, the others
  // weighing their most (Xapian's AND asks the same of each).
  double MinOf(size_t k, double min_wt) const {
    if (min_wt <= 0) return min_wt;
    double others = 0;
    for (size_t i = 0; i < order_.size(); ++i) {
      if (i != k) others += order_[i]->get_maxweight();
    }
    return min_wt - others;
  }
  // From the driver's document on, to the first that every word has and
  // whose words' blocks, and then bounds, together may reach `min_wt`.
  void Settle(double min_wt) {
    Bm25Source& driver = *order_[0];
    for (;;) {
      if (driver.at_end()) {
        done_ = true;
        return;
      }
      const Xapian::docid did = driver.get_docid();
      Xapian::docid next = did;  // the first document that may match
      for (size_t i = 1; i < order_.size(); ++i) {
        Bm25Source& w = *order_[i];
        if (w.get_docid() < did) w.skip_to(did, MinOf(i, min_wt));
        if (w.at_end()) {
          done_ = true;
          return;
        }
        if (w.get_docid() != did) {
          next = w.get_docid();
          break;
        }
      }
      if (next == did && bounded_ && min_wt > 0) {
        // Every document up to the first end of the words' blocks here
        // weighs at most their maxima's sum.
        Xapian::docid last = std::numeric_limits<Xapian::docid>::max();
        double bound = 0;
        for (Bm25Source* w : order_) {
          Xapian::docid l;
          bound += w->BlockBound(did, &l);
          last = std::min(last, l);
        }
        if (bound < min_wt) {
          if (last == std::numeric_limits<Xapian::docid>::max()) {
            done_ = true;
            return;
          }
          next = last + 1;
          spans_skipped.fetch_add(1, std::memory_order_relaxed);
        }
      }
      if (next == did && unscaled_ && min_wt > 0) {
        // The document's words in a document as short as their lists say
        // it is at least: no length read.
        uint32_t len = 0;
        for (const Bm25Source* w : order_)
          len = std::max(len, w->LengthFloor());
        double bound = 0;
        for (const Bm25Source* w : order_) bound += w->BoundWith(len);
        if (bound < min_wt) {
          order_[0]->CountDocsSkipped();
          next = did + 1;
        }
      }
      if (next == did) break;
      driver.skip_to(next, MinOf(0, min_wt));
    }
    const double max = SumOfMaxima();
    if (max < get_maxweight()) set_maxweight(max);
  }

  std::vector<std::unique_ptr<Bm25Source>> words_;
  std::vector<Bm25Source*> order_;  // words_, rarest first in the part
  Xapian::doccount est_ = 0, max_freq_ = 0;
  bool bounded_ = false;  // some word has block maxima
  const bool unscaled_;   // Bm25Params::unscaled: may skip documents
  bool done_ = true, started_ = false;
};

// The documents with every one of a set of terms, unweighted (see
// AllTermsQuery). In each part the rarest term's postings drive and the
// others are looked up at them: a dense term's in memory, without moving,
// another's list moved on with skip_to.
class AllTermsSource : public Xapian::PostingSource {
 public:
  explicit AllTermsSource(std::vector<std::string> terms)
      : terms_(std::move(terms)) {}

  Xapian::doccount get_termfreq_min() const override { return 0; }
  Xapian::doccount get_termfreq_est() const override { return freq_; }
  Xapian::doccount get_termfreq_max() const override { return freq_; }

  void init(const Xapian::Database& part) override {
    lists_.clear();
    started_ = false;
    done_ = true;
    freq_ = 0;
    set_maxweight(0);
    if (terms_.empty()) return;
    const auto lengths = DocLengths::For(part);
    std::vector<std::pair<Xapian::doccount, const std::string*>> order;
    for (const std::string& t : terms_) {
      const Xapian::doccount tf = FreqsOf(part, lengths, t).termfreq;
      if (tf == 0) return;  // no document has them all
      order.emplace_back(tf, &t);
    }
    std::sort(order.begin(), order.end());
    freq_ = order[0].first;
    lists_.resize(order.size());
    for (size_t i = 0; i < order.size(); ++i) {
      const std::string& t = *order[i].second;
      lists_[i].Open(part, t, HeldIfAny(part, lengths, t, order[i].first));
    }
    done_ = false;
  }

  void next(double) override {
    if (done_) return;
    if (started_) lists_[0].Next();
    started_ = true;
    Settle();
  }
  void skip_to(Xapian::docid did, double) override {
    if (done_) return;
    started_ = true;
    lists_[0].SkipTo(did);
    Settle();
  }
  bool at_end() const override { return done_; }
  Xapian::docid get_docid() const override { return lists_[0].Doc(); }
  double get_weight() const override { return 0; }

  PostingSource* clone() const override { return new AllTermsSource(terms_); }
  std::string name() const override { return kName; }
  // Each term as its length in decimal, ':' and its bytes.
  std::string serialise() const override {
    std::string out;
    for (const std::string& t : terms_) {
      out += std::to_string(t.size()) + ':' + t;
    }
    return out;
  }
  PostingSource* unserialise(const std::string& s) const override {
    std::vector<std::string> terms;
    size_t i = 0;
    while (i < s.size()) {
      const size_t colon = s.find(':', i);
      if (colon == std::string::npos || colon == i || colon - i > 9 ||
          s.find_first_not_of("0123456789", i) != colon) {
        throw Xapian::SerialisationError("bad AllTermsSource: " + s);
      }
      const size_t len = std::stoul(s.substr(i, colon - i));
      if (len > s.size() - colon - 1) {
        throw Xapian::SerialisationError("bad AllTermsSource: " + s);
      }
      terms.push_back(s.substr(colon + 1, len));
      i = colon + 1 + len;
    }
    return new AllTermsSource(std::move(terms));
  }
  std::string get_description() const override {
    std::string d = "AllTermsSource(";
    for (size_t i = 0; i < terms_.size(); ++i) {
      d += (i ? ", " : "") + terms_[i];
    }
    return d + ")";
  }

  static constexpr const char* kName = "threadsearch.AllTerms";

 private:
  // From the driver's document on, to the first that has every term.
  void Settle() {
    Postings& driver = lists_[0];
    while (!driver.AtEnd()) {
      const Xapian::docid did = driver.Doc();
      Xapian::docid next = did;  // the first document that may have them
      for (size_t i = 1; i < lists_.size() && next == did; ++i) {
        Postings& l = lists_[i];
        if (l.dense) {
          const std::vector<uint8_t>& wdf = l.dense->wdf;
          if (did < wdf.size() && wdf[did] != 0) continue;
          next = l.dense->From(did);  // past the part's end when none
        } else {
          l.SkipTo(did);
          next = l.AtEnd() ? 0 : l.Doc();  // 0: the list ran out
        }
      }
      if (next == did) return;  // every term has it
      if (next == 0) break;
      driver.SkipTo(next);
    }
    done_ = true;
  }

  const std::vector<std::string> terms_;
  std::vector<Postings> lists_;  // rarest first
  Xapian::doccount freq_ = 0;
  bool started_ = false, done_ = true;
};

double LengthFactor(const Xapian::Database& db) {
  const double n = db.get_doccount();
  const double avlen =
      n != 0 ? static_cast<double>(db.get_total_length()) / n : 0;
  return avlen != 0 ? 1 / avlen : 0;
}

}  // namespace

std::shared_ptr<const std::vector<uint32_t>> DocLengths::For(
    const Xapian::Database& part) {
  return TheCache().For(part);
}

size_t DocLengths::CachedParts() { return TheCache().size(); }

uint64_t DocLengths::Loads() { return TheCache().loads(); }

uint64_t DocLengths::Patches() { return TheCache().patches(); }

std::shared_ptr<const std::vector<uint32_t>> DocTimes::For(
    const Xapian::Database& part) {
  return TheTimeCache().For(part);
}

uint64_t DocTimes::Loads() { return TheTimeCache().loads(); }

uint64_t DocTimes::Patches() { return TheTimeCache().patches(); }

uint64_t DocTimes::Keys() { return time_keys.load(); }

std::string TimeKeyMaker::operator()(const Xapian::Document& doc) const {
  // The document's docid is its number in the part the match is in, whose
  // times the sources moved last recorded.
  const Xapian::docid did = doc.get_docid();
  const std::vector<uint32_t>* times = seen_ ? seen_->current_times : nullptr;
  if (times && did < times->size() && (*times)[did] != DocTimes::kNone) {
    time_keys.fetch_add(1, std::memory_order_relaxed);
    return Xapian::sortable_serialise((*times)[did]);
  }
  return doc.get_value(DocTimes::kSlot);
}

double Bm25TermWeight(double n, double tf, double k1) {
  double tw = (n - tf + 0.5) / (tf + 0.5);
  if (tw < 2) tw = tw * 0.5 + 1;
  return std::log(tw) * (k1 + 1);
}

uint64_t BlockMaxima::Made() { return TheBlockCache().made(); }

uint64_t BlockMaxima::Skipped() { return blocks_skipped.load(); }

uint64_t BlockMaxima::SpansSkipped() { return spans_skipped.load(); }

uint64_t BlockMaxima::DocsSkipped() { return docs_skipped.load(); }

Xapian::doccount BlockMaxima::MinPostings() {
  return min_block_postings.load(std::memory_order_relaxed);
}

void BlockMaxima::SetMinPostings(Xapian::doccount n) {
  min_block_postings.store(n);
}

std::atomic<Xapian::doccount> dense_min_postings{2048};

Xapian::doccount DenseTerms::MinPostings() {
  return dense_min_postings.load(std::memory_order_relaxed);
}

void DenseTerms::SetMinPostings(Xapian::doccount n) {
  dense_min_postings.store(n);
}

uint64_t DenseTerms::Made() { return dense_made.load(); }

Xapian::doccount ListTerms::MinPostings() {
  return list_min_postings.load(std::memory_order_relaxed);
}

void ListTerms::SetMinPostings(Xapian::doccount n) {
  list_min_postings.store(n);
}

uint64_t ListTerms::Made() { return lists_made.load(); }

bool ListTerms::Likely(Xapian::doccount tf, size_t parts) {
  const Xapian::doccount each =
      tf / static_cast<Xapian::doccount>(std::max<size_t>(parts, 1));
  return each > 0 && each >= MinPostings() &&
         TheListCache().bytes() + size_t{tf} * ListPostings::kPostingBytes <=
             TheListCache().max_bytes();
}

uint64_t ListTerms::Refused() { return TheListCache().refused(); }

size_t ListTerms::Bytes() { return TheListCache().bytes(); }

void ListTerms::SetMaxBytes(size_t n) { TheListCache().set_max_bytes(n); }

void ListTerms::SetIdle(std::chrono::milliseconds idle) {
  TheListCache().set_idle(idle);
  TheDenseCache().set_idle(idle);
}

uint64_t UsableMemory() {
  uint64_t usable = 0;
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0) {
    usable = static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
  }
  auto lower = [&usable](const std::string& file) {
    std::ifstream in(file);
    uint64_t limit = 0;  // "max" (v2) reads as none
    if (in >> limit && limit > 0 && (usable == 0 || limit < usable)) {
      usable = limit;
    }
  };
  // "ID:CONTROLLERS:PATH" lines: v2's is "0::PATH", v1's memory controller
  // one of a comma-separated list.
  std::ifstream cgroups("/proc/self/cgroup");
  std::string line;
  while (std::getline(cgroups, line)) {
    const size_t a = line.find(':');
    const size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    const std::string controllers = "," + line.substr(a + 1, b - a - 1) + ",";
    std::string root, file;
    if (controllers == ",,") {
      root = "/sys/fs/cgroup";
      file = "memory.max";
    } else if (controllers.find(",memory,") != std::string::npos) {
      root = "/sys/fs/cgroup/memory";
      file = "memory.limit_in_bytes";
    } else {
      continue;
    }
    // The process's cgroup and each one above it (a missing directory, as
    // where only a namespace's own root is mounted, sets nothing).
    for (std::string path = line.substr(b + 1);;) {
      lower(root + path + "/" + file);
      const size_t slash = path.rfind('/');
      if (slash == std::string::npos || path.empty() || path == "/") break;
      path.resize(slash);
    }
  }
  return usable;
}

size_t DefaultPostingsMemory() {
  static const size_t bytes = [] {
    const uint64_t usable = UsableMemory();
    constexpr uint64_t kLeast = uint64_t{512} << 20;
    constexpr uint64_t kMost = uint64_t{8} << 30;
    if (usable == 0) return static_cast<size_t>(kLeast);
    // (At least 512 MB, or a quarter of a machine or container under 2 GB.)
    return static_cast<size_t>(
        std::clamp(usable / 8, std::min(kLeast, usable / 4), kMost));
  }();
  return bytes;
}

uint64_t DenseTerms::Refused() { return TheDenseCache().refused(); }

size_t DenseTerms::Bytes() { return TheDenseCache().bytes(); }

void DenseTerms::SetMaxBytes(size_t n) { TheDenseCache().set_max_bytes(n); }

void SetPostingsMemory(size_t bytes) {
  DenseTerms::SetMaxBytes(DenseShare(bytes));
  ListTerms::SetMaxBytes(ListShare(bytes));
}

Xapian::Query AllTermsQuery(const std::vector<std::string>& terms) {
  std::vector<std::string> unique = terms;
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  return Xapian::Query((new AllTermsSource(std::move(unique)))->release());
}

Xapian::Registry AllTermsRegistry() {
  Xapian::Registry registry;
  registry.register_posting_source(AllTermsSource({}));
  return registry;
}

Xapian::Query Bm25TermQuery(const Xapian::Database& db,
                            const std::string& term, const Bm25Params& p,
                            std::shared_ptr<MatchSeen> seen,
                            const TermFreqFn& termfreq) {
  TermStats main = StatsOf(db, term, p, termfreq);
  if (main.termweight == 0) return Xapian::Query(term);  // matches nothing
  return Xapian::Query(
      (new Bm25Source(std::move(main), TermStats{}, 0, TermStats{}, 0,
                      LengthFactor(db), p, std::move(seen)))
          ->release());
}

Xapian::Query Bm25WordsQuery(const Xapian::Database& db,
                             const std::vector<WordTerms>& words,
                             const Bm25Params& p,
                             const std::shared_ptr<MatchSeen>& seen,
                             const TermFreqFn& termfreq) {
  std::vector<std::unique_ptr<Bm25Source>> sources;
  // A word in no document is its stem term, which matches nothing, ANDed
  // with the others.
  std::vector<Xapian::Query> each;
  const double len_factor = LengthFactor(db);
  for (const WordTerms& w : words) {
    TermStats main = StatsOf(db, w.stem, p, termfreq);
    if (main.termweight == 0) {
      each.emplace_back(w.stem);
      continue;
    }
    sources.emplace_back(new Bm25Source(
        std::move(main), StatsOf(db, w.exact, p, termfreq), w.exact_scale,
        StatsOf(db, w.title, p, termfreq), w.title_scale, len_factor, p, seen));
  }
  if (sources.size() == 1) {
    each.emplace_back(sources[0].release()->release());
  } else if (sources.size() > 1) {
    each.emplace_back(
        (new Bm25AndSource(std::move(sources), p.unscaled))->release());
  }
  if (each.size() == 1) return each[0];
  return Xapian::Query(Xapian::Query::OP_AND, each.begin(), each.end());
}

Xapian::Query Bm25WordQuery(const Xapian::Database& db, const WordTerms& w,
                            const Bm25Params& p,
                            std::shared_ptr<MatchSeen> seen,
                            const TermFreqFn& termfreq) {
  return Bm25WordsQuery(db, {w}, p, seen, termfreq);
}

}  // namespace threadsearch
