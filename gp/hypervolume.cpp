// Exact 2-D sweep and 3-D slice-by-third-objective hypervolume (REFERENCE §7).
#include "gp/hypervolume.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "host/core/error.hpp"

namespace sparse::gp {
namespace {

// Area dominated by sorted (x ascending, then y ascending) points, bounded by (rx, ry).
double sweep_2d(const std::vector<std::pair<double, double>>& sorted, double rx, double ry) {
  double area = 0.0, best_y = ry;
  for (const auto& [x, y] : sorted) {
    if (y < best_y) {
      area += (rx - x) * (best_y - y);
      best_y = y;
    }
  }
  return area;
}

}  // namespace

double hypervolume_2d(const Eigen::MatrixXd& f, const Eigen::Vector2d& ref) {
  SPARSE_CHECK(f.cols() == 2, "2-D hypervolume got " << f.cols() << " objectives, expected 2");
  std::vector<std::pair<double, double>> pts;
  for (Eigen::Index i = 0; i < f.rows(); ++i)
    if (f(i, 0) < ref[0] && f(i, 1) < ref[1]) pts.emplace_back(f(i, 0), f(i, 1));
  std::sort(pts.begin(), pts.end());
  return sweep_2d(pts, ref[0], ref[1]);
}

double hypervolume_3d(const Eigen::MatrixXd& f, const Eigen::Vector3d& ref) {
  SPARSE_CHECK(f.cols() == 3, "3-D hypervolume got " << f.cols() << " objectives, expected 3");
  std::vector<Eigen::Index> idx;
  for (Eigen::Index i = 0; i < f.rows(); ++i)
    if (f(i, 0) < ref[0] && f(i, 1) < ref[1] && f(i, 2) < ref[2]) idx.push_back(i);
  std::sort(idx.begin(), idx.end(), [&](Eigen::Index a, Eigen::Index b) { return f(a, 2) < f(b, 2); });
  // Slab between consecutive third-objective levels z_i ≤ z < z_{i+1}: area of the points with f3 ≤ z_i.
  std::vector<std::pair<double, double>> slice;  // kept sorted by (f1, f2)
  double volume = 0.0;
  for (size_t s = 0; s < idx.size(); ++s) {
    const std::pair<double, double> p{f(idx[s], 0), f(idx[s], 1)};
    slice.insert(std::upper_bound(slice.begin(), slice.end(), p), p);
    const double z_next = (s + 1 < idx.size()) ? f(idx[s + 1], 2) : ref[2];
    const double height = z_next - f(idx[s], 2);
    if (height > 0.0) volume += height * sweep_2d(slice, ref[0], ref[1]);
  }
  return volume;
}

double hypervolume(const Eigen::MatrixXd& f, const Eigen::VectorXd& ref) {
  SPARSE_CHECK(ref.size() == f.cols(), "reference point has " << ref.size() << " objectives, points have " << f.cols());
  if (f.cols() == 2) return hypervolume_2d(f, Eigen::Vector2d(ref[0], ref[1]));
  if (f.cols() == 3) return hypervolume_3d(f, Eigen::Vector3d(ref[0], ref[1], ref[2]));
  SPARSE_FAIL("exact hypervolume supports 2 or 3 objectives, got " << f.cols());
}

}  // namespace sparse::gp
