// ThreadStore on a real RocksDB in a temporary directory.
#include "common/thread_store.h"

#include <gtest/gtest.h>

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

TEST(ThreadStoreTest, ForEachItemDecodesInNumberOrderAndStops) {
  TempDir tmp;
  auto store = ThreadStore::Open(tmp.path(), {});
  ASSERT_OK(store);
  StoreBatch b;
  for (uint32_t n : {3u, 1u, 2u}) {
    StoredItem s;
    s.num = n;
    s.item.id = "id" + std::to_string(n);
    b.Put(keys::ItemKey(n), EncodeStoredItem(s));
  }
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

}  // namespace
}  // namespace threadsearch
