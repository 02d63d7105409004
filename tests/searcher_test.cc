// Searcher tests on an index built with the real Indexer from the shipped
// corpus: counts checked against the raw data, context, paging, snippets,
// and the known-item check.
#include "searcher/searcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include "common/keys.h"
#include "common/mail_text.h"
#include "common/schema.h"
#include "common/text.h"
#include "common/thread_store.h"
#include "indexer/indexer.h"
#include "searcher/bm25_source.h"
#include "searcher/proximity.h"
#include "searcher/query_parser.h"
#include "searcher/query_parser_internal.h"
#include "searcher/snippet.h"
#include "tests/testutil.h"

namespace threadsearch {
namespace {

const std::string kHiring =
    std::string(TS_CORPUS) + "/hn/ntdunglc-hackernews_jobs/hn_comments.json";
const std::string kMarch =
    std::string(TS_CORPUS) + "/mailing-lists/r-help/2003-March.txt.gz";
const std::string kApril =
    std::string(TS_CORPUS) + "/mailing-lists/r-help/2003-April.txt.gz";

// Indexes `paths` into the database at `dir` (made if missing) with the
// real Indexer; the run's figures in *stats when given.
void IndexInto(const std::string& dir, const std::vector<std::string>& paths,
               const IndexOptions& io = {}, IndexStats* stats = nullptr) {
  auto ix = Indexer::Open(dir, io);
  ASSERT_OK(ix);
  IndexStats st;
  ASSERT_OK((*ix)->IndexPaths(paths, &st));
  if (stats) *stats = st;
}

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

// The proximity boost, scored after the match on the best results
// (searcher/proximity.h), gives exactly what Xapian gives the same parts
// inside its match: the words' query plus OP_PHRASE, OP_NEAR and pair
// phrases, each scaled and added with its own AND_MAYBE.
TEST_F(SearcherTest, ProximityBoostScoresAsXapianPhraseParts) {
  SearcherOptions so;
  so.title_weight = 0;  // the words and the proximity parts only
  so.rescore_window = 100000;
  auto plain = Searcher::Open(tmp_->path(), so);
  ASSERT_OK(plain);
  Xapian::Database db(tmp_->path() + "/xapian");
  Xapian::Stem stem("english");
  int boosted = 0;
  for (const char* q : {"linear regression model", "the data frame",
                        "plot the residuals", "in the", "of a function",
                        "lm lm summary"}) {
    SCOPED_TRACE(q);
    Result<QueryNode> tree = ParseQuery(q);
    ASSERT_OK(tree);
    QueryBuildOptions bo;
    bo.stemmer = &stem;
    Xapian::Query query = BuildQuery(*tree, bo);
    std::vector<Xapian::Query> t;
    for (const std::string& w : ProximityTerms(*tree)) t.emplace_back(w);
    const auto n = static_cast<Xapian::termcount>(t.size());
    std::vector<Xapian::Query> parts{
        Xapian::Query(Xapian::Query::OP_PHRASE, t.begin(), t.end(), n),
        Xapian::Query(Xapian::Query::OP_NEAR, t.begin(), t.end(), 2 * n)};
    for (size_t i = 0; n > 2 && i + 1 < t.size(); ++i) {
      parts.emplace_back(Xapian::Query::OP_PHRASE, t.begin() + i,
                         t.begin() + i + 2, 2);
    }
    for (const Xapian::Query& part : parts) {
      query = Xapian::Query(Xapian::Query::OP_AND_MAYBE, query,
                            Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT,
                                          part, so.proximity_weight));
    }
    Xapian::Enquire enquire(db);
    enquire.set_query(query);
    enquire.set_weighting_scheme(Xapian::BM25Weight(
        so.bm25_k1, 0, 1, so.bm25_b, so.bm25_min_normlen));
    Xapian::MSet want = enquire.get_mset(0, 20, db.get_doccount());
    SearchRequest req;
    req.query = q;
    req.limit = 20;
    req.context = false;
    Result<SearchResult> got = (*plain)->Search(req);
    ASSERT_OK(got);
    ASSERT_EQ(got->hits.size(), want.size());
    ASSERT_EQ(got->total, want.get_matches_estimated());
    size_t k = 0;
    for (auto it = want.begin(); it != want.end(); ++it, ++k) {
      // The same scores in the same order (ties may list either first).
      EXPECT_NEAR(got->hits[k].score, it.get_weight(), 1e-6) << k;
    }
    // The boost lifted the best hit above the words alone.
    Xapian::Enquire words(db);
    words.set_query(BuildQuery(*tree, bo));
    words.set_weighting_scheme(Xapian::BM25Weight(
        so.bm25_k1, 0, 1, so.bm25_b, so.bm25_min_normlen));
    Xapian::MSet alone = words.get_mset(0, 1);
    ASSERT_FALSE(alone.empty());
    if (want.begin().get_weight() > alone.begin().get_weight() + 1e-6) {
      ++boosted;
    }
  }
  EXPECT_GE(boosted, 5);
}

// A window smaller than the matches: the best results are boosted and
// ordered again, the rest keep the words' order, and pages across the
// window's edge still list every hit once, scores never rising.
TEST_F(SearcherTest, RescoreWindowPagesConsistently) {
  SearcherOptions so;
  so.rescore_window = 25;
  auto s = Searcher::Open(tmp_->path(), so);
  ASSERT_OK(s);
  SearchRequest req;
  req.query = "the data";
  req.limit = 1000;
  req.context = false;
  Result<SearchResult> all = (*s)->Search(req);
  ASSERT_OK(all);
  ASSERT_GT(all->total, 100u);
  ASSERT_EQ(all->hits.size(), std::min<uint64_t>(all->total, 1000));
  for (size_t i = 1; i < all->hits.size(); ++i) {
    EXPECT_LE(all->hits[i].score, all->hits[i - 1].score) << i;
  }
  std::set<uint32_t> seen;
  req.limit = 7;
  for (uint32_t page = 0; page < 10; ++page) {
    req.page = page;
    Result<SearchResult> r = (*s)->Search(req);
    ASSERT_OK(r);
    EXPECT_EQ(r->total, all->total);
    for (const Hit& h : r->hits) {
      EXPECT_TRUE(seen.insert(h.item.num).second);
      EXPECT_EQ(h.item.num, all->hits[h.rank - 1].item.num) << h.rank;
      EXPECT_DOUBLE_EQ(h.score, all->hits[h.rank - 1].score);
    }
  }
  EXPECT_EQ(seen.size(), 70u);
  // The window's top ten are those of an unlimited window whenever the
  // boost cannot lift anything from below it: here, the same first hit.
  SearcherOptions wide;
  wide.rescore_window = 100000;
  auto w = Searcher::Open(tmp_->path(), wide);
  ASSERT_OK(w);
  req.page = 0;
  req.limit = 10;
  req.query = "linear regression model";
  Result<SearchResult> a = (*s)->Search(req);
  Result<SearchResult> b = (*w)->Search(req);
  ASSERT_OK(a);
  ASSERT_OK(b);
  ASSERT_FALSE(a->hits.empty());
  EXPECT_EQ(a->hits[0].item.num, b->hits[0].item.num);
  EXPECT_DOUBLE_EQ(a->hits[0].score, b->hits[0].score);
}

// Only the best boosts of a page are read (the rest are bounded without
// positions): each page of ten lists the same hits, with the same scores,
// as one page holding the whole rescore window, which boosts every hit.
TEST_F(SearcherTest, BoundedBoostsGiveTheWholeWindowsPages) {
  SearcherOptions none;
  none.proximity_weight = 0;
  auto unboosted = Searcher::Open(tmp_->path(), none);
  ASSERT_OK(unboosted);
  int boosted = 0;
  for (const char* q :
       {"the data", "data frame", "linear regression", "plot the residuals",
        "in the model", "how to read a file", "the mean of the",
        "lm lm summary", "error in the function", "r help"}) {
    SCOPED_TRACE(q);
    SearchRequest req;
    req.query = q;
    req.context = false;
    req.limit = 200;  // the window: no page below it to leave out
    SearchResult all = Run(req);
    ASSERT_FALSE(all.hits.empty());
    for (uint32_t page = 0; page < 3; ++page) {
      req.page = page;
      req.limit = 10;
      SearchResult r = Run(req);
      EXPECT_EQ(r.total, all.total);
      for (const Hit& h : r.hits) {
        ASSERT_LE(h.rank, all.hits.size());
        const Hit& want = all.hits[h.rank - 1];
        EXPECT_EQ(h.item.num, want.item.num) << h.rank;
        EXPECT_NEAR(h.score, want.score, 1e-9) << h.rank;
      }
    }
    // The page's boosts were read: the best hit scores above its score
    // without the proximity boost.
    req.page = 0;
    Result<SearchResult> u = (*unboosted)->Search(req);
    ASSERT_OK(u);
    if (all.hits[0].score > u->hits[0].score + 1e-6) ++boosted;
  }
  EXPECT_GE(boosted, 5);
}

// A bound is never below the boost it bounds, and equals it where every
// part holds (a document with the words as a phrase, once each).
TEST_F(SearcherTest, ProximityBoundsHoldTheirBoosts) {
  Xapian::Database db(tmp_->path() + "/xapian");
  int equal = 0, boosted = 0, gave_up = 0, lacking = 0;
  for (const char* q : {"the data", "linear regression model",
                        "plot the residuals", "lm lm summary", "r help"}) {
    SCOPED_TRACE(q);
    Result<QueryNode> tree = ParseQuery(q);
    ASSERT_OK(tree);
    const ProximityScorer scorer(db, ProximityTerms(*tree), ProximityOptions{});
    std::vector<Xapian::docid> docs;
    for (Xapian::docid d = 1; d <= db.get_lastdocid(); ++d) docs.push_back(d);
    std::vector<ProximityScorer::BoundParts> parts;
    const std::vector<double> bounds = scorer.Bounds(docs, nullptr, &parts);
    ASSERT_EQ(bounds.size(), docs.size());
    ASSERT_EQ(parts.size(), docs.size());
    for (size_t k = 0; k < docs.size(); ++k) {
      double boost = 0;
      try {
        boost = scorer.Boost(docs[k]);
      } catch (const Xapian::DocNotFoundError&) {
        continue;  // a hole in the ids
      }
      ASSERT_GE(bounds[k], boost) << docs[k];
      // With the bound's parts: the terms it lacks and its length are not
      // read again, and the boost is the same.
      if (bounds[k] > 0) {
        ASSERT_EQ(scorer.Boost(docs[k], parts[k]), boost) << docs[k];
        if (!parts[k].all_terms) ++lacking;
      }
      if (boost > 0) ++boosted;
      if (boost > 0 && std::abs(bounds[k] - boost) < 1e-9 * boost) ++equal;
      if (bounds[k] == 0) continue;
      // Term by term: the exact boost whenever it reaches what is asked;
      // gives up (with 0) only when it cannot.
      for (const double need : {0.0, boost * 0.5, boost, boost * 1.01 + 1e-6,
                                bounds[k] * 0.9, bounds[k]}) {
        double got = -1;
        const bool reached =
            scorer.BoostIfReaches(docs[k], parts[k], need, &got);
        if (need <= boost) {
          ASSERT_TRUE(reached) << docs[k] << " need " << need;
        }
        if (reached) {
          ASSERT_EQ(got, boost) << docs[k];
        } else {
          ASSERT_EQ(got, 0) << docs[k];
          ++gave_up;
        }
      }
    }
  }
  EXPECT_GT(boosted, 100);
  EXPECT_GE(equal, 5);
  EXPECT_GT(gave_up, 100);  // it does stop early
  EXPECT_GT(lacking, 10);   // documents with a term missing were boosted
}

// The bounds from what the match recorded (each exact term's wdf in the
// documents it weighed, the lengths it read) equal the bounds read from
// the database, for every document of the MSet: Xapian weighs each of them
// with every term it has. The same when a word's exact term is read inside
// its stem's source (Bm25WordQuery), only at the documents weighed.
TEST_F(SearcherTest, ProximityBoundsFromTheMatchEqualTheIndexes) {
  Xapian::Database db(tmp_->path() + "/xapian");
  Xapian::Stem stem("english");
  int compared = 0;
  for (const bool word_sources : {false, true})
  for (const char* q : {"the data", "linear regression model",
                        "plot the residuals", "lm lm summary", "r help",
                        "how do i read a file", "error in the function"}) {
    SCOPED_TRACE(std::string(q) + (word_sources ? " (word sources)" : ""));
    Result<QueryNode> tree = ParseQuery(q);
    ASSERT_OK(tree);
    const std::vector<std::string> words = ProximityTerms(*tree);
    auto seen = std::make_shared<MatchSeen>();
    seen->wdf_terms.insert(words.begin(), words.end());
    QueryBuildOptions bo;
    bo.stemmer = &stem;
    bo.weighted_term = [&](const std::string& term) {
      return Bm25TermQuery(db, term, Bm25Params{}, seen);
    };
    if (word_sources) {
      bo.weighted_word = [&](const WordTerms& w) {
        return Bm25WordQuery(db, w, Bm25Params{}, seen);
      };
    }
    Xapian::Enquire enquire(db);
    enquire.set_query(BuildQuery(*tree, bo));
    enquire.set_weighting_scheme(Xapian::BM25Weight(1.2, 0, 1, 0.75, 0.5));
    const Xapian::MSet mset = enquire.get_mset(0, 200);
    std::vector<Xapian::docid> docs;
    for (auto it = mset.begin(); it != mset.end(); ++it) docs.push_back(*it);
    ASSERT_FALSE(docs.empty());
    const ProximityScorer scorer(db, words, ProximityOptions{});
    const std::vector<double> from_match = scorer.Bounds(docs, seen.get());
    const std::vector<double> from_index = scorer.Bounds(docs);
    // Some part recorded each word (a part where no document of the
    // match has it records nothing).
    for (const std::string& w : words) {
      bool any = false;
      for (const auto& [uuid, terms] : seen->wdfs) any |= terms.count(w) > 0;
      EXPECT_TRUE(any) << w;
    }
    for (size_t k = 0; k < docs.size(); ++k) {
      EXPECT_DOUBLE_EQ(from_match[k], from_index[k]) << docs[k];
      compared += from_index[k] > 0;
    }
  }
  EXPECT_GT(compared, 600);
}

// A word's exact term weighed by 0 (exact_weight = 0) is never weighed by
// the match, so the match records no wdfs for it: the bounds read them from
// the index, and the proximity boost still lifts the phrase.
TEST_F(SearcherTest, BoostsHoldWhenTheExactTermsWeighNothing) {
  SearcherOptions exact0;
  exact0.exact_weight = 0;
  SearcherOptions flat = exact0;
  flat.proximity_weight = 0;
  auto boosted = Searcher::Open(tmp_->path(), exact0);
  auto unboosted = Searcher::Open(tmp_->path(), flat);
  ASSERT_OK(boosted);
  ASSERT_OK(unboosted);
  int lifted = 0;
  for (const char* q : {"linear regression model", "plot the residuals",
                        "the data frame"}) {
    SearchRequest req;
    req.query = q;
    req.context = false;
    Result<SearchResult> a = (*boosted)->Search(req);
    Result<SearchResult> b = (*unboosted)->Search(req);
    ASSERT_OK(a);
    ASSERT_OK(b);
    ASSERT_FALSE(a->hits.empty());
    if (a->hits[0].score > b->hits[0].score + 1e-6) ++lifted;
  }
  EXPECT_GE(lifted, 2);
}

TEST(ProximityTest, PhraseNearAndPairs) {
  using P = std::vector<std::vector<Xapian::termpos>>;
  ProximityParts m = MatchProximity(P{{3, 10}, {11}, {12, 40}});
  EXPECT_TRUE(m.phrase);
  EXPECT_TRUE(m.near);
  EXPECT_EQ(m.pairs, (std::vector<bool>{true, true}));
  // In order but apart: the pairs that touch, and the window of 2n = 6.
  m = MatchProximity(P{{1}, {2}, {6}});
  EXPECT_FALSE(m.phrase);
  EXPECT_TRUE(m.near);  // span 5 < 6
  EXPECT_EQ(m.pairs, (std::vector<bool>{true, false}));
  m = MatchProximity(P{{1}, {2}, {7}});
  EXPECT_FALSE(m.near);  // span 6
  // Out of order, close: near only.
  m = MatchProximity(P{{5}, {4}});
  EXPECT_FALSE(m.phrase);
  EXPECT_TRUE(m.near);
  EXPECT_TRUE(m.pairs.empty());  // two words: the phrase is the pair
  // A repeated word needs two positions of its own.
  std::vector<Xapian::termpos> one{8};
  m = MatchProximity(P{one, {9}, one});
  EXPECT_FALSE(m.phrase);
  EXPECT_FALSE(m.near);
  EXPECT_EQ(m.pairs, (std::vector<bool>{true, false}));
  std::vector<Xapian::termpos> two{8, 10};
  m = MatchProximity(P{two, {9}, two});
  EXPECT_TRUE(m.phrase);
  // A missing word: nothing that needs it.
  m = MatchProximity(P{{1}, {}, {3}});
  EXPECT_FALSE(m.near);
  EXPECT_EQ(m.pairs, (std::vector<bool>{false, false}));
  // The same with the middle word's positions not known: every part the
  // known words allow holds.
  const std::vector<bool> ends{true, false, true};
  m = MatchProximity(P{{1}, {}, {3}}, &ends);
  EXPECT_TRUE(m.phrase);
  EXPECT_TRUE(m.near);
  EXPECT_EQ(m.pairs, (std::vector<bool>{true, true}));
  m = MatchProximity(P{{1}, {}, {4}}, &ends);  // apart: not a phrase
  EXPECT_FALSE(m.phrase);
  EXPECT_TRUE(m.near);
  EXPECT_EQ(m.pairs, (std::vector<bool>{true, true}));
  m = MatchProximity(P{{1}, {}, {7}}, &ends);  // span 6: not near
  EXPECT_FALSE(m.near);
  // The phrase anchors on the first known word.
  const std::vector<bool> last_two{false, true, true};
  m = MatchProximity(P{{}, {5}, {6}}, &last_two);
  EXPECT_TRUE(m.phrase);
  m = MatchProximity(P{{}, {5}, {7}}, &last_two);
  EXPECT_FALSE(m.phrase);
  EXPECT_EQ(m.pairs, (std::vector<bool>{true, false}));
  // A repeated word ("a b a", b not known): each copy needs its own
  // position, two apart for the phrase.
  m = MatchProximity(P{{1, 3}, {}, {1, 3}}, &ends);
  EXPECT_TRUE(m.phrase);
  m = MatchProximity(P{{1, 4}, {}, {1, 4}}, &ends);
  EXPECT_FALSE(m.phrase);
  EXPECT_TRUE(m.near);  // 1 and 4: 3 apart, inside a window of 6
  m = MatchProximity(P{{1}, {}, {1}}, &ends);  // one position for two
  EXPECT_FALSE(m.phrase);
  EXPECT_FALSE(m.near);
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

// A reply's context lists its thread's root, then its nearest ancestors
// (at most five, root-to-parent order), and counts the ones left out: the
// chain walked here through the store, parent by parent.
TEST(SearcherContextTest, ContextShowsTheRootAndTheNearestAncestors) {
  TempDir tmp;
  {
    // Months with replies seven and eight deep.
    auto ix = Indexer::Open(tmp.Sub("db"), {});
    ASSERT_OK(ix);
    IndexStats st;
    const std::string dir = std::string(TS_CORPUS) + "/mailing-lists/r-help/";
    ASSERT_OK((*ix)->IndexPaths(
        {dir + "2003-May.txt.gz", dir + "2003-November.txt.gz"}, &st));
  }
  auto searcher = Searcher::Open(tmp.Sub("db"), {});
  ASSERT_OK(searcher);
  StoreOptions so;
  so.read_only = true;
  auto store = ThreadStore::Open(tmp.Sub("db") + "/store", so);
  ASSERT_OK(store);
  SearchRequest req;
  req.query = "the";
  req.limit = 1000;
  Result<SearchResult> r = (*searcher)->Search(req);
  ASSERT_OK(r);
  int replies = 0, deep = 0;
  for (const Hit& h : r->hits) {
    SCOPED_TRACE(h.item.item.id);
    std::vector<std::string> chain;  // nearest first, the root last
    for (uint32_t cur = h.item.is_root() ? 0 : h.item.parent_num; cur != 0;) {
      Result<StoredItem> a = (*store)->Get(cur);
      ASSERT_OK(a);
      chain.push_back(a->item.id);
      cur = a->is_root() ? 0 : a->parent_num;
    }
    const ThreadContext& c = h.context;
    if (chain.empty()) {
      EXPECT_TRUE(c.ancestors.empty());
      continue;
    }
    ++replies;
    if (chain.size() > 6) ++deep;
    const size_t keep = std::min<size_t>(chain.size() - 1, 5);
    std::vector<std::string> want{chain.back()};
    for (size_t i = keep; i-- > 0;) want.push_back(chain[i]);
    std::vector<std::string> got;
    for (const ContextItem& a : c.ancestors) got.push_back(a.id);
    EXPECT_EQ(got, want);
    EXPECT_EQ(c.elided, chain.size() - 1 - keep);
  }
  EXPECT_GT(replies, 100);
  EXPECT_GE(deep, 4);  // chains longer than the context shows
}

// The last of the 200 best hits for "lme" at least `min_depth` below its
// thread's root, if any.
std::optional<Hit> DeepLmeHit(Searcher* s, uint32_t min_depth) {
  SearchRequest req;
  req.query = "lme";
  req.limit = 200;
  Result<SearchResult> r = s->Search(req);
  EXPECT_OK(r);
  std::optional<Hit> deep;
  if (!r.ok()) return deep;
  for (const Hit& h : r->hits) {
    if (h.item.depth >= min_depth) deep = h;
  }
  return deep;
}

TEST_F(SearcherTest, ThreadFilterAndThreadView) {
  // Take a deep reply, then ask for its thread.
  std::optional<Hit> deep = DeepLmeHit(searcher_, 2);
  ASSERT_TRUE(deep.has_value());
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

// The best window as MakeSnippet found it before its search became one
// pass: each window scored from scratch (the matches times the words of a
// window), the reference the one-pass search must agree with.
snippet_internal::Window ReferenceWindow(
    const std::vector<snippet_internal::Token>& tokens, size_t max_bytes) {
  snippet_internal::Window best;
  double best_score = -1;
  std::vector<int> seen;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].match < 0) continue;
    best.any = true;
    seen.clear();
    double score = 0;
    size_t j = i;
    for (; j < tokens.size(); ++j) {
      if (tokens[j].end - tokens[i].begin > max_bytes) break;
      if (tokens[j].match >= 0) {
        if (std::find(seen.begin(), seen.end(), tokens[j].match) ==
            seen.end()) {
          seen.push_back(tokens[j].match);
          score += tokens[j].weight;
        }
        score += 1e-3;
      }
    }
    if (score > best_score + 1e-9) {
      best_score = score;
      best.first = i;
      best.last = j;
    }
  }
  return best;
}

// The real message the snippet tests read.
std::string SnippetMessage() {
  return ReadFileOrDie(std::string(TS_TEST_DATA) +
                       "/mail/r-help-2004-April-524-533.txt");
}

// Where each word of `text` is, as NextWord and WordEnd find them: [begin,
// end) byte spans.
std::vector<std::pair<size_t, size_t>> WordSpans(std::string_view text) {
  std::vector<std::pair<size_t, size_t>> spans;
  for (size_t i = NextWord(text, 0); i < text.size();
       i = NextWord(text, spans.back().second)) {
    spans.emplace_back(i, WordEnd(text, i));
  }
  return spans;
}

// The one-pass window search picks the window the quadratic one did, for
// a real message queried by sets of its own words of every size (common
// words, so windows hold many matches), weighed apart and alike, at
// several lengths, and for texts with a word longer than the length.
TEST(SnippetTest, OnePassWindowAgreesWithTheReference) {
  const Xapian::Stem stem("english");
  const std::string mail = SnippetMessage();
  std::vector<std::string> words;
  for (const auto& [b, e] : WordSpans(mail)) {
    words.push_back(WordForm(mail.substr(b, e - b)));
  }
  ASSERT_GT(words.size(), 300u);
  std::mt19937 rng(20261126);
  const std::string long_word(300, 'x');
  int compared = 0, inside = 0;
  for (int round = 0; round < 300; ++round) {
    SnippetTerms terms(stem);
    const int n = 1 + static_cast<int>(rng() % 6);
    for (int k = 0; k < n; ++k) {
      terms.AddWord(words[rng() % words.size()], 0.5 + (rng() % 4) * 0.25);
    }
    if (round % 7 == 0) terms.AddPrefix("th", 0.3);
    const size_t start = rng() % (mail.size() / 2);
    std::string text = mail.substr(start, 200 + rng() % 4000);
    if (round % 11 == 0) text.insert(text.size() / 2, " " + long_word + " ");
    const auto tokens = snippet_internal::Tokenize(text, terms);
    for (size_t max_bytes : {40, 120, 200, 260}) {
      const snippet_internal::Window got =
          snippet_internal::BestWindow(tokens, terms.size(), max_bytes);
      const snippet_internal::Window want = ReferenceWindow(tokens, max_bytes);
      EXPECT_EQ(got.first, want.first) << "round " << round << " " << max_bytes;
      EXPECT_EQ(got.last, want.last) << "round " << round << " " << max_bytes;
      EXPECT_EQ(got.any, want.any);
      ++compared;
      // A window past the text's first match.
      if (got.any) {
        size_t first_match = 0;
        while (tokens[first_match].match < 0) ++first_match;
        inside += got.first > first_match;
      }
    }
  }
  EXPECT_EQ(compared, 1200);
  EXPECT_GT(inside, 200);
}

// MayMatch, the test a word of the text passes before Match, never turns
// away a word Match takes: every word of a real message, queried by a
// share of its own words in other cases, stems, prefixes (of one byte
// too), words of one byte and non-ASCII (the Kelvin sign lower-cases to
// an ASCII 'k').
TEST(SnippetTermsTest, MayMatchKeepsEveryMatch) {
  const Xapian::Stem stem("english");
  const std::string text =
      SnippetMessage() +
      " \xC3\x89lan \xC3\xA9lan \xCE\xA3\xCE\xAF\xCF\x83\xCF\x85\xCF\x86"
      "\xCE\xBF\xCF\x82 REGRESSIONS Regressed naive \xE2\x84\xAA" "elvin "
      "x\xE2\x84\xAA Q q2 Zebra z";
  std::vector<std::string> words;
  for (const auto& [b, e] : WordSpans(text)) {
    words.emplace_back(text.substr(b, e - b));
  }
  ASSERT_GT(words.size(), 300u);
  SnippetTerms terms(stem);
  for (size_t k = 0; k < words.size(); k += 17) {
    terms.AddWord(WordForm(words[k]), 1.0);
  }
  terms.AddWord("\xC3\xA9lan", 1.0);  // matches "\xC3\x89lan" too
  terms.AddWord(WordForm("\xCE\xA3\xCE\xAF\xCF\x83\xCF\x85\xCF\x86\xCE\xBF\xCF\x82"),
                1.0);
  terms.AddWord("regression", 1.0);  // by its stem: "REGRESSIONS"
  terms.AddPrefix("naiv", 1.0);
  terms.AddWord("kelvin", 1.0);
  terms.AddWord("xk", 1.0);
  terms.AddWord("q", 1.0);
  terms.AddPrefix("z", 1.0);
  size_t matched = 0, turned_away = 0;
  for (const std::string& w : words) {
    double weight = 0;
    const bool may = terms.MayMatch(w);
    if (terms.Match(WordForm(w), &weight) >= 0) {
      ++matched;
      EXPECT_TRUE(may) << w;
    }
    if (!may) ++turned_away;
  }
  EXPECT_GT(matched, words.size() / 20);
  EXPECT_GT(turned_away, 0u);
  double weight = 0;
  EXPECT_GE(terms.Match(WordForm("\xC3\x89lan"), &weight), 0);
  EXPECT_TRUE(terms.MayMatch("\xC3\x89lan"));
  EXPECT_GE(terms.Match(WordForm("REGRESSIONS"), &weight), 0);
  EXPECT_TRUE(terms.MayMatch("REGRESSIONS"));
  for (const char* w : {"\xE2\x84\xAA" "elvin", "x\xE2\x84\xAA", "Q", "Zebra", "z"}) {
    EXPECT_GE(terms.Match(WordForm(w), &weight), 0) << w;
    EXPECT_TRUE(terms.MayMatch(w)) << w;
  }
  // Turned away by the second byte: "xk" is asked, no word starting "xq".
  EXPECT_FALSE(terms.MayMatch("Xqj"));
}

// Tokenize's own word loop finds the words NextWord and WordEnd find, and
// each word's match is Match's of its WordForm: a real message with
// non-ASCII words, ill-formed UTF-8 and punctuation between words.
// Match remembers its answers; a word added later still matches.
TEST(SnippetTermsTest, TokenizeSplitsAsNextWordAndWordEnd) {
  const Xapian::Stem stem("english");
  const std::string text =
      SnippetMessage() +
      " \xC3\x89lan,\xC3\xA9LAN \xCE\xA3\xCE\xAF\xCF\x83\xCF\x85\xCF\x86"
      "\xCE\xBF\xCF\x82\xE2\x80\x94x \xFF\xFE" "bad\xC3 e\xCC\x81t\xC3\xA9 "
      "Regressions--regressed_naive 3.14 data.frame(x=1)";
  SnippetTerms terms(stem);
  terms.AddWord("regression", 1.0);
  terms.AddWord("\xC3\xA9lan", 0.5);
  terms.AddWord("data", 0.25);
  terms.AddPrefix("naiv", 0.75);
  const auto tokens = snippet_internal::Tokenize(text, terms);
  const auto spans = WordSpans(text);
  ASSERT_EQ(tokens.size(), spans.size());
  EXPECT_GT(spans.size(), 300u);
  size_t matched = 0;
  for (size_t k = 0; k < spans.size(); ++k) {
    const auto [i, j] = spans[k];
    EXPECT_EQ(tokens[k].begin, i);
    EXPECT_EQ(tokens[k].end, j);
    double weight = 0;
    const std::string_view word = std::string_view(text).substr(i, j - i);
    const int want =
        terms.MayMatch(word) ? terms.Match(WordForm(word), &weight) : -1;
    EXPECT_EQ(tokens[k].match, want) << text.substr(i, j - i);
    if (want >= 0) {
      EXPECT_EQ(tokens[k].weight, weight);
      ++matched;
    }
  }
  EXPECT_GE(matched, 4u);  // Regressions, regressed, Élan, éLAN, data...
  // Remembered answers: the same again, and a word added afterwards is
  // matched from then on.
  double weight = 0;
  EXPECT_EQ(terms.Match("regressions", &weight), 0);
  EXPECT_EQ(weight, 1.0);
  EXPECT_EQ(terms.Match("regressions", &weight), 0);
  EXPECT_EQ(terms.Match("frame", &weight), -1);
  terms.AddWord("frames", 2.0);
  EXPECT_EQ(terms.Match("frame", &weight), 4);
  EXPECT_EQ(weight, 2.0);
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

// An empty range selects nothing, alone or beside other filters: Xapian
// makes it the empty query, which used to drop every filter.
TEST_F(SearcherTest, EmptyRangesMatchNothing) {
  SearchRequest req;
  req.after = 1047000000;
  req.before = 1046000000;
  EXPECT_EQ(Run(req).total, 0u);
  req.query = "lme";
  EXPECT_EQ(Run(req).total, 0u);
  req.authors = {"ripley@stats.ox.ac.uk"};
  EXPECT_EQ(Run(req).total, 0u);
  SearchRequest pts;
  pts.points_min = 10;
  pts.points_max = 5;
  EXPECT_EQ(Run(pts).total, 0u);
  // A range of one second still matches what it holds.
  SearchRequest one;
  one.query = "lme";
  SearchResult any = Run(one);
  ASSERT_FALSE(any.hits.empty());
  one.after = any.hits[0].item.item.time;
  one.before = *one.after + 1;
  EXPECT_GE(Run(one).total, 1u);
}

// A name asked in another case is shown as the items spell it.
TEST_F(SearcherTest, UserNameIsTheStoredSpelling) {
  Result<UserSummary> u = searcher_->User("RIPLEY@Stats.Ox.Ac.Uk");
  ASSERT_OK(u);
  EXPECT_EQ(u->name, "ripley@stats.ox.ac.uk");
  EXPECT_GT(u->items, 0u);
}

// ThreadBelow draws the tree to levels below the asked item, not the
// root: the asked item is in it however deep it is.
TEST_F(SearcherTest, ThreadBelowAlwaysHoldsTheAskedItem) {
  std::optional<Hit> deep = DeepLmeHit(searcher_, 3);
  ASSERT_TRUE(deep.has_value());
  Result<ThreadView> v = searcher_->ThreadBelow(deep->item.item.id, 0);
  ASSERT_OK(v);
  std::function<const ThreadNode*(const ThreadNode&)> find =
      [&](const ThreadNode& n) -> const ThreadNode* {
    if (n.item.item.id == deep->item.item.id) return &n;
    for (const ThreadNode& k : n.children) {
      if (const ThreadNode* f = find(k)) return f;
    }
    return nullptr;
  };
  const ThreadNode* asked = find(v->root);
  ASSERT_NE(asked, nullptr);
  EXPECT_TRUE(asked->children.empty());
  EXPECT_EQ(asked->truncated, deep->item.reply_count > 0);
  EXPECT_TRUE(searcher_->ThreadBelow("no-such-id", 1).status().IsNotFound());
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
    std::string own =
        SplitMailBody(s.item.text, /*is_reply=*/!s.item.parent.empty()).own;
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
    // Lower case: a pasted "NOT" or "OR" is a word here, not an operator.
    req.query = Lower(q);
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

// Context excerpts split only the start of a long message
// (schema::BodyExcerpt): they must read exactly as an excerpt of the whole
// indexed body, for every stored item and several lengths.
TEST_F(SearcherTest, BodyExcerptsReadAsExcerptsOfTheWholeBody) {
  size_t items = 0, long_mail = 0;
  ASSERT_OK(searcher_->store().Scan(
      std::string(1, keys::kItem), [&](std::string_view, std::string_view v) {
        StoredItem s;
        EXPECT_OK(DecodeStoredItem(v, &s));
        if (s.placeholder) return true;
        ++items;
        const std::string body = schema::IndexedBody(s.item);
        for (size_t bytes : {12, 140, 400}) {
          EXPECT_EQ(schema::BodyExcerpt(s.item, bytes),
                    OneLineExcerpt(body.empty() ? s.item.title : body, bytes))
              << s.item.id << " at " << bytes << " bytes";
        }
        if (s.item.source == Source::kMail &&
            SplitMailBody(s.item.text, !s.item.parent.empty(), 2 * 140 + 256)
                .stopped) {
          ++long_mail;
        }
        return true;
      }));
  EXPECT_GT(items, 1000u);
  // The short cut is taken, for many messages.
  EXPECT_GT(long_mail, 100u);
}

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

// ---------------------------------------------------------------------------
// The query language over the fixture index, with counts computed
// independently from the raw corpus files.

#include <zlib.h>

#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

namespace threadsearch {
namespace {

// One HN item of the hiring-thread file, as the raw JSON has it.
struct RawHn {
  std::string id, by, text;
  int64_t time = 0;
  bool story = false;
};

// The story and its visible (not deleted, not dead) comments.
std::vector<RawHn> RawHiring(size_t* hidden = nullptr) {
  nlohmann::json j = nlohmann::json::parse(ReadFileOrDie(kHiring));
  std::vector<RawHn> out;
  auto add = [&](const nlohmann::json& x, bool story) {
    if (x.value("deleted", false) || x.value("dead", false)) {
      if (hidden) ++*hidden;
      return;
    }
    RawHn r;
    r.id = std::to_string(x["id"].get<int64_t>());
    r.by = x.value("by", "");
    r.text = x.value("text", "");
    r.time = x.value("time", int64_t{0});
    r.story = story;
    out.push_back(std::move(r));
  };
  if (hidden) *hidden = 0;
  add(j["post"], true);
  for (const nlohmann::json& c : j["comments"]) add(c, false);
  return out;
}

// Authors of the raw mbox messages (pipermail "From x at y  date" lines),
// one per distinct Message-ID.
std::map<std::string, uint64_t> RawMailAuthors(
    const std::vector<std::string>& files) {
  static const std::regex sep(
      R"(^From (\S+) at (\S+)  [A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d \d{4}$)");
  std::map<std::string, std::string> by_id;  // Message-ID -> author
  for (const std::string& f : files) {
    gzFile gz = gzopen(f.c_str(), "rb");
    EXPECT_NE(gz, nullptr) << f;
    if (!gz) continue;
    char buf[1 << 16];
    std::string author;
    bool header = false;
    while (gzgets(gz, buf, sizeof buf)) {
      std::string line(buf);
      while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
        line.pop_back();
      }
      std::smatch m;
      if (line.starts_with("From ") && std::regex_match(line, m, sep)) {
        author = Lower(m[1].str() + "@" + m[2].str());
        header = true;
      } else if (header && line.empty()) {
        header = false;
      } else if (header && line.starts_with("Message-ID: ")) {
        by_id[line.substr(12)] = author;
      }
    }
    gzclose(gz);
  }
  std::map<std::string, uint64_t> counts;
  for (const auto& [id, a] : by_id) counts[a]++;
  return counts;
}

// Raw HN items whose HTML text has `word` as a whole word (any case).
std::set<std::string> RawHnWithWord(const std::vector<RawHn>& items,
                                    const std::string& word) {
  std::regex re("\\b" + word + "\\b", std::regex::icase);
  std::set<std::string> ids;
  for (const RawHn& r : items) {
    if (std::regex_search(r.text, re)) ids.insert(r.id);
  }
  return ids;
}

int64_t DayStart(int64_t t) { return t - ((t % 86400) + 86400) % 86400; }

std::string Ymd(int64_t t, const char* fmt) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm;
  gmtime_r(&tt, &tm);
  char buf[32];
  strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}

class QueryLanguageTest : public SearcherTest {
 protected:
  uint64_t Total(const std::string& q) {
    SearchRequest req;
    req.query = q;
    req.limit = 1;
    req.context = false;
    Result<SearchResult> r = searcher_->Search(req);
    EXPECT_TRUE(r.ok()) << q << ": " << r.status().ToString();
    return r.ok() ? r->total : 0;
  }
  std::set<std::string> Ids(const std::string& q) {
    std::set<std::string> ids;
    SearchRequest req;
    req.query = q;
    req.limit = 1000;
    req.context = false;
    for (req.page = 0;; ++req.page) {
      SearchResult r = Run(req);
      for (const Hit& h : r.hits) ids.insert(h.item.item.id);
      if (r.hits.size() < req.limit) break;
    }
    return ids;
  }
};

TEST_F(QueryLanguageTest, HnFieldsMatchRawJson) {
  size_t hidden = 0;
  std::vector<RawHn> raw = RawHiring(&hidden);
  const uint64_t visible = raw.size();  // story + visible comments
  ASSERT_EQ(visible, 383u);
  EXPECT_EQ(Total("source:hn"), visible);
  EXPECT_EQ(Total("type:comment"), visible - 1);
  EXPECT_EQ(Total("type:story"), 1u);
  EXPECT_EQ(Total("replies_to:whoishiring"), visible - 1);
  EXPECT_EQ(Total("to:WhoIsHiring"), visible - 1);
  EXPECT_EQ(Total("author:whoishiring"), 1u);
  EXPECT_EQ(Total("by:whoishiring type:story"), 1u);
  EXPECT_EQ(Total("thread:40846428"), visible);
  EXPECT_EQ(Total("thread:" + raw[5].id), visible);  // any item names it
  EXPECT_EQ(Total("under:40846428"), visible);
  EXPECT_EQ(Total("under:" + raw[5].id), 1u);  // its kids are not in the file
  EXPECT_EQ(Total("id:" + raw[5].id), 1u);
  EXPECT_EQ(Total("id:hn:" + raw[5].id), 1u);
  EXPECT_EQ(Total("thread:999999999999"), 0u);
  // Every comment replies to the story; the story has them all (deleted
  // ones included) as direct replies, the comments none in this file.
  const std::string all_replies = std::to_string(visible - 1 + hidden);
  EXPECT_EQ(Total("replies:" + all_replies), 1u);
  EXPECT_EQ(Total("replies:>=5 source:hn"), 1u);
  EXPECT_EQ(Total("replies:0 source:hn"), visible - 1);
  EXPECT_EQ(Total("replies:<1 source:hn"), visible - 1);
  EXPECT_EQ(Total("-replies:0 source:hn"), 1u);
  EXPECT_EQ(Total("points:>=1 source:hn"), 1u);
  // Comments carry no score in the raw JSON: no points, so no points range
  // matches them.
  EXPECT_EQ(Total("points:0 source:hn"), 0u);
  EXPECT_EQ(Total("points:>=0 source:hn"), 1u);
  // Dates: the busiest UTC day of the thread.
  std::map<int64_t, uint64_t> per_day;
  for (const RawHn& r : raw) per_day[DayStart(r.time)]++;
  auto busiest = std::max_element(
      per_day.begin(), per_day.end(),
      [](const auto& a, const auto& b) { return a.second < b.second; });
  const int64_t day = busiest->first;
  const std::string d = Ymd(day, "%Y-%m-%d");
  uint64_t before = 0, after = 0;
  for (const RawHn& r : raw) (r.time < day ? before : after)++;
  EXPECT_EQ(Total("date:" + d + " source:hn"), busiest->second);
  EXPECT_EQ(Total("source:hn after:" + d), after);
  EXPECT_EQ(Total("source:hn before:" + d), before);
  EXPECT_EQ(Total("source:hn date:.." + d), before + busiest->second);
  EXPECT_EQ(Total("source:hn date:" + d + ".."), after);
  EXPECT_EQ(Total("source:hn date:>" + d), after - busiest->second);
  EXPECT_EQ(Total("source:hn year:" + Ymd(day, "%Y")), visible);
  EXPECT_EQ(Total("source:hn date:" + Ymd(day, "%Y-%m")),
            std::count_if(raw.begin(), raw.end(), [&](const RawHn& r) {
              return Ymd(r.time, "%Y-%m") == Ymd(day, "%Y-%m");
            }));
}

TEST_F(QueryLanguageTest, BooleanOperatorsMatchRawSets) {
  std::vector<RawHn> raw = RawHiring();
  std::set<std::string> py = RawHnWithWord(raw, "python");
  std::set<std::string> rust = RawHnWithWord(raw, "rust");
  std::set<std::string> go = RawHnWithWord(raw, "golang");
  ASSERT_GT(py.size(), 50u);
  ASSERT_GT(rust.size(), 10u);
  auto both = [](const std::set<std::string>& a, const std::set<std::string>& b) {
    std::set<std::string> o;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(),
                          std::inserter(o, o.end()));
    return o;
  };
  auto either = [](const std::set<std::string>& a, const std::set<std::string>& b) {
    std::set<std::string> o = a;
    o.insert(b.begin(), b.end());
    return o;
  };
  auto minus = [](const std::set<std::string>& a, const std::set<std::string>& b) {
    std::set<std::string> o;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(),
                        std::inserter(o, o.end()));
    return o;
  };
  const std::string hn = " source:hn";
  // Quoted: exact words, so a whole-word regex over the raw text agrees.
  EXPECT_EQ(Ids("\"python\"" + hn), py);
  EXPECT_EQ(Ids("\"Python\" \"rust\"" + hn), both(py, rust));
  EXPECT_EQ(Ids("\"python\" AND \"rust\"" + hn), both(py, rust));
  EXPECT_EQ(Ids("\"python\" OR \"rust\"" + hn), either(py, rust));
  EXPECT_EQ(Ids("\"python\" || \"rust\"" + hn), either(py, rust));
  EXPECT_EQ(Ids("\"python\" -\"rust\"" + hn), minus(py, rust));
  EXPECT_EQ(Ids("\"python\" NOT \"rust\"" + hn), minus(py, rust));
  EXPECT_EQ(Ids("+\"python\" +\"rust\"" + hn), both(py, rust));
  EXPECT_EQ(Ids("(\"python\" OR \"rust\") -\"golang\"" + hn),
            minus(either(py, rust), go));
  EXPECT_EQ(Ids("-(\"python\" OR \"rust\")" + hn),
            minus(minus(Ids("source:hn"), py), rust));
  EXPECT_EQ(Ids("NOT \"python\"" + hn), minus(Ids("source:hn"), py));
  // Unquoted words also match stems: a superset.
  std::set<std::string> stemmed = Ids("python" + hn);
  EXPECT_TRUE(std::includes(stemmed.begin(), stemmed.end(), py.begin(),
                            py.end()));
  // prefix*: every word starting so.
  std::regex pyth("\\bpyth[a-z0-9]*", std::regex::icase);
  std::set<std::string> raw_pyth;
  for (const RawHn& r : raw) {
    if (std::regex_search(r.text, pyth)) raw_pyth.insert(r.id);
  }
  EXPECT_EQ(Ids("pyth*" + hn), raw_pyth);
}

TEST_F(QueryLanguageTest, MailFieldsMatchRawMbox) {
  std::map<std::string, uint64_t> raw = RawMailAuthors({kMarch, kApril});
  std::vector<std::pair<std::string, uint64_t>> top(raw.begin(), raw.end());
  std::sort(top.begin(), top.end(),
            [](const auto& a, const auto& b) { return a.second > b.second; });
  ASSERT_GE(top.size(), 3u);
  const uint64_t mail = Total("source:mail");
  for (size_t i = 0; i < 3; ++i) {
    const auto& [author, n] = top[i];
    SCOPED_TRACE(author);
    EXPECT_EQ(Total("author:" + author), n);
    EXPECT_EQ(Total("from:" + author), n);
    EXPECT_EQ(Total("by:\"" + author + "\""), n);
    EXPECT_EQ(Total("author:" + author + " type:message"), n);
    EXPECT_EQ(Total("source:mail -author:" + author), mail - n);
    EXPECT_EQ(Total("-author:" + author + " -source:hn"), mail - n);
  }
  EXPECT_EQ(Total("author:" + top[0].first + " OR author:" + top[1].first),
            top[0].second + top[1].second);
  EXPECT_EQ(Total("author:(" + top[0].first + " OR " + top[1].first + ")"),
            top[0].second + top[1].second);
  // Every message is in the list, in 2003, and in March or April.
  EXPECT_EQ(Total("type:message"), mail);
  EXPECT_EQ(Total("list:R-help"), mail);
  EXPECT_EQ(Total("subreddit:r-help"), mail);
  EXPECT_EQ(Total("year:2003"), mail);
  EXPECT_EQ(Total("-source:hn"), mail);
  EXPECT_EQ(Total("date:2003-03") + Total("date:2003-04"), mail);
  EXPECT_EQ(Total("date:2003-03..2003-04"), mail);
  EXPECT_EQ(Total("after:2003-04 source:mail"), Total("date:2003-04"));
  EXPECT_EQ(Total("before:2003-04 source:mail"), Total("date:2003-03"));
  EXPECT_EQ(Total("year:2003..2003"), mail);
}

TEST_F(QueryLanguageTest, TitleSearchesTheSubject) {
  // Raw subjects are not needed: a title: match must show the word in the
  // item's title, and every item whose title has it is found.
  std::set<std::string> ids = Ids("title:\"lattice\"");
  ASSERT_FALSE(ids.empty());
  SearchRequest req;
  req.query = "subject:\"lattice\"";
  req.limit = 1000;
  for (const Hit& h : Run(req).hits) {
    EXPECT_NE(Lower(h.item.item.title).find("lattice"), std::string::npos);
  }
  EXPECT_EQ(Ids("subject:\"lattice\""), ids);
  EXPECT_GE(Ids("title:lattic*").size(), ids.size());
}

TEST_F(QueryLanguageTest, FiltersAloneListNewestFirst) {
  SearchRequest req;
  req.query = "author:ripley@stats.ox.ac.uk";
  req.limit = 100;
  SearchResult r = Run(req);
  EXPECT_EQ(r.sort, SortOrder::kDateDesc);
  for (size_t i = 1; i < r.hits.size(); ++i) {
    EXPECT_GE(r.hits[i - 1].item.item.time, r.hits[i].item.item.time);
    EXPECT_EQ(r.hits[i].score, 0.0);
  }
  req.query = "replies_to:ripley@stats.ox.ac.uk";
  r = Run(req);
  EXPECT_EQ(r.total, *searcher_->store().CountPrefix(
                         keys::ReplyToPrefix("ripley@stats.ox.ac.uk")));
  for (size_t i = 1; i < r.hits.size(); ++i) {
    EXPECT_GE(r.hits[i - 1].item.item.time, r.hits[i].item.item.time);
  }
}

// An item the index lacks selects nothing, whatever it is combined with
// (an empty Xapian query in an AND used to read as no condition at all).
TEST_F(QueryLanguageTest, UnknownItemsSelectNothing) {
  ASSERT_GT(Total("type:comment"), 0u);
  for (const char* q : {"thread:99999999", "thread:99999999 type:comment",
                        "under:99999999 -author:x", "id:nosuch plot",
                        "type:comment (thread:99999999 OR thread:99999998)"}) {
    EXPECT_EQ(Total(q), 0u) << q;
  }
  EXPECT_GT(Total("type:comment OR thread:99999999"), 0u);
  SearchRequest req;
  req.thread = "99999999";
  req.context = false;
  EXPECT_EQ(Run(req).total, 0u);
  req.query = "plot";
  EXPECT_EQ(Run(req).total, 0u);
}

TEST_F(QueryLanguageTest, MalformedQueriesAreErrorsFromSearch) {
  for (const char* q : {"foo:bar", "(lm", "lm)", "\"lm", "date:2003-13",
                        "points:>=x", "type:article", "a OR"}) {
    SearchRequest req;
    req.query = q;
    Result<SearchResult> r = searcher_->Search(req);
    ASSERT_FALSE(r.ok()) << q;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << q;
    EXPECT_NE(r.status().message().find("offset"), std::string::npos)
        << r.status().message();
  }
  // Plain-word fallbacks still search.
  EXPECT_GT(Total("Re: lattice"), 0u);
  EXPECT_GT(Total("http://www.r-project.org"), 0u);
}

TEST_F(QueryLanguageTest, CollapseCountsThreadsExactly) {
  std::vector<RawHn> raw = RawHiring();
  SearchRequest req;
  req.query = "replies_to:whoishiring";
  req.collapse_thread = true;
  SearchResult r = Run(req);
  EXPECT_EQ(r.total, 1u);
  ASSERT_EQ(r.hits.size(), 1u);
  EXPECT_EQ(r.hits[0].thread_hits, raw.size() - 1);

  // Mail: one hit per distinct thread among the uncollapsed hits, with
  // thread_hits the number of those hits in it; pages cover each once.
  req.query = "lme OR nlme";
  req.collapse_thread = false;
  req.limit = 1000;
  SearchResult all = Run(req);
  ASSERT_EQ(all.hits.size(), all.total);
  std::map<std::string, uint32_t> per_thread;
  for (const Hit& h : all.hits) per_thread[h.thread_id]++;
  ASSERT_GT(per_thread.size(), 10u);
  req.collapse_thread = true;
  req.limit = 7;
  std::set<std::string> seen;
  for (req.page = 0;; ++req.page) {
    SearchResult c = Run(req);
    EXPECT_EQ(c.total, per_thread.size());
    if (c.hits.empty()) break;
    for (const Hit& h : c.hits) {
      EXPECT_TRUE(seen.insert(h.thread_id).second) << h.thread_id;
      EXPECT_EQ(h.thread_hits, per_thread[h.thread_id]) << h.thread_id;
    }
  }
  EXPECT_EQ(seen.size(), per_thread.size());
}

TEST_F(QueryLanguageTest, FacetsCountEveryMatch) {
  std::vector<RawHn> raw = RawHiring();
  std::map<std::string, uint64_t> authors, months;
  for (const RawHn& r : raw) {
    authors[Lower(r.by)]++;
    months[Ymd(r.time, "%Y-%m")]++;
  }
  SearchRequest req;
  req.query = "source:hn";
  req.facets = true;
  req.facet_limit = 1000;
  SearchResult r = Run(req);
  ASSERT_TRUE(r.facets.has_value());
  std::map<std::string, uint64_t> got;
  for (const CountEntry& e : r.facets->authors) got[e.key] = e.count;
  EXPECT_EQ(got, authors);
  got.clear();
  for (const CountEntry& e : r.facets->months) got[e.key] = e.count;
  EXPECT_EQ(got, months);
  ASSERT_EQ(r.facets->threads.size(), 1u);
  EXPECT_EQ(r.facets->threads[0].key, "40846428");
  EXPECT_EQ(r.facets->threads[0].count, raw.size());

  // Mail: the top authors are the raw mbox's, with its counts.
  std::map<std::string, uint64_t> mail = RawMailAuthors({kMarch, kApril});
  std::vector<CountEntry> want;
  for (const auto& [a, n] : mail) want.push_back({a, n});
  std::sort(want.begin(), want.end(), [](const CountEntry& a, const CountEntry& b) {
    return a.count != b.count ? a.count > b.count : a.key < b.key;
  });
  req.query = "source:mail";
  req.facet_limit = 5;
  r = Run(req);
  ASSERT_EQ(r.facets->authors.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(r.facets->authors[i].key, want[i].key);
    EXPECT_EQ(r.facets->authors[i].count, want[i].count);
  }
  ASSERT_EQ(r.facets->years.size(), 1u);
  EXPECT_EQ(r.facets->years[0].key, "2003");
  EXPECT_EQ(r.facets->years[0].count, r.total);
  ASSERT_EQ(r.facets->months.size(), 2u);
  EXPECT_EQ(r.facets->months[0].key, "2003-03");
  EXPECT_EQ(r.facets->months[0].count, Total("date:2003-03"));
  EXPECT_EQ(r.facets->months[1].count, Total("date:2003-04"));
  // The top thread's count is its thread: total.
  ASSERT_FALSE(r.facets->threads.empty());
  EXPECT_EQ(r.facets->threads[0].count,
            Total("thread:\"" + r.facets->threads[0].key + "\""));

  // With words, and with collapse: facets still count items.
  req.query = "lme";
  req.collapse_thread = true;
  r = Run(req);
  uint64_t sum = 0;
  for (const CountEntry& e : r.facets->months) sum += e.count;
  EXPECT_EQ(sum, Total("lme"));
  EXPECT_FALSE(Run(SearchRequest{}).facets.has_value());
}

// The total is counted on a cheaper query than the ranked one (a stemmed
// word's stem term alone), and a one-word query's total is its term's
// frequency: both rest on the indexer giving every document with a word's
// exact form its stem too. Checked against Xapian's exhaustive count of the
// ranked query, for words, pairs of words and title words drawn from the
// index: capitals, digits, accents and all.
TEST_F(QueryLanguageTest, TotalsCountEveryMatchOfTheRankedQuery) {
  Xapian::Database db(tmp_->path() + "/xapian");
  std::vector<std::string> words;
  size_t seen = 0;
  for (auto t = db.allterms_begin(); t != db.allterms_end(); ++t) {
    const std::string term = *t;
    if (term.empty() || std::isupper(static_cast<unsigned char>(term[0])) ||
        term.find_first_of(":\"*()-+") != std::string::npos ||
        term == "and" || term == "or" || term == "not") {
      continue;
    }
    if (seen++ % 97 == 0) words.push_back(term);
  }
  ASSERT_GT(words.size(), 150u);
  std::vector<std::string> queries;
  for (size_t i = 0; i < words.size(); ++i) {
    queries.push_back(words[i]);
    if (i % 3 == 0) queries.push_back("title:" + words[i]);
    if (i + 1 < words.size() && i % 2 == 0) {
      queries.push_back(words[i] + " " + words[i + 1]);
    }
  }
  const Xapian::Stem stemmer("english");
  size_t nonzero = 0;
  for (const std::string& q : queries) {
    Result<QueryNode> tree = ParseQuery(q);
    ASSERT_OK(tree);
    QueryBuildOptions bo;
    bo.stemmer = &stemmer;
    Xapian::Enquire all(db);
    all.set_query(BuildQuery(*tree, bo));
    all.set_weighting_scheme(Xapian::BoolWeight());
    const Xapian::doccount want =
        all.get_mset(0, 0, db.get_doccount()).get_matches_estimated();
    EXPECT_EQ(Total(q), want) << q;
    if (want > 0) ++nonzero;
  }
  EXPECT_GT(nonzero, queries.size() / 2);
}

// What a count pass finds (totals, facets, threads' counts under
// collapse) is the same whether it runs on its own thread, through the
// second handles, or after the page on the one handle.
void ExpectSameCounts(Searcher* parallel, Searcher* sequential,
                      const std::vector<std::string>& queries) {
  for (const std::string& q : queries) {
    for (int mode = 0; mode < 3; ++mode) {
      SearchRequest req;
      req.query = q;
      req.limit = 15;
      req.context = false;
      req.facets = mode == 1;
      req.facet_limit = 50;
      req.collapse_thread = mode == 2;
      Result<SearchResult> a = parallel->Search(req);
      Result<SearchResult> b = sequential->Search(req);
      ASSERT_OK(a);
      ASSERT_OK(b);
      EXPECT_EQ(a->total, b->total) << q << " mode " << mode;
      ASSERT_EQ(a->hits.size(), b->hits.size()) << q << " mode " << mode;
      for (size_t i = 0; i < a->hits.size(); ++i) {
        EXPECT_EQ(a->hits[i].item.item.id, b->hits[i].item.item.id) << q;
        EXPECT_EQ(a->hits[i].thread_hits, b->hits[i].thread_hits) << q;
      }
      ASSERT_EQ(a->facets.has_value(), b->facets.has_value()) << q;
      if (!a->facets) continue;
      auto same = [&](const std::vector<CountEntry>& x,
                      const std::vector<CountEntry>& y, const char* what) {
        ASSERT_EQ(x.size(), y.size()) << q << " " << what;
        for (size_t i = 0; i < x.size(); ++i) {
          EXPECT_EQ(x[i].key, y[i].key) << q << " " << what;
          EXPECT_EQ(x[i].count, y[i].count) << q << " " << what;
        }
      };
      same(a->facets->authors, b->facets->authors, "authors");
      same(a->facets->threads, b->facets->threads, "threads");
      same(a->facets->months, b->facets->months, "months");
      same(a->facets->years, b->facets->years, "years");
    }
  }
}

TEST_F(QueryLanguageTest, ParallelCountsAreTheSequentialCounts) {
  SearcherOptions o;
  o.parallel_count = false;
  auto sequential = Searcher::Open(tmp_->path(), o);
  ASSERT_OK(sequential);
  const std::vector<std::string> queries = {
      "data frame",        "linear model residuals", "lme OR nlme",
      "plot -lattice",     "remote hiring",          "the of",
      "\"mixed effects\"", "error author:\"Prof Brian Ripley\"",
      "matrix date:2003-04", "title:question lm",    "source:mail",
      "python OR rust OR go", "-lattice"};
  const uint64_t before = searcher_->parallel_counts();
  ExpectSameCounts(searcher_, sequential->get(), queries);
  // Most of these needed a count pass, and it ran on its own thread: one
  // search at a time leaves a core free, unless there is only one.
  if (UsableCores() > 1) {
    EXPECT_GE(searcher_->parallel_counts() - before, queries.size());
  } else {
    EXPECT_EQ(searcher_->parallel_counts(), before);
  }
  EXPECT_EQ((*sequential)->parallel_counts(), 0u);
}

// While every core has a search running, a count pass stays on its own
// search's thread: under load a second thread would only take a core from
// another search.
TEST_F(QueryLanguageTest, CountPassesTakeNoThreadWhileEveryCoreSearches) {
  const unsigned cores = UsableCores();
  std::vector<std::unique_ptr<Searcher>> searchers;
  for (unsigned i = 0; i < cores; ++i) {
    auto s = Searcher::Open(tmp_->path(), {});
    ASSERT_OK(s);
    searchers.push_back(std::move(s).value());
  }
  // The threads start together and all stop when the first has run its
  // searches, so that `cores` searches overlap throughout.
  std::atomic<unsigned> ready{0};
  std::atomic<bool> stop{false}, failed{false};
  std::vector<uint64_t> totals(cores);
  std::vector<std::thread> pool;
  for (unsigned i = 0; i < cores; ++i) {
    pool.emplace_back([&, i] {
      SearchRequest req;
      req.query = "the to";  // more matches than the first pass fetches
      req.limit = 5;
      req.context = false;
      ++ready;
      while (ready.load() < cores) std::this_thread::yield();
      for (int round = 0; round < 200 && !stop.load(); ++round) {
        Result<SearchResult> r = searchers[i]->Search(req);
        if (!r.ok()) failed = true;
        if (!r.ok()) break;
        totals[i] = r->total;
      }
      stop = true;
    });
  }
  for (std::thread& t : pool) t.join();
  ASSERT_FALSE(failed.load());
  uint64_t threaded = 0;
  for (unsigned i = 0; i < cores; ++i) {
    EXPECT_EQ(totals[i], Total("the to"));
    threaded += searchers[i]->parallel_counts();
  }
  // Rounds run while the others were between searches may take a thread;
  // most overlap and take none.
  EXPECT_LT(threaded, 200u * cores / 2);
  // Alone, the same search does take one (with a core to spare).
  const uint64_t before = searchers[0]->parallel_counts();
  SearchRequest req;
  req.query = "the to";
  ASSERT_OK(searchers[0]->Search(req));
  EXPECT_EQ(searchers[0]->parallel_counts() - before, cores > 1 ? 1u : 0u);
}

TEST(ParallelCountTest, CountsFollowTheIndexAsItGrows) {
  TempDir tmp;
  IndexOptions io;
  io.compact = IndexOptions::Compaction::kNever;
  IndexInto(tmp.Sub("db"), {kMarch}, io);
  SearcherOptions po, so;
  po.reopen_interval_ms = 0;
  so.reopen_interval_ms = 0;
  so.parallel_count = false;
  auto parallel = Searcher::Open(tmp.Sub("db"), po);
  auto sequential = Searcher::Open(tmp.Sub("db"), so);
  ASSERT_OK(parallel);
  ASSERT_OK(sequential);
  const std::vector<std::string> queries = {"data frame", "lme OR nlme",
                                            "plot -lattice", "error message"};
  ExpectSameCounts(parallel->get(), sequential->get(), queries);
  SearchRequest req;
  req.query = "data frame";
  Result<SearchResult> before = (*parallel)->Search(req);
  ASSERT_OK(before);
  const uint64_t counts = (*parallel)->parallel_counts();
  const bool free_core = UsableCores() > 1;
  EXPECT_EQ(counts > 0, free_core);
  for (const std::string& more : {kApril, kHiring}) {
    // Added to the same parts (no compaction): the handles reopen.
    IndexStats st;
    IndexInto(tmp.Sub("db"), {more}, io, &st);
    EXPECT_FALSE(st.compacted);
    ASSERT_OK((*parallel)->Refresh());
    ASSERT_OK((*sequential)->Refresh());
    ExpectSameCounts(parallel->get(), sequential->get(), queries);
  }
  Result<SearchResult> after = (*parallel)->Search(req);
  ASSERT_OK(after);
  EXPECT_GT(after->total, before->total);
  // Still on their own thread: the second handles kept in step.
  if (free_core) {
    EXPECT_GT((*parallel)->parallel_counts(), counts + queries.size());
  }
}

// A Searcher remembers term frequencies (its own, and each index part's
// in the process): after the index grows, a Searcher that searched before
// weighs and cuts snippets as one opened afresh.
TEST(TermFreqsTest, ScoresFollowTheIndexAsItGrows) {
  TempDir tmp;
  IndexOptions io;
  io.compact = IndexOptions::Compaction::kNever;
  IndexInto(tmp.Sub("db"), {kMarch}, io);
  SearcherOptions so;
  so.reopen_interval_ms = 0;
  auto live = Searcher::Open(tmp.Sub("db"), so);
  ASSERT_OK(live);
  const std::vector<std::string> queries = {"data frame", "lme model",
                                            "plot lattice panel", "error"};
  auto run = [](Searcher* s, const std::string& q) {
    SearchRequest req;
    req.query = q;
    req.limit = 20;
    Result<SearchResult> r = s->Search(req);
    EXPECT_TRUE(r.ok()) << q;
    return r.ok() ? *r : SearchResult{};
  };
  std::vector<double> first_scores;
  for (const std::string& q : queries) {
    SearchResult r = run(live->get(), q);
    ASSERT_FALSE(r.hits.empty()) << q;
    first_scores.push_back(r.hits[0].score);
  }
  IndexStats st;
  IndexInto(tmp.Sub("db"), {kApril, kHiring}, io, &st);
  EXPECT_FALSE(st.compacted);  // the same parts, a new revision
  ASSERT_OK((*live)->Refresh());
  auto fresh = Searcher::Open(tmp.Sub("db"), so);
  ASSERT_OK(fresh);
  size_t changed = 0;
  for (size_t i = 0; i < queries.size(); ++i) {
    SearchResult a = run(live->get(), queries[i]);
    SearchResult b = run(fresh->get(), queries[i]);
    EXPECT_EQ(a.total, b.total) << queries[i];
    ASSERT_EQ(a.hits.size(), b.hits.size()) << queries[i];
    for (size_t k = 0; k < a.hits.size(); ++k) {
      EXPECT_EQ(a.hits[k].item.item.id, b.hits[k].item.item.id)
          << queries[i] << " #" << k;
      EXPECT_EQ(a.hits[k].score, b.hits[k].score) << queries[i] << " #" << k;
      EXPECT_EQ(a.hits[k].snippet, b.hits[k].snippet)
          << queries[i] << " #" << k;
    }
    if (!a.hits.empty() && a.hits[0].score != first_scores[i]) ++changed;
  }
  // The growth did change the statistics the scores come from.
  EXPECT_GT(changed, 0u);
}

TEST_F(QueryLanguageTest, DidYouMeanSuggestsCloseSpelling) {
  SearchRequest req;
  req.query = "regresion";
  SearchResult r = Run(req);
  EXPECT_EQ(r.total, 0u);
  EXPECT_EQ(r.did_you_mean, "regression");
  req.query = "Plottting lattice";
  r = Run(req);
  EXPECT_EQ(r.did_you_mean, "plotting lattice");
  req.query = "lattice";  // plenty of matches: no suggestion
  EXPECT_EQ(Run(req).did_you_mean, "");
  req.query = "qqqqzzzz";  // nothing close
  EXPECT_EQ(Run(req).did_you_mean, "");
  // A number is not a misspelt word: no other number is suggested (its
  // search among every term with the same first digit was the slowest
  // part of a query, seconds over remote shards).
  req.query = "20033";
  r = Run(req);
  EXPECT_EQ(r.total, 0u);
  EXPECT_EQ(r.did_you_mean, "");
  req.query = "regresion 20033";
  EXPECT_EQ(Run(req).did_you_mean, "");
}

// A fixture mbox where three messages differ only in the form of one word.
// Results with document lengths from DocLengths (searcher/bm25_source.h)
// and from Xapian's own BM25Weight are the same, hit for hit.
void ExpectSameResults(Searcher* cached, Searcher* plain,
                       const std::vector<std::string>& queries,
                       size_t* ranked_hits) {
  for (const std::string& q : queries) {
    SearchRequest req;
    req.query = q;
    req.limit = 40;
    req.context = false;
    req.highlight_fields = true;
    Result<SearchResult> a = cached->Search(req);
    Result<SearchResult> b = plain->Search(req);
    ASSERT_OK(a);
    ASSERT_OK(b);
    EXPECT_EQ(a->total, b->total) << q;
    ASSERT_EQ(a->hits.size(), b->hits.size()) << q;
    for (size_t i = 0; i < a->hits.size(); ++i) {
      const Hit& x = a->hits[i];
      const Hit& y = b->hits[i];
      EXPECT_EQ(x.item.item.id, y.item.item.id) << q << " #" << i;
      EXPECT_NEAR(x.score, y.score, 1e-9) << q << " #" << i;
      EXPECT_EQ(x.snippet, y.snippet) << q << " #" << i;
      EXPECT_EQ(x.text_highlight, y.text_highlight) << q << " #" << i;
      EXPECT_EQ(x.title_highlight, y.title_highlight) << q << " #" << i;
      EXPECT_EQ(x.matched_words, y.matched_words) << q << " #" << i;
      if (x.score > 0) ++*ranked_hits;
    }
  }
}

// On `dir`, a Searcher with the default options and one that weighs with
// Xapian's BM25Weight (no cached lengths: none of bm25_source.h).
void OpenCachedAndPlain(const std::string& dir,
                        std::unique_ptr<Searcher>* cached,
                        std::unique_ptr<Searcher>* plain) {
  SearcherOptions plain_opts;
  plain_opts.cached_lengths = false;
  auto c = Searcher::Open(dir, {});
  auto p = Searcher::Open(dir, plain_opts);
  ASSERT_OK(c);
  ASSERT_OK(p);
  *cached = std::move(c).value();
  *plain = std::move(p).value();
}

TEST_F(SearcherTest, CachedLengthsRankAsXapianBm25) {
  SearcherOptions o;
  o.cached_lengths = false;
  auto plain = Searcher::Open(tmp_->path(), o);
  ASSERT_OK(plain);
  // Words of every frequency: the most common ones and a sample of all.
  Xapian::Database db(tmp_->path() + "/xapian");
  ASSERT_GT(db.get_doccount(), 2000u);
  std::vector<std::pair<Xapian::doccount, std::string>> terms;
  for (auto t = db.allterms_begin(); t != db.allterms_end(); ++t) {
    const std::string term = *t;
    if (term.size() < 3 || !std::isalpha(static_cast<unsigned char>(term[0])) ||
        !std::islower(static_cast<unsigned char>(term[0])) || term == "and" ||
        term == "not") {
      continue;
    }
    terms.emplace_back(t.get_termfreq(), term);
  }
  std::sort(terms.rbegin(), terms.rend());
  std::vector<std::string> words;
  for (size_t i = 0; i < terms.size() && words.size() < 60; ++i) {
    if (i < 25 || i % 211 == 0) words.push_back(terms[i].second);
  }
  ASSERT_GE(words.size(), 40u);
  std::vector<std::string> queries;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    const std::string& v = words[(i * 7 + 3) % words.size()];
    queries.push_back(w);
    queries.push_back(w + " " + v);
    if (i % 3 == 0) queries.push_back("\"" + w + "\" title:" + v);
    if (i % 4 == 0) queries.push_back(w + " -" + v);
    if (i % 5 == 0) queries.push_back(w + " OR " + v);
    if (i % 6 == 0) queries.push_back(w.substr(0, 3) + "* " + v);
  }
  // A repeated term (Xapian weighs it by its query frequency), a phrase,
  // filters, and words a title holds.
  queries.insert(
      queries.end(),
      {"plot plot", "plots plotting", "\"linear model\" residuals",
       "regression author:\"Prof Brian Ripley\"", "hiring remote",
       "title:question lm", "python rust go", "glm type:message",
       "the data and the model", "that is what that does", "\"the model\" the",
       "linear model type:message", "plot data author:\"Prof Brian Ripley\"",
       "error message title:question"});
  const uint64_t loads = DocLengths::Loads();
  const uint64_t keys = DocTimes::Keys();
  // Blocks for every term, so that the sources skip blocks in this small
  // index (in a large one, only terms in 2048 documents of a part).
  const uint64_t skipped = BlockMaxima::Skipped();
  const uint64_t docs_skipped = BlockMaxima::DocsSkipped();
  BlockMaxima::SetMinPostings(1);
  // Once with every term's postings from Xapian's lists, once with those
  // of the terms in one document of 8 from memory (DenseTerms) and the
  // rest from Xapian's lists, once with every term's from arrays in memory
  // (ListTerms) but the dense ones', once from arrays alone.
  const uint64_t made = DenseTerms::Made();
  const uint64_t lists = ListTerms::Made();
  DenseTerms::SetMinPostings(UINT32_MAX);
  ListTerms::SetMinPostings(UINT32_MAX);
  size_t ranked = 0;
  ExpectSameResults(searcher_, plain->get(), queries, &ranked);
  const uint64_t docs_skipped_xapian =
      BlockMaxima::DocsSkipped() - docs_skipped;
  EXPECT_EQ(DenseTerms::Made(), made);
  EXPECT_EQ(ListTerms::Made(), lists);
  DenseTerms::SetMinPostings(1);
  size_t dense_ranked = 0;
  ExpectSameResults(searcher_, plain->get(), queries, &dense_ranked);
  ListTerms::SetMinPostings(1);
  size_t both_ranked = 0;
  ExpectSameResults(searcher_, plain->get(), queries, &both_ranked);
  DenseTerms::SetMinPostings(UINT32_MAX);
  size_t list_ranked = 0;
  const uint64_t docs_skipped_before_lists = BlockMaxima::DocsSkipped();
  ExpectSameResults(searcher_, plain->get(), queries, &list_ranked);
  const uint64_t docs_skipped_lists =
      BlockMaxima::DocsSkipped() - docs_skipped_before_lists;
  DenseTerms::SetMinPostings(2048);
  ListTerms::SetMinPostings(2048);
  BlockMaxima::SetMinPostings(2048);
  EXPECT_GT(DenseTerms::Made(), made + 20);
  EXPECT_GT(ListTerms::Made(), lists + 100);
  EXPECT_GT(BlockMaxima::Skipped(), skipped);
  // Documents too light even as short as they may be were skipped (without
  // a length read), and the results are the same; more with the lengths
  // the lists in memory hold than with the part's shortest alone.
  EXPECT_GT(docs_skipped_xapian, 0u);
  EXPECT_GT(docs_skipped_lists, docs_skipped_xapian);
  EXPECT_GT(ranked, queries.size() * 10);
  EXPECT_EQ(dense_ranked, ranked);
  EXPECT_EQ(both_ranked, ranked);
  EXPECT_EQ(list_ranked, ranked);
  // The lengths came from the cache, loaded once per part.
  EXPECT_GE(DocLengths::CachedParts(), 1u);
  EXPECT_LE(DocLengths::Loads() - loads, 4u);
  // Ties went by the times in memory.
  EXPECT_GT(DocTimes::Keys(), keys);
}

// After the commits of a live writer (no runs: each records what it
// changed, schema::ChangedDocs), each part's lengths and times are patched
// from the earlier revision's arrays, and hold what the part holds: new
// items, items whose text and time changed, deleted ones. A commit that
// recorded nothing (another writer's) has the part read whole.
TEST(DocLengthsTest, LiveCommitsPatchTheArrays) {
  TempDir tmp;
  const std::string db = tmp.Sub("db");
  IndexOptions io;
  io.compact = IndexOptions::Compaction::kNever;
  io.parts = 2;
  auto add = [&](int first, int last, int words, bool deleted,
                 const std::string& dir = "") {
    auto ix = Indexer::Open(dir.empty() ? db : dir, io);
    ASSERT_OK(ix);
    IndexStats st;
    for (int i = first; i <= last; ++i) {
      Item it;
      it.source = Source::kHN;
      it.id = std::to_string(i);
      it.author.assign(1, 'a');
      it.time = 1000 + i * 7 + words;
      for (int w = 0; w < words + i % 5; ++w) it.text += "alpha beta ";
      it.deleted = deleted;
      ASSERT_OK((*ix)->Add(std::move(it), &st));
    }
    ASSERT_OK((*ix)->Flush());
  };
  // What the part holds, read document by document.
  auto expect_arrays = [](const Xapian::Database& part, const char* when) {
    auto lengths = DocLengths::For(part);
    auto times = DocTimes::For(part);
    ASSERT_NE(lengths, nullptr) << when;
    ASSERT_NE(times, nullptr) << when;
    ASSERT_EQ(lengths->size(), part.get_lastdocid() + 1) << when;
    ASSERT_EQ(times->size(), part.get_lastdocid() + 1) << when;
    size_t deleted = 0;
    for (Xapian::docid d = 1; d <= part.get_lastdocid(); ++d) {
      uint32_t len = 0, t = DocTimes::kNone;
      try {
        Xapian::Document doc = part.get_document(d);
        len = part.get_doclength(d);
        t = static_cast<uint32_t>(
            Xapian::sortable_unserialise(doc.get_value(DocTimes::kSlot)));
      } catch (const Xapian::DocNotFoundError&) {
        ++deleted;
      }
      ASSERT_EQ((*lengths)[d], len) << when << " " << d;
      ASSERT_EQ((*times)[d], t) << when << " " << d;
    }
    if (std::string(when) != "first") {
      EXPECT_GT(deleted, 0u) << when;
    }
  };
  add(1, 400, 3, false);
  for (int p = 0; p < 2; ++p) {
    Xapian::Database part(db + "/xapian/p" + std::to_string(p));
    ASSERT_NO_FATAL_FAILURE(expect_arrays(part, "first"));
  }
  const uint64_t loads = DocLengths::Loads(), patches = DocLengths::Patches();
  const uint64_t time_patches = DocTimes::Patches();
  add(401, 450, 2, false);  // new
  add(10, 60, 9, false);    // longer, later
  add(100, 130, 0, true);   // deleted
  for (int p = 0; p < 2; ++p) {
    Xapian::Database part(db + "/xapian/p" + std::to_string(p));
    ASSERT_NO_FATAL_FAILURE(expect_arrays(part, "patched"));
  }
  EXPECT_EQ(DocLengths::Patches(), patches + 2);
  EXPECT_EQ(DocTimes::Patches(), time_patches + 2);
  EXPECT_EQ(DocLengths::Loads(), loads);
  // A commit without a record, then one with: read whole.
  {
    Xapian::WritableDatabase w(db + "/xapian/p0");
    w.set_metadata("other", "writer");
    w.commit();
  }
  const uint64_t time_loads = DocTimes::Loads();
  add(20, 25, 4, false);
  Xapian::Database part(db + "/xapian/p0");
  ASSERT_NO_FATAL_FAILURE(expect_arrays(part, "whole"));
  EXPECT_EQ(DocLengths::Loads(), loads + 1);
  EXPECT_EQ(DocTimes::Loads(), time_loads + 1);
  EXPECT_EQ(DocLengths::Patches(), patches + 2);
  // More commits than the records kept: read whole.
  for (int i = 0; i < static_cast<int>(schema::kChangedKept) + 1; ++i) {
    add(451 + 2 * i, 452 + 2 * i, 1, false);
  }
  Xapian::Database later(db + "/xapian/p0");
  ASSERT_GT(later.get_revision(), part.get_revision() + schema::kChangedKept);
  ASSERT_NO_FATAL_FAILURE(expect_arrays(later, "later"));
  EXPECT_EQ(DocLengths::Loads(), loads + 2);
  EXPECT_EQ(DocTimes::Loads(), time_loads + 2);
  // Two copies of the database (one uuid a part) changed apart, to the
  // same revision: one's arrays are no base for the other's next one.
  std::filesystem::copy(db, tmp.Sub("copy"),
                        std::filesystem::copy_options::recursive);
  add(30, 35, 1, false);
  add(30, 35, 7, false, tmp.Sub("copy"));
  Xapian::Database mine(db + "/xapian/p1");
  ASSERT_NO_FATAL_FAILURE(expect_arrays(mine, "mine"));
  add(36, 40, 2, false, tmp.Sub("copy"));
  Xapian::Database copy(tmp.Sub("copy") + "/xapian/p1");
  ASSERT_EQ(copy.get_uuid(), mine.get_uuid());
  ASSERT_EQ(copy.get_revision(), mine.get_revision() + 1);
  const uint64_t copy_loads = DocLengths::Loads();
  const uint64_t copy_time_loads = DocTimes::Loads();
  ASSERT_NO_FATAL_FAILURE(expect_arrays(copy, "copy"));
  EXPECT_EQ(DocLengths::Loads(), copy_loads + 1);
  EXPECT_EQ(DocTimes::Loads(), copy_time_loads + 1);
}

// Sorting by relevance, then time, with the times in memory (DocTimes, one
// array per part, TimeKeyMaker finding the part the match is in) orders
// ties as Xapian's sort by the value does, in an index of three parts; and
// each part's array holds every document's time value.
TEST(TimeKeysTest, TiesGoNewestFirstInEveryPart) {
  TempDir tmp;
  IndexOptions io;
  io.parts = 3;
  IndexInto(tmp.Sub("db"), {kMarch}, io);
  for (int p = 0; p < 3; ++p) {
    Xapian::Database part(tmp.Sub("db") + "/xapian/p" + std::to_string(p));
    auto times = DocTimes::For(part);
    ASSERT_NE(times, nullptr) << p;
    ASSERT_GT(part.get_doccount(), 300u);
    size_t checked = 0;
    for (auto d = part.postlist_begin(""); d != part.postlist_end(""); ++d) {
      const std::string v = part.get_document(*d).get_value(DocTimes::kSlot);
      ASSERT_LT(*d, times->size());
      ASSERT_EQ(Xapian::sortable_serialise((*times)[*d]), v) << *d;
      ++checked;
    }
    EXPECT_EQ(checked, part.get_doccount());
  }
  std::unique_ptr<Searcher> cached, plain;
  ASSERT_NO_FATAL_FAILURE(OpenCachedAndPlain(tmp.Sub("db"), &cached, &plain));
  // Short words many messages hold alike: ties among their scores.
  const std::vector<std::string> queries = {
      "thanks", "help", "r", "hi", "thank you", "everyone", "question",
      "package", "plot", "data", "error", "list", "regards", "please"};
  const uint64_t keys = DocTimes::Keys();
  size_t ranked = 0;
  ExpectSameResults(cached.get(), plain.get(), queries, &ranked);
  EXPECT_GT(DocTimes::Keys(), keys);
  // The lists held ties, ordered by time.
  size_t ties = 0;
  for (const std::string& q : queries) {
    SearchRequest req;
    req.query = q;
    req.limit = 200;
    Result<SearchResult> r = cached->Search(req);
    ASSERT_OK(r);
    for (size_t i = 1; i < r->hits.size(); ++i) {
      if (r->hits[i].score == r->hits[i - 1].score) {
        ++ties;
        EXPECT_LE(r->hits[i].item.item.time, r->hits[i - 1].item.item.time)
            << q << " #" << i;
      }
    }
  }
  EXPECT_GT(ties, 20u);
}

TEST(CachedLengthsTest, ReloadWhenTheIndexChanges) {
  TempDir tmp;
  IndexInto(tmp.Sub("db"), {kMarch});
  SearcherOptions cached_opts, plain_opts;
  cached_opts.reopen_interval_ms = 0;
  plain_opts.reopen_interval_ms = 0;
  plain_opts.cached_lengths = false;
  auto cached = Searcher::Open(tmp.Sub("db"), cached_opts);
  auto plain = Searcher::Open(tmp.Sub("db"), plain_opts);
  ASSERT_OK(cached);
  ASSERT_OK(plain);
  const std::vector<std::string> queries = {"plot", "data frame", "lm",
                                            "matrix", "error message"};
  size_t ranked = 0;
  ExpectSameResults(cached->get(), plain->get(), queries, &ranked);
  EXPECT_GT(ranked, 100u);
  SearchRequest req;
  req.query = "plot";
  Result<SearchResult> before = (*cached)->Search(req);
  ASSERT_OK(before);
  const uint64_t loads = DocLengths::Loads();
  {
    // More documents, and new lengths for the parts.
    IndexStats st;
    IndexInto(tmp.Sub("db"), {kApril}, {}, &st);
    // Compacted: new part directories, which Xapian's reopen() misses.
    EXPECT_TRUE(st.compacted);
  }
  Result<SearchResult> after_plain = (*plain)->Search(req);
  ASSERT_OK(after_plain);
  Result<SearchResult> after = (*cached)->Search(req);
  ASSERT_OK(after);
  EXPECT_GT(after->total, before->total);
  EXPECT_GT(DocLengths::Loads(), loads);
  ranked = 0;
  ExpectSameResults(cached->get(), plain->get(), queries, &ranked);
  EXPECT_GT(ranked, 100u);
}

// AllTermsQuery matches what Xapian's AND of the same terms does, with the
// common terms from memory or not, over terms of every frequency (a
// boolean filter term among them); and it comes through serialisation.
TEST_F(SearcherTest, AllTermsMatchAsXapianAnd) {
  Xapian::Database db(tmp_->path() + "/xapian");
  std::vector<std::pair<Xapian::doccount, std::string>> terms;
  for (auto t = db.allterms_begin(); t != db.allterms_end(); ++t) {
    if ((*t).size() >= 2 && std::islower(static_cast<unsigned char>((*t)[0]))) {
      terms.emplace_back(t.get_termfreq(), *t);
    }
  }
  std::sort(terms.rbegin(), terms.rend());
  ASSERT_GT(terms.size(), 1000u);
  std::vector<std::vector<std::string>> sets;
  for (size_t i = 0; i < 40; ++i) {
    const std::string& a = terms[i].second;  // common
    const std::string& b = terms[(i * 37) % 400].second;
    const std::string& c = terms[(i * 101) % terms.size()].second;  // any
    sets.push_back({a, b});
    sets.push_back({a, c});
    sets.push_back({c, a, b});
    sets.push_back({a, b, "XTmessage"});
    sets.push_back({a, a});
  }
  auto count = [&db](const Xapian::Query& q) {
    Xapian::Enquire e(db);
    e.set_query(q);
    e.set_weighting_scheme(Xapian::BoolWeight());
    Xapian::MSet m = e.get_mset(0, 50, db.get_doccount());
    std::vector<Xapian::docid> docs(m.begin(), m.end());
    return std::make_pair(m.get_matches_estimated(), docs);
  };
  const uint64_t made = DenseTerms::Made();
  const uint64_t lists = ListTerms::Made();
  size_t matched = 0;
  // Dense terms, then the others listed; listed terms alone; neither.
  for (auto [dense_min, list_min] :
       {std::pair<Xapian::doccount, Xapian::doccount>{1, 1},
        {UINT32_MAX, 1},
        {UINT32_MAX, UINT32_MAX}}) {
    DenseTerms::SetMinPostings(dense_min);
    ListTerms::SetMinPostings(list_min);
    for (const auto& set : sets) {
      const auto want =
          count(Xapian::Query(Xapian::Query::OP_AND, set.begin(), set.end()));
      const Xapian::Query all = AllTermsQuery(set);
      EXPECT_EQ(count(all), want) << set[0] << " " << set[1];
      const Xapian::Query back =
          Xapian::Query::unserialise(all.serialise(), AllTermsRegistry());
      EXPECT_EQ(count(back), want) << set[0] << " " << set[1];
      if (want.first > 0) ++matched;
    }
  }
  DenseTerms::SetMinPostings(2048);
  ListTerms::SetMinPostings(2048);
  EXPECT_GT(DenseTerms::Made(), made);
  EXPECT_GT(ListTerms::Made(), lists);
  EXPECT_GT(matched, 3 * sets.size() / 2);
  // A source that does not serialise back is an error, not a crash.
  Xapian::Registry registry = AllTermsRegistry();
  const Xapian::PostingSource* source =
      registry.get_posting_source("threadsearch.AllTerms");
  ASSERT_NE(source, nullptr);
  for (const std::string bad :
       {"3:ab", "x:ab", ":ab", "2ab", "99999999999:a"}) {
    EXPECT_THROW(delete source->unserialise(bad), Xapian::SerialisationError)
        << bad;
  }
  std::unique_ptr<Xapian::PostingSource> ok(source->unserialise("2:ab1:c"));
  EXPECT_EQ(ok->get_description(), "AllTermsSource(ab, c)");
}

// 60 messages saying "spam" (one 300 times, one 255, one 254, the rest
// one to four times), every second "ham and spam", every ninth "egg".
std::string SpamMbox() {
  std::string mbox;
  for (int i = 0; i < 60; ++i) {
    std::string body = "spam";
    // Message 7 says it 300 times, 8 says it 255 times (254 here and once
    // in "ham and spam" below), 9 254 times.
    const int n = i == 7 ? 300 : i == 8 ? 254 : i == 9 ? 254 : 1 + i % 4;
    for (int k = 1; k < n; ++k) body += " spam";
    if (i % 9 == 0) body += " egg";
    if (i % 2 == 0) body += " ham and spam";
    const std::string m = std::to_string(10 + i);
    std::string sec = std::to_string(i);
    if (sec.size() < 2) sec.insert(0, 1, '0');
    mbox += "From a" + m + " at example.org  Sat Mar  1 01:47:" + sec +
            " 2003\nFrom: a" + m +
            " at example.org (A)\nDate: Sat Mar  1 "
            "01:47:" +
            sec + " 2003\nSubject: [R] menu " + m + "\nMessage-ID: <m" + m +
            "@example.org>\n\n" + body + "\n\n";
  }
  return mbox;
}

// SpamMbox indexed in two parts in `tmp` (as `name`), and a default and a
// plain Searcher on it (OpenCachedAndPlain).
void OpenSpamIndex(const TempDir& tmp, const std::string& name,
                   std::unique_ptr<Searcher>* cached,
                   std::unique_ptr<Searcher>* plain) {
  WriteFileOrDie(tmp.Sub("2003-March.txt"), SpamMbox());
  IndexOptions io;
  io.parts = 2;
  IndexInto(tmp.Sub(name), {tmp.Sub("2003-March.txt")}, io);
  OpenCachedAndPlain(tmp.Sub(name), cached, plain);
}

// The default room for postings in memory is an eighth of what the
// process may use (the machine's memory, or a lower cgroup limit), within
// 512 MB (or a quarter, when less) and 8 GB.
TEST(DenseTermsTest, DefaultRoomIsAnEighthOfMemory) {
  const uint64_t machine = static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) *
                           static_cast<uint64_t>(sysconf(_SC_PAGE_SIZE));
  const uint64_t usable = UsableMemory();
  ASSERT_GT(usable, 0u);
  EXPECT_LE(usable, machine);
  const uint64_t least = std::min(uint64_t{512} << 20, usable / 4);
  const uint64_t most = uint64_t{8} << 30;
  const uint64_t room = DefaultPostingsMemory();
  EXPECT_GE(room, least);
  EXPECT_LE(room, most);
  EXPECT_EQ(room, std::clamp(usable / 8, least, most));
  // This machine's cgroup (if any) sets no lower limit: an eighth of it.
  if (usable == machine && machine / 8 >= least && machine / 8 <= most) {
    EXPECT_EQ(room, machine / 8);
  }
}

// Dense terms (a term's postings from a byte a document) rank as Xapian's
// lists do: words in every message and in few, wdfs of 254, 255 and more
// (255 on: held apart), in an index of two parts; and with room for only a
// few arrays, the rest read from Xapian's lists.
TEST(DenseTermsTest, RankAsXapianLists) {
  TempDir tmp;
  std::unique_ptr<Searcher> cached, plain;
  ASSERT_NO_FATAL_FAILURE(OpenSpamIndex(tmp, "db", &cached, &plain));
  const uint64_t made = DenseTerms::Made();
  DenseTerms::SetMinPostings(1);
  size_t ranked = 0;
  ExpectSameResults(cached.get(), plain.get(),
                    {"spam", "spam egg", "egg spam", "ham spam", "spam -egg",
                     "spam OR egg", "\"ham and spam\" egg", "spam spam"},
                    &ranked);
  // With room for a few arrays more: the first terms keep theirs, the
  // rest read Xapian's lists, in one part or both; the same results.
  const uint64_t refused = DenseTerms::Refused();
  const uint64_t made_before = DenseTerms::Made();
  std::unique_ptr<Searcher> cached2, plain2;
  ASSERT_NO_FATAL_FAILURE(OpenSpamIndex(tmp, "db2", &cached2, &plain2));
  DenseTerms::SetMaxBytes(DenseTerms::Bytes() + 100);
  size_t ranked2 = 0;
  ExpectSameResults(cached2.get(), plain2.get(),
                    {"spam ham", "ham egg spam", "spam egg", "menu spam"},
                    &ranked2);
  SetPostingsMemory(DefaultPostingsMemory());
  EXPECT_GT(ranked2, 40u);
  EXPECT_GT(DenseTerms::Made(), made_before);
  EXPECT_GT(DenseTerms::Refused(), refused);
  SearchRequest req;
  req.query = "spam";
  Result<SearchResult> r = cached->Search(req);
  DenseTerms::SetMinPostings(2048);
  ASSERT_OK(r);
  EXPECT_GT(ranked, 60u);
  // "spam" and "ham" in each part, at least.
  EXPECT_GE(DenseTerms::Made() - made, 4u);
  ASSERT_EQ(r->total, 60u);
  // The messages with wdfs about the byte's range lead, and so were among
  // those compared (their scores too: a wdf cut to 255 would show there).
  ASSERT_GE(r->hits.size(), 3u);
  std::set<std::string> top;
  for (size_t i = 0; i < 3; ++i) top.insert(r->hits[i].item.item.id);
  EXPECT_EQ(top, (std::set<std::string>{"m17@example.org", "m18@example.org",
                                        "m19@example.org"}));
}

// Listed terms (a term's postings from arrays: docids, wdfs, lengths) rank
// as Xapian's lists do: wdfs of 254, 255 and more, two parts, ANDs of words
// (Bm25WordsQuery) that skip blocks; and with room for only a few lists,
// the rest read from Xapian's.
TEST(ListTermsTest, RankAsXapianLists) {
  TempDir tmp;
  std::unique_ptr<Searcher> cached, plain;
  ASSERT_NO_FATAL_FAILURE(OpenSpamIndex(tmp, "db", &cached, &plain));
  const uint64_t made = ListTerms::Made();
  DenseTerms::SetMinPostings(UINT32_MAX);
  ListTerms::SetMinPostings(1);
  BlockMaxima::SetMinPostings(1);
  const std::vector<std::string> queries = {
      "spam",      "spam egg",    "egg spam",  "ham spam",
      "spam -egg", "spam OR egg", "spam spam", "\"ham and spam\" egg",
      "menu spam", "ham egg spam"};
  size_t ranked = 0;
  ExpectSameResults(cached.get(), plain.get(), queries, &ranked);
  EXPECT_GE(ListTerms::Made() - made, 4u);  // "spam" and "ham", each part
  // With room for a few lists more, in a copy: the first terms keep
  // theirs, the rest read Xapian's lists; the same results.
  std::unique_ptr<Searcher> cached2, plain2;
  ASSERT_NO_FATAL_FAILURE(OpenSpamIndex(tmp, "db2", &cached2, &plain2));
  const uint64_t refused = ListTerms::Refused();
  const uint64_t made2 = ListTerms::Made();
  ListTerms::SetMaxBytes(ListTerms::Bytes() + 300);
  size_t ranked2 = 0;
  ExpectSameResults(cached2.get(), plain2.get(), queries, &ranked2);
  const uint64_t made3 = ListTerms::Made();
  const uint64_t refused3 = ListTerms::Refused();
  // The lists no query asked for lately give up their room (here at once):
  // a third copy's words get lists in the same room, each pushing the
  // least recently used out.
  ListTerms::SetIdle(std::chrono::milliseconds(0));
  std::unique_ptr<Searcher> cached3, plain3;
  ASSERT_NO_FATAL_FAILURE(OpenSpamIndex(tmp, "db3", &cached3, &plain3));
  size_t ranked3 = 0;
  ExpectSameResults(cached3.get(), plain3.get(), queries, &ranked3);
  ListTerms::SetIdle(std::chrono::seconds(60));
  SetPostingsMemory(DefaultPostingsMemory());
  DenseTerms::SetMinPostings(2048);
  ListTerms::SetMinPostings(2048);
  BlockMaxima::SetMinPostings(2048);
  EXPECT_GT(ranked, 150u);
  EXPECT_EQ(ranked2, ranked);
  EXPECT_EQ(ranked3, ranked);
  EXPECT_GT(made3, made2);
  EXPECT_GT(refused3, refused);
  EXPECT_GE(ListTerms::Made() - made3, 4u);   // db3's own, in both parts
  EXPECT_EQ(ListTerms::Refused(), refused3);  // none refused: room made
}

// The AND of words in one source (Bm25WordsQuery) matches and weighs as
// Xapian's AND of each word's source: the same documents in the same
// order with the same weights, for pairs and triples of words of every
// frequency, with block maxima skipping (every term has them here) and
// without.
TEST_F(SearcherTest, WordsQueryWeighsAsXapianAnd) {
  Xapian::Database db(tmp_->path() + "/xapian");
  std::vector<std::pair<Xapian::doccount, std::string>> stems;
  for (auto t = db.allterms_begin("Z"); t != db.allterms_end("Z"); ++t) {
    const std::string term = *t;
    if (term.size() > 3 && std::islower(static_cast<unsigned char>(term[1]))) {
      stems.emplace_back(t.get_termfreq(), term);
    }
  }
  std::sort(stems.rbegin(), stems.rend());
  ASSERT_GT(stems.size(), 500u);
  auto word = [&](size_t i) {
    WordTerms w;
    w.stem = stems[i % stems.size()].second;
    w.exact = w.stem.substr(1);  // the exact form, when a word stems so
    w.exact_scale = 0.5;
    if (i % 3 == 0) {
      w.title = "ZS" + w.stem.substr(1);
      w.title_scale = 2;
    }
    return w;
  };
  std::vector<std::vector<WordTerms>> sets;
  for (size_t i = 0; i < 30; ++i) {
    sets.push_back({word(i), word(i * 7 + 3)});
    sets.push_back({word(i * 13 + 1), word(i), word(i * 101 + 5)});
    sets.push_back({word(i), word(i)});
  }
  Bm25Params p;
  p.unscaled = true;
  // The reference skips nothing: every skip counted is the AND's.
  Bm25Params reference = p;
  reference.unscaled = false;
  auto top = [&db](const Xapian::Query& q, Xapian::doccount n) {
    Xapian::Enquire e(db);
    e.set_query(q);  // of sources alone: they weigh
    std::vector<std::pair<Xapian::docid, double>> out;
    const Xapian::MSet m = e.get_mset(0, n);
    for (auto it = m.begin(); it != m.end(); ++it) {
      out.emplace_back(*it, it.get_weight());
    }
    return out;
  };
  const uint64_t skipped = BlockMaxima::Skipped();
  const uint64_t spans = BlockMaxima::SpansSkipped();
  const uint64_t docs_skipped = BlockMaxima::DocsSkipped();
  size_t compared = 0;
  // Block maxima for every term, or none; the postings from Xapian's
  // lists, from arrays (listed), or from bytes where dense and arrays else.
  struct Mode {
    Xapian::doccount block_min, dense_min, list_min;
  };
  for (const Mode mode : {Mode{1, UINT32_MAX, UINT32_MAX},
                          Mode{UINT32_MAX, UINT32_MAX, UINT32_MAX},
                          Mode{1, UINT32_MAX, 1}, Mode{1, 1, 1}}) {
    BlockMaxima::SetMinPostings(mode.block_min);
    DenseTerms::SetMinPostings(mode.dense_min);
    ListTerms::SetMinPostings(mode.list_min);
    for (const auto& set : sets) {
      std::vector<Xapian::Query> each;
      for (const WordTerms& w : set) {
        each.push_back(Bm25WordQuery(db, w, reference));
      }
      const Xapian::Query want_q(Xapian::Query::OP_AND, each.begin(),
                                 each.end());
      const Xapian::Query got_q = Bm25WordsQuery(db, set, p);
      EXPECT_NE(got_q.get_description().find("Bm25AndSource"),
                std::string::npos);
      for (Xapian::doccount n : {Xapian::doccount{10}, Xapian::doccount{200}}) {
        const auto want = top(want_q, n);
        const auto got = top(got_q, n);
        ASSERT_EQ(got.size(), want.size()) << set[0].stem << " " << set[1].stem;
        for (size_t i = 0; i < want.size(); ++i) {
          EXPECT_EQ(got[i].first, want[i].first) << set[0].stem << " #" << i;
          EXPECT_NEAR(got[i].second, want[i].second, 1e-9);
        }
        compared += want.size();
      }
    }
  }
  BlockMaxima::SetMinPostings(2048);
  DenseTerms::SetMinPostings(2048);
  ListTerms::SetMinPostings(2048);
  EXPECT_GT(compared, sets.size() * 40);
  EXPECT_GT(BlockMaxima::Skipped(), skipped);
  EXPECT_GT(BlockMaxima::SpansSkipped(), spans);
  EXPECT_GT(BlockMaxima::DocsSkipped(), docs_skipped);
  // A word no document has: nothing matches.
  std::vector<WordTerms> none = {word(0), word(1)};
  none[1].stem = "Zqqqnotaword";
  EXPECT_TRUE(top(Bm25WordsQuery(db, none, p), 10).empty());
}

TEST(ExactFormTest, ExactFormOutranksStemmedForm) {
  TempDir tmp;
  std::string mbox;
  const char* forms[] = {"plotting", "plotted", "plots"};
  for (int i = 0; i < 3; ++i) {
    mbox += "From a" + std::to_string(i) +
            " at example.org  Sat Mar  1 01:47:0" + std::to_string(i) +
            " 2003\nFrom: a" + std::to_string(i) +
            " at example.org (A)\nDate: Sat Mar  1 01:47:0" +
            std::to_string(i) +
            " 2003\nSubject: [R] question\nMessage-ID: <m" +
            std::to_string(i) + "@example.org>\n\nyesterday we were " +
            forms[i] + " the residuals against the fitted values\n\n";
  }
  // Two more with the same words, together and in order in m3 only.
  const char* orders[] = {
      "alpha beta gamma delta epsilon zeta eta theta iota kappa",
      "delta alpha beta epsilon zeta gamma eta theta iota kappa"};
  for (int i = 3; i < 5; ++i) {
    mbox += "From b" + std::to_string(i) +
            " at example.org  Sat Mar  1 02:47:0" + std::to_string(i) +
            " 2003\nFrom: b" + std::to_string(i) +
            " at example.org (B)\nDate: Sat Mar  1 02:47:0" +
            std::to_string(i) +
            " 2003\nSubject: [R] letters\nMessage-ID: <m" +
            std::to_string(i) + "@example.org>\n\n" + orders[i - 3] +
            "\n\n";
  }
  WriteFileOrDie(tmp.Sub("2003-March.txt"), mbox);
  IndexInto(tmp.Sub("db"), {tmp.Sub("2003-March.txt")});
  auto s = Searcher::Open(tmp.Sub("db"), {});
  ASSERT_OK(s);
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(forms[i]);
    SearchRequest req;
    req.query = forms[i];
    Result<SearchResult> r = (*s)->Search(req);
    ASSERT_OK(r);
    ASSERT_EQ(r->total, 3u);  // all share the stem "plot"
    EXPECT_EQ(r->hits[0].item.item.id,
              "m" + std::to_string(i) + "@example.org");
    EXPECT_GT(r->hits[0].score, r->hits[1].score);
    req.query = "\"" + std::string(forms[i]) + "\"";
    r = (*s)->Search(req);
    ASSERT_OK(r);
    EXPECT_EQ(r->total, 1u);  // quoted: exact form only
  }
  // A filter every document matches (Xapian 1.4.22 fails with "Unexpected
  // end of posting list" on such a term scaled to weight 0).
  for (const char* q : {"source:mail", "type:message", "year:2003",
                        "source:mail lm", "author:a0@example.org OR "
                        "source:mail", "-source:mail"}) {
    SearchRequest f;
    f.query = q;
    Result<SearchResult> fr = (*s)->Search(f);
    ASSERT_OK(fr);
    EXPECT_EQ(fr->total, std::string(q) == "-source:mail" ? 0u
                         : std::string(q) == "source:mail lm" ? 0u : 5u)
        << q;
  }
  // Words together and in order outrank the same words scattered.
  SearchRequest req;
  req.query = "gamma delta";
  Result<SearchResult> r = (*s)->Search(req);
  ASSERT_OK(r);
  ASSERT_EQ(r->total, 2u);
  EXPECT_EQ(r->hits[0].item.item.id, "m3@example.org");
  EXPECT_GT(r->hits[0].score, r->hits[1].score);
  // Close together in either order (NEAR) beats far apart in order.
  req.query = "delta gamma";
  r = (*s)->Search(req);
  ASSERT_OK(r);
  EXPECT_EQ(r->hits[0].item.item.id, "m3@example.org");
}

}  // namespace
}  // namespace threadsearch

namespace threadsearch {
namespace {

// A rare word that is in the index as typed, and matches, is not a typo,
// even when a close spelling is far more common; a word the index lacks is.
TEST(DidYouMeanTest, RareRealWordIsNotCorrected) {
  TempDir tmp;
  {
    auto ix = Indexer::Open(tmp.path(), {});
    ASSERT_OK(ix);
    IndexStats st;
    const std::string rare = "we moved everything to keras last year";
    const std::string common = "she keeps the notes in a notebook";
    for (int i = 0; i < 40; ++i) {
      Item it;
      it.source = Source::kHN;
      it.id = std::to_string(i + 1);
      it.author.assign(1, 'a');  // = "a" trips GCC 12's -Wrestrict here
      it.time = 1000 + i;
      it.text = i == 0 ? rare : common;
      ASSERT_OK((*ix)->Add(std::move(it), &st));
    }
    ASSERT_OK((*ix)->Flush());
  }
  auto s = Searcher::Open(tmp.path(), {});
  ASSERT_OK(s);
  SearchRequest req;
  req.query = "keras";
  Result<SearchResult> r = (*s)->Search(req);
  ASSERT_OK(r);
  EXPECT_EQ(r->total, 1u);
  EXPECT_EQ(r->did_you_mean, "");
  req.query = "keeeps";
  r = (*s)->Search(req);
  ASSERT_OK(r);
  EXPECT_EQ(r->total, 0u);
  EXPECT_EQ(r->did_you_mean, "keeps");
}

}  // namespace
}  // namespace threadsearch

namespace threadsearch {
namespace {

std::vector<nlohmann::json> JsonLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

std::string IdOf(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : std::to_string(v.get<int64_t>());
}

// Comment dumps without their stories (an Algolia comment search, a
// Pushshift RC file): each top-level comment starts a thread of its own,
// yet thread:, under: and parent: of the missing story (or a Reddit
// fullname of it) find the comments below it, as the dumps name them.
TEST(SearcherPlaceholderTest, ThreadOfAStoryTheDumpLacksFindsItsComments) {
  const std::string algolia =
      std::string(TS_CORPUS) + "/hn/algolia-api-responses/responses.json";
  const std::string reddit = std::string(TS_CORPUS) +
                             "/reddit/Paul-E-Pushshift-Importer/test_comments.json";
  TempDir tmp;
  IndexInto(tmp.Sub("db"), {algolia, reddit});
  auto searcher = Searcher::Open(tmp.Sub("db"), {});
  ASSERT_OK(searcher);
  // What the dumps say: story (link) -> comments, parent -> replies.
  std::map<std::string, std::set<std::string>> in_story, replies;
  std::map<std::string, std::string> story_title;
  std::set<std::string> have;
  std::ifstream in(algolia);
  const nlohmann::json recorded = nlohmann::json::parse(in);
  for (const auto& r : recorded) {
    const auto& reply = r["reply"];
    if (!reply.is_object() || !reply.contains("hits")) continue;
    for (const auto& h : reply["hits"]) {
      have.insert(h["objectID"].get<std::string>());
      if (h["story_id"].is_null() || h["parent_id"].is_null()) continue;
      in_story[IdOf(h["story_id"])].insert(h["objectID"].get<std::string>());
      if (h.contains("story_title") && h["story_title"].is_string()) {
        story_title[IdOf(h["story_id"])] = h["story_title"].get<std::string>();
      }
      replies[IdOf(h["parent_id"])].insert(h["objectID"].get<std::string>());
    }
  }
  std::map<std::string, std::set<std::string>> in_link, reddit_replies;
  std::map<std::string, uint32_t> link_items;  // deleted ones too
  for (const auto& c : JsonLines(reddit)) {
    ++link_items[c["link_id"].get<std::string>().substr(3)];
    // Deleted and removed comments stay in the tree but are no hits.
    const std::string body = c["body"].get<std::string>();
    if (body == "[deleted]" || body == "[removed]") continue;
    const std::string link = c["link_id"].get<std::string>().substr(3);
    in_link[link].insert(c["id"].get<std::string>());
    reddit_replies[c["parent_id"].get<std::string>().substr(3)].insert(
        c["id"].get<std::string>());
  }
  auto ids = [&](const std::string& q) {
    SearchRequest req;
    req.query = q;
    req.limit = 1000;
    req.context = false;
    Result<SearchResult> r = (*searcher)->Search(req);
    EXPECT_TRUE(r.ok()) << q << ": " << r.status().ToString();
    std::set<std::string> out;
    if (r.ok()) {
      for (const Hit& h : r->hits) out.insert(h.item.item.id);
    }
    return out;
  };
  int missing_stories = 0;
  for (const auto& [story, comments] : in_story) {
    if (have.count(story)) continue;  // the story is there: a real thread
    ++missing_stories;
    EXPECT_EQ(ids("thread:" + story), comments) << story;
    EXPECT_EQ(ids("under:" + story), comments) << story;
    std::set<std::string> direct;
    if (replies.count(story)) direct = replies[story];
    EXPECT_EQ(ids("parent:" + story), direct) << story;
    // The thread view of the missing story: the items below it, under the
    // title its comments carry; each hit's context has that title too.
    Result<ThreadView> v = (*searcher)->Thread(story);
    ASSERT_OK(v);
    EXPECT_EQ(v->size, comments.size()) << story;
    EXPECT_EQ(v->title, story_title[story]) << story;
    // Drawn only to the root, it still counts them all.
    Result<ThreadView> shallow = (*searcher)->Thread(story, 0);
    ASSERT_OK(shallow);
    EXPECT_EQ(shallow->size, comments.size()) << story;
    EXPECT_EQ(shallow->title, story_title[story]) << story;
    SearchRequest req;
    req.query = "thread:" + story;
    req.limit = 1000;
    Result<SearchResult> r = (*searcher)->Search(req);
    ASSERT_OK(r);
    for (const Hit& h : r->hits) {
      EXPECT_EQ(h.context.root_title, story_title[story]) << h.item.item.id;
    }
  }
  EXPECT_GE(missing_stories, 3);
  EXPECT_GE(story_title.size(), 3u);
  ASSERT_GE(in_link.size(), 20u);
  for (const auto& [link, comments] : in_link) {
    // (A bare id is tried as an HN id first.)
    EXPECT_EQ(ids("thread:reddit:" + link), comments) << link;
    EXPECT_EQ(ids("thread:t3_" + link), comments) << link;
    EXPECT_EQ(ids("parent:reddit:t3_" + link), reddit_replies[link]) << link;
    Result<ThreadView> v = (*searcher)->Thread("t3_" + link);
    ASSERT_OK(v);
    EXPECT_EQ(v->size, link_items[link]) << link;
  }
  // An item the archive holds: its own id, also as a fullname.
  const std::string comment = *in_link.begin()->second.begin();
  EXPECT_EQ(ids("id:t1_" + comment), std::set<std::string>{comment});
  // A missing story is no hit itself.
  EXPECT_TRUE(ids("id:" + in_link.begin()->first).empty());
}

}  // namespace
}  // namespace threadsearch
