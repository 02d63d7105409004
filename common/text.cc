#include "common/text.h"

#include <charconv>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include <xapian.h>

namespace threadsearch {

namespace {

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}
bool IsAsciiAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }


struct NamedEntity {
  const char* name;
  uint32_t cp;
};

// The named references seen in HN, Reddit and mail HTML, plus the Latin-1
// letters; anything else stays as written.
constexpr NamedEntity kEntities[] = {
    {"amp", '&'},      {"lt", '<'},        {"gt", '>'},       {"quot", '"'},
    {"apos", '\''},    {"nbsp", 0xA0},     {"copy", 0xA9},    {"reg", 0xAE},
    {"trade", 0x2122}, {"hellip", 0x2026}, {"mdash", 0x2014}, {"ndash", 0x2013},
    {"lsquo", 0x2018}, {"rsquo", 0x2019},  {"ldquo", 0x201C}, {"rdquo", 0x201D},
    {"sbquo", 0x201A}, {"bdquo", 0x201E},  {"bull", 0x2022},  {"middot", 0xB7},
    {"euro", 0x20AC},  {"pound", 0xA3},    {"yen", 0xA5},     {"cent", 0xA2},
    {"sect", 0xA7},    {"para", 0xB6},     {"deg", 0xB0},     {"plusmn", 0xB1},
    {"times", 0xD7},   {"divide", 0xF7},   {"laquo", 0xAB},   {"raquo", 0xBB},
    {"iexcl", 0xA1},   {"iquest", 0xBF},   {"shy", 0xAD},     {"micro", 0xB5},
    {"frac12", 0xBD},  {"frac14", 0xBC},   {"frac34", 0xBE},  {"sup2", 0xB2},
    {"sup3", 0xB3},    {"larr", 0x2190},   {"rarr", 0x2192},  {"uarr", 0x2191},
    {"darr", 0x2193},  {"hearts", 0x2665}, {"prime", 0x2032}, {"Prime", 0x2033},
    {"agrave", 0xE0},  {"aacute", 0xE1},   {"acirc", 0xE2},   {"atilde", 0xE3},
    {"auml", 0xE4},    {"aring", 0xE5},    {"aelig", 0xE6},   {"ccedil", 0xE7},
    {"egrave", 0xE8},  {"eacute", 0xE9},   {"ecirc", 0xEA},   {"euml", 0xEB},
    {"igrave", 0xEC},  {"iacute", 0xED},   {"icirc", 0xEE},   {"iuml", 0xEF},
    {"ntilde", 0xF1},  {"ograve", 0xF2},   {"oacute", 0xF3},  {"ocirc", 0xF4},
    {"otilde", 0xF5},  {"ouml", 0xF6},     {"oslash", 0xF8},  {"ugrave", 0xF9},
    {"uacute", 0xFA},  {"ucirc", 0xFB},    {"uuml", 0xFC},    {"yacute", 0xFD},
    {"yuml", 0xFF},    {"szlig", 0xDF},    {"Agrave", 0xC0},  {"Aacute", 0xC1},
    {"Acirc", 0xC2},   {"Atilde", 0xC3},   {"Auml", 0xC4},    {"Aring", 0xC5},
    {"AElig", 0xC6},   {"Ccedil", 0xC7},   {"Egrave", 0xC8},  {"Eacute", 0xC9},
    {"Ecirc", 0xCA},   {"Euml", 0xCB},     {"Ntilde", 0xD1},  {"Oacute", 0xD3},
    {"Ouml", 0xD6},    {"Oslash", 0xD8},   {"Uacute", 0xDA},  {"Uuml", 0xDC},
};

// Decodes one reference starting at s[i] == '&'. On success appends the
// character(s) to *out and returns the length consumed; returns 0 when the
// text is not a reference we know (the caller then copies the '&').
size_t DecodeOneEntity(std::string_view s, size_t i, std::string* out) {
  size_t j = i + 1;
  if (j < s.size() && s[j] == '#') {
    ++j;
    bool hex = false;
    if (j < s.size() && (s[j] == 'x' || s[j] == 'X')) {
      hex = true;
      ++j;
    }
    size_t start = j;
    uint32_t cp = 0;
    bool overflow = false;
    while (j < s.size()) {
      char c = s[j];
      uint32_t d;
      if (IsAsciiDigit(c)) {
        d = static_cast<uint32_t>(c - '0');
      } else if (hex && c >= 'a' && c <= 'f') {
        d = static_cast<uint32_t>(c - 'a' + 10);
      } else if (hex && c >= 'A' && c <= 'F') {
        d = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        break;
      }
      cp = cp * (hex ? 16 : 10) + d;
      if (cp > 0x10FFFF) overflow = true;
      if (overflow) cp = 0x110000;  // Keep it from wrapping.
      ++j;
    }
    if (j == start || j - start > 8) return 0;
    if (j < s.size() && s[j] == ';') ++j;
    AppendUtf8(cp, out);
    return j - i;
  }
  size_t start = j;
  while (j < s.size() && j - start < 10 &&
         (IsAsciiAlpha(s[j]) || IsAsciiDigit(s[j]))) {
    ++j;
  }
  if (j == start || j >= s.size() || s[j] != ';') return 0;
  std::string_view name = s.substr(start, j - start);
  for (const NamedEntity& e : kEntities) {
    if (name == e.name) {
      AppendUtf8(e.cp, out);
      return j + 1 - i;
    }
  }
  return 0;
}

void AppendDecoded(std::string_view s, std::string* out) {
  size_t i = 0;
  while (i < s.size()) {
    size_t amp = s.find('&', i);
    if (amp == std::string_view::npos) {
      out->append(s.substr(i));
      return;
    }
    out->append(s.substr(i, amp - i));
    size_t n = DecodeOneEntity(s, amp, out);
    if (n == 0) {
      out->push_back('&');
      i = amp + 1;
    } else {
      i = amp + n;
    }
  }
}

// HtmlToText output with paragraph handling: at most one blank line in a
// row and none at the start.
class TextSink {
 public:
  void Text(std::string_view s) {
    if (s.empty()) return;
    if (pending_breaks_ > 0 && !out_.empty()) {
      // Drop the whitespace the break replaces.
      while (!out_.empty() && IsAsciiSpace(out_.back())) {
        out_.pop_back();
      }
      out_.append(static_cast<size_t>(pending_breaks_), '\n');
    }
    pending_breaks_ = 0;
    AppendDecoded(s, &out_);
  }
  // n = 1: line break; n = 2: paragraph break.
  void Break(int n) { pending_breaks_ = std::max(pending_breaks_, n); }
  std::string Take() { return std::move(out_); }
  size_t size() const { return out_.size(); }
  std::string_view Since(size_t pos) const {
    return std::string_view(out_).substr(std::min(pos, out_.size()));
  }

 private:
  std::string out_;
  int pending_breaks_ = 0;
};

struct Tag {
  std::string name;  // Lower-cased.
  bool closing = false;
  std::string href;  // Decoded, for <a>.
  size_t end = 0;    // Index just past '>'.
};

// Parses a tag at html[i] == '<'. Returns false when it is not a tag (e.g.
// "a < b" or "<3"), so the '<' is text.
bool ParseTag(std::string_view html, size_t i, Tag* tag) {
  size_t j = i + 1;
  if (j < html.size() && html[j] == '/') {
    tag->closing = true;
    ++j;
  }
  if (j >= html.size() || !IsAsciiAlpha(html[j])) return false;
  while (j < html.size() && (IsAsciiAlpha(html[j]) || IsAsciiDigit(html[j]))) {
    tag->name.push_back(AsciiLower(html[j]));
    ++j;
  }
  if (j < html.size() && !IsAsciiSpace(html[j]) && html[j] != '>' &&
      html[j] != '/') {
    tag->name.clear();
    return false;
  }
  // Attributes: name[=value], values quoted with " or ' or bare.
  while (j < html.size()) {
    char c = html[j];
    if (c == '>') {
      tag->end = j + 1;
      return true;
    }
    if (IsAsciiSpace(c) || c == '/') {
      ++j;
      continue;
    }
    std::string attr;
    while (j < html.size() && !IsAsciiSpace(html[j]) && html[j] != '=' &&
           html[j] != '>') {
      attr.push_back(AsciiLower(html[j]));
      ++j;
    }
    while (j < html.size() && IsAsciiSpace(html[j])) ++j;
    if (j < html.size() && html[j] == '=') {
      ++j;
      while (j < html.size() && IsAsciiSpace(html[j])) ++j;
      std::string_view value;
      if (j < html.size() && (html[j] == '"' || html[j] == '\'')) {
        char q = html[j];
        size_t close = html.find(q, j + 1);
        if (close == std::string_view::npos) return false;
        value = html.substr(j + 1, close - j - 1);
        j = close + 1;
      } else {
        size_t start = j;
        while (j < html.size() && !IsAsciiSpace(html[j]) && html[j] != '>') {
          ++j;
        }
        value = html.substr(start, j - start);
      }
      if (attr == "href") {
        tag->href.clear();
        AppendDecoded(value, &tag->href);
      }
    }
  }
  return false;  // No '>': not a tag.
}

}  // namespace

size_t Utf8SeqLen(std::string_view s, size_t i, size_t* bad) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  *bad = 1;
  if (c < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c == 0xE0) {
    len = 3;
    lo = 0xA0;
  } else if (c >= 0xE1 && c <= 0xEC) {
    len = 3;
  } else if (c == 0xED) {
    len = 3;
    hi = 0x9F;  // No surrogates.
  } else if (c >= 0xEE && c <= 0xEF) {
    len = 3;
  } else if (c == 0xF0) {
    len = 4;
    lo = 0x90;
  } else if (c >= 0xF1 && c <= 0xF3) {
    len = 4;
  } else if (c == 0xF4) {
    len = 4;
    hi = 0x8F;
  } else {
    return 0;
  }
  for (size_t k = 1; k < len; ++k) {
    if (i + k >= s.size()) {
      *bad = k;
      return 0;
    }
    unsigned char d = static_cast<unsigned char>(s[i + k]);
    unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (d < l || d > h) {
      *bad = k;
      return 0;
    }
  }
  return len;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    cp = 0xFFFD;
  }
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool ParseInt64(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool ParseUint64(std::string_view s, uint64_t* out) {
  if (s.empty() || s[0] == '-') return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::string DecodeHtmlEntities(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  AppendDecoded(s, &out);
  return out;
}

std::string HtmlToText(std::string_view html) {
  TextSink sink;
  std::string href;       // Target of the open <a>, if any.
  size_t link_start = 0;  // Output offset where its text began.
  bool in_link = false;
  size_t i = 0;
  while (i < html.size()) {
    size_t lt = html.find('<', i);
    if (lt == std::string_view::npos) lt = html.size();
    sink.Text(html.substr(i, lt - i));
    if (lt == html.size()) break;
    // Comments and doctypes are dropped whole.
    if (html.compare(lt, 4, "<!--") == 0) {
      size_t end = html.find("-->", lt + 4);
      i = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    Tag tag;
    if (!ParseTag(html, lt, &tag)) {
      sink.Text("<");
      i = lt + 1;
      continue;
    }
    i = tag.end;
    const std::string& n = tag.name;
    if (n == "p" || n == "div" || n == "blockquote" || n == "ul" || n == "ol" ||
        n == "table" || n == "h1" || n == "h2" || n == "h3" || n == "h4" ||
        n == "h5" || n == "h6") {
      sink.Break(2);
    } else if (n == "pre") {
      sink.Break(2);
    } else if (n == "br" || n == "li" || n == "tr") {
      sink.Break(1);
    } else if (n == "a") {
      if (!tag.closing) {
        href = tag.href;
        in_link = true;
        link_start = sink.size();
      } else if (in_link) {
        in_link = false;
        std::string_view shown = TrimAscii(sink.Since(link_start));
        if (!href.empty() && shown != href) {
          sink.Text(" (");
          sink.Text(href);
          sink.Text(")");
        }
      }
    } else if ((n == "script" || n == "style") && !tag.closing) {
      std::string close = "</" + n;
      size_t end = html.size();
      for (size_t k = i; k + close.size() <= html.size(); ++k) {
        if (html[k] == '<' &&
            EqualsNoCase(html.substr(k, close.size()), close)) {
          end = k;
          break;
        }
      }
      size_t gt = html.find('>', end);
      i = gt == std::string_view::npos ? html.size() : gt + 1;
    }
    // Other tags (i, b, em, code, span, …) are dropped; their text stays.
  }
  return sink.Take();
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    // Fast path over ASCII.
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t bad;
    size_t len = Utf8SeqLen(s, i, &bad);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string SanitizeUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    // A run of printable ASCII (most text) is copied at once.
    size_t run = i;
    while (run < s.size() && static_cast<unsigned char>(s[run]) >= 0x20 &&
           static_cast<unsigned char>(s[run]) < 0x80) {
      ++run;
    }
    if (run > i) {
      out.append(s.substr(i, run - i));
      i = run;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == '\t' || c == '\n' || c == '\r') {
        out.push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    size_t bad;
    size_t len = Utf8SeqLen(s, i, &bad);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      i += bad;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  return out;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return AsciiLower(x) == AsciiLower(y);
         });
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         EqualsNoCase(s.substr(0, prefix.size()), prefix);
}

std::string AsciiLower(std::string_view s) {
  std::string out;
  AsciiLowerInto(s, &out);
  return out;
}

std::string_view TrimAscii(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && IsAsciiSpace(s[b])) ++b;
  while (e > b && IsAsciiSpace(s[e - 1])) --e;
  return s.substr(b, e - b);
}

std::string FoldWhitespace(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool space = false;
  for (char c : TrimAscii(s)) {
    if (IsAsciiSpace(c)) {
      space = true;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string OneLineExcerpt(std::string_view s, size_t max_bytes,
                           bool* was_cut) {
  std::string out;
  out.reserve(std::min(s.size(), max_bytes + 8));
  bool cut = false;
  bool space = false;
  for (char c : TrimAscii(s)) {
    if (IsAsciiSpace(c)) {
      space = true;
      continue;
    }
    if (space) {
      out.push_back(' ');
      space = false;
    }
    out.push_back(c);
    if (out.size() > max_bytes) {
      cut = true;
      break;
    }
  }
  if (was_cut != nullptr) *was_cut = cut;
  if (!cut) return out;
  size_t end = max_bytes;
  // Back up to the start of a UTF-8 character.
  while (end > 0 && (static_cast<unsigned char>(out[end]) & 0xC0) == 0x80) {
    --end;
  }
  // Prefer a word boundary in the last quarter.
  size_t sp = out.rfind(' ', end);
  if (sp != std::string::npos && sp > 0 && sp >= end - end / 4) end = sp;
  out.resize(end);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  out += "\xE2\x80\xA6";
  return out;
}

size_t CharLength(std::string_view s, size_t i) {
  size_t bad = 0;
  const size_t n = Utf8SeqLen(s, i, &bad);
  return n == 0 ? 1 : n;
}

size_t NonAsciiWordCharAt(std::string_view s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  size_t bad = 0;
  const size_t n = Utf8SeqLen(s, i, &bad);
  if (n == 0) return 1;  // invalid UTF-8: a byte of a word, as before
  uint32_t cp = c & (0xFF >> (n + 1));
  for (size_t k = 1; k < n; ++k) {
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  }
  return Xapian::Unicode::is_wordchar(cp) ? n : 0;
}

size_t NextWord(std::string_view s, size_t i) {
  while (i < s.size() && WordCharAt(s, i) == 0) {
    // An ASCII byte is a character of its own.
    i += static_cast<unsigned char>(s[i]) < 0x80 ? 1 : CharLength(s, i);
  }
  return std::min(i, s.size());
}

size_t WordEnd(std::string_view s, size_t i) {
  while (i < s.size()) {
    const size_t n = WordCharAt(s, i);
    if (n == 0) break;
    i += n;
  }
  return i;
}

std::string WordForm(std::string_view word) {
  for (char c : word) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      return Xapian::Unicode::tolower(std::string(word));
    }
  }
  return AsciiLower(word);
}

size_t JsonStringClose(std::string_view s, size_t open) {
  for (size_t i = open + 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i;
    }
  }
  return s.size();
}

size_t JsonDepth(std::string_view s, size_t limit) {
  size_t depth = 0, max_depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      i = JsonStringClose(s, i);
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) {
        max_depth = depth;
        if (max_depth > limit) return max_depth;
      }
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return max_depth;
}

}  // namespace threadsearch
