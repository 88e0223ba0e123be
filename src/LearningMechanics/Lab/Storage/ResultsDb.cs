using System.Globalization;
using Microsoft.Data.Sqlite;

namespace LearningMechanics.Lab.Storage;

/// <summary>A row of the <c>runs</c> table, as listed on the index page.</summary>
public sealed record RunSummary(string RunId, string Experiment, string Mode, long Seed, string StartedUtc, double ElapsedSeconds,
    int Passed, int Failed, int Inconclusive, string ReportPath)
{
    public int Refuted { get; init; }
    public int NotDiscriminating { get; init; }
}

/// <summary>
/// The results database <c>DIR/results.db</c> (SQLite): one row per run in <c>runs</c> and one per claim in
/// <c>claims</c>. Runs accumulate; a run id is never reused.
/// </summary>
public sealed class ResultsDb : IDisposable
{
    private readonly SqliteConnection conn;

    public ResultsDb(string path)
    {
        conn = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        conn.Open();
        Exec("""
            CREATE TABLE IF NOT EXISTS runs (
              run_id TEXT PRIMARY KEY, experiment TEXT NOT NULL, version TEXT NOT NULL, seed INTEGER NOT NULL,
              mode TEXT NOT NULL, config_json TEXT NOT NULL, started_utc TEXT NOT NULL, elapsed_s REAL NOT NULL,
              passed INTEGER NOT NULL, failed INTEGER NOT NULL, inconclusive INTEGER NOT NULL, report_path TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS claims (
              run_id TEXT NOT NULL REFERENCES runs(run_id), claim_id TEXT NOT NULL, statement TEXT NOT NULL, source TEXT NOT NULL,
              predicted REAL, measured REAL, stderr REAL, tolerance REAL, verdict TEXT NOT NULL, note TEXT,
              PRIMARY KEY (run_id, claim_id));
            """);
        // Columns added later: databases written by older versions gain them (empty for their runs), nothing is lost.
        AddColumnIfMissing("runs", "refuted", "INTEGER NOT NULL DEFAULT 0");
        AddColumnIfMissing("runs", "not_discriminating", "INTEGER NOT NULL DEFAULT 0");
        AddColumnIfMissing("claims", "competitor", "REAL");
        AddColumnIfMissing("claims", "competitor_hypothesis", "TEXT");
        AddColumnIfMissing("claims", "resolution", "REAL");
    }

    private void AddColumnIfMissing(string table, string column, string type)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = '{column}'";
        if (Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) == 0)
            Exec($"ALTER TABLE {table} ADD COLUMN {column} {type}");
    }

    private void Exec(string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>Inserts a run and its claims in one transaction.</summary>
    public void Insert(RunRecord run, string reportPath)
    {
        using var tx = conn.BeginTransaction();
        using (var cmd = conn.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = """
                INSERT INTO runs (run_id, experiment, version, seed, mode, config_json, started_utc, elapsed_s, passed, failed,
                  inconclusive, report_path, refuted, not_discriminating)
                VALUES ($id, $exp, $ver, $seed, $mode, $cfg, $start, $el, $p, $f, $i, $rep, $r, $nd)
                """;
            cmd.Parameters.AddWithValue("$id", run.RunId);
            cmd.Parameters.AddWithValue("$exp", run.ExperimentId);
            cmd.Parameters.AddWithValue("$ver", run.Version);
            cmd.Parameters.AddWithValue("$seed", unchecked((long)run.Seed));
            cmd.Parameters.AddWithValue("$mode", run.Mode.ToString().ToLowerInvariant());
            cmd.Parameters.AddWithValue("$cfg", System.Text.Json.JsonSerializer.Serialize(run.Config));
            cmd.Parameters.AddWithValue("$start", run.StartedUtc.ToString("O", CultureInfo.InvariantCulture));
            cmd.Parameters.AddWithValue("$el", run.ElapsedSeconds);
            cmd.Parameters.AddWithValue("$p", run.Count(Verdict.Pass));
            cmd.Parameters.AddWithValue("$f", run.Count(Verdict.Fail));
            cmd.Parameters.AddWithValue("$i", run.Count(Verdict.Inconclusive));
            cmd.Parameters.AddWithValue("$rep", reportPath);
            cmd.Parameters.AddWithValue("$r", run.Count(Verdict.Refuted));
            cmd.Parameters.AddWithValue("$nd", run.Count(Verdict.NotDiscriminating));
            cmd.ExecuteNonQuery();
        }
        foreach (var c in run.Output.Claims)
        {
            using var cmd = conn.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = """
                INSERT INTO claims (run_id, claim_id, statement, source, predicted, measured, stderr, tolerance, verdict, note,
                  competitor, competitor_hypothesis, resolution)
                VALUES ($run, $id, $st, $src, $pr, $me, $se, $tol, $v, $note, $co, $coh, $res)
                """;
            cmd.Parameters.AddWithValue("$run", run.RunId);
            cmd.Parameters.AddWithValue("$id", c.Id);
            cmd.Parameters.AddWithValue("$st", c.Statement);
            cmd.Parameters.AddWithValue("$src", c.Source);
            cmd.Parameters.AddWithValue("$pr", (object?)c.Predicted ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$me", (object?)c.Measured ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$se", (object?)c.StdErr ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$tol", (object?)c.Tolerance ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$v", c.Verdict.Text());
            cmd.Parameters.AddWithValue("$note", (object?)c.Note ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$co", (object?)c.Competitor ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$coh", (object?)c.CompetitorHypothesis ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$res", (object?)c.Resolution ?? DBNull.Value);
            cmd.ExecuteNonQuery();
        }
        tx.Commit();
    }

    /// <summary>Points a run's report at a new path (after an older run is moved to history).</summary>
    public void UpdateReportPath(string runId, string reportPath)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "UPDATE runs SET report_path = $rep WHERE run_id = $id";
        cmd.Parameters.AddWithValue("$rep", reportPath);
        cmd.Parameters.AddWithValue("$id", runId);
        cmd.ExecuteNonQuery();
    }

    /// <summary>All runs, newest first.</summary>
    public List<RunSummary> Runs()
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = """
            SELECT run_id, experiment, mode, seed, started_utc, elapsed_s, passed, failed, inconclusive, report_path, refuted,
              not_discriminating
            FROM runs ORDER BY started_utc DESC, run_id DESC
            """;
        using var r = cmd.ExecuteReader();
        var list = new List<RunSummary>();
        while (r.Read())
            list.Add(new RunSummary(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetString(4), r.GetDouble(5),
                r.GetInt32(6), r.GetInt32(7), r.GetInt32(8), r.GetString(9))
                { Refuted = r.GetInt32(10), NotDiscriminating = r.GetInt32(11) });
        return list;
    }

    /// <summary>The claims of one run as (id, verdict, predicted, measured).</summary>
    public List<(string Id, string Verdict, double? Predicted, double? Measured)> Claims(string runId)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT claim_id, verdict, predicted, measured FROM claims WHERE run_id = $id ORDER BY rowid";
        cmd.Parameters.AddWithValue("$id", runId);
        using var r = cmd.ExecuteReader();
        var list = new List<(string, string, double?, double?)>();
        while (r.Read())
            list.Add((r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetDouble(2), r.IsDBNull(3) ? null : r.GetDouble(3)));
        return list;
    }

    /// <summary>
    /// Stores a sweep task's result in <c>sweep_results</c>, keyed by (sweep, task hash): storing it again replaces the
    /// row, so collecting a sweep twice adds nothing twice.
    /// </summary>
    public void UpsertSweepResult(string sweep, string hash, int index, ulong seed, string valuesJson, string status, string metricsJson)
    {
        Exec("""
            CREATE TABLE IF NOT EXISTS sweep_results (
              sweep TEXT NOT NULL, hash TEXT NOT NULL, task_index INTEGER NOT NULL, seed INTEGER NOT NULL, values_json TEXT NOT NULL,
              status TEXT NOT NULL, metrics_json TEXT NOT NULL, PRIMARY KEY (sweep, hash));
            """);
        using var cmd = conn.CreateCommand();
        cmd.CommandText = """
            INSERT OR REPLACE INTO sweep_results (sweep, hash, task_index, seed, values_json, status, metrics_json)
            VALUES ($s, $h, $i, $seed, $v, $st, $m)
            """;
        cmd.Parameters.AddWithValue("$s", sweep);
        cmd.Parameters.AddWithValue("$h", hash);
        cmd.Parameters.AddWithValue("$i", index);
        cmd.Parameters.AddWithValue("$seed", (long)seed);
        cmd.Parameters.AddWithValue("$v", valuesJson);
        cmd.Parameters.AddWithValue("$st", status);
        cmd.Parameters.AddWithValue("$m", metricsJson);
        cmd.ExecuteNonQuery();
    }

    /// <summary>Number of stored results of a sweep (0 when no sweep was ever collected here).</summary>
    public long SweepResultCount(string sweep)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'sweep_results'";
        if (Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) == 0) return 0;
        cmd.CommandText = "SELECT COUNT(*) FROM sweep_results WHERE sweep = $s";
        cmd.Parameters.AddWithValue("$s", sweep);
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    public void Dispose() => conn.Dispose();
}
