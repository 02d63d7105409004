#include "common/collection.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/text.h"

namespace threadsearch {

namespace {

std::string FilePath(const std::string& dir) {
  return dir + "/" + kCollectionFile;
}

}  // namespace

bool IsCollection(const std::string& dir) {
  std::error_code ec;
  return std::filesystem::is_regular_file(FilePath(dir), ec);
}

Status ParseHostPort(const std::string& s, std::string* host, int* port) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) {
    return Status::InvalidArgument("\"" + s + "\": expected host:port");
  }
  int64_t p = 0;
  if (!ParseInt64(s.substr(colon + 1), &p) || p < 1 || p > 65535) {
    return Status::InvalidArgument("\"" + s + "\": port must be 1-65535");
  }
  *host = s.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);  // [::1]:port
  }
  *port = static_cast<int>(p);
  return Status::OK();
}

Result<Collection> ParseCollection(const std::string& text,
                                   const std::string& where) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  auto bad = [&](const std::string& what) {
    return Status::InvalidArgument(where + ": " + what);
  };
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  if (j.value("format", "") != "threadsearch-collection") {
    return bad("field \"format\": expected \"threadsearch-collection\"");
  }
  if (!j.contains("version") || !j["version"].is_number_integer() ||
      j["version"].get<int64_t>() != 1) {
    return bad("field \"version\": expected 1");
  }
  if (!j.contains("shards") || !j["shards"].is_array() ||
      j["shards"].empty()) {
    return bad("field \"shards\": expected a non-empty array");
  }
  Collection c;
  std::set<std::string> names;
  for (size_t i = 0; i < j["shards"].size(); ++i) {
    const nlohmann::json& s = j["shards"][i];
    const std::string at = "shards[" + std::to_string(i) + "]";
    if (!s.is_object()) return bad(at + ": expected an object");
    auto str = [&](const char* key) -> Result<std::string> {
      if (!s.contains(key)) return std::string();
      if (!s[key].is_string()) {
        return bad(at + "." + key + ": expected a string");
      }
      return s[key].get<std::string>();
    };
    ShardSpec spec;
    Result<std::string> name = str("name"), path = str("path"),
                        xapian = str("xapian"), store = str("store");
    for (auto* r : {&name, &path, &xapian, &store}) {
      if (!r->ok()) return r->status();
    }
    spec.name = *name;
    spec.path = *path;
    spec.xapian = *xapian;
    spec.store = *store;
    if (spec.name.empty()) spec.name = "s" + std::to_string(i);
    if (!names.insert(spec.name).second) {
      return bad(at + ".name: \"" + spec.name + "\" used twice");
    }
    if (spec.path.empty()) {
      if (spec.xapian.empty() || spec.store.empty()) {
        return bad(at + ": needs \"path\" (a local shard) or both "
                        "\"xapian\" and \"store\" (host:port of a remote one)");
      }
      std::string host;
      int port = 0;
      for (const std::string* hp : {&spec.xapian, &spec.store}) {
        Status st = ParseHostPort(*hp, &host, &port);
        if (!st.ok()) return bad(at + ": " + st.message());
      }
    } else if (!spec.xapian.empty() || !spec.store.empty()) {
      return bad(at + ": a shard is local (\"path\") or remote "
                      "(\"xapian\" and \"store\"), not both");
    }
    c.shards.push_back(std::move(spec));
  }
  return c;
}

Result<Collection> LoadCollection(const std::string& dir) {
  const std::string path = FilePath(dir);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": no collection here");
  std::stringstream ss;
  ss << in.rdbuf();
  Result<Collection> c = ParseCollection(ss.str(), path);
  if (!c.ok()) return c.status();
  c->dir = dir;
  return c;
}

Status SaveCollection(const Collection& c) {
  nlohmann::json shards = nlohmann::json::array();
  for (const ShardSpec& s : c.shards) {
    nlohmann::json o = {{"name", s.name}};
    if (s.remote()) {
      o["xapian"] = s.xapian;
      o["store"] = s.store;
    } else {
      o["path"] = s.path;
    }
    shards.push_back(std::move(o));
  }
  nlohmann::json j = {{"format", "threadsearch-collection"},
                      {"version", 1},
                      {"shards", std::move(shards)}};
  std::error_code ec;
  std::filesystem::create_directories(c.dir, ec);
  return WriteFileAtomically(FilePath(c.dir), j.dump(2) + "\n");
}

Status WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError(tmp + ": cannot write");
  bool ok = ::write(fd, text.data(), text.size()) ==
                static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok) return Status::IOError(path + ": cannot write");
  return RenameDurably(tmp, path);
}

Status RenameDurably(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    return Status::IOError("rename " + from + " to " + to + ": " +
                           std::strerror(errno));
  }
  const std::string dir = std::filesystem::path(to).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(),
                   O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::OK();
}

std::string ShardDir(const Collection& c, const ShardSpec& s) {
  if (s.path.empty() || s.path.front() == '/') return s.path;
  return c.dir + "/" + s.path;
}

}  // namespace threadsearch
