// Caption metrics as the coco-caption evaluation code (pycocoevalcap) computes them: corpus
// BLEU-1..4 (its Bleu scorer, option 'closest') and CIDEr-D (its Cider scorer), plus the
// tokenizer that stands in for its Stanford PTB tokenizer. The arithmetic is that of the
// published code, quirks included (see the comments on each function); the tokenizer is an
// approximation, documented on tokenize_caption().
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace s2s {

using CaptionTokens = std::vector<std::string>;

// coco-caption's PTBTokenizer step, approximated without Java: lowercase (simple Unicode case
// mapping), split on whitespace, split off punctuation, split the clitics n't 's 're 've 'll 'd
// 'm (apostrophe ' or ’), then drop coco-caption's punctuation tokens ('' ' `` ` . ? ! , : -
// -- ... ;) and brackets. Kept inside a word: hyphens ("t-shirt"), slashes ("and/or"), periods
// and commas between digits ("3.5", "1,000"), periods inside abbreviations ("u.s" -- PTB keeps
// "u.s." whole; the final period is dropped here). Differences from Stanford's PTBTokenizer:
// no special handling of quotes' direction (all quotes are dropped either way), of "cannot" /
// "gonna" splits, of emoticons, URLs or abbreviation lists. For captions (short, plain English)
// the token streams are the same. Throws InputError if text is not valid UTF-8.
CaptionTokens tokenize_caption(std::string_view text);

// BLEU-1..4 over a corpus, as pycocoevalcap's BleuScorer.compute_score(option='closest'):
// per image, clipped n-gram matches against the maximum count over its references, and the
// reference length closest to the hypothesis length (ties: the shorter); summed over the corpus;
// BLEU-n = BP * (prod_{k<=n} (correct_k + 1e-15) / (guess_k + 1e-9))^(1/n) with
// BP = exp(1 - 1/ratio) when ratio = (hyp_len + 1e-15) / (ref_len + 1e-9) < 1, else 1.
struct CocoBleu {
  double bleu[4] = {0, 0, 0, 0};  // BLEU-1..4 in [0, 1]
  double hyp_len = 0;             // hypothesis tokens
  double ref_len = 0;             // effective (closest) reference tokens
  size_t correct[4] = {0, 0, 0, 0};
  size_t guess[4] = {0, 0, 0, 0};
};

// CIDEr-D as pycocoevalcap's CiderScorer (sigma 6): n-grams n = 1..4; each caption a tf-idf
// vector per n, tf = the n-gram's count, idf = log(number of images) - log(max(1, df)) where df
// is the number of images among whose references the n-gram occurs; per reference, the
// similarity sum_g min(hyp_g, ref_g) * ref_g / (|hyp| |ref|) (clipped), times the Gaussian
// penalty exp(-delta^2 / (2 sigma^2)); averaged over n and references, times 10; the corpus
// score is the mean over images. Quirk kept from the published code: delta is the difference
// of the captions' *bigram* counts (max(0, words - 1)), not of their word counts.
struct CiderD {
  double score = 0;               // corpus CIDEr-D (1.0 is what papers print as 100)
  std::vector<double> per_image;  // in the input order
};

// hypotheses[i] is the tokenized caption of image i, references[i] its tokenized references
// (at least one each); both as long as the number of images. Throws InvalidArgument otherwise.
CocoBleu coco_bleu(const std::vector<CaptionTokens>& hypotheses,
                   const std::vector<std::vector<CaptionTokens>>& references);
CiderD cider_d(const std::vector<CaptionTokens>& hypotheses,
               const std::vector<std::vector<CaptionTokens>>& references, double sigma = 6.0);

// Both metrics from raw text, tokenized by tokenize_caption().
struct CaptionScores {
  CocoBleu bleu;
  CiderD cider;
  size_t images = 0;
  size_t references = 0;  // over all images
};
CaptionScores score_captions(const std::vector<std::string>& hypotheses,
                             const std::vector<std::vector<std::string>>& references);

}  // namespace s2s
