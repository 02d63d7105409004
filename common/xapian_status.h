// Maps Xapian exceptions to Status, one table for every module that calls
// Xapian (STYLE.md "Errors").
#ifndef THREADSEARCH_COMMON_XAPIAN_STATUS_H_
#define THREADSEARCH_COMMON_XAPIAN_STATUS_H_

#include <string>

#include "common/status.h"

namespace Xapian {
class Error;
}

namespace threadsearch {

// "WHAT: message" with the code for the exception's type:
// QueryParserError and InvalidArgumentError -> kInvalidArgument,
// DatabaseLockError -> kBusy, DatabaseCorruptError -> kCorruption,
// DatabaseOpeningError and other DatabaseErrors -> kIOError,
// anything else -> kInternal (with the type named).
Status XapianStatus(const Xapian::Error& e, const std::string& what);

}  // namespace threadsearch

#endif  // THREADSEARCH_COMMON_XAPIAN_STATUS_H_
