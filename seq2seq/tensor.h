// Tensor: a dense, row-major array of up to four dimensions on one device, viewing shared storage.
// Views (slice, select, reshape) share storage and never copy; copies between devices happen only
// through to() / copy_from(), never behind the caller's back. CPU storage is 64-byte aligned.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "seq2seq/error.h"

namespace s2s {

// i8: quantized weights (ops::gemm_int8), stored and loaded, never computed on element-wise.
enum class DType : uint8_t { f32, f64, i32, i8 };

constexpr size_t dtype_size(DType t) {
  return t == DType::f64 ? 8 : t == DType::i8 ? 1 : 4;
}
const char* dtype_name(DType t);

template <typename T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::f32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::f64;
}
template <>
constexpr DType dtype_of<int32_t>() {
  return DType::i32;
}
template <>
constexpr DType dtype_of<int8_t>() {
  return DType::i8;
}

enum class DeviceKind : uint8_t { cpu, cuda };

struct Device {
  DeviceKind kind = DeviceKind::cpu;
  int index = 0;  // CUDA ordinal; always 0 on the CPU

  static constexpr Device cpu() { return {}; }
  static constexpr Device cuda(int index = 0) { return {DeviceKind::cuda, index}; }
  bool is_cpu() const { return kind == DeviceKind::cpu; }
  bool is_cuda() const { return kind == DeviceKind::cuda; }
  bool operator==(const Device&) const = default;
  std::string str() const;  // "cpu", "cuda:0"
  // Parses "cpu", "cuda" or "cuda:N"; throws InvalidArgument naming the text otherwise.
  static Device parse(const std::string& text);
};

class Shape {
 public:
  static constexpr int kMaxRank = 4;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims);

  int rank() const { return rank_; }
  int64_t operator[](int i) const { return dims_[i]; }
  int64_t& operator[](int i) { return dims_[i]; }
  int64_t numel() const;
  std::vector<int64_t> dims() const { return {dims_.begin(), dims_.begin() + rank_}; }
  bool operator==(const Shape& other) const;
  std::string str() const;  // "[2, 3]"

 private:
  std::array<int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

// Owns one allocation on one device. Tensors share it through shared_ptr.
class Storage {
 public:
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
};

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor: defined() is false

  static Tensor empty(Shape shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor zeros(Shape shape, DType dtype = DType::f32, Device device = Device::cpu());
  // A CPU tensor holding a copy of values; shape.numel() must equal values.size().
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, Shape shape);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  int64_t dim(int i) const { return shape_[i < 0 ? i + shape_.rank() : i]; }
  int64_t numel() const { return shape_.numel(); }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  size_t bytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }

  // Typed access; throws InvalidArgument if T does not match dtype(). The pointer may be a
  // device pointer: dereference it only where device() says it lives.
  template <typename T>
  T* data() const {
    check_dtype(dtype_of<T>());
    return static_cast<T*>(raw_data());
  }
  void* raw_data() const {
    return static_cast<char*>(storage_->data()) + offset_ * dtype_size(dtype_);
  }

  // Views sharing storage. slice: rows [begin, end) of dimension 0. select: row i of dimension 0,
  // with that dimension dropped. reshape: the same elements under a shape of equal numel.
  Tensor slice(int64_t begin, int64_t end) const;
  Tensor select(int64_t i) const;
  Tensor reshape(Shape shape) const;

  Tensor to(Device device) const;  // a copy on device (a copy even if it is already there)
  Tensor clone() const { return to(device_); }
  void copy_from(const Tensor& src);  // same shape and dtype, any devices
  void zero();
  void fill(double value);  // CPU only

  template <typename T>
  std::vector<T> to_vector() const;  // copies to host memory

  // Short description for error messages: "f32[2, 3] on cpu".
  std::string str() const;

 private:
  void check_dtype(DType expected) const;

  std::shared_ptr<Storage> storage_;
  int64_t offset_ = 0;  // in elements
  Shape shape_;
  DType dtype_ = DType::f32;
  Device device_;
};

}  // namespace s2s
