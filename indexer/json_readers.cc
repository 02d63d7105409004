// Readers for the JSON formats: HN Firebase items, HN Algolia API responses,
// HN BigQuery JSON Lines and Reddit Pushshift NDJSON.
//
// Two layouts are read:
// - JSON Lines: one record a line, parsed line by line, so memory is bounded
//   by the longest line and one bad line costs only that record.
// - A whole document (an array, a pretty-printed object, or values one after
//   another as `jq .` prints them) read from the stream in chunks, one
//   top-level value at a time and a top-level array one element at a time,
//   so memory is bounded by the largest value (up to kMaxDocument bytes),
//   never by the file. Items then get the line where their object starts,
//   found by a scan that numbers every '{' of the value in order; the DOM is
//   parsed as ordered_json so a pre-order walk meets objects in that order.
//   `null` records (ids the HN API had no item for) are skipped in both.
// nlohmann's parser is not recursive, but walking a value recursively is;
// every text is pre-scanned and anything nested deeper than kMaxDepth is
// refused before parsing, and all walks here use explicit stacks.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/text.h"
#include "indexer/input_stream.h"
#include "indexer/json_readers_internal.h"
#include "indexer/readers.h"

namespace threadsearch {

namespace {

using Json = nlohmann::ordered_json;

constexpr size_t kMaxDocument = size_t{1} << 30;
constexpr size_t kMaxDepth = 2000;
// How far ahead the layout check looks for the end of the first line.
constexpr size_t kLayoutPeek = 1 << 20;

std::string Where(const InputStream& in, uint64_t line) {
  return in.name() + ":" + std::to_string(line);
}

// The state of a scan for the end of one JSON value, kept between calls so
// that the value can arrive in pieces.
struct ValueScan {
  size_t next = 0;       // Offset of the first byte not yet scanned.
  size_t depth = 0;      // Brackets open at `next`.
  size_t max_depth = 0;  // Deepest nesting met so far.
  bool in_string = false;
};

// A scalar ends at a space, bracket or quote; in an array also at its ','
// or ']'.
constexpr std::string_view kValueStops = " \t\n\r{[\"";
constexpr std::string_view kElementStops = " \t\n\r{[\",]";

// Scans the JSON value that starts at s[0] (not a space) on from st->next.
// Returns the offset just past its closing bracket or quote or, for a
// scalar, of the first of `stops`; npos when `s` ends first, with *st saying
// where to go on once more of the value is appended (a backslash at the end
// is scanned again, with the character it escapes). Brackets are counted,
// not matched: the parser reports a mismatch.
size_t ScanValue(std::string_view s, ValueScan* st, std::string_view stops) {
  const char kind = s[0];
  if (kind != '"' && kind != '{' && kind != '[') {
    const size_t end = s.find_first_of(stops, std::max<size_t>(st->next, 1));
    st->next = s.size();
    return end;
  }
  // Locals, not *st, in the loop: it runs over every byte of a document.
  size_t i = st->next, depth = st->depth, max_depth = st->max_depth;
  bool in_string = st->in_string;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        if (i + 1 == s.size()) break;
        ++i;
      } else if (c == '"') {
        in_string = false;
        if (kind == '"') return i + 1;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      max_depth = std::max(max_depth, ++depth);
    } else if ((c == '}' || c == ']') && --depth == 0) {
      st->max_depth = max_depth;
      return i + 1;
    }
  }
  *st = ValueScan{i, depth, max_depth, in_string};
  return std::string_view::npos;
}

// 1-based line of the '{' of every object in document order.
std::vector<uint32_t> ObjectLines(std::string_view s) {
  std::vector<uint32_t> lines;
  uint32_t line = 1;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\n') ++line;
    if (in_string) {
      if (c == '\\') {
        ++i;
        if (i < s.size() && s[i] == '\n') ++line;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      lines.push_back(line);
    }
  }
  return lines;
}

// The members whose array holds a wrapper's records: a search response's
// "hits", the post/comments wrapper's "comments", an API response's
// "data", an item tree's "children".
bool IsRecordArrayKey(std::string_view key) {
  return key == "hits" || key == "comments" || key == "data" ||
         key == "children";
}

// The key whose value starts at s[i], when s[i] is a member's value: the
// quoted string before the ':' before it; "" otherwise.
std::string_view KeyBefore(std::string_view s, size_t i) {
  size_t j = i;
  while (j > 0 && IsJsonSpace(s[j - 1])) --j;
  if (j == 0 || s[j - 1] != ':') return "";
  --j;
  while (j > 0 && IsJsonSpace(s[j - 1])) --j;
  if (j < 2 || s[j - 1] != '"') return "";
  const size_t end = j - 1;
  size_t k = end;
  while (k > 0 && s[k - 1] != '"') --k;
  if (k == 0) return "";
  return s.substr(k, end - k);
}

// A JSON object cut short (a saved response or a crawl whose download
// broke) that keeps its records in an array member (IsRecordArrayKey):
// sets *out to `s` up to the end of the last whole element of that array,
// with the brackets still open there closed, so the whole records before
// the cut can be read, and returns true. False when `s` is not an object,
// is not cut short, or no record of such an array ended before the cut.
bool CloseCutObject(std::string_view s, std::string* out) {
  if (s.empty() || s[0] != '{') return false;
  std::string open;  // Brackets open at i.
  std::string open_at_cut;
  size_t cut = 0;
  bool records = false;  // The array open at depth 2 holds records.
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') {
      i = JsonStringClose(s, i);
    } else if (c == '{' || c == '[') {
      if (open.size() == 1 && c == '[') {
        records = IsRecordArrayKey(KeyBefore(s, i));
      }
      open.push_back(c);
    } else if (c == '}' || c == ']') {
      if (open.empty()) return false;
      open.pop_back();
      if (open.empty()) return false;  // The object closes: not cut short.
      if (open.size() == 2 && records && open.back() == '[') {
        cut = i + 1;
        open_at_cut = open;
      }
    }
  }
  if (cut == 0) return false;
  out->assign(s.substr(0, cut));
  for (auto it = open_at_cut.rbegin(); it != open_at_cut.rend(); ++it) {
    out->push_back(*it == '{' ? '}' : ']');
  }
  return true;
}

// Value of the four hex digits at s[i], or -1.
int Hex4(std::string_view s, size_t i) {
  if (i + 4 > s.size()) return -1;
  int v = 0;
  for (size_t k = i; k < i + 4; ++k) {
    const int d = HexDigitValue(s[k]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// Python's json and Reddit dumps write UTF-16 surrogate escapes that are
// not half of a pair ("\ud83d" alone), which nlohmann refuses. When `s`
// has any, sets *out to `s` with each rewritten as "\ufffd" and returns
// true; pairs and an escaped backslash before "u" ("\\ud83d") are left
// alone.
bool ReplaceLoneSurrogates(std::string_view s, std::string* out) {
  size_t copied = 0;
  bool changed = false;
  for (size_t i = s.find('\\'); i != std::string_view::npos;
       i = s.find('\\', i)) {
    if (i + 1 >= s.size()) break;
    if (s[i + 1] != 'u') {
      i += 2;  // Any other escape, "\\" included.
      continue;
    }
    int u = Hex4(s, i + 2);
    if (u < 0xD800 || u > 0xDFFF) {
      i += 2;
      continue;
    }
    if (u <= 0xDBFF && i + 7 < s.size() && s[i + 6] == '\\' &&
        s[i + 7] == 'u') {
      int low = Hex4(s, i + 8);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        i += 12;
        continue;
      }
    }
    if (!changed) out->clear();
    changed = true;
    out->append(s.substr(copied, i - copied));
    out->append("\\ufffd");
    i += 6;
    copied = i;
  }
  if (changed) out->append(s.substr(copied));
  return changed;
}

// Parses one JSON text. On failure returns the reason (without location).
bool ParseJson(std::string_view text, Json* out, std::string* error) {
  size_t depth = JsonDepth(text, kMaxDepth);
  if (depth > kMaxDepth) {
    *error = "JSON nested deeper than " + std::to_string(kMaxDepth) + " levels";
    return false;
  }
  // Unpaired surrogates become U+FFFD, as invalid bytes do below.
  std::string fixed;
  if (ReplaceLoneSurrogates(text, &fixed)) text = fixed;
  try {
    // Real dumps carry stray invalid bytes; keep the record, with U+FFFD in
    // their place, rather than lose it.
    if (!IsValidUtf8(text)) {
      std::string clean = SanitizeUtf8(text);
      *out = Json::parse(clean.begin(), clean.end());
    } else {
      *out = Json::parse(text.begin(), text.end());
    }
  } catch (const Json::exception& e) {
    *error = std::string("invalid JSON: ") + e.what();
    return false;
  }
  return true;
}

// ---- Field access --------------------------------------------------------
// Getters return "" on success (or when the field is absent or null) and a
// message naming the field when its type is wrong. Numbers given as strings
// (BigQuery, old Pushshift dumps) are accepted.

std::string FieldError(std::string_view key, std::string_view expected) {
  return "field \"" + std::string(key) + "\": expected " +
         std::string(expected);
}

const Json* Field(const Json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

bool ParseIntString(std::string_view s, int64_t* out) {
  s = TrimAscii(s);
  if (s.empty()) return false;
  size_t i = 0;
  bool neg = false;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    i = 1;
  }
  if (i >= s.size()) return false;
  int64_t v = 0;
  size_t digits = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++digits) {
    if (v > (std::numeric_limits<int64_t>::max() - 9) / 10) return false;
    v = v * 10 + (s[i] - '0');
  }
  if (digits == 0) return false;
  // "1706745600.0": a float written as a string; the fraction must be
  // digits only.
  if (i < s.size() && s[i] == '.') {
    for (++i; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
    }
  }
  if (i != s.size()) return false;
  *out = neg ? -v : v;
  return true;
}

// *present tells whether a value was there.
std::string GetInt(const Json& obj, std::string_view key, int64_t* out,
                   bool* present = nullptr) {
  if (present != nullptr) *present = false;
  const Json* v = Field(obj, key);
  if (v == nullptr) return "";
  int64_t value;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() &&
        v->get<uint64_t>() >
            static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return FieldError(key, "integer");
    }
    value = v->get<int64_t>();
  } else if (v->is_number_float()) {
    double d = v->get<double>();
    if (!std::isfinite(d) || std::fabs(d) > 9.2e18) {
      return FieldError(key, "integer");
    }
    value = static_cast<int64_t>(d);
  } else if (v->is_string()) {
    if (!ParseIntString(v->get_ref<const std::string&>(), &value)) {
      return FieldError(key, "integer");
    }
  } else {
    return FieldError(key, "integer");
  }
  *out = value;
  if (present != nullptr) *present = true;
  return "";
}

bool ParseIso8601(std::string_view s, int64_t* out);

// A time in seconds since the epoch: as GetInt, or a string holding a UTC
// date-time (BigQuery's "2022-10-16 06:01:40 UTC", ISO 8601).
// A Unix time: seconds, or an ISO 8601 string. Exports that write
// milliseconds, microseconds or nanoseconds (pandas' to_json writes
// milliseconds) are read as seconds: no item is dated after the year 5000.
std::string GetTime(const Json& obj, std::string_view key, int64_t* out,
                    bool* present = nullptr) {
  const Json* v = Field(obj, key);
  int64_t t;
  if (v != nullptr && v->is_string() &&
      !ParseIntString(v->get_ref<const std::string&>(), &t) &&
      ParseIso8601(TrimAscii(v->get_ref<const std::string&>()), &t)) {
    *out = t;
    if (present != nullptr) *present = true;
    return "";
  }
  std::string e = GetInt(obj, key, out, present);
  if (e.empty()) {
    while (*out > 100'000'000'000 || *out < -100'000'000'000) *out /= 1000;
  }
  return e;
}

std::string GetString(const Json& obj, std::string_view key, std::string* out) {
  const Json* v = Field(obj, key);
  if (v == nullptr) return "";
  if (!v->is_string()) return FieldError(key, "string");
  *out = v->get<std::string>();
  return "";
}

// An id: a string, or an integer written in decimal. pandas writes
// nullable integer columns as floats ("parent": 33240000.0, or the string
// "33240000.0"); a whole number is read as the integer, a fraction is an
// error.
std::string GetId(const Json& obj, std::string_view key, std::string* out) {
  const Json* v = Field(obj, key);
  if (v == nullptr) return "";
  auto not_whole = [&] {
    return FieldError(key, "an integer id, got " + v->dump());
  };
  if (v->is_string()) {
    std::string_view s = TrimAscii(v->get_ref<const std::string&>());
    size_t dot = s.find('.');
    if (dot != std::string_view::npos && dot > 0 &&
        s.find_first_not_of("0123456789") == dot && dot + 1 < s.size() &&
        s.find_first_not_of("0123456789", dot + 1) == std::string_view::npos) {
      if (s.find_first_not_of('0', dot + 1) != std::string_view::npos) {
        return not_whole();
      }
      s = s.substr(0, dot);
    }
    *out = std::string(s);
    return "";
  }
  if (v->is_number_unsigned()) {
    *out = std::to_string(v->get<uint64_t>());
    return "";
  }
  if (v->is_number_integer()) {
    *out = std::to_string(v->get<int64_t>());
    return "";
  }
  if (v->is_number_float()) {
    // Beyond 2^53 a double no longer holds every integer exactly.
    constexpr double kExact = 9007199254740992.0;
    double d = v->get<double>();
    if (!std::isfinite(d) || std::fabs(d) > kExact || d != std::trunc(d)) {
      return not_whole();
    }
    *out = std::to_string(static_cast<int64_t>(d));
    return "";
  }
  return FieldError(key, "string or integer");
}

std::string GetBool(const Json& obj, std::string_view key, bool* out) {
  const Json* v = Field(obj, key);
  if (v == nullptr) return "";
  if (v->is_boolean()) {
    *out = v->get<bool>();
  } else if (v->is_number()) {
    *out = v->get<double>() != 0;
  } else if (v->is_string()) {
    // Python's str() writes "True" and "False".
    const std::string s = AsciiLower(v->get_ref<const std::string&>());
    if (s == "true" || s == "1") {
      *out = true;
    } else if (s == "false" || s == "0" || s.empty()) {
      *out = false;
    } else {
      return FieldError(key, "boolean");
    }
  } else {
    return FieldError(key, "boolean");
  }
  return "";
}

// Runs getters in order, keeping the first error.
class Fields {
 public:
  explicit Fields(const Json& obj) : obj_(obj) {}
  void Int(std::string_view key, int64_t* out, bool* present = nullptr) {
    Keep(GetInt(obj_, key, out, present));
  }
  void Time(std::string_view key, int64_t* out, bool* present = nullptr) {
    Keep(GetTime(obj_, key, out, present));
  }
  void Str(std::string_view key, std::string* out) {
    Keep(GetString(obj_, key, out));
  }
  void Id(std::string_view key, std::string* out) {
    Keep(GetId(obj_, key, out));
  }
  void Bool(std::string_view key, bool* out) { Keep(GetBool(obj_, key, out)); }
  const std::string& error() const { return error_; }

 private:
  void Keep(std::string e) {
    if (error_.empty() && !e.empty()) error_ = std::move(e);
  }
  const Json& obj_;
  std::string error_;
};

// "2013-11-27T02:18:36.000Z" (fraction and zone optional, "+hh:mm" too;
// BigQuery writes " UTC" for the zone).
bool ParseIso8601(std::string_view s, int64_t* out) {
  auto num = [&](size_t pos, size_t len, int* v) {
    if (pos + len > s.size()) return false;
    int r = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      r = r * 10 + (s[i] - '0');
    }
    *v = r;
    return true;
  };
  int y, mo, d, h, mi, sec;
  if (!num(0, 4, &y) || s.size() < 19 || s[4] != '-' || !num(5, 2, &mo) ||
      s[7] != '-' || !num(8, 2, &d) || (s[10] != 'T' && s[10] != ' ') ||
      !num(11, 2, &h) || s[13] != ':' || !num(14, 2, &mi) || s[16] != ':' ||
      !num(17, 2, &sec)) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) {
    return false;
  }
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  }
  int64_t offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (s.substr(i) == " UTC") {
    i = s.size();
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (!num(i + 1, 2, &oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !num(i + 4, 2, &om)) {
      return false;
    }
    offset = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
    i += 6;
  }
  if (i != s.size()) return false;
  *out = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) *
             86400 +
         h * 3600 + mi * 60 + sec - offset;
  return true;
}

// ---- Shared driver ---------------------------------------------------------

// Where each object of a whole document starts; empty for JSON Lines (the
// line is then the record's line).
class Locator {
 public:
  Locator(const InputStream& in, uint64_t line) : in_(in), line_(line) {}
  // For a value of a whole document, whose `text` starts on the line given
  // to the constructor: maps every object node to its line.
  void Index(const Json& root, std::string_view text) {
    std::vector<uint32_t> lines = ObjectLines(text);
    std::unordered_map<const Json*, uint64_t> map;
    std::vector<const Json*> stack{&root};
    size_t n = 0;
    while (!stack.empty()) {
      const Json* v = stack.back();
      stack.pop_back();
      if (v->is_object()) {
        if (n < lines.size()) map[v] = line_ - 1 + lines[n];
        ++n;
      }
      if (v->is_structured()) {
        // Push in reverse so children pop in document order.
        for (auto it = v->rbegin(); it != v->rend(); ++it) {
          if (it->is_structured()) stack.push_back(&*it);
        }
      }
    }
    // A duplicate key makes the counts differ; then lines are not trusted.
    if (n == lines.size()) map_ = std::move(map);
  }
  std::string Where(const Json& v) const {
    auto it = map_.find(&v);
    return threadsearch::Where(in_, it != map_.end() ? it->second : line_);
  }

 private:
  const InputStream& in_;
  uint64_t line_;
  std::unordered_map<const Json*, uint64_t> map_;
};

// Handles one parsed record (a line, or the whole document).
using RecordFn = void (*)(const Json& v, const Locator& loc,
                          const ReadCallbacks& cb);

void Report(const ReadCallbacks& cb, std::string where, std::string message) {
  if (cb.on_error) cb.on_error(ReadError{std::move(where), std::move(message)});
}

bool IsBlank(std::string_view s) { return TrimAscii(s).empty(); }

// Parses one value that starts on line `line` and hands it to `fn` (a
// `null` is skipped); an array's element is handed as a one-element array,
// as it was met when the whole array was handed on. False, with the
// parser's message in *error, when it does not parse.
bool ParseAndHand(const InputStream& in, std::string_view value, uint64_t line,
                  const ReadCallbacks& cb, RecordFn fn, std::string* error,
                  bool element = false) {
  Json v;
  if (!ParseJson(value, &v, error)) return false;
  if (v.is_null()) return true;
  if (element) {
    Json one = Json::array();
    one.push_back(std::move(v));
    v = std::move(one);
  }
  Locator loc(in, line);
  loc.Index(v, value);
  fn(v, loc, cb);
  return true;
}

// For a value that did not parse: when it is an object cut short
// (CloseCutObject), hands on the whole records before the cut and returns
// true; the caller reports the cut.
bool HandCutObject(const InputStream& in, std::string_view value,
                   uint64_t line, const ReadCallbacks& cb, RecordFn fn) {
  std::string closed, error;
  return CloseCutObject(value, &closed) &&
         ParseAndHand(in, closed, line, cb, fn, &error);
}

constexpr const char* kCutObject =
    "JSON object cut short (file cut short?); the whole records before the "
    "cut were read";

// JSON Lines: each non-blank line is a record.
Status ReadJsonLines(InputStream& in, const ReadCallbacks& cb, RecordFn fn) {
  std::string line;
  bool too_long = false;
  while (in.ReadLine(&line, &too_long)) {
    std::string where = Where(in, in.line_number());
    if (too_long) {
      Report(cb, where, "line too long, skipped");
      continue;
    }
    std::string_view text = line;
    if (in.line_number() == 1 && text.rfind("\xEF\xBB\xBF", 0) == 0) {
      text.remove_prefix(3);
    }
    if (IsBlank(text)) continue;
    Json v;
    std::string error;
    if (!ParseJson(text, &v, &error)) {
      // A saved response on one line, cut short: its whole records count.
      Report(cb, where,
             HandCutObject(in, text, in.line_number(), cb, fn) ? kCutObject
                                                                : error);
      continue;
    }
    // An id the HN API had no item for.
    if (v.is_null()) continue;
    Locator loc(in, in.line_number());
    fn(v, loc, cb);
  }
  return in.status();
}

// A JSON document read from a stream one value at a time: a window of the
// input from the value being read on, refilled in chunks, so memory is
// bounded by the largest value (max_value), never by the document.
class DocumentWindow {
 public:
  struct Value {
    std::string_view text;
    uint64_t line = 0;  // Where it starts.
    size_t depth = 0;   // How deep it nests.
    bool cut = false;   // The input ended first; the text is the rest of it.
  };

  DocumentWindow(InputStream& in, size_t max_value)
      : in_(in), max_value_(max_value) {}
  DocumentWindow(const DocumentWindow&) = delete;
  DocumentWindow& operator=(const DocumentWindow&) = delete;

  // Skips a byte order mark at the start.
  void SkipBom() {
    while (buf_.size() - pos_ < 3 && More()) {
    }
    if (std::string_view(buf_).substr(pos_).rfind("\xEF\xBB\xBF", 0) == 0) {
      pos_ += 3;
    }
  }
  // Skips white space (and commas, when `commas`). Returns false at the end
  // of the input.
  bool SkipSpace(bool commas) {
    for (;;) {
      for (; pos_ < buf_.size(); ++pos_) {
        const char c = buf_[pos_];
        if (!IsJsonSpace(c) && !(commas && c == ',')) return true;
        if (c == '\n') ++line_;
      }
      if (!More()) return false;
    }
  }
  // The next byte. REQUIRES: SkipSpace returned true.
  char front() const { return buf_[pos_]; }
  // The line of the next byte.
  uint64_t line() const { return line_; }
  // The value at the front (a scalar ends at one of `stops`); its text
  // stays valid until the next call other than Skip. Nothing is consumed.
  // InvalidArgument naming its line when it runs on past max_value bytes.
  // REQUIRES: SkipSpace returned true.
  Result<Value> NextValue(std::string_view stops) {
    Value v;
    v.line = line_;
    ValueScan st;
    for (;;) {
      const std::string_view rest = std::string_view(buf_).substr(pos_);
      const size_t end = ScanValue(rest, &st, stops);
      v.depth = st.max_depth;
      if (end != std::string_view::npos) {
        v.text = rest.substr(0, end);
        return v;
      }
      if (rest.size() > max_value_) {
        return Status::InvalidArgument(Where(in_, v.line) +
                                       ": JSON value larger than " +
                                       std::to_string(max_value_) +
                                       " bytes; the records before were read");
      }
      if (!More()) {
        v.text = std::string_view(buf_).substr(pos_);
        v.cut = true;
        return v;
      }
    }
  }
  // Consumes n bytes. REQUIRES: they are in the window (NextValue's text
  // or front()).
  void Skip(size_t n) {
    line_ += static_cast<uint64_t>(
        std::count(buf_.begin() + static_cast<ptrdiff_t>(pos_),
                   buf_.begin() + static_cast<ptrdiff_t>(pos_ + n), '\n'));
    pos_ += n;
  }
  // True when nothing follows (not even white space).
  bool AtEnd() { return pos_ == buf_.size() && !More(); }

 private:
  // Drops what was consumed and appends the next chunk; false at the end of
  // the input (or on a read error: see in_.status()).
  bool More() {
    buf_.erase(0, pos_);
    pos_ = 0;
    return in_.Read(&buf_, kReadChunk) > 0;
  }
  static constexpr size_t kReadChunk = 256 << 10;
  InputStream& in_;
  const size_t max_value_;
  std::string buf_;
  size_t pos_ = 0;
  uint64_t line_ = 1;
};

// Reads the array at the window's front one element at a time, each parsed
// alone, so a bad one is reported at its line and the others are read;
// `null`s are skipped. Returns Corruption naming the line when the input
// ends inside the array, or when an element nests deeper than kMaxDepth
// (counting the array), after the other whole elements were delivered;
// InvalidArgument when one is larger than the window's max_value; else
// OK, the window past the array's ']'.
Status ReadArrayElements(const InputStream& in, DocumentWindow& doc,
                         const ReadCallbacks& cb, RecordFn fn) {
  const auto cut = [&](uint64_t at) {
    // A truncated .gz says so itself.
    if (!in.status().ok()) return in.status();
    return Status::Corruption(Where(in, at) +
                              ": input ends inside a JSON array (file cut "
                              "short?); the records before were read");
  };
  std::string too_deep;  // Where the first element too deep starts.
  doc.Skip(1);
  for (;;) {
    if (!doc.SkipSpace(/*commas=*/true)) return cut(doc.line());
    if (doc.front() == ']') {
      doc.Skip(1);
      break;
    }
    Result<DocumentWindow::Value> v = doc.NextValue(kElementStops);
    if (!v.ok()) return v.status();
    if (v->cut && (v->text[0] == '{' || v->text[0] == '[')) {
      return cut(v->line);
    }
    std::string error;
    if (v->depth + 1 > kMaxDepth) {
      if (too_deep.empty()) too_deep = Where(in, v->line);
    } else if (!ParseAndHand(in, v->text, v->line, cb, fn, &error,
                             /*element=*/true)) {
      Report(cb, Where(in, v->line), error);
    }
    doc.Skip(v->text.size());
  }
  if (!too_deep.empty()) {
    return Status::Corruption(too_deep + ": JSON nested deeper than " +
                              std::to_string(kMaxDepth) +
                              " levels; the array's other records were read");
  }
  return Status::OK();
}

// A whole document: one value, or values one after another (`jq .` prints
// pretty objects so), read from the stream one value at a time and an
// array one element at a time (ReadArrayElements), so that no more than
// one value (at most max_value bytes) is held. Each value is parsed alone,
// so a bad one is reported at its line and the others are read; `null`s
// are skipped. A text that is one broken value is an error.
Status ReadJsonDocument(InputStream& in, const ReadCallbacks& cb, RecordFn fn,
                        size_t max_value) {
  DocumentWindow doc(in, max_value);
  doc.SkipBom();
  for (bool first = true; doc.SkipSpace(/*commas=*/false); first = false) {
    if (doc.front() == '[') {
      TS_RETURN_IF_ERROR(ReadArrayElements(in, doc, cb, fn));
      continue;
    }
    Result<DocumentWindow::Value> v = doc.NextValue(kValueStops);
    if (!v.ok()) return v.status();
    std::string error;
    if (ParseAndHand(in, v->text, v->line, cb, fn, &error)) {
      doc.Skip(v->text.size());
      continue;
    }
    // Only a value cut short can close as a cut object.
    if (v->cut && HandCutObject(in, v->text, v->line, cb, fn)) {
      return Status::Corruption(Where(in, v->line) + ": " + kCutObject);
    }
    doc.Skip(v->text.size());
    if (first && doc.AtEnd()) {
      return Status::Corruption(in.name() + ": " + error);
    }
    Report(cb, Where(in, v->line), error);
  }
  return in.status();
}

// Chooses the layout: a first line holding one object means JSON Lines;
// anything else (a '[' document, a pretty-printed object) is read whole.
Status ReadJsonAny(InputStream& in, const ReadCallbacks& cb, RecordFn fn,
                   size_t max_value = kMaxDocument) {
  std::string head = in.Peek(kLayoutPeek);
  // A stream that fails inside the window (a truncated .gz) is still read:
  // its good records come first, then its error.
  if (head.empty() && !in.status().ok()) return in.status();
  std::string_view s = head;
  if (s.rfind("\xEF\xBB\xBF", 0) == 0) s.remove_prefix(3);
  // Blank lines, and `null` records (ids the HN API had no item for),
  // before the first record are skipped.
  const size_t start = SkipJsonNulls(s, 0);
  if (start < s.size() && s[start] == '[') {
    return ReadJsonDocument(in, cb, fn, max_value);
  }
  size_t nl = s.find('\n', start);
  if (nl == std::string_view::npos) {
    // One line (or a first line longer than the peek): line by line still
    // works for a single record and keeps memory bounded.
    return ReadJsonLines(in, cb, fn);
  }
  // A first line that is one object (even a broken one) means JSON Lines;
  // a pretty-printed document's first line is "{" or "[".
  std::string_view first = TrimAscii(s.substr(start, nl - start));
  if (first.size() >= 2 && first.front() == '{' && first.back() == '}') {
    return ReadJsonLines(in, cb, fn);
  }
  return ReadJsonDocument(in, cb, fn, max_value);
}

// ---- HN Firebase items -----------------------------------------------------

bool HnItemFromJson(const Json& obj, Item* item, std::string* error) {
  Fields f(obj);
  item->source = Source::kHN;
  f.Id("id", &item->id);
  f.Str("by", &item->author);
  // The legacy BigQuery tables (hacker_news.stories, .comments) also name
  // the author "author".
  if (item->author.empty()) f.Str("author", &item->author);
  // BigQuery rows may have "timestamp" (the full table) or "time_ts" (the
  // legacy tables) instead.
  bool has_time = false;
  f.Time("time", &item->time, &has_time);
  if (!has_time) f.Time("timestamp", &item->time, &has_time);
  if (!has_time) f.Time("time_ts", &item->time);
  std::string type;
  f.Str("type", &type);
  f.Str("title", &item->title);
  f.Str("text", &item->text);
  f.Str("url", &item->url);
  f.Int("score", &item->points, &item->has_points);
  f.Id("parent", &item->parent);
  // The API gives a poll option "poll" (its poll) and no "parent"; the
  // option belongs to the poll's thread.
  if (item->parent.empty()) f.Id("poll", &item->parent);
  f.Int("descendants", &item->num_comments);
  bool deleted = false, dead = false;
  f.Bool("deleted", &deleted);
  f.Bool("dead", &dead);
  if (!f.error().empty()) {
    *error = f.error();
    return false;
  }
  if (const Json* kids = Field(obj, "kids")) {
    if (!kids->is_array()) {
      *error = FieldError("kids", "array");
      return false;
    }
    for (const Json& k : *kids) {
      if (k.is_number_integer()) {
        item->kids.push_back(k.is_number_unsigned()
                                 ? std::to_string(k.get<uint64_t>())
                                 : std::to_string(k.get<int64_t>()));
      } else if (k.is_string()) {
        item->kids.push_back(k.get<std::string>());
      } else {
        *error = FieldError("kids", "array of ids");
        return false;
      }
    }
  }
  if (item->id.empty()) {
    *error = "missing field \"id\"";
    return false;
  }
  item->text_html = true;
  item->deleted = deleted || dead;
  if (!type.empty()) {
    if (!ParseItemType(type, &item->type)) item->type = ItemType::kUnknown;
  } else if (!item->parent.empty()) {
    item->type = ItemType::kComment;
  }
  return true;
}

void EmitHn(const Json& obj, const Locator& loc, const ReadCallbacks& cb) {
  // An id the API had no item for, in an array of fetched items as on a
  // line of its own.
  if (obj.is_null()) return;
  std::string where = loc.Where(obj);
  if (!obj.is_object()) {
    Report(cb, where, "expected an item object");
    return;
  }
  // Users (GET /v0/user/NAME.json: "id" is the name, with "karma",
  // "created", "submitted") are not items; crawls keep them beside the
  // items.
  if (!obj.contains("type") && (obj.contains("karma") ||
                                obj.contains("submitted"))) {
    return;
  }
  Item item;
  std::string error;
  if (!HnItemFromJson(obj, &item, &error)) {
    Report(cb, where, error);
    return;
  }
  item.origin = std::move(where);
  cb.on_item(std::move(item));
}

// One item, an array of items, or {"post": item, "comments": [items]}.
void HandleHn(const Json& v, const Locator& loc, const ReadCallbacks& cb) {
  if (v.is_array()) {
    for (const Json& e : v) EmitHn(e, loc, cb);
    return;
  }
  if (v.is_object() && (v.contains("post") || v.contains("comments")) &&
      !v.contains("id")) {
    if (const Json* post = Field(v, "post")) EmitHn(*post, loc, cb);
    if (const Json* comments = Field(v, "comments")) {
      if (!comments->is_array()) {
        Report(cb, loc.Where(v), FieldError("comments", "array"));
        return;
      }
      for (const Json& c : *comments) EmitHn(c, loc, cb);
    }
    return;
  }
  EmitHn(v, loc, cb);
}

// ---- HN Algolia
// --------------------------------------------------------------

bool AlgoliaTime(const Json& obj, Item* item, std::string* error) {
  bool present = false;
  std::string e = GetTime(obj, "created_at_i", &item->time, &present);
  if (!e.empty()) {
    *error = e;
    return false;
  }
  if (present) return true;
  std::string iso;
  e = GetString(obj, "created_at", &iso);
  if (!e.empty()) {
    *error = e;
    return false;
  }
  if (!iso.empty() && !ParseIso8601(iso, &item->time)) {
    *error = FieldError("created_at", "ISO 8601 time");
    return false;
  }
  return true;
}

// A search hit: objectID, _tags, story_text/comment_text.
bool AlgoliaHitFromJson(const Json& obj, Item* item, std::string* error) {
  Fields f(obj);
  item->source = Source::kHN;
  f.Id("objectID", &item->id);
  f.Str("author", &item->author);
  f.Str("title", &item->title);
  f.Str("url", &item->url);
  std::string story_text, comment_text;
  f.Str("story_text", &story_text);
  f.Str("comment_text", &comment_text);
  f.Int("points", &item->points, &item->has_points);
  f.Int("num_comments", &item->num_comments);
  f.Id("parent_id", &item->parent);
  f.Id("story_id", &item->thread_hint);
  f.Str("story_title", &item->story_title);
  f.Str("story_url", &item->story_url);
  if (!f.error().empty()) {
    *error = f.error();
    return false;
  }
  if (!AlgoliaTime(obj, item, error)) return false;
  if (item->id.empty()) {
    *error = "missing field \"objectID\"";
    return false;
  }
  item->text =
      !comment_text.empty() ? std::move(comment_text) : std::move(story_text);
  item->text_html = true;
  if (const Json* tags = Field(obj, "_tags")) {
    if (!tags->is_array()) {
      *error = FieldError("_tags", "array");
      return false;
    }
    for (const Json& t : *tags) {
      ItemType type;
      if (t.is_string() && ParseItemType(t.get<std::string>(), &type) &&
          type != ItemType::kMessage && type != ItemType::kUnknown) {
        item->type = type;
        break;
      }
    }
  }
  if (item->type == ItemType::kUnknown && !item->parent.empty()) {
    item->type = ItemType::kComment;
  }
  // A story is its own thread; Algolia leaves story_id null on stories.
  if (item->thread_hint == item->id) item->thread_hint.clear();
  // story_title and story_url belong to replies (stories have them null).
  if (item->parent.empty() && item->thread_hint.empty()) {
    item->story_title.clear();
    item->story_url.clear();
  }
  return true;
}

// A node of an /api/v1/items/ID tree (children are handled by the caller).
bool AlgoliaNodeFromJson(const Json& obj, Item* item, std::string* error) {
  Fields f(obj);
  item->source = Source::kHN;
  f.Id("id", &item->id);
  std::string type;
  f.Str("type", &type);
  f.Str("author", &item->author);
  f.Str("title", &item->title);
  f.Str("url", &item->url);
  f.Str("text", &item->text);
  f.Int("points", &item->points, &item->has_points);
  f.Id("parent_id", &item->parent);
  f.Id("story_id", &item->thread_hint);
  if (!f.error().empty()) {
    *error = f.error();
    return false;
  }
  if (!AlgoliaTime(obj, item, error)) return false;
  if (item->id.empty()) {
    *error = "missing field \"id\"";
    return false;
  }
  if (!type.empty() && !ParseItemType(type, &item->type)) {
    item->type = ItemType::kUnknown;
  }
  if (item->type == ItemType::kUnknown && !item->parent.empty()) {
    item->type = ItemType::kComment;
  }
  item->text_html = true;
  if (item->thread_hint == item->id) item->thread_hint.clear();
  // The items API keeps deleted comments with author and text null.
  if (item->author.empty() && item->text.empty() && item->title.empty()) {
    item->deleted = true;
  }
  return true;
}

template <typename Fn>
void EmitWith(Fn fn, const Json& obj, const Locator& loc,
              const ReadCallbacks& cb) {
  std::string where = loc.Where(obj);
  Item item;
  std::string error;
  if (!fn(obj, &item, &error)) {
    Report(cb, where, error);
    return;
  }
  item.origin = std::move(where);
  cb.on_item(std::move(item));
}

// Search responses, hits, item trees, users (skipped) and the recorded
// [{"url", "reply"}] list, in any nesting of arrays; iterative.
void HandleAlgolia(const Json& root, const Locator& loc,
                   const ReadCallbacks& cb) {
  std::vector<const Json*> stack{&root};
  // Each poll option met in an "options" array, and its poll.
  std::unordered_map<const Json*, const Json*> poll_of;
  while (!stack.empty()) {
    const Json& v = *stack.back();
    stack.pop_back();
    auto push_reversed = [&](const Json& arr) {
      for (auto it = arr.rbegin(); it != arr.rend(); ++it)
        stack.push_back(&*it);
    };
    if (v.is_array()) {
      push_reversed(v);
      continue;
    }
    if (!v.is_object()) {
      Report(cb, loc.Where(v), "expected an Algolia response object");
      continue;
    }
    if (v.contains("reply")) {
      if (const Json* reply = Field(v, "reply")) stack.push_back(reply);
      continue;
    }
    if (v.contains("hits")) {
      const Json* hits = Field(v, "hits");
      if (hits != nullptr && !hits->is_array()) {
        Report(cb, loc.Where(v), FieldError("hits", "array"));
        continue;
      }
      if (hits != nullptr) {
        for (const Json& h : *hits) {
          if (!h.is_object()) {
            Report(cb, loc.Where(v), "expected a search hit object");
            continue;
          }
          EmitWith(AlgoliaHitFromJson, h, loc, cb);
        }
      }
      continue;
    }
    // Users are not items.
    if (v.contains("username") || v.contains("karma")) continue;
    if (v.contains("objectID")) {
      EmitWith(AlgoliaHitFromJson, v, loc, cb);
      continue;
    }
    if (v.contains("id")) {
      auto it = poll_of.find(&v);
      if (it == poll_of.end()) {
        EmitWith(AlgoliaNodeFromJson, v, loc, cb);
      } else {
        // A poll's option: its parent is the poll when it names none.
        const Json& poll = *it->second;
        auto option = [&poll](const Json& obj, Item* item,
                              std::string* error) {
          if (!AlgoliaNodeFromJson(obj, item, error)) return false;
          if (item->parent.empty()) {
            // A bad poll id was reported with the poll itself.
            GetId(poll, "id", &item->parent);
          }
          if (Field(obj, "type") == nullptr) item->type = ItemType::kPollOpt;
          return true;
        };
        EmitWith(option, v, loc, cb);
      }
      if (const Json* children = Field(v, "children")) {
        if (!children->is_array()) {
          Report(cb, loc.Where(v), FieldError("children", "array"));
        } else {
          push_reversed(*children);
        }
      }
      // A poll's options ("options", not "children"), pushed last so they
      // come before its comments.
      if (const Json* options = Field(v, "options")) {
        if (!options->is_array()) {
          Report(cb, loc.Where(v), FieldError("options", "array"));
          continue;
        }
        for (auto o = options->rbegin(); o != options->rend(); ++o) {
          poll_of[&*o] = &v;
          stack.push_back(&*o);
        }
      }
      continue;
    }
    Report(cb, loc.Where(v), "not an Algolia search response, hit or item");
  }
}

// ---- HN BigQuery -----------------------------------------------------------

void HandleBigQuery(const Json& v, const Locator& loc,
                    const ReadCallbacks& cb) {
  if (v.is_array()) {
    for (const Json& e : v) HandleBigQuery(e, loc, cb);
    return;
  }
  // Same columns as the Firebase API, all values strings: the HN getters
  // read numbers from strings.
  EmitHn(v, loc, cb);
}

// ---- Reddit Pushshift ------------------------------------------------------

// "t1_abc" → "abc"; ids without a kind prefix stay as they are.
std::string StripFullname(std::string s) {
  if (s.size() > 3 && s[0] == 't' && s[1] >= '1' && s[1] <= '9' &&
      s[2] == '_') {
    s.erase(0, 3);
  }
  return s;
}

// Reddit's JSON escapes &, < and > in markdown bodies (older dumps
// especially): undo exactly those.
std::string UnescapeRedditMarkdown(const std::string& s) {
  if (s.find('&') == std::string::npos) return s;
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '&') {
      if (s.compare(i, 5, "&amp;") == 0) {
        out.push_back('&');
        i += 4;
        continue;
      }
      if (s.compare(i, 4, "&lt;") == 0) {
        out.push_back('<');
        i += 3;
        continue;
      }
      if (s.compare(i, 4, "&gt;") == 0) {
        out.push_back('>');
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// The text of a markdown body or self post: the dump's escaping undone,
// then the character references that Reddit's markdown renders
// ("&#x200B;", which the new editor writes for every blank paragraph,
// "&nbsp;", "&amp;") decoded, so they are neither words nor shown as code.
std::string RedditMarkdownText(const std::string& s) {
  const std::string unescaped = UnescapeRedditMarkdown(s);
  if (unescaped.find('&') == std::string::npos) return unescaped;
  return DecodeHtmlEntities(unescaped);
}

bool IsRemoved(const std::string& s) {
  return s == "[deleted]" || s == "[removed]";
}

bool PushshiftFromJson(const Json& obj, Item* item, std::string* error) {
  Fields f(obj);
  item->source = Source::kReddit;
  f.Id("id", &item->id);
  f.Str("author", &item->author);
  f.Time("created_utc", &item->time);
  std::string body, selftext, parent_id, link_id;
  f.Str("body", &body);
  f.Str("selftext", &selftext);
  f.Str("title", &item->title);
  f.Str("url", &item->url);
  f.Id("parent_id", &parent_id);
  f.Id("link_id", &link_id);
  f.Int("score", &item->points, &item->has_points);
  f.Int("num_comments", &item->num_comments);
  f.Str("subreddit", &item->channel);
  // A comment from Reddit's API listings (and the dumps made from them)
  // carries its submission's title and link, as Algolia's story_title.
  std::string link_title, link_url;
  f.Str("link_title", &link_title);
  f.Str("link_url", &link_url);
  // Some dumps (and records cut down to a few fields) give only the
  // fullname, "t1_c0299an"; "id" wins when both are there.
  if (item->id.empty()) f.Id("name", &item->id);
  if (!f.error().empty()) {
    *error = f.error();
    return false;
  }
  if (item->id.empty()) {
    *error = "missing field \"id\" (and \"name\")";
    return false;
  }
  item->id = StripFullname(std::move(item->id));
  bool author_deleted = item->author == "[deleted]";
  if (author_deleted) item->author.clear();
  bool is_submission = Field(obj, "parent_id") == nullptr &&
                       (obj.contains("title") || obj.contains("selftext"));
  if (is_submission) {
    item->type = ItemType::kStory;
    // A submission's title stays visible after its author deletes it, so
    // only a removed body and author together mark it deleted.
    item->deleted = author_deleted && IsRemoved(selftext);
    // A removed or deleted self post keeps its title; "[removed]" is not
    // its text.
    if (!IsRemoved(selftext)) item->text = RedditMarkdownText(selftext);
    item->title = UnescapeRedditMarkdown(item->title);
  } else {
    item->type = ItemType::kComment;
    item->deleted = IsRemoved(body);
    item->text = RedditMarkdownText(body);
    item->url.clear();
    item->parent = StripFullname(std::move(parent_id));
    item->num_comments = -1;
    item->story_title = UnescapeRedditMarkdown(link_title);
    item->story_url = std::move(link_url);
  }
  item->thread_hint = StripFullname(std::move(link_id));
  if (item->thread_hint == item->id) item->thread_hint.clear();
  item->text_html = false;
  return true;
}

// Pushshift and Arctic Shift records, one a line or in arrays; a saved API
// response ({"data": [records…], "metadata": …}); and Reddit's own JSON,
// which Arctic Shift's comment trees keep too: a "Listing" whose
// data.children are {"kind": "t1" (comment) or "t3" (submission), "data":
// record}, each comment's replies a Listing again ("" when none). "more"
// stubs (ids not loaded), accounts (t2) and subreddits (t5) are not items.
// Iterative: replies nest as deep as the thread.
void HandlePushshift(const Json& root, const Locator& loc,
                     const ReadCallbacks& cb) {
  std::vector<const Json*> stack{&root};
  auto push_reversed = [&stack](const Json& arr) {
    for (auto it = arr.rbegin(); it != arr.rend(); ++it) stack.push_back(&*it);
  };
  while (!stack.empty()) {
    const Json& v = *stack.back();
    stack.pop_back();
    if (v.is_array()) {
      push_reversed(v);
      continue;
    }
    if (!v.is_object()) {
      Report(cb, loc.Where(v),
             "expected a Reddit comment or submission object");
      continue;
    }
    const Json* data = Field(v, "data");
    if (data != nullptr && data->is_array() && !v.contains("id")) {
      push_reversed(*data);
      continue;
    }
    const Json* record = &v;
    if (const Json* kind = Field(v, "kind");
        kind != nullptr && kind->is_string() && !v.contains("id")) {
      const std::string& k = kind->get_ref<const std::string&>();
      if (data == nullptr || !data->is_object()) {
        Report(cb, loc.Where(v), FieldError("data", "object"));
        continue;
      }
      if (k == "Listing") {
        const Json* children = Field(*data, "children");
        if (children != nullptr && !children->is_array()) {
          Report(cb, loc.Where(*data), FieldError("children", "array"));
        } else if (children != nullptr) {
          push_reversed(*children);
        }
        continue;
      }
      if (k != "t1" && k != "t3") continue;
      record = data;
    }
    EmitWith(PushshiftFromJson, *record, loc, cb);
    if (const Json* replies = Field(*record, "replies");
        replies != nullptr && replies->is_structured()) {
      stack.push_back(replies);
    }
  }
}

}  // namespace

Status ReadHnJson(InputStream& in, const ReadCallbacks& cb) {
  return ReadJsonAny(in, cb, HandleHn);
}

Status ReadHnJson(InputStream& in, const ReadCallbacks& cb, size_t max_value) {
  return ReadJsonAny(in, cb, HandleHn, max_value);
}

Status ReadAlgolia(InputStream& in, const ReadCallbacks& cb) {
  return ReadJsonAny(in, cb, HandleAlgolia);
}

Status ReadBigQuery(InputStream& in, const ReadCallbacks& cb) {
  return ReadJsonAny(in, cb, HandleBigQuery);
}

Status ReadPushshift(InputStream& in, const ReadCallbacks& cb) {
  return ReadJsonAny(in, cb, HandlePushshift);
}

Result<Item> ParseHnItemJson(std::string_view text) {
  Json v;
  std::string error;
  if (!ParseJson(text, &v, &error)) return Status::Corruption(error);
  if (v.is_null()) return Status::NotFound("null item");
  if (!v.is_object()) return Status::Corruption("expected an item object");
  Item item;
  if (!HnItemFromJson(v, &item, &error)) return Status::Corruption(error);
  return item;
}

}  // namespace threadsearch
