using System.Text.Json;
using LearningMechanics.Experiments;
using LearningMechanics.Lab;
using LearningMechanics.Lab.Storage;
using Microsoft.Data.Sqlite;

namespace LearningMechanics.Tests.Lab;

/// <summary>A small gp-limit run written to disk, then result.json, the CSVs, SQLite and the reports read back.</summary>
public class RunnerTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), $"lmech-test-{Guid.NewGuid():N}");

    public void Dispose() { if (Directory.Exists(dir)) Directory.Delete(dir, true); }

    private static readonly Dictionary<string, string> Small = new()
    {
        ["widths"] = "8,16,32,64", ["nets"] = "300", ["depth"] = "2", ["acts"] = "relu,tanh", ["fit_min"] = "8",
        ["nlo_nets"] = "2000", ["nlo_widths"] = "8,16,32",
    };

    [Fact]
    public void RunIsWrittenAsJsonCsvSqliteAndHtmlAndReadsBack()
    {
        var run = Runner.Run(Registry.Get("gp-limit"), new RunOptions(RunMode.Quick, 5, dir, Small));
        string expDir = Path.Combine(dir, "gp-limit");

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(expDir, "result.json")));
        var root = doc.RootElement;
        Assert.Equal("gp-limit", root.GetProperty("experiment").GetString());
        Assert.Equal(5ul, root.GetProperty("seed").GetUInt64());
        Assert.Equal("quick", root.GetProperty("mode").GetString());
        Assert.Equal("300", root.GetProperty("config").GetProperty("nets").GetString());
        Assert.True(root.GetProperty("timings").GetProperty("total_s").GetDouble() > 0);
        var claims = root.GetProperty("claims").EnumerateArray().ToList();
        Assert.Equal(9, claims.Count);   // 5 claims × 2 activations, less ReLU's NLO metric (G¹ = 0: a fact, not a claim)
        // result.json holds exactly the run's claims (the verdict rules themselves are tested in ClaimTests).
        foreach (var (c, mine) in claims.Zip(run.Output.Claims))
        {
            Assert.Equal(mine.Id, c.GetProperty("id").GetString());
            Assert.Equal(mine.Verdict.Text(), c.GetProperty("verdict").GetString());
            Assert.Equal(mine.Measured,
                c.GetProperty("measured").ValueKind == JsonValueKind.Null ? null : c.GetProperty("measured").GetDouble());
            Assert.Equal(mine.Resolution,
                c.GetProperty("resolution").ValueKind == JsonValueKind.Null ? null : c.GetProperty("resolution").GetDouble());
            Assert.True(c.TryGetProperty("competitor", out _));
        }
        var series = root.GetProperty("series").GetProperty("kurtosis");
        Assert.Equal(2 * 4 * 2, series.GetProperty("width").GetArrayLength());   // acts × widths × depths

        var csv = File.ReadAllLines(Path.Combine(expDir, "kurtosis.csv"));
        Assert.Equal("activation,depth,width,excess_kurtosis,stderr,exact_prediction", csv[0]);
        Assert.Equal(17, csv.Length);

        using (var db = new ResultsDb(Path.Combine(dir, Runner.DatabaseFile)))
        {
            var runs = db.Runs();
            Assert.Single(runs);
            Assert.Equal(run.RunId, runs[0].RunId);
            Assert.Equal(run.Count(Verdict.Pass), runs[0].Passed);
            var dbClaims = db.Claims(run.RunId);
            Assert.Equal(claims.Select(c => c.GetProperty("id").GetString()), dbClaims.Select(c => c.Id));
            Assert.Equal(claims.Select(c => c.GetProperty("verdict").GetString()), dbClaims.Select(c => c.Verdict));
        }
        // And with plain SQL, as another tool would read it.
        using (var conn = new SqliteConnection($"Data Source={Path.Combine(dir, Runner.DatabaseFile)};Pooling=False"))
        {
            conn.Open();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = "SELECT COUNT(*) FROM claims WHERE run_id = $id";
            cmd.Parameters.AddWithValue("$id", run.RunId);
            Assert.Equal(9L, (long)cmd.ExecuteScalar()!);
        }

        string html = File.ReadAllText(Path.Combine(expDir, "report.html"));
        Assert.Contains("<svg", html);
        Assert.Contains("kurtosis-slope-relu", html);
        Assert.DoesNotContain("<script", html);
        Assert.Contains(run.RunId, File.ReadAllText(Path.Combine(dir, "index.html")));
    }

    [Fact]
    public void ASecondRunKeepsTheFirstInHistoryAndBothInTheDatabase()
    {
        var first = Runner.Run(Registry.Get("gp-limit"), new RunOptions(RunMode.Quick, 1, dir, Small));
        var second = Runner.Run(Registry.Get("gp-limit"), new RunOptions(RunMode.Quick, 2, dir, Small));
        string history = Path.Combine(dir, "gp-limit", "history", first.RunId);
        Assert.True(File.Exists(Path.Combine(history, "result.json")));
        Assert.True(File.Exists(Path.Combine(history, "report.html")));
        Assert.Equal(first.RunId, ResultJson.ReadRunId(Path.Combine(history, "result.json")));
        Assert.Equal(second.RunId, ResultJson.ReadRunId(Path.Combine(dir, "gp-limit", "result.json")));
        using var db = new ResultsDb(Path.Combine(dir, Runner.DatabaseFile));
        var runs = db.Runs();
        Assert.Equal(2, runs.Count);
        Assert.Equal($"gp-limit/history/{first.RunId}/report.html", runs.Single(r => r.RunId == first.RunId).ReportPath);
        string index = File.ReadAllText(Path.Combine(dir, "index.html"));
        Assert.Contains(first.RunId, index);
        Assert.Contains(second.RunId, index);
    }

    [Fact]
    public void SameSeedReproducesTheMeasurementsExactly()
    {
        var a = Registry.Get("gp-limit")
            .Run(new RunContext(RunMode.Quick, 9, new Settings(Registry.Get("gp-limit").Settings, RunMode.Quick, Small)));
        var b = Registry.Get("gp-limit")
            .Run(new RunContext(RunMode.Quick, 9, new Settings(Registry.Get("gp-limit").Settings, RunMode.Quick, Small)));
        Assert.Equal(a.Claims.Select(c => c.Measured), b.Claims.Select(c => c.Measured));
        var c = Registry.Get("gp-limit")
            .Run(new RunContext(RunMode.Quick, 10, new Settings(Registry.Get("gp-limit").Settings, RunMode.Quick, Small)));
        Assert.NotEqual(a.Claims.Select(x => x.Measured), c.Claims.Select(x => x.Measured));
    }

    [Theory]
    [InlineData("criticality", "width=64;depth=8;nets=8")]
    [InlineData("ntk-limit", "widths=16,32,64;nets=24;depth=2")]
    [InlineData("finite-width-vertex", "widths=16,32,64;nets=100;depth=3")]
    [InlineData("mup-transfer", "widths=16,32,64;seeds=2;steps=4;batch=16;n_train=64;adam_log2_lr=-8:-5;momentum_log2_lr=-4:-1")]
    [InlineData("residual-vertex", "widths=16,32,64;nets=256;depth=4;acts=relu,linear;gammas=0.5")]
    [InlineData("eigenlearning", "modes=200;ns=16,32,64;draws=5;pool=200;pool_ns=16,32,64")]
    [InlineData("lazy-training", "widths=32,64,128;nets=3;steps=40;n_train=12;n_test=4")]
    [InlineData("ntk-fluctuations", "widths=16,32,64;depths=1,2;nets=300")]
    [InlineData("bayesian-finite-width", "widths=16,32,64;nets=3000;real_nets=2000;acts=relu,tanh;n_test=2;calib_train=30;calib_test=60")]
    [InlineData("lazy-vs-rich", "alphas=0.3,3,30;width=32;nets=2;n_train=16;n_test=16;max_steps=200;acts=tanh")]
    [InlineData("neural-collapse", "per_class=4;width=32;steps=300;seeds=2;records=6")]
    [InlineData("feature-ansatz", "d=8;n_train=256;width=32;steps=200;seeds=2")]
    public void EveryExperimentRunsSmallAndItsVerdictsFollowTheRule(string id, string settings)
    {
        var overrides = settings.Split(';').Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);
        var run = Runner.Run(Registry.Get(id), new RunOptions(RunMode.Quick, 3, dir, overrides));
        Assert.NotEmpty(run.Output.Claims);
        Assert.NotEmpty(run.Output.Plots);
        foreach (var c in run.Output.Claims.Where(c => c.Verdict != Verdict.Inconclusive))
            Assert.Equal(Claim.Holds(c.Predicted!.Value, c.Measured!.Value, c.Tolerance!.Value, c.Rule),
                c.Verdict is Verdict.Pass or Verdict.NotDiscriminating);
        Assert.True(File.Exists(Path.Combine(dir, id, "report.html")));
    }

    /// <summary>
    /// Saves into one folder take turns: while another process holds the folder's lock (here the test holds it), a save
    /// waits, and it completes once the lock is released. Without the turns, two lmech runs finishing together could
    /// move each other's files to history/ before recording them (4 of 9 pairs of processes left a database row pointing
    /// at the other run's report).
    /// </summary>
    [Fact]
    public async Task ASaveWaitsForAnotherSaveIntoTheSameFolder()
    {
        Directory.CreateDirectory(dir);
        var run = new RunRecord("demo-001", "demo", "t", "s", "src", RunRecord.LibraryVersion, 1, RunMode.Quick,
            new Dictionary<string, string>(), new ExperimentOutput(), DateTime.UtcNow, 0.1, Path.Combine(dir, "demo"));
        Task save;
        using (new FileStream(Path.Combine(dir, ".lmech.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            save = Task.Run(() => Runner.Save(run, dir));
            Assert.NotSame(save, await Task.WhenAny(save, Task.Delay(500)));   // still waiting after 0.5 s
            Assert.False(File.Exists(Path.Combine(dir, "demo", "result.json")));
        }
        await save.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("demo-001", ResultJson.ReadRunId(Path.Combine(dir, "demo", "result.json")));
    }

    [Fact]
    public void HtmlEscapesUserText()
    {
        var output = new ExperimentOutput();
        output.Claims.Add(new Claim("<b>x</b>", "a < b & c", "s", 1, 1, 0, 0, Verdict.Pass, "<script>alert(1)</script>"));
        var run = new RunRecord("r<1>", "e", "T<i>", "S", "src", "0", 1, RunMode.Quick, new Dictionary<string, string> { ["k<"] = "v>" },
            output, DateTime.UtcNow, 1, dir);
        string html = LearningMechanics.Lab.Reports.HtmlReport.Render(run, ["a&b.csv"]);
        Assert.DoesNotContain("<script>", html);
        Assert.DoesNotContain("<b>x</b>", html);
        Assert.Contains("&lt;script&gt;", html);
        Assert.Contains("a &lt; b &amp; c", html);
    }
}
