// Domain types shared by every module: one discussion item and its kinds.
#ifndef THREADSEARCH_COMMON_ITEM_H_
#define THREADSEARCH_COMMON_ITEM_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/text.h"

namespace threadsearch {

// Where an item comes from. An item is unique by (source, id).
enum class Source : uint8_t { kHN = 0, kReddit = 1, kMail = 2 };

// What an item is.
enum class ItemType : uint8_t {
  kUnknown = 0,
  kStory = 1,    // HN story / Reddit submission (a thread's opening post)
  kComment = 2,  // HN or Reddit comment
  kMessage = 3,  // mailing-list message
  kPoll = 4,
  kPollOpt = 5,
  kJob = 6,
};

// "hn", "reddit", "mail".
std::string_view SourceName(Source s);
// Parses "hn", "reddit", "mail" (also "email"); false when unknown.
bool ParseSource(std::string_view name, Source* out);
// "story", "comment", "message", "poll", "pollopt", "job", "unknown".
std::string_view ItemTypeName(ItemType t);
// Parses the names above; false when unknown.
bool ParseItemType(std::string_view name, ItemType* out);

// One item as a reader produces it. Readers fill what the source gives; the
// thread fields (root, depth, children) are derived by the indexer.
struct Item {
  Source source = Source::kHN;
  // The source's own id: HN decimal number, Reddit base36 without the "t1_"
  // prefix, mail Message-ID without the angle brackets.
  std::string id;
  ItemType type = ItemType::kUnknown;
  // Author key: HN/Reddit username as given; mail address "user@domain"
  // lower-cased. Empty when unknown (deleted items).
  std::string author;
  // Display name beside the author (mail "From: addr (Name)"); may be empty.
  std::string author_name;
  int64_t time = 0;  // Unix seconds, UTC; 0 when unknown.
  std::string title;  // Story title or mail subject.
  // Body as stored by the source: HN HTML when text_html, else plain text
  // (mail bodies are decoded to UTF-8; Reddit bodies are markdown).
  std::string text;
  bool text_html = false;
  std::string url;    // Story link, if any.
  int64_t points = 0;
  bool has_points = false;
  // Parent's id in the same source; empty for a thread root.
  std::string parent;
  // An earlier item of the same thread that the source names, if any
  // (Reddit link_id, Algolia story_id, the first mail References id other
  // than the parent). Used as parent of last resort, and as the parent of
  // the placeholder made for a parent that has not been seen (a "hint
  // link"), so that the item stays in that thread.
  std::string thread_hint;
  std::string list;      // Mailing list name (mail only).
  std::string channel;   // Subreddit (Reddit only).
  std::vector<std::string> kids;  // Child ids in the source's order (HN).
  // The thread's story title and URL as the source gave them on a reply
  // (an Algolia search hit's story_title, story_url): what the reply shows
  // of its story when that story is not in the archive. Usually empty.
  std::string story_title;
  std::string story_url;
  int64_t num_comments = -1;      // Source's descendant count, -1 unknown.
  bool deleted = false;  // Deleted or dead: kept in the tree, not searchable.
  // Where the record came from, "file:line", for messages.
  std::string origin;
};

// An item as the thread store keeps it: the item plus its place in the
// thread, derived by the indexer. `num` is the store's internal number for
// the item and also its Xapian document id.
struct StoredItem {
  uint32_t num = 0;
  Item item;
  // Known only because another item names it as parent; no content yet.
  // A placeholder has a parent link only as a hint link: to the item its
  // item.thread_hint names (an earlier item of its replies' thread).
  bool placeholder = false;
  // Some placeholder hangs below this item by a hint link (not counted in
  // reply_count); readers walking the tree look at its children even when
  // reply_count is 0. May stay set after that placeholder has moved.
  bool hint_children = false;
  // The link to the parent was dropped because it closed a cycle.
  bool cycle_broken = false;
  uint32_t parent_num = 0;  // 0: no parent link
  // == num for a thread root. Items below a placeholder that is a root
  // are roots themselves; below a hint-linked placeholder in a thread of a
  // real root, they belong to that thread. A root is never a placeholder
  // unless it is that placeholder itself.
  uint32_t root_num = 0;
  uint32_t depth = 0;       // 0 for a root
  // Items in the thread including the root (non-placeholders); kept on
  // roots only, 0 elsewhere.
  uint32_t thread_size = 0;
  uint32_t reply_count = 0;  // direct children (non-placeholders)
  // Author of the parent item (empty when the parent is unknown): what
  // replies_to matches.
  std::string parent_author;
  // A mail message's own lines (SplitMailBody) as spans of its text, found
  // when it was indexed: its snippets and excerpts are made without judging
  // its lines again. Kept for the text and reply state `own_spans_for`
  // names (schema::KeepOwnSpans); 0 when none are kept (other items, and
  // records written before spans were). `own_clean`: the own text they
  // make is valid UTF-8 without control characters (SanitizeUtf8 leaves it
  // as it is).
  std::vector<TextSpan> own_spans;
  uint64_t own_spans_for = 0;
  bool own_clean = false;

  bool is_root() const { return root_num == num; }
  // A searchable item has a Xapian document.
  bool searchable() const { return !placeholder && !item.deleted; }
};

// Serialises a StoredItem for the store (compact binary, versioned).
std::string EncodeStoredItem(const StoredItem& s);
// Parses EncodeStoredItem output; Corruption on malformed bytes.
Status DecodeStoredItem(std::string_view bytes, StoredItem* out);

}  // namespace threadsearch

#endif  // THREADSEARCH_COMMON_ITEM_H_
