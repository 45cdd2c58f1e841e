// Encoded search-space points as the GP sees them (REFERENCE §7); gp/ never includes host/space.
// Invariants: every point of one set has the same lengths; numeric values lie in [0, 1]; categorical
// values are level indices >= 0; masks are 1 (active) or 0 (inactive). Inactive values are ignored.
#pragma once
#include <Eigen/Dense>
#include <cstdint>
#include <vector>

namespace sparse::gp {

// Contract with host/space: one encoded configuration.
struct EncodedPoint {
  std::vector<double> numeric;              // each in [0, 1]
  std::vector<int> categorical;             // level index, >= 0 (small: the kernel one-hot encodes levels)
  std::vector<uint8_t> numeric_active;      // 1 = active; empty means all active
  std::vector<uint8_t> categorical_active;  // 1 = active; empty means all active
};

// Matrix form used by the kernel. Inactive numeric values are imputed to 0 and inactive categorical
// values to level -1 (a level no active point has), see kernel.hpp for why this keeps K positive definite.
struct Inputs {
  Eigen::MatrixXd numeric;         // n × D_num, imputed
  Eigen::MatrixXi numeric_active;  // n × D_num, 0/1
  Eigen::MatrixXi categorical;     // n × D_cat, -1 where inactive
  int size() const { return static_cast<int>(numeric.rows()); }
  int num_numeric() const { return static_cast<int>(numeric.cols()); }
  int num_categorical() const { return static_cast<int>(categorical.cols()); }
};

// Validates lengths and ranges (SPARSE_CHECK) and builds the matrix form. Dimensions are taken from the
// first point, or from (num_numeric, num_categorical) when given (>= 0), so that empty sets are allowed.
Inputs make_inputs(const std::vector<EncodedPoint>& points, int num_numeric = -1, int num_categorical = -1);

// Rows of a and then rows of b (same dimensions).
Inputs concat_inputs(const Inputs& a, const Inputs& b);

// Points with all-active numeric values from an n × D matrix (continuous test problems).
std::vector<EncodedPoint> points_from_matrix(const Eigen::MatrixXd& x);

}  // namespace sparse::gp
