#include "indexer/index_writer.h"

#include <xapian.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <unordered_map>

#include "common/collection.h"
#include "common/open_files.h"
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

// The merged runs of a part: "seq" is the newest segment's, the largest
// (an older segment stopped setting it when a newer one began); every other
// key is the same in all of them.
class RunMerger : public Xapian::Compactor {
 public:
  std::string resolve_duplicate_metadata(const std::string& key,
                                         size_t num_tags,
                                         const std::string tags[]) override {
    // Glass hands the key over as stored: "\0\xc0" + the user's key.
    const std::string_view k(key);
    if (k != "seq" && k != std::string_view("\0\xc0seq", 5)) return tags[0];
    size_t best = 0;
    uint64_t best_seq = 0;
    for (size_t i = 0; i < num_tags; ++i) {
      uint64_t v = 0;
      if (ParseUint64(tags[i], &v) && v >= best_seq) {
        best = i;
        best_seq = v;
      }
    }
    return tags[best];
  }
};

using RunList = std::vector<std::pair<Xapian::docid, std::string>>;

// The runs of the part at `path`, sorted by their first docid; unfinished
// ones (".new": killed while being created, so empty) are removed. An
// unreadable directory is an error: a run overlooked would lose documents.
Status ListRuns(const std::string& path, RunList* runs) {
  namespace fs = std::filesystem;
  runs->clear();
  const fs::path p(path);
  const std::string prefix = p.filename().string() + ".run-";
  std::vector<fs::path> stale;
  std::error_code ec;
  fs::directory_iterator it(p.parent_path(), ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    uint64_t first = 0;
    if (ParseUint64(name.substr(prefix.size()), &first) && first > 0 &&
        first <= UINT32_MAX) {
      runs->emplace_back(static_cast<Xapian::docid>(first),
                         it->path().string());
    } else {
      stale.push_back(it->path());
    }
  }
  if (ec) {
    return Status::IOError(p.parent_path().string() + ": list runs: " +
                           ec.message());
  }
  for (const fs::path& s : stale) fs::remove_all(s, ec);
  std::sort(runs->begin(), runs->end());
  return Status::OK();
}

// Finishes a merge (IndexWriter::CompactPart) once pK.merged is whole: the
// part's runs are removed (before pK is replaced, so that a run that could
// not be removed stops the swap, and the next Open tries again), then
// pK.merged replaces pK.
Status FinishMerge(const std::string& p) {
  namespace fs = std::filesystem;
  RunList runs;
  TS_RETURN_IF_ERROR(ListRuns(p, &runs));
  std::error_code ec;
  for (const auto& [first, path] : runs) {
    fs::remove_all(path, ec);
    if (ec) {
      return Status::IOError(path + ": remove merged run: " + ec.message());
    }
  }
  const std::string old = p + ".old";
  if (fs::exists(p, ec)) {
    fs::remove_all(old, ec);
    fs::rename(p, old, ec);
    if (ec) {
      return Status::IOError(p + ": swap in merged part: " + ec.message());
    }
  }
  TS_RETURN_IF_ERROR(RenameDurably(p + ".merged", p));
  fs::remove_all(old, ec);
  return Status::OK();
}

// How many runs a part may have: an open segment holds four or five file
// descriptors and the merge opens each once more, so every segment of every
// part is given 12 of the open-file limit (raised to its hard limit first).
size_t MaxRunsPerPart(size_t parts) {
  const uint64_t limit = RaiseOpenFileLimit();
  const uint64_t segments = limit / 12 / std::max<size_t>(1, parts);
  return static_cast<size_t>(std::clamp<uint64_t>(segments, 2, 201) - 1);
}

}  // namespace

struct IndexWriter::Part {
  // The base (first == 1), then the runs by first docid: a document lives
  // in the last segment whose first is not above its docid.
  struct Segment {
    Xapian::docid first = 1;
    std::string path;
    std::unique_ptr<Xapian::WritableDatabase> db;
  };
  std::vector<Segment> segs;
  Xapian::TermGenerator tg;
  Xapian::Stem stemmer{new CachedStemmer};
  uint64_t seq = 0;
  uint64_t docs_at_open = 0;

  Xapian::WritableDatabase& For(Xapian::docid did) {
    auto it = std::upper_bound(
        segs.begin(), segs.end(), did,
        [](Xapian::docid d, const Segment& s) { return d < s.first; });
    return *std::prev(it)->db;
  }

  uint64_t doccount() const {
    uint64_t n = 0;
    for (const Segment& s : segs) n += s.db ? s.db->get_doccount() : 0;
    return n;
  }

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

  // Starts a run when the newest segment is full (see index_writer.h).
  // Created beside its name and renamed into place with "seq" committed, so
  // a run Open() finds is whole. Throws Xapian::Error.
  Status MaybeStartRun(uint64_t run_docs, size_t max_runs,
                       Xapian::docid batch_last) {
    if (run_docs == 0 || segs.size() > max_runs) return Status::OK();  // full
    const uint64_t total = doccount();
    if (total < docs_at_open || (total - docs_at_open) * 10 < docs_at_open) {
      return Status::OK();  // a small change: no merge worth paying for
    }
    Xapian::WritableDatabase& newest = *segs.back().db;
    // Runs keep to run_docs while the part has room for more of them; past
    // that they grow with the part, so their number stays near max_runs.
    const uint64_t divisor = std::max<uint64_t>(16, max_runs / 2);
    if (batch_last <= newest.get_lastdocid() ||
        newest.get_doccount() < std::max(run_docs, total / divisor)) {
      return Status::OK();  // nothing new for a run, or the newest has room
    }
    Segment run;
    run.first = newest.get_lastdocid() + 1;
    run.path = segs.front().path + ".run-" + std::to_string(run.first);
    namespace fs = std::filesystem;
    const std::string fresh = run.path + ".new";
    std::error_code ec;
    fs::remove_all(fresh, ec);
    {
      Xapian::WritableDatabase db(
          fresh, Xapian::DB_CREATE_OR_OVERWRITE | Xapian::DB_BACKEND_GLASS);
      db.set_metadata("seq", std::to_string(seq));
      db.set_metadata("schema", std::to_string(schema::kSchemaVersion));
      db.commit();
      db.close();
    }
    TS_RETURN_IF_ERROR(RenameDurably(fresh, run.path));
    run.db = std::make_unique<Xapian::WritableDatabase>(
        run.path, Xapian::DB_OPEN | Xapian::DB_BACKEND_GLASS);
    segs.push_back(std::move(run));
    return Status::OK();
  }

  Status Apply(const std::vector<const DocPlan*>& plans, unsigned nparts,
               uint64_t new_seq, uint64_t run_docs, size_t max_runs) {
    try {
      Xapian::docid batch_last = 0;
      for (const DocPlan* p : plans) {
        batch_last = std::max(batch_last, (p->num - 1) / nparts + 1);
      }
      TS_RETURN_IF_ERROR(MaybeStartRun(run_docs, max_runs, batch_last));
      // A part without runs (a live writer's) records the documents the
      // commit replaces or deletes (schema::ChangedDocs), so that readers
      // holding arrays of its last revision patch them.
      // The batch is one transaction there, so that no automatic flush
      // (every 10,000 changes) makes a revision without a record.
      const bool record = segs.size() == 1;
      schema::ChangedDocs changed;
      if (record) {
        Xapian::WritableDatabase& base = *segs.front().db;
        changed.uuid = base.get_uuid();
        changed.last_before = base.get_lastdocid();
        changed.docs_before = base.get_doccount();
        changed.length_before = base.get_total_length();
        base.begin_transaction();
      }
      for (const DocPlan* p : plans) {
        const Xapian::docid local = (p->num - 1) / nparts + 1;
        if (record && local <= changed.last_before) {
          changed.docs.push_back(local);
        }
        Xapian::WritableDatabase& db = For(local);
        switch (p->kind) {
          case DocPlan::Kind::kDelete:
            if (p->id_term.empty()) {
              // A removed record (no id at hand): delete by number.
              try {
                db.delete_document(local);
              } catch (const Xapian::DocNotFoundError&) {
              }
            } else if (db.term_exists(p->id_term)) {
              db.delete_document(local);
            }
            break;
          case DocPlan::Kind::kValues: {
            Xapian::Document doc;
            bool found = true;
            try {
              doc = db.get_document(local);
            } catch (const Xapian::DocNotFoundError&) {
              found = false;
            }
            if (found) {
              // Terms untouched: Xapian rewrites only the values.
              for (const auto& [slot, v] : p->values) doc.add_value(slot, v);
              db.replace_document(local, doc);
              break;
            }
            [[fallthrough]];
          }
          case DocPlan::Kind::kFull: {
            Xapian::Document doc;
            Build(*p, &doc);
            db.replace_document(local, doc);
            break;
          }
        }
      }
      // Older segments first (a commit without changes writes nothing),
      // the newest last with the batch's seq.
      for (size_t i = 0; i + 1 < segs.size(); ++i) segs[i].db->commit();
      Xapian::WritableDatabase& newest = *segs.back().db;
      newest.set_metadata("seq", std::to_string(new_seq));
      newest.set_metadata("schema", std::to_string(schema::kSchemaVersion));
      if (record) {
        std::sort(changed.docs.begin(), changed.docs.end());
        changed.docs.erase(
            std::unique(changed.docs.begin(), changed.docs.end()),
            changed.docs.end());
        // The revision this commit makes (the metadata set above makes one
        // whatever the batch held).
        const Xapian::rev next = newest.get_revision() + 1;
        newest.set_metadata(schema::ChangedKey(next),
                            schema::EncodeChanged(changed));
        if (next > schema::kChangedKept) {
          newest.set_metadata(schema::ChangedKey(next - schema::kChangedKept),
                              "");
        }
        newest.commit_transaction();
      } else {
        newest.commit();
      }
      seq = new_seq;
    } catch (const Xapian::Error& e) {
      // A failed batch leaves nothing behind (a transaction is cancelled).
      try {
        if (segs.size() == 1) segs.front().db->cancel_transaction();
      } catch (const Xapian::Error&) {
      }
      return XapianStatus(e, "update index part");
    }
    return Status::OK();
  }
};

Result<std::unique_ptr<IndexWriter>> IndexWriter::Open(const std::string& dir,
                                                       unsigned parts_if_new,
                                                       uint64_t run_docs) {
  namespace fs = std::filesystem;
  std::unique_ptr<IndexWriter> w(new IndexWriter());
  w->dir_ = dir;
  const std::string stub = dir + "/XAPIANDB";
  std::vector<std::string> paths;
  std::error_code ec;
  bool single = false;
  if (fs::exists(stub)) {
    std::ifstream in(stub);
    std::string backend, path;
    while (in >> backend >> path) paths.push_back(dir + "/" + path);
    if (paths.empty()) return Status::Corruption(stub + ": lists no parts");
  } else if (fs::exists(dir + "/iamglass")) {
    paths.push_back(dir);  // a single glass database
    single = true;
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
    TS_RETURN_IF_ERROR(WriteFileAtomically(stub, text));
  }
  // Runs live beside the parts of a stub; a single database has none.
  w->run_docs_ = single ? 0 : run_docs;
  w->max_runs_ = MaxRunsPerPart(paths.size());
  uint64_t min_seq = UINT64_MAX;
  // Recovery renames before any Xapian lock is taken: the Indexer holds the
  // store's lock first, so there is one writer.
  for (const std::string& p : paths) {
    // An interrupted compaction swap (see CompactPart): pK.merged is the
    // merged part, complete, and replaces pK and its runs; only pK.old left
    // means an older swap stopped between its renames; a stray pK.compact
    // is unfinished.
    if (fs::exists(p + ".merged", ec)) {
      TS_RETURN_IF_ERROR(FinishMerge(p));
    } else if (!fs::exists(p, ec) && fs::exists(p + ".old", ec)) {
      fs::rename(p + ".old", p, ec);
      if (ec) return Status::IOError(p + ": finish swap: " + ec.message());
    }
    fs::remove_all(p + ".compact", ec);
    fs::remove_all(p + ".old", ec);
    auto part = std::make_unique<Part>();
    RunList runs;
    if (!single) TS_RETURN_IF_ERROR(ListRuns(p, &runs));
    try {
      part->segs.push_back({1, p, nullptr});
      for (const auto& [first, path] : runs) {
        part->segs.push_back({first, path, nullptr});
      }
      for (Part::Segment& s : part->segs) {
        s.db = std::make_unique<Xapian::WritableDatabase>(
            s.path, Xapian::DB_CREATE_OR_OPEN | Xapian::DB_BACKEND_GLASS);
      }
      Xapian::WritableDatabase& base = *part->segs.front().db;
      std::string schema = base.get_metadata("schema");
      if (!schema.empty() &&
          schema != std::to_string(schema::kSchemaVersion)) {
        return Status::InvalidArgument(
            p + ": index schema version " + schema + ", this program has " +
            std::to_string(schema::kSchemaVersion) +
            " (rebuild with check --repair)");
      }
      // The newest segment's seq is the part's (index_writer.h).
      std::string s = part->segs.back().db->get_metadata("seq");
      if (!s.empty() && !ParseUint64(s, &part->seq)) {
        return Status::Corruption(part->segs.back().path +
                                  ": bad \"seq\" metadata \"" + s + "\"");
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
  // Runs a killed writer left: readers see only the base parts.
  if (w->runs() > 0) TS_RETURN_IF_ERROR(w->CompactParts(true));
  for (auto& part : w->parts_) part->docs_at_open = part->doccount();
  return w;
}

uint64_t IndexWriter::doccount() const {
  uint64_t n = 0;
  for (const auto& p : parts_) n += p->doccount();
  return n;
}

size_t IndexWriter::runs() const {
  size_t n = 0;
  for (const auto& p : parts_) n += p->segs.size() - 1;
  return n;
}

Status IndexWriter::Compact() { return CompactParts(false); }

Status IndexWriter::CompactParts(bool only_with_runs) {
  TS_RETURN_IF_ERROR(Wait());
  // The parts are compacted at once, one thread each, as they are written.
  const size_t n = parts_.size();
  std::vector<Status> results(n);
  std::vector<std::thread> threads;
  for (size_t k = 0; k < n; ++k) {
    if (only_with_runs && parts_[k]->segs.size() == 1) continue;
    threads.emplace_back([this, k, &results] { results[k] = CompactPart(k); });
  }
  for (std::thread& t : threads) t.join();
  for (const Status& st : results) TS_RETURN_IF_ERROR(st);
  for (auto& part : parts_) part->docs_at_open = part->doccount();
  return Status::OK();
}

Status IndexWriter::CompactPart(size_t k) {
  namespace fs = std::filesystem;
  Part& part = *parts_[k];
  const std::string& path = paths_[k];
  const std::string tmp = path + ".compact";
  std::error_code ec;
  fs::remove_all(tmp, ec);
  try {
    // The writers keep their locks while readers copy the committed state.
    Xapian::Database src(path);
    for (size_t i = 1; i < part.segs.size(); ++i) {
      src.add_database(Xapian::Database(part.segs[i].path));
    }
    RunMerger merger;
    src.compact(tmp,
                Xapian::DBCOMPACT_NO_RENUMBER | Xapian::Compactor::FULLER |
                    Xapian::DB_BACKEND_GLASS,
                0, merger);
    src.close();
    for (Part::Segment& s : part.segs) {
      s.db->close();
      s.db.reset();
    }
  } catch (const Xapian::Error& e) {
    fs::remove_all(tmp, ec);
    return XapianStatus(e, "compact index part " + path);
  }
  // The merged part is whole once renamed: from here Open() finishes the
  // swap (runs removed, then pK replaced).
  TS_RETURN_IF_ERROR(RenameDurably(tmp, path + ".merged"));
  part.segs.resize(1);
  TS_RETURN_IF_ERROR(FinishMerge(path));
  try {
    part.segs[0].db = std::make_unique<Xapian::WritableDatabase>(
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
      results_[k] = parts_[k]->Apply(mine, n, seq, run_docs_, max_runs_);
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
    for (Part::Segment& s : p->segs) {
      try {
        if (s.db) s.db->close();
      } catch (const Xapian::Error&) {
        // Closing after a failed commit: nothing more to lose.
      }
      s.db.reset();
    }
  }
}

}  // namespace threadsearch
