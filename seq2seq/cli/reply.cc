// `s2s reply -m MODEL --responses SET [-i FILE|-] [-o FILE|-] [--k 3]`: the smart reply batch job.
// Input: JSONL records {"id": ..., "text": ...} or plain text lines (id = line number); output:
// one JSONL record per input record, in input order:
//   {"id": ..., "suggestions": [{"text", "score", "cluster"}], "triggered": bool}
// or, for a record that cannot be read (invalid JSON or UTF-8, no "text" string, a text over
// --max-text-bytes), {"id": ..., "line": N, "error": "..."}; the job goes on and the exit code
// says whether any record failed. Input streams in chunks of threads x batch records, each worker
// thread with its own model copy, so memory stays flat on any input size.
// `--evaluate PAIRS.tsv` instead runs the 1-of-100 ranking test on held-out (message, reply)
// pairs (api/reply_ranking.h: the model and its baselines with intervals and McNemar tests;
// `--report` writes it as JSON), then ranks the response clusters for them and prints recall@k
// and MRR next to the frequency baseline, and the trade-off of coverage and precision over
// thresholds; `--calibrate` picks the threshold for a wanted coverage; `--tune DEV.tsv` picks
// lambda and the TF-IDF weight by the ranking test on dev (`--save`: into the model folder).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "seq2seq/api/reply.h"
#include "seq2seq/api/reply_ranking.h"
#include "seq2seq/cli/command.h"
#include "seq2seq/error.h"
#include "seq2seq/line_reader.h"
#include "seq2seq/output_file.h"
#include "seq2seq/progress.h"

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

// The message of a JSONL record or a text line; ReplySuggester collapses its white space and
// cuts it to --max-message-words, as the model saw messages in training.
Record parse_record(const std::string& line, int64_t number, bool jsonl, size_t max_bytes) {
  Record r;
  r.line = number;
  r.id = number;
  if (!jsonl) {
    if (line.size() > max_bytes) {
      r.error = "the text has " + std::to_string(line.size()) + " bytes, over --max-text-bytes";
      return r;
    }
    r.text = line;
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
  r.text = text;
  return r;
}

void print_ranking_test(const api::RankingTest& t) {
  std::printf(
      "1-of-%d ranking: %zu pairs (%zu skipped: no first sentence); score log P(r|m) - %.3g log "
      "P(r), TF-IDF weight %.3g\n",
      t.candidates, t.pairs, t.skipped, t.lambda, t.tfidf_weight);
  std::printf("%-16s %-22s %-22s %-22s %s\n", "scorer", "R@1 [95% interval]", "R@3 [95% interval]",
              "MRR [95% interval]", "McNemar p on R@3 vs model (model-only : other-only)");
  const auto cell = [](const api::Interval& i) {
    char text[64];
    std::snprintf(text, sizeof text, "%.3f [%.3f, %.3f]", i.value, i.low, i.high);
    return std::string(text);
  };
  for (const api::ScorerFigures& f : t.scorers) {
    std::printf("%-16s %-22s %-22s %-22s", f.name.c_str(), cell(f.r1).c_str(), cell(f.r3).c_str(),
                cell(f.mrr).c_str());
    if (&f != &t.scorers.front())
      std::printf(" %.2g (%zu : %zu)", f.p_vs_model, f.model_only, f.scorer_only);
    std::printf("\n");
  }
}

json ranking_test_json(const api::RankingTest& t) {
  const auto interval = [](const api::Interval& i) {
    return json{{"value", i.value}, {"low", i.low}, {"high", i.high}};
  };
  json scorers = json::array();
  for (const api::ScorerFigures& f : t.scorers)
    scorers.push_back({{"name", f.name},
                       {"r1", interval(f.r1)},
                       {"r3", interval(f.r3)},
                       {"mrr", interval(f.mrr)},
                       {"mcnemar_p_vs_model", f.p_vs_model},
                       {"model_only", f.model_only},
                       {"scorer_only", f.scorer_only}});
  return {{"pairs", t.pairs},   {"skipped", t.skipped},           {"candidates", t.candidates},
          {"lambda", t.lambda}, {"tfidf_weight", t.tfidf_weight}, {"scorers", scorers}};
}

// TF-IDF's documents: the messages and replies of a pair file (the training pairs).
std::vector<std::string> idf_documents(const std::string& pairs) {
  std::vector<std::string> messages, replies;
  if (pairs.empty()) return messages;
  api::read_reply_pairs(pairs, messages, replies);
  messages.insert(messages.end(), replies.begin(), replies.end());
  return messages;
}

}  // namespace

int run_reply(int argc, char** argv) {
  po::options_description options("Options");
  std::string model_path, responses_path, input = "-", output = "-", format = "auto";
  std::string evaluate, calibrate, device_name = "cpu", candidate = "reply", truth = "nearest";
  std::string tune, idf_from, report;
  size_t max_tokens = 12;
  int threads = kDefaultThreads;
  int64_t max_text_bytes = 100000;
  double coverage = 0.5;
  api::ReplyOptions reply;
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
      "max-message-words", po::value(&reply.max_message_words)->default_value(0),
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
      "truth", po::value(&truth)->default_value(truth),
      "with --evaluate/--calibrate: how a true reply finds its cluster: nearest (the most "
      "similar response's) | intent (only replies that fall into an intent count: response "
      "sets built with --intents)")(
      "candidate", po::value(&candidate)->default_value(candidate),
      "with --evaluate: how a true reply becomes a response before it is matched to a cluster, "
      "as the set was built (reply | first-sentence)")(
      "max-tokens", po::value(&max_tokens)->default_value(max_tokens),
      "with --evaluate: as the set was built")(
      "coverage", po::value(&coverage)->default_value(0.5),
      "with --calibrate: the share of messages that should get suggestions")(
      "forced-check", po::value<int64_t>()->default_value(0),
      "with --evaluate: also score every response of the first N messages by forced decoding, "
      "and print how often the top k agree and both speeds")(
      "lambda", po::value<double>(),
      "score log P(r | m) - lambda log P(r) (default: the model folder's reply.yaml, else 0)")(
      "tune", po::value(&tune),
      "dev message<TAB>reply pairs: pick lambda and the TF-IDF weight by the ranking test's R@3")(
      "save", po::bool_switch(), "with --tune: write them to the model folder's reply.yaml")(
      "idf-from", po::value(&idf_from),
      "with --evaluate/--tune: pairs (the training pairs) whose texts weight TF-IDF")(
      "candidates", po::value<int>()->default_value(100),
      "with --evaluate/--tune: the ranking test ranks each true reply among this many")(
      "tfidf-weight", po::value<double>(),
      "with --evaluate: the ranking test's interpolation of the model with TF-IDF (default: the "
      "model folder's reply.yaml, else 0)")(
      "report", po::value(&report), "with --evaluate: the ranking test as JSON into this file")(
      "ranking-only", po::bool_switch(),
      "with --evaluate: the ranking test only, not the cluster recall and triggering");
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
  const std::vector<api::Response> responses = api::read_responses(responses_path);
  api::ReplyTuning tuning = api::read_reply_tuning(model_path);
  if (values.count("lambda")) tuning.lambda = values["lambda"].as<double>();
  if (values.count("tfidf-weight")) tuning.tfidf_weight = values["tfidf-weight"].as<double>();
  reply.lambda = tuning.lambda;
  api::RankingTestOptions ranking;
  ranking.candidates = values["candidates"].as<int>();
  ranking.max_tokens = max_tokens;
  if (ranking.candidates < 2) throw UsageError("s2s reply: --candidates must be at least 2");
  if (truth != "nearest" && truth != "intent")
    throw UsageError("s2s reply: --truth must be nearest or intent, got '" + truth + "'");

  if (!tune.empty() || !evaluate.empty()) {
    const std::string pairs = !tune.empty() ? tune : evaluate;
    const api::ReplySuggester suggester(model_path, responses, reply,
                                        {device_name, threads, /*replicas=*/threads});
    std::vector<std::string> messages, replies;
    api::read_reply_pairs(pairs, messages, replies);
    ranking.idf_documents = idf_documents(idf_from);
    Progress progress("ranking test", static_cast<int64_t>(messages.size()), "pairs");
    ranking.on_progress = [&](size_t done, size_t) { progress.update(static_cast<int64_t>(done)); };
    const api::RankingScores scores =
        api::score_ranking_test(suggester, messages, replies, ranking);
    progress.finish();
    if (!tune.empty()) {
      // lambda by the model's R@3 (then MRR), then the weight of TF-IDF with that lambda.
      const auto better = [](const api::ScorerFigures& a, const api::ScorerFigures& b) {
        return a.r3.value > b.r3.value || (a.r3.value == b.r3.value && a.mrr.value > b.mrr.value);
      };
      std::printf("lambda  R@1    R@3    MRR    (model on %s)\n", tune.c_str());
      api::RankingTest best = api::judge_ranking_test(scores, 0, 0);
      // Beyond 1 the score penalises frequent replies more than pointwise mutual information
      // does; a model whose conditional is weak can gain from it, so the grid goes to 2.
      for (int step = 0; step <= 40; ++step) {
        const api::RankingTest t = api::judge_ranking_test(scores, step * 0.05, 0);
        const api::ScorerFigures& m = t.scorers[0];
        std::printf("%.2f    %.3f  %.3f  %.3f\n", t.lambda, m.r1.value, m.r3.value, m.mrr.value);
        if (better(m, best.scorers[0])) best = t;
      }
      std::printf("\nweight  R@1    R@3    MRR    (model + TF-IDF, lambda %.2f)\n", best.lambda);
      api::RankingTest best_mix = api::judge_ranking_test(scores, best.lambda, 0);
      for (int step = 0; step <= 20; ++step) {
        const api::RankingTest t = api::judge_ranking_test(scores, best.lambda, step * 0.05);
        const api::ScorerFigures& m = t.scorers[1];
        std::printf("%.2f    %.3f  %.3f  %.3f\n", t.tfidf_weight, m.r1.value, m.r3.value,
                    m.mrr.value);
        if (better(m, best_mix.scorers[1])) best_mix = t;
      }
      tuning = {best.lambda, best_mix.tfidf_weight};
      std::printf("\nchosen on %s: lambda %.2f, TF-IDF weight %.2f\n\n", tune.c_str(),
                  tuning.lambda, tuning.tfidf_weight);
      print_ranking_test(api::judge_ranking_test(scores, tuning.lambda, tuning.tfidf_weight));
      if (values["save"].as<bool>()) {
        api::save_reply_tuning(model_path, tuning,
                               "Chosen by `s2s reply --tune " + tune + "` (the 1-of-" +
                                   std::to_string(ranking.candidates) + " ranking test's R@3).");
        std::printf("saved to %s/reply.yaml\n", model_path.c_str());
      }
      return 0;
    }
    const api::RankingTest test =
        api::judge_ranking_test(scores, tuning.lambda, tuning.tfidf_weight);
    print_ranking_test(test);
    if (!report.empty()) {
      OutputFile out(report);
      out.write(ranking_test_json(test).dump(2) + "\n");
      out.commit();
    }
    if (values["ranking-only"].as<bool>()) return 0;
    std::printf("\n");
  }

  if (!evaluate.empty() || !calibrate.empty()) {
    const api::ReplySuggester suggester(model_path, responses, reply, {device_name, threads});
    std::vector<std::string> messages, replies;
    api::read_reply_pairs(!evaluate.empty() ? evaluate : calibrate, messages, replies);
    api::ReplyEvaluationOptions evaluation;
    evaluation.candidate = candidate;
    evaluation.truth = truth;
    evaluation.max_tokens = max_tokens;
    evaluation.coverage = coverage;
    evaluation.forced_check = values["forced-check"].as<int64_t>();
    Progress progress("reply evaluate", static_cast<int64_t>(messages.size()), "pairs");
    evaluation.on_progress = [&](size_t done, size_t) {
      progress.update(static_cast<int64_t>(done));
    };
    const api::ReplyEvaluation e = api::evaluate_replies(suggester, messages, replies, evaluation);
    progress.finish();
    std::printf("pairs %zu, with a %s %zu; k = %d, %zu clusters\n", e.pairs,
                truth == "intent" ? "reply that falls into an intent" : "matching response cluster",
                e.model.count, e.k, e.clusters);
    const api::Interval model_interval = api::wilson_interval(e.model_hits, e.model.count);
    const api::Interval frequency_interval = api::wilson_interval(e.frequency_hits, e.model.count);
    std::printf(
        "recall@%d [95%% interval]: model %.3f [%.3f, %.3f], frequency %.3f [%.3f, %.3f]; "
        "McNemar p %.2g (model only : frequency only %zu : %zu)\n",
        e.k, e.model.recall, model_interval.low, model_interval.high, e.frequency.recall,
        frequency_interval.low, frequency_interval.high,
        api::mcnemar_exact_p(e.model_only, e.frequency_only), e.model_only, e.frequency_only);
    std::printf("model:     recall@%d %.4f  MRR %.4f   (all pairs: %.4f, %.4f)\n", e.k,
                e.model.recall, e.model.mrr, e.model_all.recall, e.model_all.mrr);
    std::printf(
        "model, clusters by probability: recall@%d %.4f  MRR %.4f   (P(cluster | message) = "
        "sum of P(response | message) over its responses among the %d ranked)\n",
        e.k, e.model_by_mass.recall, e.model_by_mass.mrr, e.ranked);
    std::printf(
        "frequency: recall@%d %.4f  MRR %.4f   (all pairs: %.4f, %.4f; always the %d "
        "most frequent clusters)\n",
        e.k, e.frequency.recall, e.frequency.mrr, e.frequency_all.recall, e.frequency_all.mrr, e.k);
    std::printf("\ntriggering: coverage  precision@%d  threshold\n", e.k);
    for (const api::CalibrationRow& row : e.calibration)
      std::printf("            %8.2f  %12.4f  %9.4f\n", row.coverage, row.precision, row.threshold);
    if (!calibrate.empty())
      std::printf("\nthreshold for coverage %.2f: %.4f\n", coverage, e.threshold_for_coverage);
    if (e.forced_checked > 0) {
      const double n = static_cast<double>(e.forced_checked);
      std::printf(
          "\nforced-decoding check on %zu messages, %zu responses: top-%d identical for "
          "%zu (%.1f%%)\n",
          e.forced_checked, responses.size(), e.k, e.forced_agree,
          100.0 * static_cast<double>(e.forced_agree) / n);
      std::printf(
          "trie search %.1f messages/s (%.0f prefixes expanded per message), forced decoding "
          "%.2f messages/s: %.1fx faster (batch %lld, %d threads)\n",
          n / e.search_seconds, static_cast<double>(e.forced_expansions) / n, n / e.forced_seconds,
          e.forced_seconds / e.search_seconds, static_cast<long long>(reply.batch_size), threads);
    }
    return 0;
  }

  // The batch job: worker threads, one model copy each, BLAS on one thread per worker.
  const api::ReplySuggester suggester(model_path, responses, reply,
                                      {device_name, threads, /*replicas=*/threads});
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
        records.push_back(parse_record(line, line_number, jsonl, max_text_bytes));
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
    // The readable records, scored together: the suggester splits them over its replicas.
    std::vector<std::string> texts;
    std::vector<size_t> ok;
    for (size_t i = 0; i < records.size(); ++i)
      if (records[i].error.empty()) ok.push_back(i), texts.push_back(records[i].text);
    const std::vector<api::ReplyResult> results = suggester.suggest(texts);
    std::vector<const api::ReplyResult*> by_record(records.size(), nullptr);
    for (size_t j = 0; j < ok.size(); ++j)
      by_record[ok[j]] = &results[j];
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
        const api::ReplyResult& r = *by_record[i];
        ordered_json suggestions = ordered_json::array();
        for (const api::Suggestion& s : r.suggestions)
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
