#include "indexer/input_stream.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <string>
#include <vector>

#include "tests/compress_util.h"
#include "tests/testutil.h"

namespace threadsearch {
namespace {



std::vector<std::string> AllLines(InputStream& in) {
  std::vector<std::string> lines;
  std::string line;
  while (in.ReadLine(&line)) lines.push_back(line);
  return lines;
}

// Many numbered lines, so compressed streams span several buffers.
std::string ManyLines(int n) {
  std::string s;
  for (int i = 1; i <= n; ++i) {
    s += "line " + std::to_string(i) + " of some text to compress\n";
  }
  return s;
}

TEST(InputStreamTest, LinesTable) {
  struct Case {
    std::string in;
    std::vector<std::string> lines;
  };
  const Case cases[] = {
      {"", {}},
      {"\n", {""}},
      {"a", {"a"}},
      {"a\n", {"a"}},
      {"a\nb", {"a", "b"}},
      {"a\r\nb\r\n", {"a\r", "b\r"}},  // "\r" is kept.
      {"a\n\n\nb\n", {"a", "", "", "b"}},
      {std::string("nul\0inside\n", 11), {std::string("nul\0inside", 10)}},
  };
  for (const Case& c : cases) {
    auto in = InputStream::FromString(c.in, "t");
    EXPECT_EQ(AllLines(*in), c.lines) << c.in;
    EXPECT_OK(in->status());
    EXPECT_EQ(in->line_number(), c.lines.size());
  }
}

TEST(InputStreamTest, TooLongLinesAreSkipped) {
  auto in = InputStream::FromString("abcdefgh\nxy\n0123456789", "t");
  in->set_max_line(4);
  std::string line;
  bool too_long = false;
  ASSERT_TRUE(in->ReadLine(&line, &too_long));
  EXPECT_TRUE(too_long);
  EXPECT_EQ(line, "abcd");
  EXPECT_EQ(in->line_number(), 1u);
  ASSERT_TRUE(in->ReadLine(&line, &too_long));
  EXPECT_FALSE(too_long);
  EXPECT_EQ(line, "xy");
  ASSERT_TRUE(in->ReadLine(&line, &too_long));  // Last line, no newline.
  EXPECT_TRUE(too_long);
  EXPECT_EQ(line, "0123");
  EXPECT_EQ(in->line_number(), 3u);
  EXPECT_FALSE(in->ReadLine(&line, &too_long));
  EXPECT_OK(in->status());
}

// A line far longer than the buffer is skipped without being held whole.
TEST(InputStreamTest, HugeLineAcrossBuffers) {
  std::string data = "first\n" + std::string(3 << 20, 'x') + "\nlast\n";
  auto in = InputStream::FromString(Gzip(data), "huge.gz");
  in->set_max_line(1000);
  std::string line;
  bool too_long = false;
  ASSERT_TRUE(in->ReadLine(&line, &too_long));
  EXPECT_EQ(line, "first");
  ASSERT_TRUE(in->ReadLine(&line, &too_long));
  EXPECT_TRUE(too_long);
  EXPECT_EQ(line, std::string(1000, 'x'));
  EXPECT_LT(line.capacity(), 1u << 20);
  ASSERT_TRUE(in->ReadLine(&line, &too_long));
  EXPECT_FALSE(too_long);
  EXPECT_EQ(line, "last");
  EXPECT_FALSE(in->ReadLine(&line));
  EXPECT_OK(in->status());
}

TEST(InputStreamTest, PeekDoesNotConsume) {
  auto in = InputStream::FromString("hello\nworld\n", "t");
  EXPECT_EQ(in->Peek(3), "hel");
  EXPECT_EQ(in->Peek(100), "hello\nworld\n");
  std::string line;
  ASSERT_TRUE(in->ReadLine(&line));
  EXPECT_EQ(line, "hello");
  EXPECT_EQ(in->Peek(2), "wo");
  std::string rest;
  ASSERT_OK(in->ReadAll(&rest, 100));
  EXPECT_EQ(rest, "world\n");
}

// Read hands out what Peek buffered first, then the rest, at most `max`
// bytes and at most the chunk size at a time, in order, over a gzip stream
// too.
TEST(InputStreamTest, ReadInChunks) {
  const std::string data = ManyLines(3000);
  for (const bool gz : {false, true}) {
    for (const size_t chunk : {size_t{1}, size_t{7}, size_t{1} << 16}) {
      auto in = InputStream::FromString(gz ? Gzip(data) : data, "t");
      in->set_chunk_size(chunk);
      EXPECT_EQ(in->Peek(10), data.substr(0, 10));
      std::string out;
      size_t n;
      while ((n = in->Read(&out, 5)) > 0) {
        EXPECT_LE(n, std::min<size_t>(5, chunk));
      }
      ASSERT_OK(in->status());
      EXPECT_EQ(out, data) << gz << " " << chunk;
      EXPECT_EQ(in->Read(&out, 5), 0u);
    }
  }
  // After ReadLine, Read goes on where the line ended.
  auto in = InputStream::FromString("one\ntwo\nthree", "t");
  std::string line, rest;
  ASSERT_TRUE(in->ReadLine(&line));
  while (in->Read(&rest, 100) > 0) {
  }
  EXPECT_EQ(rest, "two\nthree");
}

TEST(InputStreamTest, ReadAllLimit) {
  auto in = InputStream::FromString(std::string(1000, 'a'), "big");
  std::string out;
  Status s = in->ReadAll(&out, 999);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("big"), std::string::npos);
  auto in2 = InputStream::FromString(std::string(1000, 'a'), "ok");
  ASSERT_OK(in2->ReadAll(&out, 1000));
  EXPECT_EQ(out.size(), 1000u);
}

TEST(InputStreamTest, CompressionByMagicNotName) {
  TempDir dir;
  std::string data = ManyLines(20000);
  struct Case {
    std::string file;
    std::string bytes;
  };
  const Case cases[] = {
      {"plain.gz", data},          // Named .gz, but plain.
      {"packed.txt", Gzip(data)},  // Named .txt, but gzip.
      {"packed.json", Zstd(data)},
  };
  for (const Case& c : cases) {
    WriteFileOrDie(dir.Sub(c.file), c.bytes);
    auto in = InputStream::Open(dir.Sub(c.file));
    ASSERT_OK(in);
    EXPECT_EQ((*in)->raw_size(), c.bytes.size());
    std::vector<std::string> lines = AllLines(**in);
    EXPECT_OK((*in)->status());
    ASSERT_EQ(lines.size(), 20000u) << c.file;
    EXPECT_EQ(lines[0], "line 1 of some text to compress");
    EXPECT_EQ(lines[19999], "line 20000 of some text to compress");
    EXPECT_EQ((*in)->raw_bytes_read(), c.bytes.size()) << c.file;
  }
}

TEST(InputStreamTest, ConcatenatedMembersAndFrames) {
  std::string a = ManyLines(100), b = "tail 1\ntail 2\n";
  auto gz = InputStream::FromString(Gzip(a) + Gzip(b), "two.gz");
  std::vector<std::string> lines = AllLines(*gz);
  EXPECT_OK(gz->status());
  ASSERT_EQ(lines.size(), 102u);
  EXPECT_EQ(lines.back(), "tail 2");
  auto zst = InputStream::FromString(Zstd(a) + Zstd(b), "two.zst");
  lines = AllLines(*zst);
  EXPECT_OK(zst->status());
  ASSERT_EQ(lines.size(), 102u);
  EXPECT_EQ(lines.back(), "tail 2");
  // pbzip2 writes a stream per block; xz streams may be concatenated too.
  for (const auto& [name, bytes] :
       {std::pair<std::string, std::string>{"two.bz2", Bzip2(a) + Bzip2(b)},
        {"two.xz", Xz(a) + Xz(b)}}) {
    auto in = InputStream::FromString(bytes, name);
    lines = AllLines(*in);
    EXPECT_OK(in->status());
    ASSERT_EQ(lines.size(), 102u) << name;
    EXPECT_EQ(lines.front(), "line 1 of some text to compress") << name;
    EXPECT_EQ(lines.back(), "tail 2") << name;
  }
}

// Truncated or damaged compressed input: lines before the damage are read,
// then reading stops with an error naming the stream; never a hang.
TEST(InputStreamTest, TruncatedAndCorrupt) {
  std::string data = ManyLines(20000);
  std::string gz = Gzip(data), zst = Zstd(data);
  std::string gz_bad = gz;
  gz_bad[gz.size() / 2] ^= 0x55;
  gz_bad[gz.size() / 2 + 1] ^= 0x55;
  std::string zst_bad = zst;
  zst_bad[zst.size() / 2] ^= 0x55;
  const std::string bz2 = Bzip2(data), xz = Xz(data);
  std::string bz2_bad = bz2, xz_bad = xz;
  bz2_bad[bz2.size() / 2] ^= 0x55;
  xz_bad[xz.size() / 2] ^= 0x55;
  // `truncated`: every line delivered is a real one (no partial line at the
  // break). Damaged deflate data may decode to wrong bytes until the CRC
  // check, so that holds only for truncation.
  struct Case {
    std::string name;
    std::string bytes;
    std::string message;
    bool some_lines;
    bool truncated;
  };
  const Case cases[] = {
      {"half.gz", gz.substr(0, gz.size() / 2), "truncated gzip stream", true,
       true},
      {"header.gz", gz.substr(0, 5), "truncated gzip stream", false, true},
      {"magic.gz", gz.substr(0, 2), "truncated gzip stream", false, true},
      {"bad.gz", gz_bad, "gzip data error", true, false},
      {"half.zst", zst.substr(0, zst.size() / 2), "truncated zstd stream", true,
       true},
      {"magic.zst", zst.substr(0, 4), "truncated zstd stream", false, true},
      {"bad.zst", zst_bad, "zstd data error", false, false},
      // bzip2 decodes whole blocks (this text is one), xz as it goes.
      {"half.bz2", bz2.substr(0, bz2.size() / 2), "truncated bzip2 stream",
       false, true},
      {"magic.bz2", bz2.substr(0, 10), "truncated bzip2 stream", false, true},
      {"bad.bz2", bz2_bad, "bzip2 data error", false, false},
      {"half.xz", xz.substr(0, xz.size() / 2), "truncated xz stream", true,
       true},
      {"magic.xz", xz.substr(0, 12), "truncated xz stream", false, true},
      {"bad.xz", xz_bad, "xz data error", false, false},
  };
  for (const Case& c : cases) {
    auto in = InputStream::FromString(c.bytes, c.name);
    std::vector<std::string> lines = AllLines(*in);
    EXPECT_FALSE(in->status().ok()) << c.name;
    EXPECT_EQ(in->status().code(), StatusCode::kCorruption) << c.name;
    EXPECT_EQ(in->status().message().find(c.name + ": " + c.message), 0u)
        << c.name << ": " << in->status().ToString();
    if (c.some_lines) {
      EXPECT_GT(lines.size(), 0u) << c.name;
    }
    EXPECT_LT(lines.size(), 20000u) << c.name;
    for (size_t i = 0; c.truncated && i < lines.size(); ++i) {
      ASSERT_EQ(lines[i],
                "line " + std::to_string(i + 1) + " of some text to compress")
          << c.name;
    }
    std::string rest;
    EXPECT_FALSE(in->ReadAll(&rest, 1 << 30).ok()) << c.name;
  }
}

// Damage after the last line: every line is read, then the error.
TEST(InputStreamTest, DamageAfterLastLine) {
  std::string data = ManyLines(1000);
  std::string gz = Gzip(data);
  const std::pair<std::string, std::string> cases[] = {
      {"notrailer.gz", gz.substr(0, gz.size() - 4)},  // No ISIZE.
      {"trailing.gz", gz + "garbage!"},
  };
  for (const auto& [name, bytes] : cases) {
    auto in = InputStream::FromString(bytes, name);
    EXPECT_EQ(AllLines(*in).size(), 1000u) << name;
    EXPECT_EQ(in->status().code(), StatusCode::kCorruption) << name;
  }
}

// Zero bytes after the last member (block or tape padding, as dd and tar
// leave them) end the stream cleanly, as gzip(1) and xz(1) read it; and
// between two members too.
TEST(InputStreamTest, ZeroPaddingAfterMembersIsSkipped) {
  const std::string data = ManyLines(1000);
  const std::string pad(4096 + 17, '\0');
  const std::pair<std::string, std::string> cases[] = {
      {"padded.gz", Gzip(data) + pad},
      {"padded.zst", Zstd(data) + pad},
      {"padded.bz2", Bzip2(data) + pad},
      // xz's own stream padding: a multiple of four bytes (xz(1) rejects
      // any other).
      {"padded.xz", Xz(data) + std::string(4096, '\0')},
      {"between.gz", Gzip(data) + pad + Gzip(data)},
  };
  for (const auto& [name, bytes] : cases) {
    auto in = InputStream::FromString(bytes, name);
    const std::vector<std::string> lines = AllLines(*in);
    EXPECT_TRUE(in->status().ok()) << name << ": " << in->status().ToString();
    EXPECT_EQ(lines.size(), name == "between.gz" ? 2000u : 1000u) << name;
  }
}

// "zstd --long=31", as Pushshift dumps are made, declares a window above
// the decoder's default limit of 2^27 bytes. Streamed compression (first
// call without ZSTD_e_end) leaves the size unknown, so the frame keeps the
// large window instead of shrinking it to the input.
TEST(InputStreamTest, ZstdLongWindow) {
  const std::string data = ManyLines(1000);
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ASSERT_NE(cctx, nullptr);
  ASSERT_FALSE(
      ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, 28)));
  ASSERT_FALSE(ZSTD_isError(
      ZSTD_CCtx_setParameter(cctx, ZSTD_c_enableLongDistanceMatching, 1)));
  std::string zst(ZSTD_compressBound(data.size()) + 64, '\0');
  ZSTD_outBuffer out{zst.data(), zst.size(), 0};
  ZSTD_inBuffer in{data.data(), data.size() / 2, 0};
  ASSERT_FALSE(
      ZSTD_isError(ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_continue)));
  ASSERT_EQ(in.pos, in.size);
  in = ZSTD_inBuffer{data.data() + data.size() / 2,
                     data.size() - data.size() / 2, 0};
  size_t left = ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_end);
  ZSTD_freeCCtx(cctx);
  ASSERT_EQ(left, 0u);
  zst.resize(out.pos);
  // A decoder with default limits refuses the frame.
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  std::string plain(data.size(), '\0');
  ZSTD_outBuffer dout{plain.data(), plain.size(), 0};
  ZSTD_inBuffer din{zst.data(), zst.size(), 0};
  const size_t dret = ZSTD_decompressStream(dctx, &dout, &din);
  ZSTD_freeDCtx(dctx);
  ASSERT_TRUE(ZSTD_isError(dret));
  ASSERT_EQ(ZSTD_getErrorCode(dret), ZSTD_error_frameParameter_windowTooLarge);

  auto s = InputStream::FromString(zst, "RC_long.zst");
  std::vector<std::string> lines = AllLines(*s);
  EXPECT_OK(s->status());
  ASSERT_EQ(lines.size(), 1000u);
  EXPECT_EQ(lines.back(), "line 1000 of some text to compress");
}

// bzip2 and xz, as old Pushshift dumps come (RC_2015-01.bz2,
// RC_2017-12.xz): told by their first bytes and read like the others, from
// a file or a buffer; an empty bzip2 stream is an empty input.
TEST(InputStreamTest, Bzip2AndXzAreRead) {
  const std::string text = ManyLines(3000);
  TempDir dir;
  for (const auto& [name, bytes] :
       {std::pair<std::string, std::string>{"RC_2015-01.bz2", Bzip2(text)},
        {"RC_2017-12.xz", Xz(text)},
        {"renamed.txt", Bzip2(text)}}) {
    WriteFileOrDie(dir.Sub(name), bytes);
    Result<std::unique_ptr<InputStream>> f = InputStream::Open(dir.Sub(name));
    ASSERT_OK(f);
    std::vector<std::string> lines = AllLines(**f);
    EXPECT_OK((*f)->status());
    ASSERT_EQ(lines.size(), 3000u) << name;
    EXPECT_EQ(lines[1234], "line 1235 of some text to compress") << name;
    EXPECT_EQ((*f)->raw_bytes_read(), bytes.size()) << name;
  }
  auto empty = InputStream::FromString(Bzip2(""), "empty.bz2");
  EXPECT_TRUE(AllLines(*empty).empty());
  EXPECT_OK(empty->status());
  EXPECT_EQ(Bzip2("").substr(0, 4), "BZh9");
}

TEST(InputStreamTest, OpenErrors) {
  TempDir dir;
  auto missing = InputStream::Open(dir.Sub("nope.txt"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kIOError);
  EXPECT_NE(missing.status().message().find("nope.txt"), std::string::npos);
  auto directory = InputStream::Open(dir.path());
  EXPECT_FALSE(directory.ok());
}

TEST(InputStreamTest, EmptyFile) {
  TempDir dir;
  WriteFileOrDie(dir.Sub("empty"), "");
  auto in = InputStream::Open(dir.Sub("empty"));
  ASSERT_OK(in);
  EXPECT_EQ((*in)->Peek(10), "");
  EXPECT_TRUE(AllLines(**in).empty());
  EXPECT_OK((*in)->status());
}

// A real archive from the corpus (gzip -9 -n); line count from
// `zcat FILE | wc -l` = 70495 (the file ends with a newline).
TEST(InputStreamTest, RealGzipArchive) {
  auto in = InputStream::Open(std::string(TS_CORPUS) +
                              "/mailing-lists/r-help/2003-April.txt.gz");
  ASSERT_OK(in);
  uint64_t n = 0, last_progress = 0;
  std::string line;
  bool progress_monotonic = true;
  while ((*in)->ReadLine(&line)) {
    ++n;
    uint64_t p = (*in)->raw_bytes_read();
    if (p < last_progress) progress_monotonic = false;
    last_progress = p;
  }
  ASSERT_OK((*in)->status());
  EXPECT_EQ(n, 70495u);
  EXPECT_TRUE(progress_monotonic);
  EXPECT_EQ((*in)->raw_bytes_read(), (*in)->raw_size());
}

}  // namespace
}  // namespace threadsearch
