// The s2s library API in one include: load a model folder and translate, score, caption or
// suggest replies; train from a recipe; vocabularies and BLEU. Front ends (the s2s binary, the
// Python package, a server) are built on these headers alone (DESIGN.md "Layers").
#pragma once

#include "seq2seq/api/captioner.h"
#include "seq2seq/api/quantize.h"
#include "seq2seq/api/recipe.h"
#include "seq2seq/api/reply.h"
#include "seq2seq/api/shortlist.h"
#include "seq2seq/api/training.h"
#include "seq2seq/api/translator.h"
#include "seq2seq/api/vocabulary.h"
#include "seq2seq/bleu.h"
#include "seq2seq/error.h"
