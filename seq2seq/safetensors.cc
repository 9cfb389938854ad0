// safetensors reader and writer.
#include "seq2seq/safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "seq2seq/atomic_file.h"
#include "seq2seq/error.h"

namespace s2s {
namespace {

// A header larger than this is not a model header but a corrupt or hostile length field.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

const char* safetensors_dtype(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "F32";
    case DType::f64:
      return "F64";
    case DType::i32:
      return "I32";
    case DType::i8:
      return "I8";
  }
  return "?";
}

bool parse_dtype(const std::string& name, DType& dtype) {
  if (name == "F32")
    dtype = DType::f32;
  else if (name == "F64")
    dtype = DType::f64;
  else if (name == "I32")
    dtype = DType::i32;
  else if (name == "I8")
    dtype = DType::i8;
  else
    return false;
  return true;
}

void put_u64_le(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    S2S_CHECK(!name.empty() && name != "__metadata__", "save_safetensors ", path,
              ": invalid tensor name '", name, "'");
    S2S_CHECK(!header.contains(name), "save_safetensors ", path, ": duplicate tensor name '", name,
              "'");
    S2S_CHECK(tensor.defined(), "save_safetensors ", path, ": tensor '", name, "' is undefined");
    header[name] = {{"dtype", safetensors_dtype(tensor.dtype())},
                    {"shape", tensor.shape().dims()},
                    {"data_offsets", {offset, offset + tensor.bytes()}}};
    offset += tensor.bytes();
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');  // aligns the data for memory-mapping readers
  std::string prefix;
  put_u64_le(prefix, json.size());

  AtomicFile file(path);
  file.write(prefix);
  file.write(json);
  for (const auto& [name, tensor] : tensors) {
    if (tensor.device().is_cpu()) {
      file.write(tensor.raw_data(), tensor.bytes());
    } else {
      const Tensor host = tensor.to(Device::cpu());
      file.write(host.raw_data(), host.bytes());
    }
  }
  file.commit();
}

SafetensorsContents load_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open '" + path + "': " + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const uint64_t file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  auto bad = [&](const std::string& what) {
    return InputError("'" + path + "' is not a valid safetensors file: " + what);
  };
  if (file_size < 8) throw bad("truncated (" + std::to_string(file_size) + " bytes)");
  unsigned char len_bytes[8];
  in.read(reinterpret_cast<char*>(len_bytes), 8);
  uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i)
    header_len |= static_cast<uint64_t>(len_bytes[i]) << (8 * i);
  if (header_len > kMaxHeaderBytes)
    throw bad("header length " + std::to_string(header_len) + " is implausible");
  if (8 + header_len > file_size)
    throw bad("header length " + std::to_string(header_len) + " runs past the end of the file");
  std::string json_text(header_len, '\0');
  in.read(json_text.data(), static_cast<std::streamsize>(header_len));
  if (!in) throw IoError("cannot read '" + path + "'");

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    throw bad(std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) throw bad("header is not a JSON object");

  const uint64_t data_size = file_size - 8 - header_len;
  SafetensorsContents contents;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& entry = it.value();
    if (name == "__metadata__") {
      if (!entry.is_object()) throw bad("__metadata__ is not an object");
      for (auto m = entry.begin(); m != entry.end(); ++m) {
        if (!m.value().is_string())
          throw bad("__metadata__ value '" + m.key() + "' is not a string");
        contents.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor '" + name + "': ";
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets"))
      throw bad(where + "needs dtype, shape and data_offsets");
    DType dtype;
    if (!entry["dtype"].is_string() || !parse_dtype(entry["dtype"].get<std::string>(), dtype))
      throw bad(where + "unsupported dtype " + entry["dtype"].dump() +
                " (s2s reads F32, F64, I32)");
    const auto& shape_json = entry["shape"];
    if (!shape_json.is_array() || shape_json.size() > Shape::kMaxRank)
      throw bad(where + "shape must be an array of at most " + std::to_string(Shape::kMaxRank) +
                " sizes");
    std::vector<int64_t> dims;
    for (const auto& d : shape_json) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > (1ull << 40))
        throw bad(where + "invalid dimension " + d.dump());
      dims.push_back(d.get<int64_t>());
    }
    const auto& offsets = entry["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
      throw bad(where + "data_offsets must be two byte offsets");
    const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    const Shape shape(dims);
    const uint64_t expected = static_cast<uint64_t>(shape.numel()) * dtype_size(dtype);
    if (begin > end || end > data_size)
      throw bad(where + "byte range [" + std::to_string(begin) + ", " + std::to_string(end) +
                ") lies outside the " + std::to_string(data_size) +
                " data bytes (truncated file?)");
    if (end - begin != expected)
      throw bad(where + "shape " + shape.str() + " needs " + std::to_string(expected) +
                " bytes, the range holds " + std::to_string(end - begin));
    ranges.emplace_back(begin, end);
    Tensor t = Tensor::empty(shape, dtype);
    in.seekg(static_cast<std::streamoff>(8 + header_len + begin));
    in.read(static_cast<char*>(t.raw_data()), static_cast<std::streamsize>(expected));
    if (!in) throw IoError("cannot read tensor '" + name + "' from '" + path + "'");
    contents.tensors.emplace(name, std::move(t));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second) throw bad("two tensors share bytes");
  return contents;
}

}  // namespace s2s
