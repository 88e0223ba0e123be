using System.Diagnostics;
using System.Text.Json;

namespace LearningMechanics.Tests.Cli;

/// <summary>
/// The lmech .NET tool as a user installs it: <c>dotnet pack</c> of the CLI (from the build the suite already made),
/// <c>dotnet tool install</c> into a temporary tool path from that package alone, then <c>lmech list</c> and a small
/// <c>lmech kernel</c> run from the installed tool, outside the repository, with OpenBLAS found.
/// </summary>
public class ToolPackageTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("lmech-tool-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    private static (int Code, string Out) Run(string exe, string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo(exe)
            { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(300_000), $"{exe} {string.Join(' ', args)} did not finish in 5 minutes");
        return (p.ExitCode, stdout + stderr.Result);
    }

    [Fact]
    public void ThePackedToolInstallsAndRunsFromAnywhere()
    {
        string root = DependencyTests.RepositoryRoot();
        string packages = Path.Combine(dir, "nupkg");
        string tools = Path.Combine(dir, "tools");
        var (code, output) = Run("dotnet", root, "pack", "src/LearningMechanics.Cli", "-c", "Release", "--no-build", "-o", packages);
        Assert.True(code == 0, output);
        Assert.Single(Directory.GetFiles(packages, "LearningMechanics.Cli.*.nupkg"));
        (code, output) = Run("dotnet", dir, "tool", "install", "--tool-path", tools, "--add-source", packages, "--ignore-failed-sources",
            "LearningMechanics.Cli");
        Assert.True(code == 0, output);
        string lmech = Path.Combine(tools, "lmech");
        (code, output) = Run(lmech, dir, "list");
        Assert.True(code == 0, output);
        Assert.Contains("gp-limit", output);
        string x = Path.Combine(dir, "x.csv");
        File.WriteAllText(x, "1,0\n0,1\n0.6,0.8\n");
        (code, output) = Run(lmech, dir, "kernel", "ntk", "--arch", "dense(8)-relu-dense(1)", "--x", x, "--out", "K.npy", "--json");
        Assert.True(code == 0, output);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(3, doc.RootElement.GetProperty("rows").GetInt32());
        Assert.Equal("openblas", doc.RootElement.GetProperty("blas").GetString());
        Assert.True(File.Exists(Path.Combine(dir, "K.npy")));
    }
}
