// The integrity of model and checkpoint folders (DESIGN.md "Files on disk"): the completion
// marker ".complete", written last into a folder, is a manifest of every other file in it with
// its size and XXH3-64 checksum, and ends with a checksum of its own text. Loading a model folder
// or resuming from a checkpoint verifies the folder against it first, so a damaged file (a
// flipped bit, a truncation, an edit) is named and never used.
//
// The manifest's text (one line each, names last so they may hold spaces):
//   s2s-manifest 1 xxh3-64
//   <16 hex digits> <size in bytes> <file name>      one line per file, sorted by name
//   end <16 hex digits>                              XXH3-64 of every byte before this line
// Folders written before manifests existed have an empty marker or none: they load unverified.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "seq2seq/error.h"  // IntegrityError

namespace s2s {

// The marker's file name. A checkpoint folder without it is incomplete (a crash while it was
// being written) and never resumed from.
inline constexpr const char* kManifestName = ".complete";

// XXH3-64 of a whole file, read in chunks; throws IoError naming path when it cannot be read.
uint64_t file_checksum(const std::string& path, int64_t* size = nullptr);

// Writes folder's manifest over every regular file in it (sub-folders are not listed), hashed
// from disk as they are now. Atomic (temporary name, fsync, rename, folder fsync): call it after
// every other file is written, so that its presence means the folder is complete.
void write_manifest(const std::string& folder);

enum class FileStatus {
  ok,         // size and checksum match the manifest
  damaged,    // size or checksum differs, or (for the marker itself) the manifest is malformed
  missing,    // listed in the manifest, not in the folder
  unlisted,   // in the folder, not in the manifest (a file added later: reported, not an error)
  unchecked,  // not checked: the folder has no manifest, or its manifest is damaged
};
const char* file_status_name(FileStatus status);  // "ok", "DAMAGED", "MISSING", ...

struct FileCheck {
  std::string name;  // the file's name in the folder (kManifestName for the marker)
  FileStatus status = FileStatus::unchecked;
  int64_t size = 0;    // bytes on disk (0 when missing)
  std::string detail;  // why it is not ok, in words ("size 100, the manifest recorded 4096")
};

struct FolderCheck {
  std::string folder;
  bool has_manifest = false;     // false: written before manifests (an empty marker, or none)
  std::vector<FileCheck> files;  // the marker first, then every file by name
  // No file damaged or missing (a folder without a manifest is ok: it cannot be checked).
  bool ok() const;
  // The files that are damaged or missing.
  std::vector<const FileCheck*> problems() const;
};

// Checks every file of folder against its manifest. Damage is reported in the result, never
// thrown; throws IoError only when folder is not a readable folder.
FolderCheck check_folder(const std::string& folder);

// Throws IntegrityError naming the first damaged or missing file of folder (and how many more
// there are) unless check_folder(folder).ok(). A folder without a manifest passes unverified.
void verify_folder(const std::string& folder);

}  // namespace s2s
