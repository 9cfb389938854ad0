// vocab/: ICU normalization, SentencePiece training (round trips, special ids, determinism, TSV
// sides, bad input) and loading (bad and foreign models).
#include <gtest/gtest.h>
#include <sentencepiece_trainer.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "seq2seq/error.h"
#include "vocab/normalizer.h"
#include "vocab/trainer.h"
#include "vocab/vocab.h"

namespace s2s {

// Names the parameter in test names and messages ("unigram", not "4-byte object <00-00 00-00>");
// gtest finds it by argument-dependent lookup, so it lives in the enum's namespace.
void PrintTo(SentencePieceType type, std::ostream* out) {
  *out << (type == SentencePieceType::kBpe ? "bpe" : "unigram");
}

namespace {

namespace fs = std::filesystem;

TEST(Normalizer, AppliesNfkc) {
  EXPECT_EQ(normalize_text("plain ascii"), "plain ascii");
  EXPECT_EQ(normalize_text("\xef\xac\x81ne"), "fine");  // U+FB01 "ﬁ" ligature
  EXPECT_EQ(normalize_text("\xef\xbc\xa1\xef\xbd\x82\xef\xbc\x91"), "Ab1");  // full-width "Ａｂ１"
  EXPECT_EQ(normalize_text("e\xcc\x81"), "\xc3\xa9");                        // e + U+0301 -> "é"
  EXPECT_EQ(normalize_text("\xe2\x91\xa0 x\xc2\xb2"), "1 x2");  // "①", superscript two
  EXPECT_EQ(normalize_text("Gr\xc3\xbc\xc3\x9f"
                           "e"),
            "Gr\xc3\xbc\xc3\x9f"
            "e");  // "Grüße" stays
  EXPECT_EQ(normalize_text(""), "");
}

TEST(Normalizer, MapsEveryWhitespaceToASpace) {
  EXPECT_EQ(normalize_text("a\tb\rc"), "a b c");
  EXPECT_EQ(normalize_text("a\xc2\xa0"
                           "b"),
            "a b");  // no-break space (NFKC)
  EXPECT_EQ(normalize_text("a\xe3\x80\x80"
                           "b"),
            "a b");  // ideographic space (NFKC)
  EXPECT_EQ(normalize_text("a\xe2\x80\xa8"
                           "b\xc3\xa9"),
            "a b\xc3\xa9");  // line separator
}

TEST(Normalizer, RejectsInvalidUtf8) {
  EXPECT_THROW(normalize_text("bad \xff byte"), InputError);
  EXPECT_THROW(normalize_text("\xc3"), InputError);
}

// A temporary folder per test, and a small synthetic corpus: a few hundred sentences over a
// fixed word list, so a vocabulary of ~100 pieces trains in well under a second.
class VocabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "_" + info->name();
    for (char& c : name)
      if (c == '/') c = '_';
    dir_ = fs::temp_directory_path() / ("s2s_vocab_test_" + name + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& bytes) const {
    std::ofstream(path(name), std::ios::binary) << bytes;
    return path(name);
  }
  static std::string read(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  static std::vector<std::string> sentences(size_t n, uint32_t seed,
                                            const std::vector<std::string>& words) {
    std::mt19937 rng(seed);
    std::vector<std::string> out;
    for (size_t i = 0; i < n; ++i) {
      std::string s;
      const size_t len = 3 + rng() % 8;
      for (size_t w = 0; w < len; ++w) {
        if (w) s += ' ';
        s += words[rng() % words.size()];
      }
      out.push_back(s);
    }
    return out;
  }
  // A word list with compounds of two of its words ("Hausgarten"), so that the text has enough
  // distinct substrings for a vocabulary of 100 unigram pieces.
  static std::vector<std::string> with_compounds(std::vector<std::string> words) {
    const size_t n = words.size();
    for (size_t i = 0; i < n; i += 2)
      for (size_t j = 1; j < n; j += 3)
        if (words[i] != "." && words[j] != ".") words.push_back(words[i] + words[j]);
    return words;
  }
  static const std::vector<std::string>& german() {
    static const std::vector<std::string> w = with_compounds(german_words());
    return w;
  }
  static const std::vector<std::string>& english() {
    static const std::vector<std::string> w = with_compounds(english_words());
    return w;
  }
  static const std::vector<std::string>& german_words() {
    static const std::vector<std::string> w = {"der",
                                               "die",
                                               "das",
                                               "Haus",
                                               "ist",
                                               "gro\xc3\x9f",
                                               "und",
                                               "sch\xc3\xb6n",
                                               "wir",
                                               "gehen",
                                               "heute",
                                               "nach",
                                               "Hause",
                                               "Gr\xc3\xbc\xc3\x9f"
                                               "e",
                                               "aus",
                                               "M\xc3\xbcnchen",
                                               "ein",
                                               "kleiner",
                                               "Hund",
                                               "l\xc3\xa4uft",
                                               "schnell",
                                               "\xc3\xbc"
                                               "ber",
                                               "Stra\xc3\x9f"
                                               "e",
                                               "Katze",
                                               "schl\xc3\xa4"
                                               "ft",
                                               "im",
                                               "Garten",
                                               "Jahr",
                                               "2024",
                                               "."};
    return w;
  }
  static const std::vector<std::string>& english_words() {
    static const std::vector<std::string> w = {"the",
                                               "house",
                                               "is",
                                               "big",
                                               "and",
                                               "beautiful",
                                               "we",
                                               "go",
                                               "home",
                                               "today",
                                               "greetings",
                                               "from",
                                               "Munich",
                                               "a",
                                               "small",
                                               "dog",
                                               "runs",
                                               "quickly",
                                               "over",
                                               "street",
                                               "cat",
                                               "sleeps",
                                               "in",
                                               "garden",
                                               "year",
                                               "fjord",
                                               "\xc3\xb8"
                                               "l",
                                               "."};
    return w;
  }
  std::string corpus(const std::string& name, size_t n = 400, uint32_t seed = 7) const {
    std::string text;
    for (const auto& s : sentences(n, seed, german()))
      text += s + "\n";
    return write(name, text);
  }
  static SentencePieceOptions small(int32_t size = 100) {
    SentencePieceOptions o;
    o.vocab_size = size;
    return o;
  }
  // Trains and expects a failure of type E whose message contains needle, leaving no files.
  template <typename E>
  void expect_training_error(const std::vector<TrainingInput>& inputs, const std::string& needle,
                             const SentencePieceOptions& options = small()) {
    try {
      train_sentencepiece(inputs, options, path("m"));
      ADD_FAILURE() << "no error, expected one mentioning '" << needle << "'";
    } catch (const E& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    for (const auto& entry : fs::directory_iterator(dir_)) {
      const std::string name = entry.path().filename().string();
      EXPECT_TRUE(name.rfind("m.", 0) != 0) << "left behind: " << name;
    }
  }

  fs::path dir_;
};

class VocabTypeTest : public VocabTest, public ::testing::WithParamInterface<SentencePieceType> {};

TEST_P(VocabTypeTest, TrainsAndRoundTrips) {
  SentencePieceOptions options = small();
  options.type = GetParam();
  const SentencePieceStats stats =
      train_sentencepiece({{corpus("train.txt"), TrainingInput::kWholeLine}}, options, path("m"));
  EXPECT_EQ(stats.lines_read, 400u);
  EXPECT_EQ(stats.sentences, 400u);
  EXPECT_EQ(stats.sampled, 400u);
  EXPECT_EQ(stats.vocab_size, 100);
  ASSERT_TRUE(fs::exists(path("m.model")));
  ASSERT_TRUE(fs::exists(path("m.vocab")));

  const Vocab vocab = Vocab::load(path("m.model"));
  EXPECT_EQ(vocab.size(), 100);
  EXPECT_EQ(vocab.path(), path("m.model"));
  EXPECT_EQ(vocab.piece(Vocab::kPad), "<pad>");
  EXPECT_EQ(vocab.piece(Vocab::kUnk), "<unk>");
  EXPECT_EQ(vocab.piece(Vocab::kBos), "<s>");
  EXPECT_EQ(vocab.piece(Vocab::kEos), "</s>");

  // The .vocab file lists every piece in id order, `piece<TAB>score`.
  std::istringstream listing(read(path("m.vocab")));
  std::string line;
  int32_t id = 0;
  while (std::getline(listing, line)) {
    ASSERT_LT(id, vocab.size());
    EXPECT_EQ(line.substr(0, line.find('\t')), vocab.piece(id)) << "id " << id;
    ++id;
  }
  EXPECT_EQ(id, vocab.size());

  // Seen and unseen sentences over the same alphabet come back unchanged.
  for (const auto& s : sentences(50, 99, german())) {
    const std::vector<int32_t> ids = vocab.encode(s);
    ASSERT_FALSE(ids.empty());
    for (const int32_t i : ids) {
      EXPECT_GT(i, Vocab::kEos) << s;  // no special id, in particular no <unk>
      EXPECT_LT(i, vocab.size());
    }
    EXPECT_EQ(vocab.decode(ids), s);
    const std::vector<std::string> pieces = vocab.encode_pieces(s);
    ASSERT_EQ(pieces.size(), ids.size());
    for (size_t k = 0; k < ids.size(); ++k)
      EXPECT_EQ(pieces[k], vocab.piece(ids[k]));
  }
  // Special ids decode to nothing; unknown characters to <unk>.
  std::vector<int32_t> ids = vocab.encode("das Haus");
  ids.insert(ids.begin(), Vocab::kBos);
  ids.push_back(Vocab::kEos);
  ids.push_back(Vocab::kPad);
  EXPECT_EQ(vocab.decode(ids), "das Haus");
  const std::vector<int32_t> unknown = vocab.encode("das \xe6\x9d\xb1");  // "東" is not in it
  EXPECT_NE(std::find(unknown.begin(), unknown.end(), Vocab::kUnk), unknown.end());
  EXPECT_TRUE(vocab.encode("").empty());
  EXPECT_EQ(vocab.decode({}), "");
}

INSTANTIATE_TEST_SUITE_P(Types, VocabTypeTest,
                         ::testing::Values(SentencePieceType::kUnigram, SentencePieceType::kBpe),
                         [](const auto& info) {
                           return info.param == SentencePieceType::kBpe ? "bpe" : "unigram";
                         });

TEST_F(VocabTest, EncodesNfkcNormalizedText) {
  train_sentencepiece({{corpus("train.txt"), TrainingInput::kWholeLine}}, small(), path("m"));
  const Vocab vocab = Vocab::load(path("m.model"));
  // "ﬁ" (U+FB01) is not in the training text, but its NFKC form "fi" is spelled normally.
  EXPECT_EQ(vocab.encode("\xef\xac\x81"), vocab.encode("fi"));
  EXPECT_EQ(vocab.decode(vocab.encode("\xef\xac\x81")), "fi");
  // Full-width "Ｈａｕｓ" is "Haus"; decomposed "u + U+0308" is "ü".
  EXPECT_EQ(vocab.encode("das \xef\xbc\xa8\xef\xbd\x81\xef\xbd\x95\xef\xbd\x93"),
            vocab.encode("das Haus"));
  EXPECT_EQ(vocab.encode("Gru\xcc\x88\xc3\x9f"
                         "e"),
            vocab.encode("Gr\xc3\xbc\xc3\x9f"
                         "e"));
  // Whitespace: tabs are spaces, runs collapse, ends are trimmed.
  EXPECT_EQ(vocab.encode(" das\t\tHaus  "), vocab.encode("das Haus"));
  EXPECT_EQ(vocab.decode(vocab.encode(" das\t\tHaus  ")), "das Haus");
  EXPECT_THROW(vocab.encode("das \xff"), InputError);
}

TEST_F(VocabTest, RejectsIdsOutsideTheVocabulary) {
  train_sentencepiece({{corpus("train.txt"), TrainingInput::kWholeLine}}, small(), path("m"));
  const Vocab vocab = Vocab::load(path("m.model"));
  EXPECT_THROW(vocab.piece(-1), InvalidArgument);
  EXPECT_THROW(vocab.piece(100), InvalidArgument);
  const std::vector<int32_t> bad = {5, 100};
  EXPECT_THROW(vocab.decode(bad), InvalidArgument);
}

TEST_F(VocabTest, TrainingIsDeterministicForASeed) {
  // 400 sentences sampled down to 150: the sample, and so the model, depends on the seed.
  SentencePieceOptions options = small();
  options.max_sentences = 150;
  const std::vector<TrainingInput> input = {{corpus("train.txt"), TrainingInput::kWholeLine}};
  train_sentencepiece(input, options, path("a"));
  train_sentencepiece(input, options, path("b"));
  EXPECT_EQ(read(path("a.model")), read(path("b.model")));
  EXPECT_EQ(read(path("a.vocab")), read(path("b.vocab")));
  options.seed = 2;
  EXPECT_EQ(train_sentencepiece(input, options, path("c")).sampled, 150u);
  EXPECT_NE(read(path("a.vocab")), read(path("c.vocab")));
  // Without sampling every sentence is used, in order: the seed changes nothing.
  options.max_sentences = 0;
  train_sentencepiece(input, options, path("d"));
  options.seed = 3;
  train_sentencepiece(input, options, path("e"));
  EXPECT_EQ(read(path("d.model")), read(path("e.model")));
}

TEST_F(VocabTest, TrainsOnOneSideOfATsvCorpus) {
  const auto de = sentences(300, 3, german());
  const auto en = sentences(300, 4, english());
  std::string tsv;
  for (size_t i = 0; i < de.size(); ++i)
    tsv += de[i] + "\t" + en[i] + "\n";
  const std::string file = write("corpus.tsv", tsv);
  train_sentencepiece({{file, TrainingInput::kSource}}, small(), path("de"));
  train_sentencepiece({{file, TrainingInput::kTarget}}, small(), path("en"));
  const Vocab src = Vocab::load(path("de.model"));
  const Vocab tgt = Vocab::load(path("en.model"));
  EXPECT_EQ(src.decode(src.encode(de[0])), de[0]);
  EXPECT_EQ(tgt.decode(tgt.encode(en[0])), en[0]);
  // "ø" occurs only on the target side; "ß" only on the source side.
  const auto has_unk = [](const std::vector<int32_t>& ids) {
    return std::find(ids.begin(), ids.end(), Vocab::kUnk) != ids.end();
  };
  EXPECT_TRUE(has_unk(src.encode("\xc3\xb8")));
  EXPECT_FALSE(has_unk(tgt.encode("\xc3\xb8")));
  EXPECT_TRUE(has_unk(tgt.encode("\xc3\x9f")));
  EXPECT_FALSE(has_unk(src.encode("\xc3\x9f")));
  // A joint vocabulary: both sides of the one file.
  train_sentencepiece({{file, TrainingInput::kSource}, {file, TrainingInput::kTarget}}, small(120),
                      path("joint"));
  const Vocab joint = Vocab::load(path("joint.model"));
  EXPECT_FALSE(has_unk(joint.encode("\xc3\xb8 \xc3\x9f")));
}

TEST_F(VocabTest, BadTrainingInputIsAnErrorThatNamesItAndLeavesNoFiles) {
  expect_training_error<InputError>({{write("empty.txt", ""), -1}}, "no text");
  expect_training_error<InputError>({{write("blank.txt", "\n  \n\t\n"), -1}}, "no text");
  const std::string bad = write("bad.txt", "good line\nbad \xff line\n");
  expect_training_error<InputError>({{corpus("ok.txt"), -1}, {bad, -1}}, bad + ":2: invalid UTF-8");
  const std::string tsv = write("c.tsv", "a\tb\nc\td\nno tab here\n");
  expect_training_error<InputError>({{tsv, TrainingInput::kTarget}}, tsv + ":3: expected");
  const std::string tabs = write("d.tsv", "a\tb\tc\n");
  expect_training_error<InputError>({{tabs, TrainingInput::kSource}}, tabs + ":1: expected");
  expect_training_error<IoError>({{path("missing.txt"), -1}}, "missing.txt");
  // An unwritable destination fails before training.
  EXPECT_THROW(train_sentencepiece({{corpus("ok.txt"), -1}}, small(), path("no/such/dir/m")),
               IoError);
  // More pieces than the text can fill.
  expect_training_error<InputError>({{corpus("small.txt", 20), -1}}, "SentencePiece", small(5000));
}

TEST_F(VocabTest, BadOptionsAreInvalidArguments) {
  const std::vector<TrainingInput> input = {{corpus("train.txt"), -1}};
  SentencePieceOptions o = small(4);
  EXPECT_THROW(train_sentencepiece(input, o, path("m")), InvalidArgument);
  o = small();
  o.character_coverage = 0.5;
  EXPECT_THROW(train_sentencepiece(input, o, path("m")), InvalidArgument);
  o = small();
  o.num_threads = 0;
  EXPECT_THROW(train_sentencepiece(input, o, path("m")), InvalidArgument);
  EXPECT_FALSE(fs::exists(path("m.model")));
}

TEST_F(VocabTest, LoadRejectsMissingCorruptAndTruncatedModels) {
  EXPECT_THROW(Vocab::load(path("missing.model")), IoError);
  const auto expect_input_error = [](const std::string& file) {
    try {
      Vocab::load(file);
      ADD_FAILURE() << file << " loaded";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
    }
  };
  expect_input_error(write("text.model", "this is not a model\n"));
  expect_input_error(write("empty.model", ""));
  train_sentencepiece({{corpus("train.txt"), -1}}, small(), path("m"));
  const std::string model = read(path("m.model"));
  for (const size_t keep : {model.size() / 2, model.size() - 1, size_t{7}})
    expect_input_error(write("cut" + std::to_string(keep) + ".model", model.substr(0, keep)));
}

TEST_F(VocabTest, LoadRejectsAModelWithOtherSpecialIds) {
  // SentencePiece's own defaults (unk=0, bos=1, eos=2, no pad), as spm_train writes them: its
  // trainer called in-process with spm_train's arguments, so no command-line tool is needed.
  const std::string args = "--input=" + corpus("train.txt") + " --model_prefix=" + path("foreign") +
                           " --vocab_size=60 --minloglevel=2";
  const auto status = sentencepiece::SentencePieceTrainer::Train(args);
  ASSERT_TRUE(status.ok()) << args << ": " << status.ToString();
  try {
    Vocab::load(path("foreign.model"));
    ADD_FAILURE() << "a model with SentencePiece's default ids loaded";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path("foreign.model")), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("pad id is -1"), std::string::npos) << e.what();
  }
}

TEST_F(VocabTest, EncodesFromManyThreadsAtOnce) {
  train_sentencepiece({{corpus("train.txt"), -1}}, small(), path("m"));
  const Vocab vocab = Vocab::load(path("m.model"));
  const auto text = sentences(200, 11, german());
  std::vector<std::vector<int32_t>> expected;
  for (const auto& s : text)
    expected.push_back(vocab.encode(s));
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (size_t i = 0; i < text.size(); ++i)
        if (vocab.encode(text[i]) != expected[i] || vocab.decode(expected[i]) != text[i])
          ++mismatches;
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace s2s
