// Learning curves as a picture: the runs' training loss and validation score (or perplexity)
// against step and against training time, drawn into one PNG — `s2s plot` for a report; the
// server's runs page draws the same series live (Chart.js).
#pragma once

#include <string>
#include <vector>

namespace s2s::api {

struct PlotOptions {
  int width = 1200, height = 800;  // pixels of the whole figure (2 x 2 panels)
};

// Reads each run folder's log.jsonl (run_log.h) and writes the figure to png_path atomically
// (complete or not at all). A run without a log, or without a record, is an InputError naming it.
void plot_learning_curves(const std::vector<std::string>& run_dirs, const std::string& png_path,
                          const PlotOptions& options = {});

}  // namespace s2s::api
