// The safetensors reader and the model loader's checks: every corruption or mismatch is an error
// that names the tensor (where there is one) and the file. Needs no Python: files are written
// here, then damaged byte by byte or header by header.
#include <gtest/gtest.h>
#include <unistd.h>

#include <torch/types.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>

#include "probe/checkpoint.hpp"
#include "probe/model.hpp"
#include "probe/safetensors.hpp"
#include "probe/tests/test_util.hpp"

namespace depthscale::probe {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A folder per test under /tmp, removed after it.
struct TempDir : testing::TempDir {
  TempDir() : testing::TempDir("safetensors") {}
};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

// Re-writes a file's JSON header through `edit`, keeping its data bytes.
void edit_header(const std::string& path, const std::function<void(json&)>& edit) {
  std::string bytes = read_all(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | uint8_t(bytes[i]);
  json header = json::parse(bytes.substr(8, n));
  edit(header);
  std::string text = header.dump();
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = char(uint64_t(text.size()) >> (8 * i));
  write_all(path, out + text + bytes.substr(8 + n));
}

// `call` throws an error whose message contains every one of `parts`.
using testing::expect_error;

std::map<std::string, torch::Tensor> sample_tensors() {
  torch::manual_seed(0);
  return {{"a.weight", torch::randn({3, 4})},
          {"b.bias", torch::randn({5}).to(torch::kBFloat16)},
          {"c.half", torch::randn({2, 2, 2}).to(torch::kFloat16)},
          {"d.ids", torch::arange(7, torch::kInt64)},
          {"e.double", torch::randn({2, 3}, torch::kFloat64)},
          {"f.empty", torch::zeros({0, 4})},
          {"g.scalar", torch::tensor(2.5f)},  // Pythia's masked_bias is a scalar
          {"h.mask", torch::tensor({true, false, true, true}).view({2, 2})}};
}

TEST(Safetensors, RoundTripEveryDtypeWithMetadata) {
  TempDir dir;
  auto tensors = sample_tensors();
  write_safetensors(dir / "x.safetensors", tensors, {{"format", "pt"}});
  SafetensorsFile f(dir / "x.safetensors");
  EXPECT_EQ(f.metadata().at("format"), "pt");
  ASSERT_EQ(f.tensors().size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    auto got = f.load(name);
    EXPECT_EQ(got.scalar_type(), t.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(got, t)) << name;
  }
  EXPECT_EQ(f.info("b.bias").dtype, "BF16");
  EXPECT_EQ(f.info("a.weight").shape, (std::vector<int64_t>{3, 4}));
  // Upcasting BF16 and F16 to FP32 is exact.
  EXPECT_TRUE(
      torch::equal(f.load("b.bias", torch::kFloat32), tensors["b.bias"].to(torch::kFloat32)));
  EXPECT_TRUE(
      torch::equal(f.load("c.half", torch::kFloat32), tensors["c.half"].to(torch::kFloat32)));
  expect_error([&] { f.load("nope"); }, {"nope", "x.safetensors"});
}

TEST(Safetensors, HeaderLengthBeyondFileOrTooShort) {
  TempDir dir;
  const auto path = dir / "x.safetensors";
  write_all(path, "abc");
  expect_error([&] { SafetensorsFile f(path); }, {path, "8-byte"});
  write_safetensors(path, sample_tensors());
  auto bytes = read_all(path);
  bytes[5] = char(1);  // header length ~ 2^40
  write_all(path, bytes);
  expect_error([&] { SafetensorsFile f(path); }, {path, "header length"});
  write_safetensors(path, sample_tensors());
  bytes = read_all(path);
  write_all(path, bytes.substr(0, 40));  // header cut short
  expect_error([&] { SafetensorsFile f(path); }, {path, "header length"});
}

TEST(Safetensors, HeaderNotJson) {
  TempDir dir;
  const auto path = dir / "x.safetensors";
  write_safetensors(path, sample_tensors());
  auto bytes = read_all(path);
  bytes[8] = '[';
  bytes[9] = '!';
  write_all(path, bytes);
  expect_error([&] { SafetensorsFile f(path); }, {path, "JSON"});
}

struct HeaderCase {
  const char* name;
  std::function<void(json&)> edit;
  std::string tensor;  // the tensor the message must name
  std::string words;   // and a word of the reason
};

class BadHeader : public ::testing::TestWithParam<HeaderCase> {};

TEST_P(BadHeader, NamesTensorAndFile) {
  TempDir dir;
  const auto path = dir / "x.safetensors";
  write_safetensors(path, sample_tensors());
  edit_header(path, GetParam().edit);
  expect_error([&] { SafetensorsFile f(path); }, {path, GetParam().tensor, GetParam().words});
}

// Offsets of sample_tensors() in name order: a [0,48) b [48,58) c [58,74) d [74,130) e [130,178)
// f [178,178) g [178,182) h [182,186).
INSTANTIATE_TEST_SUITE_P(
    Safetensors, BadHeader,
    ::testing::Values(HeaderCase{"out_of_range",
                                 [](json& h) {
                                   h["e.double"]["data_offsets"] = {130, 4000};
                                 },
                                 "e.double", "out of range"},
                      HeaderCase{"begin_after_end",
                                 [](json& h) {
                                   h["a.weight"]["data_offsets"] = {48, 0};
                                 },
                                 "a.weight", "out of range"},
                      HeaderCase{"overlap",
                                 [](json& h) {
                                   h["b.bias"]["data_offsets"] = {40, 50};
                                   h["c.half"]["data_offsets"] = {50, 66};
                                 },
                                 "b.bias", "overlap"},
                      HeaderCase{"gap",
                                 [](json& h) {
                                   h["a.weight"]["shape"] = {2, 4};
                                   h["a.weight"]["data_offsets"] = {0, 32};
                                 },
                                 "b.bias", "gap"},
                      HeaderCase{"trailing_bytes",
                                 [](json& h) {
                                   h["h.mask"]["shape"] = {1, 2};
                                   h["h.mask"]["data_offsets"] = {182, 184};
                                 },
                                 "h.mask", "trailing"},
                      HeaderCase{"shape_vs_bytes",
                                 [](json& h) {
                                   h["a.weight"]["shape"] = {4, 4};
                                 },
                                 "a.weight", "needs"},
                      HeaderCase{"dtype_vs_bytes", [](json& h) { h["c.half"]["dtype"] = "F32"; },
                                 "c.half", "needs"},
                      HeaderCase{"unknown_dtype", [](json& h) { h["d.ids"]["dtype"] = "Q4"; },
                                 "d.ids", "unknown dtype"},
                      HeaderCase{"negative_dim",
                                 [](json& h) {
                                   h["a.weight"]["shape"] = {-3, 4};
                                 },
                                 "a.weight", "shape"},
                      HeaderCase{"missing_offsets",
                                 [](json& h) { h["b.bias"].erase("data_offsets"); }, "b.bias",
                                 "data_offsets"},
                      HeaderCase{"bad_metadata",
                                 [](json& h) {
                                   h["__metadata__"] = {{"n", 3}};
                                 },
                                 "__metadata__", "not a string"}),
    [](const auto& info) { return std::string(info.param.name); });

// --- model directories --------------------------------------------------------------------------

json tiny_config(const std::string& family) {
  if (family == "gpt_neox")
    return {{"model_type", "gpt_neox"}, {"hidden_size", 32},
            {"num_hidden_layers", 2},   {"num_attention_heads", 4},
            {"intermediate_size", 64},  {"vocab_size", 50},
            {"rotary_pct", 0.25},       {"use_parallel_residual", true}};
  if (family == "qwen2")
    return {{"model_type", "qwen2"},    {"hidden_size", 32},           {"num_hidden_layers", 2},
            {"num_attention_heads", 4}, {"num_key_value_heads", 2},    {"intermediate_size", 48},
            {"vocab_size", 50},         {"tie_word_embeddings", true}, {"rope_scaling", nullptr}};
  return {{"model_type", "opt"},
          {"hidden_size", 32},
          {"num_hidden_layers", 2},
          {"num_attention_heads", 4},
          {"ffn_dim", 64},
          {"vocab_size", 50},
          {"max_position_embeddings", 16},
          {"do_layer_norm_before", true},
          {"word_embed_proj_dim", 32}};
}

// A model directory with random weights of every expected name and shape.
void write_model(const std::string& dir, const json& config, int shards = 1) {
  fs::create_directories(dir);
  std::ofstream(dir + "/config.json") << config.dump(2);
  std::map<std::string, torch::Tensor> all;
  for (const auto& w : expected_weights(read_config(dir)))
    all[w.name] = torch::randn(w.shape) * 0.1;
  if (shards == 1) return write_safetensors(dir + "/model.safetensors", all);
  std::vector<std::map<std::string, torch::Tensor>> parts(shards);
  json index = {{"metadata", json::object()}, {"weight_map", json::object()}};
  int i = 0;
  for (const auto& [name, t] : all) {
    const int s = i++ % shards;
    parts[s][name] = t;
    index["weight_map"][name] = "model-" + std::to_string(s) + ".safetensors";
  }
  for (int s = 0; s < shards; ++s)
    write_safetensors(dir + "/model-" + std::to_string(s) + ".safetensors", parts[s]);
  std::ofstream(dir + "/model.safetensors.index.json") << index.dump(2);
}

class FamilyDir : public ::testing::TestWithParam<std::string> {};

TEST_P(FamilyDir, LoadsAndRunsTinyRandomModel) {
  TempDir dir;
  write_model(dir.str(), tiny_config(GetParam()));
  auto model = CausalLM::load(dir.str());
  EXPECT_EQ(model->family(), GetParam());
  EXPECT_EQ(model->num_layers(), 2);
  auto ids = torch::randint(0, 50, {2, 5}, torch::kInt64);
  auto mask = torch::tensor({1, 1, 1, 1, 1, 1, 1, 0, 0, 0}).view({2, 5});
  auto out = model->forward(ids, mask);
  ASSERT_EQ(out.hidden.size(), 3u);
  EXPECT_EQ(out.hidden[2].sizes(), (std::vector<int64_t>{2, 5, 32}));
  EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{2, 5, 50}));
  EXPECT_TRUE(torch::isfinite(out.logits).all().item<bool>());
}

TEST_P(FamilyDir, MissingTensorNamesTensorAndFile) {
  TempDir dir;
  write_model(dir.str(), tiny_config(GetParam()));
  const auto path = dir / "model.safetensors";
  const std::string victim = expected_weights(read_config(dir.str()))[3].name;
  // Drop the tensor by re-writing the file without it (read fully before the file is replaced).
  std::map<std::string, torch::Tensor> kept;
  {
    SafetensorsFile f(path);
    for (const auto& [name, _] : f.tensors())
      if (name != victim) kept[name] = f.load(name);
  }
  write_safetensors(path, kept);
  expect_error([&] { CausalLM::load(dir.str()); }, {victim, "model.safetensors", "missing"});
}

TEST_P(FamilyDir, ShapeMismatchWithConfigNamesTensorAndFile) {
  TempDir dir;
  write_model(dir.str(), tiny_config(GetParam()));
  // Same file, config claims a wider intermediate layer.
  auto config = tiny_config(GetParam());
  config[GetParam() == "opt" ? "ffn_dim" : "intermediate_size"] = 96;
  std::ofstream(dir / "config.json") << config.dump();
  const std::string up = GetParam() == "gpt_neox" ? "gpt_neox.layers.0.mlp.dense_h_to_4h.weight"
                         : GetParam() == "qwen2"  ? "model.layers.0.mlp.gate_proj.weight"
                                                  : "model.decoder.layers.0.fc1.weight";
  expect_error([&] { CausalLM::load(dir.str()); },
               {up, dir / "model.safetensors", "shape", "config.json"});
}

// A config.json of fewer layers than the weights hold is refused naming both numbers (the extra
// layers were silently left out).
TEST_P(FamilyDir, FewerLayersInConfigThanWeightsIsAnError) {
  TempDir dir;
  auto config = tiny_config(GetParam());
  config["num_hidden_layers"] = 3;
  write_model(dir.str(), config);
  config["num_hidden_layers"] = 2;
  std::ofstream(dir / "config.json") << config.dump();
  expect_error([&] { CausalLM::load(dir.str()); },
               {"config.json: num_hidden_layers is 2", "hold 3 layers", "model.safetensors"});
  config["num_hidden_layers"] = 3;
  std::ofstream(dir / "config.json") << config.dump();
  EXPECT_EQ(CausalLM::load(dir.str())->num_layers(), 3);
}

TEST_P(FamilyDir, IntegerWeightIsAnError) {
  TempDir dir;
  write_model(dir.str(), tiny_config(GetParam()));
  const auto path = dir / "model.safetensors";
  const std::string victim = expected_weights(read_config(dir.str())).back().name;
  std::map<std::string, torch::Tensor> all;
  {
    SafetensorsFile f(path);
    for (const auto& [name, _] : f.tensors()) all[name] = f.load(name);
  }
  all[victim] = all[victim].to(torch::kInt32);
  write_safetensors(path, all);
  expect_error([&] { CausalLM::load(dir.str()); }, {victim, path, "I32"});
}

TEST_P(FamilyDir, ShardedEqualsSingleFile) {
  TempDir a, b;
  torch::manual_seed(5);
  write_model(a.str(), tiny_config(GetParam()));
  torch::manual_seed(5);
  write_model(b.str(), tiny_config(GetParam()), 3);
  auto ma = CausalLM::load(a.str()), mb = CausalLM::load(b.str());
  auto ids = torch::randint(0, 50, {1, 6}, torch::kInt64);
  auto mask = torch::ones({1, 6}, torch::kInt64);
  auto oa = ma->forward(ids, mask), ob = mb->forward(ids, mask);
  for (size_t l = 0; l < oa.hidden.size(); ++l)
    EXPECT_TRUE(torch::equal(oa.hidden[l], ob.hidden[l]));
  EXPECT_TRUE(torch::equal(oa.logits, ob.logits));
}

// Checkpoints saved from the bare model (GPTNeoXModel, OPTModel, Qwen2Model) lack the base-model
// prefix; Hugging Face loads them all the same, and so do we.
TEST_P(FamilyDir, CheckpointWithoutBaseModelPrefix) {
  TempDir a, b;
  torch::manual_seed(9);
  write_model(a.str(), tiny_config(GetParam()));
  const std::string prefix = GetParam() == "gpt_neox" ? "gpt_neox." : "model.";
  std::map<std::string, torch::Tensor> renamed;
  {
    SafetensorsFile f(a / "model.safetensors");
    for (const auto& [name, _] : f.tensors())
      renamed[name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name] = f.load(name);
  }
  EXPECT_EQ(renamed.count(GetParam() == "gpt_neox" ? "embed_in.weight"
                          : GetParam() == "opt"    ? "decoder.embed_tokens.weight"
                                                   : "embed_tokens.weight"),
            1u);
  fs::copy_file(a / "config.json", b / "config.json");
  write_safetensors(b / "model.safetensors", renamed);
  auto ids = torch::randint(0, 50, {2, 4}, torch::kInt64);
  auto mask = torch::ones({2, 4}, torch::kInt64);
  auto oa = CausalLM::load(a.str())->forward(ids, mask);
  auto ob = CausalLM::load(b.str())->forward(ids, mask);
  EXPECT_TRUE(torch::equal(oa.logits, ob.logits));
}

INSTANTIATE_TEST_SUITE_P(Models, FamilyDir, ::testing::Values("gpt_neox", "qwen2", "opt"));

TEST(Checkpoint, ShardProblemsNameTensorAndFile) {
  TempDir dir;
  write_model(dir.str(), tiny_config("qwen2"), 2);
  const auto index_path = dir / "model.safetensors.index.json";
  json index = json::parse(read_all(index_path));
  // A tensor listed for the wrong shard.
  json moved = index;
  const std::string name = "model.norm.weight";
  const std::string other = moved["weight_map"][name] == "model-0.safetensors"
                                ? "model-1.safetensors"
                                : "model-0.safetensors";
  moved["weight_map"][name] = other;
  write_all(index_path, moved.dump());
  expect_error([&] { Checkpoint c(dir.str()); }, {name, dir / other, "not in this shard"});
  // A missing shard file.
  json gone = index;
  gone["weight_map"][name] = "model-7.safetensors";
  write_all(index_path, gone.dump());
  expect_error([&] { Checkpoint c(dir.str()); }, {name, "model-7.safetensors", "missing"});
  // A tensor absent from the index altogether.
  json dropped = index;
  dropped["weight_map"].erase(name);
  write_all(index_path, dropped.dump());
  expect_error([&] { CausalLM::load(dir.str()); },
               {name, "model.safetensors.index.json", "missing"});
  // A corrupt shard names the shard.
  write_all(index_path, index.dump());
  edit_header(dir / "model-1.safetensors", [](json& h) {
    for (auto it = h.begin(); it != h.end(); ++it)
      if (it.key() != "__metadata__") {
        it.value()["shape"] = {1};
        break;
      }
  });
  expect_error([&] { Checkpoint c(dir.str()); }, {dir / "model-1.safetensors", "needs"});
  // No weights at all.
  fs::remove(index_path);
  expect_error([&] { Checkpoint c(dir.str()); }, {dir.str(), "model.safetensors"});
}

TEST(Config, MissingOrUnsupportedKeysNameConfigAndKey) {
  struct Case {
    std::string family, key;
    json value;  // null: remove the key
    std::string words;
  };
  const std::vector<Case> cases = {
      {"gpt_neox", "hidden_size", nullptr, "missing"},
      {"gpt_neox", "model_type", "gpt2", "not supported"},
      {"gpt_neox", "num_attention_heads", 5, "divide"},
      {"gpt_neox", "hidden_act", "mish", "not supported"},
      {"gpt_neox", "rope_scaling", {{"type", "linear"}, {"factor", 2.0}}, "not implemented"},
      {"gpt_neox", "rope_parameters", {{"rope_type", "dynamic"}}, "not implemented"},
      {"qwen2", "rope_parameters", {{"rope_type", "yarn"}, {"factor", 4.0}}, "not implemented"},
      {"qwen2", "rope_parameters", {{"rope_type", "default"}, {"factor", 4.0}}, "not supported"},
      {"qwen2", "rope_parameters", "1e6", "not a JSON object"},
      {"gpt_neox", "intermediate_size", "64", "positive integer"},
      {"qwen2", "num_key_value_heads", 3, "divide"},
      {"qwen2", "use_sliding_window", true, "not supported"},
      {"qwen2", "vocab_size", 0, "positive integer"},
      {"opt", "do_layer_norm_before", false, "post-LN"},
      {"opt", "word_embed_proj_dim", 16, "project_in"},
      {"opt", "ffn_dim", nullptr, "missing"},
      {"opt", "max_position_embeddings", nullptr, "missing"},
  };
  for (const auto& c : cases) {
    TempDir dir;
    auto config = tiny_config(c.family);
    if (c.value.is_null())
      config.erase(c.key);
    else
      config[c.key] = c.value;
    std::ofstream(dir / "config.json") << config.dump();
    expect_error([&] { read_config(dir.str()); }, {"config.json", "'" + c.key, c.words});
  }
  TempDir empty;
  expect_error([&] { read_config(empty.str()); }, {"config.json", "cannot open"});
}

// RoPE settings as transformers < 5 writes them (top-level keys) and as transformers >= 5 does
// (rope_parameters, no top-level key): the same numbers, and the same forward.
TEST(Config, RopeParametersAndTopLevelFormsAgree) {
  TempDir dir;
  auto q = tiny_config("qwen2");
  q["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1000000.0}};
  std::ofstream(dir / "config.json") << q.dump();
  EXPECT_DOUBLE_EQ(read_config(dir.str()).rope_theta, 1e6);
  auto n = tiny_config("gpt_neox");
  n.erase("rotary_pct");
  n["hidden_size"] = 64;
  n["rope_parameters"] = {
      {"rope_type", "default"}, {"rope_theta", 500000.0}, {"partial_rotary_factor", 0.5}};
  std::ofstream(dir / "config.json") << n.dump();
  auto m = read_config(dir.str());
  EXPECT_DOUBLE_EQ(m.rope_theta, 5e5);
  EXPECT_EQ(m.rotary_dims, 8);
  // Both forms at once must agree.
  q["rope_theta"] = 10000.0;
  std::ofstream(dir / "config.json") << q.dump();
  expect_error([&] { read_config(dir.str()); }, {"config.json", "rope_parameters.rope_theta"});

  // The forward: rope_parameters gives what the top-level key gives, not the 10000 default.
  auto run = [](const std::string& d) {
    auto model = CausalLM::load(d);
    auto ids = torch::arange(12, torch::kInt64).remainder(50).unsqueeze(0);
    return model->forward(ids, torch::ones_like(ids), false).hidden.back();
  };
  TempDir a;
  auto top = tiny_config("qwen2");
  top["rope_theta"] = 1000000.0;
  write_model(a.str(), top);
  const auto want = run(a.str());
  auto v5 = tiny_config("qwen2");
  v5.erase("rope_scaling");
  v5["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1000000.0}};
  std::ofstream(a / "config.json") << v5.dump();
  EXPECT_TRUE(torch::equal(run(a.str()), want));
  std::ofstream(a / "config.json") << tiny_config("qwen2").dump();  // θ = 10000
  EXPECT_FALSE(torch::allclose(run(a.str()), want));
}

TEST(Config, HuggingFaceDefaultsAndDerivedSizes) {
  TempDir dir;
  auto c = tiny_config("gpt_neox");
  c["hidden_size"] = 64;  // head_dim 16, rotary_pct 0.25 → 4 rotary dims
  std::ofstream(dir / "config.json") << c.dump();
  auto m = read_config(dir.str());
  EXPECT_EQ(m.head_dim, 16);
  EXPECT_EQ(m.rotary_dims, 4);
  EXPECT_DOUBLE_EQ(m.rope_theta, 10000.0);
  EXPECT_DOUBLE_EQ(m.norm_eps, 1e-5);
  EXPECT_EQ(m.activation, Activation::gelu);
  EXPECT_FALSE(m.tie_word_embeddings);
  std::ofstream(dir / "config.json") << tiny_config("qwen2").dump();
  m = read_config(dir.str());
  EXPECT_EQ(m.num_kv_heads, 2);
  EXPECT_EQ(m.rotary_dims, 8);
  EXPECT_DOUBLE_EQ(m.norm_eps, 1e-6);
  EXPECT_EQ(m.activation, Activation::silu);
  std::ofstream(dir / "config.json") << tiny_config("opt").dump();
  m = read_config(dir.str());
  EXPECT_TRUE(m.tie_word_embeddings);
  EXPECT_EQ(m.activation, Activation::relu);
  EXPECT_EQ(m.rotary_dims, 0);
  EXPECT_EQ(default_dtype(torch::kCPU), torch::kFloat32);
  EXPECT_EQ(default_dtype(torch::Device(torch::kCUDA, 0)), torch::kBFloat16);
}

TEST(Model, RejectsBadInputs) {
  TempDir dir;
  write_model(dir.str(), tiny_config("opt"));
  auto model = CausalLM::load(dir.str());
  auto ids = torch::randint(0, 50, {1, 4}, torch::kInt64);
  expect_error([&] { model->forward(ids, torch::tensor({{0, 1, 1, 1}})); }, {"right-padded"});
  expect_error([&] { model->forward(ids, torch::tensor({{1, 2, 1, 1}})); }, {"0 and 1"});
  expect_error([&] { model->forward(ids, torch::ones({1, 3})); }, {"shape"});
  expect_error(
      [&] {
        model->forward(torch::full({1, 4}, 50, torch::kInt64), torch::ones({1, 4}));
      },
      {"vocab_size"});
  expect_error(
      [&] {
        model->forward(torch::zeros({1, 17}, torch::kInt64), torch::ones({1, 17}));
      },
      {"max_position_embeddings"});
}

}  // namespace
}  // namespace depthscale::probe
