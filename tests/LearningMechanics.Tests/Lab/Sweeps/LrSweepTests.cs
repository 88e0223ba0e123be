using System.Diagnostics;
using System.Text.Json;
using static LearningMechanics.Tests.Lab.Sweeps.SweepExecutorTests;

namespace LearningMechanics.Tests.Lab.Sweeps;

/// <summary><c>lmech lr-sweep</c>: a learning-rate grid through the sweep engine, the loss table and the optima.</summary>
public class LrSweepTests
{
    private static (int Code, string Stdout, string Stderr) RunWithOutput(params string[] args)
    {
        var psi = new ProcessStartInfo(LmechExe) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(300_000), "lmech lr-sweep did not finish in 5 minutes");
        return (p.ExitCode, stdout, err.Result);
    }

    [Fact]
    public void AGridOfTrainingRunsGivesTheLossTableAndAnOptimumInsideTheGrid()
    {
        string dir = NewDir();
        try
        {
            string[] args = ["lr-sweep", "--arch", "dense({n})-relu-dense(1)", "--widths", "16,32", "--lrs=-9:-1", "--lr-step", "2",
                "--seeds", "1,2", "--opt", "sgd", "--data", "teacher", "--steps", "30", "--batch", "16", "--train", "n-train=64", "--jobs",
                "2", "--out", dir, "--json"];
            var (code, output, errors) = RunWithOutput(args);
            Assert.True(code == 0, output + errors);
            using var doc = JsonDocument.Parse(output);
            var root = doc.RootElement;
            Assert.Equal(5, root.GetProperty("log2_lrs").GetArrayLength());
            var means = root.GetProperty("mean_final_train_loss").EnumerateArray().Select(w => w.EnumerateArray()
                .Select(v => v.GetDouble()).ToArray()).ToArray();
            Assert.Equal(2, means.Length);
            // SGD from 2^−9 to 2^−1 on this task: the smallest rate barely trains, the largest is past the optimum, so the
            // optimum (the parabola's vertex) lies strictly inside the grid, below the loss at both ends.
            foreach (var (curve, optimum) in means.Zip(root.GetProperty("optimum_log2_lr").EnumerateArray()))
            {
                Assert.True(curve.Min() < curve[0] && curve.Min() < curve[^1], string.Join(", ", curve));
                Assert.Equal(JsonValueKind.Number, optimum.ValueKind);
                Assert.InRange(optimum.GetDouble(), -9, -1);
            }
            Assert.True(File.Exists(Path.Combine(dir, "report.html")));
            Assert.Equal(0, root.GetProperty("missing_runs").GetInt32());
            // The same command again reuses every finished run.
            var before = Directory.GetFiles(Path.Combine(dir, "results")).ToDictionary(f => f, File.GetLastWriteTimeUtc);
            Assert.Equal(0, RunWithOutput(args).Code);
            foreach (var (f, t) in before) Assert.Equal(t, File.GetLastWriteTimeUtc(f));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("--lrs=-6:-5", "--widths", "16")]                   // two learning rates: no optimum can be located
    [InlineData("--lrs=-6:0", "--widths", "zero")]                  // not a width
    public void BadGridsExitTwo(string lrs, string key, string widths)
    {
        string dir = NewDir();
        try
        {
            var (code, output, errors) = RunWithOutput("lr-sweep", "--arch", "dense({n})-relu-dense(1)", key, widths, lrs,
                "--data", "teacher", "--out", dir);
            Assert.True(code == 2, output + errors);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
