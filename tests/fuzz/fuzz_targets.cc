#include "tests/fuzz/fuzz_targets.h"

#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/item.h"
#include "common/mail_text.h"
#include "common/schema.h"
#include "common/text.h"
#include "indexer/indexer.h"
#include "indexer/input_stream.h"
#include "indexer/readers.h"
#include "searcher/searcher.h"
#include "server/http_server_internal.h"
#include "server/params.h"

namespace threadsearch::fuzz {

namespace {

void Require(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "fuzz invariant broken: %s\n", what);
    abort();
  }
}

void FuzzReader(Format format, const uint8_t* data, size_t size) {
  auto in = InputStream::FromString(
      std::string(reinterpret_cast<const char*>(data), size), "fuzz-input");
  in->set_max_line(1 << 20);
  ReadCallbacks cb;
  size_t items = 0;
  cb.on_item = [&](Item&& item) {
    ++items;
    Require(!item.id.empty(), "reader delivered an item without id");
  };
  cb.on_error = [&](const ReadError& e) {
    Require(!e.where.empty(), "error without a place");
  };
  Status st = ReadStream(*in, format, cb);
  (void)st;  // errors are fine; crashes are not
}

void FuzzText(const uint8_t* data, size_t size) {
  std::string_view s(reinterpret_cast<const char*>(data), size);
  Require(IsValidUtf8(SanitizeUtf8(s)), "SanitizeUtf8");
  Require(IsValidUtf8(DecodeRfc2047(s)), "DecodeRfc2047");
  Require(IsValidUtf8(CharsetToUtf8(s, "iso-8859-1")), "CharsetToUtf8");
  Require(IsValidUtf8(CharsetToUtf8(s, "no-such-charset")), "CharsetToUtf8");
  Require(IsValidUtf8(HtmlToText(SanitizeUtf8(s))), "HtmlToText");
  DecodeQuotedPrintable(s);
  DecodeBase64(s);
  DecodeHtmlEntities(s);
  for (bool is_reply : {false, true}) {
    MailBodyParts parts = SplitMailBody(s, is_reply);
    Require(parts.own.size() <= s.size() + 16, "SplitMailBody grew the text");
  }
  DeobfuscateAddress(s);
  std::string ex = OneLineExcerpt(SanitizeUtf8(s), 40);
  Require(IsValidUtf8(ex), "OneLineExcerpt");
  std::string esc = HtmlEscape(s);
  Require(esc.find('<') == std::string::npos, "HtmlEscape left <");
}

// A small index built once per process, searched with each input as query.
Searcher* QuerySearcher() {
  static Searcher* searcher = [] {
    const char* base = getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") +
                       "/threadsearch-fuzz-XXXXXX";
    char* dir = mkdtemp(tmpl.data());
    Require(dir != nullptr, "mkdtemp");
    {
      auto ix = Indexer::Open(tmpl, {});
      Require(ix.ok(), "open indexer");
      IndexStats st;
      const char* texts[] = {"Linear models in R with factors",
                             "plotting lattice graphics quickly",
                             "Keras moved to JAX and PyTorch backends",
                             "regression and anova tables"};
      for (int i = 0; i < 4; ++i) {
        Item it;
        it.source = i < 2 ? Source::kMail : Source::kHN;
        it.id = "fuzz" + std::to_string(i);
        it.author = i % 2 ? "alice@example.org" : "bob";
        it.parent = i > 0 ? "fuzz0" : "";
        it.time = 1000000000 + i * 86400 * 400;
        it.title = i == 0 ? "Root title" : "";
        it.text = texts[i];
        Require((*ix)->Add(std::move(it), &st).ok(), "add");
      }
      Require((*ix)->Flush().ok(), "flush");
    }
    auto s = Searcher::Open(tmpl, {});
    Require(s.ok(), "open searcher");
    // Removed at exit; the searcher keeps its files open until then.
    static std::string cleanup = tmpl;
    atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(cleanup, ec);
    });
    return s->release();
  }();
  return searcher;
}

void FuzzQuery(const uint8_t* data, size_t size) {
  SearchRequest req;
  req.query.assign(reinterpret_cast<const char*>(data), size);
  req.highlight_fields = true;
  req.facets = true;
  req.limit = 5;
  Result<SearchResult> r = QuerySearcher()->Search(req);
  if (!r.ok()) {
    Require(r.status().code() == StatusCode::kInvalidArgument,
            "query error other than InvalidArgument");
    Require(!r.status().message().empty(), "empty query error message");
  }
}

// A failure the server answers with a 400: InvalidArgument, with a message.
void RequireClientError(const Status& st, const char* what) {
  if (st.code() != StatusCode::kInvalidArgument || st.message().empty()) {
    fprintf(stderr, "%s: %s\n", what, st.ToString().c_str());
    Require(false, "an error other than InvalidArgument with a message");
  }
}

// One HN Search API request as the server handles it: the limits every
// route checks, the parsing of /api/search and of the HN Search API, then
// the search (retried as plain words) and the page as JSON.
void FuzzHnRequest(const ParamMap& ps, bool by_date, const std::string& index) {
  const HttpServerOptions o;
  std::string bad;
  Status st = CheckParams(ps, o, &bad);
  if (!st.ok()) return RequireClientError(st, "CheckParams");
  SearchRequest native;
  st = ParseSearchParams(ps, o, &native, &bad);
  if (!st.ok()) {
    RequireClientError(st, "ParseSearchParams");
    Require(!bad.empty(), "ParseSearchParams: no parameter named");
  }
  HnParams hp;
  bad.clear();
  st = ParseHnParams(ps, o, by_date, &hp, &bad);
  if (!st.ok()) {
    RequireClientError(st, "ParseHnParams");
    Require(!bad.empty(), "ParseHnParams: no parameter named");
    return;
  }
  std::string body;
  st = HnSearchPage(*QuerySearcher(), ps, o, std::chrono::steady_clock::now(),
                    index, &hp, &body);
  if (!st.ok()) return RequireClientError(st, "HnSearchPage");
  Require(nlohmann::json::accept(body), "the page is not JSON");
}

// The input as a URL's query string (GET /api/v1/search?…), as the body of
// POST /1/indexes/NAME/query and as that of POST /1/indexes/*/queries.
void FuzzHnParams(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const bool by_date = size % 2 == 1;
  ParamMap ps;
  for (auto& [k, v] : ParseQueryString(in)) ps.emplace(k, v);
  FuzzHnRequest(ps, by_date, "");
  Result<ParamMap> body = ParseAlgoliaQueryBody(in);
  if (body.ok()) {
    FuzzHnRequest(*body, by_date, "Item_production");
  } else {
    RequireClientError(body.status(), "ParseAlgoliaQueryBody");
  }
  Result<std::vector<AlgoliaIndexQuery>> qs = ParseAlgoliaQueriesBody(in);
  if (!qs.ok()) return RequireClientError(qs.status(), "ParseAlgoliaQueriesBody");
  // The server refuses more than 50 searches in one request.
  for (size_t i = 0; i < qs->size() && i < 50; ++i) {
    const AlgoliaIndexQuery& q = (*qs)[i];
    FuzzHnRequest(q.params, q.index == "Item_production_sort_date", q.index);
  }
}

// The input as a thread store record: decoded, or refused as corruption,
// never a crash. A record that decodes encodes to one that decodes the
// same; its body and excerpt are made (from its own-line spans when they
// fit), valid UTF-8 when its text and title are, unless the record calls
// its own text clean; and spans found afresh for its text give what
// splitting the message gives.
void FuzzStoredItem(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  StoredItem s;
  const Status st = DecodeStoredItem(in, &s);
  if (!st.ok()) {
    Require(st.code() == StatusCode::kCorruption, "DecodeStoredItem");
    return;
  }
  StoredItem back;
  Require(DecodeStoredItem(EncodeStoredItem(s), &back).ok(),
          "a decoded record encodes to one refused");
  Require(back.item.text == s.item.text && back.num == s.num &&
              back.own_spans_for == s.own_spans_for &&
              (s.own_spans_for == 0 || back.own_spans == s.own_spans),
          "EncodeStoredItem(DecodeStoredItem(x)) decodes otherwise");
  const std::string body = schema::IndexedBody(s);
  const std::string excerpt = schema::BodyExcerpt(s, 40);
  // As the indexer writes records: text and title valid UTF-8 (Normalise).
  if (!s.own_clean && IsValidUtf8(s.item.text) && IsValidUtf8(s.item.title)) {
    Require(IsValidUtf8(body) && IsValidUtf8(excerpt), "body or excerpt");
  }
  schema::KeepOwnSpans(&s);
  Require(schema::IndexedBody(s) == schema::IndexedBody(s.item),
          "spans found afresh give another body than the split");
  Require(schema::BodyExcerpt(s, 40) == schema::BodyExcerpt(s.item, 40),
          "spans found afresh give another excerpt than the split");
}

}  // namespace

std::vector<std::string> TargetNames() {
  return {"auto",      "mbox",        "hn-json", "algolia",  "bigquery",
          "pushshift", "thread-page", "text",    "query",    "hn-params",
          "stored-item"};
}

bool RunTarget(const std::string& target, const uint8_t* data, size_t size) {
  if (target == "text") {
    FuzzText(data, size);
    return true;
  }
  if (target == "query") {
    FuzzQuery(data, size);
    return true;
  }
  if (target == "hn-params") {
    FuzzHnParams(data, size);
    return true;
  }
  if (target == "stored-item") {
    FuzzStoredItem(data, size);
    return true;
  }
  Result<Format> f = ParseFormat(target);
  if (!f.ok()) return false;
  FuzzReader(*f, data, size);
  return true;
}

}  // namespace threadsearch::fuzz
