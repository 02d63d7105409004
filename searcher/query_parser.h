// The threadsearch query language, parsed into a tree that the searcher
// turns into a Xapian query (searcher/query_parser_internal.h).
//
// Grammar (precedence from loosest to tightest):
//   query    := clause*                       all clauses must match (AND)
//   clause   := disjunct ("AND" disjunct)*    explicit AND: same as a space
//   disjunct := unary ("OR" unary)*           OR binds tighter than AND, so
//                                             `a b OR c` is a AND (b OR c)
//   unary    := "NOT" unary | "-" primary | "+" primary | primary
//   primary  := "(" query ")" | "\"" words "\"" | field ":" value | word
//             | prefix "*"
// Operators are upper case; `or`, `and` and `not` are ordinary words. A
// clause list of negations alone (`-author:bot`) means everything but them.
//
// Words match their exact (lower-cased) form and their English stem, the
// exact form weighted higher; a word that the indexer splits in pieces
// (`e-mail`, `x.y`) is a phrase of its pieces. Quoted words match exactly,
// in order, without stemming.
//
// Fields (names are case-insensitive; values may be quoted):
//   author: by: from:        NAME   author (case-insensitive)
//   replies_to: to:          NAME   items whose parent NAME wrote
//   thread:ID  under:ID  id:ID      the thread of, the subtree below, the item
//   parent:ID                       the direct replies to the item
//   type:story|comment|message|poll|pollopt|job
//   source:hn|reddit|mail    list: subreddit:  NAME
//   title: subject:          free text in the item's title (`title:(a b)`,
//                            `title:"a b"`, `title:plot*` too)
//   url: site:               LINK   every word of LINK (or part of one)
//                                   in the item's URL: url:apple.com,
//                                   url:"https://a.org/x" (schema::UrlWords)
//   year:YYYY (or YYYY..YYYY)
//   date:D  date:D..D  date:D..  date:..D  date:>=D (> < <=)
//            D is YYYY, YYYY-MM or YYYY-MM-DD (UTC) and covers its whole
//            period: date:2024..2024-03 is 2024-01-01 to 2024-03-31.
//   after:D (time >= start of D)   before:D (time < start of D)
//   points:N replies:N comments:N time:N with >=N >N <N <=N =N N..M N.. ..M
//            (comments: the comment count; time: Unix seconds)
// `NAME:` followed by a space, URLs (`http://…`) and words with digits
// before the colon (`12:30`) are plain words; `foo:bar` with an unknown
// field is an error.
#ifndef THREADSEARCH_SEARCHER_QUERY_PARSER_H_
#define THREADSEARCH_SEARCHER_QUERY_PARSER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace threadsearch {

// One node of a parsed query.
struct QueryNode {
  enum class Kind {
    kAnd,       // children all match; kNot children subtract
    kOr,        // any child matches
    kNot,       // children[0] must not match
    kWord,      // terms: one word (several pieces: a phrase); stemmed
    kPhrase,    // terms: exact words in order (one term: exact word)
    kWildcard,  // terms[0]: a prefix of the exact (lower-cased) form
    kFilter,    // terms[0]: a boolean term (prefix + value), or with
                // `wildcard` the start of such terms; no weight
    kItem,      // value: an item id for thread:/under:/id: (prefix says
                // which), resolved against the thread store
    kRange,     // a value slot between lo and hi (inclusive); no weight
  };
  Kind kind = Kind::kAnd;
  std::vector<QueryNode> children;
  // Word-like nodes: the term prefix ("" for body text, "S" for title) and
  // the lower-cased terms, unprefixed; kFilter: the whole term.
  std::string prefix;
  std::vector<std::string> terms;
  std::string value;   // kItem: the id as given
  unsigned slot = 0;   // kRange
  std::optional<double> lo, hi;  // kRange; an open end when unset
  bool wildcard = false;         // kFilter
  // Where the node starts in the query text (bytes) and what the user
  // typed there (for suggestions and messages).
  size_t offset = 0;
  std::string text;

  // True for kFilter, kItem and kRange, and for kAnd/kOr/kNot trees made of
  // them: nodes that select without weighting.
  bool IsFilterOnly() const;
  // True when a positive free-text node (word, phrase, wildcard) is in the
  // tree: the query ranks by relevance.
  bool HasWords() const;
};

struct QueryParserOptions {
  // Each node of the tree may nest at most this deep (parentheses, NOT).
  int max_depth = 64;
};

// Parses `text`. Returns the tree on success (an empty kAnd for a blank
// query); InvalidArgument with a message naming what is wrong and its byte
// offset for an unbalanced quote or parenthesis, an operator with nothing
// to apply to, an unknown field, a bad date or number, an unknown type or
// source, or text with no searchable words at all. Thread-safe.
Result<QueryNode> ParseQuery(std::string_view text,
                             const QueryParserOptions& opts = {});

// A one-line S-expression of the tree, for tests and debugging, e.g.
// (and (word "plot") (not (filter "Abot")) (range 1 100..)).
std::string DescribeQuery(const QueryNode& node);

}  // namespace threadsearch

#endif  // THREADSEARCH_SEARCHER_QUERY_PARSER_H_
