// Helpers for the server tests: a corpus database built with the real
// Indexer, and an HttpServer listening on a free loopback port.
#ifndef THREADSEARCH_TESTS_SERVER_FIXTURE_H_
#define THREADSEARCH_TESTS_SERVER_FIXTURE_H_

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "indexer/indexer.h"
#include "server/http_server.h"
#include "tests/testutil.h"

namespace threadsearch {

// Indexes `paths` into `db` with the real Indexer; false (and a test
// failure) when that fails.
inline bool IndexInto(const std::string& db,
                      const std::vector<std::string>& paths) {
  IndexOptions opts;
  Result<std::unique_ptr<Indexer>> ix = Indexer::Open(db, opts);
  EXPECT_TRUE(ix.ok()) << ix.status().ToString();
  if (!ix.ok()) return false;
  IndexStats stats;
  Status st = (*ix)->IndexPaths(paths, &stats);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return st.ok();
}

// The corpus slice the server suites search: every HN and Reddit file, the
// HN thread page, and one month of R-help.
inline std::vector<std::string> CorpusSlice() {
  const std::string c = TS_CORPUS;
  return {c + "/hn", c + "/reddit", c + "/hn-thread-page-42133844.txt",
          c + "/mailing-lists/r-help/2003-May.txt.gz"};
}

// A real HttpServer (real httplib::Server) on 127.0.0.1 and a free port,
// served from a thread until destruction.
class TestServer {
 public:
  explicit TestServer(const std::string& db, int refresh_interval_ms = 1000) {
    HttpServerOptions o;
    o.db = db;
    o.threads = 4;
    o.refresh_interval_ms = refresh_interval_ms;
    Result<std::unique_ptr<HttpServer>> s = HttpServer::Open(o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (!s.ok()) return;
    server_ = std::move(s).value();
    port_ = server_->http().bind_to_any_port("127.0.0.1");
    EXPECT_GT(port_, 0);
    thread_ = std::thread([this] { server_->http().listen_after_bind(); });
    // httplib 0.11.4 has no wait_until_ready.
    for (int i = 0; i < 500 && !server_->http().is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(server_->http().is_running());
  }
  ~TestServer() {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  int port() const { return port_; }
  std::string base_url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }
  // A fresh client for this server.
  std::unique_ptr<httplib::Client> client() const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
    c->set_read_timeout(30, 0);
    return c;
  }

 private:
  std::unique_ptr<HttpServer> server_;
  int port_ = -1;
  std::thread thread_;
};

// GET `path` (already URL-encoded); status -1 when the request failed.
struct Reply {
  int status = -1;
  std::string body;
  httplib::Headers headers;
  nlohmann::json json() const {
    return nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  }
  std::string header(const std::string& k) const {
    auto it = headers.find(k);
    return it == headers.end() ? "" : it->second;
  }
};
// What a request answered.
inline Reply ReplyOf(const httplib::Result& res) {
  Reply r;
  if (!res) return r;
  r.status = res->status;
  r.body = res->body;
  r.headers = res->headers;
  return r;
}
inline Reply Get(const TestServer& s, const std::string& path) {
  return ReplyOf(s.client()->Get(path.c_str()));
}
// POST `body` (of Content-Type `type`) to `path`.
inline Reply Post(const TestServer& s, const std::string& path,
                  const std::string& body,
                  const std::string& type = "application/json",
                  const httplib::Headers& headers = {}) {
  return ReplyOf(s.client()->Post(path.c_str(), headers, body, type.c_str()));
}

}  // namespace threadsearch

#endif  // THREADSEARCH_TESTS_SERVER_FIXTURE_H_
