// Byte-level BPE from tokenizer.json (or GPT-2 style vocab.json + merges.txt); the pipeline is
// described in tokenizer.hpp.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "probe/tokenizer.hpp"

#include <pcre2.h>
#include <utf8proc.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <queue>
#include <sstream>
#include <unordered_map>

namespace depthscale::probe {

using json = nlohmann::json;

uint64_t fnv1a64(const void* data, size_t size, uint64_t state) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) {
    state ^= p[i];
    state *= 0x100000001b3ULL;
  }
  return state;
}

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw std::runtime_error("error reading " + path);
  return ss.str();
}

}  // namespace

uint64_t tokenizer_file_hash(const std::string& path) {
  const std::string bytes = read_file(path);
  return fnv1a64(bytes.data(), bytes.size());
}

bool valid_utf8(std::string_view s, size_t* bad_offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  auto fail = [&] {
    if (bad_offset) *bad_offset = i;
    return false;
  };
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4, cp = c & 0x07;
    } else {
      return fail();
    }
    if (i + len > n) return fail();
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return fail();
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return fail();
    i += len;
  }
  return true;
}

namespace {

// ---- UTF-8 helpers (input already validated) ----------------------------------------------

inline size_t utf8_len(unsigned char c) {
  if (c < 0x80) return 1;
  if (c < 0xE0) return 2;
  if (c < 0xF0) return 3;
  return 4;
}

inline uint32_t utf8_decode(const unsigned char* p, size_t* len) {
  const size_t l = utf8_len(p[0]);
  *len = l;
  if (l == 1) return p[0];
  uint32_t cp = p[0] & (l == 2 ? 0x1F : l == 3 ? 0x0F : 0x07);
  for (size_t k = 1; k < l; ++k) cp = (cp << 6) | (p[k] & 0x3F);
  return cp;
}

void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Rust's char::is_whitespace: the Unicode White_Space property.
inline bool is_white_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

// Rust's char::is_alphanumeric (Alphabetic or Numeric), approximated by the categories L*, M*,
// N* (single_word added tokens only).
inline bool is_alphanumeric(uint32_t c) {
  const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO;
}

// Last code point before byte offset `end` (end > 0).
inline uint32_t last_code_point(std::string_view s, size_t end, size_t* start) {
  size_t i = end - 1;
  while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  size_t len;
  *start = i;
  return utf8_decode(reinterpret_cast<const unsigned char*>(s.data()) + i, &len);
}

// ---- GPT-2 byte <-> unicode map -----------------------------------------------------------

// Printable bytes stand for themselves; the other 68 are shifted to U+0100.. so that every
// byte is a visible character in vocab files.
struct ByteMap {
  std::array<uint32_t, 256> to_cp{};
  std::unordered_map<uint32_t, uint8_t> to_byte;
  std::array<std::string, 256> to_utf8;
  ByteMap() {
    uint32_t shift = 0;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
      to_cp[b] = printable ? b : 256 + shift++;
      to_byte[to_cp[b]] = static_cast<uint8_t>(b);
      utf8_append(to_utf8[b], to_cp[b]);
    }
  }
};
const ByteMap& byte_map() {
  static const ByteMap m;
  return m;
}

// ---- regexes --------------------------------------------------------------------------------

// Oniguruma's \s is Unicode White_Space; PCRE2 (UCP) lacks U+0085 there. \h is a hex digit in
// Oniguruma and horizontal space in PCRE2. Rewrite both into explicit sets.
constexpr const char* kWhiteSpaceSet =
    "\\t\\n\\x{0B}\\f\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}"
    "\\x{202F}\\x{205F}\\x{3000}";
constexpr const char* kHexSet = "0-9a-fA-F";

std::string translate_oniguruma(const std::string& pattern) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char e = pattern[++i];
      if (e == 's' || e == 'h') {
        const char* set = e == 's' ? kWhiteSpaceSet : kHexSet;
        out += in_class ? std::string(set) : "[" + std::string(set) + "]";
      } else if ((e == 'S' || e == 'H') && !in_class) {
        out += "[^" + std::string(e == 'S' ? kWhiteSpaceSet : kHexSet) + "]";
      } else {
        out += c;
        out += e;  // \S inside a class keeps PCRE2's meaning (no nested classes in PCRE2)
      }
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
      continue;
    }
    if (in_class && c == '[' && i + 1 < pattern.size() && pattern[i + 1] == ':') {
      const size_t end = pattern.find(":]", i + 2);
      if (end != std::string::npos) {
        out.append(pattern, i, end + 2 - i);
        i = end + 1;
        continue;
      }
    }
    if (in_class && c == ']') in_class = false;
    out += c;
  }
  return out;
}

std::string escape_literal(const std::string& s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x80 && !std::isalnum(u)) out += '\\';
    out += c;
  }
  return out;
}

struct Regex {
  pcre2_code* code = nullptr;
  std::string pattern;
  Regex(const std::string& oniguruma, const std::string& where) : pattern(oniguruma) {
    const std::string p = translate_oniguruma(oniguruma);
    int err = 0;
    PCRE2_SIZE off = 0;
    // Ruby syntax (the Rust crate's Oniguruma default) has line anchors: MULTILINE.
    code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(p.data()), p.size(),
                         PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE, &err, &off, nullptr);
    if (!code) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof msg);
      throw TokenizerError(where + ": cannot compile regex /" + oniguruma + "/ at offset " +
                           std::to_string(off) + ": " + reinterpret_cast<char*>(msg));
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter on failure
  }
  ~Regex() { pcre2_code_free(code); }
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
};

// Per-thread PCRE2 match state: match data and a JIT stack large enough for long whitespace
// runs (the default 32 KiB can overflow on `\s+(?!\S)` backtracking).
struct MatchState {
  pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
  pcre2_jit_stack* stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
  pcre2_match_context* ctx = pcre2_match_context_create(nullptr);
  MatchState() { pcre2_jit_stack_assign(ctx, nullptr, stack); }
  ~MatchState() {
    pcre2_match_context_free(ctx);
    pcre2_jit_stack_free(stack);
    pcre2_match_data_free(data);
  }
};
MatchState& match_state() {
  thread_local MatchState s;
  return s;
}

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// Splits `text` at the matches of `re` the way tokenizers' Split does; empty pieces dropped.
void regex_split(const Regex& re, Behavior behavior, bool invert, std::string_view text,
                 std::vector<std::string>& out) {
  struct Span {
    size_t begin, end;
    bool match;
  };
  std::vector<Span> spans;
  auto& ms = match_state();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0, last = 0;
  while (pos < text.size()) {
    const int rc =
        pcre2_match(re.code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, ms.data, ms.ctx);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(rc, msg, sizeof msg);
      throw TokenizerError("regex /" + re.pattern + "/: " + reinterpret_cast<char*>(msg));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(ms.data);
    const size_t s = ov[0], e = ov[1];
    if (e == s) {  // empty match: Oniguruma's iteration steps one character past it
      pos = s + utf8_len(static_cast<unsigned char>(text[s]));
      continue;
    }
    if (s > last) spans.push_back({last, s, false});
    spans.push_back({s, e, true});
    last = pos = e;
  }
  if (last < text.size()) spans.push_back({last, text.size(), false});
  if (invert)
    for (auto& sp : spans) sp.match = !sp.match;

  std::vector<Span> pieces;
  switch (behavior) {
    case Behavior::Isolated:
      pieces = spans;
      break;
    case Behavior::Removed:
      for (const auto& sp : spans)
        if (!sp.match) pieces.push_back(sp);
      break;
    case Behavior::MergedWithPrevious: {
      bool prev_match = false;
      for (const auto& sp : spans) {
        if (sp.match && !prev_match && !pieces.empty())
          pieces.back().end = sp.end;
        else
          pieces.push_back(sp);
        prev_match = sp.match;
      }
      break;
    }
    case Behavior::MergedWithNext: {
      bool prev_match = false;
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->match && !prev_match && !pieces.empty())
          pieces.back().begin = it->begin;
        else
          pieces.push_back(*it);
        prev_match = it->match;
      }
      std::reverse(pieces.begin(), pieces.end());
      break;
    }
    case Behavior::Contiguous: {
      bool prev_match = false;
      for (const auto& sp : spans) {
        if (sp.match && prev_match)
          pieces.back().end = sp.end;
        else
          pieces.push_back(sp);
        prev_match = sp.match;
      }
      break;
    }
  }
  for (const auto& p : pieces)
    if (p.end > p.begin) out.emplace_back(text.substr(p.begin, p.end - p.begin));
}

// The GPT-2 pattern that ByteLevel(use_regex=true) applies.
constexpr const char* kByteLevelPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// ---- JSON access with errors that name the key -------------------------------------------

struct Ctx {
  std::string origin;
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw TokenizerError(origin + ": " + key + ": " + what);
  }
  const json& get(const json& obj, const std::string& key, const std::string& path) const {
    if (!obj.is_object()) fail(path, "expected an object");
    auto it = obj.find(key);
    if (it == obj.end()) fail(path + "." + key, "missing");
    return *it;
  }
  bool get_bool(const json& obj, const std::string& key, const std::string& path,
                bool fallback) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) fail(path + "." + key, "expected true or false");
    return it->get<bool>();
  }
  std::string get_string(const json& obj, const std::string& key, const std::string& path) const {
    const json& v = get(obj, key, path);
    if (!v.is_string()) fail(path + "." + key, "expected a string");
    return v.get<std::string>();
  }
  uint32_t get_id(const json& v, const std::string& path) const {
    if (!v.is_number_unsigned() || v.get<uint64_t>() > 0xFFFFFFFEULL)
      fail(path, "expected a token id (unsigned 32-bit)");
    return static_cast<uint32_t>(v.get<uint64_t>());
  }
};

enum class NormForm { NFC, NFD, NFKC, NFKD };

struct PreStep {
  bool byte_level = false;
  bool add_prefix_space = false;
  std::shared_ptr<Regex> regex;  // null: ByteLevel without use_regex
  Behavior behavior = Behavior::Isolated;
  bool invert = false;
};

// Added tokens of one pass, bucketed by first byte, longest first.
struct AddedSet {
  std::array<std::vector<std::pair<std::string, size_t>>, 256> by_first;
  bool empty = true;
  void add(const std::string& content, size_t token) {
    if (content.empty()) return;
    by_first[static_cast<unsigned char>(content[0])].emplace_back(content, token);
    empty = false;
  }
  void finish() {
    for (auto& b : by_first)
      std::stable_sort(b.begin(), b.end(), [](const auto& x, const auto& y) {
        return x.first.size() > y.first.size();
      });
  }
};

std::atomic<uint64_t> g_next_instance{1};

}  // namespace

// ---- the tokenizer --------------------------------------------------------------------------

struct Tokenizer::Impl {
  std::string origin;
  uint64_t hash = 0;
  uint64_t instance = g_next_instance++;
  std::vector<NormForm> normalizers;
  std::vector<PreStep> pre;
  std::unordered_map<std::string, uint32_t> vocab;  // byte-level token strings
  std::vector<std::string> id_token;                // id -> byte-level form ("" unused)
  std::vector<std::string> id_bytes;                // id -> decoded bytes
  std::vector<uint8_t> id_special;                  // 1 for special added tokens
  std::unordered_map<uint64_t, std::pair<uint32_t, uint32_t>> merges;  // (a,b) -> rank, id
  std::array<uint32_t, 256> byte_id{};
  bool ignore_merges = false;
  std::optional<uint32_t> unk_id;
  std::vector<AddedToken> added;
  AddedSet raw_set, norm_set;
  std::vector<uint32_t> post_prefix, post_suffix;
  uint32_t vocab_size = 0;

  void parse(const json& j);
  void parse_normalizer(const json& n, const std::string& path);
  void parse_pre_tokenizer(const json& p, const std::string& path);
  void parse_post_processor(const json& p, const std::string& path, std::vector<uint32_t>& prefix,
                            std::vector<uint32_t>& suffix);
  const Ctx ctx() const { return Ctx{origin}; }

  std::string normalize(std::string_view text) const;
  template <class OnText, class OnToken>
  void split_added(std::string_view text, const AddedSet& set, OnText&& on_text,
                   OnToken&& on_token) const;
  void pre_tokenize(std::string_view text, std::vector<std::string>& out) const;
  void bpe(std::string_view word, std::vector<uint32_t>& out) const;
  void bpe_uncached(std::string_view word, std::vector<uint32_t>& out) const;
};

void Tokenizer::Impl::parse(const json& j) {
  const Ctx c = ctx();
  if (!j.is_object()) c.fail("(top level)", "expected a JSON object");

  // Model: BPE over byte-level symbols.
  const json& model = c.get(j, "model", "");
  if (model.contains("type") && model["type"] != "BPE")
    c.fail("model.type", "unsupported model type " + model["type"].dump() + " (only BPE)");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    auto it = model.find(key);
    if (it != model.end() && !it->is_null() && !(it->is_string() && it->get<std::string>().empty()))
      c.fail(std::string("model.") + key, "not supported by this byte-level BPE");
  }
  if (c.get_bool(model, "byte_fallback", "model", false))
    c.fail("model.byte_fallback", "not supported (byte-level vocabularies do not need it)");
  {
    auto it = model.find("dropout");
    if (it != model.end() && !it->is_null() && it->is_number() && it->get<double>() > 0)
      c.fail("model.dropout", "BPE dropout is not supported (tokenization must be deterministic)");
  }
  ignore_merges = c.get_bool(model, "ignore_merges", "model", false);

  const json& v = c.get(model, "vocab", "model");
  if (!v.is_object()) c.fail("model.vocab", "expected an object token -> id");
  uint32_t max_id = 0;
  for (auto it = v.begin(); it != v.end(); ++it) {
    const uint32_t id = c.get_id(it.value(), "model.vocab[" + json(it.key()).dump() + "]");
    vocab.emplace(it.key(), id);
    max_id = std::max(max_id, id + 1);
  }
  const json& added_json = j.contains("added_tokens") ? j["added_tokens"] : json::array();
  if (!added_json.is_array()) c.fail("added_tokens", "expected an array");
  for (size_t i = 0; i < added_json.size(); ++i) {
    const std::string path = "added_tokens[" + std::to_string(i) + "]";
    const json& a = added_json[i];
    AddedToken t;
    t.id = c.get_id(c.get(a, "id", path), path + ".id");
    t.content = c.get_string(a, "content", path);
    if (t.content.empty()) c.fail(path + ".content", "empty");
    if (!valid_utf8(t.content)) c.fail(path + ".content", "not valid UTF-8");
    t.special = c.get_bool(a, "special", path, false);
    t.normalized = c.get_bool(a, "normalized", path, !t.special);
    t.lstrip = c.get_bool(a, "lstrip", path, false);
    t.rstrip = c.get_bool(a, "rstrip", path, false);
    t.single_word = c.get_bool(a, "single_word", path, false);
    max_id = std::max(max_id, t.id + 1);
    added.push_back(std::move(t));
  }
  vocab_size = max_id;
  id_token.assign(vocab_size, "");
  id_bytes.assign(vocab_size, "");
  id_special.assign(vocab_size, 0);
  const ByteMap& bm = byte_map();
  for (const auto& [tok, id] : vocab) {
    id_token[id] = tok;
    // Decode the byte-level form; characters outside the map (none in GPT-2 style vocabularies)
    // stand for their own UTF-8.
    std::string bytes;
    const auto* p = reinterpret_cast<const unsigned char*>(tok.data());
    for (size_t i = 0; i < tok.size();) {  // keys are valid UTF-8: the JSON parser checks
      size_t len = 1;
      const uint32_t cp = utf8_decode(p + i, &len);
      auto m = bm.to_byte.find(cp);
      if (m != bm.to_byte.end())
        bytes += static_cast<char>(m->second);
      else
        bytes.append(tok, i, len);
      i += len;
    }
    id_bytes[id] = std::move(bytes);
  }
  for (const auto& t : added) {
    id_token[t.id] = t.content;
    id_bytes[t.id] = t.content;
    id_special[t.id] = t.special;
  }
  for (int b = 0; b < 256; ++b) {
    auto it = vocab.find(bm.to_utf8[b]);
    byte_id[b] = it == vocab.end() ? UINT32_MAX : it->second;
  }
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    auto it = vocab.find(model["unk_token"].get<std::string>());
    if (it != vocab.end()) unk_id = it->second;
  }

  const json& m = c.get(model, "merges", "model");
  if (!m.is_array()) c.fail("model.merges", "expected an array");
  merges.reserve(m.size() * 2);
  for (size_t r = 0; r < m.size(); ++r) {
    const std::string path = "model.merges[" + std::to_string(r) + "]";
    std::string a, b;
    if (m[r].is_string()) {  // "a b" (older files)
      const std::string s = m[r].get<std::string>();
      const size_t sp = s.find(' ');
      if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
        c.fail(path, "expected \"left right\"");
      a = s.substr(0, sp), b = s.substr(sp + 1);
    } else if (m[r].is_array() && m[r].size() == 2 && m[r][0].is_string() &&
               m[r][1].is_string()) {  // ["a", "b"] (newer files)
      a = m[r][0].get<std::string>(), b = m[r][1].get<std::string>();
    } else {
      c.fail(path, "expected \"left right\" or [\"left\", \"right\"]");
    }
    auto ia = vocab.find(a), ib = vocab.find(b), iab = vocab.find(a + b);
    if (ia == vocab.end() || ib == vocab.end() || iab == vocab.end())
      c.fail(path, "merge of tokens not in the vocabulary: " + json(a + " " + b).dump());
    const uint64_t key = (uint64_t(ia->second) << 32) | ib->second;
    merges.emplace(key, std::make_pair(static_cast<uint32_t>(r), iab->second));  // first wins
  }

  if (j.contains("normalizer") && !j["normalizer"].is_null())
    parse_normalizer(j["normalizer"], "normalizer");
  if (!j.contains("pre_tokenizer") || j["pre_tokenizer"].is_null())
    c.fail("pre_tokenizer", "missing: a byte-level BPE needs a ByteLevel pre-tokenizer");
  parse_pre_tokenizer(j["pre_tokenizer"], "pre_tokenizer");
  if (pre.empty() || !pre.back().byte_level)
    c.fail("pre_tokenizer", "must end with ByteLevel (this is a byte-level BPE)");
  for (size_t i = 0; i + 1 < pre.size(); ++i)
    if (pre[i].byte_level) c.fail("pre_tokenizer", "ByteLevel must be the last step");
  if (j.contains("post_processor") && !j["post_processor"].is_null())
    parse_post_processor(j["post_processor"], "post_processor", post_prefix, post_suffix);

  for (size_t i = 0; i < added.size(); ++i) {
    if (added[i].normalized)
      norm_set.add(normalize(added[i].content), i);
    else
      raw_set.add(added[i].content, i);
  }
  raw_set.finish();
  norm_set.finish();
}

void Tokenizer::Impl::parse_normalizer(const json& n, const std::string& path) {
  const Ctx c = ctx();
  const std::string type = c.get_string(n, "type", path);
  if (type == "Sequence") {
    const json& list = c.get(n, "normalizers", path);
    if (!list.is_array()) c.fail(path + ".normalizers", "expected an array");
    for (size_t i = 0; i < list.size(); ++i)
      parse_normalizer(list[i], path + ".normalizers[" + std::to_string(i) + "]");
  } else if (type == "NFC") {
    normalizers.push_back(NormForm::NFC);
  } else if (type == "NFD") {
    normalizers.push_back(NormForm::NFD);
  } else if (type == "NFKC") {
    normalizers.push_back(NormForm::NFKC);
  } else if (type == "NFKD") {
    normalizers.push_back(NormForm::NFKD);
  } else {
    c.fail(path + ".type", "unsupported normalizer " + type + " (NFC, NFD, NFKC, NFKD, Sequence)");
  }
}

void Tokenizer::Impl::parse_pre_tokenizer(const json& p, const std::string& path) {
  const Ctx c = ctx();
  const std::string type = c.get_string(p, "type", path);
  if (type == "Sequence") {
    const json& list = c.get(p, "pretokenizers", path);
    if (!list.is_array()) c.fail(path + ".pretokenizers", "expected an array");
    for (size_t i = 0; i < list.size(); ++i)
      parse_pre_tokenizer(list[i], path + ".pretokenizers[" + std::to_string(i) + "]");
  } else if (type == "ByteLevel") {
    PreStep s;
    s.byte_level = true;
    s.add_prefix_space = c.get_bool(p, "add_prefix_space", path, true);
    if (c.get_bool(p, "use_regex", path, true))
      s.regex = std::make_shared<Regex>(kByteLevelPattern, origin + ": " + path);
    pre.push_back(std::move(s));
  } else if (type == "Split") {
    PreStep s;
    const json& pat = c.get(p, "pattern", path);
    if (pat.is_object() && pat.contains("Regex") && pat["Regex"].is_string())
      s.regex = std::make_shared<Regex>(pat["Regex"].get<std::string>(),
                                        origin + ": " + path + ".pattern.Regex");
    else if (pat.is_object() && pat.contains("String") && pat["String"].is_string())
      s.regex = std::make_shared<Regex>(escape_literal(pat["String"].get<std::string>()),
                                        origin + ": " + path + ".pattern.String");
    else
      c.fail(path + ".pattern", "expected {\"Regex\": ...} or {\"String\": ...}");
    const std::string behavior = c.get_string(p, "behavior", path);
    if (behavior == "Removed")
      s.behavior = Behavior::Removed;
    else if (behavior == "Isolated")
      s.behavior = Behavior::Isolated;
    else if (behavior == "MergedWithPrevious")
      s.behavior = Behavior::MergedWithPrevious;
    else if (behavior == "MergedWithNext")
      s.behavior = Behavior::MergedWithNext;
    else if (behavior == "Contiguous")
      s.behavior = Behavior::Contiguous;
    else
      c.fail(path + ".behavior", "unknown behavior " + behavior);
    s.invert = c.get_bool(p, "invert", path, false);
    pre.push_back(std::move(s));
  } else {
    c.fail(path + ".type", "unsupported pre-tokenizer " + type + " (ByteLevel, Split, Sequence)");
  }
}

void Tokenizer::Impl::parse_post_processor(const json& p, const std::string& path,
                                           std::vector<uint32_t>& prefix,
                                           std::vector<uint32_t>& suffix) {
  const Ctx c = ctx();
  const std::string type = c.get_string(p, "type", path);
  auto pair_id = [&](const char* key) {
    const json& v = c.get(p, key, path);
    if (!v.is_array() || v.size() != 2) c.fail(path + "." + key, "expected [token, id]");
    return c.get_id(v[1], path + "." + key + "[1]");
  };
  if (type == "ByteLevel") {
    return;  // offsets only
  } else if (type == "Sequence") {
    const json& list = c.get(p, "processors", path);
    if (!list.is_array()) c.fail(path + ".processors", "expected an array");
    for (size_t i = 0; i < list.size(); ++i) {
      // Each processor wraps the output of the previous one.
      std::vector<uint32_t> pre_i, suf_i;
      parse_post_processor(list[i], path + ".processors[" + std::to_string(i) + "]", pre_i, suf_i);
      prefix.insert(prefix.begin(), pre_i.begin(), pre_i.end());
      suffix.insert(suffix.end(), suf_i.begin(), suf_i.end());
    }
  } else if (type == "RobertaProcessing" || type == "BertProcessing") {
    prefix.push_back(pair_id("cls"));
    suffix.push_back(pair_id("sep"));
  } else if (type == "TemplateProcessing") {
    const json& single = c.get(p, "single", path);
    if (!single.is_array()) c.fail(path + ".single", "expected an array");
    const json& specials = p.contains("special_tokens") ? p["special_tokens"] : json::object();
    bool seen_sequence = false;
    for (size_t i = 0; i < single.size(); ++i) {
      const std::string ipath = path + ".single[" + std::to_string(i) + "]";
      const json& item = single[i];
      if (item.contains("Sequence")) {
        if (seen_sequence) c.fail(ipath, "more than one sequence in a single-sequence template");
        seen_sequence = true;
      } else if (item.contains("SpecialToken")) {
        const std::string name = c.get_string(item["SpecialToken"], "id", ipath + ".SpecialToken");
        if (!specials.contains(name) || !specials[name].contains("ids"))
          c.fail(path + ".special_tokens", "no entry for " + name);
        for (const auto& id : specials[name]["ids"])
          (seen_sequence ? suffix : prefix).push_back(c.get_id(id, path + ".special_tokens"));
      } else {
        c.fail(ipath, "expected Sequence or SpecialToken");
      }
    }
  } else {
    c.fail(path + ".type", "unsupported post-processor " + type);
  }
  for (uint32_t id : prefix)
    if (id >= vocab_size) c.fail(path, "special token id " + std::to_string(id) + " out of range");
  for (uint32_t id : suffix)
    if (id >= vocab_size) c.fail(path, "special token id " + std::to_string(id) + " out of range");
}

std::string Tokenizer::Impl::normalize(std::string_view text) const {
  if (normalizers.empty()) return std::string(text);
  // Every normalization form leaves ASCII alone: skip the library for the common case.
  bool ascii = true;
  for (char ch : text)
    if (static_cast<unsigned char>(ch) >= 0x80) {
      ascii = false;
      break;
    }
  if (ascii) return std::string(text);
  std::string cur(text);
  for (NormForm f : normalizers) {
    int options = UTF8PROC_STABLE;
    switch (f) {
      case NormForm::NFC:
        options |= UTF8PROC_COMPOSE;
        break;
      case NormForm::NFD:
        options |= UTF8PROC_DECOMPOSE;
        break;
      case NormForm::NFKC:
        options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
        break;
      case NormForm::NFKD:
        options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
        break;
    }
    utf8proc_uint8_t* dst = nullptr;
    const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(cur.data()),
                                            static_cast<utf8proc_ssize_t>(cur.size()), &dst,
                                            static_cast<utf8proc_option_t>(options));
    if (n < 0) {
      throw TokenizerError(origin + ": normalizer: " + utf8proc_errmsg(n));
    }
    cur.assign(reinterpret_cast<char*>(dst), static_cast<size_t>(n));
    std::free(dst);
  }
  return cur;
}

// Leftmost-longest added-token matches (what the Rust crate's Aho-Corasick gives), with the
// single_word / lstrip / rstrip rules. A single_word match that fails is skipped whole, as there.
template <class OnText, class OnToken>
void Tokenizer::Impl::split_added(std::string_view text, const AddedSet& set, OnText&& on_text,
                                  OnToken&& on_token) const {
  if (set.empty) {
    if (!text.empty()) on_text(text);
    return;
  }
  size_t emitted = 0;  // text before this has been handed out
  size_t i = 0;
  while (i < text.size()) {
    const auto& bucket = set.by_first[static_cast<unsigned char>(text[i])];
    const std::pair<std::string, size_t>* hit = nullptr;
    for (const auto& cand : bucket)
      if (text.compare(i, cand.first.size(), cand.first) == 0) {
        hit = &cand;
        break;
      }
    if (!hit) {
      ++i;
      continue;
    }
    const AddedToken& t = added[hit->second];
    size_t start = i, stop = i + hit->first.size();
    if (t.single_word) {
      size_t ps = 0, len = 0;
      const bool word_before = start > 0 && is_alphanumeric(last_code_point(text, start, &ps));
      const bool word_after =
          stop < text.size() &&
          is_alphanumeric(
              utf8_decode(reinterpret_cast<const unsigned char*>(text.data()) + stop, &len));
      if (word_before || word_after) {
        i = stop;
        continue;
      }
    }
    if (t.lstrip) {
      while (start > emitted) {
        size_t ps = 0;
        if (!is_white_space(last_code_point(text, start, &ps))) break;
        start = ps;
      }
    }
    if (t.rstrip) {
      while (stop < text.size()) {
        size_t len = 0;
        const uint32_t cp =
            utf8_decode(reinterpret_cast<const unsigned char*>(text.data()) + stop, &len);
        if (!is_white_space(cp)) break;
        stop += len;
      }
    }
    if (start > emitted) on_text(text.substr(emitted, start - emitted));
    on_token(t.id);
    emitted = i = stop;
  }
  if (emitted < text.size()) on_text(text.substr(emitted));
}

void Tokenizer::Impl::pre_tokenize(std::string_view text, std::vector<std::string>& out) const {
  std::vector<std::string> cur{std::string(text)}, next;
  for (const PreStep& step : pre) {
    next.clear();
    for (std::string& piece : cur) {
      if (step.byte_level && step.add_prefix_space && piece.compare(0, 1, " ") != 0)
        piece.insert(piece.begin(), ' ');
      if (step.regex)
        regex_split(*step.regex, step.behavior, step.invert, piece, next);
      else if (!piece.empty())
        next.push_back(std::move(piece));
    }
    cur.swap(next);
  }
  for (auto& p : cur) out.push_back(std::move(p));
}

void Tokenizer::Impl::bpe_uncached(std::string_view word, std::vector<uint32_t>& out) const {
  const size_t n = word.size();
  if (ignore_merges) {
    std::string form;
    for (char ch : word) form += byte_map().to_utf8[static_cast<unsigned char>(ch)];
    auto it = vocab.find(form);
    if (it != vocab.end()) {
      out.push_back(it->second);
      return;
    }
  }
  struct Sym {
    uint32_t id;
    int prev, next;
  };
  std::vector<Sym> sym(n);
  for (size_t i = 0; i < n; ++i) {
    uint32_t id = byte_id[static_cast<unsigned char>(word[i])];
    if (id == UINT32_MAX) {
      if (!unk_id) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(word[i]));
        throw TokenizerError(origin + ": byte " + hex + " has no token and there is no unk_token");
      }
      id = *unk_id;
    }
    sym[i] = {id, static_cast<int>(i) - 1, i + 1 < n ? static_cast<int>(i) + 1 : -1};
  }
  struct Cand {
    uint32_t rank;
    int pos;
    uint32_t left, right;
    bool operator>(const Cand& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;  // lowest rank, then leftmost
    }
  };
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
  auto consider = [&](int pos) {
    if (pos < 0 || sym[pos].next < 0) return;
    const uint32_t a = sym[pos].id, b = sym[sym[pos].next].id;
    auto it = merges.find((uint64_t(a) << 32) | b);
    if (it != merges.end()) heap.push({it->second.first, pos, a, b});
  };
  for (size_t i = 0; i + 1 < n; ++i) consider(static_cast<int>(i));
  std::vector<bool> alive(n, true);
  while (!heap.empty()) {
    const Cand c = heap.top();
    heap.pop();
    Sym& s = sym[c.pos];
    // Stale entries: a side has merged since (ids only ever grow into longer tokens).
    if (!alive[c.pos] || s.next < 0 || s.id != c.left || sym[s.next].id != c.right) continue;
    const int r = s.next;
    s.id = merges.find((uint64_t(c.left) << 32) | c.right)->second.second;
    alive[r] = false;
    s.next = sym[r].next;
    if (s.next >= 0) sym[s.next].prev = c.pos;
    consider(s.prev);
    consider(c.pos);
  }
  for (int i = 0; i >= 0; i = sym[i].next) out.push_back(sym[i].id);
}

void Tokenizer::Impl::bpe(std::string_view word, std::vector<uint32_t>& out) const {
  if (word.empty()) return;
  // Per-thread word cache, keyed by tokenizer instance so tokenizers never share entries.
  struct Cache {
    std::unordered_map<std::string, std::vector<uint32_t>> words;
  };
  thread_local std::unordered_map<uint64_t, Cache> caches;
  constexpr size_t kMaxWordsCached = 200000, kMaxWordLength = 256;
  if (word.size() > kMaxWordLength) return bpe_uncached(word, out);
  Cache& cache = caches[instance];
  std::string key(word);
  auto it = cache.words.find(key);
  if (it != cache.words.end()) {
    out.insert(out.end(), it->second.begin(), it->second.end());
    return;
  }
  const size_t before = out.size();
  bpe_uncached(word, out);
  if (cache.words.size() >= kMaxWordsCached) cache.words.clear();
  cache.words.emplace(std::move(key), std::vector<uint32_t>(out.begin() + before, out.end()));
}

// ---- GPT-2 style vocab.json + merges.txt ----------------------------------------------------

namespace {

namespace fs = std::filesystem;

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

size_t line_at(const std::string& text, size_t pos) {
  pos = std::min(pos, text.size());
  return 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + pos, '\n'));
}

// An input iterator that counts the bytes the JSON parser has taken: nlohmann's SAX callbacks
// carry no position, and a vocab.json error should name its line.
class CountingIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;
  CountingIterator(const char* p, size_t* taken) : p_(p), taken_(taken) {}
  reference operator*() const { return *p_; }
  CountingIterator& operator++() {
    ++p_;
    ++*taken_;
    return *this;
  }
  CountingIterator operator++(int) {
    CountingIterator old = *this;
    ++*this;
    return old;
  }
  bool operator==(const CountingIterator& o) const { return p_ == o.p_; }
  bool operator!=(const CountingIterator& o) const { return p_ != o.p_; }

 private:
  const char* p_;
  size_t* taken_;
};

// vocab.json as a SAX stream: one flat object token -> unsigned id, duplicates refused (Python's
// json.load would silently keep the last one).
class VocabReader : public json::json_sax_t {
 public:
  VocabReader(const std::string& text, const std::string& path,
              std::unordered_map<std::string, uint32_t>& vocab)
      : text_(text), path_(path), vocab_(vocab) {}

  void read() {
    const CountingIterator first(text_.data(), &taken_), last(text_.data() + text_.size(), &taken_);
    json::sax_parse(first, last, this);
    if (!error_.empty()) throw TokenizerError(error_);
    if (!seen_object_) throw TokenizerError(path_ + ":1: expected a JSON object token -> id");
  }

  bool null() override { return not_an_id("null"); }
  bool boolean(bool) override { return not_an_id("a boolean"); }
  bool number_integer(number_integer_t) override { return not_an_id("a negative number"); }
  bool number_unsigned(number_unsigned_t v) override {
    if (depth_ != 1) return not_an_id("a number");
    if (v > 0xFFFFFFFEULL)
      return fail("token " + json(key_).dump() + ": id " + std::to_string(v) +
                  " does not fit 32 bits");
    vocab_.emplace(key_, static_cast<uint32_t>(v));
    return true;
  }
  bool number_float(number_float_t, const string_t&) override {
    return not_an_id("a fractional number");
  }
  bool string(string_t&) override { return not_an_id("a string"); }
  bool binary(binary_t&) override { return not_an_id("binary data"); }
  bool start_object(std::size_t) override {
    if (depth_ != 0) return not_an_id("an object");
    seen_object_ = true;
    ++depth_;
    return true;
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override { return not_an_id("an array"); }
  bool end_array() override { return true; }
  bool key(string_t& k) override {
    if (vocab_.count(k)) return fail("token " + json(k).dump() + " appears twice");
    key_ = k;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    // `position` counts the bytes read, the offending one included.
    error_ = path_ + ":" + std::to_string(line_at(text_, position ? position - 1 : 0)) +
             ": not valid JSON: " + e.what();
    return false;
  }

 private:
  bool fail(const std::string& what) {
    // The parser has taken the value and at most one byte of look-ahead (after a number).
    error_ =
        path_ + ":" + std::to_string(line_at(text_, taken_ >= 2 ? taken_ - 2 : 0)) + ": " + what;
    return false;
  }
  bool not_an_id(const char* found) {
    if (depth_ == 0) return fail(std::string("expected a JSON object token -> id, found ") + found);
    return fail("token " + json(key_).dump() + ": expected an unsigned integer id, found " + found);
  }

  const std::string& text_;
  const std::string& path_;
  std::unordered_map<std::string, uint32_t>& vocab_;
  size_t taken_ = 0;
  int depth_ = 0;
  bool seen_object_ = false;
  std::string key_, error_;
};

// merges.txt: "left right" per line in priority order. Like the Rust crate's BPE::from_file,
// "#version" lines are skipped and each line must split on ' ' into exactly two tokens (the
// byte-level alphabet has no raw spaces); blank lines (a trailing one is common) carry no merge.
json read_merges_txt(const std::string& text, const std::string& path,
                     const std::unordered_map<std::string, uint32_t>& vocab) {
  json merges = json::array();
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.compare(0, 8, "#version") == 0) continue;
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    if (!valid_utf8(line)) throw TokenizerError(where + "not valid UTF-8");
    const size_t sp = line.find(' ');
    if (sp == 0 || sp == std::string::npos || sp + 1 == line.size() ||
        line.find(' ', sp + 1) != std::string::npos)
      throw TokenizerError(where + "expected two tokens separated by one space, found " +
                           json(line).dump());
    std::string a = line.substr(0, sp), b = line.substr(sp + 1);
    for (const std::string* t : {&a, &b})
      if (!vocab.count(*t))
        throw TokenizerError(where + "token " + json(*t).dump() + " is not in vocab.json");
    if (!vocab.count(a + b))
      throw TokenizerError(where + "merged token " + json(a + b).dump() + " is not in vocab.json");
    merges.push_back(json::array({std::move(a), std::move(b)}));
  }
  return merges;
}

json read_json_file(const fs::path& path) {
  try {
    return json::parse(read_file(path.string()));
  } catch (const json::parse_error& e) {
    throw TokenizerError(path.string() + ": not valid JSON: " + e.what());
  }
}

// What tokenizer_config.json, special_tokens_map.json and config.json say about a GPT-2 style
// tokenizer, in tokenizer.json terms.
struct Gpt2Config {
  json added_tokens = json::array();  // entries of tokenizer.json's added_tokens
  std::optional<std::string> bos;     // bos_token content
  std::optional<bool> add_bos_token;  // tokenizer_config.json's flag
  bool add_prefix_space = false;
  std::string model_type;  // config.json's, "" when absent
};

Gpt2Config read_gpt2_config(const fs::path& dir,
                            const std::unordered_map<std::string, uint32_t>& vocab) {
  Gpt2Config cfg;
  const fs::path tc_path = dir / "tokenizer_config.json", sm_path = dir / "special_tokens_map.json";
  const json tc = is_file(tc_path) ? read_json_file(tc_path) : json::object();
  const json sm = is_file(sm_path) ? read_json_file(sm_path) : json::object();
  if (!tc.is_object()) throw TokenizerError(tc_path.string() + ": expected a JSON object");
  if (!sm.is_object()) throw TokenizerError(sm_path.string() + ": expected a JSON object");
  auto flag = [&](const char* key) -> std::optional<bool> {
    auto it = tc.find(key);
    if (it == tc.end() || it->is_null()) return std::nullopt;
    if (!it->is_boolean())
      throw TokenizerError(tc_path.string() + ": " + key + ": expected true or false");
    return it->get<bool>();
  };
  cfg.add_bos_token = flag("add_bos_token");
  cfg.add_prefix_space = flag("add_prefix_space").value_or(false);

  // One added token from a string or an AddedToken object ({"content": ..., "lstrip": ...}).
  auto token_of = [](const json& v, const std::string& where, json& out) {
    if (v.is_string()) {
      out = {{"content", v}};
    } else if (v.is_object() && v.contains("content") && v["content"].is_string()) {
      out = json::object();
      for (const char* k : {"content", "lstrip", "rstrip", "single_word", "normalized", "special"})
        if (v.contains(k) && !v[k].is_null()) out[k] = v[k];
      for (const char* k : {"lstrip", "rstrip", "single_word", "normalized", "special"})
        if (out.contains(k) && !out[k].is_boolean())
          throw TokenizerError(where + "." + k + ": expected true or false");
    } else {
      throw TokenizerError(where + ": expected a string or {\"content\": ...}");
    }
    if (out["content"].get<std::string>().empty()) throw TokenizerError(where + ": empty token");
  };
  auto find_added = [&](const std::string& content) -> const json* {
    for (const auto& t : cfg.added_tokens)
      if (t["content"] == content) return &t;
    return nullptr;
  };

  // added_tokens_decoder (newer files) gives ids outright.
  if (auto it = tc.find("added_tokens_decoder"); it != tc.end() && !it->is_null()) {
    const std::string where = tc_path.string() + ": added_tokens_decoder";
    if (!it->is_object()) throw TokenizerError(where + ": expected an object id -> token");
    for (auto e = it->begin(); e != it->end(); ++e) {
      const std::string ew = where + "[" + json(e.key()).dump() + "]";
      uint64_t id = 0;
      if (e.key().empty() || e.key().size() > 10 ||
          e.key().find_first_not_of("0123456789") != std::string::npos ||
          (id = std::stoull(e.key())) > 0xFFFFFFFEULL)
        throw TokenizerError(ew + ": the key must be a token id");
      json t;
      token_of(e.value(), ew, t);
      t["id"] = id;
      cfg.added_tokens.push_back(std::move(t));
    }
  }

  // Named special tokens: special_tokens_map.json wins over tokenizer_config.json, as in
  // transformers' from_pretrained. They are matched in the text like any added token.
  static const char* const kNamed[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                       "pad_token", "cls_token", "mask_token"};
  auto pick = [&](const char* key) -> std::pair<const json*, std::string> {
    if (auto it = sm.find(key); it != sm.end() && !it->is_null())
      return {&*it, sm_path.string() + ": " + key};
    if (auto it = tc.find(key); it != tc.end() && !it->is_null())
      return {&*it, tc_path.string() + ": " + key};
    return {nullptr, ""};
  };
  auto add_special = [&](const json& v, const std::string& where) -> std::string {
    json t;
    token_of(v, where, t);
    const std::string content = t["content"].get<std::string>();
    if (find_added(content)) return content;
    auto id = vocab.find(content);
    if (id == vocab.end())
      throw TokenizerError(where + ": " + json(content).dump() +
                           " is neither in vocab.json nor in added_tokens_decoder");
    t["id"] = id->second;
    t["special"] = true;
    cfg.added_tokens.push_back(std::move(t));
    return content;
  };
  for (const char* key : kNamed) {
    const auto [v, where] = pick(key);
    if (!v) continue;
    const std::string content = add_special(*v, where);
    if (std::string(key) == "bos_token") cfg.bos = content;
  }
  if (const auto [v, where] = pick("additional_special_tokens"); v) {
    if (!v->is_array()) throw TokenizerError(where + ": expected an array");
    for (size_t i = 0; i < v->size(); ++i)
      add_special((*v)[i], where + "[" + std::to_string(i) + "]");
  }

  const fs::path config_path = dir / "config.json";
  if (is_file(config_path)) {
    const json c = read_json_file(config_path);
    if (c.is_object() && c.contains("model_type") && c["model_type"].is_string())
      cfg.model_type = c["model_type"].get<std::string>();
  }
  return cfg;
}

}  // namespace

uint64_t vocab_merges_hash(const std::string& vocab_json_path, const std::string& merges_txt_path) {
  const std::string vocab = read_file(vocab_json_path), merges = read_file(merges_txt_path);
  return fnv1a64(merges.data(), merges.size(), fnv1a64(vocab.data(), vocab.size()));
}

std::optional<uint64_t> tokenizer_hash_of_model_dir(const std::string& dir) {
  const fs::path d(dir);
  if (is_file(d / "tokenizer.json")) return tokenizer_file_hash((d / "tokenizer.json").string());
  if (is_file(d / "vocab.json") && is_file(d / "merges.txt"))
    return vocab_merges_hash((d / "vocab.json").string(), (d / "merges.txt").string());
  return std::nullopt;
}

Tokenizer Tokenizer::from_vocab_merges(const std::string& vocab_json_path,
                                       const std::string& merges_txt_path,
                                       const VocabMergesOptions& options) {
  const std::string vocab_text = read_file(vocab_json_path);
  const std::string merges_text = read_file(merges_txt_path);
  std::unordered_map<std::string, uint32_t> vocab;
  VocabReader(vocab_text, vocab_json_path, vocab).read();
  json merges = read_merges_txt(merges_text, merges_txt_path, vocab);

  fs::path dir = options.config_dir.empty() ? fs::path(vocab_json_path).parent_path()
                                            : fs::path(options.config_dir);
  if (dir.empty()) dir = ".";
  const Gpt2Config cfg = options.read_config_files ? read_gpt2_config(dir, vocab) : Gpt2Config{};
  bool add_bos = false;
  switch (options.add_bos) {
    case VocabMergesOptions::Bos::On:
      add_bos = true;
      break;
    case VocabMergesOptions::Bos::Off:
      break;
    case VocabMergesOptions::Bos::Auto:
      add_bos = cfg.add_bos_token.value_or(cfg.model_type == "opt");
      break;
  }
  const std::string origin = vocab_json_path + " + " + merges_txt_path;
  if (add_bos && !cfg.bos)
    throw TokenizerError(origin + ": BOS prepending asked for, but no bos_token in " +
                         (options.read_config_files
                              ? (dir / "tokenizer_config.json").string() + " or " +
                                    (dir / "special_tokens_map.json").string()
                              : std::string("the config files (not read)")));

  // The tokenizer.json that transformers' GPT2Converter would write for these files.
  json vocab_json = json::object();
  for (const auto& [token, id] : vocab) vocab_json[token] = id;
  json j = {
      {"added_tokens", cfg.added_tokens},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "ByteLevel"}, {"add_prefix_space", cfg.add_prefix_space}, {"use_regex", true}}},
      {"post_processor", nullptr},
      {"model",
       {{"type", "BPE"}, {"vocab", std::move(vocab_json)}, {"merges", std::move(merges)}}}};
  if (add_bos) {
    const std::string& bos = *cfg.bos;
    uint32_t bos_id = 0;
    for (const auto& t : cfg.added_tokens)
      if (t["content"] == bos) bos_id = t["id"].get<uint32_t>();
    j["post_processor"] = {
        {"type", "TemplateProcessing"},
        {"single", json::array({{{"SpecialToken", {{"id", bos}, {"type_id", 0}}}},
                                {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
        {"special_tokens", {{bos, {{"id", bos}, {"ids", {bos_id}}, {"tokens", {bos}}}}}}};
  }
  auto impl = std::make_unique<Impl>();
  impl->origin = origin;
  impl->hash = fnv1a64(merges_text.data(), merges_text.size(),
                       fnv1a64(vocab_text.data(), vocab_text.size()));
  impl->parse(j);
  return Tokenizer(std::move(impl));
}

Tokenizer Tokenizer::from_model_dir(const std::string& dir) {
  const fs::path d(dir);
  if (is_file(d / "tokenizer.json")) return from_file((d / "tokenizer.json").string());
  if (is_file(d / "vocab.json") && is_file(d / "merges.txt")) {
    VocabMergesOptions o;
    o.config_dir = dir;
    return from_vocab_merges((d / "vocab.json").string(), (d / "merges.txt").string(), o);
  }
  throw TokenizerError(dir + ": no tokenizer.json, nor vocab.json + merges.txt");
}

namespace {
// What a JSON tokenizer file holds, told by its content rather than its name: a tokenizer.json (an
// object whose "model" is an object), a GPT-2 style vocab.json (a flat object of token → id), or
// neither (left to the reader the name picks, which says what is wrong).
enum class JsonKind { TokenizerJson, Vocab, Other };
JsonKind json_kind(const std::string& path) {
  const json j = json::parse(read_file(path), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return JsonKind::Other;
  const auto model = j.find("model");
  if (model != j.end() && model->is_object()) return JsonKind::TokenizerJson;
  for (const auto& [token, id] : j.items())
    if (!id.is_number_integer()) return JsonKind::Other;
  return j.empty() ? JsonKind::Other : JsonKind::Vocab;
}
}  // namespace

Tokenizer Tokenizer::from_path(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return from_model_dir(path);
  const fs::path p(path);
  const std::string name = p.filename().string();
  auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  // Either file of a pair names the pair: gpt2-vocab.json goes with gpt2-merges.txt. The content
  // decides over the name: a tokenizer.json saved as *vocab.json is read as a tokenizer.json, and
  // a vocab.json under another name is read as the pair it is, with the merges.txt beside it.
  const bool vocab_named = ends_with("vocab.json");
  const JsonKind kind = is_file(p) && !ends_with("merges.txt") ? json_kind(path) : JsonKind::Other;
  if (vocab_named && kind == JsonKind::TokenizerJson) return from_file(path);
  if (!vocab_named && kind == JsonKind::Vocab) {
    const fs::path merges = p.parent_path() / "merges.txt";
    if (!is_file(merges))
      throw TokenizerError(path +
                           ": holds a GPT-2 style vocab.json (a flat token -> id map), not a "
                           "tokenizer.json, and its pair needs " +
                           merges.string() + " beside it: not found");
    return from_vocab_merges(path, merges.string());
  }
  if (vocab_named || ends_with("merges.txt")) {
    const std::string stem = name.substr(0, name.size() - 10);  // both suffixes are 10 bytes
    const fs::path vocab = vocab_named ? p : p.parent_path() / (stem + "vocab.json");
    const fs::path merges = vocab_named ? p.parent_path() / (stem + "merges.txt") : p;
    const fs::path& other = vocab_named ? merges : vocab;
    if (!is_file(other))
      throw TokenizerError(path + ": a GPT-2 style pair needs " + other.string() +
                           " beside it: not found");
    return from_vocab_merges(vocab.string(), merges.string());
  }
  return from_file(path);
}

// ---- public face ----------------------------------------------------------------------------

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::from_file(const std::string& path) {
  return from_json(read_file(path), path);
}

Tokenizer Tokenizer::from_json(const std::string& text, const std::string& origin) {
  auto impl = std::make_unique<Impl>();
  impl->origin = origin;
  impl->hash = fnv1a64(text.data(), text.size());
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw TokenizerError(origin + ": not valid JSON: " + e.what());
  }
  impl->parse(j);
  return Tokenizer(std::move(impl));
}

void Tokenizer::encode_into(std::string_view text, std::vector<uint32_t>& out,
                            bool add_special_tokens) const {
  size_t bad = 0;
  if (!valid_utf8(text, &bad))
    throw TokenizerError("text is not valid UTF-8 (byte offset " + std::to_string(bad) + ")");
  const Impl& m = *impl_;
  if (add_special_tokens) out.insert(out.end(), m.post_prefix.begin(), m.post_prefix.end());
  std::vector<std::string> words;
  auto on_token = [&](uint32_t id) { out.push_back(id); };
  auto on_normalized = [&](std::string_view piece) {
    words.clear();
    m.pre_tokenize(piece, words);
    for (const auto& w : words) m.bpe(w, out);
  };
  auto on_raw = [&](std::string_view piece) {
    const std::string norm = m.normalize(piece);
    m.split_added(norm, m.norm_set, on_normalized, on_token);
  };
  m.split_added(text, m.raw_set, on_raw, on_token);
  if (add_special_tokens) out.insert(out.end(), m.post_suffix.begin(), m.post_suffix.end());
}

std::vector<uint32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  std::vector<uint32_t> out;
  encode_into(text, out, add_special_tokens);
  return out;
}

std::string Tokenizer::decode(const std::vector<uint32_t>& ids, bool skip_special_tokens) const {
  std::string bytes;
  for (uint32_t id : ids) {
    if (id >= impl_->vocab_size) continue;
    if (skip_special_tokens && impl_->id_special[id]) continue;
    bytes += impl_->id_bytes[id];
  }
  // Replace each maximal invalid prefix of a sequence by U+FFFD, like String::from_utf8_lossy.
  std::string out;
  out.reserve(bytes.size());
  std::string_view rest(bytes);
  while (!rest.empty()) {
    size_t bad = 0;
    if (valid_utf8(rest, &bad)) {
      out.append(rest);
      break;
    }
    out.append(rest.substr(0, bad));
    rest.remove_prefix(bad);
    // Length of the invalid sequence: the longest prefix that could still start a valid one.
    size_t len = 1;
    const auto c = static_cast<unsigned char>(rest[0]);
    const size_t want = c >= 0xC2 && c <= 0xDF   ? 2
                        : c >= 0xE0 && c <= 0xEF ? 3
                        : c >= 0xF0 && c <= 0xF4 ? 4
                                                 : 1;
    while (len < want && len < rest.size() &&
           (static_cast<unsigned char>(rest[len]) & 0xC0) == 0x80) {
      // Second-byte limits that make a sequence impossible end it early.
      const auto d = static_cast<unsigned char>(rest[len]);
      if (len == 1 && ((c == 0xE0 && d < 0xA0) || (c == 0xED && d > 0x9F) ||
                       (c == 0xF0 && d < 0x90) || (c == 0xF4 && d > 0x8F)))
        break;
      ++len;
    }
    out += "\xEF\xBF\xBD";
    rest.remove_prefix(len);
  }
  return out;
}

std::string Tokenizer::normalize(std::string_view text) const {
  return impl_->normalize(text);
}

std::vector<std::string> Tokenizer::pre_tokenize(std::string_view text) const {
  std::vector<std::string> out;
  impl_->pre_tokenize(text, out);
  return out;
}

uint32_t Tokenizer::vocab_size() const {
  return impl_->vocab_size;
}
uint64_t Tokenizer::hash() const {
  return impl_->hash;
}
const std::string& Tokenizer::origin() const {
  return impl_->origin;
}
const std::vector<AddedToken>& Tokenizer::added_tokens() const {
  return impl_->added;
}
const std::vector<uint32_t>& Tokenizer::special_prefix() const {
  return impl_->post_prefix;
}
const std::vector<uint32_t>& Tokenizer::special_suffix() const {
  return impl_->post_suffix;
}

std::optional<uint32_t> Tokenizer::token_to_id(std::string_view token) const {
  for (const auto& t : impl_->added)
    if (t.content == token) return t.id;
  auto it = impl_->vocab.find(std::string(token));
  if (it == impl_->vocab.end()) return std::nullopt;
  return it->second;
}

std::string Tokenizer::id_to_token(uint32_t id) const {
  return id < impl_->vocab_size ? impl_->id_token[id] : std::string();
}

}  // namespace depthscale::probe
