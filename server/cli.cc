#include "server/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "common/collection.h"
#include "indexer/check.h"
#include "indexer/collection_indexer.h"
#include "indexer/indexer.h"
#include "searcher/searcher.h"
#include "server/follow_command.h"
#include "server/json_codec.h"
#include "server/params.h"
#include "server/serve_command.h"
#include "server/shard_server.h"
#include "server/text_output.h"

namespace threadsearch {

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Marks a query word that starts with '-' so that CLI11 takes it for a
// positional, not an unknown option; RunSearch drops the mark.
constexpr char kWordMark = '\x1f';

int Fail(const Status& st) {
  std::cerr << "threadsearch: " << st.message() << "\n";
  return st.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

TextStyle StdoutStyle() {
  TextStyle s;
  s.color = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == nullptr;
  return s;
}

std::string Join(const std::vector<std::string>& words) {
  std::string q;
  for (const std::string& w : words) {
    if (!q.empty()) q.push_back(' ');
    q += w;
  }
  return q;
}

// Progress line on a terminal: files, items, rates, percent and ETA.
void ShowProgress(const IndexProgress& p) {
  double rate = p.elapsed > 0 ? static_cast<double>(p.items) / p.elapsed : 0;
  double mbs = p.elapsed > 0 ? static_cast<double>(p.bytes_done) / 1048576.0 /
                                   p.elapsed
                             : 0;
  char line[256];
  if (p.bytes_total > 0) {
    double frac = static_cast<double>(p.bytes_done) /
                  static_cast<double>(p.bytes_total);
    double eta = frac > 0 ? p.elapsed * (1 - frac) / frac : 0;
    snprintf(line, sizeof line,
             "\r%llu/%llu files  %llu items  %.0f items/s  %.1f MB/s  %5.1f%%  "
             "ETA %.0fs   ",
             static_cast<unsigned long long>(p.files_done),
             static_cast<unsigned long long>(p.files_total),
             static_cast<unsigned long long>(p.items), rate, mbs, frac * 100,
             eta);
  } else {
    snprintf(line, sizeof line, "\r%llu items  %.0f items/s  %.1f MB/s   ",
             static_cast<unsigned long long>(p.items), rate, mbs);
  }
  std::cerr << line << std::flush;
}

struct IndexArgs {
  std::string db;
  std::vector<std::string> paths;
  std::string format = "auto";
  bool quiet = false;
  bool json = false;
  bool force = false;
  bool no_compact = false;
  size_t batch = 5000;
  uint64_t run_docs = IndexOptions::kBulkRunDocs;
  unsigned parts = 0;
  unsigned shards = 0;
};

int RunIndex(const IndexArgs& a) {
  Result<Format> fmt = ParseFormat(a.format);
  if (!fmt.ok()) return Fail(fmt.status());
  IndexOptions opts;
  opts.format = *fmt;
  opts.batch_size = a.batch;
  opts.force = a.force;
  opts.parts = a.parts;
  opts.run_docs = a.run_docs;
  if (a.no_compact) opts.compact = IndexOptions::Compaction::kNever;
  bool tty = isatty(STDERR_FILENO) && !a.quiet;
  bool progress_shown = false;
  if (tty) {
    opts.on_progress = [&](const IndexProgress& p) {
      progress_shown = true;
      ShowProgress(p);
    };
  }
  uint64_t warnings = 0;
  opts.on_warning = [&](const std::string& msg) {
    ++warnings;
    if (progress_shown) std::cerr << "\r\033[K";
    if (!a.quiet || warnings <= 20) std::cerr << "warning: " << msg << "\n";
  };
  IndexStats stats;
  Status st;
  if (a.shards > 0 || IsCollection(a.db)) {
    if (a.shards > 0 && IsCollection(a.db)) {
      Result<Collection> c = LoadCollection(a.db);
      if (!c.ok()) return Fail(c.status());
      if (c->shards.size() != a.shards) {
        return Fail(Status::InvalidArgument(
            a.db + ": the collection has " + std::to_string(c->shards.size()) +
            " shards, not " + std::to_string(a.shards) +
            " (add one with `threadsearch rebalance --add-shard NAME`)"));
      }
    }
    Result<std::unique_ptr<CollectionIndexer>> cx =
        CollectionIndexer::Open(a.db, a.shards, opts);
    if (!cx.ok()) return Fail(cx.status());
    st = (*cx)->IndexPaths(a.paths, &stats);
  } else {
    Result<std::unique_ptr<Indexer>> ix = Indexer::Open(a.db, opts);
    if (!ix.ok()) return Fail(ix.status());
    st = (*ix)->IndexPaths(a.paths, &stats);
  }
  if (progress_shown) std::cerr << "\n";
  if (a.json) {
    std::cout << IndexStatsToJson(stats, 2) << "\n";
  } else {
    PrintIndexStats(std::cerr, stats);
  }
  if (!st.ok()) {
    // Unreadable inputs are a failed run, not a usage error.
    std::cerr << "threadsearch: " << st.message() << "\n";
    return kExitFailure;
  }
  return kExitOk;
}

int RunRebalance(const std::string& db, const std::string& name) {
  if (!IsCollection(db)) {
    return Fail(Status::InvalidArgument(
        db + ": not a collection (make one with `index --shards N`)"));
  }
  IndexOptions opts;
  opts.on_warning = [](const std::string& msg) {
    std::cerr << "warning: " << msg << "\n";
  };
  Result<std::unique_ptr<CollectionIndexer>> cx =
      CollectionIndexer::Open(db, 0, opts);
  if (!cx.ok()) return Fail(cx.status());
  const bool tty = isatty(STDERR_FILENO);
  RebalanceStats stats;
  Status st = (*cx)->AddShard(
      name,
      [&](uint64_t moved, uint64_t goal) {
        if (!tty) return;
        std::cerr << "\rmoved " << moved << " of about " << goal << " items"
                  << std::flush;
      },
      &stats);
  if (tty) std::cerr << "\n";
  if (!st.ok()) return Fail(st);
  std::cerr << "added shard " << name << ": moved " << stats.threads_moved
            << " threads (" << stats.items_moved << " items) in "
            << stats.seconds << " s\n";
  return kExitOk;
}

struct SearchArgs {
  std::string db;
  std::vector<std::string> words;
  bool json = false;
  uint32_t limit = 10;
  uint32_t page = 0;
  std::vector<std::string> authors;
  std::vector<std::string> replies_to;
  std::string thread;
  std::string type;
  std::string source;
  std::string list;
  std::string after;
  std::string before;
  std::string sort;
  std::string collapse;
  bool facets = false;
};

int RunSearch(const SearchArgs& a) {
  SearchRequest req;
  std::vector<std::string> words = a.words;
  for (std::string& w : words) {
    if (!w.empty() && w[0] == kWordMark) w.erase(0, 1);
  }
  req.query = Join(words);
  req.limit = a.limit;
  req.page = a.page;
  req.authors = a.authors;
  req.replies_to = a.replies_to;
  req.thread = a.thread;
  req.list = a.list;
  if (!a.sort.empty()) {
    Result<SortOrder> s = ParseSortOrder(a.sort);
    // "sort: …" names the HTTP parameter; here it is the flag.
    if (!s.ok()) return Fail(Status::InvalidArgument("--" + s.status().message()));
    req.sort = *s;
  }
  if (!a.type.empty()) {
    ItemType t;
    if (!ParseItemType(a.type, &t)) {
      return Fail(Status::InvalidArgument(
          "--type: unknown type \"" + a.type +
          "\" (story, comment, message, poll, pollopt or job)"));
    }
    req.type = t;
  }
  if (!a.source.empty()) {
    Source s;
    if (!ParseSource(a.source, &s)) {
      return Fail(Status::InvalidArgument("--source: unknown source \"" +
                                          a.source + "\" (hn, reddit, mail)"));
    }
    req.source = s;
  }
  if (!a.after.empty()) {
    Result<int64_t> t = ParseDateParam(a.after, "--after");
    if (!t.ok()) return Fail(t.status());
    req.after = *t;
  }
  if (!a.before.empty()) {
    Result<int64_t> t = ParseDateParam(a.before, "--before");
    if (!t.ok()) return Fail(t.status());
    req.before = *t;
  }
  if (!a.collapse.empty()) {
    if (a.collapse != "thread") {
      return Fail(Status::InvalidArgument("--collapse: only \"thread\""));
    }
    req.collapse_thread = true;
  }
  req.facets = a.facets;
  // One query: reading each index part's lengths and times into memory
  // (about 0.2 s of CPU a million documents) would cost more than it
  // saves; Xapian's BM25 gives the same results.
  SearcherOptions one_query;
  one_query.cached_lengths = false;
  Result<std::unique_ptr<Searcher>> s = Searcher::Open(a.db, one_query);
  if (!s.ok()) return Fail(s.status());
  Result<SearchResult> r = (*s)->Search(req);
  if (!r.ok()) return Fail(r.status());
  if (a.json) {
    std::cout << SearchResultToJson(*r, 2) << "\n";
  } else {
    PrintSearchResult(std::cout, *r, StdoutStyle());
  }
  return kExitOk;
}

int RunCheck(const std::string& db, bool repair, bool json);

// A collection is checked shard by shard (local shards; a remote one is
// checked where it lives).
int RunCheckCollection(const std::string& db, bool repair, bool json) {
  Result<Collection> c = LoadCollection(db);
  if (!c.ok()) return Fail(c.status());
  int rc = kExitOk;
  for (const ShardSpec& s : c->shards) {
    if (s.remote()) {
      std::cerr << "shard " << s.name << ": remote (" << s.xapian
                << "), check it where it lives\n";
      continue;
    }
    std::cout << "shard " << s.name << ": " << std::flush;
    int r = RunCheck(ShardDir(*c, s), repair, json);
    if (r != kExitOk) rc = r;
  }
  return rc;
}

int RunCheck(const std::string& db, bool repair, bool json) {
  if (IsCollection(db)) return RunCheckCollection(db, repair, json);
  CheckOptions opts;
  opts.repair = repair;
  bool tty = isatty(STDERR_FILENO);
  if (tty) {
    opts.on_progress = [](const std::string& phase, uint64_t done,
                          uint64_t total) {
      char line[128];
      snprintf(line, sizeof line, "\r%s: %llu/%llu (%.0f%%)   ", phase.c_str(),
               static_cast<unsigned long long>(done),
               static_cast<unsigned long long>(total),
               total ? 100.0 * static_cast<double>(done) /
                           static_cast<double>(total)
                     : 0.0);
      std::cerr << line << std::flush;
    };
  }
  CheckReport r;
  Status st = CheckDatabase(db, opts, &r);
  if (tty) std::cerr << "\r\033[K";
  if (!st.ok()) return Fail(st);
  if (json) {
    std::cout << CheckReportToJson(r, 2) << "\n";
  } else {
    std::cout << (r.consistent() ? "consistent" : "INCONSISTENT")
              << (r.repaired ? " (after rebuilding the index)" : "") << ": "
              << r.items << " items, " << r.searchable << " searchable, "
              << r.documents << " documents, " << r.authors << " authors, "
              << r.threads << " threads\n";
    if (!r.consistent()) {
      std::cout << "  missing documents " << r.missing_documents
                << ", extra documents " << r.extra_documents
                << ", author mismatches " << r.author_mismatches
                << ", thread mismatches " << r.thread_mismatches
                << ", structure errors " << r.structure_errors
                << ", index batch " << r.index_seq << " of " << r.store_seq
                << "\n";
    }
    for (const std::string& e : r.examples) std::cout << "  " << e << "\n";
  }
  return r.consistent() ? kExitOk : kExitFailure;
}

// `search lm -factor` and `search -author:bot rust`: a negated word or
// field is a query word, though it starts with '-'. Each argument after
// `search` that starts with '-' and names none of its options (nor is such
// an option's value) is marked as a word; `--`-options are left to CLI11,
// which reports the unknown ones.
std::vector<std::string> MarkNegatedWords(CLI::App* search, int argc,
                                          char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  if (args.size() < 2 || args[1] != search->get_name()) return args;
  auto takes_value = [&](const std::string& name) {
    const CLI::Option* o = search->get_option_no_throw(name);
    return o != nullptr && o->get_items_expected_min() > 0;
  };
  for (size_t i = 2; i < args.size(); ++i) {
    std::string& a = args[i];
    if (a == "--") break;
    if (a.size() < 2 || a[0] != '-') continue;
    if (a[1] == '-') {
      if (a.find('=') == std::string::npos && takes_value(a)) ++i;
      continue;
    }
    const std::string name = a.substr(0, 2);
    if (search->get_option_no_throw(name) != nullptr) {
      const std::string rest = a.substr(2);
      if (rest.empty()) {
        if (takes_value(name)) ++i;
        continue;
      }
      // -n5: a short option with its number attached.
      if (takes_value(name) &&
          rest.find_first_not_of("0123456789") == std::string::npos) {
        continue;
      }
    }
    a.insert(a.begin(), kWordMark);
  }
  return args;
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{
      "threadsearch: full-text search over discussion threads (Hacker News, "
      "Reddit, mailing lists)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "threadsearch 0.1.0");
  int rc = kExitOk;

  IndexArgs ia;
  CLI::App* index = app.add_subcommand(
      "index",
      "Index files or directories (plain, .gz, .zst, .bz2, .xz; - for stdin)");
  index->add_option("--db", ia.db, "Database directory")->required();
  index->add_option("--format", ia.format,
                    "Input format: auto, hn-json, algolia, bigquery, "
                    "pushshift, mbox, thread-page");
  index->add_option("--batch", ia.batch,
                    "Items per commit (the first three batches are smaller; "
                    "on a large index batches grow to 4x)")
      ->check(CLI::Range(1, 10000000));
  index->add_flag("--quiet,-q", ia.quiet, "No progress line");
  index->add_flag("--no-compact", ia.no_compact,
                  "Do not compact the index after a large run (no runs "
                  "either)");
  index->add_option("--run-docs", ia.run_docs,
                    "Bulk builds: once this command adds a tenth of the "
                    "index, "
                    "each index part writes its new documents to runs of N "
                    "documents (more once a part has about 100 runs), "
                    "merged at the end; "
                    "0: write into the parts")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 32));
  index->add_option("--parts", ia.parts,
                    "Index parts written in parallel, for a new database "
                    "(default: one per core)")
      ->check(CLI::Range(1, 8));
  index->add_option("--shards", ia.shards,
                    "Make a new collection of N shards, a whole thread per "
                    "shard (see `serve` for remote shards)")
      ->check(CLI::Range(1, 256));
  index->add_flag("--json", ia.json, "Print the summary as JSON");
  index->add_flag("--force", ia.force,
                  "Read files even when unchanged since they were indexed");
  index->add_option("paths", ia.paths, "Files or directories")->required();
  index->callback([&] { rc = RunIndex(ia); });

  SearchArgs sa;
  CLI::App* search = app.add_subcommand("search", "Search the index");
  search->add_option("--db", sa.db, "Database directory")->required();
  search->add_flag("--json", sa.json, "Print one JSON object");
  search->add_option("--limit,-n", sa.limit, "Hits per page (default 10)")
      ->check(CLI::Range(1, 1000));
  search->add_option("--page,-p", sa.page, "Page (0-based)");
  // One name per flag (repeat the flag for several), so the query words
  // that follow are not taken as more names.
  search->add_option("--author,--by", sa.authors, "Only items by NAME")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  search->add_option("--replies-to,--to", sa.replies_to,
                     "Only replies to items by NAME")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  search->add_option("--thread", sa.thread, "Only the thread of item ID");
  search->add_option("--type", sa.type,
                     "story, comment, message, poll, pollopt or job");
  search->add_option("--source", sa.source, "hn, reddit or mail");
  search->add_option("--list", sa.list, "Mailing list or subreddit");
  search->add_option("--after", sa.after, "Items at or after DATE");
  search->add_option("--before", sa.before, "Items before DATE");
  search->add_option("--sort", sa.sort, "relevance, date, -date, points, replies");
  search->add_option("--collapse", sa.collapse, "thread: one hit per thread");
  search->add_flag("--facets", sa.facets,
                   "Count matches by author, thread, year and month");
  search->add_option("query", sa.words,
                     "Query: words, \"a phrase\", OR, -word, author:NAME, "
                     "-author:NAME, to:NAME, thread:ID, type:T, date:A..B, "
                     "… (README, \"Query syntax\"); none: the filters "
                     "alone, newest first");
  search->callback([&] { rc = RunSearch(sa); });

  std::string tdb, tid;
  bool tjson = false;
  uint32_t tdepth = 1000;
  CLI::App* thread = app.add_subcommand("thread", "Show the thread around an item");
  thread->add_option("--db", tdb, "Database directory")->required();
  thread->add_flag("--json", tjson, "Print JSON");
  thread->add_option("--depth", tdepth,
                     "Levels of replies below the item (default: all)");
  thread->add_option("id", tid, "Item id (hn:ID, reddit:ID, mail:MSGID or bare)")
      ->required();
  thread->callback([&] {
    Result<std::unique_ptr<Searcher>> s = Searcher::Open(tdb, {});
    if (!s.ok()) {
      rc = Fail(s.status());
      return;
    }
    Result<ThreadView> v = (*s)->ThreadBelow(tid, tdepth);
    if (!v.ok()) {
      rc = Fail(v.status());
      return;
    }
    if (tjson) {
      std::cout << ThreadViewToJson(*v, 2) << "\n";
    } else {
      PrintThreadView(std::cout, *v, StdoutStyle());
    }
  });

  std::string udb, uname;
  bool ujson = false;
  CLI::App* user = app.add_subcommand("user", "Summarise what a user wrote");
  user->add_option("--db", udb, "Database directory")->required();
  user->add_flag("--json", ujson, "Print JSON");
  user->add_option("name", uname, "User name or mail address")->required();
  user->callback([&] {
    Result<std::unique_ptr<Searcher>> s = Searcher::Open(udb, {});
    if (!s.ok()) {
      rc = Fail(s.status());
      return;
    }
    Result<UserSummary> u = (*s)->User(uname);
    if (!u.ok()) {
      rc = Fail(u.status());
      return;
    }
    if (ujson) {
      std::cout << UserSummaryToJson(*u, 2) << "\n";
    } else {
      PrintUserSummary(std::cout, *u, StdoutStyle());
    }
  });

  std::string sdb;
  bool sjson = false;
  CLI::App* stats = app.add_subcommand("stats", "Counts and sizes");
  stats->add_option("--db", sdb, "Database directory")->required();
  stats->add_flag("--json", sjson, "Print JSON");
  stats->callback([&] {
    Result<std::unique_ptr<Searcher>> s = Searcher::Open(sdb, {});
    if (!s.ok()) {
      rc = Fail(s.status());
      return;
    }
    Result<DbStats> d = (*s)->Stats();
    if (!d.ok()) {
      rc = Fail(d.status());
      return;
    }
    if (sjson) {
      std::cout << DbStatsToJson(*d, 2) << "\n";
    } else {
      PrintDbStats(std::cout, *d, StdoutStyle());
    }
  });

  std::string cdb;
  bool crepair = false, cjson = false;
  CLI::App* check = app.add_subcommand(
      "check", "Check that the thread store and the index agree");
  check->add_option("--db", cdb, "Database directory")->required();
  check->add_flag("--repair", crepair,
                  "Rebuild the index from the thread store if they disagree");
  check->add_flag("--json", cjson, "Print JSON");
  check->callback([&] { rc = RunCheck(cdb, crepair, cjson); });

  std::string rdb, rname;
  CLI::App* rebalance = app.add_subcommand(
      "rebalance",
      "Add a shard to a collection and move whole threads into it, while "
      "servers keep answering");
  rebalance->add_option("--db", rdb, "Collection directory")->required();
  rebalance->add_option("--add-shard", rname,
                        "Name of the new shard (its directory under --db)")
      ->required();
  rebalance->callback([&] { rc = RunRebalance(rdb, rname); });

  RegisterServeCommand(app, &rc);
  RegisterShardServeCommand(app, &rc);
  RegisterFollowCommand(app, &rc);

  std::vector<std::string> args = MarkNegatedWords(search, argc, argv);
  std::vector<char*> marked;
  for (std::string& a : args) marked.push_back(a.data());
  try {
    app.parse(static_cast<int>(marked.size()), marked.data());
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return rc;
}

}  // namespace threadsearch
