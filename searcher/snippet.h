// Snippets: the passage of an item's text that best shows why it matched,
// HTML-escaped, with the query's words in <mark>…</mark>.
//
// Our own rather than Xapian's MSet::snippet: that one weighs words by
// bounds its match collected per sub-database, so the same item got a
// different snippet from one database and from several shards. Here a
// word's weight is its global inverse document frequency, the same
// whatever the layout.
#ifndef THREADSEARCH_SEARCHER_SNIPPET_H_
#define THREADSEARCH_SEARCHER_SNIPPET_H_

#include <xapian.h>

#include <array>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/text.h"

namespace threadsearch {

class SnippetTerms {
 public:
  explicit SnippetTerms(const Xapian::Stem& stem) : stem_(stem) {}
  // A query word (lower-cased): matches its exact form and any word with
  // the same stem.
  void AddWord(const std::string& word, double weight);
  // A wildcard: matches every word starting with `prefix`.
  void AddPrefix(const std::string& prefix, double weight);
  bool empty() const { return entries_.empty(); }
  // How many query terms there are: Match returns one of [0, size()).
  size_t size() const { return entries_.size(); }
  // The query term `lower` (a lower-cased word of the text) matches, or -1;
  // its weight in *weight (0 for -1). Remembers its answers: one thread at
  // a time.
  int Match(std::string_view lower, double* weight) const;
  // False when no word of the text starting with byte `c` (as the text has
  // it) can match: a test before Match, which needs the word lower-cased.
  bool MayMatchStart(char c) const {
    const unsigned char u = static_cast<unsigned char>(c);
    // A non-ASCII letter may lower-case to another first byte.
    return u >= 0x80 || first_[static_cast<unsigned char>(AsciiLower(c))];
  }

 private:
  struct Entry {
    std::string word;
    std::string stem;
    bool prefix = false;
    double weight = 0;
  };
  int MatchOnce(std::string_view lower, double* weight) const;
  // Marks the first bytes a matching word can start with.
  void MarkStart(const std::string& s) {
    if (!s.empty()) first_[static_cast<unsigned char>(s[0])] = true;
  }
  const Xapian::Stem& stem_;
  std::vector<Entry> entries_;
  std::array<bool, 256> first_{};
  // Match's answers by word; emptied when it holds kMemoMax.
  static constexpr size_t kMemoMax = 1 << 16;
  struct Hash {
    using is_transparent = void;  // looked up by string_view: no copy
    size_t operator()(std::string_view s) const {
      return std::hash<std::string_view>()(s);
    }
  };
  mutable std::unordered_map<std::string, std::pair<int, double>, Hash,
                             std::equal_to<>>
      memo_;
};

// At most about `max_bytes` of `text` (whole words; "…" where it was cut)
// around the window with the most weight of distinct matching words; the
// start of the text when nothing matches. HTML-escaped, matches marked.
// `*matched` (optional) tells whether any word matched.
std::string MakeSnippet(std::string_view text, const SnippetTerms& terms,
                        size_t max_bytes, bool* matched = nullptr);

namespace snippet_internal {

// MakeSnippet's steps, for tests.
struct Token {
  size_t begin = 0, end = 0;
  int match = -1;  // the query term it matches (SnippetTerms::Match)
  double weight = 0;
};
// The words of `text`, each with the query term it matches.
std::vector<Token> Tokenize(std::string_view text, const SnippetTerms& terms);
// The best window of words [first, last), starting at a matching word and
// ending where the next word would pass `max_bytes`: the most weight of
// distinct query terms (of `nterms`), then the most matches; the earliest
// of equals. `any`: whether any word matches (else the window is empty).
struct Window {
  size_t first = 0, last = 0;
  bool any = false;
};
Window BestWindow(const std::vector<Token>& tokens, size_t nterms,
                  size_t max_bytes);

}  // namespace snippet_internal

}  // namespace threadsearch

#endif  // THREADSEARCH_SEARCHER_SNIPPET_H_
