#include "server/json_codec.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string_view>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "common/schema.h"
#include "common/text.h"
#include "server/params.h"

namespace threadsearch {

namespace {

using nlohmann::json;

std::string Dump(const json& j, int indent) {
  // Replace invalid UTF-8 rather than throwing: stored text is sanitised,
  // but a dump must never fail.
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

json ContextItemJson(const ContextItem& c) {
  json j = {{"id", c.id},
            {"author", c.author},
            {"time", c.time},
            {"excerpt", c.excerpt}};
  if (!c.author_name.empty()) j["author_name"] = c.author_name;
  if (c.missing) j["missing"] = true;
  return j;
}

json ItemFields(const StoredItem& s) {
  const Item& it = s.item;
  json j = {{"id", it.id},
            {"source", std::string(SourceName(it.source))},
            {"type", std::string(ItemTypeName(it.type))},
            {"author", it.author},
            {"time", it.time},
            {"title", it.title},
            {"parent", it.parent.empty() ? json(nullptr) : json(it.parent)},
            {"depth", s.depth},
            {"replies", s.reply_count}};
  if (!it.author_name.empty()) j["author_name"] = it.author_name;
  if (!it.url.empty()) j["url"] = it.url;
  if (it.has_points) j["points"] = it.points;
  if (!it.list.empty()) j["list"] = it.list;
  if (!it.channel.empty()) j["subreddit"] = it.channel;
  if (it.deleted) j["deleted"] = true;
  if (s.placeholder) j["missing"] = true;
  return j;
}

json NodeJson(const ThreadNode& n, const std::string& asked) {
  json j = ItemFields(n.item);
  j["text"] = n.item.item.text;
  j["text_html"] = n.item.item.text_html;
  if (n.item.item.id == asked) j["asked"] = true;
  json kids = json::array();
  for (const ThreadNode& c : n.children) kids.push_back(NodeJson(c, asked));
  j["children"] = std::move(kids);
  if (n.truncated) j["truncated"] = true;
  return j;
}

// Compact JSON written straight into a string, byte for byte what
// nlohmann's dump(-1, ' ', false, replace) writes for the same values, for
// the /api/search answer: building the json tree (a std::map an object, a
// node a value) and dumping it cost about 1.2M instructions a response,
// 15% of a query's. Keys must come in sorted order (nlohmann::json's, a
// std::map: the CLI's indented answer is this one parsed and dumped).
class JsonOut {
 public:
  explicit JsonOut(size_t reserve = 0) { out_.reserve(reserve); }
  std::string Take() { return std::move(out_); }
  void Open() { Begin('{'); }
  void Close() { End('}'); }
  void OpenArray() { Begin('['); }
  void CloseArray() { End(']'); }
  void Key(std::string_view k) {
    Sep();
    Quoted(k);
    out_ += ':';
    comma_ = false;
  }
  void Str(std::string_view s) {
    Sep();
    Quoted(s);
    comma_ = true;
  }
  void Int(int64_t v) { Integer(v); }
  void Uint(uint64_t v) { Integer(v); }
  void Bool(bool b) { Number(b ? "true" : "false"); }
  void Null() { Number("null"); }
  // A key and its value.
  void StrField(std::string_view k, std::string_view v) {
    Key(k);
    Str(v);
  }
  void IntField(std::string_view k, int64_t v) {
    Key(k);
    Int(v);
  }
  void UintField(std::string_view k, uint64_t v) {
    Key(k);
    Uint(v);
  }
  void Double(double x) {
    if (!std::isfinite(x)) return Null();
    std::array<char, 64> buf;  // nlohmann's number buffer
    const char* end =
        nlohmann::detail::to_chars(buf.data(), buf.data() + buf.size(), x);
    Number(std::string_view(buf.data(), static_cast<size_t>(end - buf.data())));
  }

 private:
  void Sep() {
    if (comma_) out_ += ',';
  }
  void Begin(char c) {
    Sep();
    out_ += c;
    comma_ = false;
  }
  void End(char c) {
    out_ += c;
    comma_ = true;
  }
  void Number(std::string_view text) {
    Sep();
    out_ += text;
    comma_ = true;
  }
  template <typename T>
  void Integer(T v) {
    std::array<char, 24> buf;  // 20 digits and a sign
    const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    Number(std::string_view(buf.data(), static_cast<size_t>(r.ptr - buf.data())));
  }
  // nlohmann's escapes, UTF-8 copied as it is (ensure_ascii off), in one
  // pass; a string that is not well-formed UTF-8 is written by nlohmann
  // itself instead (with its replacement characters).
  void Quoted(std::string_view s) {
    const size_t start = out_.size();
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const size_t n = s.size();
    out_ += '"';
    size_t run = 0;  // start of the bytes not yet copied
    for (size_t i = 0; i < n;) {
      const unsigned char c = p[i];
      if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
        ++i;
        continue;
      }
      if (c >= 0x80) {
        size_t bad;
        const size_t len = Utf8SeqLen(s, i, &bad);
        if (len == 0) {
          out_.resize(start);
          out_ += json(std::string(s)).dump(-1, ' ', false,
                                            json::error_handler_t::replace);
          return;
        }
        i += len;
        continue;
      }
      out_.append(s.data() + run, i - run);
      run = ++i;
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\b': out_ += "\\b"; break;
        case '\f': out_ += "\\f"; break;
        case '\n': out_ += "\\n"; break;
        case '\r': out_ += "\\r"; break;
        case '\t': out_ += "\\t"; break;
        default: {
          static const char kHex[] = "0123456789abcdef";
          out_ += "\\u00";
          out_ += kHex[c >> 4];
          out_ += kHex[c & 0xF];
        }
      }
    }
    out_.append(s.data() + run, n - run);
    out_ += '"';
  }

  std::string out_;
  bool comma_ = false;
};

void WriteContextItem(JsonOut* o, const ContextItem& c) {
  o->Open();
  o->StrField("author", c.author);
  if (!c.author_name.empty()) o->StrField("author_name", c.author_name);
  o->StrField("excerpt", c.excerpt);
  o->StrField("id", c.id);
  if (c.missing) {
    o->Key("missing");
    o->Bool(true);
  }
  o->IntField("time", c.time);
  o->Close();
}

void WriteContext(JsonOut* o, const ThreadContext& c) {
  o->Open();
  o->Key("ancestors");
  o->OpenArray();
  for (const ContextItem& a : c.ancestors) WriteContextItem(o, a);
  o->CloseArray();
  o->UintField("elided", c.elided);
  o->Key("replies");
  o->OpenArray();
  for (const ContextItem& r : c.replies) WriteContextItem(o, r);
  o->CloseArray();
  o->UintField("reply_count", c.reply_count);
  o->Key("root");
  o->Open();
  o->StrField("author", c.root_author);
  o->StrField("id", c.root_id);
  o->UintField("size", c.root_size);
  o->IntField("time", c.root_time);
  o->StrField("title", c.root_title);
  o->Close();
  o->Close();
}

// A hit: ItemFields and the hit's own, in sorted key order.
void WriteHit(JsonOut* o, const Hit& h) {
  const StoredItem& s = h.item;
  const Item& it = s.item;
  o->Open();
  o->StrField("author", it.author);
  if (!it.author_name.empty()) o->StrField("author_name", it.author_name);
  o->Key("context");
  WriteContext(o, h.context);
  if (it.deleted) {
    o->Key("deleted");
    o->Bool(true);
  }
  o->UintField("depth", s.depth);
  o->StrField("id", it.id);
  if (!it.list.empty()) o->StrField("list", it.list);
  if (s.placeholder) {
    o->Key("missing");
    o->Bool(true);
  }
  o->Key("parent");
  if (it.parent.empty()) {
    o->Null();
  } else {
    o->Str(it.parent);
  }
  if (it.has_points) o->IntField("points", it.points);
  o->UintField("rank", h.rank);
  o->UintField("replies", s.reply_count);
  o->Key("score");
  o->Double(h.score);
  o->StrField("snippet", h.snippet);
  o->StrField("source", SourceName(it.source));
  if (!it.channel.empty()) o->StrField("subreddit", it.channel);
  o->StrField("thread", h.thread_id);
  if (h.thread_hits) o->UintField("thread_hits", h.thread_hits);
  o->IntField("time", it.time);
  o->StrField("title", it.title);
  o->StrField("type", ItemTypeName(it.type));
  if (!it.url.empty()) o->StrField("url", it.url);
  o->Close();
}

// One facet's entries: {key_name: key, "count": n}, keys in sorted order.
void WriteCounts(JsonOut* o, const std::vector<CountEntry>& v,
                 std::string_view key_name) {
  o->OpenArray();
  for (const CountEntry& e : v) {
    o->Open();
    if (key_name < "count") o->StrField(key_name, e.key);
    o->UintField("count", e.count);
    if (key_name > "count") o->StrField(key_name, e.key);
    o->Close();
  }
  o->CloseArray();
}

// The search answer, compact (SearchResultToJson).
std::string WriteSearchResult(const SearchResult& r) {
  JsonOut o(8192);  // a page of ten hits with their contexts: ~5-10 KB
  o.Open();
  if (!r.did_you_mean.empty()) o.StrField("did_you_mean", r.did_you_mean);
  if (r.facets) {
    o.Key("facets");
    o.Open();
    o.Key("authors");
    WriteCounts(&o, r.facets->authors, "author");
    o.Key("months");
    WriteCounts(&o, r.facets->months, "month");
    o.Key("threads");
    WriteCounts(&o, r.facets->threads, "thread");
    o.Key("years");
    WriteCounts(&o, r.facets->years, "year");
    o.Close();
  }
  o.Key("hits");
  o.OpenArray();
  for (const Hit& h : r.hits) WriteHit(&o, h);
  o.CloseArray();
  o.UintField("limit", r.limit);
  if (r.partial) {
    o.Key("missing_shards");
    o.OpenArray();
    for (const std::string& m : r.missing_shards) o.Str(m);
    o.CloseArray();
  }
  o.UintField("page", r.page);
  o.Key("partial");
  o.Bool(r.partial);
  o.StrField("query", r.query);
  o.StrField("sort", SortOrderName(r.sort));
  o.Key("took_ms");
  o.Double(r.took_ms);
  o.UintField("total", r.total);
  o.IntField("version", kJsonVersion);
  o.Close();
  return o.Take();
}

json CountsJson(const std::vector<CountEntry>& v, const char* key_name) {
  json a = json::array();
  for (const CountEntry& e : v) a.push_back({{key_name, e.key}, {"count", e.count}});
  return a;
}

// ---- HN Search (Algolia) API shapes ----
// Ordered objects, so fields come in the order hn.algolia.com sends them.

using ojson = nlohmann::ordered_json;

std::string ODump(const ojson& j, int indent) {
  return j.dump(indent, ' ', false, ojson::error_handler_t::replace);
}

// HN ids are numbers in Algolia's JSON; other sources' ids stay strings.
ojson IdJson(Source source, const std::string& id) {
  if (source == Source::kHN && !id.empty() && id.size() < 16 &&
      id.find_first_not_of("0123456789") == std::string::npos) {
    return ojson(std::stoll(id));
  }
  return ojson(id);
}

ojson NullIfEmpty(const std::string& s) {
  return s.empty() ? ojson(nullptr) : ojson(s);
}

// Stored text as HTML: HN text is HTML already; plain text gets escaped.
std::string TextAsHtml(const Item& it) {
  return it.text_html ? it.text : HtmlEscape(it.text);
}

// The words of a query a field can match: lower-cased letters and digits,
// without operators and field:value filters.
std::vector<std::string> QueryWordsOf(const std::string& q) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < q.size()) {
    size_t j = q.find_first_of(" \t\n", i);
    if (j == std::string::npos) j = q.size();
    std::string chunk = q.substr(i, j - i);
    i = j + 1;
    if (chunk.find(':') != std::string::npos) continue;
    for (size_t k = 0; k < chunk.size();) {
      k = NextWord(chunk, k);
      if (k == chunk.size()) break;
      const size_t e = WordEnd(chunk, k);
      std::string w = WordForm(std::string_view(chunk).substr(k, e - k));
      k = e;
      if (w != "and" && w != "or" && w != "not" &&
          std::find(words.begin(), words.end(), w) == words.end()) {
        words.push_back(w);
      }
    }
  }
  return words;
}

// What marks a match in a highlight's value (<em>…</em> by default).
struct HighlightTags {
  const std::string& pre;
  const std::string& post;
};

// {"value", "matchLevel", "matchedWords"} for one field; `marked` is
// HTML-escaped text with matches in <mark>…</mark>, which the value marks
// with `tags`.
ojson HighlightJson(const std::string& marked,
                    const std::vector<std::string>& words,
                    const HighlightTags& tags) {
  std::string value;
  std::vector<std::string> tokens;
  size_t i = 0;
  while (i < marked.size()) {
    size_t m = marked.find("<mark>", i);
    if (m == std::string::npos) {
      value.append(marked, i, std::string::npos);
      break;
    }
    value.append(marked, i, m - i);
    size_t e = marked.find("</mark>", m + 6);
    if (e == std::string::npos) e = marked.size();
    std::string tok = marked.substr(m + 6, e - m - 6);
    value += tags.pre + tok + tags.post;
    tokens.push_back(AsciiLower(tok));
    i = e + 7;
  }
  ojson matched = ojson::array();
  for (const std::string& w : words) {
    for (const std::string& t : tokens) {
      size_t shorter = std::min(w.size(), t.size());
      if (t == w || (shorter >= 3 && (t.starts_with(w) || w.starts_with(t)))) {
        matched.push_back(w);
        break;
      }
    }
  }
  const char* level = matched.empty()                 ? "none"
                      : matched.size() == words.size() ? "full"
                                                       : "partial";
  return ojson{{"value", value},
              {"matchLevel", level},
              {"matchedWords", std::move(matched)}};
}

// The words a highlight marks, lower-cased: those in <mark>…</mark> in
// `marked` (HighlightAll's output).
void AddMarkedWords(std::string_view marked,
                    std::unordered_set<std::string>* out) {
  for (size_t m = marked.find("<mark>"); m != std::string_view::npos;
       m = marked.find("<mark>", m)) {
    m += 6;
    const size_t e = marked.find("</mark>", m);
    if (e == std::string_view::npos) break;
    out->insert(WordForm(DecodeHtmlEntities(marked.substr(m, e - m))));
    m = e;
  }
}

// `html` (a field as the API serves it) with every word of its text whose
// lower-cased form is in `words` in <mark>…</mark>: words as HighlightAll
// reads them (letters, digits, non-ASCII), outside tags, a character
// reference counting as the character it stands for. So a hit's text
// keeps its markup (paragraphs, links, code) as hn.algolia.com's
// highlights do, and marks what the plain-text highlight marked.
std::string MarkWords(std::string_view html,
                      const std::unordered_set<std::string>& words) {
  std::string out;
  out.reserve(html.size() + 32);
  size_t start = std::string_view::npos;  // the current word's first byte
  std::string word;                       // ... and its text, decoded
  auto end_word = [&](size_t end) {
    if (start == std::string_view::npos) return;
    const bool hit = words.count(WordForm(word)) > 0;
    if (hit) out += "<mark>";
    out.append(html.substr(start, end - start));
    if (hit) out += "</mark>";
    start = std::string_view::npos;
    word.clear();
  };
  size_t i = 0;
  while (i < html.size()) {
    const unsigned char c = static_cast<unsigned char>(html[i]);
    if (c == '<' && i + 1 < html.size() &&
        (std::isalpha(static_cast<unsigned char>(html[i + 1])) ||
         html[i + 1] == '/' || html[i + 1] == '!')) {
      end_word(i);
      size_t e = html.find('>', i);
      e = e == std::string_view::npos ? html.size() : e + 1;
      out.append(html.substr(i, e - i));
      i = e;
      continue;
    }
    // One character: a word character, a character reference, or other.
    size_t len = WordCharAt(html, i);
    bool word_part = len > 0;
    std::string text(html.substr(i, std::max<size_t>(len, 1)));
    if (len == 0) {
      len = CharLength(html, i);
      const size_t semi = c == '&' ? html.find(';', i) : std::string_view::npos;
      if (semi != std::string_view::npos && semi - i <= 10) {
        len = semi + 1 - i;
        text = DecodeHtmlEntities(html.substr(i, len));
        word_part = !text.empty() && WordEnd(text, 0) == text.size();
      }
    }
    if (word_part) {
      if (start == std::string_view::npos) start = i;
      word += text;
    } else {
      end_word(i);
      out.append(html.substr(i, len));
    }
    i += len;
  }
  end_word(html.size());
  return out;
}

// The story an item belongs to: its thread root when that is a real story;
// else the story the source named (an orphaned comment), else the root.
std::string StoryIdOf(const StoredItem& s, const StoredItem& root) {
  if (AlgoliaIsStory(root) && !root.placeholder) return root.item.id;
  if (!s.item.thread_hint.empty()) return s.item.thread_hint;
  return root.item.id;
}

ojson AlgoliaHitJson(const Hit& h, const StoredItem& root,
                     const std::vector<std::string>& words,
                     const HighlightTags& marks) {
  const Item& it = h.item.item;
  const bool story = AlgoliaIsStory(h.item);
  ojson j;
  j["created_at"] = IsoTime(it.time);
  ojson tags = ojson::array({std::string(ItemTypeName(it.type))});
  tags.push_back("author_" + it.author);
  const std::string story_id = StoryIdOf(h.item, root);
  tags.push_back("story_" + story_id);
  std::string lower_title = AsciiLower(it.title);
  ojson hl = ojson::object();
  const std::string text = TextAsHtml(it);  // the text as served
  // What the highlights mark in each field: the words the hit's own
  // highlights marked (stems matched), and the query's words.
  std::unordered_set<std::string> marked(words.begin(), words.end());
  AddMarkedWords(h.text_highlight, &marked);
  AddMarkedWords(h.title_highlight, &marked);
  auto highlight = [&](std::string_view html) {
    return HighlightJson(MarkWords(html, marked), words, marks);
  };
  int64_t nc = AlgoliaNumComments(h.item);
  if (story) {
    ojson url = it.type == ItemType::kPoll ? ojson(nullptr) : ojson(it.url);
    j["title"] = it.title;
    j["url"] = url;
    j["author"] = it.author;
    j["points"] = it.has_points ? ojson(it.points) : ojson(nullptr);
    j["story_text"] = text;
    j["comment_text"] = nullptr;
    j["num_comments"] = nc >= 0 ? ojson(nc) : ojson(nullptr);
    j["story_id"] = nullptr;
    j["story_title"] = nullptr;
    j["story_url"] = nullptr;
    j["parent_id"] = nullptr;
    if (lower_title.starts_with("ask hn")) tags.push_back("ask_hn");
    if (lower_title.starts_with("show hn")) tags.push_back("show_hn");
    hl["title"] = HighlightJson(h.title_highlight, words, marks);
    if (!url.is_null()) hl["url"] = highlight(HtmlEscape(it.url));
    hl["author"] = highlight(HtmlEscape(it.author));
    hl["story_text"] = highlight(text);
  } else {
    j["title"] = nullptr;
    j["url"] = nullptr;
    j["author"] = it.author;
    j["points"] = it.has_points ? ojson(it.points) : ojson(nullptr);
    j["story_text"] = nullptr;
    j["comment_text"] = text;
    j["num_comments"] = nc >= 0 ? ojson(nc) : ojson(nullptr);
    // The story's title and URL: its thread root's when the archive holds
    // the story, else what the source said of it (an Algolia hit whose
    // story was not in the dump).
    const bool own = (AlgoliaIsStory(root) && !root.placeholder) ||
                     (it.story_title.empty() && it.story_url.empty());
    const std::string& story_title = own ? root.item.title : it.story_title;
    const std::string& story_url = own ? root.item.url : it.story_url;
    j["story_id"] = IdJson(root.item.source, story_id);
    j["story_title"] = story_title;
    j["story_url"] = story_url;
    j["parent_id"] = it.parent.empty() ? ojson(nullptr)
                                       : IdJson(it.source, it.parent);
    hl["author"] = highlight(HtmlEscape(it.author));
    hl["comment_text"] = highlight(text);
    hl["story_title"] = highlight(HtmlEscape(story_title));
    hl["story_url"] = highlight(HtmlEscape(story_url));
  }
  j["created_at_i"] = it.time;
  j["_tags"] = std::move(tags);
  j["objectID"] = it.id;
  j["_highlightResult"] = std::move(hl);
  return j;
}

// The children an item tree shows below `n`: a placeholder (an item only
// its replies name, missing from every input) has no date, author or text
// to show, and hn.algolia.com has no node without them; its replies take
// its place (their parent_id still names it).
void ShownChildren(const ThreadNode& n, std::vector<const ThreadNode*>* out) {
  for (const ThreadNode& c : n.children) {
    if (c.item.placeholder) {
      ShownChildren(c, out);
    } else {
      out->push_back(&c);
    }
  }
}

ojson AlgoliaNodeJson(const ThreadNode& n, const StoredItem& root) {
  const Item& it = n.item.item;
  ojson j = {{"id", IdJson(it.source, it.id)},
            {"created_at", IsoTime(it.time)},
            {"created_at_i", it.time},
            {"type", std::string(ItemTypeName(it.type))},
            {"author", NullIfEmpty(it.author)}};
  if (AlgoliaIsStory(n.item)) {
    j["title"] = it.title;
    j["url"] = NullIfEmpty(it.url);
  }
  j["text"] = it.deleted || it.text.empty() ? ojson(nullptr)
                                            : ojson(TextAsHtml(it));
  j["points"] = it.has_points ? ojson(it.points) : ojson(nullptr);
  j["parent_id"] =
      it.parent.empty() ? ojson(nullptr) : IdJson(it.source, it.parent);
  j["story_id"] = IdJson(it.source, StoryIdOf(n.item, root));
  std::vector<const ThreadNode*> shown;
  ShownChildren(n, &shown);
  // Oldest first, as the items below an item are (lifted ones included).
  std::stable_sort(shown.begin(), shown.end(),
                   [](const ThreadNode* a, const ThreadNode* b) {
                     return a->item.item.time < b->item.item.time;
                   });
  // A poll lists its options apart from its comments, as hn.algolia.com
  // does (and as the Algolia reader takes them).
  const bool poll = it.type == ItemType::kPoll;
  ojson kids = ojson::array(), options = ojson::array();
  for (const ThreadNode* c : shown) {
    (poll && c->item.item.type == ItemType::kPollOpt ? options : kids)
        .push_back(AlgoliaNodeJson(*c, root));
  }
  j["children"] = std::move(kids);
  if (poll) j["options"] = std::move(options);
  return j;
}

}  // namespace

int64_t AlgoliaNumComments(const StoredItem& s) {
  return schema::CommentCount(s);
}

bool AlgoliaIsStory(const StoredItem& s) {
  return schema::OpensThread(s.item);
}

std::string AlgoliaSearchToJson(const std::vector<Hit>& hits,
                                const std::vector<StoredItem>& roots,
                                const AlgoliaPage& page, int indent) {
  std::vector<std::string> words = QueryWordsOf(page.query);
  ojson arr = ojson::array();
  for (size_t i = 0; i < hits.size() && i < roots.size(); ++i) {
    arr.push_back(AlgoliaHitJson(hits[i], roots[i], words,
                                 {page.highlight_pre, page.highlight_post}));
  }
  ojson out = {{"hits", std::move(arr)},
              {"nbHits", page.nb_hits},
              {"page", page.page},
              {"nbPages", page.nb_pages},
              {"hitsPerPage", page.hits_per_page},
              {"exhaustiveNbHits", page.exhaustive},
              {"processingTimeMS", page.processing_ms},
              {"query", page.query},
              {"params", page.params}};
  if (!page.index.empty()) {
    // There is no typo tolerance to cut short.
    out["exhaustiveTypo"] = true;
    out["exhaustive"] = {{"nbHits", page.exhaustive}, {"typo", true}};
    out["index"] = page.index;
  }
  if (!page.missing_shards.empty()) {
    out["partial"] = true;
    out["missing_shards"] = page.missing_shards;
  }
  return ODump(out, indent);
}

std::string AlgoliaRecordToJson(const StoredItem& item, const StoredItem& root,
                                const std::vector<std::string>& attributes) {
  Hit h;
  h.item = item;
  const std::string none;
  ojson j = AlgoliaHitJson(h, root, {}, {none, none});
  j.erase("_highlightResult");
  const bool all =
      attributes.empty() ||
      std::find(attributes.begin(), attributes.end(), "*") != attributes.end();
  if (all) return ODump(j, -1);
  ojson out = ojson::object();
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "objectID" ||
        std::find(attributes.begin(), attributes.end(), it.key()) !=
            attributes.end()) {
      out[it.key()] = it.value();
    }
  }
  return ODump(out, -1);
}

std::string AlgoliaItemToJson(const ThreadNode& node, const StoredItem& root,
                              int indent) {
  return ODump(AlgoliaNodeJson(node, root), indent);
}

std::string AlgoliaUserToJson(const UserSummary& u, int indent) {
  uint64_t submissions = 0, comments = 0;
  for (const auto& [type, n] : u.by_type) {
    if (type == "comment" || type == "message" || type == "pollopt") {
      comments += n;
    } else {
      submissions += n;
    }
  }
  ojson out = {{"id", nullptr},
              {"username", u.name},
              {"about", ""},
              {"karma", 0},
              {"created_at", IsoTime(u.first_time)},
              {"avg", 0.0},
              {"submission_count", submissions},
              {"comment_count", comments},
              {"created_at_i", u.first_time},
              {"objectID", u.name}};
  return ODump(out, indent);
}

std::string SearchResultToJson(const SearchResult& r, int indent) {
  std::string compact = WriteSearchResult(r);
  if (indent < 0) return compact;
  // The CLI's indented answer: the same JSON, laid out by nlohmann.
  return Dump(json::parse(compact), indent);
}

std::string ThreadViewToJson(const ThreadView& v, int indent) {
  json anc = json::array();
  for (const ContextItem& a : v.ancestors) anc.push_back(ContextItemJson(a));
  json out = {{"version", kJsonVersion},
              {"asked", v.asked_id},
              {"title", v.title},
              {"size", v.size},
              {"ancestors", anc},
              {"thread", NodeJson(v.root, v.asked_id)}};
  return Dump(out, indent);
}

std::string UserSummaryToJson(const UserSummary& u, int indent) {
  json out = {{"version", kJsonVersion},
              {"name", u.name},
              {"display_name", u.display_name},
              {"items", u.items},
              {"by_type", u.by_type},
              {"first_time", u.first_time},
              {"last_time", u.last_time},
              {"threads", u.threads},
              {"replies_received", u.replies_received},
              {"top_repliers", CountsJson(u.top_repliers, "author")},
              {"top_replied_to", CountsJson(u.top_replied_to, "author")},
              {"top_threads", CountsJson(u.top_threads, "thread")},
              {"by_year", CountsJson(u.by_year, "year")}};
  return Dump(out, indent);
}

std::string DbStatsToJson(const DbStats& s, int indent) {
  json out = {{"version", kJsonVersion},
              {"items", s.items},
              {"searchable", s.searchable},
              {"deleted", s.deleted},
              {"missing_parents", s.placeholders},
              {"threads", s.threads},
              {"authors", s.authors},
              {"by_source", s.by_source},
              {"by_type", s.by_type},
              {"index_bytes", s.index_bytes},
              {"store_bytes", s.store_bytes},
              {"shards", s.shards}};
  if (!s.missing_shards.empty()) out["missing_shards"] = s.missing_shards;
  return Dump(out, indent);
}

std::string IndexStatsToJson(const IndexStats& s, int indent) {
  json out = {{"files", s.files},
              {"files_failed", s.files_failed},
              {"files_unchanged", s.files_unchanged},
              {"items_read", s.items_read},
              {"added", s.added},
              {"updated", s.updated},
              {"unchanged", s.unchanged},
              {"skipped", s.skipped},
              {"relinked", s.relinked},
              {"cycles_broken", s.cycles_broken},
              {"bytes_read", s.bytes_read},
              {"compacted", s.compacted},
              {"runs", s.runs},
              {"seconds", s.seconds}};
  return Dump(out, indent);
}

std::string CheckReportToJson(const CheckReport& r, int indent) {
  json out = {{"consistent", r.consistent()},
              {"repaired", r.repaired},
              {"items", r.items},
              {"searchable", r.searchable},
              {"documents", r.documents},
              {"missing_documents", r.missing_documents},
              {"extra_documents", r.extra_documents},
              {"author_mismatches", r.author_mismatches},
              {"thread_mismatches", r.thread_mismatches},
              {"structure_errors", r.structure_errors},
              {"authors", r.authors},
              {"threads", r.threads},
              {"index_seq", r.index_seq},
              {"store_seq", r.store_seq},
              {"examples", r.examples}};
  return Dump(out, indent);
}

std::string ErrorToJson(const std::string& message, const std::string& param,
                        int indent) {
  json out = {{"error", message}};
  if (!param.empty()) out["param"] = param;
  return Dump(out, indent);
}

std::string HttpErrorToJson(const std::string& message,
                            const std::string& param, int status) {
  json out = {{"error", message}, {"message", message}, {"status", status}};
  if (!param.empty()) out["param"] = param;
  return Dump(out, -1);
}

std::string AlgoliaErrorToJson(const std::string& message, int status) {
  return Dump(json{{"message", message}, {"status", status}}, -1);
}

}  // namespace threadsearch
