#include "common/schema.h"

#include <algorithm>
#include <cstdio>

#include "common/mail_text.h"
#include "common/text.h"

namespace threadsearch::schema {

const Field kFields[] = {
    {"title", kPrefixTitle, false},     {"subject", kPrefixTitle, false},
    {"id", kPrefixId, true},            {"author", kPrefixAuthor, true},
    {"by", kPrefixAuthor, true},        {"from", kPrefixAuthor, true},
    {"replies_to", kPrefixRepliesTo, true}, {"to", kPrefixRepliesTo, true},
    {"thread", kPrefixThread, true},    {"type", kPrefixType, true},
    {"source", kPrefixSource, true},    {"list", kPrefixList, true},
    {"subreddit", kPrefixList, true},   {"under", kPrefixUnder, true},
    {"year", kPrefixYear, true},        {"url", kPrefixUrl, true},
    {"site", kPrefixUrl, true},         {"parent", kPrefixParent, true},
};
const size_t kNumFields = sizeof(kFields) / sizeof(kFields[0]);

std::string ChangedKey(uint64_t revision) {
  return "changed." + std::to_string(revision);
}

namespace {

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* s, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !s->empty(); shift += 7) {
    const auto b = static_cast<unsigned char>(s->front());
    s->remove_prefix(1);
    // The tenth byte holds the top bit only.
    if (shift == 63 && b > 1) return false;
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (b < 0x80) return true;
  }
  return false;
}

}  // namespace

// "C", the uuid's length and bytes, then as varints last_before,
// docs_before, length_before, the count, and each docid less the one
// before it.
std::string EncodeChanged(const ChangedDocs& c) {
  std::string out = "C";
  PutVarint(c.uuid.size(), &out);
  out += c.uuid;
  PutVarint(c.last_before, &out);
  PutVarint(c.docs_before, &out);
  PutVarint(c.length_before, &out);
  PutVarint(c.docs.size(), &out);
  uint32_t prev = 0;
  for (uint32_t d : c.docs) {
    PutVarint(d - prev, &out);
    prev = d;
  }
  return out;
}

bool DecodeChanged(std::string_view s, ChangedDocs* c) {
  if (s.empty() || s.front() != 'C') return false;
  s.remove_prefix(1);
  uint64_t uuid_size = 0;
  if (!GetVarint(&s, &uuid_size) || uuid_size > s.size()) return false;
  c->uuid.assign(s.substr(0, uuid_size));
  s.remove_prefix(uuid_size);
  uint64_t last = 0, docs = 0, n = 0;
  if (!GetVarint(&s, &last) || last > UINT32_MAX || !GetVarint(&s, &docs) ||
      docs > last || !GetVarint(&s, &c->length_before) || !GetVarint(&s, &n) ||
      n > s.size()) {
    return false;
  }
  c->last_before = static_cast<uint32_t>(last);
  c->docs_before = static_cast<uint32_t>(docs);
  c->docs.clear();
  c->docs.reserve(n);
  uint64_t prev = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t delta = 0;
    if (!GetVarint(&s, &delta) || delta == 0 || delta > last - prev) {
      return false;
    }
    prev += delta;
    c->docs.push_back(static_cast<uint32_t>(prev));
  }
  return s.empty();
}

char SourceLetter(Source s) {
  switch (s) {
    case Source::kHN:
      return 'h';
    case Source::kReddit:
      return 'r';
    case Source::kMail:
      return 'm';
  }
  return 'h';
}

std::string ItemKeyString(Source s, std::string_view id) {
  std::string k(1, SourceLetter(s));
  k.append(id);
  return k;
}

std::vector<std::string> UrlWords(std::string_view url) {
  std::vector<std::string> words;
  std::string w;
  auto flush = [&] {
    if (w.empty()) return;
    const bool lead = words.empty();
    if (!(lead && (w == "http" || w == "https")) && w != "www" &&
        std::find(words.begin(), words.end(), w) == words.end()) {
      words.push_back(std::move(w));
    }
    w.clear();
  };
  for (char ch : url) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c >= 0x80) {
      w.push_back(ch);
    } else if (c >= 'A' && c <= 'Z') {
      w.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      flush();
    }
  }
  flush();
  return words;
}

std::string UrlHost(std::string_view url, std::string_view* rest) {
  std::string_view u = url;
  const size_t scheme = u.find("://");
  if (scheme != std::string_view::npos &&
      u.find_first_of("/?#") > scheme) {
    u.remove_prefix(scheme + 3);
  }
  const size_t end = std::min(u.find_first_of("/?#"), u.size());
  std::string_view host = u.substr(0, end);
  if (rest) *rest = u.substr(end);
  const size_t at = host.rfind('@');
  if (at != std::string_view::npos) host.remove_prefix(at + 1);
  const size_t colon = host.find(':');
  if (colon != std::string_view::npos) host = host.substr(0, colon);
  std::string h = AsciiLower(host);
  while (!h.empty() && h.back() == '.') h.pop_back();
  if (h.rfind("www.", 0) == 0) h.erase(0, 4);
  if (h.find('.') == std::string::npos ||
      h.find_first_of(" \t\"<>") != std::string::npos) {
    return "";
  }
  return h;
}

std::vector<std::string> UrlHosts(std::string_view url) {
  std::vector<std::string> hosts;
  std::string h = UrlHost(url);
  while (!h.empty() && h.find('.') != std::string::npos) {
    hosts.push_back(h);
    h.erase(0, h.find('.') + 1);
  }
  return hosts;
}

std::string HashLongTerm(std::string term) {
  constexpr size_t kMax = 240;
  if (term.size() <= kMax) return term;
  // FNV-1a 64 over the whole term; keep a readable head.
  const uint64_t h = Fnv1a64(term);
  char hex[17];
  snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  term.resize(kMax - 17);
  term.push_back('#');
  term.append(hex);
  return term;
}

std::string Term(std::string_view prefix, std::string_view value) {
  std::string t(prefix);
  t.append(value);
  return HashLongTerm(std::move(t));
}

namespace {

// Cuts s to at most n bytes without splitting a UTF-8 sequence.
std::string_view CutUtf8(std::string_view s, size_t n) {
  if (s.size() <= n) return s;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

// Work on a bounded prefix: a 50 MB message costs no more than 1 MB.
std::string_view BoundedText(const Item& item) {
  return CutUtf8(item.text, 2 * kMaxIndexedBytes);
}

// A mail message's (bounded) text split into own lines and quotes; quotes
// are looked for in replies only.
MailBodyParts SplitMail(const Item& item,
                        size_t own_limit = std::string::npos,
                        std::vector<TextSpan>* own_lines = nullptr) {
  return SplitMailBody(BoundedText(item), /*is_reply=*/!item.parent.empty(),
                       own_limit, own_lines);
}

// Whether IndexedBody splits the item's text into own lines and quotes.
bool SplitsMail(const Item& item) {
  return !item.deleted && !item.text_html && item.source == Source::kMail;
}

// What kept spans were found for: the rules (kOwnSpansVersion), the bounded
// text's size (under 2^32) and whether the item replies (SplitMail's
// is_reply), + 1 (0 is "none kept").
uint64_t OwnSpansKey(const Item& item) {
  const uint64_t rules_and_size =
      uint64_t{kOwnSpansVersion} << 32 | BoundedText(item).size();
  return (rules_and_size << 1 | (item.parent.empty() ? 0u : 1u)) + 1;
}

// SanitizeUtf8(SplitMail(s.item).own), IndexedBody's own text before its
// size cap, from the kept spans; false when the item is not split or no
// spans fit.
bool KeptOwn(const StoredItem& s, std::string* own) {
  if (!SplitsMail(s.item) || s.own_spans_for == 0 ||
      s.own_spans_for != OwnSpansKey(s.item) ||
      !OwnFromSpans(BoundedText(s.item), s.own_spans, own)) {
    return false;
  }
  if (!s.own_clean) *own = SanitizeUtf8(*own);
  return true;
}

// IndexedBody's last step: at most kMaxIndexedBytes.
std::string CutIndexed(std::string body) {
  if (body.size() > kMaxIndexedBytes) {
    body.resize(CutUtf8(body, kMaxIndexedBytes).size());
  }
  return body;
}

}  // namespace

std::string IndexedBody(const Item& item) {
  if (item.deleted) return {};
  std::string body;
  if (item.text_html) {
    body = HtmlToText(BoundedText(item));
  } else if (item.source == Source::kMail) {
    body = SanitizeUtf8(SplitMail(item).own);
  } else {
    body = SanitizeUtf8(BoundedText(item));
  }
  return CutIndexed(std::move(body));
}

void KeepOwnSpans(StoredItem* s) {
  s->own_spans.clear();
  s->own_spans_for = 0;
  s->own_clean = false;
  if (!SplitsMail(s->item) || s->placeholder) return;
  const std::string own = SplitMail(s->item, std::string::npos,
                                    &s->own_spans).own;
  s->own_spans_for = OwnSpansKey(s->item);
  s->own_clean = SanitizeUtf8(own) == own;
}

std::string IndexedBody(const StoredItem& s) {
  std::string own;
  return KeptOwn(s, &own) ? CutIndexed(std::move(own)) : IndexedBody(s.item);
}

std::string BodyExcerpt(const StoredItem& s, size_t max_bytes) {
  std::string own;
  if (!KeptOwn(s, &own)) return BodyExcerpt(s.item, max_bytes);
  return OneLineExcerpt(own.empty() ? s.item.title : own, max_bytes);
}

std::string BodyExcerpt(const Item& item, size_t max_bytes) {
  if (SplitsMail(item)) {
    // Own lines a little past the excerpt (OneLineExcerpt folds runs of
    // spaces, so it may need more); a message with less is split whole.
    const MailBodyParts parts = SplitMail(item, 2 * max_bytes + 256);
    const std::string own = SanitizeUtf8(parts.own);
    bool cut = false;
    std::string excerpt = OneLineExcerpt(own, max_bytes, &cut);
    if (!parts.stopped) {
      // All of the own text: IndexedBody's, but for its size cap, which
      // is far beyond any excerpt.
      return own.empty() ? OneLineExcerpt(item.title, max_bytes) : excerpt;
    }
    if (cut) return excerpt;
  }
  std::string body = IndexedBody(item);
  return OneLineExcerpt(body.empty() ? item.title : body, max_bytes);
}

bool TitleIsBody(const Item& item) { return item.parent.empty(); }

int64_t CommentCount(const StoredItem& s) {
  if (s.item.num_comments >= 0) return s.item.num_comments;
  if (s.is_root() && OpensThread(s.item) && s.thread_size > 0) {
    return static_cast<int64_t>(s.thread_size) - 1;
  }
  return -1;
}

bool OpensThread(const Item& item) {
  switch (item.type) {
    case ItemType::kStory:
    case ItemType::kPoll:
    case ItemType::kJob:
      return true;
    case ItemType::kComment:
    case ItemType::kPollOpt:
      return false;
    case ItemType::kMessage:
    case ItemType::kUnknown:
      break;
  }
  return item.parent.empty();
}

}  // namespace threadsearch::schema
