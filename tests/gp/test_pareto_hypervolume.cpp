// Pareto ranks and exact hypervolume: hand-made fronts against lattice counting done here, sampled true
// fronts of ZDT1, ZDT2, DTLZ2 and a dense grid of BraninCurrin against their known maxima (REFERENCE §7).
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "gp/hypervolume.hpp"
#include "gp/pareto.hpp"
#include "gp/test_problems.hpp"
#include "host/core/error.hpp"
#include "host/core/philox.hpp"

using namespace sparse::gp;

namespace {

// Number of unit lattice cells in [0, ref)^K dominated by integer points: an independent exact HV.
double lattice_hypervolume(const Eigen::MatrixXd& f, int ref) {
  const int k = static_cast<int>(f.cols());
  const int cells = static_cast<int>(std::pow(ref, k));
  double count = 0;
  for (int c = 0; c < cells; ++c) {
    int rest = c;
    Eigen::VectorXd corner(k);  // lower corner of the cell
    for (int d = 0; d < k; ++d) {
      corner[d] = rest % ref;
      rest /= ref;
    }
    for (Eigen::Index i = 0; i < f.rows(); ++i)
      if ((f.row(i).transpose().array() <= corner.array()).all()) {
        ++count;
        break;
      }
  }
  return count;
}

}  // namespace

TEST(Pareto, RanksOfHandMadeSet) {
  Eigen::MatrixXd f(6, 2);
  f << 1, 5,  //
      2, 2,   //
      5, 1,   //
      3, 3,   // dominated by (2,2)
      4, 4,   // dominated by (3,3)
      2, 2;   // duplicate of a front point
  const std::vector<int> r = non_dominated_ranks(f);
  EXPECT_EQ(r, (std::vector<int>{0, 0, 0, 1, 2, 0}));
  EXPECT_EQ(pareto_front(f), (std::vector<int>{0, 1, 2, 5}));
  EXPECT_TRUE(dominates(Eigen::Vector2d(1, 1), Eigen::Vector2d(1, 2)));
  EXPECT_FALSE(dominates(Eigen::Vector2d(1, 1), Eigen::Vector2d(1, 1)));
}

TEST(Hypervolume, HandMadeFronts) {
  Eigen::MatrixXd f(3, 2);
  f << 1, 3, 2, 2, 3, 1;
  EXPECT_DOUBLE_EQ(hypervolume(f, Eigen::Vector2d(4, 4)), 6.0);  // 3 + 2 + 1
  Eigen::MatrixXd g(2, 3);
  g << 0, 0, 1, 1, 1, 0;
  // Boxes [0,2]²×[1,2] and [1,2]²×[0,2] with ref 2: 4·1 + 1·2 − 1·1 = 5.
  EXPECT_DOUBLE_EQ(hypervolume(g, Eigen::Vector3d(2, 2, 2)), 5.0);
  EXPECT_DOUBLE_EQ(hypervolume(Eigen::MatrixXd(0, 2), Eigen::Vector2d(1, 1)), 0.0);
  Eigen::MatrixXd outside(1, 2);
  outside << 5, 0;
  EXPECT_DOUBLE_EQ(hypervolume(outside, Eigen::Vector2d(4, 4)), 0.0);
  EXPECT_THROW(hypervolume(Eigen::MatrixXd::Zero(2, 4), Eigen::VectorXd::Ones(4)), sparse::Error);
}

TEST(Hypervolume, RandomIntegerSetsMatchLatticeCount) {
  sparse::PhiloxStream rng(9);
  for (int k : {2, 3}) {
    for (int trial = 0; trial < 20; ++trial) {
      const int n = 1 + static_cast<int>(rng.below(15));
      Eigen::MatrixXd f(n, k);
      for (int i = 0; i < n; ++i)
        for (int d = 0; d < k; ++d) f(i, d) = static_cast<double>(rng.below(12));  // some beyond ref 10
      EXPECT_DOUBLE_EQ(hypervolume(f, Eigen::VectorXd::Constant(k, 10.0)), lattice_hypervolume(f, 10))
          << "k " << k << " trial " << trial;
    }
  }
}

TEST(Hypervolume, Zdt1AndZdt2TrueFrontsApproachTheirMaxima) {
  // g = 1 on the front (x_2.. = 0). The staircase of n points misses at most Σ Δf1·Δf2 ≤ 1/(n − 1).
  for (bool second : {false, true}) {
    const TestProblem p = second ? zdt2(6) : zdt1(6);
    const int n = 2001;
    Eigen::MatrixXd f(n, 2);
    for (int i = 0; i < n; ++i) {
      Eigen::VectorXd x = Eigen::VectorXd::Zero(6);
      x[0] = static_cast<double>(i) / (n - 1);
      f.row(i) = p.evaluate(x).transpose();
      ASSERT_NEAR(f(i, 1), second ? 1.0 - x[0] * x[0] : 1.0 - std::sqrt(x[0]), 1e-12);
    }
    const double hv = hypervolume(f, p.ref);
    EXPECT_LE(hv, p.max_hv + 1e-9) << p.name;
    EXPECT_GE(hv, p.max_hv - 1.0 / (n - 1)) << p.name;
  }
  EXPECT_NEAR(zdt1(6).max_hv, 120.0 + 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(zdt2(6).max_hv, 120.0 + 1.0 / 3.0, 1e-12);
}

TEST(Hypervolume, Dtlz2TrueFrontsConvergeToTheirMaxima) {
  // On the front x_M.. = 0.5 (g = 0): the unit sphere's positive orthant.
  {
    const TestProblem p = dtlz2(2, 5);
    EXPECT_NEAR(p.max_hv, 1.21 - std::numbers::pi / 4.0, 1e-12);
    const int n = 2001;
    Eigen::MatrixXd f(n, 2);
    for (int i = 0; i < n; ++i) {
      Eigen::VectorXd x = Eigen::VectorXd::Constant(5, 0.5);
      x[0] = static_cast<double>(i) / (n - 1);
      f.row(i) = p.evaluate(x).transpose();
      ASSERT_NEAR(f.row(i).norm(), 1.0, 1e-12);
    }
    const double hv = hypervolume(f, p.ref);
    EXPECT_LE(hv, p.max_hv);
    EXPECT_GE(hv, p.max_hv - 2.0 / (n - 1));  // Σ Δf1·Δf2 with |Δ| ≤ π/2/(n−1) per step
  }
  const TestProblem p = dtlz2(3, 6);
  EXPECT_NEAR(p.max_hv, std::pow(1.1, 3) - std::numbers::pi / 6.0, 1e-12);
  double previous_gap = 1e9;
  for (int g : {10, 20, 40, 80}) {
    Eigen::MatrixXd f((g + 1) * (g + 1), 3);
    for (int i = 0; i <= g; ++i)
      for (int j = 0; j <= g; ++j) {
        Eigen::VectorXd x = Eigen::VectorXd::Constant(6, 0.5);
        x[0] = static_cast<double>(i) / g;
        x[1] = static_cast<double>(j) / g;
        f.row(i * (g + 1) + j) = p.evaluate(x).transpose();
      }
    const double gap = p.max_hv - hypervolume(f, p.ref);
    EXPECT_GE(gap, 0.0) << g;
    EXPECT_LT(gap, 0.7 * previous_gap) << g;  // the staircase error shrinks about linearly in the spacing
    previous_gap = gap;
  }
  EXPECT_LT(previous_gap / p.max_hv, 0.02);  // 81×81 grid: within 2% of the maximum
}

TEST(Hypervolume, BraninCurrinDenseGridsConvergeToKnownMaximum) {
  // Branin is steep, so uniform grids approach BoTorch's 59.36 slowly (gap ≈ 0.6 at 401², 0.2 at 1001²).
  const TestProblem p = branin_currin();
  double previous_gap = 1e9;
  for (int g : {250, 500, 1000}) {
    Eigen::MatrixXd f((g + 1) * (g + 1), 2);
    for (int i = 0; i <= g; ++i)
      for (int j = 0; j <= g; ++j)
        f.row(i * (g + 1) + j) = p.evaluate(Eigen::Vector2d(double(i) / g, double(j) / g)).transpose();
    const double gap = p.max_hv - hypervolume(f, p.ref);
    EXPECT_GE(gap, 0.0) << g;
    EXPECT_LT(gap, 0.75 * previous_gap) << g;
    previous_gap = gap;
  }
  EXPECT_LT(previous_gap / p.max_hv, 0.005);  // 1001² grid within 0.5% of the maximum
}
