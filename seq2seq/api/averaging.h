// Checkpoint averaging (fairseq's average_checkpoints, Sockeye's average, Marian's averaging
// scripts): the element-wise mean of the parameters of several checkpoints or model folders of
// one run — usually the last few — written as a model folder that every front end loads. Often
// a little better than any one of them, at no training cost. (Averaging during training is the
// trainer's train.ema_decay.)
#pragma once

#include <string>
#include <vector>

namespace s2s::api {

// Averages the model.safetensors of folders (each verified against its manifest first) into a
// new model folder at output, with the first folder's config.yaml and vocabulary files. The
// folders must hold the same parameters (names, shapes, dtypes): InputError naming the folder
// and the parameter that differs. Written atomically, as every model folder.
void average_models(const std::vector<std::string>& folders, const std::string& output);

}  // namespace s2s::api
