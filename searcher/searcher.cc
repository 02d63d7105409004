#include "searcher/searcher.h"

#include <sched.h>
#include <sys/stat.h>
#include <xapian.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <csignal>
#include <ctime>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <map>
#include <queue>
#include <system_error>
#include <thread>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "common/collection.h"
#include "common/keys.h"
#include "common/schema.h"
#include "common/xapian_status.h"
#include "common/text.h"
#include "common/thread_store.h"
#include "searcher/query_parser.h"
#include "searcher/bm25_source.h"
#include "searcher/proximity.h"
#include "searcher/query_parser_internal.h"
#include "searcher/remote_store.h"
#include "searcher/snippet.h"

namespace threadsearch {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kExcerptBytes = 140;
constexpr uint32_t kNearestAncestors = 5;
constexpr uint32_t kContextReplies = 3;
constexpr uint32_t kMaxChain = 100000;
constexpr uint32_t kMaxTreeNodes = 20000;
// "Did you mean" is tried when a query matches fewer items than this.
constexpr uint64_t kSuggestBelow = 3;
// A query word in at most this many documents may be a typo.
constexpr Xapian::doccount kRareTerm = 2;

ContextItem MakeContextItem(const StoredItem& s) {
  ContextItem c;
  c.id = s.item.id;
  c.author = s.item.author;
  c.author_name = s.item.author_name;
  c.time = s.item.time;
  if (s.placeholder) {
    c.missing = true;
    c.excerpt = "[not in the archive]";
  } else if (s.item.deleted) {
    c.excerpt = "[deleted]";
  } else {
    c.excerpt = schema::BodyExcerpt(s, kExcerptBytes);
  }
  return c;
}

// The whole of `text`, HTML-escaped, with every word whose exact form
// (prefix + word) or stem ("Z" + prefix + stem) is among `terms` wrapped in
// <mark>…</mark>.
std::string HighlightAll(std::string_view text,
                         const std::unordered_set<std::string>& terms,
                         const std::string& prefix, const Xapian::Stem& stem) {
  std::string out;
  out.reserve(text.size() + 64);
  size_t i = 0;
  while (i < text.size()) {
    size_t j = WordEnd(text, i);
    if (j > i) {
      std::string_view word = text.substr(i, j - i);
      std::string lower = WordForm(word);
      bool hit = terms.count(prefix + lower) ||
                 terms.count("Z" + prefix + stem(lower));
      if (hit) out += "<mark>";
      out += HtmlEscape(word);
      if (hit) out += "</mark>";
    } else {
      j = NextWord(text, j);
      out += HtmlEscape(text.substr(i, j - i));
    }
    i = j;
  }
  return out;
}

Xapian::Query AnyOf(std::string_view prefix,
                    const std::vector<std::string>& values) {
  std::vector<Xapian::Query> qs;
  for (const std::string& v : values) {
    qs.emplace_back(schema::Term(prefix, AsciiLower(TrimAscii(v))));
  }
  return Xapian::Query(Xapian::Query::OP_OR, qs.begin(), qs.end());
}

// The words of the query's positive free-text nodes, lower-cased, in
// order: what Hit::matched_words reports.
void QueryWords(const QueryNode& n, std::vector<std::string>* out) {
  using K = QueryNode::Kind;
  if (n.kind == K::kWord || n.kind == K::kPhrase || n.kind == K::kWildcard) {
    for (const std::string& t : n.terms) {
      if (std::find(out->begin(), out->end(), t) == out->end()) {
        out->push_back(t);
      }
    }
  } else if (n.kind == K::kAnd || n.kind == K::kOr) {
    for (const QueryNode& c : n.children) QueryWords(c, out);
  }
}

// The snippet words of a query: its positive free-text words, each
// weighted by its inverse document frequency over the whole collection,
// from `termfreq`.
void SnippetTermsOf(const QueryNode& n, const TermFreqFn& termfreq,
                    double docs, SnippetTerms* out) {
  using K = QueryNode::Kind;
  if (n.kind == K::kWord || n.kind == K::kPhrase) {
    for (const std::string& t : n.terms) {
      const double tf = std::max<double>(1, termfreq(t));
      out->AddWord(t, std::log(1 + docs / tf));
    }
  } else if (n.kind == K::kWildcard) {
    if (!n.terms.empty()) out->AddPrefix(n.terms[0], 1.0);
  } else if (n.kind == K::kAnd || n.kind == K::kOr) {
    for (const QueryNode& c : n.children) {
      SnippetTermsOf(c, termfreq, docs, out);
    }
  }
}

// "yyyy-mm" of a Unix time (UTC), as the indexer's XY/XM terms see it.
int MonthKey(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm;
  if (!gmtime_r(&tt, &tm)) return 0;
  return (tm.tm_year + 1900) * 100 + tm.tm_mon + 1;
}

// Facets and collapsed totals come from Xapian's own ValueCountMatchSpy
// on value slots: it is the match spy a remote shard (xapian-tcpsrv) can
// run, and its counts from several shards merge into exactly those of one
// database. Every match is seen because the searcher asks for an
// exhaustive match.
std::vector<CountEntry> TopValues(const std::unordered_map<std::string, uint64_t>& m,
                                  size_t limit) {
  std::vector<CountEntry> v;
  v.reserve(m.size());
  for (const auto& [k, c] : m) v.push_back({k, c});
  auto by_count = [](const CountEntry& a, const CountEntry& b) {
    return a.count != b.count ? a.count > b.count : a.key < b.key;
  };
  if (v.size() > limit) {
    std::partial_sort(v.begin(), v.begin() + static_cast<long>(limit),
                      v.end(), by_count);
    v.resize(limit);
  } else {
    std::sort(v.begin(), v.end(), by_count);
  }
  return v;
}

struct FacetSpies {
  Xapian::ValueCountMatchSpy authors{schema::kValueAuthor};
  Xapian::ValueCountMatchSpy threads{schema::kValueThread};
  Xapian::ValueCountMatchSpy times{schema::kValueTime};

  Facets Result(size_t limit) const {
    Facets f;
    std::unordered_map<std::string, uint64_t> authors_m, roots;
    for (auto it = authors.values_begin(); it != authors.values_end(); ++it) {
      authors_m[*it] += it.get_termfreq();
    }
    f.authors = TopValues(authors_m, limit);
    for (auto it = threads.values_begin(); it != threads.values_end(); ++it) {
      const std::string key = *it;
      // Drop the source letter.
      roots[key.size() > 1 ? key.substr(1) : key] += it.get_termfreq();
    }
    f.threads = TopValues(roots, limit);
    std::map<int, uint64_t> months;  // yyyymm, so oldest first
    for (auto it = times.values_begin(); it != times.values_end(); ++it) {
      months[MonthKey(static_cast<int64_t>(
          Xapian::sortable_unserialise(*it)))] += it.get_termfreq();
    }
    std::map<int, uint64_t> years;
    for (const auto& [ym, n] : months) {
      if (ym == 0) continue;
      years[ym / 100] += n;
      char buf[16];
      snprintf(buf, sizeof buf, "%04d-%02d", ym / 100, ym % 100);
      f.months.push_back({buf, n});
    }
    for (const auto& [y, n] : years) f.years.push_back({std::to_string(y), n});
    return f;
  }
};

// The distinct threads (collapse keys) among every match: with
// collapsing, Xapian's own match count is an estimate, this is exact.
// Items without a key are never collapsed and count one each.
uint64_t ThreadCount(const Xapian::ValueCountMatchSpy& spy) {
  uint64_t distinct = 0, keyed = 0;
  for (auto it = spy.values_begin(); it != spy.values_end(); ++it) {
    ++distinct;
    keyed += it.get_termfreq();
  }
  return distinct + (spy.get_total() - keyed);
}

// Optimal string alignment distance between a and b (bytes), or max + 1
// once it exceeds max.
size_t EditDistance(std::string_view a, std::string_view b, size_t max) {
  if (a.size() > b.size() + max || b.size() > a.size() + max) return max + 1;
  std::vector<size_t> prev2(b.size() + 1), prev(b.size() + 1),
      cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    size_t row_min = cur[0];
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
      }
      row_min = std::min(row_min, cur[j]);
    }
    if (row_min > max) return max + 1;
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

Result<SortOrder> ParseSortOrder(std::string_view s) {
  if (s == "relevance" || s.empty()) return SortOrder::kRelevance;
  if (s == "date" || s == "oldest") return SortOrder::kDateAsc;
  if (s == "-date" || s == "newest") return SortOrder::kDateDesc;
  if (s == "points" || s == "-points") return SortOrder::kPoints;
  if (s == "replies" || s == "-replies") return SortOrder::kReplies;
  return Status::InvalidArgument(
      "sort: unknown order \"" + std::string(s) +
      "\" (expected relevance, date, -date, points or replies)");
}

std::string_view SortOrderName(SortOrder s) {
  switch (s) {
    case SortOrder::kRelevance:
      return "relevance";
    case SortOrder::kDateAsc:
      return "date";
    case SortOrder::kDateDesc:
      return "-date";
    case SortOrder::kPoints:
      return "points";
    case SortOrder::kReplies:
      return "replies";
  }
  return "relevance";
}

struct Searcher::Impl {
  std::string dir;
  SearcherOptions opts;
  // One shard for a plain database; a collection's shards in map order.
  struct Shard {
    std::string name;
    std::string dir;          // local: the database directory
    std::string xapian_host;  // remote: xapian-tcpsrv
    int xapian_port = 0;
    std::string store_endpoint;  // remote: shard-serve
    std::unique_ptr<StoreReader> store;
    const RemoteStore* remote_store = nullptr;  // remote: `store`, typed
    // Remote: whether shard-serve answers positions requests (until it
    // says it serves no index).
    bool serves_positions = true;
    Xapian::Database db;      // this shard alone (local or remote)
    // Local: a second handle on the same revision as `db`, for the count
    // pass, which runs on its own thread (a Xapian::Database is used by
    // one thread at a time); closed when the two could not be kept in step.
    Xapian::Database count_db;
    bool count_in_step = false;
    unsigned subdbs = 1;      // its sub-databases in the combined db
    // Local: its parts' directories when opened (PartIds).
    std::vector<std::pair<uint64_t, uint64_t>> part_ids;
    bool up = false;
    Clock::time_point retry_at{};
    std::string error;        // why it is down
    bool remote() const { return dir.empty(); }
  };
  std::vector<Shard> shards;
  bool collection = false;
  std::string collection_text;  // the shard map as read at Open
  // The combined database of the shards that are up, and for each of its
  // sub-databases (docid - 1) % subdbs the shard and the part within it.
  Xapian::Database db;
  // The same shards through their count handles, when every shard that is
  // up is local and in step (SyncCountHandle); else empty, and the count
  // pass runs on `db` after the page.
  Xapian::Database count_db;
  bool count_handles = false;  // count_db is usable
  uint64_t parallel_counts = 0;  // count passes run on their own thread
  std::vector<std::pair<uint32_t, uint32_t>> slots;
  // Store readers for thread:/under:/id: resolution, shards that are up.
  std::vector<const StoreReader*> live_stores;
  Xapian::Stem stemmer{"english"};
  // What the current query's match read (Bm25TermQuery).
  std::shared_ptr<MatchSeen> match_seen;
  // Term frequencies in `db` asked so far, at its revision: a query asks
  // for each of its words' several times (weights, snippets, proximity,
  // spelling), each a B-tree lookup per part (often a block read; a round
  // trip to a remote shard), and queries share their common words.
  // Emptied where `db` may move to another revision: by Combine, and in
  // Refresh as soon as a shard's handle (which `db` shares) reopens.
  std::unordered_map<std::string, Xapian::doccount> termfreqs;
  Xapian::doccount TermFreq(const std::string& term) {
    auto it = termfreqs.find(term);
    if (it != termfreqs.end()) return it->second;
    if (termfreqs.size() >= kMaxTermFreqs) termfreqs.clear();
    const Xapian::doccount tf = db.get_termfreq(term);
    termfreqs.emplace(term, tf);
    return tf;
  }
  // TermFreq as a TermFreqFn (holds `this`: for calls that do not keep it).
  TermFreqFn TermFreqFunction() {
    return [this](const std::string& t) { return TermFreq(t); };
  }
  static constexpr size_t kMaxTermFreqs = 1u << 16;
  // Set when a query failed because of a remote shard.
  bool shard_failed = false;

  // Opens the Xapian side and the store of shard `i`; marks it down (with
  // the reason) when either fails.
  Status Connect(size_t i);
  // Brings a local shard's count handle to `db`'s revision (see Shard),
  // opening it afresh when `fresh`.
  void SyncCountHandle(Shard& s, bool fresh);
  // Tries again the shards whose retry time has come; rebuilds the
  // combined database when one came back. True when anything changed.
  bool Reconnect();
  // Rebuilds `db` and `slots` from the shards that are up.
  void Combine();
  // After a remote failure: checks every remote shard that is up, marks
  // those that do not answer down, and recombines. True when one was
  // dropped.
  bool DropFailedShards();
  void MarkDown(size_t i, const std::string& why);
  // The shard and item number of a combined-database docid.
  std::pair<uint32_t, uint32_t> Locate(Xapian::docid did) const;
  std::vector<std::string> Missing() const;
  // A store read on shard `i` failed: a remote shard is flagged as failed.
  Status StoreError(size_t i, const Status& st) {
    if (shards[i].remote() && !st.IsNotFound()) shard_failed = true;
    return st;
  }

  // Items read for one answer, by (shard, number), with the children lists
  // read: a page's hits, their ancestors and replies are fetched a step at
  // a time for every hit at once, one request per remote shard a step,
  // instead of one per item. Get and Children read through what was not
  // fetched.
  class Items {
   public:
    using Place = std::pair<uint32_t, uint32_t>;  // shard, item number
    explicit Items(Impl* im) : im_(im) {}
    // Reads those of `wanted` not held yet.
    Status Fetch(const std::vector<Place>& wanted);
    Result<const StoredItem*> Get(uint32_t shard, uint32_t num);
    Result<const std::vector<uint32_t>*> Children(uint32_t shard,
                                                  uint32_t num);
    // Fetches what a page of `hits` reads next: their threads' roots and,
    // with `context` (FillContext), their ancestors a generation at a time
    // and their first replies.
    Status Prefetch(const std::vector<Place>& hits, bool context);

   private:
    Impl* im_;
    std::map<Place, Result<StoredItem>> items_;
    std::map<Place, std::vector<uint32_t>> children_;
  };
  Result<SearchResult> SearchOnce(const SearchRequest& req);
  // The proximity boosts of combined-database documents `docs`. A remote
  // shard's are read in one request to the server beside it.
  // `base`: the documents' scores before the boost; only the `needed` best
  // boosted scores must be exact: a local document whose bound
  // (ProximityScorer::Bounds) cannot lift it among them keeps a boost of 0.
  Result<std::vector<double>> Boosts(const ProximityScorer& scorer,
                                     const std::vector<Xapian::docid>& docs,
                                     const std::vector<double>& base,
                                     size_t needed);
  Status FillContext(uint32_t shard, const StoredItem& s, ThreadContext* ctx,
                     Items* items);
  // The root of `s`: `s` itself when it is one (so not a temporary).
  Result<const StoredItem*> RootOf(uint32_t shard, const StoredItem& s,
                                   Items* items);
  Result<const StoredItem*> RootOf(uint32_t, StoredItem&&, Items*) = delete;
  // The Xapian query for a parsed tree.
  // `match_only`: QueryBuildOptions::match_only.
  // With `fast_terms`, weighted terms go through Bm25TermQuery (a word with
  // a stem through Bm25WordQuery) and are listed there, in query order;
  // the words of `title_words` weigh their title term in their own query
  // (QueryBuildOptions::title_words).
  Xapian::Query Build(
      const QueryNode& tree, bool match_only = false,
      std::vector<std::string>* fast_terms = nullptr,
      const std::unordered_set<const QueryNode*>* title_words = nullptr);
  // Whether every shard in the combined database is local.
  bool AllLocal() const;
  // Whether Bm25TermQuery may weigh terms: asked for, and AllLocal().
  bool CachedLengths() const;
  // `unscaled`: Bm25Params::unscaled (the query scales the terms' weights
  // by at most 1).
  std::function<Xapian::Query(const std::string&)> FastTerm(
      std::vector<std::string>* fast_terms, bool unscaled);
  // The BM25 parameters of the options, for Bm25TermQuery.
  Bm25Params FastParams() const;
  // The AND of the request's filter fields (authors, type, dates, …); an
  // empty query when there are none.
  Xapian::Query RequestFilter(const SearchRequest& req);
  // The query text with each word the index lacks replaced by a close
  // spelling it holds, when that query matches more than `total`; empty
  // otherwise. May throw Xapian::Error.
  std::string Suggest(const QueryNode& tree, const std::string& text,
                      const Xapian::Query& filter, uint64_t total);
  // The index term nearest to `term` among those starting with `prefix`
  // and the same first character, in at least `min_freq` documents; empty
  // when none is close.
  std::string NearestTerm(const std::string& prefix, const std::string& term,
                          Xapian::doccount min_freq);
};

Xapian::Query Searcher::Impl::Build(
    const QueryNode& tree, bool match_only,
    std::vector<std::string>* fast_terms,
    const std::unordered_set<const QueryNode*>* title_words) {
  QueryBuildOptions bo;
  bo.match_only = match_only;
  bo.stores = live_stores;
  bo.db = &db;
  bo.stemmer = &stemmer;
  bo.exact_weight = opts.exact_weight;
  if (fast_terms) {
    // Words weigh unscaled (factors of 0 aside): their sources may skip
    // postings that cannot reach the match's minimum.
    bo.weighted_term = FastTerm(fast_terms, true);
    Bm25Params p = FastParams();
    p.unscaled = true;
    bo.weighted_words = [this, fast_terms,
                         p](const std::vector<WordTerms>& ws) {
      for (const WordTerms& w : ws) {
        fast_terms->push_back(w.stem);
        fast_terms->push_back(w.exact);
        if (!w.title.empty()) fast_terms->push_back(w.title);
      }
      return Bm25WordsQuery(db, ws, p, match_seen, TermFreqFunction());
    };
    // One word: Bm25WordQuery, which is Bm25WordsQuery of it alone.
    bo.weighted_word = [words = bo.weighted_words](const WordTerms& w) {
      return words({w});
    };
    bo.title_words = title_words;
    bo.title_scale = opts.title_weight;
  }
  return BuildQuery(tree, bo);
}

Bm25Params Searcher::Impl::FastParams() const {
  Bm25Params p;
  p.k1 = opts.bm25_k1;
  p.b = opts.bm25_b;
  p.min_normlen = opts.bm25_min_normlen;
  return p;
}

std::function<Xapian::Query(const std::string&)> Searcher::Impl::FastTerm(
    std::vector<std::string>* fast_terms, bool unscaled) {
  Bm25Params p = FastParams();
  p.unscaled = unscaled;
  return [this, fast_terms, p](const std::string& term) {
    fast_terms->push_back(term);
    return Bm25TermQuery(db, term, p, match_seen, TermFreqFunction());
  };
}

bool Searcher::Impl::AllLocal() const {
  for (const Shard& s : shards) {
    if (s.up && s.remote()) return false;
  }
  return true;
}

bool Searcher::Impl::CachedLengths() const {
  return opts.cached_lengths && AllLocal();
}

Xapian::Query Searcher::Impl::RequestFilter(const SearchRequest& req) {
  std::vector<Xapian::Query> filters;
  if (!req.authors.empty()) {
    filters.push_back(AnyOf(schema::kPrefixAuthor, req.authors));
  }
  if (!req.replies_to.empty()) {
    filters.push_back(AnyOf(schema::kPrefixRepliesTo, req.replies_to));
  }
  if (!req.thread.empty()) {
    QueryNode n;
    n.kind = QueryNode::Kind::kItem;
    n.prefix = std::string(schema::kPrefixThread);
    n.value = std::string(TrimAscii(req.thread));
    filters.push_back(Build(n));
  }
  if (req.type) {
    filters.emplace_back(
        schema::Term(schema::kPrefixType, ItemTypeName(*req.type)));
  }
  if (req.source) {
    filters.emplace_back(
        schema::Term(schema::kPrefixSource, SourceName(*req.source)));
  }
  if (!req.list.empty()) {
    filters.emplace_back(
        schema::Term(schema::kPrefixList, AsciiLower(TrimAscii(req.list))));
  }
  // Inclusive ranges; items without the value never match. An empty range
  // (after >= before) matches nothing: Xapian makes it the empty query,
  // which an AND of filters would turn into no condition at all.
  auto range = [&](unsigned slot, const std::optional<int64_t>& lo,
                   const std::optional<int64_t>& hi) {
    if (!lo && !hi) return;
    if (lo && hi && *lo > *hi) {
      filters.push_back(NoMatch());
      return;
    }
    filters.emplace_back(
        Xapian::Query::OP_VALUE_RANGE, slot,
        Xapian::sortable_serialise(lo ? static_cast<double>(*lo) : -1e18),
        Xapian::sortable_serialise(hi ? static_cast<double>(*hi) : 1e18));
  };
  std::optional<int64_t> before_last;
  if (req.before) before_last = *req.before - 1;
  range(schema::kValueTime, req.after, before_last);
  range(schema::kValuePoints, req.points_min, req.points_max);
  range(schema::kValueComments, req.comments_min, req.comments_max);
  if (filters.empty()) return Xapian::Query();
  return Xapian::Query(Xapian::Query::OP_AND, filters.begin(), filters.end());
}

std::string Searcher::Impl::NearestTerm(const std::string& prefix,
                                        const std::string& term,
                                        Xapian::doccount min_freq) {
  // Xapian's own spelling data first (present when the indexer added it).
  if (prefix.empty()) {
    std::string s = db.get_spelling_suggestion(term, 2);
    if (!s.empty() && s != term && db.get_termfreq(s) >= min_freq) return s;
  }
  // Else the nearest term by edit distance among those with the same first
  // character, the most frequent on a tie.
  // The first character's UTF-8 bytes (its lead byte tells how many).
  const unsigned char lead = static_cast<unsigned char>(term[0]);
  const size_t first_len = lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  const std::string start = prefix + term.substr(0, first_len);
  const size_t max = term.size() <= 4 ? 1 : 2;
  std::string best;
  size_t best_dist = max + 1;
  Xapian::doccount best_freq = 0;
  for (Xapian::TermIterator t = db.allterms_begin(start);
       t != db.allterms_end(start); ++t) {
    const std::string whole = *t;
    std::string_view cand = whole;
    cand.remove_prefix(prefix.size());
    if (cand.size() < 2 || cand == term) continue;
    Xapian::doccount f = t.get_termfreq();
    if (f < min_freq) continue;
    size_t d = EditDistance(term, cand, max);
    if (d > max) continue;
    if (d < best_dist || (d == best_dist && f > best_freq)) {
      best = std::string(cand);
      best_dist = d;
      best_freq = f;
    }
  }
  return best;
}

std::string Searcher::Impl::Suggest(const QueryNode& tree,
                                    const std::string& text,
                                    const Xapian::Query& filter,
                                    uint64_t total) {
  std::vector<const QueryNode*> words;
  CollectWords(tree, &words);
  // Replace from the end so earlier offsets stay valid.
  std::sort(words.begin(), words.end(),
            [](const QueryNode* a, const QueryNode* b) {
              return a->offset > b->offset;
            });
  std::string fixed = text;
  bool changed = false;
  for (const QueryNode* w : words) {
    const std::string& term = w->terms[0];
    if (term.size() < 3 || w->text.empty() ||
        text.compare(w->offset, w->text.size(), w->text) != 0 ||
        AsciiLower(w->text) != term) {
      continue;  // only plain one-piece words typed as they are indexed
    }
    // A number is not a misspelt word, and the nearest-term search over
    // every term with its first digit is long (seconds over remote shards).
    if (std::isdigit(static_cast<unsigned char>(term[0]))) continue;
    // A word whose exact form the index lacks or holds only as a rare
    // typo ("plottting" is in one message): its stem may still match
    // something, so the corrected query must match more to be suggested.
    const Xapian::doccount freq = TermFreq(w->prefix + term);
    if (freq > kRareTerm) continue;
    // When the query did match, a word the index holds exactly as typed is
    // a rare word, not a typo ("keras" in one message is not "keeps").
    if (total > 0 && freq > 0) continue;
    std::string near = NearestTerm(w->prefix, term, freq * 10 + 1);
    if (near.empty()) continue;
    fixed.replace(w->offset, w->text.size(), near);
    changed = true;
  }
  if (!changed) return {};
  Result<QueryNode> t = ParseQuery(fixed);
  if (!t.ok()) return {};
  Xapian::Query q = Build(*t);
  if (!filter.empty()) q = Xapian::Query(Xapian::Query::OP_FILTER, q, filter);
  Xapian::Enquire enquire(db);
  enquire.set_query(q);
  Xapian::MSet m = enquire.get_mset(0, 0, db.get_doccount());
  return m.get_matches_estimated() > total ? fixed : std::string();
}

Searcher::Searcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Searcher::~Searcher() = default;
StoreReader& Searcher::store() { return *impl_->shards[0].store; }

std::vector<std::string> Searcher::shard_names() const {
  std::vector<std::string> v;
  for (const Impl::Shard& s : impl_->shards) v.push_back(s.name);
  return v;
}

namespace {

// What identifies a local index's parts on disk: each part directory's
// device and inode, in stub order (one per sub-database: the lines of the
// stub file, or the index directory itself for a single database). A
// compaction swaps a new directory in, which Xapian's reopen() may miss (it
// compares revision numbers), so a change here means opening the index
// afresh.
std::vector<std::pair<uint64_t, uint64_t>> PartIds(
    const std::string& xapian_dir) {
  std::vector<std::string> dirs;
  std::ifstream in(xapian_dir + "/XAPIANDB");
  std::string line;
  while (in && std::getline(in, line)) {
    std::string_view t = TrimAscii(line);
    if (t.empty() || t[0] == '#') continue;
    const size_t space = t.find(' ');
    std::string path(space == std::string_view::npos ? t : t.substr(space + 1));
    dirs.push_back(!path.empty() && path[0] == '/' ? path
                                                   : xapian_dir + "/" + path);
  }
  if (dirs.empty()) dirs.push_back(xapian_dir);
  std::vector<std::pair<uint64_t, uint64_t>> ids;
  for (const std::string& d : dirs) {
    struct stat st;
    if (stat(d.c_str(), &st) == 0) {
      ids.emplace_back(static_cast<uint64_t>(st.st_dev),
                       static_cast<uint64_t>(st.st_ino));
    } else {
      ids.emplace_back(0, 0);
    }
  }
  return ids;
}

std::string ReadCollectionText(const std::string& dir) {
  std::ifstream in(dir + "/" + kCollectionFile, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

void Searcher::Impl::MarkDown(size_t i, const std::string& why) {
  Shard& s = shards[i];
  s.up = false;
  s.error = why;
  s.store.reset();
  s.remote_store = nullptr;
  s.db = Xapian::Database();
  s.count_db = Xapian::Database();
  s.count_in_step = false;
  s.retry_at = Clock::now() + std::chrono::milliseconds(opts.shard_retry_ms);
}

Status Searcher::Impl::Connect(size_t i) {
  Shard& s = shards[i];
  if (!s.remote()) {
    // Index before store (see Refresh).
    try {
      s.db = Xapian::Database(s.dir + "/xapian");
    } catch (const Xapian::Error& e) {
      return XapianStatus(e, s.dir + ": no index here (run index first)");
    }
    s.part_ids = PartIds(s.dir + "/xapian");
    s.subdbs = static_cast<unsigned>(s.part_ids.size());
    SyncCountHandle(s, true);
    StoreOptions so;
    so.read_only = true;
    Result<std::unique_ptr<ThreadStore>> st =
        ThreadStore::Open(s.dir + "/store", so);
    if (!st.ok()) return st.status();
    s.store = std::move(st).value();
    s.up = true;
    return Status::OK();
  }
  try {
    s.db = Xapian::Remote::open(s.xapian_host, s.xapian_port,
                                opts.shard_timeout_ms, opts.shard_timeout_ms);
    s.db.get_doccount();
  } catch (const Xapian::Error& e) {
    MarkDown(i, "index " + s.xapian_host + ":" +
                    std::to_string(s.xapian_port) + ": " + e.get_msg());
    return Status::IOError(s.error);
  }
  s.subdbs = 1;  // the server's stub maps its parts to item numbers
  s.serves_positions = true;
  Result<std::unique_ptr<RemoteStore>> st =
      RemoteStore::Open(s.store_endpoint, opts.shard_timeout_ms);
  if (!st.ok()) {
    MarkDown(i, st.status().message());
    return st.status();
  }
  s.remote_store = st->get();
  s.store = std::move(st).value();
  s.up = true;
  s.error.clear();
  return Status::OK();
}

namespace {

// Whether two handles on one index show the same contents: what a commit
// changes (a replacement of the same length aside).
bool SameContents(const Xapian::Database& a, const Xapian::Database& b) {
  return a.get_doccount() == b.get_doccount() &&
         a.get_lastdocid() == b.get_lastdocid() &&
         a.get_total_length() == b.get_total_length();
}

}  // namespace

void Searcher::Impl::SyncCountHandle(Shard& s, bool fresh) {
  if (!opts.parallel_count) return;
  // The count handle is opened after `db`: when `db` then has no newer
  // revision to move to, no commit landed in between and the two show the
  // same one (a commit that changes only values or data keeps the counts
  // SameContents compares, so those alone cannot tell). Otherwise both
  // move again, and after a second miss the count runs on `db`. (Called
  // before the store is opened or refreshed: the store is never behind
  // `db`.)
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      if (fresh || !s.count_in_step) {
        s.count_db = Xapian::Database(s.dir + "/xapian");
      } else {
        s.count_db.reopen();
      }
      const bool moved = s.db.reopen();
      s.count_in_step = !moved && SameContents(s.db, s.count_db);
    } catch (const Xapian::Error&) {
      s.count_in_step = false;
    }
    if (s.count_in_step) return;
    fresh = true;
  }
  s.count_db = Xapian::Database();
}

void Searcher::Impl::Combine() {
  termfreqs.clear();
  db = Xapian::Database();
  count_db = Xapian::Database();
  count_handles = true;
  slots.clear();
  live_stores.clear();
  for (size_t i = 0; i < shards.size(); ++i) {
    Shard& s = shards[i];
    if (!s.up) continue;
    db.add_database(s.db);
    count_handles = count_handles && !s.remote() && s.count_in_step;
    if (count_handles) count_db.add_database(s.count_db);
    for (unsigned j = 0; j < s.subdbs; ++j) {
      slots.emplace_back(static_cast<uint32_t>(i), j);
    }
    live_stores.push_back(s.store.get());
  }
  if (!count_handles) count_db = Xapian::Database();
}

std::pair<uint32_t, uint32_t> Searcher::Impl::Locate(Xapian::docid did) const {
  const size_t n = slots.size();
  const auto [shard, part] = slots[(did - 1) % n];
  const uint32_t local = static_cast<uint32_t>((did - 1) / n + 1);
  const uint32_t parts = shards[shard].subdbs;
  return {shard, (local - 1) * parts + part + 1};
}

Result<std::vector<double>> Searcher::Impl::Boosts(
    const ProximityScorer& scorer, const std::vector<Xapian::docid>& docs,
    const std::vector<double>& base, size_t needed) {
  std::vector<double> boosts(docs.size(), 0);
  // Every shard local: the bounds may read the combined database (a remote
  // shard would send whole postings).
  if (AllLocal()) {
    // Positions cost two block reads per document and term (Xapian 1.4
    // opens a fresh B-tree cursor for each position list); the bounds read
    // none, mostly from what the match recorded. Documents go best bound
    // first, and stop once no bound reaches the `needed`-th best boosted
    // score (a margin over the scores' rounding to 1e-9 keeps ties exact).
    std::vector<ProximityScorer::BoundParts> parts;
    const std::vector<double> bound =
        scorer.Bounds(docs, match_seen.get(), &parts);
    std::vector<size_t> order(docs.size());
    for (size_t k = 0; k < docs.size(); ++k) order[k] = k;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return base[a] + bound[a] > base[b] + bound[b];
    });
    std::priority_queue<double, std::vector<double>, std::greater<double>>
        best;  // the `needed` best boosted scores so far
    for (size_t k : order) {
      if (best.size() >= needed && base[k] + bound[k] < best.top() - 1e-8) {
        break;
      }
      if (bound[k] > 0 && best.size() < needed) {
        boosts[k] = scorer.Boost(docs[k], parts[k]);
      } else if (bound[k] > 0) {
        // Term by term: most documents past the page's first fall short
        // after a term or two, their positions ruling out the parts.
        scorer.BoostIfReaches(docs[k], parts[k], best.top() - 1e-8 - base[k],
                              &boosts[k]);
      }
      best.push(base[k] + boosts[k]);
      if (best.size() > needed) best.pop();
    }
    return boosts;
  }
  // Per remote shard that serves positions: its documents' places in
  // `docs` and their numbers in its own index.
  std::map<uint32_t, std::pair<std::vector<size_t>, std::vector<Xapian::docid>>>
      batches;
  for (size_t k = 0; k < docs.size(); ++k) {
    const auto [shard, num] = Locate(docs[k]);
    if (shards[shard].remote() && shards[shard].serves_positions) {
      batches[shard].first.push_back(k);
      batches[shard].second.push_back(num);
    } else {
      boosts[k] = scorer.Boost(docs[k]);
    }
  }
  for (const auto& [shard, batch] : batches) {
    const auto& [places, nums] = batch;
    Result<std::vector<DocPositions>> got =
        shards[shard].remote_store->Positions(scorer.distinct_terms(), nums);
    if (got.ok()) {
      for (size_t j = 0; j < places.size(); ++j) {
        boosts[places[j]] = scorer.Boost((*got)[j]);
      }
      continue;
    }
    const StatusCode code = got.status().code();
    if (code != StatusCode::kNotFound && code != StatusCode::kInternal) {
      return StoreError(shard, got.status());  // it does not answer
    }
    // An older shard-serve, or one without the index beside it (from now
    // on), or one that failed to read it (this time): read through
    // Xapian's remote protocol instead.
    if (code == StatusCode::kNotFound) shards[shard].serves_positions = false;
    for (size_t k : places) boosts[k] = scorer.Boost(docs[k]);
  }
  return boosts;
}

std::vector<std::string> Searcher::Impl::Missing() const {
  std::vector<std::string> v;
  for (const Shard& s : shards) {
    if (!s.up) v.push_back(s.name);
  }
  return v;
}

bool Searcher::Impl::Reconnect() {
  bool changed = false;
  const auto now = Clock::now();
  for (size_t i = 0; i < shards.size(); ++i) {
    if (shards[i].up || now < shards[i].retry_at) continue;
    if (Connect(i).ok()) changed = true;
  }
  if (changed) Combine();
  return changed;
}

bool Searcher::Impl::DropFailedShards() {
  bool dropped = false;
  for (size_t i = 0; i < shards.size(); ++i) {
    Shard& s = shards[i];
    if (!s.up || !s.remote()) continue;
    // A fresh connection each, with the shard timeout: the shared one may
    // be mid-message after the failure.
    if (!Connect(i).ok()) dropped = true;
  }
  Combine();
  return dropped;
}

Result<std::unique_ptr<Searcher>> Searcher::Open(const std::string& dir,
                                                 const SearcherOptions& opts) {
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->opts = opts;
  if (IsCollection(dir)) {
    Result<Collection> col = LoadCollection(dir);
    if (!col.ok()) return col.status();
    impl->collection = true;
    impl->collection_text = ReadCollectionText(dir);
    // Xapian's remote backend writes with write(2): a shard server that
    // died would end this process with SIGPIPE instead of an error.
    if (std::any_of(col->shards.begin(), col->shards.end(),
                    [](const ShardSpec& s) { return s.remote(); })) {
      std::signal(SIGPIPE, SIG_IGN);
    }
    for (const ShardSpec& spec : col->shards) {
      Impl::Shard s;
      s.name = spec.name;
      if (spec.remote()) {
        TS_RETURN_IF_ERROR(
            ParseHostPort(spec.xapian, &s.xapian_host, &s.xapian_port));
        s.store_endpoint = spec.store;
      } else {
        s.dir = ShardDir(*col, spec);
      }
      impl->shards.push_back(std::move(s));
    }
  } else {
    if (!std::filesystem::exists(dir + "/store") ||
        !std::filesystem::exists(dir + "/xapian")) {
      return Status::NotFound(dir + ": no threadsearch database here (run "
                                    "`threadsearch index --db " + dir +
                              " FILES` first)");
    }
    Impl::Shard s;
    s.dir = dir;
    impl->shards.push_back(std::move(s));
  }
  // Local shards must open; remote ones may be down now and come later.
  bool any = false;
  for (size_t i = 0; i < impl->shards.size(); ++i) {
    Status st = impl->Connect(i);
    if (!st.ok() && !impl->shards[i].remote()) {
      return st.WithContext(impl->collection
                                ? "shard " + impl->shards[i].name
                                : std::string("open"));
    }
    any = any || st.ok();
  }
  if (!any) {
    return Status::IOError(dir + ": no shard answers (" +
                           impl->shards[0].error + ")");
  }
  impl->Combine();
  return std::unique_ptr<Searcher>(new Searcher(std::move(impl)));
}

Status Searcher::Refresh() {
  // The index first, then the store: the writer commits the store before
  // the index, so a store opened after the index is never behind it and
  // every hit has its record.
  Impl& im = *impl_;
  if (im.collection && ReadCollectionText(im.dir) != im.collection_text) {
    // The shard map changed (a shard added or moved): start afresh.
    Result<std::unique_ptr<Searcher>> fresh = Open(im.dir, im.opts);
    if (!fresh.ok()) return fresh.status();
    impl_ = std::move((*fresh)->impl_);
    return Status::OK();
  }
  bool changed = false;
  for (size_t i = 0; i < im.shards.size(); ++i) {
    Impl::Shard& s = im.shards[i];
    if (!s.up) continue;
    if (!s.remote() && PartIds(s.dir + "/xapian") != s.part_ids) {
      // Parts replaced (compacted, or rebuilt with another number of
      // parts): open it afresh.
      TS_RETURN_IF_ERROR(im.Connect(i));
      changed = true;
      continue;
    }
    bool shard_changed = false;
    try {
      shard_changed = s.db.reopen();
    } catch (const Xapian::Error& e) {
      if (s.remote()) {
        // xapian-tcpsrv closes idle connections: connect afresh (Connect
        // marks the shard down when that fails too).
        im.Connect(i).IgnoreError();
        changed = true;
        continue;
      }
      im.termfreqs.clear();  // the handle may have moved
      // Parts replaced between the look at them above and the reopen (a
      // compaction finishing): open the shard afresh, as above, once.
      if (im.Connect(i).ok()) {
        changed = true;
        continue;
      }
      return XapianStatus(e, "reopen index");
    }
    if (shard_changed) {
      // `db` shares the shard's handle: it moved too, whatever fails below.
      im.termfreqs.clear();
      changed = true;
      if (!s.remote()) im.SyncCountHandle(s, false);
      // Reopening the store costs far more than the index's version check.
      Status st = s.store->Refresh();
      if (!st.ok()) {
        if (!s.remote()) return st;
        im.MarkDown(i, st.message());
      }
    }
  }
  if (changed) im.Combine();
  im.Reconnect();
  return Status::OK();
}

uint64_t Searcher::parallel_counts() const { return impl_->parallel_counts; }

Result<std::pair<uint32_t, StoredItem>> Searcher::FindItem(
    std::string_view id) {
  std::vector<const StoreReader*> stores;
  for (const Impl::Shard& shard : impl_->shards) {
    stores.push_back(shard.up ? shard.store.get() : nullptr);
  }
  Result<FoundItem> found = FindAmong(
      stores, [&](const StoreReader& s) { return s.Find(id); });
  if (!found.ok()) {
    if (!found.status().IsNotFound()) return found.status();
    return Status::NotFound("no item with id \"" + std::string(id) + "\"");
  }
  return std::make_pair(static_cast<uint32_t>(found->store),
                        std::move(found->item));
}

Result<StoredItem> Searcher::Get(uint32_t shard, uint32_t num) {
  Impl& im = *impl_;
  if (shard >= im.shards.size() || !im.shards[shard].up) {
    return Status::NotFound("shard " + std::to_string(shard) +
                            " is not available");
  }
  return im.shards[shard].store->Get(num);
}

Status Searcher::Impl::Items::Fetch(const std::vector<Place>& wanted) {
  std::map<uint32_t, std::vector<uint32_t>> by_shard;
  for (const Place& p : wanted) {
    if (p.second != 0 && !items_.count(p)) by_shard[p.first].push_back(p.second);
  }
  std::vector<Result<StoredItem>> got;
  for (auto& [shard, nums] : by_shard) {
    std::sort(nums.begin(), nums.end());
    nums.erase(std::unique(nums.begin(), nums.end()), nums.end());
    Status st = im_->shards[shard].store->GetMany(nums, &got);
    if (!st.ok()) return im_->StoreError(shard, st);
    for (size_t i = 0; i < nums.size(); ++i) {
      items_.emplace(Place{shard, nums[i]}, std::move(got[i]));
    }
  }
  return Status::OK();
}

Result<const StoredItem*> Searcher::Impl::Items::Get(uint32_t shard,
                                                     uint32_t num) {
  auto it = items_.find({shard, num});
  if (it == items_.end()) {
    it = items_.emplace(Place{shard, num}, im_->shards[shard].store->Get(num))
             .first;
  }
  if (!it->second.ok()) return im_->StoreError(shard, it->second.status());
  return &*it->second;
}

Result<const std::vector<uint32_t>*> Searcher::Impl::Items::Children(
    uint32_t shard, uint32_t num) {
  auto it = children_.find({shard, num});
  if (it == children_.end()) {
    std::vector<uint32_t> kids;
    Status st = im_->shards[shard].store->Children(num, &kids);
    if (!st.ok()) return im_->StoreError(shard, st);
    it = children_.emplace(Place{shard, num}, std::move(kids)).first;
  }
  return &it->second;
}

Status Searcher::Impl::Items::Prefetch(const std::vector<Place>& hits,
                                       bool context) {
  auto held = [&](const Place& p) -> const StoredItem* {
    auto it = items_.find(p);
    return it != items_.end() && it->second.ok() ? &*it->second : nullptr;
  };
  // Roots, with the first generation of ancestors; then the next ones up
  // from the hits. A read that fails is left for its reader to report.
  std::vector<Place> wanted;
  for (const Place& p : hits) {
    if (const StoredItem* s = held(p); s && !s->is_root()) {
      wanted.emplace_back(p.first, s->root_num);
    }
  }
  if (!context) return Fetch(wanted);
  // FillContext reads the nearest kNearestAncestors + 1 ancestors (and the
  // root, fetched with the first generation).
  std::vector<Place> frontier = hits;
  for (uint32_t depth = 0; depth <= kNearestAncestors && !frontier.empty();
       ++depth) {
    std::vector<Place> parents;
    for (const Place& p : frontier) {
      const StoredItem* s = held(p);
      if (s && !s->is_root() && !items_.count({p.first, s->parent_num})) {
        parents.emplace_back(p.first, s->parent_num);
      }
    }
    wanted.insert(wanted.end(), parents.begin(), parents.end());
    TS_RETURN_IF_ERROR(Fetch(wanted));
    wanted.clear();
    frontier = std::move(parents);
  }
  for (const Place& p : hits) {
    const StoredItem* s = held(p);
    if (!s || s->reply_count == 0) continue;
    Result<const std::vector<uint32_t>*> kids = Children(p.first, p.second);
    if (!kids.ok()) return kids.status();
    for (size_t i = 0; i < (*kids)->size() && i < kContextReplies; ++i) {
      wanted.emplace_back(p.first, (**kids)[i]);
    }
  }
  return Fetch(wanted);
}

Result<const StoredItem*> Searcher::Impl::RootOf(uint32_t shard,
                                                 const StoredItem& s,
                                                 Items* items) {
  if (s.is_root()) return &s;
  return items->Get(shard, s.root_num);
}

Status Searcher::Impl::FillContext(uint32_t shard, const StoredItem& s,
                                   ThreadContext* ctx, Items* items) {
  Result<const StoredItem*> root = RootOf(shard, s, items);
  if (!root.ok()) return root.status();
  ctx->root_id = (*root)->item.id;
  ctx->root_title = (*root)->item.title;
  // A story the dump lacked: the title its comments carry (Algolia's
  // story_title, Reddit's link_title).
  if (ctx->root_title.empty()) ctx->root_title = (*root)->item.story_title;
  if (ctx->root_title.empty()) ctx->root_title = s.item.story_title;
  ctx->root_author = (*root)->item.author;
  ctx->root_time = (*root)->item.time;
  ctx->root_size = (*root)->thread_size;
  // Ancestors, nearest first: up to the root, or the nearest
  // kNearestAncestors and the one above them when the root is further up.
  // Then the root stands for the rest: the item's depth says how many
  // ancestors lie between (the indexer keeps it, `check` verifies it).
  std::vector<const StoredItem*> chain;
  uint32_t cur = s.is_root() ? 0 : s.parent_num;
  uint32_t limit = kNearestAncestors + 1;
  while (cur != 0 && chain.size() < limit) {
    Result<const StoredItem*> a = items->Get(shard, cur);
    if (!a.ok()) return a.status();
    chain.push_back(*a);
    if ((*a)->is_root()) break;
    cur = (*a)->parent_num;
    if (chain.size() == limit && s.depth <= limit) {
      limit = kMaxChain;  // the depth disagrees: walk the whole chain
    }
  }
  if (!chain.empty()) {
    // Root first, then the nearest kNearestAncestors in root-to-parent order.
    const bool whole = chain.back()->is_root() || cur == 0;
    ctx->ancestors.push_back(MakeContextItem(whole ? *chain.back() : **root));
    const size_t rest =
        (whole ? chain.size() : std::max<size_t>(s.depth, chain.size())) - 1;
    size_t keep = std::min<size_t>(rest, kNearestAncestors);
    ctx->elided = static_cast<uint32_t>(rest - keep);
    for (size_t i = keep; i-- > 0;) {
      ctx->ancestors.push_back(MakeContextItem(*chain[i]));
    }
  }
  ctx->reply_count = s.reply_count;
  // reply_count counts the item's replies: with none, there is no list of
  // children to read.
  if (s.reply_count == 0) return Status::OK();
  Result<const std::vector<uint32_t>*> kids = items->Children(shard, s.num);
  if (!kids.ok()) return kids.status();
  for (uint32_t k : **kids) {
    if (ctx->replies.size() >= kContextReplies) break;
    Result<const StoredItem*> c = items->Get(shard, k);
    if (!c.ok()) return c.status();
    if ((*c)->placeholder || (*c)->parent_num != s.num) continue;
    ctx->replies.push_back(MakeContextItem(**c));
  }
  return Status::OK();
}

unsigned UsableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<unsigned>(n);
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

namespace {

// Searches running in this process (every Searcher), and the cores: a count
// pass takes a thread of its own only while a core is free, so that under
// load it costs no throughput (measured: 2 Searchers busy on 2 cores served
// 5-10% fewer queries with every count on its own thread).
std::atomic<unsigned> g_searches{0};

const unsigned g_cores = UsableCores();

class Searching {
 public:
  Searching() { g_searches.fetch_add(1, std::memory_order_relaxed); }
  ~Searching() { g_searches.fetch_sub(1, std::memory_order_relaxed); }
  Searching(const Searching&) = delete;
  Searching& operator=(const Searching&) = delete;
  static bool CoreFree() {
    return g_searches.load(std::memory_order_relaxed) < g_cores;
  }
};

}  // namespace

Result<SearchResult> Searcher::Search(const SearchRequest& req) {
  const Searching searching;
  const auto start = Clock::now();
  impl_->Reconnect();
  // A remote shard that fails mid-query is dropped and the query run again
  // over the others; at most once per shard, and once more on a
  // concurrent commit.
  bool retried_modified = false;
  for (size_t attempt = 0;; ++attempt) {
    // Taken afresh each time: Refresh replaces impl_ when the shard map
    // changed.
    Impl& im = *impl_;
    if (im.slots.empty()) {
      return Status::IOError("no shard answers: " + im.shards[0].error);
    }
    im.shard_failed = false;
    Result<SearchResult> r = Status::Internal("search not run");
    try {
      r = im.SearchOnce(req);
    } catch (const Xapian::DatabaseModifiedError&) {
      if (retried_modified) return Status::Busy("index changing; try again");
      retried_modified = true;
      TS_RETURN_IF_ERROR(Refresh());
      continue;
    } catch (const Xapian::NetworkError& e) {
      im.shard_failed = true;
      r = XapianStatus(e, "search");
    } catch (const Xapian::Error& e) {
      return XapianStatus(e, "search");
    }
    if (r.ok()) {
      r->missing_shards = im.Missing();
      r->partial = !r->missing_shards.empty();
      r->took_ms = std::chrono::duration<double, std::milli>(Clock::now() -
                                                             start)
                       .count();
      return r;
    }
    if (!im.shard_failed || attempt >= im.shards.size()) return r;
    if (!im.DropFailedShards() && attempt > 0) return r;
  }
}

namespace {

// Whether `q` matches what an AND of terms does (terms under AND and
// FILTER alone); then adds them to `terms`.
bool AndOfTerms(const Xapian::Query& q, std::vector<std::string>* terms) {
  switch (q.get_type()) {
    case Xapian::Query::LEAF_TERM:
      terms->push_back(*q.get_terms_begin());
      return true;
    case Xapian::Query::OP_AND:
    case Xapian::Query::OP_FILTER:
      for (size_t i = 0; i < q.get_num_subqueries(); ++i) {
        if (!AndOfTerms(q.get_subquery(i), terms)) return false;
      }
      return q.get_num_subqueries() > 0;
    default:
      return false;
  }
}

// Whether `q` has a match-everything leaf (a query of negations or filters
// alone). Xapian 1.4 unserialises such a leaf through shared state whose
// reference count is not atomic, so its count pass stays on one thread.
bool HasMatchAll(const Xapian::Query& q) {
  if (q.get_type() == Xapian::Query::LEAF_MATCH_ALL) return true;
  for (size_t i = 0; i < q.get_num_subqueries(); ++i) {
    if (HasMatchAll(q.get_subquery(i))) return true;
  }
  return false;
}

// A task on a thread of its own (SearchOnce's count pass), joined by Wait
// or, on an early return, when it goes out of scope.
class CountThread {
 public:
  CountThread() = default;
  CountThread(const CountThread&) = delete;
  CountThread& operator=(const CountThread&) = delete;
  ~CountThread() {
    if (thread_.joinable()) thread_.join();
  }
  // False when no thread could be started (the task has not run).
  template <class F>
  bool Start(F f) {
    try {
      thread_ = std::thread([this, f = std::move(f)]() mutable {
        try {
          f();
        } catch (...) {
          error_ = std::current_exception();
        }
      });
    } catch (const std::system_error&) {
      return false;  // out of threads or memory
    }
    return true;
  }
  // Whether a task was started and not yet waited for.
  bool started() const { return thread_.joinable(); }
  // Rethrows what the task threw (a Xapian::Error reaches Search's
  // retries as if thrown here).
  void Wait() {
    if (thread_.joinable()) thread_.join();
    if (error_) {
      std::exception_ptr e = error_;
      error_ = nullptr;
      std::rethrow_exception(e);
    }
  }

 private:
  std::thread thread_;
  std::exception_ptr error_;
};

}  // namespace

Result<SearchResult> Searcher::Impl::SearchOnce(const SearchRequest& req) {
  Impl& im = *this;
  if (req.limit == 0 || req.limit > 1000) {
    return Status::InvalidArgument("limit: must be between 1 and 1000");
  }
  SearchResult result;
  result.query = req.query;
  result.page = req.page;
  result.limit = req.limit;
  Result<QueryNode> tree = ParseQuery(req.query);
  if (!tree.ok()) return tree.status();
  const bool has_words = tree->HasWords();
  const SortOrder sort = req.sort.value_or(has_words ? SortOrder::kRelevance
                                                     : SortOrder::kDateDesc);
  result.sort = sort;
  const bool ranked = has_words && sort == SortOrder::kRelevance;
  {
    // A ranked query weighs its terms through Bm25TermQuery: the same
    // weights without a length lookup per match. (Each leaf of a term given
    // twice weighs as one given once: Xapian's wqf is the leaf's own.)
    std::vector<std::string> fast_terms;
    const bool fast = ranked && im.CachedLengths();
    const Xapian::doccount first =
        static_cast<Xapian::doccount>(req.page) * req.limit;
    // The proximity boost is scored after the match, on the best results
    // only (searcher/proximity.h), for a page that starts inside the window
    // it boosts.
    ProximityOptions popts;
    popts.weight = im.opts.proximity_weight;
    popts.k1 = im.opts.bm25_k1;
    popts.b = im.opts.bm25_b;
    popts.min_normlen = im.opts.bm25_min_normlen;
    std::vector<std::string> proximity_terms;
    if (ranked && first < im.opts.rescore_window) {
      proximity_terms = ProximityTerms(*tree);
    }
    const bool rescore = ProximityScorer::Boosts(proximity_terms, popts);
    im.match_seen = std::make_shared<MatchSeen>();
    if (fast && rescore && im.opts.exact_weight > 0) {
      // The proximity bounds read the wdfs of the words' exact terms from
      // the match (searcher/proximity.h): those of the top level's one-term
      // words, whose exact term is a weighed leaf every match passes
      // through, so that the match weighs each MSet document that has it.
      // (A term met only in a longer phrase is not recorded: its bounds
      // read the index.)
      for (const std::string& t : OneTermWords(*tree)) {
        im.match_seen->wdf_terms.insert(t);
      }
    }
    // The title boost of each plain word with a stem weighs inside the
    // word's own query: one posting source a word, whose block maxima hold
    // the whole weight, rather than an AND_MAYBE over the query that tells
    // the words' sources to reach less (by the title terms' largest
    // weights), which kept them from skipping blocks.
    std::unordered_set<const QueryNode*> title_words;
    if (fast && im.opts.title_weight > 0) {
      title_words = TitleFoldedWords(*tree, im.stemmer);
    }
    Xapian::Query query = im.Build(*tree, false, fast ? &fast_terms : nullptr,
                                   &title_words);
    // What matches, for the count: a stemmed word's stem term alone (the
    // same matches: QueryBuildOptions::match_only), when building it again
    // reads nothing; and without the title signal (it only adds weight).
    Xapian::Query matching = BuildsWithoutReading(*tree) ? im.Build(*tree, true)
                             : fast                      ? im.Build(*tree)
                                                         : query;
    Xapian::Query filter = im.RequestFilter(req);
    if (!filter.empty()) {
      query = Xapian::Query(Xapian::Query::OP_FILTER, query, filter);
      matching = Xapian::Query(Xapian::Query::OP_FILTER, matching, filter);
    }
    if (ranked && im.opts.title_weight > 0) {
      Xapian::Query title =
          TitleBoost(*tree, im.stemmer, im.opts.title_weight,
                     fast ? im.FastTerm(&fast_terms,
                                        im.opts.title_weight <= 1)
                          : nullptr,
                     &title_words);
      if (!title.empty()) {
        query = Xapian::Query(Xapian::Query::OP_AND_MAYBE, query, title);
      }
    }
    // For highlighting, the terms a hit has, asked of a query of terms
    // (Bm25TermQuery's PostingSources carry none): those it weighs.
    std::vector<Xapian::Query> term_queries;
    std::sort(fast_terms.begin(), fast_terms.end());
    fast_terms.erase(std::unique(fast_terms.begin(), fast_terms.end()),
                     fast_terms.end());
    for (const std::string& t : fast_terms) term_queries.emplace_back(t);
    // The terms whose presence highlighting reports: the query's, and the
    // title's words even where they add no weight (sorted by date).
    if (req.highlight_fields && has_words) {
      for (auto t = query.get_unique_terms_begin();
           t != query.get_unique_terms_end(); ++t) {
        term_queries.emplace_back(*t);
      }
      if (!ranked || im.opts.title_weight <= 0) {
        Xapian::Query title = TitleBoost(*tree, im.stemmer, 1.0);
        for (auto t = title.get_terms_begin(); t != title.get_terms_end();
             ++t) {
          term_queries.emplace_back(*t);
        }
      }
    }
    Xapian::Enquire terms_enquire(im.db);
    terms_enquire.set_query(Xapian::Query(Xapian::Query::OP_OR,
                                          term_queries.begin(),
                                          term_queries.end()));
    // Ranked by relevance, then time: with the match's sources (every shard
    // local), each part's times from memory (DocTimes) as the key.
    static_assert(DocTimes::kSlot == schema::kValueTime);
    std::optional<TimeKeyMaker> time_key;
    if (fast && sort == SortOrder::kRelevance) {
      im.match_seen->want_times = true;
      time_key.emplace(im.match_seen);
    }
    Xapian::Enquire enquire(im.db);
    enquire.set_query(query);
    enquire.set_weighting_scheme(Xapian::BM25Weight(
        im.opts.bm25_k1, 0, 1, im.opts.bm25_b, im.opts.bm25_min_normlen));
    switch (sort) {
      case SortOrder::kRelevance:
        if (time_key) {
          enquire.set_sort_by_relevance_then_key(&*time_key, true);
        } else if (has_words) {
          enquire.set_sort_by_relevance_then_value(schema::kValueTime, true);
        } else {
          enquire.set_sort_by_value(schema::kValueTime, true);
        }
        break;
      case SortOrder::kDateAsc:
        enquire.set_sort_by_value_then_relevance(schema::kValueTime, false);
        break;
      case SortOrder::kDateDesc:
        enquire.set_sort_by_value_then_relevance(schema::kValueTime, true);
        break;
      case SortOrder::kPoints:
        enquire.set_sort_by_value_then_relevance(schema::kValuePoints, true);
        break;
      case SortOrder::kReplies:
        enquire.set_sort_by_value_then_relevance(schema::kValueReplies, true);
        break;
    }
    if (req.collapse_thread) enquire.set_collapse_key(schema::kValueThread);
    // A ranked, collapsed or faceted page is found in two passes: the page
    // with Xapian's pruning on (it skips documents that cannot reach the
    // page), then, unless the first pass saw every match, an unweighted
    // exhaustive match for the exact total, the facets and the per-thread
    // counts. A page sorted by a value, plain, is one exhaustive pass
    // (sorting by value prunes little). Match spies run in the unweighted
    // pass only: the remote backend runs them over a weighted AND_MAYBE
    // query's candidates, not just its matches, and overcounts.
    //
    // With a proximity boost, the first pass fetches the best
    // `rescore_window` results (or down to the page, if deeper), which are
    // boosted and ordered again; results below the window keep their
    // first-pass order. Boosts only add, so the order stays by score.
    const bool two_pass = ranked || req.collapse_thread || req.facets;
    const Xapian::doccount window = rescore ? im.opts.rescore_window : 0;
    const Xapian::doccount fetch_first = rescore ? 0 : first;
    const Xapian::doccount fetch_count =
        rescore ? std::max(window, first + req.limit) : req.limit;
    Xapian::MSet mset = enquire.get_mset(
        fetch_first, fetch_count, two_pass ? 0 : im.db.get_doccount());
    // Term frequencies for snippets and proximity: those the Searcher
    // remembers; with a remote shard, the match's MSet's, which hold the
    // query's terms' (where the database costs a round trip per term and
    // remote shard).
    const TermFreqFn termfreq =
        im.AllLocal() ? im.TermFreqFunction()
                      : TermFreqFn([&mset](const std::string& t) {
                          return mset.get_termfreq(t);
                        });
    // The exact total without a count pass: when the first pass saw every
    // match, or when what matches is one term (a one-word query), whose
    // frequency the match's statistics hold.
    const bool one_term = matching.get_type() == Xapian::Query::LEAF_TERM;
    const bool counted =
        !req.collapse_thread && !req.facets &&
        (one_term ||
         mset.get_matches_lower_bound() == mset.get_matches_upper_bound());
    const bool count_pass = two_pass && !counted;
    std::unique_ptr<FacetSpies> spy;
    if (count_pass && req.facets) spy = std::make_unique<FacetSpies>();
    Xapian::ValueCountMatchSpy threads(schema::kValueThread);
    // What the count pass matches: for an AND of terms (filters too) with
    // one whose postings are likely held in memory (dense, or listed with
    // room left), one source that reads them there (AllTermsQuery; without
    // one, Xapian's own AND is quicker).
    Xapian::Query count_query = matching;
    std::vector<std::string> and_terms;
    if (count_pass && im.CachedLengths() && AndOfTerms(matching, &and_terms) &&
        and_terms.size() >= 2 &&
        std::any_of(and_terms.begin(), and_terms.end(),
                    [&](const std::string& t) {
                      const Xapian::doccount tf = termfreq(t);
                      return DenseTerms::Likely(tf, im.db.get_doccount()) ||
                             ListTerms::Likely(tf, im.db.size());
                    })) {
      count_query = AllTermsQuery(and_terms);
    }
    Xapian::doccount count_total = 0;
    auto count = [&req, &spy, &threads, &count_total](
                     const Xapian::Database& cdb, const Xapian::Query& q) {
      Xapian::Enquire all(cdb);
      all.set_query(q);
      all.set_weighting_scheme(Xapian::BoolWeight());
      if (spy) {
        all.add_matchspy(&spy->authors);
        all.add_matchspy(&spy->threads);
        all.add_matchspy(&spy->times);
      } else if (req.collapse_thread) {
        all.add_matchspy(&threads);
      }
      count_total =
          all.get_mset(0, 0, cdb.get_doccount()).get_matches_estimated();
    };
    // The count pass reads every match; with every shard local it runs on
    // a thread of its own, on the count handles, while this one rescores,
    // reads the store and makes snippets. (Declared after what it fills:
    // an early return joins it first.)
    CountThread counter;
    if (count_pass && im.count_handles && Searching::CoreFree() &&
        !HasMatchAll(matching)) {
      // Its own copy of the query: Xapian's query objects count their
      // references without atomics, so none may be shared.
      std::string serialised;
      try {
        serialised = count_query.serialise();
      } catch (const Xapian::Error&) {
        // A part that does not serialise: the count runs here, later.
      }
      if (!serialised.empty() && counter.Start([&count, &im, serialised] {
            count(im.count_db,
                  Xapian::Query::unserialise(serialised, AllTermsRegistry()));
          })) {
        ++im.parallel_counts;
      }
    }
    std::unordered_map<std::string, uint64_t> thread_hits;
    // Waits for the count pass (or runs it), and fills in what it found.
    auto finish_count = [&] {
      if (count_pass) {
        if (counter.started()) {
          counter.Wait();
        } else {
          count(im.db, count_query);
        }
        if (req.collapse_thread) {
          const Xapian::ValueCountMatchSpy& t = spy ? spy->threads : threads;
          result.total = ThreadCount(t);
          for (auto it = t.values_begin(); it != t.values_end(); ++it) {
            thread_hits.emplace(*it, it.get_termfreq());
          }
        } else {
          result.total = count_total;
        }
      } else if (two_pass && one_term) {
        result.total = mset.get_termfreq(*matching.get_terms_begin());
      } else {
        result.total = mset.get_matches_estimated();
      }
      if (spy) result.facets = spy->Result(req.facet_limit);
    };
    // The fetched results in their final order.
    struct Ranked {
      Xapian::MSetIterator it;
      double score = 0;
      std::string key;  // the sort key (time) that breaks ties
    };
    std::vector<double> boosts;
    if (rescore) {
      const ProximityScorer proximity(im.db, std::move(proximity_terms),
                                      popts, termfreq);
      std::vector<Xapian::docid> boosted;
      std::vector<double> base;
      for (Xapian::MSetIterator it = mset.begin();
           it != mset.end() && boosted.size() < window; ++it) {
        boosted.push_back(*it);
        base.push_back(it.get_weight());
      }
      Result<std::vector<double>> b =
          im.Boosts(proximity, boosted, base, first + req.limit);
      im.match_seen.reset();  // its lists are the query's alone
      if (!b.ok()) return b.status();
      boosts = std::move(b).value();
    }
    std::vector<Ranked> order;
    order.reserve(mset.size());
    for (Xapian::MSetIterator it = mset.begin(); it != mset.end(); ++it) {
      Ranked r{it, 0, {}};
      if (ranked) {
        r.score = it.get_weight();
        if (order.size() < boosts.size()) r.score += boosts[order.size()];
        // Scores equal but for the last bits of a floating-point sum (its
        // order follows Xapian's postlist tree, which depends on the shard
        // layout) are equal: rounded, and such ties go newest first as
        // Xapian orders true ties.
        r.score = std::round(r.score * 1e9) / 1e9;
        r.key = it.get_sort_key();
      }
      order.push_back(std::move(r));
    }
    if (ranked) {
      auto by_score = [](const Ranked& a, const Ranked& b) {
        if (a.score != b.score) return a.score > b.score;
        return a.key > b.key;
      };
      const auto split = order.begin() +
                         std::min<ptrdiff_t>(rescore ? window : 0,
                                             static_cast<ptrdiff_t>(order.size()));
      std::stable_sort(order.begin(), split, by_score);
      std::stable_sort(split, order.end(), by_score);
    }
    const size_t skip = first - fetch_first;
    if (order.size() > skip + req.limit) order.resize(skip + req.limit);
    order.erase(order.begin(),
                order.begin() + std::min(skip, order.size()));
    std::vector<std::string> words;
    QueryWords(*tree, &words);
    // The page's records first, then what their contexts show.
    Items items(&im);
    std::vector<Items::Place> places;
    for (const Ranked& r : order) places.push_back(im.Locate(*r.it));
    TS_RETURN_IF_ERROR(items.Fetch(places));
    std::vector<const StoredItem*> page;
    for (const auto& [shard, num] : places) {
      Result<const StoredItem*> s = items.Get(shard, num);
      if (!s.ok()) {
        return s.status().WithContext(
            "hit #" + std::to_string(num) +
            (im.collection ? " of shard " + im.shards[shard].name : "") +
            " is in the index but not the store");
      }
      page.push_back(*s);
    }
    TS_RETURN_IF_ERROR(items.Prefetch(places, req.context));
    SnippetTerms sterms(im.stemmer);
    if (has_words) {
      SnippetTermsOf(*tree, termfreq,
                     std::max<double>(1, im.db.get_doccount()), &sterms);
    }
    // Collapsed hits show their threads' counts: the count comes first.
    if (req.collapse_thread) finish_count();
    uint32_t rank = first;
    for (size_t pos = 0; pos < order.size(); ++pos) {
      const Xapian::MSetIterator& it = order[pos].it;
      Hit hit;
      hit.rank = ++rank;
      const uint32_t shard = places[pos].first;
      hit.shard = shard;
      hit.item = *page[pos];
      hit.score = order[pos].score;
      if (req.collapse_thread) {
        // Every matching item of the thread (the spy saw them all).
        auto th = thread_hits.find(it.get_document().get_value(
            schema::kValueThread));
        hit.thread_hits = th != thread_hits.end()
                              ? static_cast<uint32_t>(th->second)
                              : it.get_collapse_count() + 1;
      }
      std::string body = schema::IndexedBody(hit.item);
      if (has_words) {
        bool matched = false;
        hit.snippet = MakeSnippet(body, sterms, req.snippet_bytes, &matched);
        if (!matched && schema::TitleIsBody(hit.item.item) &&
            !hit.item.item.title.empty()) {
          // Matched in the title, which a thread opener indexes as text.
          hit.snippet = MakeSnippet(hit.item.item.title + "\n" + body, sterms,
                                    req.snippet_bytes);
        }
      } else {
        hit.snippet = HtmlEscape(OneLineExcerpt(body, req.snippet_bytes));
      }
      if (req.highlight_fields && has_words) {
        std::unordered_set<std::string> matched;
        for (auto t = terms_enquire.get_matching_terms_begin(*it);
             t != terms_enquire.get_matching_terms_end(*it); ++t) {
          matched.insert(*t);
        }
        hit.text_highlight = HighlightAll(body, matched, "", im.stemmer);
        hit.title_highlight =
            HighlightAll(hit.item.item.title, matched, "S", im.stemmer);
        for (const std::string& w : words) {
          std::string stem = "Z" + im.stemmer(w);
          if (matched.count(w) || matched.count(stem) ||
              matched.count("S" + w) || matched.count("ZS" + im.stemmer(w))) {
            if (std::find(hit.matched_words.begin(), hit.matched_words.end(),
                          w) == hit.matched_words.end()) {
              hit.matched_words.push_back(w);
            }
          }
        }
      } else if (req.highlight_fields) {
        hit.text_highlight = HtmlEscape(body);
        hit.title_highlight = HtmlEscape(hit.item.item.title);
      }
      Result<const StoredItem*> root = im.RootOf(shard, hit.item, &items);
      if (!root.ok()) return root.status();
      hit.thread_id = (*root)->item.id;
      if (req.context) {
        TS_RETURN_IF_ERROR(
            im.FillContext(shard, hit.item, &hit.context, &items));
      }
      result.hits.push_back(std::move(hit));
    }
    if (!req.collapse_thread) finish_count();
    if (has_words && result.total < kSuggestBelow) {
      result.did_you_mean = im.Suggest(*tree, req.query, filter, result.total);
    }
  }
  // Xapian errors reach Searcher::Search, which knows what to do with a
  // modified database or a shard that stopped answering.
  return result;
}

Result<ThreadView> Searcher::Thread(std::string_view id, uint32_t max_depth) {
  Impl& im = *impl_;
  im.Reconnect();
  Result<std::pair<uint32_t, StoredItem>> found = FindItem(id);
  if (!found.ok()) return found.status();
  const uint32_t shard = found->first;
  const StoreReader* store = im.shards[shard].store.get();
  const StoredItem* asked = &found->second;
  ThreadView view;
  view.asked_id = asked->item.id;
  ThreadContext ctx;
  Impl::Items items(&im);
  TS_RETURN_IF_ERROR(im.FillContext(shard, *asked, &ctx, &items));
  Result<const StoredItem*> root = im.RootOf(shard, *asked, &items);
  if (!root.ok()) return root.status();
  view.size = (*root)->thread_size;
  view.title = ctx.root_title;
  // Breadth-first build; nodes live in a deque so pointers stay valid.
  view.root.item = **root;
  struct Pending {
    ThreadNode* node;
    uint32_t depth;
  };
  std::deque<Pending> queue{{&view.root, 0}};
  std::unordered_set<uint32_t> seen{view.root.item.num};
  uint32_t nodes = 1;
  while (!queue.empty()) {
    Pending p = queue.front();
    queue.pop_front();
    // reply_count may count a reply gone since, never miss one; a
    // placeholder hint-linked below the node is no reply but is shown.
    if (p.node->item.reply_count == 0 && !p.node->item.hint_children) {
      continue;
    }
    // Through `items`: FillContext has read the asked item's children.
    Result<const std::vector<uint32_t>*> listed =
        items.Children(shard, p.node->item.num);
    if (!listed.ok()) return listed.status();
    const std::vector<uint32_t>& kids = **listed;
    if (kids.empty()) continue;
    if (p.depth >= max_depth || nodes >= kMaxTreeNodes) {
      p.node->truncated = true;
      continue;
    }
    p.node->children.reserve(kids.size());
    // One read for all of a node's children (one request when remote).
    std::vector<uint32_t> fresh;
    for (uint32_t k : kids) {
      if (seen.insert(k).second) fresh.push_back(k);
    }
    std::vector<Result<StoredItem>> got;
    TS_RETURN_IF_ERROR(store->GetMany(fresh, &got));
    for (Result<StoredItem>& c : got) {
      if (!c.ok()) return c.status();
      if (c->parent_num != p.node->item.num) continue;
      p.node->children.push_back(ThreadNode{std::move(c).value(), {}, false});
      ++nodes;
    }
    for (ThreadNode& child : p.node->children) {
      queue.push_back({&child, p.depth + 1});
    }
  }
  if (view.root.item.placeholder) {
    // The items below a placeholder root, and below placeholders under it
    // (missing parents), are roots of their own threads (common/item.h):
    // the view holds their threads, however deep it is drawn. The title is
    // the first the items carry, breadth first.
    std::vector<StoredItem> below;
    TS_RETURN_IF_ERROR(store->ItemsBelowPlaceholder(
        view.root.item.num, false, kMaxTreeNodes, &below));
    view.size = 0;
    for (const StoredItem& c : below) {
      view.size += c.thread_size;
      if (view.title.empty()) view.title = c.item.story_title;
    }
  }
  for (const ContextItem& a : ctx.ancestors) view.ancestors.push_back(a);
  return view;
}

Result<ThreadView> Searcher::ThreadBelow(std::string_view id,
                                         uint32_t levels_below) {
  Result<std::pair<uint32_t, StoredItem>> asked = FindItem(id);
  if (!asked.ok()) return asked.status();
  const uint64_t depth = uint64_t{asked->second.depth} + levels_below;
  return Thread(id, static_cast<uint32_t>(
                        std::min<uint64_t>(depth, UINT32_MAX)));
}

namespace {

std::vector<CountEntry> TopN(const std::unordered_map<std::string, uint64_t>& m,
                             size_t n) {
  std::vector<CountEntry> v;
  v.reserve(m.size());
  for (const auto& [k, c] : m) v.push_back({k, c});
  std::sort(v.begin(), v.end(), [](const CountEntry& a, const CountEntry& b) {
    return a.count != b.count ? a.count > b.count : a.key < b.key;
  });
  if (v.size() > n) v.resize(n);
  return v;
}

// The item numbers at the end of the keys under `prefix`, in key order.
Status ScanNums(const StoreReader& store, std::string_view prefix,
                std::vector<uint32_t>* out) {
  return store.Scan(prefix, [&](std::string_view k, std::string_view) {
    out->push_back(keys::TrailingNum(k));
    return true;
  });
}

// Reads the items numbered `nums`, in order, a chunk at a time (one request
// per chunk on a remote store), and passes each chunk to `fn`. The first
// item that cannot be read is the error.
Status ReadInChunks(
    const StoreReader& store, const std::vector<uint32_t>& nums,
    const std::function<Status(const std::vector<StoredItem>&)>& fn) {
  constexpr size_t kChunk = 256;
  std::vector<Result<StoredItem>> got;
  std::vector<StoredItem> items;
  for (size_t at = 0; at < nums.size(); at += kChunk) {
    const std::vector<uint32_t> chunk(
        nums.begin() + at, nums.begin() + std::min(nums.size(), at + kChunk));
    TS_RETURN_IF_ERROR(store.GetMany(chunk, &got));
    items.clear();
    for (Result<StoredItem>& r : got) {
      if (!r.ok()) return r.status();
      items.push_back(std::move(r).value());
    }
    TS_RETURN_IF_ERROR(fn(items));
  }
  return Status::OK();
}

std::string YearOf(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm;
  if (!gmtime_r(&tt, &tm)) return "?";
  return std::to_string(tm.tm_year + 1900);
}

}  // namespace

Result<UserSummary> Searcher::User(std::string_view name) {
  Impl& im = *impl_;
  UserSummary u;
  u.name = std::string(name);
  std::string key = AsciiLower(TrimAscii(name));
  std::unordered_map<std::string, uint64_t> replied_to, years, threads;
  std::unordered_map<std::string, uint64_t> repliers;
  im.Reconnect();
  for (Impl::Shard& shard : im.shards) {
    if (!shard.up) continue;
    const StoreReader* store = shard.store.get();
    std::vector<uint32_t> mine, replies;
    TS_RETURN_IF_ERROR(ScanNums(*store, keys::AuthorPrefix(key), &mine));
    TS_RETURN_IF_ERROR(ScanNums(*store, keys::ReplyToPrefix(key), &replies));
    std::unordered_map<uint32_t, std::string> root_ids;
    Status st = ReadInChunks(*store, mine, [&](const std::vector<StoredItem>&
                                                   items) -> Status {
      // The threads' roots not seen yet, in one read.
      std::vector<uint32_t> roots;
      for (const StoredItem& s : items) {
        if (!s.is_root() && !root_ids.count(s.root_num)) {
          roots.push_back(s.root_num);
        }
      }
      std::sort(roots.begin(), roots.end());
      roots.erase(std::unique(roots.begin(), roots.end()), roots.end());
      std::vector<Result<StoredItem>> got;
      TS_RETURN_IF_ERROR(store->GetMany(roots, &got));
      for (size_t i = 0; i < roots.size(); ++i) {
        if (got[i].ok()) root_ids.emplace(roots[i], got[i]->item.id);
      }
      for (const StoredItem& s : items) {
        ++u.items;
        u.by_type[std::string(ItemTypeName(s.item.type))]++;
        if (u.first_time == 0 || s.item.time < u.first_time) {
          u.first_time = s.item.time;
        }
        if (s.item.time >= u.last_time) {
          u.last_time = s.item.time;
          if (!s.item.author_name.empty()) u.display_name = s.item.author_name;
          // Names match in any case: show the one the items carry.
          if (!s.item.author.empty()) u.name = s.item.author;
        }
        years[YearOf(s.item.time)]++;
        if (!s.parent_author.empty()) replied_to[s.parent_author]++;
        // A root that cannot be read stands for itself by the item's id.
        auto rit = root_ids.emplace(s.root_num, s.item.id).first;
        threads[rit->second]++;
      }
      return Status::OK();
    });
    TS_RETURN_IF_ERROR(st);
    st = ReadInChunks(*store, replies,
                      [&](const std::vector<StoredItem>& items) -> Status {
                        for (const StoredItem& s : items) {
                          ++u.replies_received;
                          repliers[AsciiLower(s.item.author)]++;
                        }
                        return Status::OK();
                      });
    TS_RETURN_IF_ERROR(st);
  }
  if (u.items == 0) {
    return Status::NotFound("no items by \"" + std::string(name) + "\"");
  }
  u.threads = threads.size();
  u.top_repliers = TopN(repliers, 10);
  u.top_replied_to = TopN(replied_to, 10);
  u.top_threads = TopN(threads, 10);
  u.by_year = TopN(years, years.size());
  std::sort(u.by_year.begin(), u.by_year.end(),
            [](const CountEntry& a, const CountEntry& b) { return a.key < b.key; });
  return u;
}

Result<DbStats> Searcher::Stats() {
  Impl& im = *impl_;
  im.Reconnect();
  DbStats s;
  s.shards = static_cast<uint32_t>(im.shards.size());
  // An author may write in several shards: count distinct names.
  std::unordered_set<std::string> authors;
  for (Impl::Shard& shard : im.shards) {
    if (!shard.up) continue;
    const StoreReader* store = shard.store.get();
    Status st = store->ForEachItem([&](uint32_t, const StoredItem& it) {
      if (it.placeholder) {
        ++s.placeholders;
        return Status::OK();
      }
      ++s.items;
      if (it.item.deleted) ++s.deleted;
      if (it.is_root()) ++s.threads;
      s.by_source[std::string(SourceName(it.item.source))]++;
      s.by_type[std::string(ItemTypeName(it.item.type))]++;
      return Status::OK();
    });
    TS_RETURN_IF_ERROR(st);
    std::string last;
    st = store->Scan(std::string(1, keys::kAuthor),
                     [&](std::string_view k, std::string_view) {
                       std::string_view name = k.substr(1, k.size() - 1 - 13);
                       if (name != last) {
                         last = std::string(name);
                         if (im.shards.size() == 1) {
                           ++s.authors;
                         } else {
                           authors.insert(last);
                         }
                       }
                       return true;
                     });
    TS_RETURN_IF_ERROR(st);
    if (shard.remote()) {
      s.store_bytes += store->DiskSize();
    } else {
      s.index_bytes += DirectorySize(shard.dir + "/xapian");
      s.store_bytes += DirectorySize(shard.dir + "/store");
    }
  }
  if (im.shards.size() > 1) s.authors = authors.size();
  try {
    s.searchable = im.db.get_doccount();
  } catch (const Xapian::Error& e) {
    return XapianStatus(e, "stats");
  }
  s.missing_shards = im.Missing();
  return s;
}

}  // namespace threadsearch
