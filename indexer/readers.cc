#include "indexer/readers.h"

#include <string>
#include <utility>
#include <vector>

#include "indexer/input_stream.h"

namespace threadsearch {

namespace {

constexpr struct {
  Format format;
  std::string_view name;
} kFormatNames[] = {
    {Format::kAuto, "auto"},
    {Format::kHnJson, "hn-json"},
    {Format::kAlgolia, "algolia"},
    {Format::kBigQuery, "bigquery"},
    {Format::kPushshift, "pushshift"},
    {Format::kMbox, "mbox"},
    {Format::kThreadPage, "thread-page"},
};

// How much of a stream SniffFormat looks at; a JSON record that the window
// cuts before its keys tell the format is looked at again up to
// kSniffMaxBytes (an Algolia item tree or a Pushshift self post can put
// tens of KiB before the telling keys).
constexpr size_t kSniffBytes = 64 << 10;
constexpr size_t kSniffMaxBytes = 1 << 20;

// One key of the first JSON record, as far as the sniff window shows it.
struct JsonKey {
  std::string key;
  int depth = 0;  // 1 = a key of the record object itself.
  char kind = 0;  // Value's first character: '"', '{', '[', digit, 't', 'n'…
  std::string str_prefix;  // Start of a string value.
};

// What the first JSON record looks like. The record is the top-level object,
// or the first element when the top level is an array.
struct JsonShape {
  bool top_array = false;
  bool complete = false;  // The first record ended inside the window.
  std::vector<JsonKey> keys;
};

// Reads the keys of the first record from a prefix of a JSON text without
// a full parser: the window may cut the record anywhere, and sniffing must
// not depend on the rest.
JsonShape ScanJsonShape(std::string_view s) {
  JsonShape shape;
  size_t i = 0;
  while (i < s.size() && IsJsonSpace(s[i])) ++i;
  if (i < s.size() && s[i] == '[') {
    shape.top_array = true;
    ++i;
  }
  int base = shape.top_array ? 1 : 0;  // Depth of the record's container.
  std::vector<char> stack;             // Open brackets.
  if (shape.top_array) stack.push_back('[');
  std::string pending_key;
  bool have_key = false;
  while (i < s.size()) {
    char c = s[i];
    if (IsJsonSpace(c) || c == ',') {
      ++i;
      continue;
    }
    if (c == '"') {
      size_t j = i + 1;
      std::string str;
      while (j < s.size() && s[j] != '"') {
        if (s[j] == '\\') ++j;
        if (j < s.size()) str.push_back(s[j]);
        ++j;
      }
      if (j >= s.size()) break;  // Window ends inside a string.
      size_t k = j + 1;
      while (k < s.size() && IsJsonSpace(s[k])) ++k;
      bool in_object = !stack.empty() && stack.back() == '{';
      if (in_object && !have_key && k < s.size() && s[k] == ':') {
        pending_key = std::move(str);
        have_key = true;
        i = k + 1;
        continue;
      }
      if (have_key) {
        JsonKey jk{pending_key, static_cast<int>(stack.size()) - base, '"',
                   str.substr(0, 16)};
        shape.keys.push_back(std::move(jk));
        have_key = false;
      }
      i = j + 1;
      continue;
    }
    if (c == '{' || c == '[') {
      if (have_key) {
        shape.keys.push_back(
            {pending_key, static_cast<int>(stack.size()) - base, c, ""});
        have_key = false;
      }
      stack.push_back(c);
      ++i;
      continue;
    }
    if (c == '}' || c == ']') {
      if (stack.empty()) break;
      stack.pop_back();
      ++i;
      // End of the first record.
      if (static_cast<int>(stack.size()) <= base) {
        shape.complete = true;
        break;
      }
      continue;
    }
    // A bare scalar: number, true, false, null.
    if (have_key) {
      shape.keys.push_back(
          {pending_key, static_cast<int>(stack.size()) - base, c, ""});
      have_key = false;
    }
    while (i < s.size() && !IsJsonSpace(s[i]) && s[i] != ',' && s[i] != '}' &&
           s[i] != ']') {
      ++i;
    }
  }
  return shape;
}

const JsonKey* FindKey(const JsonShape& shape, std::string_view key,
                       int depth) {
  for (const JsonKey& k : shape.keys) {
    if (k.depth == depth && k.key == key) return &k;
  }
  return nullptr;
}

bool IsRedditFullname(const JsonKey* k) {
  return k != nullptr && k->kind == '"' &&
         (k->str_prefix.rfind("t1_", 0) == 0 ||
          k->str_prefix.rfind("t3_", 0) == 0);
}

// Decides among the JSON formats from the first record's keys; kAuto when
// none fits.
Format SniffJson(const JsonShape& shape) {
  auto has = [&](std::string_view key) {
    return FindKey(shape, key, 1) != nullptr;
  };
  auto has_at_any_depth = [&](std::string_view key) {
    for (const JsonKey& k : shape.keys) {
      if (k.key == key) return true;
    }
    return false;
  };
  if (shape.top_array && has("url") && has("reply")) return Format::kAlgolia;
  // An item tree's node: "children" with "created_at_i" beside it, or,
  // when the keys come sorted ("author", "children", "created_at", …, as
  // the items API writes them now) and the window ends inside the
  // children, in the nodes below.
  if (has("hits") || has("nbHits") || has("objectID") ||
      (has("children") && (has("created_at_i") || has("author") ||
                           has_at_any_depth("created_at_i")))) {
    return Format::kAlgolia;
  }
  if (has("post") || has("comments")) return Format::kHnJson;
  // A Pushshift API response: {"data": [records…], "metadata": …}.
  if (const JsonKey* data = FindKey(shape, "data", 1);
      data != nullptr && data->kind == '[') {
    for (std::string_view key :
         {"subreddit", "subreddit_id", "created_utc", "link_id"}) {
      if (FindKey(shape, key, 3) != nullptr) return Format::kPushshift;
    }
  }
  // Reddit's own JSON, as Arctic Shift's comment trees keep it: {"kind":
  // "Listing", "data": {"children": [{"kind": "t1", "data": {…}}]}}, at
  // the top or in a {"data": [...]} response.
  for (const JsonKey& k : shape.keys) {
    if (k.key == "kind" && k.kind == '"' &&
        (k.str_prefix == "Listing" || k.str_prefix == "t1" ||
         k.str_prefix == "t3") &&
        FindKey(shape, "data", k.depth) != nullptr) {
      return Format::kPushshift;
    }
  }
  // Dumps write the keys sorted: "author_fullname" ("t2_…") and
  // "created_utc" come before a long self post's "selftext" and
  // "selftext_html", which can push "subreddit" out of the window.
  const JsonKey* author_fullname = FindKey(shape, "author_fullname", 1);
  if (has("subreddit") || has("subreddit_id") || has("created_utc") ||
      (author_fullname != nullptr && author_fullname->kind == '"' &&
       author_fullname->str_prefix.rfind("t2_", 0) == 0) ||
      IsRedditFullname(FindKey(shape, "link_id", 1)) ||
      IsRedditFullname(FindKey(shape, "parent_id", 1)) ||
      IsRedditFullname(FindKey(shape, "name", 1))) {
    return Format::kPushshift;
  }
  bool all_strings = true;
  int n = 0;
  for (const JsonKey& k : shape.keys) {
    if (k.depth != 1) continue;
    ++n;
    if (k.kind != '"') all_strings = false;
  }
  if (n > 0 && all_strings && has("id") &&
      (has("by") || has("time") || has("parent"))) {
    return Format::kBigQuery;
  }
  // The legacy BigQuery tables (hacker_news.stories, .comments) add
  // "time_ts" and "author" beside "time" and "by"; a query may keep only
  // those.
  if (has("id") && has("time_ts")) return Format::kBigQuery;
  if (has("by") || has("kids") || has("type") || has("descendants") ||
      (has("id") && has("time"))) {
    return Format::kHnJson;
  }
  if (has("created_at_i")) return Format::kAlgolia;
  return Format::kAuto;
}

bool LooksLikeThreadPage(std::string_view s) {
  if (s.find("\xE2\x97\xB4[") != std::string_view::npos &&
      s.find("] No.") != std::string_view::npos) {
    return true;
  }
  size_t pos = 0;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    std::string_view line =
        s.substr(pos, nl == std::string_view::npos ? s.npos : nl - pos);
    if (line.rfind("replies(", 0) == 0 || line.rfind("\xE2\x86\x90"
                                                     "back to thread",
                                                     0) == 0) {
      return true;
    }
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return false;
}

}  // namespace

std::string_view FormatName(Format f) {
  for (const auto& e : kFormatNames) {
    if (e.format == f) return e.name;
  }
  return "unknown";
}

Result<Format> ParseFormat(std::string_view name) {
  std::string valid;
  for (const auto& e : kFormatNames) {
    if (e.name == name) return e.format;
    if (!valid.empty()) valid += ", ";
    valid += e.name;
  }
  return Status::InvalidArgument("unknown format \"" + std::string(name) +
                                 "\" (valid: " + valid + ")");
}

bool IsJsonSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

size_t SkipJsonNulls(std::string_view s, size_t i) {
  for (;;) {
    while (i < s.size() && IsJsonSpace(s[i])) ++i;
    if (s.compare(i, 4, "null") != 0 ||
        (i + 4 < s.size() && !IsJsonSpace(s[i + 4]))) {
      return i;
    }
    i += 4;
  }
}

Result<Format> SniffFormat(InputStream& in) {
  std::string head = in.Peek(kSniffBytes);
  // A stream that fails inside the window (a truncated .gz) is sniffed from
  // what it gave; its reader then reports the error after the good records.
  if (head.empty() && !in.status().ok()) return in.status();
  std::string_view s = head;
  if (s.rfind("\xEF\xBB\xBF", 0) == 0) s.remove_prefix(3);
  size_t i = 0;
  while (i < s.size() && IsJsonSpace(s[i])) ++i;
  // Blank lines before the first separator (some exports start so) do not
  // make a mailbox something else; the mbox reader skips them.
  if ((i == 0 || s[i - 1] == '\n') && s.compare(i, 5, "From ") == 0) {
    return Format::kMbox;
  }
  i = SkipJsonNulls(s, i);
  if (i < s.size() && (s[i] == '{' || s[i] == '[')) {
    JsonShape shape = ScanJsonShape(s.substr(i));
    Format f = SniffJson(shape);
    if (f == Format::kAuto && !shape.complete && head.size() >= kSniffBytes) {
      // The first record goes on past the window: look further into it.
      const size_t offset = static_cast<size_t>(s.data() - head.data()) + i;
      head = in.Peek(kSniffMaxBytes);
      if (head.size() > offset) {
        f = SniffJson(ScanJsonShape(std::string_view(head).substr(offset)));
      }
    }
    if (f != Format::kAuto) return f;
    return Status::InvalidArgument(
        in.name() +
        ": JSON of an unknown shape (not HN, Algolia, BigQuery "
        "or Pushshift); name the format explicitly");
  }
  if (LooksLikeThreadPage(s)) return Format::kThreadPage;
  if (s.empty()) {
    return Status::InvalidArgument(in.name() +
                                   ": empty input, cannot tell its format");
  }
  return Status::InvalidArgument(in.name() +
                                 ": cannot tell the input format; name it "
                                 "explicitly");
}

// Whether the whole stream is blank: empty, blank lines, or JSON nulls (ids
// the HN API had no item for). Such an input holds no items in any format.
bool HoldsNothing(InputStream& in) {
  const std::string head = in.Peek(kSniffBytes);
  if (head.size() >= kSniffBytes || !in.status().ok()) return false;
  std::string_view s = head;
  if (s.rfind("\xEF\xBB\xBF", 0) == 0) s.remove_prefix(3);
  return SkipJsonNulls(s, 0) == s.size();
}

Status ReadStream(InputStream& in, Format format, const ReadCallbacks& cb) {
  if (format == Format::kAuto) {
    // An empty file (an export of a quiet month, a crawl that found
    // nothing) is read, not failed: it holds no items.
    if (HoldsNothing(in)) return Status::OK();
    Result<Format> f = SniffFormat(in);
    if (!f.ok()) return f.status();
    format = *f;
  }
  switch (format) {
    case Format::kHnJson:
      return ReadHnJson(in, cb);
    case Format::kAlgolia:
      return ReadAlgolia(in, cb);
    case Format::kBigQuery:
      return ReadBigQuery(in, cb);
    case Format::kPushshift:
      return ReadPushshift(in, cb);
    case Format::kMbox:
      return ReadMbox(in, "", cb);
    case Format::kThreadPage:
      return ReadThreadPage(in, cb);
    case Format::kAuto:
      break;
  }
  return Status::Internal("ReadStream: unhandled format");
}

}  // namespace threadsearch
