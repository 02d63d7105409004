// RemoteStore: a shard's thread store read over HTTP from
// `threadsearch shard-serve` (server/shard_server.h), so a collection's
// shards can live on other machines. The protocol is the two StoreReader
// primitives, nothing more:
//
//   GET /v1/store/get?key=HEX          200: the raw value; 404: absent
//   GET /v1/store/scan?prefix=HEX&reverse=0|1
//                                      200: a stream of records
//                                      [u32 klen][key][u32 vlen][value]
//                                      (big-endian lengths) closed by an
//                                      end record [u32 0xFFFFFFFF], so a
//                                      cut-off stream is an error, not a
//                                      short answer
//   POST /v1/store/multiget            body: [u32 n]([u32 len][key])*
//                                      200: per key, in order, [u32 len]
//                                      [value], or [u32 0xFFFFFFFF] when
//                                      absent
//   GET /v1/store/info                 200: {"disk_bytes": N, "dir": D,
//                                      "next_num": N, "requests": {"get": N,
//                                      "multiget": N, "scan": N,
//                                      "positions": N}}
//   POST /v1/store/refresh             the server reopens its store (and
//                                      index) to see what a writer committed
//   POST /v1/index/positions           positions for the proximity boost
//                                      (searcher/proximity.h), read from the
//                                      shard's own index beside the store,
//                                      so a page's rescoring is one request
//                                      per shard, not two Xapian round trips
//                                      per document and term. Body:
//                                      [u32 nterms]([u32 len][term])*
//                                      [u32 ndocs]([u32 docid])*, docids of
//                                      the shard's index (item numbers).
//                                      200: per document, in order,
//                                      [u32 length] then per term
//                                      [u32 n]([u32 position])*;
//                                      404: no index is served here
//
// Every request has a deadline (connect and read); an unreachable or slow
// server is an IOError naming host:port, which the searcher takes as "this
// shard is down".
#ifndef THREADSEARCH_SEARCHER_REMOTE_STORE_H_
#define THREADSEARCH_SEARCHER_REMOTE_STORE_H_

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/store_reader.h"
#include "searcher/proximity.h"

namespace threadsearch {

// Scan stream framing, shared with the server.
void AppendScanRecord(std::string* out, std::string_view key,
                      std::string_view value);
void AppendScanEnd(std::string* out);
std::string HexEncode(std::string_view bytes);
// False when `hex` is not an even-length hex string.
bool HexDecode(std::string_view hex, std::string* out);

// The multi-get and positions requests and answers, shared with the
// server. Decoding is
// false when the bytes are not exactly what the counts say.
std::string EncodeMultiGetRequest(const std::vector<std::string>& keys);
bool DecodeMultiGetRequest(std::string_view body,
                           std::vector<std::string>* keys);
// `value` null: the key is absent.
void AppendMultiGetValue(std::string* out, const std::string* value);
bool DecodeMultiGetReply(std::string_view body, size_t n,
                         std::vector<Result<std::string>>* out);
std::string EncodePositionsRequest(const std::vector<std::string>& terms,
                                   const std::vector<Xapian::docid>& docs);
bool DecodePositionsRequest(std::string_view body,
                            std::vector<std::string>* terms,
                            std::vector<Xapian::docid>* docs);
void AppendDocPositions(std::string* out, const DocPositions& doc);
bool DecodePositionsReply(std::string_view body, size_t nterms, size_t ndocs,
                          std::vector<DocPositions>* out);

class RemoteStore : public StoreReader {
 public:
  // Connects to shard-serve at "host:port" and checks it answers.
  // IOError when it does not within `timeout_ms`.
  static Result<std::unique_ptr<RemoteStore>> Open(const std::string& endpoint,
                                                   int timeout_ms);
  ~RemoteStore() override;

  Result<std::string> GetRaw(std::string_view key) const override;
  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& fn,
              bool reverse = false) const override;
  // One request for all of `keys`.
  Status MultiGetRaw(const std::vector<std::string>& keys,
                     std::vector<Result<std::string>>* out) const override;
  Status Refresh() override;
  uint64_t DiskSize() const override;
  // Documents `docs`' positions of `terms` and lengths, one request.
  // NotFound when the server serves no index, Internal when it could not
  // read it (nothing else is wrong then); IOError when it does not answer.
  Result<std::vector<DocPositions>> Positions(
      const std::vector<std::string>& terms,
      const std::vector<Xapian::docid>& docs) const;
  std::string Describe() const override { return endpoint_; }

 private:
  struct Client;
  RemoteStore(std::string endpoint, int timeout_ms);
  Status Unreachable(const std::string& what) const;
  // POSTs `body` to `path` and returns the answer's body: IOError when
  // there is no answer, NotFound for a 404, Internal for another status.
  Result<std::string> PostBinary(const std::string& path,
                                 const std::string& body) const;
  std::string endpoint_;
  std::string host_;
  int port_ = 0;
  int timeout_ms_;
  // A connection with the deadlines and options every request has.
  std::unique_ptr<Client> Connect() const;
  std::unique_ptr<Client> client_;
  mutable std::mutex mu_;  // httplib::Client is used by one call at a time
  // Scans have connections of their own (a scan's callback may read the
  // store); one that streamed to its end is kept here for the next scan.
  // One at most: a kept connection holds a worker of the server.
  mutable std::unique_ptr<Client> idle_scanner_;
  mutable std::mutex scan_mu_;
};

}  // namespace threadsearch

#endif  // THREADSEARCH_SEARCHER_REMOTE_STORE_H_
