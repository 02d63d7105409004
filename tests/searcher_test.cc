// Searcher tests on an index built with the real Indexer from the shipped
// corpus: counts checked against the raw data, context, paging, snippets,
// and the known-item check.
#include "searcher/searcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <random>
#include <set>

#include "common/keys.h"
#include "common/mail_text.h"
#include "common/schema.h"
#include "common/text.h"
#include "common/thread_store.h"
#include "indexer/indexer.h"
#include "tests/testutil.h"

namespace threadsearch {
namespace {

const std::string kHiring =
    std::string(TS_CORPUS) + "/hn/ntdunglc-hackernews_jobs/hn_comments.json";
const std::string kMarch =
    std::string(TS_CORPUS) + "/mailing-lists/r-help/2003-March.txt.gz";
const std::string kApril =
    std::string(TS_CORPUS) + "/mailing-lists/r-help/2003-April.txt.gz";

class SearcherTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    auto ix = Indexer::Open(tmp_->path(), {});
    ASSERT_OK(ix);
    IndexStats st;
    ASSERT_OK((*ix)->IndexPaths({kHiring, kMarch, kApril}, &st));
    ix->reset();
    auto s = Searcher::Open(tmp_->path(), {});
    ASSERT_OK(s);
    searcher_ = s->release();
  }
  static void TearDownTestSuite() {
    delete searcher_;
    delete tmp_;
  }
  SearchResult Run(SearchRequest req) {
    Result<SearchResult> r = searcher_->Search(req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : SearchResult{};
  }
  static TempDir* tmp_;
  static Searcher* searcher_;
};
TempDir* SearcherTest::tmp_ = nullptr;
Searcher* SearcherTest::searcher_ = nullptr;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST_F(SearcherTest, RepliesToCountsMatchRawJson) {
  // Every comment in the file replies to the story by whoishiring; those
  // flagged deleted or dead are not searchable. Count them from the JSON.
  std::string raw = ReadFileOrDie(kHiring);
  size_t comments = 0, hidden = 0;
  for (size_t p = raw.find("\"parent\": 40846428"); p != std::string::npos;
       p = raw.find("\"parent\": 40846428", p + 1)) {
    ++comments;
    size_t start = raw.rfind('{', p), end = raw.find('}', p);
    std::string rec = raw.substr(start, end - start);
    if (rec.find("\"deleted\": true") != std::string::npos ||
        rec.find("\"dead\": true") != std::string::npos) {
      ++hidden;
    }
  }
  ASSERT_EQ(comments, 407u);
  SearchRequest req;
  req.replies_to = {"WhoIsHiring"};  // case-insensitive
  SearchResult r = Run(req);
  EXPECT_EQ(r.total, comments - hidden);
  // Newest first without words.
  for (size_t i = 1; i < r.hits.size(); ++i) {
    EXPECT_GE(r.hits[i - 1].item.item.time, r.hits[i].item.item.time);
  }
  req.query = "replies_to:whoishiring";
  req.replies_to.clear();
  EXPECT_EQ(Run(req).total, comments - hidden);
}

TEST_F(SearcherTest, AuthorFilterMatchesStoreAndNegates) {
  // An author with several messages in March/April 2003.
  SearchRequest all;
  all.authors = {"ripley@stats.ox.ac.uk"};
  SearchResult r = Run(all);
  uint64_t in_store = *searcher_->store().CountPrefix(
      keys::AuthorPrefix("ripley@stats.ox.ac.uk"));
  ASSERT_GT(in_store, 50u);
  EXPECT_EQ(r.total, in_store);
  SearchRequest words;
  words.query = "package";
  uint64_t total = Run(words).total;
  words.query = "package author:ripley@stats.ox.ac.uk";
  uint64_t by = Run(words).total;
  words.query = "package -author:ripley@stats.ox.ac.uk";
  uint64_t not_by = Run(words).total;
  EXPECT_GT(by, 0u);
  EXPECT_EQ(by + not_by, total);
}

TEST_F(SearcherTest, PhraseIsExactAndNarrowerThanWords) {
  SearchRequest req;
  req.query = "linear model";
  req.limit = 1000;
  SearchResult words = Run(req);
  req.query = "\"linear model\"";
  SearchResult phrase = Run(req);
  ASSERT_GT(phrase.total, 0u);
  EXPECT_LT(phrase.total, words.total);
  for (const Hit& h : phrase.hits) {
    std::string text = Lower(h.item.item.title + "\n" +
                             schema::IndexedBody(h.item.item));
    // Words may be separated by any run of non-word characters.
    bool found = false;
    for (size_t p = text.find("linear"); p != std::string::npos && !found;
         p = text.find("linear", p + 1)) {
      size_t q = p + 6;
      while (q < text.size() && !std::isalnum(static_cast<unsigned char>(text[q]))) ++q;
      found = text.compare(q, 5, "model") == 0;
    }
    EXPECT_TRUE(found) << h.item.item.id;
  }
}

TEST_F(SearcherTest, DeepPagingCoversEveryHitOnceWithExactTotal) {
  SearchRequest req;
  req.query = "regression";
  req.limit = 1000;
  SearchResult all = Run(req);
  ASSERT_GT(all.total, 30u);
  ASSERT_EQ(all.hits.size(), all.total);
  std::set<uint32_t> seen;
  req.limit = 7;
  for (uint32_t page = 0;; ++page) {
    req.page = page;
    SearchResult r = Run(req);
    EXPECT_EQ(r.total, all.total);
    if (r.hits.empty()) break;
    for (const Hit& h : r.hits) {
      EXPECT_TRUE(seen.insert(h.item.num).second);
      EXPECT_EQ(h.item.num, all.hits[h.rank - 1].item.num);
    }
  }
  EXPECT_EQ(seen.size(), all.total);
}

TEST_F(SearcherTest, HitsCarryThreadContext) {
  SearchRequest req;
  req.query = "lme";  // replies exist in these months
  req.type = ItemType::kMessage;
  req.limit = 50;
  SearchResult r = Run(req);
  ASSERT_FALSE(r.hits.empty());
  bool saw_reply = false;
  for (const Hit& h : r.hits) {
    const ThreadContext& c = h.context;
    EXPECT_FALSE(c.root_id.empty());
    EXPECT_GE(c.root_size, 1u);
    if (h.item.depth > 0) {
      saw_reply = true;
      ASSERT_FALSE(c.ancestors.empty());
      EXPECT_EQ(c.ancestors.front().id, c.root_id);
      EXPECT_EQ(c.ancestors.size() + c.elided, h.item.depth);
      EXPECT_EQ(h.thread_id, c.root_id);
    } else {
      EXPECT_TRUE(c.ancestors.empty());
      EXPECT_EQ(h.thread_id, h.item.item.id);
    }
    EXPECT_LE(c.replies.size(), 3u);
    EXPECT_EQ(c.reply_count, h.item.reply_count);
  }
  EXPECT_TRUE(saw_reply);
}

TEST_F(SearcherTest, ThreadFilterAndThreadView) {
  // Take a deep reply, then ask for its thread.
  SearchRequest req;
  req.query = "lme";
  req.limit = 200;
  SearchResult r = Run(req);
  const Hit* deep = nullptr;
  for (const Hit& h : r.hits) {
    if (h.item.depth >= 2) deep = &h;
  }
  ASSERT_NE(deep, nullptr);
  SearchRequest in_thread;
  in_thread.thread = deep->item.item.id;
  in_thread.limit = 1000;
  SearchResult t = Run(in_thread);
  EXPECT_GE(t.total, 3u);
  for (const Hit& h : t.hits) EXPECT_EQ(h.thread_id, deep->thread_id);
  Result<ThreadView> view = searcher_->Thread(deep->item.item.id);
  ASSERT_OK(view);
  EXPECT_EQ(view->root.item.item.id, deep->thread_id);
  // Count the tree's nodes: every item of the thread once.
  std::function<uint32_t(const ThreadNode&)> count = [&](const ThreadNode& n) {
    uint32_t c = n.item.placeholder ? 0 : 1;
    for (const ThreadNode& k : n.children) c += count(k);
    return c;
  };
  EXPECT_EQ(count(view->root), view->size);
  EXPECT_GE(view->size, t.total);
}

TEST_F(SearcherTest, SnippetHighlightsStemsAndEscapes) {
  SearchRequest req;
  req.query = "plotting";
  SearchResult r = Run(req);
  ASSERT_FALSE(r.hits.empty());
  bool stem_marked = false;
  for (const Hit& h : r.hits) {
    EXPECT_NE(h.snippet.find("<mark>"), std::string::npos)
        << h.item.item.title << "\n" << h.snippet;
    // Nothing but <mark> tags survives unescaped.
    std::string s = h.snippet;
    for (const char* tag : {"<mark>", "</mark>"}) {
      for (size_t p; (p = s.find(tag)) != std::string::npos;) {
        s.erase(p, strlen(tag));
      }
    }
    EXPECT_EQ(s.find('<'), std::string::npos) << h.snippet;
    if (h.snippet.find("<mark>plot</mark>") != std::string::npos ||
        h.snippet.find("<mark>plots</mark>") != std::string::npos) {
      stem_marked = true;
    }
  }
  EXPECT_TRUE(stem_marked);
}

TEST_F(SearcherTest, SortsAndCollapse) {
  SearchRequest req;
  req.query = "matrix";
  req.sort = SortOrder::kDateAsc;
  req.limit = 100;
  SearchResult r = Run(req);
  for (size_t i = 1; i < r.hits.size(); ++i) {
    EXPECT_LE(r.hits[i - 1].item.item.time, r.hits[i].item.item.time);
  }
  req.sort.reset();
  req.collapse_thread = true;
  req.limit = 1000;
  SearchResult c = Run(req);
  std::set<std::string> threads;
  uint64_t sum = 0;
  for (const Hit& h : c.hits) {
    EXPECT_TRUE(threads.insert(h.thread_id).second);
    sum += h.thread_hits;
  }
  EXPECT_EQ(c.total, c.hits.size());
  req.collapse_thread = false;
  EXPECT_EQ(sum, Run(req).total);
}

TEST_F(SearcherTest, BadRequestsAreErrors) {
  SearchRequest req;
  req.limit = 0;
  EXPECT_EQ(searcher_->Search(req).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseSortOrder("sideways").ok());
  EXPECT_TRUE(searcher_->Thread("no-such-id").status().IsNotFound());
  EXPECT_TRUE(searcher_->User("nobody@nowhere.invalid").status().IsNotFound());
}

TEST_F(SearcherTest, UserSummaryMatchesStore) {
  Result<UserSummary> u = searcher_->User("ripley@stats.ox.ac.uk");
  ASSERT_OK(u);
  EXPECT_EQ(u->items, *searcher_->store().CountPrefix(
                          keys::AuthorPrefix("ripley@stats.ox.ac.uk")));
  EXPECT_EQ(u->replies_received,
            *searcher_->store().CountPrefix(
                keys::ReplyToPrefix("ripley@stats.ox.ac.uk")));
  EXPECT_GT(u->replies_received, 0u);
  EXPECT_FALSE(u->top_repliers.empty());
  EXPECT_LE(u->first_time, u->last_time);
}

// Known-item check: five consecutive words from a message's own text (not
// its quotes) find that message in the top 10 for at least 80% of a seeded
// sample.
TEST_F(SearcherTest, KnownItemFiveWordsTop10) {
  std::vector<StoredItem> mail;
  ASSERT_OK(searcher_->store().Scan(
      std::string(1, keys::kItem), [&](std::string_view, std::string_view v) {
        StoredItem s;
        if (DecodeStoredItem(v, &s).ok() && s.searchable() &&
            s.item.source == Source::kMail) {
          mail.push_back(std::move(s));
        }
        return true;
      }));
  ASSERT_GT(mail.size(), 1000u);
  std::mt19937 rng(20261125);
  int tried = 0, top1 = 0, top10 = 0;
  while (tried < 200) {
    const StoredItem& s = mail[rng() % mail.size()];
    std::string own = SplitMailBody(s.item.text).own;
    std::vector<std::string> words;
    std::string w;
    for (char c : own + " ") {
      if (std::isalnum(static_cast<unsigned char>(c))) {
        w.push_back(c);
      } else if (!w.empty()) {
        words.push_back(w);
        w.clear();
      }
    }
    if (words.size() < 12) continue;
    size_t at = rng() % (words.size() - 5);
    std::string q;
    for (size_t i = at; i < at + 5; ++i) q += (i > at ? " " : "") + words[i];
    ++tried;
    SearchRequest req;
    req.query = q;
    req.context = false;
    SearchResult r = Run(req);
    for (const Hit& h : r.hits) {
      if (h.item.num == s.num) {
        ++top10;
        if (h.rank == 1) ++top1;
        break;
      }
    }
  }
  std::cout << "known-item: success@1 " << top1 << "/" << tried
            << ", success@10 " << top10 << "/" << tried << "\n";
  EXPECT_GE(top10 * 100, tried * 80);
}

}  // namespace
}  // namespace threadsearch

namespace threadsearch {
namespace {

TEST_F(SearcherTest, HighlightFieldsCoverWholeTextAndNameMatchedWords) {
  SearchRequest req;
  req.query = "plotting zzzunmatched OR lattice";
  req.highlight_fields = true;
  req.limit = 20;
  SearchResult r = Run(req);
  ASSERT_FALSE(r.hits.empty());
  for (const Hit& h : r.hits) {
    ASSERT_FALSE(h.matched_words.empty());
    EXPECT_NE((h.title_highlight + h.text_highlight).find("<mark>"),
              std::string::npos);
    for (const std::string& w : h.matched_words) {
      EXPECT_TRUE(w == "plotting" || w == "lattice") << w;
    }
    std::string plain = h.text_highlight;
    for (const char* tag : {"<mark>", "</mark>"}) {
      for (size_t p; (p = plain.find(tag)) != std::string::npos;) {
        plain.erase(p, strlen(tag));
      }
    }
    // The whole body (Xapian folds runs of white space).
    auto fold = [](std::string_view t) {
      std::string out;
      for (char c : t) {
        if (std::isspace(static_cast<unsigned char>(c))) {
          if (!out.empty() && out.back() != ' ') out.push_back(' ');
        } else {
          out.push_back(c);
        }
      }
      while (!out.empty() && out.back() == ' ') out.pop_back();
      return out;
    };
    EXPECT_EQ(fold(DecodeHtmlEntities(plain)),
              fold(schema::IndexedBody(h.item.item)))
        << h.item.item.id;
  }
}

}  // namespace
}  // namespace threadsearch
