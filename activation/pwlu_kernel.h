// The CPU loops of PWLU over plain arrays. No LibTorch here: the file is built with
// vectorising flags, and its float loops are cloned for AVX2 and AVX-512 (the CPU picks one at
// load time). pwlu.cc splits the work over threads and wraps it as an autograd function.
#pragma once

#include <cstdint>

namespace actsearch::pwlu {

// G units' tables in one precision, as arrays over the units.
template <class T>
struct UnitTables {
  int64_t units = 0;
  int intervals = 0;               // N
  const T* left = nullptr;         // B_L
  const T* right = nullptr;        // B_R
  const T* inv_step = nullptr;     // N / (B_R - B_L), as the LibTorch formulation computes it
  const T* left_slope = nullptr;   // K_L
  const T* right_slope = nullptr;  // K_R
  const T* first = nullptr;        // Y_0 of each unit
  const T* last = nullptr;         // Y_N of each unit
  const T* points = nullptr;       // [G][N + 1]: Y_0..Y_N
};

// How the elements of x map to units, in "rows" that the threads share out:
// kFlat: one unit (per layer); a row is one element.
// kPlanar: contiguous [N, C, ...] per channel; a row is an (n, c) plane, of unit c.
// kInterleaved: channels_last or [N, C] per channel; a row holds C elements, element c of unit c.
struct Walk {
  enum Kind { kFlat, kPlanar, kInterleaved } kind;
  int64_t row;       // elements per row
  int64_t rows;      // rows in x
  int64_t channels;  // units that alternate (planar, interleaved); 1 when flat
};

// Each unit's gradient record: d/dY_0..d/dY_N, then these sums.
enum Slot : int64_t {
  kLeftGrad = 1,    // g over x < B_L
  kRightGrad,       // g over x >= B_R
  kLeftSlopeGrad,   // g (x - B_L) over x < B_L
  kRightSlopeGrad,  // g (x - B_R) over x >= B_R
  kDeltaGrad,       // g (Y_(i+1) - Y_i) inside
  kDeltaUGrad,      // g (Y_(i+1) - Y_i) u inside, u = (x - B_L) N / (B_R - B_L)
};
inline int64_t RecordWidth(int64_t intervals) { return intervals + 1 + kDeltaUGrad; }

// y for the rows [begin, end) of x.
void Forward(const UnitTables<float>& t, const Walk& w, const float* x, float* y, int64_t begin,
             int64_t end);
void Forward(const UnitTables<double>& t, const Walk& w, const double* x, double* y, int64_t begin,
             int64_t end);

// grad_x for the rows [begin, end), and their sums added to `records` (units * RecordWidth).
void Backward(const UnitTables<float>& t, const Walk& w, const float* x, const float* grad_y,
              float* grad_x, int64_t begin, int64_t end, double* records);
void Backward(const UnitTables<double>& t, const Walk& w, const double* x, const double* grad_y,
              double* grad_x, int64_t begin, int64_t end, double* records);

}  // namespace actsearch::pwlu
