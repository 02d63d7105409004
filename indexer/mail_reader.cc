// ReadMbox: classic mbox and Mailman/pipermail monthly archives.
//
// A message starts at a separator line "From <addr> <ctime date>". Body
// lines that start with "From " but do not end in a full ctime date are body
// text (pipermail does not escape them). The separator check is hand-written
// and runs only on lines starting with "From ", so the hot path is a prefix
// compare and an append.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "common/item.h"
#include "common/mail_text.h"
#include "common/text.h"
#include "indexer/input_stream.h"
#include "indexer/readers.h"

namespace threadsearch {
namespace {

// A message body larger than this is reported and skipped.
constexpr size_t kMaxMessageBytes = 64u << 20;

constexpr std::string_view kMonths[12] = {"jan", "feb", "mar", "apr",
                                          "may", "jun", "jul", "aug",
                                          "sep", "oct", "nov", "dec"};
constexpr std::string_view kWeekdays[7] = {"mon", "tue", "wed", "thu",
                                           "fri", "sat", "sun"};

bool IsBlank(char c) { return c == ' ' || c == '\t'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Month 1..12 from a name ("Jan", "january", "JAN"), 0 when not a month.
int MonthFromName(std::string_view s) {
  if (s.size() < 3) return 0;
  for (int m = 0; m < 12; ++m) {
    if (EqualsNoCase(s.substr(0, 3), kMonths[m])) return m + 1;
  }
  return 0;
}

bool IsWeekdayName(std::string_view s) {
  if (s.size() < 3) return false;
  for (std::string_view w : kWeekdays) {
    if (EqualsNoCase(s.substr(0, 3), w)) return true;
  }
  return false;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

int ToInt(std::string_view s) {
  int v = 0;
  for (char c : s) {
    if (!IsDigit(c)) break;
    if (v > 100000000) break;
    v = v * 10 + (c - '0');
  }
  return v;
}

// "hh:mm[:ss]" (one or two digits each).
bool ParseClock(std::string_view s, int* h, int* m, int* sec,
                char sep = ':') {
  int parts[3] = {0, 0, 0};
  int n = 0;
  size_t i = 0;
  while (i < s.size() && n < 3) {
    size_t j = i;
    while (j < s.size() && IsDigit(s[j])) ++j;
    if (j == i || j - i > 2) return false;
    parts[n++] = ToInt(s.substr(i, j - i));
    if (j == s.size()) break;
    if (s[j] != sep) return false;
    i = j + 1;
  }
  if (n < 2) return false;
  if (parts[0] > 23 || parts[1] > 59 || parts[2] > 60) return false;
  *h = parts[0];
  *m = parts[1];
  *sec = parts[2];
  return true;
}

// "+hhmm" / "-hhmm" (also "+hh" and "hhmm" when `need_sign` is false).
bool ParseNumericZone(std::string_view s, bool need_sign, int* offset) {
  int sign = 1;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    sign = s[0] == '-' ? -1 : 1;
    s.remove_prefix(1);
  } else if (need_sign) {
    return false;
  }
  std::string colonless;
  if (s.size() == 5 && s[2] == ':') {  // "+01:00"
    colonless = std::string(s.substr(0, 2)) + std::string(s.substr(3));
    s = colonless;
  }
  if (!AllDigits(s)) return false;
  int hh, mm;
  if (s.size() == 4) {
    hh = ToInt(s.substr(0, 2));
    mm = ToInt(s.substr(2, 2));
  } else if (s.size() <= 2) {
    hh = ToInt(s);
    mm = 0;
  } else {
    return false;
  }
  if (hh > 14 || mm > 59) return false;
  *offset = sign * (hh * 3600 + mm * 60);
  return true;
}

// Named zones seen in mail Date: headers. Unknown names count as UTC.
bool NamedZoneOffset(std::string_view name, int* offset) {
  struct Zone {
    const char* name;
    int minutes;
  };
  static constexpr Zone kZones[] = {
      {"UT", 0},      {"UTC", 0},      {"GMT", 0},    {"Z", 0},
      {"WET", 0},     {"WEST", 60},    {"BST", 60},   {"IST", 330},
      {"CET", 60},    {"MET", 60},     {"MEZ", 60},   {"CEST", 120},
      {"MEST", 120},  {"METDST", 120}, {"MESZ", 120}, {"EET", 120},
      {"EEST", 180},  {"MSK", 180},    {"SAST", 120}, {"EST", -300},
      {"EDT", -240},  {"CST", -360},   {"CDT", -300}, {"MST", -420},
      {"MDT", -360},  {"PST", -480},   {"PDT", -420}, {"AKST", -540},
      {"AKDT", -480}, {"HST", -600},   {"AST", -240}, {"ADT", -180},
      {"NST", -210},  {"NDT", -150},   {"ART", -180}, {"BRT", -180},
      {"JST", 540},   {"KST", 540},    {"HKT", 480},  {"SGT", 480},
      {"ICT", 420},   {"WIB", 420},    {"AWST", 480}, {"ACST", 570},
      {"ACDT", 630},  {"AEST", 600},   {"AEDT", 660}, {"NZST", 720},
      {"NZDT", 780},
  };
  for (const Zone& z : kZones) {
    if (EqualsNoCase(name, z.name)) {
      *offset = z.minutes * 60;
      return true;
    }
  }
  return false;
}

// Splits on blanks and commas; a token like "18-Oct-2005" is split at its
// dashes.
std::vector<std::string_view> DateTokens(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (IsBlank(s[i]) || s[i] == ',')) ++i;
    size_t j = i;
    while (j < s.size() && !IsBlank(s[j]) && s[j] != ',') ++j;
    if (j > i) {
      std::string_view tok = s.substr(i, j - i);
      const bool has_alpha =
          tok.find_first_of(
              "abcdefghijklmnopqrstuvwxyz"
              "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos;
      if (has_alpha && IsDigit(tok[0]) &&
          tok.find('-') != std::string_view::npos) {
        size_t p = 0;
        while (p <= tok.size()) {
          size_t d = tok.find('-', p);
          if (d == std::string_view::npos) d = tok.size();
          if (d > p) out.push_back(tok.substr(p, d - p));
          p = d + 1;
        }
      } else {
        out.push_back(tok);
      }
    }
    i = j;
  }
  return out;
}

// Parses an RFC 2822 date and the variants found in real archives: missing
// weekday, two-digit years, ctime order ("Tue Dec 10 00:35:03 2002"), named
// zones, "GMT+2", comments such as "(PST)" (used as the zone only when no
// other zone is given). Returns false when no day, month and year are found.
bool ParseMailDate(std::string_view value, int64_t* out) {
  // Pull out parenthesised comments.
  std::string text;
  std::string comment;
  int depth = 0;
  for (char c : value) {
    if (c == '(') {
      if (depth++ == 0 && !comment.empty()) comment.push_back(' ');
      continue;
    }
    if (c == ')' && depth > 0) {
      --depth;
      continue;
    }
    (depth > 0 ? comment : text).push_back(c);
  }
  int day = 0, month = 0, year = -1;
  int hh = 0, mm = 0, ss = 0;
  bool have_time = false, have_zone = false;
  int zone = 0;
  for (std::string_view tok : DateTokens(text)) {
    if (!have_time && tok.find(':') != std::string_view::npos) {
      if (ParseClock(tok, &hh, &mm, &ss)) have_time = true;
      continue;
    }
    // "10.00.00" after the date (a dotted date such as 07.01.2019 has a
    // four-digit part, which no clock has).
    if (!have_time && year >= 0 && tok.find('.') != std::string_view::npos &&
        ParseClock(tok, &hh, &mm, &ss, '.')) {
      have_time = true;
      continue;
    }
    // ISO 8601's date, "2019-01-07".
    if (year < 0 && tok.size() == 10 && tok[4] == '-' && tok[7] == '-' &&
        AllDigits(tok.substr(0, 4)) && AllDigits(tok.substr(5, 2)) &&
        AllDigits(tok.substr(8, 2))) {
      const int m = ToInt(tok.substr(5, 2));
      const int d = ToInt(tok.substr(8, 2));
      if (m >= 1 && m <= 12 && d >= 1 && d <= 31) {
        year = ToInt(tok.substr(0, 4));
        month = m;
        day = d;
      }
      continue;
    }
    // A 12-hour clock's AM/PM.
    if (have_time && (EqualsNoCase(tok, "AM") || EqualsNoCase(tok, "PM"))) {
      if (hh <= 12) hh = hh % 12 + (EqualsNoCase(tok, "PM") ? 12 : 0);
      continue;
    }
    if (AllDigits(tok)) {
      const int v = ToInt(tok);
      if (have_time) {
        if (year < 0 && tok.size() == 4) {
          year = v;  // ctime order: year after the time
        } else if (!have_zone && tok.size() == 4 &&
                   ParseNumericZone(tok, false, &zone)) {
          have_zone = true;  // "0200" with the sign lost
        }
      } else if (day == 0 && tok.size() <= 2 && v >= 1 && v <= 31 &&
                 (month == 0 || year < 0)) {
        day = v;
      } else if (year < 0) {
        year = v;
      }
      continue;
    }
    if (tok[0] == '+' || tok[0] == '-') {
      if (!have_zone && ParseNumericZone(tok, true, &zone)) have_zone = true;
      continue;
    }
    if (IsAlpha(tok[0])) {
      if (month == 0 && !have_time) {
        if (const int m = MonthFromName(tok); m != 0 && !IsWeekdayName(tok)) {
          month = m;
          continue;
        }
      }
      if (have_time && !have_zone) {
        // "EST", "EST5EDT", "GMT+2", "GMT+0200", "MET DST".
        size_t k = 0;
        while (k < tok.size() && IsAlpha(tok[k])) ++k;
        const std::string_view name = tok.substr(0, k);
        const std::string_view rest = tok.substr(k);
        int off = 0;
        if ((EqualsNoCase(name, "GMT") || EqualsNoCase(name, "UTC") ||
             EqualsNoCase(name, "UT")) &&
            !rest.empty() && ParseNumericZone(rest, true, &off)) {
          zone = off;
          have_zone = true;
        } else if (NamedZoneOffset(name, &off)) {
          zone = off;
          have_zone = true;
        }
      }
    }
  }
  if (!have_zone && !comment.empty()) {
    int off = 0;
    for (std::string_view tok : DateTokens(comment)) {
      if (NamedZoneOffset(tok, &off) || ParseNumericZone(tok, true, &off)) {
        zone = off;
        break;
      }
    }
  }
  if (day == 0 || month == 0 || year < 0) return false;
  if (year < 50) {
    year += 2000;
  } else if (year < 1000) {
    year += 1900;
  }
  if (year < 1970 || year > 2200) return false;
  *out = DaysFromCivil(year, static_cast<unsigned>(month),
                       static_cast<unsigned>(day)) *
             86400 +
         hh * 3600 + mm * 60 + ss - zone;
  return true;
}

// A separator line split into its address and its date.
struct Separator {
  std::string_view address;
  int64_t time = 0;
  bool obfuscated = false;  // pipermail "user at domain" style
};

// Recognises "From <addr> Www Mmm dd hh:mm:ss yyyy", where <addr> may hold
// blanks (pipermail's "user at domain", the mangled "@end|ng |rom" forms)
// and a zone may follow the year or sit before it. Called only on lines
// starting with "From ".
bool ParseSeparator(std::string_view line, Separator* sep,
                    bool without_seconds) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  while (!line.empty() && IsBlank(line.back())) line.remove_suffix(1);
  // Tokens with their offsets, from the end: at most 7 are needed.
  std::vector<std::string_view> toks;
  size_t end = line.size();
  while (toks.size() < 8 && end > 5) {
    size_t b = end;
    while (b > 5 && !IsBlank(line[b - 1])) --b;
    toks.push_back(line.substr(b, end - b));
    end = b;
    while (end > 5 && IsBlank(line[end - 1])) --end;
  }
  // toks[0] is the last token.
  size_t k = 0;
  const auto is_year = [](std::string_view t) {
    return t.size() == 4 && AllDigits(t);
  };
  const auto is_zone = [](std::string_view t) {
    int off;
    if (ParseNumericZone(t, true, &off)) return true;
    if (t.size() < 2 || t.size() > 5) return false;
    for (char c : t) {
      if (!(c >= 'A' && c <= 'Z')) return false;
    }
    return true;
  };
  if (toks.size() < 6) return false;
  if (!is_year(toks[k])) {
    if (!is_zone(toks[k])) return false;
    ++k;
    if (!is_year(toks[k])) return false;
  }
  const std::string_view year = toks[k++];
  if (is_zone(toks[k]) && !IsDigit(toks[k][0])) ++k;  // "hh:mm:ss EST 2004"
  if (k + 3 >= toks.size()) return false;
  const std::string_view clock = toks[k++];
  const std::string_view day = toks[k++];
  const std::string_view month = toks[k++];
  if (k >= toks.size()) return false;
  const std::string_view weekday = toks[k];
  int hh, mm, ss;
  // "hh:mm:ss"; "hh:mm" too when `without_seconds`.
  if (clock.size() < (without_seconds ? 4u : 7u) ||
      !ParseClock(clock, &hh, &mm, &ss)) {
    return false;
  }
  if (day.empty() || day.size() > 2 || !AllDigits(day)) return false;
  const int m = MonthFromName(month);
  if (month.size() != 3 || m == 0) return false;
  if (weekday.size() != 3 || !IsWeekdayName(weekday)) return false;
  // The address is everything between "From " and the weekday.
  const size_t wd_pos = static_cast<size_t>(weekday.data() - line.data());
  std::string_view addr = line.substr(5, wd_pos - 5);
  while (!addr.empty() && IsBlank(addr.back())) addr.remove_suffix(1);
  while (!addr.empty() && IsBlank(addr.front())) addr.remove_prefix(1);
  if (addr.empty()) return false;
  const int d = ToInt(day);
  if (d < 1 || d > 31) return false;
  sep->address = addr;
  sep->obfuscated = addr.find(' ') != std::string_view::npos;
  sep->time = DaysFromCivil(ToInt(year), static_cast<unsigned>(m),
                            static_cast<unsigned>(d)) *
                  86400 +
              hh * 3600 + mm * 60 + ss;
  return true;
}

// Recognises the separator some exporters write with an RFC 2822 date:
// "From <addr> [Www,] d Mmm yyyy hh:mm[:ss] [zone] [(comment)]", the
// address one token with an '@' (or "-", MAILER-DAEMON). Strict, like
// ParseSeparator: every token must be where the form says.
bool ParseRfc2822Separator(std::string_view line, Separator* sep) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  while (!line.empty() && IsBlank(line.back())) line.remove_suffix(1);
  // A trailing comment, as Date: headers have it: "+0100 (CET)".
  if (!line.empty() && line.back() == ')') {
    const size_t open = line.rfind('(');
    if (open == std::string_view::npos || open < 6) return false;
    line = line.substr(0, open);
    while (!line.empty() && IsBlank(line.back())) line.remove_suffix(1);
  }
  std::vector<std::string_view> toks;
  size_t i = 5;
  while (i < line.size() && toks.size() < 9) {
    while (i < line.size() && IsBlank(line[i])) ++i;
    size_t j = i;
    while (j < line.size() && !IsBlank(line[j])) ++j;
    if (j > i) toks.push_back(line.substr(i, j - i));
    i = j;
  }
  if (i < line.size() || toks.size() < 5) return false;
  size_t k = 0;
  const std::string_view addr = toks[k++];
  // As exporters write it: an address, or "-" / MAILER-DAEMON.
  if (addr.find('@') == std::string_view::npos && addr != "-" &&
      addr != "MAILER-DAEMON") {
    return false;
  }
  std::string_view wd = toks[k];
  if (!wd.empty() && wd.back() == ',') wd.remove_suffix(1);
  if (wd.size() == 3 && IsWeekdayName(wd)) ++k;
  if (toks.size() - k < 4 || toks.size() - k > 5) return false;
  const std::string_view day = toks[k], month = toks[k + 1],
                         year = toks[k + 2], clock = toks[k + 3];
  if (day.empty() || day.size() > 2 || !AllDigits(day)) return false;
  const int m = MonthFromName(month);
  if (month.size() != 3 || m == 0) return false;
  if (year.size() != 4 || !AllDigits(year)) return false;
  int hh, mm, ss;
  if (clock.size() < 4 || !ParseClock(clock, &hh, &mm, &ss)) return false;
  int zone = 0;
  if (toks.size() - k == 5 && !ParseNumericZone(toks[k + 4], true, &zone) &&
      !NamedZoneOffset(toks[k + 4], &zone)) {
    // A zone name the table lacks counts as UTC, as in Date: headers.
    const std::string_view z = toks[k + 4];
    if (z.empty() || z.size() > 5) return false;
    for (char c : z) {
      if (!(c >= 'A' && c <= 'Z')) return false;
    }
  }
  const int d = ToInt(day);
  const int y = ToInt(year);
  if (d < 1 || d > 31 || y < 1970 || y > 2200) return false;
  sep->address = addr;
  sep->obfuscated = false;
  sep->time = DaysFromCivil(y, static_cast<unsigned>(m),
                            static_cast<unsigned>(d)) *
                  86400 +
              hh * 3600 + mm * 60 + ss - zone;
  return true;
}

std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (IsBlank(s[b]) || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (IsBlank(s[e - 1]) || s[e - 1] == '\r' || s[e - 1] == '\n'))
    --e;
  return s.substr(b, e - b);
}

struct Header {
  std::string name;  // lower-cased
  std::string value;
};

// A header line: a field name of printable ASCII without blanks or ':',
// then ':'. Returns the name's length, or 0.
size_t HeaderNameLength(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && line[i] > ' ' && line[i] < 127 && line[i] != ':') {
    ++i;
  }
  return (i > 0 && i < line.size() && line[i] == ':') ? i : 0;
}

const std::string* FindHeader(const std::vector<Header>& headers,
                              std::string_view name) {
  for (const Header& h : headers) {
    if (h.name == name) return &h.value;
  }
  return nullptr;
}

// Splits raw header text (lines joined by '\n') into headers, unfolding
// continuation lines. Returns false when the first line is not a header.
bool ParseHeaderBlock(std::string_view block, std::vector<Header>* headers) {
  size_t pos = 0;
  while (pos < block.size()) {
    size_t nl = block.find('\n', pos);
    if (nl == std::string_view::npos) nl = block.size();
    std::string_view line = block.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty() && IsBlank(line[0])) {
      if (headers->empty()) return false;
      headers->back().value.append(line);  // unfold, keeping the blank
      continue;
    }
    const size_t n = HeaderNameLength(line);
    if (n == 0) {
      if (headers->empty()) return false;
      continue;  // junk line inside a header block: ignore it
    }
    Header h;
    h.name = AsciiLower(line.substr(0, n));
    h.value = std::string(Trim(line.substr(n + 1)));
    headers->push_back(std::move(h));
  }
  return !headers->empty();
}

// A Content-Type value: "type/subtype; name=value; …".
struct ContentType {
  std::string type;  // lower-cased "text/plain"; empty when absent
  std::string charset;
  std::string boundary;
};

ContentType ParseContentType(std::string_view v) {
  ContentType ct;
  size_t semi = v.find(';');
  ct.type = AsciiLower(Trim(v.substr(0, semi)));
  while (semi != std::string_view::npos) {
    size_t p = semi + 1;
    while (p < v.size() && (IsBlank(v[p]) || v[p] == '\r' || v[p] == '\n')) {
      ++p;
    }
    const size_t eq = v.find('=', p);
    if (eq == std::string_view::npos) break;
    const std::string name = AsciiLower(Trim(v.substr(p, eq - p)));
    std::string value;
    size_t q = eq + 1;
    while (q < v.size() && IsBlank(v[q])) ++q;
    if (q < v.size() && v[q] == '"') {
      ++q;
      while (q < v.size() && v[q] != '"') {
        if (v[q] == '\\' && q + 1 < v.size()) ++q;
        value.push_back(v[q++]);
      }
      semi = v.find(';', q);
    } else {
      semi = v.find(';', q);
      value = std::string(Trim(v.substr(q, semi == std::string_view::npos
                                               ? std::string_view::npos
                                               : semi - q)));
    }
    if (name == "charset") ct.charset = value;
    if (name == "boundary") ct.boundary = value;
  }
  return ct;
}

// Removes the transfer encoding named by the headers.
std::string DecodeTransfer(const std::vector<Header>& headers,
                           std::string_view body) {
  const std::string* cte = FindHeader(headers, "content-transfer-encoding");
  if (cte != nullptr) {
    const std::string enc = AsciiLower(Trim(*cte));
    if (enc == "quoted-printable") return DecodeQuotedPrintable(body);
    if (enc == "base64") return DecodeBase64(body);
  }
  return std::string(body);
}

// Whether `s` holds anything but white space.
bool HasText(std::string_view s) {
  for (char c : s) {
    if (!IsBlank(c) && c != '\n' && c != '\r') return true;
  }
  return false;
}

// The text of one MIME entity. Plain text parts are collected into
// *plain, HTML parts (converted to text) into *html; the caller falls back
// to HTML only when there is no plain text.
void CollectText(const std::vector<Header>& headers, std::string_view body,
                 int depth, std::string* plain, std::string* html) {
  const std::string* ct_value = FindHeader(headers, "content-type");
  const ContentType ct = ct_value ? ParseContentType(*ct_value) : ContentType{};
  if (ct.type.rfind("multipart/", 0) == 0 && !ct.boundary.empty() &&
      depth < 8) {
    const std::string delim = "--" + ct.boundary;
    // Parts lie between delimiter lines; the preamble and epilogue are
    // dropped.
    size_t pos = 0;
    size_t part_begin = std::string_view::npos;
    const bool alternative = ct.type == "multipart/alternative";
    std::string alt_plain, alt_html;
    while (pos <= body.size()) {
      size_t nl = body.find('\n', pos);
      if (nl == std::string_view::npos) nl = body.size();
      std::string_view line = body.substr(pos, nl - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      const bool is_delim = line.size() >= delim.size() &&
                            line.compare(0, delim.size(), delim) == 0;
      if (is_delim) {
        if (part_begin != std::string_view::npos) {
          std::string_view part = body.substr(part_begin, pos - part_begin);
          const size_t hdr_end = part.find("\n\n");
          std::vector<Header> part_headers;
          std::string_view part_body;
          if (part.rfind("\n", 0) == 0) {
            part_body = part.substr(1);  // no headers: text/plain
          } else if (hdr_end != std::string_view::npos &&
                     ParseHeaderBlock(part.substr(0, hdr_end), &part_headers)) {
            part_body = part.substr(hdr_end + 2);
          } else {
            part_body = part;
          }
          std::string* p = alternative ? &alt_plain : plain;
          std::string* h = alternative ? &alt_html : html;
          // An alternative's blank text/plain part (some mailers send
          // one beside the HTML that holds the message) does not hide the
          // HTML.
          if (!alternative || !HasText(*p)) {
            CollectText(part_headers, part_body, depth + 1, p, h);
          }
        }
        const bool closing = line.size() >= delim.size() + 2 &&
                             line.compare(delim.size(), 2, "--") == 0;
        part_begin = closing ? std::string_view::npos : nl + 1;
        if (closing) break;
      }
      pos = nl + 1;
    }
    if (part_begin != std::string_view::npos && part_begin < body.size()) {
      // Unterminated last part: take what is there.
      std::string_view part = body.substr(part_begin);
      const size_t hdr_end = part.find("\n\n");
      std::vector<Header> part_headers;
      if (hdr_end != std::string_view::npos &&
          ParseHeaderBlock(part.substr(0, hdr_end), &part_headers)) {
        CollectText(part_headers, part.substr(hdr_end + 2), depth + 1,
                    alternative ? &alt_plain : plain,
                    alternative ? &alt_html : html);
      }
    }
    if (alternative) {
      if (HasText(alt_plain)) {
        plain->append(alt_plain);
      } else {
        html->append(alt_html);
      }
    }
    return;
  }
  if (ct.type == "message/rfc822" && depth < 8) {
    const size_t hdr_end = body.find("\n\n");
    std::vector<Header> inner;
    if (hdr_end != std::string_view::npos &&
        ParseHeaderBlock(body.substr(0, hdr_end), &inner)) {
      CollectText(inner, body.substr(hdr_end + 2), depth + 1, plain, html);
    }
    return;
  }
  const std::string* disp = FindHeader(headers, "content-disposition");
  const bool attachment =
      disp != nullptr && StartsWithNoCase(Trim(*disp), "attachment");
  const bool is_plain =
      ct.type.empty() || ct.type == "text/plain" ||
      (ct.type.rfind("text/", 0) == 0 && ct.type != "text/html" && !attachment);
  if (ct.type == "text/html") {
    const std::string decoded =
        CharsetToUtf8(DecodeTransfer(headers, body), ct.charset);
    if (!html->empty()) html->append("\n");
    html->append(HtmlToText(decoded));
    return;
  }
  if (!is_plain) return;  // images, application/*, …
  if (attachment && ct.type != "text/plain") return;
  if (!plain->empty() && plain->back() != '\n') plain->append("\n");
  // A base64 or quoted-printable part carries its line ends encoded, as
  // the standard writes them ("\r\n"): the mbox lines lost their "\r", the
  // decoded text must too.
  const std::string text =
      CharsetToUtf8(DecodeTransfer(headers, body), ct.charset);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r') {
      plain->push_back(text[i]);
    } else if (i + 1 == text.size() || text[i + 1] != '\n') {
      plain->push_back('\n');  // a lone "\r": an old Mac line end
    }
  }
}

// Parses "addr (Name)", "Name <addr>", "\"Name\" <addr>" or "addr".
void ParseFromHeader(std::string_view value, std::string* address,
                     std::string* name) {
  value = Trim(value);
  const size_t lt = value.rfind('<');
  const size_t gt = value.rfind('>');
  if (lt != std::string_view::npos && gt != std::string_view::npos && gt > lt) {
    *address = std::string(Trim(value.substr(lt + 1, gt - lt - 1)));
    std::string_view n = Trim(value.substr(0, lt));
    if (n.size() >= 2 && n.front() == '"' && n.back() == '"') {
      n = n.substr(1, n.size() - 2);
    }
    *name = std::string(Trim(n));
    return;
  }
  const size_t open = value.find('(');
  if (open != std::string_view::npos && !value.empty() && value.back() == ')') {
    *address = std::string(Trim(value.substr(0, open)));
    *name = std::string(Trim(value.substr(open + 1, value.size() - open - 2)));
    return;
  }
  *address = std::string(value);
  name->clear();
}

bool LooksLikeAddress(std::string_view deobfuscated) {
  return deobfuscated.find('@') != std::string_view::npos &&
         deobfuscated.find(' ') == std::string_view::npos;
}

// A list's DMARC rewrite of the From header: Mailman's "Name via List"
// <list@host> (pipermail: "list at host (Name via List)") and Google
// Groups' "'Name' via group" <group@googlegroups.com>. When `name` is such
// a name for `address` (the list's own address: its local part is List
// but for case and the separators ' ', '-', '_' and '.', as "Python Ideas"
// for python-ideas; letters that the post-2018 pipermail mangling replaced
// by '@' or '|' match any), sets *writer to the writer's name ("Name",
// without Google's quotes) and returns true.
bool ListRewrittenName(std::string_view name, std::string_view address,
                       std::string* writer) {
  constexpr std::string_view kVia = " via ";
  const size_t via = name.rfind(kVia);
  if (via == std::string_view::npos || via == 0) return false;
  const std::string_view list = name.substr(via + kVia.size());
  const auto separator = [](char c) {
    return c == ' ' || c == '-' || c == '_' || c == '.';
  };
  size_t a = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    if (separator(list[i])) continue;
    while (a < address.size() && separator(address[a])) ++a;
    if (a >= address.size()) return false;
    const char c = address[a++];
    if (c != AsciiLower(list[i]) && c != '@' && c != '|') return false;
  }
  while (a < address.size() && separator(address[a])) ++a;
  if (a == 0 || a >= address.size() || address[a] != '@') return false;
  std::string_view who = Trim(name.substr(0, via));
  if (who.size() >= 2 && who.front() == '\'' && who.back() == '\'') {
    who = Trim(who.substr(1, who.size() - 2));
  }
  if (who.empty()) return false;
  *writer = std::string(who);
  return true;
}

// The id between v[lt] == '<' and v[gt] == '>', without the doubled
// brackets some mailers write ("<<id>>").
std::string IdBetween(std::string_view v, size_t lt, size_t gt) {
  std::string_view id = Trim(v.substr(lt + 1, gt - lt - 1));
  while (!id.empty() && id.front() == '<') id.remove_prefix(1);
  while (!id.empty() && id.back() == '>') id.remove_suffix(1);
  return std::string(Trim(id));
}

// The first "<…>" id in a header value, without brackets; when there is
// none and `bare_ok`, the first word.
std::string FirstId(std::string_view v, bool bare_ok) {
  const size_t lt = v.find('<');
  if (lt != std::string_view::npos) {
    const size_t gt = v.find('>', lt + 1);
    if (gt != std::string_view::npos) return IdBetween(v, lt, gt);
  }
  if (!bare_ok) return "";
  v = Trim(v);
  size_t e = 0;
  while (e < v.size() && !IsBlank(v[e])) ++e;
  return std::string(v.substr(0, e));
}

std::string LastId(std::string_view v) {
  const size_t gt = v.rfind('>');
  if (gt == std::string_view::npos) return "";
  size_t lt = v.rfind('<', gt);
  if (lt == std::string_view::npos) return "";
  // "<<id>>": the id starts after the first of the brackets.
  while (lt > 0 && v[lt - 1] == '<') --lt;
  return IdBetween(v, lt, gt);
}

// The thread hint of a message (Item::thread_hint): the first "<…>" id of
// its References that is neither its parent nor itself, else "". RFC 5322
// puts the thread's first message first in References (jwz and notmuch
// thread from it): the ancestor most likely to be in an archive, since
// archives cut threads at their start (month files, a list's first day)
// less often than in the middle, and one id for every reply of a thread,
// so that replies whose parents are missing all meet in the same thread.
// The nearest known ancestor would be better, but which are known is not
// known here: files come in any order.
std::string ThreadHint(std::string_view refs, std::string_view parent,
                       std::string_view self) {
  size_t pos = 0;
  while (pos < refs.size()) {
    const size_t lt = refs.find('<', pos);
    if (lt == std::string_view::npos) break;
    const size_t gt = refs.find('>', lt + 1);
    if (gt == std::string_view::npos) break;
    const std::string id = IdBetween(refs, lt, gt);
    pos = gt + 1;
    if (id.empty() || id == parent || id == self) continue;
    return id;
  }
  return "";
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Whether `stem` (a file name without ".txt" or ".mbox") names an archive
// period: Mailman 2 pipermail's "2003" (yearly), "2003q1" (quarterly),
// "2003-January" (monthly), "Week-of-Mon-20030106" (weekly) or "20030106"
// (daily), or GNU's "2020-01" and Apache's "202001" (monthly).
bool IsPipermailPeriod(std::string_view stem) {
  constexpr std::string_view kWeekly = "Week-of-Mon-";
  const bool weekly = stem.substr(0, kWeekly.size()) == kWeekly;
  if (weekly) stem.remove_prefix(kWeekly.size());
  if (stem.size() < 4 || !AllDigits(stem.substr(0, 4))) return false;
  const std::string_view rest = stem.substr(4);
  if (rest.size() == 4 && AllDigits(rest)) return true;  // YYYYMMDD
  if (weekly) return false;
  if (rest.empty()) return true;
  if (rest.size() == 2 && rest[0] == 'q') {
    return rest[1] >= '1' && rest[1] <= '4';
  }
  // "2020-01": GNU's monthly mbox archives (lists.gnu.org/archive/mbox/);
  // "202001": Apache's (mod_mbox's "202001.mbox").
  const std::string_view month =
      rest.size() == 3 && rest[0] == '-' ? rest.substr(1) : rest;
  if (month.size() == 2 && AllDigits(month)) {
    const int m = ToInt(month);
    return m >= 1 && m <= 12;
  }
  return rest[0] == '-' && MonthFromName(rest.substr(1)) != 0;
}

// The list name when neither the caller nor a List-Id header gives one: a
// monthly or other period's archive ("2003-January.txt.gz", "2003q1.txt",
// GNU's "2020-01", Apache's "202001.mbox") is named after its directory
// ("r-help");
// anything else after the file's stem.
std::string ListFromPath(const std::string& path) {
  // A stream without a file ("<stdin>") names no list.
  if (!path.empty() && path.front() == '<' && path.back() == '>') return "";
  // A path given relative ("2003-January.txt" in the list's folder,
  // "./2003-January.txt", "r-devel/./2003-January.txt") has its folder's
  // name only once made absolute and normal.
  std::filesystem::path p(path);
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(p, ec);
  if (!ec) p = absolute.lexically_normal();
  std::string file = p.filename().string();
  for (std::string_view ext : {".gz", ".zst", ".bz2", ".xz"}) {
    if (EndsWith(file, ext)) {
      file.resize(file.size() - ext.size());
      break;
    }
  }
  std::string_view stem = file;
  for (std::string_view ext : {".txt", ".mbox"}) {
    if (EndsWith(stem, ext)) {
      stem.remove_suffix(ext.size());
      break;
    }
  }
  if (IsPipermailPeriod(stem)) {
    const std::string dir = p.parent_path().filename().string();
    if (!dir.empty()) return dir;
  }
  const size_t dot = file.rfind('.');
  if (dot != std::string::npos && dot > 0) file.resize(dot);
  return file;
}

// A list's name from its List-Id, "r-help.r-project.org": the label before
// the domain ("r-help"). Names that many hosts' lists share ("dev" of
// dev.spark.apache.org and dev.kafka.apache.org) keep the whole id, so
// different lists stay apart.
std::string ListFromListId(std::string_view v) {
  std::string id = AsciiLower(FirstId(v, /*bare_ok=*/true));
  const size_t dot = id.find('.');
  if (dot == std::string::npos) return id;
  static const std::set<std::string_view> kShared = {
      "announce", "bugs",  "builds",   "commits",  "community", "dev",
      "devel",    "discuss", "docs",   "general",  "github",    "help",
      "issues",   "jira",  "notifications", "patches", "private", "reviews",
      "security", "support", "user",   "users"};
  if (kShared.count(std::string_view(id).substr(0, dot))) return id;
  id.resize(dot);
  return id;
}

class MboxParser {
 public:
  MboxParser(InputStream& in, const std::string& list, const ReadCallbacks& cb)
      : in_(in), list_(list), cb_(cb) {}

  Status Run() {
    std::string line;
    bool too_long = false;
    bool any_content = false;
    uint64_t preamble_line = 0;
    // Whether the line before was blank (or the file starts here): where a
    // separator of the rarer forms may stand.
    bool after_blank = true;
    while (in_.ReadLine(&line, &too_long)) {
      const bool may_be_rare = after_blank;
      after_blank = Trim(line).empty();
      // A UTF-8 byte order mark (editors on Windows add one) is not part
      // of the first separator.
      if (in_.line_number() == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) {
        line.erase(0, 3);
      }
      if (line.size() >= 5 && memcmp(line.data(), "From ", 5) == 0) {
        Separator sep;
        // The rarer forms (a ctime without seconds, an RFC 2822 date) only
        // after a blank line, as every real separator stands, and not in a
        // pipermail archive, which writes the full ctime and leaves body
        // lines starting with "From " unescaped.
        const bool rare_ok = may_be_rare && !(have_format_ && !classic_);
        if (ParseSeparator(line, &sep, /*without_seconds=*/rare_ok) ||
            (rare_ok && ParseRfc2822Separator(line, &sep))) {
          Finish();
          if (!have_format_) {
            have_format_ = true;
            classic_ = !sep.obfuscated;
          }
          StartMessage(sep);
          continue;
        }
      }
      if (!in_message_) {
        if (!Trim(line).empty()) {
          any_content = true;
          if (preamble_line == 0) preamble_line = in_.line_number();
        }
        continue;
      }
      if (too_long) {
        oversized_ = true;
        continue;
      }
      AddLine(line);
    }
    if (!in_.status().ok()) {
      // The stream broke mid-message: the partial message is not delivered.
      return in_.status();
    }
    Finish();
    if (!have_format_) {
      if (!any_content) return Status::OK();  // empty file
      return Status::InvalidArgument(in_.name() +
                                     ": mailbox with no separators");
    }
    if (preamble_line != 0) {
      Error(preamble_line, "text before the first message separator skipped");
    }
    return Status::OK();
  }

 private:
  void StartMessage(const Separator& sep) {
    in_message_ = true;
    in_headers_ = true;
    oversized_ = false;
    sep_line_ = in_.line_number();
    sep_address_ = std::string(sep.address);
    sep_time_ = sep.time;
    header_block_.clear();
    body_.clear();
  }

  void AddLine(std::string& line) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (in_headers_) {
      if (line.empty()) {
        in_headers_ = false;
        return;
      }
      // A first line that is no header means the message has none: the
      // block ends and everything is body (reported in Finish).
      if (header_block_.empty() && HeaderNameLength(line) == 0) {
        in_headers_ = false;
      } else {
        if (header_block_.size() + line.size() > kMaxMessageBytes) {
          oversized_ = true;
          return;
        }
        header_block_.append(line);
        header_block_.push_back('\n');
        return;
      }
    }
    if (oversized_) return;
    if (body_.size() + line.size() + 1 > kMaxMessageBytes) {
      oversized_ = true;
      body_.clear();
      body_.shrink_to_fit();
      return;
    }
    // mboxrd: ">From " (any number of '>') loses one '>' in classic mbox.
    if (classic_ && !line.empty() && line[0] == '>') {
      size_t i = 0;
      while (i < line.size() && line[i] == '>') ++i;
      if (line.compare(i, 5, "From ") == 0) {
        body_.append(line, 1, std::string::npos);
        body_.push_back('\n');
        return;
      }
    }
    body_.append(line);
    body_.push_back('\n');
  }

  void Error(uint64_t line, std::string message) {
    if (cb_.on_error) {
      cb_.on_error(ReadError{in_.name() + ":" + std::to_string(line),
                             std::move(message)});
    }
  }

  void Finish() {
    if (!in_message_) return;
    in_message_ = false;
    if (oversized_) {
      Error(sep_line_, "message larger than 64 MB skipped");
      return;
    }
    std::vector<Header> headers;
    if (!ParseHeaderBlock(header_block_, &headers)) {
      Error(sep_line_, "message has no headers");
      return;
    }
    Item item;
    item.source = Source::kMail;
    item.type = ItemType::kMessage;
    item.origin = in_.name() + ":" + std::to_string(sep_line_);

    // Header text. Raw 8-bit text (no encoded words: Russian and Japanese
    // mailers wrote subjects so) is in the charset the message's
    // Content-Type names, when it names one and the text is no UTF-8.
    const std::string* ct_value = FindHeader(headers, "content-type");
    const std::string charset =
        ct_value != nullptr ? ParseContentType(*ct_value).charset : "";
    const auto header_text = [&charset](std::string_view raw) {
      if (charset.empty() || IsValidUtf8(raw)) {
        return SanitizeUtf8(FoldWhitespace(DecodeRfc2047(raw)));
      }
      return SanitizeUtf8(
          FoldWhitespace(DecodeRfc2047(CharsetToUtf8(raw, charset))));
    };

    // Author.
    if (const std::string* from = FindHeader(headers, "from")) {
      std::string addr, name;
      ParseFromHeader(*from, &addr, &name);
      item.author = SanitizeUtf8(DeobfuscateAddress(addr));
      item.author_name = header_text(name);
      if (!LooksLikeAddress(item.author)) {
        // "From: Thomas Lumley": the header holds a name only.
        if (item.author_name.empty()) item.author_name = header_text(addr);
        item.author.clear();
      }
      std::string writer;
      if (ListRewrittenName(item.author_name, item.author, &writer)) {
        // The list rewrote From: the writer's address, when the message
        // kept it, is in X-Original-From (Google Groups), else in a
        // Reply-To naming the same person (Mailman); a pipermail archive
        // keeps neither, and the list's address stays the author.
        item.author_name = writer;
        const std::string* original = FindHeader(headers, "x-original-from");
        const std::string* reply_to = FindHeader(headers, "reply-to");
        for (const std::string* h : {original, reply_to}) {
          if (h == nullptr) continue;
          std::string a, n;
          ParseFromHeader(*h, &a, &n);
          a = SanitizeUtf8(DeobfuscateAddress(a));
          n = header_text(n);
          if (LooksLikeAddress(a) &&
              (h == original || EqualsNoCase(n, writer))) {
            item.author = a;
            break;
          }
        }
      }
    }
    if (item.author.empty()) {
      // Ten R-help messages have no address anywhere; their separator holds
      // a name, sometimes RFC 2047 encoded ("=?iso-8859-1?Q?Micha=EBl?=").
      item.author =
          SanitizeUtf8(DeobfuscateAddress(DecodeRfc2047(sep_address_)));
    }

    // Date, falling back to the separator's date (a ctime read as UTC; an
    // RFC 2822 date with its zone).
    const std::string* date = FindHeader(headers, "date");
    int64_t t = 0;
    if (date != nullptr && ParseMailDate(*date, &t)) {
      item.time = t;
    } else {
      item.time = sep_time_;
    }

    if (const std::string* subject = FindHeader(headers, "subject")) {
      item.title = header_text(*subject);
    }

    if (const std::string* mid = FindHeader(headers, "message-id")) {
      item.id = SanitizeUtf8(FirstId(*mid, /*bare_ok=*/true));
    }
    if (item.id.empty()) {
      // No Message-ID: synthesise a stable one from what identifies the
      // message, so re-reading the archive yields the same id.
      uint64_t h = Fnv1a64(item.author);
      h = Fnv1a64("\n", h);
      h = Fnv1a64(date != nullptr ? std::string_view(*date) : "", h);
      h = Fnv1a64("\n", h);
      h = Fnv1a64(item.title, h);
      char buf[32];
      snprintf(buf, sizeof(buf), "gen-%016llx",
               static_cast<unsigned long long>(h));
      item.id = buf;
    }

    if (const std::string* irt = FindHeader(headers, "in-reply-to")) {
      item.parent = SanitizeUtf8(FirstId(*irt, /*bare_ok=*/false));
      // Some mailers (R-help, 2000) encoded the whole header as one RFC
      // 2047 word: "=?iso-8859-1?Q?=3Cid=40host=3E=3B_from_?=".
      if (item.parent.empty() && irt->find("=?") != std::string::npos) {
        item.parent =
            SanitizeUtf8(FirstId(DecodeRfc2047(*irt), /*bare_ok=*/false));
      }
    }
    const std::string* refs = FindHeader(headers, "references");
    if (item.parent.empty() && refs != nullptr) {
      item.parent = SanitizeUtf8(LastId(*refs));
    }
    if (item.parent == item.id) item.parent.clear();
    if (!item.parent.empty() && refs != nullptr) {
      item.thread_hint = SanitizeUtf8(ThreadHint(*refs, item.parent, item.id));
    }

    if (!list_.empty()) {
      item.list = list_;
    } else if (const std::string* lid = FindHeader(headers, "list-id")) {
      item.list = ListFromListId(*lid);
    }
    if (item.list.empty()) {
      if (path_list_.empty()) path_list_ = ListFromPath(in_.name());
      item.list = path_list_;
    }

    std::string plain, html;
    CollectText(headers, body_, 0, &plain, &html);
    std::string text = HasText(plain) ? std::move(plain) : std::move(html);
    // A clear-signed message's armor and signature are not its text.
    if (text.find("-----BEGIN PGP ") != std::string::npos) {
      text = StripPgpArmor(text);
    }
    // Pipermail separates messages with blank lines; they are not content,
    // nor are blank lines before the first text (indentation is kept).
    size_t e = text.size();
    while (e > 0 && (text[e - 1] == '\n' || IsBlank(text[e - 1]))) --e;
    text.resize(e);
    size_t b = 0;
    for (size_t k = 0; k < text.size(); ++k) {
      if (text[k] == '\n') {
        b = k + 1;
      } else if (!IsBlank(text[k]) && text[k] != '\r') {
        break;
      }
    }
    text.erase(0, b);
    item.text = SanitizeUtf8(text);
    cb_.on_item(std::move(item));
  }

  InputStream& in_;
  const std::string& list_;
  const ReadCallbacks& cb_;
  bool have_format_ = false;
  bool classic_ = false;  // classic mbox: unescape ">From "
  bool in_message_ = false;
  bool in_headers_ = false;
  bool oversized_ = false;
  uint64_t sep_line_ = 0;
  std::string sep_address_;
  int64_t sep_time_ = 0;
  std::string header_block_;
  std::string body_;
  std::string path_list_;
};

}  // namespace

Status ReadMbox(InputStream& in, const std::string& list,
                const ReadCallbacks& cb) {
  MboxParser parser(in, list, cb);
  return parser.Run();
}

}  // namespace threadsearch
