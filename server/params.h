// Parsing of HTTP query parameters into searcher requests: numbers, dates,
// and the HN Search (Algolia) API's filter parameters (`tags`,
// `tagFilters`, `facetFilters`, `numericFilters`, `filters`). Pure
// functions, no I/O; thread-safe.
#ifndef THREADSEARCH_SERVER_PARAMS_H_
#define THREADSEARCH_SERVER_PARAMS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/item.h"
#include "common/status.h"

namespace threadsearch {

// A decimal integer in [lo, hi]; InvalidArgument naming `param` otherwise
// (empty, signs, junk, overflow).
Result<int64_t> ParseIntParam(std::string_view s, int64_t lo, int64_t hi,
                              const std::string& param);

// "1", "true", "yes", "on" / "0", "false", "no", "off", ""; InvalidArgument
// naming `param` otherwise.
Result<bool> ParseBoolParam(std::string_view s, const std::string& param);

// "YYYY", "YYYY-MM", "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]" (UTC) or Unix
// seconds (five or more digits). Returns Unix seconds; InvalidArgument naming
// `param` for anything else.
Result<int64_t> ParseDateParam(std::string_view s, const std::string& param);

// Splits a comma-separated list, trimming blanks and dropping empty entries.
std::vector<std::string> SplitList(std::string_view s);

// Algolia's list parameters (tags, tagFilters, facetFilters,
// numericFilters) in either form: a JSON array whose elements are strings
// or arrays of strings (`["a",["b","c"]]`), or the string form (`a,(b,c)`:
// commas AND, parentheses OR). Returns the AND of OR groups
// ({{"a"}, {"b", "c"}}), each element trimmed, empty elements and groups
// left out. InvalidArgument naming `param` for malformed JSON, an array
// nested deeper or an element that is not a string, or unbalanced or
// nested parentheses.
Result<std::vector<std::vector<std::string>>> ParseAlgoliaList(
    std::string_view s, const std::string& param);

// The HN Search API's `tags` (and Algolia's `tagFilters`, the same thing)
// compiled to filters. Tags: story, comment, poll, pollopt, job (any
// ItemType name, also message), author_NAME, story_ID, ask_hn, show_hn; in
// the forms of ParseAlgoliaList; "-tag" excludes a tag ("\-" for a tag
// that starts with '-'). A tag name we do not know matches nothing (as on
// hn.algolia.com), and excluding it excludes nothing.
struct TagFilter {
  // Each set is the allowed values (nullopt: no constraint). An empty set
  // means nothing can match.
  std::optional<std::set<ItemType>> types;
  std::optional<std::set<std::string>> authors;  // lower-cased
  std::optional<std::set<std::string>> stories;  // thread root ids
  // Groups that mix kinds, exclude tags, or name ask_hn/show_hn, as
  // query-language clauses to AND with the query, e.g.
  // `(type:story OR author:pg)`, `NOT author:pg`.
  std::vector<std::string> clauses;
  // True when the tags contradict (two different authors AND-ed, an unknown
  // tag alone): the result is empty without searching.
  bool match_nothing = false;
};
// Adds the tags in `s` to `*f`, AND-ed with what it holds. InvalidArgument
// naming `param` (tags or tagFilters) for malformed syntax (see
// ParseAlgoliaList), an empty author_ or story_, a lone "-", names the
// query language cannot carry; `*f` is then partly filled.
Status AddAlgoliaTags(std::string_view s, const std::string& param,
                      TagFilter* f);
// AddAlgoliaTags into an empty filter, errors naming "tags".
Result<TagFilter> ParseAlgoliaTags(std::string_view s);

// The HN Search API's `numericFilters`: conditions FIELD OP NUMBER or
// FIELD:LO TO HI (inclusive), with FIELD one of created_at_i, points,
// num_comments and OP one of < <= = != >= >, in the forms of
// ParseAlgoliaList (AND of OR groups). A condition AND-ed alone (other
// than !=) narrows its field's range; OR groups and != conditions become a
// query-language clause. Fractions bound the whole numbers inside them.
struct NumericFilter {
  // Inclusive ranges; nullopt ends are open.
  std::optional<int64_t> time_lo, time_hi;
  std::optional<int64_t> points_lo, points_hi;
  std::optional<int64_t> comments_lo, comments_hi;
  // The OR groups and != conditions, to AND with the query; empty: none.
  std::string clause;
  bool match_nothing = false;  // the clause cannot match
  // True when nothing can match (lo > hi, or match_nothing).
  bool empty() const;
};
// InvalidArgument (param "numericFilters") for malformed lists (see
// ParseAlgoliaList), an unknown field or operator, or a bad number.
Result<NumericFilter> ParseNumericFilters(std::string_view s);

// The HN Search API's `filters` (Algolia's filter syntax) as a
// query-language clause: conditions joined by AND, OR and NOT, with
// parentheses (AND binds tighter than OR). Conditions:
//   _tags:TAG                     a tag, as in `tags` (an unknown tag
//                                 matches nothing)
//   objectID:ID  author:NAME      the item; its author
//   parent_id=ID  story_id=ID     (also `:`, and `!=`) the direct replies to
//                                 ID; the items of story ID below it
//   points, num_comments, created_at_i  OP NUMBER (< <= = != >= >), or
//                                 ATTR:LO TO HI (inclusive)
// Values may be "quoted". Fractions bound the whole numbers inside them.
struct AlgoliaFilter {
  std::string clause;          // empty: no constraint
  bool match_nothing = false;  // the filter cannot match
};
// InvalidArgument (param "filters") for bad syntax, an unknown attribute or
// operator, or a value the query language cannot carry.
Result<AlgoliaFilter> ParseAlgoliaFilters(std::string_view s);

// The HN Search API's `facetFilters` (Algolia's) as a query-language
// clause: FACET:VALUE conditions in the forms of ParseAlgoliaList (AND of
// OR groups). Facets: _tags (a tag, as in `tags`), author, story_id (the
// items of the story below it), and as in `filters` objectID, parent_id,
// points, num_comments, created_at_i (equal to a number).
// "FACET:-VALUE" and "-FACET:VALUE" exclude; "FACET:\-VALUE" is a value
// that starts with '-'.
// InvalidArgument (param "facetFilters") for malformed lists, a condition
// without FACET:VALUE, an unknown facet, a value the facet or the query
// language cannot take, or a condition excluded twice.
Result<AlgoliaFilter> ParseAlgoliaFacetFilters(std::string_view s);

// Percent-encodes every byte except A-Z a-z 0-9 - _ . ~ (as Algolia's
// `params` echo does).
std::string UrlEncode(std::string_view s);

// The parameters of a URL's query string (the part after '?'), in order:
// pieces split at '&', each at its FIRST '=' (so `numericFilters=points>=10`
// keeps ">=10", as Rack and other servers read it), '+' and %XX decoded
// (a '%' not followed by two hex digits stays as it is). A piece without
// '=' is a name with an empty value; empty pieces are skipped.
std::vector<std::pair<std::string, std::string>> ParseQueryString(
    std::string_view query);

// Request parameters by name; a name may repeat, and equal names keep the
// order they came in. The type of httplib::Params, so a request's
// parameters pass as they are.
using ParamMap = std::multimap<std::string, std::string>;

// The first value of parameter `name`; "" when absent.
std::string ParamValue(const ParamMap& ps, const std::string& name);

// The parameters of an Algolia native search (POST /1/indexes/NAME/query):
// a JSON object with "params", a query string as ParseQueryString reads it
// ("query=foo&hitsPerPage=20"), and/or the parameters as fields ("query":
// "foo", "hitsPerPage": 20, "tagFilters": ["story"]). A field's value is
// its text: strings as they are, true/false, whole numbers without a
// fraction, arrays and objects as JSON (the list form Algolia's list
// parameters take); null fields are left out. A parameter given both ways
// takes the field's value. An empty body is {}. InvalidArgument naming
// what is wrong ("body: …", "params: …") for invalid JSON, a body that is
// not an object, or "params" that is not a string.
Result<ParamMap> ParseAlgoliaQueryBody(std::string_view body);

// One search of an Algolia multi-query (POST /1/indexes/*/queries).
struct AlgoliaIndexQuery {
  std::string index;  // "indexName"
  ParamMap params;    // as ParseAlgoliaQueryBody reads the request object
};
// The body {"requests": [{"indexName": …, "params": "…", …}, …]} (other
// top-level fields, such as "strategy", are ignored), in order.
// InvalidArgument naming what is wrong ("requests[1].indexName: …") for
// invalid JSON, a missing or non-array "requests", a request that is not
// an object or lacks a string indexName, and a "type" other than
// "default" (facet value searches are not served).
Result<std::vector<AlgoliaIndexQuery>> ParseAlgoliaQueriesBody(
    std::string_view body);

// "2013-11-27T02:18:36.000Z" for Unix seconds `t`.
std::string IsoTime(int64_t t);

}  // namespace threadsearch

#endif  // THREADSEARCH_SERVER_PARAMS_H_
