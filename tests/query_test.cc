// Query language tests: a table of query strings and the tree each parses
// to (DescribeQuery), and a table of malformed queries and the error each
// gives. Searches over a real index are in searcher_test.cc.
#include "searcher/query_parser.h"

#include <gtest/gtest.h>

#include <string>

#include "common/schema.h"
#include "tests/testutil.h"

namespace threadsearch {
namespace {

struct ParseCase {
  const char* query;
  const char* tree;
};

// Times below: 2024-01-01 = 1704067200, 2024-02-01 = 1706745600,
// 2024-04-01 = 1711929600, 2025-01-01 = 1735689600, 2003-01-01 = 1041379200,
// 2004-01-01 = 1072915200, 2024-03-01 = 1709251200.
const ParseCase kParseCases[] = {
    // Words, all required; case folded; stemming decided at build time.
    {"plot", "(word \"plot\")"},
    {"Linear Model", "(and (word \"linear\") (word \"model\"))"},
    {"lm factor contrasts",
     "(and (word \"lm\") (word \"factor\") (word \"contrasts\"))"},
    // The indexer's tokeniser splits words; a split word is a phrase.
    {"e-mail", "(word \"e\" \"mail\")"},
    {"C++ don't", "(and (word \"c++\") (word \"don't\"))"},
    {"3.14", "(word \"3.14\")"},
    // Phrases, exact.
    {"\"linear model\"", "(phrase \"linear\" \"model\")"},
    {"\"Plotting\"", "(phrase \"plotting\")"},
    {"\xE2\x80\x9C" "curly quotes" "\xE2\x80\x9D",
     "(phrase \"curly\" \"quotes\")"},
    {"a \"b c\" d",
     "(and (word \"a\") (phrase \"b\" \"c\") (word \"d\"))"},
    // Boolean operators; OR binds tighter than AND.
    {"a OR b", "(or (word \"a\") (word \"b\"))"},
    {"a b OR c", "(and (word \"a\") (or (word \"b\") (word \"c\")))"},
    {"a AND b", "(and (word \"a\") (word \"b\"))"},
    {"a || b && c",
     "(and (or (word \"a\") (word \"b\")) (word \"c\"))"},
    {"a or b", "(and (word \"a\") (word \"or\") (word \"b\"))"},
    {"a NOT b", "(and (word \"a\") (not (word \"b\")))"},
    {"a -b", "(and (word \"a\") (not (word \"b\")))"},
    {"a +b", "(and (word \"a\") (word \"b\"))"},
    {"NOT NOT a", "(and (not (not (word \"a\"))))"},
    {"a - b", "(and (word \"a\") (word \"b\"))"},
    {"(a OR b) c", "(and (or (word \"a\") (word \"b\")) (word \"c\"))"},
    {"(a b) OR c",
     "(or (and (word \"a\") (word \"b\")) (word \"c\"))"},
    {"-(a b) c",
     "(and (not (and (word \"a\") (word \"b\"))) (word \"c\"))"},
    {"((a))", "(word \"a\")"},
    {"-\"a b\" c", "(and (not (phrase \"a\" \"b\")) (word \"c\"))"},
    // Wildcards.
    {"plot*", "(wildcard \"plot\")"},
    {"Plot**", "(wildcard \"plot\")"},
    {"e-ma*", "(and (phrase \"e\") (wildcard \"ma\"))"},
    // Fields: names.
    {"author:Ripley@Stats.ox.ac.uk", "(filter \"Aripley@stats.ox.ac.uk\")"},
    {"by:pg", "(filter \"Apg\")"},
    {"FROM:pg", "(filter \"Apg\")"},
    {"author:\"John Smith\"", "(filter \"Ajohn smith\")"},
    {"author:rip*", "(filter* \"Arip\")"},
    {"replies_to:whoishiring", "(filter \"XTOwhoishiring\")"},
    {"to:WhoIsHiring", "(filter \"XTOwhoishiring\")"},
    {"list:R-help", "(filter \"XLr-help\")"},
    {"subreddit:rust", "(filter \"XLrust\")"},
    {"type:comment", "(filter \"XTcomment\")"},
    {"type:Message", "(filter \"XTmessage\")"},
    {"source:hn", "(filter \"XShn\")"},
    {"source:email", "(filter \"XSmail\")"},
    {"year:2003", "(filter \"XY2003\")"},
    {"year:2003..2004", "(range 0 1041379200..1104537599)"},
    // Fields: items.
    {"thread:40846428", "(item G \"40846428\")"},
    {"under:hn:123", "(item XU \"hn:123\")"},
    {"id:<abc@example.org>", "(item Q \"<abc@example.org>\")"},
    // Fields: title (free text, prefix S).
    {"title:plotting", "(word S \"plotting\")"},
    {"subject:\"linear model\"", "(phrase S \"linear\" \"model\")"},
    {"title:plot*", "(wildcard S \"plot\")"},
    {"title:(lm OR glm) anova",
     "(and (or (word S \"lm\") (word S \"glm\")) (word \"anova\"))"},
    {"author:(ripley OR pg)",
     "(or (filter \"Aripley\") (filter \"Apg\"))"},
    // Negated fields and pure negatives.
    {"-author:bot", "(and (not (filter \"Abot\")))"},
    {"-author:bot -type:story",
     "(and (not (filter \"Abot\")) (not (filter \"XTstory\")))"},
    {"NOT author:bot", "(and (not (filter \"Abot\")))"},
    {"rust -author:bot", "(and (word \"rust\") (not (filter \"Abot\")))"},
    // Dates.
    {"date:2024-01-01..2024-03-31", "(range 0 1704067200..1711929599)"},
    {"date:2024..", "(range 0 1704067200..)"},
    {"date:..2024-03", "(range 0 ..1711929599)"},
    {"date:2024", "(range 0 1704067200..1735689599)"},
    {"date:2024-01", "(range 0 1704067200..1706745599)"},
    {"date:2024-02-29", "(range 0 1709164800..1709251199)"},
    {"date:>=2024-03", "(range 0 1709251200..)"},
    {"date:>2024-02", "(range 0 1709251200..)"},
    {"date:<2024", "(range 0 ..1704067199)"},
    {"date:<=2003", "(range 0 ..1072915199)"},
    {"after:2024-01-01", "(range 0 1704067200..)"},
    {"before:2024-02", "(range 0 ..1706745599)"},
    // Numbers.
    {"points:>=100", "(range 1 100..)"},
    {"points:>100", "(range 1 101..)"},
    {"points:<5", "(range 1 ..4)"},
    {"points:<=5", "(range 1 ..5)"},
    {"points:=7", "(range 1 7..7)"},
    {"points:7", "(range 1 7..7)"},
    {"points:10..20", "(range 1 10..20)"},
    {"points:10..", "(range 1 10..)"},
    {"points:..-1", "(range 1 ..-1)"},
    {"points:>=-9007199254740992", "(range 1 -9007199254740992..)"},
    {"points:-1000000000000000..1000000000000000",
     "(range 1 -1000000000000000..1000000000000000)"},
    {"replies:>=5", "(range 3 5..)"},
    {"-replies:0", "(and (not (range 3 0..0)))"},
    // Links: every word, scheme and www left out.
    {"site:apple.com", "(filter \"XHapple.com\")"},
    {"url:\"https://www.Apple.com/stevejobs/\"",
     "(and (filter \"XHapple.com\") (filter \"XWstevejobs\"))"},
    {"url:nytimes", "(filter \"XWnytimes\")"},
    {"url:\"go blog\"", "(and (filter \"XWgo\") (filter \"XWblog\"))"},
    // Plain-word fallbacks: a word and a colon, URLs, times, C++ scopes.
    {"Re: lm factor",
     "(and (word \"re\") (word \"lm\") (word \"factor\"))"},
    {"http://cran.r-project.org",
     "(word \"http\" \"cran\" \"r\" \"project\" \"org\")"},
    {"mailto:a@b.org", "(word \"mailto\" \"a\" \"b\" \"org\")"},
    {"12:30", "(word \"12\" \"30\")"},
    {"std::vector", "(word \"std\" \"vector\")"},
    {"note:", "(word \"note\")"},
    // Punctuation alone is ignored next to words.
    {"lm ~ x", "(and (word \"lm\") (word \"x\"))"},
    // Blank.
    {"", "(and)"},
    {"   ", "(and)"},
};

TEST(QueryParserTest, ParsesEveryOperatorAndField) {
  for (const ParseCase& c : kParseCases) {
    SCOPED_TRACE(c.query);
    Result<QueryNode> r = ParseQuery(c.query);
    ASSERT_OK(r);
    EXPECT_EQ(DescribeQuery(*r), c.tree);
  }
}

struct ErrorCase {
  const char* query;
  const char* message;  // a substring of the error message
};

const ErrorCase kErrorCases[] = {
    {"\"linear model", "unbalanced quote: the quote at offset 0"},
    {"lm \"a b", "quote at offset 3 is never closed"},
    {"author:\"John", "quote at offset 7 is never closed"},
    {"(a b", "unbalanced parenthesis: the ( at offset 0 is never closed"},
    {"a (b (c)", "the ( at offset 2 is never closed"},
    {"a b)", "the ) at offset 3 has no matching ("},
    {")", "the ) at offset 0 has no matching ("},
    {"a ()", "empty parentheses at offset 2"},
    {"foo:bar", "unknown field \"foo\" at offset 0 (in \"foo:bar\")"},
    {"lm Foo:bar", "unknown field \"foo\" at offset 3"},
    {"foo:\"x y\"", "unknown field \"foo\" at offset 0"},
    {"author: smith", "field author: at offset 0 has no value"},
    {"lm to:", "field to: at offset 3 has no value"},
    {"author:\"\"", "field author: at offset 8 has an empty value"},
    {"OR a", "OR at offset 0 has nothing before it"},
    {"a OR", "OR at offset 2 has nothing after it"},
    {"a OR OR b", "OR at offset 2 has nothing after it"},
    {"AND a", "AND at offset 0 has nothing before it"},
    {"a AND", "AND at offset 2 has nothing after it"},
    {"a NOT", "NOT at offset 2 has nothing after it"},
    {"(a OR) b", "OR at offset 3 has nothing after it"},
    {"date:2024-13", "bad date \"2024-13\" in date:2024-13 at offset 5"},
    {"date:2023-02-30", "bad date \"2023-02-30\""},
    {"date:yesterday", "bad date \"yesterday\""},
    {"date:2024..2023", "is empty"},
    {"date:..", "has no ends"},
    {"after:2024/01/01", "bad date \"2024/01/01\" in after:2024/01/01"},
    {"before:", "field before: at offset 0 has no value"},
    {"points:>=lots", "bad number \"lots\" in points:>=lots at offset 7"},
    {"replies:5..x", "bad number \"x\""},
    {"points:1.5", "bad number \"1.5\""},
    {"points:<-12345678901234567", "bad number \"-12345678901234567\""},
    {"year:03", "bad year \"03\" at offset 5"},
    {"type:article", "unknown type \"article\" at offset 5"},
    {"source:usenet", "unknown source \"usenet\" at offset 7"},
    {"date:(2024)", "date: at offset 0 takes a value, not a group"},
    {"\"\"", "the quoted text at offset 0 has no words"},
    {"* ~", "has no words to search for"},
    {"-AND", "expected a word at offset 1"},
};

// What a live commit records round-trips; what is not that record is
// refused (the reader then reads the part whole).
TEST(SchemaTest, ChangedDocsRoundTripAndRefuseOthers) {
  schema::ChangedDocs c;
  c.uuid = "5b1e8f62-3c4d-4a9e-9f1a-2d7c8e6b0a13";
  c.last_before = 300000;
  c.docs_before = 299000;
  c.length_before = 123456789012;
  c.docs = {1, 2, 127, 128, 70000, 300000};
  const std::string enc = schema::EncodeChanged(c);
  schema::ChangedDocs d;
  ASSERT_TRUE(schema::DecodeChanged(enc, &d));
  EXPECT_EQ(d.uuid, c.uuid);
  EXPECT_EQ(d.last_before, c.last_before);
  EXPECT_EQ(d.docs_before, c.docs_before);
  EXPECT_EQ(d.length_before, c.length_before);
  EXPECT_EQ(d.docs, c.docs);
  schema::ChangedDocs none;
  ASSERT_TRUE(schema::DecodeChanged(schema::EncodeChanged(none), &d));
  EXPECT_EQ(d.last_before, 0u);
  EXPECT_TRUE(d.docs.empty());
  EXPECT_EQ(schema::ChangedKey(42), "changed.42");
  EXPECT_FALSE(schema::DecodeChanged("", &d));
  std::string other = enc;
  other[0] = 'X';
  EXPECT_FALSE(schema::DecodeChanged(other, &d));
  EXPECT_FALSE(schema::DecodeChanged(enc.substr(0, enc.size() - 1), &d));
  std::string longer = enc;
  longer.push_back('x');
  EXPECT_FALSE(schema::DecodeChanged(longer, &d));
  schema::ChangedDocs beyond = c;
  beyond.docs.push_back(300001);  // past last_before
  EXPECT_FALSE(schema::DecodeChanged(schema::EncodeChanged(beyond), &d));
  schema::ChangedDocs more = c;
  more.docs_before = 300001;  // more documents than docids
  EXPECT_FALSE(schema::DecodeChanged(schema::EncodeChanged(more), &d));
  // A varint past 64 bits (the uuid's length, which read as 64 bits would
  // be 0, and the rest a good record).
  schema::ChangedDocs no_uuid = c;
  no_uuid.uuid.clear();
  std::string wide = schema::EncodeChanged(no_uuid);
  ASSERT_EQ(wide[1], '\0');
  ASSERT_TRUE(schema::DecodeChanged(wide, &d));
  wide.replace(1, 1, std::string(9, '\x80') + "\x02");
  EXPECT_FALSE(schema::DecodeChanged(wide, &d));
  schema::ChangedDocs twice = c;
  twice.docs.insert(twice.docs.begin() + 1, 1);  // not ascending
  EXPECT_FALSE(schema::DecodeChanged(schema::EncodeChanged(twice), &d));
}

TEST(SchemaTest, UrlWords) {
  using V = std::vector<std::string>;
  EXPECT_EQ(schema::UrlWords("https://www.Apple.com/stevejobs/"),
            (V{"apple", "com", "stevejobs"}));
  EXPECT_EQ(schema::UrlWords("http://a.org/a/b?x=a&http=1"),
            (V{"a", "org", "b", "x", "http", "1"}));
  EXPECT_EQ(schema::UrlWords("example.com/http"), (V{"example", "com", "http"}));
  EXPECT_TRUE(schema::UrlWords("https://").empty());
  EXPECT_EQ(schema::UrlHosts("http://user@Blog.YCombinator.com:80/x"),
            (V{"blog.ycombinator.com", "ycombinator.com"}));
  EXPECT_EQ(schema::UrlHosts("https://www.apple.com/stevejobs/"),
            (V{"apple.com"}));
  EXPECT_TRUE(schema::UrlHosts("https://localhost/x").empty());
  std::string_view rest;
  EXPECT_EQ(schema::UrlHost("apple.com/a/b?c", &rest), "apple.com");
  EXPECT_EQ(rest, "/a/b?c");
  EXPECT_EQ(schema::UrlHost("stevejobs"), "");
  EXPECT_TRUE(schema::UrlWords("").empty());
}

TEST(QueryParserTest, MalformedQueriesSayWhatAndWhere) {
  for (const ErrorCase& c : kErrorCases) {
    SCOPED_TRACE(c.query);
    Result<QueryNode> r = ParseQuery(c.query);
    ASSERT_FALSE(r.ok()) << DescribeQuery(*r);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.message), std::string::npos)
        << r.status().message();
    EXPECT_EQ(r.status().message().rfind("query: ", 0), 0u)
        << r.status().message();
  }
}

TEST(QueryParserTest, UnknownFieldMessageListsTheFields) {
  Result<QueryNode> r = ParseQuery("foo:bar");
  ASSERT_FALSE(r.ok());
  for (size_t i = 0; i < schema::kNumFields; ++i) {
    EXPECT_NE(r.status().message().find(std::string(schema::kFields[i].name)),
              std::string::npos);
  }
  EXPECT_NE(r.status().message().find("points"), std::string::npos);
}

TEST(QueryParserTest, DeepNestingIsAnErrorNotACrash) {
  std::string q(5000, '(');
  q += "a";
  q += std::string(5000, ')');
  Result<QueryNode> r = ParseQuery(q);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nested too deeply"), std::string::npos);
  std::string nots;
  for (int i = 0; i < 5000; ++i) nots += "NOT ";
  EXPECT_FALSE(ParseQuery(nots + "a").ok());
  std::string minus(5000, '-');
  EXPECT_TRUE(ParseQuery(minus + "a").ok());  // "--…a": punctuation, a word
}

TEST(QueryParserTest, OffsetsPointAtTheWordAsTyped) {
  Result<QueryNode> r = ParseQuery("lm  Plottting title:Lattice");
  ASSERT_OK(r);
  ASSERT_EQ(r->children.size(), 3u);
  EXPECT_EQ(r->children[1].offset, 4u);
  EXPECT_EQ(r->children[1].text, "Plottting");
  EXPECT_EQ(r->children[2].offset, 20u);
  EXPECT_EQ(r->children[2].text, "Lattice");
}

TEST(QueryParserTest, WordsAndFiltersAreClassified) {
  struct Case {
    const char* query;
    bool has_words;
  } cases[] = {
      {"plot", true},           {"author:x", false},
      {"-plot", false},         {"-plot author:x", false},
      {"plot author:x", true},  {"\"a b\"", true},
      {"plo*", true},           {"title:x", true},
      {"author:x OR y", true},  {"points:>1 date:2024", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.query);
    Result<QueryNode> r = ParseQuery(c.query);
    ASSERT_OK(r);
    EXPECT_EQ(r->HasWords(), c.has_words);
  }
}

// Arbitrary bytes never crash the parser: every prefix of a nasty string
// parses or fails with InvalidArgument.
TEST(QueryParserTest, FuzzPrefixesNeverCrash) {
  const std::string nasty =
      "a (\"b:c OR -(d* NOT \xE2\x80\x9C" "e\xFF\xFE f:) author:\"x "
      "date:2024..2023 points:>=- ( ) \" ) OR AND NOT +-*:";
  for (size_t n = 0; n <= nasty.size(); ++n) {
    for (size_t start = 0; start < n; start += 7) {
      Result<QueryNode> r = ParseQuery(nasty.substr(start, n - start));
      if (!r.ok()) {
        EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      }
    }
  }
}

}  // namespace
}  // namespace threadsearch
