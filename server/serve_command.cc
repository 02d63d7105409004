#include "server/serve_command.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "searcher/bm25_source.h"
#include "server/http_server.h"

namespace threadsearch {

namespace {

int RunServe(const HttpServerOptions& opts) {
  HttpServerOptions o = opts;
  o.on_warning = [](const std::string& msg) {
    std::cerr << "warning: " << msg << "\n";
  };
  Result<std::unique_ptr<HttpServer>> server = HttpServer::Open(o);
  if (!server.ok()) {
    std::cerr << "threadsearch: " << server.status().message() << "\n";
    return server.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  Result<int> port = (*server)->Bind();
  if (!port.ok()) {
    std::cerr << "threadsearch: " << port.status().message() << "\n";
    return 1;
  }
  std::string host = o.host.find(':') != std::string::npos
                         ? "[" + o.host + "]"
                         : o.host;
  std::cout << "threadsearch: serving " << o.db << " on http://" << host << ":"
            << *port << "/" << std::endl;
  Status st = (*server)->Serve();
  if (!st.ok()) {
    std::cerr << "threadsearch: " << st.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

void RegisterServeCommand(CLI::App& app, int* rc) {
  // Owned by the callback; CLI11 keeps the App alive while it runs.
  auto opts = std::make_shared<HttpServerOptions>();
  CLI::App* serve = app.add_subcommand(
      "serve", "Serve the JSON API, the HN Search API and the web page");
  serve->add_option("--db", opts->db,
                    "Database or collection directory (collection.json "
                    "lists its local or remote shards)")
      ->required();
  serve->add_option("--host", opts->host, "Address to listen on")
      ->capture_default_str();
  serve->add_option("--port", opts->port, "Port (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  serve->add_option("--threads", opts->threads,
                    "Worker threads (0: max(8, CPUs))")
      ->check(CLI::Range(0, 1024));
  serve->add_option("--searchers", opts->searchers,
                    "Searchers shared by the workers (0: max(8, 4 x CPUs))")
      ->check(CLI::Range(0, 1024));
  serve->add_option("--shard-timeout", opts->shard_timeout_ms,
                    "Collections: milliseconds a remote shard may take "
                    "before answers leave it out (partial: true)")
      ->check(CLI::Range(50, 600000))
      ->capture_default_str();
  // Process-wide: the postings held in memory are shared by every searcher.
  auto postings_mb =
      std::make_shared<int>(static_cast<int>(DefaultPostingsMemory() >> 20));
  serve
      ->add_option(
          "--postings-memory", *postings_mb,
          "MB for the postings of frequent words held in memory "
          "(a third for dense words, the rest for listed ones; past it, "
          "words read the index; default: an eighth of memory, "
          "at least 512 (or a quarter), at most 8192)")
      ->check(CLI::Range(0, 1 << 20))
      ->capture_default_str();
  serve->callback([rc, opts, postings_mb] {
    SetPostingsMemory(static_cast<size_t>(*postings_mb) << 20);
    *rc = RunServe(*opts);
  });
}

}  // namespace threadsearch
