// Reading and writing the safetensors format, the on-disk form of every model and checkpoint
// (readable by numpy/PyTorch users): an 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
// then the raw little-endian tensor bytes. Writes are atomic (AtomicFile).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "seq2seq/tensor.h"

namespace s2s {

struct SafetensorsContents {
  std::map<std::string, Tensor> tensors;        // all on the CPU
  std::map<std::string, std::string> metadata;  // "__metadata__", string to string
};

// Writes tensors (any device; copied to the host) in the given order. Names must be unique and
// non-empty. Throws IoError on a write failure; the old file, if any, is then left intact.
void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Reads a whole file. Every malformation (truncated, header length beyond the file, invalid
// JSON, unknown dtype, shape and byte range that disagree, overlapping or out-of-file ranges)
// throws InputError naming the file and the entry; a missing file throws IoError.
SafetensorsContents load_safetensors(const std::string& path);

}  // namespace s2s
