// bench_dump_items: prints every searchable item of a threadsearch database
// as one JSON object per line, with the text exactly as the indexer sees it
// (schema::IndexedBody), so that bench/quality.py can index the same text
// into SQLite FTS5 and draw known-item queries from it.
//
//   bench_dump_items --db DIR
//   {"num": 12, "source": "mail", "id": "...", "root": true,
//    "title": "...", "body": "...", "text": "...", "author": "...",
//    "author_name": "...", "time": 0, "parent": "...", "url": "...",
//    "list": "..."}
//
// Exit codes: 0 success, 1 failure, 2 usage.
#include <nlohmann/json.hpp>

#include <cstring>
#include <iostream>
#include <string>

#include "common/keys.h"
#include "common/schema.h"
#include "common/thread_store.h"

int main(int argc, char** argv) {
  using threadsearch::StoredItem;
  if (argc != 3 || std::strcmp(argv[1], "--db") != 0) {
    std::cerr << "usage: bench_dump_items --db DIR\n";
    return 2;
  }
  threadsearch::StoreOptions so;
  so.read_only = true;
  auto store =
      threadsearch::ThreadStore::Open(std::string(argv[2]) + "/store", so);
  if (!store.ok()) {
    std::cerr << "bench_dump_items: " << store.status().ToString() << "\n";
    return 1;
  }
  threadsearch::Status err;
  threadsearch::Status st = (*store)->Scan(
      std::string(1, threadsearch::keys::kItem),
      [&](std::string_view, std::string_view v) {
        StoredItem s;
        threadsearch::Status d = threadsearch::DecodeStoredItem(v, &s);
        if (!d.ok()) {
          err = d;
          return false;
        }
        if (!s.searchable()) return true;
        nlohmann::json j = {
            {"num", s.num},
            {"source", std::string(threadsearch::SourceName(s.item.source))},
            {"id", s.item.id},
            {"root", threadsearch::schema::TitleIsBody(s.item)},
            {"title", s.item.title},
            {"body", threadsearch::schema::IndexedBody(s.item)},
            // What the store keeps besides: the text as shown (a mail body
            // with its quotes and signature) and the fields a hit shows,
            // for a peer that holds the same content (bench/run).
            {"text", s.item.text},
            {"author", s.item.author},
            {"author_name", s.item.author_name},
            {"time", s.item.time},
            {"parent", s.item.parent},
            {"url", s.item.url},
            {"list", s.item.list}};
        std::cout << j.dump(-1, ' ', false,
                            nlohmann::json::error_handler_t::replace)
                  << "\n";
        return true;
      });
  if (!st.ok()) err = st;
  if (!err.ok()) {
    std::cerr << "bench_dump_items: " << err.ToString() << "\n";
    return 1;
  }
  return 0;
}
