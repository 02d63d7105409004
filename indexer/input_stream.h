// InputStream: sequential reading of a plain, gzip, zstd, bzip2 or xz file
// (or stdin),
// told apart by magic bytes, with line access and progress counters.
#ifndef THREADSEARCH_INDEXER_INPUT_STREAM_H_
#define THREADSEARCH_INDEXER_INPUT_STREAM_H_

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace threadsearch {

class InputStream {
 public:
  // Longest line ReadLine accepts by default (bytes); longer lines are
  // reported as an error and skipped, never loaded whole.
  static constexpr size_t kDefaultMaxLine = 64u << 20;

  // Opens `path` ("-" is standard input). Compression is detected from the
  // first bytes (gzip 1f 8b, zstd 28 b5 2f fd, bzip2 "BZh", xz fd "7zXZ"),
  // not from the name. Returns IOError naming the path when it cannot be
  // opened.
  static Result<std::unique_ptr<InputStream>> Open(const std::string& path);
  // Wraps an in-memory buffer (tests, fuzzers). `name` is used in messages.
  static std::unique_ptr<InputStream> FromString(std::string data,
                                                 std::string name);
  virtual ~InputStream();
  InputStream(const InputStream&) = delete;
  InputStream& operator=(const InputStream&) = delete;

  // Reads the next line into *line, without its "\n" (a trailing "\r" is
  // kept). Returns false at end of input or on error (see status()). A line
  // longer than max_line is skipped: *too_long is set, *line holds its first
  // max_line bytes, and reading continues with the next line.
  bool ReadLine(std::string* line, bool* too_long = nullptr);
  // Up to n bytes, returned at the start of the stream without consuming
  // them (for format sniffing). May return fewer at end of input.
  std::string Peek(size_t n);
  // Appends up to `max` bytes of what is left to *out (the buffered bytes
  // first, else one read from the decoder) and returns how many; 0
  // at end of input or on error (see status()). Lines are not counted:
  // line_number() is ReadLine's.
  size_t Read(std::string* out, size_t max);
  // Reads everything left (up to `limit` bytes; more is an error).
  Status ReadAll(std::string* out, size_t limit);

  // 1-based number of the line last returned by ReadLine.
  uint64_t line_number() const { return line_number_; }
  // Bytes of the underlying file consumed so far (compressed bytes).
  uint64_t raw_bytes_read() const;
  // Size of the underlying file in bytes, 0 if unknown (stdin, pipes).
  uint64_t raw_size() const { return raw_size_; }
  // OK, or the error that ended reading (e.g. truncated gzip stream).
  const Status& status() const { return status_; }
  const std::string& name() const { return name_; }
  void set_max_line(size_t n) { max_line_ = n; }
  // Test hook: the most bytes taken from the decoder at a time (by ReadLine
  // and Peek) and returned by one Read, so tests can put chunk boundaries
  // anywhere.
  // REQUIRES: n > 0.
  void set_chunk_size(size_t n) { chunk_ = n; }

 protected:
  InputStream(std::string name, uint64_t raw_size);
  // Reads up to n decompressed bytes into buf; returns 0 at end or error
  // (setting status_).
  virtual size_t ReadRaw(char* buf, size_t n) = 0;
  virtual uint64_t RawConsumed() const = 0;
  Status status_;

 private:
  bool Fill();
  // Appends one read of up to min(max, chunk_) bytes from the decoder to
  // *out, bypassing buf_; 0 (and eof_ set) at end of input or on error.
  size_t ReadDecoded(std::string* out, size_t max);
  std::string name_;
  uint64_t raw_size_ = 0;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
  uint64_t line_number_ = 0;
  size_t max_line_ = kDefaultMaxLine;
  size_t chunk_;
};

}  // namespace threadsearch

#endif  // THREADSEARCH_INDEXER_INPUT_STREAM_H_
