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

#include <bitset>
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
  // False when `word` (as the text has it; not empty) cannot match, by its
  // first two bytes: a test before Match, which needs the word lower-cased.
  bool MayMatch(std::string_view word) const {
    const auto a = static_cast<unsigned char>(word[0]);
    const auto b = static_cast<unsigned char>(word.size() > 1 ? word[1] : 0);
    // A non-ASCII letter may lower-case to other bytes (even ASCII ones:
    // the Kelvin sign to 'k'); ASCII ones lower-case byte by byte.
    return a >= 0x80 || b >= 0x80 ||
           starts_[Pair(static_cast<unsigned char>(AsciiLower(a)),
                        static_cast<unsigned char>(AsciiLower(b)))];
  }

 private:
  struct Entry {
    std::string word;
    std::string stem;
    bool prefix = false;
    double weight = 0;
  };
  int MatchOnce(std::string_view lower, double* weight) const;
  static size_t Pair(unsigned char a, unsigned char b) {
    return size_t{a} << 8 | b;
  }
  // Marks the first two bytes (0 for none) a matching word can start with:
  // `s` itself when `whole`, else any word starting with s's first bytes
  // (a prefix; a stem's first three).
  void MarkStart(const std::string& s, bool whole);
  const Xapian::Stem& stem_;
  std::vector<Entry> entries_;
  std::bitset<1 << 16> starts_;
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
