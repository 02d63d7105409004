#include "common/store_reader.h"

#include "common/keys.h"

namespace threadsearch {

StoreReader::~StoreReader() = default;

namespace {

// Get's answer for item `num` from its record's read.
Result<StoredItem> DecodeRead(uint32_t num, Result<std::string> raw) {
  if (!raw.ok()) {
    if (raw.status().IsNotFound()) {
      return Status::NotFound("no item #" + std::to_string(num));
    }
    return raw.status();
  }
  StoredItem item;
  Status st = DecodeStoredItem(*raw, &item);
  if (!st.ok()) return st.WithContext("item #" + std::to_string(num));
  return item;
}

}  // namespace

Result<StoredItem> StoreReader::Get(uint32_t num) const {
  return DecodeRead(num, GetRaw(keys::ItemKey(num)));
}

Status StoreReader::MultiGetRaw(const std::vector<std::string>& keys,
                                std::vector<Result<std::string>>* out) const {
  out->clear();
  out->reserve(keys.size());
  for (const std::string& k : keys) out->push_back(GetRaw(k));
  return Status::OK();
}

Status StoreReader::GetMany(const std::vector<uint32_t>& nums,
                            std::vector<Result<StoredItem>>* out) const {
  out->clear();
  if (nums.empty()) return Status::OK();
  std::vector<std::string> wanted;
  wanted.reserve(nums.size());
  for (uint32_t n : nums) wanted.push_back(keys::ItemKey(n));
  std::vector<Result<std::string>> raw;
  TS_RETURN_IF_ERROR(MultiGetRaw(wanted, &raw));
  if (raw.size() != nums.size()) {
    return Status::Internal(Describe() + ": a multi-get answered " +
                            std::to_string(raw.size()) + " of " +
                            std::to_string(nums.size()) + " keys");
  }
  out->reserve(nums.size());
  for (size_t i = 0; i < nums.size(); ++i) {
    out->push_back(DecodeRead(nums[i], std::move(raw[i])));
  }
  return Status::OK();
}

Result<uint32_t> StoreReader::Lookup(Source source, std::string_view id) const {
  Result<std::string> raw = GetRaw(keys::Id(source, id));
  if (!raw.ok()) {
    if (raw.status().IsNotFound()) {
      return Status::NotFound("no item " + std::string(SourceName(source)) +
                              ":" + std::string(id));
    }
    return raw.status();
  }
  if (raw->size() != 4) return Status::Corruption("bad id record");
  return keys::GetFixed32(*raw, 0);
}

Result<uint32_t> StoreReader::Find(std::string_view id) const {
  auto strip = [](std::string_view s) {
    if (s.size() >= 2 && s.front() == '<' && s.back() == '>') {
      s = s.substr(1, s.size() - 2);
    }
    return s;
  };
  // A Reddit fullname of a post or comment ("t3_" and a submission's id,
  // "t1_" and a comment's): the id itself.
  auto fullname = [](std::string_view s) {
    if (s.size() > 3 && s[0] == 't' && (s[1] == '1' || s[1] == '3') &&
        s[2] == '_') {
      return s.substr(3);
    }
    return std::string_view();
  };
  size_t colon = id.find(':');
  if (colon != std::string_view::npos) {
    Source source;
    if (ParseSource(id.substr(0, colon), &source)) {
      std::string_view rest = strip(id.substr(colon + 1));
      Result<uint32_t> r = Lookup(source, rest);
      if (source == Source::kReddit && r.status().IsNotFound() &&
          !fullname(rest).empty()) {
        return Lookup(source, fullname(rest));
      }
      return r;
    }
  }
  std::string_view bare = strip(id);
  for (Source s : {Source::kHN, Source::kReddit, Source::kMail}) {
    Result<uint32_t> r = Lookup(s, bare);
    if (r.ok() || !r.status().IsNotFound()) return r;
  }
  if (!fullname(bare).empty()) {
    Result<uint32_t> r = Lookup(Source::kReddit, fullname(bare));
    if (r.ok() || !r.status().IsNotFound()) return r;
  }
  return Status::NotFound("no item with id \"" + std::string(id) + "\"");
}

Status StoreReader::ForEachItem(
    const std::function<Status(uint32_t, const StoredItem&)>& fn) const {
  // A scan callback can only stop; why it stopped is carried out in `err`.
  Status err;
  auto each = [&](std::string_view key, std::string_view value) {
    if (key.size() != 5) {
      err = Status::Corruption("item key of " + std::to_string(key.size()) +
                               " bytes");
      return false;
    }
    const uint32_t num = keys::TrailingNum(key);
    StoredItem item;
    err = DecodeStoredItem(value, &item);
    if (!err.ok()) {
      err = err.WithContext("item #" + std::to_string(num));
      return false;
    }
    err = fn(num, item);
    return err.ok();
  };
  TS_RETURN_IF_ERROR(Scan(std::string(1, keys::kItem), each));
  return err;
}

Status StoreReader::Children(uint32_t parent,
                             std::vector<uint32_t>* out) const {
  out->clear();
  return Scan(keys::ChildPrefix(parent),
              [&](std::string_view key, std::string_view) {
                out->push_back(keys::TrailingNum(key));
                return true;
              });
}

Result<uint64_t> StoreReader::CountPrefix(std::string_view prefix) const {
  uint64_t n = 0;
  TS_RETURN_IF_ERROR(Scan(prefix, [&](std::string_view, std::string_view) {
    ++n;
    return true;
  }));
  return n;
}

Result<uint64_t> StoreReader::GetMetaInt(std::string_view name) const {
  Result<std::string> raw = GetRaw(keys::Meta(name));
  if (!raw.ok()) return raw.status();
  if (raw->size() == 4) return uint64_t{keys::GetFixed32(*raw, 0)};
  if (raw->size() == 8) return keys::GetFixed64(*raw, 0);
  return Status::Corruption("metadata " + std::string(name) + ": bad size");
}

Status StoreReader::ItemsBelowPlaceholder(uint32_t start, bool direct,
                                          size_t max,
                                          std::vector<StoredItem>* out) const {
  Status first_error = Status::OK();
  auto failed = [&first_error](Status st) {
    if (first_error.ok()) first_error = std::move(st);
  };
  size_t taken = 0;
  std::vector<uint32_t> queue{start};
  for (size_t next = 0; next < queue.size() && taken < max; ++next) {
    const uint32_t cur = queue[next];
    std::vector<uint32_t> kids;
    Status st = Children(cur, &kids);
    if (!st.ok()) {
      failed(std::move(st));
      continue;
    }
    std::vector<Result<StoredItem>> items;
    st = GetMany(kids, &items);
    if (!st.ok()) {
      failed(std::move(st));
      continue;
    }
    for (size_t k = 0; k < kids.size() && taken < max; ++k) {
      if (!items[k].ok()) {
        failed(items[k].status());
        continue;
      }
      StoredItem& c = *items[k];
      if (c.parent_num != cur) continue;
      if (c.placeholder) {
        if (!direct) queue.push_back(kids[k]);
        continue;
      }
      out->push_back(std::move(c));
      ++taken;
    }
  }
  return first_error;
}

Result<FoundItem> FindAmong(
    const std::vector<const StoreReader*>& stores,
    const std::function<Result<uint32_t>(const StoreReader&)>& lookup) {
  Result<FoundItem> best = Status::NotFound("no such item");
  for (size_t i = 0; i < stores.size(); ++i) {
    if (stores[i] == nullptr) continue;
    Result<uint32_t> num = lookup(*stores[i]);
    if (!num.ok()) {
      if (num.status().IsNotFound()) continue;
      return num.status();
    }
    Result<StoredItem> item = stores[i]->Get(*num);
    if (!item.ok()) return item.status();
    // Once a placeholder is found, only the item itself can do better.
    if (best.ok() && item->placeholder) continue;
    const bool real = !item->placeholder;
    best = FoundItem{i, *num, std::move(item).value()};
    if (real) break;
  }
  return best;
}

}  // namespace threadsearch
