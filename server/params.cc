#include "server/params.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "common/text.h"

namespace threadsearch {

namespace {

Status Bad(const std::string& param, const std::string& what) {
  return Status::InvalidArgument(param + ": " + what);
}

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Characters the query language carries unquoted in a field value.
bool IsPlainName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
              c == '@';
    if (!ok) return false;
  }
  return true;
}

template <typename T>
void Intersect(std::optional<std::set<T>>* acc, const std::set<T>& group) {
  if (!acc->has_value()) {
    *acc = group;
    return;
  }
  std::set<T> out;
  for (const T& v : **acc) {
    if (group.count(v)) out.insert(v);
  }
  **acc = std::move(out);
}

enum class TagKind { kType, kAuthor, kStory, kTitle, kUnknown };

struct Tag {
  TagKind kind = TagKind::kUnknown;
  ItemType type = ItemType::kUnknown;
  std::string value;  // author (lower-cased), story id, or title phrase
};

Result<Tag> ParseTag(std::string_view raw) {
  std::string_view t = TrimAscii(raw);
  Tag tag;
  if (t.starts_with("author_")) {
    tag.kind = TagKind::kAuthor;
    tag.value = AsciiLower(t.substr(7));
    if (!IsPlainName(tag.value)) {
      return Bad("tags", "bad author in \"" + std::string(t) + "\"");
    }
  } else if (t.starts_with("story_")) {
    tag.kind = TagKind::kStory;
    tag.value = std::string(t.substr(6));
    if (!IsPlainName(tag.value)) {
      return Bad("tags", "bad story id in \"" + std::string(t) + "\"");
    }
  } else if (t == "ask_hn" || t == "show_hn") {
    tag.kind = TagKind::kTitle;
    tag.value = t == "ask_hn" ? "ask hn" : "show hn";
  } else if (ParseItemType(t, &tag.type) && tag.type != ItemType::kUnknown) {
    tag.kind = TagKind::kType;
  }
  return tag;
}

std::string Clause(const Tag& t) {
  switch (t.kind) {
    case TagKind::kType:
      return "type:" + std::string(ItemTypeName(t.type));
    case TagKind::kAuthor:
      return "author:" + t.value;
    case TagKind::kStory:
      return "thread:" + t.value;
    case TagKind::kTitle:
      return "title:\"" + t.value + "\"";
    case TagKind::kUnknown:
      break;
  }
  return "";
}

// Adds one OR group (already parsed) to the filter.
void AddGroup(const std::vector<Tag>& group, TagFilter* f) {
  std::vector<Tag> known;
  for (const Tag& t : group) {
    if (t.kind != TagKind::kUnknown) known.push_back(t);
  }
  if (known.empty()) {
    f->match_nothing = true;
    return;
  }
  TagKind kind = known[0].kind;
  bool same = true;
  for (const Tag& t : known) same = same && t.kind == kind;
  if (same && kind == TagKind::kType) {
    std::set<ItemType> s;
    for (const Tag& t : known) s.insert(t.type);
    Intersect(&f->types, s);
  } else if (same && kind == TagKind::kAuthor) {
    std::set<std::string> s;
    for (const Tag& t : known) s.insert(t.value);
    Intersect(&f->authors, s);
  } else if (same && kind == TagKind::kStory) {
    std::set<std::string> s;
    for (const Tag& t : known) s.insert(t.value);
    Intersect(&f->stories, s);
  } else {
    std::string c = "(";
    for (size_t i = 0; i < known.size(); ++i) {
      if (i) c += " OR ";
      c += Clause(known[i]);
    }
    c += ")";
    f->clauses.push_back(std::move(c));
  }
}

// Splits on commas outside parentheses.
Result<std::vector<std::string_view>> SplitTopLevel(std::string_view s) {
  std::vector<std::string_view> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || (s[i] == ',' && depth == 0)) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    } else if (s[i] == '(') {
      if (++depth > 1) return Bad("tags", "nested parentheses");
    } else if (s[i] == ')') {
      if (--depth < 0) return Bad("tags", "unbalanced parentheses");
    }
  }
  if (depth != 0) return Bad("tags", "unbalanced parentheses");
  return parts;
}

}  // namespace

Result<int64_t> ParseIntParam(std::string_view s, int64_t lo, int64_t hi,
                              const std::string& param) {
  s = TrimAscii(s);
  int64_t v = 0;
  bool neg = !s.empty() && s[0] == '-';
  std::string_view digits = neg ? s.substr(1) : s;
  if (!IsDigits(digits)) {
    return Bad(param, "expected an integer, got \"" +
                          std::string(s.substr(0, 40)) + "\"");
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) {
    return Bad(param, "must be between " + std::to_string(lo) + " and " +
                          std::to_string(hi));
  }
  return v;
}

Result<bool> ParseBoolParam(std::string_view s, const std::string& param) {
  std::string v = AsciiLower(TrimAscii(s));
  if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
  if (v.empty() || v == "0" || v == "false" || v == "no" || v == "off") {
    return false;
  }
  return Bad(param, "expected true or false");
}

Result<int64_t> ParseDateParam(std::string_view s, const std::string& param) {
  s = TrimAscii(s);
  if (s.size() > 4 && IsDigits(s)) {
    return ParseIntParam(s, 0, int64_t{253402300799}, param);
  }
  std::string str(s.substr(0, 40));
  int y = 0, mo = 1, d = 1, h = 0, mi = 0, se = 0;
  char tail = 0;
  int n = sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h,
                 &mi, &se, &tail);
  if (s.size() > 25 || n < 1 || n > 6 || y < 1970 || y > 9999 || mo < 1 ||
      mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
      se < 0 || se > 60) {
    return Bad(param, "bad date \"" + str +
                          "\" (expected YYYY-MM-DD or Unix seconds)");
  }
  struct tm tm = {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  return static_cast<int64_t>(timegm(&tm));
}

std::vector<std::string> SplitList(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == ',') {
      std::string_view part = TrimAscii(s.substr(start, i - start));
      if (!part.empty()) out.emplace_back(part);
      start = i + 1;
    }
  }
  return out;
}

Result<TagFilter> ParseAlgoliaTags(std::string_view s) {
  TagFilter f;
  Result<std::vector<std::string_view>> parts = SplitTopLevel(s);
  if (!parts.ok()) return parts.status();
  for (std::string_view part : *parts) {
    part = TrimAscii(part);
    if (part.empty()) continue;
    std::vector<Tag> group;
    if (part.front() == '(') {
      if (part.back() != ')') return Bad("tags", "junk after \")\"");
      std::string_view inner = part.substr(1, part.size() - 2);
      for (const std::string& t : SplitList(inner)) {
        Result<Tag> tag = ParseTag(t);
        if (!tag.ok()) return tag.status();
        group.push_back(*tag);
      }
      if (group.empty()) continue;  // "()" constrains nothing
    } else {
      if (part.find_first_of("()") != std::string_view::npos) {
        return Bad("tags", "parenthesis inside a tag");
      }
      Result<Tag> tag = ParseTag(part);
      if (!tag.ok()) return tag.status();
      group.push_back(*tag);
    }
    AddGroup(group, &f);
  }
  if ((f.types && f.types->empty()) || (f.authors && f.authors->empty()) ||
      (f.stories && f.stories->empty())) {
    f.match_nothing = true;
  }
  return f;
}

bool NumericFilter::empty() const {
  auto bad = [](const std::optional<int64_t>& lo,
                const std::optional<int64_t>& hi) {
    return lo && hi && *lo > *hi;
  };
  return bad(time_lo, time_hi) || bad(points_lo, points_hi) ||
         bad(comments_lo, comments_hi);
}

Result<NumericFilter> ParseNumericFilters(std::string_view s) {
  const std::string param = "numericFilters";
  NumericFilter f;
  for (const std::string& cond : SplitList(s)) {
    if (cond.find_first_of("()") != std::string::npos) {
      return Bad(param, "OR groups are not supported");
    }
    size_t op_at = cond.find_first_of("<>=!");
    if (op_at == std::string::npos) {
      return Bad(param, "no operator in \"" + cond.substr(0, 40) + "\"");
    }
    size_t op_end = cond.find_first_not_of("<>=!", op_at);
    if (op_end == std::string::npos) op_end = cond.size();
    std::string field(TrimAscii(std::string_view(cond).substr(0, op_at)));
    std::string op = cond.substr(op_at, op_end - op_at);
    // A number, whole or not (clients send Date.now() / 1000): bounds on
    // whole values round inwards, so `> 1.5` is `>= 2`.
    const std::string num(TrimAscii(std::string_view(cond).substr(op_end)));
    double x = 0;
    const auto [end, ec] =
        std::from_chars(num.data(), num.data() + num.size(), x);
    constexpr double kMax = static_cast<double>(int64_t{1} << 53);
    if (num.empty() || ec != std::errc() || end != num.data() + num.size() ||
        !(x >= -kMax && x <= kMax)) {
      return Bad(param, "expected a number, got \"" + num.substr(0, 40) +
                            "\"");
    }
    const bool whole = x == std::floor(x);
    const int64_t down = static_cast<int64_t>(std::floor(x));
    const int64_t up = static_cast<int64_t>(std::ceil(x));
    std::optional<int64_t>*lo = nullptr, *hi = nullptr;
    if (field == "created_at_i") {
      lo = &f.time_lo;
      hi = &f.time_hi;
    } else if (field == "points") {
      lo = &f.points_lo;
      hi = &f.points_hi;
    } else if (field == "num_comments") {
      lo = &f.comments_lo;
      hi = &f.comments_hi;
    } else {
      return Bad(param, "unknown field \"" + field.substr(0, 40) +
                            "\" (created_at_i, points, num_comments)");
    }
    auto raise = [](std::optional<int64_t>* b, int64_t x) {
      if (!*b || **b < x) *b = x;
    };
    auto lower = [](std::optional<int64_t>* b, int64_t x) {
      if (!*b || **b > x) *b = x;
    };
    if (op == ">") {
      raise(lo, down + 1);
    } else if (op == ">=") {
      raise(lo, up);
    } else if (op == "<") {
      lower(hi, up - 1);
    } else if (op == "<=") {
      lower(hi, down);
    } else if (op == "=") {
      // No whole value equals a fraction: an empty range.
      raise(lo, whole ? down : up);
      lower(hi, down);
    } else {
      return Bad(param, "unknown operator \"" + op + "\" (< <= = >= >)");
    }
  }
  return f;
}

std::string UrlEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
                 c == '~';
    if (plain) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

namespace {

std::string UrlDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < s.size() && HexDigitValue(s[i + 1]) >= 0 &&
               HexDigitValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigitValue(s[i + 1]) * 16 +
                                      HexDigitValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ParseQueryString(
    std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view()
                                          : query.substr(amp + 1);
    if (piece.empty()) continue;
    const size_t eq = piece.find('=');
    if (eq == std::string_view::npos) {
      out.emplace_back(UrlDecode(piece), std::string());
    } else {
      out.emplace_back(UrlDecode(piece.substr(0, eq)),
                       UrlDecode(piece.substr(eq + 1)));
    }
  }
  return out;
}

std::string IsoTime(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm = {};
  if (!gmtime_r(&tt, &tm)) return "1970-01-01T00:00:00.000Z";
  char buf[40];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return buf;
}

}  // namespace threadsearch
