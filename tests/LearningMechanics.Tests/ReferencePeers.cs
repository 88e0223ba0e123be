using System.Diagnostics;

namespace LearningMechanics.Tests;

/// <summary>
/// The independent reference implementations the tests compare with (Debian's python3-numpy and python3-torch, never
/// needed by the library). On a laptop without them a reference test is skipped; under CI (CI=true, where
/// scripts/test.sh installs them) a missing peer fails the test, so CI can never pass without running the comparison.
/// </summary>
internal static class ReferencePeers
{
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The first of /usr/bin/python3 and python3 that imports torch (Debian's python3-torch), or null.</summary>
    public static readonly Lazy<string?> TorchPython = new(() =>
        new[] { "/usr/bin/python3", "python3" }.FirstOrDefault(p => RunPython(p, ["-c", "import torch"]) is not null));

    /// <summary>Runs <paramref name="python"/> with the arguments; its standard output, or null when it fails or is missing.
    /// </summary>
    public static string? RunPython(string python, IEnumerable<string> args)
    {
        try
        {
            var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            _ = err.Result;
            return p.ExitCode == 0 ? output.Trim() : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
    }

    /// <summary>Skips (or, under CI, fails) the calling test unless <paramref name="available"/>.</summary>
    public static void Require(bool available, string missing)
    {
        if (available) return;
        if (InCi) Assert.Fail($"{missing}; under CI=true the reference comparison must run (scripts/test.sh installs it).");
        Skip.If(true, missing);
    }
}
