#include "common/keys.h"

namespace threadsearch::keys {

void PutFixed32(std::string* out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}

void PutFixed64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}

uint32_t GetFixed32(std::string_view s, size_t pos) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(s[pos + i]);
  return v;
}

uint64_t GetFixed64(std::string_view s, size_t pos) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(s[pos + i]);
  return v;
}

uint64_t TimeBits(int64_t t) {
  return static_cast<uint64_t>(t) ^ (uint64_t{1} << 63);
}

int64_t TimeFromBits(uint64_t b) {
  return static_cast<int64_t>(b ^ (uint64_t{1} << 63));
}

std::string Meta(std::string_view name) {
  std::string k(1, kMeta);
  k.append(name);
  return k;
}

std::string Id(Source source, std::string_view id) {
  std::string k(1, kId);
  k.push_back(static_cast<char>('0' + static_cast<int>(source)));
  k.append(id);
  return k;
}

std::string ItemKey(uint32_t num) {
  std::string k(1, kItem);
  PutFixed32(&k, num);
  return k;
}

std::string ChildPrefix(uint32_t parent) {
  std::string k(1, kChild);
  PutFixed32(&k, parent);
  return k;
}

std::string Child(uint32_t parent, int64_t time, uint32_t child) {
  std::string k = ChildPrefix(parent);
  PutFixed64(&k, TimeBits(time));
  PutFixed32(&k, child);
  return k;
}

namespace {
std::string NamePrefix(char family, std::string_view name) {
  std::string k(1, family);
  k.append(name);
  k.push_back('\0');
  return k;
}
std::string NameKey(char family, std::string_view name, int64_t time,
                    uint32_t num) {
  std::string k = NamePrefix(family, name);
  PutFixed64(&k, TimeBits(time));
  PutFixed32(&k, num);
  return k;
}
}  // namespace

std::string Author(std::string_view author_lower, int64_t time, uint32_t num) {
  return NameKey(kAuthor, author_lower, time, num);
}
std::string AuthorPrefix(std::string_view author_lower) {
  return NamePrefix(kAuthor, author_lower);
}
std::string ReplyTo(std::string_view author_lower, int64_t time,
                    uint32_t num) {
  return NameKey(kReplyTo, author_lower, time, num);
}
std::string ReplyToPrefix(std::string_view author_lower) {
  return NamePrefix(kReplyTo, author_lower);
}

std::string Dirty(uint64_t seq, uint32_t num) {
  std::string k(1, kDirty);
  PutFixed64(&k, seq);
  PutFixed32(&k, num);
  return k;
}
std::string DirtyPrefix() { return std::string(1, kDirty); }

std::string File(std::string_view path) {
  std::string k(1, kFile);
  k.append(path);
  return k;
}

uint32_t TrailingNum(std::string_view key) {
  return GetFixed32(key, key.size() - 4);
}

int64_t TrailingTime(std::string_view key) {
  return TimeFromBits(GetFixed64(key, key.size() - 12));
}

}  // namespace threadsearch::keys
