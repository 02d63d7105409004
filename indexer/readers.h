// Readers: one per input format, each turning a file into Items or located
// errors. ReadFile sniffs the format and dispatches.
#ifndef THREADSEARCH_INDEXER_READERS_H_
#define THREADSEARCH_INDEXER_READERS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/item.h"
#include "common/status.h"

namespace threadsearch {

class InputStream;

enum class Format {
  kAuto = 0,
  kHnJson,      // HN Firebase item JSON: one item, array, JSONL, or
                // {"post": …, "comments": […]}
  kAlgolia,     // HN Algolia API JSON: search response, item tree, or the
                // recorded [{"url", "reply"}] list
  kBigQuery,    // HN BigQuery JSON Lines, every value a string
  kPushshift,   // Reddit Pushshift RC/RS NDJSON
  kMbox,        // mbox / Mailman pipermail monthly archive
  kThreadPage,  // plain-text rendering of an HN thread page
};

// "hn-json", "algolia", "bigquery", "pushshift", "mbox", "thread-page",
// "auto".
std::string_view FormatName(Format f);
// Parses the names above; InvalidArgument listing the valid names otherwise.
Result<Format> ParseFormat(std::string_view name);

// A malformed record: where ("file:line") and why. The reader skips it and
// goes on.
struct ReadError {
  std::string where;
  std::string message;
};

struct ReadCallbacks {
  // Called for every good item, in file order. Required.
  std::function<void(Item&&)> on_item;
  // Called for every skipped record. May be empty.
  std::function<void(const ReadError&)> on_error;
};

// Looks at the first bytes of a stream (without consuming them) and names its
// format. Returns InvalidArgument naming the stream when it cannot tell.
Result<Format> SniffFormat(InputStream& in);

// Reads the whole stream in `format` (kAuto: sniffed), calling `cb` per item
// and per bad record. Returns OK when the stream was read to its end (even
// with bad records); an error when the format cannot be told or the stream
// fails (e.g. a truncated .gz: items before the break were still delivered).
// Thread-compatible: each call uses only its own state.
Status ReadStream(InputStream& in, Format format, const ReadCallbacks& cb);

// Per-format readers, used by ReadStream; exposed for tests and fuzzers.
Status ReadHnJson(InputStream& in, const ReadCallbacks& cb);
Status ReadAlgolia(InputStream& in, const ReadCallbacks& cb);
Status ReadBigQuery(InputStream& in, const ReadCallbacks& cb);
Status ReadPushshift(InputStream& in, const ReadCallbacks& cb);
Status ReadThreadPage(InputStream& in, const ReadCallbacks& cb);
// `list` is the list name to record on each message; when empty it is the
// List-Id header's short name, else (for a pipermail month file named like
// "2003-March.txt.gz") the file's parent directory name, else the file stem.
Status ReadMbox(InputStream& in, const std::string& list,
                const ReadCallbacks& cb);

// Parses one HN Firebase item as the API serves it (the body of
// GET /v0/item/ID.json), with the same mapping as ReadHnJson. Returns the
// item (origin left empty); NotFound when the text is `null` (an unused or
// purged id); Corruption saying what is wrong when the text is not valid JSON
// (e.g. truncated) or not an item object. Thread-safe.
Result<Item> ParseHnItemJson(std::string_view text);

// For the readers: JSON's white space, and the offset in `s` of the first
// byte after white space and `null` records (ids the HN API had no item
// for) from `i` on.
bool IsJsonSpace(char c);
size_t SkipJsonNulls(std::string_view s, size_t i);

}  // namespace threadsearch

#endif  // THREADSEARCH_INDEXER_READERS_H_
