// Token shard files: writing, memory-mapped reading with full checks, llm.c layout, streams.
#include "probe/shards.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "probe/mapped_file.hpp"
#include "probe/tokenizer.hpp"

namespace depthscale::probe {

namespace {

// The format is little-endian on disk and read with memcpy; refuse to build elsewhere rather
// than silently byte-swap.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "token shards assume little-endian");

template <class T>
T load(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <class T>
void store(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

std::string hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

struct TokenShard::Impl {
  ShardInfo info;
  MappedFile file;
  const unsigned char* map = nullptr;  // file.data(), file.size()
  size_t size = 0;
  const unsigned char* tokens = nullptr;
  // Document boundaries: depthscale shards point into the file's index; llm.c shards get one
  // built on open (begin, end) per document.
  const unsigned char* index = nullptr;
  std::vector<std::pair<uint64_t, uint64_t>> spans;

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw ShardError(info.path + ": " + field + ": " + what);
  }
  uint32_t tok(uint64_t pos) const {
    const unsigned char* p = tokens + pos * info.token_width;
    return info.token_width == 2 ? load<uint16_t>(p) : load<uint32_t>(p);
  }
  std::pair<uint64_t, uint64_t> span(size_t i) const {
    if (index) return {load<uint64_t>(index + 8 * i), load<uint64_t>(index + 8 * (i + 1))};
    return spans[i];
  }
  void open_depthscale(const ShardReadOptions& options);
  void open_llmc(const ShardReadOptions& options);
};

void TokenShard::Impl::open_depthscale(const ShardReadOptions& options) {
  ShardInfo& h = info;
  h.format = ShardFormat::Depthscale;
  if (size < kShardHeaderBytes)
    fail("header", "truncated: " + std::to_string(size) + " bytes, the header alone is " +
                       std::to_string(kShardHeaderBytes));
  h.version = load<uint32_t>(map + 8);
  if (h.version != kShardVersion)
    fail("version", std::to_string(h.version) + " is not supported (this build reads " +
                        std::to_string(kShardVersion) + ")");
  h.token_width = load<uint32_t>(map + 12);
  h.vocab_size = load<uint32_t>(map + 16);
  const uint32_t reserved = load<uint32_t>(map + 20);
  h.tokenizer_hash = load<uint64_t>(map + 24);
  h.doc_count = load<uint64_t>(map + 32);
  h.token_count = load<uint64_t>(map + 40);
  h.first_doc = load<uint64_t>(map + 48);
  const uint64_t payload_hash = load<uint64_t>(map + 56);
  if (h.vocab_size == 0) fail("vocab_size", "0");
  if (h.token_width != 2 && h.token_width != 4)
    fail("token_width", std::to_string(h.token_width) + " (must be 2 or 4)");
  if (h.token_width != token_width_for(h.vocab_size))
    fail("token_width", std::to_string(h.token_width) + " does not match vocab_size " +
                            std::to_string(h.vocab_size) + " (expected " +
                            std::to_string(token_width_for(h.vocab_size)) + ")");
  if (reserved != 0) fail("reserved", "not 0");
  // Sizes in 128 bits' worth of care: counts from a corrupt header must not wrap around.
  const uint64_t max_count = (uint64_t(1) << 56);
  if (h.doc_count >= max_count) fail("doc_count", std::to_string(h.doc_count) + " is implausible");
  if (h.token_count >= max_count)
    fail("token_count", std::to_string(h.token_count) + " is implausible");
  const uint64_t expected =
      kShardHeaderBytes + 8 * (h.doc_count + 1) + uint64_t(h.token_width) * h.token_count;
  if (size < expected)
    fail("size", "truncated: " + std::to_string(size) + " bytes, but doc_count " +
                     std::to_string(h.doc_count) + " and token_count " +
                     std::to_string(h.token_count) + " need " + std::to_string(expected));
  if (size > expected)
    fail("size", std::to_string(size - expected) + " bytes after the last token (header says " +
                     std::to_string(expected) + " bytes in all)");
  index = map + kShardHeaderBytes;
  tokens = index + 8 * (h.doc_count + 1);
  if (options.verify_payload_hash) {
    const uint64_t got = fnv1a64(index, size - kShardHeaderBytes);
    if (got != payload_hash)
      fail("payload_hash", "the index and tokens hash to " + hex64(got) + ", header says " +
                               hex64(payload_hash) + " (file corrupted)");
  }
  uint64_t prev = load<uint64_t>(index);
  if (prev != 0) fail("index", "offset[0] is " + std::to_string(prev) + ", not 0");
  for (uint64_t i = 1; i <= h.doc_count; ++i) {
    const uint64_t off = load<uint64_t>(index + 8 * i);
    if (off < prev || off > h.token_count)
      fail("index", "offset[" + std::to_string(i) + "] = " + std::to_string(off) + " (previous " +
                        std::to_string(prev) + ", token_count " + std::to_string(h.token_count) +
                        ")");
    prev = off;
  }
  if (prev != h.token_count)
    fail("index", "the last offset is " + std::to_string(prev) + ", token_count is " +
                      std::to_string(h.token_count));
  h.max_token = 0;
  for (uint64_t i = 0; i < h.token_count; ++i) h.max_token = std::max(h.max_token, tok(i));
  if (h.token_count > 0 && h.max_token >= h.vocab_size) {
    uint64_t at = 0;
    while (tok(at) < h.vocab_size) ++at;
    fail("tokens", "token " + std::to_string(tok(at)) + " at position " + std::to_string(at) +
                       " is not below vocab_size " + std::to_string(h.vocab_size));
  }
}

void TokenShard::Impl::open_llmc(const ShardReadOptions& options) {
  ShardInfo& h = info;
  h.format = ShardFormat::Llmc;
  if (size < kLlmcHeaderBytes)
    fail("header", "truncated llm.c header: " + std::to_string(size) + " bytes of " +
                       std::to_string(kLlmcHeaderBytes));
  const int32_t magic = load<int32_t>(map);
  const int32_t version = load<int32_t>(map + 4);
  const int32_t count = load<int32_t>(map + 8);
  const bool u16 = magic == kLlmcMagicU16;
  const int32_t want_version = u16 ? kLlmcVersionU16 : kLlmcVersionU32;
  if (version != want_version)
    fail("version", "llm.c magic " + std::to_string(magic) + " with version " +
                        std::to_string(version) + " (expected " + std::to_string(want_version) +
                        ")");
  if (count < 0) fail("token_count", std::to_string(count) + " is negative");
  h.version = static_cast<uint32_t>(version);
  h.token_width = u16 ? 2 : 4;
  h.token_count = static_cast<uint64_t>(count);
  const uint64_t expected = kLlmcHeaderBytes + h.token_width * h.token_count;
  if (size < expected)
    fail("size", "truncated: " + std::to_string(size) + " bytes, but token count " +
                     std::to_string(count) + " needs " + std::to_string(expected));
  if (size > expected)
    fail("size", std::to_string(size - expected) + " bytes after the last token (header says " +
                     std::to_string(expected) + " bytes in all)");
  tokens = map + kLlmcHeaderBytes;
  const uint32_t sep = options.separator.value_or(u16 ? 50256 : 128000);
  // A document starts after each separator (or at the shard's start when the shard opens
  // mid-document) and ends before the next separator or at the shard's end.
  uint64_t begin = 0;
  bool open_doc = false;
  h.continues_previous = h.token_count > 0 && tok(0) != sep;
  if (h.continues_previous) open_doc = true;
  for (uint64_t i = 0; i < h.token_count; ++i) {
    const uint32_t t = tok(i);
    h.max_token = std::max(h.max_token, t);
    if (t != sep) continue;
    if (open_doc) spans.emplace_back(begin, i);
    begin = options.keep_separator ? i : i + 1;
    open_doc = true;
  }
  if (open_doc) spans.emplace_back(begin, h.token_count);
  h.doc_count = spans.size();
}

TokenShard::TokenShard(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TokenShard::TokenShard(TokenShard&&) noexcept = default;
TokenShard& TokenShard::operator=(TokenShard&&) noexcept = default;
TokenShard::~TokenShard() = default;

TokenShard TokenShard::open(const std::string& path, const ShardReadOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->info.path = path;
  impl->file = MappedFile::open<ShardError>(path);
  impl->map = impl->file.data();
  impl->size = impl->file.size();
  if (impl->size == 0) impl->fail("header", "empty file");
  impl->file.advise_sequential();
  if (impl->size >= 8 && std::memcmp(impl->map, kShardMagic, 8) == 0) {
    impl->open_depthscale(options);
  } else if (impl->size >= 4 && (load<int32_t>(impl->map) == kLlmcMagicU16 ||
                                 load<int32_t>(impl->map) == kLlmcMagicU32)) {
    impl->open_llmc(options);
  } else {
    std::string seen;
    for (size_t i = 0; i < std::min<size_t>(8, impl->size); ++i) {
      char b[4];
      std::snprintf(b, sizeof b, "%02x", impl->map[i]);
      seen += b;
    }
    impl->fail("magic", "not a token shard (first bytes " + seen +
                            "; expected \"DSTOKSHD\" or llm.c's 20240520 / 20240801)");
  }
  return TokenShard(std::move(impl));
}

const ShardInfo& TokenShard::info() const {
  return impl_->info;
}
size_t TokenShard::num_documents() const {
  return impl_->info.doc_count;
}

size_t TokenShard::document_size(size_t i) const {
  if (i >= impl_->info.doc_count)
    throw std::out_of_range(impl_->info.path + ": document " + std::to_string(i) + " of " +
                            std::to_string(impl_->info.doc_count));
  const auto [b, e] = impl_->span(i);
  return e - b;
}

void TokenShard::document(size_t i, std::vector<uint32_t>& out) const {
  const size_t n = document_size(i);
  const uint64_t b = impl_->span(i).first;
  out.resize(n);
  if (impl_->info.token_width == 4) {
    std::memcpy(out.data(), impl_->tokens + 4 * b, 4 * n);
  } else {
    for (size_t k = 0; k < n; ++k) out[k] = impl_->tok(b + k);
  }
}

std::vector<uint32_t> TokenShard::document(size_t i) const {
  std::vector<uint32_t> out;
  document(i, out);
  return out;
}

uint32_t TokenShard::token(uint64_t position) const {
  if (position >= impl_->info.token_count)
    throw std::out_of_range(impl_->info.path + ": token " + std::to_string(position));
  return impl_->tok(position);
}

void check_compatible(const ShardInfo& shard, uint32_t vocab_size, uint64_t tokenizer_hash,
                      bool require_known_tokenizer) {
  if (require_known_tokenizer && shard.tokenizer_hash == 0)
    throw ShardError(
        shard.path + ": tokenizer_hash: the shard records no tokenizer" +
        (shard.format == ShardFormat::Llmc
             ? std::string(" (an llm.c shard: its ids are GPT-2's, which Pythia, Qwen and OPT "
                           "do not use)")
             : std::string()) +
        ", so it cannot be shown to be tokenized for this model. Make shards with the model's "
        "own tokenizer: depthscale tokenize --tokenizer MODEL_DIR/tokenizer.json (or "
        "MODEL_DIR/vocab.json) TEXT... --out PREFIX; or, if you know these ids are the model's, "
        "set probe.check_tokenizer: false");
  if (require_known_tokenizer && tokenizer_hash == 0)
    throw ShardError(shard.path +
                     ": the model folder has no tokenizer (tokenizer.json, or vocab.json + "
                     "merges.txt) to compare the shard's with: copy the model's tokenizer files "
                     "into it, or set probe.check_tokenizer: false");
  if (shard.tokenizer_hash != 0 && tokenizer_hash != 0 && shard.tokenizer_hash != tokenizer_hash)
    throw ShardError(shard.path + ": tokenizer_hash: the shard was written with tokenizer " +
                     hex64(shard.tokenizer_hash) + ", the model's tokenizer.json hashes to " +
                     hex64(tokenizer_hash) + " (a different tokenizer: re-tokenize the text)");
  if (shard.vocab_size > vocab_size)
    throw ShardError(shard.path + ": vocab_size: the shard's tokenizer has " +
                     std::to_string(shard.vocab_size) + " ids, the model only " +
                     std::to_string(vocab_size));
  if (shard.token_count > 0 && shard.max_token >= vocab_size)
    throw ShardError(shard.path + ": tokens: id " + std::to_string(shard.max_token) +
                     " is out of range for the model's " + std::to_string(vocab_size) + " ids");
}

// ---- writing --------------------------------------------------------------------------------

void write_shard(const std::string& path, uint32_t vocab_size, uint64_t tokenizer_hash,
                 uint64_t first_doc, const std::vector<std::vector<uint32_t>>& documents) {
  if (vocab_size == 0) throw ShardError(path + ": vocab_size: 0");
  const uint32_t width = token_width_for(vocab_size);
  uint64_t token_count = 0;
  for (const auto& d : documents) token_count += d.size();

  std::string payload;
  payload.reserve(8 * (documents.size() + 1) + width * token_count);
  uint64_t off = 0;
  store<uint64_t>(payload, 0);
  for (const auto& d : documents) store<uint64_t>(payload, off += d.size());
  for (size_t di = 0; di < documents.size(); ++di) {
    for (uint32_t t : documents[di]) {
      if (t >= vocab_size)
        throw ShardError(path + ": document " + std::to_string(first_doc + di) + ": token " +
                         std::to_string(t) + " is not below vocab_size " +
                         std::to_string(vocab_size));
      if (width == 2)
        store<uint16_t>(payload, static_cast<uint16_t>(t));
      else
        store<uint32_t>(payload, t);
    }
  }
  std::string header(kShardMagic, 8);
  store<uint32_t>(header, kShardVersion);
  store<uint32_t>(header, width);
  store<uint32_t>(header, vocab_size);
  store<uint32_t>(header, 0);
  store<uint64_t>(header, tokenizer_hash);
  store<uint64_t>(header, documents.size());
  store<uint64_t>(header, token_count);
  store<uint64_t>(header, first_doc);
  store<uint64_t>(header, fnv1a64(payload.data(), payload.size()));

  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw ShardError(path + ": cannot write " + tmp);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(payload.data(), static_cast<std::streamsize>(payload.size()));
    out.flush();
    if (!out) throw ShardError(path + ": write failed (disk full?)");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw ShardError(path + ": cannot rename " + tmp + ": " + ec.message());
}

std::string shard_path(const std::string& prefix, size_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "_%06zu.bin", index);
  return prefix + buf;
}

std::vector<std::string> list_shards(const std::string& prefix) {
  std::vector<std::string> out;
  for (size_t i = 0;; ++i) {
    const std::string p = shard_path(prefix, i);
    if (!std::filesystem::exists(p)) break;
    out.push_back(p);
  }
  return out;
}

ShardWriter::ShardWriter(std::string prefix, uint32_t vocab_size, uint64_t tokenizer_hash,
                         uint64_t docs_per_shard)
    : prefix_(std::move(prefix)),
      vocab_size_(vocab_size),
      hash_(tokenizer_hash),
      docs_per_shard_(std::max<uint64_t>(1, docs_per_shard)) {}

ShardWriter::~ShardWriter() {
  if (finished_) return;
  std::error_code ec;
  for (const auto& p : written_) std::filesystem::remove(p, ec);
}

void ShardWriter::add(std::vector<uint32_t> document) {
  tokens_ += document.size();
  pending_.push_back(std::move(document));
  if (pending_.size() >= docs_per_shard_) flush();
}

void ShardWriter::flush() {
  const std::string path = shard_path(prefix_, written_.size());
  write_shard(path, vocab_size_, hash_, first_doc_, pending_);
  written_.push_back(path);
  first_doc_ += pending_.size();
  pending_.clear();
}

std::vector<std::string> ShardWriter::finish() {
  // An empty input still gets one (empty) shard, so a reader finds a file that says "0 docs".
  if (!pending_.empty() || written_.empty()) flush();
  finished_ = true;
  return written_;
}

// ---- streams --------------------------------------------------------------------------------

DocumentStream::DocumentStream(std::vector<std::string> paths, ShardReadOptions options)
    : paths_(std::move(paths)), options_(std::move(options)) {}

void DocumentStream::require(uint32_t vocab_size, uint64_t tokenizer_hash,
                             bool require_known_tokenizer) {
  required_ = Required{vocab_size, tokenizer_hash, require_known_tokenizer};
  if (shard_) check_compatible(shard_->info(), vocab_size, tokenizer_hash, require_known_tokenizer);
}

bool DocumentStream::open_next() {
  if (next_path_ >= paths_.size()) {
    shard_.reset();
    return false;
  }
  shard_ = std::make_unique<TokenShard>(TokenShard::open(paths_[next_path_++], options_));
  const ShardInfo& info = shard_->info();
  if (required_)
    check_compatible(info, required_->vocab_size, required_->tokenizer_hash,
                     required_->require_known_tokenizer);
  // depthscale shards carry their place in the stream: a missing or reordered shard between two
  // of them is an error, and indices continue from first_doc (a list may start mid-stream).
  if (info.format == ShardFormat::Depthscale) {
    if (previous_end_ && info.first_doc != *previous_end_)
      throw ShardError(info.path + ": first_doc: " + std::to_string(info.first_doc) +
                       ", but the previous shard ended at document " +
                       std::to_string(*previous_end_) + " (a shard is missing or out of order)");
    index_ = info.first_doc;
    previous_end_ = info.first_doc + info.doc_count;
  } else {
    previous_end_.reset();
  }
  doc_in_shard_ = 0;
  return true;
}

bool DocumentStream::next(Document& doc) {
  // The first shard of a stream may open mid-document (llm.c): that piece is yielded as is.
  while (!shard_ || doc_in_shard_ >= shard_->num_documents())
    if (!open_next()) return false;
  doc.index = index_++;
  shard_->document(doc_in_shard_++, doc.tokens);
  // llm.c: the last document of a shard continues into the next shards while they open
  // mid-document. Look ahead and join.
  if (shard_->info().format == ShardFormat::Llmc && doc_in_shard_ == shard_->num_documents()) {
    std::vector<uint32_t> more;
    while (next_path_ < paths_.size()) {
      TokenShard peek = TokenShard::open(paths_[next_path_], options_);
      if (!peek.info().continues_previous || peek.num_documents() == 0) break;
      if (required_)
        check_compatible(peek.info(), required_->vocab_size, required_->tokenizer_hash,
                         required_->require_known_tokenizer);
      peek.document(0, more);
      doc.tokens.insert(doc.tokens.end(), more.begin(), more.end());
      // No separator at all in that shard: the document may run on into the one after it.
      const bool whole_shard_is_continuation = peek.num_documents() == 1;
      *shard_ = std::move(peek);
      ++next_path_;
      doc_in_shard_ = 1;
      if (!whole_shard_is_continuation) break;
    }
  }
  return true;
}

}  // namespace depthscale::probe
