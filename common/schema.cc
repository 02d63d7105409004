#include "common/schema.h"

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
    {"year", kPrefixYear, true},
};
const size_t kNumFields = sizeof(kFields) / sizeof(kFields[0]);

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

std::string HashLongTerm(std::string term) {
  constexpr size_t kMax = 240;
  if (term.size() <= kMax) return term;
  // FNV-1a 64 over the whole term; keep a readable head.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : term) {
    h ^= c;
    h *= 1099511628211ull;
  }
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

}  // namespace

std::string IndexedBody(const Item& item) {
  if (item.deleted) return {};
  // Work on a bounded prefix: a 50 MB message costs no more than 1 MB.
  std::string_view text = CutUtf8(item.text, 2 * kMaxIndexedBytes);
  std::string body;
  if (item.text_html) {
    body = HtmlToText(text);
  } else if (item.source == Source::kMail) {
    body = SanitizeUtf8(
        SplitMailBody(text, /*is_reply=*/!item.parent.empty()).own);
  } else {
    body = SanitizeUtf8(text);
  }
  if (body.size() > kMaxIndexedBytes) {
    body.resize(CutUtf8(body, kMaxIndexedBytes).size());
  }
  return body;
}

bool TitleIsBody(const Item& item) { return item.parent.empty(); }

}  // namespace threadsearch::schema
