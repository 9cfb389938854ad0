// Backend consistency for the model ops (embedding, attention, log-softmax cross-entropy,
// gradient norm and clipping, Adam/SGD) and one whole training step: the CUDA result against the
// CPU's on the same random inputs, in f32 and f64, by norm-wise relative error. Tolerances are
// per op, each with its reason beside it (the habit of ggml's test-backend-ops).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "seq2seq/layers/embedding.h"
#include "seq2seq/layers/linear.h"
#include "seq2seq/layers/output.h"
#include "seq2seq/ops/attention.h"
#include "seq2seq/ops/elementwise.h"
#include "seq2seq/ops/embedding.h"
#include "seq2seq/ops/grad_norm.h"
#include "seq2seq/ops/log_softmax_xent.h"
#include "seq2seq/ops/optimizer_step.h"
#include "seq2seq/optimizer.h"
#include "tests/device_test.h"
#include "tests/test_util.h"

namespace s2s {
namespace {

using testing::random_tensor;
using testing::relative_norm_error;

constexpr DType kDtypes[] = {DType::f32, DType::f64};

class ParityOpsTest : public testing::DeviceTest {
 protected:
  Tensor on_device(const Tensor& t) const { return t.to(device()); }
  static Tensor host(const Tensor& t) { return t.to(Device::cpu()); }
};

// Error of a device result against the CPU's.
double error(const Tensor& dev, const Tensor& cpu) {
  return relative_norm_error(dev.to(Device::cpu()), cpu);
}

Tensor ids_tensor(const std::vector<int32_t>& ids) {
  return Tensor::from_vector(ids, {static_cast<int64_t>(ids.size())});
}

std::vector<int32_t> random_ids(int64_t n, int32_t v, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> dist(0, v - 1);
  std::vector<int32_t> ids(n);
  for (auto& id : ids)
    id = dist(rng);
  return ids;
}

// ---- embedding --------------------------------------------------------------------------------

TEST_P(ParityOpsTest, Embedding) {
  constexpr int64_t kV = 50, kE = 33, kN = 400;  // N >> V: every row is hit ~8 times
  constexpr int32_t kPad = 3;
  for (DType dtype : kDtypes) {
    // Backward: atomicAdd adds the ~8 contributions per row in any order, the CPU in position
    // order, so the sums differ by a few ulps of f32 (1e-6) or f64 (1e-14).
    const double tol = dtype == DType::f32 ? 1e-6 : 1e-14;
    const Tensor table = random_tensor({kV, kE}, dtype, 11);
    std::vector<int32_t> id_values = random_ids(kN, kV, 12);
    for (int64_t i = 0; i < kN; i += 7)
      id_values[i] = kPad;
    const Tensor ids = ids_tensor(id_values), ids_dev = on_device(ids);

    Tensor out_cpu = Tensor::empty({kN, kE}, dtype);
    Tensor out_dev = Tensor::empty({kN, kE}, dtype, device());
    ops::embedding_fwd(table, ids, out_cpu, kPad);
    ops::embedding_fwd(on_device(table), ids_dev, out_dev, kPad);
    EXPECT_EQ(testing::values(out_dev), testing::values(out_cpu)) << "a gather is exact";

    const Tensor dout = random_tensor({kN, kE}, dtype, 13);
    Tensor dtable_cpu = random_tensor({kV, kE}, dtype, 14), dtable_dev = on_device(dtable_cpu);
    ops::embedding_bwd(ids, dout, dtable_cpu, kPad);
    ops::embedding_bwd(ids_dev, on_device(dout), dtable_dev, kPad);
    EXPECT_LT(error(dtable_dev, dtable_cpu), tol) << dtype_name(dtype);
    // The pad row received nothing: it still holds its initial values exactly.
    const Tensor pad_row_dev = host(dtable_dev).select(kPad);
    EXPECT_EQ(testing::values(pad_row_dev), testing::values(dtable_cpu.select(kPad)));
  }
}

TEST_P(ParityOpsTest, EmbeddingRejectsBadIdsOnTheDevice) {
  const Tensor table = on_device(random_tensor({10, 4}, DType::f32, 1));
  Tensor out = on_device(Tensor::zeros({4, 4}));
  // With pad_id -1 an id of -1 is an error too; position and id are named, out is untouched.
  for (const std::vector<int32_t>& bad :
       {std::vector<int32_t>{1, 2, 10, 3}, std::vector<int32_t>{1, 2, -1, 12}}) {
    try {
      ops::embedding_fwd(table, on_device(ids_tensor(bad)), out);
      FAIL() << "expected InvalidArgument";
    } catch (const InvalidArgument& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("id " + std::to_string(bad[2]) + " at position 2"), std::string::npos)
          << what;
    }
  }
  EXPECT_EQ(out.to_vector<float>(), std::vector<float>(16, 0.0f));
  Tensor dtable = on_device(Tensor::zeros({10, 4}));
  EXPECT_THROW(ops::embedding_bwd(on_device(ids_tensor({0, 10, 1, 1})), out, dtable),
               InvalidArgument);
}

// ---- attention --------------------------------------------------------------------------------

struct AttentionCase {
  int64_t s, b, d, dv;
};

// Mask with column j holding max(1, S - 3j) real positions; padded keys and values are NaN, so
// a body that reads them fails the comparison.
Tensor attention_mask(int64_t s, int64_t b, DType dtype) {
  Tensor mask = Tensor::zeros({s, b}, dtype);
  std::vector<double> m(s * b, 0.0);
  for (int64_t j = 0; j < b; ++j)
    for (int64_t i = 0; i < std::max<int64_t>(1, s - 3 * j); ++i)
      m[i * b + j] = 1;
  return testing::cast(Tensor::from_vector(m, {s, b}), dtype);
}

void poison_padding(Tensor& t, const Tensor& mask) {  // CPU [S, B, X]
  const std::vector<double> m = testing::values(mask);
  const int64_t x = t.dim(2);
  for (size_t r = 0; r < m.size(); ++r) {
    if (m[r] != 0) continue;
    for (int64_t c = 0; c < x; ++c) {
      if (t.dtype() == DType::f32)
        t.data<float>()[r * x + c] = std::numeric_limits<float>::quiet_NaN();
      else
        t.data<double>()[r * x + c] = std::numeric_limits<double>::quiet_NaN();
    }
  }
}

void check_attention(const ParityOpsTest& test, Device device, ops::AttentionKind kind, DType dtype,
                     AttentionCase n, bool with_dweights) {
  SCOPED_TRACE(std::string(ops::attention_kind_name(kind)) + " " + dtype_name(dtype) +
               " S=" + std::to_string(n.s) + (with_dweights ? " with dweights" : ""));
  (void)test;
  // Forward: scores are dot products of D terms (tanh'd for additive), summed in another order
  // than Eigen's and exp'd by another libm (<= 2 ulp): ~1e-6 relative in f32 after the softmax,
  // 1e-5 leaves room for D = 40 and S up to thousands. f64: the same at 1e-12.
  const double tol = dtype == DType::f32 ? 1e-5 : 1e-12;
  const bool additive = kind == ops::AttentionKind::additive;
  const Tensor mask = attention_mask(n.s, n.b, dtype);
  Tensor keys = random_tensor({n.s, n.b, n.d}, dtype, 21);
  Tensor values = random_tensor({n.s, n.b, n.dv}, dtype, 22);
  poison_padding(keys, mask);
  poison_padding(values, mask);
  const Tensor query = random_tensor({n.b, n.d}, dtype, 23);
  const Tensor v = additive ? random_tensor({n.d}, dtype, 24) : Tensor();
  const auto dev = [&](const Tensor& t) { return t.defined() ? t.to(device) : Tensor(); };

  Tensor w_cpu = Tensor::empty({n.b, n.s}, dtype), c_cpu = Tensor::empty({n.b, n.dv}, dtype);
  Tensor w_dev = Tensor::empty({n.b, n.s}, dtype, device);
  Tensor c_dev = Tensor::empty({n.b, n.dv}, dtype, device);
  ops::attention_fwd(kind, keys, query, v, values, mask, w_cpu, c_cpu);
  ops::attention_fwd(kind, dev(keys), dev(query), dev(v), dev(values), dev(mask), w_dev, c_dev);
  EXPECT_LT(error(w_dev, w_cpu), tol) << "weights";
  EXPECT_LT(error(c_dev, c_cpu), tol) << "context";
  // Padded weights are exactly zero on both devices.
  const std::vector<double> wd = testing::values(w_dev), m = testing::values(mask);
  for (int64_t j = 0; j < n.b; ++j)
    for (int64_t i = 0; i < n.s; ++i)
      if (m[i * n.b + j] == 0) {
        ASSERT_EQ(wd[j * n.s + i], 0.0) << "b " << j << " s " << i;
      }

  // Backward, accumulating into non-zero buffers (as a teacher-forced pass does). The same
  // reasons as forward, plus dv summed over B in another order: the same tolerance.
  const Tensor dcontext = random_tensor({n.b, n.dv}, dtype, 25);
  const Tensor dweights = with_dweights ? random_tensor({n.b, n.s}, dtype, 26) : Tensor();
  Tensor dkeys = random_tensor({n.s, n.b, n.d}, dtype, 27);
  Tensor dquery = random_tensor({n.b, n.d}, dtype, 28);
  Tensor dvp = additive ? random_tensor({n.d}, dtype, 29) : Tensor();
  Tensor dvalues = random_tensor({n.s, n.b, n.dv}, dtype, 30);
  Tensor dkeys_dev = dev(dkeys), dquery_dev = dev(dquery), dvp_dev = dev(dvp);
  Tensor dvalues_dev = dev(dvalues);
  ops::attention_bwd(kind, keys, query, v, values, mask, w_cpu, dcontext, dweights, dkeys, dquery,
                     dvp, dvalues);
  ops::attention_bwd(kind, dev(keys), dev(query), dev(v), dev(values), dev(mask), w_dev,
                     dev(dcontext), dev(dweights), dkeys_dev, dquery_dev, dvp_dev, dvalues_dev);
  EXPECT_LT(error(dkeys_dev, dkeys), tol) << "dkeys";
  EXPECT_LT(error(dquery_dev, dquery), tol) << "dquery";
  EXPECT_LT(error(dvalues_dev, dvalues), tol) << "dvalues";
  if (additive) {
    EXPECT_LT(error(dvp_dev, dvp), tol) << "dv";
  }
}

TEST_P(ParityOpsTest, AttentionBothKinds) {
  for (DType dtype : kDtypes)
    for (ops::AttentionKind kind : {ops::AttentionKind::general, ops::AttentionKind::additive})
      for (bool with_dweights : {false, true})
        check_attention(*this, device(), kind, dtype, {23, 7, 40, 24}, with_dweights);
}

// S * sizeof(double) beyond backward's shared-memory budget takes the global-scratch path;
// one position beyond 32 warps' worth also checks the strided loops.
TEST_P(ParityOpsTest, AttentionLongMemory) {
  for (ops::AttentionKind kind : {ops::AttentionKind::general, ops::AttentionKind::additive}) {
    check_attention(*this, device(), kind, DType::f64, {7000, 2, 8, 5}, true);
    check_attention(*this, device(), kind, DType::f32, {257, 3, 70, 33}, false);
  }
}

TEST_P(ParityOpsTest, AttentionRejectsAnEmptyMaskColumnOnTheDevice) {
  Tensor mask = attention_mask(5, 3, DType::f32);
  mask.data<float>()[0 * 3 + 1] = 0;  // column 1's two real positions (S - 3) made padding
  mask.data<float>()[1 * 3 + 1] = 0;
  const Tensor keys = on_device(random_tensor({5, 3, 4}, DType::f32, 1));
  Tensor w = on_device(Tensor::zeros({3, 5})), c = on_device(Tensor::zeros({3, 4}));
  try {
    ops::attention_fwd(ops::AttentionKind::general, keys,
                       on_device(random_tensor({3, 4}, DType::f32, 2)), Tensor(), keys,
                       on_device(mask), w, c);
    FAIL() << "expected InvalidArgument";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("mask column 1"), std::string::npos) << e.what();
  }
}

// ---- log-softmax cross-entropy ------------------------------------------------------------------

TEST_P(ParityOpsTest, LogSoftmaxXent) {
  constexpr int64_t kN = 37, kV = 5003;  // V not a multiple of the block: ragged last stride
  constexpr int32_t kPad = -1;
  for (DType dtype : kDtypes)
    for (double eps : {0.0, 0.1}) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + " eps " + std::to_string(eps));
      const bool f32 = dtype == DType::f32;
      // Sums: the CPU adds float blocks of 256 in double, the GPU adds in double per thread:
      // each row's log-sum-exp differs by ~1e-7 relative in f32; the row order of the final
      // sum is the same. f64: rounding only.
      const double sum_tol = f32 ? 1e-6 : 1e-12;
      // Gradient: p = exp(x - max) * (scale / sum) in f32 on both sides; expf differs from
      // libm's by <= 2 ulp and nvcc may fuse the multiply-subtract: a few ulps, 1e-5.
      const double grad_tol = f32 ? 1e-5 : 1e-12;
      // Logits spread over [-8, 8): peaked rows, as trained models give.
      const Tensor logits = random_tensor({kN, kV}, dtype, 41, -8, 8);
      std::vector<int32_t> t = random_ids(kN, kV, 42);
      t[0] = kV - 1;  // the last column as a target
      for (int64_t i = 3; i < kN; i += 5)
        t[i] = kPad;
      const Tensor targets = ids_tensor(t), targets_dev = on_device(targets);
      const ops::XentOptions options{.label_smoothing = eps, .pad_id = kPad, .grad_scale = 0.25};

      Tensor g_cpu = logits.clone(), g_dev = on_device(logits);
      Tensor lp_cpu = Tensor::empty({kN}, dtype), lp_dev = Tensor::empty({kN}, dtype, device());
      const ops::XentSums s_cpu = ops::log_softmax_xent(g_cpu, targets, options, &lp_cpu);
      const ops::XentSums s_dev = ops::log_softmax_xent(g_dev, targets_dev, options, &lp_dev);
      EXPECT_NEAR(s_dev.loss, s_cpu.loss, sum_tol * std::abs(s_cpu.loss));
      EXPECT_NEAR(s_dev.nll, s_cpu.nll, sum_tol * std::abs(s_cpu.nll));
      EXPECT_EQ(s_dev.tokens, s_cpu.tokens);
      EXPECT_LT(error(g_dev, g_cpu), grad_tol) << "gradient";
      EXPECT_LT(error(lp_dev, lp_cpu), sum_tol) << "target_log_probs";
      // Padding rows: zero gradient and zero log-prob, exactly.
      const Tensor g_host = host(g_dev);
      for (int64_t i = 3; i < kN; i += 5) {
        for (double x : testing::values(g_host.select(i)))
          ASSERT_EQ(x, 0.0) << "row " << i;
        EXPECT_EQ(testing::values(host(lp_dev))[i], 0.0);
      }

      // The loss-only variant leaves the logits untouched and returns the same sums.
      const Tensor logits_dev = on_device(logits);
      const ops::XentSums l_cpu = ops::log_softmax_xent_loss(logits, targets, options);
      const ops::XentSums l_dev = ops::log_softmax_xent_loss(logits_dev, targets_dev, options);
      EXPECT_NEAR(l_dev.loss, l_cpu.loss, sum_tol * std::abs(l_cpu.loss));
      EXPECT_NEAR(l_dev.nll, l_cpu.nll, sum_tol * std::abs(l_cpu.nll));
      EXPECT_EQ(l_dev.tokens, l_cpu.tokens);
      EXPECT_EQ(testing::values(logits_dev), testing::values(logits));
    }
}

TEST_P(ParityOpsTest, LogSoftmaxXentAllPaddedRowsAndBadTargets) {
  for (DType dtype : kDtypes) {
    const Tensor logits = random_tensor({4, 300}, dtype, 43);
    Tensor g_dev = on_device(logits);
    const ops::XentOptions options{.label_smoothing = 0.1, .pad_id = 0};
    const ops::XentSums s =
        ops::log_softmax_xent(g_dev, on_device(ids_tensor({0, 0, 0, 0})), options);
    EXPECT_EQ(s.loss, 0.0);
    EXPECT_EQ(s.nll, 0.0);
    EXPECT_EQ(s.tokens, 0);
    EXPECT_EQ(testing::values(g_dev), std::vector<double>(4 * 300, 0.0));

    Tensor untouched = on_device(logits);
    try {
      ops::log_softmax_xent(untouched, on_device(ids_tensor({1, 5, 300, -1})), options);
      FAIL() << "expected InvalidArgument";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("targets[2] = 300"), std::string::npos) << e.what();
    }
    EXPECT_EQ(testing::values(untouched), testing::values(logits)) << "checked before writing";
  }
}

TEST_P(ParityOpsTest, LogSoftmax) {
  for (DType dtype : kDtypes) {
    // exp/log of another libm and a double sum in another order: a few ulps of the log-probs,
    // whose magnitudes are ~log(V) ~ 7.
    const double tol = dtype == DType::f32 ? 1e-6 : 1e-13;
    const Tensor x = random_tensor({19, 1031}, dtype, 44, -5, 5);
    Tensor y_cpu = Tensor::empty(x.shape(), dtype), y_dev = on_device(x);
    ops::log_softmax(x, y_cpu);
    ops::log_softmax(y_dev, y_dev);  // in place on the device
    EXPECT_LT(error(y_dev, y_cpu), tol) << dtype_name(dtype);
    Tensor y2_dev = Tensor::empty(x.shape(), dtype, device());
    ops::log_softmax(on_device(x), y2_dev);
    EXPECT_EQ(testing::values(y2_dev), testing::values(y_dev)) << "in place = out of place";
  }
}

// ---- gradient norm and clipping -----------------------------------------------------------------

TEST_P(ParityOpsTest, GlobalNormAndClip) {
  for (DType dtype : kDtypes) {
    // f32: the CPU squares and sums blocks of 256 in float (~1e-7 relative each), the GPU
    // squares in double: the norms agree to ~1e-7. f64: rounding only, 1e-13.
    const double tol = dtype == DType::f32 ? 1e-6 : 1e-13;
    std::vector<Tensor> cpu{random_tensor({300, 517}, dtype, 51), Tensor(),
                            random_tensor({7}, dtype, 52), random_tensor({3, 4, 5}, dtype, 53)};
    std::vector<Tensor> dev;
    for (const Tensor& t : cpu)
      dev.push_back(t.defined() ? on_device(t) : Tensor());
    const double norm_cpu = ops::global_norm(cpu), norm_dev = ops::global_norm(dev);
    EXPECT_NEAR(norm_dev, norm_cpu, tol * norm_cpu) << dtype_name(dtype);

    const double max_norm = norm_cpu / 3;
    EXPECT_NEAR(ops::clip_grad_norm(dev, max_norm), ops::clip_grad_norm(cpu, max_norm),
                tol * norm_cpu);
    for (size_t i = 0; i < cpu.size(); ++i)
      if (cpu[i].defined()) {
        EXPECT_LT(error(dev[i], cpu[i]), tol) << "tensor " << i;
      }
    EXPECT_NEAR(ops::global_norm(dev), max_norm, tol * max_norm);

    // An inf gradient: the norm is not finite and nothing is scaled.
    Tensor bad = random_tensor({1000}, dtype, 54);
    if (dtype == DType::f32)
      bad.data<float>()[617] = std::numeric_limits<float>::infinity();
    else
      bad.data<double>()[617] = std::numeric_limits<double>::infinity();
    std::vector<Tensor> bad_dev{on_device(bad)};
    EXPECT_FALSE(std::isfinite(ops::clip_grad_norm(bad_dev, 1.0)));
    EXPECT_EQ(testing::values(bad_dev[0]), testing::values(bad));
  }
}

// ---- optimizer steps ----------------------------------------------------------------------------

TEST_P(ParityOpsTest, AdamAndSgdSteps) {
  for (DType dtype : kDtypes) {
    // The same formula with the same host-computed factors; nvcc fuses multiply-adds (one
    // rounding instead of two), and Adam divides by sqrt(v) ~ |g|: a few ulps per step, three
    // steps: 1e-6 in f32, 1e-14 in f64.
    const double tol = dtype == DType::f32 ? 1e-6 : 1e-14;
    const Shape shape{123, 45};
    Tensor p_cpu = random_tensor(shape, dtype, 61), m_cpu = Tensor::zeros(shape, dtype);
    Tensor v_cpu = Tensor::zeros(shape, dtype);
    Tensor p_dev = on_device(p_cpu), m_dev = on_device(m_cpu), v_dev = on_device(v_cpu);
    for (int64_t step = 1; step <= 3; ++step) {
      const Tensor grad = random_tensor(shape, dtype, 62 + step);
      const ops::AdamArgs args{.lr = 1e-2, .weight_decay = 0.01, .step = step};
      ops::adam_step(p_cpu, grad, m_cpu, v_cpu, args);
      ops::adam_step(p_dev, on_device(grad), m_dev, v_dev, args);
    }
    EXPECT_LT(error(p_dev, p_cpu), tol) << "adam param " << dtype_name(dtype);
    EXPECT_LT(error(m_dev, m_cpu), tol) << "adam m";
    EXPECT_LT(error(v_dev, v_cpu), tol) << "adam v";

    for (double momentum : {0.0, 0.9}) {
      Tensor q_cpu = random_tensor(shape, dtype, 71), b_cpu = Tensor::zeros(shape, dtype);
      Tensor q_dev = on_device(q_cpu), b_dev = on_device(b_cpu);
      for (int step = 0; step < 3; ++step) {
        const Tensor grad = random_tensor(shape, dtype, 72 + step);
        const ops::SgdArgs args{.lr = 0.1, .momentum = momentum, .weight_decay = 0.01};
        ops::sgd_step(q_cpu, grad, momentum > 0 ? &b_cpu : nullptr, args);
        ops::sgd_step(q_dev, on_device(grad), momentum > 0 ? &b_dev : nullptr, args);
      }
      EXPECT_LT(error(q_dev, q_cpu), tol) << "sgd param, momentum " << momentum;
      EXPECT_LT(error(b_dev, b_cpu), tol) << "sgd buffer, momentum " << momentum;
    }
  }
}

// ---- one training step of a tiny model --------------------------------------------------------

// Embedding -> Linear -> tanh -> Output loss, backward through all of them, one Adam step.
struct TinyModel {
  static constexpr int64_t kV = 29, kE = 16, kH = 24;
  static constexpr int32_t kPad = 0;
  Embedding embedding;
  Linear linear;
  Output output;

  TinyModel(Device device, Rng& rng)
      : embedding({.vocab_size = kV,
                   .embed_size = kE,
                   .pad_id = kPad,
                   .device = device,
                   .name = "emb",
                   .seed = 1}),
        linear({.in_features = kE, .out_features = kH, .device = device, .name = "lin", .seed = 2}),
        output("out", kV, kH, rng, DType::f32, device, {.chunk_rows = 16}) {}

  std::vector<Parameter*> parameters() {
    std::vector<Parameter*> out = embedding.parameters();
    for (Parameter* p : linear.parameters())
      out.push_back(p);
    for (Parameter* p : output.parameters())
      out.push_back(p);
    return out;
  }

  ops::XentSums step(const Tensor& src, const Tensor& tgt, Optimizer& optimizer) {
    const Device device = src.device();
    const Tensor x = embedding.forward(src);  // [N, E]
    const Tensor pre = linear.forward(x);     // [N, H]
    Tensor h = Tensor::empty(pre.shape(), DType::f32, device);
    ops::tanh_fwd(pre, h);
    Tensor dh;
    const ops::XentSums sums = output.forward_backward_loss(
        h, tgt, {.label_smoothing = 0.1, .pad_id = kPad, .grad_scale = 1.0 / 30}, dh);
    Tensor dpre = Tensor::empty(pre.shape(), DType::f32, device);
    ops::tanh_bwd(h, dh, dpre, false);
    embedding.backward(linear.backward(dpre));
    clip_grad_norm(parameters(), 1.0);
    optimizer.step(parameters(), 1e-2);
    return sums;
  }
};

TEST_P(ParityOpsTest, OneTrainingStepOfATinyModel) {
  constexpr int64_t kN = 40;  // > chunk_rows: the Output loop runs three chunks
  std::vector<int32_t> src = random_ids(kN, TinyModel::kV, 81);
  std::vector<int32_t> tgt = random_ids(kN, TinyModel::kV, 82);
  for (int64_t i = 0; i < kN; i += 4)
    src[i] = tgt[i] = TinyModel::kPad;
  Rng rng_cpu(5), rng_dev(5);
  TinyModel cpu(Device::cpu(), rng_cpu), dev(device(), rng_dev);
  Optimizer opt_cpu, opt_dev;
  const ops::XentSums s_cpu = cpu.step(ids_tensor(src), ids_tensor(tgt), opt_cpu);
  const ops::XentSums s_dev =
      dev.step(on_device(ids_tensor(src)), on_device(ids_tensor(tgt)), opt_dev);
  // fp32 end to end: cuBLAS and OpenBLAS sum the GEMMs in different orders, the embedding
  // gradient is atomics-summed, expf/tanhf differ by ulps: each ~1e-6 relative, compounded over
  // the chain: 1e-4 as the brief asks (a wrong index gives O(1)).
  constexpr double kTol = 1e-4;
  EXPECT_NEAR(s_dev.loss, s_cpu.loss, kTol * std::abs(s_cpu.loss));
  EXPECT_EQ(s_dev.tokens, s_cpu.tokens);
  const std::vector<Parameter*> pc = cpu.parameters(), pd = dev.parameters();
  ASSERT_EQ(pc.size(), pd.size());
  for (size_t i = 0; i < pc.size(); ++i) {
    EXPECT_LT(error(pd[i]->grad, pc[i]->grad), kTol) << pc[i]->name << " grad";
    // Adam's first step moves each weight by ~lr * sign(g): a relative error of the update
    // becomes ~lr times smaller relative to the weight.
    EXPECT_LT(error(pd[i]->value, pc[i]->value), kTol) << pc[i]->name << " value";
  }
}

S2S_INSTANTIATE_GPU_TEST(ParityOpsTest);

}  // namespace
}  // namespace s2s
