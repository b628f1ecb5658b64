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
//
// GPT-2 style file pairs (vocab.json + merges.txt, as facebook/opt-* and openai-community/gpt2
// ship them, with no tokenizer.json) load through from_vocab_merges(): the same pipeline with what
// transformers' GPT2Tokenizer implies: no normalizer, ByteLevel with the GPT-2 regex and
// add_prefix_space from tokenizer_config.json (default false), special tokens from
// tokenizer_config.json (added_tokens_decoder, bos_token, eos_token, unk_token, ...) overridden by
// special_tokens_map.json, and BOS prepending as an explicit option (VocabMergesOptions::add_bos;
// OPT prepends </s>, id 2). Their identity is vocab_merges_hash(): FNV-1a 64 over the bytes of
// vocab.json followed by those of merges.txt (one running hash; the side JSON files are not part
// of it). tokenizer_hash_of_model_dir() picks the form a model folder has, as from_model_dir()
// does, so token shards and the probe runner's tokenizer check agree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "error/error.hpp"

namespace depthscale::probe {

// A malformed or unsupported tokenizer file; the message names the file and the JSON key (for
// vocab.json / merges.txt, the file and line).
class TokenizerError : public depthscale::Error {
 public:
  using depthscale::Error::Error;
};

// FNV-1a 64-bit over raw bytes (offset basis 0xcbf29ce484222325, prime 0x100000001b3). Pass the
// previous value as `state` to hash in pieces.
constexpr uint64_t kFnv1a64Offset = 0xcbf29ce484222325ULL;
uint64_t fnv1a64(const void* data, size_t size, uint64_t state = kFnv1a64Offset);

// FNV-1a 64 of a file's bytes; throws std::runtime_error naming the file when it cannot be read.
uint64_t tokenizer_file_hash(const std::string& path);

// FNV-1a 64 over vocab.json's bytes, then merges.txt's (the hash of their concatenation): the
// identity of a tokenizer loaded with from_vocab_merges(). Throws when a file cannot be read.
uint64_t vocab_merges_hash(const std::string& vocab_json_path, const std::string& merges_txt_path);

// The identity of a model folder's tokenizer, chosen as Tokenizer::from_model_dir() chooses:
// tokenizer_file_hash(<dir>/tokenizer.json) when that file exists, else
// vocab_merges_hash(<dir>/vocab.json, <dir>/merges.txt) when both exist, else nullopt.
std::optional<uint64_t> tokenizer_hash_of_model_dir(const std::string& dir);

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

// How Tokenizer::from_vocab_merges() reads a GPT-2 style vocab.json + merges.txt pair.
struct VocabMergesOptions {
  // Folder of tokenizer_config.json, special_tokens_map.json and config.json (each optional);
  // empty: the folder of vocab.json.
  std::string config_dir;
  // false: read none of those files (no added tokens; BOS only when add_bos is On, which then
  // fails for want of a bos_token).
  bool read_config_files = true;
  // Prepending the BOS token when encoding with add_special_tokens, as transformers' GPT2Tokenizer
  // does with add_bos_token=true (its converted fast tokenizer gets the same BOS template). Auto:
  // tokenizer_config.json's add_bos_token when it has one, else on when config.json's model_type
  // is "opt" (OPT was trained with </s> in front of every document). On needs a bos_token in the
  // config files.
  enum class Bos { Auto, On, Off };
  Bos add_bos = Bos::Auto;
};

class Tokenizer {
 public:
  // Reads and validates a tokenizer.json. Throws TokenizerError (or std::runtime_error when the
  // file cannot be read).
  static Tokenizer from_file(const std::string& path);
  // The same from the JSON text; `origin` names it in errors; hash() is the FNV-1a of `json`.
  static Tokenizer from_json(const std::string& json, const std::string& origin = "<memory>");
  // A GPT-2 style pair: vocab.json (an object token -> id, tokens in the byte-level alphabet) and
  // merges.txt (one "left right" merge per line, highest priority first; lines starting with
  // "#version" and blank lines are skipped, CRLF is accepted). Every merge's two tokens and their
  // concatenation must be in vocab.json. Special tokens named in the config files must be in
  // vocab.json or in added_tokens_decoder. Errors are TokenizerError naming the file and line
  // (vocab.json: the line of the offending entry). hash() is vocab_merges_hash().
  static Tokenizer from_vocab_merges(const std::string& vocab_json_path,
                                     const std::string& merges_txt_path,
                                     const VocabMergesOptions& options = {});
  // A model folder: <dir>/tokenizer.json when present (authoritative: it carries its own
  // post-processor), else <dir>/vocab.json + <dir>/merges.txt with the config files of <dir>.
  static Tokenizer from_model_dir(const std::string& dir);
  // What `depthscale tokenize --tokenizer PATH` accepts: a folder (from_model_dir); a file whose
  // name ends in "vocab.json" or "merges.txt" (the other file of the pair beside it, same prefix:
  // vocab.json + merges.txt, gpt2-vocab.json + gpt2-merges.txt; config files from that folder);
  // else a tokenizer.json.
  static Tokenizer from_path(const std::string& path);

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
  uint64_t hash() const;  // FNV-1a 64 of the tokenizer.json bytes (or vocab_merges_hash())
  // Ids encode() puts before / after the text when add_special_tokens is true (e.g. OPT's BOS).
  const std::vector<uint32_t>& special_prefix() const;
  const std::vector<uint32_t>& special_suffix() const;
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
