#include "common/xapian_status.h"

#include <xapian.h>

namespace threadsearch {

Status XapianStatus(const Xapian::Error& e, const std::string& what) {
  const std::string type = e.get_type();
  const std::string msg = what + ": " + e.get_msg();
  if (type == "QueryParserError" || type == "InvalidArgumentError") {
    return Status::InvalidArgument(msg);
  }
  if (type == "DatabaseLockError") return Status::Busy(msg);
  if (type == "DatabaseCorruptError") return Status::Corruption(msg);
  if (type == "DatabaseOpeningError" || type == "DatabaseError" ||
      type == "DatabaseNotFoundError") {
    return Status::IOError(msg);
  }
  return Status::Internal(type + ": " + msg);
}

}  // namespace threadsearch
