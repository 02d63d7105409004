#include "common/item.h"

#include <cstring>

namespace threadsearch {

std::string_view SourceName(Source s) {
  switch (s) {
    case Source::kHN:
      return "hn";
    case Source::kReddit:
      return "reddit";
    case Source::kMail:
      return "mail";
  }
  return "hn";
}

bool ParseSource(std::string_view name, Source* out) {
  if (name == "hn") {
    *out = Source::kHN;
  } else if (name == "reddit") {
    *out = Source::kReddit;
  } else if (name == "mail" || name == "email") {
    *out = Source::kMail;
  } else {
    return false;
  }
  return true;
}

namespace {
constexpr std::string_view kTypeNames[] = {"unknown", "story",   "comment",
                                           "message", "poll",    "pollopt",
                                           "job"};
}  // namespace

std::string_view ItemTypeName(ItemType t) {
  size_t i = static_cast<size_t>(t);
  return i < std::size(kTypeNames) ? kTypeNames[i] : "unknown";
}

bool ParseItemType(std::string_view name, ItemType* out) {
  for (size_t i = 0; i < std::size(kTypeNames); ++i) {
    if (kTypeNames[i] == name) {
      *out = static_cast<ItemType>(i);
      return true;
    }
  }
  return false;
}

// Encoding: a version byte, then fields in a fixed order. Integers are
// LEB128 varints (signed ones zig-zagged); strings are a varint length and
// the bytes. New fields go at the end under a new version.
namespace {

constexpr uint8_t kVersion = 1;

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
void PutSigned(std::string* out, int64_t v) {
  PutVarint(out, (static_cast<uint64_t>(v) << 1) ^
                     static_cast<uint64_t>(v >> 63));
}
void PutString(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}

struct Reader {
  std::string_view in;
  bool ok = true;
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in.empty()) break;
      uint8_t b = static_cast<uint8_t>(in[0]);
      in.remove_prefix(1);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    ok = false;
    return 0;
  }
  int64_t Signed() {
    uint64_t u = Varint();
    return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  uint32_t U32() {
    uint64_t v = Varint();
    if (v > UINT32_MAX) ok = false;
    return static_cast<uint32_t>(v);
  }
  std::string String() {
    uint64_t n = Varint();
    if (n > in.size()) {
      ok = false;
      return {};
    }
    std::string s(in.substr(0, n));
    in.remove_prefix(n);
    return s;
  }
};

constexpr uint64_t kFlagHtml = 1;
constexpr uint64_t kFlagHasPoints = 2;
constexpr uint64_t kFlagDeleted = 4;
constexpr uint64_t kFlagPlaceholder = 8;
constexpr uint64_t kFlagCycle = 16;
constexpr uint64_t kFlagHintChildren = 32;

}  // namespace

std::string EncodeStoredItem(const StoredItem& s) {
  const Item& it = s.item;
  std::string out;
  out.reserve(64 + it.text.size() + it.title.size());
  out.push_back(static_cast<char>(kVersion));
  PutVarint(&out, s.num);
  PutVarint(&out, static_cast<uint64_t>(it.source));
  PutVarint(&out, static_cast<uint64_t>(it.type));
  uint64_t flags = (it.text_html ? kFlagHtml : 0u) |
                   (it.has_points ? kFlagHasPoints : 0u) |
                   (it.deleted ? kFlagDeleted : 0u) |
                   (s.placeholder ? kFlagPlaceholder : 0u) |
                   (s.cycle_broken ? kFlagCycle : 0u) |
                   (s.hint_children ? kFlagHintChildren : 0u);
  PutVarint(&out, flags);
  PutString(&out, it.id);
  PutString(&out, it.author);
  PutString(&out, it.author_name);
  PutSigned(&out, it.time);
  PutString(&out, it.title);
  PutString(&out, it.text);
  PutString(&out, it.url);
  PutSigned(&out, it.points);
  PutString(&out, it.parent);
  PutString(&out, it.thread_hint);
  PutString(&out, it.list);
  PutString(&out, it.channel);
  PutSigned(&out, it.num_comments);
  PutString(&out, it.origin);
  PutVarint(&out, s.parent_num);
  PutVarint(&out, s.root_num);
  PutVarint(&out, s.depth);
  PutVarint(&out, s.thread_size);
  PutVarint(&out, s.reply_count);
  PutString(&out, s.parent_author);
  // Optional trailing fields, in this order: records without them (and
  // records written before them) end before them.
  if (!it.story_title.empty() || !it.story_url.empty() ||
      s.own_spans_for != 0) {
    PutString(&out, it.story_title);
    PutString(&out, it.story_url);
  }
  if (s.own_spans_for != 0) {
    // Each span as its distance from the previous one's end, and length
    // (spans in order, as SplitMailBody gives them).
    PutVarint(&out, (s.own_spans_for << 1) | (s.own_clean ? 1u : 0u));
    PutVarint(&out, s.own_spans.size());
    uint64_t end = 0;
    for (const TextSpan& span : s.own_spans) {
      PutVarint(&out, span.offset - end);
      PutVarint(&out, span.length);
      end = uint64_t{span.offset} + span.length;
    }
  }
  return out;
}

Status DecodeStoredItem(std::string_view bytes, StoredItem* out) {
  if (bytes.empty() || static_cast<uint8_t>(bytes[0]) != kVersion) {
    return Status::Corruption("item record: unknown version");
  }
  Reader r{bytes.substr(1)};
  StoredItem s;
  Item& it = s.item;
  s.num = r.U32();
  uint64_t source = r.Varint();
  uint64_t type = r.Varint();
  if (source > 2 || type > 6) {
    return Status::Corruption("item record: bad source or type");
  }
  it.source = static_cast<Source>(source);
  it.type = static_cast<ItemType>(type);
  uint64_t flags = r.Varint();
  it.text_html = flags & kFlagHtml;
  it.has_points = flags & kFlagHasPoints;
  it.deleted = flags & kFlagDeleted;
  s.placeholder = flags & kFlagPlaceholder;
  s.cycle_broken = flags & kFlagCycle;
  s.hint_children = flags & kFlagHintChildren;
  it.id = r.String();
  it.author = r.String();
  it.author_name = r.String();
  it.time = r.Signed();
  it.title = r.String();
  it.text = r.String();
  it.url = r.String();
  it.points = r.Signed();
  it.parent = r.String();
  it.thread_hint = r.String();
  it.list = r.String();
  it.channel = r.String();
  it.num_comments = r.Signed();
  it.origin = r.String();
  s.parent_num = r.U32();
  s.root_num = r.U32();
  s.depth = r.U32();
  s.thread_size = r.U32();
  s.reply_count = r.U32();
  s.parent_author = r.String();
  if (r.ok && !r.in.empty()) {
    it.story_title = r.String();
    it.story_url = r.String();
  }
  if (r.ok && !r.in.empty()) {
    const uint64_t key = r.Varint();
    s.own_spans_for = key >> 1;
    s.own_clean = key & 1;
    const uint64_t n = r.Varint();
    if (n > r.in.size() / 2) r.ok = false;  // two bytes a span at least
    uint64_t end = 0;
    for (uint64_t i = 0; r.ok && i < n; ++i) {
      const uint64_t gap = r.Varint();
      const uint64_t length = r.Varint();
      if (gap > UINT32_MAX || length > UINT32_MAX ||
          end + gap + length > UINT32_MAX) {
        r.ok = false;
        break;
      }
      s.own_spans.push_back({static_cast<uint32_t>(end + gap),
                             static_cast<uint32_t>(length)});
      end += gap + length;
    }
  }
  if (!r.ok) return Status::Corruption("item record: truncated");
  *out = std::move(s);
  return Status::OK();
}

}  // namespace threadsearch
