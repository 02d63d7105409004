// The proximity part of relevance, scored after the match.
//
// A ranked query is matched and weighed by Xapian without it (BM25 over the
// words, plus the title signal), and then the best `rescore_window` results
// get their proximity boost here, from their position lists, and are ordered
// again. The boost is what Xapian would give OP_PHRASE / OP_NEAR parts
// scaled by the proximity weight: for each part the document satisfies, the
// BM25 weight of the part's terms in it.
//   - the query's plain words as an exact phrase;
//   - all of them within a window of 2n positions (any order);
//   - with three or more words, each adjacent pair as a phrase.
// Inside Xapian's match these parts cost most of a query's time: each one
// reads its terms' positions again, for every candidate in docid order,
// before the best candidates are known. Here each term's positions are read
// once per document and only for the documents that can reach the page;
// past the page's first documents, term by term, until the positions read
// rule the document out.
// Scores use collection-wide statistics only, so one database and any
// layout of shards score alike.
#ifndef THREADSEARCH_SEARCHER_PROXIMITY_H_
#define THREADSEARCH_SEARCHER_PROXIMITY_H_

#include <xapian.h>

#include "searcher/bm25_source.h"

#include <string>
#include <vector>

namespace threadsearch {

// Which proximity parts a document satisfies. `positions[k]` are the
// ascending positions of the query's k-th term (terms may repeat).
struct ProximityParts {
  bool phrase = false;       // all terms consecutive, in query order
  bool near = false;         // all terms within a window of 2n positions
  std::vector<bool> pairs;   // term i directly followed by term i+1 (n > 2)
};
// `known` (optional; REQUIRES: known->size() == positions.size()): whose
// positions are known; a part with a term not known holds where the known
// terms allow it (what a bound from some terms' positions needs).
ProximityParts MatchProximity(
    const std::vector<std::vector<Xapian::termpos>>& positions,
    const std::vector<bool>* known = nullptr);

// What the boost of one document is scored from: for each of a scorer's
// distinct terms (ProximityScorer::distinct_terms()), the document's
// ascending positions of it (empty when it lacks the term), and the
// document's length.
struct DocPositions {
  std::vector<std::vector<Xapian::termpos>> positions;
  Xapian::termcount length = 0;
};

// Reads document `did`'s positions of `terms` and its length from `db`.
// This is the read a remote shard's store server (server/shard_server.h)
// makes for a batch of documents. Throws Xapian::Error.
DocPositions ReadDocPositions(const Xapian::Database& db, Xapian::docid did,
                              const std::vector<std::string>& terms);

struct ProximityOptions {
  double weight = 1.0;  // factor on the boost; 0 turns it off
  double k1 = 1.2;      // Xapian::BM25Weight parameters
  double b = 0.75;
  double min_normlen = 0.5;
};

class ProximityScorer {
 public:
  // `terms`: the query's plain words' exact terms in query order (from
  // ProximityTerms). Reads the terms' collection statistics from `db`,
  // which must outlive the scorer, or from `termfreq` when given (the
  // match's MSet holds them for the query's terms, where the database costs
  // a round trip per term and remote shard).
  ProximityScorer(const Xapian::Database& db, std::vector<std::string> terms,
                  const ProximityOptions& opts,
                  const TermFreqFn& termfreq = nullptr);

  // Whether a scorer for `terms` would boost anything: false for fewer than
  // two terms or a weight of 0. Reads nothing; lets a caller skip making
  // a scorer (which reads statistics) that it would not use.
  static bool Boosts(const std::vector<std::string>& terms,
                     const ProximityOptions& opts) {
    return terms.size() >= 2 && opts.weight > 0;
  }

  // The terms positions are read for: each query term once.
  const std::vector<std::string>& distinct_terms() const { return distinct_; }

  // The boost of document `did` of the database, read from it (two reads
  // per term: a remote database makes a round trip for each). Throws
  // Xapian::Error.
  double Boost(Xapian::docid did) const;
  // The boost of a document from its positions and length read elsewhere,
  // e.g. in a batch from the server beside a remote shard.
  double Boost(const DocPositions& doc) const;
  // What a document's bound (Bounds) is made of.
  struct BoundParts {
    std::vector<double> part;  // per query term, its BM25 part (0: absent)
    bool all_terms = false;    // every query term is in the document
    double length = -1;        // the document's length (< 0: not known)
  };
  // Boost(did) for a document whose bound `parts` Bounds gave: the terms
  // it lacks (a part of 0) and its length are not read again.
  double Boost(Xapian::docid did, const BoundParts& parts) const;
  // For each of `docs`, a bound on Boost(did) that reads no positions: the
  // boost were every part the document's terms allow to hold, from each
  // term's wdf (its count of positions: the indexer gives every occurrence
  // a position and a wdf of 1) and the document's length. Throws
  // Xapian::Error.
  // `seen`: what the match read (Bm25TermQuery), when known: the lengths,
  // and the wdfs of its `wdf_terms`, instead of reading them again. Only
  // for documents of that match's MSet, and only when each of `wdf_terms`
  // is a leaf every match passes through with a weight above 0 (then the
  // match weighs every MSet document that has the term).
  // `parts` (optional): for each document, what its bound is made of
  // (BoostIfReaches takes it).
  std::vector<double> Bounds(const std::vector<Xapian::docid>& docs,
                             const MatchSeen* seen = nullptr,
                             std::vector<BoundParts>* parts = nullptr) const;
  // Boost(did) for a document that may reach `need`: its terms' positions
  // are read one term at a time, and once the parts still possible with
  // the positions read (`parts`, from Bounds, less those the positions rule
  // out) sum below `need`, it stops and returns false, *boost 0. Returns
  // true with the exact boost otherwise. Throws Xapian::Error.
  bool BoostIfReaches(Xapian::docid did, const BoundParts& parts,
                      double need, double* boost) const;

 private:
  const Xapian::Database& db_;
  std::vector<std::string> terms_;     // query order, repeats kept
  std::vector<std::string> distinct_;  // each term once
  std::vector<size_t> slot_;           // terms_[k] is distinct_[slot_[k]]
  std::vector<double> termweight_;     // per distinct term, BM25 idf part
  // Score's arithmetic over the parts of `b`, with the phrase and the
  // window each holding or not, and the pairs that `pairs` (one flag a
  // pair; null: all) lets hold where the document has both terms.
  double BoundOf(const BoundParts& b, bool phrase, bool near,
                 const std::vector<bool>* pairs) const;
  // The length of `did`: the one in `parts` when Bounds read it.
  double LengthOf(Xapian::docid did, const BoundParts& parts) const {
    return parts.length >= 0 ? parts.length : db_.get_doclength(did);
  }
  // The positions of distinct term `i` in `did`: none read when `parts`
  // (optional) says the document lacks it.
  std::vector<Xapian::termpos> PositionsIn(Xapian::docid did, size_t i,
                                           const BoundParts* parts) const;
  // The bound of a document of `parts` with the positions of its first
  // `read` distinct terms known (`distinct_pos`).
  double PartialBound(
      const std::vector<std::vector<Xapian::termpos>>& distinct_pos,
      size_t read, const BoundParts& parts) const;
  // The boost from the positions of each distinct term; `length` is called
  // only when some part holds.
  template <typename Length>
  double Score(const std::vector<std::vector<Xapian::termpos>>& distinct_pos,
               Length length) const;
  ProximityOptions opts_;
  double len_factor_ = 0;  // 1 / average document length
  bool active_ = false;
};

}  // namespace threadsearch

#endif  // THREADSEARCH_SEARCHER_PROXIMITY_H_
