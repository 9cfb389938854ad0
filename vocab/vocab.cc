// Vocab: loading and checking a SentencePiece model, encoding and decoding through it.
#include "vocab/vocab.h"

#include <sentencepiece_processor.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "seq2seq/error.h"
#include "vocab/normalizer.h"

namespace s2s {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open '" + path + "': " + std::strerror(errno));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) throw IoError("cannot read '" + path + "': " + std::strerror(errno));
  return bytes.str();
}

}  // namespace

Vocab Vocab::load(const std::string& path) {
  const std::string bytes = read_file(path);
  auto processor = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = processor->LoadFromSerializedProto(bytes);
  if (!status.ok())
    throw InputError("'" + path + "' is not a SentencePiece model (" + status.ToString() + ")");
  // A model trained elsewhere may number its special pieces differently (SentencePiece's own
  // default is unk=0, bos=1, eos=2, no pad); the rest of s2s relies on the fixed ids.
  const std::pair<const char*, std::pair<int, int32_t>> specials[] = {
      {"pad", {processor->pad_id(), kPad}},
      {"unk", {processor->unk_id(), kUnk}},
      {"bos", {processor->bos_id(), kBos}},
      {"eos", {processor->eos_id(), kEos}}};
  for (const auto& [name, ids] : specials)
    if (ids.first != ids.second)
      throw InputError("'" + path + "': the " + name + " id is " + std::to_string(ids.first) +
                       ", s2s needs " + std::to_string(ids.second) +
                       " (train the vocabulary with `s2s vocab train`)");
  return Vocab(path, std::move(processor));
}

Vocab::Vocab(std::string path, std::unique_ptr<sentencepiece::SentencePieceProcessor> processor)
    : path_(std::move(path)), processor_(std::move(processor)) {}
Vocab::Vocab(Vocab&&) noexcept = default;
Vocab& Vocab::operator=(Vocab&&) noexcept = default;
Vocab::~Vocab() = default;

std::vector<int32_t> Vocab::encode(std::string_view text) const {
  std::vector<int> ids;
  const auto status = processor_->Encode(normalize_text(text), &ids);
  if (!status.ok()) throw InputError("SentencePiece cannot encode text: " + status.ToString());
  return std::vector<int32_t>(ids.begin(), ids.end());
}

std::vector<std::string> Vocab::encode_pieces(std::string_view text) const {
  std::vector<std::string> pieces;
  const auto status = processor_->Encode(normalize_text(text), &pieces);
  if (!status.ok()) throw InputError("SentencePiece cannot encode text: " + status.ToString());
  return pieces;
}

std::string Vocab::decode(std::span<const int32_t> ids) const {
  for (const int32_t id : ids)
    check_id(id);
  std::string text;
  const auto status = processor_->Decode(std::vector<int>(ids.begin(), ids.end()), &text);
  if (!status.ok()) throw InputError("SentencePiece cannot decode ids: " + status.ToString());
  return text;
}

const std::string& Vocab::piece(int32_t id) const {
  check_id(id);
  return processor_->IdToPiece(id);
}

int32_t Vocab::piece_id(std::string_view piece) const {
  const int32_t id = processor_->PieceToId(piece);  // the unknown id for an unknown piece
  return id == kUnk && piece != processor_->IdToPiece(kUnk) ? -1 : id;
}

int32_t Vocab::size() const {
  return processor_->GetPieceSize();
}

void Vocab::check_id(int32_t id) const {
  if (id < 0 || id >= size())
    throw InvalidArgument("token id " + std::to_string(id) + " is outside the vocabulary '" +
                          path_ + "' of " + std::to_string(size()) + " pieces");
}

}  // namespace s2s
