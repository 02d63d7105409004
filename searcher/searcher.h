// Searcher: ranked queries over a threadsearch database, every hit in its
// thread context; plus the read-side views (thread tree, user, stats).
#ifndef THREADSEARCH_SEARCHER_SEARCHER_H_
#define THREADSEARCH_SEARCHER_SEARCHER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/item.h"
#include "common/status.h"

namespace threadsearch {

class StoreReader;

enum class SortOrder {
  kRelevance,  // BM25 + proximity; ties newest first
  kDateAsc,    // "date": oldest first
  kDateDesc,   // "-date": newest first
  kPoints,     // "points": most points first
  kReplies,    // "replies": most direct replies first
};
// "relevance", "date", "-date", "points", "replies" (also "newest",
// "oldest"); InvalidArgument naming the valid values otherwise.
Result<SortOrder> ParseSortOrder(std::string_view s);
std::string_view SortOrderName(SortOrder s);

struct SearchRequest {
  // The query language: words (all must match), "phrases", OR, AND, NOT,
  // -word, +word, (), prefix*, field:value filters and ranges (grammar and
  // fields in searcher/query_parser.h). May be empty, or hold filters only:
  // then the filters alone select items, newest first.
  std::string query;
  // Filters added to the query (AND). Author and replies-to names are
  // compared case-insensitively; several names in one list are OR-ed.
  std::vector<std::string> authors;
  std::vector<std::string> replies_to;
  std::string thread;  // any item id of the thread
  std::optional<ItemType> type;
  std::optional<Source> source;
  std::string list;
  std::optional<int64_t> after;   // time >= after (Unix seconds)
  std::optional<int64_t> before;  // time < before
  // Inclusive ranges on points and on the comment count (the source's
  // descendant count, else the items below a thread opener: a story, poll,
  // job, or message without a parent; schema::OpensThread); items without
  // the number never match a range on it.
  std::optional<int64_t> points_min, points_max;
  std::optional<int64_t> comments_min, comments_max;
  std::optional<SortOrder> sort;  // default: relevance, or -date with no words
  uint32_t page = 0;              // 0-based
  uint32_t limit = 10;            // hits per page, 1..1000
  bool collapse_thread = false;   // one hit per thread (its best)
  bool context = true;            // fill Hit::context
  bool facets = false;            // fill SearchResult::facets
  uint32_t facet_limit = 10;      // top authors and threads kept
  // collapse_thread: SearchResult::total counts threads, exactly, and each
  // hit's thread_hits the matching items of its thread.
  // Fill Hit::title_highlight, text_highlight and matched_words (the HN
  // Search API's _highlightResult needs them).
  bool highlight_fields = false;
  size_t snippet_bytes = 240;
};

struct ContextItem {
  std::string id;
  std::string author;
  std::string author_name;  // the name a mail author gave, when any
  int64_t time = 0;
  std::string excerpt;  // one line of plain text
  // Known only by its id (a missing parent, placed in the thread by a
  // thread hint or by its replies).
  bool missing = false;
};

struct ThreadContext {
  // The thread root.
  std::string root_id;
  std::string root_title;
  std::string root_author;
  int64_t root_time = 0;
  uint32_t root_size = 0;  // items in the thread
  bool root_missing = false;  // the root is a placeholder (parent unseen)
  // Root to parent: the root, then (after a gap of `elided` items when the
  // chain is long) the nearest five ancestors.
  std::vector<ContextItem> ancestors;
  uint32_t elided = 0;
  // The first three direct replies, oldest first.
  std::vector<ContextItem> replies;
  uint32_t reply_count = 0;
};

struct Hit {
  StoredItem item;
  // The shard the item lives in (index into Searcher::shard_names(); 0 for
  // a plain database). item.num and its thread's nums are that shard's.
  uint32_t shard = 0;
  std::string thread_id;     // the root's id
  double score = 0;          // relevance weight (0 when sorted otherwise)
  uint32_t rank = 0;         // 1-based rank in the whole result
  uint32_t thread_hits = 0;  // with collapse: matching items in the thread
  std::string snippet;       // HTML-escaped, matches in <mark>…</mark>
  ThreadContext context;
  // With SearchRequest::highlight_fields: the whole title and body text
  // (HTML-escaped plain text) with matches in <mark>…</mark>, and the query
  // words that matched this item (as the user typed them, lower-cased).
  std::string title_highlight;
  std::string text_highlight;
  std::vector<std::string> matched_words;
};

struct CountEntry {
  std::string key;
  uint64_t count = 0;
};

// Exact counts over every match of a query (not just the page), counting
// items (also when the result is collapsed by thread).
struct Facets {
  std::vector<CountEntry> authors;  // top authors, most items first
  std::vector<CountEntry> threads;  // top threads (root ids)
  std::vector<CountEntry> years;    // "2003" -> count, oldest first
  std::vector<CountEntry> months;   // "2003-05" -> count, oldest first
};

struct SearchResult {
  std::string query;
  uint64_t total = 0;  // exact number of matching items (threads when
                       // collapsed)
  uint32_t page = 0;
  uint32_t limit = 0;
  double took_ms = 0;
  SortOrder sort = SortOrder::kRelevance;
  std::vector<Hit> hits;
  std::optional<Facets> facets;  // with SearchRequest::facets
  // When the query found fewer than three matches: the query text with
  // each word the index lacks (or holds only in one or two items) replaced
  // by the index's closest spelling (Xapian spelling data when the index
  // has it, else the most frequent term within edit distance 1-2 that
  // starts with the same letter), provided that query matches more.
  // Empty otherwise.
  std::string did_you_mean;
  // A collection with shards that did not answer (down, or slower than
  // SearcherOptions::shard_timeout_ms): the result holds only the other
  // shards' items, and `missing_shards` names the absent ones.
  bool partial = false;
  std::vector<std::string> missing_shards;
};

// A thread as a tree, for `thread` and /api/items.
struct ThreadNode {
  StoredItem item;
  std::vector<ThreadNode> children;
  bool truncated = false;  // children exist below max_depth
};

struct ThreadView {
  std::string asked_id;         // the item the user named
  std::vector<ContextItem> ancestors;  // root to parent of the asked item
  ThreadNode root;              // the whole thread from its root
  // The root's title; for a root without one (a story the dump lacked),
  // the story title its items carry (Item::story_title), if any.
  std::string title;
  // Items in the thread; for a placeholder root (a story the dump lacked),
  // the items of the tree below it.
  uint32_t size = 0;
};

struct UserSummary {
  std::string name;          // as the newest item spells it (asked in any case)
  std::string display_name;  // most recent display name seen
  uint64_t items = 0;
  std::map<std::string, uint64_t> by_type;
  int64_t first_time = 0;
  int64_t last_time = 0;
  uint64_t threads = 0;             // distinct threads taken part in
  uint64_t replies_received = 0;    // items whose parent they wrote
  std::vector<CountEntry> top_repliers;     // who replied to them most
  std::vector<CountEntry> top_replied_to;   // whom they replied to most
  std::vector<CountEntry> by_year;
  std::vector<CountEntry> top_threads;      // thread id -> their items
};

struct DbStats {
  uint64_t items = 0;  // non-placeholder items
  uint64_t placeholders = 0;
  uint64_t deleted = 0;
  uint64_t searchable = 0;  // Xapian documents
  uint64_t threads = 0;
  uint64_t authors = 0;
  std::map<std::string, uint64_t> by_source;
  std::map<std::string, uint64_t> by_type;
  uint64_t index_bytes = 0;
  uint64_t store_bytes = 0;
  // A collection: its shards, and those that did not answer.
  uint32_t shards = 1;
  std::vector<std::string> missing_shards;
};

struct SearcherOptions {
  // Per-thread Database handles reopen when the index advanced at most this
  // often (milliseconds).
  int reopen_interval_ms = 1000;
  // Ranking (relevance order). BM25 parameters, see Xapian::BM25Weight.
  double bm25_k1 = 1.2;
  double bm25_b = 0.75;
  double bm25_min_normlen = 0.5;
  // Weight factor on a word's exact form, on top of its stem's weight.
  double exact_weight = 1.0;
  // Weight factor on the proximity boost (the query's plain words as a
  // phrase, within a window, and as adjacent pairs).
  double proximity_weight = 1.0;
  // How many of the best results get the proximity boost and are ordered
  // again (searcher/proximity.h); results below keep the order of the
  // words alone.
  uint32_t rescore_window = 200;
  // Weight factor on the plain words found in the item's title (S terms);
  // 0 turns the title signal off. Title words never make an item match.
  double title_weight = 0.2;
  // Collections (common/collection.h): how long a remote shard may take to
  // connect or answer before the query goes on without it, and how soon a
  // shard that failed is tried again.
  int shard_timeout_ms = 2000;
  int shard_retry_ms = 1000;
  // Ranked queries read document lengths from an in-memory copy of each
  // index part's length list (searcher/bm25_source.h; 4 bytes a document,
  // shared by the process's searchers) instead of from the index for every
  // match: the same results, several times faster for common words. Local
  // shards only; off: Xapian's BM25Weight reads them.
  bool cached_lengths = true;
  // A query whose exact total needs a second, unweighted pass over every
  // match (searcher.cc, SearchOnce) runs that pass on a thread of its own,
  // beside the page's rescoring, store reads and snippets, through a second
  // Database handle per local shard kept at the same revision. Local shards
  // only; off: the pass runs after the page, on the one handle. The second
  // handles double the index files a Searcher keeps open (a handful per
  // index part); `serve` raises its open-file limit to the hard limit.
  bool parallel_count = true;
};

// The cores this process may run on: its CPU affinity (which a container's
// cpuset narrows), else what the machine has; at least 1. A count pass takes
// a thread of its own only while fewer searches than this are running.
unsigned UsableCores();

class Searcher {
 public:
  // Opens the database (or collection of shards) in `dir` read-only.
  // NotFound when there is none. A collection opens with whichever shards
  // answer; the others are retried as queries come.
  static Result<std::unique_ptr<Searcher>> Open(const std::string& dir,
                                                const SearcherOptions& opts);
  ~Searcher();
  Searcher(const Searcher&) = delete;
  Searcher& operator=(const Searcher&) = delete;

  // Runs a query. InvalidArgument (message naming what and where, from
  // ParseQuery) for a malformed query or request. Relevance is BM25 over
  // the text (a thread opener's title included) plus a weak title signal,
  // an exact word form outranking a stemmed one; the best
  // `rescore_window` results also get a proximity boost (the plain words
  // as a phrase, within a window, in adjacent pairs). Not
  // thread-safe: use one Searcher per thread.
  Result<SearchResult> Search(const SearchRequest& req);
  // The thread around item `id` (any id form ThreadStore::Find accepts),
  // children nested to `max_depth` levels below the root. NotFound when the
  // id is unknown.
  Result<ThreadView> Thread(std::string_view id, uint32_t max_depth = 1000);
  // The same view, its children drawn to `levels_below` levels below the
  // asked item (not the root), so the asked item is always shown: what
  // `thread --depth` and /api/items?depth= mean. NotFound when the id is
  // unknown.
  Result<ThreadView> ThreadBelow(std::string_view id, uint32_t levels_below);
  // What one author wrote and who replied. NotFound when they wrote nothing.
  Result<UserSummary> User(std::string_view name);
  Result<DbStats> Stats();
  // Sees what a concurrent writer committed since Open.
  Status Refresh();
  // Count passes run on a thread of their own (SearcherOptions::
  // parallel_count) by this Searcher since Open. Like Search, not
  // thread-safe.
  uint64_t parallel_counts() const;

  // The item with this id (any id form StoreReader::Find accepts), from
  // whichever shard holds it, with the shard's index. NotFound when none.
  Result<std::pair<uint32_t, StoredItem>> FindItem(std::string_view id);
  // Item `num` of shard `shard` (Hit::shard).
  Result<StoredItem> Get(uint32_t shard, uint32_t num);
  // Shard names (one, "", for a plain database).
  std::vector<std::string> shard_names() const;
  // The thread store of a plain database (shard 0 of a collection).
  StoreReader& store();

 private:
  struct Impl;
  explicit Searcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace threadsearch

#endif  // THREADSEARCH_SEARCHER_SEARCHER_H_
