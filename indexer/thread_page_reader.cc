// Reader for the plain-text rendering of an HN thread page
// (corpus/hn-thread-page-42133844.txt is the one sample).
//
// How we read the format (from that sample; nothing else documents it):
//
//   ←back to thread                      navigation
//                                        (blank)
//   Francois Chollet is leaving Google   the story title
//   (developers.googleblog.com)          the link's domain only
//   377 points xnx | 1 comments | | HN request time: 0s | source
//   Show context                         navigation
//   fchollet ◴[] No.42133844[source]     a comment header
//   …body lines, blank lines between paragraphs…
//   replies(20): >>42133884 #>>42133989 #… the ids of its direct replies
//   openrisk ◴[] No.42134046[source]     the next comment
//   …
//   1. dbspin ◴[] No.42134706[source]    a header may carry an "N. " prefix
//   [deleted] ◴[] No.N[source]           a deleted comment (no author);
//                                        "[dead]" after "[source]" or as
//                                        the text marks a dead one
//
// - A header is "[N. ]USER ◴[TIME] No.ID[source]"; the brackets after ◴
//   are empty here (no time shown), so items get time 0. A time there is
//   read when it is Unix seconds, "YYYY-MM-DD[ T]HH:MM[:SS][Z| UTC]", or
//   "M/D/YYYY, h:mm[:ss] AM|PM" (a US browser's), as UTC.
// - A comment's body runs from its header to its "replies(N): …" line or to
//   the next header. The replies line lists direct children, so an id listed
//   there gets that comment as parent. Replies listed but not shown on the
//   page are only recorded in the parent's kids.
// - Nothing on the page says who the first comment replies to, nor the
//   story's id: "No.42133844" (the page's id) is fchollet's comment, not the
//   story, and "1 comments" is not the thread's size. So the first comment
//   gets no parent, and no story item is emitted unless the page names the
//   story's id ("item?id=N" or "No.N" above the first comment), in which
//   case the story is emitted and is every comment's thread_hint. Every
//   comment carries the page's title as its story_title (Algolia's field),
//   which a thread without its story shows as its title.
// - Text is plain text (quotes as "> …"), so text_html is false.
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/text.h"
#include "indexer/input_stream.h"
#include "indexer/readers.h"

namespace threadsearch {

namespace {

constexpr std::string_view kClock = "\xE2\x97\xB4[";  // "◴["
constexpr std::string_view kBack =
    "\xE2\x86\x90"
    "back to thread";

// Leading decimal digits of s.
std::string_view LeadingDigits(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
  return s.substr(0, n);
}

struct Header {
  std::string author;
  std::string id;
  int64_t time = 0;
  bool dead = false;  // "[dead]" after "[source]"
  size_t indent = 0;  // blanks before the header
};

// What HN shows in place of a removed comment's author or text.
bool IsRemovedMark(std::string_view s) {
  s = TrimAscii(s);
  return s == "[deleted]" || s == "[dead]" || s == "[flagged]" ||
         s == "[removed]";
}

// Reads a whole number from the front of *s, at most `max_digits` digits.
bool TakeNumber(std::string_view* s, size_t max_digits, int* out) {
  std::string_view d = LeadingDigits(*s);
  if (d.empty() || d.size() > max_digits) return false;
  int v = 0;
  for (char c : d) v = v * 10 + (c - '0');
  *out = v;
  s->remove_prefix(d.size());
  return true;
}

bool Take(std::string_view* s, std::string_view what) {
  if (s->rfind(what, 0) != 0) return false;
  s->remove_prefix(what.size());
  return true;
}

// The time in a header's brackets, in the forms the header comment names.
bool ParsePageTime(std::string_view s, int64_t* out) {
  s = TrimAscii(s);
  if (s.empty()) return false;
  if (LeadingDigits(s).size() == s.size()) {  // Unix seconds
    if (s.size() < 9 || s.size() > 11) return false;
    int64_t v = 0;
    if (!ParseInt64(s, &v)) return false;
    *out = v;
    return true;
  }
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  std::string_view t = s;
  if (TakeNumber(&t, 4, &y) && y >= 1000 && Take(&t, "-") &&
      TakeNumber(&t, 2, &mo) && Take(&t, "-") && TakeNumber(&t, 2, &d) &&
      (Take(&t, " ") || Take(&t, "T")) && TakeNumber(&t, 2, &h) &&
      Take(&t, ":") && TakeNumber(&t, 2, &mi)) {
    if (Take(&t, ":") && !TakeNumber(&t, 2, &sec)) return false;
    if (!(t.empty() || t == "Z" || t == " UTC" || t == "UTC")) return false;
  } else {
    t = s;
    bool pm = false;
    if (!(TakeNumber(&t, 2, &mo) && Take(&t, "/") && TakeNumber(&t, 2, &d) &&
          Take(&t, "/") && TakeNumber(&t, 4, &y) && y >= 1000 &&
          Take(&t, ", ") && TakeNumber(&t, 2, &h) && Take(&t, ":") &&
          TakeNumber(&t, 2, &mi))) {
      return false;
    }
    if (Take(&t, ":") && !TakeNumber(&t, 2, &sec)) return false;
    if (Take(&t, " PM")) {
      pm = true;
    } else if (!Take(&t, " AM")) {
      return false;
    }
    if (!t.empty() || h < 1 || h > 12) return false;
    h = h % 12 + (pm ? 12 : 0);
  }
  if (y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
      h > 23 || mi > 59 || sec > 60) {
    return false;
  }
  *out = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) *
             86400 +
         h * 3600 + mi * 60 + sec;
  return true;
}

// "[N. ]USER ◴[…] No.ID[source]" → author and id.
bool ParseHeader(std::string_view line, Header* h) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t clock = line.find(kClock);
  if (clock == std::string_view::npos) return false;
  std::string_view user = TrimAscii(line.substr(0, clock));
  // Optional "N. " list number.
  std::string_view num = LeadingDigits(user);
  if (!num.empty() && user.size() > num.size() + 1 &&
      user.substr(num.size(), 2) == ". ") {
    user = TrimAscii(user.substr(num.size() + 2));
  }
  if (user.empty() || user.find(' ') != std::string_view::npos) return false;
  size_t close = line.find("] No.", clock + kClock.size());
  if (close == std::string_view::npos) return false;
  std::string_view id = LeadingDigits(line.substr(close + 5));
  if (id.empty()) return false;
  h->author = std::string(user);
  h->id = std::string(id);
  const size_t open = clock + kClock.size();
  if (!ParsePageTime(line.substr(open, close - open), &h->time)) h->time = 0;
  h->dead = line.find("[dead]", close) != std::string_view::npos;
  h->indent = line.find_first_not_of(" \t");
  return true;
}

// "replies(N): >>ID #>>ID #…" → the ids.
bool ParseReplies(std::string_view line, std::vector<std::string>* ids) {
  // A page that indents comments by depth indents this line with them.
  line = TrimAscii(line);
  if (line.rfind("replies(", 0) != 0) return false;
  size_t pos = 0;
  while ((pos = line.find(">>", pos)) != std::string_view::npos) {
    pos += 2;
    std::string_view id = LeadingDigits(line.substr(pos));
    if (!id.empty()) ids->push_back(std::string(id));
    pos += id.size();
  }
  return true;
}

// A story id named above the first comment, if any.
std::string StoryIdFromPreamble(const std::vector<std::string>& lines) {
  for (const std::string& l : lines) {
    for (std::string_view key : {"item?id=", "No."}) {
      size_t p = l.find(key);
      if (p == std::string::npos) continue;
      std::string_view id =
          LeadingDigits(std::string_view(l).substr(p + key.size()));
      if (!id.empty()) return std::string(id);
    }
  }
  return "";
}

struct Comment {
  Item item;
  std::vector<std::string> body;
  size_t indent = 0;  // the header's, taken off each body line
};

std::string JoinBody(std::vector<std::string>* lines) {
  while (!lines->empty() && TrimAscii(lines->back()).empty()) {
    lines->pop_back();
  }
  size_t first = 0;
  while (first < lines->size() && TrimAscii((*lines)[first]).empty()) ++first;
  std::string out;
  for (size_t i = first; i < lines->size(); ++i) {
    if (i > first) out.push_back('\n');
    out += (*lines)[i];
  }
  return out;
}

}  // namespace

Status ReadThreadPage(InputStream& in, const ReadCallbacks& cb) {
  std::vector<std::string> preamble;  // Lines above the first comment.
  std::vector<Comment> comments;
  std::unordered_map<std::string, std::string> parent_of;
  bool in_body = false;  // Between a header and its replies line.
  std::string line;
  bool too_long = false;
  while (in.ReadLine(&line, &too_long)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    Header h;
    if (!too_long && ParseHeader(line, &h)) {
      Comment c;
      c.item.source = Source::kHN;
      c.item.type = ItemType::kComment;
      c.item.id = std::move(h.id);
      c.item.author = std::move(h.author);
      c.item.time = h.time;
      c.item.deleted = h.dead;
      c.indent = h.indent;
      c.item.text_html = false;
      c.item.origin = in.name() + ":" + std::to_string(in.line_number());
      comments.push_back(std::move(c));
      in_body = true;
      continue;
    }
    std::vector<std::string> ids;
    if (!comments.empty() && ParseReplies(line, &ids)) {
      Comment& c = comments.back();
      for (const std::string& id : ids) {
        if (id == c.item.id) continue;  // A self-reply would be a cycle.
        c.item.kids.push_back(id);
        parent_of.emplace(id, c.item.id);  // First listing wins.
      }
      in_body = false;
      continue;
    }
    if (comments.empty()) {
      preamble.push_back(line);
    } else if (in_body) {
      // A page that indents comments by depth indents their lines too.
      const size_t indent = comments.back().indent;
      size_t n = 0;
      while (n < indent && n < line.size() &&
             (line[n] == ' ' || line[n] == '\t')) {
        ++n;
      }
      comments.back().body.push_back(line.substr(n));
    }
    // Lines between a replies line and the next header (none in the
    // sample) belong to no comment and are dropped.
  }
  if (!in.status().ok()) return in.status();
  if (comments.empty() && preamble.empty()) return Status::OK();

  // The story, as the preamble shows it: the title is the first line that
  // is not navigation, then "377 points xnx | 1 comments | …" ("1 point
  // xnx" for one).
  Item story;
  story.source = Source::kHN;
  story.type = ItemType::kStory;
  story.origin = in.name() + ":1";
  bool have_title = false;
  for (const std::string& raw : preamble) {
    std::string_view l = TrimAscii(raw);
    if (l.empty() || l == kBack || l == "Show context") continue;
    if (!have_title) {
      story.title = std::string(l);
      have_title = true;
      continue;
    }
    std::string_view pts = LeadingDigits(l);
    std::string_view rest = l.substr(pts.size());
    if (!pts.empty() && (Take(&rest, " points ") || Take(&rest, " point ")) &&
        ParseInt64(pts, &story.points)) {
      story.has_points = true;
      story.author = std::string(rest.substr(0, rest.find(' ')));
    }
  }
  // Emitted when the page names its id; its title reaches every comment
  // either way (as Algolia's story_title), so that a thread whose story
  // the page lacks still shows what it is about.
  const std::string story_id = StoryIdFromPreamble(preamble);
  const std::string story_title = story.title;
  if (!story_id.empty()) {
    story.id = story_id;
    cb.on_item(std::move(story));
  }

  for (Comment& c : comments) {
    c.item.text = JoinBody(&c.body);
    // A deleted comment shows "[deleted]" for its author, a dead one
    // "[dead]" by its header or for its text: kept in the tree without
    // author or text, as the JSON readers keep them.
    if (IsRemovedMark(c.item.author)) {
      c.item.author.clear();
      c.item.deleted = true;
    }
    if (IsRemovedMark(c.item.text)) c.item.deleted = true;
    if (c.item.deleted) c.item.text.clear();
    auto it = parent_of.find(c.item.id);
    if (it != parent_of.end()) {
      c.item.parent = it->second;
    }
    // The page does not say which comments are top-level, so the story is
    // a hint, never a parent.
    if (!story_id.empty() && c.item.id != story_id) {
      c.item.thread_hint = story_id;
    }
    c.item.story_title = story_title;
    cb.on_item(std::move(c.item));
  }
  return Status::OK();
}

}  // namespace threadsearch
