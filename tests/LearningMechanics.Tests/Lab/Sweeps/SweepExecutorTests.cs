using System.Diagnostics;
using LearningMechanics.Lab.Storage;
using LearningMechanics.Lab.Sweeps;

namespace LearningMechanics.Tests.Lab.Sweeps;

/// <summary>
/// The executors for real: child processes of the built lmech, a local executor killed with SIGKILL midway and resumed,
/// and a single-node Slurm cluster (scripts/slurm-local.sh) that runs an 8-task array, one task cancelled with scancel.
/// Every result must be present exactly once and bit-identical to an uninterrupted local run of the same manifest.
/// </summary>
public class SweepExecutorTests
{
    /// <summary>The lmech apphost next to the tests (the Cli project is referenced, so it is copied here).</summary>
    internal static string LmechExe => Path.Combine(AppContext.BaseDirectory, "lmech");

    internal static string Sweep(int steps, string lrs = "0.05, 0.1, 0.2, 0.4") => $$"""
        { "name": "t", "command": "train",
          "base": { "arch": "dense(32)-tanh-dense(1)", "data": "teacher", "n-train": 64, "steps": {{steps}} },
          "axes": { "lr": [{{lrs}}] }, "seeds": [1, 2], "metrics": ["final_train_loss", "min_loss"] }
        """;

    internal static string NewDir() => Path.Combine(Path.GetTempPath(), $"lmech-sweep-{Guid.NewGuid():N}");

    internal static int Run(params string[] args)
    {
        var psi = new ProcessStartInfo(LmechExe) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardOutput.ReadToEndAsync();
        p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(300_000), $"lmech {string.Join(' ', args)} did not finish in 5 minutes");
        return p.ExitCode;
    }

    internal static void WaitUntil(Func<bool> condition, int seconds, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed.TotalSeconds < seconds, $"Timed out after {seconds} s waiting for {what}.");
            Thread.Sleep(200);
        }
    }

    /// <summary>Plans the sweep into <paramref name="dir"/> and runs it uninterrupted with the local executor.</summary>
    internal static void RunLocally(string dir, string manifestFrom)
    {
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(manifestFrom, "manifest.jsonl"), Path.Combine(dir, "manifest.jsonl"));
        Assert.Equal(0, Run("sweep", "run", dir, "--jobs", "2"));
    }

    /// <summary>Every task has exactly one result, byte for byte the reference run's, and one row in results.db.</summary>
    internal static void AssertCompleteAndIdentical(string dir, string reference)
    {
        var plan = SweepPlan.Read(dir);
        var layout = new SweepLayout(dir);
        var reflayout = new SweepLayout(reference);
        Assert.Equal(plan.Tasks.Count, Directory.GetFiles(layout.Results).Length);   // nothing duplicated, no temporary file left
        Assert.Empty(Directory.GetFiles(layout.Running));
        foreach (var t in plan.Tasks)
            Assert.Equal(File.ReadAllBytes(reflayout.ResultFile(t.Hash)), File.ReadAllBytes(layout.ResultFile(t.Hash)));
        Assert.Equal(0, Run("sweep", "collect", dir));
        Assert.Equal(0, Run("sweep", "collect", dir));   // collecting twice adds nothing twice
        using var db = new ResultsDb(layout.Database);
        Assert.Equal(plan.Tasks.Count, db.SweepResultCount(plan.Name));
        Assert.Contains("<svg", File.ReadAllText(Path.Combine(dir, "report.html")));
    }

    [Fact]
    public void ALocalSweepKilledWithSigkillResumesWithNothingLostOrRepeated()
    {
        string dir = NewDir();
        string reference = NewDir();
        string file = dir + ".json";
        try
        {
            File.WriteAllText(file, Sweep(steps: 400));
            Assert.Equal(0, Run("sweep", "plan", file, "--out", dir));
            var psi = new ProcessStartInfo(LmechExe) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "sweep", "run", dir, "--jobs", "1" }) psi.ArgumentList.Add(a);
            using (var executor = Process.Start(psi)!)
            {
                executor.StandardOutput.ReadToEndAsync();
                executor.StandardError.ReadToEndAsync();
                var results = new SweepLayout(dir).Results;
                WaitUntil(() => Directory.Exists(results) && Directory.GetFiles(results).Length >= 2, 120, "two results");
                executor.Kill(entireProcessTree: false);   // SIGKILL, the executor only: its running task is orphaned
                executor.WaitForExit();
            }
            var plan = SweepPlan.Read(dir);
            Assert.True(SweepStatus.Count(SweepStatus.Of(dir, plan), TaskState.Done) < plan.Tasks.Count, "killed too late to test");
            Assert.Equal(0, Run("sweep", "resume", dir, "--jobs", "2"));
            // An orphaned task still running when resume looked was skipped (never run twice); it finishes by itself.
            WaitUntil(() => SweepStatus.Count(SweepStatus.Of(dir, plan), TaskState.Running) == 0, 120, "the orphaned task");
            Assert.Equal(plan.Tasks.Count, SweepStatus.Count(SweepStatus.Of(dir, plan), TaskState.Done));
            RunLocally(reference, dir);
            AssertCompleteAndIdentical(dir, reference);
        }
        finally
        {
            File.Delete(file);
            foreach (var d in new[] { dir, reference }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }

    [Fact]
    public void AFailingTaskIsReportedAsAFailureWithItsLog()
    {
        string dir = NewDir();
        string file = dir + ".json";
        try
        {
            File.WriteAllText(file,
                """{ "name": "bad", "command": "train", "base": { "arch": "dense(4)-nosuch-dense(1)", "data": "teacher" } }""");
            Assert.Equal(0, Run("sweep", "plan", file, "--out", dir));
            Assert.Equal(LearningMechanics.Cli.Lmech.NotEvaluated, Run("sweep", "run", dir, "--jobs", "1"));
            var states = SweepStatus.Of(dir, SweepPlan.Read(dir));
            var failed = Assert.Single(states, s => s.State == TaskState.Failed);
            Assert.Contains("exit code 2", failed.Reason);
            Assert.Contains("nosuch", File.ReadAllText(failed.Log!));
        }
        finally
        {
            File.Delete(file);
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
