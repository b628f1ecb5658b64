// Text files and JSON Lines into token shards (format in shards.hpp): `depthscale tokenize`.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "probe/shards.hpp"
#include "probe/tokenizer.hpp"

namespace depthscale::probe {

namespace fs = std::filesystem;

namespace {

bool is_jsonl(const std::string& path) {
  const std::string ext = fs::path(path).extension().string();
  return ext == ".jsonl" || ext == ".ndjson" || ext == ".json";
}

struct Pending {
  std::string text;
  std::string where;  // file or file:line, for errors
};

// Reads documents from the inputs in order and hands them out in batches.
class DocumentReader {
 public:
  DocumentReader(const TokenizeOptions& o) : o_(o) {}

  // Fills `batch` with up to `max` documents; false when nothing is left.
  bool read(std::vector<Pending>& batch, size_t max, size_t& bytes) {
    batch.clear();
    while (batch.size() < max) {
      if (!in_.is_open()) {
        if (next_file_ >= o_.inputs.size()) break;
        path_ = o_.inputs[next_file_++];
        line_ = 0;
        in_.open(path_, std::ios::binary);
        if (!in_) throw Error(path_ + ": cannot read");
        if (!is_jsonl(path_)) {
          std::ostringstream ss;
          ss << in_.rdbuf();
          in_.close();
          Pending p{ss.str(), path_};
          size_t bad = 0;
          if (!valid_utf8(p.text, &bad)) {
            const size_t line = 1 + std::count(p.text.begin(), p.text.begin() + bad, '\n');
            throw Error(path_ + ":" + std::to_string(line) + ": not valid UTF-8 (byte offset " +
                        std::to_string(bad) + ")");
          }
          bytes += p.text.size();
          batch.push_back(std::move(p));
          continue;
        }
      }
      std::string line;
      if (!std::getline(in_, line)) {
        in_.close();
        continue;
      }
      ++line_;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank line
      const std::string where = path_ + ":" + std::to_string(line_);
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception& e) {
        throw Error(where + ": not a JSON line: " + e.what());
      }
      auto it = j.is_object() ? j.find(o_.text_field) : j.end();
      if (!j.is_object() || it == j.end() || !it->is_string())
        throw Error(where + ": no string field \"" + o_.text_field + "\"");
      Pending p{it->get<std::string>(), where};
      bytes += p.text.size();
      batch.push_back(std::move(p));
    }
    return !batch.empty();
  }

 private:
  const TokenizeOptions& o_;
  size_t next_file_ = 0;
  std::string path_;
  size_t line_ = 0;
  std::ifstream in_;
};

// Worker threads that live for the whole run: the tokenizer's word cache and PCRE2 state are
// per thread, so threads made afresh for every batch would start cold each time.
class WorkerPool {
 public:
  explicit WorkerPool(unsigned n) {
    for (unsigned w = 1; w < n; ++w) threads_.emplace_back([this] { loop(); });
  }
  ~WorkerPool() {
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = true;
    }
    start_.notify_all();
    for (auto& t : threads_) t.join();
  }
  // Runs job() on every worker and on the caller; returns when all have returned.
  void run(const std::function<void()>& job) {
    {
      std::lock_guard<std::mutex> lock(m_);
      job_ = &job;
      busy_ = threads_.size();
      ++generation_;
    }
    start_.notify_all();
    job();
    std::unique_lock<std::mutex> lock(m_);
    done_.wait(lock, [this] { return busy_ == 0; });
  }

 private:
  void loop() {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void()>* job;
      {
        std::unique_lock<std::mutex> lock(m_);
        start_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        job = job_;
      }
      (*job)();
      std::lock_guard<std::mutex> lock(m_);
      if (--busy_ == 0) done_.notify_one();
    }
  }
  std::vector<std::thread> threads_;
  std::mutex m_;
  std::condition_variable start_, done_;
  const std::function<void()>* job_ = nullptr;
  size_t busy_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

// Encodes a batch on the pool; documents are handed out one at a time (lengths vary a lot) and
// results stay in input order.
void encode_batch(const Tokenizer& tok, const std::vector<Pending>& batch, bool special,
                  WorkerPool& pool, std::vector<std::vector<uint32_t>>& out) {
  out.assign(batch.size(), {});
  std::vector<std::string> errors(batch.size());
  std::atomic<size_t> next{0};
  const std::function<void()> work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < batch.size();) {
      try {
        tok.encode_into(batch[i].text, out[i], special);
      } catch (const std::exception& e) {
        errors[i] = batch[i].where + ": " + e.what();
      }
    }
  };
  pool.run(work);
  for (const auto& e : errors)
    if (!e.empty()) throw Error(e);
}

}  // namespace

TokenizeReport tokenize_files(const TokenizeOptions& o) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const Tokenizer tok = Tokenizer::from_path(o.tokenizer);
  const auto existing = list_shards(o.out_prefix);
  if (!existing.empty()) {
    if (!o.overwrite)
      throw Error(existing.front() + " exists (use --overwrite to replace the " +
                  std::to_string(existing.size()) + " shard(s) of this prefix)");
    for (const auto& p : existing) fs::remove(p);
  }
  const fs::path parent = fs::path(o.out_prefix).parent_path();
  if (!parent.empty()) fs::create_directories(parent);

  TokenizeReport r;
  r.threads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  ShardWriter writer(o.out_prefix, tok.vocab_size(), tok.hash(), o.docs_per_shard);
  WorkerPool pool(r.threads);
  DocumentReader reader(o);
  std::vector<Pending> batch;
  std::vector<std::vector<uint32_t>> ids;
  const size_t batch_docs = 256 * r.threads;
  while (o.max_docs == 0 || r.documents < o.max_docs) {
    size_t want = batch_docs;
    if (o.max_docs) want = std::min<uint64_t>(want, o.max_docs - r.documents);
    if (!reader.read(batch, want, r.text_bytes)) break;
    const auto e0 = clock::now();
    encode_batch(tok, batch, o.add_special_tokens, pool, ids);
    r.encode_seconds += std::chrono::duration<double>(clock::now() - e0).count();
    for (auto& d : ids) {
      if (o.max_tokens_per_doc && d.size() > o.max_tokens_per_doc) {
        d.resize(o.max_tokens_per_doc);
        ++r.truncated;
      }
      writer.add(std::move(d));
    }
    r.documents += batch.size();
  }
  r.tokens = writer.tokens();
  r.shards = writer.finish();
  r.seconds = std::chrono::duration<double>(clock::now() - t0).count();
  r.tokenizer_origin = tok.origin();
  r.tokenizer_hash = tok.hash();
  r.vocab_size = tok.vocab_size();
  r.token_width = token_width_for(tok.vocab_size());
  if (o.add_special_tokens) {
    r.special_prefix = tok.special_prefix();
    r.special_suffix = tok.special_suffix();
  }
  return r;
}

}  // namespace depthscale::probe
