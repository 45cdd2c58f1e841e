// Exact hypervolume (minimization) dominated by a point set and bounded by a reference point: 2 objectives
// by a sweep, 3 objectives by slicing along the third objective (O(n² log n)).
// Invariant: points not strictly better than the reference in every objective contribute nothing;
// dominated and duplicated points are allowed and change nothing.
#pragma once
#include <Eigen/Dense>

namespace sparse::gp {

// f: n × K (K = 2 or 3), ref: K. Throws for other K.
double hypervolume(const Eigen::MatrixXd& f, const Eigen::VectorXd& ref);

double hypervolume_2d(const Eigen::MatrixXd& f, const Eigen::Vector2d& ref);
double hypervolume_3d(const Eigen::MatrixXd& f, const Eigen::Vector3d& ref);

}  // namespace sparse::gp
