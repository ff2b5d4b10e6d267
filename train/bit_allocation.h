// HAWQ-V3's bit allocation (Yao et al. 2021 §3.4): one bit-width per module minimising the summed
// sensitivity Σ_i Ω_i(b_i) subject to a model-size budget Σ_i n_i·b_i ≤ budget — an integer linear
// program with one choice per module (a multiple-choice knapsack), solved exactly by dynamic
// programming over the size in units of the gcd of every n_i·b.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lmul::train {

struct AllocationProblem {
  std::vector<int64_t> params;             // n_i
  std::vector<int> bits;                   // the bit-widths to choose from
  std::vector<std::vector<double>> omega;  // omega[i][k]: module i at bits[k]
  double budget_bits = 0;                  // Σ n_i·b_i may not exceed it
};

struct Allocation {
  std::vector<int> bits;  // per module
  double omega = 0;       // Σ Ω_i(b_i)
  int64_t size_bits = 0;  // Σ n_i·b_i
};

// The exact optimum (ties: the first optimum in module order, smaller bit-width indices first).
// Throws lmul::Error when no allocation fits the budget (naming the smallest possible size) or
// when the table would be too large for the dynamic program.
Allocation allocate_bits(const AllocationProblem& p);

}  // namespace lmul::train
