// PostgreSQL schema migrations (see pg_schema.hpp; the tables are documented in pg_store.hpp).
#include "host/store/pg_schema.hpp"

#include <array>

#include "host/core/error.hpp"
#include "sparse/version.hpp"

namespace sparse::store {

namespace {

// pg_advisory_xact_lock key of SpArSe schema changes ("SPARSE" in ASCII, then 1).
constexpr int64_t kSchemaLockKey = 0x535041525345'0001;

// kMigrations[k] takes version k to k + 1. Append; never edit a released step.
constexpr std::array<const char*, kPgSchemaVersion> kMigrations = {
    // 0 -> 1: studies, searches, trials, φ.
    R"SQL(
    CREATE TABLE sparse_meta(key text PRIMARY KEY, value text NOT NULL);
    CREATE TABLE sparse_studies(
      id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, created_at double precision NOT NULL,
      next_search_id bigint NOT NULL DEFAULT 1, next_trial_id bigint NOT NULL DEFAULT 1);
    CREATE TABLE sparse_searches(
      study_id bigint NOT NULL REFERENCES sparse_studies(id), id bigint NOT NULL,
      dataset text NOT NULL, objectives text NOT NULL, seed bigint NOT NULL,
      budgets text NOT NULL, settings text NOT NULL, created_at double precision NOT NULL,
      PRIMARY KEY(study_id, id));
    CREATE TABLE sparse_trials(
      study_id bigint NOT NULL, id bigint NOT NULL, search_id bigint NOT NULL, stage integer NOT NULL,
      reference_id bigint, config text NOT NULL, morphs text NOT NULL, proposal text NOT NULL,
      state text NOT NULL CHECK(state IN ('queued', 'running', 'done', 'failed')), device text NOT NULL DEFAULT '',
      attempts integer NOT NULL DEFAULT 0, created_at double precision NOT NULL, started_at double precision,
      finished_at double precision, heartbeat_at double precision, epochs integer NOT NULL DEFAULT 0,
      val_acc double precision, test_acc double precision, int8_acc double precision, ms_bytes bigint,
      wm5_bytes bigint, wm6_bytes bigint, nonzeros bigint, metrics text NOT NULL DEFAULT '{}',
      error text NOT NULL DEFAULT '',
      PRIMARY KEY(study_id, id),
      FOREIGN KEY(study_id, search_id) REFERENCES sparse_searches(study_id, id),
      FOREIGN KEY(study_id, reference_id) REFERENCES sparse_trials(study_id, id));
    CREATE INDEX sparse_trials_by_state ON sparse_trials(study_id, search_id, state, id);
    CREATE TABLE sparse_phi(
      study_id bigint NOT NULL, trial_id bigint NOT NULL, raw_bytes bigint NOT NULL, crc32 bigint NOT NULL,
      data bytea NOT NULL,
      PRIMARY KEY(study_id, trial_id), FOREIGN KEY(study_id, trial_id) REFERENCES sparse_trials(study_id, id));
    )SQL",
    // 1 -> 2: the lease holder of a running trial (and who ended it).
    R"SQL(
    ALTER TABLE sparse_trials ADD COLUMN worker text NOT NULL DEFAULT '';
    )SQL",
    // 2 -> 3: the claimant's staleness limit (seconds without a heartbeat).
    R"SQL(
    ALTER TABLE sparse_trials ADD COLUMN stale_after double precision;
    )SQL",
};

bool has_meta_table(PgConnection& c) {
  return c.exec("SELECT to_regclass('sparse_meta') IS NOT NULL").text(0, 0) == "t";
}

}  // namespace

int pg_schema_version(PgConnection& c) {
  if (!has_meta_table(c)) return 0;
  const PgResult r = c.exec("SELECT value FROM sparse_meta WHERE key='schema_version'");
  SPARSE_CHECK(r.rows() == 1, c.who() << " has a sparse_meta table without a schema_version");
  const std::string v = r.text(0, 0);
  try {
    size_t used = 0;
    const int n = std::stoi(v, &used);
    if (used == v.size()) return n;
  } catch (const std::exception&) {
  }
  SPARSE_FAIL(c.who() << ": schema_version '" << v << "' is not a number");
}

void ensure_pg_schema(PgConnection& c, bool create) {
  PgTransaction tx(c);
  c.exec("SELECT pg_advisory_xact_lock($1)", PgParams().add(kSchemaLockKey));
  const int version = pg_schema_version(c);
  SPARSE_CHECK(version <= kPgSchemaVersion, c.who() << " has schema version " << version
                                                    << ", this engine reads versions 1 to " << kPgSchemaVersion
                                                    << " (a newer sparse wrote it)");
  SPARSE_CHECK(version > 0 || create, c.who() << ": database '" << c.url().database
                                              << "' holds no SpArSe trial store (no sparse_meta table; start a "
                                                 "search with --store "
                                              << c.url().label << " to create one)");
  if (version == kPgSchemaVersion) return;  // nothing to write: the transaction rolls back
  for (int v = version; v < kPgSchemaVersion; ++v) c.exec_script(kMigrations[static_cast<size_t>(v)]);
  const std::string sql =
      "INSERT INTO sparse_meta(key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value";
  c.exec(sql, PgParams().add("schema_version").add(std::to_string(kPgSchemaVersion)));
  c.exec(sql, PgParams().add("engine_version").add(kVersion));
  if (version == 0)
    c.exec("INSERT INTO sparse_meta(key, value) VALUES ('created_at', extract(epoch FROM clock_timestamp())::text)");
  tx.commit();
}

}  // namespace sparse::store
