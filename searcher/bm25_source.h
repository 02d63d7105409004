// BM25 without a document-length lookup per match.
//
// Xapian's BM25Weight needs each matching document's length, which glass
// reads from one list of every document's length: a word in 2% of the
// documents makes the match decode nearly all of that list, so a one-word
// query costs time in proportion to the whole index, not to the word's
// postings (on 1M synthetic HN items, 3.7 ms of a 4.1 ms match; 0.5 ms to
// count the same matches without weights).
//
// Bm25TermQuery is a drop-in for Xapian::Query(term) under
// Xapian::BM25Weight(k1, 0, 1, b, min_normlen): a Xapian::PostingSource that
// walks the term's postings and computes the same weight, reading lengths
// from DocLengths, an in-memory copy of each index part's length list
// shared by every searcher of the process (4 bytes a document). Its weights
// equal BM25Weight's to the last few bits (the tests compare whole result
// lists with and without it) for a leaf of query frequency 1, as
// Xapian::Query(term) is (a term given twice is two such leaves).
//
// Local databases only: xapian-tcpsrv cannot run our PostingSource.
#ifndef THREADSEARCH_SEARCHER_BM25_SOURCE_H_
#define THREADSEARCH_SEARCHER_BM25_SOURCE_H_

#include <xapian.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace threadsearch {

struct Bm25Params {
  double k1 = 1.2;
  double b = 0.75;
  double min_normlen = 0.5;
  // The query scales the term's weight by at most 1 (no OP_SCALE_WEIGHT
  // above it, or one by a factor in [0, 1]). Then the source may skip the
  // postings that cannot reach the weight the match asks for, using each
  // block's largest weight (BlockMaxima) and each posting's weight in a
  // document as short as it may be; a factor above 1 would make that skip
  // documents that could.
  bool unscaled = false;
};

// Xapian::BM25Weight's term weight (1.4, no relevance set, k3's factor 1
// for a leaf of wqf 1) for a term in `tf` of `n` documents: what each of
// its postings' tf parts is multiplied by.
double Bm25TermWeight(double n, double tf, double k1);

// Block maxima: a Bm25Source with Bm25Params::unscaled, of a term in at
// least MinPostings() documents of a part, weighs each block of 128 of its
// postings there once (on the first query that uses it; kept while the
// part's DocLengths are, at most kMaxBytes in all, least recently used
// dropped) and skips the blocks whose largest weight is below what the
// match asks of it (the "block-max" of block-max WAND; Xapian passes each
// posting list the weight it must reach for a document to make the
// results). Thread-safe.
class BlockMaxima {
 public:
  static constexpr size_t kMaxBytes = 64u << 20;
  // 2048 unless set (tests set it lower, to skip in a small index).
  static Xapian::doccount MinPostings();
  static void SetMinPostings(Xapian::doccount n);
  // Tables made, and blocks sources skipped, so far (for tests).
  static uint64_t Made();
  static uint64_t Skipped();
  // Spans of documents an AND of words (Bm25WordsQuery) skipped so far
  // because its words' block maxima together fell short (for tests).
  static uint64_t SpansSkipped();
  // Documents skipped so far because their postings weigh too little even
  // in the shortest document (no length read), by a source or an AND of
  // words (for tests and benchmarks).
  static uint64_t DocsSkipped();
};

// The memory this process may use: the machine's, or the lowest limit of
// its cgroup and those above it (v2 memory.max, v1 memory.limit_in_bytes)
// when lower; 0 when unknown.
uint64_t UsableMemory();

// The room for postings held in memory, a third for DenseTerms and the
// rest for ListTerms (SetPostingsMemory), unless set (serve
// --postings-memory): an eighth of UsableMemory(), at least 512 MB (or a
// quarter, when less) and at most 8 GB. It is taken only as queries ask
// for words, and gives way to the Xapian lists past it.
size_t DefaultPostingsMemory();

// Gives DenseTerms a third of `bytes` and ListTerms the rest: a listed
// posting costs 6 bytes, and the dense words are few (on 10M synthetic HN
// items, the known-item set's wanted about 0.75 GB dense and 1.8 GB
// listed, the topical set's 28 MB and 0.8 GB).
void SetPostingsMemory(size_t bytes);

// Dense terms: a Bm25Source of a term in at least MinPostings() documents
// and at least one in kDensity of its part's docids reads the term's
// postings there from an array of a byte a document (made on the first
// query that uses it, in one pass over the list; kept while the part's
// DocLengths are; at most a third of DefaultPostingsMemory() in all unless
// set, the terms first asked for
// keep theirs, unless no query asked for them for a minute and a new one
// wants the room, and those past the limit read Xapian's lists) rather
// than from Xapian's list, whose every skip_to decodes from the start of a
// chunk. The words in most documents ("the", "to") then cost an
// AND almost nothing but the lookups at the documents the other words
// leave. Thread-safe.
class DenseTerms {
 public:
  static constexpr uint64_t kDensity = 8;
  // 2048 unless set (tests set it lower).
  static Xapian::doccount MinPostings();
  static void SetMinPostings(Xapian::doccount n);
  static uint64_t Made();  // arrays made so far (for tests)
  // Arrays not made so far, for want of room (for tests and benchmarks).
  static uint64_t Refused();
  static size_t Bytes();              // what the arrays kept cost now
  // A third of DefaultPostingsMemory() unless set (SetPostingsMemory,
  // tests).
  static void SetMaxBytes(size_t n);
  // Whether a term in `tf` of a database's `docs` documents is likely to
  // be dense in its parts.
  static bool Likely(Xapian::doccount tf, Xapian::doccount docs) {
    return tf >= MinPostings() && uint64_t{tf} * kDensity >= docs;
  }
};

// Listed terms: a Bm25Source (or AllTermsQuery) of a term in at least
// MinPostings() documents of a part (and in one at least) that is not dense
// there (or whose dense array found no room) reads its postings there from
// three arrays in memory, its docids, their wdfs and their documents'
// lengths up to 255 (6 bytes a posting; made
// on the first query that uses it, in one pass over the list and one over
// the part's lengths; kept while
// the part's DocLengths are, so an older revision's lists keep their room
// until it is dropped; about two thirds of DefaultPostingsMemory() in all
// unless set, as counted before a list is made: the terms first asked for keep
// theirs, unless no query asked for them for a minute and a new one wants the
// room), rather than from Xapian's list, which decodes each posting a step or a
// skip passes through several calls. Thread-safe.
class ListTerms {
 public:
  // 2048 unless set (tests set it lower; UINT32_MAX: none).
  static Xapian::doccount MinPostings();
  static void SetMinPostings(Xapian::doccount n);
  static uint64_t Made();     // lists made so far (for tests)
  static uint64_t Refused();  // lists not made for want of room so far
  static size_t Bytes();      // what the lists kept cost now
  // Two thirds of DefaultPostingsMemory() unless set (SetPostingsMemory,
  // tests).
  static void SetMaxBytes(size_t n);
  // Whether a term in `tf` documents of a database of `parts` parts is
  // likely to be listed in them: in MinPostings() of each, with room left.
  static bool Likely(Xapian::doccount tf, size_t parts);
  // How long the lists and dense arrays no query asked for keep their room
  // when a new one finds none (60 s unless set: tests).
  static void SetIdle(std::chrono::milliseconds idle);
};

// Each index part's document lengths by docid, for the part's current
// revision. Loaded on first use (about 0.1 s of CPU a million documents),
// again after the part changes: patched from the earlier revision's when
// the commits recorded what they changed (a live writer's, as `follow`
// makes them: its new documents and the changed ones read again), else
// read whole. While one thread loads a part, others asking for it get
// nullptr and read lengths from Xapian. Thread-safe.
class DocLengths {
 public:
  // The lengths of `part` (a single database, as PostingSource::init gets
  // it), or nullptr: being loaded elsewhere, or unreadable.
  static std::shared_ptr<const std::vector<uint32_t>> For(
      const Xapian::Database& part);
  // Parts cached, whole loads done and earlier revisions' arrays patched
  // so far (for tests).
  static size_t CachedParts();
  static uint64_t Loads();
  static uint64_t Patches();
};

// Each index part's item times (value slot kSlot, schema::kValueTime) by
// docid, as whole seconds, for the part's current revision: what a match
// sorted by relevance, then time, reads for every document that enters its
// results, where Xapian decodes the slot's value stream from the start of
// its chunk each time. Loaded and kept as DocLengths are; none (nullptr)
// for a part with a time that is not a whole number of seconds in
// [0, kNone). The values are taken to be sortable_serialise's own (as the
// indexer writes them): another encoding of the same number would sort
// otherwise in Xapian than its key from here. Thread-safe.
class DocTimes {
 public:
  static constexpr Xapian::valueno kSlot = 0;
  static constexpr uint32_t kNone = UINT32_MAX;  // the document has no time
  static std::shared_ptr<const std::vector<uint32_t>> For(
      const Xapian::Database& part);
  static uint64_t Loads();    // for tests
  static uint64_t Patches();  // for tests
  // Sort keys TimeKeyMaker made from memory so far (for tests).
  static uint64_t Keys();
};

// What a match's Bm25Sources saw, for readers after it (the proximity
// bounds), by their part's uuid: the length list each read, and for the
// terms in `wdf_terms`, the wdf of each document the source weighed, as
// (docid in the part, wdf) in the order weighed. Xapian weighs every
// document of the MSet with each term it has, so a document of the MSet
// missing from a term's list lacks the term.
struct MatchSeen {
  // A term's list is kept only from its first weighing (a leaf Xapian never
  // weighs, as under AND_NOT or scaled by 0, leaves none) and up to
  // kMaxWdfs entries a part; past that the term is `overflowed`.
  static constexpr size_t kMaxWdfs = 1u << 18;
  std::unordered_set<std::string> wdf_terms;
  std::unordered_set<std::string> overflowed;
  std::unordered_map<std::string, std::shared_ptr<const std::vector<uint32_t>>>
      lengths;
  // With `want_times`, each source reads its part's DocTimes, and whenever
  // it moves, sets `current_times` to them (null when the part has none):
  // Xapian matches one part after another, so they are the current part's
  // (the times stay alive in the sources while the match runs).
  bool want_times = false;
  const std::vector<uint32_t>* current_times = nullptr;
  using Wdfs = std::vector<std::pair<Xapian::docid, Xapian::termcount>>;
  std::unordered_map<std::string, std::unordered_map<std::string, Wdfs>> wdfs;
};

// The sort key of a document's time, as Xapian's sort by value slot
// DocTimes::kSlot makes it (the value itself): from the DocTimes of the part
// the match is in (MatchSeen::current_times, which the match's sources set
// when `seen` wants times), else from the document's value. Xapian hands a
// KeyMaker the document by its number in that part. For one Enquire whose
// query's weighted terms are sources recording in `seen`, in one thread.
class TimeKeyMaker : public Xapian::KeyMaker {
 public:
  explicit TimeKeyMaker(std::shared_ptr<MatchSeen> seen)
      : seen_(std::move(seen)) {}
  std::string operator()(const Xapian::Document& doc) const override;

 private:
  std::shared_ptr<MatchSeen> seen_;
};

// A term's frequency in the database the Enquire runs on, from somewhere
// cheaper than its index when given (a Searcher remembers them). Those
// taking one call it only during the call, and keep no copy.
using TermFreqFn = std::function<Xapian::doccount(const std::string&)>;

// The weighted query for `term` in `db` (the whole database the Enquire
// runs on: its statistics are the ones BM25 uses). With `seen`, each part's
// source records there what it reads (see MatchSeen). `termfreq`
// (optional) answers for db.get_termfreq.
Xapian::Query Bm25TermQuery(const Xapian::Database& db,
                            const std::string& term, const Bm25Params& p,
                            std::shared_ptr<MatchSeen> seen = nullptr,
                            const TermFreqFn& termfreq = nullptr);

// The documents that have every one of `terms`, unweighted: what
// Xapian::Query(OP_AND, terms) matches, for a count. One PostingSource,
// whose rarest term's postings drive in each part and whose other terms
// are looked up at them: in memory where they are dense (DenseTerms; a
// word in most documents costs a lookup a candidate), else by moving their
// lists on. Local databases only. It serialises; a query holding it
// unserialises with AllTermsRegistry().
Xapian::Query AllTermsQuery(const std::vector<std::string>& terms);

// A Registry that knows AllTermsQuery's source (a new one each call:
// Xapian's registries are not to be shared between threads).
Xapian::Registry AllTermsRegistry();

// A word with a stem, as the query weighs it: its stem term, plus
// `exact_scale` times its exact term and `title_scale` times its title
// term (each optional: empty, or a scale of 0).
struct WordTerms {
  std::string stem, exact, title;
  double exact_scale = 0, title_scale = 0;
};

// The weighted query of a word with a stem: Bm25TermQuery(w.stem) plus the
// scaled Bm25TermQuery of its exact and title terms, matching the stem
// term's documents: what AND_MAYBE(stem, SCALE_WEIGHT(exact, scale)) weighs
// when every document with the exact term has the stem term (the
// indexer's STEM_SOME), and the title term's share of the title boost's
// AND_MAYBE. One PostingSource, which reads the exact and title terms'
// postings only at the documents the match weighs: under an AND that is
// the few that match the whole query, where AND_MAYBE moved them with every
// step of the stem's; and whose block maxima hold the whole weight. With
// `seen`, the stem and exact terms are recorded as Bm25TermQuery records.
Xapian::Query Bm25WordQuery(const Xapian::Database& db, const WordTerms& w,
                            const Bm25Params& p,
                            std::shared_ptr<MatchSeen> seen = nullptr,
                            const TermFreqFn& termfreq = nullptr);

// The AND of `words`' Bm25WordQuery: the same matches and weights, in one
// PostingSource that moves the words' sources itself (the rarest word's
// drives) rather than through Xapian's AND and the list Xapian wraps each
// source in (on 3M synthetic HN items, "issue cloud": 54M instructions a
// query before, 52M after; the topical set's p50 5% lower), and that also
// skips the documents whose words' block maxima together fall below what
// the match asks. REQUIRES: `words` not empty.
Xapian::Query Bm25WordsQuery(const Xapian::Database& db,
                             const std::vector<WordTerms>& words,
                             const Bm25Params& p,
                             const std::shared_ptr<MatchSeen>& seen = nullptr,
                             const TermFreqFn& termfreq = nullptr);

}  // namespace threadsearch

#endif  // THREADSEARCH_SEARCHER_BM25_SOURCE_H_
