// Tensor, Shape, Storage and Device: allocation, views and copies.
#include "seq2seq/tensor.h"

#include <cstdlib>
#include <cstring>
#include <limits>

#include "seq2seq/cuda_backend.h"
#include "seq2seq/host_allocator.h"

namespace s2s {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32:
      return "f32";
    case DType::f64:
      return "f64";
    case DType::i32:
      return "i32";
    case DType::i8:
      return "i8";
  }
  return "?";
}

std::string Device::str() const {
  return is_cpu() ? "cpu" : "cuda:" + std::to_string(index);
}

Device Device::parse(const std::string& text) {
  if (text == "cpu") return cpu();
  if (text == "cuda") return cuda(0);
  if (text.rfind("cuda:", 0) == 0 && text.size() > 5) {
    const std::string digits = text.substr(5);
    if (digits.find_first_not_of("0123456789") == std::string::npos && digits.size() < 4)
      return cuda(std::stoi(digits));
  }
  throw InvalidArgument("unknown device '" + text + "': expected cpu, cuda or cuda:N");
}

Shape::Shape(std::initializer_list<int64_t> dims) : Shape(std::vector<int64_t>(dims)) {}

Shape::Shape(const std::vector<int64_t>& dims) {
  S2S_CHECK_SHAPE(dims.size() <= kMaxRank, "a tensor has at most ", kMaxRank, " dimensions, got ",
                  dims.size());
  rank_ = static_cast<int>(dims.size());
  for (int i = 0; i < rank_; ++i) {
    S2S_CHECK_SHAPE(dims[i] >= 0, "negative dimension ", dims[i], " in a shape");
    dims_[i] = dims[i];
  }
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < rank_; ++i)
    n *= dims_[i];
  return n;
}

bool Shape::operator==(const Shape& other) const {
  if (rank_ != other.rank_) return false;
  for (int i = 0; i < rank_; ++i)
    if (dims_[i] != other.dims_[i]) return false;
  return true;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < rank_; ++i)
    s += (i ? ", " : "") + std::to_string(dims_[i]);
  return s + "]";
}

namespace {
constexpr size_t kCudaAlignment = 64;
}

Storage::Storage(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  if (device.is_cpu()) {
    data_ = host_allocator::allocate(bytes);
  } else {
    const size_t rounded =
        (std::max<size_t>(bytes, 1) + kCudaAlignment - 1) / kCudaAlignment * kCudaAlignment;
    data_ = cuda::allocate(rounded, device.index);
  }
}

Storage::~Storage() {
  if (device_.is_cpu())
    host_allocator::deallocate(data_, bytes_);
  else
    cuda::deallocate(data_, device_.index);
}

Tensor Tensor::empty(Shape shape, DType dtype, Device device) {
  Tensor t;
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.device_ = device;
  t.storage_ =
      std::make_shared<Storage>(static_cast<size_t>(shape.numel()) * dtype_size(dtype), device);
  return t;
}

Tensor Tensor::zeros(Shape shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.zero();
  return t;
}

template <typename T>
Tensor Tensor::from_vector(const std::vector<T>& values, Shape shape) {
  S2S_CHECK_SHAPE(static_cast<int64_t>(values.size()) == shape.numel(),
                  "from_vector: ", values.size(), " values do not fill shape ", shape.str());
  Tensor t = empty(shape, dtype_of<T>());
  if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(T));
  return t;
}
template Tensor Tensor::from_vector(const std::vector<float>&, Shape);
template Tensor Tensor::from_vector(const std::vector<double>&, Shape);
template Tensor Tensor::from_vector(const std::vector<int32_t>&, Shape);
template Tensor Tensor::from_vector(const std::vector<int8_t>&, Shape);

void Tensor::check_dtype(DType expected) const {
  S2S_CHECK(storage_, "access to an undefined tensor");
  S2S_CHECK(dtype_ == expected, "tensor ", str(), " accessed as ", dtype_name(expected));
}

Tensor Tensor::slice(int64_t begin, int64_t end) const {
  S2S_CHECK_SHAPE(rank() >= 1 && 0 <= begin && begin <= end && end <= dim(0), "slice [", begin,
                  ", ", end, ") out of range for ", str());
  Tensor t = *this;
  int64_t row = 1;
  for (int i = 1; i < rank(); ++i)
    row *= dim(i);
  t.offset_ += begin * row;
  t.shape_[0] = end - begin;
  return t;
}

Tensor Tensor::select(int64_t i) const {
  S2S_CHECK_SHAPE(rank() >= 1 && 0 <= i && i < dim(0), "select ", i, " out of range for ", str());
  Tensor t = slice(i, i + 1);
  std::vector<int64_t> dims = shape_.dims();
  dims.erase(dims.begin());
  t.shape_ = Shape(dims);
  return t;
}

Tensor Tensor::reshape(Shape shape) const {
  S2S_CHECK_SHAPE(shape.numel() == numel(), "cannot reshape ", str(), " to ", shape.str());
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

Tensor Tensor::to(Device device) const {
  Tensor t = empty(shape_, dtype_, device);
  t.copy_from(*this);
  return t;
}

void Tensor::copy_from(const Tensor& src) {
  S2S_CHECK_SHAPE(src.shape() == shape_ && src.dtype() == dtype_, "copy_from: ", src.str(),
                  " into ", str());
  if (bytes() == 0) return;
  if (device_.is_cpu() && src.device().is_cpu())
    std::memcpy(raw_data(), src.raw_data(), bytes());
  else
    cuda::copy(raw_data(), device_, src.raw_data(), src.device(), bytes());
}

void Tensor::zero() {
  if (bytes() == 0) return;
  if (device_.is_cpu())
    std::memset(raw_data(), 0, bytes());
  else
    cuda::fill_zero(raw_data(), bytes(), device_.index);
}

void Tensor::fill(double value) {
  S2S_CHECK(device_.is_cpu(), "fill: ", str(), " is not on the CPU");
  switch (dtype_) {
    case DType::f32:
      std::fill_n(data<float>(), numel(), static_cast<float>(value));
      break;
    case DType::f64:
      std::fill_n(data<double>(), numel(), value);
      break;
    case DType::i32:
      std::fill_n(data<int32_t>(), numel(), static_cast<int32_t>(value));
      break;
    case DType::i8:
      std::fill_n(data<int8_t>(), numel(), static_cast<int8_t>(value));
      break;
  }
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  check_dtype(dtype_of<T>());
  std::vector<T> out(numel());
  if (out.empty()) return out;
  if (device_.is_cpu())
    std::memcpy(out.data(), raw_data(), bytes());
  else
    cuda::copy(out.data(), Device::cpu(), raw_data(), device_, bytes());
  return out;
}
template std::vector<float> Tensor::to_vector() const;
template std::vector<double> Tensor::to_vector() const;
template std::vector<int32_t> Tensor::to_vector() const;
template std::vector<int8_t> Tensor::to_vector() const;

std::string Tensor::str() const {
  if (!defined()) return "undefined tensor";
  return std::string(dtype_name(dtype_)) + shape_.str() + " on " + device_.str();
}

}  // namespace s2s
