// `depthscale tokenize --tokenizer T INPUT... --out PREFIX`: text or JSON Lines into token shards.
#include <algorithm>
#include <cstdio>
#include <memory>

#include "commands/commands.hpp"
#include "commands/exit_codes.hpp"
#include "probe/shards.hpp"

namespace depthscale::app {

namespace {

void add_tokenize_options(CLI::App& cmd, probe::TokenizeOptions& o) {
  cmd.add_option("--tokenizer", o.tokenizer,
                 "the model's tokenizer: a tokenizer.json; a GPT-2 style vocab.json or "
                 "merges.txt with the other beside it (OPT, GPT-2: special tokens and BOS from "
                 "the tokenizer_config.json / special_tokens_map.json / config.json there; OPT "
                 "prepends </s>); or a model folder (its tokenizer.json if present, else its "
                 "vocab.json + merges.txt). The shards record the tokenizer's hash: of "
                 "tokenizer.json's bytes, or of vocab.json's then merges.txt's")
      ->required()
      ->check(CLI::ExistingPath);
  cmd.add_option("inputs", o.inputs,
                 "text files (one document each) or JSON Lines (.jsonl/.ndjson/.json: one "
                 "document per line, from the text field)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd.add_option("--out", o.out_prefix, "shard prefix: writes PREFIX_000000.bin, ...")->required();
  cmd.add_option("--docs-per-shard", o.docs_per_shard, "documents per shard file")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option("--max-docs", o.max_docs, "stop after N documents (0: all)")
      ->capture_default_str();
  cmd.add_option("--max-tokens-per-doc", o.max_tokens_per_doc,
                 "truncate each document to N tokens when writing (0: keep all)")
      ->capture_default_str();
  cmd.add_option("--text-field", o.text_field, "JSON Lines field holding the text")
      ->capture_default_str();
  cmd.add_flag_callback(
      "--no-special-tokens", [&o] { o.add_special_tokens = false; },
      "do not apply the post-processor (BOS/EOS templates; OPT's </s> in front)");
  cmd.add_option("--threads", o.threads, "tokenizer threads (0: all cores)")->capture_default_str();
  cmd.add_flag("--overwrite", o.overwrite, "replace existing shards with this prefix");
}

std::string id_list(const std::vector<uint32_t>& ids) {
  std::string s;
  for (uint32_t id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
  return s.empty() ? std::string("none") : s;
}

void print(const probe::TokenizeOptions& o, const probe::TokenizeReport& r) {
  std::printf(
      "tokenize: %llu documents, %llu tokens (%.1f per document) from %.2f MB of text "
      "into %zu shard(s) %s_*.bin\n",
      static_cast<unsigned long long>(r.documents), static_cast<unsigned long long>(r.tokens),
      r.documents ? double(r.tokens) / r.documents : 0.0, r.text_bytes / 1e6, r.shards.size(),
      o.out_prefix.c_str());
  if (r.truncated)
    std::printf("tokenize: %llu documents truncated to %llu tokens\n",
                static_cast<unsigned long long>(r.truncated),
                static_cast<unsigned long long>(o.max_tokens_per_doc));
  std::printf("tokenize: tokenizer %s (hash 0x%016llx, vocab %u, %u-byte tokens)\n",
              r.tokenizer_origin.c_str(), static_cast<unsigned long long>(r.tokenizer_hash),
              r.vocab_size, r.token_width);
  // Say which special tokens went in: for vocab.json + merges.txt, BOS is inferred from the
  // config files.
  if (o.add_special_tokens)
    std::printf("tokenize: special tokens per document: before %s, after %s\n",
                id_list(r.special_prefix).c_str(), id_list(r.special_suffix).c_str());
  const double seconds = std::max(r.seconds, 1e-9);
  std::printf(
      "tokenize: %.2f s in all, %.0f tokens/s (%.2f MB/s); encoding alone %.0f "
      "tokens/s on %u thread(s)\n",
      r.seconds, r.tokens / seconds, r.text_bytes / 1e6 / seconds,
      r.tokens / std::max(r.encode_seconds, 1e-9), r.threads);
}

}  // namespace

Command add_tokenize(CLI::App& app) {
  auto opt = std::make_shared<probe::TokenizeOptions>();
  auto* cmd =
      app.add_subcommand("tokenize", "text or JSON Lines into token shards for the LLM probes");
  add_tokenize_options(*cmd, *opt);
  return {cmd,
          [opt]() -> int {
            print(*opt, probe::tokenize_files(*opt));
            return kDone;
          },
          "tokenize: "};
}

}  // namespace depthscale::app
