// Caption data: the readers of image-caption references (COCO captions JSON, or TSV
// `image_path<TAB>caption` with several lines per image) and of caption results (what
// `s2s caption` writes: TSV or JSONL), and the matching of results to references by image path.
// Every reader validates fully and throws InputError naming the file and the line or JSON key at
// fault; none opens an image.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace s2s::data {

// One image and its reference captions.
struct CaptionedImage {
  std::string path;                   // as resolved: absolute, or relative to the working folder
  std::vector<std::string> captions;  // in file order; may be empty for a COCO image no
                                      // annotation names
  int64_t id = -1;                    // the COCO image id; -1 for TSV
};

struct CaptionReadOptions {
  // Relative image paths are resolved against this folder; empty (the default): against the
  // folder of the file being read.
  std::string image_dir;
  // Drop COCO images that no annotation names (default true: a training set wants captions).
  bool drop_uncaptioned = true;
};

// COCO captions format: {"images": [{"id": int, "file_name": str, ...}, ...],
// "annotations": [{"image_id": int, "caption": str, ...}, ...], ...}; other keys are ignored.
// Images in the order of "images", captions in the order of "annotations". Errors (each an
// InputError naming the file and the key, e.g. "caps.json: annotations[3].image_id: 42 is not
// an image id"): empty file, invalid JSON (with line and column), invalid UTF-8, a missing key,
// a value of the wrong type, an empty file_name or caption, a duplicate image id, an image_id
// that no image has.
std::vector<CaptionedImage> read_coco_captions(const std::string& path,
                                               const CaptionReadOptions& options = {});

// TSV: `image_path<TAB>caption` per line, several lines per image (grouped by path, in the order
// of first appearance). Errors (InputError naming file:line): empty file, a line without a tab
// or with more than one, an empty path or caption, invalid UTF-8, an over-long line. Empty
// lines are errors too: a caption file has none.
std::vector<CaptionedImage> read_caption_tsv(const std::string& path,
                                             const CaptionReadOptions& options = {});

// By content: a file whose first non-blank byte is '{' is COCO JSON, anything else TSV.
std::vector<CaptionedImage> read_captions(const std::string& path,
                                          const CaptionReadOptions& options = {});

// One caption of a result file.
struct CaptionResult {
  std::string path;     // as written in the file (not resolved)
  std::string caption;  // empty when the image failed (error set)
  std::string error;    // JSONL "error" field, for an image `s2s caption` could not read
  uint64_t line = 0;    // 1-based line in the result file
};

// TSV: `path<TAB>caption[<TAB>more fields...]`, fields after the second ignored (e.g. a score).
// JSONL (a file whose first non-blank byte is '{'): one object per line with "path" (string) and
// "caption" (string) or "error" (string); other keys ignored. Blank lines are skipped.
// InputError naming file:line for anything else.
std::vector<CaptionResult> read_caption_results(const std::string& path);

// Pairs each reference image with its result caption, for scoring. A result's path is matched
// to a reference path by equal normalized absolute paths (relative result paths are resolved
// against the working folder, as `s2s caption` writes them), else by being a unique
// component-wise suffix of one reference path ("test/000001.png" matches
// "/data/fashion/test/000001.png"). When a path has several results (an n-best list) the first
// is used. A result matching no reference image is an InputError naming its line; a reference
// image without a result is an InputError unless allow_missing, in which case it is left out
// (missing receives their count). A failed result (error set) scores as an empty caption.
struct MatchedCaptions {
  std::vector<std::string> hypotheses;               // one per scored image
  std::vector<std::vector<std::string>> references;  // parallel to hypotheses
  std::vector<std::string> paths;                    // the reference paths, parallel
  size_t missing = 0;                                // reference images without a result
  size_t failed = 0;                                 // results with an error
};
MatchedCaptions match_captions(const std::vector<CaptionResult>& results,
                               const std::string& results_path,
                               const std::vector<CaptionedImage>& references,
                               bool allow_missing = false);

}  // namespace s2s::data
