#include "server/text_output.h"

#include <cstdio>
#include <ctime>
#include <sstream>

#include "common/schema.h"
#include "common/text.h"

namespace threadsearch {

namespace {

const char* Bold(const TextStyle& s) { return s.color ? "\033[1m" : ""; }
const char* Dim(const TextStyle& s) { return s.color ? "\033[2m" : ""; }
const char* Reset(const TextStyle& s) { return s.color ? "\033[0m" : ""; }
const char* Mark(const TextStyle& s) { return s.color ? "\033[1;33m" : "["; }
const char* Unmark(const TextStyle& s) { return s.color ? "\033[0m" : "]"; }

// Snippet HTML (escaped text with <mark>) to terminal text.
std::string SnippetToText(const std::string& html, const TextStyle& style) {
  std::string out;
  size_t i = 0;
  while (i < html.size()) {
    if (html.compare(i, 6, "<mark>") == 0) {
      out += Mark(style);
      i += 6;
    } else if (html.compare(i, 7, "</mark>") == 0) {
      out += Unmark(style);
      i += 7;
    } else {
      size_t next = html.find('<', i + 1);
      if (next == std::string::npos) next = html.size();
      out += DecodeHtmlEntities(std::string_view(html).substr(i, next - i));
      i = next;
    }
  }
  // Fold whitespace.
  std::string folded;
  bool space = false;
  for (char c : out) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = true;
      continue;
    }
    if (space && !folded.empty()) folded.push_back(' ');
    space = false;
    folded.push_back(c);
  }
  return folded;
}

// "1 match", "2 matches".
std::string Count(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string Who(const std::string& author) {
  return author.empty() ? "[unknown]" : author;
}

}  // namespace

std::string FormatTime(int64_t t) {
  if (t == 0) return "?";
  time_t tt = static_cast<time_t>(t);
  struct tm tm;
  if (!gmtime_r(&tt, &tm)) return "?";
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

std::string FormatBytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

void PrintSearchResult(std::ostream& os, const SearchResult& r,
                       const TextStyle& style) {
  uint64_t first = static_cast<uint64_t>(r.page) * r.limit + 1;
  uint64_t last = first + r.hits.size() - 1;
  if (!r.did_you_mean.empty()) {
    os << "Did you mean: " << Bold(style) << r.did_you_mean << Reset(style)
       << "?\n";
  }
  if (r.facets) {
    auto line = [&](const char* label, const std::vector<CountEntry>& v,
                    size_t n) {
      if (v.empty()) return;
      os << Dim(style) << label << ":" << Reset(style);
      for (size_t i = 0; i < v.size() && i < n; ++i) {
        os << "  " << v[i].key << " (" << v[i].count << ")";
      }
      os << "\n";
    };
    line("authors", r.facets->authors, 5);
    line("threads", r.facets->threads, 3);
    line("years", r.facets->years, 30);
    os << "\n";
  }
  if (r.hits.empty()) {
    if (r.total > 0 && r.limit > 0) {
      // Matches, but none on this page.
      os << Count(r.total, "match", "matches") << "; page " << r.page
         << " is past the last (--page " << (r.total - 1) / r.limit
         << ", counting from 0).\n";
    } else if (r.query.empty()) {
      os << "No matches.\n";
    } else {
      os << "No matches for \"" << r.query << "\".\n";
    }
    return;
  }
  char took[32];
  snprintf(took, sizeof took, "%.1f", r.took_ms);
  os << Dim(style) << Count(r.total, "match", "matches") << ", showing "
     << first << "-" << last << " (" << took << " ms)" << Reset(style) << "\n";
  if (r.partial) {
    os << Bold(style) << "partial: shard(s)";
    for (const std::string& s : r.missing_shards) os << " " << s;
    os << " did not answer" << Reset(style) << "\n";
  }
  os << "\n";
  for (const Hit& h : r.hits) {
    const Item& it = h.item.item;
    const ThreadContext& c = h.context;
    std::string title = c.root_title.empty() ? "(untitled thread)" : c.root_title;
    os << Bold(style) << h.rank << ". " << title << Reset(style) << Dim(style)
       << "  [" << SourceName(it.source) << " thread " << c.root_id << ", "
       << Count(c.root_size, "item", "items");
    if (h.thread_hits) os << ", " << h.thread_hits << " matching";
    os << "]" << Reset(style) << "\n";
    for (size_t i = 0; i < c.ancestors.size(); ++i) {
      const ContextItem& a = c.ancestors[i];
      if (i == 1 && c.elided > 0) {
        os << "     " << Dim(style) << "… " << c.elided << " more"
           << Reset(style) << "\n";
      }
      if (a.missing) {
        os << "     " << Dim(style) << "↳ [not in the archive] id " << a.id
           << Reset(style) << "\n";
        continue;
      }
      os << "     " << Dim(style) << "↳ ";
      // A deleted comment has no author: its "[deleted]" stands alone.
      if (!a.author.empty() || a.excerpt.empty()) os << Who(a.author) << ": ";
      os << OneLineExcerpt(a.excerpt, 80) << Reset(style) << "\n";
    }
    os << "   " << Bold(style) << Who(it.author) << Reset(style);
    if (!it.author_name.empty()) os << " (" << it.author_name << ")";
    os << "  " << FormatTime(it.time) << "  id " << it.id;
    if (it.has_points) os << "  " << it.points << " points";
    os << "\n";
    if (!it.title.empty() && it.title != c.root_title) {
      os << "   " << it.title << "\n";
    }
    os << "   " << SnippetToText(h.snippet, style) << "\n";
    if (c.reply_count > 0) {
      os << "     " << Dim(style) << Count(c.reply_count, "reply", "replies");
      if (!c.replies.empty()) os << ", first by " << Who(c.replies[0].author);
      os << Reset(style) << "\n";
    }
    os << "\n";
  }
}

namespace {

void PrintNode(std::ostream& os, const ThreadNode& n, const std::string& asked,
               int depth, const TextStyle& style) {
  const Item& it = n.item.item;
  std::string indent(static_cast<size_t>(depth) * 2, ' ');
  bool is_asked = it.id == asked;
  if (n.item.placeholder) {
    // Known only by its id: one line where the message would be.
    os << indent << (is_asked ? "▶ " : "- ") << Dim(style)
       << "[not in the archive]  id " << it.id << Reset(style);
    if (is_asked) os << "  " << Bold(style) << "<- asked" << Reset(style);
    os << "\n";
    for (const ThreadNode& c : n.children) {
      PrintNode(os, c, asked, depth + 1, style);
    }
    if (n.truncated) os << indent << "  … (more replies not shown)\n";
    return;
  }
  const bool gone = it.deleted && it.author.empty();
  os << indent << (is_asked ? "▶ " : "- ") << Bold(style)
     << (gone ? "[deleted]" : Who(it.author)) << Reset(style) << Dim(style)
     << "  " << FormatTime(it.time) << "  id "
     << it.id << Reset(style);
  if (is_asked) os << "  " << Bold(style) << "<- asked" << Reset(style);
  os << "\n";
  std::string body;
  if (it.deleted) {
    body = gone ? "" : "[deleted]";  // the header says it when nameless
  } else {
    body = schema::IndexedBody(n.item);
    if (depth == 0 && !it.title.empty()) {
      body = body.empty() ? it.title : it.title + " — " + body;
    }
  }
  if (!body.empty()) {
    os << indent << "  " << OneLineExcerpt(body, is_asked ? 400 : 160)
       << "\n";
  }
  for (const ThreadNode& c : n.children) {
    PrintNode(os, c, asked, depth + 1, style);
  }
  if (n.truncated) os << indent << "  … (more replies not shown)\n";
}

}  // namespace

void PrintThreadView(std::ostream& os, const ThreadView& v,
                     const TextStyle& style) {
  os << Bold(style)
     << (v.title.empty() ? "(untitled thread)" : v.title)
     << Reset(style) << Dim(style) << "  [" << Count(v.size, "item", "items")
     << "]"
     << Reset(style) << "\n";
  PrintNode(os, v.root, v.asked_id, 0, style);
}

void PrintUserSummary(std::ostream& os, const UserSummary& u,
                      const TextStyle& style) {
  os << Bold(style) << u.name << Reset(style);
  if (!u.display_name.empty()) os << " (" << u.display_name << ")";
  os << "\n  items: " << u.items;
  for (const auto& [type, n] : u.by_type) os << "  " << type << ": " << n;
  os << "\n  first: " << FormatTime(u.first_time)
     << "  last: " << FormatTime(u.last_time) << "\n";
  os << "  threads taken part in: " << u.threads << "\n";
  os << "  replies received: " << u.replies_received;
  if (u.replies_received > 0) {
    os << Dim(style) << "  (list them: search --to " << u.name << ")"
       << Reset(style);
  }
  os << "\n";
  auto list = [&](const char* label, const std::vector<CountEntry>& v) {
    if (v.empty()) return;
    os << "  " << label << ":";
    for (const CountEntry& e : v) os << "  " << e.key << " (" << e.count << ")";
    os << "\n";
  };
  list("by year", u.by_year);
  list("replied to them most", u.top_repliers);
  list("they replied to most", u.top_replied_to);
  list("threads with most of their items", u.top_threads);
}

void PrintDbStats(std::ostream& os, const DbStats& s, const TextStyle& style) {
  os << Bold(style) << "items: " << s.items << Reset(style)
     << "  (searchable " << s.searchable << ", deleted " << s.deleted
     << ", parents not in archive " << s.placeholders << ")\n";
  os << "threads: " << s.threads << "  authors: " << s.authors << "\n";
  os << "by source:";
  for (const auto& [k, n] : s.by_source) os << "  " << k << " " << n;
  os << "\nby type:";
  for (const auto& [k, n] : s.by_type) os << "  " << k << " " << n;
  os << "\nindex: " << FormatBytes(s.index_bytes)
     << "  store: " << FormatBytes(s.store_bytes) << "\n";
  if (s.shards > 1) {
    os << "shards: " << s.shards;
    if (!s.missing_shards.empty()) {
      os << "  (not answering:";
      for (const std::string& m : s.missing_shards) os << " " << m;
      os << "; counts are of the others)";
    }
    os << "\n";
  }
}

void PrintIndexStats(std::ostream& os, const IndexStats& s) {
  char rate[64];
  double per_s = s.seconds > 0 ? static_cast<double>(s.items_read) / s.seconds : 0;
  snprintf(rate, sizeof rate, "%.1f s, %.0f items/s", s.seconds, per_s);
  os << "indexed " << s.files << " file(s): " << s.added << " added, "
     << s.updated << " updated, " << s.unchanged << " unchanged, " << s.skipped
     << " skipped";
  if (s.files_failed) os << ", " << s.files_failed << " file(s) failed";
  if (s.files_unchanged) {
    os << ", " << s.files_unchanged << " unchanged file(s) skipped";
  }
  if (s.relinked) os << ", " << s.relinked << " relinked";
  if (s.cycles_broken) os << ", " << s.cycles_broken << " cycles broken";
  os << " (" << FormatBytes(s.bytes_read) << " in " << rate << ")\n";
}

}  // namespace threadsearch
