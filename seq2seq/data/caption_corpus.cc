// Caption references and results: COCO JSON and TSV readers, result matching.
#include "seq2seq/data/caption_corpus.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "seq2seq/error.h"
#include "seq2seq/line_reader.h"
#include "seq2seq/utf8.h"

namespace s2s::data {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open '" + path + "'");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw IoError("cannot read '" + path + "'");
  return buffer.str();
}

bool is_blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  });
}

char first_non_blank(std::string_view text) {
  for (char c : text)
    if (!is_blank(std::string_view(&c, 1))) return c;
  return 0;
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; the rest says where.
std::string json_message(const json::exception& e) {
  std::string what = e.what();
  const size_t end = what.find("] ");
  return what.starts_with("[json.exception.") && end != std::string::npos ? what.substr(end + 2)
                                                                          : what;
}

std::string resolve(const std::string& base_dir, const std::string& path) {
  const fs::path p(path);
  if (p.is_absolute() || base_dir.empty()) return p.lexically_normal().string();
  return (fs::path(base_dir) / p).lexically_normal().string();
}

std::string base_dir_of(const std::string& file, const CaptionReadOptions& options) {
  if (!options.image_dir.empty()) return options.image_dir;
  return fs::path(file).parent_path().string();
}

const char* type_name(const json& v) {
  return v.type_name();  // "string", "number", "object", ...
}

// The value at key of object obj, which `where` names ("annotations[3]").
const json& member(const std::string& file, const json& obj, const std::string& where,
                   const char* key) {
  if (!obj.is_object())
    throw InputError(file + ": " + where + ": expected an object, got " + type_name(obj));
  const auto it = obj.find(key);
  if (it == obj.end()) throw InputError(file + ": " + where + ": missing key '" + key + "'");
  return *it;
}

int64_t int_member(const std::string& file, const json& obj, const std::string& where,
                   const char* key) {
  const json& v = member(file, obj, where, key);
  if (!v.is_number_integer())
    throw InputError(file + ": " + where + "." + key + ": expected an integer, got " +
                     type_name(v) + " " + v.dump());
  return v.get<int64_t>();
}

std::string string_member(const std::string& file, const json& obj, const std::string& where,
                          const char* key) {
  const json& v = member(file, obj, where, key);
  if (!v.is_string())
    throw InputError(file + ": " + where + "." + key + ": expected a string, got " + type_name(v) +
                     " " + v.dump());
  std::string s = v.get<std::string>();
  if (is_blank(s)) throw InputError(file + ": " + where + "." + key + ": empty");
  return s;
}

// Valid UTF-8 or an InputError naming the line of the first bad byte.
void check_utf8(const std::string& file, std::string_view text) {
  size_t bad = 0;
  if (is_valid_utf8(text, &bad)) return;
  const size_t line = 1 + std::count(text.begin(), text.begin() + bad, '\n');
  throw InputError(file + ":" + std::to_string(line) + ": invalid UTF-8");
}

}  // namespace

std::vector<CaptionedImage> read_coco_captions(const std::string& path,
                                               const CaptionReadOptions& options) {
  const std::string text = read_file(path);
  if (is_blank(text)) throw InputError(path + ": empty file, expected COCO captions JSON");
  check_utf8(path, text);
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    throw InputError(path + ": invalid JSON: " + json_message(e));
  }
  if (!root.is_object())
    throw InputError(path + ": expected a JSON object with \"images\" and \"annotations\", got " +
                     type_name(root));
  const json& images = member(path, root, "top level", "images");
  const json& annotations = member(path, root, "top level", "annotations");
  if (!images.is_array())
    throw InputError(path + ": images: expected an array, got " + type_name(images));
  if (!annotations.is_array())
    throw InputError(path + ": annotations: expected an array, got " + type_name(annotations));

  const std::string base = base_dir_of(path, options);
  std::vector<CaptionedImage> out;
  std::unordered_map<int64_t, size_t> by_id;
  for (size_t i = 0; i < images.size(); ++i) {
    const std::string where = "images[" + std::to_string(i) + "]";
    CaptionedImage image;
    image.id = int_member(path, images[i], where, "id");
    image.path = resolve(base, string_member(path, images[i], where, "file_name"));
    if (!by_id.emplace(image.id, out.size()).second)
      throw InputError(path + ": " + where + ".id: duplicate image id " + std::to_string(image.id));
    out.push_back(std::move(image));
  }
  for (size_t i = 0; i < annotations.size(); ++i) {
    const std::string where = "annotations[" + std::to_string(i) + "]";
    const int64_t id = int_member(path, annotations[i], where, "image_id");
    std::string caption = string_member(path, annotations[i], where, "caption");
    const auto it = by_id.find(id);
    if (it == by_id.end())
      throw InputError(path + ": " + where + ".image_id: " + std::to_string(id) +
                       " is not the id of any image in \"images\"");
    out[it->second].captions.push_back(std::move(caption));
  }
  if (options.drop_uncaptioned)
    std::erase_if(out, [](const CaptionedImage& image) { return image.captions.empty(); });
  return out;
}

std::vector<CaptionedImage> read_caption_tsv(const std::string& path,
                                             const CaptionReadOptions& options) {
  LineReader reader(path);
  const std::string base = base_dir_of(path, options);
  std::vector<CaptionedImage> out;
  std::unordered_map<std::string, size_t> by_path;
  std::string line;
  while (reader.next(line)) {
    const size_t tab = line.find('\t');
    if (tab == std::string::npos)
      throw InputError(reader.location() + ": expected image_path<TAB>caption, found no tab");
    if (line.find('\t', tab + 1) != std::string::npos)
      throw InputError(reader.location() + ": expected image_path<TAB>caption, found two tabs");
    const std::string image = line.substr(0, tab), caption = line.substr(tab + 1);
    if (is_blank(image)) throw InputError(reader.location() + ": empty image path");
    if (is_blank(caption)) throw InputError(reader.location() + ": empty caption");
    const std::string resolved = resolve(base, image);
    const auto [it, added] = by_path.emplace(resolved, out.size());
    if (added) out.push_back({resolved, {}, -1});
    out[it->second].captions.push_back(caption);
  }
  if (reader.line_number() == 0) throw InputError(path + ": empty file, expected captions");
  return out;
}

std::vector<CaptionedImage> read_captions(const std::string& path,
                                          const CaptionReadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open '" + path + "'");
  char c = 0;
  while (in.get(c) && is_blank(std::string_view(&c, 1))) {
  }
  if (in && c == '{') return read_coco_captions(path, options);
  return read_caption_tsv(path, options);
}

std::vector<CaptionResult> read_caption_results(const std::string& path) {
  LineReader reader(path);
  std::vector<CaptionResult> out;
  std::string line;
  int format = 0;  // 0 unknown yet, 1 TSV, 2 JSONL
  while (reader.next(line)) {
    if (is_blank(line)) continue;
    if (format == 0) format = first_non_blank(line) == '{' ? 2 : 1;
    CaptionResult result;
    result.line = reader.line_number();
    if (format == 1) {
      const size_t tab = line.find('\t');
      if (tab == std::string::npos)
        throw InputError(reader.location() + ": expected path<TAB>caption, found no tab");
      const size_t end = line.find('\t', tab + 1);
      result.path = line.substr(0, tab);
      result.caption = line.substr(tab + 1, end == std::string::npos ? end : end - tab - 1);
    } else {
      json record;
      try {
        record = json::parse(line);
      } catch (const json::parse_error& e) {
        throw InputError(reader.location() + ": invalid JSON: " + json_message(e));
      }
      const std::string where = "record";
      const json& p = member(reader.location(), record, where, "path");
      if (!p.is_string())
        throw InputError(reader.location() + ": path: expected a string, got " + type_name(p));
      result.path = p.get<std::string>();
      const auto caption = record.find("caption"), error = record.find("error");
      if (error != record.end() && !error->is_null()) {
        result.error = error->is_string() ? error->get<std::string>() : error->dump();
      } else if (caption == record.end()) {
        throw InputError(reader.location() + ": missing key 'caption' (or 'error')");
      } else if (!caption->is_string()) {
        throw InputError(reader.location() + ": caption: expected a string, got " +
                         type_name(*caption));
      } else {
        result.caption = caption->get<std::string>();
      }
    }
    if (is_blank(result.path)) throw InputError(reader.location() + ": empty path");
    out.push_back(std::move(result));
  }
  if (out.empty()) throw InputError(path + ": no captions in the file");
  return out;
}

MatchedCaptions match_captions(const std::vector<CaptionResult>& results,
                               const std::string& results_path,
                               const std::vector<CaptionedImage>& references, bool allow_missing) {
  std::unordered_map<std::string, size_t> by_absolute;
  for (size_t i = 0; i < references.size(); ++i)
    by_absolute.emplace(fs::absolute(references[i].path).lexically_normal().string(), i);
  // Component-wise suffixes of the reference paths -> the reference, or npos when ambiguous;
  // built only when an absolute match fails.
  std::unordered_map<std::string, size_t> by_suffix;
  const auto build_suffixes = [&] {
    for (size_t i = 0; i < references.size(); ++i) {
      const fs::path p = fs::path(references[i].path).lexically_normal();
      std::vector<std::string> parts;
      for (const auto& part : p)
        if (part != "/" && !part.empty()) parts.push_back(part.string());
      std::string key;
      for (size_t k = parts.size(); k-- > 0;) {
        key = key.empty() ? parts[k] : parts[k] + "/" + key;
        const auto [it, added] = by_suffix.emplace(key, i);
        if (!added && it->second != i) it->second = std::string::npos;
      }
    }
  };

  std::vector<const CaptionResult*> chosen(references.size(), nullptr);
  for (const CaptionResult& result : results) {
    const std::string where = results_path + ":" + std::to_string(result.line);
    size_t index = std::string::npos;
    const auto it = by_absolute.find(fs::absolute(result.path).lexically_normal().string());
    if (it != by_absolute.end()) {
      index = it->second;
    } else {
      if (by_suffix.empty()) build_suffixes();
      const fs::path rel = fs::path(result.path).lexically_normal();
      const auto s = rel.is_relative() ? by_suffix.find(rel.string()) : by_suffix.end();
      if (s != by_suffix.end() && s->second == std::string::npos)
        throw InputError(where + ": '" + result.path +
                         "' matches several reference images; write it with more folders");
      if (s == by_suffix.end())
        throw InputError(where + ": '" + result.path + "' is not an image of the references");
      index = s->second;
    }
    if (!chosen[index]) chosen[index] = &result;  // n-best lists: the first is the best
  }

  MatchedCaptions out;
  out.missing = static_cast<size_t>(std::count(chosen.begin(), chosen.end(), nullptr));
  if (out.missing > 0 && !allow_missing) {
    const size_t first = std::find(chosen.begin(), chosen.end(), nullptr) - chosen.begin();
    throw InputError(results_path + " has no caption for " + std::to_string(out.missing) + " of " +
                     std::to_string(references.size()) + " reference images, the first '" +
                     references[first].path + "'");
  }
  for (size_t i = 0; i < references.size(); ++i) {
    if (!chosen[i]) continue;
    if (references[i].captions.empty())
      throw InputError("the reference image '" + references[i].path + "' has no caption");
    if (!chosen[i]->error.empty()) ++out.failed;
    out.hypotheses.push_back(chosen[i]->caption);
    out.references.push_back(references[i].captions);
    out.paths.push_back(references[i].path);
  }
  return out;
}

}  // namespace s2s::data
