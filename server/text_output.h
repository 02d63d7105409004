// Human-readable terminal output for the CLI: the same results as the JSON
// codec, laid out for reading.
#ifndef THREADSEARCH_SERVER_TEXT_OUTPUT_H_
#define THREADSEARCH_SERVER_TEXT_OUTPUT_H_

#include <ostream>

#include "indexer/indexer.h"
#include "searcher/searcher.h"

namespace threadsearch {

struct TextStyle {
  bool color = false;  // ANSI colours and bold highlights (terminals)
  int width = 100;     // wrap width for snippets
};

void PrintSearchResult(std::ostream& os, const SearchResult& r,
                       const TextStyle& style);
void PrintThreadView(std::ostream& os, const ThreadView& v,
                     const TextStyle& style);
void PrintUserSummary(std::ostream& os, const UserSummary& u,
                      const TextStyle& style);
void PrintDbStats(std::ostream& os, const DbStats& s, const TextStyle& style);
void PrintIndexStats(std::ostream& os, const IndexStats& s);
// "2024-07-01 16:05" (UTC) or "?" for 0.
std::string FormatTime(int64_t t);
// 1536 -> "1.5 KiB".
std::string FormatBytes(uint64_t bytes);

}  // namespace threadsearch

#endif  // THREADSEARCH_SERVER_TEXT_OUTPUT_H_
