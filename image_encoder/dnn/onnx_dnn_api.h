// The C interface of libs2s_image_dnn.so, the shared library that runs ONNX networks with
// OpenCV's dnn module for image_io.cc (OnnxNet). Why a separate library, loaded with dlopen:
// OpenCV's dnn module needs Debian's libprotobuf, and libsentencepiece carries a private copy of
// protobuf-lite whose exported symbols interpose libprotobuf's. Linked into one process the usual
// way, libprotobuf's static initialisation calls SentencePiece's copy and crashes before main.
// dlopen with RTLD_LOCAL | RTLD_DEEPBIND gives the library and its dependencies (libopencv_dnn,
// libprotobuf) their own symbols first, and keeps them out of the global scope SentencePiece
// uses. A C interface, so nothing but plain data crosses the boundary.
//
// Every function that can fail returns 0 on success, or nonzero with a message in
// error[0, error_size) (NUL-terminated, truncated to fit).
#pragma once

#include <cstddef>

extern "C" {

// Bumped when a signature below changes; image_io.cc refuses a library of another version.
#define S2S_DNN_API_VERSION 1
int s2s_dnn_api_version();

// Reads an ONNX file; null (and the message) when OpenCV cannot import it.
void* s2s_dnn_open(const char* path, char* error, size_t error_size);
void s2s_dnn_close(void* net);

// The names of the net's layers (outputs_only: of its graph outputs), '\n'-separated, into
// buffer[0, size) (NUL-terminated, truncated to fit); returns the length of the whole list.
size_t s2s_dnn_layer_names(void* net, int outputs_only, char* buffer, size_t size);
// 1 if the net has a layer of this name, else 0.
int s2s_dnn_has_layer(void* net, const char* name);

// Runs input (f32, dims[0..3] = [B, C, H, W], contiguous) through the net and keeps the output of
// layer; writes its rank (at most 8; the call fails above) and dims. The output must be f32.
int s2s_dnn_forward(void* net, const char* layer, const float* input, const int* dims,
                    int* out_rank, int* out_dims, char* error, size_t error_size);
// Copies the kept output (count = the product of its dims) into out.
int s2s_dnn_output(void* net, float* out, size_t count, char* error, size_t error_size);
}
