#include "server/json_codec.h"

#include <nlohmann/json.hpp>

namespace threadsearch {

namespace {

using nlohmann::json;

std::string Dump(const json& j, int indent) {
  // Replace invalid UTF-8 rather than throwing: stored text is sanitised,
  // but a dump must never fail.
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

json ContextItemJson(const ContextItem& c) {
  return json{{"id", c.id},
              {"author", c.author},
              {"time", c.time},
              {"excerpt", c.excerpt}};
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

json ContextJson(const ThreadContext& c) {
  json anc = json::array();
  for (const ContextItem& a : c.ancestors) anc.push_back(ContextItemJson(a));
  json replies = json::array();
  for (const ContextItem& r : c.replies) replies.push_back(ContextItemJson(r));
  return json{{"root",
               {{"id", c.root_id},
                {"title", c.root_title},
                {"author", c.root_author},
                {"time", c.root_time},
                {"size", c.root_size}}},
              {"ancestors", anc},
              {"elided", c.elided},
              {"replies", replies},
              {"reply_count", c.reply_count}};
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

json CountsJson(const std::vector<CountEntry>& v, const char* key_name) {
  json a = json::array();
  for (const CountEntry& e : v) a.push_back({{key_name, e.key}, {"count", e.count}});
  return a;
}

}  // namespace

std::string SearchResultToJson(const SearchResult& r, int indent) {
  json hits = json::array();
  for (const Hit& h : r.hits) {
    json j = ItemFields(h.item);
    j["thread"] = h.thread_id;
    j["score"] = h.score;
    j["rank"] = h.rank;
    if (h.thread_hits) j["thread_hits"] = h.thread_hits;
    j["snippet"] = h.snippet;
    j["context"] = ContextJson(h.context);
    hits.push_back(std::move(j));
  }
  json out = {{"version", kJsonVersion},
              {"query", r.query},
              {"total", r.total},
              {"page", r.page},
              {"limit", r.limit},
              {"sort", std::string(SortOrderName(r.sort))},
              {"took_ms", r.took_ms},
              {"hits", std::move(hits)}};
  return Dump(out, indent);
}

std::string ThreadViewToJson(const ThreadView& v, int indent) {
  json anc = json::array();
  for (const ContextItem& a : v.ancestors) anc.push_back(ContextItemJson(a));
  json out = {{"version", kJsonVersion},
              {"asked", v.asked_id},
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
              {"store_bytes", s.store_bytes}};
  return Dump(out, indent);
}

std::string IndexStatsToJson(const IndexStats& s, int indent) {
  json out = {{"files", s.files},
              {"files_failed", s.files_failed},
              {"items_read", s.items_read},
              {"added", s.added},
              {"updated", s.updated},
              {"unchanged", s.unchanged},
              {"skipped", s.skipped},
              {"relinked", s.relinked},
              {"cycles_broken", s.cycles_broken},
              {"bytes_read", s.bytes_read},
              {"seconds", s.seconds}};
  return Dump(out, indent);
}

std::string ErrorToJson(const std::string& message, const std::string& param,
                        int indent) {
  json out = {{"error", message}};
  if (!param.empty()) out["param"] = param;
  return Dump(out, indent);
}

}  // namespace threadsearch
