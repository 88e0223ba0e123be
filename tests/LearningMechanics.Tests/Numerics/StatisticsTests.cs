using LearningMechanics.Numerics;

namespace LearningMechanics.Tests.Numerics;

public class StatisticsTests
{
    /// <summary>The KS distance against the uniform CDF, worked by hand: the gaps just before and at each point.</summary>
    [Fact]
    public void KsDistanceIsTheLargestGapOfTheEmpiricalCdf()
    {
        static double Uniform(double x) => Math.Clamp(x, 0, 1);
        Assert.Equal(0.5, Statistics.KsDistance([0.5], Uniform), 1e-15);
        Assert.Equal(0.25, Statistics.KsDistance([0.25, 0.75], Uniform), 1e-15);
        Assert.Equal(0.8, Statistics.KsDistance([0.1, 0.2], Uniform), 1e-15);
        Assert.Equal(0.9, Statistics.KsDistance(new[] { 0.9, 0.95, 0.99 }.AsSpan(0, 1), Uniform), 1e-15);
        Assert.Throws<ArgumentException>(() => Statistics.KsDistance([], Uniform));
    }

    [Fact]
    public void MeanVarianceStandardError()
    {
        double[] x = [1, 2, 3, 4];
        Assert.Equal(2.5, Statistics.Mean(x));
        Assert.Equal(5.0 / 3, Statistics.Variance(x), 1e-15);
        Assert.Equal(Math.Sqrt(5.0 / 12), Statistics.StandardError(x), 1e-15);
        Assert.Throws<ArgumentException>(() => Statistics.Variance([1.0]));
    }

    [Fact]
    public void LineFitRecoversSlopeAndItsErrorMatchesTheAnalyticFormula()
    {
        var rng = new Rng(5);
        int n = 200;
        double sigma = 0.3;
        var x = Enumerable.Range(0, n).Select(i => i / 20.0).ToArray();
        var y = x.Select(v => 1.5 - 0.75 * v + sigma * rng.NextGaussian()).ToArray();
        var fit = Statistics.FitLine(x, y, Enumerable.Repeat(sigma, n).ToArray());
        double xbar = x.Average();
        double sxx = x.Sum(v => (v - xbar) * (v - xbar));
        double analyticSe = sigma / Math.Sqrt(sxx);
        Assert.InRange(fit.SlopeStdErr, analyticSe * 0.999, analyticSe * 1.3);   // ≥ formal error, scaled up only when χ²/dof > 1
        Assert.InRange(fit.Slope, -0.75 - 4 * fit.SlopeStdErr, -0.75 + 4 * fit.SlopeStdErr);
    }

    [Fact]
    public void LogLogSlopeOfAPowerLawIsItsExponent()
    {
        double[] n = [8, 16, 32, 64, 128];
        var y = n.Select(v => 3.0 / v).ToArray();
        var fit = Statistics.LogLogSlope(n, y, y.Select(v => 0.01 * v).ToArray());
        Assert.Equal(-1, fit.Slope, 1e-12);
        Assert.Equal(Math.Log(3), fit.Intercept, 1e-12);
    }

    [Fact]
    public void BootstrapIntervalOfTheMeanMatchesNormalTheory()
    {
        var rng = new Rng(8);
        var sample = Enumerable.Range(0, 400).Select(_ => rng.NextGaussian()).ToArray();
        var (lo, hi) = Statistics.BootstrapCi(sample, s => s.Average(), new Rng(9), 4000);
        double se = Statistics.StandardError(sample);
        double mean = sample.Average();
        Assert.InRange((hi - lo) / (2 * 1.96 * se), 0.9, 1.1);   // bootstrap width / normal-theory width
        Assert.InRange((lo + hi) / 2, mean - 0.2 * se, mean + 0.2 * se);
    }

    [Fact]
    public void BrentFindsRootsAndRejectsMissingBrackets()
    {
        Assert.Equal(0.7390851332151607, RootFinding.Brent(x => Math.Cos(x) - x, 0, 1), 1e-14);
        Assert.Equal(Math.Sqrt(2), RootFinding.Brent(x => x * x - 2, 0, 5), 1e-14);
        Assert.Throws<ArgumentException>(() => RootFinding.Brent(x => x * x + 1, -1, 1));
    }

    [Fact]
    public void AndersonDarlingMatchesKnownCriticalValuesAndDetectsAShift()
    {
        // Asymptotic case-0 critical values (Anderson & Darling 1954): 2.492 at 5 %, 3.857 at 1 %.
        Assert.Equal(0.95, AndersonDarling.Cdf(2.492, 100000), 2e-3);
        Assert.Equal(0.99, AndersonDarling.Cdf(3.857, 100000), 1e-3);
        Assert.Equal(0.90, AndersonDarling.Cdf(1.933, 100000), 2e-3);
        Assert.Equal(0.975, AndersonDarling.Cdf(3.070, 100000), 1e-3);
        var rng = new Rng(12);
        var z = Enumerable.Range(0, 2000).Select(_ => rng.NextGaussian()).ToArray();
        Assert.True(AndersonDarling.TestNormal(z, 0, 1).PValue > 0.01);
        Assert.True(AndersonDarling.TestNormal(z, 0.2, 1).PValue < 1e-4);
        var (a2, p) = AndersonDarling.TestNormal(z, 0, 1.25);
        Assert.True(p < 1e-3, $"A2={a2} p={p}");
    }
}
