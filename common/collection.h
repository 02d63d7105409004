// A collection: one logical database split by thread into shards (a whole
// thread always lives in one shard, so thread context, replies-to and
// collapse stay shard-local). Searching a collection searches every shard
// as one Xapian database (global BM25 statistics); each hit is read back
// from its own shard's thread store.
//
//   DIR/collection.json   the shard map:
//     {"format": "threadsearch-collection", "version": 1,
//      "shards": [{"name": "s0", "path": "s0"},
//                 {"name": "s1", "xapian": "host:port",
//                  "store": "host:port"}]}
//
// A local shard is an ordinary database directory (path: absolute, or
// relative to DIR). A remote shard is searched through Xapian's remote
// protocol (`xapian-tcpsrv --port P SHARD/xapian`) and read through
// `threadsearch shard-serve --db SHARD --port Q` (searcher/remote_store.h).
// Indexing and rebalancing write local shards only; a collection file that
// names remote endpoints for the same shards is how they are served from
// other machines.
#ifndef THREADSEARCH_COMMON_COLLECTION_H_
#define THREADSEARCH_COMMON_COLLECTION_H_

#include <string>
#include <vector>

#include "common/status.h"

namespace threadsearch {

struct ShardSpec {
  std::string name;
  std::string path;    // local: database directory (relative to the
                       // collection unless absolute)
  std::string xapian;  // remote: xapian-tcpsrv "host:port"
  std::string store;   // remote: shard-serve "host:port"
  bool remote() const { return path.empty(); }
};

struct Collection {
  std::string dir;  // where collection.json lives
  std::vector<ShardSpec> shards;
};

constexpr char kCollectionFile[] = "collection.json";

// True when `dir` holds a collection.json.
bool IsCollection(const std::string& dir);
// Reads DIR/collection.json. NotFound when absent; InvalidArgument naming
// the file and field when malformed.
Result<Collection> LoadCollection(const std::string& dir);
// Parses collection JSON text (`where` names it in messages).
Result<Collection> ParseCollection(const std::string& text,
                                   const std::string& where);
// Writes DIR/collection.json atomically (a temporary file, synced, then
// renamed over the old one).
Status SaveCollection(const Collection& c);
// The directory of a local shard.
std::string ShardDir(const Collection& c, const ShardSpec& s);
// Replaces `path` with `text` atomically: a temporary file beside it,
// synced, renamed over it, and the directory synced.
Status WriteFileAtomically(const std::string& path, const std::string& text);
// Renames `from` to `to` (a file or a directory) and syncs the directory
// that holds `to`, so that the rename survives a power loss.
Status RenameDurably(const std::string& from, const std::string& to);
// Splits "host:port"; InvalidArgument when malformed.
Status ParseHostPort(const std::string& s, std::string* host, int* port);

}  // namespace threadsearch

#endif  // THREADSEARCH_COMMON_COLLECTION_H_
