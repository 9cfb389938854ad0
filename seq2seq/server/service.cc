// The server's endpoints over the library API: request parsing (json_fields), one batcher per
// model, results as JSON, errors as statuses.
#include "seq2seq/server/service.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "seq2seq/api/captioner.h"
#include "seq2seq/api/reply.h"
#include "seq2seq/api/run_log.h"
#include "seq2seq/api/translator.h"
#include "seq2seq/config.h"
#include "seq2seq/server/http_error.h"
#include "seq2seq/server/json_fields.h"
#include "seq2seq/server/web_assets.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace s2s::server {

namespace {

using TranslateBatcher = DynamicBatcher<api::TranslateOptions, std::string, api::TranslationResult>;
using CaptionBatcher = DynamicBatcher<api::CaptionOptions, std::string, api::CaptionResult>;
using ReplyBatcher = DynamicBatcher<api::ReplyOptions, std::string, api::ReplyResult>;

enum class Kind { translation, caption, reply };

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::translation:
      return "translation";
    case Kind::caption:
      return "caption";
    case Kind::reply:
      break;
  }
  return "reply";
}

const char* endpoint_of(Kind kind) {
  switch (kind) {
    case Kind::translation:
      return "/v1/translate";
    case Kind::caption:
      return "/v1/caption";
    case Kind::reply:
      break;
  }
  return "/v1/reply";
}

int64_t word_count(const std::string& text) {
  int64_t n = 0;
  bool in_word = false;
  for (char c : text) {
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

json error_body(const std::string& message) {
  return json{{"error", message}};
}

HttpResponse json_response(int status, const json& body) {
  HttpResponse response;
  response.status = status;
  response.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

// Removes the files it holds when the request ends, however it ends.
struct ScratchFiles {
  std::vector<std::string> paths;
  ~ScratchFiles() {
    for (const std::string& p : paths) {
      std::error_code ignored;
      fs::remove(p, ignored);
    }
  }
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// multipart/form-data text fields as a JSON object: "true"/"false" become booleans and integers
// numbers, so the same field readers serve both kinds of caption request.
json form_fields(const std::vector<Upload>& uploads) {
  json fields = json::object();
  for (const Upload& u : uploads) {
    if (!u.filename.empty()) continue;
    if (u.content == "true" || u.content == "false") {
      fields[u.name] = u.content == "true";
      continue;
    }
    char* end = nullptr;
    const long long integer = std::strtoll(u.content.c_str(), &end, 10);
    if (!u.content.empty() && end && *end == '\0') {
      fields[u.name] = integer;
      continue;
    }
    const double number = std::strtod(u.content.c_str(), &end);
    if (!u.content.empty() && end && *end == '\0')
      fields[u.name] = number;
    else
      fields[u.name] = u.content;
  }
  return fields;
}

// Waits for a job and turns how it ended into an error, or returns its results.
template <class Batcher>
auto await(Batcher& batcher, typename Batcher::Job& job, const HttpRequest& request) {
  switch (batcher.wait(job, request.client_gone)) {
    case JobState::done:
      return std::move(job.results);
    case JobState::failed:
      throw Error("the model failed on this batch: " + job.error);
    case JobState::abandoned:
      if (request.client_gone && request.client_gone())
        throw HttpError(499, "the client closed the connection");
      throw HttpError(504, "the request's deadline passed before its batch was decoded");
    default:
      break;
  }
  throw Error("the request ended in an unexpected state");
}

template <class Batcher, class Options>
std::shared_ptr<typename Batcher::Job> submit(Batcher& batcher, std::string key, Options options,
                                              std::vector<std::string> items, int64_t tokens,
                                              Clock::time_point deadline) {
  try {
    return batcher.submit(std::move(key), std::move(options), std::move(items), tokens, deadline);
  } catch (const QueueFull& e) {
    throw HttpError(503, std::string("the server is busy: ") + e.what(), 1);
  }
}

}  // namespace

struct Service::Models {
  struct Entry {
    std::string name, path;
    Kind kind = Kind::translation;
    std::unique_ptr<api::Translator> translator;
    std::unique_ptr<api::Captioner> captioner;
    std::unique_ptr<api::ReplySuggester> suggester;
    std::unique_ptr<TranslateBatcher> translate_batcher;
    std::unique_ptr<CaptionBatcher> caption_batcher;
    std::unique_ptr<ReplyBatcher> reply_batcher;
  };
  std::vector<std::unique_ptr<Entry>> entries;

  // The model a request names, or the only one of its kind when it names none: 404 for an
  // unknown name, 400 for a model of another kind.
  Entry& find(const std::string& name, Kind kind) {
    if (name.empty()) {
      Entry* only = nullptr;
      int count = 0;
      for (auto& e : entries)
        if (e->kind == kind) only = e.get(), ++count;
      if (count == 1) return *only;
      throw HttpError(count == 0 ? 404 : 400,
                      count == 0 ? std::string("no ") + kind_name(kind) + " model is served"
                                 : std::string("\"model\" is required: ") + std::to_string(count) +
                                       " " + kind_name(kind) + " models are served");
    }
    for (auto& e : entries)
      if (e->name == name) {
        if (e->kind != kind)
          throw HttpError(400, "model \"" + name + "\" is a " + kind_name(e->kind) +
                                   " model: use " + endpoint_of(e->kind));
        return *e;
      }
    throw HttpError(404, "no model named \"" + name + "\" (GET /v1/models lists them)");
  }
};

Service::Service(ServiceOptions options)
    : options_(std::move(options)), models_(std::make_unique<Models>()) {
  if (options_.models.empty()) throw ConfigError("serve: no model given (-m NAME=MODEL_DIR)");
  if (options_.scratch_dir.empty())
    options_.scratch_dir = (fs::temp_directory_path() / "s2s-serve").string();
  fs::create_directories(options_.scratch_dir);
  for (const auto& [name, path] : options_.models) {
    for (const auto& e : models_->entries)
      if (e->name == name) throw ConfigError("serve: two models are named \"" + name + "\"");
    auto entry = std::make_unique<Models::Entry>();
    entry->name = name;
    entry->path = path;
    const fs::path config = fs::path(path) / "config.yaml";
    if (!fs::exists(config))
      throw InputError("serve: model \"" + name + "\": '" + path + "' is not a model folder");
    const std::string task = Config::from_yaml_file(config.string()).get<std::string>("task");
    std::string responses;
    if (auto it = options_.responses.find(name); it != options_.responses.end())
      responses = it->second;
    else if (fs::exists(fs::path(path) / "responses.tsv"))
      responses = (fs::path(path) / "responses.tsv").string();
    auto on_batch = [this, name = name](const BatchReport& r) {
      metrics_.count_batch(name, r.items, r.requests, r.seconds);
    };
    if (task == "caption") {
      entry->kind = Kind::caption;
      entry->captioner = std::make_unique<api::Captioner>(path, options_.model_options);
      api::Captioner* captioner = entry->captioner.get();
      entry->caption_batcher = std::make_unique<CaptionBatcher>(
          [captioner](const std::vector<std::string>& paths, const api::CaptionOptions& o) {
            return captioner->caption(paths, o);
          },
          options_.batching, on_batch);
    } else if (!responses.empty()) {
      entry->kind = Kind::reply;
      entry->suggester = std::make_unique<api::ReplySuggester>(
          path, api::read_responses(responses), api::ReplyOptions{}, options_.model_options);
      api::ReplySuggester* suggester = entry->suggester.get();
      entry->reply_batcher = std::make_unique<ReplyBatcher>(
          [suggester](const std::vector<std::string>& messages, const api::ReplyOptions& o) {
            return suggester->suggest(messages, o);
          },
          options_.batching, on_batch);
    } else {
      entry->kind = Kind::translation;
      entry->translator = std::make_unique<api::Translator>(path, options_.model_options);
      api::Translator* translator = entry->translator.get();
      entry->translate_batcher = std::make_unique<TranslateBatcher>(
          [translator](const std::vector<std::string>& lines, const api::TranslateOptions& o) {
            return translator->translate(lines, o);
          },
          options_.batching, on_batch);
    }
    if (options_.say)
      options_.say("model \"" + name + "\": " + kind_name(entry->kind) + " from " + path);
    models_->entries.push_back(std::move(entry));
  }
  metrics_.set_queue_probe([this] {
    std::vector<std::pair<std::string, int64_t>> depths;
    for (const auto& e : models_->entries) {
      int64_t n = 0;
      if (e->translate_batcher) n = e->translate_batcher->queued_items();
      if (e->caption_batcher) n = e->caption_batcher->queued_items();
      if (e->reply_batcher) n = e->reply_batcher->queued_items();
      depths.emplace_back(e->name, n);
    }
    return depths;
  });
}

Service::~Service() {
  metrics_.set_queue_probe(nullptr);
  // The batchers finish what they hold before the models they call go away.
  for (auto& e : models_->entries) {
    if (e->translate_batcher) e->translate_batcher->stop();
    if (e->caption_batcher) e->caption_batcher->stop();
    if (e->reply_batcher) e->reply_batcher->stop();
  }
}

void Service::drain() {
  draining_.store(true);
}

Clock::time_point Service::deadline_of(int64_t deadline_ms) const {
  const auto ms = deadline_ms > 0 ? std::chrono::milliseconds(deadline_ms) : options_.deadline;
  return Clock::now() + ms;
}

HttpResponse Service::handle(const HttpRequest& request) {
  const auto start = Clock::now();
  ++in_flight_;
  std::string endpoint = "other";
  HttpResponse response;
  try {
    response = route(request, endpoint);
  } catch (const HttpError& e) {
    response = json_response(e.status(), error_body(e.what()));
    response.retry_after = e.retry_after();
  } catch (const InvalidArgument& e) {
    response = json_response(400, error_body(e.what()));
  } catch (const std::exception& e) {
    response = json_response(500, error_body(e.what()));
  }
  --in_flight_;
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  metrics_.count_request(endpoint, response.status, seconds);
  return response;
}

HttpResponse Service::route(const HttpRequest& request, std::string& endpoint) {
  const std::string& path = request.path;
  const bool post = request.method == "POST", get = request.method == "GET";
  auto expect = [&](bool ok, const char* allowed) {
    if (!ok)
      throw HttpError(405,
                      request.method + " is not allowed on " + path + " (use " + allowed + ")");
  };
  if (path == "/v1/translate" || path == "/v1/caption" || path == "/v1/reply") {
    endpoint = path;
    expect(post, "POST");
    if (draining_) throw HttpError(503, "the server is shutting down", 1);
    if (path == "/v1/translate") return translate(request);
    if (path == "/v1/caption") return caption(request);
    return reply(request);
  }
  if (path == "/healthz") {
    endpoint = path;
    expect(get, "GET");
    if (draining_) return json_response(503, {{"status", "draining"}});
    return json_response(200, {{"status", "ok"}, {"models", models_->entries.size()}});
  }
  if (path == "/metrics") {
    endpoint = path;
    expect(get, "GET");
    HttpResponse response;
    response.body = metrics_.prometheus_text();
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return response;
  }
  if (path == "/v1/models") {
    endpoint = path;
    expect(get, "GET");
    return models_list();
  }
  if (path == "/v1/runs" || path == "/v1/runs/log") {
    endpoint = path;
    expect(get, "GET");
    if (options_.runs_dir.empty())
      throw HttpError(404, "no runs are shown: start the server with --runs DIR");
    return path == "/v1/runs" ? runs_list() : run_log(request);
  }
  if (const WebAsset* asset = find_web_asset(path == "/" ? "/index.html" : path)) {
    endpoint = "/ (page)";
    expect(get, "GET");
    HttpResponse response;
    response.body.assign(reinterpret_cast<const char*>(asset->data), asset->size);
    response.content_type = asset->content_type;
    response.cacheable = path != "/" && path != "/index.html";
    return response;
  }
  throw HttpError(404, "no endpoint " + path);
}

HttpResponse Service::translate(const HttpRequest& request) {
  const json body = parse_request_body(request.body);
  reject_unknown_fields(body, {"model", "text", "beam", "n_best", "alignment", "length_penalty",
                               "max_length_factor", "pieces", "deadline_ms"});
  Models::Entry& model = models_->find(string_field(body, "model", ""), Kind::translation);
  std::vector<std::string> lines = strings_field(body, "text", options_.max_lines);
  api::TranslateOptions options = model.translator->default_options();
  options.beam_size = static_cast<int>(integer_field(body, "beam", options.beam_size, 1, 64));
  options.n_best = static_cast<int>(integer_field(
      body, "n_best", std::min(options.n_best, options.beam_size), 1, options.beam_size));
  options.length_penalty = number_field(body, "length_penalty", options.length_penalty, 0, 10);
  options.max_length_factor =
      number_field(body, "max_length_factor", options.max_length_factor, 0.1, 10);
  options.output_pieces = bool_field(body, "pieces", false);
  if (auto it = body.find("alignment"); it != body.end() && !it->is_null()) {
    if (it->is_boolean())
      options.alignment = it->get<bool>() ? api::Alignment::soft : api::Alignment::none;
    else if (it->is_string() && (*it == "none" || *it == "hard" || *it == "soft"))
      options.alignment = *it == "none"   ? api::Alignment::none
                          : *it == "hard" ? api::Alignment::hard
                                          : api::Alignment::soft;
    else
      throw HttpError(400, "\"alignment\" must be \"none\", \"hard\", \"soft\" or a boolean");
  }
  const Clock::time_point deadline =
      deadline_of(integer_field(body, "deadline_ms", 0, 0, 3600 * 1000));
  std::ostringstream key;
  key.precision(17);
  key << options.beam_size << '|' << options.n_best << '|' << options.length_penalty << '|'
      << options.max_length_factor << '|' << static_cast<int>(options.alignment) << '|'
      << options.output_pieces;
  int64_t tokens = 0;
  for (const std::string& line : lines)
    tokens += word_count(line);
  const auto job =
      submit(*model.translate_batcher, key.str(), options, std::move(lines), tokens, deadline);
  const std::vector<api::TranslationResult> results =
      await(*model.translate_batcher, *job, request);

  json translations = json::array();
  for (const api::TranslationResult& r : results) {
    json entry = json::object();
    if (!r.ok()) entry["error"] = r.error;
    if (!r.warning.empty()) entry["warning"] = r.warning;
    if (r.hypotheses.empty()) {
      entry["text"] = "";
      translations.push_back(entry);
      continue;
    }
    const api::Translation& best = r.hypotheses.front();
    entry["text"] = best.text;
    entry["score"] = best.score;
    entry["log_prob"] = best.log_prob;
    if (options.n_best > 1) {
      json n_best = json::array();
      for (const api::Translation& h : r.hypotheses)
        n_best.push_back({{"text", h.text}, {"score", h.score}, {"log_prob", h.log_prob}});
      entry["n_best"] = n_best;
    }
    if (options.alignment != api::Alignment::none) {
      std::vector<std::string> target = best.pieces;
      target.push_back("</s>");
      json alignment = {
          {"source", r.source_pieces}, {"target", target}, {"hard", best.hard_alignment()}};
      if (options.alignment == api::Alignment::soft) alignment["soft"] = best.attention;
      entry["alignment"] = alignment;
    }
    translations.push_back(entry);
  }
  return json_response(
      200,
      {{"model", model.name}, {"translations", translations}, {"batch_items", job->batch_items}});
}

HttpResponse Service::caption(const HttpRequest& request) {
  const bool multipart = request.content_type.rfind("multipart/form-data", 0) == 0;
  const json body = multipart ? form_fields(request.uploads) : parse_request_body(request.body);
  reject_unknown_fields(
      body, {"model", "images", "beam", "n_best", "attention", "attention_png", "deadline_ms"});
  Models::Entry& model = models_->find(string_field(body, "model", ""), Kind::caption);
  api::CaptionOptions options = model.captioner->default_options();
  options.beam_size = static_cast<int>(integer_field(body, "beam", options.beam_size, 1, 64));
  options.n_best = static_cast<int>(integer_field(
      body, "n_best", std::min(options.n_best, options.beam_size), 1, options.beam_size));
  const bool attention_png = bool_field(body, "attention_png", false);
  options.attention = bool_field(body, "attention", false) || attention_png;
  const Clock::time_point deadline =
      deadline_of(integer_field(body, "deadline_ms", 0, 0, 3600 * 1000));

  // The images, written to scratch files for the captioner's readers (which check them) and
  // removed when the request ends.
  std::vector<std::string> images;
  if (multipart) {
    for (const Upload& u : request.uploads)
      if (!u.filename.empty()) images.push_back(u.content);
    if (images.empty())
      throw HttpError(400, "\"images\": the multipart request holds no file part");
  } else {
    const std::vector<std::string> encoded = strings_field(body, "images", options_.max_lines);
    for (size_t i = 0; i < encoded.size(); ++i)
      images.push_back(decode_base64(encoded[i], "images[" + std::to_string(i) + "]"));
  }
  if (images.size() > options_.max_lines)
    throw HttpError(413, "the request holds " + std::to_string(images.size()) +
                             " images; at most " + std::to_string(options_.max_lines));
  ScratchFiles scratch;
  const uint64_t id = upload_counter_++;
  for (size_t i = 0; i < images.size(); ++i) {
    const std::string path = (fs::path(options_.scratch_dir) /
                              ("upload-" + std::to_string(id) + "-" + std::to_string(i)))
                                 .string();
    scratch.paths.push_back(path);
    std::ofstream out(path, std::ios::binary);
    out.write(images[i].data(), static_cast<std::streamsize>(images[i].size()));
    if (!out.flush()) throw IoError("cannot write the upload to '" + path + "'");
  }
  std::ostringstream key;
  key << options.beam_size << '|' << options.n_best << '|' << options.attention;
  const auto job = submit(*model.caption_batcher, key.str(), options, scratch.paths,
                          static_cast<int64_t>(images.size()), deadline);
  const std::vector<api::CaptionResult> results = await(*model.caption_batcher, *job, request);

  const auto [grid_h, grid_w] = model.captioner->grid_size();
  json captions = json::array();
  for (size_t i = 0; i < results.size(); ++i) {
    const api::CaptionResult& r = results[i];
    json entry = json::object();
    if (!r.ok()) {
      // The reader names the scratch file; the client knows the image by its place.
      std::string error = r.error;
      for (size_t at; (at = error.find(scratch.paths[i])) != std::string::npos;)
        error.replace(at, scratch.paths[i].size(), "images[" + std::to_string(i) + "]");
      entry["error"] = error;
      entry["text"] = "";
      captions.push_back(entry);
      continue;
    }
    const api::Caption& best = r.captions.front();
    entry["text"] = best.text;
    entry["words"] = best.words;
    entry["score"] = best.score;
    entry["log_prob"] = best.log_prob;
    if (options.n_best > 1) {
      json n_best = json::array();
      for (const api::Caption& c : r.captions)
        n_best.push_back({{"text", c.text}, {"score", c.score}, {"log_prob", c.log_prob}});
      entry["n_best"] = n_best;
    }
    if (options.attention)
      entry["attention"] = {{"grid", {grid_h, grid_w}}, {"weights", best.attention}};
    if (attention_png) {
      const std::string png = scratch.paths[i] + ".attention.png";
      scratch.paths.push_back(png);
      model.captioner->write_attention_map(scratch.paths[i], best, png);
      entry["attention_png"] = encode_base64(read_file(png));
    }
    captions.push_back(entry);
  }
  return json_response(
      200, {{"model", model.name}, {"captions", captions}, {"batch_items", job->batch_items}});
}

HttpResponse Service::reply(const HttpRequest& request) {
  const json body = parse_request_body(request.body);
  reject_unknown_fields(body, {"model", "messages", "k", "diverse", "deadline_ms"});
  Models::Entry& model = models_->find(string_field(body, "model", ""), Kind::reply);
  std::vector<std::string> messages = strings_field(body, "messages", options_.max_lines);
  api::ReplyOptions options = model.suggester->options();
  options.k = static_cast<int>(integer_field(body, "k", options.k, 1, 20));
  options.diverse = bool_field(body, "diverse", options.diverse);
  const Clock::time_point deadline =
      deadline_of(integer_field(body, "deadline_ms", 0, 0, 3600 * 1000));
  int64_t tokens = 0;
  for (const std::string& m : messages)
    tokens += word_count(m);
  const std::string key = std::to_string(options.k) + "|" + std::to_string(options.diverse);
  const auto job =
      submit(*model.reply_batcher, key, options, std::move(messages), tokens, deadline);
  const std::vector<api::ReplyResult> results = await(*model.reply_batcher, *job, request);
  const std::vector<api::Response>& responses = model.suggester->responses();
  json suggestions = json::array();
  for (const api::ReplyResult& r : results) {
    json replies = json::array();
    for (const api::Suggestion& s : r.suggestions)
      replies.push_back({{"text", responses[static_cast<size_t>(s.response)].text},
                         {"cluster", responses[static_cast<size_t>(s.response)].cluster},
                         {"score", s.score}});
    suggestions.push_back({{"triggered", r.triggered}, {"replies", replies}});
  }
  return json_response(
      200,
      {{"model", model.name}, {"suggestions", suggestions}, {"batch_items", job->batch_items}});
}

HttpResponse Service::models_list() const {
  json list = json::array();
  for (const auto& e : models_->entries) {
    json entry = {{"name", e->name},
                  {"kind", kind_name(e->kind)},
                  {"path", e->path},
                  {"endpoint", endpoint_of(e->kind)}};
    if (e->translator) {
      const api::TranslateOptions& d = e->translator->default_options();
      entry["defaults"] = {
          {"beam", d.beam_size}, {"n_best", d.n_best}, {"length_penalty", d.length_penalty}};
    } else if (e->captioner) {
      const api::CaptionOptions& d = e->captioner->default_options();
      entry["defaults"] = {{"beam", d.beam_size}, {"n_best", d.n_best}};
      entry["grid"] = {e->captioner->grid_size().first, e->captioner->grid_size().second};
    } else {
      entry["defaults"] = {{"k", e->suggester->options().k}};
      entry["responses"] = e->suggester->responses().size();
    }
    list.push_back(entry);
  }
  return json_response(200, {{"models", list}, {"runs", !options_.runs_dir.empty()}});
}

template <typename Result>
Result Service::runs_folder(Result (*read)(const std::string&)) const {
  try {
    return read(options_.runs_dir);
  } catch (const InputError& e) {
    throw HttpError(500, e.what());  // the runs folder went away under the server
  }
}

HttpResponse Service::runs_list() const {
  json runs = json::array();
  for (const api::RunInfo& r : runs_folder(&api::list_runs))
    runs.push_back({{"name", r.name},
                    {"task", r.task},
                    {"step", r.step},
                    {"updated", r.updated},
                    {"has_model", r.has_model},
                    {"score_name", r.score_name},
                    {"best_score", r.best_score}});
  return json_response(200, {{"runs", runs}});
}

HttpResponse Service::run_log(const HttpRequest& request) const {
  const auto it = request.query.find("run");
  if (it == request.query.end() || it->second.empty())
    throw HttpError(400, "\"run\" is required (a name from GET /v1/runs)");
  // Only a run the listing shows: a name is never used as a path of its own. Found by name
  // alone: the other runs' logs are not read for it.
  for (const std::string& name : runs_folder(&api::find_runs)) {
    if (name != it->second) continue;
    json records = json::array();
    api::RunLog log;
    try {
      log = api::read_run_log((fs::path(options_.runs_dir) / name).string());
    } catch (const InputError& e) {
      throw HttpError(500, e.what());  // the run's own log is damaged, not the request
    }
    for (const api::RunLogRecord& rec : log.records) {
      if (rec.kind != "progress" && rec.kind != "validation") continue;
      json entry = {
          {"kind", rec.kind}, {"step", rec.step}, {"elapsed", rec.elapsed}, {"time", rec.time}};
      if (rec.kind == "progress") {
        entry["loss"] = rec.loss;
        entry["tokens_per_second"] = rec.tokens_per_second;
        entry["learning_rate"] = rec.learning_rate;
      } else {
        entry["perplexity"] = rec.perplexity;
        entry["score_name"] = rec.score_name;
        entry["score"] = rec.score;
      }
      records.push_back(entry);
    }
    return json_response(200, {{"run", name}, {"task", log.task}, {"records", records}});
  }
  throw HttpError(404, "no run named \"" + it->second + "\" under the runs folder");
}

}  // namespace s2s::server
