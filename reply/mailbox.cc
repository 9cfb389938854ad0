// mbox splitting, JSON records and the directory walk of reply/mailbox.h.
#include "reply/mailbox.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "seq2seq/error.h"
#include "seq2seq/utf8.h"

namespace s2s::reply {
namespace fs = std::filesystem;

struct MboxReader::State {
  std::string path;
  std::ifstream in;
  size_t max_bytes = 0;
  size_t line_number = 0;
  std::string pending;  // the From_ line that starts the next message
  size_t pending_line = 0;
  bool have_pending = false;
};

MboxReader::MboxReader(const std::string& path, size_t max_bytes)
    : state_(std::make_unique<State>()) {
  state_->path = path;
  state_->max_bytes = max_bytes;
  state_->in.open(path, std::ios::binary);
  if (!state_->in) throw IoError(path + ": cannot open mbox file");
}

MboxReader::~MboxReader() = default;

namespace {

// mboxrd quoting: a body line ">From ", ">>From ", ... lost one '>' when it was written.
bool is_quoted_from(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && line[i] == '>')
    ++i;
  return i > 0 && line.substr(i).starts_with("From ");
}

}  // namespace

bool MboxReader::next(RawMessage& message, bool* truncated) {
  State& s = *state_;
  message = RawMessage{};
  if (truncated) *truncated = false;
  std::string line;
  if (!s.have_pending) {  // the first message: skip anything before the first From_ line
    while (std::getline(s.in, line)) {
      ++s.line_number;
      if (line.starts_with("From ")) {
        s.pending = line;
        s.pending_line = s.line_number;
        s.have_pending = true;
        break;
      }
    }
    if (!s.have_pending) return false;
  }
  if (s.pending.empty() && s.in.eof()) return false;
  message.where = s.path + ":" + std::to_string(s.pending_line);
  s.pending.clear();
  bool too_long = false;
  bool found_next = false;
  while (std::getline(s.in, line)) {
    ++s.line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // A From_ line starts a new message; strictly it follows a blank line, but archives made by
    // concatenating files do not always have one, so any "From " line at column 0 counts.
    if (line.starts_with("From ")) {
      s.pending = line;
      s.pending_line = s.line_number;
      found_next = true;
      break;
    }
    if (too_long) continue;
    if (is_quoted_from(line)) line.erase(0, 1);
    if (message.bytes.size() + line.size() + 1 > s.max_bytes) {
      too_long = true;
      message.bytes.clear();
      message.bytes.shrink_to_fit();
      continue;
    }
    message.bytes += line;
    message.bytes += '\n';
  }
  if (!found_next) s.in.setstate(std::ios::eofbit);
  // The blank line that separates two messages belongs to neither.
  if (message.bytes.ends_with("\n\n")) message.bytes.pop_back();
  if (too_long && truncated) *truncated = true;
  return true;
}

std::vector<RawMessage> parse_json_records(std::string_view text, const std::string& where) {
  std::vector<RawMessage> records;
  const auto add = [&](const nlohmann::json& record, const std::string& at) {
    if (!record.is_object()) throw InputError(at + ": a record must be a JSON object");
    const auto text_field = record.find("text");
    if (text_field == record.end() || !text_field->is_string())
      throw InputError(at + ": the record has no string field \"text\"");
    RawMessage message;
    message.where = at;
    if (const auto group = record.find("group"); group != record.end() && group->is_string())
      message.group = group->get<std::string>();
    message.bytes = text_field->get<std::string>();
    message.unicode = true;
    records.push_back(std::move(message));
  };
  size_t bad = 0;
  if (!is_valid_utf8(text, &bad))
    throw InputError(where + ": invalid UTF-8 at byte " + std::to_string(bad + 1));
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) throw InputError(where + ": empty JSON file");
  try {
    if (text[first] == '[') {
      const nlohmann::json array = nlohmann::json::parse(text);
      for (size_t i = 0; i < array.size(); ++i)
        add(array[i], where + "[" + std::to_string(i) + "]");
      return records;
    }
    // One object, or one object per line: parse line by line, falling back to the whole text
    // for a single object spread over several lines.
    if (nlohmann::json::accept(text)) {
      add(nlohmann::json::parse(text), where);
      return records;
    }
  } catch (const nlohmann::json::exception& e) {
    throw InputError(where + ": invalid JSON: " + e.what());
  }
  size_t line_number = 0, pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    ++line_number;
    pos = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string at = where + ":" + std::to_string(line_number);
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(at + ": invalid JSON: " + e.what());
    }
    add(record, at);
  }
  return records;
}

std::vector<RawMessage> read_json_records(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path + ": cannot open JSON file");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return parse_json_records(buffer.str(), path);
}

InputFormat parse_input_format(const std::string& name) {
  if (name == "auto") return InputFormat::kAuto;
  if (name == "message") return InputFormat::kMessage;
  if (name == "mbox") return InputFormat::kMbox;
  if (name == "json") return InputFormat::kJson;
  throw InvalidArgument("input format must be auto, message, mbox or json, got '" + name + "'");
}

namespace {

InputFormat detect(const fs::path& path) {
  if (path.extension() == ".json" || path.extension() == ".jsonl") return InputFormat::kJson;
  std::ifstream in(path, std::ios::binary);
  char head[5] = {};
  in.read(head, 5);
  return in.gcount() == 5 && std::string_view(head, 5) == "From " ? InputFormat::kMbox
                                                                  : InputFormat::kMessage;
}

void read_file(const fs::path& path, InputFormat format, size_t max_bytes,
               const std::function<void(RawMessage&&)>& on_message,
               const std::function<void(const std::string&, const std::string&)>& on_error) {
  const std::string name = path.string();
  if (format == InputFormat::kAuto) format = detect(path);
  try {
    if (format == InputFormat::kJson) {
      for (RawMessage& m : read_json_records(name))
        on_message(std::move(m));
    } else if (format == InputFormat::kMbox) {
      MboxReader reader(name, max_bytes);
      RawMessage m;
      bool truncated = false;
      while (reader.next(m, &truncated)) {
        if (truncated)
          on_error(m.where, "message over " + std::to_string(max_bytes) + " bytes");
        else
          on_message(std::move(m));
      }
    } else {
      const auto size = fs::file_size(path);
      if (size > max_bytes) {
        on_error(name, "message of " + std::to_string(size) + " bytes is over the limit of " +
                           std::to_string(max_bytes));
        return;
      }
      std::ifstream in(path, std::ios::binary);
      if (!in) throw IoError(name + ": cannot open message file");
      RawMessage m;
      m.where = name;
      m.bytes.resize(size);
      in.read(m.bytes.data(), static_cast<std::streamsize>(size));
      m.bytes.resize(static_cast<size_t>(in.gcount()));
      on_message(std::move(m));
    }
  } catch (const InvalidArgument& e) {
    on_error(name, e.what());
  } catch (const IoError& e) {
    on_error(name, e.what());
  }
}

}  // namespace

void for_each_message(const std::vector<std::string>& inputs, InputFormat format, size_t max_bytes,
                      const std::function<void(RawMessage&&)>& on_message,
                      const std::function<void(const std::string&, const std::string&)>& on_error) {
  for (const std::string& input : inputs) {
    const fs::path path(input);
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) throw IoError(input + ": no such file or directory");
    if (!fs::is_directory(status)) {
      read_file(path, format, max_bytes, on_message, on_error);
      continue;
    }
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(path))
      if (entry.is_regular_file()) {
        if (format == InputFormat::kJson && entry.path().extension() != ".json" &&
            entry.path().extension() != ".jsonl")
          continue;
        files.push_back(entry.path());
      }
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files)
      read_file(file, format, max_bytes, on_message, on_error);
  }
}

}  // namespace s2s::reply
