using LearningMechanics.Cli;

namespace LearningMechanics.Tests.Cli;

/// <summary>The command-line contract: exit codes and messages for bad input, nothing written on failure.</summary>
[Collection("console")]
public class CliTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), $"lmech-cli-{Guid.NewGuid():N}");
    public void Dispose() { if (Directory.Exists(dir)) Directory.Delete(dir, true); }

    private static (int Code, string Err) Run(params string[] args)
    {
        var err = new StringWriter();
        var old = Console.Error;
        Console.SetError(err);
        try { return (Lmech.Execute(args), err.ToString()); }
        finally { Console.SetError(old); }
    }

    [Theory]
    [InlineData(new[] { "run", "no-such-experiment" }, "no-such-experiment", "gp-limit")]
    [InlineData(new[] { "run", "gp-limit", "--set", "acts=softmax" }, "softmax", "relu")]
    [InlineData(new[] { "run", "gp-limit", "--set", "widths=0,8" }, "'0'", "integer")]
    [InlineData(new[] { "run", "gp-limit", "--set", "depth=-2" }, "depth", "≥ 1")]
    [InlineData(new[] { "run", "gp-limit", "--set", "depth" }, "depth", "key=value")]
    [InlineData(new[] { "run", "gp-limit", "--set", "colour=red" }, "colour", "widths")]
    [InlineData(new[] { "run", "gp-limit", "--set", "sw2=-1" }, "sw2", "critical")]
    [InlineData(new[] { "run", "gp-limit", "--quick", "--full" }, "--quick", "--full")]
    [InlineData(new[] { "run", "gp-limit", "--seed", "abc" }, "abc", "")]
    [InlineData(new[] { "frobnicate" }, "frobnicate", "")]
    public void BadInputExitsWithCodeTwoAndNamesTheValue(string[] args, string named, string allowed)
    {
        var (code, err) = Run([.. args, "--out", dir]);
        Assert.Equal(2, code);
        Assert.Contains(named, err);
        Assert.Contains(allowed, err);
        Assert.False(File.Exists(Path.Combine(dir, "results.db")));
    }

    [Fact]
    public void UnwritableOutputFolderFailsBeforeAnyWork()
    {
        string blocker = Path.Combine(dir, "file");
        Directory.CreateDirectory(dir);
        File.WriteAllText(blocker, "not a folder");
        var (code, err) = Run("run", "gp-limit", "--out", Path.Combine(blocker, "sub"));
        Assert.Equal(2, code);
        Assert.Contains("not writable", err);
    }

    [Fact]
    public void ListAndASmallRunSucceed()
    {
        Assert.Equal(0, Run("list").Code);
        var (code, _) = Run("run", "gp-limit", "--out", dir, "--seed", "3", "--set", "widths=8,16,32,64", "--set", "nets=200",
            "--set", "depth=1", "--set", "acts=erf", "--set", "fit_min=8");
        Assert.Equal(0, code);
        Assert.True(File.Exists(Path.Combine(dir, "gp-limit", "result.json")));
        Assert.True(File.Exists(Path.Combine(dir, "index.html")));
    }
}
