#include "searcher/bm25_source.h"

#include <algorithm>
#include <cmath>
#include <list>
#include <mutex>
#include <unordered_set>
#include <utility>

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

struct Entry {
  PartKey key;
  std::shared_ptr<const std::vector<uint32_t>> lengths;
};

class Cache {
 public:
  std::shared_ptr<const std::vector<uint32_t>> For(
      const Xapian::Database& part) {
    PartKey key;
    try {
      key = {part.get_uuid(), part.get_revision(), part.get_doccount(),
             part.get_lastdocid(), part.get_total_length()};
    } catch (const Xapian::Error&) {
      return nullptr;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->key == key) {
          entries_.splice(entries_.begin(), entries_, it);  // most recent
          return it->lengths;
        }
      }
      // A part whose docids are mostly holes would cost more memory than
      // it saves time: Xapian reads its lengths.
      if (key.last / 8 > key.docs + (1u << 16)) return nullptr;
      if (!loading_.insert(key.uuid).second) return nullptr;
    }
    std::shared_ptr<std::vector<uint32_t>> lengths;
    try {
      auto v = std::make_shared<std::vector<uint32_t>>(key.last + 1, 0);
      for (Xapian::PostingIterator it = part.postlist_begin("");
           it != part.postlist_end(""); ++it) {
        const Xapian::docid did = *it;
        if (did >= v->size()) {
          v.reset();  // the part is not the one the key describes
          break;
        }
        const Xapian::termcount len = it.get_doclength();
        (*v)[did] = static_cast<uint32_t>(
            std::min<Xapian::termcount>(len, UINT32_MAX));
      }
      lengths = std::move(v);
    } catch (const Xapian::Error&) {
      lengths.reset();
    }
    std::lock_guard<std::mutex> lock(mu_);
    loading_.erase(key.uuid);
    ++loads_;
    if (!lengths) return nullptr;
    // Two revisions of a part stay: searchers refresh one by one.
    size_t same = 0;
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->key.uuid == key.uuid && ++same >= 2) {
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
    entries_.push_front(Entry{key, lengths});
    while (entries_.size() > kMaxEntries) entries_.pop_back();
    return lengths;
  }

  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_.size();
  }
  uint64_t loads() {
    std::lock_guard<std::mutex> lock(mu_);
    return loads_;
  }

 private:
  // Parts of every collection a process serves, two revisions each; a
  // compacted part is a new database (a new uuid), so old ones age out.
  static constexpr size_t kMaxEntries = 128;
  std::mutex mu_;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_set<std::string> loading_;  // uuids
  uint64_t loads_ = 0;
};

Cache& TheCache() {
  static Cache* cache = new Cache;  // never destroyed: used until exit
  return *cache;
}

// Xapian::BM25Weight (1.4) for one term of query frequency 1 and no
// relevance set; see searcher/proximity.cc for the same statistics.
class Bm25Source : public Xapian::PostingSource {
 public:
  Bm25Source(std::string term, double termweight, double len_factor,
             const Bm25Params& p, std::shared_ptr<MatchSeen> seen)
      : term_(std::move(term)),
        termweight_(termweight),
        len_factor_(len_factor),
        p_(p),
        seen_(std::move(seen)) {}

  Xapian::doccount get_termfreq_min() const override { return part_freq_; }
  Xapian::doccount get_termfreq_est() const override { return part_freq_; }
  Xapian::doccount get_termfreq_max() const override { return part_freq_; }

  void init(const Xapian::Database& part) override {
    part_ = part;
    lengths_ = DocLengths::For(part);
    recording_ = nullptr;
    record_ = false;
    if (seen_) {
      uuid_ = part.get_uuid();
      if (lengths_) seen_->lengths[uuid_] = lengths_;
      record_ = seen_->wdf_terms.count(term_) > 0;
    }
    it_ = part.postlist_begin(term_);
    end_ = part.postlist_end(term_);
    started_ = false;
    part_freq_ = part.get_termfreq(term_);
    // The largest weight any posting here can have: the most frequent
    // occurrence in the shortest document (Xapian prunes with it).
    const double wdf = part.get_wdf_upper_bound(term_);
    const double normlen = std::max(
        part.get_doclength_lower_bound() * len_factor_, p_.min_normlen);
    set_maxweight(wdf == 0 ? 0 : Weight(wdf, normlen) * (1 + 1e-9));
  }

  void next(double) override {
    if (started_) {
      ++it_;
    } else {
      started_ = true;
    }
  }
  void skip_to(Xapian::docid did, double) override {
    started_ = true;
    it_.skip_to(did);
  }
  bool at_end() const override { return it_ == end_; }
  Xapian::docid get_docid() const override { return *it_; }

  double get_weight() const override {
    const Xapian::docid did = *it_;
    const Xapian::termcount wdf = it_.get_wdf();
    if (record_) Record(did, wdf);
    const double len = lengths_ && did < lengths_->size()
                           ? (*lengths_)[did]
                           : part_.get_doclength(did);
    return Weight(wdf, std::max(len * len_factor_, p_.min_normlen));
  }

  PostingSource* clone() const override {
    return new Bm25Source(term_, termweight_, len_factor_, p_, seen_);
  }
  std::string get_description() const override {
    return "Bm25Source(" + term_ + ")";
  }

 private:
  double Weight(double wdf, double normlen) const {
    const double denom = p_.k1 * (normlen * p_.b + (1 - p_.b)) + wdf;
    return termweight_ * (wdf / denom);
  }

  const std::string term_;
  const double termweight_;
  const double len_factor_;
  const Bm25Params p_;
  // Adds (did, wdf) to this term's list in `seen_`, made on first use.
  void Record(Xapian::docid did, Xapian::termcount wdf) const {
    if (recording_ == nullptr) recording_ = &seen_->wdfs[uuid_][term_];
    if (!recording_->empty() && recording_->back().first == did) return;
    if (recording_->size() >= MatchSeen::kMaxWdfs) {
      seen_->overflowed.insert(term_);
      record_ = false;
      return;
    }
    recording_->emplace_back(did, wdf);
  }

  const std::shared_ptr<MatchSeen> seen_;
  std::string uuid_;                              // the part's
  mutable bool record_ = false;                   // this term is wanted
  mutable MatchSeen::Wdfs* recording_ = nullptr;  // its list in `seen_`
  Xapian::Database part_;
  std::shared_ptr<const std::vector<uint32_t>> lengths_;
  Xapian::PostingIterator it_, end_;
  bool started_ = false;
  Xapian::doccount part_freq_ = 0;
};

}  // namespace

std::shared_ptr<const std::vector<uint32_t>> DocLengths::For(
    const Xapian::Database& part) {
  return TheCache().For(part);
}

size_t DocLengths::CachedParts() { return TheCache().size(); }

uint64_t DocLengths::Loads() { return TheCache().loads(); }

Xapian::Query Bm25TermQuery(const Xapian::Database& db,
                            const std::string& term, const Bm25Params& p,
                            std::shared_ptr<MatchSeen> seen) {
  const double n = db.get_doccount();
  const Xapian::doccount tf = db.get_termfreq(term);
  if (tf == 0 || n == 0) return Xapian::Query(term);  // matches nothing
  double tw = (n - tf + 0.5) / (tf + 0.5);
  if (tw < 2) tw = tw * 0.5 + 1;
  const double termweight = std::log(tw) * (p.k1 + 1);
  const double avlen = static_cast<double>(db.get_total_length()) / n;
  const double len_factor = avlen != 0 ? 1 / avlen : 0;
  return Xapian::Query(
      (new Bm25Source(term, termweight, len_factor, p, std::move(seen)))
          ->release());
}

}  // namespace threadsearch
