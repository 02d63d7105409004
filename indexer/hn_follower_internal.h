// Helpers of FollowHn, exposed for tests only.
#ifndef THREADSEARCH_INDEXER_HN_FOLLOWER_INTERNAL_H_
#define THREADSEARCH_INDEXER_HN_FOLLOWER_INTERNAL_H_

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace threadsearch {
namespace hn_internal {

// An API base URL split for httplib: "https://host:443" and "/v0".
struct ApiUrl {
  std::string scheme_host_port;
  std::string path;  // no trailing slash; may be empty
};

// Splits "http[s]://host[:port][/path]". InvalidArgument for another scheme,
// a missing host, a query or fragment, or https in a build without OpenSSL.
Result<ApiUrl> ParseApiUrl(std::string_view url);

// The body of /maxitem.json: a positive integer. Corruption otherwise.
Result<uint64_t> ParseMaxItem(std::string_view body);

// The "items" of /updates.json ({"items": [...], "profiles": [...]}), in
// order, duplicates removed. Corruption when the body is not such an object.
Result<std::vector<uint64_t>> ParseUpdates(std::string_view body);

// Seconds to wait before attempt `attempt` + 1 (attempt counts from 0):
// initial × 2^attempt, at most `max`.
double Backoff(int attempt, double initial, double max);

// Ids completed in any order; done_upto() is the highest id such that it and
// every id below it (down to the starting point) are complete. Not
// thread-safe.
class ContiguousTracker {
 public:
  explicit ContiguousTracker(uint64_t done_upto = 0) : done_(done_upto) {}
  // Marks `id` complete. Ids at or below done_upto() are ignored. Returns
  // true when done_upto() advanced.
  bool Complete(uint64_t id);
  uint64_t done_upto() const { return done_; }
  // Completed ids above done_upto(), waiting for a gap to fill.
  size_t waiting() const { return above_.size(); }

 private:
  uint64_t done_;
  std::set<uint64_t> above_;
};

}  // namespace hn_internal
}  // namespace threadsearch

#endif  // THREADSEARCH_INDEXER_HN_FOLLOWER_INTERNAL_H_
