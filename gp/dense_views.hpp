// Views of Eigen matrices for the kernels of gp/dense.hpp (internal to gp/).
#pragma once
#include <Eigen/Dense>

#include "gp/dense.hpp"

namespace sparse::gp {

inline dense::Mat mat(Eigen::MatrixXd& m) { return {m.data(), m.rows(), m.cols(), m.outerStride()}; }
inline dense::CMat cmat(const Eigen::MatrixXd& m) { return {m.data(), m.rows(), m.cols(), m.outerStride()}; }
inline dense::Mat mat(Eigen::VectorXd& v) { return {v.data(), v.size(), 1, std::max<Eigen::Index>(v.size(), 1)}; }
inline dense::CMat cmat(const Eigen::VectorXd& v) { return {v.data(), v.size(), 1, std::max<Eigen::Index>(v.size(), 1)}; }

}  // namespace sparse::gp
