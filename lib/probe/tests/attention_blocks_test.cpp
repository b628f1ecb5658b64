// Bounded-memory forward (model.hpp): attention in blocks of query rows and the MLP in blocks of
// tokens give the one-block result up to float round-off, for every family, with blocks that do
// not divide T, right padding, and a document with no token at all.
#include <gtest/gtest.h>
#include <torch/types.h>

#include <iostream>

#include "probe/model.hpp"
#include "probe/tests/tiny_models.hpp"

namespace depthscale::probe {
namespace {

using testing::TempDir;

struct Case {
  const char* name;
  Family family;
  bool parallel;
};

class Blocks : public ::testing::TestWithParam<Case> {};

// Max |a − b| over every position (padding included) relative to max |b|.
double rel(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

torch::Tensor right_padded_mask(const std::vector<int64_t>& lengths, int64_t T) {
  auto mask = torch::zeros({int64_t(lengths.size()), T}, torch::kInt64);
  for (size_t b = 0; b < lengths.size(); ++b) mask[int64_t(b)].narrow(0, 0, lengths[b]).fill_(1);
  return mask;
}

TEST_P(Blocks, EqualOneBlock) {
  TempDir dir(std::string("blocks-") + GetParam().name);
  testing::write_random_model(dir.path(),
                              testing::tiny_config(GetParam().family, GetParam().parallel), 11);
  auto model = CausalLM::load(dir.str());
  const auto& c = model->config();
  const int64_t T = 13;
  auto ids = torch::randint(0, c.vocab_size, {3, T}, torch::kInt64);
  // Padded rows; then one document with no token (its rows attend to no key).
  for (const auto& lengths : {std::vector<int64_t>{13, 7, 1}, std::vector<int64_t>{13, 0, 5}}) {
    auto mask = right_padded_mask(lengths, T);
    model->set_block_elements(int64_t(1) << 40);  // one block for attention and for the MLP
    auto whole = model->forward(ids, mask);
    // 3 query rows per attention block (5 blocks for T = 13, the last of one row); then 5 MLP
    // rows per block (B·T = 39 = 7·5 + 4) with 1–2 query rows per attention block; then one row
    // per block for both.
    const int64_t B = ids.size(0), heads = c.num_heads;
    for (int64_t budget : {B * heads * T * 3, c.intermediate_size * 5, int64_t(1)}) {
      model->set_block_elements(budget);
      auto blocked = model->forward(ids, mask);
      double worst = 0;
      for (size_t l = 0; l < whole.hidden.size(); ++l)
        worst = std::max(worst, rel(blocked.hidden[l], whole.hidden[l]));
      worst = std::max(worst, rel(blocked.logits, whole.logits));
      // The readout re-applies the last block: blocked too.
      auto ro_blocked = model->readout_via_last_block(whole.hidden[0], mask);
      model->set_block_elements(int64_t(1) << 40);
      auto ro_whole = model->readout_via_last_block(whole.hidden[0], mask);
      worst = std::max(worst, rel(ro_blocked, ro_whole));
      std::cout << "[ " << GetParam().name << " ] lengths " << lengths[0] << "," << lengths[1]
                << "," << lengths[2] << " budget " << budget << ": rel diff " << worst << "\n";
      EXPECT_LT(worst, 1e-6) << "budget " << budget;
      EXPECT_TRUE(torch::isfinite(blocked.logits).all().item<bool>());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Families, Blocks,
                         ::testing::Values(Case{"neox_parallel", Family::gpt_neox, true},
                                           Case{"neox_serial", Family::gpt_neox, false},
                                           Case{"qwen2_gqa", Family::qwen2, true},
                                           Case{"opt", Family::opt, true}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Blocks, BudgetMustBePositive) {
  TempDir dir("blocks-budget");
  testing::write_random_model(dir.path(), testing::tiny_config(Family::opt));
  auto model = CausalLM::load(dir.str());
  EXPECT_EQ(model->block_elements(), CausalLM::kDefaultBlockElements);
  EXPECT_THROW(model->set_block_elements(0), ModelError);
}

}  // namespace
}  // namespace depthscale::probe
