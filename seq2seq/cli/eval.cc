// `s2s eval captions HYP REFS`: coco-caption's BLEU-1..4 and CIDEr-D of a caption file (TSV
// path<TAB>caption, or the JSONL `s2s caption` writes) against references (COCO captions JSON or
// TSV path<TAB>caption). `eval` takes a mode so that later evaluations join it as modes.
#include <cstdio>
#include <iostream>

#include "seq2seq/caption_metrics.h"
#include "seq2seq/cli/command.h"
#include "seq2seq/data/caption_corpus.h"
#include "seq2seq/error.h"

namespace po = boost::program_options;

namespace s2s::cli {
namespace {

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

int run_eval_captions(int argc, char** argv) {
  po::options_description options("Options");
  std::vector<std::string> files;
  std::string format = "text", image_dir;
  options.add_options()("files", po::value(&files)->composing(),
                        "HYP REFS: the captions to score and the references")(
      "image-dir", po::value(&image_dir),
      "resolve relative image paths of REFS against this folder (default: REFS's folder)")(
      "allow-missing", po::bool_switch(),
      "score only the reference images HYP has a caption for (default: a missing one is an "
      "error)")("format,f", po::value(&format)->default_value("text"),
                "text: one line per metric; json: one object");
  po::positional_options_description positional;
  positional.add("files", -1);
  po::variables_map values;
  if (!parse_options("eval captions", "HYP REFS", options, argc, argv, values, &positional))
    return 0;
  if (files.size() != 2)
    throw UsageError("s2s eval captions: needs HYP (the captions) and REFS (the references)");
  if (format != "text" && format != "json")
    throw UsageError("s2s eval captions: --format must be text or json, got '" + format + "'");

  data::CaptionReadOptions read_options;
  read_options.image_dir = image_dir;
  const auto references = data::read_captions(files[1], read_options);
  if (references.empty()) throw InputError(files[1] + ": no captioned image");
  const auto results = data::read_caption_results(files[0]);
  const data::MatchedCaptions matched =
      data::match_captions(results, files[0], references, values["allow-missing"].as<bool>());
  if (matched.hypotheses.empty()) throw InputError(files[0] + ": no caption to score");
  if (matched.missing > 0)
    std::cerr << "s2s eval captions: warning: scoring " << matched.hypotheses.size() << " of "
              << references.size() << " reference images (" << matched.missing
              << " have no caption in " << files[0] << ")\n";
  const CaptionScores s = score_captions(matched.hypotheses, matched.references);

  if (format == "json") {
    std::cout << "{\"images\": " << s.images << ", \"references\": " << s.references
              << ", \"failed\": " << matched.failed << ", \"missing\": " << matched.missing;
    for (int k = 0; k < 4; ++k)
      std::cout << ", \"Bleu_" << k + 1 << "\": " << fixed(s.bleu.bleu[k], 6);
    std::cout << ", \"CIDEr-D\": " << fixed(s.cider.score, 6)
              << ", \"hyp_len\": " << static_cast<long>(s.bleu.hyp_len)
              << ", \"ref_len\": " << static_cast<long>(s.bleu.ref_len) << "}\n";
  } else {
    std::cout << "images: " << s.images << " (references: " << s.references
              << ", failed images: " << matched.failed << ")\n";
    for (int k = 0; k < 4; ++k)
      std::cout << "Bleu_" << k + 1 << ": " << fixed(s.bleu.bleu[k], 4) << "\n";
    std::cout << "BLEU-4 = " << fixed(100 * s.bleu.bleu[3], 2)
              << " (hyp_len = " << static_cast<long>(s.bleu.hyp_len)
              << " ref_len = " << static_cast<long>(s.bleu.ref_len) << ")\n";
    std::cout << "CIDEr-D: " << fixed(s.cider.score, 4) << "\n";
  }
  return 0;
}

}  // namespace

int run_eval(int argc, char** argv) {
  const std::string usage =
      "usage: s2s eval MODE ...\n\nModes:\n  captions    BLEU-1..4 and CIDEr-D of image captions "
      "(coco-caption's definitions)\n\nRun `s2s eval MODE --help` for a mode's options.\n";
  if (argc < 2) throw UsageError("s2s eval: needs a mode: captions (see s2s eval --help)");
  const std::string mode = argv[1];
  if (mode == "--help" || mode == "-h") {
    std::cout << usage;
    return 0;
  }
  if (mode == "captions") return run_eval_captions(argc - 1, argv + 1);
  throw UsageError("s2s eval: unknown mode '" + mode + "' (modes: captions)");
}

}  // namespace s2s::cli
