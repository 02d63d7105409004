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

// A stream of concatenated members, each decoded by `Codec` (gzip members,
// zstd frames, bzip2 and xz streams), as gzip(1), zstd(1), bunzip2 and xz(1)
// read them: between members the end
// of input is a clean end and anything else is the next member; input
// ending inside a member is an error. `Codec` holds the library's stream:
//   static constexpr const char* kName;       // "gzip", for messages
//   Status Init();                              // before the first member
//   Status Reset();                             // before each next one,
//                                               // keeping the input
//   void SetInput(char* data, size_t n);
//   size_t AvailIn() const;
//   // Decodes into out[0, n): *produced bytes; *end at a member's end; an
//   // error message (the data is bad) or "". `last`: no input follows what
//   // SetInput gave.
//   std::string Decode(char* out, size_t n, bool last, size_t* produced,
//                      bool* end);
template <class Codec>
class MemberStream : public InputStream {
 public:
  MemberStream(std::string name, uint64_t size, std::unique_ptr<Head> src)
      : InputStream(std::move(name), size),
        src_(std::move(src)),
        in_(kChunk, '\0') {
    Status st = codec_.Init();
    if (!st.ok()) Fail(Status::Internal(this->name() + ": " + st.message()));
  }

 protected:
  size_t ReadRaw(char* buf, size_t n) override {
    if (failed_ || done_ || n == 0) return 0;
    while (true) {
      if (codec_.AvailIn() == 0 && !src_eof_) {
        ssize_t r = src_->Read(in_.data(), in_.size());
        if (r < 0) return Fail(Status::IOError(ReadErrorText(name())));
        if (r == 0) {
          src_eof_ = true;
        } else {
          in_len_ = static_cast<size_t>(r);
          codec_.SetInput(in_.data(), in_len_);
        }
      }
      if (member_done_) {
        // Zero bytes after a member (block or tape padding) are skipped,
        // as gzip(1) and xz(1) skip them.
        size_t avail = codec_.AvailIn();
        char* next = in_.data() + in_len_ - avail;
        size_t zeros = 0;
        while (zeros < avail && next[zeros] == '\0') ++zeros;
        if (zeros > 0) codec_.SetInput(next + zeros, avail - zeros);
        if (codec_.AvailIn() == 0) {
          if (src_eof_) {
            done_ = true;
            return 0;
          }
          continue;
        }
        Status st = codec_.Reset();
        if (!st.ok()) {
          return Fail(Status::Internal(name() + ": " + st.message()));
        }
        member_done_ = false;
      }
      size_t produced = 0;
      bool end = false;
      const std::string bad = codec_.Decode(buf, n, src_eof_, &produced, &end);
      if (!bad.empty()) {
        return Fail(Status::Corruption(name() + ": " + Codec::kName +
                                       " data error" + bad));
      }
      if (end) member_done_ = true;
      if (produced > 0) return produced;
      if (!member_done_ && codec_.AvailIn() == 0 && src_eof_) {
        return Fail(Status::Corruption(name() + ": truncated " + Codec::kName +
                                       " stream"));
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
  size_t in_len_ = 0;  // of in_, given to the codec by the last read
  Codec codec_;
  bool src_eof_ = false;
  bool member_done_ = false;
  bool done_ = false;
  bool failed_ = false;
};

// gzip (RFC 1952) members.
class GzipCodec {
 public:
  static constexpr const char* kName = "gzip";
  GzipCodec() { memset(&zs_, 0, sizeof zs_); }
  ~GzipCodec() {
    if (live_) inflateEnd(&zs_);
  }
  Status Init() {
    if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK) {
      return Status::Internal("inflateInit2 failed");
    }
    live_ = true;
    return Status::OK();
  }
  Status Reset() {
    return inflateReset(&zs_) == Z_OK ? Status::OK()
                                      : Status::Internal("inflateReset failed");
  }
  void SetInput(char* data, size_t n) {
    zs_.next_in = reinterpret_cast<Bytef*>(data);
    zs_.avail_in = static_cast<uInt>(n);
  }
  size_t AvailIn() const { return zs_.avail_in; }
  std::string Decode(char* out, size_t n, bool, size_t* produced, bool* end) {
    zs_.next_out = reinterpret_cast<Bytef*>(out);
    zs_.avail_out = static_cast<uInt>(std::min<size_t>(n, UINT_MAX));
    const uInt before = zs_.avail_out;
    const int ret = inflate(&zs_, Z_NO_FLUSH);
    *produced = before - zs_.avail_out;
    *end = ret == Z_STREAM_END;
    if (ret == Z_STREAM_END || ret == Z_OK || ret == Z_BUF_ERROR) return "";
    return std::string(": ") + (zs_.msg != nullptr ? zs_.msg : "inflate failed");
  }

 private:
  z_stream zs_;
  bool live_ = false;
};
using GzipStream = MemberStream<GzipCodec>;

// zstd frames. The decoder runs on from one frame into the next.
class ZstdCodec {
 public:
  static constexpr const char* kName = "zstd";
  ZstdCodec() : ds_(ZSTD_createDStream()) {}
  ~ZstdCodec() { ZSTD_freeDStream(ds_); }
  Status Init() {
    // Pushshift dumps are made with "zstd --long=31": a 2 GB window, above
    // the decoder's default limit of 128 MB (2^27).
    if (ds_ == nullptr || ZSTD_isError(ZSTD_initDStream(ds_)) ||
        ZSTD_isError(ZSTD_DCtx_setParameter(ds_, ZSTD_d_windowLogMax, 31))) {
      return Status::Internal("ZSTD_initDStream failed");
    }
    return Status::OK();
  }
  Status Reset() { return Status::OK(); }
  void SetInput(char* data, size_t n) { in_ = ZSTD_inBuffer{data, n, 0}; }
  size_t AvailIn() const { return in_.size - in_.pos; }
  std::string Decode(char* out, size_t n, bool, size_t* produced, bool* end) {
    ZSTD_outBuffer o{out, n, 0};
    const size_t in_before = in_.pos;
    const size_t ret = ZSTD_decompressStream(ds_, &o, &in_);
    if (ZSTD_isError(ret)) return std::string(": ") + ZSTD_getErrorName(ret);
    *produced = o.pos;
    // A frame ends where the decoder returns 0 having read or written; a
    // call that does neither (after the last frame) is no end of its own.
    *end = ret == 0 && (in_.pos != in_before || o.pos > 0);
    return "";
  }

 private:
  ZSTD_DStream* ds_;
  ZSTD_inBuffer in_{nullptr, 0, 0};
};
using ZstdStream = MemberStream<ZstdCodec>;

// bzip2 streams (old Pushshift dumps, mail exports; pbzip2 writes many).
class Bzip2Codec {
 public:
  static constexpr const char* kName = "bzip2";
  Bzip2Codec() { memset(&bz_, 0, sizeof bz_); }
  ~Bzip2Codec() {
    if (live_) BZ2_bzDecompressEnd(&bz_);
  }
  Status Init() {
    if (BZ2_bzDecompressInit(&bz_, 0, 0) != BZ_OK) {
      return Status::Internal("BZ2_bzDecompressInit failed");
    }
    live_ = true;
    return Status::OK();
  }
  // bzip2 has no reset: a new decoder, given the input the old one left.
  Status Reset() {
    char* next_in = bz_.next_in;
    const unsigned avail_in = bz_.avail_in;
    BZ2_bzDecompressEnd(&bz_);
    live_ = false;
    memset(&bz_, 0, sizeof bz_);
    TS_RETURN_IF_ERROR(Init());
    bz_.next_in = next_in;
    bz_.avail_in = avail_in;
    return Status::OK();
  }
  void SetInput(char* data, size_t n) {
    bz_.next_in = data;
    bz_.avail_in = static_cast<unsigned>(n);
  }
  size_t AvailIn() const { return bz_.avail_in; }
  std::string Decode(char* out, size_t n, bool, size_t* produced, bool* end) {
    bz_.next_out = out;
    bz_.avail_out = static_cast<unsigned>(std::min<size_t>(n, UINT_MAX));
    const unsigned before = bz_.avail_out;
    const int ret = BZ2_bzDecompress(&bz_);
    *produced = before - bz_.avail_out;
    *end = ret == BZ_STREAM_END;
    if (ret == BZ_STREAM_END || ret == BZ_OK) return "";
    return " (" + std::to_string(ret) + ")";
  }

 private:
  bz_stream bz_;
  bool live_ = false;
};
using Bzip2Stream = MemberStream<Bzip2Codec>;

// xz streams (Pushshift's 2017-2018 dumps): liblzma reads concatenated
// streams and their padding itself, and ends once told the input is over.
class XzCodec {
 public:
  static constexpr const char* kName = "xz";
  ~XzCodec() { lzma_end(&lz_); }
  Status Init() {
    if (lzma_stream_decoder(&lz_, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) {
      return Status::Internal("lzma_stream_decoder failed");
    }
    return Status::OK();
  }
  Status Reset() { return Status::OK(); }  // nothing follows its end
  void SetInput(char* data, size_t n) {
    lz_.next_in = reinterpret_cast<const uint8_t*>(data);
    lz_.avail_in = n;
  }
  size_t AvailIn() const { return lz_.avail_in; }
  std::string Decode(char* out, size_t n, bool last, size_t* produced,
                     bool* end) {
    lz_.next_out = reinterpret_cast<uint8_t*>(out);
    lz_.avail_out = n;
    const lzma_ret ret = lzma_code(&lz_, last ? LZMA_FINISH : LZMA_RUN);
    *produced = n - lz_.avail_out;
    *end = ret == LZMA_STREAM_END;
    // LZMA_BUF_ERROR: no progress, the input having ended inside a stream.
    if (ret == LZMA_OK || ret == LZMA_STREAM_END || ret == LZMA_BUF_ERROR) {
      return "";
    }
    return " (" + std::to_string(ret) + ")";
  }

 private:
  lzma_stream lz_ = LZMA_STREAM_INIT;
};
using XzStream = MemberStream<XzCodec>;

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
    : name_(std::move(name)), raw_size_(raw_size), chunk_(kChunk) {}

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
  return ReadDecoded(&buf_, chunk_) > 0;
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

size_t InputStream::Read(std::string* out, size_t max) {
  if (pos_ < buf_.size()) {
    const size_t k = std::min({max, chunk_, buf_.size() - pos_});
    out->append(buf_, pos_, k);
    pos_ += k;
    return k;
  }
  return ReadDecoded(out, max);
}

size_t InputStream::ReadDecoded(std::string* out, size_t max) {
  if (eof_ || max == 0) return 0;
  const size_t old = out->size();
  const size_t want = std::min(max, chunk_);
  out->resize(old + want);
  const size_t n = ReadRaw(out->data() + old, want);
  out->resize(old + n);
  if (n == 0) eof_ = true;
  return n;
}

Status InputStream::ReadAll(std::string* out, size_t limit) {
  out->clear();
  while (Read(out, kChunk) > 0) {
    if (out->size() > limit) {
      return Status::InvalidArgument(name_ + ": larger than " +
                                     std::to_string(limit) + " bytes");
    }
  }
  return status_;
}

}  // namespace threadsearch
