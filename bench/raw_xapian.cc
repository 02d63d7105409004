// bench_raw_xapian: the raw Xapian peer of bench/run. A minimal indexer and
// query loop with Xapian's defaults, to show what the library alone costs on
// the same items and queries as threadsearch and SQLite FTS5.
//
//   bench_raw_xapian index --db DIR --items FILE [--limit N] [--no-termlist]
//     Reads the JSON lines of bench_dump_items (num, root, title, body) into
//     memory (untimed), then, timed: one WritableDatabase (created or
//     overwritten), a TermGenerator with the english stemmer (STEM_SOME,
//     positions), per item the text (a thread opener's title, then the body;
//     the same `text` FTS5 gets) and the title with prefix S (FTS5's `title`
//     column), add_document, and one commit() at the end. Flush threshold
//     and everything else are Xapian's defaults; no document data is stored.
//     Prints {"items": N, "seconds": S, "items_per_s": R}; progress every
//     20,000 items on stderr. --no-termlist creates the database with
//     Xapian::DB_NO_TERMLIST (no termlist table: smaller and quicker to
//     write, but a document can then be neither replaced nor deleted),
//     to measure what that table costs.
//
//   bench_raw_xapian query --db DIR --queries FILE [--warm N] [--limit N]
//     One query per line through QueryParser (english stemmer, STEM_SOME,
//     default operator AND, like FTS5 and threadsearch) and Enquire (BM25
//     defaults, get_mset(0, limit)), reading the docids. Runs the set `--warm`
//     times untimed, then once timed per query (parse + match), and prints
//     {"queries", "errors", "hits", "p50_ms", "p95_ms", "p99_ms", "mean_ms",
//      "max_ms", "total_ms"} as bench_query does.
//
// Exit codes: 0 success, 1 failure, 2 usage.
#include <xapian.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "bench/bench_util.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Doc {
  std::string text;
  std::string title;
};

int Usage() {
  std::cerr << "usage: bench_raw_xapian index --db DIR --items FILE [--limit N] "
               "[--no-termlist]\n"
               "       bench_raw_xapian query --db DIR --queries FILE "
               "[--warm N] [--limit N]\n";
  return 2;
}

int Index(const std::string& db_path, const std::string& items_path,
          long limit, bool no_termlist) {
  std::vector<Doc> docs;
  {
    std::ifstream in(items_path);
    if (!in) {
      std::cerr << "bench_raw_xapian: cannot read " << items_path << "\n";
      return 1;
    }
    size_t line_no = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_no;
      if (line.empty()) continue;
      if (limit >= 0 && static_cast<long>(docs.size()) >= limit) break;
      try {
        nlohmann::json j = nlohmann::json::parse(line);
        Doc d;
        d.title = j.at("title").get<std::string>();
        const std::string body = j.at("body").get<std::string>();
        d.text = j.at("root").get<bool>() && !d.title.empty()
                     ? d.title + "\n" + body
                     : body;
        docs.push_back(std::move(d));
      } catch (const nlohmann::json::exception& e) {
        std::cerr << "bench_raw_xapian: " << items_path << ":" << line_no
                  << ": " << e.what() << "\n";
        return 1;
      }
    }
  }
  const auto t0 = Clock::now();
  try {
    Xapian::WritableDatabase db(
        db_path, Xapian::DB_CREATE_OR_OVERWRITE |
                     (no_termlist ? Xapian::DB_NO_TERMLIST : 0));
    Xapian::TermGenerator tg;
    size_t n = 0;
    tg.set_stemmer(Xapian::Stem("english"));
    for (const Doc& d : docs) {
      Xapian::Document doc;
      tg.set_document(doc);
      tg.index_text(d.text);
      tg.increase_termpos();
      tg.index_text(d.title, 1, "S");
      db.add_document(doc);
      if (++n % 20000 == 0) {
        std::cerr << "bench_raw_xapian: " << n << " items, "
                  << std::chrono::duration<double>(Clock::now() - t0).count()
                  << " s\n";
      }
    }
    db.commit();
  } catch (const Xapian::Error& e) {
    std::cerr << "bench_raw_xapian: index: " << e.get_description() << "\n";
    return 1;
  }
  const double s =
      std::chrono::duration<double>(Clock::now() - t0).count();
  std::cout << "{\"items\": " << docs.size() << ", \"seconds\": " << s
            << ", \"items_per_s\": " << static_cast<double>(docs.size()) / s
            << "}\n";
  return 0;
}

int Query(const std::string& db_path, const std::string& queries_path,
          int warm, unsigned limit) {
  std::vector<std::string> queries;
  if (!threadsearch::bench::ReadQueries(queries_path, "bench_raw_xapian", &queries)) {
    return 1;
  }
  std::vector<double> ms;
  uint64_t hits = 0, errors = 0;
  try {
    Xapian::Database db(db_path);
    Xapian::QueryParser qp;
    qp.set_database(db);
    qp.set_stemmer(Xapian::Stem("english"));
    qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
    qp.set_default_op(Xapian::Query::OP_AND);
    Xapian::Enquire enquire(db);
    for (int round = 0; round <= warm; ++round) {
      const bool timed = round == warm;
      for (const std::string& q : queries) {
        const auto t0 = Clock::now();
        size_t n = 0;
        bool failed = false;
        try {
          enquire.set_query(qp.parse_query(q));
          Xapian::MSet m = enquire.get_mset(0, limit);
          for (Xapian::MSetIterator it = m.begin(); it != m.end(); ++it) {
            n += *it != 0;
          }
        } catch (const Xapian::QueryParserError& e) {
          failed = true;
          if (timed && errors < 3) {
            std::cerr << "bench_raw_xapian: " << q << ": "
                      << e.get_description() << "\n";
          }
        }
        const double d =
            std::chrono::duration<double, std::milli>(Clock::now() - t0)
                .count();
        if (!timed) continue;
        ms.push_back(d);
        hits += n;
        errors += failed;
      }
    }
  } catch (const Xapian::Error& e) {
    std::cerr << "bench_raw_xapian: query: " << e.get_description() << "\n";
    return 1;
  }
  return threadsearch::bench::PrintLatencySummary(ms, errors, hits);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  const std::string mode = argv[1];
  std::string db, items, queries;
  long limit = -1;
  int warm = 1;
  bool no_termlist = false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--no-termlist") {
      no_termlist = true;
      continue;
    }
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (!v) return Usage();
    ++i;
    if (a == "--db") {
      db = v;
    } else if (a == "--items") {
      items = v;
    } else if (a == "--queries") {
      queries = v;
    } else if (a == "--limit") {
      limit = std::atol(v);
    } else if (a == "--warm") {
      warm = std::atoi(v);
    } else {
      return Usage();
    }
  }
  if (db.empty()) return Usage();
  if (mode == "index" && !items.empty()) return Index(db, items, limit, no_termlist);
  if (mode == "query" && !queries.empty()) {
    return Query(db, queries, warm,
                 limit > 0 ? static_cast<unsigned>(limit) : 10u);
  }
  return Usage();
}
