// RUN/log.jsonl: writing it as a run trains, reading it back (run_log.h says the format).
#include "seq2seq/api/run_log.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "seq2seq/error.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace s2s::api {
namespace {

double unix_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

// A double as JSON: nan and inf (a diverged loss) have no JSON form, null stands for them.
json number(double value) {
  return std::isfinite(value) ? json(value) : json(nullptr);
}

double number_field(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end()) return 0;
  if (it->is_null()) return std::numeric_limits<double>::quiet_NaN();  // written for nan/inf
  if (!it->is_number()) throw InputError(std::string("\"") + key + "\" is not a number");
  return it->get<double>();
}

int64_t integer_field(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end()) return 0;
  if (!it->is_number_integer()) throw InputError(std::string("\"") + key + "\" is not an integer");
  return it->get<int64_t>();
}

std::string string_field(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end()) return "";
  if (!it->is_string()) throw InputError(std::string("\"") + key + "\" is not a string");
  return it->get<std::string>();
}

}  // namespace

RunLogWriter::RunLogWriter(std::string run_dir, std::string task)
    : path_((fs::path(run_dir) / kRunLogFile).string()), task_(std::move(task)) {}

void RunLogWriter::write(const TrainLogRecord& record) {
  if (!out_.is_open()) {
    // Opened on the first record, so that MPI ranks other than 0 (which get none) write nothing.
    out_.open(path_, std::ios::binary | std::ios::app);
    if (!out_) throw IoError("cannot open the run log '" + path_ + "' for appending");
    segment_start_ = unix_seconds() - record.elapsed_seconds;
    out_ << json{{"kind", "start"}, {"time", segment_start_}, {"task", task_}}.dump() << '\n';
  }
  json line = {{"kind", log_record_kind_name(record.kind)},
               {"step", record.step},
               {"epoch", record.epoch},
               {"time", unix_seconds()},
               {"elapsed", number(record.elapsed_seconds)}};
  switch (record.kind) {
    case TrainLogRecord::Kind::progress:
      line["loss"] = number(record.loss);
      line["perplexity"] = number(record.perplexity);
      line["tokens_per_second"] = number(record.tokens_per_second);
      line["learning_rate"] = number(record.learning_rate);
      break;
    case TrainLogRecord::Kind::validation:
      line["perplexity"] = number(record.perplexity);
      line["nll"] = number(record.nll);
      if (!record.score_name.empty()) {
        line["score_name"] = record.score_name;
        line["score"] = number(record.score);
      }
      line["improved"] = record.improved;
      break;
    case TrainLogRecord::Kind::checkpoint:
      line["checkpoint"] = record.checkpoint;
      break;
    case TrainLogRecord::Kind::message:
      line["text"] = record.text;
      break;
  }
  // Invalid UTF-8 in a message (a path) is replaced, not thrown: the log must not stop a run.
  out_ << line.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
  out_.flush();
  if (!out_) throw IoError("cannot write the run log '" + path_ + "' (disk full?)");
}

RunLog read_run_log(const std::string& run_dir) {
  const std::string path = (fs::path(run_dir) / kRunLogFile).string();
  RunLog log;
  std::ifstream in(path, std::ios::binary);
  if (!in) return log;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  double offset = 0;            // cumulative elapsed at the start of the current segment
  bool segment_begins = false;  // the next record is the first of a resumed segment
  size_t begin = 0;
  for (int64_t line_number = 1; begin < text.size(); ++line_number) {
    size_t end = text.find('\n', begin);
    const bool last_cut_short = end == std::string::npos;
    if (last_cut_short) end = text.size();
    const std::string_view line(text.data() + begin, end - begin);
    begin = end + 1;
    if (line.empty()) continue;
    json object;
    try {
      object = json::parse(line);
    } catch (const json::exception&) {
      if (last_cut_short) break;  // being written right now, or torn by a crash
      throw InputError(path + ":" + std::to_string(line_number) + ": not a JSON record");
    }
    try {
      if (!object.is_object()) throw InputError("not a JSON object");
      RunLogRecord record;
      record.kind = string_field(object, "kind");
      if (record.kind == "start") {
        log.task = string_field(object, "task");
        offset = log.records.empty() ? 0 : log.records.back().elapsed;
        segment_begins = !log.records.empty();
        continue;
      }
      if (record.kind != "progress" && record.kind != "validation" && record.kind != "checkpoint" &&
          record.kind != "message")
        throw InputError("unknown kind '" + record.kind + "'");
      record.step = integer_field(object, "step");
      record.epoch = integer_field(object, "epoch");
      record.time = number_field(object, "time");
      const double segment_elapsed = number_field(object, "elapsed");
      record.elapsed = offset + segment_elapsed;
      record.loss = number_field(object, "loss");
      record.perplexity = number_field(object, "perplexity");
      record.tokens_per_second = number_field(object, "tokens_per_second");
      record.learning_rate = number_field(object, "learning_rate");
      record.nll = number_field(object, "nll");
      record.score_name = string_field(object, "score_name");
      record.score = number_field(object, "score");
      record.improved = object.value("improved", false);
      record.checkpoint = string_field(object, "checkpoint");
      record.text = string_field(object, "text");
      if (segment_begins && record.kind != "message") {
        // A resumed segment redoes the steps after its checkpoint: the earlier segment's
        // records of those steps are superseded, and its time after the checkpoint was lost.
        segment_begins = false;
        std::erase_if(log.records, [&](const RunLogRecord& r) { return r.step >= record.step; });
        offset = 0;
        for (const RunLogRecord& r : log.records)
          offset = std::max(offset, r.elapsed);
        record.elapsed = offset + segment_elapsed;
      }
      log.records.push_back(std::move(record));
    } catch (const InputError& e) {
      throw InputError(path + ":" + std::to_string(line_number) + ": " + e.what());
    }
  }
  return log;
}

std::vector<std::string> find_runs(const std::string& dir) {
  std::error_code error;
  if (!fs::is_directory(dir, error)) throw InputError("--runs: '" + dir + "' is not a folder");
  std::vector<std::string> names;
  auto add = [&](const fs::path& folder) {
    if (!fs::is_regular_file(folder / kRunLogFile, error)) return;
    const fs::path relative = folder.lexically_relative(dir);
    names.push_back(relative.empty() ? "." : relative.generic_string());
  };
  add(fs::path(dir));
  for (auto it = fs::recursive_directory_iterator(dir, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (it.depth() >= 2) it.disable_recursion_pending();
    // A run's own subfolders (model/, checkpoints/) are not runs, and hold no log.jsonl.
    if (it->is_directory(error)) add(it->path());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<RunInfo> list_runs(const std::string& dir) {
  std::vector<RunInfo> runs;
  for (const std::string& name : find_runs(dir)) {
    RunInfo info;
    info.name = name;
    const fs::path folder = fs::path(dir) / name;
    info.path = folder.string();
    std::error_code error;
    info.has_model = fs::is_regular_file(folder / "model" / "model.safetensors", error);
    const auto written = fs::last_write_time(folder / kRunLogFile, error);
    if (!error)
      info.updated =
          std::chrono::duration<double>(std::chrono::file_clock::to_sys(written).time_since_epoch())
              .count();
    try {
      const RunLog log = read_run_log(info.path);
      info.task = log.task;
      bool scored = false;
      for (const RunLogRecord& r : log.records) {
        info.step = std::max(info.step, r.step);
        if (r.kind != "validation" || r.score_name.empty()) continue;
        if (!scored || r.score > info.best_score) info.best_score = r.score;
        info.score_name = r.score_name;
        scored = true;
      }
    } catch (const Error&) {
      // Listed without figures; reading its log names the fault.
    }
    runs.push_back(std::move(info));
  }
  return runs;
}

}  // namespace s2s::api
