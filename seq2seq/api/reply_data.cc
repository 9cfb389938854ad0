// The smart-reply data pipelines behind `s2s reply-data`.
#include "seq2seq/api/reply_data.h"

#include <optional>
#include <sstream>

#include "reply/evaluation.h"
#include "seq2seq/error.h"
#include "seq2seq/line_reader.h"
#include "seq2seq/output_file.h"

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
                           const std::string& sources_output, const ExtractCallbacks& callbacks) {
  reply::PairExtractor extractor(options);
  OutputFile out(output);
  std::optional<OutputFile> where_out;
  if (!sources_output.empty()) where_out.emplace(sources_output);
  reply::for_each_message(
      inputs, format, options.max_bytes,
      [&](reply::RawMessage&& message) {
        if (auto pair = extractor.extract(message)) {
          out.write(reply::escape_field(pair->message) + "\t" + reply::escape_field(pair->reply) +
                    "\n");
          if (where_out) where_out->write(pair->where + "\n");
        }
        if (callbacks.on_progress)
          callbacks.on_progress(extractor.stats().messages, extractor.stats().pairs);
      },
      [&](const std::string& where, const std::string& what) {
        extractor.count_unreadable();
        if (callbacks.on_skipped) callbacks.on_skipped(where, what);
      });
  out.commit();
  if (where_out) where_out->commit();
  return extractor.stats();
}

std::string describe(const ResponseSetStats& stats) {
  std::ostringstream summary;
  summary << stats.kept << " responses in " << stats.clusters << " clusters from " << stats.replies
          << " replies (" << stats.candidates << " candidates, " << stats.distinct << " distinct, "
          << stats.kept_mass << " candidates covered by the kept responses)";
  return summary.str();
}

ResponseSetStats build_responses(const std::string& pairs_path, const ResponseOptions& options,
                                 const std::string& output, const std::string& made_by) {
  S2S_CHECK(options.similarity > 0 && options.similarity <= 1,
            "--similarity must be in (0, 1], got ", options.similarity);
  S2S_CHECK(options.max_tokens > 0, "--max-tokens must be positive");
  LineReader reader(pairs_path);
  std::vector<std::string> replies;
  std::string line;
  while (reader.next(line))
    replies.push_back(reply_field(reader, line));
  ResponseSetStats stats;
  const std::vector<reply::Response> responses = build_response_set(replies, options, &stats);
  if (responses.empty())
    throw InputError(pairs_path + ": no response is frequent enough (" +
                     std::to_string(stats.candidates) + " candidates, " +
                     std::to_string(stats.distinct) + " distinct, none seen --min-count " +
                     std::to_string(options.min_count) + " times)");
  reply::write_response_set(responses, output, {made_by, describe(stats)});
  return stats;
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
  }
  out.commit();
  return stats;
}

}  // namespace s2s::api
