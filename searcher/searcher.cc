#include "searcher/searcher.h"

#include <xapian.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <deque>
#include <filesystem>
#include <unordered_map>
#include <unordered_set>

#include "common/keys.h"
#include "common/schema.h"
#include "common/text.h"
#include "common/thread_store.h"

namespace threadsearch {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kExcerptBytes = 140;
constexpr uint32_t kNearestAncestors = 5;
constexpr uint32_t kContextReplies = 3;
constexpr uint32_t kMaxChain = 100000;
constexpr uint32_t kMaxTreeNodes = 20000;

Status FromXapian(const Xapian::Error& e, const std::string& what) {
  std::string type = e.get_type();
  std::string msg = what + ": " + e.get_msg();
  if (type == "QueryParserError") return Status::InvalidArgument(msg);
  if (type == "DatabaseLockError") return Status::Busy(msg);
  if (type == "DatabaseCorruptError") return Status::Corruption(msg);
  if (type == "DatabaseOpeningError") return Status::NotFound(msg);
  if (type == "InvalidArgumentError") return Status::InvalidArgument(msg);
  return Status::Internal(type + ": " + msg);
}

ContextItem MakeContextItem(const StoredItem& s) {
  ContextItem c;
  c.id = s.item.id;
  c.author = s.item.author;
  c.time = s.item.time;
  if (s.placeholder) {
    c.excerpt = "[not in the archive]";
  } else if (s.item.deleted) {
    c.excerpt = "[deleted]";
  } else {
    std::string body = schema::IndexedBody(s.item);
    if (body.empty()) body = s.item.title;
    c.excerpt = OneLineExcerpt(body, kExcerptBytes);
  }
  return c;
}

// Lower-cases the value of a boolean field before it becomes a term.
class LowerFieldProcessor : public Xapian::FieldProcessor {
 public:
  explicit LowerFieldProcessor(std::string prefix)
      : prefix_(std::move(prefix)) {}
  Xapian::Query operator()(const std::string& value) override {
    return Xapian::Query(schema::Term(prefix_, AsciiLower(value)));
  }

 private:
  std::string prefix_;
};

// Resolves an item id to the key used in thread (G) and subtree (XU) terms:
// thread: names any item of the thread; under: names the subtree's top.
class ItemFieldProcessor : public Xapian::FieldProcessor {
 public:
  ItemFieldProcessor(const ThreadStore* store, std::string prefix,
                     bool to_root)
      : store_(store), prefix_(std::move(prefix)), to_root_(to_root) {}
  Xapian::Query operator()(const std::string& value) override {
    Result<uint32_t> num = store_->Find(value);
    if (!num.ok()) return Xapian::Query::MatchNothing;
    Result<StoredItem> item = store_->Get(*num);
    if (!item.ok()) return Xapian::Query::MatchNothing;
    if (to_root_ && !item->is_root()) {
      Result<StoredItem> root = store_->Get(item->root_num);
      if (!root.ok()) return Xapian::Query::MatchNothing;
      item = std::move(root);
    }
    std::string key = schema::ItemKeyString(item->item.source, item->item.id);
    Xapian::Query q(schema::Term(prefix_, key));
    if (!to_root_) {
      // under:X includes X itself.
      q = Xapian::Query(Xapian::Query::OP_OR, q,
                        Xapian::Query(schema::Term(schema::kPrefixId, key)));
    }
    return q;
  }

 private:
  const ThreadStore* store_;
  std::string prefix_;
  bool to_root_;
};

// Proximity boost for a query of plain words: the words found together and
// in order (a phrase) or close together (NEAR) outrank the same words
// scattered. Returns an empty query when there is nothing to boost.
// The lower-cased word tokens of a query string (letters, digits, UTF-8).
std::vector<std::string> QueryWords(std::string_view text) {
  std::vector<std::string> words;
  std::string w;
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c >= 0x80) {
      w.push_back(static_cast<char>(std::tolower(c)));
    } else if (!w.empty()) {
      words.push_back(std::move(w));
      w.clear();
    }
  }
  if (!w.empty()) words.push_back(std::move(w));
  return words;
}

// The whole of `text`, HTML-escaped, with every word whose exact form
// (prefix + word) or stem ("Z" + prefix + stem) is among `terms` wrapped in
// <mark>…</mark>.
std::string HighlightAll(std::string_view text,
                         const std::unordered_set<std::string>& terms,
                         const std::string& prefix, const Xapian::Stem& stem) {
  std::string out;
  out.reserve(text.size() + 64);
  size_t i = 0;
  auto is_word = [](unsigned char c) { return std::isalnum(c) || c >= 0x80; };
  while (i < text.size()) {
    size_t j = i;
    if (is_word(static_cast<unsigned char>(text[i]))) {
      while (j < text.size() && is_word(static_cast<unsigned char>(text[j]))) ++j;
      std::string_view word = text.substr(i, j - i);
      std::string lower = AsciiLower(word);
      bool hit = terms.count(prefix + lower) ||
                 terms.count("Z" + prefix + stem(lower));
      if (hit) out += "<mark>";
      out += HtmlEscape(word);
      if (hit) out += "</mark>";
    } else {
      while (j < text.size() && !is_word(static_cast<unsigned char>(text[j]))) ++j;
      out += HtmlEscape(text.substr(i, j - i));
    }
    i = j;
  }
  return out;
}

Xapian::Query ProximityBoost(std::string_view text) {
  if (text.find_first_of(":\"()*") != std::string_view::npos) {
    return Xapian::Query();  // fields, phrases, groups: leave as parsed
  }
  std::vector<std::string> words = QueryWords(text);
  std::vector<Xapian::Query> terms;
  for (const std::string& t : words) {
    if (t == "and" || t == "or" || t == "not") continue;
    terms.emplace_back(t);
  }
  if (terms.size() < 2) return Xapian::Query();
  Xapian::termcount n = static_cast<Xapian::termcount>(terms.size());
  Xapian::Query phrase(Xapian::Query::OP_PHRASE, terms.begin(), terms.end(), n);
  Xapian::Query near(Xapian::Query::OP_NEAR, terms.begin(), terms.end(), 2 * n);
  return Xapian::Query(Xapian::Query::OP_OR, phrase, near);
}

Xapian::Query AnyOf(std::string_view prefix,
                    const std::vector<std::string>& values) {
  std::vector<Xapian::Query> qs;
  for (const std::string& v : values) {
    qs.emplace_back(schema::Term(prefix, AsciiLower(TrimAscii(v))));
  }
  return Xapian::Query(Xapian::Query::OP_OR, qs.begin(), qs.end());
}

}  // namespace

Result<SortOrder> ParseSortOrder(std::string_view s) {
  if (s == "relevance" || s.empty()) return SortOrder::kRelevance;
  if (s == "date" || s == "oldest") return SortOrder::kDateAsc;
  if (s == "-date" || s == "newest") return SortOrder::kDateDesc;
  if (s == "points" || s == "-points") return SortOrder::kPoints;
  if (s == "replies" || s == "-replies") return SortOrder::kReplies;
  return Status::InvalidArgument(
      "sort: unknown order \"" + std::string(s) +
      "\" (expected relevance, date, -date, points or replies)");
}

std::string_view SortOrderName(SortOrder s) {
  switch (s) {
    case SortOrder::kRelevance:
      return "relevance";
    case SortOrder::kDateAsc:
      return "date";
    case SortOrder::kDateDesc:
      return "-date";
    case SortOrder::kPoints:
      return "points";
    case SortOrder::kReplies:
      return "replies";
  }
  return "relevance";
}

struct Searcher::Impl {
  std::string dir;
  SearcherOptions opts;
  std::unique_ptr<ThreadStore> store;
  Xapian::Database db;
  Xapian::Stem stemmer{"english"};

  Status OpenXapian();
  Result<Xapian::Query> ParseQuery(const std::string& text);
  Status FillContext(const StoredItem& s, ThreadContext* ctx);
  Result<StoredItem> RootOf(const StoredItem& s);
};

Searcher::Searcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Searcher::~Searcher() = default;
ThreadStore& Searcher::store() { return *impl_->store; }

Status Searcher::Impl::OpenXapian() {
  try {
    db = Xapian::Database(dir + "/xapian");
  } catch (const Xapian::Error& e) {
    return FromXapian(e, dir + ": no index here (run index first)");
  }
  return Status::OK();
}

Result<std::unique_ptr<Searcher>> Searcher::Open(const std::string& dir,
                                                 const SearcherOptions& opts) {
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->opts = opts;
  if (!std::filesystem::exists(dir + "/store") ||
      !std::filesystem::exists(dir + "/xapian")) {
    return Status::NotFound(dir + ": no threadsearch database here (run "
                                  "`threadsearch index --db " + dir +
                            " FILES` first)");
  }
  StoreOptions so;
  so.read_only = true;
  Result<std::unique_ptr<ThreadStore>> st =
      ThreadStore::Open(dir + "/store", so);
  if (!st.ok()) return st.status();
  impl->store = std::move(st).value();
  TS_RETURN_IF_ERROR(impl->OpenXapian());
  return std::unique_ptr<Searcher>(new Searcher(std::move(impl)));
}

Status Searcher::Refresh() {
  TS_RETURN_IF_ERROR(impl_->store->Refresh());
  try {
    impl_->db.reopen();
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "reopen index");
  }
  return Status::OK();
}

Result<Xapian::Query> Searcher::Impl::ParseQuery(const std::string& text) {
  Xapian::QueryParser qp;
  qp.set_database(db);
  qp.set_stemmer(stemmer);
  qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
  qp.set_default_op(Xapian::Query::OP_AND);
  for (size_t i = 0; i < schema::kNumFields; ++i) {
    const schema::Field& f = schema::kFields[i];
    std::string name(f.name);
    std::string prefix(f.prefix);
    if (!f.boolean) {
      qp.add_prefix(name, prefix);
    } else if (prefix == schema::kPrefixThread) {
      qp.add_boolean_prefix(
          name, (new ItemFieldProcessor(store.get(), prefix, true))->release());
    } else if (prefix == schema::kPrefixUnder) {
      qp.add_boolean_prefix(
          name, (new ItemFieldProcessor(store.get(), prefix, false))->release());
    } else if (prefix == schema::kPrefixId) {
      qp.add_boolean_prefix(name, prefix);
    } else {
      qp.add_boolean_prefix(name,
                            (new LowerFieldProcessor(prefix))->release());
    }
  }
  unsigned flags = Xapian::QueryParser::FLAG_PHRASE |
                   Xapian::QueryParser::FLAG_BOOLEAN |
                   Xapian::QueryParser::FLAG_LOVEHATE |
                   Xapian::QueryParser::FLAG_WILDCARD |
                   Xapian::QueryParser::FLAG_PURE_NOT;
  try {
    return qp.parse_query(text, flags);
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "query \"" + text + "\"");
  }
}

Result<StoredItem> Searcher::Impl::RootOf(const StoredItem& s) {
  if (s.is_root()) return s;
  return store->Get(s.root_num);
}

Status Searcher::Impl::FillContext(const StoredItem& s, ThreadContext* ctx) {
  Result<StoredItem> root = RootOf(s);
  if (!root.ok()) return root.status();
  ctx->root_id = root->item.id;
  ctx->root_title = root->item.title;
  ctx->root_author = root->item.author;
  ctx->root_time = root->item.time;
  ctx->root_size = root->thread_size;
  // Ancestors, nearest first.
  std::vector<StoredItem> chain;
  uint32_t cur = s.is_root() ? 0 : s.parent_num;
  while (cur != 0 && chain.size() < kMaxChain) {
    Result<StoredItem> a = store->Get(cur);
    if (!a.ok()) return a.status();
    bool is_root = a->is_root();
    uint32_t next = a->parent_num;
    chain.push_back(std::move(a).value());
    if (is_root) break;
    cur = next;
  }
  if (!chain.empty()) {
    // Root first, then the nearest kNearestAncestors in root-to-parent order.
    ctx->ancestors.push_back(MakeContextItem(chain.back()));
    size_t rest = chain.size() - 1;
    size_t keep = std::min<size_t>(rest, kNearestAncestors);
    ctx->elided = static_cast<uint32_t>(rest - keep);
    for (size_t i = keep; i-- > 0;) {
      ctx->ancestors.push_back(MakeContextItem(chain[i]));
    }
  }
  ctx->reply_count = s.reply_count;
  std::vector<uint32_t> kids;
  TS_RETURN_IF_ERROR(store->Children(s.num, &kids));
  for (uint32_t k : kids) {
    if (ctx->replies.size() >= kContextReplies) break;
    Result<StoredItem> c = store->Get(k);
    if (!c.ok()) return c.status();
    if (c->placeholder || c->parent_num != s.num) continue;
    ctx->replies.push_back(MakeContextItem(*c));
  }
  return Status::OK();
}

Result<SearchResult> Searcher::Search(const SearchRequest& req) {
  Impl& im = *impl_;
  const auto start = Clock::now();
  if (req.limit == 0 || req.limit > 1000) {
    return Status::InvalidArgument("limit: must be between 1 and 1000");
  }
  SearchResult result;
  result.query = req.query;
  result.page = req.page;
  result.limit = req.limit;
  std::string_view trimmed = TrimAscii(req.query);
  const bool has_words = !trimmed.empty();
  const SortOrder sort = req.sort.value_or(has_words ? SortOrder::kRelevance
                                                     : SortOrder::kDateDesc);
  result.sort = sort;
  try {
    Xapian::Query query = Xapian::Query::MatchAll;
    if (has_words) {
      Result<Xapian::Query> q = im.ParseQuery(std::string(trimmed));
      if (!q.ok()) return q.status();
      query = *q;
      if (query.empty()) query = Xapian::Query::MatchAll;
      Xapian::Query boost = ProximityBoost(trimmed);
      if (!boost.empty() && sort == SortOrder::kRelevance) {
        query = Xapian::Query(Xapian::Query::OP_AND_MAYBE, query, boost);
      }
    }
    std::vector<Xapian::Query> filters;
    if (!req.authors.empty()) {
      filters.push_back(AnyOf(schema::kPrefixAuthor, req.authors));
    }
    if (!req.replies_to.empty()) {
      filters.push_back(AnyOf(schema::kPrefixRepliesTo, req.replies_to));
    }
    if (!req.thread.empty()) {
      ItemFieldProcessor fp(im.store.get(), std::string(schema::kPrefixThread),
                            true);
      filters.push_back(fp(req.thread));
    }
    if (req.type) {
      filters.emplace_back(schema::Term(schema::kPrefixType,
                                        ItemTypeName(*req.type)));
    }
    if (req.source) {
      filters.emplace_back(
          schema::Term(schema::kPrefixSource, SourceName(*req.source)));
    }
    if (!req.list.empty()) {
      filters.emplace_back(
          schema::Term(schema::kPrefixList, AsciiLower(req.list)));
    }
    if (req.after || req.before) {
      double lo = req.after ? static_cast<double>(*req.after) : -1e18;
      double hi = req.before ? static_cast<double>(*req.before - 1) : 1e18;
      filters.emplace_back(Xapian::Query::OP_VALUE_RANGE, schema::kValueTime,
                           Xapian::sortable_serialise(lo),
                           Xapian::sortable_serialise(hi));
    }
    for (const Xapian::Query& f : filters) {
      query = Xapian::Query(Xapian::Query::OP_FILTER, query, f);
    }

    Xapian::Enquire enquire(im.db);
    enquire.set_query(query);
    switch (sort) {
      case SortOrder::kRelevance:
        if (has_words) {
          enquire.set_sort_by_relevance_then_value(schema::kValueTime, true);
        } else {
          enquire.set_sort_by_value(schema::kValueTime, true);
        }
        break;
      case SortOrder::kDateAsc:
        enquire.set_sort_by_value_then_relevance(schema::kValueTime, false);
        break;
      case SortOrder::kDateDesc:
        enquire.set_sort_by_value_then_relevance(schema::kValueTime, true);
        break;
      case SortOrder::kPoints:
        enquire.set_sort_by_value_then_relevance(schema::kValuePoints, true);
        break;
      case SortOrder::kReplies:
        enquire.set_sort_by_value_then_relevance(schema::kValueReplies, true);
        break;
    }
    if (req.collapse_thread) enquire.set_collapse_key(schema::kValueThread);
    const Xapian::doccount first =
        static_cast<Xapian::doccount>(req.page) * req.limit;
    // checkatleast = every document: the match is exhaustive and the total
    // exact.
    Xapian::MSet mset =
        enquire.get_mset(first, req.limit, im.db.get_doccount());
    result.total = mset.get_matches_estimated();
    uint32_t rank = first;
    for (Xapian::MSetIterator it = mset.begin(); it != mset.end(); ++it) {
      Hit hit;
      hit.rank = ++rank;
      Result<StoredItem> s = im.store->Get(*it);
      if (!s.ok()) {
        return s.status().WithContext("hit #" + std::to_string(*it) +
                                      " is in the index but not the store");
      }
      hit.item = std::move(s).value();
      hit.score = sort == SortOrder::kRelevance && has_words ? it.get_weight()
                                                             : 0.0;
      if (req.collapse_thread) hit.thread_hits = it.get_collapse_count() + 1;
      std::string body = schema::IndexedBody(hit.item.item);
      if (has_words) {
        hit.snippet = mset.snippet(body, req.snippet_bytes, im.stemmer,
                                   Xapian::MSet::SNIPPET_BACKGROUND_MODEL |
                                       Xapian::MSet::SNIPPET_EXHAUSTIVE,
                                   "<mark>", "</mark>", "…");
      } else {
        hit.snippet = HtmlEscape(OneLineExcerpt(body, req.snippet_bytes));
      }
      if (req.highlight_fields && has_words) {
        std::unordered_set<std::string> matched;
        for (auto t = enquire.get_matching_terms_begin(it);
             t != enquire.get_matching_terms_end(it); ++t) {
          matched.insert(*t);
        }
        hit.text_highlight = HighlightAll(body, matched, "", im.stemmer);
        hit.title_highlight =
            HighlightAll(hit.item.item.title, matched, "S", im.stemmer);
        for (const std::string& w : QueryWords(trimmed)) {
          std::string stem = "Z" + im.stemmer(w);
          if (matched.count(w) || matched.count(stem) ||
              matched.count("S" + w) || matched.count("ZS" + im.stemmer(w))) {
            if (std::find(hit.matched_words.begin(), hit.matched_words.end(),
                          w) == hit.matched_words.end()) {
              hit.matched_words.push_back(w);
            }
          }
        }
      } else if (req.highlight_fields) {
        hit.text_highlight = HtmlEscape(body);
        hit.title_highlight = HtmlEscape(hit.item.item.title);
      }
      Result<StoredItem> root = im.RootOf(hit.item);
      if (!root.ok()) return root.status();
      hit.thread_id = root->item.id;
      if (req.context) TS_RETURN_IF_ERROR(im.FillContext(hit.item, &hit.context));
      result.hits.push_back(std::move(hit));
    }
  } catch (const Xapian::DatabaseModifiedError&) {
    // The index moved under us: reopen and retry once.
    TS_RETURN_IF_ERROR(Refresh());
    return Search(req);
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "search");
  }
  result.took_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  return result;
}

Result<ThreadView> Searcher::Thread(std::string_view id, uint32_t max_depth) {
  Impl& im = *impl_;
  Result<uint32_t> num = im.store->Find(id);
  if (!num.ok()) return num.status();
  Result<StoredItem> asked = im.store->Get(*num);
  if (!asked.ok()) return asked.status();
  ThreadView view;
  view.asked_id = asked->item.id;
  ThreadContext ctx;
  TS_RETURN_IF_ERROR(im.FillContext(*asked, &ctx));
  Result<StoredItem> root = im.RootOf(*asked);
  if (!root.ok()) return root.status();
  view.size = root->thread_size;
  // Breadth-first build; nodes live in a deque so pointers stay valid.
  view.root.item = std::move(root).value();
  struct Pending {
    ThreadNode* node;
    uint32_t depth;
  };
  std::deque<Pending> queue{{&view.root, 0}};
  std::unordered_set<uint32_t> seen{view.root.item.num};
  uint32_t nodes = 1;
  std::vector<uint32_t> kids;
  while (!queue.empty()) {
    Pending p = queue.front();
    queue.pop_front();
    TS_RETURN_IF_ERROR(im.store->Children(p.node->item.num, &kids));
    if (kids.empty()) continue;
    if (p.depth >= max_depth || nodes >= kMaxTreeNodes) {
      p.node->truncated = true;
      continue;
    }
    p.node->children.reserve(kids.size());
    for (uint32_t k : kids) {
      if (!seen.insert(k).second) continue;
      Result<StoredItem> c = im.store->Get(k);
      if (!c.ok()) return c.status();
      if (c->parent_num != p.node->item.num) continue;
      p.node->children.push_back(ThreadNode{std::move(c).value(), {}, false});
      ++nodes;
    }
    for (ThreadNode& child : p.node->children) {
      queue.push_back({&child, p.depth + 1});
    }
  }
  for (const ContextItem& a : ctx.ancestors) view.ancestors.push_back(a);
  return view;
}

namespace {

std::vector<CountEntry> TopN(const std::unordered_map<std::string, uint64_t>& m,
                             size_t n) {
  std::vector<CountEntry> v;
  v.reserve(m.size());
  for (const auto& [k, c] : m) v.push_back({k, c});
  std::sort(v.begin(), v.end(), [](const CountEntry& a, const CountEntry& b) {
    return a.count != b.count ? a.count > b.count : a.key < b.key;
  });
  if (v.size() > n) v.resize(n);
  return v;
}

std::string YearOf(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm;
  if (!gmtime_r(&tt, &tm)) return "?";
  return std::to_string(tm.tm_year + 1900);
}

}  // namespace

Result<UserSummary> Searcher::User(std::string_view name) {
  Impl& im = *impl_;
  UserSummary u;
  u.name = std::string(name);
  std::string key = AsciiLower(TrimAscii(name));
  std::unordered_map<std::string, uint64_t> replied_to, years, threads;
  std::unordered_map<uint32_t, std::string> root_ids;
  Status err;
  Status st = im.store->Scan(
      keys::AuthorPrefix(key), [&](std::string_view k, std::string_view) {
        Result<StoredItem> s = im.store->Get(keys::TrailingNum(k));
        if (!s.ok()) {
          err = s.status();
          return false;
        }
        ++u.items;
        u.by_type[std::string(ItemTypeName(s->item.type))]++;
        if (u.first_time == 0 || s->item.time < u.first_time) {
          u.first_time = s->item.time;
        }
        if (s->item.time >= u.last_time) {
          u.last_time = s->item.time;
          if (!s->item.author_name.empty()) {
            u.display_name = s->item.author_name;
          }
        }
        years[YearOf(s->item.time)]++;
        if (!s->parent_author.empty()) replied_to[s->parent_author]++;
        auto rit = root_ids.find(s->root_num);
        if (rit == root_ids.end()) {
          std::string rid = s->item.id;
          if (!s->is_root()) {
            Result<StoredItem> r = im.store->Get(s->root_num);
            if (r.ok()) rid = r->item.id;
          }
          rit = root_ids.emplace(s->root_num, rid).first;
        }
        threads[rit->second]++;
        return true;
      });
  TS_RETURN_IF_ERROR(st);
  TS_RETURN_IF_ERROR(err);
  if (u.items == 0) {
    return Status::NotFound("no items by \"" + std::string(name) + "\"");
  }
  std::unordered_map<std::string, uint64_t> repliers;
  st = im.store->Scan(keys::ReplyToPrefix(key),
                      [&](std::string_view k, std::string_view) {
                        Result<StoredItem> s =
                            im.store->Get(keys::TrailingNum(k));
                        if (!s.ok()) {
                          err = s.status();
                          return false;
                        }
                        ++u.replies_received;
                        repliers[AsciiLower(s->item.author)]++;
                        return true;
                      });
  TS_RETURN_IF_ERROR(st);
  TS_RETURN_IF_ERROR(err);
  u.threads = threads.size();
  u.top_repliers = TopN(repliers, 10);
  u.top_replied_to = TopN(replied_to, 10);
  u.top_threads = TopN(threads, 10);
  u.by_year = TopN(years, years.size());
  std::sort(u.by_year.begin(), u.by_year.end(),
            [](const CountEntry& a, const CountEntry& b) { return a.key < b.key; });
  return u;
}

Result<DbStats> Searcher::Stats() {
  Impl& im = *impl_;
  DbStats s;
  Status err;
  Status st = im.store->Scan(
      std::string(1, keys::kItem), [&](std::string_view, std::string_view v) {
        StoredItem it;
        Status d = DecodeStoredItem(v, &it);
        if (!d.ok()) {
          err = d;
          return false;
        }
        if (it.placeholder) {
          ++s.placeholders;
          return true;
        }
        ++s.items;
        if (it.item.deleted) ++s.deleted;
        if (it.is_root()) ++s.threads;
        s.by_source[std::string(SourceName(it.item.source))]++;
        s.by_type[std::string(ItemTypeName(it.item.type))]++;
        return true;
      });
  TS_RETURN_IF_ERROR(st);
  TS_RETURN_IF_ERROR(err);
  std::string last;
  st = im.store->Scan(std::string(1, keys::kAuthor),
                      [&](std::string_view k, std::string_view) {
                        std::string_view name = k.substr(1, k.size() - 1 - 13);
                        if (name != last) {
                          ++s.authors;
                          last = std::string(name);
                        }
                        return true;
                      });
  TS_RETURN_IF_ERROR(st);
  try {
    s.searchable = im.db.get_doccount();
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "stats");
  }
  s.index_bytes = DirectorySize(im.dir + "/xapian");
  s.store_bytes = DirectorySize(im.dir + "/store");
  return s;
}

}  // namespace threadsearch
