// The run log: every log record of a training run, as one JSON object a line in RUN/log.jsonl
// (written as the run goes, rank 0 only), and the readers the server's runs page and `s2s plot`
// use. A line is appended and flushed per record, so a reader sees a run while it trains; a
// resumed run appends to the same file.
//
//   {"kind":"progress","step":200,"epoch":1,"time":1796720000.5,"elapsed":41.2,"loss":3.91,
//    "perplexity":50.1,"tokens_per_second":5210,"learning_rate":0.001}
//   {"kind":"validation","step":500,...,"perplexity":20.3,"nll":3.01,"score_name":"bleu",
//    "score":12.4,"improved":true}
//   {"kind":"checkpoint","step":500,...,"checkpoint":"runs/x/checkpoints/step-500"}
//   {"kind":"message","step":500,...,"text":"..."}
// Each segment of a run (its start, then every --resume) begins with
//   {"kind":"start","time":1796719959.3,"task":"translate"}
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "seq2seq/train/trainer.h"  // TrainLogRecord

namespace s2s::api {

inline constexpr const char* kRunLogFile = "log.jsonl";

struct RunLogRecord {
  std::string kind;  // progress, validation, checkpoint, message
  int64_t step = 0, epoch = 0;
  double time = 0;     // seconds since the Unix epoch when it was logged
  double elapsed = 0;  // training seconds since the run began, over all its resumed segments
  double loss = 0, perplexity = 0, tokens_per_second = 0, learning_rate = 0, nll = 0;
  std::string score_name;
  double score = 0;
  bool improved = false;
  std::string checkpoint, text;
};

// Appends records to RUN/log.jsonl (created on the first record). Each record is one line,
// flushed as written; an I/O failure throws IoError naming the file.
class RunLogWriter {
 public:
  RunLogWriter(std::string run_dir, std::string task);
  void write(const TrainLogRecord& record);

 private:
  std::string path_, task_;
  std::ofstream out_;
  double segment_start_ = 0;
};

// The records of run_dir/log.jsonl in order. A resumed run's log holds the records of each
// segment; those a later segment redid (logged after the checkpoint it resumed from) are
// dropped, and elapsed counts on across segments. A last line cut short (the run is writing
// it, or died mid-line) is skipped; any other line that is not a record is an InputError
// naming file:line. A missing log is an empty list.
struct RunLog {
  std::string task;  // of the newest segment: translate or caption
  std::vector<RunLogRecord> records;
};
RunLog read_run_log(const std::string& run_dir);

// A run folder found under a runs folder.
struct RunInfo {
  std::string name;  // its path relative to the runs folder ("." for the runs folder itself)
  std::string path;
  std::string task;        // translate or caption, "" if the log does not say
  int64_t step = 0;        // the last step logged
  double updated = 0;      // when its log last changed, seconds since the Unix epoch
  bool has_model = false;  // model/ holds a best model
  double best_score = 0;   // the best validation score logged (score_name), else 0
  std::string score_name;
};

// The names (paths relative to dir, "." for dir itself) of every run folder — one holding
// log.jsonl — in dir and up to two levels below it, sorted. A missing dir throws InputError.
std::vector<std::string> find_runs(const std::string& dir);

// find_runs with each run's figures from its log. A log that does not read is listed without
// them (the page should still show the others).
std::vector<RunInfo> list_runs(const std::string& dir);

}  // namespace s2s::api
