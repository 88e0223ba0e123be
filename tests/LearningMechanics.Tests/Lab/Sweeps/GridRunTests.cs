using System.Text.Json;
using LearningMechanics.Experiments;
using LearningMechanics.Lab;
using LearningMechanics.Lab.Sweeps;
using static LearningMechanics.Tests.Lab.Sweeps.SweepExecutorTests;

namespace LearningMechanics.Tests.Lab.Sweeps;

/// <summary>
/// Grid experiments through the sweep engine (<c>lmech run ID --executor local|slurm</c>): the units run as separate
/// processes and the judgement is the in-process run's, bit for bit; a rerun re-measures only what is missing.
/// </summary>
public class GridRunTests
{
    /// <summary>Six units: ReLU at γ = 0 and γ² = 0.5, three widths each.</summary>
    internal static readonly string[] Small =
        ["--seed", "5", "--set", "widths=32,64,128", "--set", "nets=1024", "--set", "depth=5", "--set", "gammas=0.5", "--set", "acts=relu"];

    internal static Dictionary<string, string> SmallOverrides() =>
        Enumerable.Range(0, Small.Length / 2).Where(i => Small[2 * i] == "--set").Select(i => Small[2 * i + 1].Split('='))
            .ToDictionary(kv => kv[0], kv => kv[1]);

    /// <summary>The in-process run's result.json claims and tables, the reference every executor must reproduce.</summary>
    internal static string InProcessResult(string dir)
    {
        Runner.Run(Registry.Get("residual-vertex"), new RunOptions(RunMode.Quick, 5, dir, SmallOverrides()));
        return Judgement(dir);
    }

    /// <summary>Claims (id, measured, SE, verdict) and series of a run's result.json, as canonical text.</summary>
    internal static string Judgement(string dir)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "residual-vertex", "result.json")));
        var claims = doc.RootElement.GetProperty("claims").EnumerateArray().Select(c =>
            $"{c.GetProperty("id")} {c.GetProperty("measured").GetRawText()} {c.GetProperty("stderr").GetRawText()} " +
            $"{c.GetProperty("verdict")}");
        return string.Join("\n", claims) + "\n" + doc.RootElement.GetProperty("series").GetRawText();
    }

    [Fact]
    public void UnitsThroughTheLocalExecutorAreJudgedExactlyAsInProcessAndARerunMeasuresOnlyWhatIsMissing()
    {
        string reference = NewDir();
        string dir = NewDir();
        try
        {
            string expected = InProcessResult(reference);
            Assert.Equal(0, Run(["run", "residual-vertex", .. Small, "--executor", "local", "--jobs", "2", "--out", dir]));
            Assert.Equal(expected, Judgement(dir));

            string units = Assert.Single(Directory.GetDirectories(Path.Combine(dir, "residual-vertex"), "units-*"));
            var plan = SweepPlan.Read(units);
            Assert.Equal(6, plan.Tasks.Count);
            var layout = new SweepLayout(units);
            var lost = plan.Tasks[3];
            File.Delete(layout.ResultFile(lost.Hash));
            var kept = plan.Tasks.Where(t => t != lost).ToDictionary(t => t.Hash, t => File.GetLastWriteTimeUtc(layout.ResultFile(t.Hash)));
            Thread.Sleep(20);
            Assert.Equal(0, Run(["run", "residual-vertex", .. Small, "--executor", "local", "--jobs", "2", "--out", dir]));
            Assert.True(File.Exists(layout.ResultFile(lost.Hash)), "the lost unit was not measured again");
            foreach (var (hash, time) in kept) Assert.Equal(time, File.GetLastWriteTimeUtc(layout.ResultFile(hash)));
            Assert.Equal(expected, Judgement(dir));
        }
        finally
        {
            foreach (var d in new[] { reference, dir }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }

    /// <remarks>
    /// lazy-training's units are training runs (one per width and network, and the divergence search). Through the local
    /// executor they run with one BLAS thread each, whose summation order differs from the multi-threaded in-process run:
    /// the verdicts must be the same and every measured value equal to rounding (10⁻¹⁰ relative; seen: 10⁻¹⁴).
    /// </remarks>
    [Fact]
    public void TrainingUnitsThroughTheLocalExecutorGiveTheInProcessVerdicts()
    {
        string[] small = ["--seed", "4", "--set", "widths=32,64,128", "--set", "nets=3", "--set", "steps=40", "--set", "n_train=12",
            "--set", "n_test=4"];
        var overrides = Enumerable.Range(0, 5).Select(i => small[3 + 2 * i].Split('=')).ToDictionary(kv => kv[0], kv => kv[1]);
        string reference = NewDir();
        string dir = NewDir();
        try
        {
            var expected = Runner.Run(Registry.Get("lazy-training"), new RunOptions(RunMode.Quick, 4, reference, overrides)).Output.Claims;
            Assert.Equal(0, Run(["run", "lazy-training", .. small, "--executor", "local", "--jobs", "2", "--out", dir]));
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "lazy-training", "result.json")));
            var got = doc.RootElement.GetProperty("claims").EnumerateArray().ToList();
            Assert.Equal(expected.Select(c => c.Id), got.Select(c => c.GetProperty("id").GetString()));
            foreach (var (want, c) in expected.Zip(got))
            {
                Assert.Equal(want.Verdict.Text(), c.GetProperty("verdict").GetString());
                double measured = c.GetProperty("measured").GetDouble();
                Assert.True(Math.Abs(measured - want.Measured!.Value) <= 1e-10 * Math.Abs(want.Measured.Value),
                    $"{want.Id}: {measured} through the executor, {want.Measured} in process");
            }
            string units = Assert.Single(Directory.GetDirectories(Path.Combine(dir, "lazy-training"), "units-*"));
            Assert.Equal(3 * 3 + 1, SweepPlan.Read(units).Tasks.Count);   // 3 widths × 3 networks, and the divergence search
        }
        finally
        {
            foreach (var d in new[] { reference, dir }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }

    [Fact]
    public void BadExecutorAndUnitRequestsExitTwo()
    {
        string dir = NewDir();
        try
        {
            Assert.Equal(2, Run("run", "residual-vertex", "--executor", "cloud", "--out", dir));
            Assert.Equal(2, Run("run", "gp-limit", "--unit", "x", "--out", dir));              // not a grid experiment
            Assert.Equal(2, Run("run", "residual-vertex", "--unit", "nonsense", "--out", dir));  // not one of its units
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
