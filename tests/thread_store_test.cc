// ThreadStore on a real RocksDB in a temporary directory.
#include "common/thread_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/keys.h"
#include "tests/testutil.h"

namespace threadsearch {
namespace {

std::string Num(uint32_t n) {
  std::string s;
  keys::PutFixed32(&s, n);
  return s;
}

TEST(ThreadStoreTest, WriteLookupScan) {
  TempDir tmp;
  auto store = ThreadStore::Open(tmp.path(), {});
  ASSERT_OK(store);
  StoredItem s;
  s.num = 1;
  s.root_num = 1;
  s.item.source = Source::kMail;
  s.item.id = "abc@x.org";
  StoreBatch b;
  b.Put(keys::Id(Source::kMail, "abc@x.org"), Num(1));
  b.Put(keys::ItemKey(1), EncodeStoredItem(s));
  b.Put(keys::Child(1, 30, 4), "");
  b.Put(keys::Child(1, 10, 3), "");
  b.Put(keys::Child(2, 5, 9), "");
  ASSERT_OK((*store)->Write(b));
  EXPECT_EQ(*(*store)->Lookup(Source::kMail, "abc@x.org"), 1u);
  EXPECT_TRUE((*store)->Lookup(Source::kHN, "abc@x.org").status().IsNotFound());
  EXPECT_EQ(*(*store)->Find("<abc@x.org>"), 1u);
  EXPECT_EQ(*(*store)->Find("mail:abc@x.org"), 1u);
  EXPECT_TRUE((*store)->Find("hn:abc@x.org").status().IsNotFound());
  std::vector<uint32_t> kids;
  ASSERT_OK((*store)->Children(1, &kids));
  EXPECT_EQ(kids, (std::vector<uint32_t>{3, 4}));
  std::vector<uint32_t> rev;
  ASSERT_OK((*store)->Scan(
      keys::ChildPrefix(1),
      [&](std::string_view k, std::string_view) {
        rev.push_back(keys::TrailingNum(k));
        return true;
      },
      /*reverse=*/true));
  EXPECT_EQ(rev, (std::vector<uint32_t>{4, 3}));
  EXPECT_EQ((*store)->Get(1)->item.id, "abc@x.org");
  EXPECT_TRUE((*store)->Get(2).status().IsNotFound());
}

// Items numbered `nums`, with ids "id<num>", into `b`.
void PutItems(std::initializer_list<uint32_t> nums, StoreBatch* b) {
  for (uint32_t n : nums) {
    StoredItem s;
    s.num = n;
    s.item.id = "id" + std::to_string(n);
    b->Put(keys::ItemKey(n), EncodeStoredItem(s));
  }
}

TEST(ThreadStoreTest, ForEachItemDecodesInNumberOrderAndStops) {
  TempDir tmp;
  auto store = ThreadStore::Open(tmp.path(), {});
  ASSERT_OK(store);
  StoreBatch b;
  PutItems({3u, 1u, 2u}, &b);
  ASSERT_OK((*store)->Write(b));
  std::vector<std::pair<uint32_t, std::string>> seen;
  ASSERT_OK((*store)->ForEachItem([&](uint32_t num, const StoredItem& s) {
    seen.emplace_back(num, s.item.id);
    return Status::OK();
  }));
  EXPECT_EQ(seen, (std::vector<std::pair<uint32_t, std::string>>{
                      {1, "id1"}, {2, "id2"}, {3, "id3"}}));
  // The callback's error stops the scan and is returned as it is.
  seen.clear();
  Status st = (*store)->ForEachItem([&](uint32_t num, const StoredItem& s) {
    seen.emplace_back(num, s.item.id);
    return num == 2 ? Status::Busy("stop at 2") : Status::OK();
  });
  EXPECT_EQ(st.code(), StatusCode::kBusy);
  EXPECT_EQ(st.message(), "stop at 2");
  EXPECT_EQ(seen.size(), 2u);
  // A record that does not decode is Corruption naming the item, and the
  // items after it are not visited.
  StoreBatch bad;
  bad.Put(keys::ItemKey(2), "garbage");
  ASSERT_OK((*store)->Write(bad));
  seen.clear();
  st = (*store)->ForEachItem([&](uint32_t num, const StoredItem& s) {
    seen.emplace_back(num, s.item.id);
    return Status::OK();
  });
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_EQ(st.message().rfind("item #2: ", 0), 0u) << st.message();
  EXPECT_EQ(seen.size(), 1u);
}

// Puts item `id` at number `num` in `store`, as a placeholder or not.
void PutItem(ThreadStore* store, const std::string& id, uint32_t num,
             bool placeholder) {
  StoredItem s;
  s.num = num;
  s.item.source = Source::kHN;
  s.item.id = id;
  s.placeholder = placeholder;
  StoreBatch b;
  b.Put(keys::ItemKey(num), EncodeStoredItem(s));
  std::string n;
  keys::PutFixed32(&n, num);
  b.Put(keys::Id(Source::kHN, id), n);
  ASSERT_OK(store->Write(b));
}

// GetMany answers in the order asked, each as Get would: an absent item
// or one that does not decode is an error in its place, not a failure of
// the whole read.
TEST(ThreadStoreTest, GetManyAnswersInOrderWithErrorsInPlace) {
  TempDir tmp;
  auto store = ThreadStore::Open(tmp.path(), {});
  ASSERT_OK(store);
  StoreBatch b;
  PutItems({1u, 2u, 5u}, &b);
  b.Put(keys::ItemKey(7), "garbage");
  ASSERT_OK((*store)->Write(b));
  const std::vector<uint32_t> nums = {5, 3, 1, 7, 5, 2};
  std::vector<Result<StoredItem>> got;
  ASSERT_OK((*store)->GetMany(nums, &got));
  ASSERT_EQ(got.size(), nums.size());
  for (size_t i = 0; i < nums.size(); ++i) {
    Result<StoredItem> one = (*store)->Get(nums[i]);
    ASSERT_EQ(got[i].ok(), one.ok()) << nums[i];
    if (one.ok()) {
      EXPECT_EQ(got[i]->item.id, "id" + std::to_string(nums[i]));
    } else {
      EXPECT_EQ(got[i].status().code(), one.status().code()) << nums[i];
      EXPECT_EQ(got[i].status().message(), one.status().message());
    }
  }
  EXPECT_TRUE(got[1].status().IsNotFound());
  EXPECT_EQ(got[3].status().code(), StatusCode::kCorruption);
  ASSERT_OK((*store)->GetMany({}, &got));
  EXPECT_TRUE(got.empty());
}

TEST(ThreadStoreTest, FindAmongPrefersTheItemToItsPlaceholder) {
  TempDir tmp;
  std::vector<std::unique_ptr<ThreadStore>> owned;
  for (const char* name : {"a", "b", "c"}) {
    auto st = ThreadStore::Open(tmp.path() + "/" + name, {});
    ASSERT_OK(st);
    owned.push_back(std::move(st).value());
  }
  // "7": a placeholder in a and c, the item in b. "8": placeholders only.
  PutItem(owned[0].get(), "7", 4, true);
  PutItem(owned[1].get(), "7", 9, false);
  PutItem(owned[2].get(), "7", 2, true);
  PutItem(owned[1].get(), "8", 5, true);
  PutItem(owned[2].get(), "8", 6, true);
  std::vector<const StoreReader*> stores = {owned[0].get(), owned[1].get(),
                                            owned[2].get()};
  auto by_id = [](const char* id) {
    return [id](const StoreReader& s) { return s.Lookup(Source::kHN, id); };
  };
  Result<FoundItem> f = FindAmong(stores, by_id("7"));
  ASSERT_OK(f);
  EXPECT_EQ(f->store, 1u);
  EXPECT_EQ(f->num, 9u);
  EXPECT_FALSE(f->item.placeholder);
  // Only placeholders: the first store holding one.
  f = FindAmong(stores, by_id("8"));
  ASSERT_OK(f);
  EXPECT_EQ(f->store, 1u);
  EXPECT_TRUE(f->item.placeholder);
  // A store that is down (null) is skipped: the placeholders remain.
  stores[1] = nullptr;
  f = FindAmong(stores, by_id("7"));
  ASSERT_OK(f);
  EXPECT_EQ(f->store, 0u);
  EXPECT_EQ(f->num, 4u);
  EXPECT_TRUE(f->item.placeholder);
  EXPECT_TRUE(FindAmong(stores, by_id("99")).status().IsNotFound());
  // Another error of a store is returned, not passed over.
  f = FindAmong(stores, [](const StoreReader&) -> Result<uint32_t> {
    return Status::IOError("disk gone");
  });
  EXPECT_EQ(f.status().code(), StatusCode::kIOError);
}

TEST(ThreadStoreTest, ReadOnlyOpenSeesWritesAfterRefresh) {
  TempDir tmp;
  auto writer = ThreadStore::Open(tmp.path(), {});
  ASSERT_OK(writer);
  StoreBatch b;
  b.Put(keys::Meta("seq"), "x");
  ASSERT_OK((*writer)->Write(b));
  StoreOptions ro;
  ro.read_only = true;
  auto reader = ThreadStore::Open(tmp.path(), ro);
  ASSERT_OK(reader);
  EXPECT_EQ(*(*reader)->GetRaw(keys::Meta("seq")), "x");
  StoreBatch b2;
  b2.Put(keys::Meta("other"), "y");
  ASSERT_OK((*writer)->Write(b2));
  ASSERT_OK((*reader)->Refresh());
  EXPECT_EQ(*(*reader)->GetRaw(keys::Meta("other")), "y");
  StoreBatch b3;
  b3.Put("k", "v");
  EXPECT_FALSE((*reader)->Write(b3).ok());
}

TEST(ThreadStoreTest, MissingReadOnlyStoreIsNotFound) {
  TempDir tmp;
  StoreOptions ro;
  ro.read_only = true;
  auto r = ThreadStore::Open(tmp.Sub("none"), ro);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound()) << r.status().ToString();
}

// Compact after a bulk write: the tables flushed on the way (LZ4, with the
// versions later writes replaced) become the last level's (ZSTD, latest
// versions only), smaller, and every item reads back as last written.
TEST(ThreadStoreTest, CompactShrinksAndKeepsTheLatestVersions) {
  TempDir tmp;
  auto store = ThreadStore::Open(tmp.path(), {});
  ASSERT_OK(store);
  // Real mail text (tests/data), a different stretch of it per item.
  const std::string text = ReadFileOrDie(
      std::string(TS_TEST_DATA) + "/mail/r-help-2005-April-shared-id.txt");
  ASSERT_GT(text.size(), 4000u);
  auto write = [&](uint32_t from, uint32_t to, const std::string& tag) {
    StoreBatch b;
    for (uint32_t n = from; n < to; ++n) {
      StoredItem s;
      s.num = n;
      s.item.id = tag + std::to_string(n);
      s.item.text = text.substr((n * 97) % (text.size() - 1500), 1500);
      b.Put(keys::ItemKey(n), EncodeStoredItem(s));
    }
    ASSERT_OK((*store)->Write(b, /*sync=*/false));
    ASSERT_OK((*store)->FlushToDisk());
  };
  write(1, 2001, "old");
  write(2001, 4001, "old");
  write(1, 2001, "new");  // replaces the first table's items
  const uint64_t before = (*store)->DiskSize();
  ASSERT_OK((*store)->Compact());
  const uint64_t after = (*store)->DiskSize();
  EXPECT_LT(after, before * 3 / 4) << before << " -> " << after;
  EXPECT_EQ((*store)->Get(1)->item.id, "new1");
  EXPECT_EQ((*store)->Get(2000)->item.id, "new2000");
  EXPECT_EQ((*store)->Get(2001)->item.id, "old2001");
  EXPECT_EQ((*store)->Get(4000)->item.text,
            text.substr((4000 * 97) % (text.size() - 1500), 1500));
}

}  // namespace
}  // namespace threadsearch
