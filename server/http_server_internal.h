// The request parsing of HttpServer's search routes, apart from sockets so
// that tests and the hn_params fuzz target can call it as the handlers do.
// Pure functions over the parameters, but for HnSearchPage, which searches;
// thread-safe.
#ifndef THREADSEARCH_SERVER_HTTP_SERVER_INTERNAL_H_
#define THREADSEARCH_SERVER_HTTP_SERVER_INTERNAL_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "searcher/searcher.h"
#include "server/http_server.h"
#include "server/params.h"

namespace threadsearch {

// The limits on a request's parameters (how many, how long each), as
// every route checks them. OK, or InvalidArgument with *bad naming the
// parameter at fault (left alone for too many).
Status CheckParams(const ParamMap& ps, const HttpServerOptions& o,
                   std::string* bad);

// The native /api/search parameters into *sreq. InvalidArgument with *bad
// naming the parameter at fault.
Status ParseSearchParams(const ParamMap& ps, const HttpServerOptions& o,
                         SearchRequest* sreq, std::string* bad);

// An HN Search API request (/api/v1/search, /1/indexes/NAME/query),
// parsed.
struct HnParams {
  SearchRequest sreq;
  NumericFilter nf;
  bool nothing = false;     // the filters cannot match
  bool count_only = false;  // hitsPerPage=0: nbHits alone
  std::string text;         // the client's query text
  // restrictSearchableAttributes=title: the text is matched in titles.
  bool in_title = false;
  std::vector<std::string> clauses;  // what its tags and filters add to it
};

// The HN Search API's parameters (query, tags, numericFilters, filters,
// facetFilters, hitsPerPage, page, …) into *hp; `by_date` for
// search_by_date. InvalidArgument with *bad naming the parameter at fault.
// REQUIRES: CheckParams(ps) passed (the handlers check it first).
Status ParseHnParams(const ParamMap& ps, const HttpServerOptions& o,
                     bool by_date, HnParams* hp, std::string* bad);

// An HN Search API page as JSON (*body) for the parameters `ps`, parsed by
// ParseHnParams into *hp, searched on `s`; `index` non-empty adds
// Algolia's native fields; `start` is when the request came. Free text the
// query language rejects is searched again as its plain words (the tags'
// and filters' clauses as they were; hp->sreq.query is then that query).
// The searcher's error otherwise: InvalidArgument for a query still
// rejected, other codes for server faults.
Status HnSearchPage(Searcher& s, const ParamMap& ps,
                    const HttpServerOptions& opts,
                    std::chrono::steady_clock::time_point start,
                    const std::string& index, HnParams* hp, std::string* body);

}  // namespace threadsearch

#endif  // THREADSEARCH_SERVER_HTTP_SERVER_INTERNAL_H_
