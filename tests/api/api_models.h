// Tiny trained models for the API tests, made through api::train once per build tree and shared
// by every test process (ctest runs each test alone): a digit-reversal translator, a message ->
// reply model with its response set, and a captioner that names where a square is. Each is
// trained into a scratch folder and renamed into place, so concurrent test processes never see
// half a model. Also: running the s2s binary for the API-equals-CLI tests.
#pragma once

#include <string>
#include <vector>

namespace s2s::test {

// Model folders (their run folders' model/).
const std::string& translation_model();
const std::string& reply_model();
const std::string& reply_responses();  // the response set file of the reply model
const std::string& caption_model();
const std::string& caption_images();  // a folder of 8 test PNGs (gray, 16x16)
// The same recipe with decoder.init_state zero: the decoder starts knowing nothing of the image,
// so it must attend to find the square (the captioner whose attention maps the tests check).
const std::string& caption_model_attending();

// Lines of the translation test input (digit sequences) and its file.
const std::vector<std::string>& translation_inputs();
const std::string& translation_inputs_file();

// Runs a shell command; returns its standard output, and its exit status in status.
std::string run_command(const std::string& command, int* status = nullptr);
// The s2s binary of this build.
std::string s2s_binary();

// A fresh scratch folder under the build tree's test area.
std::string scratch_folder(const std::string& name);

// A copy of model folder in a fresh scratch folder (named name) whose config.yaml has its first
// byte turned into '{': the same size, another checksum, and no longer YAML (an unclosed flow
// mapping). Returns the copy's path.
std::string copy_with_damaged_config(const std::string& model, const std::string& name);

std::vector<std::string> split_lines(const std::string& text);

}  // namespace s2s::test
