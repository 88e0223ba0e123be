using LearningMechanics.Cli;
using LearningMechanics.Lab.Sweeps;

namespace LearningMechanics.Tests.Lab.Sweeps;

/// <summary>Sweep files: expansion, determinism, and malformed input named by its key (exit code 2).</summary>
public class SweepSpecTests
{
    private const string Grid = """
        { "name": "g", "command": "train", "base": { "arch": "dense({width})-relu-dense(1)", "steps": 5 },
          "axes": { "width": [8, 16], "lr": { "log": [0.01, 1, 3] } }, "seeds": [1, 2] }
        """;

    [Fact]
    public void CrossedAxesAndSeedsExpandIntoOneTaskEachWithStableHashes()
    {
        var plan = SweepPlan.From(SweepSpec.Parse(Grid));
        Assert.Equal(2 * 3 * 2, plan.Tasks.Count);
        Assert.Equal(plan.Tasks.Count, plan.Tasks.Select(t => t.Hash).Distinct().Count());
        // The log range is exact to 12 digits, and {width} is filled in the base; lr becomes its own option.
        Assert.Equal(["0.01", "0.1", "1"], plan.Tasks.Select(t => t.Values["lr"]).Distinct().Order().ToArray());
        var t0 = plan.Tasks.First(t => t.Values["width"] == "16" && t.Values["lr"] == "0.1" && t.Seed == 2);
        Assert.Contains("dense(16)-relu-dense(1)", t0.Args);
        Assert.Equal("0.1", t0.Args[Array.IndexOf(t0.Args, "--lr") + 1]);
        Assert.Equal("2", t0.Args[Array.IndexOf(t0.Args, "--seed") + 1]);
        // Planning again gives the same tasks, bit for bit.
        var again = SweepPlan.From(SweepSpec.Parse(Grid));
        Assert.Equal(plan.Tasks.Select(t => t.Hash), again.Tasks.Select(t => t.Hash));
    }

    [Fact]
    public void ZippedAxesPairTheirValues()
    {
        var plan = SweepPlan.From(SweepSpec.Parse("""
            { "command": "run", "base": { "experiment": "gp-limit", "mode": "quick" },
              "axes": { "widths": ["8,16,32", "16,32,64"], "nets": [100, 200] }, "combine": "zip" }
            """));
        Assert.Equal(2, plan.Tasks.Count);
        Assert.Equal(["run", "gp-limit", "--quick", "--set", "nets=100", "--set", "widths=8,16,32", "--seed", "42"], plan.Tasks[0].Args);
    }

    [Fact]
    public void ReplanningAnUnchangedSweepReusesItAndADifferentOneIsRefused()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"lmech-sweep-{Guid.NewGuid():N}");
        try
        {
            var plan = SweepPlan.From(SweepSpec.Parse(Grid));
            Assert.True(plan.Write(dir));
            Assert.False(plan.Write(dir));
            Assert.Equal(plan.Tasks.Select(t => t.Args), SweepPlan.Read(dir).Tasks.Select(t => t.Args));
            var other = SweepPlan.From(SweepSpec.Parse(Grid.Replace("\"steps\": 5", "\"steps\": 6")));
            Assert.Contains("different sweep", Assert.Throws<BadInputException>(() => other.Write(dir)).Message);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("""{ "command": "train", "axes": { "lr": [] } }""", "axes.lr")]
    [InlineData("""{ "command": "train", "axis": { "lr": [1] } }""", "'axis'")]
    [InlineData("""{ "command": "fly" }""", "'command'")]
    [InlineData("""{ "base": { "arch": "dense(1)" } }""", "'command'")]
    [InlineData("""{ "command": "train", "axes": { "lr": { "log": [0, 1, 3] } } }""", "axes.lr")]
    [InlineData("""{ "command": "train", "seeds": [1, 1] }""", "'seeds'")]
    [InlineData("""{ "command": "train", "seeds": [-1] }""", "'seeds'")]
    [InlineData("""{ "command": "run", "base": { "mode": "quick" } }""", "base.experiment")]
    [InlineData("""{ "command": "train", "axes": { "a": [1, 2], "b": [1] }, "combine": "zip" }""", "'combine'")]
    [InlineData("""{ "command": "train", "axes": { "a": { "log": [1, 10, 1000000] } } }""", "axes.a")]
    [InlineData("""{ "command": "train", "base": { "lr": 1 }, "axes": { "lr": [1, 2] } }""", "axes.lr")]
    [InlineData("""{ "command": "train", "base": { "nested": { "a": 1 } } }""", "base.nested")]
    [InlineData("""[1, 2]""", "JSON object")]
    [InlineData("""{ "command": "train", """, "not valid JSON")]
    public void MalformedSweepFilesNameTheBadKey(string json, string named)
    {
        var e = Assert.Throws<BadInputException>(() => SweepPlan.From(SweepSpec.Parse(json)));
        Assert.Contains(named, e.Message);
    }

    [Fact]
    public void TheCommandLineExitsWithTwoOnAMalformedSweepFile()
    {
        string file = Path.Combine(Path.GetTempPath(), $"lmech-bad-sweep-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(file, """{ "command": "train", "axes": { "lr": "fast" } }""");
            Assert.Equal(Lmech.BadInput, SweepExecutorTests.Run("sweep", "plan", file, "--out", file + ".d"));
            Assert.False(Directory.Exists(file + ".d"));
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void TheSlurmExecutorWithoutSbatchSaysSo()
    {
        var e = Assert.Throws<BadInputException>(() => SlurmExecutor.RequireSbatch("/nonexistent"));
        Assert.Contains("sbatch", e.Message);
        Assert.Contains("--executor local", e.Message);
    }
}
