#include "searcher/proximity.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

namespace threadsearch {

namespace {

using PosList = std::vector<Xapian::termpos>;

bool Has(const PosList& v, Xapian::termpos p) {
  return std::binary_search(v.begin(), v.end(), p);
}

// Whether some position of `a` is directly followed by one of `b`.
bool Adjacent(const PosList& a, const PosList& b) {
  size_t j = 0;
  for (Xapian::termpos p : a) {
    while (j < b.size() && b[j] <= p) ++j;
    if (j == b.size()) return false;
    if (b[j] == p + 1) return true;
  }
  return false;
}

// Whether every term has its own position (a repeated term needs as many)
// inside one span of fewer than `window` positions.
bool Near(const std::vector<const PosList*>& positions,
          Xapian::termpos window) {
  // Distinct position lists and how many positions each must supply.
  std::vector<const PosList*> lists;
  std::vector<size_t> need;
  for (const PosList* p : positions) {
    // A repeated term has the same list; different terms never share one.
    size_t i = 0;
    while (i < lists.size() && lists[i] != p && *lists[i] != *p) ++i;
    if (i == lists.size()) {
      lists.push_back(p);
      need.push_back(0);
    }
    ++need[i];
  }
  std::vector<std::pair<Xapian::termpos, size_t>> all;
  for (size_t i = 0; i < lists.size(); ++i) {
    if (lists[i]->size() < need[i]) return false;
    for (Xapian::termpos p : *lists[i]) all.emplace_back(p, i);
  }
  std::sort(all.begin(), all.end());
  std::vector<size_t> have(lists.size(), 0);
  size_t missing = lists.size();
  size_t lo = 0;
  for (size_t hi = 0; hi < all.size(); ++hi) {
    if (++have[all[hi].second] == need[all[hi].second]) --missing;
    while (all[hi].first - all[lo].first >= window) {
      if (have[all[lo].second]-- == need[all[lo].second]) ++missing;
      ++lo;
    }
    if (missing == 0) return true;
  }
  return false;
}

PosList PositionsOf(const Xapian::Database& db, Xapian::docid did,
                    const std::string& term) {
  PosList v;
  for (auto p = db.positionlist_begin(did, term);
       p != db.positionlist_end(did, term); ++p) {
    v.push_back(*p);
  }
  return v;
}

// MatchProximity on the terms' lists. `whole`: whether to test the parts
// that need every term (the phrase and the window); false: neither holds.
ProximityParts MatchParts(const std::vector<const PosList*>& positions,
                          const std::vector<bool>* known, bool whole) {
  ProximityParts parts;
  const size_t n = positions.size();
  if (n < 2) return parts;
  auto is_known = [&](size_t k) { return !known || (*known)[k]; };
  // The phrase, anchored on the first term whose positions are known.
  size_t a = 0;
  while (a < n && !is_known(a)) ++a;
  parts.phrase = whole && a == n;
  for (size_t i = 0; whole && a < n && i < positions[a]->size(); ++i) {
    const Xapian::termpos p = (*positions[a])[i];
    size_t k = a + 1;
    while (k < n && (!is_known(k) ||
                     Has(*positions[k],
                         p + static_cast<Xapian::termpos>(k - a)))) {
      ++k;
    }
    if (k == n) {
      parts.phrase = true;
      break;
    }
  }
  const auto window = static_cast<Xapian::termpos>(2 * n);
  if (parts.phrase || !whole) {
    parts.near = parts.phrase;
  } else if (!known) {
    parts.near = Near(positions, window);
  } else {
    std::vector<const PosList*> some;
    for (size_t k = 0; k < n; ++k) {
      if (is_known(k)) some.push_back(positions[k]);
    }
    parts.near = Near(some, window);
  }
  if (n > 2) {
    for (size_t i = 0; i + 1 < n; ++i) {
      parts.pairs.push_back(parts.phrase || !is_known(i) ||
                            !is_known(i + 1) ||
                            Adjacent(*positions[i], *positions[i + 1]));
    }
  }
  return parts;
}

}  // namespace

ProximityParts MatchProximity(const std::vector<PosList>& positions,
                              const std::vector<bool>* known) {
  std::vector<const PosList*> lists;
  for (const PosList& p : positions) lists.push_back(&p);
  return MatchParts(lists, known, /*whole=*/true);
}

ProximityScorer::ProximityScorer(const Xapian::Database& db,
                                 std::vector<std::string> terms,
                                 const ProximityOptions& opts,
                                 const TermFreqFn& termfreq)
    : db_(db), terms_(std::move(terms)), opts_(opts) {
  if (!Boosts(terms_, opts_)) return;
  for (const std::string& t : terms_) {
    auto it = std::find(distinct_.begin(), distinct_.end(), t);
    slot_.push_back(static_cast<size_t>(it - distinct_.begin()));
    if (it == distinct_.end()) distinct_.push_back(t);
  }
  // Xapian::BM25Weight::init (1.4, no relevance set, k3's factor 1 for a
  // leaf of wqf 1): the same statistics Xapian's match used.
  const double n = db_.get_doccount();
  for (const std::string& t : distinct_) {
    const double tf = termfreq ? termfreq(t) : db_.get_termfreq(t);
    termweight_.push_back(Bm25TermWeight(n, tf, opts_.k1));
  }
  const double avlen = db_.get_avlength();
  len_factor_ = avlen != 0 ? 1 / avlen : 0;
  active_ = true;
}

template <typename Length>
double ProximityScorer::Score(
    const std::vector<std::vector<Xapian::termpos>>& distinct_pos,
    Length length) const {
  std::vector<const PosList*> positions;
  positions.reserve(terms_.size());
  for (size_t s : slot_) positions.push_back(&distinct_pos[s]);
  const ProximityParts parts = MatchParts(positions, nullptr, /*whole=*/true);
  const bool any =
      parts.phrase || parts.near ||
      std::find(parts.pairs.begin(), parts.pairs.end(), true) !=
          parts.pairs.end();
  if (!any) return 0;
  // Xapian::BM25Weight::get_sumpart, the wdf being the position count.
  const double normlen =
      std::max(length() * len_factor_, opts_.min_normlen);
  const double denom_base = opts_.k1 * (normlen * opts_.b + (1 - opts_.b));
  auto sumpart = [&](size_t k) {
    const double wdf = static_cast<double>(positions[k]->size());
    return termweight_[slot_[k]] * (wdf / (denom_base + wdf));
  };
  double all = 0;
  for (size_t k = 0; k < terms_.size(); ++k) all += sumpart(k);
  double boost = 0;
  if (parts.phrase) boost += all;
  if (parts.near) boost += all;
  for (size_t i = 0; i < parts.pairs.size(); ++i) {
    if (parts.pairs[i]) boost += sumpart(i) + sumpart(i + 1);
  }
  return boost * opts_.weight;
}

DocPositions ReadDocPositions(const Xapian::Database& db, Xapian::docid did,
                              const std::vector<std::string>& terms) {
  DocPositions d;
  d.positions.resize(terms.size());
  for (size_t i = 0; i < terms.size(); ++i) {
    d.positions[i] = PositionsOf(db, did, terms[i]);
  }
  d.length = db.get_doclength(did);
  return d;
}

double ProximityScorer::Boost(Xapian::docid did) const {
  if (!active_) return 0;
  std::vector<std::vector<Xapian::termpos>> distinct_pos(distinct_.size());
  for (size_t i = 0; i < distinct_.size(); ++i) {
    distinct_pos[i] = PositionsOf(db_, did, distinct_[i]);
    // A term the document lacks: only the pairs without it can hold.
    if (distinct_pos[i].empty() && terms_.size() <= 2) return 0;
  }
  return Score(distinct_pos, [&] { return db_.get_doclength(did); });
}

double ProximityScorer::Boost(Xapian::docid did, const BoundParts& b) const {
  if (!active_ || b.part.size() != terms_.size()) return Boost(did);
  std::vector<std::vector<Xapian::termpos>> distinct_pos(distinct_.size());
  for (size_t i = 0; i < distinct_.size(); ++i) {
    distinct_pos[i] = PositionsIn(did, i, &b);
    if (distinct_pos[i].empty() && terms_.size() <= 2) return 0;
  }
  return Score(distinct_pos, [&] { return LengthOf(did, b); });
}

std::vector<Xapian::termpos> ProximityScorer::PositionsIn(
    Xapian::docid did, size_t i, const BoundParts* parts) const {
  if (parts && parts->part.size() == terms_.size()) {
    // A term's positions are as many as its wdf, from which its part is
    // made: a part of 0 (with a term weight above 0) is a wdf of 0.
    bool lacks = termweight_[i] > 0;
    for (size_t k = 0; lacks && k < terms_.size(); ++k) {
      lacks = slot_[k] != i || parts->part[k] == 0;
    }
    if (lacks) return {};
  }
  return PositionsOf(db_, did, distinct_[i]);
}

std::vector<double> ProximityScorer::Bounds(
    const std::vector<Xapian::docid>& docs, const MatchSeen* seen,
    std::vector<BoundParts>* parts) const {
  std::vector<double> bounds(docs.size(), 0);
  if (parts) parts->assign(docs.size(), BoundParts{});
  if (!active_ || docs.empty()) return bounds;
  // The database's parts by uuid (Xapian 1.4 numbers the documents of n
  // parts in turn; the database's uuid is its parts' uuids joined by ':'),
  // for what the match saw of each; none when two parts share a uuid.
  std::vector<std::string> uuids;
  if (seen) {
    const std::string all = db_.get_uuid();
    std::set<std::string> distinct;
    for (size_t from = 0;;) {
      const size_t colon = all.find(':', from);
      uuids.push_back(all.substr(from, colon - from));
      if (!distinct.insert(uuids.back()).second) {
        uuids.clear();
        break;
      }
      if (colon == std::string::npos) break;
      from = colon + 1;
    }
  }
  const size_t nparts = uuids.size();
  std::vector<const std::vector<uint32_t>*> part_lengths(nparts, nullptr);
  for (size_t p = 0; p < nparts; ++p) {
    auto it = seen->lengths.find(uuids[p]);
    if (it != seen->lengths.end()) part_lengths[p] = it->second.get();
  }
  auto Length = [&](size_t k) -> double {
    const Xapian::docid did = docs[k];
    if (nparts > 0) {
      const std::vector<uint32_t>* v = part_lengths[(did - 1) % nparts];
      const size_t local = (did - 1) / nparts + 1;
      if (v && local < v->size()) return (*v)[local];
    }
    return db_.get_doclength(did);
  };
  std::vector<size_t> order(docs.size());
  for (size_t k = 0; k < docs.size(); ++k) order[k] = k;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return docs[a] < docs[b]; });
  // wdf[i][k]: the wdf of distinct term i in docs[k]: from the match's
  // record of the term in every part, else read along the term's postings
  // in docid order.
  std::vector<std::vector<Xapian::termcount>> wdf(
      distinct_.size(), std::vector<Xapian::termcount>(docs.size(), 0));
  for (size_t i = 0; i < distinct_.size(); ++i) {
    // Each part's list, sorted (a term given twice in the query is weighed
    // by two sources, whose entries interleave).
    // A part without a list weighed no document with the term: none of
    // its documents in the MSet has it.
    static const MatchSeen::Wdfs kNone;
    std::vector<const MatchSeen::Wdfs*> recorded(nparts, &kNone);
    std::vector<MatchSeen::Wdfs> sorted(nparts);
    const bool have = nparts > 0 && seen->wdf_terms.count(distinct_[i]) &&
                      !seen->overflowed.count(distinct_[i]);
    for (size_t p = 0; have && p < nparts; ++p) {
      auto part = seen->wdfs.find(uuids[p]);
      if (part == seen->wdfs.end()) continue;
      auto term = part->second.find(distinct_[i]);
      if (term == part->second.end()) continue;
      recorded[p] = &term->second;
      if (!std::is_sorted(term->second.begin(), term->second.end())) {
        MatchSeen::Wdfs& r = sorted[p];
        r = term->second;
        std::sort(r.begin(), r.end());
        r.erase(std::unique(r.begin(), r.end(),
                            [](const auto& a, const auto& b) {
                              return a.first == b.first;
                            }),
                r.end());
        recorded[p] = &r;
      }
    }
    if (have) {
      for (size_t k = 0; k < docs.size(); ++k) {
        const MatchSeen::Wdfs& r = *recorded[(docs[k] - 1) % nparts];
        const Xapian::docid local = (docs[k] - 1) / nparts + 1;
        auto at = std::lower_bound(
            r.begin(), r.end(), local,
            [](const auto& e, Xapian::docid d) { return e.first < d; });
        if (at != r.end() && at->first == local) wdf[i][k] = at->second;
      }
      continue;
    }
    Xapian::PostingIterator p = db_.postlist_begin(distinct_[i]);
    const Xapian::PostingIterator end = db_.postlist_end(distinct_[i]);
    for (size_t k : order) {
      if (p == end) break;
      p.skip_to(docs[k]);
      if (p != end && *p == docs[k]) wdf[i][k] = p.get_wdf();
    }
  }
  const size_t n = terms_.size();
  std::vector<double> part(n);
  for (size_t k : order) {
    bool all_terms = true;
    for (size_t j = 0; j < n; ++j) all_terms &= wdf[slot_[j]][k] > 0;
    bool any_pair = false;
    for (size_t j = 0; n > 2 && j + 1 < n; ++j) {
      any_pair |= wdf[slot_[j]][k] > 0 && wdf[slot_[j + 1]][k] > 0;
    }
    if (!all_terms && !any_pair) continue;  // no part can hold
    // Score's arithmetic with every part that the terms present allow.
    const double length = Length(k);
    const double normlen = std::max(length * len_factor_, opts_.min_normlen);
    const double denom_base = opts_.k1 * (normlen * opts_.b + (1 - opts_.b));
    for (size_t j = 0; j < n; ++j) {
      const double w = static_cast<double>(wdf[slot_[j]][k]);
      part[j] = termweight_[slot_[j]] * (w / (denom_base + w));
    }
    BoundParts b{part, all_terms, length};
    bounds[k] = BoundOf(b, all_terms, all_terms, nullptr);
    if (parts) (*parts)[k] = std::move(b);
  }
  return bounds;
}

double ProximityScorer::BoundOf(const BoundParts& b, bool phrase, bool near,
                                const std::vector<bool>* pairs) const {
  const size_t n = b.part.size();
  double all = 0;
  for (double p : b.part) all += p;
  double bound = (phrase ? all : 0) + (near ? all : 0);
  for (size_t j = 0; n > 2 && j + 1 < n; ++j) {
    if ((!pairs || (*pairs)[j]) && b.part[j] > 0 && b.part[j + 1] > 0) {
      bound += b.part[j] + b.part[j + 1];
    }
  }
  return bound * opts_.weight * (1 + 1e-9);
}

double ProximityScorer::PartialBound(
    const std::vector<std::vector<Xapian::termpos>>& distinct_pos,
    size_t read, const BoundParts& b) const {
  const size_t n = terms_.size();
  // Distinct terms are numbered in query order: the first is read first.
  std::vector<const PosList*> positions(n);
  std::vector<bool> known(n);
  for (size_t k = 0; k < n; ++k) {
    known[k] = slot_[k] < read;
    positions[k] = &distinct_pos[slot_[k]];  // empty when not read
  }
  // The phrase and the window need every term in the document, a pair
  // both of its terms.
  const ProximityParts parts = MatchParts(positions, &known, b.all_terms);
  // Bounds' arithmetic, less the parts ruled out.
  return BoundOf(b, parts.phrase, parts.near, &parts.pairs);
}

bool ProximityScorer::BoostIfReaches(Xapian::docid did, const BoundParts& b,
                                     double need, double* boost) const {
  *boost = 0;
  if (!active_ || b.part.size() != terms_.size()) return false;
  std::vector<std::vector<Xapian::termpos>> distinct_pos(distinct_.size());
  for (size_t i = 0; i < distinct_.size(); ++i) {
    distinct_pos[i] = PositionsIn(did, i, &b);
    if (i + 1 < distinct_.size() &&
        PartialBound(distinct_pos, i + 1, b) < need) {
      return false;
    }
  }
  *boost = Score(distinct_pos, [&] { return LengthOf(did, b); });
  return true;
}

double ProximityScorer::Boost(const DocPositions& doc) const {
  if (!active_ || doc.positions.size() != distinct_.size()) return 0;
  return Score(doc.positions, [&] { return doc.length; });
}

}  // namespace threadsearch
