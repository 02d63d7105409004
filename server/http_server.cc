#include "server/http_server.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <httplib.h>
#include <zlib.h>
#include <limits>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/collection.h"
#include "common/open_files.h"
#include "common/schema.h"
#include "common/text.h"
#include "common/thread_store.h"
#include "searcher/searcher.h"
#include "server/http_server_internal.h"
#include "server/json_codec.h"
#include "server/listen_socket.h"
#include "server/params.h"
#include "server/web_assets.h"

namespace threadsearch {

namespace {

using Clock = std::chrono::steady_clock;
using httplib::Request;
using httplib::Response;

constexpr char kJsonType[] = "application/json; charset=utf-8";
constexpr uint32_t kHnDefaultHitsPerPage = 20;
constexpr size_t kMaxParams = 64;

// The one place a Status becomes an HTTP code.
int HttpStatusFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kBusy:
      return 503;
    case StatusCode::kCorruption:
    case StatusCode::kIOError:
    case StatusCode::kInternal:
      break;
  }
  return 500;
}

void SendJson(Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_header("Access-Control-Allow-Origin", "*");
  res.set_content(body, kJsonType);
}

// `in` gzip-compressed (RFC 1952); empty on failure.
std::string Gzip(std::string_view in) {
  z_stream z = {};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return "";
  }
  std::string out(deflateBound(&z, in.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END ? out : "";
}

// Whether the client accepts gzip (Accept-Encoding lists it, not with q=0).
bool AcceptsGzip(const Request& req) {
  const std::string ae = AsciiLower(req.get_header_value("Accept-Encoding"));
  for (const std::string& part : SplitList(ae)) {
    const std::string_view p = part;
    const std::string_view name = TrimAscii(p.substr(0, p.find(';')));
    if (name != "gzip" && name != "*") continue;
    const size_t q = p.find("q=");
    return q == std::string_view::npos || std::atof(part.c_str() + q + 2) > 0;
  }
  return false;
}

void SendError(Response& res, const Status& st, const std::string& param) {
  const int status = HttpStatusFor(st);
  SendJson(res, status, HttpErrorToJson(st.message(), param, status));
}

// An error of Algolia's native protocol ({"message", "status"}); the
// message names `param` when it does not already.
void SendAlgoliaError(Response& res, const Status& st,
                      const std::string& param) {
  std::string msg = st.message();
  if (!param.empty() && !msg.starts_with(param + ":")) msg = param + ": " + msg;
  const int status = HttpStatusFor(st);
  SendJson(res, status, AlgoliaErrorToJson(msg, status));
}

// A CORS preflight answer allowing `methods` and the headers asked for
// (Algolia's clients send x-algolia-application-id, x-algolia-api-key).
void SendPreflight(const Request& req, Response& res, const char* methods) {
  res.status = 204;
  res.set_header("Access-Control-Allow-Origin", "*");
  res.set_header("Access-Control-Allow-Methods", methods);
  // Echoed rather than "*": browsers before 2020 do not read the wildcard.
  const std::string asked =
      req.get_header_value("Access-Control-Request-Headers");
  res.set_header("Access-Control-Allow-Headers", asked.empty() ? "*" : asked);
  res.set_header("Access-Control-Max-Age", "86400");
}

// Identifies the state of the Xapian index on disk: glass rewrites
// `iamglass` (a new inode) on every commit, in each part of the index
// (DIR/xapian/pK/) or in a single-part index (DIR/xapian/).
std::string DatabaseStamp(const std::string& db);

// A collection's stamp: its shard map and each local shard's index; with
// remote shards, also the time in refresh intervals, so their changes (and
// their return after an outage) are looked for once per interval.
std::string CollectionStamp(const std::string& db, int interval_ms) {
  std::string stamp;
  struct stat st;
  const std::string file = db + "/" + kCollectionFile;
  if (stat(file.c_str(), &st) == 0) {
    stamp += std::to_string(st.st_ino) + ":" +
             std::to_string(st.st_mtim.tv_sec) + "." +
             std::to_string(st.st_mtim.tv_nsec) + ";";
  }
  Result<Collection> c = LoadCollection(db);
  if (!c.ok()) return stamp;
  bool remote = false;
  for (const ShardSpec& s : c->shards) {
    if (s.remote()) {
      remote = true;
    } else {
      stamp += DatabaseStamp(ShardDir(*c, s)) + "|";
    }
  }
  if (remote) {
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   Clock::now().time_since_epoch())
                   .count();
    stamp += "t" + std::to_string(now / std::max(1, interval_ms));
  }
  return stamp;
}

std::string DatabaseStamp(const std::string& db) {
  std::string stamp;
  auto add = [&](const std::string& path) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return;
    stamp += std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) +
             ":" + std::to_string(st.st_mtim.tv_sec) + "." +
             std::to_string(st.st_mtim.tv_nsec) + ";";
  };
  const std::string dir = db + "/xapian";
  add(dir + "/iamglass");
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.is_directory(ec)) add(e.path().string() + "/iamglass");
  }
  return stamp;
}

// What identifies the state of the index (or collection) `db`.
std::string IndexStamp(const std::string& db, int interval_ms) {
  return IsCollection(db) ? CollectionStamp(db, interval_ms)
                          : DatabaseStamp(db);
}

// Searchers by default: more than the cores. Searching is CPU-bound, but
// with one searcher per core a request that waits for one is woken by the
// request giving it back, and on 2 cores a core sat idle in ~15% of those
// hand-offs: with 8 wrk connections on R-help, 2 searchers served 590
// requests/s and 8 served 695 (2 connections: 700 either way).
size_t DefaultSearchers() {
  return std::max<size_t>(8, 4 * std::thread::hardware_concurrency());
}

SearcherOptions ShardOptions(const HttpServerOptions& o) {
  SearcherOptions so;
  so.shard_timeout_ms = o.shard_timeout_ms;
  return so;
}

// Searchers are not thread-safe: each request leases one for itself. At
// most `max_size` exist (each holds its own database handles); a request
// waits for a free one. A leased searcher is refreshed first when the index
// advanced since it last was.
class SearcherPool {
 public:
  SearcherPool(std::string db, size_t max_size, int interval_ms,
               SearcherOptions options,
               std::function<void(const std::string&)> warn)
      : db_(std::move(db)),
        options_(options),
        max_size_(std::max<size_t>(1, max_size)),
        interval_(std::chrono::milliseconds(interval_ms)),
        warn_(std::move(warn)),
        stamp_(IndexStamp(db_, interval_ms)),
        last_check_(Clock::now()) {}

  struct Entry {
    std::unique_ptr<Searcher> searcher;
    uint64_t generation = 0;
  };

  // A leased searcher, returned to the pool on destruction.
  class Lease {
   public:
    Lease() = default;
    Lease(SearcherPool* pool, Entry e) : pool_(pool), e_(std::move(e)) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), e_(std::move(o.e_)) {
      o.pool_ = nullptr;
    }
    Lease& operator=(Lease&& o) noexcept {
      if (this != &o) {
        Release();
        pool_ = o.pool_;
        e_ = std::move(o.e_);
        o.pool_ = nullptr;
      }
      return *this;
    }
    ~Lease() { Release(); }
    Searcher* operator->() { return e_.searcher.get(); }
    Searcher& operator*() { return *e_.searcher; }

   private:
    void Release() {
      if (pool_) pool_->Return(std::move(e_));
      pool_ = nullptr;
    }
    SearcherPool* pool_ = nullptr;
    Entry e_;
  };

  // A searcher that sees the index as of at most refresh_interval_ms ago.
  // Busy when none came free within kLeaseTimeout; NotFound/IOError when
  // the database does not open.
  Status Acquire(Lease* out) {
    uint64_t gen = Generation();
    Entry e;
    {
      std::unique_lock<std::mutex> lock(mu_);
      bool ready = cv_.wait_for(lock, kLeaseTimeout, [this] {
        return !idle_.empty() || created_ < max_size_;
      });
      if (!ready) return Status::Busy("every searcher is busy; try again");
      if (!idle_.empty()) {
        e = std::move(idle_.back());
        idle_.pop_back();
      } else {
        ++created_;  // a slot; opened below, outside the lock
      }
    }
    if (e.searcher && e.generation != gen) {
      Status st = e.searcher->Refresh();
      if (!st.ok()) {
        if (warn_) warn_("refresh failed, reopening: " + st.message());
        e.searcher.reset();
      }
    }
    if (!e.searcher) {
      Result<std::unique_ptr<Searcher>> s = Searcher::Open(db_, options_);
      if (!s.ok()) {
        Return(Entry());  // gives the slot back
        return s.status();
      }
      e.searcher = std::move(s).value();
    }
    e.generation = gen;
    *out = Lease(this, std::move(e));
    return Status::OK();
  }

 private:
  static constexpr std::chrono::seconds kLeaseTimeout{30};

  // Puts a searcher back; an empty entry frees its slot instead.
  void Return(Entry e) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (e.searcher) {
        idle_.push_back(std::move(e));
      } else {
        --created_;
      }
    }
    cv_.notify_one();
  }

  // Bumps the generation when the index stamp changed; looks at the disk
  // at most once per interval, and never makes a request wait for another
  // request's look.
  uint64_t Generation() {
    std::unique_lock<std::mutex> lock(check_mu_, std::try_to_lock);
    if (lock.owns_lock() && Clock::now() - last_check_ >= interval_) {
      last_check_ = Clock::now();
      std::string stamp = IndexStamp(
          db_, static_cast<int>(interval_.count()));
      if (stamp != stamp_) {
        stamp_ = std::move(stamp);
        generation_.fetch_add(1);
      }
    }
    return generation_.load();
  }

  const std::string db_;
  const SearcherOptions options_;
  const size_t max_size_;
  const Clock::duration interval_;
  std::function<void(const std::string&)> warn_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Entry> idle_;  // guarded by mu_
  size_t created_ = 0;       // searchers in existence; guarded by mu_
  std::mutex check_mu_;
  std::string stamp_;             // guarded by check_mu_
  Clock::time_point last_check_;  // guarded by check_mu_
  std::atomic<uint64_t> generation_{0};
};

}  // namespace

namespace {

// Every value of a repeatable, comma-separated parameter.
std::vector<std::string> ListParam(const ParamMap& ps, const char* name) {
  std::vector<std::string> out;
  auto [begin, end] = ps.equal_range(name);
  for (auto it = begin; it != end; ++it) {
    for (std::string& v : SplitList(it->second)) out.push_back(std::move(v));
  }
  return out;
}

}  // namespace

Status CheckParams(const ParamMap& ps, const HttpServerOptions& o,
                   std::string* bad) {
  if (ps.size() > kMaxParams) {
    return Status::InvalidArgument("too many parameters");
  }
  for (const auto& [k, v] : ps) {
    if (v.size() > o.max_param_bytes || k.size() > o.max_param_bytes) {
      *bad = k.substr(0, 64);
      return Status::InvalidArgument(*bad + ": longer than " +
                                     std::to_string(o.max_param_bytes) +
                                     " bytes");
    }
  }
  return Status::OK();
}

namespace {

// Fills page and limit from `page_param`/`limit_param`, enforcing the
// limits; on failure *bad names the parameter.
Status ParsePaging(const ParamMap& ps, const HttpServerOptions& o,
                   const char* page_param, const char* limit_param,
                   uint32_t default_limit, SearchRequest* sreq,
                   std::string* bad) {
  sreq->limit = default_limit;
  if (limit_param && ps.count(limit_param)) {
    Result<int64_t> v = ParseIntParam(ParamValue(ps, limit_param), 1,
                                      o.max_hits_per_page, limit_param);
    if (!v.ok()) return *bad = limit_param, v.status();
    sreq->limit = static_cast<uint32_t>(*v);
  }
  if (ps.count(page_param)) {
    int64_t max_page =
        static_cast<int64_t>(o.max_result_offset / sreq->limit) - 1;
    Result<int64_t> v =
        ParseIntParam(ParamValue(ps, page_param), 0,
                      std::max<int64_t>(max_page, 0), page_param);
    if (!v.ok()) {
      *bad = page_param;
      if (v.status().message().find("between") == std::string::npos) {
        return v.status();
      }
      return Status::InvalidArgument(
          v.status().message() + " (results are served to a depth of " +
          std::to_string(o.max_result_offset) + " hits)");
    }
    sreq->page = static_cast<uint32_t>(*v);
  }
  return Status::OK();
}

}  // namespace

Status ParseSearchParams(const ParamMap& ps, const HttpServerOptions& o,
                         SearchRequest* sreq, std::string* bad) {
  sreq->query = ParamValue(ps, "q");
  TS_RETURN_IF_ERROR(ParsePaging(ps, o, "page", "limit", 10, sreq, bad));
  sreq->authors = ListParam(ps, "author");
  sreq->replies_to = ListParam(ps, "replies_to");
  sreq->thread = ParamValue(ps, "thread");
  sreq->list = ParamValue(ps, "list");
  std::string v = ParamValue(ps, "sort");
  if (!v.empty()) {
    Result<SortOrder> s = ParseSortOrder(v);
    if (!s.ok()) return *bad = "sort", s.status();
    sreq->sort = *s;
  }
  v = ParamValue(ps, "collapse");
  if (v == "thread") {
    sreq->collapse_thread = true;
  } else if (!v.empty() && v != "none") {
    *bad = "collapse";
    return Status::InvalidArgument("collapse: expected thread or none");
  }
  Result<bool> facets = ParseBoolParam(ParamValue(ps, "facets"), "facets");
  if (!facets.ok()) return *bad = "facets", facets.status();
  sreq->facets = *facets;
  if (!(v = ParamValue(ps, "type")).empty()) {
    ItemType t;
    if (!ParseItemType(v, &t)) {
      *bad = "type";
      return Status::InvalidArgument(
          "type: expected story, comment, message, poll, pollopt or job");
    }
    sreq->type = t;
  }
  if (!(v = ParamValue(ps, "source")).empty()) {
    Source s;
    if (!ParseSource(v, &s)) {
      *bad = "source";
      return Status::InvalidArgument("source: expected hn, reddit or mail");
    }
    sreq->source = s;
  }
  for (const char* name : {"after", "before"}) {
    if ((v = ParamValue(ps, name)).empty()) continue;
    Result<int64_t> t = ParseDateParam(v, name);
    if (!t.ok()) return *bad = name, t.status();
    (name[0] == 'a' ? sreq->after : sreq->before) = *t;
  }
  return Status::OK();
}

namespace {

// The query's plain words, for a retry when the query language rejected a
// client's text (HN Search API clients send free text). The operators
// AND, OR and NOT become the ordinary words and, or, not.
std::string PlainWords(const std::string& q) {
  std::string out;
  for (size_t i = 0; i < q.size();) {
    i = NextWord(q, i);
    if (i == q.size()) break;
    const size_t e = WordEnd(q, i);
    std::string w = q.substr(i, e - i);
    i = e;
    if (w == "AND" || w == "OR" || w == "NOT") w = AsciiLower(w);
    out += (out.empty() ? "" : " ") + w;
  }
  return out;
}

// The client's text (in titles only with `in_title`) AND the clauses of
// its tags and filters, in the query language.
std::string HnQuery(const std::string& text, bool in_title,
                    const std::vector<std::string>& clauses) {
  std::string q = text;
  if (in_title && !TrimAscii(q).empty()) q = "title:(" + q + ")";
  // One flat AND: the parser's nesting limit (64) is no limit on how many
  // clauses (an author blocklist of excluded tags) a request brings.
  if (!TrimAscii(q).empty() && !clauses.empty()) q = "(" + q + ")";
  for (const std::string& c : clauses) {
    q = TrimAscii(q).empty() ? c : q + " AND " + c;
  }
  return q;
}

// A list parameter as Algolia reads it: comma-separated, or a JSON array
// of strings (`["title","url"]`).
std::vector<std::string> AlgoliaList(std::string_view v) {
  std::string plain;
  for (char c : TrimAscii(v)) {
    if (c != '[' && c != ']' && c != '"') plain.push_back(c);
  }
  return SplitList(plain);
}

// The query with optionalWords applied: the words a record must contain.
// Algolia ranks by the optional ones but does not require them; when every
// word is optional, a record needs one of them (how clients send "a OR b").
std::string ApplyOptionalWords(const std::string& query,
                               const std::string& optional) {
  // Words and "quoted phrases", as the client wrote them.
  auto split = [](std::string_view q) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < q.size()) {
      while (i < q.size() && (q[i] == ' ' || q[i] == ',')) ++i;
      if (i == q.size()) break;
      size_t e = i;
      if (q[i] == '"') {
        e = q.find('"', i + 1);
        e = e == std::string_view::npos ? q.size() : e + 1;
      } else {
        while (e < q.size() && q[e] != ' ' && q[e] != ',') ++e;
      }
      out.emplace_back(q.substr(i, e - i));
      i = e;
    }
    return out;
  };
  auto bare = [](std::string w) {
    std::string out;
    for (char c : w) {
      if (c != '"') out.push_back(c);
    }
    return AsciiLower(TrimAscii(out));
  };
  std::unordered_set<std::string> opt;
  // The JSON array form (["a","b"]), as a JSON field gives it, or words.
  const std::vector<std::string> listed = TrimAscii(optional).starts_with("[")
                                              ? AlgoliaList(optional)
                                              : split(optional);
  for (const std::string& w : listed) opt.insert(bare(w));
  std::vector<std::string> required, optional_words;
  for (const std::string& w : split(query)) {
    (opt.count(bare(w)) ? optional_words : required).push_back(w);
  }
  if (optional_words.empty()) return query;
  std::string out;
  if (required.empty()) {
    for (const std::string& w : optional_words) {
      out += (out.empty() ? "" : " OR ") + w;
    }
    return out;
  }
  for (const std::string& w : required) out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace

Status ParseHnParams(const ParamMap& ps, const HttpServerOptions& o,
                     bool by_date, HnParams* hp, std::string* bad) {
  SearchRequest* sreq = &hp->sreq;
  NumericFilter* nf = &hp->nf;
  bool* nothing = &hp->nothing;
  // Algolia's filter parameters we do not serve are refused rather than
  // ignored: a client would take the answer for what it asked.
  for (const char* unsupported : {"optionalFilters"}) {
    if (!TrimAscii(ParamValue(ps, unsupported)).empty()) {
      *bad = unsupported;
      return Status::InvalidArgument(
          std::string(unsupported) +
          ": not supported here; use tags and numericFilters");
    }
  }
  std::string query = ParamValue(ps, "query");
  if (ps.count("optionalWords")) {
    query = ApplyOptionalWords(query, ParamValue(ps, "optionalWords"));
  }
  std::vector<std::string> clauses;
  // restrictSearchableAttributes: the query matched in titles, in URLs, or
  // either. A list naming any other attribute (story_text, comment_text,
  // author, …) searches everything, as without it.
  bool in_title = false, in_url = false, elsewhere = false;
  for (const std::string& a :
       AlgoliaList(ParamValue(ps, "restrictSearchableAttributes"))) {
    const std::string attr = AsciiLower(a);
    (attr == "title" ? in_title : attr == "url" ? in_url : elsewhere) = true;
  }
  if (in_url && !elsewhere) {
    // The query is a link (how tools find a page's HN discussions): every
    // word of it in the story's URL. Quoted for the query language: the
    // link's own quotes dropped.
    std::string link;
    for (char c : query) {
      if (c != '"' && c != '\\') link.push_back(c);
    }
    const bool words =
        !schema::UrlHost(link).empty() || !schema::UrlWords(link).empty();
    if (!in_title) {
      if (!words) *nothing = true;
      if (words) clauses.push_back("url:\"" + link + "\"");
      query.clear();
    } else if (words && !TrimAscii(query).empty()) {
      // In the title or the URL.
      clauses.push_back("(title:(" + PlainWords(query) + ") OR url:\"" +
                        link + "\")");
      query.clear();
    }
  } else if (in_title && !elsewhere) {
    hp->in_title = true;
  }
  hp->text = query;
  // hn.algolia.com serves at most 1000 hits a page and answers more with
  // 1000; 0 asks for the count alone.
  uint32_t per_page = kHnDefaultHitsPerPage;
  if (ps.count("hitsPerPage")) {
    const std::string value = ParamValue(ps, "hitsPerPage");
    const std::string_view text = TrimAscii(value);
    Result<int64_t> v = ParseIntParam(text, 0, o.max_hits_per_page,
                                      "hitsPerPage");
    // More than the most is served as the most, however many digits.
    if (!v.ok() && !text.empty() &&
        std::all_of(text.begin(), text.end(),
                    [](char c) { return c >= '0' && c <= '9'; })) {
      v = static_cast<int64_t>(o.max_hits_per_page);
    }
    if (!v.ok()) return *bad = "hitsPerPage", v.status();
    hp->count_only = *v == 0;
    per_page = static_cast<uint32_t>(
        std::clamp<int64_t>(*v, 1, o.max_hits_per_page));
  }
  TS_RETURN_IF_ERROR(ParsePaging(ps, o, "page", nullptr, per_page, sreq, bad));
  // tagFilters is Algolia's name for tags; both given, both apply.
  TagFilter tags;
  for (const char* name : {"tags", "tagFilters"}) {
    Status st = AddAlgoliaTags(ParamValue(ps, name), name, &tags);
    if (!st.ok()) return *bad = name, st;
  }
  Result<NumericFilter> n =
      ParseNumericFilters(ParamValue(ps, "numericFilters"));
  if (!n.ok()) return *bad = "numericFilters", n.status();
  *nf = *n;
  Result<AlgoliaFilter> filters =
      ParseAlgoliaFilters(ParamValue(ps, "filters"));
  if (!filters.ok()) return *bad = "filters", filters.status();
  Result<AlgoliaFilter> facets =
      ParseAlgoliaFacetFilters(ParamValue(ps, "facetFilters"));
  if (!facets.ok()) return *bad = "facetFilters", facets.status();
  *nothing = *nothing || tags.match_nothing || nf->empty() ||
             filters->match_nothing || facets->match_nothing;
  clauses.insert(clauses.end(), tags.clauses.begin(), tags.clauses.end());
  if (!filters->clause.empty()) clauses.push_back(filters->clause);
  if (!facets->clause.empty()) clauses.push_back(facets->clause);
  if (!nf->clause.empty()) clauses.push_back(nf->clause);
  if (tags.types && tags.types->size() == 1) {
    sreq->type = *tags.types->begin();
  } else if (tags.types && tags.types->size() > 1) {
    std::string c;
    for (ItemType t : *tags.types) {
      c += (c.empty() ? "(type:" : " OR type:") + std::string(ItemTypeName(t));
    }
    clauses.push_back(c + ")");
  }
  if (tags.authors) {
    sreq->authors.assign(tags.authors->begin(), tags.authors->end());
  }
  if (tags.stories && tags.stories->size() == 1) {
    sreq->thread = *tags.stories->begin();
  } else if (tags.stories && tags.stories->size() > 1) {
    std::string c;
    for (const std::string& s : *tags.stories) {
      c += (c.empty() ? "(thread:" : " OR thread:") + s;
    }
    clauses.push_back(c + ")");
  }
  if (nf->time_lo) sreq->after = *nf->time_lo;
  if (nf->time_hi) sreq->before = *nf->time_hi + 1;
  sreq->points_min = nf->points_lo;
  sreq->points_max = nf->points_hi;
  sreq->comments_min = nf->comments_lo;
  sreq->comments_max = nf->comments_hi;
  hp->clauses = clauses;
  sreq->query = HnQuery(query, hp->in_title, clauses);
  const bool words = !TrimAscii(query).empty();
  sreq->sort = by_date  ? SortOrder::kDateDesc
               : words ? SortOrder::kRelevance
                       : SortOrder::kPoints;
  sreq->context = false;
  sreq->highlight_fields = true;
  return Status::OK();
}

namespace {

// An HN Search API page: the hits and how many matched.
struct HnPage {
  std::vector<Hit> hits;
  uint64_t total = 0;
  std::vector<std::string> missing_shards;
};

Status SearchInto(Searcher& s, const SearchRequest& sreq, HnPage* out) {
  Result<SearchResult> r = s.Search(sreq);
  if (!r.ok()) return r.status();
  out->total = r->total;
  out->hits = std::move(r->hits);
  out->missing_shards = std::move(r->missing_shards);
  return Status::OK();
}

// Runs hp's search (none when hp->nothing) into *out.
Status RunHnSearch(Searcher& s, HnParams* hp, HnPage* out) {
  *out = HnPage();
  if (hp->nothing) return Status::OK();
  Status st = SearchInto(s, hp->sreq, out);
  if (st.code() == StatusCode::kInvalidArgument) {
    // Free text the query language rejects: search its words instead,
    // with the tags' clauses as they were.
    hp->sreq.query = HnQuery(PlainWords(hp->text), hp->in_title, hp->clauses);
    *out = HnPage();
    st = SearchInto(s, hp->sreq, out);
  }
  return st;
}

// Algolia echoes the request's parameters, sorted and URL-encoded.
std::string EchoParams(const ParamMap& ps) {
  std::vector<std::pair<std::string, std::string>> all = {
      {"advancedSyntax", "true"}, {"analytics", "false"}};
  for (const auto& [k, v] : ps) all.emplace_back(k, v);
  std::sort(all.begin(), all.end());
  std::string out;
  for (const auto& [k, v] : all) {
    out += (out.empty() ? "" : "&") + UrlEncode(k) + "=" + UrlEncode(v);
  }
  return out;
}

// Finds the node for store number `num` in a tree.
const ThreadNode* FindNode(const ThreadNode& n, uint32_t num) {
  if (n.item.num == num) return &n;
  for (const ThreadNode& c : n.children) {
    if (const ThreadNode* f = FindNode(c, num)) return f;
  }
  return nullptr;
}

// The indices of Algolia's HN Search app (UJ5WYC0L7X), as hn.algolia.com's
// front end and other clients name them.
enum class NativeIndex { kItems, kItemsByDate, kUsers };
std::optional<NativeIndex> NativeIndexNamed(std::string_view name) {
  // Item_production_ordered is the front end's index for queries of one or
  // two letters: relevance in which word order and position count. Our
  // relevance ranks words found in order higher for every query.
  if (name == "Item_production" || name == "Item_production_ordered") {
    return NativeIndex::kItems;
  }
  if (name == "Item_production_sort_date") return NativeIndex::kItemsByDate;
  if (name == "User_production") return NativeIndex::kUsers;
  return std::nullopt;
}

// Algolia's own messages for what does not exist.
constexpr char kNoSuchIndex[] = "Index does not exist";
constexpr char kNoSuchObject[] = "ObjectID does not exist";
// Searches in one multi-query request.
constexpr size_t kMaxQueries = 50;

// A native request's URL parameters without the client's credentials and
// agent (x-algolia-application-id, x-algolia-api-key, x-algolia-agent),
// which are accepted and ignored.
ParamMap NativeUrlParams(const Request& req) {
  ParamMap ps = req.params;
  std::erase_if(ps, [](const auto& kv) {
    return AsciiLower(kv.first).starts_with("x-algolia-");
  });
  return ps;
}

}  // namespace

Status HnSearchPage(Searcher& s, const ParamMap& ps,
                    const HttpServerOptions& opts, Clock::time_point start,
                    const std::string& index, HnParams* hp,
                    std::string* body) {
  SearchRequest& sreq = hp->sreq;
  HnPage page;
  TS_RETURN_IF_ERROR(RunHnSearch(s, hp, &page));
  if (hp->count_only) page.hits.clear();
  std::vector<StoredItem> roots;
  for (const Hit& h : page.hits) {
    Result<StoredItem> root = s.Get(h.shard, h.item.root_num);
    roots.push_back(root.ok() ? std::move(root).value() : h.item);
  }
  AlgoliaPage p;
  p.query = ParamValue(ps, "query");
  p.params = EchoParams(ps);
  p.index = index;
  // Algolia's highlightPreTag/highlightPostTag (hn.algolia.com's front
  // end marks matches with its own).
  if (ps.count("highlightPreTag")) {
    p.highlight_pre = ParamValue(ps, "highlightPreTag");
  }
  if (ps.count("highlightPostTag")) {
    p.highlight_post = ParamValue(ps, "highlightPostTag");
  }
  p.nb_hits = page.total;
  // Algolia's own flag for "the count may be short", plus which shards.
  p.exhaustive = page.missing_shards.empty();
  p.missing_shards = page.missing_shards;
  p.page = sreq.page;
  p.hits_per_page = hp->count_only ? 0 : sreq.limit;
  uint64_t pages = (page.total + sreq.limit - 1) / sreq.limit;
  p.nb_pages = hp->count_only
                   ? 0
                   : static_cast<uint32_t>(std::min<uint64_t>(
                         pages, opts.max_result_offset / sreq.limit));
  p.processing_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        Clock::now() - start)
                        .count();
  *body = AlgoliaSearchToJson(page.hits, roots, p);
  return Status::OK();
}

struct HttpServer::Impl {
  HttpServerOptions opts;
  httplib::Server svr;
  std::unique_ptr<SearcherPool> pool;

  Impl(const HttpServerOptions& o)
      : opts(o),
        pool(std::make_unique<SearcherPool>(
            o.db,
            o.searchers > 0 ? static_cast<size_t>(o.searchers)
                            : DefaultSearchers(),
            o.refresh_interval_ms, ShardOptions(o), o.on_warning)) {}

  void register_routes();
  // Handlers, one per route.
  void get_page(const Request& req, Response& res);
  void get_health(const Request& req, Response& res);
  void get_search(const Request& req, Response& res);
  void get_item(const Request& req, Response& res);
  void get_user(const Request& req, Response& res);
  void get_user_replies(const Request& req, Response& res);
  void get_stats(const Request& req, Response& res);
  void get_hn_search(const Request& req, Response& res);
  void get_hn_search_by_date(const Request& req, Response& res);
  void get_hn_item(const Request& req, Response& res);
  void get_hn_user(const Request& req, Response& res);
  void options_api(const Request& req, Response& res);
  // Another method on a GET route (/, /healthz, /api/…): 405 naming GET.
  void reject_method(const Request& req, Response& res);
  // Algolia's native protocol (/1/indexes/…).
  void get_index_search(const Request& req, Response& res);
  void post_index_search(const Request& req, Response& res);
  void post_index_queries(const Request& req, Response& res);
  void get_index_object(const Request& req, Response& res);
  void options_algolia(const Request& req, Response& res);

  // Safety nets and limits that apply to every route.
  httplib::Server::HandlerResponse check_limits(const Request& req,
                                                Response& res);
  void hn_search(const Request& req, Response& res, bool by_date);
  // The parameters of a native search of index `name` into *hp: NotFound
  // (kNoSuchIndex) for an index we do not serve, InvalidArgument for the
  // user index (users are fetched, not searched) and for a bad parameter
  // (*bad names it).
  Status native_params(const std::string& name, const ParamMap& ps,
                       HnParams* hp, std::string* bad);
  // Answers a native search of index `name` with the parameters `ps`.
  void native_search(const std::string& name, const ParamMap& ps,
                     Response& res);
};

void HttpServer::Impl::register_routes() {
  auto route = [this](void (Impl::*h)(const Request&, Response&)) {
    return [this, h](const Request& req, Response& res) { (this->*h)(req, res); };
  };
  svr.Get("/", route(&Impl::get_page));
  svr.Get("/index.html", route(&Impl::get_page));
  svr.Get("/healthz", route(&Impl::get_health));
  svr.Get("/api/search", route(&Impl::get_search));
  svr.Get(R"(/api/items/(.+))", route(&Impl::get_item));
  svr.Get(R"(/api/users/(.+)/replies)", route(&Impl::get_user_replies));
  svr.Get(R"(/api/users/(.+))", route(&Impl::get_user));
  svr.Get("/api/stats", route(&Impl::get_stats));
  // hn.algolia.com answers with or without a trailing slash.
  svr.Get(R"(/api/v1/search/?)", route(&Impl::get_hn_search));
  svr.Get(R"(/api/v1/search_by_date/?)", route(&Impl::get_hn_search_by_date));
  svr.Get(R"(/api/v1/items/(.+))", route(&Impl::get_hn_item));
  svr.Get(R"(/api/v1/users/(.+))", route(&Impl::get_hn_user));
  svr.Options(R"(/api/.*)", route(&Impl::options_api));
  // A client that POSTs (or PUTs, …) its search hears that only GET
  // answers, not "no such route".
  const char* get_only = R"(/|/index\.html|/healthz|/api/.*)";
  svr.Post(get_only, route(&Impl::reject_method));
  svr.Put(get_only, route(&Impl::reject_method));
  svr.Patch(get_only, route(&Impl::reject_method));
  svr.Delete(get_only, route(&Impl::reject_method));
  // Algolia's native protocol, as algoliasearch clients (hn.algolia.com's
  // front end among them) speak it to app UJ5WYC0L7X.
  svr.Get(R"(/1/indexes/([^/]+)/?)", route(&Impl::get_index_search));
  svr.Get(R"(/1/indexes/([^/]+)/(.+))", route(&Impl::get_index_object));
  svr.Post(R"(/1/indexes/\*/queries)", route(&Impl::post_index_queries));
  svr.Post(R"(/1/indexes/([^/]+)/query)", route(&Impl::post_index_search));
  svr.Options(R"(/1/.*)", route(&Impl::options_algolia));

  svr.set_pre_routing_handler(
      [this](const Request& req, Response& res) { return check_limits(req, res); });
  // JSON gzip-compressed when the client accepts it, as hn.algolia.com
  // sends it (httplib compresses text/* itself, but not our JSON type).
  svr.set_post_routing_handler([](const Request& req, Response& res) {
    if (res.body.size() < 1024 || res.has_header("Content-Encoding") ||
        !res.get_header_value("Content-Type").starts_with("application/json")) {
      return;
    }
    res.set_header("Vary", "Accept-Encoding");
    if (!AcceptsGzip(req)) return;
    std::string gz = Gzip(res.body);
    if (gz.empty()) return;
    res.body = std::move(gz);
    res.set_header("Content-Encoding", "gzip");
    res.headers.erase("Content-Length");
    res.set_header("Content-Length", std::to_string(res.body.size()));
  });
  // Anything that ends in an error status without a body (no route, URI
  // too long, …) still answers JSON.
  svr.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const Request&, Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const char* what = res.status == 404   ? "no such route"
                       : res.status == 414 ? "URI too long"
                       : res.status == 413 ? "payload too large"
                       : res.status == 400 ? "bad request"
                       : res.status == 405 ? "method not allowed"
                                           : "request failed";
    SendJson(res, res.status, HttpErrorToJson(what, "", res.status));
    return httplib::Server::HandlerResponse::Handled;
  }));
  svr.set_exception_handler(
      [](const Request&, Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what += std::string(": ") + e.what();
        } catch (...) {
        }
        SendJson(res, 500, HttpErrorToJson(what, "", 500));
      });
}

httplib::Server::HandlerResponse HttpServer::Impl::check_limits(
    const Request& req, Response& res) {
  // cpp-httplib keeps what follows a value's LAST '=' ("points>=10" reads
  // "10"); clients send such values unencoded, so the parameters are read
  // again from the request target. The Request is httplib's own, not const.
  const size_t q = req.target.find('?');
  Request& mutable_req = const_cast<Request&>(req);
  mutable_req.params.clear();
  if (q != std::string::npos) {
    const std::string_view query = std::string_view(req.target).substr(q + 1);
    for (auto& [k, v] : ParseQueryString(query)) {
      mutable_req.params.emplace(std::move(k), std::move(v));
    }
  }
  std::string bad;
  Status st = CheckParams(req.params, opts, &bad);
  if (!st.ok()) {
    if (req.path.starts_with("/1/")) {
      SendAlgoliaError(res, st, bad);
    } else {
      SendError(res, st, bad);
    }
    return httplib::Server::HandlerResponse::Handled;
  }
  return httplib::Server::HandlerResponse::Unhandled;
}

void HttpServer::Impl::get_page(const Request&, Response& res) {
  res.set_header("Content-Security-Policy",
                 "default-src 'none'; script-src 'unsafe-inline'; "
                 "style-src 'unsafe-inline'; connect-src 'self'; "
                 "img-src 'self' data:; base-uri 'none'; form-action 'self'");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_content(kIndexHtml, kIndexHtmlSize, "text/html; charset=utf-8");
}

void HttpServer::Impl::get_health(const Request&, Response& res) {
  SearcherPool::Lease s;
  Status st = pool->Acquire(&s);
  if (!st.ok()) return SendError(res, Status::Busy(st.message()), "");
  SendJson(res, 200, R"({"status":"ok"})");
}

void HttpServer::Impl::get_search(const Request& req, Response& res) {
  SearchRequest sreq;
  std::string bad;
  Status st = ParseSearchParams(req.params, opts, &sreq, &bad);
  if (!st.ok()) return SendError(res, st, bad);
  SearcherPool::Lease s;
  if (!(st = pool->Acquire(&s)).ok()) return SendError(res, st, "");
  Result<SearchResult> r = s->Search(sreq);
  if (!r.ok()) {
    bool client = r.status().code() == StatusCode::kInvalidArgument;
    return SendError(res, r.status(), client ? "q" : "");
  }
  SendJson(res, 200, SearchResultToJson(*r));
}

void HttpServer::Impl::get_item(const Request& req, Response& res) {
  const std::string id = req.matches[1];
  uint32_t depth = opts.max_depth;
  if (req.has_param("depth")) {
    Result<int64_t> d = ParseIntParam(ParamValue(req.params, "depth"), 0,
                                      opts.max_depth, "depth");
    if (!d.ok()) return SendError(res, d.status(), "depth");
    depth = static_cast<uint32_t>(*d);
  }
  SearcherPool::Lease s;
  Status st = pool->Acquire(&s);
  if (!st.ok()) return SendError(res, st, "");
  Result<ThreadView> v = s->ThreadBelow(id, depth);
  if (!v.ok()) return SendError(res, v.status(), "");
  SendJson(res, 200, ThreadViewToJson(*v));
}

void HttpServer::Impl::get_user(const Request& req, Response& res) {
  SearcherPool::Lease s;
  Status st = pool->Acquire(&s);
  if (!st.ok()) return SendError(res, st, "");
  Result<UserSummary> u = s->User(std::string(req.matches[1]));
  if (!u.ok()) return SendError(res, u.status(), "");
  SendJson(res, 200, UserSummaryToJson(*u));
}

void HttpServer::Impl::get_user_replies(const Request& req, Response& res) {
  SearchRequest sreq;
  std::string bad;
  Status st = ParsePaging(req.params, opts, "page", "limit", 10, &sreq, &bad);
  if (!st.ok()) return SendError(res, st, bad);
  sreq.query = ParamValue(req.params, "q");
  sreq.replies_to = {std::string(req.matches[1])};
  sreq.sort = SortOrder::kDateDesc;
  SearcherPool::Lease s;
  if (!(st = pool->Acquire(&s)).ok()) return SendError(res, st, "");
  Result<SearchResult> r = s->Search(sreq);
  if (!r.ok()) return SendError(res, r.status(), "q");
  SendJson(res, 200, SearchResultToJson(*r));
}

void HttpServer::Impl::get_stats(const Request&, Response& res) {
  SearcherPool::Lease s;
  Status st = pool->Acquire(&s);
  if (!st.ok()) return SendError(res, st, "");
  Result<DbStats> d = s->Stats();
  if (!d.ok()) return SendError(res, d.status(), "");
  SendJson(res, 200, DbStatsToJson(*d));
}

void HttpServer::Impl::get_hn_search(const Request& req, Response& res) {
  hn_search(req, res, false);
}

void HttpServer::Impl::get_hn_search_by_date(const Request& req,
                                             Response& res) {
  hn_search(req, res, true);
}

void HttpServer::Impl::hn_search(const Request& req, Response& res,
                                 bool by_date) {
  const auto start = Clock::now();
  HnParams hp;
  std::string bad;
  Status st = ParseHnParams(req.params, opts, by_date, &hp, &bad);
  if (!st.ok()) return SendError(res, st, bad);
  SearcherPool::Lease s;
  if (!(st = pool->Acquire(&s)).ok()) return SendError(res, st, "");
  std::string body;
  st = HnSearchPage(*s, req.params, opts, start, "", &hp, &body);
  if (!st.ok()) return SendError(res, st, "query");
  SendJson(res, 200, body);
}

void HttpServer::Impl::get_hn_item(const Request& req, Response& res) {
  const std::string id = req.matches[1];
  SearcherPool::Lease s;
  Status st = pool->Acquire(&s);
  if (!st.ok()) return SendError(res, st, "");
  Result<std::pair<uint32_t, StoredItem>> asked = s->FindItem(id);
  if (!asked.ok()) return SendError(res, asked.status(), "");
  if (asked->second.placeholder) {
    // Only named by its replies: hn.algolia.com has no such item either.
    return SendError(res, Status::NotFound("no item with id \"" + id + "\""),
                     "");
  }
  Result<ThreadView> v = s->Thread(id, opts.max_depth);
  if (!v.ok()) return SendError(res, v.status(), "");
  const ThreadNode* node = FindNode(v->root, asked->second.num);
  if (!node) {
    return SendError(res, Status::NotFound(id + ": not in its thread's tree"),
                     "");
  }
  SendJson(res, 200, AlgoliaItemToJson(*node, v->root.item));
}

void HttpServer::Impl::get_hn_user(const Request& req, Response& res) {
  SearcherPool::Lease s;
  Status st = pool->Acquire(&s);
  if (!st.ok()) return SendError(res, st, "");
  Result<UserSummary> u = s->User(std::string(req.matches[1]));
  if (!u.ok()) return SendError(res, u.status(), "");
  SendJson(res, 200, AlgoliaUserToJson(*u));
}

void HttpServer::Impl::options_api(const Request& req, Response& res) {
  SendPreflight(req, res, "GET, OPTIONS");
}

void HttpServer::Impl::reject_method(const Request& req, Response& res) {
  res.set_header("Allow", "GET, OPTIONS");
  SendJson(res, 405,
           HttpErrorToJson(req.method + " is not allowed here: " + req.path +
                               " answers GET (parameters in the URL)",
                           "", 405));
}

Status HttpServer::Impl::native_params(const std::string& name,
                                       const ParamMap& ps, HnParams* hp,
                                       std::string* bad) {
  std::optional<NativeIndex> index = NativeIndexNamed(name);
  if (!index) return Status::NotFound(kNoSuchIndex);
  if (*index == NativeIndex::kUsers) {
    return Status::InvalidArgument(
        name + ": users are not searched here; GET /1/indexes/" + name +
        "/NAME returns one");
  }
  TS_RETURN_IF_ERROR(CheckParams(ps, opts, bad));
  return ParseHnParams(ps, opts, *index == NativeIndex::kItemsByDate, hp, bad);
}

void HttpServer::Impl::native_search(const std::string& name,
                                     const ParamMap& ps, Response& res) {
  const auto start = Clock::now();
  HnParams hp;
  std::string bad;
  Status st = native_params(name, ps, &hp, &bad);
  if (!st.ok()) return SendAlgoliaError(res, st, bad);
  SearcherPool::Lease s;
  if (!(st = pool->Acquire(&s)).ok()) return SendAlgoliaError(res, st, "");
  std::string body;
  st = HnSearchPage(*s, ps, opts, start, name, &hp, &body);
  if (!st.ok()) return SendAlgoliaError(res, st, "query");
  SendJson(res, 200, body);
}

void HttpServer::Impl::get_index_search(const Request& req, Response& res) {
  native_search(req.matches[1], NativeUrlParams(req), res);
}

void HttpServer::Impl::post_index_search(const Request& req, Response& res) {
  // The body alone holds the search (the URL only the credentials); it is
  // JSON whatever its Content-Type: browser clients label it form data to
  // avoid a preflight.
  Result<ParamMap> ps = ParseAlgoliaQueryBody(req.body);
  if (!ps.ok()) return SendAlgoliaError(res, ps.status(), "");
  native_search(req.matches[1], *ps, res);
}

void HttpServer::Impl::post_index_queries(const Request& req, Response& res) {
  Result<std::vector<AlgoliaIndexQuery>> qs = ParseAlgoliaQueriesBody(req.body);
  if (!qs.ok()) return SendAlgoliaError(res, qs.status(), "");
  if (qs->size() > kMaxQueries) {
    return SendAlgoliaError(
        res,
        Status::InvalidArgument("at most " + std::to_string(kMaxQueries) +
                                " searches in one request"),
        "requests");
  }
  // Every search is checked before any runs: one bad search fails the
  // batch, as on Algolia.
  std::vector<HnParams> parsed(qs->size());
  for (size_t i = 0; i < qs->size(); ++i) {
    std::string bad;
    Status st =
        native_params((*qs)[i].index, (*qs)[i].params, &parsed[i], &bad);
    if (st.code() == StatusCode::kInvalidArgument) {
      st = st.WithContext("requests[" + std::to_string(i) + "]");
    }
    if (!st.ok()) return SendAlgoliaError(res, st, "");
  }
  SearcherPool::Lease s;
  Status st = pool->Acquire(&s);
  if (!st.ok()) return SendAlgoliaError(res, st, "");
  std::string body = R"({"results":[)";
  for (size_t i = 0; i < qs->size(); ++i) {
    std::string page;
    st = HnSearchPage(*s, (*qs)[i].params, opts, Clock::now(), (*qs)[i].index,
                      &parsed[i], &page);
    if (!st.ok()) {
      return SendAlgoliaError(res, st,
                              "requests[" + std::to_string(i) + "].query");
    }
    body += (i ? "," : "") + page;
  }
  SendJson(res, 200, body + "]}");
}

void HttpServer::Impl::get_index_object(const Request& req, Response& res) {
  const std::string name = req.matches[1], id = req.matches[2];
  std::optional<NativeIndex> index = NativeIndexNamed(name);
  if (!index) return SendAlgoliaError(res, Status::NotFound(kNoSuchIndex), "");
  SearcherPool::Lease s;
  Status st = pool->Acquire(&s);
  if (!st.ok()) return SendAlgoliaError(res, st, "");
  auto not_found = [&](const Status& got) {
    SendAlgoliaError(
        res, got.IsNotFound() ? Status::NotFound(kNoSuchObject) : got, "");
  };
  if (*index == NativeIndex::kUsers) {
    // A User_production record is what /api/v1/users/NAME serves.
    Result<UserSummary> u = s->User(id);
    if (!u.ok()) return not_found(u.status());
    return SendJson(res, 200, AlgoliaUserToJson(*u));
  }
  Result<std::pair<uint32_t, StoredItem>> asked = s->FindItem(id);
  if (!asked.ok()) return not_found(asked.status());
  // Only named by its replies: no record, as for /api/v1/items.
  if (asked->second.placeholder) return not_found(Status::NotFound(id));
  Result<StoredItem> root = s->Get(asked->first, asked->second.root_num);
  SendJson(res, 200,
           AlgoliaRecordToJson(
               asked->second, root.ok() ? *root : asked->second,
               AlgoliaList(ParamValue(req.params, "attributesToRetrieve"))));
}

void HttpServer::Impl::options_algolia(const Request& req, Response& res) {
  SendPreflight(req, res, "GET, POST, OPTIONS");
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

Result<std::unique_ptr<HttpServer>> HttpServer::Open(
    const HttpServerOptions& opts) {
  if (opts.db.empty()) return Status::InvalidArgument("db: required");
  // Each pooled Searcher keeps two handles on every index part
  // (SearcherOptions::parallel_count), besides the sockets.
  RaiseOpenFileLimit();
  if (opts.threads < 0 || opts.threads > 1024) {
    return Status::InvalidArgument("threads: must be between 0 and 1024");
  }
  if (opts.searchers < 0 || opts.searchers > 1024) {
    return Status::InvalidArgument("searchers: must be between 0 and 1024");
  }
  if (opts.port < 0 || opts.port > 65535) {
    return Status::InvalidArgument("port: must be between 0 and 65535");
  }
  auto impl = std::make_unique<Impl>(opts);
  {
    // Fail early (and keep one searcher warm) when the database is missing.
    SearcherPool::Lease s;
    TS_RETURN_IF_ERROR(impl->pool->Acquire(&s));
  }
  size_t threads = opts.threads > 0
                       ? static_cast<size_t>(opts.threads)
                       : std::max<size_t>(8, std::thread::hardware_concurrency());
  impl->svr.new_task_queue = [threads] {
    return new httplib::ThreadPool(threads);
  };
  impl->svr.set_keep_alive_max_count(1000);
  // Request bodies (Algolia's POST searches) over the limit are a 413.
  impl->svr.set_payload_max_length(opts.max_body_bytes);
  // httplib writes a response's headers and body separately: with Nagle's
  // algorithm on, the body waited for the client's delayed ACK (about
  // 40 ms), which capped a keep-alive connection at ~22 requests/s.
  impl->svr.set_tcp_nodelay(true);
  impl->svr.set_socket_options(ListenSocketOptions);
  impl->register_routes();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

Result<int> HttpServer::Bind() {
  const HttpServerOptions& o = impl_->opts;
  if (o.port == 0) {
    int port = impl_->svr.bind_to_any_port(o.host);
    if (port <= 0) return Status::IOError("cannot bind " + o.host);
    return port;
  }
  if (!impl_->svr.bind_to_port(o.host, o.port)) {
    return Status::IOError("cannot bind " + o.host + ":" +
                           std::to_string(o.port));
  }
  return o.port;
}

Status HttpServer::Serve() {
  if (!impl_->svr.listen_after_bind()) {
    return Status::IOError("the server stopped with an error");
  }
  return Status::OK();
}

void HttpServer::Stop() { impl_->svr.stop(); }

httplib::Server& HttpServer::http() { return impl_->svr; }

}  // namespace threadsearch
