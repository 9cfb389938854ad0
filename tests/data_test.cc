// The data pipeline: corpus reading and bad lines, padding, batching, shuffling, determinism and
// exact resume. Every corpus is written by the test into a temporary folder.
#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "seq2seq/data/batch.h"
#include "seq2seq/data/batcher.h"
#include "seq2seq/data/parallel_corpus.h"
#include "seq2seq/error.h"

namespace s2s::data {
namespace {

namespace fs = std::filesystem;

class DataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("s2s_data_" + std::to_string(::getpid()) + "_" +
                                        info->test_suite_name() + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  // Skip-mode options whose report sink collects the messages.
  CorpusOptions collecting(size_t max_line_bytes = size_t{1} << 20) {
    CorpusOptions options;
    options.max_line_bytes = max_line_bytes;
    options.report = [this](const BadLine& bad) { reports_.push_back(bad.message()); };
    return options;
  }

  static std::vector<SentencePair> read_all(ParallelCorpus& corpus) {
    std::vector<SentencePair> pairs;
    SentencePair pair;
    while (corpus.next(pair))
      pairs.push_back(pair);
    return pairs;
  }

  fs::path dir_;
  std::vector<std::string> reports_;
};

// "5 6 7" -> {5, 6, 7}: tests write token ids as text so batches can be checked exactly.
std::vector<int32_t> encode_ids(const std::string& text) {
  std::istringstream in(text);
  std::vector<int32_t> ids;
  int32_t id = 0;
  while (in >> id)
    ids.push_back(id);
  return ids;
}

// Line i: a source of 1 + (7i mod 13) tokens and a target of 1 + (5i mod 11) tokens, every token
// 100 + i, so each batch column can be checked against its index.
std::string synthetic_tsv(int lines) {
  std::string text;
  for (int i = 0; i < lines; ++i) {
    const std::string token = std::to_string(100 + i);
    for (int t = 0; t < 1 + (7 * i) % 13; ++t)
      text += (t ? " " : "") + token;
    text += "\t";
    for (int t = 0; t < 1 + (5 * i) % 11; ++t)
      text += (t ? " " : "") + token;
    text += "\n";
  }
  return text;
}

// ---- ParallelCorpus ------------------------------------------------------------------------

TEST_F(DataTest, ReadsTsv) {
  const std::string path = write("c.tsv", "a b\tx y\r\nGrüße\t東京\nlast\tline");
  ParallelCorpus corpus({path});
  const auto pairs = read_all(corpus);
  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_EQ(pairs[0].source, "a b");
  EXPECT_EQ(pairs[0].target, "x y");
  EXPECT_EQ(pairs[1].source, "Grüße");
  EXPECT_EQ(pairs[1].target, "東京");
  EXPECT_EQ(pairs[2].source, "last");
  EXPECT_EQ(pairs[2].target, "line");
  for (size_t i = 0; i < pairs.size(); ++i)
    EXPECT_EQ(pairs[i].index, i);
  EXPECT_EQ(corpus.stats().lines, 3u);
  EXPECT_EQ(corpus.stats().pairs, 3u);
  EXPECT_EQ(corpus.stats().bad_total(), 0u);
}

TEST_F(DataTest, ReadsTwoAlignedFiles) {
  const std::string src = write("c.de", "eins\nzwei\r\ndrei\n");
  const std::string tgt = write("c.en", "one\ntwo\nthree");
  ParallelCorpus corpus({src, tgt});
  const auto pairs = read_all(corpus);
  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_EQ(pairs[1].source, "zwei");
  EXPECT_EQ(pairs[1].target, "two");
  EXPECT_EQ(pairs[2].source, "drei");
  EXPECT_EQ(pairs[2].target, "three");
  EXPECT_EQ(pairs[2].index, 2u);
}

TEST_F(DataTest, SkipsAndCountsEveryBadTsvLineWithItsLocation) {
  const std::string path = write("bad.tsv",
                                 "good\tline\n"                          // 1
                                 "no tab here\n"                         // 2
                                 "a\tb\tc\n"                             // 3
                                 "  \ttarget\n"                          // 4 empty source
                                 "source\t\n"                            // 5 empty target
                                 "bad \xff utf8\tx\n"                    // 6
                                     + std::string(40, 'x') + "\ty\n" +  // 7 too long
                                     "\n"                                // 8 empty line: no tab
                                     "also\tgood\n");                    // 9
  ParallelCorpus corpus({path}, collecting(32));
  const auto pairs = read_all(corpus);
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].index, 0u);
  EXPECT_EQ(pairs[1].source, "also");
  EXPECT_EQ(pairs[1].index, 8u);  // line 9: skipped lines leave gaps

  const CorpusStats& s = corpus.stats();
  EXPECT_EQ(s.lines, 9u);
  EXPECT_EQ(s.pairs, 2u);
  EXPECT_EQ(s.bad_count(BadLineReason::no_tab), 2u);
  EXPECT_EQ(s.bad_count(BadLineReason::extra_tab), 1u);
  EXPECT_EQ(s.bad_count(BadLineReason::empty_side), 2u);
  EXPECT_EQ(s.bad_count(BadLineReason::invalid_utf8), 1u);
  EXPECT_EQ(s.bad_count(BadLineReason::too_long), 1u);
  EXPECT_EQ(s.bad_total(), 7u);
  EXPECT_EQ(s.summary(),
            "9 lines, 2 pairs, 7 bad (2 no tab, 1 more than one tab, 2 empty side, 1 invalid "
            "UTF-8, 1 too long)");

  ASSERT_EQ(reports_.size(), 7u);
  EXPECT_EQ(reports_[0], path + ":2: no tab (expected source<TAB>target)");
  EXPECT_EQ(reports_[1], path + ":3: more than one tab (expected source<TAB>target)");
  EXPECT_EQ(reports_[2], path + ":4: empty source");
  EXPECT_EQ(reports_[3], path + ":5: empty target");
  EXPECT_EQ(reports_[4], path + ":6: invalid UTF-8 at byte 5");
  EXPECT_EQ(reports_[5], path + ":7: line longer than 32 bytes");
  EXPECT_EQ(reports_[6], path + ":8: no tab (expected source<TAB>target)");
}

TEST_F(DataTest, SkipsBadAlignedLinesNamingTheOffendingFile) {
  const std::string src = write("c.de", "ok\n\nbad \xc3(\nok\n" + std::string(40, 's') + "\nok\n");
  const std::string tgt =
      write("c.en", "ok\nempty source\nfine\n \n" + std::string(5, 't') + "\nok\n");
  ParallelCorpus corpus({src, tgt}, collecting(32));
  const auto pairs = read_all(corpus);
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].index, 0u);
  EXPECT_EQ(pairs[1].index, 5u);
  ASSERT_EQ(reports_.size(), 4u);
  EXPECT_EQ(reports_[0], src + ":2: empty source");
  EXPECT_EQ(reports_[1], src + ":3: invalid UTF-8 at byte 5");
  EXPECT_EQ(reports_[2], tgt + ":4: empty target");
  EXPECT_EQ(reports_[3], src + ":5: line longer than 32 bytes");
}

TEST_F(DataTest, EveryBadLineKindIsFatalUnderFailNamingFileAndLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"no tab", "just text\n"},
      {"more than one tab", "a\tb\tc\n"},
      {"empty source", "\tb\n"},
      {"empty target", "a\t \n"},
      {"invalid UTF-8", "a\xed\xa0\x80\tb\n"},
      {"longer than 32 bytes", std::string(33, 'a') + "\tb\n"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string path = write("fail" + std::to_string(i) + ".tsv",
                                   "good\tpair\n" + cases[i].second + "never\treached\n");
    CorpusOptions options = collecting(32);
    options.on_bad_line = OnBadLine::fail;
    ParallelCorpus corpus({path}, options);
    SentencePair pair;
    ASSERT_TRUE(corpus.next(pair));
    try {
      corpus.next(pair);
      ADD_FAILURE() << "no error for " << cases[i].first;
    } catch (const InputError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(path + ":2: "), std::string::npos) << what;
      EXPECT_NE(what.find(cases[i].first), std::string::npos) << what;
    }
    EXPECT_TRUE(reports_.empty());
  }
}

TEST_F(DataTest, MisalignedFilesAreFatalNamingBothFilesAndCounts) {
  const std::string src = write("m.de", "1\n2\n3\n");
  const std::string tgt = write("m.en", "1\n2\n3\n4\n5\n");
  for (bool swap : {false, true}) {
    std::vector<std::string> paths = swap ? std::vector{tgt, src} : std::vector{src, tgt};
    ParallelCorpus corpus(paths, collecting());
    SentencePair pair;
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(corpus.next(pair));
    try {
      corpus.next(pair);
      ADD_FAILURE() << "misaligned files accepted";
    } catch (const InputError& e) {
      const std::string what = e.what();
      const std::string expected = swap ? "'" + tgt + "' has 5 lines but '" + src + "' has 3"
                                        : "'" + src + "' has 3 lines but '" + tgt + "' has 5";
      EXPECT_NE(what.find(expected), std::string::npos) << what;
    }
  }
}

TEST_F(DataTest, EmptyFileHasNoPairs) {
  ParallelCorpus tsv({write("e.tsv", "")});
  SentencePair pair;
  EXPECT_FALSE(tsv.next(pair));
  EXPECT_FALSE(tsv.next(pair));
  ParallelCorpus two({write("e.de", ""), write("e.en", "")});
  EXPECT_FALSE(two.next(pair));
  EXPECT_EQ(two.stats().lines, 0u);
}

TEST_F(DataTest, HugeLineIsSkippedWithBoundedMemoryAndReadingGoesOn) {
  const std::string huge(3 << 20, 'h');  // 3 MiB, over the 1 MiB default
  const std::string path = write("huge.tsv", "a\tb\n" + huge + "\t" + huge + "\nc\td\n");
  ParallelCorpus corpus({path}, collecting());
  const auto pairs = read_all(corpus);
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[1].source, "c");
  EXPECT_EQ(pairs[1].index, 2u);
  ASSERT_EQ(reports_.size(), 1u);
  EXPECT_EQ(reports_[0], path + ":2: line longer than 1048576 bytes");

  ParallelCorpus roomy({path}, collecting(size_t{8} << 20));  // a limit that admits it
  const auto all = read_all(roomy);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].source.size(), huge.size());
}

TEST_F(DataTest, InvalidUtf8InTheMiddleThenValidLinesContinue) {
  std::string text;
  for (int i = 0; i < 10; ++i) {
    if (i == 4) {
      text += "caf\xe9\tcoffee\n";  // Latin-1, not UTF-8
    } else {
      text += 's';
      text += std::to_string(i) + "\tt\n";
    }
  }
  ParallelCorpus corpus({write("latin1.tsv", text)}, collecting());
  const auto pairs = read_all(corpus);
  ASSERT_EQ(pairs.size(), 9u);
  EXPECT_EQ(pairs[4].source, "s5");
  EXPECT_EQ(pairs[4].index, 5u);
  EXPECT_EQ(corpus.stats().bad_count(BadLineReason::invalid_utf8), 1u);
}

TEST_F(DataTest, ReportsOnlyTheFirstFewButCountsAll) {
  CorpusOptions options = collecting();
  options.max_reported = 2;
  ParallelCorpus corpus({write("many.tsv", "x\ny\nz\nok\tok\nw\n")}, options);
  EXPECT_EQ(read_all(corpus).size(), 1u);
  EXPECT_EQ(reports_.size(), 2u);
  EXPECT_EQ(corpus.stats().bad_count(BadLineReason::no_tab), 4u);
}

TEST_F(DataTest, CorpusRejectsBadArguments) {
  EXPECT_THROW(ParallelCorpus({dir_ / "missing.tsv"}), IoError);
  EXPECT_THROW(ParallelCorpus(std::vector<std::string>{}), ConfigError);
  EXPECT_EQ(parse_on_bad_line("skip"), OnBadLine::skip);
  EXPECT_EQ(parse_on_bad_line("fail"), OnBadLine::fail);
  EXPECT_THROW(parse_on_bad_line("ignore"), ConfigError);
}

// ---- make_batch ----------------------------------------------------------------------------

TEST(MakeBatch, PadsTimeMajorAndPlacesBosAndEos) {
  const std::vector<Example> examples = {{{11, 12, 13}, {21}, 7}, {{14}, {22, 23, 24}, 3}};
  const Batch b = make_batch(examples, SpecialIds{.pad = 0, .bos = 2, .eos = 3});
  EXPECT_EQ(b.source.shape(), Shape({3, 2}));
  EXPECT_EQ(b.target_input.shape(), Shape({4, 2}));
  // Rows are time steps, columns examples.
  EXPECT_EQ(b.source.to_vector<int32_t>(), (std::vector<int32_t>{11, 14, 12, 0, 13, 0}));
  EXPECT_EQ(b.source_mask.to_vector<float>(), (std::vector<float>{1, 1, 1, 0, 1, 0}));
  EXPECT_EQ(b.target_input.to_vector<int32_t>(),
            (std::vector<int32_t>{2, 2, 21, 22, 0, 23, 0, 24}));
  EXPECT_EQ(b.target_output.to_vector<int32_t>(),
            (std::vector<int32_t>{21, 22, 3, 23, 0, 24, 0, 3}));
  EXPECT_EQ(b.target_mask.to_vector<float>(), (std::vector<float>{1, 1, 1, 1, 0, 1, 0, 1}));
  EXPECT_EQ(b.source.dtype(), DType::i32);
  EXPECT_EQ(b.source_mask.dtype(), DType::f32);
  EXPECT_EQ(b.source_tokens, 4);
  EXPECT_EQ(b.target_tokens, 6);
  EXPECT_EQ(b.indices, (std::vector<uint64_t>{7, 3}));
  EXPECT_EQ(b.size(), 2);

  const Batch other = make_batch({{{5}, {}, 0}}, SpecialIds{.pad = 9, .bos = 1, .eos = 4});
  EXPECT_EQ(other.target_input.to_vector<int32_t>(), (std::vector<int32_t>{1}));
  EXPECT_EQ(other.target_output.to_vector<int32_t>(), (std::vector<int32_t>{4}));
  EXPECT_THROW(make_batch(std::vector<Example>{}), InvalidArgument);
}

TEST(SplitBatch, ShardsGroupSimilarTargetsTrimmedAndBalancedByPaddedWork) {
  // Targets of 1, 1, 1, 1, 6 and 6 pieces (+ EOS): 2+2+2+2 = 8 tokens, then 7 and 7.
  std::vector<Example> examples;
  for (int i = 0; i < 6; ++i) {
    const int n = i < 4 ? 1 : 6;
    examples.push_back({std::vector<int32_t>(static_cast<size_t>(i + 1), 10 + i),
                        std::vector<int32_t>(static_cast<size_t>(n), 20 + i),
                        static_cast<uint64_t>(100 + i)});
  }
  const Batch whole = make_batch(examples);
  const std::vector<Batch> shards = split_batch(whole, 3);
  ASSERT_EQ(shards.size(), 3u);
  EXPECT_EQ(shards[0].indices, (std::vector<uint64_t>{100, 101, 102, 103}));
  EXPECT_EQ(shards[1].indices, (std::vector<uint64_t>{104}));
  EXPECT_EQ(shards[2].indices, (std::vector<uint64_t>{105}));
  // Each shard is make_batch of its own examples, in its order: trimmed to its longest source
  // and target.
  for (size_t k = 0; k < shards.size(); ++k) {
    std::vector<Example> part;
    for (uint64_t index : shards[k].indices)
      part.push_back(examples[index - 100]);
    const Batch expected = make_batch(part);
    EXPECT_EQ(shards[k].source.shape(), expected.source.shape()) << k;
    EXPECT_EQ(shards[k].source.to_vector<int32_t>(), expected.source.to_vector<int32_t>()) << k;
    EXPECT_EQ(shards[k].source_mask.to_vector<float>(), expected.source_mask.to_vector<float>());
    EXPECT_EQ(shards[k].target_input.to_vector<int32_t>(),
              expected.target_input.to_vector<int32_t>());
    EXPECT_EQ(shards[k].target_output.to_vector<int32_t>(),
              expected.target_output.to_vector<int32_t>());
    EXPECT_EQ(shards[k].target_mask.to_vector<float>(), expected.target_mask.to_vector<float>());
    EXPECT_EQ(shards[k].source_tokens, expected.source_tokens);
    EXPECT_EQ(shards[k].target_tokens, expected.target_tokens);
  }
  // Long and short targets interleaved (as a batch sorted by source length holds them): each
  // shard gets one kind, so neither pads short targets to the long ones.
  const Batch mixed = make_batch({examples[4], examples[0], examples[5], examples[1]});
  const std::vector<Batch> halves = split_batch(mixed, 2);
  ASSERT_EQ(halves.size(), 2u);
  EXPECT_EQ(halves[0].indices, (std::vector<uint64_t>{100, 101}));
  EXPECT_EQ(halves[1].indices, (std::vector<uint64_t>{104, 105}));
  EXPECT_EQ(halves[0].target_mask.shape()[0], 2);
  // Fewer sentences than shards: a shard each; one shard: the batch itself.
  EXPECT_EQ(split_batch(make_batch({examples[0], examples[1]}), 4).size(), 2u);
  const std::vector<Batch> one = split_batch(whole, 1);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].target_input.to_vector<int32_t>(), whole.target_input.to_vector<int32_t>());
  EXPECT_THROW(split_batch(whole, 0), InvalidArgument);
}

// ---- Batcher -------------------------------------------------------------------------------

// What a batch sequence is compared by: each batch's indices and source ids.
using Fingerprint = std::vector<std::pair<std::vector<uint64_t>, std::vector<int32_t>>>;

class BatcherTest : public DataTest {
 protected:
  Batcher make(const std::string& path, BatcherOptions options) {
    return Batcher(
        [path](int64_t) {
          return std::make_unique<ParallelCorpus>(std::vector<std::string>{path});
        },
        encode_ids, encode_ids, options);
  }
  static Fingerprint epoch(Batcher& batcher, int64_t e, std::vector<Batch>* batches = nullptr) {
    batcher.start_epoch(e);
    return rest(batcher, batches);
  }
  static Fingerprint rest(Batcher& batcher, std::vector<Batch>* batches = nullptr) {
    Fingerprint out;
    Batch b;
    while (batcher.next(b)) {
      out.emplace_back(b.indices, b.source.to_vector<int32_t>());
      if (batches) batches->push_back(b);
    }
    return out;
  }
  static std::vector<uint64_t> all_indices(const Fingerprint& f) {
    std::vector<uint64_t> out;
    for (const auto& [indices, ids] : f)
      out.insert(out.end(), indices.begin(), indices.end());
    return out;
  }
};

BatcherOptions small_options() {
  BatcherOptions o;
  o.batch_tokens = 60;
  o.max_length = 0;
  o.shuffle_buffer = 50;
  o.pool_size = 40;
  o.seed = 7;
  return o;
}

TEST_F(BatcherTest, BatchesRespectTheBudgetAndHoldTheRightExamples) {
  const std::string path = write("c.tsv", synthetic_tsv(300));
  BatcherOptions o = small_options();
  o.max_length = 10;
  o.max_sentences = 6;
  Batcher batcher = make(path, o);
  std::vector<Batch> batches;
  const Fingerprint f = epoch(batcher, 0, &batches);
  uint64_t kept = 0;
  for (const Batch& b : batches) {
    const int64_t S = b.source.dim(0), U = b.target_input.dim(0), B = b.size();
    EXPECT_LE(std::max(S, U) * B, o.batch_tokens);
    EXPECT_LE(B, o.max_sentences);
    const auto src = b.source.to_vector<int32_t>();
    const auto mask = b.source_mask.to_vector<float>();
    const auto out = b.target_output.to_vector<int32_t>();
    const auto tmask = b.target_mask.to_vector<float>();
    int64_t src_tokens = 0, tgt_tokens = 0;
    for (int64_t c = 0; c < B; ++c) {
      const uint64_t i = b.indices[c];
      const int64_t n = 1 + (7 * i) % 13, m = 1 + (5 * i) % 11;
      EXPECT_LE(n, o.max_length);
      EXPECT_LE(m, o.max_length);
      for (int64_t t = 0; t < S; ++t) {
        EXPECT_EQ(src[t * B + c], t < n ? static_cast<int32_t>(100 + i) : 0);
        EXPECT_EQ(mask[t * B + c], t < n ? 1.0f : 0.0f);
      }
      for (int64_t t = 0; t < U; ++t) {
        EXPECT_EQ(out[t * B + c], t < m ? static_cast<int32_t>(100 + i) : t == m ? 3 : 0);
        EXPECT_EQ(tmask[t * B + c], t <= m ? 1.0f : 0.0f);
      }
      src_tokens += n;
      tgt_tokens += m + 1;
    }
    EXPECT_EQ(b.source_tokens, src_tokens);
    EXPECT_EQ(b.target_tokens, tgt_tokens);
    kept += B;
  }
  uint64_t expected_kept = 0;
  for (int i = 0; i < 300; ++i)
    expected_kept += (1 + (7 * i) % 13 <= 10 && 1 + (5 * i) % 11 <= 10);
  EXPECT_EQ(kept, expected_kept);
  EXPECT_EQ(batcher.stats().examples, expected_kept);
  EXPECT_EQ(batcher.stats().too_long, 300 - expected_kept);
}

TEST_F(BatcherTest, EveryExampleOncePerEpochWithAndWithoutShuffle) {
  const std::string path = write("c.tsv", synthetic_tsv(500));
  std::vector<uint64_t> expected(500);
  for (uint64_t i = 0; i < 500; ++i)
    expected[i] = i;
  for (bool shuffle : {false, true}) {
    for (int threads : {1, 3}) {
      BatcherOptions o = small_options();
      o.shuffle = shuffle;
      o.threads = threads;
      Batcher batcher = make(path, o);
      for (int64_t e = 0; e < 2; ++e) {
        std::vector<uint64_t> seen = all_indices(epoch(batcher, e));
        if (shuffle) {
          EXPECT_FALSE(std::is_sorted(seen.begin(), seen.end()));
        }
        std::sort(seen.begin(), seen.end());
        EXPECT_EQ(seen, expected) << "shuffle " << shuffle << " threads " << threads;
      }
    }
  }
}

TEST_F(BatcherTest, SameSeedSameBatchesOtherSeedOrEpochOtherOrder) {
  const std::string path = write("c.tsv", synthetic_tsv(400));
  Batcher a = make(path, small_options());
  Batcher b = make(path, small_options());
  BatcherOptions threaded = small_options();
  threaded.threads = 4;
  Batcher c = make(path, threaded);
  BatcherOptions reseeded = small_options();
  reseeded.seed = 8;
  Batcher d = make(path, reseeded);
  const Fingerprint first = epoch(a, 0);
  EXPECT_EQ(first, epoch(b, 0));
  EXPECT_EQ(first, epoch(c, 0));  // the thread count does not change the sequence
  EXPECT_NE(all_indices(first), all_indices(epoch(d, 0)));
  EXPECT_NE(all_indices(first), all_indices(epoch(a, 1)));
  EXPECT_EQ(first, epoch(a, 0));  // restarting an epoch replays it
}

TEST_F(BatcherTest, ResumeInANewBatcherContinuesTheUninterruptedRun) {
  const std::string path = write("c.tsv", synthetic_tsv(300));
  Batcher reference = make(path, small_options());
  Fingerprint run = epoch(reference, 0);
  const size_t epoch0 = run.size();
  const Fingerprint second = epoch(reference, 1);
  run.insert(run.end(), second.begin(), second.end());
  ASSERT_GT(epoch0, 10u);

  for (size_t k : {size_t{0}, size_t{1}, size_t{7}, epoch0 - 1, epoch0, epoch0 + 3}) {
    // The interrupted run: K batches over as many epochs as needed, then its state.
    Batcher first = make(path, small_options());
    first.start_epoch(0);
    Batch batch;
    for (size_t i = 0; i < k; ++i) {
      if (!first.next(batch)) {
        first.start_epoch(first.state().epoch + 1);
        ASSERT_TRUE(first.next(batch));
      }
    }
    const Batcher::State saved = first.state();
    EXPECT_EQ(saved.epoch, k > epoch0 ? 1 : 0);

    Batcher resumed = make(path, small_options());
    resumed.restore(saved);
    EXPECT_EQ(resumed.state(), saved);
    Fingerprint tail = rest(resumed);
    if (saved.epoch == 0) {
      const Fingerprint next_epoch = epoch(resumed, 1);
      tail.insert(tail.end(), next_epoch.begin(), next_epoch.end());
    }
    EXPECT_EQ(tail, Fingerprint(run.begin() + k, run.end())) << "resumed after " << k;
  }

  Batcher too_far = make(path, small_options());
  EXPECT_THROW(too_far.restore({0, static_cast<int64_t>(epoch0) + 1}), InvalidArgument);
}

TEST_F(BatcherTest, InOrderModeKeepsEveryExampleAndItsIndex) {
  std::string text = synthetic_tsv(120);
  text += std::string(200, '1') + "\t5\n";  // 200-digit "word": one id, but kept anyway
  text += "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21\t5\n";  // over max_length
  text += "no tab\n";                                                    // a bad line: skipped
  text += "\t\n";
  text += "5\t6\n";
  const std::string path = write("c.tsv", text);
  for (bool sort : {true, false}) {
    BatcherOptions o = small_options();
    o.in_order = true;
    o.max_length = 10;
    o.sort_by_length = sort;
    Batcher batcher(
        [&](int64_t) {
          return std::make_unique<ParallelCorpus>(std::vector<std::string>{path}, collecting());
        },
        [](const std::string& s) {
          return s.size() > 100 ? std::vector<int32_t>{1} : encode_ids(s);
        },
        encode_ids, o);
    std::vector<Batch> batches;
    std::vector<uint64_t> seen = all_indices(epoch(batcher, 0, &batches));
    if (!sort) {
      EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
    }
    std::sort(seen.begin(), seen.end());
    std::vector<uint64_t> expected;
    for (uint64_t i = 0; i < 122; ++i)
      expected.push_back(i);
    expected.push_back(124);
    EXPECT_EQ(seen, expected);
    EXPECT_EQ(batcher.stats().too_long, 0u);
    EXPECT_EQ(batcher.corpus_stats().bad_total(), 2u);
    for (const Batch& b : batches)
      EXPECT_TRUE(b.size() == 1 ||
                  std::max(b.source.dim(0), b.target_input.dim(0)) * b.size() <= o.batch_tokens);
  }
}

TEST_F(BatcherTest, EmptyCorpusGivesNoBatches) {
  Batcher batcher = make(write("e.tsv", ""), small_options());
  Batch b;
  EXPECT_FALSE(batcher.next(b));
  EXPECT_FALSE(batcher.next(b));
  batcher.start_epoch(1);
  EXPECT_FALSE(batcher.next(b));
  EXPECT_EQ(batcher.state(), (Batcher::State{1, 0}));
  batcher.restore({3, 0});
  EXPECT_FALSE(batcher.next(b));
}

TEST_F(BatcherTest, EncoderErrorsReachTheCaller) {
  BatcherOptions o = small_options();
  o.threads = 2;
  Batcher batcher(
      [p = write("c.tsv", synthetic_tsv(50))](int64_t) {
        return std::make_unique<ParallelCorpus>(std::vector<std::string>{p});
      },
      [](const std::string&) -> std::vector<int32_t> { throw InputError("no vocab"); }, encode_ids,
      o);
  Batch b;
  EXPECT_THROW(batcher.next(b), InputError);
}

TEST(OversampleRule, MatchesOnlyWhenEveryConditionHolds) {
  OversampleRule rule;
  rule.times = 3;
  rule.min_source_words = 3;
  rule.source_ends_with = {".", "?", "!"};
  EXPECT_TRUE(rule.matches("Das ist gut."));
  EXPECT_TRUE(rule.matches("Ist das  gut ?  "));  // trailing spaces ignored, any spacing
  EXPECT_FALSE(rule.matches("Sehr gut."));        // two words
  EXPECT_FALSE(rule.matches("das ist gut"));      // no ending
  EXPECT_FALSE(rule.matches(""));
  rule.source_ends_with.clear();
  EXPECT_TRUE(rule.matches("das ist gut"));
  rule.min_source_words = 0;
  EXPECT_TRUE(rule.matches(""));
  rule.times = 1;  // off
  EXPECT_FALSE(rule.matches("Das ist gut."));
}

TEST_F(BatcherTest, OversampledPairsComeTimesPerEpochScatteredAndResumeExactly) {
  const std::string path = write("c.tsv", synthetic_tsv(300));
  BatcherOptions o = small_options();
  o.oversample.times = 3;
  o.oversample.min_source_words = 10;  // sources of 10..13 tokens: i with 7i mod 13 >= 9
  Batcher batcher = make(path, o);
  const Fingerprint first = epoch(batcher, 0);
  std::vector<int> count(300, 0);
  for (uint64_t i : all_indices(first))
    ++count[i];
  int matching = 0;
  for (int i = 0; i < 300; ++i) {
    const bool long_source = 1 + (7 * i) % 13 >= 10;
    matching += long_source;
    EXPECT_EQ(count[i], long_source ? 3 : 1) << "line " << i;
  }
  EXPECT_GT(matching, 0);
  EXPECT_EQ(batcher.stats().oversampled, static_cast<uint64_t>(2 * matching));
  EXPECT_EQ(batcher.stats().examples, static_cast<uint64_t>(300 + 2 * matching));
  // The copies of one pair do not travel together: most land in different batches.
  int together = 0;
  for (const auto& [indices, ids] : first)
    for (size_t a = 0; a < indices.size(); ++a)
      for (size_t b = a + 1; b < indices.size(); ++b)
        together += indices[a] == indices[b];
  EXPECT_LT(together, matching);
  // Resume in the middle equals the uninterrupted epoch.
  Batcher resumed = make(path, o);
  resumed.restore({0, static_cast<int64_t>(first.size() / 2)});
  EXPECT_EQ(rest(resumed), Fingerprint(first.begin() + first.size() / 2, first.end()));
  // Validation (in order) never repeats a pair.
  BatcherOptions in_order = o;
  in_order.in_order = true;
  Batcher valid = make(path, in_order);
  EXPECT_EQ(all_indices(epoch(valid, 0)).size(), 300u);
}

TEST_F(BatcherTest, RejectsBadOptions) {
  const std::string path = write("c.tsv", "");
  auto with = [&](auto change) {
    BatcherOptions o;
    change(o);
    return [&path, o] {
      (void)Batcher(
          [path](int64_t) {
            return std::make_unique<ParallelCorpus>(std::vector<std::string>{path});
          },
          encode_ids, encode_ids, o);
    };
  };
  EXPECT_THROW(with([](BatcherOptions& o) { o.batch_tokens = 0; })(), ConfigError);
  EXPECT_THROW(with([](BatcherOptions& o) { o.pool_size = 0; })(), ConfigError);
  EXPECT_THROW(with([](BatcherOptions& o) { o.threads = 0; })(), ConfigError);
  EXPECT_THROW(with([](BatcherOptions& o) { o.batch_tokens = 50; })(), ConfigError);  // < 101
  EXPECT_NO_THROW(with([](BatcherOptions& o) { o.batch_tokens = 101; })());
  EXPECT_THROW(with([](BatcherOptions& o) { o.oversample.times = 0; })(), ConfigError);
  EXPECT_THROW(with([](BatcherOptions& o) { o.oversample.min_source_words = -1; })(), ConfigError);
  EXPECT_THROW(with([](BatcherOptions& o) { o.oversample.source_ends_with = {""}; })(),
               ConfigError);
  EXPECT_THROW(Batcher(nullptr, encode_ids, encode_ids), InvalidArgument);
}

}  // namespace
}  // namespace s2s::data
