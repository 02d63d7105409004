#include "server/params.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

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
  bool negated = false;  // "-tag": the tag excluded
};

Result<Tag> ParseTag(std::string_view raw, const std::string& param) {
  std::string_view t = TrimAscii(raw);
  Tag tag;
  if (t.starts_with("author_")) {
    tag.kind = TagKind::kAuthor;
    tag.value = AsciiLower(t.substr(7));
    if (!IsPlainName(tag.value)) {
      return Bad(param, "bad author in \"" + std::string(t) + "\"");
    }
  } else if (t.starts_with("story_")) {
    tag.kind = TagKind::kStory;
    tag.value = std::string(t.substr(6));
    if (!IsPlainName(tag.value)) {
      return Bad(param, "bad story id in \"" + std::string(t) + "\"");
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

// Splits on commas outside parentheses; errors name `param`.
Result<std::vector<std::string_view>> SplitTopLevel(std::string_view s,
                                                    const std::string& param) {
  std::vector<std::string_view> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || (s[i] == ',' && depth == 0)) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    } else if (s[i] == '(') {
      if (++depth > 1) return Bad(param, "nested parentheses");
    } else if (s[i] == ')') {
      if (--depth < 0) return Bad(param, "unbalanced parentheses");
    }
  }
  if (depth != 0) return Bad(param, "unbalanced parentheses");
  return parts;
}

// A filter's number: whole or not (clients send Date.now() / 1000), within
// ±2^53; false for anything else.
bool ParseFilterNumber(std::string_view num, double* x) {
  const std::string n(TrimAscii(num));
  const auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), *x);
  constexpr double kMax = static_cast<double>(int64_t{1} << 53);
  return !n.empty() && ec == std::errc() && end == n.data() + n.size() &&
         *x >= -kMax && *x <= kMax;
}

// The whole numbers that `OP x` selects, as an inclusive range (nullopt: an
// open end): bounds round inwards, so `> 1.5` is `>= 2`, and `= 1.5` is
// empty. False for an operator other than < <= = >= >.
bool WholeRange(std::string_view op, double x, std::optional<int64_t>* lo,
                std::optional<int64_t>* hi) {
  const int64_t down = static_cast<int64_t>(std::floor(x));
  const int64_t up = static_cast<int64_t>(std::ceil(x));
  if (op == ">") {
    *lo = down + 1;
  } else if (op == ">=") {
    *lo = up;
  } else if (op == "<") {
    *hi = up - 1;
  } else if (op == "<=") {
    *hi = down;
  } else if (op == "=") {
    *lo = up;
    *hi = down;
  } else {
    return false;
  }
  return true;
}

// A parsed `filters` expression, simplified as it is built: a condition
// that always or never holds (an unknown tag) folds into its neighbours.
struct FilterNode {
  enum class Kind { kTrue, kFalse, kClause, kAnd, kOr, kNot };
  Kind kind = Kind::kTrue;
  std::string clause;  // kClause: query-language text (a primary)
  std::vector<FilterNode> kids;
};
using FK = FilterNode::Kind;

FilterNode Const(bool v) { return FilterNode{v ? FK::kTrue : FK::kFalse, "", {}}; }
FilterNode Leaf(std::string c) { return FilterNode{FK::kClause, std::move(c), {}}; }

FilterNode Combine(FK op, FilterNode a, FilterNode b) {
  const FK absorbing = op == FK::kAnd ? FK::kFalse : FK::kTrue;
  const FK neutral = op == FK::kAnd ? FK::kTrue : FK::kFalse;
  if (a.kind == absorbing || b.kind == absorbing) return Const(op != FK::kAnd);
  if (a.kind == neutral) return b;
  if (b.kind == neutral) return a;
  FilterNode n{op, "", {}};
  for (FilterNode* x : {&a, &b}) {
    if (x->kind == op) {
      for (FilterNode& k : x->kids) n.kids.push_back(std::move(k));
    } else {
      n.kids.push_back(std::move(*x));
    }
  }
  return n;
}

FilterNode Negate(FilterNode a) {
  if (a.kind == FK::kTrue || a.kind == FK::kFalse) {
    return Const(a.kind == FK::kFalse);
  }
  if (a.kind == FK::kNot) return std::move(a.kids[0]);
  FilterNode n{FK::kNot, "", {}};
  n.kids.push_back(std::move(a));
  return n;
}

std::string Render(const FilterNode& n) {
  switch (n.kind) {
    case FK::kClause:
      return n.clause;
    case FK::kNot:
      return "NOT " + Render(n.kids[0]);
    case FK::kAnd:
    case FK::kOr: {
      std::string out = "(";
      for (size_t i = 0; i < n.kids.size(); ++i) {
        if (i) out += n.kind == FK::kAnd ? " AND " : " OR ";
        out += Render(n.kids[i]);
      }
      return out + ")";
    }
    case FK::kTrue:
    case FK::kFalse:
      break;
  }
  return "";
}

// A tag as a condition: an unknown tag never holds.
FilterNode TagNode(const Tag& t) {
  FilterNode n = t.kind == TagKind::kUnknown ? Const(false) : Leaf(Clause(t));
  return t.negated ? Negate(std::move(n)) : n;
}

// Adds one OR group (already parsed) to the filter.
void AddGroup(const std::vector<Tag>& group, TagFilter* f) {
  std::vector<Tag> known;
  bool negated = false;
  for (const Tag& t : group) {
    negated = negated || t.negated;
    if (t.kind != TagKind::kUnknown) known.push_back(t);
  }
  // Tags of one kind, none excluded: that kind's allowed values.
  if (!negated && known.empty()) {
    f->match_nothing = true;
    return;
  }
  TagKind kind = known.empty() ? TagKind::kUnknown : known[0].kind;
  bool same = !negated;
  for (const Tag& t : known) same = same && t.kind == kind;
  if (same && kind == TagKind::kType) {
    std::set<ItemType> s;
    for (const Tag& t : known) s.insert(t.type);
    Intersect(&f->types, s);
    return;
  }
  if (same && (kind == TagKind::kAuthor || kind == TagKind::kStory)) {
    std::set<std::string> s;
    for (const Tag& t : known) s.insert(t.value);
    Intersect(kind == TagKind::kAuthor ? &f->authors : &f->stories, s);
    return;
  }
  // Else a clause: the tags OR-ed.
  FilterNode any = Const(false);
  for (const Tag& t : group) any = Combine(FK::kOr, std::move(any), TagNode(t));
  if (any.kind == FK::kFalse) {
    f->match_nothing = true;
  } else if (any.kind != FK::kTrue) {
    f->clauses.push_back(Render(any));
  }
}

// One condition as written: ATTR OP VALUE, or ATTR:VALUE TO UPPER.
struct FilterCondition {
  std::string attr, op, value;
  std::optional<std::string> upper;
};

// The query-language field of a numeric attribute; nullptr for others.
const char* NumericField(std::string_view attr) {
  return attr == "points"         ? "points"
         : attr == "num_comments" ? "comments"
         : attr == "created_at_i" ? "time"
                                  : nullptr;
}

// The whole numbers a numeric condition selects (for `!=` those it
// excludes; `:` without TO is equality), as an inclusive range (nullopt:
// open). InvalidArgument naming `param` for a value that is not a number or
// an unknown operator.
Status ConditionRange(const FilterCondition& c, const std::string& param,
                      std::optional<int64_t>* lo, std::optional<int64_t>* hi) {
  double x = 0, y = 0;
  if (!ParseFilterNumber(c.value, &x) ||
      (c.upper && !ParseFilterNumber(*c.upper, &y))) {
    return Bad(param, "\"" + (c.attr + c.op + c.value).substr(0, 60) +
                          "\": expected a number");
  }
  const bool equality = c.op == ":" || c.op == "=" || c.op == "!=";
  if (c.upper) {
    WholeRange(">=", x, lo, hi);
    WholeRange("<=", y, lo, hi);
  } else if (!WholeRange(equality ? "=" : c.op, x, lo, hi)) {
    return Bad(param, "unknown operator \"" + c.op + "\"");
  }
  return Status::OK();
}

// A condition compiled to a query-language clause (or a constant).
// InvalidArgument naming `param` for an attribute, operator or value the
// syntax does not take.
Result<FilterNode> CompileCondition(const FilterCondition& c,
                                    const std::string& param) {
  const std::string& attr = c.attr;
  const std::string& op = c.op;
  const std::string& value = c.value;
  const bool equality = op == ":" || op == "=" || op == "!=";
  const std::string cond = attr + op + value;
  auto negated = [&](FilterNode n) {
    return op == "!=" ? Negate(std::move(n)) : n;
  };
  if (attr == "_tags" && op == ":" && !c.upper) {
    Result<Tag> tag = ParseTag(value, param);
    if (!tag.ok()) return tag.status();
    if (tag->kind == TagKind::kUnknown) return Const(false);
    return Leaf(Clause(*tag));
  }
  const char* item_field = attr == "objectID"    ? "id:"
                           : attr == "parent_id" ? "parent:"
                           : attr == "story_id"  ? "thread:"
                           : attr == "author"    ? "author:"
                                                 : nullptr;
  if (item_field) {
    if (!equality || c.upper || !IsPlainName(value)) {
      return Bad(param, "\"" + cond.substr(0, 60) + "\": expected " + attr +
                            (op == ":" ? ":" : "=") + "VALUE");
    }
    std::string clause = item_field + value;
    // story_id is null on the story itself.
    if (attr == "story_id") {
      clause = "(" + clause + " AND NOT id:" + value + ")";
    }
    return negated(Leaf(std::move(clause)));
  }
  const char* field = NumericField(attr);
  if (!field) {
    return Bad(param, "unknown attribute \"" + attr.substr(0, 40) +
                          "\" (_tags, objectID, author, parent_id, "
                          "story_id, points, num_comments, created_at_i)");
  }
  std::optional<int64_t> lo, hi;
  TS_RETURN_IF_ERROR(ConditionRange(c, param, &lo, &hi));
  if (lo && hi && *lo > *hi) return negated(Const(false));
  std::string clause = std::string(field) + ":";
  if (lo && hi) {
    clause += std::to_string(*lo) + ".." + std::to_string(*hi);
  } else if (lo) {
    clause += ">=" + std::to_string(*lo);
  } else {
    clause += "<=" + std::to_string(*hi);
  }
  return negated(Leaf(std::move(clause)));
}

// One facetFilters condition, FACET:VALUE, compiled as `filters` compiles
// FACET:VALUE. "FACET:-VALUE" and "-FACET:VALUE" exclude; "FACET:\-VALUE"
// is a value that starts with '-'.
Result<FilterNode> FacetCondition(std::string_view text,
                                  const std::string& param) {
  const std::string what = "\"" + std::string(text.substr(0, 60)) + "\"";
  bool negated = false;
  if (text.starts_with('-')) {
    negated = true;
    text.remove_prefix(1);
  }
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return Bad(param, what + ": expected FACET:VALUE");
  }
  std::string_view value = TrimAscii(text.substr(colon + 1));
  if (value.starts_with('-')) {
    if (negated) return Bad(param, what + ": excluded twice");
    negated = true;
    value.remove_prefix(1);
  } else if (value.starts_with("\\-")) {
    value.remove_prefix(1);
  }
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  FilterCondition c;
  c.attr = std::string(TrimAscii(text.substr(0, colon)));
  c.op = ":";
  c.value = std::string(TrimAscii(value));
  if (c.attr.empty() || c.value.empty()) {
    return Bad(param, what + ": expected FACET:VALUE");
  }
  Result<FilterNode> n = CompileCondition(c, param);
  if (!n.ok() || !negated) return n;
  return Negate(std::move(n).value());
}

struct FilterToken {
  enum class Kind { kOpen, kClose, kWord, kQuoted, kOp, kEnd } kind;
  std::string text;
};

// Algolia's filter syntax, read by recursive descent; errors name `param`.
class FilterParser {
 public:
  FilterParser(std::string_view s, std::string param)
      : s_(s), param_(std::move(param)) {}

  // The whole text as a boolean expression of conditions.
  Result<FilterNode> Parse() {
    Status st = Tokenize();
    if (!st.ok()) return st;
    Result<FilterNode> n = Or(0);
    if (!n.ok()) return n;
    if (Peek().kind != FilterToken::Kind::kEnd) return Unexpected();
    return n;
  }

  // The whole text as one condition, not compiled.
  Result<FilterCondition> ParseOneCondition() {
    Status st = Tokenize();
    if (!st.ok()) return st;
    Result<FilterCondition> c = ReadCondition();
    if (!c.ok()) return c;
    if (Peek().kind != FilterToken::Kind::kEnd) return Unexpected();
    return c;
  }

 private:
  static constexpr int kMaxDepth = 32;

  Status Unexpected() const {
    return Bad(param_, "unexpected \"" + Peek().text.substr(0, 40) + "\"");
  }

  Status Tokenize() {
    size_t i = 0;
    while (i < s_.size()) {
      const char c = s_[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i;
      } else if (c == '(' || c == ')') {
        toks_.push_back({c == '(' ? FilterToken::Kind::kOpen
                                  : FilterToken::Kind::kClose,
                         std::string(1, c)});
        ++i;
      } else if (c == '"') {
        std::string v;
        ++i;
        while (i < s_.size() && s_[i] != '"') {
          if (s_[i] == '\\' && i + 1 < s_.size()) ++i;
          v.push_back(s_[i++]);
        }
        if (i == s_.size()) return Bad(param_, "unbalanced quote");
        ++i;
        toks_.push_back({FilterToken::Kind::kQuoted, std::move(v)});
      } else if (c == ':' || c == '<' || c == '>' || c == '=' || c == '!') {
        std::string op(1, c);
        if (c != ':' && i + 1 < s_.size() && s_[i + 1] == '=') op += '=';
        if (op == "!") return Bad(param_, "\"!\" without \"=\"");
        i += op.size();
        toks_.push_back({FilterToken::Kind::kOp, std::move(op)});
      } else {
        const size_t start = i;
        while (i < s_.size() &&
               std::string_view(" \t\n\r()\":<>=!").find(s_[i]) ==
                   std::string_view::npos) {
          ++i;
        }
        toks_.push_back({FilterToken::Kind::kWord,
                         std::string(s_.substr(start, i - start))});
      }
    }
    toks_.push_back({FilterToken::Kind::kEnd, ""});
    return Status::OK();
  }

  const FilterToken& Peek() const { return toks_[pos_]; }
  bool IsKeyword(const char* k) const {
    return Peek().kind == FilterToken::Kind::kWord && Peek().text == k;
  }

  // Operands read by `operand`, joined by `keyword` into `kind` nodes.
  Result<FilterNode> Chain(int depth, const char* keyword, FK kind,
                           Result<FilterNode> (FilterParser::*operand)(int)) {
    Result<FilterNode> a = (this->*operand)(depth);
    if (!a.ok()) return a;
    FilterNode n = std::move(a).value();
    while (IsKeyword(keyword)) {
      ++pos_;
      Result<FilterNode> b = (this->*operand)(depth);
      if (!b.ok()) return b;
      n = Combine(kind, std::move(n), std::move(b).value());
    }
    return n;
  }
  Result<FilterNode> Or(int depth) {
    return Chain(depth, "OR", FK::kOr, &FilterParser::And);
  }
  Result<FilterNode> And(int depth) {
    return Chain(depth, "AND", FK::kAnd, &FilterParser::Unary);
  }

  Result<FilterNode> Unary(int depth) {
    if (depth > kMaxDepth) return Bad(param_, "nested too deeply");
    if (IsKeyword("NOT")) {
      ++pos_;
      Result<FilterNode> a = Unary(depth + 1);
      if (!a.ok()) return a;
      return Negate(std::move(a).value());
    }
    if (Peek().kind == FilterToken::Kind::kOpen) {
      ++pos_;
      Result<FilterNode> a = Or(depth + 1);
      if (!a.ok()) return a;
      if (Peek().kind != FilterToken::Kind::kClose) {
        return Bad(param_, "unbalanced parentheses");
      }
      ++pos_;
      return a;
    }
    Result<FilterCondition> c = ReadCondition();
    if (!c.ok()) return c.status();
    return CompileCondition(*c, param_);
  }

  // A value: a word or a quoted string.
  bool Value(std::string* out) {
    if (Peek().kind != FilterToken::Kind::kWord &&
        Peek().kind != FilterToken::Kind::kQuoted) {
      return false;
    }
    *out = toks_[pos_++].text;
    return true;
  }

  Result<FilterCondition> ReadCondition() {
    FilterCondition c;
    if (Peek().kind != FilterToken::Kind::kWord || !Value(&c.attr)) {
      return Bad(param_, "expected a condition, got \"" +
                             Peek().text.substr(0, 40) + "\"");
    }
    if (Peek().kind != FilterToken::Kind::kOp) {
      return Bad(param_, "no operator after \"" + c.attr.substr(0, 40) + "\"");
    }
    c.op = toks_[pos_++].text;
    if (!Value(&c.value)) {
      return Bad(param_,
                 "no value after \"" + c.attr.substr(0, 40) + c.op + "\"");
    }
    if (c.op == ":" && IsKeyword("TO")) {
      ++pos_;
      std::string upper;
      if (!Value(&upper)) return Bad(param_, "no value after TO");
      c.upper = std::move(upper);
    }
    return c;
  }

  std::string_view s_;
  std::string param_;
  std::vector<FilterToken> toks_;
  size_t pos_ = 0;
};

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
  // A date, a month or a year, and a time of day after 'T' (or a space, as
  // `date -u '+%F %T'` prints it), with a 'Z' allowed at the end; nothing
  // else may follow.
  if (!str.empty() && str.back() == 'Z' && str.find('T') != std::string::npos) {
    str.pop_back();
  }
  int y = 0, mo = 1, d = 1, h = 0, mi = 0, se = 0;
  int used[6] = {0, 0, 0, 0, 0, 0};
  char sep = 'T';
  int n = sscanf(str.c_str(), "%4d%n-%2d%n-%2d%n%c%2d%n:%2d%n:%2d%n", &y,
                 &used[0], &mo, &used[1], &d, &used[2], &sep, &h, &used[3],
                 &mi, &used[4], &se, &used[5]);
  // n counts the separator too once a time follows the date.
  int fields = n <= 3 ? n : n - 1;
  bool whole = fields >= 1 && fields <= 6 &&
               used[fields - 1] == static_cast<int>(str.size()) &&
               (n <= 3 || sep == 'T' || sep == ' ');
  if (s.size() > 25 || !whole || y < 1970 || y > 9999 || mo < 1 || mo > 12 ||
      d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 ||
      se > 59) {
    return Bad(param, "bad date \"" + str +
                          "\" (expected YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS or "
                          "Unix seconds)");
  }
  struct tm tm = {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  const time_t t = timegm(&tm);
  // timegm moves a day past the month's end into the next month.
  if (tm.tm_mday != d || tm.tm_mon != mo - 1) {
    return Bad(param, "bad date \"" + str + "\" (" + std::to_string(y) +
                          "-" + (mo < 10 ? "0" : "") + std::to_string(mo) +
                          " has no day " + std::to_string(d) + ")");
  }
  return static_cast<int64_t>(t);
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

Result<std::vector<std::vector<std::string>>> ParseAlgoliaList(
    std::string_view s, const std::string& param) {
  std::vector<std::vector<std::string>> groups;
  s = TrimAscii(s);
  if (s.starts_with('[')) {
    // The JSON form: strings, or arrays of strings (OR groups).
    try {
      const nlohmann::json j = nlohmann::json::parse(s, nullptr, false);
      if (j.is_discarded() || !j.is_array()) {
        return Bad(param, "malformed JSON array");
      }
      auto text = [](const nlohmann::json& e) {
        return std::string(TrimAscii(e.get_ref<const std::string&>()));
      };
      for (const nlohmann::json& e : j) {
        std::vector<std::string> group;
        if (e.is_string()) {
          group.push_back(text(e));
        } else if (e.is_array()) {
          for (const nlohmann::json& x : e) {
            if (!x.is_string()) {
              return Bad(param, "an OR group holds strings only, not " +
                                    x.dump().substr(0, 40));
            }
            group.push_back(text(x));
          }
        } else {
          return Bad(param, "expected a string or an array of strings, not " +
                                e.dump().substr(0, 40));
        }
        std::erase(group, "");
        if (!group.empty()) groups.push_back(std::move(group));
      }
    } catch (const nlohmann::json::exception& e) {
      return Bad(param, std::string("malformed JSON array: ") + e.what());
    }
    return groups;
  }
  // The string form: commas AND, "(a,b)" ORs.
  Result<std::vector<std::string_view>> parts = SplitTopLevel(s, param);
  if (!parts.ok()) return parts.status();
  for (std::string_view part : *parts) {
    part = TrimAscii(part);
    if (part.empty()) continue;
    if (part.front() == '(') {
      if (part.back() != ')') {
        return Bad(param, "junk after \")\" in \"" +
                              std::string(part.substr(0, 40)) + "\"");
      }
      std::vector<std::string> group =
          SplitList(part.substr(1, part.size() - 2));
      if (!group.empty()) groups.push_back(std::move(group));  // "()": none
    } else if (part.find_first_of("()") != std::string_view::npos) {
      return Bad(param, "parenthesis inside \"" +
                            std::string(part.substr(0, 40)) + "\"");
    } else {
      groups.push_back({std::string(part)});
    }
  }
  return groups;
}

Status AddAlgoliaTags(std::string_view s, const std::string& param,
                      TagFilter* f) {
  Result<std::vector<std::vector<std::string>>> groups =
      ParseAlgoliaList(s, param);
  if (!groups.ok()) return groups.status();
  for (const std::vector<std::string>& names : *groups) {
    std::vector<Tag> group;
    for (const std::string& name : names) {
      std::string_view t = name;
      bool negated = false;
      if (t.starts_with('-')) {
        negated = true;
        t.remove_prefix(1);
        if (TrimAscii(t).empty()) return Bad(param, "\"-\" without a tag");
      } else if (t.starts_with("\\-")) {
        t.remove_prefix(1);  // an escaped '-' starts the tag
      }
      Result<Tag> tag = ParseTag(t, param);
      if (!tag.ok()) return tag.status();
      tag->negated = negated;
      group.push_back(*tag);
    }
    AddGroup(group, f);
  }
  if ((f->types && f->types->empty()) || (f->authors && f->authors->empty()) ||
      (f->stories && f->stories->empty())) {
    f->match_nothing = true;
  }
  return Status::OK();
}

Result<TagFilter> ParseAlgoliaTags(std::string_view s) {
  TagFilter f;
  Status st = AddAlgoliaTags(s, "tags", &f);
  if (!st.ok()) return st;
  return f;
}

bool NumericFilter::empty() const {
  auto bad = [](const std::optional<int64_t>& lo,
                const std::optional<int64_t>& hi) {
    return lo && hi && *lo > *hi;
  };
  return match_nothing || bad(time_lo, time_hi) || bad(points_lo, points_hi) ||
         bad(comments_lo, comments_hi);
}

Result<NumericFilter> ParseNumericFilters(std::string_view s) {
  const std::string param = "numericFilters";
  Result<std::vector<std::vector<std::string>>> groups =
      ParseAlgoliaList(s, param);
  if (!groups.ok()) return groups.status();
  NumericFilter f;
  FilterNode rest = Const(true);  // what the ranges cannot carry
  for (const std::vector<std::string>& group : *groups) {
    FilterNode any = Const(false);
    for (const std::string& text : group) {
      Result<FilterCondition> c = FilterParser(text, param).ParseOneCondition();
      if (!c.ok()) return c.status();
      if (!NumericField(c->attr)) {
        return Bad(param, "unknown field \"" + c->attr.substr(0, 40) +
                              "\" (created_at_i, points, num_comments)");
      }
      if (c->op == ":" && !c->upper) {
        return Bad(param, "\"" + text.substr(0, 60) +
                              "\": expected FIELD OP NUMBER or FIELD:LO TO HI");
      }
      if (group.size() > 1 || c->op == "!=") {
        Result<FilterNode> n = CompileCondition(*c, param);
        if (!n.ok()) return n.status();
        any = Combine(FK::kOr, std::move(any), std::move(n).value());
        continue;
      }
      // A condition AND-ed alone narrows its field's range.
      std::optional<int64_t> a, b;
      TS_RETURN_IF_ERROR(ConditionRange(*c, param, &a, &b));
      std::optional<int64_t>* lo = &f.time_lo;
      std::optional<int64_t>* hi = &f.time_hi;
      if (c->attr == "points") {
        lo = &f.points_lo;
        hi = &f.points_hi;
      } else if (c->attr == "num_comments") {
        lo = &f.comments_lo;
        hi = &f.comments_hi;
      }
      if (a && (!*lo || **lo < *a)) *lo = a;
      if (b && (!*hi || **hi > *b)) *hi = b;
      any = Const(true);
    }
    rest = Combine(FK::kAnd, std::move(rest), std::move(any));
  }
  f.match_nothing = rest.kind == FK::kFalse;
  f.clause = Render(rest);
  return f;
}

Result<AlgoliaFilter> ParseAlgoliaFilters(std::string_view s) {
  AlgoliaFilter f;
  if (TrimAscii(s).empty()) return f;
  Result<FilterNode> n = FilterParser(s, "filters").Parse();
  if (!n.ok()) return n.status();
  f.match_nothing = n->kind == FK::kFalse;
  f.clause = Render(*n);
  return f;
}

Result<AlgoliaFilter> ParseAlgoliaFacetFilters(std::string_view s) {
  const std::string param = "facetFilters";
  Result<std::vector<std::vector<std::string>>> groups =
      ParseAlgoliaList(s, param);
  if (!groups.ok()) return groups.status();
  FilterNode all = Const(true);
  for (const std::vector<std::string>& group : *groups) {
    FilterNode any = Const(false);
    for (const std::string& text : group) {
      Result<FilterNode> n = FacetCondition(text, param);
      if (!n.ok()) return n.status();
      any = Combine(FK::kOr, std::move(any), std::move(n).value());
    }
    all = Combine(FK::kAnd, std::move(all), std::move(any));
  }
  AlgoliaFilter f;
  f.match_nothing = all.kind == FK::kFalse;
  f.clause = Render(all);
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

std::string ParamValue(const ParamMap& ps, const std::string& name) {
  auto it = ps.lower_bound(name);
  return it != ps.end() && it->first == name ? it->second : std::string();
}

namespace {

// How deep a request body may nest.
constexpr size_t kMaxBodyDepth = 64;

// A JSON field's value as a parameter's text (see ParseAlgoliaQueryBody).
std::string ParamText(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_float()) {
    // 20.0 is 20: clients in languages without integers send whole
    // numbers so.
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) {
      return std::to_string(static_cast<int64_t>(d));
    }
  }
  return v.dump();
}

// The JSON document `body`; InvalidArgument naming the body otherwise.
Result<nlohmann::json> ParseBody(std::string_view body) {
  if (TrimAscii(body).empty()) return nlohmann::json::object();
  // A search nests four deep ({"requests": [{"tagFilters": [[…]]}]}), but
  // ParamText's dump() recurses: a 1 MiB body of brackets overflowed the
  // stack.
  if (JsonDepth(body, kMaxBodyDepth) > kMaxBodyDepth) {
    return Bad("body", "JSON nested deeper than " +
                           std::to_string(kMaxBodyDepth) + " levels");
  }
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    return Bad("body", "invalid JSON at byte " + std::to_string(e.byte));
  } catch (const nlohmann::json::exception& e) {
    return Bad("body", std::string("invalid JSON: ") + e.what());
  }
}

// The parameters of one search object; `where` ("" or "requests[1].")
// prefixes the names in errors. Fields in `skip` are the caller's.
Status AddSearchObject(const nlohmann::json& obj, const std::string& where,
                       std::initializer_list<std::string_view> skip,
                       ParamMap* out) {
  if (!obj.is_object()) {
    return Bad(where.empty() ? "body" : where.substr(0, where.size() - 1),
               "expected a JSON object");
  }
  ParamMap fields;
  std::string params;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& k = it.key();
    if (std::find(skip.begin(), skip.end(), k) != skip.end()) continue;
    if (k == "params") {
      if (!it->is_string()) {
        return Bad(where + "params",
                   "expected a URL-encoded string such as "
                   "\"query=foo&hitsPerPage=20\"");
      }
      params = it->get<std::string>();
    } else if (!it->is_null()) {
      fields.emplace(k, ParamText(*it));
    }
  }
  for (auto& [k, v] : ParseQueryString(params)) {
    if (!fields.count(k)) out->emplace(std::move(k), std::move(v));
  }
  out->insert(fields.begin(), fields.end());
  return Status::OK();
}

}  // namespace

Result<ParamMap> ParseAlgoliaQueryBody(std::string_view body) {
  Result<nlohmann::json> j = ParseBody(body);
  if (!j.ok()) return j.status();
  ParamMap ps;
  TS_RETURN_IF_ERROR(AddSearchObject(*j, "", {}, &ps));
  return ps;
}

Result<std::vector<AlgoliaIndexQuery>> ParseAlgoliaQueriesBody(
    std::string_view body) {
  Result<nlohmann::json> j = ParseBody(body);
  if (!j.ok()) return j.status();
  if (!j->is_object()) return Bad("body", "expected a JSON object");
  auto requests = j->find("requests");
  if (requests == j->end() || !requests->is_array()) {
    return Bad("requests", "expected an array of {\"indexName\", \"params\"}");
  }
  std::vector<AlgoliaIndexQuery> out;
  for (size_t i = 0; i < requests->size(); ++i) {
    const nlohmann::json& r = (*requests)[i];
    const std::string where = "requests[" + std::to_string(i) + "].";
    AlgoliaIndexQuery q;
    TS_RETURN_IF_ERROR(
        AddSearchObject(r, where, {"indexName", "type"}, &q.params));
    auto name = r.find("indexName");
    if (name == r.end() || !name->is_string()) {
      return Bad(where + "indexName", "expected the index's name");
    }
    auto type = r.find("type");
    if (type != r.end() && !type->is_null() && *type != "default") {
      return Bad(where + "type", "only \"default\" (a search) is served here");
    }
    q.index = name->get<std::string>();
    out.push_back(std::move(q));
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
