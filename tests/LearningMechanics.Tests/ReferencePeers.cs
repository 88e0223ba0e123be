namespace LearningMechanics.Tests;

/// <summary>
/// The independent reference implementations the tests compare with (Debian's python3-numpy and python3-torch, never
/// needed by the library). On a laptop without them a reference test is skipped; under CI (CI=true, where
/// scripts/test.sh installs them) a missing peer fails the test, so CI can never pass without running the comparison.
/// </summary>
internal static class ReferencePeers
{
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Skips (or, under CI, fails) the calling test unless <paramref name="available"/>.</summary>
    public static void Require(bool available, string missing)
    {
        if (available) return;
        if (InCi) Assert.Fail($"{missing}; under CI=true the reference comparison must run (scripts/test.sh installs it).");
        Skip.If(true, missing);
    }
}
