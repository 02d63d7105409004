// Text helpers: HTML to text, HTML escaping, UTF-8 validation.
#ifndef THREADSEARCH_COMMON_TEXT_H_
#define THREADSEARCH_COMMON_TEXT_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace threadsearch {

// A byte range of a text.
struct TextSpan {
  uint32_t offset = 0;
  uint32_t length = 0;
  bool operator==(const TextSpan&) const = default;
};

// Decodes HTML character references (&amp; &#x27; &#39; &nbsp; … the common
// named ones and all numeric ones) to UTF-8. Unknown references stay as-is.
std::string DecodeHtmlEntities(std::string_view s);

// Converts HN-style HTML to plain text for indexing and snippets: tags are
// dropped, <p> and <br> become paragraph breaks, <pre>/<code> text is kept,
// entities are decoded, and a link's href is kept after its text as
// " (URL)" when the text does not already show it, so link targets stay
// searchable. Never fails; malformed markup is treated as text.
std::string HtmlToText(std::string_view html);

// Escapes & < > " ' for safe inclusion in HTML.
std::string HtmlEscape(std::string_view s);

// Appends code point `cp` as UTF-8; NUL, surrogates and values past
// U+10FFFF become U+FFFD.
void AppendUtf8(uint32_t cp, std::string* out);

// The length of the well-formed UTF-8 sequence at s[i] (the Unicode
// standard's table 3-7: no overlong forms, no surrogates, nothing past
// U+10FFFF), or 0 when it is not one; then *bad is the length of the
// maximal ill-formed prefix (at least 1), which Unicode recommends
// replacing by a single U+FFFD.
size_t Utf8SeqLen(std::string_view s, size_t i, size_t* bad);

// True when s is valid UTF-8 (no overlongs, no surrogates).
bool IsValidUtf8(std::string_view s);

// Copy of s with every invalid UTF-8 sequence replaced by U+FFFD and NUL and
// other C0 control characters except \t \n \r dropped.
std::string SanitizeUtf8(std::string_view s);

// Parses all of `s` as a decimal integer (an optional leading '-' for the
// signed form); false on anything else, including overflow. Never throws.
bool ParseInt64(std::string_view s, int64_t* out);
bool ParseUint64(std::string_view s, uint64_t* out);

// Days since 1970-01-01 of a proleptic Gregorian date, month 1-12 (Howard
// Hinnant's algorithm); times in the readers are this * 86400 + seconds.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

// Lower-cases ASCII letters (author keys, ids).
inline char AsciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
// AsciiLower of `s` into `out`, whose buffer is reused.
inline void AsciiLowerInto(std::string_view s, std::string* out) {
  out->resize(s.size());
  char* o = out->data();
  for (size_t i = 0; i < s.size(); ++i) o[i] = AsciiLower(s[i]);
}
std::string AsciiLower(std::string_view s);
// Whether `a` and `b` are the same but for ASCII case.
bool EqualsNoCase(std::string_view a, std::string_view b);
// Whether `s` starts with `prefix` but for ASCII case.
bool StartsWithNoCase(std::string_view s, std::string_view prefix);

// Words as highlighting and snippets read them, the way Xapian's
// TermGenerator splits text into terms: ASCII letters and digits, and the
// non-ASCII characters Xapian::Unicode::is_wordchar accepts (letters,
// digits, marks), so that punctuation such as ’ “ ” — … ends a word as
// ASCII punctuation does ("Apple’s" reads "Apple", "s"). A byte of invalid
// UTF-8 counts as a word character.
//
// The number of bytes of the character at s[i] (1 for a byte of invalid
// UTF-8).
size_t CharLength(std::string_view s, size_t i);
// The number of bytes of the word character at s[i], or 0 when s[i]
// starts none.
size_t NonAsciiWordCharAt(std::string_view s, size_t i);
// Whether `c` is an ASCII word character (false for every byte >= 0x80).
inline bool IsAsciiWordChar(unsigned char c) {
  static constexpr std::array<bool, 256> kWord = [] {
    std::array<bool, 256> w{};
    for (int k = 0; k < 128; ++k) {
      w[k] = (k >= '0' && k <= '9') || (k >= 'a' && k <= 'z') ||
             (k >= 'A' && k <= 'Z');
    }
    return w;
  }();
  return kWord[c];
}
inline size_t WordCharAt(std::string_view s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  return c >= 0x80 ? NonAsciiWordCharAt(s, i) : IsAsciiWordChar(c);
}
// The end of the word starting at s[i] (i itself when none starts there).
size_t WordEnd(std::string_view s, size_t i);
// The start of the next word at or after s[i] (s.size() when none).
size_t NextWord(std::string_view s, size_t i);
// A word lower-cased as TermGenerator does (Unicode), the form its exact
// term has (an ASCII word's is AsciiLower's).
std::string WordForm(std::string_view word);

// The value of a hexadecimal digit (either case), or -1.
inline int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Trims ASCII whitespace at both ends.
std::string_view TrimAscii(std::string_view s);
// `s` trimmed, each run of ASCII whitespace inside it one space (folded
// mail headers, subjects compared for identity).
std::string FoldWhitespace(std::string_view s);

// 64-bit FNV-1a of `s`, continuing from `h`: a stable hash (the same on
// every platform and run) for ids, long terms and shard routes derived
// from content. Its offset basis is a digit short of the standard
// 14695981039346656037, as it has always been here: changing it would move
// threads between shards and rename hashed terms and generated ids.
inline uint64_t Fnv1a64(std::string_view s,
                        uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// First `max_bytes` bytes of s cut at a UTF-8 boundary and at a word
// boundary when one is near, with "…" appended when anything was cut.
// Newlines and runs of whitespace are folded to single spaces. `*cut`, when
// given, tells whether anything was cut: then the excerpt depends on the
// first `max_bytes` + 1 bytes of the folded text only.
std::string OneLineExcerpt(std::string_view s, size_t max_bytes,
                           bool* cut = nullptr);

// Offset of the quote that closes the JSON string whose opening quote is
// s[open]; s.size() when it does not close.
size_t JsonStringClose(std::string_view s, size_t open);

// Nesting depth of a JSON text (brackets outside strings), counted without
// parsing; stops counting once past `limit`. nlohmann's parser is iterative
// but its dump() and walks over a value are recursive: a text deeper than
// the caller's limit is refused before parsing.
size_t JsonDepth(std::string_view s, size_t limit);

}  // namespace threadsearch

#endif  // THREADSEARCH_COMMON_TEXT_H_
