// Turns a parsed query (searcher/query_parser.h) into a Xapian query. Only
// searcher/*.cc include this: it needs Xapian.
#ifndef THREADSEARCH_SEARCHER_QUERY_PARSER_INTERNAL_H_
#define THREADSEARCH_SEARCHER_QUERY_PARSER_INTERNAL_H_

#include <xapian.h>

#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "searcher/bm25_source.h"
#include "searcher/query_parser.h"

namespace threadsearch {

class StoreReader;

struct QueryBuildOptions {
  // Resolve thread:, under: and id: values, tried in order (a collection's
  // shards); an unknown id matches nothing. Not owned; may be empty (then
  // those fields match nothing).
  std::vector<const StoreReader*> stores;
  // The indexer's stemmer (english).
  const Xapian::Stem* stemmer = nullptr;
  // Weight factor on a word's exact form, added to its stem's weight: an
  // exact match outranks a stemmed one.
  double exact_weight = 1.0;
  // Only what matches, not how much: a stemmed word is its stem term
  // alone, a cheaper query with the same matches for counting them. (The
  // indexer's STEM_SOME gives every word it indexes with a stem both
  // terms, so a document with the exact form has the stem too.)
  bool match_only = false;
  // A wildcard expands to at most this many terms, the most frequent.
  Xapian::termcount wildcard_limit = 200;
  // Word wildcards are expanded against this database when given (exact
  // across shards); else by Xapian's OP_WILDCARD. Not owned.
  const Xapian::Database* db = nullptr;
  // When set, makes the query of each weighted body or title term (a
  // word's exact and stemmed terms, a quoted single word) in place of
  // Xapian::Query(term): searcher/bm25_source.h.
  std::function<Xapian::Query(const std::string&)> weighted_term;
  // When set (with weighted_term), makes the query of a weighted word with
  // a stem (Bm25WordQuery) in place of AND_MAYBE of its stem and exact
  // terms.
  std::function<Xapian::Query(const WordTerms&)> weighted_word;
  // When set (with weighted_word), makes the query of the AND of two or
  // more of an AND's weighted words (Bm25WordsQuery) in place of Xapian's
  // AND of their weighted_word queries.
  std::function<Xapian::Query(const std::vector<WordTerms>&)> weighted_words;
  // With weighted_word: the top-level plain words (TitleFoldedWords) whose
  // title term weighs inside the word's own query, by `title_scale`, not
  // in TitleBoost's.
  const std::unordered_set<const QueryNode*>* title_words = nullptr;
  double title_scale = 0;
};

// The Xapian query for `node`. Filters (fields, ranges) select without
// adding weight; a tree of negations alone matches every document but
// them; a blank query (empty kAnd) matches every document. Throws nothing:
// Xapian::Query construction does not touch the database.
// REQUIRES: opts.stemmer != nullptr.
Xapian::Query BuildQuery(const QueryNode& node, const QueryBuildOptions& opts);

// A query that matches no document and, unlike Xapian's empty
// MatchNothing, stays itself inside an AND (an empty filter means "no
// condition" to the searcher).
Xapian::Query NoMatch();

// Whether building `node` reads nothing (no thread:/under:/id: values to
// resolve, no wildcards to expand), so building it twice costs nothing.
bool BuildsWithoutReading(const QueryNode& node);

// The exact terms of the top-level plain words of `node` (unprefixed words
// and phrases that must match), in query order: what the proximity boost
// (searcher/proximity.h) looks for together and in order.
std::vector<std::string> ProximityTerms(const QueryNode& node);
// The terms of those plain words that are one term each (a word, or a
// quoted single word): each is a leaf of the query that every match passes
// through.
std::vector<std::string> OneTermWords(const QueryNode& node);

// Title words as a weak signal for the top-level plain words: each word's
// S-prefixed stem term (its exact term for a word not stemmed), weighted by
// `scale`. Without the exact form's extra weight the body has: one postlist
// a word instead of two (known-item p50 on R-help 2.00 -> 1.90 ms, 5-word
// queries on 10M synthetic HN items 6% lower), and known-item success on
// R-help the same or better (bench/quality.py, 2 and 3 words). Empty when
// there are no plain words.
// Words in `folded` are left out (their title term weighs in their own
// query: QueryBuildOptions::title_words).
Xapian::Query TitleBoost(
    const QueryNode& node, const Xapian::Stem& stemmer, double scale,
    const std::function<Xapian::Query(const std::string&)>& weighted_term =
        nullptr,
    const std::unordered_set<const QueryNode*>* folded = nullptr);

// The top-level plain words whose title term can weigh inside the word's
// own query (QueryBuildOptions::title_words): one term, with a stem.
std::unordered_set<const QueryNode*> TitleFoldedWords(
    const QueryNode& node, const Xapian::Stem& stemmer);

// The lower-cased terms the indexer's TermGenerator makes of `text`, in
// order (so "e-mail" gives "e", "mail" and "C++" gives "c++").
std::vector<std::string> IndexTerms(std::string_view text);

// Whether the indexer (STEM_SOME) gives `term` a Z-prefixed stem: its first
// character is a letter.
bool ShouldStem(std::string_view term);

// Every positive single-term kWord node of the tree, in query order (for
// spelling suggestions and matched-word reporting).
void CollectWords(const QueryNode& node, std::vector<const QueryNode*>* out);

}  // namespace threadsearch

#endif  // THREADSEARCH_SEARCHER_QUERY_PARSER_INTERNAL_H_
