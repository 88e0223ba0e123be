using System.Diagnostics;
using LearningMechanics.Lab;
using LearningMechanics.Lab.Storage;
using LearningMechanics.Tests.Lab.Sweeps;
using Microsoft.Data.Sqlite;

namespace LearningMechanics.Tests.Cli;

/// <summary>
/// Nothing finished is lost: <c>lmech run all</c> interrupted by SIGINT (SIGTERM is handled alike) keeps every experiment that
/// finished (result.json, report, database row), and <c>--resume</c> keeps a finished result instead of running it again,
/// unless its settings changed.
/// </summary>
[Collection("console")]
public class RunResumeTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("lmech-resume-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    private static readonly string[] Small =
        ["--set", "widths=8,16,32", "--set", "nets=200", "--set", "depth=3", "--set", "fit_min=8"];

    private int Rows(string experiment)
    {
        using var db = new SqliteConnection($"Data Source={Path.Combine(dir, Runner.DatabaseFile)};Pooling=False");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM runs WHERE experiment = $e";
        cmd.Parameters.AddWithValue("$e", experiment);
        return Convert.ToInt32(cmd.ExecuteScalar());
    }

    [Fact]
    public void ResumeKeepsAFinishedResultAndRunsAChangedOne()
    {
        string[] run = ["run", "criticality", "--out", dir, "--set", "width=32", "--set", "depth=8", "--set", "nets=8"];
        // Exit 0, or 1 where a claim is inconclusive at these tiny settings: the run is stored either way.
        Assert.InRange(CliHarness.Run(run).Code, 0, 1);
        string runId = ResultJson.ReadRunId(Path.Combine(dir, "criticality", "result.json"))!;
        var (code, stdout, _) = CliHarness.Run([.. run, "--resume"]);
        Assert.Equal(0, code);
        Assert.Contains($"criticality: kept {runId} (--resume)", stdout);
        Assert.Equal(1, Rows("criticality"));
        (code, stdout, _) = CliHarness.Run([.. run, "--resume", "--seed", "7"]);
        Assert.InRange(code, 0, 1);
        Assert.DoesNotContain("kept", stdout);
        Assert.Equal(2, Rows("criticality"));
    }

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> errors = new();

    private Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo(SweepExecutorTests.LmechExe) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        p.ErrorDataReceived += (_, e) => { if (e.Data is { } line && !line.StartsWith('[')) errors.Enqueue(line); };
        p.BeginErrorReadLine();
        return p;
    }

    /// <summary>Ctrl+C's signal.</summary>
    private static void Interrupt(Process p) => Process.Start("kill", ["-INT", p.Id.ToString()])!.WaitForExit();

    [Fact]
    public async Task AnInterruptedRunAllKeepsEveryFinishedExperimentAndResumeSkipsThem()
    {
        using (var all = Start(["run", "all", "--out", dir, .. Small]))
        {
            var output = all.StandardOutput.ReadToEndAsync();
            var clock = Stopwatch.StartNew();
            string first = Path.Combine(dir, "gp-limit", "report.html");
            while (!File.Exists(first) && !all.HasExited && clock.Elapsed < TimeSpan.FromMinutes(3)) await Task.Delay(50);
            if (all.HasExited) Assert.Fail($"lmech run all ended first (exit {all.ExitCode}): {await output}");
            Interrupt(all);
            await all.WaitForExitAsync();
            Assert.True(all.ExitCode == 130, $"exit {all.ExitCode}: {string.Join("\n", errors)}");
        }
        var finished = Directory.GetDirectories(dir).Where(d => File.Exists(Path.Combine(d, "result.json")))
            .Select(Path.GetFileName).ToList();
        Assert.Contains("gp-limit", finished);
        Assert.True(finished.Count < 20, $"{finished.Count} experiments finished before the interrupt");
        foreach (var id in finished)
        {
            Assert.NotNull(ResultJson.ReadHeader(Path.Combine(dir, id!, "result.json")));
            Assert.True(File.Exists(Path.Combine(dir, id!, "report.html")));
            Assert.Equal(1, Rows(id!));
        }

        using var again = Start(["run", "all", "--out", dir, "--resume", .. Small]);
        var kept = new List<string>();
        while (await again.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line.Contains(": kept ")) kept.Add(line[..line.IndexOf(':')]);
            else if (kept.Count > 0) break;
        }
        Interrupt(again);
        await again.WaitForExitAsync();
        Assert.Equal(finished.Order(), kept.Order());
        foreach (var id in finished) Assert.Equal(1, Rows(id!));
    }
}
