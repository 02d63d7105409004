// RocksDB key encoding for the thread store. All key building and parsing
// lives here.
//
// Key layout (every integer fixed-width big-endian, so byte order is numeric
// order; `num` is the 32-bit internal item number == Xapian docid):
//
//   M<name>                                   -> metadata value (see below)
//   K<source:1><id>                           -> num            (id lookup)
//   I<num:4>                                  -> EncodeStoredItem (the item)
//   C<parent:4><time:8><child:4>              -> ""  children in time order
//   A<author>\0<time:8><num:4>                -> ""  items by author
//   R<parent author>\0<time:8><num:4>         -> ""  replies to an author
//   D<seq:8><num:4>                           -> ""  items changed by batch
//                                                   seq, not yet in Xapian
//   F<absolute path>                          -> fingerprint of a file read
//                                                   to its end: "size:mtime:
//                                                   hash of first 64 KiB"
//
// `time` is the item's Unix time offset by 2^63 so negative times sort
// first. Authors are lower-cased. Metadata names: "next_num" (num:4, the
// next number to hand out), "seq" (seq:8, the last batch written),
// "schema" (decimal schema version).
#ifndef THREADSEARCH_COMMON_KEYS_H_
#define THREADSEARCH_COMMON_KEYS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/item.h"

namespace threadsearch::keys {

constexpr char kMeta = 'M';
constexpr char kId = 'K';
constexpr char kItem = 'I';
constexpr char kChild = 'C';
constexpr char kAuthor = 'A';
constexpr char kReplyTo = 'R';
constexpr char kDirty = 'D';
constexpr char kFile = 'F';

void PutFixed32(std::string* out, uint32_t v);
void PutFixed64(std::string* out, uint64_t v);
// Reads a big-endian integer at `pos`; REQUIRES: s.size() >= pos + width.
uint32_t GetFixed32(std::string_view s, size_t pos);
uint64_t GetFixed64(std::string_view s, size_t pos);
// Big-endian bytes of a signed time that sort in numeric order.
uint64_t TimeBits(int64_t t);
int64_t TimeFromBits(uint64_t b);

std::string Meta(std::string_view name);
std::string Id(Source source, std::string_view id);
std::string ItemKey(uint32_t num);
std::string Child(uint32_t parent, int64_t time, uint32_t child);
std::string ChildPrefix(uint32_t parent);
std::string Author(std::string_view author_lower, int64_t time, uint32_t num);
std::string AuthorPrefix(std::string_view author_lower);
std::string ReplyTo(std::string_view author_lower, int64_t time,
                    uint32_t num);
std::string ReplyToPrefix(std::string_view author_lower);
std::string Dirty(uint64_t seq, uint32_t num);
std::string DirtyPrefix();
std::string File(std::string_view path);

// The num at the end of a C/A/R/D key. REQUIRES: key.size() >= 4.
uint32_t TrailingNum(std::string_view key);
// The time in an A/R key (8 bytes before the trailing num), or in a C key.
int64_t TrailingTime(std::string_view key);

}  // namespace threadsearch::keys

#endif  // THREADSEARCH_COMMON_KEYS_H_
