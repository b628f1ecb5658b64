// GPT-2 style vocab.json + merges.txt (OPT, GPT-2): Tokenizer::from_vocab_merges, from_model_dir,
// from_path, the hashes, and `depthscale tokenize` on such a pair.
//
// The agreement tests derive a vocab.json + merges.txt pair from Pythia's GPT-NeoX tokenizer.json
// (shared data) into a temporary folder at test time; nothing derived from it is committed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <unistd.h>

#include "probe/shards.hpp"
#include "probe/tokenizer.hpp"

namespace fs = std::filesystem;
using depthscale::probe::Tokenizer;
using depthscale::probe::TokenizerError;
using depthscale::probe::VocabMergesOptions;
using json = nlohmann::json;

namespace {

std::string neox_path() {
  const char* env = std::getenv("DEPTHSCALE_SHARED_DATA");
  const std::string dir = env && *env ? env : DEPTHSCALE_SHARED_DATA_DEFAULT;
  return dir + "/gpt-neox-20b-tokenizer.json";
}
std::string test_data(const std::string& name) {
  return std::string(DS_TOKENIZER_TEST_DIR) + "/data/" + name;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
void spit(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A fresh folder per test, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    static int count = 0;  // several folders in one test
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    path = fs::temp_directory_path() /
           ("ds_vocab_merges_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" +
            info->name() + "_" + std::to_string(count++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path operator/(const std::string& name) const { return path / name; }
};

// GPT-2's byte-to-character map, written out again so the test does not trust the code.
std::string byte_level(const std::string& raw) {
  std::string out;
  for (unsigned char b : raw) {
    auto printable = [](unsigned x) {
      return (x >= 33 && x <= 126) || (x >= 161 && x <= 172) || x >= 174;
    };
    unsigned cp = b;
    if (!printable(b)) {
      unsigned n = 0;
      for (unsigned x = 0; x < b; ++x) n += !printable(x);
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

// An OPT-shaped pair: <s> 0, <pad> 1, </s> 2, <unk> 3, then the 256 byte symbols (id = byte + 4),
// then one token per merge. Returns the merges.txt body lines (without header).
struct Pair {
  json vocab = json::object();
  std::vector<std::string> merge_lines;
};
Pair opt_pair(const std::vector<std::pair<std::string, std::string>>& merges) {
  Pair p;
  p.vocab["<s>"] = 0;
  p.vocab["<pad>"] = 1;
  p.vocab["</s>"] = 2;
  p.vocab["<unk>"] = 3;
  for (int b = 0; b < 256; ++b) p.vocab[byte_level(std::string(1, static_cast<char>(b)))] = b + 4;
  int next = 260;
  for (const auto& [a, b] : merges) {
    const std::string la = byte_level(a), lb = byte_level(b);
    if (!p.vocab.contains(la + lb)) p.vocab[la + lb] = next++;
    p.merge_lines.push_back(la + " " + lb);
  }
  return p;
}
void write_pair(const TempDir& dir, const Pair& p, bool header = true,
                const std::string& eol = "\n", const std::string& vocab_name = "vocab.json",
                const std::string& merges_name = "merges.txt") {
  // ensure_ascii, as Python's json.dump writes GPT-2's vocab.json ("\u0120the").
  spit(dir / vocab_name, p.vocab.dump(-1, ' ', true));
  std::string m = header ? "#version: 0.2" + eol : "";
  for (const auto& l : p.merge_lines) m += l + eol;
  spit(dir / merges_name, m);
}

// facebook/opt-350m's tokenizer_config.json and special_tokens_map.json, as published.
json opt_added(const std::string& content) {
  return {{"content", content}, {"single_word", false}, {"lstrip", false},
          {"rstrip", false},    {"normalized", true},   {"__type", "AddedToken"}};
}
void write_opt_configs(const TempDir& dir, bool with_add_bos = true, bool with_model_type = true) {
  json tc = {{"errors", "replace"},
             {"unk_token", opt_added("</s>")},
             {"bos_token", opt_added("</s>")},
             {"eos_token", opt_added("</s>")},
             {"pad_token", opt_added("<pad>")},
             {"add_prefix_space", false},
             {"special_tokens_map_file", nullptr},
             {"name_or_path", "patrickvonplaten/opt-30b"}};
  if (with_add_bos) tc["add_bos_token"] = true;
  spit(dir / "tokenizer_config.json", tc.dump(2));
  spit(dir / "special_tokens_map.json", json{{"bos_token", opt_added("</s>")},
                                             {"eos_token", opt_added("</s>")},
                                             {"unk_token", opt_added("</s>")},
                                             {"pad_token", opt_added("<pad>")}}
                                            .dump(2));
  spit(dir / "config.json",
       json{{"model_type", with_model_type ? "opt" : "gpt2"}, {"vocab_size", 50272}}.dump(2));
}

std::vector<uint32_t> bytes_of(const std::string& raw, uint32_t offset) {
  std::vector<uint32_t> v;
  for (unsigned char c : raw) v.push_back(c + offset);
  return v;
}

std::vector<uint32_t> cat(std::vector<uint32_t> a, const std::vector<uint32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

struct Text {
  std::string name, text;
};
std::vector<Text> read_texts(const std::string& path) {
  std::vector<Text> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) {
      const json j = json::parse(line);
      out.push_back({j.at("name").get<std::string>(), j.at("text").get<std::string>()});
    }
  return out;
}

// Seeded random texts over scripts, marks, whitespace and the file's special tokens (raw mt19937
// output: its sequence is fixed by the standard).
std::vector<Text> random_texts(size_t count) {
  const std::vector<std::string> pieces = {
      "a",           "the",         " the",   "ing",    "Hello",      "0",          "42",
      "2024",        ".",           ",",      "'s",     "'ll",        "\"",         "--",
      "\u2014",      " ",           "  ",     "    ",   "\t",         "\n",         "\n\n",
      "\r\n",        "\u00a0",      "\u3000", "\u0085", "\ufeff",     "\u00e9",     "e\u0301",
      "\u00df",      "\u0130",      "\u4e2d", "\u6587", "\u3042",     "\ud55c",     "\u1100",
      "\u0645",      "\u05e9",      "\u0928", "\u094d", "\u0e2a",     "\u0431",     "\u03b1",
      "\u1f00",      "\U0001F600",  "\u200d", "\ufe0f", "\U0001F44D", "\U0001F3FD", "<|endoftext|>",
      "<|padding|>", "<|endoftext|"};
  std::mt19937 rng(7031);
  std::vector<Text> out;
  for (size_t i = 0; i < count; ++i) {
    std::string s;
    const size_t len = 1 + rng() % 50;
    for (size_t k = 0; k < len; ++k) s += pieces[rng() % pieces.size()];
    out.push_back({"random-" + std::to_string(i), s});
  }
  return out;
}

// GPT-NeoX's tokenizer.json written out the GPT-2 way: vocab.json (model.vocab), merges.txt
// (model.merges, with or without the "#version" header) and a tokenizer_config.json whose
// added_tokens_decoder holds the file's added tokens (the whitespace runs have ids past
// vocab.json's).
void derive_neox_pair(const TempDir& dir, bool header = true) {
  const json j = json::parse(slurp(neox_path()));
  spit(dir / "vocab.json", j["model"]["vocab"].dump(-1, ' ', true));
  std::string merges = header ? "#version: 0.2\n" : "";
  for (const auto& m : j["model"]["merges"])
    merges += (m.is_string() ? m.get<std::string>()
                             : m[0].get<std::string>() + " " + m[1].get<std::string>()) +
              "\n";
  spit(dir / "merges.txt", merges);
  json decoder = json::object();
  for (const auto& a : j["added_tokens"]) {
    json t = a;
    t.erase("id");
    decoder[std::to_string(a["id"].get<uint32_t>())] = t;
  }
  spit(dir / "tokenizer_config.json", json{{"add_prefix_space", false},
                                           {"added_tokens_decoder", decoder},
                                           {"bos_token", "<|endoftext|>"},
                                           {"eos_token", "<|endoftext|>"},
                                           {"unk_token", "<|endoftext|>"},
                                           {"tokenizer_class", "GPTNeoXTokenizer"}}
                                          .dump(2));
}

// The same tokenizer.json with the normalizer (NFC) removed: what vocab.json + merges.txt mean.
Tokenizer neox_without_normalizer() {
  json j = json::parse(slurp(neox_path()));
  j["normalizer"] = nullptr;
  return Tokenizer::from_json(j.dump(), "gpt-neox-20b without normalizer");
}

#define REQUIRE_NEOX() \
  if (!fs::exists(neox_path())) GTEST_SKIP() << neox_path() << " not found"

// Expects a TokenizerError whose message holds every one of `needles`.
template <class F>
void expect_error(F&& load, const std::vector<std::string>& needles) {
  try {
    load();
    ADD_FAILURE() << "no error; wanted " << needles.front();
  } catch (const TokenizerError& e) {
    const std::string msg = e.what();
    for (const auto& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << msg;
  }
}

}  // namespace

TEST(VocabMergesAgreement, DerivedNeoxPairMatchesTokenizerJson) {
  REQUIRE_NEOX();
  TempDir dir;
  derive_neox_pair(dir);
  const auto pair = Tokenizer::from_vocab_merges(dir / "vocab.json", dir / "merges.txt");
  const auto plain = neox_without_normalizer();
  const auto original = Tokenizer::from_file(neox_path());
  EXPECT_EQ(pair.vocab_size(), original.vocab_size());
  EXPECT_TRUE(pair.special_prefix().empty());  // no add_bos_token, not OPT
  EXPECT_EQ(pair.added_tokens().size(), original.added_tokens().size());

  // Every text: the pair is the tokenizer.json without its normalizer, ids and decoding.
  auto texts = read_texts(test_data("multilingual.jsonl"));
  ASSERT_GE(texts.size(), 50u);
  const size_t committed = texts.size();
  for (auto& t : random_texts(300)) texts.push_back(std::move(t));
  size_t same = 0, nfc_stable = 0, nfc_stable_committed = 0, same_as_original = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto ids = pair.encode(texts[i].text);
    EXPECT_EQ(ids, plain.encode(texts[i].text)) << texts[i].name;
    EXPECT_EQ(pair.decode(ids), plain.decode(ids)) << texts[i].name;
    same += ids == plain.encode(texts[i].text);
    // Where NFC changes nothing, the original file (normalizer and all) agrees too.
    if (original.normalize(texts[i].text) == texts[i].text) {
      ++nfc_stable;
      nfc_stable_committed += i < committed;
      EXPECT_EQ(ids, original.encode(texts[i].text)) << texts[i].name;
      same_as_original += ids == original.encode(texts[i].text);
    }
  }
  std::printf(
      "[vocab+merges] gpt-neox-20b pair: %zu/%zu texts identical to tokenizer.json without "
      "normalizer; %zu/%zu NFC-stable texts identical to the original\n",
      same, texts.size(), same_as_original, nfc_stable);
  EXPECT_GE(nfc_stable_committed, committed / 2);

  // Against Hugging Face's reference ids (committed fixture of @huggingface/tokenizers' output)
  // on the committed texts that NFC leaves alone.
  std::ifstream fixture(test_data("multilingual.gpt-neox-20b.ids.jsonl"));
  std::string line;
  ASSERT_TRUE(std::getline(fixture, line));
  if (json::parse(line).at("tokenizer_fnv1a64").get<uint64_t>() != original.hash())
    GTEST_SKIP() << neox_path() << " is not the file the fixture was made from";
  size_t compared = 0, agree = 0;
  for (size_t i = 0; i < committed && std::getline(fixture, line); ++i) {
    const auto ref = json::parse(line).at("ids").get<std::vector<uint32_t>>();
    if (original.normalize(texts[i].text) != texts[i].text) continue;
    ++compared;
    EXPECT_EQ(pair.encode(texts[i].text), ref) << texts[i].name;
    agree += pair.encode(texts[i].text) == ref;
  }
  std::printf(
      "[vocab+merges] gpt-neox-20b pair vs Hugging Face fixture: %zu/%zu NFC-stable texts\n", agree,
      compared);
  EXPECT_EQ(compared, nfc_stable_committed);
}

TEST(VocabMergesAgreement, HeaderIsOptionalAndNotPartOfTheIds) {
  REQUIRE_NEOX();
  TempDir with, without;
  derive_neox_pair(with, true);
  derive_neox_pair(without, false);
  const auto a = Tokenizer::from_vocab_merges(with / "vocab.json", with / "merges.txt");
  const auto b = Tokenizer::from_vocab_merges(without / "vocab.json", without / "merges.txt");
  for (const auto& t : read_texts(test_data("multilingual.jsonl")))
    EXPECT_EQ(a.encode(t.text), b.encode(t.text)) << t.name;
  // The first merge ("Ġ Ġ") must not be taken for a header when there is none.
  EXPECT_EQ(b.encode("  "), a.encode("  "));
  EXPECT_EQ(a.encode("  ").size(), 1u);
  // The identity is the files' bytes: a different merges.txt is a different tokenizer.
  EXPECT_NE(a.hash(), b.hash());
}

TEST(VocabMerges, MergesApplyAndLineEndingsDoNotMatter) {
  const Pair p = opt_pair({{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {" ", "w"}});
  TempDir lf, crlf;
  write_pair(lf, p);
  write_pair(crlf, p, false, "\r\n");
  spit(crlf / "merges.txt", slurp(crlf / "merges.txt") + "\r\n\n");  // trailing blank lines
  VocabMergesOptions o;
  o.read_config_files = false;
  const auto a = Tokenizer::from_vocab_merges(lf / "vocab.json", lf / "merges.txt", o);
  const auto b = Tokenizer::from_vocab_merges(crlf / "vocab.json", crlf / "merges.txt", o);
  const uint32_t hello = p.vocab[byte_level("hello")], sw = p.vocab[byte_level(" w")];
  EXPECT_EQ(a.encode("hello world"),
            cat({hello, sw}, bytes_of("orld", 4)));  // no BOS without config files
  EXPECT_EQ(b.encode("hello world"), a.encode("hello world"));
  EXPECT_EQ(a.decode(a.encode("hello world \xc3\xa9")), "hello world \xc3\xa9");
  EXPECT_EQ(a.token_to_id("<unk>"), 3u);
  EXPECT_EQ(a.vocab_size(), 265u);
  // <s> and friends are plain vocabulary entries without config files: no special matching.
  EXPECT_EQ(a.encode("</s>"), bytes_of("</s>", 4));
}

TEST(VocabMerges, OptFolderPrependsEosAsBosAndMatchesSpecialTokens) {
  const Pair p = opt_pair({{"H", "i"}, {" ", "t"}, {" t", "o"}});
  TempDir dir;
  write_pair(dir, p);
  write_opt_configs(dir);
  const auto t = Tokenizer::from_model_dir(dir.path);
  EXPECT_EQ(t.special_prefix(), (std::vector<uint32_t>{2}));
  EXPECT_TRUE(t.special_suffix().empty());
  const uint32_t hi = p.vocab[byte_level("Hi")], to = p.vocab[byte_level(" to")];
  EXPECT_EQ(t.encode("Hi to"), (std::vector<uint32_t>{2, hi, to}));
  EXPECT_EQ(t.encode("Hi to", false), (std::vector<uint32_t>{hi, to}));
  // </s> and <pad> in the text are their ids; <s> and <unk> are not special in OPT's files.
  EXPECT_EQ(t.encode("Hi</s><pad>", false), (std::vector<uint32_t>{hi, 2, 1}));
  EXPECT_EQ(t.encode("<s><unk>", false), cat(bytes_of("<s>", 4), bytes_of("<unk>", 4)));
  EXPECT_EQ(t.added_tokens().size(), 2u);
  EXPECT_EQ(t.decode(t.encode("Hi to")), "</s>Hi to");
  EXPECT_EQ(t.decode(t.encode("Hi to"), true), "Hi to");
  EXPECT_NE(t.origin().find("vocab.json + "), std::string::npos) << t.origin();
}

TEST(VocabMerges, BosOption) {
  const Pair p = opt_pair({{"a", "b"}});
  const uint32_t ab = p.vocab[byte_level("ab")];
  auto load = [&](VocabMergesOptions::Bos bos, bool add_bos_flag, bool opt_model) {
    TempDir dir;
    write_pair(dir, p);
    write_opt_configs(dir, add_bos_flag, opt_model);
    VocabMergesOptions o;
    o.add_bos = bos;
    return Tokenizer::from_vocab_merges(dir / "vocab.json", dir / "merges.txt", o).encode("ab");
  };
  using Bos = VocabMergesOptions::Bos;
  const std::vector<uint32_t> with{2, ab}, without{ab};
  EXPECT_EQ(load(Bos::Auto, true, true), with);       // add_bos_token: true (OPT's files)
  EXPECT_EQ(load(Bos::Auto, true, false), with);      // the flag alone
  EXPECT_EQ(load(Bos::Auto, false, true), with);      // no flag, but model_type "opt"
  EXPECT_EQ(load(Bos::Auto, false, false), without);  // neither
  EXPECT_EQ(load(Bos::Off, true, true), without);
  EXPECT_EQ(load(Bos::On, false, false), with);
  {
    // An explicit add_bos_token: false wins over the model family.
    TempDir dir;
    write_pair(dir, p);
    write_opt_configs(dir, false, true);
    json tc = json::parse(slurp(dir / "tokenizer_config.json"));
    tc["add_bos_token"] = false;
    spit(dir / "tokenizer_config.json", tc.dump());
    EXPECT_EQ(Tokenizer::from_model_dir(dir.path).encode("ab"), without);
  }
  {
    // On with no bos_token anywhere is an error, not a guess.
    TempDir dir;
    write_pair(dir, p);
    VocabMergesOptions o;
    o.add_bos = Bos::On;
    expect_error([&] { Tokenizer::from_vocab_merges(dir / "vocab.json", dir / "merges.txt", o); },
                 {"bos_token", "tokenizer_config.json"});
    o.read_config_files = false;
    expect_error([&] { Tokenizer::from_vocab_merges(dir / "vocab.json", dir / "merges.txt", o); },
                 {"bos_token"});
  }
}

TEST(VocabMerges, ConfigFilesAddedTokensAndPrefixSpace) {
  const Pair p = opt_pair({{" ", "a"}});
  TempDir dir;
  write_pair(dir, p);
  // special_tokens_map.json wins over tokenizer_config.json; added_tokens_decoder gives ids past
  // the vocabulary; additional_special_tokens must be known ids.
  spit(dir / "tokenizer_config.json",
       json{{"add_prefix_space", true},
            {"bos_token", "<pad>"},
            {"add_bos_token", true},
            {"added_tokens_decoder",
             {{"300", {{"content", "<|x|>"}, {"special", true}, {"normalized", false}}}}},
            {"additional_special_tokens", {"<|x|>"}}}
           .dump());
  spit(dir / "special_tokens_map.json", json{{"bos_token", {{"content", "<s>"}}}}.dump());
  const auto t = Tokenizer::from_model_dir(dir.path);
  EXPECT_EQ(t.vocab_size(), 301u);
  const uint32_t sa = p.vocab[byte_level(" a")];
  // BOS is <s> (0), from special_tokens_map.json; the prefix space makes "a" into " a".
  EXPECT_EQ(t.encode("a<|x|>"), (std::vector<uint32_t>{0, sa, 300}));
  EXPECT_EQ(t.decode({300}, true), "");

  spit(dir / "tokenizer_config.json", json{{"additional_special_tokens", {"<|nowhere|>"}}}.dump());
  expect_error([&] { Tokenizer::from_model_dir(dir.path); },
               {"tokenizer_config.json", "additional_special_tokens[0]", "<|nowhere|>"});
  // A bad bos_token in tokenizer_config.json is not read while the map names one.
  spit(dir / "tokenizer_config.json", "{\"bos_token\": [1], \"add_bos_token\": true}");
  EXPECT_EQ(Tokenizer::from_model_dir(dir.path).special_prefix(), (std::vector<uint32_t>{0}));
  fs::remove(dir / "special_tokens_map.json");
  expect_error([&] { Tokenizer::from_model_dir(dir.path); },
               {"tokenizer_config.json", "bos_token"});
  spit(dir / "tokenizer_config.json", "{\"added_tokens_decoder\": {\"x\": {\"content\": \"y\"}}}");
  expect_error([&] { Tokenizer::from_model_dir(dir.path); },
               {"added_tokens_decoder[\"x\"]", "token id"});
  spit(dir / "tokenizer_config.json", "{oops");
  expect_error([&] { Tokenizer::from_model_dir(dir.path); },
               {"tokenizer_config.json", "not valid JSON"});
}

TEST(VocabMerges, MalformedFilesNameFileAndLine) {
  const Pair p = opt_pair({{"a", "b"}});
  TempDir dir;
  write_pair(dir, p);
  VocabMergesOptions o;
  o.read_config_files = false;
  auto load = [&] { Tokenizer::from_vocab_merges(dir / "vocab.json", dir / "merges.txt", o); };
  const std::string good_merges = slurp(dir / "merges.txt");  // header on line 1, "a b" on 2
  auto merges_error = [&](const std::string& extra, const std::string& needle) {
    spit(dir / "merges.txt", good_merges + extra);
    expect_error(load, {(dir / "merges.txt").string() + ":3: ", needle});
  };
  merges_error("a\n", "expected two tokens");
  merges_error("a b c\n", "expected two tokens");
  merges_error("a  b\n", "expected two tokens");
  merges_error(" a\n", "expected two tokens");
  merges_error("a zz\n", "token \"zz\" is not in vocab.json");
  merges_error("b a\n", "merged token \"ba\" is not in vocab.json");
  merges_error(std::string("a \xff\n"), "not valid UTF-8");
  spit(dir / "merges.txt", good_merges);
  load();  // the good pair loads

  // vocab.json: one entry per line, so errors land on known lines.
  auto vocab_error = [&](const std::string& text, const std::string& where,
                         const std::string& needle) {
    spit(dir / "vocab.json", text);
    expect_error(load, {(dir / "vocab.json").string() + where, needle});
  };
  std::string lines = "{\n";
  for (auto it = p.vocab.begin(); it != p.vocab.end(); ++it)
    lines += json(it.key()).dump() + ": " + it.value().dump() + ",\n";
  // Entry lines are 2 .. 1 + size; the bad entry goes on the next line.
  const std::string next_line = ":" + std::to_string(p.vocab.size() + 2) + ": ";
  vocab_error(lines + "\"qq\": \"7\"\n}\n", next_line,
              "token \"qq\": expected an unsigned integer");
  vocab_error(lines + "\"qq\": -1\n}\n", next_line, "found a negative number");
  vocab_error(lines + "\"qq\": 1.5\n}\n", next_line, "found a fractional number");
  vocab_error(lines + "\"qq\": 4294967296\n}\n", next_line, "does not fit 32 bits");
  vocab_error(lines + "\"a\": 7\n}\n", next_line, "token \"a\" appears twice");
  vocab_error(lines + "\"qq\": {}\n}\n", next_line, "found an object");
  vocab_error(lines + "\"qq\" 7\n}\n", next_line, "not valid JSON");
  vocab_error("[1, 2]", ":1: ", "expected a JSON object");
  vocab_error("", ":1: ", "not valid JSON");
  vocab_error("{\"a\": 1}\n{}", ":2: ", "not valid JSON");
}

TEST(VocabMerges, ModelDirAndPathPrecedenceAndHashes) {
  const Pair p = opt_pair({{"a", "b"}});
  TempDir dir;
  write_pair(dir, p);
  write_opt_configs(dir);
  const std::string vocab = dir / "vocab.json", merges = dir / "merges.txt";
  const std::string bytes = slurp(vocab) + slurp(merges);
  const uint64_t pair_hash = depthscale::probe::fnv1a64(bytes.data(), bytes.size());
  EXPECT_EQ(depthscale::probe::vocab_merges_hash(vocab, merges), pair_hash);

  // Only the pair: from_model_dir, from_path (folder or vocab.json) and the folder hash agree.
  const auto from_dir = Tokenizer::from_model_dir(dir.path);
  EXPECT_EQ(from_dir.hash(), pair_hash);
  EXPECT_EQ(Tokenizer::from_path(dir.path).hash(), pair_hash);
  EXPECT_EQ(Tokenizer::from_path(vocab).hash(), pair_hash);
  EXPECT_EQ(Tokenizer::from_path(vocab).encode("ab"), from_dir.encode("ab"));  // configs beside
  EXPECT_EQ(Tokenizer::from_path(merges).hash(), pair_hash);  // either file names the pair
  EXPECT_EQ(depthscale::probe::tokenizer_hash_of_model_dir(dir.path), pair_hash);

  // A tokenizer.json beside them wins: it carries its own post-processor.
  const Pair q = opt_pair({});
  json tj = {{"added_tokens", json::array()},
             {"normalizer", nullptr},
             {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}}},
             {"post_processor", nullptr},
             {"model", {{"type", "BPE"}, {"vocab", q.vocab}, {"merges", json::array()}}}};
  spit(dir / "tokenizer.json", tj.dump());
  const uint64_t json_hash = depthscale::probe::tokenizer_file_hash(dir / "tokenizer.json");
  EXPECT_EQ(Tokenizer::from_model_dir(dir.path).hash(), json_hash);
  EXPECT_EQ(Tokenizer::from_model_dir(dir.path).encode("ab"), bytes_of("ab", 4));
  EXPECT_EQ(depthscale::probe::tokenizer_hash_of_model_dir(dir.path), json_hash);
  EXPECT_EQ(Tokenizer::from_path(dir / "tokenizer.json").hash(), json_hash);
  EXPECT_EQ(Tokenizer::from_path(vocab).hash(), pair_hash);  // asked for by name

  // Prefixed names (gpt2-vocab.json + gpt2-merges.txt) pair up; a lone vocab.json is an error.
  TempDir other;
  write_pair(other, p, true, "\n", "gpt2-vocab.json", "gpt2-merges.txt");
  EXPECT_EQ(Tokenizer::from_path(other / "gpt2-vocab.json").hash(), pair_hash);
  fs::remove(other / "gpt2-merges.txt");
  expect_error([&] { Tokenizer::from_path(other / "gpt2-vocab.json"); },
               {"gpt2-merges.txt", "not found"});
  fs::rename(other / "gpt2-vocab.json", other / "gpt2-merges.txt");  // only a "merges.txt" left
  expect_error([&] { Tokenizer::from_path(other / "gpt2-merges.txt"); },
               {"gpt2-vocab.json", "not found"});
  fs::remove(other / "gpt2-merges.txt");
  // A folder with neither form.
  expect_error([&] { Tokenizer::from_model_dir(other.path); }, {"no tokenizer.json"});
  EXPECT_FALSE(depthscale::probe::tokenizer_hash_of_model_dir(other.path).has_value());
}

// A file's content, not its name, says which format it is: a tokenizer.json saved as *vocab.json
// is read as a tokenizer.json (no merges.txt needed), and a vocab.json saved under another name as
// the pair it is (or refused, saying what it holds).
TEST(VocabMerges, FormatByContentNotName) {
  const Pair p = opt_pair({{"a", "b"}});
  TempDir dir;
  write_pair(dir, p);
  const json tj = {
      {"added_tokens", json::array()},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}}},
      {"post_processor", nullptr},
      {"model", {{"type", "BPE"}, {"vocab", opt_pair({}).vocab}, {"merges", json::array()}}}};
  spit(dir / "hf-vocab.json", tj.dump());
  const auto as_json = Tokenizer::from_path(dir / "hf-vocab.json");
  EXPECT_EQ(as_json.hash(), depthscale::probe::tokenizer_file_hash(dir / "hf-vocab.json"));
  EXPECT_EQ(as_json.encode("ab"), bytes_of("ab", 4));  // no merges: the bytes

  fs::copy_file(dir / "vocab.json", dir / "tokenizer.json");
  const auto as_pair = Tokenizer::from_path(dir / "tokenizer.json");
  EXPECT_EQ(as_pair.encode("ab"), Tokenizer::from_path(dir / "vocab.json").encode("ab"));
  EXPECT_NE(as_pair.encode("ab"), as_json.encode("ab"));  // the merge a+b applied

  TempDir lone;
  fs::copy_file(dir / "vocab.json", lone / "tokenizer.json");
  expect_error([&] { Tokenizer::from_path(lone / "tokenizer.json"); },
               {"holds a GPT-2 style vocab.json", "merges.txt", "not found"});
}

TEST(VocabMerges, TokenizeCommandTakesThePairOrTheFolder) {
  using namespace depthscale::probe;
  const Pair p = opt_pair({{"a", "b"}});
  TempDir dir;
  write_pair(dir, p);
  write_opt_configs(dir);
  spit(dir / "docs.jsonl", "{\"text\": \"ab\"}\n{\"text\": \"b</s>a\"}\n");
  const uint32_t ab = p.vocab[byte_level("ab")];
  for (const std::string& arg : {(dir / "vocab.json").string(), dir.path.string()}) {
    TokenizeOptions o;
    o.tokenizer = arg;
    o.inputs = {dir / "docs.jsonl"};
    o.out_prefix = dir / "out/shard";
    o.overwrite = true;
    o.threads = 1;
    TokenizeReport report;
    ASSERT_NO_THROW(report = tokenize_files(o)) << arg;
    EXPECT_EQ(report.special_prefix, std::vector<uint32_t>{2}) << arg;
    EXPECT_TRUE(report.special_suffix.empty()) << arg;
    const auto files = list_shards(o.out_prefix);
    ASSERT_EQ(files.size(), 1u);
    const auto shard = TokenShard::open(files[0]);
    EXPECT_EQ(shard.info().tokenizer_hash,
              vocab_merges_hash(dir / "vocab.json", dir / "merges.txt"));
    EXPECT_EQ(shard.info().tokenizer_hash, tokenizer_hash_of_model_dir(dir.path));
    EXPECT_EQ(shard.document(0), (std::vector<uint32_t>{2, ab}));
    EXPECT_EQ(shard.document(1), (std::vector<uint32_t>{2, 'b' + 4, 2, 'a' + 4}));
  }
}
