#include "server/shard_server.h"

#include <httplib.h>
#include <xapian.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/keys.h"
#include "common/thread_store.h"
#include "searcher/remote_store.h"
#include "server/listen_socket.h"

namespace threadsearch {

namespace {

using Clock = std::chrono::steady_clock;
// Refresh requests closer together than this share one reopen.
constexpr auto kMinReopenGap = std::chrono::milliseconds(500);
// Scan records are sent in chunks of about this size.
constexpr size_t kChunkBytes = 64 * 1024;
// A positions request is a page's rescoring window: far below these.
constexpr size_t kMaxPositionTerms = 256;
constexpr size_t kMaxPositionDocs = 100000;

}  // namespace

struct ShardServer::Impl {
  ShardServerOptions opts;
  httplib::Server http;
  int port = 0;
  // The store requests read; a refresh opens a new one and swaps it in, so
  // requests in flight finish on the old one.
  std::mutex mu;
  std::shared_ptr<ThreadStore> store;
  Clock::time_point opened_at;
  // Handles on the shard's index for positions requests, one per request
  // in flight (a Xapian::Database is not for concurrent use), kept for the
  // next, which brings it up to the latest revision first.
  std::vector<std::unique_ptr<Xapian::Database>> idle_indexes;
  // Requests received, by kind, for /v1/store/info.
  std::atomic<uint64_t> gets{0}, multigets{0}, scans{0}, positions{0};

  std::shared_ptr<ThreadStore> Current() {
    std::lock_guard<std::mutex> lock(mu);
    return store;
  }
  Status Reopen() {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (store && Clock::now() - opened_at < kMinReopenGap) {
        return Status::OK();
      }
    }
    StoreOptions so;
    so.read_only = true;
    Result<std::unique_ptr<ThreadStore>> st =
        ThreadStore::Open(opts.db + "/store", so);
    if (!st.ok()) return st.status();
    std::lock_guard<std::mutex> lock(mu);
    store = std::shared_ptr<ThreadStore>(std::move(st).value());
    opened_at = Clock::now();
    return Status::OK();
  }
  // An index handle for one request, at the latest revision (the searcher
  // may have moved on without a refresh). Throws Xapian::Error;
  // DatabaseNotFoundError when the shard has no index.
  std::unique_ptr<Xapian::Database> TakeIndex() {
    std::unique_ptr<Xapian::Database> db;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!idle_indexes.empty()) {
        db = std::move(idle_indexes.back());
        idle_indexes.pop_back();
      }
    }
    if (!db) return std::make_unique<Xapian::Database>(opts.db + "/xapian");
    db->reopen();  // a check of the revision file when nothing changed
    return db;
  }
  void ReturnIndex(std::unique_ptr<Xapian::Database> db) {
    std::lock_guard<std::mutex> lock(mu);
    idle_indexes.push_back(std::move(db));
  }
  // The answer to a positions request (remote_store.h); false with `error`
  // set when the index cannot be read.
  bool Positions(Xapian::Database& db, const std::vector<std::string>& terms,
                 const std::vector<Xapian::docid>& docs, std::string* out,
                 std::string* error);
  void Routes();
};

ShardServer::ShardServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ShardServer::~ShardServer() = default;

Result<std::unique_ptr<ShardServer>> ShardServer::Open(
    const ShardServerOptions& opts) {
  // A client that hangs up mid-scan must not kill the server (httplib
  // writes without MSG_NOSIGNAL).
  std::signal(SIGPIPE, SIG_IGN);
  auto impl = std::make_unique<Impl>();
  impl->opts = opts;
  TS_RETURN_IF_ERROR(impl->Reopen());
  impl->Routes();
  return std::unique_ptr<ShardServer>(new ShardServer(std::move(impl)));
}

bool ShardServer::Impl::Positions(Xapian::Database& db,
                                  const std::vector<std::string>& terms,
                                  const std::vector<Xapian::docid>& docs,
                                  std::string* out, std::string* error) {
  // A writer's commit may overwrite blocks under a reader: start again on
  // the new revision.
  for (int attempt = 0;; ++attempt) {
    try {
      out->clear();
      for (Xapian::docid did : docs) {
        DocPositions d;
        try {
          d = ReadDocPositions(db, did, terms);
        } catch (const Xapian::DocNotFoundError&) {
          // Gone since the searcher matched it: no boost.
          d.positions.assign(terms.size(), {});
        }
        AppendDocPositions(out, d);
      }
      return true;
    } catch (const Xapian::DatabaseModifiedError& e) {
      if (attempt == 2) {
        *error = e.get_description();
        return false;
      }
      db.reopen();
    } catch (const Xapian::Error& e) {
      *error = e.get_description();
      return false;
    }
  }
}

void ShardServer::Impl::Routes() {
  http.set_tcp_nodelay(true);
  http.set_socket_options(ListenSocketOptions);
  // cpp-httplib closes a kept-alive connection after 5 requests unless
  // told otherwise; a searcher makes dozens per query.
  http.set_keep_alive_max_count(1000);
  http.new_task_queue = [this] {
    return new httplib::ThreadPool(static_cast<size_t>(opts.threads));
  };
  auto text = [](httplib::Response& res, int status, const std::string& msg) {
    res.status = status;
    res.set_content(msg + "\n", "text/plain; charset=utf-8");
  };
  http.Get("/v1/store/get", [this, text](const httplib::Request& req,
                                         httplib::Response& res) {
    ++gets;
    std::string key;
    if (!HexDecode(req.get_param_value("key"), &key) || key.empty()) {
      return text(res, 400, "key: expected hex bytes");
    }
    Result<std::string> v = Current()->GetRaw(key);
    if (!v.ok()) {
      return text(res, v.status().IsNotFound() ? 404 : 500,
                  v.status().message());
    }
    res.set_content(std::move(v).value(), "application/octet-stream");
  });
  http.Post("/v1/store/multiget", [this, text](const httplib::Request& req,
                                               httplib::Response& res) {
    ++multigets;
    std::vector<std::string> keys;
    if (!DecodeMultiGetRequest(req.body, &keys)) {
      return text(res, 400, "multiget: malformed request body");
    }
    std::vector<Result<std::string>> values;
    Status st = Current()->MultiGetRaw(keys, &values);
    if (!st.ok()) return text(res, 500, st.message());
    std::string body;
    for (const Result<std::string>& v : values) {
      if (!v.ok() && !v.status().IsNotFound()) {
        return text(res, 500, v.status().message());
      }
      AppendMultiGetValue(&body, v.ok() ? &*v : nullptr);
    }
    res.set_content(std::move(body), "application/octet-stream");
  });
  http.Get("/v1/store/scan", [this, text](const httplib::Request& req,
                                          httplib::Response& res) {
    ++scans;
    std::string prefix;
    if (!HexDecode(req.get_param_value("prefix"), &prefix)) {
      return text(res, 400, "prefix: expected hex bytes");
    }
    const bool reverse = req.get_param_value("reverse") == "1";
    std::shared_ptr<ThreadStore> store = Current();
    res.set_chunked_content_provider(
        "application/octet-stream",
        [store, prefix, reverse](size_t, httplib::DataSink& sink) {
          std::string chunk;
          bool open = true;
          Status st = store->Scan(
              prefix,
              [&](std::string_view k, std::string_view v) {
                AppendScanRecord(&chunk, k, v);
                if (chunk.size() >= kChunkBytes) {
                  open = sink.write(chunk.data(), chunk.size());
                  chunk.clear();
                }
                return open;
              },
              reverse);
          // No end record after an error: the client sees a cut-off
          // stream, not a short answer.
          if (!open || !st.ok()) return false;  // aborts the response
          AppendScanEnd(&chunk);
          if (!sink.write(chunk.data(), chunk.size())) return false;
          sink.done();
          return true;
        });
  });
  http.Get("/v1/store/info", [this](const httplib::Request&,
                                    httplib::Response& res) {
    std::shared_ptr<ThreadStore> store = Current();
    nlohmann::json j = {
        {"disk_bytes", store->DiskSize()},
        {"dir", opts.db},
        {"requests",
         {{"get", gets.load()}, {"multiget", multigets.load()},
          {"scan", scans.load()},
          {"positions", positions.load()}}}};
    Result<uint64_t> next = store->GetMetaInt("next_num");
    if (next.ok()) j["next_num"] = *next;
    res.set_content(j.dump(), "application/json");
  });
  http.Post("/v1/index/positions", [this, text](const httplib::Request& req,
                                                httplib::Response& res) {
    ++positions;
    std::vector<std::string> terms;
    std::vector<Xapian::docid> docs;
    if (!DecodePositionsRequest(req.body, &terms, &docs)) {
      return text(res, 400, "positions: malformed request body");
    }
    if (terms.size() > kMaxPositionTerms || docs.size() > kMaxPositionDocs) {
      return text(res, 400,
                  "positions: at most " + std::to_string(kMaxPositionTerms) +
                      " terms and " + std::to_string(kMaxPositionDocs) +
                      " documents a request");
    }
    for (const std::string& t : terms) {
      if (t.empty()) return text(res, 400, "positions: an empty term");
    }
    std::unique_ptr<Xapian::Database> db;
    try {
      db = TakeIndex();
    } catch (const Xapian::DatabaseNotFoundError&) {
      return text(res, 404, opts.db + "/xapian: no index here");
    } catch (const Xapian::Error& e) {
      return text(res, 500, opts.db + "/xapian: " + e.get_description());
    }
    std::string body, error;
    if (!Positions(*db, terms, docs, &body, &error)) {
      return text(res, 500, opts.db + "/xapian: " + error);
    }
    ReturnIndex(std::move(db));
    res.set_content(std::move(body), "application/octet-stream");
  });
  http.Post("/v1/store/refresh", [this, text](const httplib::Request&,
                                              httplib::Response& res) {
    Status st = Reopen();
    if (!st.ok()) return text(res, 500, st.message());
    text(res, 200, "ok");
  });
}

Result<int> ShardServer::Bind() {
  Impl& im = *impl_;
  if (im.opts.port == 0) {
    im.port = im.http.bind_to_any_port(im.opts.host);
  } else {
    im.port = im.http.bind_to_port(im.opts.host, im.opts.port)
                  ? im.opts.port
                  : -1;
  }
  if (im.port <= 0) {
    return Status::IOError(im.opts.host + ":" + std::to_string(im.opts.port) +
                           ": cannot listen (in use?)");
  }
  return im.port;
}

Status ShardServer::Serve() {
  if (!impl_->http.listen_after_bind()) {
    return Status::IOError("shard server stopped with an error");
  }
  return Status::OK();
}

void ShardServer::Stop() { impl_->http.stop(); }

void RegisterShardServeCommand(CLI::App& app, int* rc) {
  auto opts = std::make_shared<ShardServerOptions>();
  CLI::App* cmd = app.add_subcommand(
      "shard-serve",
      "Serve one shard's thread store to a collection on another machine "
      "(its index is served by xapian-tcpsrv)");
  cmd->add_option("--db", opts->db, "The shard's database directory")
      ->required();
  cmd->add_option("--host", opts->host, "Address to listen on")
      ->capture_default_str();
  cmd->add_option("--port", opts->port, "Port (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--threads", opts->threads, "Worker threads")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->callback([rc, opts] {
    Result<std::unique_ptr<ShardServer>> s = ShardServer::Open(*opts);
    if (!s.ok()) {
      std::cerr << "threadsearch: " << s.status().message() << "\n";
      *rc = 1;
      return;
    }
    Result<int> port = (*s)->Bind();
    if (!port.ok()) {
      std::cerr << "threadsearch: " << port.status().message() << "\n";
      *rc = 1;
      return;
    }
    std::cout << "threadsearch: serving the thread store of " << opts->db
              << " on " << opts->host << ":" << *port << std::endl;
    Status st = (*s)->Serve();
    if (!st.ok()) {
      std::cerr << "threadsearch: " << st.message() << "\n";
      *rc = 1;
    }
  });
}

}  // namespace threadsearch
