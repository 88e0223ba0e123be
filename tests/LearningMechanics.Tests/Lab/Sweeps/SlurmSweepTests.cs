using System.Diagnostics;
using System.Text.Json;
using LearningMechanics.Lab.Sweeps;
using static LearningMechanics.Tests.Lab.Sweeps.SweepExecutorTests;

namespace LearningMechanics.Tests.Lab.Sweeps;

/// <summary>
/// A real single-node Slurm cluster from Debian's packages (scripts/slurm-local.sh start … stop): an 8-task sweep as a job
/// array, one task cancelled mid-run with scancel, then status, resume and collect. Skipped on a machine without Slurm,
/// failed under CI=true (scripts/slurm-local.sh installs it there).
/// </summary>
public sealed class SlurmSweepTests : IDisposable
{
    private static string Script =>
        Path.Combine(FindRepositoryRoot(AppContext.BaseDirectory), "scripts", "slurm-local.sh");

    private bool started;

    private static string FindRepositoryRoot(string from)
    {
        for (var d = new DirectoryInfo(from); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "scripts", "slurm-local.sh"))) return d.FullName;
        throw new InvalidOperationException("scripts/slurm-local.sh not found above the test folder.");
    }

    private static (int Code, string Output) Bash(params string[] args)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output + err.Result);
    }

    /// <summary>Skips without Slurm locally (under CI the start script installs it, so the tests always run there), starts the
    /// cluster and points the client commands at it.</summary>
    private void StartCluster()
    {
        ReferencePeers.Require(SlurmExecutor.Available() || ReferencePeers.InCi, "Slurm (sbatch) is not installed");
        var (code, output) = Bash(Script, "start");
        Assert.True(code == 0, $"scripts/slurm-local.sh start failed:\n{output}");
        started = true;
        Environment.SetEnvironmentVariable("SLURM_CONF", Path.Combine(
            Environment.GetEnvironmentVariable("LMECH_SLURM_DIR") ?? "/tmp/lmech-slurm", "slurm.conf"));
    }

    public void Dispose()
    {
        if (started) Bash(Script, "stop");
    }

    [SkippableFact]
    public void AnArraySweepSurvivesACancelledTaskAndResumesToTheLocalResults()
    {
        StartCluster();
        Environment.SetEnvironmentVariable("LMECH_EXE", LmechExe);

        string dir = NewDir();
        string reference = NewDir();
        string file = dir + ".json";
        try
        {
            // A few seconds per task: long enough to cancel one mid-run; 4 tasks on the cluster's 2 cores.
            File.WriteAllText(file, Sweep(steps: 3000, lrs: "0.1, 0.2"));
            Assert.Equal(0, Run("sweep", "plan", file, "--out", dir));
            var plan = SweepPlan.Read(dir);
            Assert.Equal(4, plan.Tasks.Count);
            Assert.Equal(0, Run(["sweep", "run", dir, "--executor", "slurm", "--max-parallel", "2"]));
            Assert.Single(Directory.GetFiles(new SweepLayout(dir).Slurm, "*.sbatch"));

            // Cancel the first task seen running, through its array task id.
            string running = new SweepLayout(dir).Running;
            string? job = null;
            WaitUntil(() =>
            {
                foreach (var f in Directory.GetFiles(running))
                {
                    try
                    {
                        using var d = JsonDocument.Parse(File.ReadAllText(f));
                        job = d.RootElement.GetProperty("slurm_job").GetString();
                        if (!string.IsNullOrEmpty(job)) return true;
                    }
                    catch (Exception e) when (e is IOException or JsonException) { }
                }
                return false;
            }, 120, "a running array task");
            Assert.Equal(0, Bash("-c", $"scancel {job}").Code);
            WaitUntil(() => SlurmExecutor.Queued() is { Count: 0 }, 300, "the array to finish");

            var after = SweepStatus.Of(dir, plan, SlurmExecutor.Queued());
            var failed = Assert.Single(after, s => s.State == TaskState.Failed);
            Assert.Contains("interrupted", failed.Reason);
            Assert.Equal(plan.Tasks.Count - 1, SweepStatus.Count(after, TaskState.Done));

            Assert.Equal(0, Run(["sweep", "resume", dir, "--executor", "slurm", "--max-parallel", "2"]));
            WaitUntil(() => SlurmExecutor.Queued() is { Count: 0 }, 300, "the resumed task");
            Assert.Equal(plan.Tasks.Count, SweepStatus.Count(SweepStatus.Of(dir, plan, SlurmExecutor.Queued()), TaskState.Done));

            RunLocally(reference, dir);
            AssertCompleteAndIdentical(dir, reference);
        }
        finally
        {
            Environment.SetEnvironmentVariable("LMECH_EXE", null);
            File.Delete(file);
            foreach (var d in new[] { dir, reference }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }

    /// <summary>
    /// <c>lmech run residual-vertex --executor slurm</c>: six units as one job array, waited for, judged exactly as in
    /// process; running the command again submits nothing (every unit is kept).
    /// </summary>
    [SkippableFact]
    public void AGridExperimentRunsAsAJobArrayAndIsJudgedExactlyAsInProcess()
    {
        StartCluster();
        string reference = NewDir();
        string dir = NewDir();
        try
        {
            string expected = GridRunTests.InProcessResult(reference);
            string[] args = ["run", "residual-vertex", .. GridRunTests.Small, "--executor", "slurm", "--max-parallel", "3", "--out", dir];
            Assert.Equal(0, Run(args));
            Assert.Equal(expected, GridRunTests.Judgement(dir));
            string units = Assert.Single(Directory.GetDirectories(Path.Combine(dir, "residual-vertex"), "units-*"));
            var layout = new SweepLayout(units);
            Assert.Single(Directory.GetFiles(layout.Slurm, "*.sbatch"));
            Assert.Equal(6, Directory.GetFiles(layout.Results).Length);
            Assert.Equal(0, Run(args));
            Assert.Single(Directory.GetFiles(layout.Slurm, "*.sbatch"));   // nothing submitted again
            Assert.Equal(expected, GridRunTests.Judgement(dir));
        }
        finally
        {
            foreach (var d in new[] { reference, dir }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }

    /// <summary>
    /// The μP width × learning-rate grid of the gallery goes to the cluster with one flag: a small mup-transfer (52 units:
    /// SP and μP, Adam, 3 widths × 4 learning rates × 2 seeds, and the coordinate checks) gives the in-process verdicts and
    /// values (to rounding: a unit's BLAS runs with its own thread count).
    /// </summary>
    [SkippableFact]
    public void TheMuPTransferGridRunsOnTheClusterWithOneFlag()
    {
        StartCluster();
        string[] small = ["--seed", "3", "--set", "widths=16,32,64", "--set", "seeds=2", "--set", "params=mup", "--set", "steps=4",
            "--set", "batch=16", "--set", "n_train=64", "--set", "optimizers=adam", "--set", "adam_log2_lr=-7:-5"];
        var overrides = Enumerable.Range(0, 8).Select(i => small[3 + 2 * i].Split('=')).ToDictionary(kv => kv[0], kv => kv[1]);
        string reference = NewDir();
        string dir = NewDir();
        try
        {
            var expected = LearningMechanics.Lab.Runner.Run(LearningMechanics.Experiments.Registry.Get("mup-transfer"),
                new LearningMechanics.Lab.RunOptions(LearningMechanics.Lab.RunMode.Quick, 3, reference, overrides)).Output.Claims;
            // Exit 1 exactly when a claim is inconclusive (with 4 steps an optimum may sit at the grid's edge), as in process.
            int code = expected.Any(c => c.Verdict == LearningMechanics.Lab.Verdict.Inconclusive) ? 1 : 0;
            Assert.Equal(code, Run(["run", "mup-transfer", .. small, "--executor", "slurm", "--max-parallel", "4", "--out", dir]));
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "mup-transfer", "result.json")));
            var got = doc.RootElement.GetProperty("claims").EnumerateArray().ToList();
            Assert.Equal(expected.Select(c => c.Id), got.Select(c => c.GetProperty("id").GetString()));
            foreach (var (want, c) in expected.Zip(got))
            {
                Assert.Equal(LearningMechanics.Lab.VerdictText.Text(want.Verdict), c.GetProperty("verdict").GetString());
                if (want.Measured is { } m)
                    Assert.True(Math.Abs(c.GetProperty("measured").GetDouble() - m) <= 1e-10 * Math.Max(1, Math.Abs(m)), want.Id);
            }
            string units = Assert.Single(Directory.GetDirectories(Path.Combine(dir, "mup-transfer"), "units-*"));
            // μP alone: 3 widths × 3 rates × 2 seeds + 2 coordinate checks.
            Assert.Equal(20, Directory.GetFiles(new SweepLayout(units).Results).Length);
        }
        finally
        {
            foreach (var d in new[] { reference, dir }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }
}
