// Test hooks of the JSON readers (indexer/json_readers.cc).
#ifndef THREADSEARCH_INDEXER_JSON_READERS_INTERNAL_H_
#define THREADSEARCH_INDEXER_JSON_READERS_INTERNAL_H_

#include <cstddef>

#include "common/status.h"
#include "indexer/input_stream.h"
#include "indexer/readers.h"

namespace threadsearch {

// As ReadHnJson, with the largest single value a whole JSON document's
// reader holds in memory set to `max_value` bytes (1 GiB in ReadHnJson): a
// value larger is an InvalidArgument error naming the file and line.
Status ReadHnJson(InputStream& in, const ReadCallbacks& cb, size_t max_value);

}  // namespace threadsearch

#endif  // THREADSEARCH_INDEXER_JSON_READERS_INTERNAL_H_
