#include "indexer/index_writer.h"

#include <xapian.h>

#include <filesystem>
#include <fstream>
#include <unordered_map>

#include "common/schema.h"
#include "common/text.h"
#include "common/xapian_status.h"

namespace threadsearch {

namespace {

// The english stemmer with a memo: word frequencies are Zipfian, so most
// words were stemmed before, and Snowball is a large share of indexing time.
class CachedStemmer : public Xapian::StemImplementation {
 public:
  std::string operator()(const std::string& word) override {
    auto it = memo_.find(word);
    if (it != memo_.end()) return it->second;
    std::string stem = stem_(word);
    if (memo_.size() >= kMaxEntries) memo_.clear();
    memo_.emplace(word, stem);
    return stem;
  }
  std::string get_description() const override { return "english (memo)"; }

 private:
  static constexpr size_t kMaxEntries = 1u << 20;
  Xapian::Stem stem_{"english"};
  std::unordered_map<std::string, std::string> memo_;
};

}  // namespace

struct IndexWriter::Part {
  std::unique_ptr<Xapian::WritableDatabase> db;
  Xapian::TermGenerator tg;
  Xapian::Stem stemmer{new CachedStemmer};
  uint64_t seq = 0;

  void Build(const DocPlan& p, Xapian::Document* doc) {
    tg.set_document(*doc);
    if (!p.title.empty()) {
      tg.index_text(p.title, 1, std::string(schema::kPrefixTitle));
      if (p.title_is_body) tg.index_text(p.title);
      tg.increase_termpos(schema::kFieldGap);
    }
    tg.index_text(p.body);
    for (const std::string& t : p.terms) doc->add_boolean_term(t);
    for (const auto& [slot, v] : p.values) {
      if (!v.empty()) doc->add_value(slot, v);
    }
  }

  Status Apply(const std::vector<const DocPlan*>& plans, unsigned nparts,
               uint64_t new_seq) {
    try {
      for (const DocPlan* p : plans) {
        const Xapian::docid local = (p->num - 1) / nparts + 1;
        switch (p->kind) {
          case DocPlan::Kind::kDelete:
            if (p->id_term.empty()) {
              // A removed record (no id at hand): delete by number.
              try {
                db->delete_document(local);
              } catch (const Xapian::DocNotFoundError&) {
              }
            } else if (db->term_exists(p->id_term)) {
              db->delete_document(local);
            }
            break;
          case DocPlan::Kind::kValues: {
            Xapian::Document doc;
            bool found = true;
            try {
              doc = db->get_document(local);
            } catch (const Xapian::DocNotFoundError&) {
              found = false;
            }
            if (found) {
              // Terms untouched: Xapian rewrites only the values.
              for (const auto& [slot, v] : p->values) doc.add_value(slot, v);
              db->replace_document(local, doc);
              break;
            }
            [[fallthrough]];
          }
          case DocPlan::Kind::kFull: {
            Xapian::Document doc;
            Build(*p, &doc);
            db->replace_document(local, doc);
            break;
          }
        }
      }
      db->set_metadata("seq", std::to_string(new_seq));
      db->set_metadata("schema", std::to_string(schema::kSchemaVersion));
      db->commit();
      seq = new_seq;
    } catch (const Xapian::Error& e) {
      return XapianStatus(e, "update index part");
    }
    return Status::OK();
  }
};

Result<std::unique_ptr<IndexWriter>> IndexWriter::Open(const std::string& dir,
                                                       unsigned parts_if_new) {
  namespace fs = std::filesystem;
  std::unique_ptr<IndexWriter> w(new IndexWriter());
  w->dir_ = dir;
  const std::string stub = dir + "/XAPIANDB";
  std::vector<std::string> paths;
  std::error_code ec;
  if (fs::exists(stub)) {
    std::ifstream in(stub);
    std::string backend, path;
    while (in >> backend >> path) paths.push_back(dir + "/" + path);
    if (paths.empty()) return Status::Corruption(stub + ": lists no parts");
  } else if (fs::exists(dir + "/iamglass")) {
    paths.push_back(dir);  // a single glass database
  } else {
    fs::create_directories(dir, ec);
    if (ec) return Status::IOError(dir + ": cannot create: " + ec.message());
    unsigned n = std::max(1u, parts_if_new);
    std::string text;
    for (unsigned k = 0; k < n; ++k) {
      text += "auto p" + std::to_string(k) + "\n";
      paths.push_back(dir + "/p" + std::to_string(k));
    }
    // Parts first, stub last (renamed into place), so a stub always names
    // parts that exist. Without a stub no data was ever written: whatever a
    // killed creation left behind is started afresh.
    for (const std::string& p : paths) {
      try {
        fs::remove_all(p, ec);
        Xapian::WritableDatabase db(p, Xapian::DB_CREATE_OR_OVERWRITE |
                                           Xapian::DB_BACKEND_GLASS);
        db.commit();
      } catch (const Xapian::Error& e) {
        return XapianStatus(e, "create index part " + p);
      }
    }
    {
      std::ofstream out(stub + ".tmp", std::ios::trunc);
      out << text;
      out.flush();
      if (!out) return Status::IOError(stub + ": cannot write");
    }
    fs::rename(stub + ".tmp", stub, ec);
    if (ec) return Status::IOError(stub + ": " + ec.message());
  }
  uint64_t min_seq = UINT64_MAX;
  for (const std::string& p : paths) {
    // An interrupted compaction swap: only pK.old left means the swap
    // stopped between its renames; a stray pK.compact is unfinished.
    if (!fs::exists(p) && fs::exists(p + ".old")) fs::rename(p + ".old", p, ec);
    fs::remove_all(p + ".compact", ec);
    fs::remove_all(p + ".old", ec);
    auto part = std::make_unique<Part>();
    try {
      part->db = std::make_unique<Xapian::WritableDatabase>(
          p, Xapian::DB_CREATE_OR_OPEN | Xapian::DB_BACKEND_GLASS);
      std::string schema = part->db->get_metadata("schema");
      if (!schema.empty() &&
          schema != std::to_string(schema::kSchemaVersion)) {
        return Status::InvalidArgument(
            p + ": index schema version " + schema + ", this program has " +
            std::to_string(schema::kSchemaVersion) +
            " (rebuild with check --repair)");
      }
      std::string s = part->db->get_metadata("seq");
      if (!s.empty() && !ParseUint64(s, &part->seq)) {
        return Status::Corruption(p + ": bad \"seq\" metadata \"" + s + "\"");
      }
    } catch (const Xapian::Error& e) {
      return XapianStatus(e, "open index part " + p);
    }
    part->tg.set_stemmer(part->stemmer);
    part->tg.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
    min_seq = std::min(min_seq, part->seq);
    w->parts_.push_back(std::move(part));
  }
  w->seq_ = min_seq;
  w->paths_ = paths;
  return w;
}

uint64_t IndexWriter::doccount() const {
  uint64_t n = 0;
  for (const auto& p : parts_) n += p->db ? p->db->get_doccount() : 0;
  return n;
}

Status IndexWriter::Compact() {
  TS_RETURN_IF_ERROR(Wait());
  // The parts are compacted at once, one thread each, as they are written.
  const size_t n = parts_.size();
  std::vector<Status> results(n);
  std::vector<std::thread> threads;
  for (size_t k = 0; k < n; ++k) {
    threads.emplace_back([this, k, &results] { results[k] = CompactPart(k); });
  }
  for (std::thread& t : threads) t.join();
  for (const Status& st : results) TS_RETURN_IF_ERROR(st);
  return Status::OK();
}

Status IndexWriter::CompactPart(size_t k) {
  namespace fs = std::filesystem;
  const std::string& path = paths_[k];
  const std::string tmp = path + ".compact";
  const std::string old = path + ".old";
  std::error_code ec;
  fs::remove_all(tmp, ec);
  try {
    // The writer keeps its lock while a reader copies the committed state.
    Xapian::Database src(path);
    src.compact(tmp, Xapian::DBCOMPACT_NO_RENUMBER | Xapian::Compactor::FULLER |
                         Xapian::DB_BACKEND_GLASS);
    src.close();
    parts_[k]->db->close();
    parts_[k]->db.reset();
  } catch (const Xapian::Error& e) {
    fs::remove_all(tmp, ec);
    return XapianStatus(e, "compact index part " + path);
  }
  fs::rename(path, old, ec);
  if (!ec) fs::rename(tmp, path, ec);
  if (ec) return Status::IOError("swap in compacted " + path + ": " + ec.message());
  fs::remove_all(old, ec);
  try {
    parts_[k]->db = std::make_unique<Xapian::WritableDatabase>(
        path, Xapian::DB_OPEN | Xapian::DB_BACKEND_GLASS);
  } catch (const Xapian::Error& e) {
    return XapianStatus(e, "reopen compacted index part " + path);
  }
  return Status::OK();
}

IndexWriter::~IndexWriter() { Wait().IgnoreError(); }

void IndexWriter::ApplyAsync(std::vector<DocPlan> plans, uint64_t seq) {
  const unsigned n = parts();
  // The plans are shared read-only by the part threads; each takes its own.
  auto shared = std::make_shared<std::vector<DocPlan>>(std::move(plans));
  results_.assign(n, Status::OK());
  pending_seq_ = seq;
  for (unsigned k = 0; k < n; ++k) {
    running_.emplace_back([this, shared, k, n, seq] {
      std::vector<const DocPlan*> mine;
      for (const DocPlan& p : *shared) {
        if ((p.num - 1) % n == k) mine.push_back(&p);
      }
      results_[k] = parts_[k]->Apply(mine, n, seq);
    });
  }
}

Status IndexWriter::Wait() {
  if (running_.empty()) return Status::OK();
  for (std::thread& t : running_) t.join();
  running_.clear();
  uint64_t min_seq = UINT64_MAX;
  for (const auto& p : parts_) min_seq = std::min(min_seq, p->seq);
  seq_ = min_seq;
  for (const Status& st : results_) {
    if (!st.ok()) return st;
  }
  return Status::OK();
}

void IndexWriter::Close() {
  Wait().IgnoreError();
  for (auto& p : parts_) {
    try {
      if (p->db) p->db->close();
    } catch (const Xapian::Error&) {
      // Closing after a failed commit: nothing more to lose.
    }
    p->db.reset();
  }
}

}  // namespace threadsearch
