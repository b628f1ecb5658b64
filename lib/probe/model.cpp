#include "probe/model.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "probe/logsumexp.hpp"

namespace depthscale::probe {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using torch::Tensor;

std::string shape_str(const std::vector<int64_t>& shape) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << ']';
  return os.str();
}

// Typed access to config.json; every complaint names the file and the key.
class ConfigJson {
 public:
  explicit ConfigJson(const std::string& model_dir)
      : file_((fs::path(model_dir) / "config.json").string()) {
    std::ifstream in(file_);
    if (!in) throw ModelError(file_ + ": cannot open (a Hugging Face model directory needs it)");
    try {
      j_ = json::parse(in);
    } catch (const json::exception& e) {
      throw ModelError(file_ + ": not valid JSON: " + e.what());
    }
    if (!j_.is_object()) throw ModelError(file_ + ": not a JSON object");
  }
  const std::string& file() const { return file_; }
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw ModelError(file_ + ": key '" + key + "': " + what);
  }
  // Present and not null (HF writes null for unset optional keys).
  bool has(const std::string& key) const { return j_.contains(key) && !j_[key].is_null(); }

  int64_t positive_int(const std::string& key) const {
    if (!has(key)) fail(key, "missing (required)");
    return check_positive(key);
  }
  int64_t positive_int(const std::string& key, int64_t fallback) const {
    return has(key) ? check_positive(key) : fallback;
  }
  double number(const std::string& key, double fallback) const {
    if (!has(key)) return fallback;
    if (!j_[key].is_number()) fail(key, "not a number");
    return j_[key].get<double>();
  }
  bool boolean(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    if (!j_[key].is_boolean()) fail(key, "not true/false");
    return j_[key].get<bool>();
  }
  std::string string(const std::string& key, const std::string& fallback) const {
    if (!has(key)) {
      if (fallback.empty()) fail(key, "missing (required)");
      return fallback;
    }
    if (!j_[key].is_string()) fail(key, "not a string");
    return j_[key].get<std::string>();
  }
  // A feature we do not implement: an error if the key is set to anything but `ok`.
  void require_unset_or(const std::string& key, const json& ok, const std::string& why) const {
    if (has(key) && j_[key] != ok)
      fail(key, "value " + j_[key].dump() + " is not supported (" + why + ")");
  }
  void require_null(const std::string& key, const std::string& why) const {
    if (has(key)) fail(key, "value " + j_[key].dump() + " is not supported (" + why + ")");
  }

  // RoPE settings in both forms transformers writes: top-level keys (`theta_keys`, e.g.
  // rope_theta; `partial_keys`, e.g. rotary_pct; rope_scaling) and, from transformers 5, the
  // rope_parameters mapping {rope_type, rope_theta, partial_rotary_factor, ...}, which replaces
  // them. Only plain RoPE is implemented: any other rope_type, or a scaling factor, is refused
  // rather than silently run as plain RoPE. Where both forms give a value they must agree.
  struct Rope {
    double theta;
    std::optional<double> partial;  // fraction of head_dim rotated, when the config says
  };
  Rope rope(const std::vector<std::string>& theta_keys,
            const std::vector<std::string>& partial_keys, double default_theta) const {
    Rope r{default_theta, std::nullopt};
    std::optional<double> top_theta;
    for (const auto& k : theta_keys)
      if (has(k)) {
        top_theta = number(k, 0);
        break;
      }
    for (const auto& k : partial_keys)
      if (has(k)) {
        r.partial = number(k, 0);
        break;
      }
    for (const char* key : {"rope_scaling", "rope_parameters"}) {
      if (!has(key)) continue;
      const json& p = j_[key];
      if (!p.is_object()) fail(key, "not a JSON object");
      const std::string where = std::string(key) + ".";
      std::string type = "default";
      for (const char* t : {"rope_type", "type"})
        if (p.contains(t) && !p[t].is_null()) {
          if (!p[t].is_string()) fail(where + t, "not a string");
          type = p[t].get<std::string>();
        }
      if (type != "default")
        fail(where + "rope_type", "'" + type +
                                      "' is not implemented (only plain RoPE, rope_type "
                                      "'default'; the model's positions would be wrong)");
      if (p.contains("factor") && !p["factor"].is_null() && p["factor"] != 1 && p["factor"] != 1.0)
        fail(where + "factor", "value " + p["factor"].dump() +
                                   " is not supported (rotary scaling is not implemented)");
      auto value = [&](const char* k) -> std::optional<double> {
        if (!p.contains(k) || p[k].is_null()) return std::nullopt;
        if (!p[k].is_number()) fail(where + k, "not a number");
        return p[k].get<double>();
      };
      if (auto t = value("rope_theta")) {
        if (top_theta && *top_theta != *t)
          fail(where + "rope_theta", "is " + p["rope_theta"].dump() + " but the top-level " +
                                         theta_keys.front() + " says " +
                                         std::to_string(*top_theta));
        top_theta = t;
      }
      if (auto f = value("partial_rotary_factor")) {
        if (r.partial && *r.partial != *f)
          fail(where + "partial_rotary_factor",
               "disagrees with the top-level " + partial_keys.front());
        r.partial = f;
      }
    }
    if (top_theta) r.theta = *top_theta;
    if (!(r.theta > 0)) fail(theta_keys.front(), "must be positive");
    return r;
  }

 private:
  int64_t check_positive(const std::string& key) const {
    if (!j_[key].is_number_integer() || j_[key].get<int64_t>() <= 0)
      fail(key, "not a positive integer");
    return j_[key].get<int64_t>();
  }
  std::string file_;
  json j_;
};

Activation parse_activation(const ConfigJson& c, const std::string& key,
                            const std::string& fallback) {
  const std::string a = c.string(key, fallback);
  if (a == "gelu") return Activation::gelu;  // HF's "gelu" is the exact erf form
  if (a == "gelu_new" || a == "gelu_pytorch_tanh" || a == "gelu_fast") return Activation::gelu_tanh;
  if (a == "relu") return Activation::relu;
  if (a == "silu" || a == "swish") return Activation::silu;
  c.fail(key, "activation '" + a + "' is not supported (gelu, gelu_new, relu, silu)");
}

Tensor activate(const Tensor& x, Activation a) {
  switch (a) {
    case Activation::gelu:
      return at::gelu(x);
    case Activation::gelu_tanh:
      return at::gelu(x, "tanh");
    case Activation::relu:
      return at::relu(x);
    case Activation::silu:
      return at::silu(x);
  }
  return x;
}

std::string layer(const char* prefix, int64_t l, const char* rest) {
  return std::string(prefix) + std::to_string(l) + "." + rest;
}

// The model's base-model prefix: a checkpoint saved from the bare model (GPTNeoXModel, OPTModel)
// lacks it, and Hugging Face loads it all the same.
std::string base_prefix(Family f) {
  switch (f) {
    case Family::gpt_neox:
      return "gpt_neox.";
    case Family::qwen2:
      return "model.";
    case Family::opt:
      return "model.";
  }
  return "";
}

// Loads every expected weight, checking presence, dtype and shape.
std::map<std::string, Tensor> load_weights(const std::string& model_dir, const ModelConfig& config,
                                           torch::Dtype dtype, torch::Device device) {
  Checkpoint ckpt(model_dir);
  const std::string prefix = base_prefix(config.family);
  // Weights of more layers than config.json gives would otherwise be left out without a word: a
  // truncated model whose numbers look plausible. "layers.<i>." after the start or a '.'.
  int64_t weight_layers = 0;
  for (const auto& name : ckpt.names()) {
    for (size_t at = name.find("layers."); at != std::string::npos;
         at = name.find("layers.", at + 1)) {
      if (at > 0 && name[at - 1] != '.') continue;
      size_t end = at + 7;
      int64_t index = 0;
      while (end < name.size() && std::isdigit(static_cast<unsigned char>(name[end])) &&
             index < (int64_t(1) << 40))
        index = index * 10 + (name[end++] - '0');
      if (end > at + 7 && end < name.size() && name[end] == '.')
        weight_layers = std::max(weight_layers, index + 1);
    }
  }
  if (weight_layers > config.num_layers)
    throw ModelError(model_dir + "/config.json: num_hidden_layers is " +
                     std::to_string(config.num_layers) + " but the weights (" + ckpt.source() +
                     ") hold " + std::to_string(weight_layers) +
                     " layers: a config.json of another model? (refusing to probe a truncated "
                     "model)");
  std::map<std::string, Tensor> out;
  for (const auto& spec : expected_weights(config)) {
    std::string name = spec.name;
    if (!ckpt.contains(name) && name.rfind(prefix, 0) == 0 &&
        ckpt.contains(name.substr(prefix.size())))
      name = name.substr(prefix.size());
    const TensorInfo& info = ckpt.info(name);  // throws naming tensor and file
    if (info.dtype != "F32" && info.dtype != "F16" && info.dtype != "BF16" && info.dtype != "F64")
      throw ModelError(info.file + ": tensor '" + name + "': dtype " + info.dtype +
                       " is not a floating-point weight type (F32, F16, BF16)");
    if (info.shape != spec.shape)
      throw ModelError(info.file + ": tensor '" + name + "': shape " + shape_str(info.shape) +
                       " but config.json implies " + shape_str(spec.shape));
    out[spec.name] = ckpt.load(name, dtype).to(device);
  }
  return out;
}

// --- shared pieces ------------------------------------------------------------------------------

Tensor rms_norm(const Tensor& x, const Tensor& weight, double eps) {
  // As HF's Qwen2RMSNorm: normalise in FP32, cast back, then scale.
  auto xf = x.to(torch::kFloat32);
  auto normed = xf * at::rsqrt(xf.pow(2).mean(-1, true) + eps);
  return weight * normed.to(x.scalar_type());
}

Tensor layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps) {
  return at::layer_norm(x, {x.size(-1)}, w, b, eps);
}

// [B, T, n·hd] → [B, n, T, hd]
Tensor heads(const Tensor& x, int64_t n, int64_t hd) {
  return x.view({x.size(0), x.size(1), n, hd}).transpose(1, 2);
}

// Rotary embedding on the first cos.size(-1) dims of each head (HF's rotate_half layout: the
// pairs are (i, i + rd/2)).
Tensor rotate(const Tensor& x, const Tensor& cos, const Tensor& sin) {
  const int64_t rd = cos.size(-1);
  const int64_t hd = x.size(-1);
  auto xr = rd == hd ? x : x.narrow(-1, 0, rd);
  auto x1 = xr.narrow(-1, 0, rd / 2), x2 = xr.narrow(-1, rd / 2, rd / 2);
  auto rotated = xr * cos + at::cat({-x2, x1}, -1) * sin;
  return rd == hd ? rotated : at::cat({rotated, x.narrow(-1, rd, hd - rd)}, -1);
}

}  // namespace

std::string family_name(Family f) {
  switch (f) {
    case Family::gpt_neox:
      return "gpt_neox";
    case Family::qwen2:
      return "qwen2";
    case Family::opt:
      return "opt";
  }
  return "?";
}

ModelConfig read_config(const std::string& model_dir) {
  ConfigJson c(model_dir);
  ModelConfig m;
  const std::string type = c.string("model_type", "");
  if (type == "gpt_neox")
    m.family = Family::gpt_neox;
  else if (type == "qwen2")
    m.family = Family::qwen2;
  else if (type == "opt")
    m.family = Family::opt;
  else
    c.fail("model_type", "'" + type + "' is not supported (gpt_neox, qwen2, opt)");

  m.hidden_size = c.positive_int("hidden_size");
  m.num_layers = c.positive_int("num_hidden_layers");
  m.num_heads = c.positive_int("num_attention_heads");
  m.num_kv_heads = m.num_heads;
  m.vocab_size = c.positive_int("vocab_size");
  if (m.family != Family::qwen2 || !c.has("head_dim")) {
    if (m.hidden_size % m.num_heads != 0)
      c.fail("num_attention_heads", "does not divide hidden_size " + std::to_string(m.hidden_size));
    m.head_dim = m.hidden_size / m.num_heads;
  }

  switch (m.family) {
    case Family::gpt_neox: {
      m.intermediate_size = c.positive_int("intermediate_size");
      m.max_positions = c.positive_int("max_position_embeddings", 2048);
      const auto rope = c.rope({"rotary_emb_base", "rope_theta"},
                               {"rotary_pct", "partial_rotary_factor"}, 10000.0);
      const char* pct_key = "rotary_pct";
      const double pct = rope.partial.value_or(0.25);
      if (!(pct >= 0.0 && pct <= 1.0)) c.fail(pct_key, "must lie in [0, 1]");
      m.rotary_dims = int64_t(double(m.head_dim) * pct);  // int() as HF truncates
      if (m.rotary_dims % 2 != 0) c.fail(pct_key, "gives an odd number of rotary dims");
      m.rope_theta = rope.theta;
      m.parallel_residual = c.boolean("use_parallel_residual", true);
      m.norm_eps = c.number("layer_norm_eps", 1e-5);
      m.activation = parse_activation(c, "hidden_act", "gelu");
      m.tie_word_embeddings = c.boolean("tie_word_embeddings", false);
      m.attention_bias = c.boolean("attention_bias", true);
      break;
    }
    case Family::qwen2: {
      m.intermediate_size = c.positive_int("intermediate_size");
      m.max_positions = c.positive_int("max_position_embeddings", 32768);
      m.num_kv_heads = c.positive_int("num_key_value_heads", m.num_heads);
      if (m.num_heads % m.num_kv_heads != 0)
        c.fail("num_key_value_heads", "does not divide num_attention_heads");
      if (c.has("head_dim")) m.head_dim = c.positive_int("head_dim");
      m.rotary_dims = m.head_dim;
      if (m.rotary_dims % 2 != 0) c.fail("head_dim", "must be even for rotary embeddings");
      const auto rope = c.rope({"rope_theta"}, {"partial_rotary_factor"}, 10000.0);
      if (rope.partial && *rope.partial != 1.0)
        c.fail("partial_rotary_factor",
               "Qwen2 rotates the whole head (got " + std::to_string(*rope.partial) + ")");
      m.rope_theta = rope.theta;
      m.norm_eps = c.number("rms_norm_eps", 1e-6);
      m.activation = parse_activation(c, "hidden_act", "silu");
      m.tie_word_embeddings = c.boolean("tie_word_embeddings", false);
      c.require_unset_or("use_sliding_window", false, "sliding-window attention");
      break;
    }
    case Family::opt: {
      m.intermediate_size = c.positive_int("ffn_dim");
      m.max_positions = c.positive_int("max_position_embeddings");
      m.norm_eps = 1e-5;  // nn.LayerNorm's default; OPT's config has no key for it
      m.activation = parse_activation(c, "activation_function", "relu");
      m.tie_word_embeddings = c.boolean("tie_word_embeddings", true);
      c.require_unset_or("do_layer_norm_before", true,
                         "post-LN OPT (opt-350m) is not supported; only pre-LN");
      if (c.positive_int("word_embed_proj_dim", m.hidden_size) != m.hidden_size)
        c.fail("word_embed_proj_dim",
               "differs from hidden_size (project_in/project_out are not supported)");
      c.require_unset_or("enable_bias", true, "OPT without biases");
      c.require_unset_or("layer_norm_elementwise_affine", true, "layer norms without weights");
      c.require_unset_or("_remove_final_layer_norm", false, "OPT without the final layer norm");
      break;
    }
  }
  return m;
}

std::vector<WeightSpec> expected_weights(const ModelConfig& c) {
  const int64_t H = c.hidden_size, I = c.intermediate_size, V = c.vocab_size;
  std::vector<WeightSpec> w;
  auto add = [&](std::string name, std::vector<int64_t> shape) {
    w.push_back({std::move(name), std::move(shape)});
  };
  switch (c.family) {
    case Family::gpt_neox: {
      const char* p = "gpt_neox.layers.";
      add("gpt_neox.embed_in.weight", {V, H});
      for (int64_t l = 0; l < c.num_layers; ++l) {
        for (const char* ln : {"input_layernorm.", "post_attention_layernorm."}) {
          add(layer(p, l, (std::string(ln) + "weight").c_str()), {H});
          add(layer(p, l, (std::string(ln) + "bias").c_str()), {H});
        }
        add(layer(p, l, "attention.query_key_value.weight"), {3 * H, H});
        if (c.attention_bias) add(layer(p, l, "attention.query_key_value.bias"), {3 * H});
        add(layer(p, l, "attention.dense.weight"), {H, H});
        if (c.attention_bias) add(layer(p, l, "attention.dense.bias"), {H});
        add(layer(p, l, "mlp.dense_h_to_4h.weight"), {I, H});
        add(layer(p, l, "mlp.dense_h_to_4h.bias"), {I});
        add(layer(p, l, "mlp.dense_4h_to_h.weight"), {H, I});
        add(layer(p, l, "mlp.dense_4h_to_h.bias"), {H});
      }
      add("gpt_neox.final_layer_norm.weight", {H});
      add("gpt_neox.final_layer_norm.bias", {H});
      if (!c.tie_word_embeddings) add("embed_out.weight", {V, H});
      break;
    }
    case Family::qwen2: {
      const char* p = "model.layers.";
      const int64_t q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim;
      add("model.embed_tokens.weight", {V, H});
      for (int64_t l = 0; l < c.num_layers; ++l) {
        add(layer(p, l, "self_attn.q_proj.weight"), {q, H});
        add(layer(p, l, "self_attn.q_proj.bias"), {q});
        add(layer(p, l, "self_attn.k_proj.weight"), {kv, H});
        add(layer(p, l, "self_attn.k_proj.bias"), {kv});
        add(layer(p, l, "self_attn.v_proj.weight"), {kv, H});
        add(layer(p, l, "self_attn.v_proj.bias"), {kv});
        add(layer(p, l, "self_attn.o_proj.weight"), {H, q});
        add(layer(p, l, "mlp.gate_proj.weight"), {I, H});
        add(layer(p, l, "mlp.up_proj.weight"), {I, H});
        add(layer(p, l, "mlp.down_proj.weight"), {H, I});
        add(layer(p, l, "input_layernorm.weight"), {H});
        add(layer(p, l, "post_attention_layernorm.weight"), {H});
      }
      add("model.norm.weight", {H});
      if (!c.tie_word_embeddings) add("lm_head.weight", {V, H});
      break;
    }
    case Family::opt: {
      const char* p = "model.decoder.layers.";
      add("model.decoder.embed_tokens.weight", {V, H});
      add("model.decoder.embed_positions.weight", {c.max_positions + 2, H});
      for (int64_t l = 0; l < c.num_layers; ++l) {
        for (const char* proj : {"q_proj.", "k_proj.", "v_proj.", "out_proj."}) {
          add(layer(p, l, ("self_attn." + std::string(proj) + "weight").c_str()), {H, H});
          add(layer(p, l, ("self_attn." + std::string(proj) + "bias").c_str()), {H});
        }
        for (const char* ln : {"self_attn_layer_norm.", "final_layer_norm."}) {
          add(layer(p, l, (std::string(ln) + "weight").c_str()), {H});
          add(layer(p, l, (std::string(ln) + "bias").c_str()), {H});
        }
        add(layer(p, l, "fc1.weight"), {I, H});
        add(layer(p, l, "fc1.bias"), {I});
        add(layer(p, l, "fc2.weight"), {H, I});
        add(layer(p, l, "fc2.bias"), {H});
      }
      add("model.decoder.final_layer_norm.weight", {H});
      add("model.decoder.final_layer_norm.bias", {H});
      if (!c.tie_word_embeddings) add("lm_head.weight", {V, H});
      break;
    }
  }
  return w;
}

// --- the shared forward -------------------------------------------------------------------------

torch::Tensor CausalLM::check_mask(const Tensor& input_ids, const Tensor& mask) const {
  if (input_ids.dim() != 2) throw ModelError("input_ids must be [B, T]");
  if (!mask.defined() || mask.sizes() != input_ids.sizes())
    throw ModelError("attention_mask must have the shape of input_ids [B, T]");
  auto m = mask.to(torch::kCPU).to(torch::kInt64);
  if (m.numel() > 0) {
    if (m.min().item<int64_t>() < 0 || m.max().item<int64_t>() > 1)
      throw ModelError("attention_mask must hold 0 and 1 only");
    if (m.size(1) > 1 &&
        (m.narrow(1, 1, m.size(1) - 1) > m.narrow(1, 0, m.size(1) - 1)).any().item<bool>())
      throw ModelError("attention_mask is not right-padded (a 1 follows a 0)");
  }
  return m.to(device_);
}

CausalLM::Context CausalLM::make_context(const Tensor& mask) const {
  Context ctx;
  const int64_t T = mask.size(1);
  auto opts = torch::TensorOptions().device(device_);
  auto causal = at::ones({T, T}, opts.dtype(torch::kBool)).tril();
  ctx.blocked = (causal.view({1, 1, T, T}) & mask.to(torch::kBool).view({mask.size(0), 1, 1, T}))
                    .logical_not();
  ctx.all_keys = mask.numel() > 0 && (mask.sum(1) == 0).any().item<bool>();
  if (config_.rotary_dims > 0) {
    const int64_t rd = config_.rotary_dims;
    auto f32 = opts.dtype(torch::kFloat32);
    // inv_freq and the angles in FP32, as HF computes them, whatever the model dtype.
    auto inv_freq = 1.0 / at::pow(config_.rope_theta, at::arange(0, rd, 2, f32) / double(rd));
    auto freqs = at::outer(at::arange(T, f32), inv_freq);
    auto emb = at::cat({freqs, freqs}, -1);
    ctx.cos = emb.cos().to(dtype_);
    ctx.sin = emb.sin().to(dtype_);
  }
  return ctx;
}

ModelOutput CausalLM::forward(const Tensor& input_ids, const Tensor& attention_mask,
                              bool with_logits) const {
  at::NoGradGuard no_grad;
  auto mask = check_mask(input_ids, attention_mask);
  auto ids = input_ids.to(device_).to(torch::kInt64);
  if (ids.numel() > 0 &&
      (ids.min().item<int64_t>() < 0 || ids.max().item<int64_t>() >= vocab_size()))
    throw ModelError("input_ids outside [0, vocab_size = " + std::to_string(vocab_size()) + ")");
  auto ctx = make_context(mask);
  ModelOutput out;
  out.hidden.reserve(config_.num_layers + 1);
  auto h = embed(ids, mask);
  out.hidden.push_back(h);
  for (int l = 0; l < num_layers(); ++l) {
    h = block(l, h, ctx);
    out.hidden.push_back(h);
  }
  if (with_logits) out.logits = readout(h);
  return out;
}

void CausalLM::set_block_elements(int64_t elements) {
  if (elements < 1) throw ModelError("block_elements must be >= 1");
  block_elements_ = elements;
}

Tensor CausalLM::readout_via_last_block(const Tensor& h, const Tensor& attention_mask) const {
  at::NoGradGuard no_grad;
  if (h.dim() != 3 || h.size(2) != hidden_size())
    throw ModelError("readout_via_last_block: h must be [B, T, hidden_size]");
  auto mask = check_mask(h.select(2, 0), attention_mask);
  auto ctx = make_context(mask);
  return readout(block(num_layers() - 1, h.to(device_, dtype_), ctx));
}

Tensor CausalLM::last_block(const Tensor& h, const Tensor& attention_mask) const {
  at::NoGradGuard no_grad;
  if (h.dim() != 3 || h.size(2) != hidden_size())
    throw ModelError("last_block: h must be [B, T, hidden_size]");
  auto mask = check_mask(h.select(2, 0), attention_mask);
  return block(num_layers() - 1, h.to(device_, dtype_), make_context(mask));
}

Tensor CausalLM::readout_cross_entropy(const Tensor& h, const Tensor& target) const {
  at::NoGradGuard no_grad;
  if (h.dim() != 2 || h.size(1) != hidden_size())
    throw ModelError("readout_cross_entropy: h must be [n, hidden_size]");
  if (target.dim() != 1 || target.size(0) != h.size(0))
    throw ModelError("readout_cross_entropy: target must be [n]");
  const int64_t n = h.size(0), V = vocab_size();
  auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  auto ce = at::empty({n}, f32);
  if (n == 0) return ce;
  auto x = final_norm(h).contiguous();
  const auto& w = head_weight();
  if (!device_.is_cpu()) {  // row blocks of at most 2^27 logits (MetricsOptions' max_logits)
    auto t = target.to(device_).to(torch::kInt64);
    const int64_t rows = std::max<int64_t>(1, (int64_t(1) << 27) / std::max<int64_t>(V, 1));
    for (int64_t a = 0; a < n; a += rows) {
      const int64_t r = std::min(rows, n - a);
      auto z = at::linear(x.narrow(0, a, r), w).to(torch::kFloat32);
      ce.narrow(0, a, r).copy_(
          (z.logsumexp(-1) - z.gather(1, t.narrow(0, a, r).unsqueeze(1)).squeeze(1))
              .to(torch::kCPU));
    }
    return ce;
  }
  auto tgt = target.to(torch::kCPU).to(torch::kInt64).contiguous();
  const int64_t* tp = tgt.data_ptr<int64_t>();
  const int64_t R = std::min(n, kReadoutTileRows);
  const int64_t C = std::min(V, std::max<int64_t>(64, kReadoutTile / R / 64 * 64));
  auto tile = at::empty({R * C}, x.options());
  auto tile32 = dtype_ == torch::kFloat32 ? tile : at::empty({R * C}, f32);
  auto max = at::empty({R}, f32);
  auto sum = at::empty({R}, f32.dtype(torch::kFloat64));
  auto picked = at::empty({R}, f32);
  float* ce_p = ce.data_ptr<float>();
  for (int64_t r0 = 0; r0 < n; r0 += R) {
    const int64_t r = std::min(R, n - r0);
    const auto xr = x.narrow(0, r0, r);
    float* mp = max.data_ptr<float>();
    double* sp = sum.data_ptr<double>();
    float* pp = picked.data_ptr<float>();
    std::fill(mp, mp + r, -std::numeric_limits<float>::infinity());
    std::fill(sp, sp + r, 0.0);
    std::fill(pp, pp + r, std::numeric_limits<float>::quiet_NaN());
    for (int64_t v0 = 0; v0 < V; v0 += C) {
      const int64_t c = std::min(C, V - v0);
      auto z = tile.narrow(0, 0, r * c).view({r, c});
      at::mm_out(z, xr, w.narrow(0, v0, c).t());
      auto z32 = tile32.narrow(0, 0, r * c).view({r, c});
      if (dtype_ != torch::kFloat32) z32.copy_(z);
      const float* zp = z32.data_ptr<float>();
      at::parallel_for(0, r, 16, [&](int64_t a, int64_t e) {
        online_logsumexp(zp + a * c, e - a, c, c, v0, tp + r0 + a, mp + a, sp + a, pp + a);
      });
    }
    for (int64_t i = 0; i < r; ++i)
      ce_p[r0 + i] = float(double(mp[i]) + std::log(sp[i]) - double(pp[i]));
  }
  return ce;
}

Tensor CausalLM::final_norm(const Tensor& h) const {
  at::NoGradGuard no_grad;
  return apply_final_norm(h.to(device_, dtype_));
}

Tensor CausalLM::readout(const Tensor& h) const {
  at::NoGradGuard no_grad;
  return at::linear(final_norm(h), head_weight());
}

namespace {

// softmax(q·kᵀ·scale) v over the keys not blocked, softmax in FP32. q [B, nh, T, hd], k/v [B, kvh,
// T, hd]. Query rows go in blocks whose scores hold at most max_scores elements (at least one
// row); a block stops at its last row's keys (later keys are blocked for every row that has an
// allowed key, and exp(lowest − max) = 0), unless all_keys. Returns [B, T, nh·hd].
Tensor attend(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& blocked,
              bool all_keys, double scale, int64_t max_scores) {
  const int64_t B = q.size(0), nh = q.size(1), T = q.size(2), hd = q.size(3), kvh = k.size(1);
  // Grouped-query attention: query head h uses kv head h / g (HF's repeat_kv), so the g query
  // heads of kv head j are rows of one [g·r, hd] block against it, and k, v are not repeated.
  const int64_t g = nh / kvh;
  const int64_t rows = std::clamp<int64_t>(max_scores / std::max<int64_t>(B * nh * T, 1), 1,
                                           std::max<int64_t>(T, 1));
  const auto kt = k.transpose(-1, -2).contiguous();  // [B, kvh, hd, T]
  const auto vc = v.contiguous();
  auto out = at::empty({B, T, nh, hd}, q.options());
  for (int64_t a = 0; a < T; a += rows) {
    const int64_t r = std::min(rows, T - a), keys = all_keys ? T : a + r;
    auto scores = at::matmul(q.narrow(2, a, r).reshape({B, kvh, g * r, hd}), kt.narrow(3, 0, keys));
    if (scale != 1.0) scores.mul_(scale);
    auto s32 = scores.to(torch::kFloat32).view({B, nh, r, keys});  // scores itself when FP32
    scores = Tensor();
    // A masked key gets the lowest finite value, not −inf: a row with no allowed key (an
    // all-padding row) then averages instead of giving NaN.
    s32.masked_fill_(blocked.narrow(2, a, r).narrow(3, 0, keys),
                     std::numeric_limits<float>::lowest());
    auto probs = s32.softmax(-1);
    s32 = Tensor();
    probs = probs.to(q.scalar_type());
    auto block = at::matmul(probs.view({B, kvh, g * r, keys}), vc.narrow(2, 0, keys));
    probs = Tensor();
    out.narrow(1, a, r).copy_(block.view({B, nh, r, hd}).transpose(1, 2));
  }
  return out.view({B, T, nh * hd});
}

// f (a per-token map [n, d] → [n, d']) on the rows of x [B, T, d] in blocks of at most
// max(1, ⌊max_elements / width⌋) rows, width = the widest intermediate of f; one call when they
// all fit.
template <class F>
Tensor by_rows(const Tensor& x, int64_t width, int64_t max_elements, F&& f) {
  const int64_t B = x.size(0), T = x.size(1), N = B * T;
  const int64_t rows = std::max<int64_t>(1, max_elements / std::max<int64_t>(width, 1));
  if (rows >= N) return f(x);
  const auto flat = x.reshape({N, x.size(2)});
  Tensor out;
  for (int64_t a = 0; a < N; a += rows) {
    const int64_t n = std::min(rows, N - a);
    auto y = f(flat.narrow(0, a, n));
    if (!out.defined()) out = at::empty({N, y.size(1)}, y.options());
    out.narrow(0, a, n).copy_(y);
  }
  return out.view({B, T, out.size(1)});
}

// --- GPT-NeoX -----------------------------------------------------------------------------------

class GptNeoX : public CausalLM {
 public:
  GptNeoX(ModelConfig c, std::map<std::string, Tensor> w, torch::Dtype dt, torch::Device dev)
      : CausalLM(std::move(c), dt, dev) {
    embed_ = w.at("gpt_neox.embed_in.weight");
    for (int64_t l = 0; l < config_.num_layers; ++l) {
      auto get = [&](const char* rest) {
        auto it = w.find(layer("gpt_neox.layers.", l, rest));
        return it == w.end() ? Tensor() : it->second;
      };
      layers_.push_back(
          {get("input_layernorm.weight"), get("input_layernorm.bias"),
           get("post_attention_layernorm.weight"), get("post_attention_layernorm.bias"),
           get("attention.query_key_value.weight"), get("attention.query_key_value.bias"),
           get("attention.dense.weight"), get("attention.dense.bias"),
           get("mlp.dense_h_to_4h.weight"), get("mlp.dense_h_to_4h.bias"),
           get("mlp.dense_4h_to_h.weight"), get("mlp.dense_4h_to_h.bias")});
    }
    norm_w_ = w.at("gpt_neox.final_layer_norm.weight");
    norm_b_ = w.at("gpt_neox.final_layer_norm.bias");
    head_ = config_.tie_word_embeddings ? embed_ : w.at("embed_out.weight");
  }

 protected:
  struct Layer {
    Tensor ln1_w, ln1_b, ln2_w, ln2_b, qkv_w, qkv_b, dense_w, dense_b, up_w, up_b, down_w, down_b;
  };

  Tensor embed(const Tensor& ids, const Tensor&) const override {
    return at::embedding(embed_, ids);
  }

  Tensor block(int l, const Tensor& h, const Context& ctx) const override {
    const auto& L = layers_[l];
    const int64_t B = h.size(0), T = h.size(1), nh = config_.num_heads, hd = config_.head_dim;
    auto x = layer_norm(h, L.ln1_w, L.ln1_b, config_.norm_eps);
    // The fused projection is laid out per head: [q_h | k_h | v_h] for each head h.
    auto qkv = at::linear(x, L.qkv_w, L.qkv_b).view({B, T, nh, 3 * hd}).transpose(1, 2);
    auto q = qkv.narrow(-1, 0, hd), k = qkv.narrow(-1, hd, hd), v = qkv.narrow(-1, 2 * hd, hd);
    if (config_.rotary_dims > 0) {
      q = rotate(q, ctx.cos, ctx.sin);
      k = rotate(k, ctx.cos, ctx.sin);
    }
    auto attn = at::linear(
        attend(q, k, v, ctx.blocked, ctx.all_keys, 1.0 / std::sqrt(double(hd)), block_elements_),
        L.dense_w, L.dense_b);
    x = qkv = q = k = v = Tensor();  // before the MLP's blocks
    auto mlp = [&](const Tensor& y) {
      return by_rows(y, config_.intermediate_size, block_elements_, [&](const Tensor& rows) {
        auto z = layer_norm(rows, L.ln2_w, L.ln2_b, config_.norm_eps);
        return at::linear(activate(at::linear(z, L.up_w, L.up_b), config_.activation), L.down_w,
                          L.down_b);
      });
    };
    if (config_.parallel_residual) return h + attn + mlp(h);  // x + attn(ln1(x)) + mlp(ln2(x))
    auto y = h + attn;
    attn = Tensor();
    return y + mlp(y);
  }

  Tensor apply_final_norm(const Tensor& h) const override {
    return layer_norm(h, norm_w_, norm_b_, config_.norm_eps);
  }
  const Tensor& head_weight() const override { return head_; }

 private:
  Tensor embed_, norm_w_, norm_b_, head_;
  std::vector<Layer> layers_;
};

// --- Qwen2 --------------------------------------------------------------------------------------

class Qwen2 : public CausalLM {
 public:
  Qwen2(ModelConfig c, std::map<std::string, Tensor> w, torch::Dtype dt, torch::Device dev)
      : CausalLM(std::move(c), dt, dev) {
    embed_ = w.at("model.embed_tokens.weight");
    for (int64_t l = 0; l < config_.num_layers; ++l) {
      auto get = [&](const char* rest) { return w.at(layer("model.layers.", l, rest)); };
      layers_.push_back({get("input_layernorm.weight"), get("post_attention_layernorm.weight"),
                         get("self_attn.q_proj.weight"), get("self_attn.q_proj.bias"),
                         get("self_attn.k_proj.weight"), get("self_attn.k_proj.bias"),
                         get("self_attn.v_proj.weight"), get("self_attn.v_proj.bias"),
                         get("self_attn.o_proj.weight"), get("mlp.gate_proj.weight"),
                         get("mlp.up_proj.weight"), get("mlp.down_proj.weight")});
    }
    norm_w_ = w.at("model.norm.weight");
    head_ = config_.tie_word_embeddings ? embed_ : w.at("lm_head.weight");
  }

 protected:
  struct Layer {
    Tensor ln1, ln2, q_w, q_b, k_w, k_b, v_w, v_b, o_w, gate, up, down;
  };

  Tensor embed(const Tensor& ids, const Tensor&) const override {
    return at::embedding(embed_, ids);
  }

  Tensor block(int l, const Tensor& h, const Context& ctx) const override {
    const auto& L = layers_[l];
    const auto& c = config_;
    auto x = rms_norm(h, L.ln1, c.norm_eps);
    auto q = rotate(heads(at::linear(x, L.q_w, L.q_b), c.num_heads, c.head_dim), ctx.cos, ctx.sin);
    auto k =
        rotate(heads(at::linear(x, L.k_w, L.k_b), c.num_kv_heads, c.head_dim), ctx.cos, ctx.sin);
    auto v = heads(at::linear(x, L.v_w, L.v_b), c.num_kv_heads, c.head_dim);
    auto y = h + at::linear(attend(q, k, v, ctx.blocked, ctx.all_keys,
                                   1.0 / std::sqrt(double(c.head_dim)), block_elements_),
                            L.o_w);
    x = q = k = v = Tensor();  // before the MLP's blocks
    // SwiGLU: gate, act(gate), up and their product, [rows, I] each, exist at once.
    return y + by_rows(y, c.intermediate_size, block_elements_, [&](const Tensor& rows) {
             auto z = rms_norm(rows, L.ln2, c.norm_eps);
             auto gated = activate(at::linear(z, L.gate), c.activation) * at::linear(z, L.up);
             return at::linear(gated, L.down);
           });
  }

  Tensor apply_final_norm(const Tensor& h) const override {
    return rms_norm(h, norm_w_, config_.norm_eps);
  }
  const Tensor& head_weight() const override { return head_; }

 private:
  Tensor embed_, norm_w_, head_;
  std::vector<Layer> layers_;
};

// --- OPT ----------------------------------------------------------------------------------------

class Opt : public CausalLM {
 public:
  // OPT's learned positions are shifted by 2 (rows 0 and 1 were reserved for padding in fairseq).
  static constexpr int64_t kPositionOffset = 2;

  Opt(ModelConfig c, std::map<std::string, Tensor> w, torch::Dtype dt, torch::Device dev)
      : CausalLM(std::move(c), dt, dev) {
    embed_ = w.at("model.decoder.embed_tokens.weight");
    positions_ = w.at("model.decoder.embed_positions.weight");
    for (int64_t l = 0; l < config_.num_layers; ++l) {
      auto get = [&](const char* rest) { return w.at(layer("model.decoder.layers.", l, rest)); };
      layers_.push_back({get("self_attn_layer_norm.weight"), get("self_attn_layer_norm.bias"),
                         get("final_layer_norm.weight"), get("final_layer_norm.bias"),
                         get("self_attn.q_proj.weight"), get("self_attn.q_proj.bias"),
                         get("self_attn.k_proj.weight"), get("self_attn.k_proj.bias"),
                         get("self_attn.v_proj.weight"), get("self_attn.v_proj.bias"),
                         get("self_attn.out_proj.weight"), get("self_attn.out_proj.bias"),
                         get("fc1.weight"), get("fc1.bias"), get("fc2.weight"), get("fc2.bias")});
    }
    norm_w_ = w.at("model.decoder.final_layer_norm.weight");
    norm_b_ = w.at("model.decoder.final_layer_norm.bias");
    head_ = config_.tie_word_embeddings ? embed_ : w.at("lm_head.weight");
  }

 protected:
  struct Layer {
    Tensor ln1_w, ln1_b, ln2_w, ln2_b, q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b, fc1_w, fc1_b, fc2_w,
        fc2_b;
  };

  Tensor embed(const Tensor& ids, const Tensor& mask) const override {
    if (ids.size(1) > config_.max_positions)
      throw ModelError("OPT: sequence length " + std::to_string(ids.size(1)) +
                       " exceeds max_position_embeddings " + std::to_string(config_.max_positions));
    // HF: positions = cumsum(mask)·mask − 1 (padding → −1), then + offset.
    auto pos = at::cumsum(mask, 1) * mask - 1 + kPositionOffset;
    return at::embedding(embed_, ids) + at::embedding(positions_, pos);
  }

  Tensor block(int l, const Tensor& h, const Context& ctx) const override {
    const auto& L = layers_[l];
    const auto& c = config_;
    auto x = layer_norm(h, L.ln1_w, L.ln1_b, c.norm_eps);
    // HF scales q by head_dim^−½ before the product.
    auto q = heads(at::linear(x, L.q_w, L.q_b) * std::pow(double(c.head_dim), -0.5), c.num_heads,
                   c.head_dim);
    auto k = heads(at::linear(x, L.k_w, L.k_b), c.num_heads, c.head_dim);
    auto v = heads(at::linear(x, L.v_w, L.v_b), c.num_heads, c.head_dim);
    auto y = h + at::linear(attend(q, k, v, ctx.blocked, ctx.all_keys, 1.0, block_elements_), L.o_w,
                            L.o_b);
    x = q = k = v = Tensor();  // before the MLP's blocks
    return y + by_rows(y, c.intermediate_size, block_elements_, [&](const Tensor& rows) {
             auto z = layer_norm(rows, L.ln2_w, L.ln2_b, c.norm_eps);
             return at::linear(activate(at::linear(z, L.fc1_w, L.fc1_b), c.activation), L.fc2_w,
                               L.fc2_b);
           });
  }

  Tensor apply_final_norm(const Tensor& h) const override {
    return layer_norm(h, norm_w_, norm_b_, config_.norm_eps);
  }
  const Tensor& head_weight() const override { return head_; }

 private:
  Tensor embed_, positions_, norm_w_, norm_b_, head_;
  std::vector<Layer> layers_;
};

}  // namespace

std::unique_ptr<CausalLM> CausalLM::load(const std::string& model_dir, torch::Dtype dtype,
                                         torch::Device device) {
  if (dtype != torch::kFloat32 && dtype != torch::kBFloat16 && dtype != torch::kFloat16 &&
      dtype != torch::kFloat64)
    throw ModelError("model dtype must be float32, bfloat16, float16 or float64");
  auto config = read_config(model_dir);
  auto weights = load_weights(model_dir, config, dtype, device);
  spdlog::debug("loaded {} ({} layers, d = {}, vocab {}) from {}", family_name(config.family),
                config.num_layers, config.hidden_size, config.vocab_size, model_dir);
  switch (config.family) {
    case Family::gpt_neox:
      return std::make_unique<GptNeoX>(std::move(config), std::move(weights), dtype, device);
    case Family::qwen2:
      return std::make_unique<Qwen2>(std::move(config), std::move(weights), dtype, device);
    case Family::opt:
      return std::make_unique<Opt>(std::move(config), std::move(weights), dtype, device);
  }
  return nullptr;
}

}  // namespace depthscale::probe
