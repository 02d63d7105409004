// JSON encoding of searcher results, shared by the CLI's --json and the HTTP
// API. JSON shape version: kJsonVersion (documented in README.md).
#ifndef THREADSEARCH_SERVER_JSON_CODEC_H_
#define THREADSEARCH_SERVER_JSON_CODEC_H_

#include <string>

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
// {"error": message, "param": param} (param omitted when empty).
std::string ErrorToJson(const std::string& message, const std::string& param,
                        int indent = -1);

}  // namespace threadsearch

#endif  // THREADSEARCH_SERVER_JSON_CODEC_H_
