// The Python package's extension module `s2s._s2s`: pybind11 bindings over seq2seq/api/ and
// nothing else (a front end: it converts, calls the API and converts back). Heavy calls release
// the GIL, so Python threads translate at once; callbacks into Python take it back. Caller
// mistakes (s2s::InvalidArgument) raise ValueError, environment failures (s2s::EnvironmentError)
// OSError, both with the library's message.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <variant>

#include "seq2seq/api/s2s.h"

namespace py = pybind11;
using namespace s2s;
using namespace s2s::api;

namespace {

ModelOptions model_options(const std::string& device, int threads, int replicas) {
  ModelOptions o;
  o.device = device;
  o.threads = threads;
  o.replicas = replicas;
  return o;
}

// A Python str or bytes as UTF-8 bytes: bytes pass unchecked, so that invalid UTF-8 reaches the
// library and is reported there, per line.
std::string text_of(const py::handle& item, const char* what, size_t index) {
  if (py::isinstance<py::bytes>(item)) return item.cast<std::string>();
  if (py::isinstance<py::str>(item)) return item.cast<std::string>();
  throw py::type_error(std::string(what) + " " + std::to_string(index) +
                       ": expected str or bytes, got " +
                       std::string(py::str(item.get_type().attr("__name__"))));
}

std::vector<std::string> texts_of(const py::iterable& items, const char* what) {
  if (py::isinstance<py::str>(items) || py::isinstance<py::bytes>(items))
    throw py::type_error(std::string("expected a list of ") + what +
                         "s, got one string (wrap it in a list)");
  std::vector<std::string> out;
  for (const py::handle& item : items)
    out.push_back(text_of(item, what, out.size()));
  return out;
}

void check_errors(const char* mode) {
  const std::string m = mode;
  if (m != "raise" && m != "ignore")
    throw InvalidArgument("errors must be 'raise' or 'ignore', got '" + m + "'");
}

py::array_t<float> matrix(const std::vector<std::vector<float>>& rows) {
  const size_t width = rows.empty() ? 0 : rows[0].size();
  py::array_t<float> out({rows.size(), width});
  auto view = out.mutable_unchecked<2>();
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t j = 0; j < width && j < rows[i].size(); ++j)
      view(i, j) = rows[i][j];
  return out;
}

// The view of a numpy image; data points into array (kept alive by the caller's list).
ImageView image_view(const py::array& array, size_t index) {
  const auto where = "image " + std::to_string(index);
  if (array.ndim() != 2 && array.ndim() != 3)
    throw InvalidArgument(where +
                          ": expected an array of shape (height, width) or (height, width, " +
                          "channels), got " + std::to_string(array.ndim()) + " dimensions");
  ImageView v;
  v.data = array.data();
  v.height = array.shape(0);
  v.width = array.shape(1);
  v.channels = array.ndim() == 3 ? array.shape(2) : 1;
  if (v.channels != 1 && v.channels != 3 && v.channels != 4)
    throw InvalidArgument(where + ": " + std::to_string(v.channels) +
                          " channels; expected 1 (gray), 3 (RGB) or 4 (RGBA)");
  v.is_float = array.dtype().is(py::dtype::of<float>());
  return v;
}

// A numpy image as uint8 or float32, C-contiguous: as given where it already is (no copy).
py::array image_array(const py::handle& item) {
  py::array array = py::array::ensure(item);
  if (!array) throw InvalidArgument("an image must be a path or a numpy array");
  if (array.dtype().is(py::dtype::of<uint8_t>()))
    return py::array_t<uint8_t, py::array::c_style | py::array::forcecast>::ensure(array);
  if (array.dtype().kind() == 'f')
    return py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(array);
  throw InvalidArgument(
      "an image array must be uint8 or float (intensities in [0, 1]), got dtype " +
      std::string(py::str(array.dtype())));
}

template <typename T>
T option(const py::kwargs& kwargs, const char* name, T fallback) {
  return kwargs.contains(name) && !kwargs[name].is_none() ? kwargs[name].cast<T>() : fallback;
}

void reject_unknown(const py::kwargs& kwargs, std::initializer_list<const char*> known,
                    const char* function) {
  for (const auto& [key, value] : kwargs) {
    const std::string name = py::str(key);
    bool ok = false;
    for (const char* k : known)
      ok = ok || name == k;
    if (!ok)
      throw py::type_error(std::string(function) + "() got an unexpected keyword '" + name + "'");
  }
}

TranslateOptions translate_options(const Translator& t, const py::kwargs& kw) {
  reject_unknown(kw,
                 {"beam", "n_best", "normalize", "coverage", "max_length_factor", "min_length",
                  "batch_size", "batch_tokens", "max_source_length", "reject_long", "alignment",
                  "pieces", "target_pieces", "shortlist", "errors"},
                 "translate");
  TranslateOptions o = t.default_options();
  o.beam_size = option(kw, "beam", o.beam_size);
  o.n_best = option(kw, "n_best", o.n_best);
  o.length_penalty = option(kw, "normalize", o.length_penalty);
  o.coverage_penalty = option(kw, "coverage", o.coverage_penalty);
  o.max_length_factor = option(kw, "max_length_factor", o.max_length_factor);
  o.min_length = option<int64_t>(kw, "min_length", o.min_length);
  o.batch_size = option<int64_t>(kw, "batch_size", o.batch_size);
  o.batch_tokens = option<int64_t>(kw, "batch_tokens", o.batch_tokens);
  o.max_source_length = option<int64_t>(kw, "max_source_length", o.max_source_length);
  o.reject_long = option(kw, "reject_long", o.reject_long);
  o.output_pieces = option(kw, "pieces", o.output_pieces);
  o.target_pieces = option(kw, "target_pieces", o.target_pieces);
  o.shortlist = option(kw, "shortlist", o.shortlist);
  const std::string alignment = option<std::string>(kw, "alignment", "none");
  if (alignment == "hard")
    o.alignment = Alignment::hard;
  else if (alignment == "soft")
    o.alignment = Alignment::soft;
  else if (alignment != "none")
    throw InvalidArgument("alignment must be 'none', 'hard' or 'soft', got '" + alignment + "'");
  o.validate();
  return o;
}

// Per input its list of results (hypotheses, captions), moved out of the API's results, after
// failing with the first failed input's message (errors="raise"); a failed input gets [].
template <typename Result, typename Item>
std::vector<std::vector<Item>> take_results(std::vector<Result>& results,
                                            std::vector<Item> Result::*items,
                                            const std::string& mode, const char* what);

// Fails with the first failed line's message (errors="raise"), or leaves failed lines empty.
template <typename Result>
void raise_first_error(const std::vector<Result>& results, const std::string& mode,
                       const char* what) {
  if (mode != "raise") return;
  for (size_t i = 0; i < results.size(); ++i)
    if (!results[i].ok())
      throw InputError(std::string(what) + " " + std::to_string(i) + ": " + results[i].error +
                       " (errors='ignore' returns the others)");
}

template <typename Result, typename Item>
std::vector<std::vector<Item>> take_results(std::vector<Result>& results,
                                            std::vector<Item> Result::*items,
                                            const std::string& mode, const char* what) {
  raise_first_error(results, mode, what);
  std::vector<std::vector<Item>> out;
  out.reserve(results.size());
  for (Result& r : results)
    out.push_back(std::move(r.*items));
  return out;
}

py::dict record_dict(const TrainLogRecord& r) {
  py::dict d;
  d["kind"] = log_record_kind_name(r.kind);
  d["step"] = r.step;
  d["epoch"] = r.epoch;
  d["elapsed"] = r.elapsed_seconds;
  switch (r.kind) {
    case TrainLogRecord::Kind::progress:
      d["loss"] = r.loss;
      d["perplexity"] = r.perplexity;
      d["tokens_per_second"] = r.tokens_per_second;
      d["learning_rate"] = r.learning_rate;
      break;
    case TrainLogRecord::Kind::validation:
      d["nll"] = r.nll;
      d["perplexity"] = r.perplexity;
      if (!r.score_name.empty()) d[py::str(r.score_name)] = r.score;
      d["improved"] = r.improved;
      break;
    case TrainLogRecord::Kind::checkpoint:
      d["checkpoint"] = r.checkpoint;
      break;
    case TrainLogRecord::Kind::message:
      break;
  }
  d["text"] = r.text;
  return d;
}

}  // namespace

PYBIND11_MODULE(_s2s, m) {
  m.doc() =
      "s2s: LSTM sequence-to-sequence models in C++ (translate, caption, suggest replies, train)";
  m.attr("__version__") = version();

  // Errors: caller mistakes are ValueErrors, environment failures OSErrors (the library's
  // messages name the file, line or key at fault).
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InvalidArgument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const EnvironmentError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });

  // ---- translation ---------------------------------------------------------------------------
  py::class_<Translation>(m, "Translation", "One hypothesis of a translated line.")
      .def_readonly("text", &Translation::text)
      .def_readonly("pieces", &Translation::pieces)
      .def_readonly("score", &Translation::score, "what the search ranked by (with penalties)")
      .def_readonly("log_prob", &Translation::log_prob, "log P(pieces, EOS | source)")
      .def_readonly("token_log_probs", &Translation::token_log_probs, "per piece, then EOS")
      .def_property_readonly(
          "attention", [](const Translation& t) { return matrix(t.attention); },
          "[pieces + 1, source pieces] attention weights (with alignment='hard' or 'soft')")
      .def_property_readonly("alignment", &Translation::hard_alignment,
                             "per output piece, the source piece it attends to most")
      .def("__repr__", [](const Translation& t) {
        return "Translation(text=" + std::string(py::repr(py::str(t.text))) +
               ", score=" + std::to_string(t.score) + ")";
      });

  py::class_<ScoreResult>(m, "Score", "log P(target | source) of a pair.")
      .def_readonly("log_prob", &ScoreResult::log_prob)
      .def_readonly("token_log_probs", &ScoreResult::token_log_probs, "per piece, then EOS")
      .def_readonly("warning", &ScoreResult::warning)
      .def("__float__", [](const ScoreResult& s) { return s.log_prob; })
      .def("__repr__", [](const ScoreResult& s) {
        return "Score(log_prob=" + std::to_string(s.log_prob) + ")";
      });

  py::class_<Translator>(m, "Translator",
                         "A trained translation model (or an ensemble of folders sharing one "
                         "vocabulary), loaded once.")
      .def(py::init([](const std::variant<std::string, std::vector<std::string>>& model,
                       const std::string& device, int threads, int replicas) {
             const ModelOptions o = model_options(device, threads, replicas);
             if (const auto* one = std::get_if<std::string>(&model))
               return std::make_unique<Translator>(*one, o);
             return std::make_unique<Translator>(std::get<std::vector<std::string>>(model), o);
           }),
           py::arg("model"), py::arg("device") = "cpu", py::arg("threads") = kDefaultThreads,
           py::arg("replicas") = 1, py::call_guard<py::gil_scoped_release>())
      .def(
          "translate",
          [](const Translator& t, const py::iterable& lines, const py::kwargs& kwargs) {
            const TranslateOptions options = translate_options(t, kwargs);
            const std::string errors = option<std::string>(kwargs, "errors", "raise");
            check_errors(errors.c_str());
            const std::vector<std::string> texts = texts_of(lines, "line");
            std::vector<TranslationResult> results;
            {
              py::gil_scoped_release release;
              results = t.translate(texts, options);
            }
            return take_results(results, &TranslationResult::hypotheses, errors, "line");
          },
          py::arg("lines"),
          "Translates lines (str, or bytes of UTF-8): per line its n-best Translations, best "
          "first. Options (default: the model's recipe): beam, n_best, normalize, coverage, "
          "max_length_factor, min_length, batch_size, batch_tokens, max_source_length, "
          "reject_long, alignment ('none'|'hard'|'soft'), pieces, shortlist (False: the whole "
          "vocabulary even if the folder has a shortlist), errors ('raise'|'ignore': "
          "a line that cannot be translated raises ValueError, or gets an empty list).")
      .def(
          "score",
          [](const Translator& t, const py::iterable& sources, const py::iterable& targets,
             const py::kwargs& kwargs) {
            const TranslateOptions options = translate_options(t, kwargs);
            const std::string errors = option<std::string>(kwargs, "errors", "raise");
            check_errors(errors.c_str());
            const std::vector<std::string> s = texts_of(sources, "source");
            const std::vector<std::string> g = texts_of(targets, "target");
            std::vector<ScoreResult> results;
            {
              py::gil_scoped_release release;
              results = t.score(s, g, options);
            }
            raise_first_error(results, errors, "pair");
            py::list out;
            for (const ScoreResult& r : results)
              out.append(r.ok() ? py::cast(r) : py::none());
            return out;
          },
          py::arg("sources"), py::arg("targets"),
          "Forced decoding: a Score (log P(target | source), per piece) per pair.")
      .def_property_readonly("replicas", &Translator::replicas)
      .def_property_readonly("default_beam",
                             [](const Translator& t) { return t.default_options().beam_size; });

  // ---- captions ------------------------------------------------------------------------------
  py::class_<Caption>(m, "Caption", "One caption of an image.")
      .def_readonly("text", &Caption::text)
      .def_readonly("words", &Caption::words)
      .def_readonly("score", &Caption::score)
      .def_readonly("log_prob", &Caption::log_prob)
      .def_readonly("token_log_probs", &Caption::token_log_probs)
      .def_property_readonly(
          "attention", [](const Caption& c) { return matrix(c.attention); },
          "[words + 1, grid cells] attention weights (with attention=True)")
      .def("__repr__", [](const Caption& c) {
        return "Caption(text=" + std::string(py::repr(py::str(c.text))) +
               ", score=" + std::to_string(c.score) + ")";
      });

  py::class_<Captioner>(m, "Captioner", "A trained caption model, loaded once.")
      .def(py::init([](const std::string& model, const std::string& device, int threads,
                       int replicas) {
             return std::make_unique<Captioner>(model, model_options(device, threads, replicas));
           }),
           py::arg("model"), py::arg("device") = "cpu", py::arg("threads") = kDefaultThreads,
           py::arg("replicas") = 1, py::call_guard<py::gil_scoped_release>())
      .def(
          "caption",
          [](const Captioner& c, const py::iterable& images, const py::kwargs& kw) {
            reject_unknown(
                kw,
                {"beam", "n_best", "normalize", "batch_size", "max_length", "attention", "errors"},
                "caption");
            CaptionOptions o = c.default_options();
            o.beam_size = option(kw, "beam", o.beam_size);
            o.n_best = option(kw, "n_best", o.n_best);
            o.length_penalty = option(kw, "normalize", o.length_penalty);
            o.batch_size = option<int64_t>(kw, "batch_size", o.batch_size);
            o.max_length = option<int64_t>(kw, "max_length", o.max_length);
            o.attention = option(kw, "attention", o.attention);
            o.validate();
            const std::string errors = option<std::string>(kw, "errors", "raise");
            check_errors(errors.c_str());
            // Paths and arrays go their two ways, results back in the caller's order.
            std::vector<std::string> paths;
            std::vector<py::array> arrays;  // keeps converted arrays alive during the call
            std::vector<ImageView> views;
            std::vector<std::pair<bool, size_t>> where;  // (is array, index in its list)
            const py::object path_like = py::module_::import("os").attr("PathLike");
            for (const py::handle& item : images) {
              if (py::isinstance<py::str>(item) || py::isinstance(item, path_like)) {
                where.emplace_back(false, paths.size());
                paths.push_back(py::str(item));
              } else {
                arrays.push_back(image_array(item));
                where.emplace_back(true, views.size());
                views.push_back(image_view(arrays.back(), where.size() - 1));
              }
            }
            std::vector<CaptionResult> from_paths, from_arrays;
            {
              py::gil_scoped_release release;
              if (!paths.empty()) from_paths = c.caption(paths, o);
              if (!views.empty()) from_arrays = c.caption(views, o);
            }
            std::vector<CaptionResult> ordered;
            for (const auto& [is_array, i] : where)
              ordered.push_back(std::move(is_array ? from_arrays[i] : from_paths[i]));
            return take_results(ordered, &CaptionResult::captions, errors, "image");
          },
          py::arg("images"),
          "Captions images — paths, or numpy arrays (height, width[, channels]) of uint8 or "
          "float intensities in [0, 1], RGB(A) or gray — per image its n-best Captions. Options "
          "(default: the model's recipe): beam, n_best, normalize, batch_size, max_length, "
          "attention, errors ('raise'|'ignore').")
      .def("write_attention_map", &Captioner::write_attention_map, py::arg("image_path"),
           py::arg("caption"), py::arg("output"),
           "A PNG of the image with each word's attention overlaid.")
      .def_property_readonly("grid_size", &Captioner::grid_size);

  // ---- smart reply ---------------------------------------------------------------------------
  py::class_<ReplySuggester>(m, "ReplySuggester",
                             "A message -> reply model ranking a fixed response set (smart reply).")
      .def(py::init([](const std::string& model, const py::object& responses, int k,
                       double threshold, bool diverse, size_t max_message_words,
                       const std::string& device, int threads, int replicas,
                       std::optional<double> prior_weight) {
             std::vector<Response> set;
             if (py::isinstance<py::str>(responses)) {
               set = read_responses(responses.cast<std::string>());
             } else {
               for (const py::handle& item : responses) {
                 const auto row = item.cast<py::sequence>();
                 if (row.size() < 2 || row.size() > 3)
                   throw InvalidArgument("a response is (text, cluster) or (text, cluster, prior)");
                 Response r;
                 r.text = row[0].cast<std::string>();
                 r.cluster = row[1].cast<std::string>();
                 r.prior = row.size() == 3 ? row[2].cast<double>() : 0.0;
                 set.push_back(std::move(r));
               }
             }
             ReplyOptions reply;
             reply.k = k;
             reply.threshold = threshold;
             reply.diverse = diverse;
             reply.max_message_words = max_message_words;
             reply.lambda = prior_weight;  // None: the model folder's reply.yaml, else 0
             py::gil_scoped_release release;
             return std::make_unique<ReplySuggester>(model, std::move(set), reply,
                                                     model_options(device, threads, replicas));
           }),
           py::arg("model"), py::arg("responses"), py::arg("k") = 3, py::arg("threshold") = -1e30,
           py::arg("diverse") = true, py::arg("max_message_words") = 0, py::arg("device") = "cpu",
           py::arg("threads") = kDefaultThreads, py::arg("replicas") = 1,
           py::arg("prior_weight") = py::none(),
           "prior_weight is lambda of the score log P(r | m) - lambda log P(r) (None: the model "
           "folder's reply.yaml, written by `s2s reply --tune --save`, else 0).")
      .def(
          "suggest",
          [](const ReplySuggester& s, const py::iterable& messages, std::optional<int> k,
             std::optional<double> threshold, std::optional<bool> diverse,
             std::optional<double> prior_weight) {
            ReplyOptions o = s.options();
            if (prior_weight) o.lambda = prior_weight;
            if (k) o.k = *k;
            if (threshold) o.threshold = *threshold;
            if (diverse) o.diverse = *diverse;
            const std::vector<std::string> texts = texts_of(messages, "message");
            std::vector<ReplyResult> results;
            {
              py::gil_scoped_release release;
              results = s.suggest(texts, o);
            }
            py::list out;
            for (const ReplyResult& r : results) {
              py::list suggestions;
              for (const Suggestion& g : r.suggestions) {
                py::dict d;
                d["text"] = s.responses()[g.response].text;
                d["cluster"] = s.responses()[g.response].cluster;
                d["score"] = g.score;
                d["log_prob"] = g.log_prob;
                suggestions.append(d);
              }
              out.append(suggestions);
            }
            return out;
          },
          py::arg("messages"), py::arg("k") = py::none(), py::arg("threshold") = py::none(),
          py::arg("diverse") = py::none(), py::arg("prior_weight") = py::none(),
          "Per message, up to k suggestions {text, cluster, score: log P(reply | message) - "
          "lambda log P(reply), log_prob: log P(reply | message)}, best first; none when even "
          "the best is below the threshold.")
      .def_property_readonly("responses", [](const ReplySuggester& s) {
        py::list out;
        for (const Response& r : s.responses())
          out.append(py::make_tuple(r.text, r.cluster, r.prior));
        return out;
      });

  // ---- int8 models ---------------------------------------------------------------------------
  m.def(
      "quantize",
      [](const std::string& model, const std::string& output) {
        QuantizeSummary s;
        {
          py::gil_scoped_release release;
          s = quantize_model(model, output);
        }
        py::dict out;
        out["int8_tensors"] = s.int8_tensors;
        out["int8_parameters"] = s.int8_parameters;
        out["float_parameters"] = s.float_parameters;
        out["bytes_before"] = s.bytes_before;
        out["bytes_after"] = s.bytes_after;
        return out;
      },
      py::arg("model"), py::arg("output"),
      "Writes an int8 copy of a model folder (as `s2s quantize`): weight matrices and embeddings "
      "int8 with per-row scales. Every loader (Translator, Captioner, ReplySuggester) takes "
      "either kind. Returns counts and the model file's size before and after.");

  // ---- training ------------------------------------------------------------------------------
  m.def(
      "train",
      [](const std::string& recipe, const std::string& output, const py::dict& overrides,
         bool resume, const std::string& init_from, const py::object& on_log) {
        Overrides given;
        for (const auto& [key, value] : overrides) {
          // YAML text for the value: Python's literals of numbers, bools and lists read as YAML.
          std::string text;
          if (py::isinstance<py::bool_>(value))
            text = value.cast<bool>() ? "true" : "false";
          else if (py::isinstance<py::str>(value))
            text = value.cast<std::string>();
          else
            text = py::str(value);
          given.emplace_back(py::str(key), text);
        }
        const Config config = load_training_recipe(recipe, given);
        TrainRun run;
        run.output = output;
        run.resume = resume;
        run.init_from = init_from;
        TrainCallbacks callbacks;
        std::optional<py::error_already_set> interrupted;
        // A Ctrl-C that lands while on_log runs Python code raises there: it is kept, and the
        // run stops at the next step as for one that lands in C++ (below).
        const auto call_on_log = [&on_log, &interrupted](const TrainLogRecord& r) {
          py::gil_scoped_acquire acquire;
          try {
            on_log(record_dict(r));
          } catch (py::error_already_set& e) {
            if (!e.matches(PyExc_KeyboardInterrupt)) throw;
            if (!interrupted) interrupted.emplace(std::move(e));
          }
        };
        if (!on_log.is_none()) {
          callbacks.on_log = call_on_log;
          callbacks.on_message = [call_on_log](const std::string& line) {
            TrainLogRecord r;
            r.text = line;
            call_on_log(r);
          };
        }
        // Ctrl-C: Python's handler only sets a flag; checking it here between steps stops the
        // run cleanly (a checkpoint), and KeyboardInterrupt is raised once train() returns.
        callbacks.should_stop = [&interrupted] {
          py::gil_scoped_acquire acquire;
          if (interrupted) return true;
          if (PyErr_CheckSignals() != 0) {
            interrupted.emplace();  // takes the pending KeyboardInterrupt
            return true;
          }
          return false;
        };
        TrainSummary summary;
        {
          py::gil_scoped_release release;
          summary = train(config, run, callbacks);
        }
        if (interrupted) throw std::move(*interrupted);
        py::dict d;
        d["steps"] = summary.steps;
        d["epochs"] = summary.epochs_completed;
        d["stopped"] = stop_reason_name(summary.reason);
        d["best_metric"] = summary.best_metric;
        d["last_loss"] = summary.last_loss;
        d["model"] = summary.best_model;
        return d;
      },
      py::arg("recipe"), py::arg("output"), py::arg("overrides") = py::dict(),
      py::arg("resume") = false, py::arg("init_from") = "", py::arg("on_log") = py::none(),
      "Trains the recipe's task into the run folder output (model/ and checkpoints/). "
      "overrides: {'train.max_steps': 200, ...}; on_log(record) receives every log record as a "
      "dict (kind: progress | validation | checkpoint | message, step, loss, ...). Ctrl-C stops "
      "the run cleanly with a checkpoint, then raises KeyboardInterrupt; resume=True continues "
      "it.");

  // ---- vocabularies and BLEU -----------------------------------------------------------------
  py::class_<Vocab>(m, "Vocab", "A SentencePiece vocabulary (a model folder's vocab.model).")
      .def(py::init([](const std::string& path) { return Vocab::load(path); }), py::arg("path"))
      .def(
          "encode",
          [](const Vocab& v, const py::handle& text) { return v.encode(text_of(text, "text", 0)); },
          py::arg("text"), "ids of the text's pieces")
      .def(
          "encode_pieces",
          [](const Vocab& v, const py::handle& text) {
            return v.encode_pieces(text_of(text, "text", 0));
          },
          py::arg("text"))
      .def(
          "decode", [](const Vocab& v, const std::vector<int32_t>& ids) { return v.decode(ids); },
          py::arg("ids"))
      .def("piece", &Vocab::piece, py::arg("id"))
      .def("piece_id", &Vocab::piece_id, py::arg("piece"))
      .def("__len__", &Vocab::size);

  py::class_<BleuScore>(m, "BleuScore", "Corpus BLEU as sacreBLEU computes it.")
      .def_readonly("score", &BleuScore::score)
      .def_property_readonly(
          "precisions",
          [](const BleuScore& b) { return std::vector<double>(b.precisions, b.precisions + 4); })
      .def_readonly("bp", &BleuScore::brevity_penalty)
      .def_readonly("ratio", &BleuScore::ratio)
      .def_readonly("sys_len", &BleuScore::hyp_len)
      .def_readonly("ref_len", &BleuScore::ref_len)
      .def("__float__", [](const BleuScore& b) { return b.score; })
      .def("__str__", [](const BleuScore& b) { return b.format(); })
      .def("__repr__", [](const BleuScore& b) { return b.format(); });
  m.def(
      "bleu",
      [](const std::vector<std::string>& hypotheses,
         const std::vector<std::vector<std::string>>& references, bool lowercase) {
        for (const auto& stream : references)
          if (stream.size() != hypotheses.size())
            throw InvalidArgument("bleu: " + std::to_string(hypotheses.size()) +
                                  " hypotheses but a reference stream of " +
                                  std::to_string(stream.size()) +
                                  " (references: a list of streams, "
                                  "each a list of one reference per hypothesis)");
        return corpus_bleu(hypotheses, references, lowercase);
      },
      py::arg("hypotheses"), py::arg("references"), py::arg("lowercase") = false,
      "Corpus BLEU of hypotheses against reference streams, as sacreBLEU's corpus_bleu.");
}
