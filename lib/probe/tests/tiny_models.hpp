// Tiny random models of each family written as Hugging Face folders by the tests themselves (no
// Python): config.json from the text given, weights from expected_weights() drawn at random.
#pragma once

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/types.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "probe/model.hpp"
#include "probe/safetensors.hpp"
#include "probe/tests/test_util.hpp"

namespace depthscale::probe::testing {

// config.json of a small model of each family: GPT-NeoX with partial rotary, Qwen2 with
// grouped-query attention (4 query heads on 2 kv heads), OPT. `parallel` only for GPT-NeoX.
inline std::string tiny_config(Family f, bool parallel = true) {
  switch (f) {
    case Family::gpt_neox:
      return std::string(R"({"model_type": "gpt_neox", "hidden_size": 32, "num_hidden_layers": 2,
        "num_attention_heads": 4, "intermediate_size": 64, "vocab_size": 50,
        "max_position_embeddings": 64, "rotary_pct": 0.5, "use_parallel_residual": )") +
             (parallel ? "true" : "false") + "}";
    case Family::qwen2:
      return R"({"model_type": "qwen2", "hidden_size": 32, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 48,
        "vocab_size": 50, "max_position_embeddings": 64, "tie_word_embeddings": false})";
    case Family::opt:
      return R"({"model_type": "opt", "hidden_size": 32, "num_hidden_layers": 2,
        "num_attention_heads": 4, "ffn_dim": 64, "vocab_size": 50,
        "max_position_embeddings": 32})";
  }
  return "";
}

// A fresh folder under the temporary directory, removed by the destructor.
inline void write_config(const std::filesystem::path& dir, const std::string& json) {
  std::ofstream(dir / "config.json") << json;
}

// config.json and model.safetensors with N(0, 0.02²) weights (norm gains 1 + N(0, 0.02²)).
inline void write_random_model(const std::filesystem::path& dir, const std::string& json,
                               uint64_t seed = 1) {
  write_config(dir, json);
  auto gen = at::detail::createCPUGenerator(seed);
  std::map<std::string, torch::Tensor> w;
  for (const auto& s : expected_weights(read_config(dir.string()))) {
    auto t = at::normal(0.0, 0.02, s.shape, gen);
    const bool gain = s.shape.size() == 1 && s.name.find("norm") != std::string::npos &&
                      s.name.size() > 7 && s.name.compare(s.name.size() - 7, 7, ".weight") == 0;
    w[s.name] = gain ? t + 1.0 : t;
  }
  write_safetensors((dir / "model.safetensors").string(), w);
}

}  // namespace depthscale::probe::testing
