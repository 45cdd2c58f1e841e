// ZDT1, ZDT2 (Zitzler et al. 2000), DTLZ2 (Deb et al. 2002), BraninCurrin (Belakaria et al. 2019; BoTorch).
#include "gp/test_problems.hpp"

#include <cmath>
#include <numbers>

#include "host/core/error.hpp"

namespace sparse::gp {
namespace {

void check_x(const Eigen::VectorXd& x, int dim, const std::string& name) {
  SPARSE_CHECK(x.size() == dim, name << " got " << x.size() << " inputs, expected " << dim);
  SPARSE_CHECK((x.array() >= 0.0).all() && (x.array() <= 1.0).all(), name << " inputs must lie in [0, 1]");
}

TestProblem zdt(int dim, bool concave) {
  SPARSE_CHECK(dim >= 2, "ZDT needs dim >= 2, got " << dim);
  TestProblem p;
  p.name = concave ? "ZDT2" : "ZDT1";
  p.dim = dim;
  p.num_objectives = 2;
  p.ref = Eigen::Vector2d(11.0, 11.0);
  p.max_hv = concave ? 120.0 + 1.0 / 3.0 : 120.0 + 2.0 / 3.0;
  p.evaluate = [dim, concave, name = p.name](const Eigen::VectorXd& x) {
    check_x(x, dim, name);
    const double f1 = x[0];
    const double g = 1.0 + 9.0 * x.tail(dim - 1).sum() / (dim - 1);
    const double ratio = f1 / g;
    const double f2 = g * (concave ? 1.0 - ratio * ratio : 1.0 - std::sqrt(ratio));
    return Eigen::VectorXd(Eigen::Vector2d(f1, f2));
  };
  return p;
}

}  // namespace

TestProblem zdt1(int dim) { return zdt(dim, false); }
TestProblem zdt2(int dim) { return zdt(dim, true); }

TestProblem dtlz2(int m, int dim) {
  SPARSE_CHECK(m >= 2 && dim >= m, "DTLZ2 needs M >= 2 and dim >= M, got M = " << m << ", dim = " << dim);
  TestProblem p;
  p.name = "DTLZ2";
  p.dim = dim;
  p.num_objectives = m;
  p.ref = Eigen::VectorXd::Constant(m, 1.1);
  const double half = 0.5 * m;
  p.max_hv = std::pow(1.1, m) - std::pow(std::numbers::pi, half) / std::tgamma(half + 1.0) / std::pow(2.0, m);
  p.evaluate = [m, dim](const Eigen::VectorXd& x) {
    check_x(x, dim, "DTLZ2");
    const double g = (x.tail(dim - m + 1).array() - 0.5).square().sum();
    Eigen::VectorXd f = Eigen::VectorXd::Constant(m, 1.0 + g);
    for (int i = 0; i < m; ++i) {
      for (int j = 0; j < m - 1 - i; ++j) f[i] *= std::cos(0.5 * std::numbers::pi * x[j]);
      if (i > 0) f[i] *= std::sin(0.5 * std::numbers::pi * x[m - 1 - i]);
    }
    return f;
  };
  return p;
}

TestProblem branin_currin() {
  TestProblem p;
  p.name = "BraninCurrin";
  p.dim = 2;
  p.num_objectives = 2;
  p.ref = Eigen::Vector2d(18.0, 6.0);
  p.max_hv = 59.36011874867746;  // BoTorch's BraninCurrin._max_hv
  p.evaluate = [](const Eigen::VectorXd& x) {
    check_x(x, 2, "BraninCurrin");
    const double pi = std::numbers::pi;
    const double u = 15.0 * x[0] - 5.0, v = 15.0 * x[1];
    const double t = v - 5.1 / (4.0 * pi * pi) * u * u + 5.0 / pi * u - 6.0;
    const double branin = t * t + 10.0 * (1.0 - 1.0 / (8.0 * pi)) * std::cos(u) + 10.0;
    const double a = x[0], b = x[1];
    const double factor = b > 0.0 ? 1.0 - std::exp(-1.0 / (2.0 * b)) : 1.0;
    const double currin = factor * (2300.0 * a * a * a + 1900.0 * a * a + 2092.0 * a + 60.0) /
                          (100.0 * a * a * a + 500.0 * a * a + 4.0 * a + 20.0);
    return Eigen::VectorXd(Eigen::Vector2d(branin, currin));
  };
  return p;
}

}  // namespace sparse::gp
