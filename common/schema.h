// The Xapian schema: the one table of fields that the indexer's
// TermGenerator and the searcher's QueryParser both read.
//
// Documents. One Xapian document per searchable item (not deleted, not a
// placeholder); its docid is the item's store number (common/keys.h), so a
// hit is read back from the thread store with ThreadStore::Get(docid). The
// document data is empty: the thread store holds the content.
//
// Free-text terms (TermGenerator, english stemmer, STEM_SOME: the exact
// lower-cased form with positions, plus a Z-prefixed stem without):
//   S…       title words (the item's own title or subject), all items
//   (none)   body words: title for thread roots, then a gap of 100
//            positions, then the text (HN HTML converted to text with link
//            targets; for mail only the writer's own lines, no quotes
//            (in replies), attribution, signature or list footer)
// Boolean terms (filters, no positions):
//   Q<s><id>   unique id, <s> = source letter h/r/m          (id:)
//   A<author>  author, lower-cased                           (author:, by:)
//   XTO<name>  author of the parent item, lower-cased        (replies_to:)
//   G<s><id>   thread: the root's source letter and id       (thread:)
//   XT<type>   story/comment/message/poll/pollopt/job       (type:)
//   XS<src>    hn/reddit/mail                                (source:)
//   XL<list>   mailing list or subreddit, lower-cased        (list:)
//   XU<s><id>  every ancestor of the item                    (under:)
//              (parent:ID is no term of its own: XU<ID> AND the
//              depth value one more than ID's)
//   XY<yyyy>, XM<yyyymm>  year and month of the item's time (UTC)
//   XW<word>   each word of the item's URL, lower-cased, without the
//              scheme and "www" (UrlWords)                  (url:, site:)
//   XH<host>   the URL's host and each of its parent domains of two
//              labels or more, without "www." (UrlHosts)    (url:, site:)
// Terms over 240 bytes are replaced by a prefix plus a hash (see
// HashLongTerm).
// Values (Xapian::sortable_serialise numbers unless noted):
//   0 time (Unix seconds)   1 points (only items that have points)
//   2 depth   3 reply count (direct replies)
//   5 comment count: the source's descendant count (HN `descendants`,
//     Reddit `num_comments`), else for a thread root the items below it;
//     absent when unknown
//   4 thread key (G term without "G", raw string: collapse key)
//   6 author, lower-cased (raw string: author facets)
// Metadata keys:
//   "schema"  kSchemaVersion as decimal
//   "seq"     the last thread-store batch sequence applied to this index
//   "changed.<R>"  (ChangedKey) in an index part: which of its documents
//             the commit that made revision R replaced or deleted
//             (EncodeChanged), written by a writer that commits into the
//             part itself (a live one, no runs), for the last kChangedKept
//             revisions; a reader holding arrays of an earlier revision
//             (searcher/bm25_source.h) reads those documents and the new
//             ones again, not the whole part
#ifndef THREADSEARCH_COMMON_SCHEMA_H_
#define THREADSEARCH_COMMON_SCHEMA_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/item.h"

namespace threadsearch::schema {

constexpr int kSchemaVersion = 3;

enum ValueSlot : unsigned {
  kValueTime = 0,
  kValuePoints = 1,
  kValueDepth = 2,
  kValueReplies = 3,
  kValueThread = 4,
  kValueComments = 5,
  kValueAuthor = 6,
};

// Positions left between the title and the text, so no phrase spans both.
constexpr unsigned kFieldGap = 100;

// What one commit changed in an index part (metadata "changed.<R>"), for
// a reader that holds arrays by docid of the revision before it.
struct ChangedDocs {
  // The part (its uuid: a compacted part is a new database, whose copied
  // metadata must not describe it) and what it was before the commit: its
  // last docid, its document count and their total length (what tells a
  // reader its array is of that revision).
  std::string uuid;
  uint32_t last_before = 0;
  uint32_t docs_before = 0;
  uint64_t length_before = 0;
  std::vector<uint32_t> docs;  // docids up to last_before it replaced or
                               // deleted, ascending, each once
};
// Records kept: a reader more revisions behind (a server idle through a
// minute of `follow`'s commits) reads the part whole, which it would have
// done anyway, and the part keeps no more than a few kB of them.
constexpr uint64_t kChangedKept = 64;
// "changed.<revision>".
std::string ChangedKey(uint64_t revision);
// The record's bytes (never empty: Xapian deletes a key set to "").
std::string EncodeChanged(const ChangedDocs& c);
// False when `s` is not what EncodeChanged writes (docids not ascending,
// or past last_before, included).
bool DecodeChanged(std::string_view s, ChangedDocs* c);

// One searchable field: its query-language names and its Xapian prefix.
struct Field {
  std::string_view name;    // e.g. "author"
  std::string_view prefix;  // e.g. "A"
  bool boolean;             // filter term (true) or free text (false)
};

// Every field the query language knows, aliases included.
extern const Field kFields[];
extern const size_t kNumFields;

constexpr std::string_view kPrefixTitle = "S";
constexpr std::string_view kPrefixId = "Q";
constexpr std::string_view kPrefixAuthor = "A";
constexpr std::string_view kPrefixRepliesTo = "XTO";
constexpr std::string_view kPrefixThread = "G";
constexpr std::string_view kPrefixType = "XT";
constexpr std::string_view kPrefixSource = "XS";
constexpr std::string_view kPrefixList = "XL";
constexpr std::string_view kPrefixUnder = "XU";
// The query language's parent: field. No document has a term with this
// prefix: parent:ID is resolved to XU<ID> on items one level below ID.
constexpr std::string_view kPrefixParent = "XP";
constexpr std::string_view kPrefixYear = "XY";
constexpr std::string_view kPrefixMonth = "XM";
constexpr std::string_view kPrefixUrl = "XW";
constexpr std::string_view kPrefixHost = "XH";

// One letter per source, used in id and thread terms.
char SourceLetter(Source s);
// "<letter><id>": the item key used in Q, G and XU terms.
std::string ItemKeyString(Source s, std::string_view id);
// prefix + value, lower-casing nothing; hashed when over 240 bytes.
std::string Term(std::string_view prefix, std::string_view value);
// Replaces the tail of a term over 240 bytes with a hash of it.
std::string HashLongTerm(std::string term);

// The words of a URL as the XW terms hold them: runs of ASCII letters and
// digits (and any non-ASCII bytes), lower-cased, in order, each once,
// without a leading scheme ("http", "https") and "www":
// "https://www.Apple.com/stevejobs/" -> apple, com, stevejobs.
std::vector<std::string> UrlWords(std::string_view url);

// A URL's host, lower-cased, without "www.", a port or user info, when it
// has a dot ("in.reuters.com"), else empty; *rest (optional) is what
// follows the host. A scheme is optional: "apple.com/x" has host apple.com.
std::string UrlHost(std::string_view url, std::string_view* rest = nullptr);
// The host and its parent domains of two labels or more:
// "http://blog.ycombinator.com/x" -> blog.ycombinator.com, ycombinator.com.
std::vector<std::string> UrlHosts(std::string_view url);

// Longest body text indexed per item; the rest of a larger item is kept in
// the store (and shown) but not searchable.
constexpr size_t kMaxIndexedBytes = 1u << 20;

// The body text that is indexed and shown in snippets: HN HTML converted to
// text (link targets kept), mail reduced to the writer's own lines
// (SplitMailBody; quotes are looked for in replies only, items with a
// parent), Reddit markdown as is; at most kMaxIndexedBytes, cut at a
// character boundary. Always valid UTF-8.
std::string IndexedBody(const Item& item);
// OneLineExcerpt(IndexedBody(item), max_bytes), or of the title when the
// body is empty: the same text, but of a long mail message only as much is
// split into own lines and quotes as the excerpt shows.
std::string BodyExcerpt(const Item& item, size_t max_bytes);
// The rules kept spans were found by: raise it whenever SplitMailBody or
// SanitizeUtf8 would judge a text differently. Spans found by other rules
// are not used (the item is split again).
constexpr uint32_t kOwnSpansVersion = 1;
// Finds and keeps a mail message's own lines (StoredItem::own_spans) for
// the two below; keeps none for any other item. The indexer calls it
// whenever an item's content may have changed: spans are checked against
// the text's size and reply state and these rules only.
void KeepOwnSpans(StoredItem* s);
// IndexedBody and BodyExcerpt of s.item, from its kept spans when they fit
// (own_clean, from the record, is trusted: a clean text is not sanitised
// again).
std::string IndexedBody(const StoredItem& s);
std::string BodyExcerpt(const StoredItem& s, size_t max_bytes);
// Whether the item's title is indexed as body words too (thread openers);
// replies carry their thread's subject only as a weak S-prefixed signal.
bool TitleIsBody(const Item& item);
// Whether the item opens a thread as the HN Search API shows it (a story,
// poll or job; a message or untyped item without a parent): what has a
// comment count when its source gives none.
bool OpensThread(const Item& item);
// An item's comment count: the source's own when it gave one, else the
// items below a root that OpensThread; -1 (none) otherwise. The index's
// comments value and the HN Search API's num_comments both.
int64_t CommentCount(const StoredItem& s);

}  // namespace threadsearch::schema

#endif  // THREADSEARCH_COMMON_SCHEMA_H_
