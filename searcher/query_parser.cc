#include "searcher/query_parser.h"

#include <xapian.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <utility>

#include "common/item.h"
#include "common/schema.h"
#include "common/text.h"
#include "common/store_reader.h"
#include "searcher/query_parser_internal.h"

namespace threadsearch {

namespace {

// Fields that select by a value slot rather than a term. They are not in
// schema::kFields, which lists term prefixes only.
enum class RangeKind { kDate, kAfter, kBefore, kNumber };
struct RangeField {
  std::string_view name;
  RangeKind kind;
  unsigned slot;
};
constexpr RangeField kRangeFields[] = {
    {"date", RangeKind::kDate, schema::kValueTime},
    {"after", RangeKind::kAfter, schema::kValueTime},
    {"before", RangeKind::kBefore, schema::kValueTime},
    {"points", RangeKind::kNumber, schema::kValuePoints},
    {"replies", RangeKind::kNumber, schema::kValueReplies},
    {"comments", RangeKind::kNumber, schema::kValueComments},
    {"time", RangeKind::kNumber, schema::kValueTime},
};

// Words that look like `name:` but start a URL or similar: always text.
constexpr std::string_view kSchemes[] = {
    "http", "https", "ftp", "ftps", "file", "mailto", "news",
    "nntp", "irc",   "git", "ssh",  "svn",  "urn",    "doi",
};

// Bounds against pathological input: a term never exceeds Xapian's limit.
constexpr size_t kMaxValueBytes = 240;

const schema::Field* FindField(std::string_view lower_name) {
  for (size_t i = 0; i < schema::kNumFields; ++i) {
    if (schema::kFields[i].name == lower_name) return &schema::kFields[i];
  }
  return nullptr;
}

const RangeField* FindRangeField(std::string_view lower_name) {
  for (const RangeField& f : kRangeFields) {
    if (f.name == lower_name) return &f;
  }
  return nullptr;
}

std::string FieldList() {
  std::string out;
  for (size_t i = 0; i < schema::kNumFields; ++i) {
    out += std::string(schema::kFields[i].name) + ", ";
  }
  for (const RangeField& f : kRangeFields) out += std::string(f.name) + ", ";
  out.resize(out.size() - 2);
  return out;
}

bool IsSpace(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}

// The byte length of a quote character at s[i] (ASCII " or the UTF-8 curly
// quotes “ ” „), 0 when there is none.
size_t QuoteAt(std::string_view s, size_t i) {
  if (s[i] == '"') return 1;
  if (i + 2 < s.size() && static_cast<unsigned char>(s[i]) == 0xE2 &&
      static_cast<unsigned char>(s[i + 1]) == 0x80) {
    unsigned char c = static_cast<unsigned char>(s[i + 2]);
    if (c == 0x9C || c == 0x9D || c == 0x9E) return 3;
  }
  return 0;
}

bool IsDelimiter(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  return IsSpace(c) || c == '(' || c == ')' || QuoteAt(s, i) != 0;
}

std::string Quoted(std::string_view s) {
  // Appends rather than "\"" + std::string: GCC 12's -Wrestrict misfires on
  // the latter at -O2.
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  out.append(s);
  out.push_back('"');
  return out;
}

// ---------------------------------------------------------------------------
// Lexer.

enum class Tok { kEnd, kLParen, kRParen, kAnd, kOr, kNot, kMinus, kPlus,
                 kPhrase, kWord, kField };

struct Token {
  Tok kind = Tok::kEnd;
  size_t offset = 0;
  std::string text;   // kPhrase: inside the quotes; kWord: the word;
                      // kField: the value (may be empty with group)
  std::string name;   // kField: lower-cased field name
  size_t value_offset = 0;  // kField
  bool quoted = false;      // kField: the value was quoted
  bool group = false;       // kField: "(" follows the colon
};

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  // Fills `out` with every token and a final kEnd; InvalidArgument for an
  // unclosed quote or an unknown field.
  Status Run(std::vector<Token>* out) {
    while (true) {
      while (pos_ < s_.size() && IsSpace(static_cast<unsigned char>(s_[pos_]))) {
        ++pos_;
      }
      Token t;
      t.offset = pos_;
      if (pos_ >= s_.size()) {
        out->push_back(t);
        return Status::OK();
      }
      char c = s_[pos_];
      if (c == '(') {
        t.kind = Tok::kLParen;
        ++pos_;
      } else if (c == ')') {
        t.kind = Tok::kRParen;
        ++pos_;
      } else if (size_t q = QuoteAt(s_, pos_)) {
        t.kind = Tok::kPhrase;
        TS_RETURN_IF_ERROR(ReadQuoted(q, &t.text));
      } else if ((c == '-' || c == '+') && pos_ + 1 < s_.size() &&
                 !IsSpace(static_cast<unsigned char>(s_[pos_ + 1])) &&
                 s_[pos_ + 1] != ')' && s_[pos_ + 1] != '-' &&
                 s_[pos_ + 1] != '+') {
        // A sign glued to what follows; "a - b" and "--" stay punctuation.
        t.kind = c == '-' ? Tok::kMinus : Tok::kPlus;
        ++pos_;
      } else {
        TS_RETURN_IF_ERROR(ReadBare(&t));
      }
      out->push_back(std::move(t));
    }
  }

 private:
  // Reads a quoted string whose opening quote (q bytes) is at pos_.
  Status ReadQuoted(size_t q, std::string* text) {
    size_t open = pos_;
    pos_ += q;
    size_t start = pos_;
    while (pos_ < s_.size()) {
      if (size_t e = QuoteAt(s_, pos_)) {
        *text = std::string(s_.substr(start, pos_ - start));
        pos_ += e;
        return Status::OK();
      }
      ++pos_;
    }
    return Status::InvalidArgument(
        "query: unbalanced quote: the quote at offset " +
        std::to_string(open) + " is never closed");
  }

  Status ReadBare(Token* t) {
    size_t start = pos_;
    while (pos_ < s_.size() && !IsDelimiter(s_, pos_)) ++pos_;
    std::string_view run = s_.substr(start, pos_ - start);
    t->kind = Tok::kWord;
    t->text = std::string(run);
    if (run == "OR" || run == "||") {
      t->kind = Tok::kOr;
      return Status::OK();
    }
    if (run == "AND" || run == "&&") {
      t->kind = Tok::kAnd;
      return Status::OK();
    }
    if (run == "NOT") {
      t->kind = Tok::kNot;
      return Status::OK();
    }
    size_t colon = run.find(':');
    if (colon == std::string_view::npos || colon == 0) return Status::OK();
    std::string name = AsciiLower(run.substr(0, colon));
    std::string_view value = run.substr(colon + 1);
    bool letters = std::all_of(name.begin(), name.end(), [](char ch) {
      return (ch >= 'a' && ch <= 'z') || ch == '_';
    });
    if (!letters) return Status::OK();  // "12:30", "x.y:z", "a@b:c"
    const bool at_end = pos_ >= s_.size();
    const bool quote_next = !at_end && QuoteAt(s_, pos_) != 0;
    const bool paren_next = !at_end && s_[pos_] == '(';
    const bool known = FindField(name) || FindRangeField(name);
    if (value.empty() && !quote_next && !paren_next) {
      // "Re: subject": a word with a colon after it, or a known field with
      // nothing after the colon.
      if (!known) return Status::OK();
      return Status::InvalidArgument(
          "query: field " + name + ": at offset " + std::to_string(start) +
          " has no value (write " + name +
          ":VALUE without a space, or drop the colon to search for the "
          "word)");
    }
    if (!known) {
      if (value.starts_with("/") || value.starts_with(":") ||
          std::find(std::begin(kSchemes), std::end(kSchemes), name) !=
              std::end(kSchemes)) {
        return Status::OK();  // a URL, "std::vector"
      }
      return Status::InvalidArgument(
          "query: unknown field \"" + name + "\" at offset " +
          std::to_string(start) + " (in " + Quoted(run) +
          "); the fields are " + FieldList() +
          "; put the word in quotes to search for it as text");
    }
    t->kind = Tok::kField;
    t->name = std::move(name);
    t->value_offset = start + colon + 1;
    if (value.empty() && quote_next) {
      const size_t q = QuoteAt(s_, pos_);
      t->value_offset = pos_ + q;  // inside the quotes
      t->quoted = true;
      TS_RETURN_IF_ERROR(ReadQuoted(q, &t->text));
    } else if (value.empty() && paren_next) {
      t->group = true;  // the parser reads the group
    } else {
      t->text = std::string(value);
    }
    return Status::OK();
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------
// Dates and numbers.

// The UTC period [start, end) that `s` (YYYY, YYYY-MM or YYYY-MM-DD) names.
bool ParsePeriod(std::string_view s, int64_t* start, int64_t* end) {
  int y = 0, m = 0, d = 0;
  auto digits = [&](size_t pos, size_t n, int* out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
  };
  int parts = 0;
  if (s.size() == 4 && digits(0, 4, &y)) {
    parts = 1;
  } else if (s.size() == 7 && digits(0, 4, &y) && s[4] == '-' &&
             digits(5, 2, &m)) {
    parts = 2;
  } else if (s.size() == 10 && digits(0, 4, &y) && s[4] == '-' &&
             digits(5, 2, &m) && s[7] == '-' && digits(8, 2, &d)) {
    parts = 3;
  } else {
    return false;
  }
  if (y < 1900) return false;
  if (parts >= 2 && (m < 1 || m > 12)) return false;
  struct tm tm = {};
  tm.tm_year = y - 1900;
  tm.tm_mon = parts >= 2 ? m - 1 : 0;
  tm.tm_mday = parts >= 3 ? d : 1;
  const struct tm asked = tm;
  time_t t0 = timegm(&tm);
  struct tm check;
  if (!gmtime_r(&t0, &check) || check.tm_mday != asked.tm_mday ||
      check.tm_mon != asked.tm_mon) {
    return false;  // 2023-02-30
  }
  tm = asked;
  struct tm next = tm;
  if (parts == 1) {
    next.tm_year += 1;
  } else if (parts == 2) {
    next.tm_mon += 1;
  } else {
    next.tm_mday += 1;
  }
  *start = static_cast<int64_t>(t0);
  *end = static_cast<int64_t>(timegm(&next));
  return true;
}

// At most 16 digits (beyond 2^53, which doubles hold exactly; never
// overflowing), after an optional '-'.
bool ParseInteger(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size() || s.size() - i > 16) return false;
  int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = s[0] == '-' ? -v : v;
  return true;
}

// ---------------------------------------------------------------------------
// Parser.

class Parser {
 public:
  Parser(std::string_view text, std::vector<Token> toks,
         const QueryParserOptions& opts)
      : text_(text), toks_(std::move(toks)), opts_(opts) {}

  Result<QueryNode> Run() {
    QueryNode root = Sequence(nullptr, 0);
    if (!err_.ok()) return err_;
    if (Peek().kind == Tok::kRParen) {
      return Status::InvalidArgument(
          "query: unbalanced parenthesis: the ) at offset " +
          std::to_string(Peek().offset) + " has no matching (");
    }
    if (root.children.size() == 1 &&
        root.children[0].kind != QueryNode::Kind::kNot) {
      QueryNode only = std::move(root.children[0]);
      root = std::move(only);
    }
    return root;
  }

 private:
  const Token& Peek() const { return toks_[pos_]; }
  const Token& Next() { return toks_[pos_++]; }
  bool AtStop() const {
    Tok k = Peek().kind;
    return k == Tok::kEnd || k == Tok::kRParen;
  }
  void Fail(std::string msg) {
    if (err_.ok()) err_ = Status::InvalidArgument("query: " + std::move(msg));
  }
  static std::string At(size_t offset) {
    return " at offset " + std::to_string(offset);
  }
  // An operator needs an operand after it.
  bool StartsOperand() const {
    Tok k = Peek().kind;
    return k != Tok::kEnd && k != Tok::kRParen && k != Tok::kAnd &&
           k != Tok::kOr;
  }

  // clause* up to ")" or the end; an AND of them.
  QueryNode Sequence(const schema::Field* field, int depth) {
    QueryNode node;
    node.kind = QueryNode::Kind::kAnd;
    if (depth > opts_.max_depth) {
      Fail("nested too deeply" + At(Peek().offset));
      return node;
    }
    while (err_.ok() && !AtStop()) {
      const Token& t = Peek();
      if (t.kind == Tok::kAnd || t.kind == Tok::kOr) {
        std::string op = t.kind == Tok::kAnd ? "AND" : "OR";
        if (node.children.empty()) {
          Fail(op + At(t.offset) + " has nothing before it (write " +
               (t.kind == Tok::kAnd ? "and" : "or") +
               " in lower case to search for the word)");
          return node;
        }
        Next();
        if (!StartsOperand()) {
          Fail(op + At(t.offset) + " has nothing after it");
          return node;
        }
        continue;  // AND is what a space means
      }
      std::optional<QueryNode> d = Disjunct(field, depth);
      if (d) node.children.push_back(std::move(*d));
    }
    return node;
  }

  std::optional<QueryNode> Disjunct(const schema::Field* field, int depth) {
    std::vector<QueryNode> parts;
    std::optional<QueryNode> first = Unary(field, depth);
    if (first) parts.push_back(std::move(*first));
    while (err_.ok() && Peek().kind == Tok::kOr) {
      size_t at = Next().offset;
      if (!StartsOperand()) {
        Fail("OR" + At(at) + " has nothing after it");
        return std::nullopt;
      }
      std::optional<QueryNode> u = Unary(field, depth);
      if (u) parts.push_back(std::move(*u));
    }
    if (!err_.ok() || parts.empty()) return std::nullopt;
    if (parts.size() == 1) return std::move(parts[0]);
    QueryNode node;
    node.kind = QueryNode::Kind::kOr;
    node.offset = parts[0].offset;
    node.children = std::move(parts);
    return node;
  }

  static QueryNode Negate(QueryNode inner, size_t offset) {
    QueryNode n;
    n.kind = QueryNode::Kind::kNot;
    n.offset = offset;
    n.children.push_back(std::move(inner));
    return n;
  }

  std::optional<QueryNode> Unary(const schema::Field* field, int depth) {
    if (depth > opts_.max_depth) {
      Fail("nested too deeply" + At(Peek().offset));
      return std::nullopt;
    }
    const Token& t = Peek();
    if (t.kind == Tok::kNot) {
      size_t at = Next().offset;
      if (!StartsOperand()) {
        Fail("NOT" + At(at) + " has nothing after it");
        return std::nullopt;
      }
      std::optional<QueryNode> inner = Unary(field, depth + 1);
      if (!inner) return std::nullopt;
      return Negate(std::move(*inner), at);
    }
    if (t.kind == Tok::kMinus || t.kind == Tok::kPlus) {
      bool minus = t.kind == Tok::kMinus;
      size_t at = Next().offset;
      std::optional<QueryNode> inner = Primary(field, depth + 1);
      if (!inner) return std::nullopt;
      if (!minus) return inner;
      return Negate(std::move(*inner), at);
    }
    return Primary(field, depth);
  }

  std::optional<QueryNode> Group(const schema::Field* field, size_t open,
                                 int depth) {
    QueryNode inner = Sequence(field, depth + 1);
    if (!err_.ok()) return std::nullopt;
    if (Peek().kind != Tok::kRParen) {
      Fail("unbalanced parenthesis: the (" + At(open) + " is never closed");
      return std::nullopt;
    }
    size_t close = Next().offset;
    if (inner.children.empty()) {
      Fail("empty parentheses" + At(open));
      return std::nullopt;
    }
    inner.offset = open;
    inner.text = std::string(text_.substr(open, close + 1 - open));
    if (inner.children.size() == 1 &&
        inner.children[0].kind != QueryNode::Kind::kNot) {
      return std::move(inner.children[0]);
    }
    return inner;
  }

  std::optional<QueryNode> Primary(const schema::Field* field, int depth) {
    const Token& t = Next();
    switch (t.kind) {
      case Tok::kLParen:
        return Group(field, t.offset, depth);
      case Tok::kPhrase:
        if (field) return FieldValue(*field, t.text, true, t.offset + 1);
        return TextNode(std::string(), t.text, /*quoted=*/true, t.offset);
      case Tok::kWord:
        if (field) return FieldValue(*field, t.text, false, t.offset);
        return TextNode(std::string(), t.text, /*quoted=*/false, t.offset);
      case Tok::kField:
        return FieldNode(t, depth);
      case Tok::kRParen:
        Fail("unbalanced parenthesis: the )" + At(t.offset) +
             " has no matching (");
        return std::nullopt;
      case Tok::kEnd:
      case Tok::kAnd:
      case Tok::kOr:
      case Tok::kNot:
      case Tok::kMinus:
      case Tok::kPlus:
        break;
    }
    Fail("expected a word" + At(t.offset));
    return std::nullopt;
  }

  // Free text: a word, a quoted phrase or a prefix*; nullopt when the text
  // holds no word at all (punctuation).
  std::optional<QueryNode> TextNode(const std::string& prefix,
                                    std::string_view raw, bool quoted,
                                    size_t offset) {
    QueryNode n;
    n.prefix = prefix;
    n.offset = offset;
    n.text = std::string(raw);
    if (!quoted && raw.size() > 1 && raw.back() == '*') {
      std::string_view stem = raw;
      while (!stem.empty() && stem.back() == '*') stem.remove_suffix(1);
      std::vector<std::string> pieces = IndexTerms(stem);
      if (pieces.empty()) {
        Fail("wildcard " + Quoted(raw) + At(offset) +
             " needs a letter or digit before the *");
        return std::nullopt;
      }
      n.kind = QueryNode::Kind::kWildcard;
      n.terms = {pieces.back()};
      if (pieces.size() == 1) return n;
      // "foo-ba*": the whole pieces AND the wildcard on the last.
      QueryNode all;
      all.kind = QueryNode::Kind::kAnd;
      all.offset = offset;
      all.text = n.text;
      pieces.pop_back();
      QueryNode head;
      head.kind = QueryNode::Kind::kPhrase;
      head.prefix = prefix;
      head.offset = offset;
      head.terms = std::move(pieces);
      all.children.push_back(std::move(head));
      all.children.push_back(std::move(n));
      return all;
    }
    n.terms = IndexTerms(raw);
    if (n.terms.empty()) {
      if (quoted) {
        Fail("the quoted text" + At(offset) + " has no words");
      }
      return std::nullopt;
    }
    n.kind = quoted ? QueryNode::Kind::kPhrase : QueryNode::Kind::kWord;
    return n;
  }

  std::optional<QueryNode> FieldNode(const Token& t, int depth) {
    if (const RangeField* r = FindRangeField(t.name)) {
      if (t.group) {
        Fail(t.name + ":" + At(t.offset) + " takes a value, not a group");
        return std::nullopt;
      }
      return Range(*r, t.text, t.value_offset);
    }
    const schema::Field* f = FindField(t.name);
    if (t.group) {
      size_t open = Next().offset;  // the "(" after the colon
      return Group(f, open, depth);
    }
    return FieldValue(*f, t.text, t.quoted, t.value_offset);
  }

  std::optional<QueryNode> FieldValue(const schema::Field& f,
                                      std::string_view raw, bool quoted,
                                      size_t offset) {
    const std::string name(f.name);
    if (!f.boolean) {
      return TextNode(std::string(f.prefix), raw, quoted, offset);
    }
    std::string value(TrimAscii(raw));
    if (value.empty()) {
      Fail("field " + name + ":" + At(offset) + " has an empty value");
      return std::nullopt;
    }
    if (value.size() > kMaxValueBytes) {
      Fail("the value of " + name + ":" + At(offset) + " is too long");
      return std::nullopt;
    }
    QueryNode n;
    n.offset = offset;
    n.text = std::string(raw);
    const std::string_view prefix = f.prefix;
    if (prefix == schema::kPrefixThread || prefix == schema::kPrefixUnder ||
        prefix == schema::kPrefixId || prefix == schema::kPrefixParent) {
      n.kind = QueryNode::Kind::kItem;
      n.prefix = std::string(prefix);
      n.value = value;
      return n;
    }
    if (prefix == schema::kPrefixUrl) {
      // A link or part of one: its host (and subdomains of it) when it
      // names one, and every word after the host in the item's URL.
      std::string_view rest = value;
      const std::string host = schema::UrlHost(value, &rest);
      std::vector<std::string> terms;
      if (!host.empty()) {
        terms.push_back(schema::Term(schema::kPrefixHost, host));
      }
      for (const std::string& w :
           schema::UrlWords(host.empty() ? value : rest)) {
        terms.push_back(schema::Term(prefix, w));
      }
      if (terms.empty()) {
        Fail("the value of " + name + ":" + At(offset) + " has no words");
        return std::nullopt;
      }
      n.kind = QueryNode::Kind::kAnd;
      for (std::string& term : terms) {
        QueryNode t;
        t.kind = QueryNode::Kind::kFilter;
        t.offset = offset;
        t.text = std::string(raw);
        t.terms = {std::move(term)};
        n.children.push_back(std::move(t));
      }
      if (n.children.size() == 1) {
        QueryNode only = std::move(n.children[0]);
        only.text = std::string(raw);
        return only;
      }
      return n;
    }
    n.kind = QueryNode::Kind::kFilter;
    if (prefix == schema::kPrefixType) {
      ItemType type;
      if (!ParseItemType(AsciiLower(value), &type)) {
        Fail("unknown type " + Quoted(value) + At(offset) +
             " (expected story, comment, message, poll, pollopt or job)");
        return std::nullopt;
      }
      n.terms = {schema::Term(prefix, ItemTypeName(type))};
      return n;
    }
    if (prefix == schema::kPrefixSource) {
      Source source;
      if (!ParseSource(AsciiLower(value), &source)) {
        Fail("unknown source " + Quoted(value) + At(offset) +
             " (expected hn, reddit or mail)");
        return std::nullopt;
      }
      n.terms = {schema::Term(prefix, SourceName(source))};
      return n;
    }
    if (prefix == schema::kPrefixYear) {
      if (value.find("..") != std::string::npos) {
        return Range(RangeField{"year", RangeKind::kDate, schema::kValueTime},
                     value, offset);
      }
      int64_t s, e;
      if (value.size() != 4 || !ParsePeriod(value, &s, &e)) {
        Fail("bad year " + Quoted(value) + At(offset) +
             " (expected YYYY or YYYY..YYYY)");
        return std::nullopt;
      }
      n.terms = {schema::Term(prefix, value)};
      return n;
    }
    // Names: author, replies_to, list; compared lower-cased.
    std::string lower = AsciiLower(value);
    if (!quoted && lower.size() > 1 && lower.back() == '*') {
      while (!lower.empty() && lower.back() == '*') lower.pop_back();
      n.wildcard = true;
    }
    n.terms = {schema::Term(prefix, lower)};
    return n;
  }

  // date:, after:, before:, points:, replies: (and year:A..B).
  std::optional<QueryNode> Range(const RangeField& f, std::string_view raw,
                                 size_t offset) {
    QueryNode n;
    n.kind = QueryNode::Kind::kRange;
    n.slot = f.slot;
    n.offset = offset;
    n.text = std::string(raw);
    std::string_view v = TrimAscii(raw);
    const bool date = f.kind != RangeKind::kNumber;
    const std::string what =
        std::string(f.name) + ":" + std::string(v) + At(offset);
    auto bad = [&](std::string_view part) {
      if (date) {
        Fail("bad date " + Quoted(part) + " in " + what +
             " (expected YYYY, YYYY-MM or YYYY-MM-DD)");
      } else {
        Fail("bad number " + Quoted(part) + " in " + what +
             " (expected N, >=N, >N, <N, <=N or N..M)");
      }
      return std::nullopt;
    };
    if (v.empty()) {
      Fail(std::string(f.name) + ":" + At(offset) + " has no value");
      return std::nullopt;
    }
    // One bound: its first and last value (inclusive).
    auto bound = [&](std::string_view s, double* first, double* last) {
      if (date) {
        int64_t a, b;
        if (!ParsePeriod(s, &a, &b)) return false;
        *first = static_cast<double>(a);
        *last = static_cast<double>(b - 1);
        return true;
      }
      int64_t x;
      if (!ParseInteger(s, &x)) return false;
      *first = *last = static_cast<double>(x);
      return true;
    };
    double first, last;
    if (f.kind == RangeKind::kAfter || f.kind == RangeKind::kBefore) {
      if (!bound(v, &first, &last)) return bad(v);
      if (f.kind == RangeKind::kAfter) {
        n.lo = first;
      } else {
        n.hi = first - 1;
      }
      return n;
    }
    std::string_view op;
    for (std::string_view o : {">=", "<=", ">", "<", "="}) {
      if (v.starts_with(o)) {
        op = o;
        break;
      }
    }
    if (!op.empty()) {
      std::string_view rest = v.substr(op.size());
      if (!bound(rest, &first, &last)) return bad(rest);
      if (op == ">=") {
        n.lo = first;
      } else if (op == ">") {
        n.lo = last + 1;
      } else if (op == "<=") {
        n.hi = last;
      } else if (op == "<") {
        n.hi = first - 1;
      } else {
        n.lo = first;
        n.hi = last;
      }
      return n;
    }
    size_t dots = v.find("..");
    if (dots == std::string_view::npos) {
      if (!bound(v, &first, &last)) return bad(v);
      n.lo = first;
      n.hi = last;
      return n;
    }
    std::string_view a = v.substr(0, dots), b = v.substr(dots + 2);
    if (a.empty() && b.empty()) {
      Fail("the range in " + what + " has no ends");
      return std::nullopt;
    }
    if (!a.empty()) {
      if (!bound(a, &first, &last)) return bad(a);
      n.lo = first;
    }
    if (!b.empty()) {
      if (!bound(b, &first, &last)) return bad(b);
      n.hi = last;
    }
    if (n.lo && n.hi && *n.lo > *n.hi) {
      Fail("the range in " + what + " is empty (its start is after its end)");
      return std::nullopt;
    }
    return n;
  }

  std::string_view text_;
  std::vector<Token> toks_;
  size_t pos_ = 0;
  const QueryParserOptions& opts_;
  Status err_;
};

// ---------------------------------------------------------------------------
// Describe.

std::string FormatNumber(double d) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.0f", d);
  return buf;
}

void Describe(const QueryNode& n, std::string* out) {
  using K = QueryNode::Kind;
  auto terms = [&] {
    for (const std::string& t : n.terms) {
      out->push_back(' ');
      out->append(Quoted(t));
    }
  };
  auto pre = [&] {
    if (n.prefix.empty()) return;
    out->push_back(' ');
    out->append(n.prefix);
  };
  switch (n.kind) {
    case K::kAnd:
    case K::kOr:
    case K::kNot:
      *out += n.kind == K::kAnd ? "(and" : n.kind == K::kOr ? "(or" : "(not";
      for (const QueryNode& c : n.children) {
        *out += " ";
        Describe(c, out);
      }
      *out += ")";
      return;
    case K::kWord:
      *out += "(word";
      pre();
      terms();
      break;
    case K::kPhrase:
      *out += "(phrase";
      pre();
      terms();
      break;
    case K::kWildcard:
      *out += "(wildcard";
      pre();
      terms();
      break;
    case K::kFilter:
      *out += n.wildcard ? "(filter*" : "(filter";
      terms();
      break;
    case K::kItem:
      *out += "(item " + n.prefix + " " + Quoted(n.value);
      break;
    case K::kRange:
      *out += "(range " + std::to_string(n.slot) + " " +
              (n.lo ? FormatNumber(*n.lo) : "") + ".." +
              (n.hi ? FormatNumber(*n.hi) : "");
      break;
  }
  *out += ")";
}

// ---------------------------------------------------------------------------
// Building the Xapian query.

// Every document: the empty term, as Xapian::Query::MatchAll is. A fresh
// object each time: the static's reference count is not atomic, and
// Searchers on several threads would share it.
Xapian::Query MatchAll() { return Xapian::Query(std::string()); }

Xapian::Query Unweighted(Xapian::Query q) {
  return Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, q, 0.0);
}

// A word wildcard expanded against the whole database (every shard's
// terms, their collection-wide frequencies): the most frequent
// opts.wildcard_limit words with the prefix, OR-ed, each weighted by its
// own statistics. Xapian's own OP_WILDCARD expands per sub-database and
// estimates a synonym's statistics per sub-database, so its weights would
// depend on how the collection is split.
Xapian::Query ExpandWildcard(const std::string& pattern,
                             const QueryBuildOptions& opts) {
  std::vector<std::pair<Xapian::doccount, std::string>> terms;
  for (Xapian::TermIterator t = opts.db->allterms_begin(pattern);
       t != opts.db->allterms_end(pattern); ++t) {
    terms.emplace_back(t.get_termfreq(), *t);
  }
  if (terms.empty()) return NoMatch();
  auto most_frequent = [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  };
  if (terms.size() > opts.wildcard_limit) {
    std::partial_sort(terms.begin(), terms.begin() + opts.wildcard_limit,
                      terms.end(), most_frequent);
    terms.resize(opts.wildcard_limit);
  }
  std::vector<Xapian::Query> qs;
  qs.reserve(terms.size());
  for (const auto& [freq, term] : terms) qs.emplace_back(term);
  return Xapian::Query(Xapian::Query::OP_OR, qs.begin(), qs.end());
}

// thread:, under: or parent: of an item the archive knows only as the
// parent its replies name (a story a comment dump lacks) and that starts no
// thread: each reply below it starts a thread of its own. What lies below
// it is read from the stores: the real items reached from it through such
// placeholders only (a placeholder hint-linked below it, and so on), each
// with the items below it; for parent:, its own real replies alone.
constexpr size_t kMaxBelowPlaceholder = 100000;

Xapian::Query BelowPlaceholder(const QueryNode& n,
                               const QueryBuildOptions& opts) {
  std::vector<Xapian::Query> parts;
  for (const StoreReader* store : opts.stores) {
    if (store == nullptr || parts.size() >= kMaxBelowPlaceholder) continue;
    Result<uint32_t> start = store->Find(n.value);
    if (!start.ok()) continue;
    // What a failed read hides is left out; the rest still matches.
    std::vector<StoredItem> below;
    store
        ->ItemsBelowPlaceholder(*start, n.prefix == schema::kPrefixParent,
                                kMaxBelowPlaceholder - parts.size(), &below)
        .IgnoreError();
    for (size_t k = 0; k < below.size() && parts.size() < kMaxBelowPlaceholder;
         ++k) {
      const StoredItem& c = below[k];
      const std::string key = schema::ItemKeyString(c.item.source, c.item.id);
      if (n.prefix == schema::kPrefixParent) {
        parts.emplace_back(schema::Term(schema::kPrefixId, key));
      } else if (c.is_root()) {
        parts.emplace_back(schema::Term(schema::kPrefixThread, key));
      } else {
        parts.emplace_back(schema::Term(schema::kPrefixUnder, key));
        parts.emplace_back(schema::Term(schema::kPrefixId, key));
      }
    }
  }
  if (parts.empty()) return NoMatch();
  return Xapian::Query(Xapian::Query::OP_OR, parts.begin(), parts.end());
}

Xapian::Query ResolveItem(const QueryNode& n, const QueryBuildOptions& opts) {
  // The shard holding the item itself (not a placeholder of it) decides.
  Result<FoundItem> found = FindAmong(
      opts.stores, [&](const StoreReader& s) { return s.Find(n.value); });
  if (!found.ok()) return NoMatch();
  Result<StoredItem> item = std::move(found->item);
  if (item->placeholder && item->is_root() &&
      n.prefix != schema::kPrefixId) {
    return BelowPlaceholder(n, opts);
  }
  if (n.prefix == schema::kPrefixThread && !item->is_root()) {
    item = opts.stores[found->store]->Get(item->root_num);
    if (!item.ok()) return NoMatch();
  }
  std::string key = schema::ItemKeyString(item->item.source, item->item.id);
  Xapian::Query q(schema::Term(n.prefix, key));
  if (n.prefix == schema::kPrefixParent) {
    // parent:X: the items below X (XU) one level deeper than X.
    const double depth = static_cast<double>(item->depth) + 1;
    return Xapian::Query(
        Xapian::Query::OP_FILTER,
        Xapian::Query(schema::Term(schema::kPrefixUnder, key)),
        Xapian::Query(Xapian::Query::OP_VALUE_RANGE, schema::kValueDepth,
                      Xapian::sortable_serialise(depth),
                      Xapian::sortable_serialise(depth)));
  }
  if (n.prefix == schema::kPrefixUnder) {
    // under:X includes X itself.
    q = Xapian::Query(Xapian::Query::OP_OR, q,
                      Xapian::Query(schema::Term(schema::kPrefixId, key)));
  }
  return q;
}

using TermQuery = std::function<Xapian::Query(const std::string&)>;

Xapian::Query Term(const std::string& term, const TermQuery& weighted) {
  return weighted ? weighted(term) : Xapian::Query(term);
}

Xapian::Query Phrase(const std::string& prefix,
                     const std::vector<std::string>& terms,
                     const TermQuery& weighted = nullptr) {
  if (terms.size() == 1) return Term(prefix + terms[0], weighted);
  std::vector<Xapian::Query> qs;
  for (const std::string& t : terms) qs.emplace_back(prefix + t);
  return Xapian::Query(Xapian::Query::OP_PHRASE, qs.begin(), qs.end(),
                       static_cast<Xapian::termcount>(qs.size()));
}

// The terms of a one-term word with a stem, when the query weighs it
// through weighted_word; nullopt otherwise.
std::optional<WordTerms> WeightedWordTerms(const QueryNode& node,
                                           const Xapian::Stem& stemmer,
                                           const QueryBuildOptions& opts) {
  if (opts.match_only || !opts.weighted_term || !opts.weighted_word ||
      node.kind != QueryNode::Kind::kWord || node.terms.size() != 1) {
    return std::nullopt;
  }
  const std::string& term = node.terms[0];
  const std::string stem = ShouldStem(term) ? stemmer(term) : std::string();
  if (stem.empty()) return std::nullopt;
  WordTerms w;
  w.stem = "Z" + node.prefix + stem;
  w.exact = node.prefix + term;
  w.exact_scale = opts.exact_weight;
  if (opts.title_words && opts.title_words->count(&node)) {
    w.title = "Z" + std::string(schema::kPrefixTitle) + stem;
    w.title_scale = opts.title_scale;
  }
  return w;
}

Xapian::Query Word(const QueryNode& node, const std::string& prefix,
                   const std::string& term, const Xapian::Stem& stemmer,
                   const QueryBuildOptions& opts) {
  const double exact_weight = opts.exact_weight;
  const bool match_only = opts.match_only;
  const TermQuery& weighted = opts.weighted_term;
  if (match_only) {
    if (!ShouldStem(term)) return Xapian::Query(prefix + term);
    std::string stem = stemmer(term);
    if (stem.empty()) return Xapian::Query(prefix + term);
    return Xapian::Query("Z" + prefix + stem);
  }
  // Every document with the exact term has its stem term (TermGenerator's
  // STEM_SOME stems what ShouldStem accepts): the stem's matches are the
  // word's, and the exact term only adds weight. AND_MAYBE says so to the
  // matcher, which then skips along the exact term's postings instead of
  // merging them (on R-help, known-item and topical p50 3% lower than
  // with OR; the same results and weights). weighted_word is the same in
  // one posting source that reads the exact term only where it weighs.
  if (std::optional<WordTerms> w = WeightedWordTerms(node, stemmer, opts)) {
    return opts.weighted_word(*w);
  }
  const std::string stem = ShouldStem(term) ? stemmer(term) : std::string();
  if (stem.empty()) return Term(prefix + term, weighted);
  // (weighted_term's sources may skip what cannot reach the match's
  // minimum, which holds only under a scale of at most 1.)
  Xapian::Query exact =
      Term(prefix + term, exact_weight <= 1 ? weighted : TermQuery());
  return Xapian::Query(
      Xapian::Query::OP_AND_MAYBE, Term("Z" + prefix + stem, weighted),
      Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, exact, exact_weight));
}

// The top-level, positive, plain (unprefixed) words and phrases of the tree.
void PlainWords(const QueryNode& node, std::vector<const QueryNode*>* out) {
  using K = QueryNode::Kind;
  if ((node.kind == K::kWord || node.kind == K::kPhrase) &&
      node.prefix.empty()) {
    out->push_back(&node);
  } else if (node.kind == K::kAnd) {
    for (const QueryNode& c : node.children) {
      if ((c.kind == K::kWord || c.kind == K::kPhrase) && c.prefix.empty()) {
        out->push_back(&c);
      }
    }
  }
}

}  // namespace

// Xapian::Query::MatchNothing is the empty query, and an AND with an empty
// subquery is empty too, which the callers read as "no condition" (a blank
// query matches everything): an unknown thread:ID would then select every
// item. A term no document has stays itself in any AND.
Xapian::Query NoMatch() { return Xapian::Query(std::string("\x01none")); }

bool QueryNode::IsFilterOnly() const {
  switch (kind) {
    case Kind::kFilter:
    case Kind::kItem:
    case Kind::kRange:
      return true;
    case Kind::kWord:
    case Kind::kPhrase:
    case Kind::kWildcard:
      return false;
    case Kind::kAnd:
    case Kind::kOr:
    case Kind::kNot:
      return std::all_of(children.begin(), children.end(),
                         [](const QueryNode& c) { return c.IsFilterOnly(); });
  }
  return false;
}

bool QueryNode::HasWords() const {
  switch (kind) {
    case Kind::kWord:
    case Kind::kPhrase:
    case Kind::kWildcard:
      return true;
    case Kind::kNot:
    case Kind::kFilter:
    case Kind::kItem:
    case Kind::kRange:
      return false;
    case Kind::kAnd:
    case Kind::kOr:
      return std::any_of(children.begin(), children.end(),
                         [](const QueryNode& c) { return c.HasWords(); });
  }
  return false;
}

Result<QueryNode> ParseQuery(std::string_view text,
                             const QueryParserOptions& opts) {
  std::vector<Token> toks;
  Lexer lexer(text);
  TS_RETURN_IF_ERROR(lexer.Run(&toks));
  Parser parser(text, std::move(toks), opts);
  Result<QueryNode> root = parser.Run();
  if (!root.ok()) return root;
  if (root->kind == QueryNode::Kind::kAnd && root->children.empty() &&
      !TrimAscii(text).empty()) {
    return Status::InvalidArgument("query: " + Quoted(TrimAscii(text)) +
                                   " has no words to search for");
  }
  return root;
}

std::string DescribeQuery(const QueryNode& node) {
  std::string out;
  Describe(node, &out);
  return out;
}

std::vector<std::string> IndexTerms(std::string_view text) {
  // The TermGenerator's own tokeniser, so that query words split exactly as
  // indexed words did ("e-mail", "C++", "don't", "U.S.A.").
  Xapian::TermGenerator tg;
  Xapian::Document doc;
  tg.set_document(doc);
  tg.index_text(std::string(text));
  std::vector<std::pair<Xapian::termpos, std::string>> at;
  for (Xapian::TermIterator t = doc.termlist_begin(); t != doc.termlist_end();
       ++t) {
    for (Xapian::PositionIterator p = t.positionlist_begin();
         p != t.positionlist_end(); ++p) {
      at.emplace_back(*p, *t);
    }
  }
  std::sort(at.begin(), at.end());
  std::vector<std::string> out;
  out.reserve(at.size());
  for (auto& [pos, term] : at) out.push_back(std::move(term));
  return out;
}

bool BuildsWithoutReading(const QueryNode& node) {
  if (node.kind == QueryNode::Kind::kItem ||
      node.kind == QueryNode::Kind::kWildcard) {
    return false;
  }
  return std::all_of(node.children.begin(), node.children.end(),
                     BuildsWithoutReading);
}

bool ShouldStem(std::string_view term) {
  if (term.empty()) return false;
  Xapian::Utf8Iterator u(term.data(), term.size());
  switch (Xapian::Unicode::get_category(*u)) {
    case Xapian::Unicode::LOWERCASE_LETTER:
    case Xapian::Unicode::TITLECASE_LETTER:
    case Xapian::Unicode::MODIFIER_LETTER:
    case Xapian::Unicode::OTHER_LETTER:
      return true;
    default:
      return false;
  }
}

Xapian::Query BuildQuery(const QueryNode& n, const QueryBuildOptions& opts) {
  using K = QueryNode::Kind;
  switch (n.kind) {
    case K::kWord:
      if (n.terms.size() == 1) {
        return Word(n, n.prefix, n.terms[0], *opts.stemmer, opts);
      }
      return Phrase(n.prefix, n.terms);
    case K::kPhrase:
      return Phrase(n.prefix, n.terms,
                    opts.match_only ? nullptr : opts.weighted_term);
    case K::kWildcard:
      if (opts.db) return ExpandWildcard(n.prefix + n.terms[0], opts);
      return Xapian::Query(Xapian::Query::OP_WILDCARD, n.prefix + n.terms[0],
                           opts.wildcard_limit,
                           Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT,
                           Xapian::Query::OP_SYNONYM);
    // Boolean terms have wdf 0, so BM25 gives them no weight and value
    // ranges have none: neither needs OP_SCALE_WEIGHT 0, which Xapian
    // 1.4.22 cannot apply to a term that every document has ("Unexpected
    // end of posting list").
    case K::kFilter:
      if (n.wildcard) {
        return Xapian::Query(Xapian::Query::OP_WILDCARD, n.terms[0],
                             opts.wildcard_limit,
                             Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT,
                             Xapian::Query::OP_OR);
      }
      return Xapian::Query(n.terms[0]);
    case K::kItem:
      return ResolveItem(n, opts);
    case K::kRange: {
      Xapian::Query q;
      if (n.lo && n.hi) {
        q = Xapian::Query(Xapian::Query::OP_VALUE_RANGE, n.slot,
                          Xapian::sortable_serialise(*n.lo),
                          Xapian::sortable_serialise(*n.hi));
      } else if (n.lo) {
        q = Xapian::Query(Xapian::Query::OP_VALUE_GE, n.slot,
                          Xapian::sortable_serialise(*n.lo));
      } else if (n.hi) {
        q = Xapian::Query(Xapian::Query::OP_VALUE_LE, n.slot,
                          Xapian::sortable_serialise(*n.hi));
      } else {
        q = Unweighted(MatchAll());
      }
      return q;
    }
    case K::kNot:
      return Xapian::Query(Xapian::Query::OP_AND_NOT,
                           Unweighted(MatchAll()),
                           BuildQuery(n.children[0], opts));
    case K::kOr: {
      std::vector<Xapian::Query> qs;
      for (const QueryNode& c : n.children) qs.push_back(BuildQuery(c, opts));
      return Xapian::Query(Xapian::Query::OP_OR, qs.begin(), qs.end());
    }
    case K::kAnd: {
      std::vector<Xapian::Query> scored, filters, negated;
      std::vector<WordTerms> words;  // weighted words, for weighted_words
      for (const QueryNode& c : n.children) {
        if (c.kind == K::kNot) {
          negated.push_back(BuildQuery(c.children[0], opts));
        } else if (c.IsFilterOnly()) {
          filters.push_back(BuildQuery(c, opts));
        } else if (std::optional<WordTerms> w;
                   opts.weighted_words &&
                   (w = WeightedWordTerms(c, *opts.stemmer, opts))) {
          words.push_back(std::move(*w));
        } else {
          scored.push_back(BuildQuery(c, opts));
        }
      }
      if (words.size() == 1) scored.push_back(opts.weighted_word(words[0]));
      if (words.size() > 1) scored.push_back(opts.weighted_words(words));
      Xapian::Query q;
      if (!scored.empty()) {
        q = Xapian::Query(Xapian::Query::OP_AND, scored.begin(), scored.end());
      }
      if (!filters.empty()) {
        Xapian::Query f(Xapian::Query::OP_AND, filters.begin(), filters.end());
        q = q.empty() ? f : Xapian::Query(Xapian::Query::OP_FILTER, q, f);
      }
      if (q.empty()) q = Unweighted(MatchAll());
      if (!negated.empty()) {
        q = Xapian::Query(
            Xapian::Query::OP_AND_NOT, q,
            Xapian::Query(Xapian::Query::OP_OR, negated.begin(), negated.end()));
      }
      return q;
    }
  }
  return NoMatch();
}

std::vector<std::string> ProximityTerms(const QueryNode& node) {
  std::vector<const QueryNode*> words;
  PlainWords(node, &words);
  std::vector<std::string> terms;
  for (const QueryNode* w : words) {
    terms.insert(terms.end(), w->terms.begin(), w->terms.end());
  }
  return terms;
}

std::vector<std::string> OneTermWords(const QueryNode& node) {
  std::vector<const QueryNode*> words;
  PlainWords(node, &words);
  std::vector<std::string> terms;
  for (const QueryNode* w : words) {
    if (w->terms.size() == 1) terms.push_back(w->terms[0]);
  }
  return terms;
}

Xapian::Query TitleBoost(const QueryNode& node, const Xapian::Stem& stemmer,
                         double scale, const TermQuery& weighted_term,
                         const std::unordered_set<const QueryNode*>* folded) {
  std::vector<const QueryNode*> words;
  PlainWords(node, &words);
  std::vector<Xapian::Query> qs;
  const std::string prefix(schema::kPrefixTitle);
  for (const QueryNode* w : words) {
    if (folded && folded->count(w)) continue;
    for (const std::string& t : w->terms) {
      std::string stem = ShouldStem(t) ? stemmer(t) : std::string();
      qs.push_back(stem.empty() ? Term(prefix + t, weighted_term)
                                : Term("Z" + prefix + stem, weighted_term));
    }
  }
  if (qs.empty()) return Xapian::Query();
  return Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT,
                       Xapian::Query(Xapian::Query::OP_OR, qs.begin(), qs.end()),
                       scale);
}

std::unordered_set<const QueryNode*> TitleFoldedWords(
    const QueryNode& node, const Xapian::Stem& stemmer) {
  std::vector<const QueryNode*> words;
  PlainWords(node, &words);
  std::unordered_set<const QueryNode*> out;
  for (const QueryNode* w : words) {
    // As Word() weighs through weighted_word: one term, with a stem.
    if (w->kind == QueryNode::Kind::kWord && w->terms.size() == 1 &&
        ShouldStem(w->terms[0]) && !stemmer(w->terms[0]).empty()) {
      out.insert(w);
    }
  }
  return out;
}

void CollectWords(const QueryNode& node, std::vector<const QueryNode*>* out) {
  using K = QueryNode::Kind;
  if (node.kind == K::kWord && node.terms.size() == 1) {
    out->push_back(&node);
  } else if (node.kind == K::kAnd || node.kind == K::kOr) {
    for (const QueryNode& c : node.children) CollectWords(c, out);
  }
}

}  // namespace threadsearch
