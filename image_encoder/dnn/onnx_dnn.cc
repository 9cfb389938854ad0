// libs2s_image_dnn.so: ONNX networks run by OpenCV's dnn module, behind the C interface of
// onnx_dnn_api.h (why a separate library: see there). Only image_io.cc loads it.
#include "image_encoder/dnn/onnx_dnn_api.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>
#include <string>
#include <vector>

#define S2S_DNN_EXPORT __attribute__((visibility("default")))

namespace {

struct Net {
  cv::dnn::Net net;
  cv::Mat output;
};

// OpenCV logs a failed shape inference or import on stderr before it throws; the caller turns
// the exception into one error message of its own, so the log stays quiet meanwhile.
class QuietLog {
 public:
  QuietLog() : saved_(cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT)) {}
  ~QuietLog() { cv::utils::logging::setLogLevel(saved_); }
  QuietLog(const QuietLog&) = delete;
  QuietLog& operator=(const QuietLog&) = delete;

 private:
  cv::utils::logging::LogLevel saved_;
};

void set_error(char* error, size_t size, const std::string& message) {
  if (!error || size == 0) return;
  const size_t n = std::min(message.size(), size - 1);
  std::memcpy(error, message.data(), n);
  error[n] = '\0';
}

}  // namespace

extern "C" {

S2S_DNN_EXPORT int s2s_dnn_api_version() {
  return S2S_DNN_API_VERSION;
}

S2S_DNN_EXPORT void* s2s_dnn_open(const char* path, char* error, size_t error_size) {
  const QuietLog quiet;
  try {
    auto* net = new Net;
    try {
      net->net = cv::dnn::readNetFromONNX(path);
      net->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
      net->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    } catch (...) {
      delete net;
      throw;
    }
    return net;
  } catch (const cv::Exception& e) {
    set_error(error, error_size, "OpenCV " CV_VERSION ": " + e.err);
  } catch (const std::exception& e) {
    set_error(error, error_size, e.what());
  }
  return nullptr;
}

S2S_DNN_EXPORT void s2s_dnn_close(void* net) {
  delete static_cast<Net*>(net);
}

S2S_DNN_EXPORT size_t s2s_dnn_layer_names(void* net, int outputs_only, char* buffer, size_t size) {
  std::string list;
  try {
    const cv::dnn::Net& n = static_cast<Net*>(net)->net;
    for (const std::string& name :
         outputs_only ? n.getUnconnectedOutLayersNames() : n.getLayerNames())
      list += (list.empty() ? "" : "\n") + name;
  } catch (...) {  // an empty list
  }
  set_error(buffer, size, list);
  return list.size();
}

S2S_DNN_EXPORT int s2s_dnn_has_layer(void* net, const char* name) {
  try {
    return static_cast<Net*>(net)->net.getLayerId(name) >= 0 ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

S2S_DNN_EXPORT int s2s_dnn_forward(void* handle, const char* layer, const float* input,
                                   const int* dims, int* out_rank, int* out_dims, char* error,
                                   size_t error_size) {
  auto* net = static_cast<Net*>(handle);
  const QuietLog quiet;
  try {
    // setInput copies the blob, so a header over the caller's memory is enough.
    const cv::Mat in(4, dims, CV_32F, const_cast<float*>(input));
    net->net.setInput(in);
    net->output = net->net.forward(layer);
    if (net->output.dims > 8) {
      set_error(error, error_size, "output of rank " + std::to_string(net->output.dims));
      return 1;
    }
    if (net->output.type() != CV_32F) {
      set_error(error, error_size,
                "output of OpenCV type " + std::to_string(net->output.type()) + ", not float32");
      return 1;
    }
    if (!net->output.isContinuous()) net->output = net->output.clone();
    *out_rank = net->output.dims;
    for (int i = 0; i < net->output.dims; ++i)
      out_dims[i] = net->output.size[i];
    return 0;
  } catch (const cv::Exception& e) {
    set_error(error, error_size, "OpenCV " CV_VERSION ": " + e.err);
  } catch (const std::exception& e) {
    set_error(error, error_size, e.what());
  }
  return 1;
}

S2S_DNN_EXPORT int s2s_dnn_output(void* handle, float* out, size_t count, char* error,
                                  size_t error_size) {
  const cv::Mat& output = static_cast<Net*>(handle)->output;
  if (output.total() != count) {
    set_error(
        error, error_size,
        "output has " + std::to_string(output.total()) + " values, not " + std::to_string(count));
    return 1;
  }
  if (count) std::memcpy(out, output.ptr<float>(), count * sizeof(float));
  return 0;
}

}  // extern "C"
