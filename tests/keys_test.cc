// Key encoding: round trips and byte order equal to numeric order.
#include "common/keys.h"

#include <gtest/gtest.h>

#include "common/item.h"
#include "tests/testutil.h"

namespace threadsearch {
namespace {

TEST(KeysTest, FixedWidthRoundTrip) {
  for (uint32_t v : {0u, 1u, 255u, 256u, 65535u, 0x12345678u, UINT32_MAX}) {
    std::string s;
    keys::PutFixed32(&s, v);
    ASSERT_EQ(s.size(), 4u);
    EXPECT_EQ(keys::GetFixed32(s, 0), v);
  }
  for (uint64_t v : {uint64_t{0}, uint64_t{1} << 40, UINT64_MAX}) {
    std::string s;
    keys::PutFixed64(&s, v);
    EXPECT_EQ(keys::GetFixed64(s, 0), v);
  }
}

TEST(KeysTest, ByteOrderIsNumericOrder) {
  const int64_t times[] = {-5000000000, -1, 0, 1, 1700000000, 4000000000};
  for (size_t i = 0; i + 1 < std::size(times); ++i) {
    EXPECT_LT(keys::Author("bob", times[i], 7), keys::Author("bob", times[i + 1], 1))
        << times[i];
    EXPECT_LT(keys::Child(3, times[i], 9), keys::Child(3, times[i + 1], 2));
    EXPECT_EQ(keys::TimeFromBits(keys::TimeBits(times[i])), times[i]);
  }
  EXPECT_LT(keys::ItemKey(255), keys::ItemKey(256));
  EXPECT_LT(keys::Dirty(1, UINT32_MAX), keys::Dirty(2, 0));
}

TEST(KeysTest, TrailingFieldsParseBack) {
  std::string k = keys::ReplyTo("alice@example.org", 1234567890, 4242);
  EXPECT_TRUE(k.starts_with(keys::ReplyToPrefix("alice@example.org")));
  EXPECT_EQ(keys::TrailingNum(k), 4242u);
  EXPECT_EQ(keys::TrailingTime(k), 1234567890);
  // One author's prefix does not cover another whose name extends it.
  EXPECT_FALSE(keys::Author("bobby", 1, 1).starts_with(keys::AuthorPrefix("bob")));
}

TEST(KeysTest, IdKeysSeparateSources) {
  EXPECT_NE(keys::Id(Source::kHN, "abc"), keys::Id(Source::kReddit, "abc"));
  EXPECT_NE(keys::Id(Source::kHN, "abc"), keys::Id(Source::kMail, "abc"));
}

TEST(StoredItemTest, EncodeDecodeRoundTrip) {
  StoredItem s;
  s.num = 77;
  s.item.source = Source::kMail;
  s.item.type = ItemType::kMessage;
  s.item.id = "abc@example.org";
  s.item.author = "x@y.org";
  s.item.author_name = "Ünï Cödé";
  s.item.time = -42;
  s.item.title = "Re: [R] lm";
  s.item.text = std::string("body\0with nul", 13);
  s.item.points = -3;
  s.item.has_points = true;
  s.item.deleted = true;
  s.item.parent = "p@q";
  s.item.list = "r-help";
  s.item.num_comments = -1;
  s.placeholder = false;
  s.cycle_broken = true;
  s.parent_num = 5;
  s.root_num = 4;
  s.depth = 9;
  s.thread_size = 0;
  s.reply_count = 3;
  s.parent_author = "p@q.org";
  StoredItem back;
  ASSERT_OK(DecodeStoredItem(EncodeStoredItem(s), &back));
  EXPECT_EQ(back.num, 77u);
  EXPECT_EQ(back.item.source, Source::kMail);
  EXPECT_EQ(back.item.id, s.item.id);
  EXPECT_EQ(back.item.author_name, s.item.author_name);
  EXPECT_EQ(back.item.time, -42);
  EXPECT_EQ(back.item.text, s.item.text);
  EXPECT_EQ(back.item.points, -3);
  EXPECT_TRUE(back.item.has_points);
  EXPECT_TRUE(back.item.deleted);
  EXPECT_TRUE(back.cycle_broken);
  EXPECT_EQ(back.depth, 9u);
  EXPECT_EQ(back.reply_count, 3u);
  EXPECT_EQ(back.parent_author, "p@q.org");
  EXPECT_EQ(back.item.num_comments, -1);
}

// story_title and story_url are optional trailing fields: records without
// them keep the layout written before they existed.
TEST(StoredItemTest, StoryTitleAndUrlRoundTrip) {
  StoredItem s;
  s.item.id = "6651926";
  s.item.parent = "6651704";
  const std::string plain = EncodeStoredItem(s);
  s.item.story_title = "Patent war goes nuclear";
  s.item.story_url = "http://arstechnica.com/x";
  const std::string enc = EncodeStoredItem(s);
  EXPECT_EQ(enc.substr(0, plain.size()), plain);
  StoredItem back;
  ASSERT_OK(DecodeStoredItem(enc, &back));
  EXPECT_EQ(back.item.story_title, s.item.story_title);
  EXPECT_EQ(back.item.story_url, s.item.story_url);
  ASSERT_OK(DecodeStoredItem(plain, &back));
  EXPECT_EQ(back.item.story_title, "");
  EXPECT_EQ(back.item.story_url, "");
  EXPECT_EQ(DecodeStoredItem(enc.substr(0, enc.size() - 1), &back).code(),
            StatusCode::kCorruption);
}

// Own-line spans follow story_title and story_url (written empty when
// the item has none); records without spans end as before.
TEST(StoredItemTest, OwnSpansRoundTrip) {
  StoredItem s;
  s.item.source = Source::kMail;
  s.item.id = "a@b";
  s.item.text = std::string(70000, 'x');
  const std::string plain = EncodeStoredItem(s);
  s.own_spans = {{0, 5}, {7, 0}, {300, 65000}};
  s.own_spans_for = (uint64_t{1} << 33) + 140001;
  s.own_clean = true;
  const std::string enc = EncodeStoredItem(s);
  EXPECT_EQ(enc.substr(0, plain.size()), plain);
  StoredItem back;
  ASSERT_OK(DecodeStoredItem(enc, &back));
  EXPECT_EQ(back.own_spans, s.own_spans);
  EXPECT_EQ(back.own_spans_for, (uint64_t{1} << 33) + 140001);
  EXPECT_TRUE(back.own_clean);
  EXPECT_EQ(back.item.story_title, "");
  s.item.story_title = "Patent war goes nuclear";
  ASSERT_OK(DecodeStoredItem(EncodeStoredItem(s), &back));
  EXPECT_EQ(back.item.story_title, s.item.story_title);
  EXPECT_EQ(back.own_spans, s.own_spans);
  ASSERT_OK(DecodeStoredItem(plain, &back));
  EXPECT_TRUE(back.own_spans.empty());
  EXPECT_EQ(back.own_spans_for, 0u);
  // Cut inside the spans (past the two empty story strings, where a record
  // without spans may end).
  for (size_t cut = plain.size() + 3; cut < enc.size(); ++cut) {
    EXPECT_EQ(DecodeStoredItem(enc.substr(0, cut), &back).code(),
              StatusCode::kCorruption)
        << "cut at " << cut;
  }
}

TEST(StoredItemTest, TruncatedRecordIsCorruption) {
  StoredItem s;
  s.item.id = "123";
  s.item.text = "hello world";
  std::string enc = EncodeStoredItem(s);
  for (size_t cut : {size_t{0}, size_t{1}, enc.size() / 2, enc.size() - 1}) {
    StoredItem back;
    Status st = DecodeStoredItem(enc.substr(0, cut), &back);
    EXPECT_EQ(st.code(), StatusCode::kCorruption) << "cut at " << cut;
  }
}

}  // namespace
}  // namespace threadsearch
