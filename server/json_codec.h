// JSON encoding of searcher results, shared by the CLI's --json and the HTTP
// API. JSON shape version: kJsonVersion (documented in README.md).
#ifndef THREADSEARCH_SERVER_JSON_CODEC_H_
#define THREADSEARCH_SERVER_JSON_CODEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "indexer/check.h"
#include "indexer/indexer.h"
#include "searcher/searcher.h"

namespace threadsearch {

constexpr int kJsonVersion = 1;

// Each returns one JSON object as text; indent < 0 means compact.
std::string SearchResultToJson(const SearchResult& r, int indent = -1);
std::string ThreadViewToJson(const ThreadView& v, int indent = -1);
std::string UserSummaryToJson(const UserSummary& u, int indent = -1);
std::string DbStatsToJson(const DbStats& s, int indent = -1);
std::string IndexStatsToJson(const IndexStats& s, int indent = -1);
std::string CheckReportToJson(const CheckReport& r, int indent = -1);
// The HN Search (Algolia) API's page fields beside the hits.
struct AlgoliaPage {
  std::string query;   // as the client sent it
  std::string params;  // the request echoed, Algolia style
  uint64_t nb_hits = 0;
  uint32_t page = 0;
  uint32_t nb_pages = 0;
  uint32_t hits_per_page = 0;
  bool exhaustive = true;
  int64_t processing_ms = 0;
  // Shards of a collection that did not answer ("partial": true).
  std::vector<std::string> missing_shards;
  // What marks a match in _highlightResult values (Algolia's
  // highlightPreTag and highlightPostTag).
  std::string highlight_pre = "<em>";
  std::string highlight_post = "</em>";
  // Algolia's native protocol (/1/indexes/…): the index searched. When set,
  // the page also carries "index", "exhaustiveTypo" and "exhaustive"
  // ({"nbHits", "typo"}), as Algolia's own responses do.
  std::string index;
};
// A search page in the HN Search API's shape: {"hits": [...], "nbHits", …}.
// roots[i] is the thread root of hits[i] (story_title, story_url).
// REQUIRES: roots.size() == hits.size().
std::string AlgoliaSearchToJson(const std::vector<Hit>& hits,
                                const std::vector<StoredItem>& roots,
                                const AlgoliaPage& page, int indent = -1);
// An item and its replies in the shape of hn.algolia.com/api/v1/items/ID;
// `root` is the root of their thread (story_id).
std::string AlgoliaItemToJson(const ThreadNode& node, const StoredItem& root,
                              int indent = -1);
// An item as an Algolia record of the HN Search index (GET
// /1/indexes/Item_production/ID): a search hit's fields without
// _highlightResult. `root` is the root of its thread; `attributes` keeps
// only those fields and objectID (empty or "*": all).
std::string AlgoliaRecordToJson(const StoredItem& item, const StoredItem& root,
                                const std::vector<std::string>& attributes);
// The num_comments an HN Search API client sees for an item: the source's
// own count when it gave one, else the items below a thread root; -1 (null)
// for replies.
int64_t AlgoliaNumComments(const StoredItem& s);
// Whether the item takes the HN Search API's story shape (title, url,
// story_text) rather than the comment shape (comment_text, story_*,
// parent_id): stories, polls, jobs, and thread-opening mail messages.
bool AlgoliaIsStory(const StoredItem& s);
// A user in the shape of hn.algolia.com/api/v1/users/NAME (karma and about
// are unknown to us: 0 and "").
std::string AlgoliaUserToJson(const UserSummary& u, int indent = -1);

// {"error": message, "param": param} (param omitted when empty).
std::string ErrorToJson(const std::string& message, const std::string& param,
                        int indent = -1);
// An HTTP error: ErrorToJson's fields, and the same text as "message" with
// the HTTP "status", as hn.algolia.com's errors ({"message", "status"}).
std::string HttpErrorToJson(const std::string& message,
                            const std::string& param, int status);
// An error of Algolia's native protocol: {"message", "status"}.
std::string AlgoliaErrorToJson(const std::string& message, int status);

}  // namespace threadsearch

#endif  // THREADSEARCH_SERVER_JSON_CODEC_H_
