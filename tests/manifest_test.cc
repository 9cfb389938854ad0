// Folder manifests (seq2seq/manifest.h): one flipped bit anywhere in any file of a model or
// checkpoint folder, the marker included, is reported by that file's name, by check_folder,
// verify_folder and load_parameters alike; truncated and missing files too; folders written
// before manifests still load, unverified; checkpoint writes leave nothing half-done behind.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "seq2seq/checkpoint.h"
#include "seq2seq/error.h"
#include "seq2seq/manifest.h"
#include "tests/test_util.h"

namespace s2s {
namespace {

namespace fs = std::filesystem;

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class ManifestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("s2s_manifest_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    weight_ = Parameter::make("encoder.weight", Shape{16, 8}, DType::f32, Device::cpu());
    bias_ = Parameter::make("encoder.bias", Shape{16}, DType::f32, Device::cpu());
    weight_.value.copy_from(testing::random_tensor({16, 8}, DType::f32, 1));
    bias_.value.copy_from(testing::random_tensor({16}, DType::f32, 2));
    write_bytes(dir_ / "source.vocab", "<unk>\t0\n<s>\t0\n</s>\t0\nhello\t-1.5\nworld\t-2.25\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A checkpoint folder with every kind of file: model, optimizer, state, config, a vocabulary.
  std::string write_checkpoint(const std::string& name) {
    FolderContents c;
    c.parameters = {&weight_, &bias_};
    c.config_yaml = "encoder: {hidden_size: 16}\ndecoder: {hidden_size: 16}\n";
    c.copies = {{"vocab.model", (dir_ / "source.vocab").string()}};
    c.optimizer = {{"adam.m.encoder.weight", testing::random_tensor({16, 8}, DType::f32, 3)},
                   {"adam.v.encoder.weight", testing::random_tensor({16, 8}, DType::f32, 4)}};
    c.state_yaml = "step: 120\nepoch: 2\nrng: {seed: '7', counter: '9'}\n";
    const std::string folder = (dir_ / name).string();
    write_folder(folder, c);
    return folder;
  }

  std::vector<Parameter*> fresh_parameters() {
    fresh_weight_ = Parameter::make("encoder.weight", Shape{16, 8}, DType::f32, Device::cpu());
    fresh_bias_ = Parameter::make("encoder.bias", Shape{16}, DType::f32, Device::cpu());
    return {&fresh_weight_, &fresh_bias_};
  }

  fs::path dir_;
  Parameter weight_, bias_, fresh_weight_, fresh_bias_;
};

TEST_F(ManifestTest, WriteFolderListsEveryFileAndChecksOk) {
  const std::string folder = write_checkpoint("ckpt");
  const FolderCheck check = check_folder(folder);
  EXPECT_TRUE(check.has_manifest);
  EXPECT_TRUE(check.ok());
  std::vector<std::string> names;
  for (const FileCheck& f : check.files) {
    names.push_back(f.name);
    EXPECT_EQ(f.status, FileStatus::ok) << f.name << ": " << f.detail;
    EXPECT_EQ(f.size, static_cast<int64_t>(fs::file_size(fs::path(folder) / f.name))) << f.name;
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{".complete", "config.yaml", "model.safetensors",
                                      "optimizer.safetensors", "state.yaml", "vocab.model"}));
  const std::string manifest = read_bytes(fs::path(folder) / kManifestName);
  EXPECT_EQ(manifest.rfind("s2s-manifest 1 xxh3-64\n", 0), 0u) << manifest;
  EXPECT_NO_THROW(verify_folder(folder));
  load_parameters((fs::path(folder) / "model.safetensors").string(), fresh_parameters());
  EXPECT_EQ(fresh_weight_.value.to_vector<float>(), weight_.value.to_vector<float>());
}

// The heart of it: for every file kind and several offsets (first byte, inside the header or
// text, the middle, the tensor data, the last byte), one flipped bit is named, and only that file.
TEST_F(ManifestTest, AFlippedBitInAnyFileIsReportedByName) {
  const std::string folder = write_checkpoint("ckpt");
  const fs::path dir(folder);
  int cases = 0;
  for (const char* name : {"model.safetensors", "optimizer.safetensors", "state.yaml",
                           "config.yaml", "vocab.model", ".complete"}) {
    const fs::path path = dir / name;
    const std::string good = read_bytes(path);
    ASSERT_GT(good.size(), 20u) << name;
    const size_t n = good.size();
    for (size_t offset : {size_t{0}, size_t{5}, size_t{9}, n / 3, n / 2, n - 17, n - 2, n - 1}) {
      for (int bit : {0, 7}) {
        SCOPED_TRACE(std::string(name) + " byte " + std::to_string(offset) + " bit " +
                     std::to_string(bit));
        std::string bad = good;
        bad[offset] = static_cast<char>(bad[offset] ^ (1 << bit));
        write_bytes(path, bad);
        const FolderCheck check = check_folder(folder);
        const std::vector<const FileCheck*> problems = check.problems();
        ASSERT_EQ(problems.size(), 1u);
        EXPECT_EQ(problems[0]->name, name);
        EXPECT_EQ(problems[0]->status, FileStatus::damaged);
        try {
          verify_folder(folder);
          ADD_FAILURE() << "verify_folder accepted the damaged file";
        } catch (const IntegrityError& e) {
          EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
        }
        // Loading the model goes through the same check, whichever file is damaged.
        try {
          load_parameters((dir / "model.safetensors").string(), fresh_parameters());
          ADD_FAILURE() << "load_parameters accepted a folder with a damaged file";
        } catch (const IntegrityError& e) {
          EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
        }
        ++cases;
      }
    }
    write_bytes(path, good);
    EXPECT_TRUE(check_folder(folder).ok()) << name;
  }
  EXPECT_EQ(cases, 6 * 8 * 2);
}

// The example: a flipped bit in a weight loads silently without the check.
TEST_F(ManifestTest, ADamagedWeightIsNotUsed) {
  const std::string folder = write_checkpoint("model");
  const fs::path model = fs::path(folder) / "model.safetensors";
  std::string bytes = read_bytes(model);
  bytes[bytes.size() - 3] = static_cast<char>(bytes[bytes.size() - 3] ^ 0x10);  // in bias data
  write_bytes(model, bytes);
  EXPECT_NO_THROW(load_parameters(model.string(), fresh_parameters(), false, Verify::none));
  EXPECT_NE(fresh_bias_.value.to_vector<float>(), bias_.value.to_vector<float>());
  EXPECT_THROW(load_parameters(model.string(), fresh_parameters()), IntegrityError);
}

TEST_F(ManifestTest, TruncatedMissingAndAddedFiles) {
  const std::string folder = write_checkpoint("ckpt");
  const fs::path dir(folder);
  fs::resize_file(dir / "optimizer.safetensors", 100);
  fs::remove(dir / "state.yaml");
  write_bytes(dir / "notes.txt", "mine\n");
  const FolderCheck check = check_folder(folder);
  std::map<std::string, FileStatus> status;
  for (const FileCheck& f : check.files)
    status[f.name] = f.status;
  EXPECT_EQ(status["optimizer.safetensors"], FileStatus::damaged);
  EXPECT_EQ(status["state.yaml"], FileStatus::missing);
  EXPECT_EQ(status["notes.txt"], FileStatus::unlisted);  // reported, not an error
  EXPECT_EQ(status["model.safetensors"], FileStatus::ok);
  EXPECT_EQ(check.problems().size(), 2u);
  try {
    verify_folder(folder);
    FAIL();
  } catch (const IntegrityError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("optimizer.safetensors' is damaged (size 100 bytes"), std::string::npos)
        << what;
    EXPECT_NE(what.find("also damaged or missing: state.yaml"), std::string::npos) << what;
  }
}

// Folders written before manifests (an empty marker, or none) load as before, unverified.
TEST_F(ManifestTest, FoldersWithoutAManifestLoadUnverified) {
  const std::string folder = write_checkpoint("old");
  const fs::path dir(folder);
  for (bool empty_marker : {true, false}) {
    if (empty_marker)
      write_bytes(dir / kManifestName, "");
    else
      fs::remove(dir / kManifestName);
    const FolderCheck check = check_folder(folder);
    EXPECT_FALSE(check.has_manifest);
    EXPECT_TRUE(check.ok());
    for (const FileCheck& f : check.files)
      EXPECT_EQ(f.status, FileStatus::unchecked) << f.name;
    EXPECT_NO_THROW(verify_folder(folder));
    load_parameters((dir / "model.safetensors").string(), fresh_parameters());
    EXPECT_EQ(fresh_weight_.value.to_vector<float>(), weight_.value.to_vector<float>());
  }
}

TEST_F(ManifestTest, AMarkerThatIsNotAManifestIsDamaged) {
  const std::string folder = write_checkpoint("ckpt");
  for (const std::string& text :
       {std::string("hello\n"), std::string("s2s-manifest 1 xxh3-64\nend 0000000000000000\n"),
        std::string("s2s-manifest 1 xxh3-64\n")}) {
    write_bytes(fs::path(folder) / kManifestName, text);
    const FolderCheck check = check_folder(folder);
    ASSERT_EQ(check.problems().size(), 1u) << text;
    EXPECT_EQ(check.problems()[0]->name, kManifestName);
    EXPECT_THROW(verify_folder(folder), IntegrityError);
  }
}

// Checkpoint rotation leaves no folder that has a marker but lacks files, and cleans up the
// leftovers of a writer killed mid-write.
TEST_F(ManifestTest, CheckpointStoreCleansLeftoversAndKeepsVerifiedFolders) {
  const fs::path ckpts = dir_ / "checkpoints";
  fs::create_directories(ckpts / "step-000000007.tmp");
  write_bytes(ckpts / "step-000000007.tmp" / "model.safetensors", "half");
  fs::create_directories(ckpts / "step-000000001.deleting");
  CheckpointStore store(ckpts.string(), 2);
  FolderContents c;
  c.parameters = {&weight_, &bias_};
  c.config_yaml = "a: 1\n";
  c.state_yaml = "step: 1\n";
  for (int64_t step : {10, 20, 30})
    store.save(step, c);
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(ckpts))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"latest", "step-000000020", "step-000000030"}));
  for (const std::string& folder : store.all())
    EXPECT_TRUE(check_folder(folder).has_manifest && check_folder(folder).ok()) << folder;
  EXPECT_EQ(fs::path(store.latest()).filename(), "step-000000030");
}

}  // namespace
}  // namespace s2s
