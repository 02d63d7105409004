#include "searcher/remote_store.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "common/collection.h"
#include "common/keys.h"
#include "common/text.h"

namespace threadsearch {

namespace {

constexpr uint32_t kEndMark = 0xFFFFFFFFu;

}  // namespace

void AppendScanRecord(std::string* out, std::string_view key,
                      std::string_view value) {
  keys::PutFixed32(out, static_cast<uint32_t>(key.size()));
  out->append(key);
  keys::PutFixed32(out, static_cast<uint32_t>(value.size()));
  out->append(value);
}

void AppendScanEnd(std::string* out) { keys::PutFixed32(out, kEndMark); }

std::string HexEncode(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

bool HexDecode(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  out->reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexDigitValue(hex[i]), lo = HexDigitValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

namespace {

// Reads big-endian u32s off the front of a body, failing past its end.
struct Reader {
  std::string_view s;
  size_t pos = 0;
  bool U32(uint32_t* v) {
    if (s.size() - pos < 4) return false;
    *v = keys::GetFixed32(s, pos);
    pos += 4;
    return true;
  }
  bool Bytes(uint32_t n, std::string* out) {
    if (s.size() - pos < n) return false;
    out->assign(s.substr(pos, n));
    pos += n;
    return true;
  }
  // A count of items of at least `min_bytes` each: no more than the
  // bytes left could hold, so a corrupt count reserves nothing huge.
  bool Count(size_t min_bytes, uint32_t* n) {
    return U32(n) && *n <= (s.size() - pos) / min_bytes;
  }
  bool done() const { return pos == s.size(); }
};

void AppendStrings(std::string* out, const std::vector<std::string>& v) {
  keys::PutFixed32(out, static_cast<uint32_t>(v.size()));
  for (const std::string& x : v) {
    keys::PutFixed32(out, static_cast<uint32_t>(x.size()));
    out->append(x);
  }
}

bool ReadStrings(Reader* r, std::vector<std::string>* v) {
  uint32_t n = 0;
  if (!r->Count(4, &n)) return false;
  v->resize(n);
  for (std::string& x : *v) {
    uint32_t len = 0;
    if (!r->U32(&len) || !r->Bytes(len, &x)) return false;
  }
  return true;
}

}  // namespace

std::string EncodePositionsRequest(const std::vector<std::string>& terms,
                                   const std::vector<Xapian::docid>& docs) {
  std::string out;
  AppendStrings(&out, terms);
  keys::PutFixed32(&out, static_cast<uint32_t>(docs.size()));
  for (Xapian::docid d : docs) keys::PutFixed32(&out, d);
  return out;
}

bool DecodePositionsRequest(std::string_view body,
                            std::vector<std::string>* terms,
                            std::vector<Xapian::docid>* docs) {
  Reader r{body};
  if (!ReadStrings(&r, terms)) return false;
  uint32_t n = 0;
  if (!r.Count(4, &n)) return false;
  docs->resize(n);
  for (Xapian::docid& d : *docs) {
    if (!r.U32(&d)) return false;
  }
  return r.done();
}

std::string EncodeMultiGetRequest(const std::vector<std::string>& keys) {
  std::string out;
  AppendStrings(&out, keys);
  return out;
}

bool DecodeMultiGetRequest(std::string_view body,
                           std::vector<std::string>* keys) {
  Reader r{body};
  return ReadStrings(&r, keys) && r.done();
}

void AppendMultiGetValue(std::string* out, const std::string* value) {
  if (value == nullptr) {
    keys::PutFixed32(out, kEndMark);
    return;
  }
  keys::PutFixed32(out, static_cast<uint32_t>(value->size()));
  out->append(*value);
}

bool DecodeMultiGetReply(std::string_view body, size_t n,
                         std::vector<Result<std::string>>* out) {
  Reader r{body};
  out->clear();
  out->reserve(n);
  for (size_t i = 0; i < n; ++i) {
    uint32_t len = 0;
    if (!r.U32(&len)) return false;
    if (len == kEndMark) {
      out->push_back(Status::NotFound("no such key"));
      continue;
    }
    std::string v;
    if (!r.Bytes(len, &v)) return false;
    out->push_back(std::move(v));
  }
  return r.done();
}

void AppendDocPositions(std::string* out, const DocPositions& doc) {
  keys::PutFixed32(out, doc.length);
  for (const std::vector<Xapian::termpos>& p : doc.positions) {
    keys::PutFixed32(out, static_cast<uint32_t>(p.size()));
    for (Xapian::termpos x : p) keys::PutFixed32(out, x);
  }
}

bool DecodePositionsReply(std::string_view body, size_t nterms, size_t ndocs,
                          std::vector<DocPositions>* out) {
  Reader r{body};
  out->assign(ndocs, DocPositions{});
  for (DocPositions& d : *out) {
    if (!r.U32(&d.length)) return false;
    d.positions.resize(nterms);
    for (std::vector<Xapian::termpos>& p : d.positions) {
      uint32_t n = 0;
      if (!r.Count(4, &n)) return false;
      p.resize(n);
      for (Xapian::termpos& x : p) {
        if (!r.U32(&x)) return false;
      }
    }
  }
  return r.done();
}

struct RemoteStore::Client {
  httplib::Client http;
  Client(const std::string& host, int port) : http(host, port) {}
};

RemoteStore::RemoteStore(std::string endpoint, int timeout_ms)
    : endpoint_(std::move(endpoint)), timeout_ms_(timeout_ms) {}

RemoteStore::~RemoteStore() = default;

Result<std::unique_ptr<RemoteStore>> RemoteStore::Open(
    const std::string& endpoint, int timeout_ms) {
  std::string host;
  int port = 0;
  TS_RETURN_IF_ERROR(ParseHostPort(endpoint, &host, &port));
  std::unique_ptr<RemoteStore> s(new RemoteStore(endpoint, timeout_ms));
  s->host_ = host;
  s->port_ = port;
  s->client_ = s->Connect();
  httplib::Result r = s->client_->http.Get("/v1/store/info");
  if (!r || r->status != 200) {
    return s->Unreachable(r ? "status " + std::to_string(r->status)
                            : httplib::to_string(r.error()));
  }
  return s;
}

std::unique_ptr<RemoteStore::Client> RemoteStore::Connect() const {
  auto client = std::make_unique<Client>(host_, port_);
  httplib::Client& c = client->http;
  const auto ms = std::chrono::milliseconds(timeout_ms_);
  c.set_connection_timeout(ms);
  c.set_read_timeout(ms);
  c.set_write_timeout(ms);
  c.set_keep_alive(true);
  // Small requests answered at once: without it, Nagle's algorithm and
  // delayed ACKs hold each one for tens of milliseconds.
  c.set_tcp_nodelay(true);
  return client;
}

Status RemoteStore::Unreachable(const std::string& what) const {
  return Status::IOError("shard store " + endpoint_ + ": " + what);
}

Result<std::string> RemoteStore::GetRaw(std::string_view key) const {
  std::lock_guard<std::mutex> lock(mu_);
  httplib::Result r =
      client_->http.Get("/v1/store/get?key=" + HexEncode(key));
  if (!r) return Unreachable(httplib::to_string(r.error()));
  if (r->status == 404) return Status::NotFound("no such key");
  if (r->status != 200) {
    return Unreachable("status " + std::to_string(r->status) + ": " +
                       r->body.substr(0, 200));
  }
  return std::move(r->body);
}

Status RemoteStore::Scan(
    std::string_view prefix,
    const std::function<bool(std::string_view, std::string_view)>& fn,
    bool reverse) const {
  // Its own connection: the caller's callback may read this store (a
  // nested request) while the scan streams in.
  std::unique_ptr<Client> client;
  {
    std::lock_guard<std::mutex> lock(scan_mu_);
    client = std::move(idle_scanner_);
  }
  if (!client) client = Connect();
  httplib::Client& http = client->http;
  std::string buf;
  size_t pos = 0;
  bool stopped = false, ended = false;
  Status bad;
  // Records are taken off the buffer as they complete; the caller may stop
  // early, which cancels the transfer.
  auto receive = [&](const char* data, size_t len) {
    buf.append(data, len);
    while (!stopped && !ended) {
      if (buf.size() - pos < 4) break;
      uint32_t klen = keys::GetFixed32(buf, pos);
      if (klen == kEndMark) {
        ended = true;
        break;
      }
      if (buf.size() - pos < 8ull + klen) break;
      uint32_t vlen = keys::GetFixed32(buf, pos + 4 + klen);
      if (buf.size() - pos < 8ull + klen + vlen) break;
      std::string_view key(buf.data() + pos + 4, klen);
      std::string_view value(buf.data() + pos + 8 + klen, vlen);
      if (!fn(key, value)) stopped = true;
      pos += 8ull + klen + vlen;
    }
    if (pos > (1u << 20)) {
      buf.erase(0, pos);
      pos = 0;
    }
    return !stopped;
  };
  std::string path = "/v1/store/scan?prefix=" + HexEncode(prefix) +
                     "&reverse=" + (reverse ? "1" : "0");
  httplib::Result r = http.Get(
      path,
      [&](const httplib::Response& res) {
        if (res.status != 200) {
          bad = Unreachable("scan: status " + std::to_string(res.status));
          return false;
        }
        return true;
      },
      receive);
  if (stopped) return Status::OK();  // its connection was cut: not kept
  if (!bad.ok()) return bad;
  if (!r) return Unreachable("scan: " + httplib::to_string(r.error()));
  if (!ended) return Unreachable("scan: the answer was cut off");
  std::lock_guard<std::mutex> lock(scan_mu_);
  if (!idle_scanner_) idle_scanner_ = std::move(client);
  return Status::OK();
}

Status RemoteStore::Refresh() {
  std::lock_guard<std::mutex> lock(mu_);
  httplib::Result r = client_->http.Post("/v1/store/refresh");
  if (!r || r->status != 200) {
    return Unreachable(r ? "refresh: status " + std::to_string(r->status)
                         : "refresh: " + httplib::to_string(r.error()));
  }
  return Status::OK();
}

Result<std::string> RemoteStore::PostBinary(const std::string& path,
                                            const std::string& body) const {
  std::lock_guard<std::mutex> lock(mu_);
  httplib::Result r =
      client_->http.Post(path, body, "application/octet-stream");
  if (!r) return Unreachable(path + ": " + httplib::to_string(r.error()));
  if (r->status == 200) return std::move(r->body);
  const std::string what = Unreachable(path + ": status " +
                                       std::to_string(r->status) + ": " +
                                       r->body.substr(0, 200))
                               .message();
  // It answered: the request failed there, the server is up.
  return r->status == 404 ? Status::NotFound(what) : Status::Internal(what);
}

Status RemoteStore::MultiGetRaw(const std::vector<std::string>& keys,
                                std::vector<Result<std::string>>* out) const {
  out->clear();
  if (keys.empty()) return Status::OK();
  Result<std::string> body =
      PostBinary("/v1/store/multiget", EncodeMultiGetRequest(keys));
  // Any shard-serve answers multiget: every failure is the store's.
  if (!body.ok()) return Status::IOError(body.status().message());
  if (!DecodeMultiGetReply(*body, keys.size(), out)) {
    return Unreachable("multiget: the answer does not match the request");
  }
  return Status::OK();
}

Result<std::vector<DocPositions>> RemoteStore::Positions(
    const std::vector<std::string>& terms,
    const std::vector<Xapian::docid>& docs) const {
  std::vector<DocPositions> out;
  if (docs.empty()) return out;
  Result<std::string> body =
      PostBinary("/v1/index/positions", EncodePositionsRequest(terms, docs));
  if (!body.ok()) return body.status();
  if (!DecodePositionsReply(*body, terms.size(), docs.size(), &out)) {
    return Unreachable("positions: the answer does not match the request");
  }
  return out;
}

uint64_t RemoteStore::DiskSize() const {
  std::lock_guard<std::mutex> lock(mu_);
  httplib::Result r = client_->http.Get("/v1/store/info");
  if (!r || r->status != 200) return 0;
  nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  if (!j.is_object() || !j.contains("disk_bytes") ||
      !j["disk_bytes"].is_number_unsigned()) {
    return 0;
  }
  return j["disk_bytes"].get<uint64_t>();
}

}  // namespace threadsearch
