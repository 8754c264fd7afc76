#include "activation/pwlu_kernel.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "activation/vector_clones.h"

// Everything below inlines into the cloned entry points, so that each build vectorises it.
#define PWLU_INLINE inline __attribute__((always_inline))

namespace actsearch::pwlu {
namespace {

// Lanes per unit in the per-lane sums of a one-unit run: one vector of floats on AVX-512.
constexpr int kLanes = 16;
// Elements per call of the lane loops.
constexpr int64_t kSpan = 4096;
// Copies of the point-gradient table, used in turn by consecutive elements: elements that
// land in the same interval would otherwise wait on each other's stores.
constexpr int kCopies = 4;
// The float sums go to the double records at least this often (elements).
constexpr int64_t kFlushEvery = 32768;

// The parameters of lane k when every lane belongs to one unit.
template <class T>
struct OneUnit {
  OneUnit(const UnitTables<T>& t, int64_t u)
      : left(t.left[u]),
        right(t.right[u]),
        inv_step(t.inv_step[u]),
        left_slope(t.left_slope[u]),
        right_slope(t.right_slope[u]),
        first(t.first[u]),
        last(t.last[u]),
        base(static_cast<int>(u * (t.intervals + 1))) {}
  PWLU_INLINE T Left(int) const { return left; }
  PWLU_INLINE T Right(int) const { return right; }
  PWLU_INLINE T InvStep(int) const { return inv_step; }
  PWLU_INLINE T LeftSlope(int) const { return left_slope; }
  PWLU_INLINE T RightSlope(int) const { return right_slope; }
  PWLU_INLINE T First(int) const { return first; }
  PWLU_INLINE T Last(int) const { return last; }
  PWLU_INLINE int Base(int) const { return base; }
  T left, right, inv_step, left_slope, right_slope, first, last;
  int base;  // offset of the unit's points
};

// The parameters of lane k for a tile of whole interleaved rows, lane k belonging to unit
// k % C: one long loop over the tile vectorises well, a loop per row of C lanes does not.
template <class T>
class TiledUnits {
 public:
  TiledUnits(const UnitTables<T>& t, int64_t rows) {
    const int64_t lanes = rows * t.units;
    for (std::vector<T>* v :
         {&left_, &right_, &inv_step_, &left_slope_, &right_slope_, &first_, &last_}) {
      v->resize(lanes);
    }
    base_.resize(lanes);
    for (int64_t k = 0; k < lanes; ++k) {
      const int64_t u = k % t.units;
      left_[k] = t.left[u];
      right_[k] = t.right[u];
      inv_step_[k] = t.inv_step[u];
      left_slope_[k] = t.left_slope[u];
      right_slope_[k] = t.right_slope[u];
      first_[k] = t.first[u];
      last_[k] = t.last[u];
      base_[k] = static_cast<int>(u * (t.intervals + 1));
    }
  }
  PWLU_INLINE T Left(int k) const { return left_[k]; }
  PWLU_INLINE T Right(int k) const { return right_[k]; }
  PWLU_INLINE T InvStep(int k) const { return inv_step_[k]; }
  PWLU_INLINE T LeftSlope(int k) const { return left_slope_[k]; }
  PWLU_INLINE T RightSlope(int k) const { return right_slope_[k]; }
  PWLU_INLINE T First(int k) const { return first_[k]; }
  PWLU_INLINE T Last(int k) const { return last_[k]; }
  PWLU_INLINE int Base(int k) const { return base_[k]; }

 private:
  std::vector<T> left_, right_, inv_step_, left_slope_, right_slope_, first_, last_;
  std::vector<int> base_;
};

// Where x falls: the offset of Y_i in the points, the fraction t in the interval, and
// u = i + t, all clamped to the range [B_L, B_R].
template <class T>
struct Located {
  int at;
  T fraction;
  T u;
};

template <class T>
PWLU_INLINE Located<T> Locate(T x, T left, T inv_step, int n, int base) {
  const T u = (x - left) * inv_step;
  // Bounded before the conversion to int, which is undefined out of range (NaN becomes -1).
  // The lower bound -1, not 0, keeps the conversion a signed one, which AVX2 has.
  const T lower = u > T(-1) ? u : T(-1);
  const T bounded = lower < T(n) ? lower : T(n);
  int i = static_cast<int>(bounded);
  i = i > 0 ? i : 0;
  i = i < n - 1 ? i : n - 1;
  const T clamped = bounded > T(0) ? bounded : T(0);
  return {base + i, clamped - static_cast<T>(i), clamped};
}

// y[k] for `width` lanes: branch-free, so that the loop vectorises (the points are gathered).
template <class T, class Params>
PWLU_INLINE void ForwardLanes(const Params& p, const T* __restrict points, int n,
                              const T* __restrict x, T* __restrict y, int width) {
  for (int k = 0; k < width; ++k) {
    const T v = x[k];
    const Located<T> at = Locate(v, p.Left(k), p.InvStep(k), n, p.Base(k));
    const T y0 = points[at.at];
    const T inside = y0 + at.fraction * (points[at.at + 1] - y0);
    const T below = (v - p.Left(k)) * p.LeftSlope(k) + p.First(k);
    const T above = (v - p.Right(k)) * p.RightSlope(k) + p.Last(k);
    const T out = v < p.Left(k) ? below : (v >= p.Right(k) ? above : inside);
    y[k] = v == v ? out : v;  // NaN stays NaN, so that a diverging child is seen to diverge
  }
}

// The float sums of one task, by slot (Slot - 1) and lane.
template <class T>
struct LaneSums {
  T* slot[6];
};

// grad_x for `width` lanes (vectorised), each lane's share of the slot sums added to lane k
// of the six sum arrays, and what each element adds to the points: w0 at index, w1 at
// index + 1.
template <class T, class Params>
PWLU_INLINE void BackwardLanes(const Params& p, const T* __restrict points, int n,
                               const T* __restrict x, const T* __restrict gy, T* __restrict gx,
                               int width, int* __restrict index, T* __restrict w0, T* __restrict w1,
                               T* __restrict left_grad, T* __restrict right_grad,
                               T* __restrict left_slope_grad, T* __restrict right_slope_grad,
                               T* __restrict delta_grad, T* __restrict delta_u_grad) {
  // Every array here is distinct; GCC loses the restrict qualifiers when it inlines.
#pragma GCC ivdep
  for (int k = 0; k < width; ++k) {
    const T v = x[k];
    const T g = gy[k];
    const Located<T> at = Locate(v, p.Left(k), p.InvStep(k), n, p.Base(k));
    const T delta = points[at.at + 1] - points[at.at];
    const bool number = v == v;
    const bool below = v < p.Left(k);
    const bool above = v >= p.Right(k);
    const bool inside = number & !below & !above;  // & rather than &&: no branches
    // Outside the range the clamped position puts all of g on Y_0 (t = 0) or Y_N (t = 1).
    index[k] = at.at;
    w1[k] = number ? g * at.fraction : T(0);
    w0[k] = number ? g - g * at.fraction : T(0);
    left_grad[k] += below ? g : T(0);
    right_grad[k] += above ? g : T(0);
    left_slope_grad[k] += below ? g * (v - p.Left(k)) : T(0);
    right_slope_grad[k] += above ? g * (v - p.Right(k)) : T(0);
    const T g_delta = inside ? g * delta : T(0);
    delta_grad[k] += g_delta;
    delta_u_grad[k] += g_delta * at.u;
    const T grad =
        below ? g * p.LeftSlope(k) : (above ? g * p.RightSlope(k) : g_delta * p.InvStep(k));
    gx[k] = number ? grad : v;
  }
}

// The same, with the six sums of `lanes` (separate restrict parameters, which is what lets
// the compiler vectorise the loop).
template <class T, class Params>
PWLU_INLINE void BackwardLanes(const Params& p, const T* points, int n, const T* x, const T* gy,
                               T* gx, int width, int* index, T* w0, T* w1,
                               const LaneSums<T>& lanes) {
  BackwardLanes(p, points, n, x, gy, gx, width, index, w0, w1, lanes.slot[0], lanes.slot[1],
                lanes.slot[2], lanes.slot[3], lanes.slot[4], lanes.slot[5]);
}

template <class T>
PWLU_INLINE void ScatterPoints(const int* index, const T* w0, const T* w1, int width, T* copies,
                               int64_t copy_stride) {
  static_assert(kCopies == 4, "the loop below is unrolled by the number of copies");
  T* const c0 = copies;
  T* const c1 = copies + copy_stride;
  T* const c2 = copies + 2 * copy_stride;
  T* const c3 = copies + 3 * copy_stride;
  int k = 0;
  for (; k + 4 <= width; k += 4) {
    c0[index[k]] += w0[k];
    c0[index[k] + 1] += w1[k];
    c1[index[k + 1]] += w0[k + 1];
    c1[index[k + 1] + 1] += w1[k + 1];
    c2[index[k + 2]] += w0[k + 2];
    c2[index[k + 2] + 1] += w1[k + 2];
    c3[index[k + 3]] += w0[k + 3];
    c3[index[k + 3] + 1] += w1[k + 3];
  }
  for (; k < width; ++k) {
    c0[index[k]] += w0[k];
    c0[index[k] + 1] += w1[k];
  }
}

// One task's float sums, moved to its double records every kFlushEvery elements: copies of
// the point table, and slot sums by lane (`lane_unit[l]` is the unit of lane l).
template <class T>
class TaskSums {
 public:
  TaskSums(const UnitTables<T>& t, std::vector<int64_t> lane_unit, int64_t span, double* records)
      : units_(t.units),
        n_(t.intervals),
        table_(t.units * (t.intervals + 1)),
        lane_unit_(std::move(lane_unit)),
        records_(records),
        copies_(kCopies * table_, T(0)),
        lanes_(6 * lane_unit_.size(), T(0)),
        index_(span),
        w0_(span),
        w1_(span) {}

  // The slot sums of the lanes from `lane` on.
  LaneSums<T> Lanes(int64_t lane) {
    LaneSums<T> s;
    for (size_t k = 0; k < 6; ++k) s.slot[k] = lanes_.data() + k * lane_unit_.size() + lane;
    return s;
  }
  int* index() { return index_.data(); }
  T* w0() { return w0_.data(); }
  T* w1() { return w1_.data(); }

  void Scatter(int width) {
    ScatterPoints(index_.data(), w0_.data(), w1_.data(), width, copies_.data(), table_);
    pending_ += width;
    if (pending_ >= kFlushEvery) Flush();
  }

  void Flush() {
    const int64_t width = RecordWidth(n_);
    for (int64_t u = 0; u < units_; ++u) {
      double* record = records_ + u * width;
      for (int c = 0; c < kCopies; ++c) {
        const T* table = copies_.data() + c * table_ + u * (n_ + 1);
        for (int j = 0; j <= n_; ++j) record[j] += table[j];
      }
    }
    std::fill(copies_.begin(), copies_.end(), T(0));
    const size_t lanes = lane_unit_.size();
    for (size_t k = 0; k < 6; ++k) {
      const T* sums = lanes_.data() + k * lanes;
      for (size_t l = 0; l < lanes; ++l) {
        records_[lane_unit_[l] * width + n_ + kLeftGrad + k] += sums[l];
      }
    }
    std::fill(lanes_.begin(), lanes_.end(), T(0));
    pending_ = 0;
  }

 private:
  int64_t units_;
  int n_;
  int64_t table_;  // elements in one copy of the point table
  std::vector<int64_t> lane_unit_;
  double* records_;
  std::vector<T> copies_, lanes_;
  std::vector<int> index_;
  std::vector<T> w0_, w1_;
  int64_t pending_ = 0;
};

// Elements per tile of interleaved rows. Each lane reads seven parameters from per-lane copies
// (TiledUnits); a tile this size keeps them in the L1 cache. Tiles of 4096 lanes (128 KB of
// copies) spilled to L2: per-channel PWLU on channels-last inputs took 5.6x ReLU's forward +
// backward, against 4.0x with these (bench/activation_bench, 2-vCPU VM).
constexpr int64_t kTileSpan = 256;

// Rows of interleaved units per tile: about kTileSpan elements.
inline int64_t TileRows(const Walk& w) { return std::max<int64_t>(1, kTileSpan / w.row); }

template <class T>
PWLU_INLINE void ForwardRows(const UnitTables<T>& t, const Walk& w, const T* x, T* y, int64_t begin,
                             int64_t end) {
  const int n = t.intervals;
  if (w.kind == Walk::kInterleaved) {
    const int64_t tile = std::min(TileRows(w), end - begin);
    const TiledUnits<T> p(t, tile);
    for (int64_t r = begin; r < end; r += tile) {
      const int width = static_cast<int>(std::min(tile, end - r) * w.row);
      ForwardLanes(p, t.points, n, x + r * w.row, y + r * w.row, width);
    }
    return;
  }
  // Flat rows are single elements: one run over them all. Planar rows are planes.
  const int64_t run = w.kind == Walk::kFlat ? end - begin : w.row;
  for (int64_t r = begin; r < end; r += (w.kind == Walk::kFlat ? run : 1)) {
    const OneUnit<T> p(t, w.kind == Walk::kFlat ? 0 : r % w.channels);
    const int64_t offset = r * w.row;
    for (int64_t s = 0; s < run; s += kSpan) {
      const int width = static_cast<int>(std::min(kSpan, run - s));
      ForwardLanes(p, t.points, n, x + offset + s, y + offset + s, width);
    }
  }
}

template <class T>
PWLU_INLINE void BackwardRows(const UnitTables<T>& t, const Walk& w, const T* x, const T* gy, T* gx,
                              int64_t begin, int64_t end, double* records) {
  const int n = t.intervals;
  if (w.kind == Walk::kInterleaved) {
    const int64_t tile = std::min(TileRows(w), end - begin);
    const TiledUnits<T> p(t, tile);
    std::vector<int64_t> lane_unit(tile * w.row);
    for (size_t l = 0; l < lane_unit.size(); ++l) lane_unit[l] = l % w.row;
    TaskSums<T> sums(t, std::move(lane_unit), tile * w.row, records);
    const LaneSums<T> lanes = sums.Lanes(0);
    for (int64_t r = begin; r < end; r += tile) {
      const int width = static_cast<int>(std::min(tile, end - r) * w.row);
      const int64_t o = r * w.row;
      BackwardLanes(p, t.points, n, x + o, gy + o, gx + o, width, sums.index(), sums.w0(),
                    sums.w1(), lanes);
      sums.Scatter(width);
    }
    sums.Flush();
    return;
  }
  std::vector<int64_t> lane_unit(t.units * kLanes);
  for (size_t l = 0; l < lane_unit.size(); ++l) lane_unit[l] = l / kLanes;
  TaskSums<T> sums(t, std::move(lane_unit), kSpan, records);
  const int64_t run = w.kind == Walk::kFlat ? end - begin : w.row;
  for (int64_t r = begin; r < end; r += (w.kind == Walk::kFlat ? run : 1)) {
    const int64_t unit = w.kind == Walk::kFlat ? 0 : r % w.channels;
    const OneUnit<T> p(t, unit);
    const LaneSums<T> lanes = sums.Lanes(unit * kLanes);
    const int64_t offset = r * w.row;
    // Spans of whole lane groups, so that lane l of every group adds to the same sums.
    constexpr int64_t kGroupedSpan = kSpan / kLanes * kLanes;
    for (int64_t s = 0; s < run; s += kGroupedSpan) {
      const int64_t width = std::min(kGroupedSpan, run - s);
      const int64_t o = offset + s;
      int64_t g = 0;
      for (; g + kLanes <= width; g += kLanes) {
        BackwardLanes(p, t.points, n, x + o + g, gy + o + g, gx + o + g, kLanes, sums.index() + g,
                      sums.w0() + g, sums.w1() + g, lanes);
      }
      if (g < width) {
        BackwardLanes(p, t.points, n, x + o + g, gy + o + g, gx + o + g,
                      static_cast<int>(width - g), sums.index() + g, sums.w0() + g, sums.w1() + g,
                      lanes);
      }
      sums.Scatter(static_cast<int>(width));
    }
  }
  sums.Flush();
}

}  // namespace

ACTSEARCH_VECTOR_CLONES
void Forward(const UnitTables<float>& t, const Walk& w, const float* x, float* y, int64_t begin,
             int64_t end) {
  ForwardRows(t, w, x, y, begin, end);
}

void Forward(const UnitTables<double>& t, const Walk& w, const double* x, double* y, int64_t begin,
             int64_t end) {
  ForwardRows(t, w, x, y, begin, end);
}

ACTSEARCH_VECTOR_CLONES
void Backward(const UnitTables<float>& t, const Walk& w, const float* x, const float* grad_y,
              float* grad_x, int64_t begin, int64_t end, double* records) {
  BackwardRows(t, w, x, grad_y, grad_x, begin, end, records);
}

void Backward(const UnitTables<double>& t, const Walk& w, const double* x, const double* grad_y,
              double* grad_x, int64_t begin, int64_t end, double* records) {
  BackwardRows(t, w, x, grad_y, grad_x, begin, end, records);
}

}  // namespace actsearch::pwlu
