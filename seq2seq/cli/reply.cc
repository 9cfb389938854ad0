// `s2s reply -m MODEL --responses SET [-i FILE|-] [-o FILE|-] [--k 3]`: the smart reply batch job.
// Input: JSONL records {"id": ..., "text": ...} or plain text lines (id = line number); output:
// one JSONL record per input record, in input order:
//   {"id": ..., "suggestions": [{"text", "score", "cluster"}], "triggered": bool}
// or, for a record that cannot be read (invalid JSON or UTF-8, no "text" string, a text over
// --max-text-bytes), {"id": ..., "line": N, "error": "..."}; the job goes on and the exit code
// says whether any record failed. Input streams in chunks of threads x batch records, each worker
// thread with its own model copy, so memory stays flat on any input size.
// `--evaluate PAIRS.tsv` instead ranks the response clusters for held-out (message, reply) pairs
// and prints recall@k and MRR next to the frequency baseline, and the trade-off of coverage and
// precision over thresholds; `--calibrate` picks the threshold for a wanted coverage.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "reply/evaluation.h"
#include "reply/pairs.h"
#include "reply/response_set.h"
#include "seq2seq/cli/command.h"
#include "seq2seq/cli/reply_suggester.h"
#include "seq2seq/line_reader.h"
#include "seq2seq/output_file.h"
#include "seq2seq/progress.h"
#include "seq2seq/runtime.h"

namespace po = boost::program_options;
using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;  // output keys in the documented order

namespace s2s::cli {

namespace {

struct Record {
  json id;            // the record's id (the line number for text input)
  int64_t line = 0;   // 1-based input line
  std::string text;   // the message, white space collapsed
  std::string error;  // why it cannot be scored
};

// Clusters ordered by P(cluster | message): the sum of P(response | message) over the cluster's
// responses among `ranked` (exact ones, best first; a cluster's responses ranked lower add less
// than the last ranked one each). An intent many responses express outranks one said one way.
std::vector<std::string> clusters_by_mass(const std::vector<Suggestion>& ranked,
                                          const std::vector<reply::Response>& responses) {
  std::vector<std::string> names;
  std::vector<double> best, sum;  // log-sum-exp per cluster, relative to its best score
  for (const Suggestion& s : ranked) {
    const std::string& cluster = responses[s.response].cluster;
    const auto it = std::find(names.begin(), names.end(), cluster);
    if (it == names.end()) {
      names.push_back(cluster), best.push_back(s.score), sum.push_back(1.0);
    } else {
      const size_t i = static_cast<size_t>(it - names.begin());
      sum[i] += std::exp(s.score - best[i]);  // ranked best first: best[i] >= s.score
    }
  }
  std::vector<size_t> order(names.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  const auto log_mass = [&](size_t i) { return best[i] + std::log(sum[i]); };
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return log_mass(a) > log_mass(b); });
  std::vector<std::string> out;
  for (size_t i : order)
    out.push_back(names[i]);
  return out;
}

// White space runs (newlines included) -> one space, then the first max_words words
// (--max-message-words, 0: all): the model saw messages this way in training.
std::string flatten(std::string_view text, size_t max_words) {
  return reply::first_words(reply::collapse_whitespace(text), max_words);
}

Record parse_record(const std::string& line, int64_t number, bool jsonl, size_t max_bytes,
                    size_t max_words) {
  Record r;
  r.line = number;
  r.id = number;
  if (!jsonl) {
    if (line.size() > max_bytes) {
      r.error = "the text has " + std::to_string(line.size()) + " bytes, over --max-text-bytes";
      return r;
    }
    r.text = flatten(line, max_words);
    return r;
  }
  json value;
  try {
    value = json::parse(line);
  } catch (const json::exception& e) {
    r.id = nullptr;
    r.error = std::string("invalid JSON: ") + e.what();
    return r;
  }
  if (!value.is_object()) {
    r.id = nullptr;
    r.error = "the record is not a JSON object";
    return r;
  }
  r.id = value.contains("id") ? value["id"] : json(number);
  if (!value.contains("text") || !value["text"].is_string()) {
    r.error = "the record has no \"text\" string";
    return r;
  }
  const std::string& text = value["text"].get_ref<const std::string&>();
  if (text.size() > max_bytes) {
    r.error = "the text has " + std::to_string(text.size()) + " bytes, over --max-text-bytes";
    return r;
  }
  r.text = flatten(text, max_words);
  return r;
}

}  // namespace

int run_reply(int argc, char** argv) {
  po::options_description options("Options");
  std::string model_path, responses_path, input = "-", output = "-", format = "auto";
  std::string evaluate, calibrate, device_name = "cpu", candidate = "reply";
  size_t max_tokens = 12;
  int threads = kDefaultThreads;
  int64_t max_text_bytes = 100000;
  size_t max_message_words = 0;
  double coverage = 0.5;
  ReplyOptions reply;
  options.add_options()("model,m", po::value(&model_path)->required(),
                        "message -> reply model folder (s2s train)")(
      "responses", po::value(&responses_path)->required(),
      "response set file (s2s reply-data responses): response<TAB>cluster<TAB>prior")(
      "input,i", po::value(&input)->default_value("-"), "messages (- = stdin)")(
      "output,o", po::value(&output)->default_value("-"), "JSONL results (- = stdout)")(
      "format", po::value(&format)->default_value("auto"),
      "jsonl | text | auto (jsonl when the first line starts with '{')")(
      "k", po::value(&reply.k)->default_value(3), "suggestions per message")(
      "expand", po::value(&reply.expand_per_step)->default_value(8),
      "trie prefixes expanded per message and decoder step (speed only: the ranking is exact)")(
      "rank", po::value(&reply.ranked)->default_value(0),
      "rank at least N responses per message (default: as many as the k suggestions need; "
      "--evaluate ranks 100 for its MRR)")(
      "threshold", po::value(&reply.threshold)->default_value(-1e30, "none"),
      "no suggestions when the best log P(response | message) is below it (--calibrate)")(
      "no-diversity", po::bool_switch(), "allow several suggestions of one cluster")(
      "exhaustive", po::bool_switch(&reply.exhaustive),
      "rank by forced decoding of every response instead of the trie search (the same ranking, "
      "at full cost: the reference for checks and benchmarks)")(
      "batch-size", po::value(&reply.batch_size)->default_value(64), "messages per search batch")(
      "max-message-words", po::value(&max_message_words)->default_value(0),
      "read only the first N words of a message (0: all), as `reply-data training` cut them")(
      "max-text-bytes", po::value(&max_text_bytes)->default_value(100000),
      "longer messages are error records")("threads",
                                           po::value(&threads)->default_value(kDefaultThreads),
                                           "worker threads, each with its own model copy")(
      "device", po::value(&device_name)->default_value("cpu"), "cpu | cuda | cuda:N")(
      "evaluate", po::value(&evaluate),
      "held-out message<TAB>reply pairs (escaped): recall@k and MRR vs the frequency baseline")(
      "calibrate", po::value(&calibrate),
      "dev message<TAB>reply pairs: print the threshold that triggers on --coverage of them")(
      "candidate", po::value(&candidate)->default_value(candidate),
      "with --evaluate: how a true reply becomes a response before it is matched to a cluster, "
      "as the set was built (reply | first-sentence)")(
      "max-tokens", po::value(&max_tokens)->default_value(max_tokens),
      "with --evaluate: as the set was built")(
      "coverage", po::value(&coverage)->default_value(0.5),
      "with --calibrate: the share of messages that should get suggestions")(
      "forced-check", po::value<int64_t>()->default_value(0),
      "with --evaluate: also score every response of the first N messages by forced decoding, "
      "and print how often the top k agree and both speeds");
  po::variables_map values;
  if (!parse_options("reply", "-m MODEL --responses SET [-i FILE] [-o FILE] [OPTIONS]", options,
                     argc, argv, values))
    return 0;
  if (threads < 1) throw UsageError("s2s reply: --threads must be at least 1");
  if (reply.batch_size < 1) throw UsageError("s2s reply: --batch-size must be at least 1");
  if (format != "auto" && format != "jsonl" && format != "text")
    throw UsageError("s2s reply: --format must be jsonl, text or auto");
  reply.diverse = !values["no-diversity"].as<bool>();
  if (reply.expand_per_step < 1) throw UsageError("s2s reply: --expand must be at least 1");
  if (reply.ranked < 0) throw UsageError("s2s reply: --rank must not be negative");
  if (!evaluate.empty() && values["rank"].defaulted()) reply.ranked = 100;
  const Device device = Device::parse(device_name);
  const std::vector<reply::Response> responses = reply::read_response_set(responses_path);

  if (!evaluate.empty() || !calibrate.empty()) {
    set_num_threads(threads);
    TranslationModel model = TranslationModel::load(model_path, device);
    ReplySuggester suggester(model, responses, reply);
    const std::string pairs_path = !evaluate.empty() ? evaluate : calibrate;
    std::vector<std::string> messages, replies;
    LineReader pairs(pairs_path);
    std::string line;
    while (pairs.next(line)) {
      const size_t tab = line.find('\t');
      if (tab == std::string::npos)
        throw InputError(pairs.location() + ": expected message<TAB>reply");
      messages.push_back(flatten(reply::unescape_field(line.substr(0, tab)), max_message_words));
      replies.push_back(reply::unescape_field(line.substr(tab + 1)));
    }
    const reply::CandidateMode candidate_mode = reply::parse_candidate_mode(candidate);
    const reply::ResponseMatcher matcher(responses);
    const std::vector<std::string> frequent = reply::clusters_by_prior(responses);
    // As `s2s reply-data baseline`: pairs whose true reply gives no candidate or matches no
    // response count as misses in the all-pairs figures and are left out of the mapped ones.
    reply::RankingMetrics model_metrics(reply.k), baseline(reply.k), model_all(reply.k),
        baseline_all(reply.k), mass_metrics(reply.k);
    std::vector<std::pair<double, bool>>
        best_and_hit;  // per message: best score, true cluster in k
    Progress progress("reply evaluate", static_cast<int64_t>(messages.size()), "pairs");
    const size_t chunk = 256;
    for (size_t begin = 0; begin < messages.size(); begin += chunk) {
      const size_t end = std::min(messages.size(), begin + chunk);
      const std::vector<std::string> part(messages.begin() + begin, messages.begin() + end);
      const std::vector<ReplyResult> results = suggester.suggest(part);
      for (size_t i = 0; i < results.size(); ++i) {
        const std::string truth_text =
            reply::candidate_response(replies[begin + i], candidate_mode, max_tokens);
        const auto match =
            truth_text.empty() ? reply::ResponseMatcher::Match{} : matcher.nearest(truth_text);
        if (match.index < 0) {
          model_all.add(0);
          baseline_all.add(0);
          continue;
        }
        const std::string& truth = responses[match.index].cluster;
        // The model's ranking of clusters: by their best response.
        std::vector<std::string> clusters;
        for (const Suggestion& s : results[i].ranked)
          if (std::find(clusters.begin(), clusters.end(), responses[s.response].cluster) ==
              clusters.end())
            clusters.push_back(responses[s.response].cluster);
        const auto rank_of = [&](const std::vector<std::string>& ranking) {
          const auto it = std::find(ranking.begin(), ranking.end(), truth);
          return it == ranking.end() ? size_t{0} : static_cast<size_t>(it - ranking.begin()) + 1;
        };
        const size_t rank = rank_of(clusters);
        model_metrics.add(rank);
        mass_metrics.add(rank_of(clusters_by_mass(results[i].ranked, responses)));
        baseline.add(rank_of(frequent));
        model_all.add(rank);
        baseline_all.add(rank_of(frequent));
        if (!results[i].ranked.empty())
          best_and_hit.emplace_back(results[i].ranked[0].score,
                                    rank > 0 && rank <= static_cast<size_t>(reply.k));
      }
      progress.update(static_cast<int64_t>(end));
    }
    progress.finish();
    std::printf("pairs %zu, with a matching response cluster %zu; k = %d, %zu clusters\n",
                messages.size(), model_metrics.count(), reply.k, frequent.size());
    std::printf("model:     recall@%d %.4f  MRR %.4f   (all pairs: %.4f, %.4f)\n", reply.k,
                model_metrics.recall(), model_metrics.mrr(), model_all.recall(), model_all.mrr());
    std::printf(
        "model, clusters by probability: recall@%d %.4f  MRR %.4f   (P(cluster | message) = "
        "sum of P(response | message) over its responses among the %d ranked)\n",
        reply.k, mass_metrics.recall(), mass_metrics.mrr(), reply.ranked);
    std::printf(
        "frequency: recall@%d %.4f  MRR %.4f   (all pairs: %.4f, %.4f; always the %d "
        "most frequent clusters)\n",
        reply.k, baseline.recall(), baseline.mrr(), baseline_all.recall(), baseline_all.mrr(),
        reply.k);
    std::sort(best_and_hit.begin(), best_and_hit.end(), std::greater<>());
    std::printf("\ntriggering: coverage  precision@%d  threshold\n", reply.k);
    double chosen = -1e30;
    for (int step = 1; step <= 10; ++step) {
      const double share = step / 10.0;
      const size_t n = std::max<size_t>(
          1, static_cast<size_t>(std::llround(share * static_cast<double>(best_and_hit.size()))));
      if (best_and_hit.empty()) break;
      size_t hits = 0;
      for (size_t i = 0; i < n && i < best_and_hit.size(); ++i)
        hits += best_and_hit[i].second;
      const double threshold = best_and_hit[std::min(n, best_and_hit.size()) - 1].first;
      std::printf("            %8.2f  %12.4f  %9.4f\n", share,
                  static_cast<double>(hits) / static_cast<double>(n), threshold);
      if (share <= coverage + 1e-9) chosen = threshold;
    }
    if (!calibrate.empty()) std::printf("\nthreshold for coverage %.2f: %.4f\n", coverage, chosen);
    const int64_t forced = std::min<int64_t>(values["forced-check"].as<int64_t>(),
                                             static_cast<int64_t>(messages.size()));
    if (forced > 0) {
      // The same messages both ways: trie search (batched) and forced decoding of every response.
      std::vector<std::string> sample;
      for (int64_t i = 0; i < forced; ++i)
        if (!messages[i].empty()) sample.push_back(messages[i]);
      ReplyOptions plain = reply;
      plain.diverse = false;
      plain.threshold = -1e30;
      plain.ranked = 0;  // the top k, as the batch job searches: what the speeds compare
      ReplySuggester exact(model, responses, plain);
      const auto t0 = std::chrono::steady_clock::now();
      const std::vector<ReplyResult> searched = exact.suggest(sample);
      const auto t1 = std::chrono::steady_clock::now();
      size_t agree = 0;
      int64_t expansions = 0;
      for (size_t i = 0; i < sample.size(); ++i) {
        expansions += searched[i].expansions;
        const std::vector<Suggestion> all = exact.score_all(sample[i]);
        bool same = searched[i].suggestions.size() == std::min<size_t>(reply.k, all.size());
        for (size_t j = 0; same && j < searched[i].suggestions.size(); ++j)
          same = searched[i].suggestions[j].response == all[j].response;
        agree += same;
      }
      const auto t2 = std::chrono::steady_clock::now();
      const double search_s = std::chrono::duration<double>(t1 - t0).count();
      const double forced_s = std::chrono::duration<double>(t2 - t1).count();
      std::printf(
          "\nforced-decoding check on %zu messages, %zu responses: top-%d identical for "
          "%zu (%.1f%%)\n",
          sample.size(), responses.size(), reply.k, agree,
          100.0 * static_cast<double>(agree) / static_cast<double>(sample.size()));
      std::printf(
          "trie search %.1f messages/s (%.0f prefixes expanded per message), forced decoding "
          "%.2f messages/s: %.1fx faster (batch %lld, %d threads)\n",
          static_cast<double>(sample.size()) / search_s,
          static_cast<double>(expansions) / static_cast<double>(sample.size()),
          static_cast<double>(sample.size()) / forced_s, forced_s / search_s,
          static_cast<long long>(reply.batch_size), threads);
    }
    return 0;
  }

  // The batch job: worker threads, one model copy each, BLAS on one thread per worker.
  set_num_threads(1);
  std::vector<TranslationModel> models;
  std::vector<std::unique_ptr<ReplySuggester>> suggesters;
  models.reserve(threads);
  for (int t = 0; t < threads; ++t) {
    models.push_back(TranslationModel::load(model_path, device));
    suggesters.push_back(std::make_unique<ReplySuggester>(models.back(), responses, reply));
  }
  LineReader reader(input, static_cast<size_t>(std::max<int64_t>(max_text_bytes, 1) * 2 + 4096));
  OutputFile out(output);
  Progress progress("reply", 0, "messages");
  int64_t line_number = 0, failed = 0, triggered = 0;
  bool jsonl = format == "jsonl", decided = format != "auto";
  const size_t chunk = static_cast<size_t>(threads) * static_cast<size_t>(reply.batch_size);
  std::vector<Record> records;
  bool more = true;
  while (more) {
    records.clear();
    std::string line;
    while (records.size() < chunk) {
      try {
        if (!(more = reader.next(line))) break;
        ++line_number;
        if (!decided) {
          jsonl = !line.empty() && line.front() == '{';
          decided = true;
        }
        records.push_back(
            parse_record(line, line_number, jsonl, max_text_bytes, max_message_words));
      } catch (const InputError& e) {
        ++line_number;
        Record r;
        r.line = line_number;
        r.id = jsonl ? json(nullptr) : json(line_number);
        r.error = e.what();
        records.push_back(std::move(r));
      }
    }
    if (records.empty()) break;
    // Contiguous slices, one per worker.
    std::vector<std::vector<ReplyResult>> results(threads);
    std::vector<std::vector<size_t>> slices(threads);
    std::vector<size_t> ok;
    for (size_t i = 0; i < records.size(); ++i)
      if (records[i].error.empty()) ok.push_back(i);
    const size_t per = (ok.size() + threads - 1) / threads;
    std::vector<std::thread> workers;
    std::vector<std::string> worker_errors(threads);
    for (int t = 0; t < threads; ++t) {
      const size_t begin = std::min(ok.size(), t * per), end = std::min(ok.size(), begin + per);
      slices[t].assign(ok.begin() + begin, ok.begin() + end);
      if (slices[t].empty()) continue;
      workers.emplace_back([&, t] {
        try {
          std::vector<std::string> texts;
          for (size_t i : slices[t])
            texts.push_back(records[i].text);
          results[t] = suggesters[t]->suggest(texts);
        } catch (const std::exception& e) {
          worker_errors[t] = e.what();
        }
      });
    }
    for (std::thread& w : workers)
      w.join();
    for (const std::string& e : worker_errors)
      if (!e.empty()) throw Error("reply: " + e);
    std::vector<const ReplyResult*> by_record(records.size(), nullptr);
    for (int t = 0; t < threads; ++t)
      for (size_t j = 0; j < slices[t].size(); ++j)
        by_record[slices[t][j]] = &results[t][j];
    for (size_t i = 0; i < records.size(); ++i) {
      ordered_json record;
      record["id"] = records[i].id;
      if (!records[i].error.empty()) {
        record["line"] = records[i].line;
        record["error"] = records[i].error;
        if (failed++ < 10)
          progress.log("s2s reply: line " + std::to_string(records[i].line) + ": " +
                       records[i].error);
      } else {
        const ReplyResult& r = *by_record[i];
        ordered_json suggestions = ordered_json::array();
        for (const Suggestion& s : r.suggestions)
          suggestions.push_back({{"text", responses[s.response].text},
                                 {"score", std::round(s.score * 1e4) / 1e4},
                                 {"cluster", responses[s.response].cluster}});
        record["suggestions"] = std::move(suggestions);
        record["triggered"] = r.triggered;
        triggered += r.triggered;
      }
      out.write(record.dump(-1, ' ', false, ordered_json::error_handler_t::replace) + "\n");
    }
    progress.update(line_number);
  }
  out.commit();
  progress.finish(std::to_string(triggered) + " triggered");
  if (failed > 0) {
    std::cerr << "s2s reply: error: " << failed << " of " << line_number
              << " records failed and got error records\n";
    return 1;
  }
  return 0;
}

}  // namespace s2s::cli
