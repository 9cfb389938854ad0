// Vocabularies for API users: a SentencePiece model that turns text into pieces or ids and back
// (vocab/vocab.h), and training one on corpora (vocab/trainer.h). A facade: the vocab component's
// own types, named in the API's namespace so front ends include api/ headers only.
#pragma once

#include "vocab/trainer.h"
#include "vocab/vocab.h"

namespace s2s::api {

using s2s::SentencePieceOptions;  // vocabulary size, type, coverage, sample, seed, threads
using s2s::SentencePieceType;
using s2s::train_sentencepiece;  // inputs, options, "PREFIX" -> PREFIX.model, PREFIX.vocab
using s2s::TrainingInput;        // a file, or one column of a source<TAB>target corpus
using s2s::Vocab;                // load(path), encode, encode_pieces, decode, piece, size

}  // namespace s2s::api
