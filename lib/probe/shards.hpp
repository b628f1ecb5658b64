// Token shards: documents of token ids on disk, in stream order, for the LLM probes
// (docs/experiments.md §2: documents tokenised with the model's own tokenizer, then
// padded/truncated and batched by the probe runner, which needs the document boundaries).
//
// depthscale shard format, version 1 (all integers little-endian):
//
// clang-format off
//   offset  size  field
//        0     8  magic "DSTOKSHD"
//        8     4  version (1)
//       12     4  token_width: bytes per token, 2 (uint16) when vocab_size <= 65536, else 4
//       16     4  vocab_size: one more than the largest id the tokenizer can produce
//       20     4  reserved (0)
//       24     8  tokenizer_hash: FNV-1a 64 of the tokenizer.json bytes, or of vocab.json +
//                 merges.txt (GPT-2 form)
//       32     8  doc_count
//       40     8  token_count
//       48     8  first_doc: stream index of this shard's first document (shard k of a prefix
//                 starts where shard k-1 ended)
//       56     8  payload_hash: FNV-1a 64 of everything after the header (index, then tokens)
//       64  8*(doc_count+1)   document index: uint64 offsets into the tokens, offsets[0] = 0,
//                             non-decreasing, offsets[doc_count] = token_count; document i is
//                             tokens [offsets[i], offsets[i+1])
//        …  token_width*token_count   the tokens
// clang-format on
//
// No separator tokens are stored: a document is exactly the tokenizer's output for its text
// (post-processor included), and the index carries the boundaries. Reading checks every field
// and the exact file size, the index, every token id against vocab_size, and the payload hash;
// errors (ShardError) name the file and the field.
//
// Also read: the llm.c / modded-nanogpt layout. A 256 x int32 header (magic 20240520, version 1,
// token count; uint16 tokens) or its uint32 variant (magic 20240801, version 7), then the
// tokens. Documents there are delimited by a separator token placed before each document (GPT-2's
// <|endoftext|> 50256; 128000 for the uint32 variant), and a document may run on from one shard
// into the next: DocumentStream joins those pieces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "error/error.hpp"

namespace depthscale::probe {

// A bad or incompatible shard; the message names the file and the field.
class ShardError : public depthscale::Error {
 public:
  using depthscale::Error::Error;
};

constexpr char kShardMagic[8] = {'D', 'S', 'T', 'O', 'K', 'S', 'H', 'D'};
constexpr uint32_t kShardVersion = 1;
constexpr size_t kShardHeaderBytes = 64;
constexpr int32_t kLlmcMagicU16 = 20240520, kLlmcVersionU16 = 1;
constexpr int32_t kLlmcMagicU32 = 20240801, kLlmcVersionU32 = 7;
constexpr size_t kLlmcHeaderBytes = 256 * 4;

enum class ShardFormat { Depthscale, Llmc };

struct ShardInfo {
  std::string path;
  ShardFormat format = ShardFormat::Depthscale;
  uint32_t version = 0;
  uint32_t token_width = 0;     // 2 or 4
  uint32_t vocab_size = 0;      // 0: unknown (llm.c shards)
  uint64_t tokenizer_hash = 0;  // 0: unknown (llm.c shards)
  uint64_t doc_count = 0;
  uint64_t token_count = 0;
  uint64_t first_doc = 0;
  uint32_t max_token = 0;  // largest id present (0 for an empty shard)
  // llm.c only: the shard does not start with the separator, so its first document continues
  // the previous shard's last one.
  bool continues_previous = false;
};

// Bytes per token for a vocabulary: 2 when every id fits uint16.
inline uint32_t token_width_for(uint32_t vocab_size) {
  return vocab_size <= 65536 ? 2 : 4;
}

struct ShardReadOptions {
  bool verify_payload_hash = true;  // depthscale format: FNV-1a over index and tokens
  // llm.c format: the document separator; default 50256 (uint16 layout) or 128000 (uint32).
  std::optional<uint32_t> separator;
  // llm.c format: keep the separator as the first token of each document (what a model trained
  // on those shards saw) instead of dropping it.
  bool keep_separator = false;
};

// One shard, memory-mapped and checked on open. Documents are read by index.
class TokenShard {
 public:
  static TokenShard open(const std::string& path, const ShardReadOptions& options = {});
  TokenShard(TokenShard&&) noexcept;
  TokenShard& operator=(TokenShard&&) noexcept;
  ~TokenShard();

  const ShardInfo& info() const;
  size_t num_documents() const;
  size_t document_size(size_t i) const;
  void document(size_t i, std::vector<uint32_t>& out) const;  // replaces out's contents
  std::vector<uint32_t> document(size_t i) const;
  uint32_t token(uint64_t position) const;  // position in the shard's token array

 private:
  struct Impl;
  explicit TokenShard(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Throws ShardError unless the shard can feed a model whose tokenizer (tokenizer.json, or
// vocab.json + merges.txt) has hash `tokenizer_hash` (tokenizer_file_hash) and whose embedding has
// `vocab_size` rows: the hashes must be equal, the shard's vocab_size must not exceed the model's,
// and every id present must be below it. An unknown hash (0: llm.c shards, a model folder without
// tokenizer files) is refused with a message that says how to make the right shards when
// `require_known_tokenizer` (probe.check_tokenizer, the default): max id < vocab is no guard, as
// GPT-2 ids fit every supported model's vocabulary. Without it, the hash check is skipped where
// either is unknown.
void check_compatible(const ShardInfo& shard, uint32_t vocab_size, uint64_t tokenizer_hash,
                      bool require_known_tokenizer = false);

// Writes one depthscale shard file (atomically: a temporary file renamed into place).
void write_shard(const std::string& path, uint32_t vocab_size, uint64_t tokenizer_hash,
                 uint64_t first_doc, const std::vector<std::vector<uint32_t>>& documents);

// Writes documents into PREFIX_000000.bin, PREFIX_000001.bin, ... with at most
// docs_per_shard documents each, in the order they are added.
class ShardWriter {
 public:
  ShardWriter(std::string prefix, uint32_t vocab_size, uint64_t tokenizer_hash,
              uint64_t docs_per_shard);
  // Without finish() (an error part-way), removes the shards it wrote: a failed run leaves no
  // output that looks complete.
  ~ShardWriter();
  void add(std::vector<uint32_t> document);
  // Writes the last partial shard; returns every file written.
  std::vector<std::string> finish();
  uint64_t documents() const { return first_doc_ + pending_.size(); }
  uint64_t tokens() const { return tokens_; }

 private:
  void flush();
  std::string prefix_;
  uint32_t vocab_size_;
  uint64_t hash_, docs_per_shard_, first_doc_ = 0, tokens_ = 0;
  std::vector<std::vector<uint32_t>> pending_;
  std::vector<std::string> written_;
  bool finished_ = false;
};

// PREFIX_000000.bin, PREFIX_000001.bin, ... as long as they exist (none: empty).
std::vector<std::string> list_shards(const std::string& prefix);
std::string shard_path(const std::string& prefix, size_t index);

// A document in stream order. `index` is its place in the stream: for depthscale shards the
// shard's first_doc plus its position there; for llm.c shards a count from the first shard given.
struct Document {
  uint64_t index = 0;
  std::vector<uint32_t> tokens;
};

// Documents of a list of shards in order, opening each shard when reached. For llm.c shards a
// document cut at a shard boundary is joined with its continuation; consecutive depthscale shards
// must continue each other (first_doc), else ShardError. With require(), every shard is checked
// with check_compatible as it is opened.
class DocumentStream {
 public:
  explicit DocumentStream(std::vector<std::string> paths, ShardReadOptions options = {});
  void require(uint32_t vocab_size, uint64_t tokenizer_hash, bool require_known_tokenizer = false);
  // The next document; false at the end of the last shard.
  bool next(Document& doc);

 private:
  bool open_next();
  std::vector<std::string> paths_;
  ShardReadOptions options_;
  struct Required {
    uint32_t vocab_size;
    uint64_t tokenizer_hash;
    bool require_known_tokenizer;
  };
  std::optional<Required> required_;
  size_t next_path_ = 0;
  std::unique_ptr<TokenShard> shard_;
  size_t doc_in_shard_ = 0;
  uint64_t index_ = 0;
  std::optional<uint64_t> previous_end_;  // first_doc + doc_count of the last depthscale shard
};

// ---- `depthscale tokenize` --------------------------------------------------------------------

// Inputs: a file ending in .jsonl / .ndjson / .json is JSON Lines, one document per non-blank line
// taken from the string field `text_field`; any other file is plain text and is one document.
struct TokenizeOptions {
  std::string tokenizer;
  std::vector<std::string> inputs;
  std::string out_prefix;
  uint64_t docs_per_shard = 10000;
  uint64_t max_docs = 0;            // 0: all
  uint64_t max_tokens_per_doc = 0;  // 0: keep whole documents; else truncate when writing
  std::string text_field = "text";
  bool add_special_tokens = true;  // the post-processor, as Hugging Face's default
  unsigned threads = 0;            // 0: the machine's cores
  bool overwrite = false;          // replace existing PREFIX_*.bin (else they are an error)
};

// What a tokenize run did (apps/ prints it).
struct TokenizeReport {
  uint64_t documents = 0, tokens = 0, truncated = 0;  // truncated: documents cut to max_tokens
  size_t text_bytes = 0;
  std::vector<std::string> shards;  // the files written
  double seconds = 0, encode_seconds = 0;
  unsigned threads = 0;
  std::string tokenizer_origin;  // the file(s) the tokenizer came from
  uint64_t tokenizer_hash = 0;
  uint32_t vocab_size = 0, token_width = 0;
  // The special tokens put before and after each document (empty without add_special_tokens).
  std::vector<uint32_t> special_prefix, special_suffix;
};

// Tokenises the inputs into PREFIX_000000.bin, ... Throws depthscale::Error (TokenizerError,
// ShardError, ...) naming the file, line or field.
TokenizeReport tokenize_files(const TokenizeOptions& options);

}  // namespace depthscale::probe
