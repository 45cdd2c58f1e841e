// `sparse worker --data-dir`: a machine that keeps the search's dataset in another folder joins with it; a folder
// holding other data is refused by the dataset fingerprint, naming the store.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/common/run_cli.hpp"
#include "tests/datasets/fixtures.hpp"
#include "tests/search/search_fixtures.hpp"

using namespace sparse::test;

TEST(WorkerCli, JoinsWithTheDatasetFromAnotherFolderAndRefusesOtherData) {
  TempDir dir;
  const auto a = dir / "a", b = dir / "b", c = dir / "c";
  for (const auto& p : {a, b, c}) std::filesystem::create_directories(p);
  write_mnist_like(a, 200, 40, false);
  write_mnist_like(b, 200, 40, false);  // the same data on "another machine"
  write_mnist_like(c, 201, 40, false);  // other data
  const std::string store = (dir / "s.db").string();
  const CliResult started =
      run_cli("search --store " + store + " --dataset mnist --data-dir " + a.string() + " --space " +
              write_small_space(dir) + " --objectives acc,ms --trials 2 --initial 2 --epochs 1 --no-int8 " +
              "--devices cpu --cpu-workers 1 --threads 1");
  ASSERT_EQ(started.exit_code, 0) << started.err;

  const CliResult joined = run_cli("worker --store " + store + " --data-dir " + b.string() + " --devices cpu --threads 1");
  EXPECT_EQ(joined.exit_code, 0) << joined.err;
  EXPECT_NE(joined.out.find("worker joins search 1 in " + store), std::string::npos) << joined.out;
  EXPECT_NE(joined.out.find("search complete"), std::string::npos) << joined.out;

  const CliResult other = run_cli("worker --store " + store + " --data-dir " + c.string() + " --devices cpu --threads 1");
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.err.find("store '" + store + "': the dataset differs from the one the search started on"),
            std::string::npos)
      << other.err;
}
