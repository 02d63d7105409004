// The web page in a real browser: Debian's chromium, headless, against a
// server on the corpus. Asserts on the DOM after the page's script ran, and
// keeps screenshots as artefacts. Fails (does not skip) without chromium.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "tests/server_fixture.h"
#include "tests/testutil.h"

namespace threadsearch {
namespace {

constexpr char kChromium[] = "/usr/bin/chromium";

// Runs headless chromium on `url` with `extra` flags; returns stdout.
std::string Chromium(const TempDir& tmp, const std::string& extra,
                     const std::string& url) {
  std::string cmd = std::string(kChromium) +
                    " --headless --no-sandbox --disable-gpu --disable-quic"
                    " --no-first-run --disable-background-networking"
                    " --disable-component-update --disable-sync"
                    " --user-data-dir=" + tmp.Sub("chromium-profile") +
                    " --virtual-time-budget=5000 " + extra + " '" + url +
                    "' 2>/dev/null";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

size_t Count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos;
       at = hay.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// The part of the DOM our script renders (the page's own source, with its
// script text, comes after it).
std::string MainOf(const std::string& dom) {
  size_t a = dom.find("<main");
  size_t b = dom.find("</main>");
  if (a == std::string::npos || b == std::string::npos) return "";
  return dom.substr(a, b - a);
}

class BrowserTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    db_ = tmp_->Sub("db");
    ASSERT_TRUE(IndexInto(db_, CorpusSlice()));
    // A comment that tries script injection and a javascript: link.
    Result<std::unique_ptr<Indexer>> ix = Indexer::Open(db_, {});
    ASSERT_OK(ix);
    Item it;
    it.source = Source::kHN;
    it.id = "99999002";
    it.type = ItemType::kComment;
    it.author = "mallory";
    it.time = 1700000000;
    it.parent = "42133844";
    it.text_html = true;
    it.text =
        "<p>hello <script>document.title='pwned'</script> "
        "<a href=\"javascript:alert(1)\">evil link</a> "
        "<a href=\"https://example.com/\">good link</a> "
        "<img src=x onerror=\"document.title='pwned'\"> "
        "<i>italic</i> <b onclick=\"x()\">bold</b></p>";
    IndexStats stats;
    ASSERT_OK((*ix)->Add(it, &stats));
    ASSERT_OK((*ix)->Flush());
    ix->reset();
    server_ = new TestServer(db_);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete tmp_;
  }
  void SetUp() override {
    ASSERT_EQ(access(kChromium, X_OK), 0)
        << kChromium << " is missing: apt-get install chromium "
        << "(the browser test fails rather than skips)";
  }
  std::string Dom(const std::string& path_and_query) {
    return Chromium(page_tmp_, "--dump-dom",
                    server_->base_url() + path_and_query);
  }
  // Screenshot to the test's directory and ${build}/artifacts/.
  void Screenshot(const std::string& name, const std::string& path) {
    std::string file = page_tmp_.Sub(name);
    Chromium(page_tmp_, "--window-size=1200,900 --screenshot=" + file,
             server_->base_url() + path);
    ASSERT_TRUE(std::filesystem::exists(file)) << file;
    EXPECT_GT(std::filesystem::file_size(file), 10000u) << file;
    std::filesystem::path art =
        std::filesystem::path(TS_BINARY).parent_path() / "artifacts";
    std::error_code ec;
    std::filesystem::create_directories(art, ec);
    std::filesystem::copy_file(
        file, art / name, std::filesystem::copy_options::overwrite_existing,
        ec);
    EXPECT_FALSE(ec) << ec.message();
  }

  TempDir page_tmp_;
  static TempDir* tmp_;
  static std::string db_;
  static TestServer* server_;
};
TempDir* BrowserTest::tmp_ = nullptr;
std::string BrowserTest::db_;
TestServer* BrowserTest::server_ = nullptr;

TEST_F(BrowserTest, SearchShowsHitsInThreadContextWithHighlights) {
  std::string dom = Dom("/?q=regression+model");
  std::string main = MainOf(dom);
  ASSERT_FALSE(main.empty()) << dom.substr(0, 500);
  EXPECT_GE(Count(main, "class=\"hit\""), 5u) << main.substr(0, 2000);
  EXPECT_GE(Count(main, "<mark>"), 5u);
  EXPECT_NE(main.find("id=\"meta\""), std::string::npos);
  EXPECT_NE(dom.find("<title>regression model · threadsearch"),
            std::string::npos);
  // A reply shows its parent chain, folded to one line each.
  main = MainOf(Dom("/?q=weber+bureaucracy"));
  EXPECT_NE(main.find("data-id=\"42134507\""), std::string::npos) << main;
  EXPECT_NE(main.find("class=\"chain\""), std::string::npos) << main;
  EXPECT_NE(main.find("<span class=\"who\">openrisk</span>"),
            std::string::npos);
  Screenshot("search.png", "/?q=regression+model");
}

TEST_F(BrowserTest, FiltersAndPagesComeFromTheUrl) {
  std::string dom = Dom("/?source=mail&sort=-date&page=1");
  std::string main = MainOf(dom);
  EXPECT_EQ(Count(main, "class=\"hit\""), 20u) << main.substr(0, 1000);
  EXPECT_NE(main.find("showing 21–40"), std::string::npos);
  EXPECT_NE(main.find("class=\"pages\""), std::string::npos);
  EXPECT_EQ(main.find(">HN<"), std::string::npos);
}

TEST_F(BrowserTest, ThreadViewHighlightsTheAskedItem) {
  std::string path = "/?q=weber&view=thread&id=42134507";
  std::string main = MainOf(Dom(path));
  ASSERT_NE(main.find("id=\"thread\""), std::string::npos) << main;
  EXPECT_NE(main.find("class=\"node asked\" id=\"item-42134507\""),
            std::string::npos)
      << main.substr(0, 2000);
  // Its reply and the thread root are in the tree.
  EXPECT_NE(main.find("id=\"item-42134706\""), std::string::npos);
  EXPECT_NE(main.find("id=\"item-42133844\""), std::string::npos);
  EXPECT_NE(main.find("<mark>Weber</mark>"), std::string::npos);
  Screenshot("thread.png", path);
}

TEST_F(BrowserTest, StoredHtmlIsSanitised) {
  std::string dom = Dom("/?view=thread&id=99999002");
  std::string main = MainOf(dom);
  ASSERT_NE(main.find("class=\"node asked\" id=\"item-99999002\""),
            std::string::npos)
      << main.substr(0, 1000);
  size_t at = main.find("id=\"item-99999002\"");
  std::string node = main.substr(at, 2000);
  EXPECT_EQ(node.find("<script"), std::string::npos) << node;
  EXPECT_NE(node.find("&lt;script&gt;"), std::string::npos) << node;
  EXPECT_EQ(node.find("javascript:"), std::string::npos) << node;
  EXPECT_NE(node.find("evil link"), std::string::npos);
  EXPECT_NE(node.find("<a href=\"https://example.com/\" rel=\"nofollow"),
            std::string::npos)
      << node;
  EXPECT_EQ(node.find("<img"), std::string::npos);
  EXPECT_EQ(node.find("onclick"), std::string::npos);
  EXPECT_NE(node.find("<i>italic</i>"), std::string::npos);
  EXPECT_EQ(dom.find("pwned</title>"), std::string::npos);
}

TEST_F(BrowserTest, UserPageListsTheirItemsAndRepliesToThem) {
  std::string main = MainOf(Dom("/?view=user&name=pg"));
  EXPECT_NE(main.find("id=\"user\""), std::string::npos) << main;
  EXPECT_GE(Count(main, "class=\"hit\""), 1u);
  main = MainOf(Dom("/?view=user&name=pg&tab=replies"));
  EXPECT_GE(Count(main, "class=\"hit\""), 1u) << main.substr(0, 1000);
  EXPECT_NE(main.find("class=\"on\">Replies to them"), std::string::npos);
}

}  // namespace
}  // namespace threadsearch
