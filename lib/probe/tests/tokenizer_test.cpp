// Byte-level BPE on small hand-made tokenizer.json files whose right answers are known by hand.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "probe/tokenizer.hpp"

using depthscale::probe::Tokenizer;
using depthscale::probe::TokenizerError;
using json = nlohmann::json;

namespace {

// GPT-2's byte-to-character map, written out again here so the test does not trust the code.
std::string byte_level(const std::string& raw) {
  std::string out;
  for (unsigned char b : raw) {
    unsigned cp = b;
    if (!((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174)) {
      unsigned n = 0;
      for (unsigned x = 0; x < b; ++x)
        if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || x >= 174)) ++n;
      cp = 256 + n;
    }
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  return out;
}

// A tokenizer.json: the 256 byte symbols (id = byte value), then one token per merge in order.
json make_tokenizer(const std::vector<std::pair<std::string, std::string>>& merges,
                    bool array_merges = false) {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_level(std::string(1, static_cast<char>(b)))] = b;
  json m = json::array();
  int next = 256;
  for (const auto& [a, b] : merges) {
    const std::string la = byte_level(a), lb = byte_level(b);
    if (!vocab.contains(la + lb)) vocab[la + lb] = next++;
    if (array_merges)
      m.push_back(json::array({la, lb}));
    else
      m.push_back(la + " " + lb);
  }
  return json{{"version", "1.0"},
              {"added_tokens", json::array()},
              {"normalizer", nullptr},
              {"pre_tokenizer",
               {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}}},
              {"post_processor", nullptr},
              {"decoder", {{"type", "ByteLevel"}}},
              {"model",
               {{"type", "BPE"},
                {"dropout", nullptr},
                {"unk_token", nullptr},
                {"vocab", vocab},
                {"merges", m}}}};
}

Tokenizer load(const json& j) {
  return Tokenizer::from_json(j.dump(), "test.json");
}

uint32_t id(const Tokenizer& t, const std::string& raw) {
  auto v = t.token_to_id(byte_level(raw));
  EXPECT_TRUE(v.has_value()) << "no token for " << raw;
  return v.value_or(UINT32_MAX);
}

std::vector<uint32_t> bytes_of(const std::string& raw) {
  std::vector<uint32_t> v;
  for (unsigned char c : raw) v.push_back(c);
  return v;
}

json added(uint32_t id, const std::string& content, bool special, bool normalized) {
  return json{
      {"id", id},        {"content", content}, {"special", special},      {"single_word", false},
      {"lstrip", false}, {"rstrip", false},    {"normalized", normalized}};
}

}  // namespace

TEST(TokenizerBpe, MergesApplyInRankOrderToOneWord) {
  const auto t = load(make_tokenizer({{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}}));
  EXPECT_EQ(t.encode("hello"), (std::vector<uint32_t>{id(t, "hello")}));
  EXPECT_EQ(t.encode("hell"), (std::vector<uint32_t>{id(t, "hell")}));
  // "lo" has no merge: h-e and l-l merge, then he-ll, leaving "o" alone in "hellol".
  EXPECT_EQ(t.encode("hellol"), (std::vector<uint32_t>{id(t, "hello"), 'l'}));
  EXPECT_EQ(t.encode("olleh"), (std::vector<uint32_t>{'o', id(t, "ll"), 'e', 'h'}));
}

TEST(TokenizerBpe, LowerRankWinsOverPosition) {
  const auto bc_first = load(make_tokenizer({{"b", "c"}, {"a", "b"}}));
  EXPECT_EQ(bc_first.encode("abc"), (std::vector<uint32_t>{'a', id(bc_first, "bc")}));
  const auto ab_first = load(make_tokenizer({{"a", "b"}, {"b", "c"}}));
  EXPECT_EQ(ab_first.encode("abc"), (std::vector<uint32_t>{id(ab_first, "ab"), 'c'}));
}

TEST(TokenizerBpe, EqualRanksMergeLeftmostFirst) {
  const auto t = load(make_tokenizer({{"a", "a"}}));
  const uint32_t aa = id(t, "aa");
  EXPECT_EQ(t.encode("aaa"), (std::vector<uint32_t>{aa, 'a'}));
  EXPECT_EQ(t.encode("aaaa"), (std::vector<uint32_t>{aa, aa}));
  const auto t2 = load(make_tokenizer({{"a", "a"}, {"aa", "aa"}}));
  EXPECT_EQ(t2.encode("aaaaa"), (std::vector<uint32_t>{id(t2, "aaaa"), 'a'}));
}

TEST(TokenizerBpe, ArrayMergesReadLikeStringMerges) {
  const auto s = load(make_tokenizer({{"t", "h"}, {"th", "e"}, {" ", "the"}}, false));
  const auto a = load(make_tokenizer({{"t", "h"}, {"th", "e"}, {" ", "the"}}, true));
  EXPECT_EQ(s.encode("the theme"), a.encode("the theme"));
  EXPECT_EQ(s.encode("the theme"), (std::vector<uint32_t>{id(s, "the"), id(s, " the"), 'm', 'e'}));
}

TEST(TokenizerBpe, UnmergedBytesAreByteSymbols) {
  const auto t = load(make_tokenizer({}));
  EXPECT_EQ(t.encode("é"), bytes_of("é"));
  EXPECT_EQ(t.encode("\x01 \xc2\xa0"), (std::vector<uint32_t>{1, 32, 0xC2, 0xA0}));
  EXPECT_EQ(t.vocab_size(), 256u);
}

TEST(TokenizerBpe, IgnoreMergesTakesWholeWordsFromTheVocabulary) {
  json j = make_tokenizer({{"a", "b"}});
  j["model"]["vocab"][byte_level("abc")] = 300;  // reachable by no merge
  const auto plain = load(j);
  EXPECT_EQ(plain.encode("abc"), (std::vector<uint32_t>{id(plain, "ab"), 'c'}));
  j["model"]["ignore_merges"] = true;
  const auto ignoring = load(j);
  EXPECT_EQ(ignoring.encode("abc"), (std::vector<uint32_t>{300}));
  EXPECT_EQ(ignoring.encode("abd"), (std::vector<uint32_t>{id(ignoring, "ab"), 'd'}));
}

TEST(TokenizerPreTokenizer, ByteLevelRegexSplitsLikeGpt2) {
  const auto t = load(make_tokenizer({}));
  EXPECT_EQ(t.pre_tokenize("Hello world's 123 foo!!"),
            (std::vector<std::string>{"Hello", " world", "'s", " 123", " foo", "!!"}));
  // A whitespace run gives its last space to the next word.
  EXPECT_EQ(t.pre_tokenize("a   b"), (std::vector<std::string>{"a", "  ", " b"}));
  EXPECT_EQ(t.pre_tokenize("x\n\n  y  "), (std::vector<std::string>{"x", "\n\n ", " y", "  "}));
  EXPECT_EQ(t.pre_tokenize("Ünïcödé 東京"), (std::vector<std::string>{"Ünïcödé", " 東京"}));
  EXPECT_EQ(t.pre_tokenize("I'll DON'T"), (std::vector<std::string>{"I", "'ll", " DON", "'", "T"}));
}

TEST(TokenizerPreTokenizer, WhiteSpaceIsOnigurumasSet) {
  // U+0085 (NEL) is White_Space for Oniguruma but not \s for PCRE2: " \u0085" must split as
  // " " then "\u0085" (both whitespace), not as one punctuation run.
  const auto t = load(make_tokenizer({}));
  EXPECT_EQ(t.pre_tokenize("a \u0085b"), (std::vector<std::string>{"a", " ", "\u0085", "b"}));
  // The optional prefix of " ?\p{L}+" is a plain space only.
  EXPECT_EQ(t.pre_tokenize("a\u3000\u3000b"),
            (std::vector<std::string>{"a", "\u3000", "\u3000", "b"}));
  // U+FEFF is not White_Space: it groups with punctuation.
  EXPECT_EQ(t.pre_tokenize("a \ufeff!b"), (std::vector<std::string>{"a", " \ufeff!", "b"}));
}

TEST(TokenizerPreTokenizer, AddPrefixSpace) {
  json j = make_tokenizer({{" ", "h"}, {" h", "i"}});
  j["pre_tokenizer"]["add_prefix_space"] = true;
  const auto t = load(j);
  EXPECT_EQ(t.pre_tokenize("hi there"), (std::vector<std::string>{" hi", " there"}));
  EXPECT_EQ(t.pre_tokenize(" hi"), (std::vector<std::string>{" hi"}));
  EXPECT_EQ(t.encode("hi"), (std::vector<uint32_t>{id(t, " hi")}));
}

TEST(TokenizerPreTokenizer, SplitThenByteLevelWithoutRegex) {
  // The Qwen2 shape: Split(regex, Isolated) then ByteLevel(use_regex=false).
  json j = make_tokenizer({});
  j["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers",
       json::array({{{"type", "Split"},
                     {"pattern", {{"Regex", R"(\p{N}|\s+(?!\S)|\s+|[^\s\p{N}]+)"}}},
                     {"behavior", "Isolated"},
                     {"invert", false}},
                    {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}})}};
  const auto t = load(j);
  EXPECT_EQ(t.pre_tokenize("ab123 c"), (std::vector<std::string>{"ab", "1", "2", "3", " ", "c"}));
}

TEST(TokenizerPreTokenizer, SplitBehaviors) {
  auto with_split = [](const std::string& behavior, bool invert) {
    json j = make_tokenizer({});
    j["pre_tokenizer"] = {
        {"type", "Sequence"},
        {"pretokenizers",
         json::array(
             {{{"type", "Split"},
               {"pattern", {{"String", "-"}}},
               {"behavior", behavior},
               {"invert", invert}},
              {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}})}};
    return load(j);
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(with_split("Isolated", false).pre_tokenize("a-b--c"),
            (V{"a", "-", "b", "-", "-", "c"}));
  EXPECT_EQ(with_split("Removed", false).pre_tokenize("a-b--c"), (V{"a", "b", "c"}));
  EXPECT_EQ(with_split("MergedWithPrevious", false).pre_tokenize("a-b--c"),
            (V{"a-", "b-", "-", "c"}));
  EXPECT_EQ(with_split("MergedWithNext", false).pre_tokenize("a-b--c"), (V{"a", "-b", "-", "-c"}));
  EXPECT_EQ(with_split("Contiguous", false).pre_tokenize("a-b--c"), (V{"a", "-", "b", "--", "c"}));
  EXPECT_EQ(with_split("Removed", true).pre_tokenize("a-b--c"), (V{"-", "-", "-"}));
  // Regex metacharacters in a String pattern are literal.
  json j = make_tokenizer({});
  j["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers",
       json::array({{{"type", "Split"},
                     {"pattern", {{"String", ".*"}}},
                     {"behavior", "Removed"},
                     {"invert", false}},
                    {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}})}};
  EXPECT_EQ(load(j).pre_tokenize("a.*b.c"), (V{"a", "b.c"}));
}

TEST(TokenizerNormalizer, NfcComposesAndSequencesChain) {
  json j = make_tokenizer({});
  j["normalizer"] = {{"type", "NFC"}};
  const auto nfc = load(j);
  EXPECT_EQ(nfc.normalize("cafe\u0301"), "caf\u00e9");
  EXPECT_EQ(nfc.normalize("\u212b"), "\u00c5");              // Angstrom sign -> A with ring
  EXPECT_EQ(nfc.normalize("\u1100\u1161\u11a8"), "\uac01");  // Hangul jamo compose
  EXPECT_EQ(nfc.normalize("\ufb01"), "\ufb01");              // compatibility: NFC keeps it
  EXPECT_EQ(nfc.encode("e\u0301"), bytes_of("\u00e9"));
  j["normalizer"] = {{"type", "Sequence"},
                     {"normalizers", json::array({{{"type", "NFKD"}}, {{"type", "NFC"}}})}};
  const auto seq = load(j);
  EXPECT_EQ(seq.normalize("\ufb01 caf\u00e9"), "fi caf\u00e9");
  j["normalizer"] = {{"type", "NFD"}};
  EXPECT_EQ(load(j).normalize("\u00e9"), "e\u0301");
}

TEST(TokenizerAddedTokens, SpecialTokensAreMatchedBeforeBpe) {
  json j = make_tokenizer({{"e", "n"}, {"en", "d"}});
  j["added_tokens"] = json::array({added(300, "<|end|>", true, false)});
  const auto t = load(j);
  EXPECT_EQ(t.encode("a<|end|>end<|end|>"), (std::vector<uint32_t>{'a', 300, id(t, "end"), 300}));
  EXPECT_EQ(t.encode("<|end|"), (std::vector<uint32_t>{'<', '|', id(t, "end"), '|'}));
  EXPECT_EQ(t.vocab_size(), 301u);
  EXPECT_EQ(t.decode(t.encode("x<|end|>y")), "x<|end|>y");
  EXPECT_EQ(t.decode(t.encode("x<|end|>y"), true), "xy");
}

TEST(TokenizerAddedTokens, LongestMatchWinsAndNormalizedTokensSeeNormalizedText) {
  json j = make_tokenizer({});
  j["normalizer"] = {{"type", "NFC"}};
  j["added_tokens"] =
      json::array({added(300, "  ", false, true), added(301, "   ", false, true),
                   added(302, "\u00e9t\u00e9", false, true), added(303, "e\u0301", true, false)});
  const auto t = load(j);
  // Five spaces: the three-space token first (leftmost-longest), then the two-space one.
  EXPECT_EQ(t.encode("a     b"), (std::vector<uint32_t>{'a', 301, 300, 'b'}));
  // "e\u0301t\u00e9" normalizes to "\u00e9t\u00e9", but the raw (unnormalized) token
  // "e\u0301" is split off first.
  EXPECT_EQ(t.encode("e\u0301t\u00e9"), (std::vector<uint32_t>{303, 't', 0xC3, 0xA9}));
  EXPECT_EQ(t.encode("\u00e9t\u00e9!"), (std::vector<uint32_t>{302, '!'}));
}

TEST(TokenizerAddedTokens, StripAndSingleWord) {
  json j = make_tokenizer({});
  json strip = added(300, "<m>", true, false);
  strip["lstrip"] = true;
  strip["rstrip"] = true;
  json word = added(301, "cat", false, false);
  word["single_word"] = true;
  j["added_tokens"] = json::array({strip, word});
  const auto t = load(j);
  EXPECT_EQ(t.encode("a  <m>  b"), (std::vector<uint32_t>{'a', 300, 'b'}));
  EXPECT_EQ(t.encode("cat"), (std::vector<uint32_t>{301}));
  EXPECT_EQ(t.encode("a cat."), (std::vector<uint32_t>{'a', ' ', 301, '.'}));
  EXPECT_EQ(t.encode("cats"), bytes_of("cats"));
  EXPECT_EQ(t.encode("tomcat"), bytes_of("tomcat"));
}

TEST(TokenizerPostProcessor, TemplateAddsSpecialTokensWhenAsked) {
  json j = make_tokenizer({});
  j["added_tokens"] =
      json::array({added(300, "<s>", true, false), added(301, "</s>", true, false)});
  j["post_processor"] = {
      {"type", "TemplateProcessing"},
      {"single", json::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                              {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                              {{"SpecialToken", {{"id", "</s>"}, {"type_id", 0}}}}})},
      {"special_tokens",
       {{"<s>", {{"id", "<s>"}, {"ids", {300}}, {"tokens", {"<s>"}}}},
        {"</s>", {{"id", "</s>"}, {"ids", {301}}, {"tokens", {"</s>"}}}}}}};
  const auto t = load(j);
  EXPECT_EQ(t.encode("hi"), (std::vector<uint32_t>{300, 'h', 'i', 301}));
  EXPECT_EQ(t.encode("hi", false), (std::vector<uint32_t>{'h', 'i'}));
  j["post_processor"] = {{"type", "RobertaProcessing"},
                         {"cls", json::array({"<s>", 300})},
                         {"sep", json::array({"</s>", 301})}};
  EXPECT_EQ(load(j).encode("hi"), (std::vector<uint32_t>{300, 'h', 'i', 301}));
}

TEST(TokenizerDecode, RoundTripsNormalizedText) {
  json j = make_tokenizer({{" ", "t"}, {" t", "h"}, {"i", "s"}});
  j["normalizer"] = {{"type", "NFC"}};
  const auto t = load(j);
  for (const std::string s : {"", "this is the thing", "cafe\u0301 \U0001F469\u200D\U0001F4BB",
                              "  \t\n x", "\u6771\u4eac"})
    EXPECT_EQ(t.decode(t.encode(s)), t.normalize(s)) << s;
  // A lone continuation byte decodes to U+FFFD.
  EXPECT_EQ(t.decode({0xE6, 'a'}),
            "\uFFFD"
            "a");
  EXPECT_EQ(t.id_to_token(' '), "\u0120");
}

TEST(TokenizerErrors, NameTheFileAndKey) {
  auto expect_error = [](const std::string& text, const std::string& needle) {
    try {
      Tokenizer::from_json(text, "bad.json");
      ADD_FAILURE() << "no error; wanted " << needle;
    } catch (const TokenizerError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("bad.json"), std::string::npos) << msg;
      EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    }
  };
  expect_error("{not json", "not valid JSON");
  expect_error("{}", "model");
  json j = make_tokenizer({});
  j["model"]["merges"].push_back("q zz");
  expect_error(j.dump(), "model.merges[0]");
  j = make_tokenizer({});
  j["normalizer"] = {{"type", "Lowercase"}};
  expect_error(j.dump(), "normalizer.type");
  j = make_tokenizer({});
  j["pre_tokenizer"] = {{"type", "Whitespace"}};
  expect_error(j.dump(), "pre_tokenizer.type");
  j = make_tokenizer({});
  j["pre_tokenizer"] = {
      {"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
  expect_error(j.dump(), "pre_tokenizer.pattern.Regex");
  j = make_tokenizer({});
  j["model"]["type"] = "WordPiece";
  expect_error(j.dump(), "model.type");
  j = make_tokenizer({});
  j["added_tokens"] = json::array({json{{"id", -1}, {"content", "x"}}});
  expect_error(j.dump(), "added_tokens[0].id");

  const auto t = load(make_tokenizer({}));
  EXPECT_THROW(t.encode(std::string("ab\xff", 3)), TokenizerError);
  EXPECT_THROW(t.encode("\xed\xa0\x80"), TokenizerError);  // a surrogate
}

TEST(TokenizerHash, IsFnv1aOfTheBytes) {
  // FNV-1a 64 reference values.
  EXPECT_EQ(depthscale::probe::fnv1a64("", 0), 0xcbf29ce484222325ULL);
  EXPECT_EQ(depthscale::probe::fnv1a64("a", 1), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(depthscale::probe::fnv1a64("foobar", 6), 0x85944171f73967e8ULL);
  const std::string text = make_tokenizer({}).dump();
  EXPECT_EQ(Tokenizer::from_json(text).hash(),
            depthscale::probe::fnv1a64(text.data(), text.size()));
}
