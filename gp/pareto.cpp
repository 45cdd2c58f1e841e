// Fast non-dominated sort (minimization).
#include "gp/pareto.hpp"

namespace sparse::gp {

bool dominates(const Eigen::Ref<const Eigen::VectorXd>& a, const Eigen::Ref<const Eigen::VectorXd>& b) {
  bool strictly = false;
  for (Eigen::Index k = 0; k < a.size(); ++k) {
    if (a[k] > b[k]) return false;
    if (a[k] < b[k]) strictly = true;
  }
  return strictly;
}

std::vector<int> non_dominated_ranks(const Eigen::MatrixXd& f) {
  const int n = static_cast<int>(f.rows());
  std::vector<std::vector<int>> dominated_by_me(static_cast<size_t>(n));
  std::vector<int> count(static_cast<size_t>(n), 0), rank(static_cast<size_t>(n), -1), current;
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) {
      if (dominates(f.row(i).transpose(), f.row(j).transpose())) {
        dominated_by_me[static_cast<size_t>(i)].push_back(j);
        ++count[static_cast<size_t>(j)];
      } else if (dominates(f.row(j).transpose(), f.row(i).transpose())) {
        dominated_by_me[static_cast<size_t>(j)].push_back(i);
        ++count[static_cast<size_t>(i)];
      }
    }
  for (int i = 0; i < n; ++i)
    if (count[static_cast<size_t>(i)] == 0) current.push_back(i);
  for (int r = 0; !current.empty(); ++r) {
    std::vector<int> next;
    for (int i : current) {
      rank[static_cast<size_t>(i)] = r;
      for (int j : dominated_by_me[static_cast<size_t>(i)])
        if (--count[static_cast<size_t>(j)] == 0) next.push_back(j);
    }
    current.swap(next);
  }
  return rank;
}

std::vector<int> pareto_front(const Eigen::MatrixXd& f) {
  const std::vector<int> rank = non_dominated_ranks(f);
  std::vector<int> front;
  for (int i = 0; i < static_cast<int>(rank.size()); ++i)
    if (rank[static_cast<size_t>(i)] == 0) front.push_back(i);
  return front;
}

}  // namespace sparse::gp
