// The learning-curve figure of `s2s plot`: four panels (loss by step, loss by time, validation by
// step, validation by time), one colour a run, drawn with OpenCV's drawing functions.
#include "seq2seq/api/learning_curves.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "seq2seq/api/run_log.h"
#include "seq2seq/atomic_file.h"
#include "seq2seq/error.h"

namespace fs = std::filesystem;

namespace s2s::api {
namespace {

struct Series {
  std::string label;
  cv::Scalar colour;
  std::vector<cv::Point2d> points;
};

struct Panel {
  std::string title, x_label;
  std::vector<Series> series;
};

// Colour-blind-safe palette (Okabe-Ito), BGR.
const cv::Scalar kPalette[] = {{178, 114, 0},  {0, 94, 213},   {115, 158, 0}, {167, 121, 204},
                               {233, 180, 86}, {66, 228, 240}, {0, 159, 230}, {0, 0, 0}};
const cv::Scalar kInk(40, 40, 40), kGrid(225, 225, 225), kWhite(255, 255, 255);
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

// About five round tick values covering [low, high].
std::vector<double> ticks(double low, double high) {
  const double span = high - low;
  const double raw = span / 5;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  std::vector<double> values;
  for (double v = std::ceil(low / step) * step; v <= high + step * 1e-9; v += step)
    values.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  return values;
}

std::string tick_label(double value) {
  char text[32];
  if (std::abs(value) >= 10000)
    std::snprintf(text, sizeof text, "%gk", value / 1000);
  else
    std::snprintf(text, sizeof text, "%g", value);
  return text;
}

void draw_text(cv::Mat& image, const std::string& text, cv::Point at, double scale = 0.42,
               int thickness = 1, cv::Scalar colour = kInk) {
  cv::putText(image, text, at, kFont, scale, colour, thickness, cv::LINE_AA);
}

int text_width(const std::string& text, double scale = 0.42) {
  int baseline = 0;
  return cv::getTextSize(text, kFont, scale, 1, &baseline).width;
}

void draw_panel(cv::Mat& image, const Panel& panel, cv::Rect area) {
  const cv::Rect plot(area.x + 60, area.y + 30, area.width - 80, area.height - 75);
  draw_text(image, panel.title, {area.x + 60, area.y + 20}, 0.5, 1);
  draw_text(image, panel.x_label,
            {plot.x + plot.width / 2 - text_width(panel.x_label) / 2, plot.y + plot.height + 38});
  double x_low = std::numeric_limits<double>::max(), x_high = std::numeric_limits<double>::lowest();
  double y_low = x_low, y_high = x_high;
  for (const Series& s : panel.series)
    for (const cv::Point2d& p : s.points) {
      x_low = std::min(x_low, p.x), x_high = std::max(x_high, p.x);
      y_low = std::min(y_low, p.y), y_high = std::max(y_high, p.y);
    }
  cv::rectangle(image, plot, kInk, 1);
  if (x_low > x_high) {
    const std::string none = "no records yet";
    draw_text(image, none,
              {plot.x + plot.width / 2 - text_width(none) / 2, plot.y + plot.height / 2});
    return;
  }
  x_low = std::min(x_low, 0.0);
  if (x_high <= x_low) x_high = x_low + 1;
  const double pad = (y_high - y_low) * 0.05 + (y_high == y_low ? std::abs(y_high) * 0.1 + 1 : 0);
  y_low -= pad, y_high += pad;
  auto to_pixel = [&](cv::Point2d p) {
    return cv::Point(
        plot.x + static_cast<int>((p.x - x_low) / (x_high - x_low) * plot.width),
        plot.y + plot.height - static_cast<int>((p.y - y_low) / (y_high - y_low) * plot.height));
  };
  for (double x : ticks(x_low, x_high)) {
    const int px = to_pixel({x, y_low}).x;
    cv::line(image, {px, plot.y + 1}, {px, plot.y + plot.height - 1}, kGrid, 1);
    const std::string label = tick_label(x);
    draw_text(image, label, {px - text_width(label) / 2, plot.y + plot.height + 16});
  }
  for (double y : ticks(y_low, y_high)) {
    const int py = to_pixel({x_low, y}).y;
    cv::line(image, {plot.x + 1, py}, {plot.x + plot.width - 1, py}, kGrid, 1);
    const std::string label = tick_label(y);
    draw_text(image, label, {plot.x - 6 - text_width(label), py + 4});
  }
  cv::rectangle(image, plot, kInk, 1);
  int legend_y = plot.y + 16;
  for (const Series& s : panel.series) {
    std::vector<cv::Point> pixels;
    for (const cv::Point2d& p : s.points)
      pixels.push_back(to_pixel(p));
    if (pixels.size() == 1) cv::circle(image, pixels[0], 3, s.colour, cv::FILLED, cv::LINE_AA);
    cv::polylines(image, pixels, false, s.colour, 2, cv::LINE_AA);
    for (const cv::Point& p : pixels)
      if (s.points.size() <= 40) cv::circle(image, p, 2, s.colour, cv::FILLED, cv::LINE_AA);
    const int x = plot.x + plot.width - 10 - text_width(s.label);
    cv::line(image, {x - 26, legend_y - 4}, {x - 6, legend_y - 4}, s.colour, 2, cv::LINE_AA);
    draw_text(image, s.label, {x, legend_y});
    legend_y += 16;
  }
}

}  // namespace

void plot_learning_curves(const std::vector<std::string>& run_dirs, const std::string& png_path,
                          const PlotOptions& options) {
  if (run_dirs.empty()) throw InvalidArgument("plot: name at least one run folder");
  if (options.width < 400 || options.height < 300 || options.width > 8000 || options.height > 8000)
    throw InvalidArgument("plot: the figure must be 400x300 to 8000x8000 pixels");
  Panel loss_by_step{"training loss (per target token)", "step", {}};
  Panel loss_by_time{"training loss (per target token)", "training time (minutes)", {}};
  Panel valid_by_step{"", "step", {}}, valid_by_time{"", "training time (minutes)", {}};
  std::string score_name;
  bool perplexity_only = true;
  std::vector<RunLog> logs;
  for (const std::string& dir : run_dirs) {
    if (!fs::is_regular_file(fs::path(dir) / kRunLogFile))
      throw InputError("plot: '" + dir + "' has no " + kRunLogFile +
                       " (a run folder of s2s train)");
    logs.push_back(read_run_log(dir));
    if (logs.back().records.empty())
      throw InputError("plot: " + (fs::path(dir) / kRunLogFile).string() + " has no records yet");
    for (const RunLogRecord& r : logs.back().records)
      if (r.kind == "validation" && !r.score_name.empty()) {
        if (!score_name.empty() && score_name != r.score_name)
          throw InputError("plot: the runs are scored by both " + score_name + " and " +
                           r.score_name + "; plot them apart");
        score_name = r.score_name, perplexity_only = false;
      }
  }
  for (size_t i = 0; i < logs.size(); ++i) {
    std::string label = fs::path(run_dirs[i]).lexically_normal().filename().string();
    if (label.empty())
      label = fs::path(run_dirs[i]).lexically_normal().parent_path().filename().string();
    const cv::Scalar colour = kPalette[i % std::size(kPalette)];
    Series loss_step{label, colour, {}}, loss_time{label, colour, {}};
    Series valid_step{label, colour, {}}, valid_time{label, colour, {}};
    for (const RunLogRecord& r : logs[i].records) {
      const double minutes = r.elapsed / 60;
      if (r.kind == "progress" && std::isfinite(r.loss)) {
        loss_step.points.emplace_back(static_cast<double>(r.step), r.loss);
        loss_time.points.emplace_back(minutes, r.loss);
      } else if (r.kind == "validation") {
        const double value = perplexity_only ? r.perplexity : r.score;
        if (!std::isfinite(value) || (!perplexity_only && r.score_name.empty())) continue;
        valid_step.points.emplace_back(static_cast<double>(r.step), value);
        valid_time.points.emplace_back(minutes, value);
      }
    }
    loss_by_step.series.push_back(std::move(loss_step));
    loss_by_time.series.push_back(std::move(loss_time));
    valid_by_step.series.push_back(std::move(valid_step));
    valid_by_time.series.push_back(std::move(valid_time));
  }
  std::string upper = score_name;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  valid_by_step.title = valid_by_time.title =
      perplexity_only ? "validation perplexity" : "validation " + upper;

  cv::Mat image(options.height, options.width, CV_8UC3, kWhite);
  const int half_w = options.width / 2, half_h = options.height / 2;
  draw_panel(image, loss_by_step, {0, 0, half_w, half_h});
  draw_panel(image, loss_by_time, {half_w, 0, options.width - half_w, half_h});
  draw_panel(image, valid_by_step, {0, half_h, half_w, options.height - half_h});
  draw_panel(image, valid_by_time,
             {half_w, half_h, options.width - half_w, options.height - half_h});
  std::vector<uchar> png;
  if (!cv::imencode(".png", image, png)) throw IoError("plot: cannot encode the PNG");
  write_file_atomically(png_path,
                        std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
}

}  // namespace s2s::api
