// HttpServer: the HTTP face of a threadsearch database. A native JSON API
// (/api/...), the HN Search (Algolia) API (/api/v1/...) and Algolia's own
// REST protocol for the same indices (/1/indexes/...), and the web page
// (/). The routes and their limits are documented in README.md ("HTTP API").
#ifndef THREADSEARCH_SERVER_HTTP_SERVER_H_
#define THREADSEARCH_SERVER_HTTP_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"

namespace httplib {
class Server;
}

namespace threadsearch {

struct HttpServerOptions {
  std::string db;                // database directory (required)
  std::string host = "127.0.0.1";
  int port = 8080;               // 0: any free port
  int threads = 0;               // worker threads; 0: max(8, CPUs)
  // Searchers (each with its own database handles) shared by the workers;
  // a request waits up to 30 s for a free one (then 503). 0: max(8, 4 × CPUs).
  int searchers = 0;
  // Limits on what a client may ask (each breach is a 400 naming the
  // parameter).
  size_t max_param_bytes = 2048;       // q, query, and every other value
  uint32_t max_hits_per_page = 1000;   // limit, hitsPerPage
  uint64_t max_result_offset = 100000;  // (page + 1) * limit
  uint32_t max_depth = 1000;           // depth of /api/items
  size_t max_body_bytes = 1 << 20;     // a request body (POST /1/…)
  // How often (at most) a request checks whether the index advanced.
  int refresh_interval_ms = 1000;
  // Collections with remote shards: how long a shard may take before a
  // query answers without it (partial), and how soon it is tried again.
  int shard_timeout_ms = 2000;
  // Warnings (a searcher that failed to refresh, …); may be empty.
  std::function<void(const std::string&)> on_warning;
};

class HttpServer {
 public:
  // Checks that `opts.db` opens and registers every route. NotFound when
  // there is no database, InvalidArgument for bad options.
  static Result<std::unique_ptr<HttpServer>> Open(const HttpServerOptions& opts);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds opts.host:opts.port (any free port when 0). Returns the port, or
  // IOError when the address cannot be bound.
  Result<int> Bind();
  // Serves on the bound socket until Stop(); blocks. IOError when it could
  // not run. REQUIRES: Bind() succeeded.
  Status Serve();
  // Makes Serve() return; thread-safe.
  void Stop();

  // The underlying server with every route registered; tests may bind and
  // listen on it directly. Owned by this object.
  httplib::Server& http();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace threadsearch

#endif  // THREADSEARCH_SERVER_HTTP_SERVER_H_
