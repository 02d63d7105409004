#include "searcher/snippet.h"

#include <algorithm>
#include <cctype>

#include "common/text.h"

namespace threadsearch {

namespace {

using snippet_internal::Token;

// Back to the start of a UTF-8 character.
size_t CharStart(std::string_view s, size_t i) {
  while (i > 0 && i < s.size() &&
         (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) {
    --i;
  }
  return i;
}

}  // namespace

void SnippetTerms::AddWord(const std::string& word, double weight) {
  if (word.empty()) return;
  for (const Entry& e : entries_) {
    if (!e.prefix && e.word == word) return;
  }
  memo_.clear();
  entries_.push_back({word, stem_(word), false, weight});
  // The word itself; words sharing its stem's first bytes (MatchOnce).
  MarkStart(entries_.back().word, /*whole=*/true);
  MarkStart(entries_.back().stem, /*whole=*/false);
}

void SnippetTerms::AddPrefix(const std::string& prefix, double weight) {
  if (prefix.empty()) return;
  memo_.clear();
  entries_.push_back({prefix, {}, true, weight});
  MarkStart(prefix, /*whole=*/false);
}

void SnippetTerms::MarkStart(const std::string& s, bool whole) {
  if (s.empty()) return;
  const auto a = static_cast<unsigned char>(s[0]);
  if (s.size() > 1) {
    starts_[Pair(a, static_cast<unsigned char>(s[1]))] = true;
  } else if (whole) {
    starts_[Pair(a, 0)] = true;  // a word of one byte
  } else {
    for (unsigned b = 0; b < 256; ++b) starts_[Pair(a, b)] = true;
  }
}

int SnippetTerms::Match(std::string_view lower, double* weight) const {
  // A text repeats its words: each is judged once (stemming is most of
  // the cost).
  auto it = memo_.find(lower);
  if (it == memo_.end()) {
    if (memo_.size() >= kMemoMax) memo_.clear();
    double w = 0;
    const int m = MatchOnce(lower, &w);
    it = memo_.emplace(std::string(lower), std::make_pair(m, w)).first;
  }
  *weight = it->second.second;
  return it->second.first;
}

int SnippetTerms::MatchOnce(std::string_view lower, double* weight) const {
  std::string stemmed;
  bool have_stem = false;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    bool hit;
    if (e.prefix) {
      hit = lower.starts_with(e.word);
    } else if (lower == e.word) {
      hit = true;
    } else {
      // Stem only words that could share the stem's start: most words of
      // a text share no letters with the query.
      const size_t n = std::min<size_t>(3, e.stem.size());
      hit = false;
      if (!e.stem.empty() && lower.size() >= n &&
          lower.compare(0, n, e.stem, 0, n) == 0) {
        if (!have_stem) {
          stemmed = stem_(std::string(lower));
          have_stem = true;
        }
        hit = stemmed == e.stem;
      }
    }
    if (hit) {
      *weight = e.weight;
      return static_cast<int>(i);
    }
  }
  *weight = 0;
  return -1;
}

namespace snippet_internal {

std::vector<Token> Tokenize(std::string_view text, const SnippetTerms& terms) {
  // NextWord and WordEnd (common/text.h) in one loop, ASCII without a call.
  std::vector<Token> tokens;
  tokens.reserve(text.size() / 6 + 1);  // about a word every six bytes
  std::string lower;  // the word lower-cased, its buffer kept
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80 ? !IsAsciiWordChar(c) : NonAsciiWordCharAt(text, i) == 0) {
      i += c < 0x80 ? 1 : CharLength(text, i);
      continue;
    }
    size_t j = i;
    bool ascii = true;
    while (j < n) {
      const unsigned char d = static_cast<unsigned char>(text[j]);
      if (d < 0x80) {
        if (!IsAsciiWordChar(d)) break;
        ++j;
      } else {
        const size_t k = NonAsciiWordCharAt(text, j);
        if (k == 0) break;
        j += k;
        ascii = false;
      }
    }
    Token t;
    t.begin = i;
    t.end = j;
    const std::string_view word = text.substr(i, j - i);
    if (!terms.empty() && terms.MayMatch(word)) {
      if (ascii) {
        AsciiLowerInto(word, &lower);  // WordForm, without a new string
      } else {
        lower = WordForm(word);
      }
      t.match = terms.Match(lower, &t.weight);
    }
    tokens.push_back(t);
    i = j;
  }
  return tokens;
}

Window BestWindow(const std::vector<Token>& tokens, size_t nterms,
                  size_t max_bytes) {
  // One pass: the window's end only moves on as its start does, and
  // `count` holds how often each query term occurs in tokens [lo, hi).
  size_t best_first = 0, best_last = 0;
  double best_score = -1;
  bool any = false;
  std::vector<uint32_t> count(nterms, 0);
  std::vector<double> weight(nterms, 0);
  size_t lo = 0, hi = 0, matches = 0;
  auto add = [&](const Token& t) {
    if (t.match < 0) return;
    ++count[t.match];
    weight[t.match] = t.weight;
    ++matches;
  };
  auto remove = [&](const Token& t) {
    if (t.match < 0) return;
    --count[t.match];
    --matches;
  };
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].match < 0) continue;
    any = true;
    if (hi <= i) {
      std::fill(count.begin(), count.end(), 0);
      matches = 0;
      lo = hi = i;
    }
    for (; lo < i; ++lo) remove(tokens[lo]);
    for (; hi < tokens.size() && tokens[hi].end - tokens[i].begin <= max_bytes;
         ++hi) {
      add(tokens[hi]);
    }
    double score = 0;
    for (size_t m = 0; m < count.size(); ++m) {
      if (count[m] > 0) score += weight[m];
    }
    score += 1e-3 * static_cast<double>(matches);
    if (score > best_score + 1e-9) {
      best_score = score;
      best_first = i;
      best_last = hi;  // one past the last word that fits
    }
  }
  return {best_first, best_last, any};
}

}  // namespace snippet_internal

std::string MakeSnippet(std::string_view text, const SnippetTerms& terms,
                        size_t max_bytes, bool* matched) {
  const std::vector<Token> tokens = snippet_internal::Tokenize(text, terms);
  const auto [best_first, best_last, any] =
      snippet_internal::BestWindow(tokens, terms.size(), max_bytes);
  if (matched) *matched = any;
  size_t begin = 0, end = 0;
  if (!any) {
    // The start of the text, cut at a word boundary.
    end = std::min(text.size(), max_bytes);
    if (end < text.size()) {
      // Back over letters, digits and every byte of a non-ASCII character.
      size_t k = end;
      while (k > 0 && (std::isalnum(static_cast<unsigned char>(text[k])) ||
                       static_cast<unsigned char>(text[k]) >= 0x80)) {
        --k;
      }
      end = k > 0 ? k : CharStart(text, end);
    }
  } else {
    begin = tokens[best_first].begin;
    end = best_last > best_first ? tokens[best_last - 1].end
                                 : tokens[best_first].end;
    // Room left: some words of context before the first match.
    size_t slack = max_bytes > end - begin ? max_bytes - (end - begin) : 0;
    size_t lead = std::min(slack, max_bytes / 3);
    size_t k = best_first;
    while (k > 0 && begin - tokens[k - 1].begin <= lead) {
      --k;
    }
    begin = tokens[k].begin;
    // The rest of the room after the window.
    size_t room = max_bytes > end - begin ? max_bytes - (end - begin) : 0;
    size_t m = best_last;
    while (m < tokens.size() && tokens[m].end - end <= room) ++m;
    if (m > best_last) end = tokens[m - 1].end;
  }
  std::string out;
  if (begin > 0) out += "…";
  size_t pos = begin;
  for (const Token& t : tokens) {
    if (t.end <= begin) continue;
    if (t.begin >= end) break;
    out += HtmlEscape(text.substr(pos, t.begin - pos));
    if (t.match >= 0) out += "<mark>";
    out += HtmlEscape(text.substr(t.begin, t.end - t.begin));
    if (t.match >= 0) out += "</mark>";
    pos = t.end;
  }
  if (pos < end) out += HtmlEscape(text.substr(pos, end - pos));
  if (end < text.size()) out += "…";
  return out;
}

}  // namespace threadsearch
