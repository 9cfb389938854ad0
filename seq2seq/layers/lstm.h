// Lstm: a stack of (optionally bidirectional, residual) LSTM layers over padded batches, with an
// explicit backward. The hot path follows DESIGN.md: per layer and direction one GEMM projects
// every timestep's input, then per step one recurrent GEMM and one fused cell op
// (ops/lstm_cell.h); backward mirrors it and finishes with one GEMM each for dW_ih, dW_hh and dx.
// Gate order and weight layout: seq2seq/lstm_layout.h (torch.nn.LSTM's).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "seq2seq/layers/layer.h"
#include "seq2seq/random.h"

namespace s2s {

struct LstmOptions {
  // E, features of each input position; default 0, must be set (> 0).
  int64_t input_size = 0;
  // H, hidden size per direction; default 0, must be set (> 0).
  int64_t hidden_size = 0;
  // L, stacked layers; layer l > 0 reads layer l-1's output. Default 1.
  int num_layers = 1;
  // A second, time-reversed direction per layer, outputs concatenated [fwd, bwd]. Default false.
  bool bidirectional = false;
  // Layers from index Lstm::kResidualFrom (the third) on add their input (after dropout) to their
  // output, as in GNMT: the bottom layers learn alone, deeper ones learn a correction. Default
  // false.
  bool residual = false;
  // Dropout probability on the input of layers 1..L-1, in training only; [0, 1). Default 0.
  double dropout = 0.0;
  // Of parameters, inputs and outputs: f32, or f64 for gradient checks. Default f32.
  DType dtype = DType::f32;
  // Where parameters live; inputs must be there too. Default the CPU.
  Device device = Device::cpu();
  // Parameter-name prefix, e.g. "encoder.lstm". Default "lstm".
  std::string name = "lstm";
  // Initialisation stream: the same seed gives the same weights. Default 0.
  uint64_t seed = 0;
};

// Per-layer states, one row per layer and direction: row l * dirs + d, d = 0 forward, 1 reverse.
struct LstmState {
  Tensor h;  // [L * dirs, B, H]
  Tensor c;  // [L * dirs, B, H]
};

class Lstm : public Layer {
 public:
  static constexpr int kResidualFrom = 2;  // first (0-based) layer with a residual connection

  struct Output {
    Tensor output;          // [T, B, H * dirs], zeros at padded positions
    LstmState final_state;  // [L * dirs, B, H]: each sequence's state after its last real token
  };
  struct Gradients {
    Tensor dx;            // [T, B, E]
    LstmState d_initial;  // [L * dirs, B, H], gradient of the initial state (given or zero)
  };

  // Parameters, per layer l and direction (bidirectional: ".fwd" / ".bwd"; one direction: none):
  //   <name>.<l>[.fwd|.bwd].w_ih  [4H, E or H * dirs]
  //   <name>.<l>[.fwd|.bwd].w_hh  [4H, H]
  //   <name>.<l>[.fwd|.bwd].b     [4H]
  // Weights start U(-1/sqrt(H), 1/sqrt(H)) as in torch.nn.LSTM; b starts 0, forget slice 1.
  explicit Lstm(LstmOptions options);

  // x: [T, B, E], T >= 1. mask: [T, B] (1 = real token, 0 = padding; x's dtype) or undefined.
  // Padding may sit anywhere; a padded position carries the state through unchanged, so with
  // right padding the forward direction's final state is that of the last real token, and the
  // reverse direction starts at each sequence's real end. initial: h and/or c [L * dirs, B, H],
  // or undefined (zeros). rng: draws the dropout masks; required when training with dropout.
  // x and mask are kept (not copied) for backward: leave them unchanged until then.
  Output forward(const Tensor& x, const Tensor& mask, const LstmState& initial = {},
                 Rng* rng = nullptr);

  // d_output: [T, B, H * dirs]; d_final: h and/or c [L * dirs, B, H] or undefined (zero).
  // Accumulates into every parameter's grad. Consumes the forward cache: one backward per forward.
  Gradients backward(const Tensor& d_output, const LstmState& d_final = {});

  void collect_parameters(std::vector<Parameter*>& out) override;

  const LstmOptions& options() const { return options_; }
  int directions() const { return options_.bidirectional ? 2 : 1; }
  Parameter& w_ih(int layer, int direction) { return cell(layer, direction).w_ih; }
  Parameter& w_hh(int layer, int direction) { return cell(layer, direction).w_hh; }
  Parameter& bias(int layer, int direction) { return cell(layer, direction).b; }

 private:
  // One layer and direction: its parameters and its forward cache (reused across batches of one
  // shape, so steady-state training allocates none of it).
  struct Cell {
    Parameter w_ih, w_hh, b;
    Tensor gates;  // [T, B, 4H] activations after forward; their gradients after backward
    Tensor h;      // [T + 1, B, H] states; forward: h[t] before time t, reverse: h[t + 1]
    Tensor c;      // [T + 1, B, H] likewise
    Tensor dh;     // [T, B, H] backward workspace: total gradient into each output state
    Tensor carry;  // [B, H] backward workspace: dh_carry of lstm_cell_bwd
  };
  struct Stage {
    std::vector<Cell> cells;  // one per direction
    int64_t input_size = 0;
    bool residual = false;
    Tensor input;         // [T, B, input_size] what the layer read (after dropout)
    Tensor dropout_mask;  // [T, B, input_size] or undefined
  };

  Cell& cell(int layer, int direction);
  void forward_cell(int layer, int direction, const LstmState& initial, Tensor& output,
                    LstmState& final_state);
  void backward_cell(int layer, int direction, const Tensor& d_output, const LstmState& d_final,
                     Tensor& dx, LstmState& d_initial);

  LstmOptions options_;
  std::vector<Stage> stages_;
  Tensor mask_;  // [T, B] or undefined
  int64_t steps_ = 0, batch_ = 0;
  bool cached_ = false;  // a forward is waiting for its backward
};

}  // namespace s2s
