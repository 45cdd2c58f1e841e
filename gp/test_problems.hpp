// Multi-objective test problems with known Pareto fronts (minimization), inputs in [0,1]^d (REFERENCE §7):
// ZDT1, ZDT2 (ref [11,11]), DTLZ2 with M objectives (ref 1.1 each), BraninCurrin (ref [18,6]).
// Invariant: max_hv is the hypervolume of the true front with respect to ref (closed form, or BoTorch's
// published ≈ 59.36 for BraninCurrin).
#pragma once
#include <Eigen/Dense>
#include <functional>
#include <string>

namespace sparse::gp {

struct TestProblem {
  std::string name;
  int dim = 0, num_objectives = 0;
  Eigen::VectorXd ref;
  double max_hv = 0.0;
  std::function<Eigen::VectorXd(const Eigen::VectorXd&)> evaluate;  // x in [0,1]^dim → objectives
};

TestProblem zdt1(int dim);             // max HV 120 + 2/3
TestProblem zdt2(int dim);             // max HV 120 + 1/3
TestProblem dtlz2(int m, int dim);     // max HV 1.1^M − π^(M/2)/Γ(M/2+1)/2^M, dim ≥ M
TestProblem branin_currin();           // dim 2, max HV ≈ 59.36

}  // namespace sparse::gp
