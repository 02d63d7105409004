#include "common/mail_text.h"

#include <errno.h>
#include <iconv.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/text.h"

namespace threadsearch {
namespace {

// windows-1252 code points for bytes 0x80..0x9F; the five bytes that
// windows-1252 leaves undefined map to U+FFFD. Bytes 0xA0..0xFF are latin-1.
constexpr uint16_t kCp1252High[32] = {
    0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
    0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};

void AppendCp1252Byte(unsigned char c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0xA0) {
    AppendUtf8(kCp1252High[c - 0x80], out);
  } else {
    AppendUtf8(c, out);
  }
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when the bytes
// there are not one (overlongs, surrogates and code points past U+10FFFF
// count as invalid).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  const size_t n = s.size() - i;
  if (c >= 0xC2 && c <= 0xDF) {
    return (n >= 2 && (b(i + 1) & 0xC0) == 0x80) ? 2 : 0;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (n < 3 || (b(i + 1) & 0xC0) != 0x80 || (b(i + 2) & 0xC0) != 0x80) {
      return 0;
    }
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(i + 1) >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (n < 4 || (b(i + 1) & 0xC0) != 0x80 || (b(i + 2) & 0xC0) != 0x80 ||
        (b(i + 3) & 0xC0) != 0x80) {
      return 0;
    }
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(i + 1) >= 0x90) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

// Keeps valid UTF-8 sequences and reads every other byte as windows-1252,
// so a body that mixes UTF-8 and latin-1 keeps both readable.
std::string Utf8OrCp1252(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  size_t i = 0;
  while (i < s.size()) {
    // Fast path over ASCII runs.
    size_t j = i;
    while (j < s.size() && static_cast<unsigned char>(s[j]) < 0x80) ++j;
    out.append(s.data() + i, j - i);
    i = j;
    if (i >= s.size()) break;
    const size_t len = Utf8SequenceLength(s, i);
    if (len == 0) {
      AppendCp1252Byte(static_cast<unsigned char>(s[i]), &out);
      ++i;
    } else {
      out.append(s.data() + i, len);
      i += len;
    }
  }
  return out;
}

std::string NormalizeCharset(std::string_view cs) {
  std::string out;
  out.reserve(cs.size());
  for (char c : cs) {
    if (c == '"' || c == '\'' || c == ' ' || c == '\t') continue;
    out.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c);
  }
  // RFC 2231 language suffix: "utf-8*en".
  if (size_t star = out.find('*'); star != std::string::npos) {
    out.resize(star);
  }
  return out;
}

bool IsUtf8Name(const std::string& cs) {
  return cs == "utf-8" || cs == "utf8" || cs == "us-ascii" || cs == "ascii" ||
         cs == "us_ascii" || cs.empty() || cs == "unknown-8bit" ||
         cs == "x-unknown" || cs == "unknown" || cs == "default" ||
         cs == "x-user-defined";
}

// Names mail clients use that iconv does not know, or that are better read
// as a superset (latin-1 mail is routinely windows-1252 in practice).
std::string IconvName(const std::string& cs) {
  if (cs == "iso-8859-1" || cs == "iso8859-1" || cs == "latin1" ||
      cs == "latin-1" || cs == "iso_8859-1" || cs == "8859-1") {
    return "WINDOWS-1252";
  }
  if (cs == "ks_c_5601-1987" || cs == "ks_c_5601") return "CP949";
  if (cs == "gb2312" || cs == "x-gbk") return "GBK";
  if (cs == "x-mac-roman" || cs == "macintosh") return "MACINTOSH";
  if (cs == "x-sjis" || cs == "shift-jis") return "SHIFT_JIS";
  if (cs == "iso-8859-8-i") return "ISO-8859-8";
  return cs;
}

// One conversion descriptor per charset name, per thread: iconv_t objects
// carry state and must not be shared between threads. A descriptor of -1
// records that iconv does not know the name.
class IconvCache {
 public:
  ~IconvCache() {
    for (auto& [name, cd] : cds_) {
      if (cd != reinterpret_cast<iconv_t>(-1)) iconv_close(cd);
    }
  }
  iconv_t Get(const std::string& name) {
    auto it = cds_.find(name);
    if (it != cds_.end()) return it->second;
    iconv_t cd = iconv_open("UTF-8", IconvName(name).c_str());
    cds_.emplace(name, cd);
    return cd;
  }

 private:
  std::unordered_map<std::string, iconv_t> cds_;
};

// Q encoding of RFC 2047: like quoted-printable, with "_" for space.
std::string DecodeQWord(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      out.push_back(' ');
    } else if (s[i] == '=' && i + 2 < s.size() &&
               HexDigitValue(s[i + 1]) >= 0 && HexDigitValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigitValue(s[i + 1]) * 16 +
                                      HexDigitValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The first place at or after a position where `s` holds one of a set of
// needles, for positions that only move forward: each byte is looked at
// once, however many positions are asked about (DecodeRfc2047 asks at
// every "=?" of a header, and a search from each to the header's end made
// a long header of "=?a?Q?x" quadratic).
class ForwardFind {
 public:
  // `what` is a substring when `any_of` is false, else a set of bytes.
  ForwardFind(std::string_view s, std::string_view what, bool any_of)
      : s_(s), what_(what), any_of_(any_of) {}
  // REQUIRES: `from` at or after the previous call's.
  size_t At(size_t from) {
    if (!searched_ || (found_ != std::string_view::npos && found_ < from)) {
      found_ = any_of_ ? s_.find_first_of(what_, from) : s_.find(what_, from);
      searched_ = true;
    }
    return found_;
  }

 private:
  std::string_view s_, what_;
  bool any_of_;
  bool searched_ = false;
  size_t found_ = std::string_view::npos;
};

// The searches ParseEncodedWord makes in one header.
struct EncodedWordScan {
  explicit EncodedWordScan(std::string_view s)
      : close(s, "?=", false), line_break(s, "\r\n", true),
        blank(s, " \t", true) {}
  ForwardFind close, line_break, blank;
};

// Parses one encoded word "=?charset?E?text?=" starting at s[pos]. On
// success sets *charset, *bytes (decoded, still in charset) and *end (one
// past "?="). `scan` holds the header's searches; `pos` only moves
// forward between calls.
bool ParseEncodedWord(std::string_view s, size_t pos, EncodedWordScan* scan,
                      std::string* charset, std::string* bytes, size_t* end) {
  if (s.compare(pos, 2, "=?") != 0) return false;
  const size_t cs_begin = pos + 2;
  const size_t q1 = s.find('?', cs_begin);
  if (q1 == std::string_view::npos || q1 == cs_begin || q1 + 2 >= s.size() ||
      s[q1 + 2] != '?') {
    return false;
  }
  const std::string_view cs = s.substr(cs_begin, q1 - cs_begin);
  for (char c : cs) {
    if (IsSpace(c) || c == '=') return false;
  }
  const char enc = s[q1 + 1];
  const size_t text_begin = q1 + 3;
  const size_t close = scan->close.At(text_begin);
  if (close == std::string_view::npos) return false;
  const std::string_view text = s.substr(text_begin, close - text_begin);
  // Encoded words contain no white space, but some mailers (web.de's, in
  // R-help's archive) wrote blanks into Q words ("=?iso-8859-1?Q?
  // Jens=20Oehlschl=E4gel ?="); decoders such as Python's take them. A
  // line break, or a "?=" further than a long word reaches, means this
  // was not an encoded word.
  constexpr size_t kMaxWordWithBlanks = 200;
  if (scan->line_break.At(text_begin) < close) return false;
  if (scan->blank.At(text_begin) < close &&
      text.size() > kMaxWordWithBlanks) {
    return false;
  }
  if (enc == 'B' || enc == 'b') {
    *bytes = DecodeBase64(text);
  } else if (enc == 'Q' || enc == 'q') {
    *bytes = DecodeQWord(text);
  } else {
    return false;
  }
  *charset = std::string(cs);
  *end = close + 2;
  return true;
}

std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && IsSpace(s[b])) ++b;
  while (e > b && IsSpace(s[e - 1])) --e;
  return s.substr(b, e - b);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// "-- " / "--": the conventional signature separator.
bool IsSignatureLine(std::string_view line) {
  return line == "-- " || line == "--";
}

// The tests of a `trimmed` line take it trimmed (Trim): SplitMailBody
// trims each line once.
bool IsNextPartLine(std::string_view trimmed) {
  return StartsWith(trimmed, "-------------- next part --------------");
}

// A line made only of 20 or more rule characters (_ - . = *).
bool IsRuleLine(std::string_view trimmed) {
  if (trimmed.size() < 20) return false;
  for (char c : trimmed) {
    if (c != '_' && c != '-' && c != '.' && c != '=' && c != '*') {
      return false;
    }
  }
  return true;
}

bool IsFooterTextLine(std::string_view line) {
  const std::string l = Lower(line);
  return l.find("mailing list") != std::string::npos ||
         l.find("listinfo") != std::string::npos;
}

// Strips the quote markers of a line whose first non-blank character is
// '>'; returns false when the line is not quoted.
bool StripQuote(std::string_view line, std::string_view* rest) {
  size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  // Indented by more than a couple of blanks: code or output, not a quote.
  if (i > 2 || i >= line.size() || line[i] != '>') return false;
  while (i < line.size() && (line[i] == '>' || line[i] == ' ')) {
    // Keep indentation after the last marker except the one space.
    if (line[i] == ' ' && (i + 1 >= line.size() || line[i + 1] != '>')) {
      ++i;
      break;
    }
    ++i;
  }
  *rest = line.substr(i);
  return true;
}

bool EndsWithAttributionVerb(std::string_view trimmed) {
  // Asked of many lines of a reply: no copy. (The last byte first: most
  // lines do not end in ':'.)
  if (trimmed.empty() || trimmed.back() != ':') return false;
  for (std::string_view verb : {"wrote:", "writes:", "wrote :", "said:",
                                "a écrit :", "schrieb:", "escribió:"}) {
    if (trimmed.size() >= verb.size() &&
        EqualsNoCase(trimmed.substr(trimmed.size() - verb.size()), verb)) {
      return true;
    }
  }
  return false;
}

bool StartsLikeAttribution(std::string_view trimmed) {
  return StartsWith(trimmed, "On ") || StartsWith(trimmed, "At ") ||
         StartsWith(trimmed, "Quoting ") || StartsWith(trimmed, "Am ") ||
         StartsWith(trimmed, "Le ") || StartsWith(trimmed, "El ");
}

// Outlook-style start of a copied original message: everything after it is
// quoted material even though it has no "> " markers.
bool IsOriginalMessageLine(std::string_view trimmed) {
  // Asked of every line: one search for what both forms hold first.
  constexpr auto kNone = std::string_view::npos;
  if (trimmed.find("Original Message") == kNone) return false;
  return trimmed.find("-----Original Message-----") != kNone ||
         trimmed.find("----- Original Message -----") != kNone;
}

void AppendLine(std::string_view line, std::string* out) {
  out->append(line);
  out->push_back('\n');
}

// Trims blank lines at both ends, and trailing blanks on the text.
std::string TrimBlankLines(std::string s) {
  size_t b = 0;
  while (b < s.size() && IsSpace(s[b])) ++b;
  // Keep the leading indentation of the first non-blank line.
  while (b > 0 && s[b - 1] != '\n') --b;
  size_t e = s.size();
  while (e > b && IsSpace(s[e - 1])) --e;
  return s.substr(b, e - b);
}

}  // namespace

// Charsets of one byte a character: latin-1 and its relatives, the
// windows code pages, KOI8, Mac Roman.
bool IsSingleByteCharset(const std::string& cs) {
  return StartsWith(cs, "iso-8859") || StartsWith(cs, "iso8859") ||
         StartsWith(cs, "iso_8859") || StartsWith(cs, "8859-") ||
         StartsWith(cs, "latin") || StartsWith(cs, "windows-125") ||
         StartsWith(cs, "cp125") || StartsWith(cs, "koi8") ||
         cs == "x-mac-roman" || cs == "macintosh";
}

// Whether `s` is valid UTF-8 holding at least one multi-byte sequence.
bool IsNonAsciiUtf8(std::string_view s) {
  bool multi = false;
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t len = Utf8SequenceLength(s, i);
    if (len == 0) return false;
    multi = true;
    i += len;
  }
  return multi;
}

// The charset of text that names none or only "us-ascii" (a pipermail
// archive keeps no Content-Type; raw 8-bit header text names none), where
// the bytes say it for sure or nearly: "iso-2022-jp-2" for 7-bit text with
// ISO-2022 designations ("ESC $ B" … "ESC ( B", as Japanese mailers sent
// it), "koi8-r" or "windows-1251" for Cyrillic, else "" (UTF-8 where valid,
// windows-1252 for the other bytes).
//
// Cyrillic: both charsets put the letters at 0xC0..0xFF, so words are runs
// of such bytes, where latin-1 text has one accented letter among ASCII
// ones (three in a row is rare, and never most of a text); such a run is
// never valid UTF-8. KOI8-R has the small letters at 0xC0..0xDF and
// windows-1251 at 0xE0..0xFF, and running text is mostly small letters.
std::string GuessUndeclaredCharset(std::string_view bytes) {
  size_t high = 0, letters = 0, in_runs = 0, low_half = 0, longest = 0;
  bool escape = false;
  for (size_t i = 0; i < bytes.size();) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    // "ESC $": a designation of a two-byte set (a terminal's colours
    // paste "ESC [" and "ESC ( B", which say nothing).
    if (c == 0x1B && i + 2 < bytes.size() && bytes[i + 1] == '$') {
      escape = true;
    }
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < bytes.size() && static_cast<unsigned char>(bytes[j]) >= 0xC0) {
      if (static_cast<unsigned char>(bytes[j]) < 0xE0) ++low_half;
      ++j;
    }
    const size_t run = j - i;
    if (run == 0) {
      ++high;
      ++i;
      continue;
    }
    high += run;
    letters += run;
    if (run >= 3) in_runs += run;
    longest = std::max(longest, run);
    i = j;
  }
  if (high == 0) return escape ? "iso-2022-jp-2" : "";
  if (longest >= 4 && letters * 10 >= high * 9 && in_runs * 10 >= high * 6) {
    return low_half * 2 > letters ? "koi8-r" : "windows-1251";
  }
  return "";
}

std::string CharsetToUtf8(std::string_view bytes, std::string_view charset) {
  std::string cs = NormalizeCharset(charset);
  if (IsUtf8Name(cs)) {
    cs = GuessUndeclaredCharset(bytes);
    if (cs.empty()) return Utf8OrCp1252(bytes);
  }
  // Mailers often label UTF-8 text with the user's old single-byte
  // charset. Text in such a charset is almost never valid UTF-8 with a
  // multi-byte sequence (that takes an accented capital followed by a
  // symbol such as "Ã©"), so valid UTF-8 is read as UTF-8 rather than
  // turned into mojibake.
  if (IsSingleByteCharset(cs) && IsNonAsciiUtf8(bytes)) {
    return std::string(bytes);
  }
  thread_local IconvCache cache;
  iconv_t cd = cache.Get(cs);
  if (cd == reinterpret_cast<iconv_t>(-1)) return Utf8OrCp1252(bytes);

  iconv(cd, nullptr, nullptr, nullptr, nullptr);  // reset shift state
  std::string out;
  out.resize(bytes.size() * 2 + 16);
  char* in_ptr = const_cast<char*>(bytes.data());
  size_t in_left = bytes.size();
  size_t out_pos = 0;
  while (in_left > 0) {
    char* out_ptr = out.data() + out_pos;
    size_t out_left = out.size() - out_pos;
    const size_t r = iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left);
    out_pos = out_ptr - out.data();
    if (r != static_cast<size_t>(-1)) break;
    if (errno == E2BIG) {
      out.resize(out.size() * 2 + 16);
    } else {
      // EILSEQ or EINVAL (truncated sequence): read the byte as
      // windows-1252 and go on after it.
      std::string fallback;
      AppendCp1252Byte(static_cast<unsigned char>(*in_ptr), &fallback);
      if (out.size() - out_pos < fallback.size()) {
        out.resize(out.size() * 2 + 16);
      }
      memcpy(out.data() + out_pos, fallback.data(), fallback.size());
      out_pos += fallback.size();
      ++in_ptr;
      --in_left;
      iconv(cd, nullptr, nullptr, nullptr, nullptr);
    }
  }
  // Flush any shift state (stateful encodings such as ISO-2022-JP).
  for (;;) {
    char* out_ptr = out.data() + out_pos;
    size_t out_left = out.size() - out_pos;
    const size_t r = iconv(cd, nullptr, nullptr, &out_ptr, &out_left);
    out_pos = out_ptr - out.data();
    if (r == static_cast<size_t>(-1) && errno == E2BIG) {
      out.resize(out.size() * 2 + 16);
      continue;
    }
    break;
  }
  out.resize(out_pos);
  // iconv's output is UTF-8 already; this only guards against converters
  // that pass bytes through unchanged.
  return Utf8OrCp1252(out);
}

std::string StripPgpArmor(std::string_view body) {
  constexpr std::string_view kSigned = "-----BEGIN PGP SIGNED MESSAGE-----";
  constexpr std::string_view kSigBegin = "-----BEGIN PGP SIGNATURE-----";
  constexpr std::string_view kSigEnd = "-----END PGP SIGNATURE-----";
  if (body.find("-----BEGIN PGP ") == std::string_view::npos) {
    return std::string(body);
  }
  const auto armor_line = [](std::string_view line, std::string_view what) {
    while (!line.empty() && IsSpace(line.back())) line.remove_suffix(1);
    return line == what;
  };
  std::string out;
  out.reserve(body.size());
  enum { kText, kArmorHeaders, kSignedText, kSignature } state = kText;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    const size_t next = nl == std::string_view::npos ? body.size() : nl + 1;
    std::string_view line = body.substr(pos, next - pos);
    const std::string_view bare =
        line.substr(0, line.size() - (nl == std::string_view::npos ? 0 : 1));
    pos = next;
    switch (state) {
      case kArmorHeaders:
        if (Trim(bare).empty()) state = kSignedText;
        continue;
      case kSignature:
        if (armor_line(bare, kSigEnd)) state = kText;
        continue;
      case kText:
      case kSignedText:
        break;
    }
    if (armor_line(bare, kSigned)) {
      state = kArmorHeaders;
      continue;
    }
    if (armor_line(bare, kSigBegin) &&
        body.find(kSigEnd, pos) != std::string_view::npos) {
      state = kSignature;
      continue;
    }
    if (state == kSignedText && StartsWith(line, "- ")) line.remove_prefix(2);
    out.append(line);
  }
  return out;
}

std::string DecodeRfc2047(std::string_view header) {
  std::string out;
  out.reserve(header.size());
  // Bytes of adjacent encoded words in the same charset are joined before
  // conversion, so a multi-byte character split across two words survives.
  std::string pending_charset;
  std::string pending;
  const auto flush = [&]() {
    if (!pending.empty() || !pending_charset.empty()) {
      out += CharsetToUtf8(pending, pending_charset);
    }
    pending.clear();
    pending_charset.clear();
  };
  bool last_was_word = false;
  size_t i = 0;
  size_t raw_begin = 0;  // start of plain text not yet copied
  EncodedWordScan scan(header);
  while (i < header.size()) {
    const size_t start = header.find("=?", i);
    if (start == std::string_view::npos) break;
    std::string charset, bytes;
    size_t end = 0;
    if (!ParseEncodedWord(header, start, &scan, &charset, &bytes, &end)) {
      i = start + 2;
      continue;
    }
    const std::string_view between =
        header.substr(raw_begin, start - raw_begin);
    const bool only_space = Trim(between).empty();
    if (!(last_was_word && only_space)) {
      flush();
      out += CharsetToUtf8(between, "");
    }
    const std::string cs = NormalizeCharset(charset);
    if (cs != pending_charset) flush();
    pending_charset = cs;
    pending += bytes;
    last_was_word = true;
    i = end;
    raw_begin = end;
  }
  flush();
  out += CharsetToUtf8(header.substr(raw_begin), "");
  return out;
}

std::string DecodeQuotedPrintable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c != '=') {
      out.push_back(c);
      continue;
    }
    // Soft line break: "=" then optional trailing blanks then a newline.
    size_t j = i + 1;
    while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
    if (j < s.size() && (s[j] == '\n' || s[j] == '\r')) {
      if (s[j] == '\r' && j + 1 < s.size() && s[j + 1] == '\n') ++j;
      i = j;
      continue;
    }
    if (j == s.size()) {  // "=" at the very end: a soft break too
      i = j;
      continue;
    }
    if (i + 2 < s.size() && HexDigitValue(s[i + 1]) >= 0 &&
        HexDigitValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigitValue(s[i + 1]) * 16 +
                                      HexDigitValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back('=');  // not an escape: keep as is
    }
  }
  return out;
}

std::string DecodeBase64(std::string_view s) {
  std::string out;
  out.reserve(s.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+' || c == '-') {
      v = 62;
    } else if (c == '/' || c == '_') {
      v = 63;
    } else if (c == '=') {
      // Padding ends a group; data after it (concatenated encodings) starts
      // a new one.
      acc = 0;
      bits = 0;
      continue;
    } else {
      continue;  // line breaks and junk are skipped
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

bool OwnFromSpans(std::string_view body, const std::vector<TextSpan>& spans,
                  std::string* own) {
  size_t bytes = 0;
  for (const TextSpan& s : spans) {
    if (s.offset > body.size() || s.length > body.size() - s.offset) {
      return false;
    }
    bytes += s.length + 1;
  }
  std::string text;
  text.reserve(bytes);
  for (const TextSpan& s : spans) {
    AppendLine(body.substr(s.offset, s.length), &text);
  }
  *own = TrimBlankLines(std::move(text));
  return true;
}

MailBodyParts SplitMailBody(std::string_view body, bool is_reply,
                            size_t own_limit,
                            std::vector<TextSpan>* own_lines) {
  std::vector<std::string_view> lines;
  {
    size_t pos = 0;
    while (pos <= body.size()) {
      size_t nl = body.find('\n', pos);
      if (nl == std::string_view::npos) nl = body.size();
      std::string_view line = body.substr(pos, nl - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      lines.push_back(line);
      pos = nl + 1;
    }
  }
  // A footer starts at a rule line followed within three lines by a
  // "mailing list" / "listinfo" line.
  const auto footer_at = [&](size_t i, bool quoted) {
    std::string_view l = lines[i];
    if (quoted && !StripQuote(lines[i], &l)) return false;
    if (!IsRuleLine(Trim(l))) return false;
    for (size_t k = i + 1; k < lines.size() && k <= i + 3; ++k) {
      std::string_view n = lines[k];
      if (quoted && !StripQuote(lines[k], &n)) return false;
      if (IsFooterTextLine(n)) return true;
    }
    return false;
  };

  // ">>> " starts a Python prompt line and a third-level quote line. In a
  // reply, a run of such lines touching a quote line or an attribution is
  // a quote; any other run is an interpreter session: the writer's own.
  std::vector<bool> prompt(lines.size(), false);
  for (size_t i = 0; is_reply && i < lines.size();) {
    if (!StartsWith(lines[i], ">>> ")) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < lines.size() && StartsWith(lines[j], ">>> ")) ++j;
    std::string_view unused;
    const bool quoted = (i > 0 && (StripQuote(lines[i - 1], &unused) ||
                                   EndsWithAttributionVerb(
                                       Trim(lines[i - 1])))) ||
                        (j < lines.size() && StripQuote(lines[j], &unused));
    if (!quoted) std::fill(prompt.begin() + i, prompt.begin() + j, true);
    i = j;
  }

  MailBodyParts parts;
  bool in_signature = false;
  bool in_original = false;  // after an Outlook "Original Message" line
  for (size_t i = 0; i < lines.size(); ++i) {
    if (parts.own.size() > own_limit) {
      parts.stopped = true;
      break;
    }
    const std::string_view line = lines[i];
    // The line without its blanks, as the line tests take it; the costlier
    // ones are asked only when its first byte or its size allows.
    const std::string_view t = Trim(line);
    const char first = t.empty() ? '\0' : t[0];
    // Mailman's attachment notes follow.
    if (first == '-' && IsNextPartLine(t)) break;
    if (t.size() >= 20 && footer_at(i, /*quoted=*/false)) break;

    // A message that replies to nothing quotes nothing: its "> " lines are
    // R console input, e-mail-style citations of a text and the like.
    std::string_view rest;
    if (is_reply && !prompt[i] && StripQuote(line, &rest)) {
      // Quoted list footers and nested attributions are not content.
      if (footer_at(i, /*quoted=*/true)) {
        ++i;
        while (i < lines.size() && StripQuote(lines[i], &rest) &&
               !Trim(rest).empty()) {
          ++i;
        }
        --i;
        continue;
      }
      if (EndsWithAttributionVerb(Trim(rest))) continue;
      AppendLine(rest, &parts.quoted);
      continue;
    }
    if (IsSignatureLine(line)) {
      in_signature = true;
      continue;
    }
    if (in_signature) continue;
    if (IsOriginalMessageLine(t)) {
      in_original = true;
      continue;
    }
    if (in_original) {
      AppendLine(line, &parts.quoted);
      continue;
    }
    // Attribution: one line ending in "wrote:"/"writes:", or such a line
    // wrapped over two.
    if (!t.empty() && t.back() == ':') {
      if (EndsWithAttributionVerb(t)) continue;
      if (StartsWith(t, "Quoting ")) continue;
    }
    if (std::string_view("OAQLE").find(first) != std::string_view::npos &&
        StartsLikeAttribution(t) && i + 1 < lines.size()) {
      const std::string_view next = Trim(lines[i + 1]);
      if (EndsWithAttributionVerb(next) && next.size() < 100) {
        ++i;
        continue;
      }
    }
    AppendLine(line, &parts.own);
    if (own_lines) {
      // The line's newline is the text's own when it follows the last
      // span's line there: one span for both.
      const auto at = static_cast<uint32_t>(line.data() - body.data());
      const auto size = static_cast<uint32_t>(line.size());
      if (!own_lines->empty()) {
        TextSpan& last = own_lines->back();
        const size_t end = size_t{last.offset} + last.length;
        if (end + 1 == at && body[end] == '\n') {
          last.length = at + size - last.offset;
          continue;
        }
      }
      own_lines->push_back({at, size});
    }
  }
  parts.own = TrimBlankLines(std::move(parts.own));
  parts.quoted = TrimBlankLines(std::move(parts.quoted));
  return parts;
}

std::string DeobfuscateAddress(std::string_view s) {
  s = Trim(s);
  // Split into blank-separated words.
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    size_t j = i;
    while (j < s.size() && !IsSpace(s[j])) ++j;
    if (j > i) words.push_back(s.substr(i, j - i));
    i = j;
  }
  std::string out;
  if (words.size() == 3 && words[1] == "at") {
    out = std::string(words[0]) + "@" + std::string(words[2]);
  } else if (words.size() == 4) {
    // Post-2018 mangling writes " at " as "@ending from" with some letters
    // replaced: "@end|ng |rom", "m@iling off", "m@ili@g off",
    // "m@iii@g oii". The word shapes identify it without guessing letters.
    const std::string a = Lower(words[1]);
    const std::string b = Lower(words[2]);
    const bool ending = a.size() == 7 && StartsWith(a, "@end") &&
                        b.size() == 4 && EndsWith(b, "rom");
    const bool mailing =
        a.size() == 7 && StartsWith(a, "m@i") && b.size() == 3 && b[0] == 'o';
    if (ending || mailing) {
      out = std::string(words[0]) + "@" + std::string(words[3]);
    }
  }
  if (out.empty()) out = std::string(s);
  return Lower(out);
}

}  // namespace threadsearch
