// ParallelCorpus: streams sentence pairs from a TSV file ("source<TAB>target" per line) or from
// two line-aligned files, with bounded memory. Owns the bad-line policy of every corpus s2s
// trains or validates on: what counts as a bad line, how it is reported (file:line and reason),
// whether it is skipped or fatal, and the per-reason counts.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace s2s::data {

enum class OnBadLine : uint8_t { skip, fail };

// "skip" or "fail" (the recipe's data.on_bad_line); throws ConfigError naming the value otherwise.
OnBadLine parse_on_bad_line(const std::string& text);

enum class BadLineReason : uint8_t {
  no_tab,        // TSV line without a tab (an empty line too)
  extra_tab,     // TSV line with more than one tab
  empty_side,    // source or target empty or only spaces
  invalid_utf8,  // not well-formed UTF-8
  too_long,      // longer than CorpusOptions::max_line_bytes
};
inline constexpr size_t kNumBadLineReasons = 5;
const char* bad_line_reason_name(BadLineReason reason);  // "no tab", "invalid UTF-8", ...

struct BadLine {
  std::string file;   // the file whose line is bad (in two-file mode, the offending side's)
  uint64_t line = 0;  // 1-based
  BadLineReason reason = BadLineReason::no_tab;
  std::string detail;  // e.g. "invalid UTF-8 at byte 7", "empty target"

  std::string message() const;  // "corpus.tsv:17: empty target"
};

struct CorpusStats {
  uint64_t lines = 0;  // lines (pairs of lines, in two-file mode) read so far
  uint64_t pairs = 0;  // good pairs returned
  std::array<uint64_t, kNumBadLineReasons> bad{};  // indexed by BadLineReason

  uint64_t bad_total() const;
  uint64_t bad_count(BadLineReason reason) const { return bad[static_cast<size_t>(reason)]; }
  // "120 lines, 117 pairs, 3 bad (2 no tab, 1 invalid UTF-8)"
  std::string summary() const;
};

struct CorpusOptions {
  // skip: count and drop a bad line; fail: throw InputError naming file:line. Default skip.
  OnBadLine on_bad_line = OnBadLine::skip;
  // A line (a whole TSV line, or one side's line) longer than this many bytes is bad; memory per
  // line never exceeds it. Default 1 MiB.
  size_t max_line_bytes = size_t{1} << 20;
  // Skipped lines passed to `report`; later ones are only counted. Default 10.
  size_t max_reported = 10;
  // Receives the first max_reported skipped lines. Default (empty): "warning: <message>" on stderr.
  std::function<void(const BadLine&)> report;
};

struct SentencePair {
  std::string source;
  std::string target;
  uint64_t index = 0;  // 0-based line number in the corpus: skipped lines leave gaps
};

class ParallelCorpus {
 public:
  // One path: a TSV file; two paths: the source and target files, aligned line by line. "-" is
  // standard input. Throws IoError naming a file that cannot be opened, ConfigError for another
  // number of paths.
  explicit ParallelCorpus(std::vector<std::string> paths, CorpusOptions options = {});
  ~ParallelCorpus();
  ParallelCorpus(const ParallelCorpus&) = delete;
  ParallelCorpus& operator=(const ParallelCorpus&) = delete;

  // The next good pair; false at the end of the corpus. Throws InputError for a bad line under
  // on_bad_line = fail, and always when the two files have different numbers of lines (naming
  // both files and both counts); IoError when a read fails.
  bool next(SentencePair& pair);

  const CorpusStats& stats() const { return stats_; }
  const std::vector<std::string>& paths() const { return paths_; }

 private:
  class LineSource;

  bool next_tsv(SentencePair& pair);
  bool next_aligned(SentencePair& pair);
  void bad_line(BadLine bad);  // counts, then reports and returns or throws

  std::vector<std::string> paths_;
  CorpusOptions options_;
  std::vector<std::unique_ptr<LineSource>> sources_;  // 1 (TSV) or 2 (source, target)
  CorpusStats stats_;
  size_t reported_ = 0;
};

}  // namespace s2s::data
