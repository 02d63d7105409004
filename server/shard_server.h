// `threadsearch shard-serve`: serves one shard's thread store, read-only,
// over the protocol in searcher/remote_store.h, so a collection's shards can
// live on other machines. The shard's Xapian index is served beside it by
// Xapian's own `xapian-tcpsrv --port P SHARD/xapian`; shard-serve also reads
// that index itself to answer the searcher's batched position requests
// (one per shard per page instead of a Xapian round trip per document and
// term), and answers 404 to them when there is no index beside the store.
#ifndef THREADSEARCH_SERVER_SHARD_SERVER_H_
#define THREADSEARCH_SERVER_SHARD_SERVER_H_

#include <memory>
#include <string>

#include "common/status.h"

namespace CLI {
class App;
}

namespace threadsearch {

struct ShardServerOptions {
  std::string db;  // the shard's database directory
  std::string host = "127.0.0.1";
  int port = 0;    // 0: any free port
  // A kept-alive connection holds a worker while it waits for its next
  // request, and each searcher of a `serve` keeps up to two (point reads,
  // scans): `serve` has 8 searchers or more by default.
  int threads = 64;
};

class ShardServer {
 public:
  // Opens the shard's store read-only. NotFound when there is none.
  static Result<std::unique_ptr<ShardServer>> Open(
      const ShardServerOptions& opts);
  ~ShardServer();
  // Binds; the port bound (useful with port 0).
  Result<int> Bind();
  // Serves until Stop().
  Status Serve();
  void Stop();

 private:
  struct Impl;
  explicit ShardServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Adds the `shard-serve` subcommand.
void RegisterShardServeCommand(CLI::App& app, int* rc);

}  // namespace threadsearch

#endif  // THREADSEARCH_SERVER_SHARD_SERVER_H_
