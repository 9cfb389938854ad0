// The LSTM's gate order and weight layout, fixed once for every op, layer, kernel and checkpoint.
//
// Gate order along the 4H axis is (i, f, g, o): input gate, forget gate, cell candidate, output
// gate. Weights of one layer and direction:
//   w_ih [4H, E]  input-to-hidden; row block k*H..(k+1)*H-1 belongs to gate k
//   w_hh [4H, H]  hidden-to-hidden, same row blocks
//   b    [4H]     one bias (PyTorch's b_ih + b_hh folded into one); the forget slice starts at 1
// This is torch.nn.LSTM's layout and gate order, so its weight_ih_l0 / weight_hh_l0 load
// unchanged (sum bias_ih and bias_hh into b).
//
// The step, with pre-activations a = x·w_ih^T + b + h_prev·w_hh^T  // [B, 4H]:
//   i = sigmoid(a_i)  f = sigmoid(a_f)  g = tanh(a_g)  o = sigmoid(a_o)
//   c = f * c_prev + i * g
//   h = o * tanh(c)
#pragma once

#include <cstdint>

namespace s2s::lstm {

enum class Gate : int { i = 0, f = 1, g = 2, o = 3 };

inline constexpr int kNumGates = 4;

// The initial value of the forget-gate bias slice: the cell remembers by default early in
// training (Jozefowicz et al., 2015); the other gate biases start at 0.
inline constexpr double kForgetBiasInit = 1.0;

// First column of gate g in a [*, 4H] pre-activation row, or first row of g's block in w_ih/w_hh.
constexpr int64_t gate_offset(Gate g, int64_t hidden) {
  return static_cast<int64_t>(g) * hidden;
}

}  // namespace s2s::lstm
