#include "indexer/check.h"

#include <xapian.h>

#include <filesystem>
#include <unordered_map>
#include <utility>

#include "common/keys.h"
#include "common/schema.h"
#include "common/xapian_status.h"
#include "common/text.h"
#include "common/thread_store.h"
#include "indexer/indexer.h"

namespace threadsearch {

namespace {

class Checker {
 public:
  Checker(const ThreadStore& store, const Xapian::Database& db,
          const CheckOptions& opts, CheckReport* r)
      : store_(store), db_(db), opts_(opts), r_(r) {}

  Status Run() {
    Result<uint64_t> total = store_.GetMetaInt("next_num");
    uint64_t all = total.ok() ? *total - 1 : 0;
    uint64_t done = 0;
    TS_RETURN_IF_ERROR(
        store_.ForEachItem([&](uint32_t, const StoredItem& s) -> Status {
          TS_RETURN_IF_ERROR(CheckItem(s));
          if (++done % 10000 == 0 && opts_.on_progress) {
            opts_.on_progress("items", done, all);
          }
          return Status::OK();
        }));
    r_->documents = db_.get_doccount();
    if (r_->documents > r_->searchable - r_->missing_documents) {
      r_->extra_documents =
          r_->documents - (r_->searchable - r_->missing_documents);
      Problem("index holds " + std::to_string(r_->extra_documents) +
              " document(s) with no searchable item in the store");
    }
    CompareCounts(schema::kPrefixAuthor, author_counts_,
                  &r_->author_mismatches, "author");
    CompareCounts(schema::kPrefixThread, thread_counts_,
                  &r_->thread_mismatches, "thread");
    r_->authors = author_counts_.size();
    r_->threads = thread_counts_.size();
    for (const auto& [root, n] : thread_sizes_) {
      Result<StoredItem> s = store_.Get(root);
      if (!s.ok()) continue;  // reported when the item was seen
      if (s->placeholder) {
        ++r_->structure_errors;
        Problem("placeholder " + s->item.id + " is the root of " +
                std::to_string(n) + " item(s)");
      } else if (s->thread_size != n) {
        ++r_->structure_errors;
        Problem("thread " + s->item.id + " records size " +
                std::to_string(s->thread_size) + ", holds " +
                std::to_string(n));
      }
    }
    // Reply counts: the non-placeholder items linked below each item.
    for (const auto& [num, recorded] : reply_counts_) {
      auto it = replies_.find(num);
      const uint32_t n = it == replies_.end() ? 0 : it->second;
      if (n != recorded.first) {
        ++r_->structure_errors;
        Problem("item " + recorded.second + " records " +
                std::to_string(recorded.first) + " replies, has " +
                std::to_string(n));
      }
    }
    Result<uint64_t> children = store_.CountPrefix(std::string(1, keys::kChild));
    if (!children.ok()) return children.status();
    if (*children != linked_) {
      ++r_->structure_errors;
      Problem(std::to_string(*children) + " child entries for " +
              std::to_string(linked_) + " linked items");
    }
    return Status::OK();
  }

 private:
  void Problem(const std::string& what) {
    if (r_->examples.size() < opts_.max_examples) r_->examples.push_back(what);
  }

  // A placeholder's only parent link is a hint link: to the item its
  // thread_hint names, which marks that it has such children.
  void CheckPlaceholder(const StoredItem& s) {
    if (s.parent_num == 0) {
      if (!s.is_root() || s.depth != 0) {
        ++r_->structure_errors;
        Problem("placeholder " + s.item.id +
                " has no parent but is not a root");
      }
      return;
    }
    ++linked_;
    Result<StoredItem> p = store_.Get(s.parent_num);
    if (!p.ok()) {
      ++r_->structure_errors;
      Problem("placeholder " + s.item.id + ": parent record missing");
      return;
    }
    if (s.item.thread_hint.empty() || p->item.id != s.item.thread_hint ||
        p->item.source != s.item.source) {
      ++r_->structure_errors;
      Problem("placeholder " + s.item.id + " has a parent link (" + p->item.id +
              ") that is not its thread hint");
      return;
    }
    if (!p->hint_children) {
      ++r_->structure_errors;
      Problem("item " + p->item.id +
              " does not mark its hint-linked placeholder " + s.item.id);
    }
    CheckPlace(s, *p);
  }

  // Root and depth follow from the parent: below a placeholder that is a
  // root, an item is a root; elsewhere it is in its parent's thread.
  void CheckPlace(const StoredItem& s, const StoredItem& p) {
    if (p.placeholder && p.is_root()) {
      if (!s.is_root() || s.depth != 0) {
        ++r_->structure_errors;
        Problem("item " + s.item.id + " under a missing parent is not a root");
      }
    } else if (s.root_num != p.root_num || s.depth != p.depth + 1) {
      ++r_->structure_errors;
      Problem("item " + s.item.id + ": root/depth disagree with its parent");
    }
  }

  Status CheckItem(const StoredItem& s) {
    reply_counts_[s.num] = {s.reply_count, s.item.id};
    if (s.placeholder) {
      CheckPlaceholder(s);
      return Status::OK();
    }
    ++r_->items;
    if (s.parent_num != 0) {
      ++linked_;
      ++replies_[s.parent_num];
    }
    // Structure: root and depth follow from the parent.
    if (s.parent_num != 0) {
      Result<StoredItem> p = store_.Get(s.parent_num);
      if (!p.ok()) {
        ++r_->structure_errors;
        Problem("item " + s.item.id + ": parent record missing");
      } else {
        CheckPlace(s, *p);
      }
    } else if (!s.is_root() || s.depth != 0) {
      ++r_->structure_errors;
      Problem("item " + s.item.id + " has no parent but is not a root");
    }
    thread_sizes_[s.root_num]++;
    if (!s.searchable()) return Status::OK();
    ++r_->searchable;
    const std::string key = schema::ItemKeyString(s.item.source, s.item.id);
    const std::string q = schema::Term(schema::kPrefixId, key);
    Xapian::PostingIterator it = db_.postlist_begin(q);
    if (it == db_.postlist_end(q) || *it != s.num) {
      ++r_->missing_documents;
      Problem("item " + s.item.id + " (#" + std::to_string(s.num) +
              ") has no document in the index");
    }
    if (!s.item.author.empty()) author_counts_[AsciiLower(s.item.author)]++;
    std::string thread = key;
    if (!s.is_root()) {
      auto cached = root_keys_.find(s.root_num);
      if (cached == root_keys_.end()) {
        Result<StoredItem> root = store_.Get(s.root_num);
        if (!root.ok()) {
          ++r_->structure_errors;
          Problem("item " + s.item.id + ": root record missing");
          return Status::OK();
        }
        cached = root_keys_
                     .emplace(s.root_num, schema::ItemKeyString(
                                              root->item.source, root->item.id))
                     .first;
      }
      thread = cached->second;
    }
    thread_counts_[thread]++;
    return Status::OK();
  }

  // Every prefixed term in the index against the store's counts, both ways.
  void CompareCounts(std::string_view prefix,
                     const std::unordered_map<std::string, uint64_t>& want,
                     uint64_t* mismatches, const char* what) {
    std::unordered_map<std::string, uint64_t> seen;
    std::string p(prefix);
    for (auto t = db_.allterms_begin(p); t != db_.allterms_end(p); ++t) {
      std::string name = (*t).substr(p.size());
      // Longer prefixes sharing the first letter belong to other fields.
      if (!name.empty() && std::isupper(static_cast<unsigned char>(name[0]))) {
        continue;
      }
      seen[name] = t.get_termfreq();
    }
    for (const auto& [name, n] : want) {
      std::string term = schema::Term(prefix, name);
      uint64_t got = db_.get_termfreq(term);
      if (got != n) {
        ++*mismatches;
        Problem(std::string(what) + " " + name + ": " + std::to_string(n) +
                " in the store, " + std::to_string(got) + " in the index");
      }
      seen.erase(schema::HashLongTerm(std::string(prefix) + name).substr(p.size()));
    }
    for (const auto& [name, n] : seen) {
      ++*mismatches;
      Problem(std::string(what) + " " + name + ": " + std::to_string(n) +
              " in the index, none in the store");
    }
  }

  const ThreadStore& store_;
  const Xapian::Database& db_;
  const CheckOptions& opts_;
  CheckReport* r_;
  uint64_t linked_ = 0;
  std::unordered_map<std::string, uint64_t> author_counts_;
  std::unordered_map<std::string, uint64_t> thread_counts_;
  std::unordered_map<uint32_t, uint32_t> thread_sizes_;
  // Per item: its reply_count and id, and the items found linked below it.
  std::unordered_map<uint32_t, std::pair<uint32_t, std::string>>
      reply_counts_;
  std::unordered_map<uint32_t, uint32_t> replies_;
  std::unordered_map<uint32_t, std::string> root_keys_;
};

Status CheckOnce(const std::string& dir, const CheckOptions& opts,
                 CheckReport* report) {
  *report = CheckReport();
  StoreOptions so;
  so.read_only = true;
  Result<std::unique_ptr<ThreadStore>> store =
      ThreadStore::Open(dir + "/store", so);
  if (!store.ok()) return store.status();
  try {
    Xapian::Database db(dir + "/xapian");
    std::string seq = db.get_metadata("seq");
    if (!seq.empty() && !ParseUint64(seq, &report->index_seq)) {
      return Status::Corruption(dir + "/xapian: bad \"seq\" metadata");
    }
    Result<uint64_t> sseq = (*store)->GetMetaInt("seq");
    report->store_seq = sseq.ok() ? *sseq : 0;
    Checker checker(**store, db, opts, report);
    return checker.Run();
  } catch (const Xapian::Error& e) {
    return XapianStatus(e, dir + "/xapian");
  }
}

}  // namespace

Status CheckDatabase(const std::string& dir, const CheckOptions& opts,
                     CheckReport* report) {
  if (!std::filesystem::exists(dir + "/store")) {
    return Status::NotFound(dir + ": no threadsearch database here");
  }
  {
    // Opening the writer replays any batch the index lacks.
    Result<std::unique_ptr<Indexer>> ix = Indexer::Open(dir, {});
    if (!ix.ok() && !(opts.repair && ix.status().code() ==
                                         StatusCode::kCorruption)) {
      return ix.status();
    }
  }
  Status st = CheckOnce(dir, opts, report);
  if (!opts.repair || (st.ok() && report->consistent())) return st;
  {
    IndexOptions io;
    Result<std::unique_ptr<Indexer>> ix = Indexer::Open(dir, io);
    if (!ix.ok()) {
      // An index the writer cannot open at all: start it afresh.
      std::error_code ec;
      std::filesystem::remove_all(dir + "/xapian", ec);
      ix = Indexer::Open(dir, io);
      if (!ix.ok()) return ix.status();
    }
    TS_RETURN_IF_ERROR((*ix)->RebuildIndex([&](uint64_t done, uint64_t total) {
      if (opts.on_progress) opts.on_progress("rebuild", done, total);
    }));
  }
  st = CheckOnce(dir, opts, report);
  report->repaired = true;
  return st;
}

}  // namespace threadsearch
