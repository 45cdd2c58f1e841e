// `sparse search` on a PostgreSQL study: a new search runs to completion, a second new search into the same study is
// refused naming the search it holds, --resume continues it, and no output shows the password.
#include "tests/common/run_cli.hpp"
#include "tests/search/search_fixtures.hpp"
#include "tests/store/store_fixture.hpp"

using namespace sparse::test;

using PgCliTest = StoreTest;
INSTANTIATE_TEST_SUITE_P(store, PgCliTest, ::testing::Values(Backend::Postgres), backend_name);

TEST_P(PgCliTest, SearchRunsRefusesASecondNewSearchAndResumes) {
  const std::string url = location("search");
  const std::string flags = search_data() + " --space " + write_small_space(dir_) +
                            " --devices cpu --cpu-workers 1 --threads 1 --objectives acc,ms --trials 3 --initial 2 "
                            "--epochs 1 --morph-epochs 1 --no-int8 --seed 3";
  const CliResult r = run_cli("search --store '" + url + "' " + flags + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["state"], "complete");
  EXPECT_EQ(j["trials"]["done"].get<int>() + j["trials"]["failed"].get<int>(), 3);
  EXPECT_EQ(open(false, "search")->list_trials(1).size(), 3u);

  const CliResult again = run_cli("search --store '" + url + "' " + flags);
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("store '" + sparse::store::store_label(url) + "' already holds search 1 (synthetic, acc,ms)"),
            std::string::npos)
      << again.err;
  EXPECT_EQ(again.err.find(kPgPassword), std::string::npos) << again.err;

  const CliResult resumed = run_cli("search --resume '" + url + "' --devices cpu --cpu-workers 1 --threads 1 --json");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(nlohmann::json::parse(resumed.out)["state"], "complete");
}
