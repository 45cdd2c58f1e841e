// Pareto dominance and non-dominated sorting for minimization (Deb et al. 2002, fast non-dominated sort).
// Invariant: rank 0 is the Pareto front; a point of rank r is dominated by some point of rank r − 1.
#pragma once
#include <Eigen/Dense>
#include <vector>

namespace sparse::gp {

// a dominates b: a ≤ b in every objective and a < b in at least one.
bool dominates(const Eigen::Ref<const Eigen::VectorXd>& a, const Eigen::Ref<const Eigen::VectorXd>& b);

// Rank of each row of f (n × K); O(K n²).
std::vector<int> non_dominated_ranks(const Eigen::MatrixXd& f);

// Indices of the non-dominated rows (rank 0), ascending. Duplicated points are all kept.
std::vector<int> pareto_front(const Eigen::MatrixXd& f);

}  // namespace sparse::gp
