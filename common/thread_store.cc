#include "common/thread_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "common/keys.h"

namespace threadsearch {

namespace {

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::OK();
  if (s.IsNotFound()) return Status::NotFound(what + ": " + s.ToString());
  if (s.IsCorruption()) return Status::Corruption(what + ": " + s.ToString());
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) {
    return Status::Busy(what + ": " + s.ToString());
  }
  if (s.IsIOError()) {
    // A held LOCK file shows as an IOError mentioning the lock.
    if (s.ToString().find("lock") != std::string::npos) {
      return Status::Busy(what + ": database is in use by another writer (" +
                          s.ToString() + ")");
    }
    return Status::IOError(what + ": " + s.ToString());
  }
  return Status::Internal(what + ": " + s.ToString());
}

}  // namespace

uint64_t DirectorySize(const std::string& dir) {
  std::error_code ec;
  uint64_t total = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code ec2;
    if (it->is_regular_file(ec2)) total += it->file_size(ec2);
  }
  return total;
}

ThreadStore::ThreadStore(std::string dir, StoreOptions opts)
    : dir_(std::move(dir)), opts_(opts) {}

ThreadStore::~ThreadStore() = default;

Result<std::unique_ptr<ThreadStore>> ThreadStore::Open(
    const std::string& dir, const StoreOptions& opts) {
  std::unique_ptr<ThreadStore> store(new ThreadStore(dir, opts));
  TS_RETURN_IF_ERROR(store->OpenDb());
  return store;
}

namespace {

// One block cache for every store this process opens (a server opens one
// per worker thread, a collection one per shard): the uncompressed blocks
// of recently read items. RocksDB's default, a small cache per store,
// missed on most hits' reads (each a 16 KiB block read and decompressed).
std::shared_ptr<rocksdb::Cache> SharedBlockCache() {
  static const std::shared_ptr<rocksdb::Cache> cache =
      rocksdb::NewLRUCache(size_t{256} << 20);
  return cache;
}

}  // namespace

Status ThreadStore::OpenDb() {
  rocksdb::Options options;
  options.create_if_missing = opts_.create_if_missing && !opts_.read_only;
  options.compression = rocksdb::kLZ4Compression;
  options.bottommost_compression = rocksdb::kZSTD;
  options.max_open_files = 256;
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  options.keep_log_file_num = 2;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.block_size = 16 * 1024;
  table.block_cache = SharedBlockCache();
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  if (!opts_.read_only) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) {
      return Status::IOError(dir_ + ": cannot create directory: " +
                             ec.message());
    }
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  // A read-only open reads the MANIFEST, then the table files it lists; a
  // writer compacting meanwhile (an index run, a shard being filled) may
  // delete one in between ("No such file"). Such an open is tried again,
  // from a fresh MANIFEST, a few times over about 150 ms.
  for (int attempt = 0;; ++attempt) {
    s = opts_.read_only ? rocksdb::DB::OpenForReadOnly(options, dir_, &raw)
                        : rocksdb::DB::Open(options, dir_, &raw);
    if (s.ok() || !opts_.read_only || attempt == 4 ||
        s.ToString().find("No such file") == std::string::npos ||
        !std::filesystem::exists(dir_ + "/CURRENT")) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10 << attempt));
  }
  if (!s.ok()) {
    if (opts_.read_only && s.IsIOError() &&
        !std::filesystem::exists(dir_ + "/CURRENT")) {
      return Status::NotFound(dir_ + ": no thread store here (run index)");
    }
    return FromRocks(s, "open thread store " + dir_);
  }
  db_.reset(raw);
  return Status::OK();
}

Result<std::string> ThreadStore::GetRaw(std::string_view key) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(),
                               rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return Status::NotFound("no such key");
  if (!s.ok()) return FromRocks(s, "read thread store");
  return value;
}

Status ThreadStore::MultiGetRaw(const std::vector<std::string>& keys,
                                std::vector<Result<std::string>>* out) const {
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<std::string> values;
  std::vector<rocksdb::Status> got =
      db_->MultiGet(rocksdb::ReadOptions(), slices, &values);
  out->clear();
  out->reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (got[i].IsNotFound()) {
      out->push_back(Status::NotFound("no such key"));
    } else if (!got[i].ok()) {
      out->push_back(FromRocks(got[i], "read thread store"));
    } else {
      out->push_back(std::move(values[i]));
    }
  }
  return Status::OK();
}

Status ThreadStore::Scan(
    std::string_view prefix,
    const std::function<bool(std::string_view, std::string_view)>& fn,
    bool reverse) const {
  // Bound the iterator to the prefix on both sides: without bounds a seek
  // past the last key under the prefix walks every deleted key after it
  // (e.g. the D entries each batch drops), which made scans quadratic.
  std::string upper(prefix);
  while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xff) {
    upper.pop_back();
  }
  if (!upper.empty()) upper.back() = static_cast<char>(upper.back() + 1);
  rocksdb::Slice lower_slice(prefix.data(), prefix.size());
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower_slice;
  if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  rocksdb::Slice p(prefix.data(), prefix.size());
  if (!reverse) {
    for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next()) {
      if (!fn(std::string_view(it->key().data(), it->key().size()),
              std::string_view(it->value().data(), it->value().size()))) {
        break;
      }
    }
  } else {
    if (upper.empty()) {
      it->SeekToLast();
    } else {
      it->SeekForPrev(upper_slice);
    }
    for (; it->Valid() && it->key().starts_with(p); it->Prev()) {
      if (!fn(std::string_view(it->key().data(), it->key().size()),
              std::string_view(it->value().data(), it->value().size()))) {
        break;
      }
    }
  }
  return FromRocks(it->status(), "scan thread store");
}

Status ThreadStore::Write(const StoreBatch& batch, bool sync) {
  if (opts_.read_only) {
    return Status::InvalidArgument("thread store opened read-only");
  }
  rocksdb::WriteBatch wb;
  for (const auto& e : batch.ops_) {
    switch (e.op) {
      case StoreBatch::Op::kPut:
        wb.Put(e.key, e.value).PermitUncheckedError();
        break;
      case StoreBatch::Op::kDelete:
        wb.Delete(e.key).PermitUncheckedError();
        break;
      case StoreBatch::Op::kDeleteRange:
        wb.DeleteRange(e.key, e.value).PermitUncheckedError();
        break;
    }
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return FromRocks(db_->Write(wo, &wb), "write thread store");
}

Status ThreadStore::FlushToDisk() {
  if (opts_.read_only) {
    return Status::InvalidArgument("thread store opened read-only");
  }
  rocksdb::FlushOptions fo;
  fo.wait = true;
  return FromRocks(db_->Flush(fo), "flush thread store");
}

Status ThreadStore::Compact() {
  if (opts_.read_only) {
    return Status::InvalidArgument("thread store opened read-only");
  }
  rocksdb::CompactRangeOptions co;
  // Tables already in the last level stay as they are.
  co.bottommost_level_compaction =
      rocksdb::BottommostLevelCompaction::kForceOptimized;
  return FromRocks(db_->CompactRange(co, nullptr, nullptr),
                   "compact thread store");
}

Status ThreadStore::Refresh() {
  if (!opts_.read_only) return Status::OK();
  db_.reset();
  return OpenDb();
}

uint64_t ThreadStore::DiskSize() const { return DirectorySize(dir_); }

}  // namespace threadsearch
