// Token shards: round trips, every corruption the reader must catch, the llm.c layout, streams
// across shards, and `depthscale tokenize` end to end.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "probe/shards.hpp"
#include "probe/tokenizer.hpp"

namespace fs = std::filesystem;
using namespace depthscale::probe;

namespace {

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("ds_shards_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

template <class T>
void put(std::string& bytes, size_t offset, T v) {
  std::memcpy(&bytes[offset], &v, sizeof v);
}

// Recomputes the payload hash after a deliberate edit, so the check under test is the one hit.
void rehash(std::string& bytes) {
  put<uint64_t>(bytes, 56, fnv1a64(bytes.data() + 64, bytes.size() - 64));
}

const std::vector<std::vector<uint32_t>> kDocs = {{1, 2, 3}, {}, {50000, 0, 7}, {42}};

// Expects ShardError from opening `path`, with the file and `field` in the message.
void expect_bad(const std::string& path, const std::string& field, const std::string& detail = "",
                const ShardReadOptions& options = {}) {
  try {
    TokenShard::open(path, options);
    ADD_FAILURE() << "opened; wanted an error about " << field;
  } catch (const ShardError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(field + ":"), std::string::npos) << msg;
    if (!detail.empty()) {
      EXPECT_NE(msg.find(detail), std::string::npos) << msg;
    }
  }
}

std::string llmc_file(int32_t magic, int32_t version, const std::vector<uint32_t>& tokens,
                      std::optional<int32_t> count = std::nullopt) {
  std::string bytes(1024, '\0');
  put<int32_t>(bytes, 0, magic);
  put<int32_t>(bytes, 4, version);
  put<int32_t>(bytes, 8, count.value_or(static_cast<int32_t>(tokens.size())));
  for (uint32_t t : tokens) {
    if (magic == kLlmcMagicU16) {
      const uint16_t v = static_cast<uint16_t>(t);
      bytes.append(reinterpret_cast<const char*>(&v), 2);
    } else {
      bytes.append(reinterpret_cast<const char*>(&t), 4);
    }
  }
  return bytes;
}

std::vector<std::vector<uint32_t>> all_docs(const std::vector<std::string>& paths,
                                            ShardReadOptions options = {}) {
  DocumentStream stream(paths, options);
  std::vector<std::vector<uint32_t>> out;
  Document d;
  while (stream.next(d)) {
    EXPECT_EQ(d.index, out.size());
    out.push_back(d.tokens);
  }
  return out;
}

}  // namespace

TEST(Shards, RoundTripUint16) {
  TempDir dir;
  const std::string p = dir / "a.bin";
  write_shard(p, 50281, 0x1234abcdULL, 17, kDocs);
  EXPECT_FALSE(fs::exists(p + ".tmp"));
  EXPECT_EQ(fs::file_size(p), 64u + 8 * 5 + 2 * 7);
  const auto s = TokenShard::open(p);
  const ShardInfo& i = s.info();
  EXPECT_EQ(i.format, ShardFormat::Depthscale);
  EXPECT_EQ(i.version, 1u);
  EXPECT_EQ(i.token_width, 2u);
  EXPECT_EQ(i.vocab_size, 50281u);
  EXPECT_EQ(i.tokenizer_hash, 0x1234abcdULL);
  EXPECT_EQ(i.doc_count, 4u);
  EXPECT_EQ(i.token_count, 7u);
  EXPECT_EQ(i.first_doc, 17u);
  EXPECT_EQ(i.max_token, 50000u);
  ASSERT_EQ(s.num_documents(), kDocs.size());
  for (size_t d = 0; d < kDocs.size(); ++d) {
    EXPECT_EQ(s.document(d), kDocs[d]);
    EXPECT_EQ(s.document_size(d), kDocs[d].size());
  }
  EXPECT_EQ(s.token(3), 50000u);
  EXPECT_THROW(s.document(4), std::out_of_range);
}

TEST(Shards, RoundTripUint32) {
  TempDir dir;
  const std::string p = dir / "b.bin";
  const std::vector<std::vector<uint32_t>> docs = {{151642, 65536, 0}, {65535}};
  write_shard(p, 151665, 9, 0, docs);
  const auto s = TokenShard::open(p);
  EXPECT_EQ(s.info().token_width, 4u);
  EXPECT_EQ(s.document(0), docs[0]);
  EXPECT_EQ(s.document(1), docs[1]);
  EXPECT_EQ(token_width_for(65536), 2u);
  EXPECT_EQ(token_width_for(65537), 4u);
}

TEST(Shards, WriterSplitsAndStreamRejoinsInOrder) {
  TempDir dir;
  const std::string prefix = dir / "sub/out";
  fs::create_directories(dir / "sub");
  ShardWriter w(prefix, 1000, 5, 3);
  std::vector<std::vector<uint32_t>> docs;
  for (uint32_t d = 0; d < 8; ++d) {
    docs.push_back(std::vector<uint32_t>(d, d));
    w.add(docs.back());
  }
  const auto files = w.finish();
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[1], prefix + "_000001.bin");
  EXPECT_EQ(list_shards(prefix), files);
  EXPECT_EQ(TokenShard::open(files[2]).info().first_doc, 6u);
  EXPECT_EQ(TokenShard::open(files[2]).num_documents(), 2u);
  EXPECT_EQ(all_docs(files), docs);
  // A list may start mid-stream (indices follow first_doc) but not skip a shard.
  DocumentStream tail({files[1], files[2]});
  Document d;
  ASSERT_TRUE(tail.next(d));
  EXPECT_EQ(d.index, 3u);
  EXPECT_EQ(d.tokens, docs[3]);
  DocumentStream gap({files[0], files[2]});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(gap.next(d));
  try {
    gap.next(d);
    FAIL() << "a missing shard went unnoticed";
  } catch (const ShardError& e) {
    EXPECT_NE(std::string(e.what()).find("first_doc"), std::string::npos) << e.what();
  }
}

TEST(Shards, EmptyWriterStillWritesOneShard) {
  TempDir dir;
  ShardWriter w(dir / "e", 10, 1, 5);
  const auto files = w.finish();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(TokenShard::open(files[0]).num_documents(), 0u);
  EXPECT_TRUE(all_docs(files).empty());
}

TEST(Shards, WriterRejectsIdsOutsideTheVocabulary) {
  TempDir dir;
  EXPECT_THROW(write_shard(dir / "x.bin", 100, 0, 0, {{5, 100}}), ShardError);
  EXPECT_FALSE(fs::exists(dir / "x.bin"));
}

TEST(ShardErrors, EveryCorruptionIsNamed) {
  TempDir dir;
  const std::string good_path = dir / "good.bin";
  write_shard(good_path, 50281, 77, 0, kDocs);
  const std::string good = slurp(good_path);
  const std::string p = dir / "bad.bin";
  auto with = [&](auto edit) {
    std::string b = good;
    edit(b);
    spit(p, b);
  };

  with([](std::string& b) { b[0] = 'X'; });
  expect_bad(p, "magic", "not a token shard");
  with([](std::string& b) { b.resize(40); });
  expect_bad(p, "header", "truncated");
  spit(p, "");
  expect_bad(p, "header", "empty");
  with([](std::string& b) { put<uint32_t>(b, 8, 2); });
  expect_bad(p, "version", "2 is not supported");
  with([](std::string& b) { put<uint32_t>(b, 12, 3); });
  expect_bad(p, "token_width", "must be 2 or 4");
  with([](std::string& b) { put<uint32_t>(b, 12, 4); });
  expect_bad(p, "token_width", "does not match vocab_size");
  with([](std::string& b) { put<uint32_t>(b, 16, 0); });
  expect_bad(p, "vocab_size");
  with([](std::string& b) { put<uint32_t>(b, 20, 1); });
  expect_bad(p, "reserved");
  with([](std::string& b) { put<uint64_t>(b, 32, ~0ULL); });
  expect_bad(p, "doc_count", "implausible");
  with([](std::string& b) { put<uint64_t>(b, 40, ~0ULL >> 4); });
  expect_bad(p, "token_count", "implausible");
  with([](std::string& b) { b.pop_back(); });
  expect_bad(p, "size", "truncated");
  with([](std::string& b) { put<uint64_t>(b, 40, 8); });
  expect_bad(p, "size", "truncated");
  with([](std::string& b) { b += "xx"; });
  expect_bad(p, "size", "after the last token");
  with([](std::string& b) { b[b.size() - 1] ^= 1; });
  expect_bad(p, "payload_hash", "corrupted");
  with([](std::string& b) { put<uint64_t>(b, 56, 0); });
  expect_bad(p, "payload_hash");
  // The index checks, each with a consistent payload hash so that the check itself fires.
  with([](std::string& b) {
    put<uint64_t>(b, 64, 1);
    rehash(b);
  });
  expect_bad(p, "index", "offset[0]");
  with([](std::string& b) {
    put<uint64_t>(b, 64 + 8 * 2, 1);  // offsets 0, 3, 1: decreasing
    rehash(b);
  });
  expect_bad(p, "index", "offset[2]");
  with([](std::string& b) {
    put<uint64_t>(b, 64 + 8 * 4, 6);  // last offset 6 but 7 tokens
    rehash(b);
  });
  expect_bad(p, "index", "last offset");
  with([](std::string& b) {
    put<uint16_t>(b, 64 + 8 * 5 + 2 * 4, 50281);  // one id past the vocabulary
    rehash(b);
  });
  expect_bad(p, "tokens", "position 4");
  // Without the hash check, a flipped token that stays in range is not detectable: the option
  // exists for speed, and the test pins that it really skips the hash.
  with([](std::string& b) { b[b.size() - 2] ^= 1; });
  ShardReadOptions no_hash;
  no_hash.verify_payload_hash = false;
  EXPECT_NO_THROW(TokenShard::open(p, no_hash));
  expect_bad(dir / "missing.bin", "cannot open", "", {});
}

TEST(ShardErrors, MissingFileNamesIt) {
  try {
    TokenShard::open("/nonexistent/x.bin");
    FAIL();
  } catch (const ShardError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/x.bin"), std::string::npos);
  }
}

TEST(ShardCompatibility, HashAndVocabularyAreChecked) {
  TempDir dir;
  write_shard(dir / "c.bin", 50281, 0xabcULL, 0, kDocs);
  const auto s = TokenShard::open(dir / "c.bin");
  EXPECT_NO_THROW(check_compatible(s.info(), 50304, 0xabcULL));
  EXPECT_NO_THROW(check_compatible(s.info(), 50281, 0));  // model hash unknown
  try {
    check_compatible(s.info(), 50304, 0xdefULL);
    FAIL();
  } catch (const ShardError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("tokenizer_hash"), std::string::npos) << msg;
    EXPECT_NE(msg.find("0x0000000000000abc"), std::string::npos) << msg;
    EXPECT_NE(msg.find(dir / "c.bin"), std::string::npos) << msg;
  }
  try {
    check_compatible(s.info(), 50000, 0xabcULL);
    FAIL();
  } catch (const ShardError& e) {
    EXPECT_NE(std::string(e.what()).find("vocab_size"), std::string::npos) << e.what();
  }
  DocumentStream stream({dir / "c.bin"});
  stream.require(50304, 0x999ULL);
  Document d;
  EXPECT_THROW(stream.next(d), ShardError);
}

TEST(Llmc, ReadsTheFineWebLayout) {
  TempDir dir;
  const std::string p = dir / "fineweb_val_000000.bin";
  spit(p, llmc_file(kLlmcMagicU16, 1, {50256, 10, 11, 12, 50256, 13, 14, 50256}));
  const auto s = TokenShard::open(p);
  EXPECT_EQ(s.info().format, ShardFormat::Llmc);
  EXPECT_EQ(s.info().token_width, 2u);
  EXPECT_EQ(s.info().token_count, 8u);
  EXPECT_EQ(s.info().tokenizer_hash, 0u);
  EXPECT_EQ(s.info().max_token, 50256u);
  EXPECT_FALSE(s.info().continues_previous);
  ASSERT_EQ(s.num_documents(), 3u);  // the last separator opens an empty document
  EXPECT_EQ(s.document(0), (std::vector<uint32_t>{10, 11, 12}));
  EXPECT_EQ(s.document(1), (std::vector<uint32_t>{13, 14}));
  EXPECT_TRUE(s.document(2).empty());

  ShardReadOptions keep;
  keep.keep_separator = true;
  EXPECT_EQ(TokenShard::open(p, keep).document(1), (std::vector<uint32_t>{50256, 13, 14}));
  ShardReadOptions other;
  other.separator = 12;
  const auto o = TokenShard::open(p, other);
  EXPECT_TRUE(o.info().continues_previous);
  EXPECT_EQ(o.document(0), (std::vector<uint32_t>{50256, 10, 11}));

  // A model with GPT-2's 50257 ids takes it; a smaller one does not.
  EXPECT_NO_THROW(check_compatible(s.info(), 50257, 0x55));
  EXPECT_THROW(check_compatible(s.info(), 50256, 0x55), ShardError);
}

TEST(Llmc, Uint32Variant) {
  TempDir dir;
  const std::string p = dir / "llama.bin";
  spit(p, llmc_file(kLlmcMagicU32, 7, {128000, 70000, 5, 128000, 6}));
  const auto s = TokenShard::open(p);
  EXPECT_EQ(s.info().token_width, 4u);
  ASSERT_EQ(s.num_documents(), 2u);
  EXPECT_EQ(s.document(0), (std::vector<uint32_t>{70000, 5}));
}

TEST(Llmc, CorruptionsAreNamed) {
  TempDir dir;
  const std::string p = dir / "bad.bin";
  spit(p, llmc_file(kLlmcMagicU16, 2, {50256, 1}));
  expect_bad(p, "version", "20240520");
  spit(p, llmc_file(kLlmcMagicU32, 1, {1}));
  expect_bad(p, "version");
  spit(p, llmc_file(kLlmcMagicU16, 1, {50256, 1, 2}, 5));
  expect_bad(p, "size", "truncated");
  spit(p, llmc_file(kLlmcMagicU16, 1, {50256, 1, 2}, 2));
  expect_bad(p, "size", "after the last token");
  spit(p, llmc_file(kLlmcMagicU16, 1, {}, -3));
  expect_bad(p, "token_count", "negative");
  spit(p, llmc_file(kLlmcMagicU16, 1, {}).substr(0, 100));
  expect_bad(p, "header", "truncated llm.c header");
}

TEST(Llmc, StreamJoinsDocumentsCutAtShardBoundaries) {
  TempDir dir;
  // llm.c fills each shard to its size and carries the rest of a document into the next one.
  const std::vector<std::string> paths = {dir / "s0.bin", dir / "s1.bin", dir / "s2.bin",
                                          dir / "s3.bin"};
  spit(paths[0], llmc_file(kLlmcMagicU16, 1, {50256, 1, 2, 50256, 3, 4}));
  spit(paths[1], llmc_file(kLlmcMagicU16, 1, {5, 6}));  // all continuation
  spit(paths[2], llmc_file(kLlmcMagicU16, 1, {7, 50256, 8}));
  spit(paths[3], llmc_file(kLlmcMagicU16, 1, {50256, 9}));  // starts a fresh document
  EXPECT_EQ(all_docs(paths),
            (std::vector<std::vector<uint32_t>>{{1, 2}, {3, 4, 5, 6, 7}, {8}, {9}}));
  // A stream that starts mid-document yields that piece as its first document.
  EXPECT_EQ(all_docs({paths[1], paths[2]}), (std::vector<std::vector<uint32_t>>{{5, 6, 7}, {8}}));
}

// ---- `depthscale tokenize` ------------------------------------------------------------------

namespace {

// A tiny byte-level tokenizer: the 256 byte symbols plus "Ġw" and an end-of-text token.
std::string tiny_tokenizer_json() {
  nlohmann::json vocab = nlohmann::json::object();
  int shift = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
    const unsigned cp = printable ? b : 256 + shift++;
    std::string s;
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
    vocab[s] = b;
  }
  vocab["\u0120w"] = 256;
  return nlohmann::json{
      {"added_tokens", {{{"id", 257}, {"content", "<|eot|>"}, {"special", true}}}},
      {"normalizer", {{"type", "NFC"}}},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}}},
      {"model",
       {{"type", "BPE"}, {"vocab", vocab}, {"merges", nlohmann::json::array({"\u0120 w"})}}}}
      .dump();
}

}  // namespace

TEST(TokenizeCommand, TextAndJsonLinesIntoShards) {
  TempDir dir;
  spit(dir / "tok.json", tiny_tokenizer_json());
  spit(dir / "a.txt", "hello world\n\nsecond paragraph stays in the same document\n");
  spit(dir / "b.jsonl",
       "{\"text\": \"one w\", \"id\": 1}\n\n{\"text\": \"two<|eot|>\"}\n{\"text\": \"\"}\n"
       "{\"text\": \"cafe\\u0301 w\"}\n");
  TokenizeOptions o;
  o.tokenizer = dir / "tok.json";
  o.inputs = {dir / "a.txt", dir / "b.jsonl"};
  o.out_prefix = dir / "out/shard";
  o.docs_per_shard = 2;
  o.threads = 2;
  TokenizeReport report;
  ASSERT_NO_THROW(report = tokenize_files(o));
  EXPECT_EQ(report.documents, 5u);
  EXPECT_EQ(report.shards.size(), 3u);
  EXPECT_GT(report.tokens, 0u);

  const auto tok = Tokenizer::from_file(dir / "tok.json");
  const auto files = list_shards(o.out_prefix);
  ASSERT_EQ(files.size(), 3u);
  const std::vector<std::string> texts = {
      "hello world\n\nsecond paragraph stays in the same document\n", "one w", "two<|eot|>", "",
      "cafe\u0301 w"};
  const auto docs = all_docs(files);
  ASSERT_EQ(docs.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(docs[i], tok.encode(texts[i])) << i;
  EXPECT_EQ(docs[1].back(), 256u);  // the merge " w"
  EXPECT_EQ(docs[2].back(), 257u);  // the special token
  const auto info = TokenShard::open(files[0]).info();
  EXPECT_EQ(info.tokenizer_hash, tokenizer_file_hash(dir / "tok.json"));
  EXPECT_EQ(info.vocab_size, 258u);

  // Existing shards are not overwritten unless asked; --max-docs and truncation.
  try {
    tokenize_files(o);
    ADD_FAILURE() << "expected an error";
  } catch (const depthscale::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--overwrite"), std::string::npos) << e.what();
  }
  o.overwrite = true;
  o.max_docs = 2;
  o.max_tokens_per_doc = 3;
  o.docs_per_shard = 10;
  ASSERT_NO_THROW(tokenize_files(o));
  const auto again = all_docs(list_shards(o.out_prefix));
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0], std::vector<uint32_t>(docs[0].begin(), docs[0].begin() + 3));
  EXPECT_EQ(list_shards(o.out_prefix).size(), 1u);
}

TEST(TokenizeCommand, BadInputsNameFileAndLine) {
  TempDir dir;
  spit(dir / "tok.json", tiny_tokenizer_json());
  auto run = [&](const std::string& name, const std::string& content) {
    spit(dir / name, content);
    TokenizeOptions o;
    o.tokenizer = dir / "tok.json";
    o.inputs = {dir / name};
    o.out_prefix = dir / ("out_" + name);
    try {
      tokenize_files(o);
    } catch (const depthscale::Error& e) {
      return std::string(e.what());
    }
    ADD_FAILURE() << name << ": accepted";
    return std::string();
  };
  std::string err = run("bad.jsonl", "{\"text\": \"ok\"}\n{\"text\": oops}\n");
  EXPECT_NE(err.find("bad.jsonl:2: not a JSON line"), std::string::npos) << err;
  err = run("nofield.jsonl", "{\"text\": \"ok\"}\n\n{\"body\": \"x\"}\n");
  EXPECT_NE(err.find("nofield.jsonl:3: no string field \"text\""), std::string::npos) << err;
  err = run("latin1.txt", "line one\ncaf\xe9\n");
  EXPECT_NE(err.find("latin1.txt:2: not valid UTF-8"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir / "out_bad.jsonl_000000.bin"));
}
