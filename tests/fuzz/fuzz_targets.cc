#include "tests/fuzz/fuzz_targets.h"

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "common/mail_text.h"
#include "common/text.h"
#include "indexer/indexer.h"
#include "indexer/input_stream.h"
#include "indexer/readers.h"
#include "searcher/searcher.h"

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

}  // namespace

std::vector<std::string> TargetNames() {
  return {"auto",      "mbox",        "hn-json", "algolia", "bigquery",
          "pushshift", "thread-page", "text",    "query"};
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
  Result<Format> f = ParseFormat(target);
  if (!f.ok()) return false;
  FuzzReader(*f, data, size);
  return true;
}

}  // namespace threadsearch::fuzz
