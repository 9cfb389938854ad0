// Rng: the one random-number source of s2s. Counter-based (each draw is a hash of seed and a
// counter), so a stream is reproducible from two integers, can be saved in a checkpoint and
// restored exactly, can be split into independent streams, and can be replayed element by
// element on another backend (a GPU kernel computes draw i without drawing 0..i-1).
#pragma once

#include <cmath>
#include <cstdint>

namespace s2s {

// SplitMix64's finaliser: a bijective 64-bit mix with full avalanche.
constexpr uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// The 64 random bits number `counter` of stream `seed`.
constexpr uint64_t random_bits(uint64_t seed, uint64_t counter) {
  return mix64(mix64(seed) ^ (counter * 0xD1B54A32D192ED03ull));
}

// Uniform in [0, 1) with 53 random bits.
constexpr double uniform_at(uint64_t seed, uint64_t counter) {
  return static_cast<double>(random_bits(seed, counter) >> 11) * 0x1.0p-53;
}

class Rng {
 public:
  explicit Rng(uint64_t seed = 0, uint64_t counter = 0) : seed_(seed), counter_(counter) {}

  uint64_t next_bits() { return random_bits(seed_, counter_++); }
  double uniform() { return uniform_at(seed_, counter_++); }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  double normal() {  // Box-Muller; 1 - u keeps log away from 0
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Reserves n consecutive draws for a bulk consumer (e.g. a dropout mask computed in parallel
  // or on a GPU) and returns the first counter of the block.
  uint64_t reserve(uint64_t n) {
    const uint64_t first = counter_;
    counter_ += n;
    return first;
  }
  // An independent stream derived from this one's seed and a label (a layer index, a rank).
  Rng split(uint64_t label) const { return Rng(mix64(seed_ ^ mix64(label + 1)), 0); }

  uint64_t seed() const { return seed_; }
  uint64_t counter() const { return counter_; }

 private:
  uint64_t seed_;
  uint64_t counter_;
};

}  // namespace s2s
