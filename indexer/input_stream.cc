#include "indexer/input_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <utility>

namespace threadsearch {

namespace {

// How much decompressed data Fill() asks for at a time, and how much
// compressed input the decoders read at a time.
constexpr size_t kChunk = 64 << 10;

// Where the (possibly compressed) bytes come from: a file descriptor or a
// string. The first bytes are read ahead for magic detection and handed out
// again by Read().
class RawSource {
 public:
  virtual ~RawSource() = default;
  // Up to n bytes; 0 at end of input; -1 on error (with errno set).
  virtual ssize_t Read(char* buf, size_t n) = 0;
  uint64_t consumed() const { return consumed_; }

 protected:
  uint64_t consumed_ = 0;
};

class FdSource : public RawSource {
 public:
  FdSource(int fd, bool owned) : fd_(fd), owned_(owned) {}
  ~FdSource() override {
    if (owned_) close(fd_);
  }
  ssize_t Read(char* buf, size_t n) override {
    while (true) {
      ssize_t r = ::read(fd_, buf, n);
      if (r < 0 && errno == EINTR) continue;
      if (r > 0) consumed_ += static_cast<uint64_t>(r);
      return r;
    }
  }

 private:
  int fd_;
  bool owned_;
};

class StringSource : public RawSource {
 public:
  explicit StringSource(std::string data) : data_(std::move(data)) {}
  ssize_t Read(char* buf, size_t n) override {
    size_t k = std::min(n, data_.size() - pos_);
    memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    consumed_ += k;
    return static_cast<ssize_t>(k);
  }

 private:
  std::string data_;
  size_t pos_ = 0;
};

// A source with its first bytes read ahead (for magic detection) and
// replayed before the rest.
class Head {
 public:
  explicit Head(std::unique_ptr<RawSource> src) : src_(std::move(src)) {}
  // Reads ahead up to n bytes; returns false on a read error.
  bool Prefetch(size_t n) {
    while (head_.size() < n) {
      char tmp[16];
      ssize_t r = src_->Read(tmp, std::min(sizeof tmp, n - head_.size()));
      if (r < 0) return false;
      if (r == 0) break;
      head_.append(tmp, static_cast<size_t>(r));
    }
    return true;
  }
  const std::string& head() const { return head_; }
  ssize_t Read(char* buf, size_t n) {
    if (head_pos_ < head_.size()) {
      size_t k = std::min(n, head_.size() - head_pos_);
      memcpy(buf, head_.data() + head_pos_, k);
      head_pos_ += k;
      return static_cast<ssize_t>(k);
    }
    return src_->Read(buf, n);
  }
  uint64_t consumed() const {
    return src_->consumed() - (head_.size() - head_pos_);
  }

 private:
  std::unique_ptr<RawSource> src_;
  std::string head_;
  size_t head_pos_ = 0;
};

std::string ReadErrorText(const std::string& name) {
  return name + ": read error: " + strerror(errno);
}

class PlainStream : public InputStream {
 public:
  PlainStream(std::string name, uint64_t size, std::unique_ptr<Head> src)
      : InputStream(std::move(name), size), src_(std::move(src)) {}

 protected:
  size_t ReadRaw(char* buf, size_t n) override {
    ssize_t r = src_->Read(buf, n);
    if (r < 0) {
      status_ = Status::IOError(ReadErrorText(name()));
      return 0;
    }
    return static_cast<size_t>(r);
  }
  uint64_t RawConsumed() const override { return src_->consumed(); }

 private:
  std::unique_ptr<Head> src_;
};

// gzip (RFC 1952), any number of concatenated members, as gzip(1) reads
// them. A stream that ends inside a member is an error, not a short file.
class GzipStream : public InputStream {
 public:
  GzipStream(std::string name, uint64_t size, std::unique_ptr<Head> src)
      : InputStream(std::move(name), size),
        src_(std::move(src)),
        in_(kChunk, '\0') {
    memset(&zs_, 0, sizeof zs_);
    if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK) {
      status_ = Status::Internal(this->name() + ": inflateInit2 failed");
      failed_ = true;
    }
  }
  ~GzipStream() override { inflateEnd(&zs_); }

 protected:
  size_t ReadRaw(char* buf, size_t n) override {
    if (failed_ || done_) return 0;
    while (true) {
      if (zs_.avail_in == 0 && !src_eof_) {
        ssize_t r = src_->Read(in_.data(), in_.size());
        if (r < 0) return Fail(Status::IOError(ReadErrorText(name())));
        if (r == 0) {
          src_eof_ = true;
        } else {
          zs_.next_in = reinterpret_cast<Bytef*>(in_.data());
          zs_.avail_in = static_cast<uInt>(r);
        }
      }
      if (member_done_) {
        // Between members: the end of input is a clean end; anything else
        // must be the next member.
        if (zs_.avail_in == 0) {
          if (src_eof_) {
            done_ = true;
            return 0;
          }
          continue;
        }
        if (inflateReset(&zs_) != Z_OK) {
          return Fail(Status::Internal(name() + ": inflateReset failed"));
        }
        member_done_ = false;
      }
      zs_.next_out = reinterpret_cast<Bytef*>(buf);
      zs_.avail_out = static_cast<uInt>(n);
      int ret = inflate(&zs_, Z_NO_FLUSH);
      size_t produced = n - zs_.avail_out;
      if (ret == Z_STREAM_END) {
        member_done_ = true;
      } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
        return Fail(Status::Corruption(
            name() + ": gzip data error: " +
            (zs_.msg != nullptr ? zs_.msg : "inflate failed")));
      }
      if (produced > 0) return produced;
      if (!member_done_ && zs_.avail_in == 0 && src_eof_) {
        return Fail(Status::Corruption(name() + ": truncated gzip stream"));
      }
    }
  }
  uint64_t RawConsumed() const override { return src_->consumed(); }

 private:
  size_t Fail(Status s) {
    status_ = std::move(s);
    failed_ = true;
    return 0;
  }
  std::unique_ptr<Head> src_;
  std::string in_;
  z_stream zs_;
  bool src_eof_ = false;
  bool member_done_ = false;
  bool done_ = false;
  bool failed_ = false;
};

// zstd frames, any number of them concatenated. Input ending inside a frame
// is an error.
class ZstdStream : public InputStream {
 public:
  ZstdStream(std::string name, uint64_t size, std::unique_ptr<Head> src)
      : InputStream(std::move(name), size),
        src_(std::move(src)),
        in_(ZSTD_DStreamInSize(), '\0'),
        ds_(ZSTD_createDStream()) {
    // Pushshift dumps are made with "zstd --long=31": a 2 GB window, above
    // the decoder's default limit of 128 MB (2^27).
    if (ds_ == nullptr || ZSTD_isError(ZSTD_initDStream(ds_)) ||
        ZSTD_isError(ZSTD_DCtx_setParameter(ds_, ZSTD_d_windowLogMax, 31))) {
      status_ = Status::Internal(this->name() + ": ZSTD_initDStream failed");
      failed_ = true;
    }
  }
  ~ZstdStream() override { ZSTD_freeDStream(ds_); }

 protected:
  size_t ReadRaw(char* buf, size_t n) override {
    if (failed_ || done_) return 0;
    while (true) {
      if (zin_.pos == zin_.size && !src_eof_) {
        ssize_t r = src_->Read(in_.data(), in_.size());
        if (r < 0) return Fail(Status::IOError(ReadErrorText(name())));
        if (r == 0) {
          src_eof_ = true;
        } else {
          zin_ = ZSTD_inBuffer{in_.data(), static_cast<size_t>(r), 0};
        }
      }
      ZSTD_outBuffer out{buf, n, 0};
      size_t in_before = zin_.pos;
      size_t ret = ZSTD_decompressStream(ds_, &out, &zin_);
      if (ZSTD_isError(ret)) {
        return Fail(Status::Corruption(
            name() + ": zstd data error: " + ZSTD_getErrorName(ret)));
      }
      // A call that neither reads nor writes (at end of input, after the
      // last frame) returns the next frame's header size: not a truncation.
      if (zin_.pos != in_before || out.pos > 0) frame_done_ = (ret == 0);
      if (out.pos > 0) return out.pos;
      if (zin_.pos == zin_.size && src_eof_) {
        if (!frame_done_) {
          return Fail(Status::Corruption(name() + ": truncated zstd stream"));
        }
        done_ = true;
        return 0;
      }
    }
  }
  uint64_t RawConsumed() const override { return src_->consumed(); }

 private:
  size_t Fail(Status s) {
    status_ = std::move(s);
    failed_ = true;
    return 0;
  }
  std::unique_ptr<Head> src_;
  std::string in_;
  ZSTD_inBuffer zin_{nullptr, 0, 0};
  ZSTD_DStream* ds_;
  bool src_eof_ = false;
  bool frame_done_ = true;
  bool done_ = false;
  bool failed_ = false;
};

// bzip2 (old Pushshift dumps, mail exports), any number of concatenated
// streams, as bunzip2 and pbzip2's output has them. Input ending inside a
// stream is an error.
class Bzip2Stream : public InputStream {
 public:
  Bzip2Stream(std::string name, uint64_t size, std::unique_ptr<Head> src)
      : InputStream(std::move(name), size),
        src_(std::move(src)),
        in_(kChunk, '\0') {
    Init();
  }
  ~Bzip2Stream() override {
    if (live_) BZ2_bzDecompressEnd(&bz_);
  }

 protected:
  size_t ReadRaw(char* buf, size_t n) override {
    if (failed_ || done_) return 0;
    while (true) {
      if (bz_.avail_in == 0 && !src_eof_) {
        ssize_t r = src_->Read(in_.data(), in_.size());
        if (r < 0) return Fail(Status::IOError(ReadErrorText(name())));
        if (r == 0) {
          src_eof_ = true;
        } else {
          bz_.next_in = in_.data();
          bz_.avail_in = static_cast<unsigned>(r);
        }
      }
      if (stream_done_) {
        // Between streams: the end of input is a clean end; anything else
        // must be the next stream.
        if (bz_.avail_in == 0) {
          if (src_eof_) {
            done_ = true;
            return 0;
          }
          continue;
        }
        char* next_in = bz_.next_in;
        const unsigned avail_in = bz_.avail_in;
        BZ2_bzDecompressEnd(&bz_);
        live_ = false;
        if (!Init()) return 0;
        bz_.next_in = next_in;
        bz_.avail_in = avail_in;
        stream_done_ = false;
      }
      bz_.next_out = buf;
      bz_.avail_out = static_cast<unsigned>(std::min<size_t>(n, UINT_MAX));
      const unsigned before = bz_.avail_out;
      const int ret = BZ2_bzDecompress(&bz_);
      const size_t produced = before - bz_.avail_out;
      if (ret == BZ_STREAM_END) {
        stream_done_ = true;
      } else if (ret != BZ_OK) {
        return Fail(Status::Corruption(name() + ": bzip2 data error (" +
                                       std::to_string(ret) + ")"));
      }
      if (produced > 0) return produced;
      if (!stream_done_ && bz_.avail_in == 0 && src_eof_) {
        return Fail(Status::Corruption(name() + ": truncated bzip2 stream"));
      }
    }
  }
  uint64_t RawConsumed() const override { return src_->consumed(); }

 private:
  bool Init() {
    memset(&bz_, 0, sizeof bz_);
    if (BZ2_bzDecompressInit(&bz_, 0, 0) != BZ_OK) {
      Fail(Status::Internal(name() + ": BZ2_bzDecompressInit failed"));
      return false;
    }
    live_ = true;
    return true;
  }
  size_t Fail(Status s) {
    status_ = std::move(s);
    failed_ = true;
    return 0;
  }
  std::unique_ptr<Head> src_;
  std::string in_;
  bz_stream bz_;
  bool live_ = false;
  bool src_eof_ = false;
  bool stream_done_ = false;
  bool done_ = false;
  bool failed_ = false;
};

// xz (Pushshift's 2017-2018 dumps), concatenated streams and padding as
// xz(1) reads them. Input ending inside a stream is an error.
class XzStream : public InputStream {
 public:
  XzStream(std::string name, uint64_t size, std::unique_ptr<Head> src)
      : InputStream(std::move(name), size),
        src_(std::move(src)),
        in_(kChunk, '\0') {
    if (lzma_stream_decoder(&lz_, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) {
      status_ = Status::Internal(this->name() + ": lzma_stream_decoder failed");
      failed_ = true;
    }
  }
  ~XzStream() override { lzma_end(&lz_); }

 protected:
  size_t ReadRaw(char* buf, size_t n) override {
    if (failed_ || done_) return 0;
    while (true) {
      if (lz_.avail_in == 0 && !src_eof_) {
        ssize_t r = src_->Read(in_.data(), in_.size());
        if (r < 0) return Fail(Status::IOError(ReadErrorText(name())));
        if (r == 0) {
          src_eof_ = true;
        } else {
          lz_.next_in = reinterpret_cast<const uint8_t*>(in_.data());
          lz_.avail_in = static_cast<size_t>(r);
        }
      }
      lz_.next_out = reinterpret_cast<uint8_t*>(buf);
      lz_.avail_out = n;
      const lzma_ret ret = lzma_code(&lz_, src_eof_ ? LZMA_FINISH : LZMA_RUN);
      const size_t produced = n - lz_.avail_out;
      if (ret == LZMA_STREAM_END) {
        done_ = true;  // the decoder takes no more calls
        return produced;
      }
      if (ret != LZMA_OK) {
        return Fail(Status::Corruption(
            name() + (ret == LZMA_BUF_ERROR && src_eof_
                          ? std::string(": truncated xz stream")
                          : ": xz data error (" + std::to_string(ret) + ")")));
      }
      if (produced > 0) return produced;
    }
  }
  uint64_t RawConsumed() const override { return src_->consumed(); }

 private:
  size_t Fail(Status s) {
    status_ = std::move(s);
    failed_ = true;
    return 0;
  }
  std::unique_ptr<Head> src_;
  std::string in_;
  lzma_stream lz_ = LZMA_STREAM_INIT;
  bool src_eof_ = false;
  bool done_ = false;
  bool failed_ = false;
};

// Picks the decoder from the first bytes. Returns null (status in *st) when
// even the first bytes cannot be read.
std::unique_ptr<InputStream> MakeStream(std::string name, uint64_t size,
                                        std::unique_ptr<RawSource> raw,
                                        Status* st) {
  auto head = std::make_unique<Head>(std::move(raw));
  if (!head->Prefetch(6)) {
    *st = Status::IOError(ReadErrorText(name));
    return nullptr;
  }
  const std::string& h = head->head();
  if (h.size() >= 2 && static_cast<unsigned char>(h[0]) == 0x1f &&
      static_cast<unsigned char>(h[1]) == 0x8b) {
    return std::make_unique<GzipStream>(std::move(name), size, std::move(head));
  }
  if (h.size() >= 4 && memcmp(h.data(), "\x28\xb5\x2f\xfd", 4) == 0) {
    return std::make_unique<ZstdStream>(std::move(name), size, std::move(head));
  }
  // Old Pushshift dumps and mail exports come as bzip2 or xz.
  constexpr char kXzMagic[6] = {'\xfd', '7', 'z', 'X', 'Z', '\0'};
  // bzip2: "BZh", the block size digit, then the first block's magic or,
  // for empty input, the end-of-stream magic.
  if (h.size() >= 6 && memcmp(h.data(), "BZh", 3) == 0 && h[3] >= '1' &&
      h[3] <= '9' &&
      (memcmp(h.data() + 4, "\x31\x41", 2) == 0 ||
       memcmp(h.data() + 4, "\x17\x72", 2) == 0)) {
    return std::make_unique<Bzip2Stream>(std::move(name), size,
                                         std::move(head));
  }
  if (h.size() >= 6 && memcmp(h.data(), kXzMagic, 6) == 0) {
    return std::make_unique<XzStream>(std::move(name), size, std::move(head));
  }
  return std::make_unique<PlainStream>(std::move(name), size, std::move(head));
}

}  // namespace

InputStream::InputStream(std::string name, uint64_t raw_size)
    : name_(std::move(name)), raw_size_(raw_size) {}

InputStream::~InputStream() = default;

Result<std::unique_ptr<InputStream>> InputStream::Open(
    const std::string& path) {
  int fd;
  bool owned;
  std::string name;
  if (path == "-") {
    fd = 0;
    owned = false;
    name = "<stdin>";
  } else {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::IOError(path + ": " + strerror(errno));
    owned = true;
    name = path;
  }
  uint64_t size = 0;
  struct stat sb;
  if (fstat(fd, &sb) == 0) {
    if (S_ISDIR(sb.st_mode)) {
      if (owned) close(fd);
      return Status::IOError(path + ": is a directory");
    }
    if (S_ISREG(sb.st_mode)) size = static_cast<uint64_t>(sb.st_size);
  }
  Status st;
  auto stream = MakeStream(std::move(name), size,
                           std::make_unique<FdSource>(fd, owned), &st);
  if (stream == nullptr) return st;
  // An unsupported format is refused here rather than at the first read.
  if (!stream->status().ok()) return stream->status();
  return stream;
}

std::unique_ptr<InputStream> InputStream::FromString(std::string data,
                                                     std::string name) {
  uint64_t size = data.size();
  Status st;
  // A string source cannot fail to read, so MakeStream never returns null.
  auto stream =
      MakeStream(std::move(name), size,
                 std::make_unique<StringSource>(std::move(data)), &st);
  assert(stream != nullptr);
  return stream;
}

uint64_t InputStream::raw_bytes_read() const { return RawConsumed(); }

bool InputStream::Fill() {
  if (eof_) return false;
  // Drop what was consumed so the buffer stays about one line plus a chunk.
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  size_t old = buf_.size();
  buf_.resize(old + kChunk);
  size_t n = ReadRaw(buf_.data() + old, kChunk);
  buf_.resize(old + n);
  if (n == 0) {
    eof_ = true;
    return false;
  }
  return true;
}

bool InputStream::ReadLine(std::string* line, bool* too_long) {
  if (too_long != nullptr) *too_long = false;
  line->clear();
  bool skipping = false;  // Past max_line_: discarding up to the newline.
  size_t scan = 0;        // Offset from pos_ already searched for '\n'.
  while (true) {
    size_t nl = buf_.find('\n', pos_ + scan);
    if (nl != std::string::npos) {
      if (!skipping) {
        size_t len = nl - pos_;
        if (len > max_line_) {
          len = max_line_;
          skipping = true;
        }
        line->assign(buf_, pos_, len);
      }
      if (skipping && too_long != nullptr) *too_long = true;
      pos_ = nl + 1;
      ++line_number_;
      return true;
    }
    if (!skipping && buf_.size() - pos_ > max_line_) {
      line->assign(buf_, pos_, max_line_);
      skipping = true;
    }
    if (skipping) pos_ = buf_.size();
    scan = buf_.size() - pos_;
    if (!Fill()) {
      // A partial last line after a decoding error is not trusted.
      if (!status_.ok()) return false;
      if (skipping) {
        if (too_long != nullptr) *too_long = true;
        ++line_number_;
        return true;
      }
      if (pos_ < buf_.size()) {
        line->assign(buf_, pos_, buf_.size() - pos_);
        pos_ = buf_.size();
        ++line_number_;
        return true;
      }
      return false;
    }
  }
}

std::string InputStream::Peek(size_t n) {
  while (buf_.size() - pos_ < n && Fill()) {
  }
  return buf_.substr(pos_, std::min(n, buf_.size() - pos_));
}

Status InputStream::ReadAll(std::string* out, size_t limit) {
  out->assign(buf_, pos_, std::string::npos);
  buf_.clear();
  pos_ = 0;
  if (out->size() > limit) {
    return Status::InvalidArgument(name_ + ": larger than " +
                                   std::to_string(limit) + " bytes");
  }
  while (!eof_) {
    size_t old = out->size();
    out->resize(old + kChunk);
    size_t n = ReadRaw(out->data() + old, kChunk);
    out->resize(old + n);
    if (n == 0) eof_ = true;
    if (out->size() > limit) {
      return Status::InvalidArgument(name_ + ": larger than " +
                                     std::to_string(limit) + " bytes");
    }
  }
  return status_;
}

}  // namespace threadsearch
