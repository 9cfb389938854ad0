// `s2s translate -m MODEL [-m MODEL...] [-i FILE|-] [-o FILE|-]`: one output line per input line
// (or n-best lines per input line), in input order whatever the batching. Input is read and
// translated in chunks, so files of any size stream with bounded memory; the output file appears
// only complete (OutputFile), never half written. A line that cannot be translated (invalid
// UTF-8, too long with --reject-long) is named on stderr and gets an empty output line, the
// others are translated, and the exit code says whether any failed.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>

#include "seq2seq/api/translator.h"
#include "seq2seq/cli/command.h"
#include "seq2seq/error.h"
#include "seq2seq/line_reader.h"
#include "seq2seq/output_file.h"
#include "seq2seq/profiler.h"
#include "seq2seq/progress.h"
#include "seq2seq/train/communicator.h"

namespace po = boost::program_options;

namespace s2s::cli {

namespace {

std::string number(double value, const char* format = "%.4f") {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

std::string token_scores(const api::Translation& h) {
  std::string out;
  for (float lp : h.token_log_probs) {
    if (!out.empty()) out += ' ';
    out += number(lp);
  }
  return out;
}

// Per output piece (EOS excluded): the source piece it attends to most ("src-tgt", Moses/Pharaoh
// style) or every weight ("w0,w1,..." per piece).
std::string alignment(const api::Translation& h, bool soft) {
  std::string out;
  if (!soft) {
    const std::vector<int32_t> best = h.hard_alignment();
    for (size_t u = 0; u < best.size(); ++u) {
      if (u) out += ' ';
      out += std::to_string(best[u]);
      out += '-';
      out += std::to_string(u);
    }
    return out;
  }
  for (size_t u = 0; u < h.pieces.size() && u < h.attention.size(); ++u) {
    const std::vector<float>& a = h.attention[u];
    if (!out.empty()) out += ' ';
    for (size_t i = 0; i < a.size(); ++i) {
      if (i) out += ',';
      out += number(a[i], "%.3f");
    }
  }
  return out;
}

}  // namespace

int run_translate(int argc, char** argv) {
  po::options_description options("Options");
  std::vector<std::string> model_paths;
  std::string input = "-", output = "-", device_name = "cpu", alignment_kind, shortlist = "on";
  int threads = kDefaultThreads, n_best = 0, stages = 1;
  int64_t chunk = 10000;
  options.add_options()("model,m", po::value(&model_paths)->required()->composing(),
                        "model folder; several: an ensemble averaging their log-probabilities")(
      "input,i", po::value(&input)->default_value("-"),
      "input text, one sentence a line (- = stdin)")(
      "output,o", po::value(&output)->default_value("-"), "output file (- = stdout)")(
      "beam,b", po::value<int>(),
      "beam size; 1 = greedy (default: the model's translate.beam_size)")(
      "normalize", po::value<double>(),
      "length normalisation alpha: score = log P / ((5 + |y|) / 6)^alpha (default: the model's)")(
      "coverage", po::value<double>(), "coverage penalty beta (GNMT; default: the model's)")(
      "n-best", po::value(&n_best)->default_value(0),
      "write the N best per line as `ID ||| translation ||| score` (N <= beam)")(
      "pieces", po::bool_switch(),
      "write the output pieces, space-separated, instead of text (what alignments index)")(
      "scores", po::bool_switch(), "add the score and each piece's log-probability")(
      "alignment", po::value(&alignment_kind),
      "hard | soft: add per output piece the source piece it attends to most, or all weights")(
      "batch-size", po::value<int64_t>(), "sentences decoded together (default: the model's)")(
      "batch-tokens", po::value<int64_t>(), "at most this many padded source pieces per batch")(
      "max-length-factor", po::value<double>(),
      "output limit: factor * source pieces + 10 (default: the model's)")(
      "min-length", po::value<int64_t>(), "no EOS before this many output pieces")(
      "max-source-length", po::value<int64_t>(),
      "longer inputs (pieces) are truncated with a warning (default: the model's)")(
      "reject-long", po::bool_switch(), "fail inputs over --max-source-length instead")(
      "shortlist", po::value(&shortlist)->default_value("on"),
      "on | off: limit each batch's output pieces by the model folder's lexical shortlist, if it "
      "has one (s2s shortlist); off: the whole vocabulary")(
      "profile", po::bool_switch(),
      "at the end, print sentences/s, output pieces/s and where the time went, by op")(
      "threads", po::value(&threads)->default_value(kDefaultThreads), "CPU threads")(
      "device", po::value(&device_name)->default_value("cpu"), "cpu | cuda | cuda:N")(
      "chunk", po::value(&chunk)->default_value(10000), "lines read and translated at a time")(
      "stages", po::value(&stages)->default_value(1),
      "2: decode across pipeline stages under `mpirun -np 2`: rank 0 encodes, rank 1 searches and "
      "writes (-i FILE; one model)");
  po::variables_map values;
  if (!parse_options("translate", "-m MODEL [-m MODEL...] [-i FILE] [-o FILE] [OPTIONS]", options,
                     argc, argv, values))
    return 0;
  if (chunk < 1) throw UsageError("s2s translate: --chunk must be at least 1");
  if (!alignment_kind.empty() && alignment_kind != "hard" && alignment_kind != "soft")
    throw UsageError("s2s translate: --alignment must be hard or soft, got '" + alignment_kind +
                     "'");
  if (shortlist != "on" && shortlist != "off")
    throw UsageError("s2s translate: --shortlist must be on or off, got '" + shortlist + "'");
  if (stages != 1 && stages != 2) throw UsageError("s2s translate: --stages must be 1 or 2");
  std::unique_ptr<Communicator> comm;
  if (stages == 2) {
    if (launcher_world_size() != 2)
      throw UsageError("s2s translate: --stages 2 runs under `mpirun -np 2` (one rank a stage)");
    if (input == "-")
      throw UsageError("s2s translate: --stages 2 reads -i FILE on both ranks, not stdin");
    if (model_paths.size() != 1)
      throw UsageError("s2s translate: --stages 2 takes one model, not an ensemble");
    comm = make_mpi_communicator(300);
  }
  // Rank 0 of a pipeline encodes and hands each batch's memory to rank 1, which searches and
  // writes; every other run does both.
  const bool encoder_stage = comm && comm->rank() == 0;
  const api::Translator translator(model_paths, {device_name, threads});
  api::TranslateOptions settings = translator.default_options();
  if (values.count("beam")) settings.beam_size = values["beam"].as<int>();
  if (values.count("normalize")) settings.length_penalty = values["normalize"].as<double>();
  if (values.count("coverage")) settings.coverage_penalty = values["coverage"].as<double>();
  if (values.count("batch-size")) settings.batch_size = values["batch-size"].as<int64_t>();
  if (values.count("batch-tokens")) settings.batch_tokens = values["batch-tokens"].as<int64_t>();
  if (values.count("max-length-factor"))
    settings.max_length_factor = values["max-length-factor"].as<double>();
  if (values.count("min-length")) settings.min_length = values["min-length"].as<int64_t>();
  if (values.count("max-source-length"))
    settings.max_source_length = values["max-source-length"].as<int64_t>();
  settings.reject_long = values["reject-long"].as<bool>();
  settings.shortlist = shortlist == "on";
  const bool with_scores = values["scores"].as<bool>();
  settings.output_pieces = values["pieces"].as<bool>();
  if (n_best < 0 || n_best > settings.beam_size)
    throw UsageError("s2s translate: --n-best must be between 1 and the beam size (" +
                     std::to_string(settings.beam_size) + ")");
  if (settings.beam_size < 1) throw UsageError("s2s translate: --beam must be at least 1");
  settings.n_best = std::max(1, n_best);
  settings.alignment = alignment_kind.empty()     ? api::Alignment::none
                       : alignment_kind == "soft" ? api::Alignment::soft
                                                  : api::Alignment::hard;
  if (comm && encoder_stage) {
    settings.send_memory = [&](const Memory& memory) {
      comm->start_send(memory.vectors, 1, 0);  // copies already: translate made them
      if (memory.summary.defined()) comm->start_send(memory.summary, 1, 1);
    };
  } else if (comm) {
    settings.receive_memory = [&](Memory& memory) {
      comm->recv(memory.vectors, 0, 0, "memory (translate stage 1 of 2)");
      if (memory.summary.defined())
        comm->recv(memory.summary, 0, 1, "memory (translate stage 1 of 2)");
    };
  }

  const bool profiling = values["profile"].as<bool>();
  profile::enable(profiling);
  const auto started = std::chrono::steady_clock::now();
  int64_t output_pieces = 0;
  LineReader reader(input);
  std::optional<OutputFile> out;  // the encoder's stage writes nothing
  if (!encoder_stage) out.emplace(output);
  std::FILE* quiet = encoder_stage ? std::fopen("/dev/null", "w") : nullptr;
  Progress progress("translate", 0, "lines", quiet ? quiet : stderr);
  std::vector<std::string> lines, read_errors;
  std::string line;
  int64_t done = 0, failed = 0;
  std::string first_failure;
  auto fail = [&](const std::string& message) {
    if (failed++ == 0) first_failure = message;
    progress.log("s2s translate: " + message);
  };
  bool more = true;
  while (more) {
    lines.clear();
    read_errors.clear();
    while (static_cast<int64_t>(lines.size()) < chunk) {
      try {
        if (!(more = reader.next(line))) break;
        lines.push_back(line);
        read_errors.emplace_back();
      } catch (const InputError& e) {
        lines.emplace_back();  // its slot stays, with an empty translation
        read_errors.emplace_back(e.what());
      }
    }
    if (lines.empty()) break;
    const std::vector<api::TranslationResult> results = translator.translate(lines, settings);
    if (encoder_stage) {
      comm->wait_sends("memory (translate stage 1 of 2)");
      done += static_cast<int64_t>(lines.size());
      continue;
    }
    for (size_t i = 0; i < results.size(); ++i) {
      const api::TranslationResult& t = results[i];
      const int64_t id = done + static_cast<int64_t>(i);
      const std::string where = reader.path() == "-" ? "line " + std::to_string(id + 1)
                                                     : reader.path() + ":" + std::to_string(id + 1);
      if (!read_errors[i].empty()) fail(read_errors[i]);
      if (!t.error.empty()) fail(where + ": " + t.error);
      if (!t.warning.empty()) progress.log("s2s translate: warning: " + where + ": " + t.warning);
      const bool ok = read_errors[i].empty() && t.error.empty();
      if (!t.hypotheses.empty())
        output_pieces += static_cast<int64_t>(t.hypotheses[0].pieces.size());
      if (n_best > 0) {
        if (!ok) continue;
        if (t.hypotheses.empty()) {  // an empty line: one empty translation
          out->write(std::to_string(id) + " |||  ||| 0.0000\n");
          continue;
        }
        for (size_t k = 0; k < t.hypotheses.size(); ++k) {
          const api::Translation& h = t.hypotheses[k];
          std::string record = std::to_string(id) + " ||| " + h.text + " ||| " + number(h.score);
          if (with_scores) record += " ||| " + token_scores(h);
          if (!alignment_kind.empty()) record += " ||| " + alignment(h, alignment_kind == "soft");
          out->write(record + "\n");
        }
        continue;
      }
      std::string record = t.hypotheses.empty() ? std::string() : t.hypotheses[0].text;
      if (with_scores)
        record += " ||| " + (t.hypotheses.empty() ? number(0) + " ||| "
                                                  : number(t.hypotheses[0].score) + " ||| " +
                                                        token_scores(t.hypotheses[0]));
      if (!alignment_kind.empty())
        record +=
            " ||| " + (t.hypotheses.empty() ? std::string()
                                            : alignment(t.hypotheses[0], alignment_kind == "soft"));
      out->write(record + "\n");
    }
    done += static_cast<int64_t>(lines.size());
    progress.update(done);
  }
  if (out) out->commit();
  progress.finish();
  if (quiet) std::fclose(quiet);
  if (encoder_stage) return 0;  // the decoder's rank reports
  if (profiling) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::fprintf(stderr,
                 "translate: %lld lines in %.2f s: %.1f sentences/s, %.0f output pieces/s "
                 "(beam %d, batch %lld, %d threads)\n%s",
                 static_cast<long long>(done), seconds, static_cast<double>(done) / seconds,
                 static_cast<double>(output_pieces) / seconds, settings.beam_size,
                 static_cast<long long>(settings.batch_size), threads,
                 profile::report(seconds).c_str());
  }
  if (failed > 0) {
    std::cerr << "s2s translate: error: " << failed << " of " << done
              << " lines failed and got empty translations (first: " << first_failure << ")\n";
    return 1;
  }
  return 0;
}

}  // namespace s2s::cli
