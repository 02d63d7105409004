#include "common/text.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/testutil.h"

namespace threadsearch {
namespace {

struct Case {
  std::string in;
  std::string want;
};

TEST(TextTest, DecodeHtmlEntities) {
  const Case cases[] = {
      {"", ""},
      {"plain", "plain"},
      {"don&#x27;t", "don't"},
      {"a&#x2F;b", "a/b"},
      {"&quot;q&quot;", "\"q\""},
      {"&gt; quote &lt;tag&gt;", "> quote <tag>"},
      {"Q&amp;A", "Q&A"},
      {"&#39;&#039;", "''"},
      {"&#X41;&#x42", "AB"},  // Hex, upper X, missing ';'.
      {"&nbsp;", "\xC2\xA0"},
      {"&hellip;&mdash;", "\xE2\x80\xA6\xE2\x80\x94"},
      {"&#x1F600;", "\xF0\x9F\x98\x80"},
      {"&#0;", "\xEF\xBF\xBD"},              // NUL is not a character.
      {"&#xD800;", "\xEF\xBF\xBD"},          // Nor is a surrogate.
      {"&#99999999999;", "&#99999999999;"},  // Too long: left as-is.
      {"&#x110000;", "\xEF\xBF\xBD"},
      {"&bogus;", "&bogus;"},
      {"AT&T", "AT&T"},
      {"&amp", "&amp"},  // Named refs need ';'.
      {"&", "&"},
      {"&#;", "&#;"},
      {"&#x;", "&#x;"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DecodeHtmlEntities(c.in), c.want) << c.in;
  }
}

TEST(TextTest, HtmlToText) {
  const Case cases[] = {
      {"", ""},
      {"plain text", "plain text"},
      {"one<p>two<p>three", "one\n\ntwo\n\nthree"},
      {"<p>leading", "leading"},
      {"a<br>b", "a\nb"},
      {"<i>it</i> and <b>bold</b>", "it and bold"},
      {"don&#x27;t &quot;x&quot; &gt; y", "don't \"x\" > y"},
      // HN shows the URL as the link text: not repeated.
      {"see <a href=\"https:&#x2F;&#x2F;example.com\" "
       "rel=\"nofollow\">https:&#x2F;&#x2F;example.com</a> now",
       "see https://example.com now"},
      // Other text: the target is kept after it.
      {"<a href=\"https://x.org/a\">docs</a>", "docs (https://x.org/a)"},
      // HN truncates long link text with "...": the full URL follows.
      {"<a href=\"https://x.org/very/long/path\">https://x.org/very/...</a>",
       "https://x.org/very/... (https://x.org/very/long/path)"},
      {"<a href='q'>q</a>", "q"},
      {"<pre><code>  int x = 1;\n  return x;\n</code></pre>after",
       "  int x = 1;\n  return x;\n\nafter"},
      {"x<pre><code>a &lt; b</code></pre>", "x\n\na < b"},
      // Not tags: kept as text.
      {"a < b and c<3", "a < b and c<3"},
      {"1 <2", "1 <2"},
      {"unclosed <a href=\"x", "unclosed <a href=\"x"},
      {"x<!-- comment -->y", "xy"},
      {"a<script>evil()</script>b", "ab"},
      {"<P>Upper<BR>case", "Upper\ncase"},
      {"trailing<p>", "trailing"},
      {"p1<p><p><p>p2", "p1\n\np2"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(HtmlToText(c.in), c.want) << c.in;
  }
}

// A real HN comment (hn_comments.json, id 40846920), first sentence.
TEST(TextTest, HtmlToTextRealComment) {
  std::string html =
      "Make Waves | <a href=\"https:&#x2F;&#x2F;makewaves.fm\" "
      "rel=\"nofollow\">https:&#x2F;&#x2F;makewaves.fm</a> | Lead developer "
      "&amp; Marketing Manager | FULLTIME | ONSITE &#x2F; HYBRID (&gt;= one "
      "day in the office a week) | Amsterdam, NL<p>Make Waves was founded";
  EXPECT_EQ(HtmlToText(html),
            "Make Waves | https://makewaves.fm | Lead developer & Marketing "
            "Manager | FULLTIME | ONSITE / HYBRID (>= one day in the office a "
            "week) | Amsterdam, NL\n\nMake Waves was founded");
}

TEST(TextTest, HtmlEscape) {
  EXPECT_EQ(HtmlEscape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(HtmlEscape("plain"), "plain");
  EXPECT_EQ(DecodeHtmlEntities(HtmlEscape("<&'\">")), "<&'\">");
}

TEST(TextTest, Utf8) {
  struct U {
    std::string in;
    bool valid;
    std::string sanitized;
  };
  const U cases[] = {
      {"", true, ""},
      {"ascii", true, "ascii"},
      {"caf\xC3\xA9", true, "caf\xC3\xA9"},
      {"\xE2\x80\xA6", true, "\xE2\x80\xA6"},
      {"\xF0\x9F\x98\x80", true, "\xF0\x9F\x98\x80"},
      {"tab\tnl\ncr\r", true, "tab\tnl\ncr\r"},
      {std::string("a\0b", 3), true, "ab"},  // Valid, but NUL is dropped.
      {"\x01\x1f", true, ""},
      {"\xFF", false, "\xEF\xBF\xBD"},
      {"\xC0\xAF", false, "\xEF\xBF\xBD\xEF\xBF\xBD"},  // Overlong '/'.
      {"\xE0\x80\xAF", false,
       "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},  // Overlong.
      {"\xED\xA0\x80", false,
       "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},  // Surrogate.
      {"\xF4\x90\x80\x80", false,
       "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},  // > U+10FFFF.
      {"x\xE2\x80", false, "x\xEF\xBF\xBD"},  // Truncated: one U+FFFD.
      {"\xE2\x80y", false, "\xEF\xBF\xBDy"},
      {"caf\xE9 latin-1", false, "caf\xEF\xBF\xBD latin-1"},
  };
  for (const U& c : cases) {
    EXPECT_EQ(IsValidUtf8(c.in), c.valid) << c.in;
    std::string s = SanitizeUtf8(c.in);
    EXPECT_EQ(s, c.sanitized) << c.in;
    EXPECT_TRUE(IsValidUtf8(s));
  }
}

TEST(TextTest, AsciiLowerAndTrim) {
  EXPECT_EQ(AsciiLower("MiXeD 123 \xC3\x89"), "mixed 123 \xC3\x89");
  EXPECT_EQ(TrimAscii("  \t x y \r\n"), "x y");
  EXPECT_EQ(TrimAscii(" \n "), "");
  EXPECT_EQ(TrimAscii(""), "");
  EXPECT_EQ(FoldWhitespace(" [R]\tlintr\r\n  error "), "[R] lintr error");
  EXPECT_EQ(FoldWhitespace(" \n "), "");
}

// Ids, long terms and shard routes derived from it must not change between
// builds or platforms (nor its offset basis, see text.h).
TEST(TextTest, Fnv1a64IsStable) {
  EXPECT_EQ(Fnv1a64(""), 1469598103934665603ull);
  EXPECT_EQ(Fnv1a64("a"), 4953267810257967366ull);
  EXPECT_EQ(Fnv1a64("b", Fnv1a64("a")), Fnv1a64("ab"));
}

// Words split where Xapian's TermGenerator splits terms: at ASCII and
// Unicode punctuation, not inside non-ASCII letters.
TEST(TextTest, WordsAsTermGeneratorReadsThem) {
  auto words = [](std::string_view s) {
    std::vector<std::string> out;
    for (size_t i = NextWord(s, 0); i < s.size(); i = NextWord(s, i)) {
      const size_t e = WordEnd(s, i);
      out.push_back(WordForm(s.substr(i, e - i)));
      i = e;
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(words("Apple\u2019s \u201cM1\u201d \u2014 caf\u00e9s\u2026"),
            (V{"apple", "s", "m1", "caf\u00e9s"}));
  EXPECT_EQ(words("\u00c9CLAIR na\u00efve \u0417\u0434\u0440\u0430\u0432\u043e"),
            (V{"\u00e9clair", "na\u00efve", "\u0437\u0434\u0440\u0430\u0432\u043e"}));
  EXPECT_EQ(words("don't x_y 3.5"), (V{"don", "t", "x", "y", "3", "5"}));
  // Invalid UTF-8 stays inside its word rather than splitting it, its
  // bytes read as Latin-1 (as Xapian's Utf8Iterator reads them).
  EXPECT_EQ(words("ab\xff\xfe cd"), (V{"ab\u00ff\u00fe", "cd"}));
  EXPECT_EQ(NextWord("\u2019\u2014 x", 0), 7u);
  EXPECT_EQ(NextWord("\u2019", 0), 3u);
  EXPECT_EQ(CharLength("\u2019", 0), 3u);
  EXPECT_EQ(CharLength("\xff", 0), 1u);
  // Each word's length is what WordCharAt stepped over.
  const std::string s = "\u00e9t\u00e9";
  EXPECT_EQ(WordCharAt(s, 0), 2u);
  EXPECT_EQ(WordCharAt(s, 2), 1u);
  EXPECT_EQ(WordCharAt("\u2019", 0), 0u);
  EXPECT_EQ(WordEnd(s, 0), s.size());
}

TEST(TextTest, OneLineExcerpt) {
  struct E {
    std::string in;
    size_t max;
    std::string want;
  };
  const E cases[] = {
      {"short", 10, "short"},
      {"  a\n\nb \t c  ", 10, "a b c"},
      {"exactly10!", 10, "exactly10!"},
      {"hello wonderful world", 15, "hello wonderful\xE2\x80\xA6"},
      {"hello wonderful world", 12,
       "hello wonder\xE2\x80\xA6"},  // No near space.
      {"abcdefghijklmnop", 8, "abcdefgh\xE2\x80\xA6"},
      // Never cut inside a UTF-8 character.
      {"ab\xC3\xA9\xC3\xA9", 3, "ab\xE2\x80\xA6"},
      {"\xE2\x80\xA6\xE2\x80\xA6", 4, "\xE2\x80\xA6\xE2\x80\xA6"},
      {"\xE2\x80\xA6\xE2\x80\xA6x", 4, "\xE2\x80\xA6\xE2\x80\xA6"},
      {"text   ", 4, "text"},
  };
  for (const E& c : cases) {
    EXPECT_EQ(OneLineExcerpt(c.in, c.max), c.want) << c.in << " " << c.max;
  }
}

}  // namespace
}  // namespace threadsearch

namespace threadsearch {
namespace {

TEST(TextTest, ParseIntegersNeverThrow) {
  struct Case {
    const char* in;
    bool ok;
    int64_t value;
  };
  const Case cases[] = {
      {"0", true, 0},          {"377", true, 377},
      {"-12", true, -12},      {"", false, 0},
      {"12a", false, 0},       {" 1", false, 0},
      {"99999999999999999999", false, 0},
      {"9223372036854775807", true, INT64_MAX},
  };
  for (const Case& c : cases) {
    int64_t v = 0;
    EXPECT_EQ(ParseInt64(c.in, &v), c.ok) << c.in;
    if (c.ok) {
      EXPECT_EQ(v, c.value) << c.in;
    }
  }
  uint64_t u = 0;
  EXPECT_FALSE(ParseUint64("-1", &u));
  EXPECT_TRUE(ParseUint64("18446744073709551615", &u));
  EXPECT_EQ(u, UINT64_MAX);
  EXPECT_FALSE(ParseUint64("18446744073709551616", &u));
}

}  // namespace
}  // namespace threadsearch
