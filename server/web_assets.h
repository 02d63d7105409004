// The web page, embedded into the binary at build time from
// server/web/index.html (see server/embed_file.cmake).
#ifndef THREADSEARCH_SERVER_WEB_ASSETS_H_
#define THREADSEARCH_SERVER_WEB_ASSETS_H_

#include <cstddef>

namespace threadsearch {

// The bytes of server/web/index.html (not NUL-terminated) and their count.
extern const char kIndexHtml[];
extern const size_t kIndexHtmlSize;

}  // namespace threadsearch

#endif  // THREADSEARCH_SERVER_WEB_ASSETS_H_
