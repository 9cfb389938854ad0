// Folder manifests: XXH3-64 checksums (libxxhash) of every file, written last, verified on load.
#include "seq2seq/manifest.h"

#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "seq2seq/atomic_file.h"
#include "seq2seq/error.h"

namespace s2s {
namespace fs = std::filesystem;

namespace {

constexpr const char* kHeader = "s2s-manifest 1 xxh3-64";

std::string hex(uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

bool parse_hex(const std::string& text, uint64_t& value) {
  if (text.size() != 16) return false;
  value = 0;
  for (char c : text) {
    int digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else
      return false;
    value = value << 4 | static_cast<uint64_t>(digit);
  }
  return true;
}

bool parse_size(const std::string& text, int64_t& value) {
  if (text.empty() || text.size() > 18) return false;
  value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return true;
}

// The regular files of folder except the marker, by name.
std::vector<std::string> files_in(const fs::path& folder) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    if (name != kManifestName && entry.is_regular_file()) names.push_back(name);
  }
  if (ec) throw IoError("cannot list folder '" + folder.string() + "': " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

struct Entry {
  uint64_t checksum = 0;
  int64_t size = 0;
};

// Parses a manifest's text into entries (name -> entry); "" on success, else what is wrong.
std::string parse_manifest(const std::string& text, std::map<std::string, Entry>& entries) {
  if (text.empty() || text.back() != '\n') return "it does not end with a complete line";
  const size_t last = text.rfind('\n', text.size() - 2);
  const size_t end_at = last == std::string::npos ? 0 : last + 1;
  const std::string end_line = text.substr(end_at, text.size() - 1 - end_at);
  uint64_t recorded = 0;
  if (end_line.rfind("end ", 0) != 0 || !parse_hex(end_line.substr(4), recorded))
    return "its last line is not 'end <checksum>'";
  const uint64_t actual = XXH3_64bits(text.data(), end_at);
  if (actual != recorded)
    return "its own checksum is " + hex(actual) + ", its last line recorded " + hex(recorded);
  std::istringstream lines(text.substr(0, end_at));
  std::string line;
  if (!std::getline(lines, line) || line != kHeader)
    return "its first line is '" + line + "', not '" + kHeader +
           "' (written by a newer s2s, or not a manifest)";
  int number = 1;
  while (std::getline(lines, line)) {
    ++number;
    const size_t a = line.find(' '), b = a == std::string::npos ? a : line.find(' ', a + 1);
    Entry entry;
    if (b == std::string::npos || b + 1 >= line.size() ||
        !parse_hex(line.substr(0, a), entry.checksum) ||
        !parse_size(line.substr(a + 1, b - a - 1), entry.size))
      return "line " + std::to_string(number) + " is not '<checksum> <size> <name>'";
    if (!entries.emplace(line.substr(b + 1), entry).second)
      return "line " + std::to_string(number) + " lists '" + line.substr(b + 1) + "' twice";
  }
  return "";
}

}  // namespace

uint64_t file_checksum(const std::string& path, int64_t* size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read '" + path + "' to checksum it");
  std::unique_ptr<XXH3_state_t, XXH_errorcode (*)(XXH3_state_t*)> state(XXH3_createState(),
                                                                        XXH3_freeState);
  if (!state || XXH3_64bits_reset(state.get()) != XXH_OK)
    throw EnvironmentError("cannot start an XXH3 checksum of '" + path + "'");
  std::vector<char> chunk(1 << 20);
  int64_t total = 0;
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    XXH3_64bits_update(state.get(), chunk.data(), static_cast<size_t>(got));
    total += got;
  }
  if (in.bad()) throw IoError("cannot read '" + path + "' to checksum it");
  if (size) *size = total;
  return XXH3_64bits_digest(state.get());
}

void write_manifest(const std::string& folder) {
  const fs::path dir(folder);
  std::string text = std::string(kHeader) + "\n";
  for (const std::string& name : files_in(dir)) {
    S2S_CHECK(name.find('\n') == std::string::npos, "file name '", name, "' in '", folder,
              "' holds a line break: it cannot be listed in a manifest");
    int64_t size = 0;
    const uint64_t checksum = file_checksum((dir / name).string(), &size);
    text += hex(checksum) + " " + std::to_string(size) + " " + name + "\n";
  }
  text += "end " + hex(XXH3_64bits(text.data(), text.size())) + "\n";
  write_file_atomically((dir / kManifestName).string(), text);
}

const char* file_status_name(FileStatus status) {
  switch (status) {
    case FileStatus::ok:
      return "ok";
    case FileStatus::damaged:
      return "DAMAGED";
    case FileStatus::missing:
      return "MISSING";
    case FileStatus::unlisted:
      return "unlisted";
    case FileStatus::unchecked:
      return "unchecked";
  }
  return "?";
}

bool FolderCheck::ok() const {
  return problems().empty();
}

std::vector<const FileCheck*> FolderCheck::problems() const {
  std::vector<const FileCheck*> bad;
  for (const FileCheck& f : files)
    if (f.status == FileStatus::damaged || f.status == FileStatus::missing) bad.push_back(&f);
  return bad;
}

FolderCheck check_folder(const std::string& folder) {
  const fs::path dir(folder);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw IoError("'" + folder + "' is not a folder");
  FolderCheck result;
  result.folder = folder;
  const std::vector<std::string> present = files_in(dir);

  FileCheck marker;
  marker.name = kManifestName;
  std::string text;
  const fs::path marker_path = dir / kManifestName;
  if (fs::exists(marker_path, ec)) {
    std::ifstream in(marker_path, std::ios::binary);
    if (!in) throw IoError("cannot read '" + marker_path.string() + "'");
    text.assign(std::istreambuf_iterator<char>(in), {});
    marker.size = static_cast<int64_t>(text.size());
  }
  std::map<std::string, Entry> entries;
  if (text.empty()) {
    marker.detail = "no manifest: written before s2s recorded checksums, so unverified";
  } else {
    result.has_manifest = true;
    marker.detail = parse_manifest(text, entries);
    marker.status = marker.detail.empty() ? FileStatus::ok : FileStatus::damaged;
  }
  result.files.push_back(marker);
  const bool checkable = marker.status == FileStatus::ok;

  for (const std::string& name : present) {
    FileCheck f;
    f.name = name;
    const auto it = entries.find(name);
    if (!checkable) {
      f.size = static_cast<int64_t>(fs::file_size(dir / name, ec));
    } else if (it == entries.end()) {
      f.status = FileStatus::unlisted;
      f.size = static_cast<int64_t>(fs::file_size(dir / name, ec));
      f.detail = "not in the manifest (added after the folder was written)";
    } else {
      const uint64_t checksum = file_checksum((dir / name).string(), &f.size);
      if (f.size != it->second.size) {
        f.status = FileStatus::damaged;
        f.detail = "size " + std::to_string(f.size) + " bytes, the manifest recorded " +
                   std::to_string(it->second.size);
      } else if (checksum != it->second.checksum) {
        f.status = FileStatus::damaged;
        f.detail =
            "checksum " + hex(checksum) + ", the manifest recorded " + hex(it->second.checksum);
      } else {
        f.status = FileStatus::ok;
      }
    }
    result.files.push_back(f);
  }
  for (const auto& [name, entry] : entries)
    if (!std::binary_search(present.begin(), present.end(), name)) {
      FileCheck f;
      f.name = name;
      f.status = FileStatus::missing;
      f.detail = "listed in the manifest (" + std::to_string(entry.size) + " bytes), not present";
      result.files.push_back(f);
    }
  std::sort(result.files.begin() + 1, result.files.end(),
            [](const FileCheck& a, const FileCheck& b) { return a.name < b.name; });
  return result;
}

void verify_folder(const std::string& folder) {
  std::error_code ec;
  if (fs::file_size(fs::path(folder) / kManifestName, ec) == 0 || ec) return;  // unverifiable
  const FolderCheck check = check_folder(folder);
  const std::vector<const FileCheck*> bad = check.problems();
  if (bad.empty()) return;
  const FileCheck& first = *bad.front();
  const std::string path = (fs::path(folder) / first.name).string();
  std::string message;
  if (first.name == kManifestName)
    message = "'" + path + "' (the folder's manifest) is damaged: " + first.detail +
              "; none of the folder's files can be trusted";
  else
    message = "'" + path + "' is " + (first.status == FileStatus::missing ? "missing" : "damaged") +
              " (" + first.detail + "): changed since it was written, so it is not used" +
              " (if you edited it on purpose, remove '" +
              (fs::path(folder) / kManifestName).string() + "' to use the folder unverified)";
  if (bad.size() > 1) {
    message += "; also damaged or missing:";
    for (size_t i = 1; i < bad.size(); ++i)
      message += " " + bad[i]->name;
  }
  throw IntegrityError(message);
}

}  // namespace s2s
