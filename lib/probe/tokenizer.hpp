// Byte-level BPE tokenizer read from a Hugging Face tokenizer.json (GPT-2 / GPT-NeoX / Qwen2 /
// OPT shapes). The probes must see exactly the token ids the model was trained on, so this
// follows the Rust `tokenizers` pipeline step by step:
//
//   1. added tokens with normalized=false are split off the raw text (leftmost-longest match,
//      honouring single_word / lstrip / rstrip);
//   2. the normalizer (NFC, NFD, NFKC, NFKD, or a Sequence of them) runs on the pieces between;
//   3. added tokens with normalized=true are split off the normalized pieces;
//   4. the pre-tokenizer splits each remaining piece: ByteLevel (optional prefix space, then the
//      GPT-2 regex unless use_regex=false), Split (a regex or a literal, any behavior), or a
//      Sequence of those with ByteLevel last (the Qwen2 shape: Split + ByteLevel);
//   5. each pre-token's bytes run through BPE (ranked merges, leftmost pair first on ties,
//      optional ignore_merges), with a per-thread cache;
//   6. the post-processor adds special tokens when asked (TemplateProcessing, RobertaProcessing,
//      BertProcessing; ByteLevel adds none).
//
// Regexes are Oniguruma patterns in the file; they are compiled with PCRE2 (UTF + UCP, JIT).
// Oniguruma's \s (the Unicode White_Space property) differs from PCRE2's, so \s and \S are
// rewritten into the explicit White_Space set before compiling.
//
// The tokenizer's identity (recorded in token shards) is tokenizer_file_hash(): FNV-1a 64 over
// the exact bytes of the tokenizer.json file. A re-serialised but equivalent file therefore has
// a different hash, on purpose: "same file" is the only identity we can check cheaply and exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace depthscale::probe {

// A malformed or unsupported tokenizer.json; the message names the file and the JSON key.
class TokenizerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// FNV-1a 64-bit over raw bytes (offset basis 0xcbf29ce484222325, prime 0x100000001b3). Pass the
// previous value as `state` to hash in pieces.
constexpr uint64_t kFnv1a64Offset = 0xcbf29ce484222325ULL;
uint64_t fnv1a64(const void* data, size_t size, uint64_t state = kFnv1a64Offset);

// FNV-1a 64 of a file's bytes; throws std::runtime_error naming the file when it cannot be read.
uint64_t tokenizer_file_hash(const std::string& path);

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
// On failure, `bad_offset` (when given) receives the byte offset of the first bad sequence.
bool valid_utf8(std::string_view text, size_t* bad_offset = nullptr);

struct AddedToken {
  uint32_t id = 0;
  std::string content;
  bool special = false;
  bool normalized = false;  // matched after normalization (true) or on the raw text (false)
  bool lstrip = false, rstrip = false, single_word = false;
};

class Tokenizer {
 public:
  // Reads and validates a tokenizer.json. Throws TokenizerError (or std::runtime_error when the
  // file cannot be read).
  static Tokenizer from_file(const std::string& path);
  // The same from the JSON text; `origin` names it in errors; hash() is the FNV-1a of `json`.
  static Tokenizer from_json(const std::string& json, const std::string& origin = "<memory>");

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Token ids of `text` (valid UTF-8, checked: TokenizerError otherwise). add_special_tokens
  // applies the post-processor, as Hugging Face's encode does by default. Thread-safe.
  std::vector<uint32_t> encode(std::string_view text, bool add_special_tokens = true) const;
  // Appends the ids to `out` (no reallocation of a caller's reused buffer). Thread-safe.
  void encode_into(std::string_view text, std::vector<uint32_t>& out,
                   bool add_special_tokens = true) const;

  // Text of the ids: byte-level tokens back to bytes, added tokens as their content; invalid
  // UTF-8 from a partial sequence becomes U+FFFD (as Hugging Face does). No space clean-up;
  // ids outside the vocabulary are skipped.
  std::string decode(const std::vector<uint32_t>& ids, bool skip_special_tokens = false) const;

  // The pipeline's intermediate results, for tests and diagnostics.
  std::string normalize(std::string_view text) const;
  // Pre-tokens of one piece of (normalized) text, as raw bytes (before the byte-to-unicode map).
  std::vector<std::string> pre_tokenize(std::string_view text) const;

  // One more than the largest id of the vocabulary and the added tokens (Hugging Face's
  // len(tokenizer) when ids are dense).
  uint32_t vocab_size() const;
  uint64_t hash() const;  // FNV-1a 64 of the tokenizer.json bytes
  const std::string& origin() const;
  std::optional<uint32_t> token_to_id(std::string_view token) const;  // vocab or added token
  std::string id_to_token(uint32_t id) const;  // byte-level form (e.g. "Ġthe"); "" if unknown
  const std::vector<AddedToken>& added_tokens() const;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace depthscale::probe
