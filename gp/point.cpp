// Validation and matrix form of encoded points (see point.hpp for the contract).
#include "gp/point.hpp"

#include "host/core/error.hpp"

namespace sparse::gp {

Inputs make_inputs(const std::vector<EncodedPoint>& points, int num_numeric, int num_categorical) {
  if (num_numeric < 0) num_numeric = points.empty() ? 0 : static_cast<int>(points[0].numeric.size());
  if (num_categorical < 0) num_categorical = points.empty() ? 0 : static_cast<int>(points[0].categorical.size());
  const int n = static_cast<int>(points.size());
  Inputs in;
  in.numeric = Eigen::MatrixXd::Zero(n, num_numeric);
  in.numeric_active = Eigen::MatrixXi::Ones(n, num_numeric);
  in.categorical = Eigen::MatrixXi::Zero(n, num_categorical);
  for (int i = 0; i < n; ++i) {
    const EncodedPoint& p = points[static_cast<size_t>(i)];
    SPARSE_CHECK(static_cast<int>(p.numeric.size()) == num_numeric,
                 "point " << i << " has " << p.numeric.size() << " numeric values, expected " << num_numeric);
    SPARSE_CHECK(static_cast<int>(p.categorical.size()) == num_categorical,
                 "point " << i << " has " << p.categorical.size() << " categorical values, expected " << num_categorical);
    SPARSE_CHECK(p.numeric_active.empty() || static_cast<int>(p.numeric_active.size()) == num_numeric,
                 "point " << i << " has a numeric_active mask of length " << p.numeric_active.size()
                          << ", expected 0 or " << num_numeric);
    SPARSE_CHECK(p.categorical_active.empty() || static_cast<int>(p.categorical_active.size()) == num_categorical,
                 "point " << i << " has a categorical_active mask of length " << p.categorical_active.size()
                          << ", expected 0 or " << num_categorical);
    for (int d = 0; d < num_numeric; ++d) {
      const bool active = p.numeric_active.empty() || p.numeric_active[static_cast<size_t>(d)] != 0;
      const double v = p.numeric[static_cast<size_t>(d)];
      if (!active) {
        in.numeric_active(i, d) = 0;
        continue;
      }
      SPARSE_CHECK(v >= 0.0 && v <= 1.0, "point " << i << " numeric value " << d << " is " << v
                                                   << ", expected a value in [0, 1]");
      in.numeric(i, d) = v;
    }
    for (int d = 0; d < num_categorical; ++d) {
      const bool active = p.categorical_active.empty() || p.categorical_active[static_cast<size_t>(d)] != 0;
      const int v = p.categorical[static_cast<size_t>(d)];
      if (!active) {
        in.categorical(i, d) = -1;
        continue;
      }
      SPARSE_CHECK(v >= 0, "point " << i << " categorical value " << d << " is " << v << ", expected a level index >= 0");
      in.categorical(i, d) = v;
    }
  }
  return in;
}

Inputs concat_inputs(const Inputs& a, const Inputs& b) {
  SPARSE_CHECK(a.num_numeric() == b.num_numeric() && a.num_categorical() == b.num_categorical(),
               "cannot stack inputs with " << a.num_numeric() << "+" << a.num_categorical() << " and "
                                           << b.num_numeric() << "+" << b.num_categorical() << " dimensions");
  Inputs c;
  c.numeric.resize(a.size() + b.size(), a.num_numeric());
  c.numeric << a.numeric, b.numeric;
  c.numeric_active.resize(a.size() + b.size(), a.num_numeric());
  c.numeric_active << a.numeric_active, b.numeric_active;
  c.categorical.resize(a.size() + b.size(), a.num_categorical());
  c.categorical << a.categorical, b.categorical;
  return c;
}

std::vector<EncodedPoint> points_from_matrix(const Eigen::MatrixXd& x) {
  std::vector<EncodedPoint> pts(static_cast<size_t>(x.rows()));
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    pts[static_cast<size_t>(i)].numeric.resize(static_cast<size_t>(x.cols()));
    for (Eigen::Index d = 0; d < x.cols(); ++d) pts[static_cast<size_t>(i)].numeric[static_cast<size_t>(d)] = x(i, d);
  }
  return pts;
}

}  // namespace sparse::gp
