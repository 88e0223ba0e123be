using System.Diagnostics;

namespace LearningMechanics.Tests;

/// <summary>The examples/ programs build with the solution and run to their end: the library API they show is the real one.</summary>
public class ExamplesTests
{
    [Fact]
    public async Task TheLibraryTourRunsAndItsClaimPasses()
    {
        string dll = Path.Combine(DependencyTests.RepositoryRoot(), "examples", "LibraryTour", "bin", "Release", "net10.0",
            "LibraryTour.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build the solution (LearningMechanics.slnx) in Release first.");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(120_000), "the library tour did not finish in 2 minutes");
        Assert.True(p.ExitCode == 0, stdout + await stderr);
        Assert.Contains("nngp-variance: predicted", stdout);
        Assert.Contains("→ Pass", stdout);
    }
}
