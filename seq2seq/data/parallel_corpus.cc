// ParallelCorpus: its own buffered line source, because a bad line must be classified and skipped
// and reading must go on after it: LineReader throws on over-long lines and invalid UTF-8, and
// after an over-long line its position is in the middle of that line.
#include "seq2seq/data/parallel_corpus.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "seq2seq/error.h"
#include "seq2seq/utf8.h"

namespace s2s::data {

OnBadLine parse_on_bad_line(const std::string& text) {
  if (text == "skip") return OnBadLine::skip;
  if (text == "fail") return OnBadLine::fail;
  throw ConfigError("on_bad_line: expected 'skip' or 'fail', got '" + text + "'");
}

const char* bad_line_reason_name(BadLineReason reason) {
  switch (reason) {
    case BadLineReason::no_tab:
      return "no tab";
    case BadLineReason::extra_tab:
      return "more than one tab";
    case BadLineReason::empty_side:
      return "empty side";
    case BadLineReason::invalid_utf8:
      return "invalid UTF-8";
    case BadLineReason::too_long:
      return "too long";
  }
  return "unknown";
}

std::string BadLine::message() const {
  return file + ":" + std::to_string(line) + ": " + detail;
}

uint64_t CorpusStats::bad_total() const {
  uint64_t total = 0;
  for (uint64_t n : bad)
    total += n;
  return total;
}

std::string CorpusStats::summary() const {
  std::string out = std::to_string(lines) + " lines, " + std::to_string(pairs) + " pairs, " +
                    std::to_string(bad_total()) + " bad";
  std::string parts;
  for (size_t r = 0; r < kNumBadLineReasons; ++r) {
    if (bad[r] == 0) continue;
    if (!parts.empty()) parts += ", ";
    parts += std::to_string(bad[r]) + " " + bad_line_reason_name(static_cast<BadLineReason>(r));
  }
  return parts.empty() ? out : out + " (" + parts + ")";
}

// Reads raw lines in 64 KiB blocks. An over-long line is consumed to its end without being kept,
// so memory stays bounded and the next line starts where it should.
class ParallelCorpus::LineSource {
 public:
  LineSource(const std::string& path, size_t max_line_bytes)
      : name_(path == "-" ? "<stdin>" : path), max_line_bytes_(max_line_bytes), buffer_(1 << 16) {
    if (path == "-") {
      file_ = stdin;
    } else {
      file_ = std::fopen(path.c_str(), "rb");
      if (!file_) throw IoError("cannot open '" + path + "': " + std::strerror(errno));
      owns_file_ = true;
    }
  }
  ~LineSource() {
    if (owns_file_) std::fclose(file_);
  }

  // The next line without its "\n" or "\r\n"; false at the end. too_long leaves line empty.
  bool next(std::string& line, bool& too_long) {
    line.clear();
    too_long = false;
    bool any = false, newline = false;
    while (!newline) {
      if (pos_ == end_ && !fill()) break;
      any = true;
      const char* start = buffer_.data() + pos_;
      const size_t avail = end_ - pos_;
      const char* nl = static_cast<const char*>(std::memchr(start, '\n', avail));
      const size_t take = nl ? static_cast<size_t>(nl - start) : avail;
      if (!too_long) {
        // + 1: room for the '\r' of a "\r\n" ending, which does not count against the limit.
        if (line.size() + take > max_line_bytes_ + 1) {
          too_long = true;
          line.clear();
        } else {
          line.append(start, take);
        }
      }
      pos_ += take + (nl ? 1 : 0);
      newline = nl != nullptr;
    }
    if (!any) return false;
    ++line_number_;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() > max_line_bytes_) {
      too_long = true;
      line.clear();
    }
    return true;
  }

  const std::string& name() const { return name_; }
  uint64_t line_number() const { return line_number_; }

 private:
  bool fill() {
    pos_ = 0;
    end_ = std::fread(buffer_.data(), 1, buffer_.size(), file_);
    if (end_ == 0 && std::ferror(file_))
      throw IoError("cannot read '" + name_ + "': " + std::strerror(errno));
    return end_ > 0;
  }

  std::string name_;
  size_t max_line_bytes_;
  std::FILE* file_ = nullptr;
  bool owns_file_ = false;
  std::vector<char> buffer_;
  size_t pos_ = 0, end_ = 0;
  uint64_t line_number_ = 0;
};

namespace {

bool is_blank(const std::string& text) {
  return text.find_first_not_of(" \t\r\v\f") == std::string::npos;
}

}  // namespace

ParallelCorpus::ParallelCorpus(std::vector<std::string> paths, CorpusOptions options)
    : paths_(std::move(paths)), options_(std::move(options)) {
  if (paths_.size() != 1 && paths_.size() != 2)
    throw ConfigError("a parallel corpus is one TSV file or two aligned files, got " +
                      std::to_string(paths_.size()) + " paths");
  if (options_.max_line_bytes == 0) throw ConfigError("max_line_bytes must be positive");
  for (const std::string& path : paths_)
    sources_.push_back(std::make_unique<LineSource>(path, options_.max_line_bytes));
}

ParallelCorpus::~ParallelCorpus() = default;

bool ParallelCorpus::next(SentencePair& pair) {
  return sources_.size() == 1 ? next_tsv(pair) : next_aligned(pair);
}

void ParallelCorpus::bad_line(BadLine bad) {
  ++stats_.bad[static_cast<size_t>(bad.reason)];
  if (options_.on_bad_line == OnBadLine::fail)
    throw InputError(bad.message() + " (on_bad_line is 'fail'; 'skip' drops such lines)");
  if (reported_ >= options_.max_reported) return;
  ++reported_;
  if (options_.report)
    options_.report(bad);
  else
    std::fprintf(stderr, "warning: %s\n", bad.message().c_str());
}

bool ParallelCorpus::next_tsv(SentencePair& pair) {
  LineSource& in = *sources_[0];
  std::string& line = pair.source;  // read in place; the target is split off below
  bool too_long = false;
  while (in.next(line, too_long)) {
    ++stats_.lines;
    const uint64_t number = in.line_number();
    auto bad = [&](BadLineReason reason, std::string detail) {
      bad_line({in.name(), number, reason, std::move(detail)});
    };
    size_t at = 0;
    if (too_long) {
      bad(BadLineReason::too_long,
          "line longer than " + std::to_string(options_.max_line_bytes) + " bytes");
      continue;
    }
    if (!is_valid_utf8(line, &at)) {
      bad(BadLineReason::invalid_utf8, "invalid UTF-8 at byte " + std::to_string(at + 1));
      continue;
    }
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) {
      bad(BadLineReason::no_tab, "no tab (expected source<TAB>target)");
      continue;
    }
    if (line.find('\t', tab + 1) != std::string::npos) {
      bad(BadLineReason::extra_tab, "more than one tab (expected source<TAB>target)");
      continue;
    }
    pair.target.assign(line, tab + 1);
    line.resize(tab);
    if (is_blank(pair.source) || is_blank(pair.target)) {
      bad(BadLineReason::empty_side, is_blank(pair.source) ? "empty source" : "empty target");
      continue;
    }
    pair.index = number - 1;
    ++stats_.pairs;
    return true;
  }
  return false;
}

bool ParallelCorpus::next_aligned(SentencePair& pair) {
  LineSource& src = *sources_[0];
  LineSource& tgt = *sources_[1];
  bool src_long = false, tgt_long = false;
  for (;;) {
    const bool has_src = src.next(pair.source, src_long);
    const bool has_tgt = tgt.next(pair.target, tgt_long);
    if (!has_src && !has_tgt) return false;
    if (has_src != has_tgt) {
      LineSource& longer = has_src ? src : tgt;
      std::string rest;
      bool ignored = false;
      while (longer.next(rest, ignored)) {
      }
      throw InputError("misaligned corpus: '" + src.name() + "' has " +
                       std::to_string(src.line_number()) + " lines but '" + tgt.name() + "' has " +
                       std::to_string(tgt.line_number()) +
                       "; the two files must have one line per sentence each");
    }
    ++stats_.lines;
    const uint64_t number = src.line_number();
    // The first fault found names its side's file; source faults are checked first.
    bool bad = false;
    for (int side = 0; side < 2 && !bad; ++side) {
      LineSource& in = side == 0 ? src : tgt;
      const std::string& text = side == 0 ? pair.source : pair.target;
      size_t at = 0;
      if (side == 0 ? src_long : tgt_long) {
        bad_line({in.name(), number, BadLineReason::too_long,
                  "line longer than " + std::to_string(options_.max_line_bytes) + " bytes"});
        bad = true;
      } else if (!is_valid_utf8(text, &at)) {
        bad_line({in.name(), number, BadLineReason::invalid_utf8,
                  "invalid UTF-8 at byte " + std::to_string(at + 1)});
        bad = true;
      } else if (is_blank(text)) {
        bad_line({in.name(), number, BadLineReason::empty_side,
                  side == 0 ? "empty source" : "empty target"});
        bad = true;
      }
    }
    if (bad) continue;
    pair.index = number - 1;
    ++stats_.pairs;
    return true;
  }
}

}  // namespace s2s::data
