using LearningMechanics.Numerics;

namespace LearningMechanics.Tests.Numerics;

public class RngTests
{
    [Fact]
    public void SameSeedSameDrawsAndSplitIsAPureFunctionOfTheIndex()
    {
        var a = new double[1001];
        var b = new double[1001];
        new Rng(123).FillGaussian(a); new Rng(123).FillGaussian(b);
        Assert.Equal(a, b);
        var root = new Rng(99);
        _ = root.NextUInt64();  // consuming draws from the parent must not change its children
        Assert.Equal(new Rng(99).Split(5).NextUInt64(), root.Split(5).NextUInt64());
        Assert.NotEqual(root.Split(5).NextUInt64(), root.Split(6).NextUInt64());
        Assert.NotEqual(root.Split(1, 2).NextUInt64(), root.Split(2, 1).NextUInt64());
    }

    [Fact]
    public void ParallelSplitsReproduceSequentialDraws()
    {
        var root = new Rng(2024);
        var seq = Enumerable.Range(0, 64).Select(i => root.Split((ulong)i).NextGaussian()).ToArray();
        var par = new double[64];
        Parallel.For(0, 64, i => par[i] = root.Split((ulong)i).NextGaussian());
        Assert.Equal(seq, par);
    }

    [Fact]
    public void GaussianMomentsMatchStandardNormalWithinStandardErrors()
    {
        const int n = 1_000_000;
        var z = new double[n];
        new Rng(1).FillGaussian(z);
        double m1 = z.Average();
        double m2 = z.Select(v => v * v).Average();
        double m4 = z.Select(v => v * v * v * v).Average();
        // SE of the sample moments of N(0,1): √(1/n), √(2/n), √(96/n) for E z⁴ (Var z⁴ = 105 − 9).
        Assert.InRange(m1, -4 / Math.Sqrt(n), 4 / Math.Sqrt(n));
        Assert.InRange(m2, 1 - 4 * Math.Sqrt(2.0 / n), 1 + 4 * Math.Sqrt(2.0 / n));
        Assert.InRange(m4, 3 - 4 * Math.Sqrt(96.0 / n), 3 + 4 * Math.Sqrt(96.0 / n));
        // Tail: P(|z| > 3) = 0.0026998; binomial SE.
        double tail = z.Count(v => Math.Abs(v) > 3) / (double)n;
        double p = 0.0026998;
        Assert.InRange(tail, p - 4 * Math.Sqrt(p * (1 - p) / n), p + 4 * Math.Sqrt(p * (1 - p) / n));
        // Consecutive draws uncorrelated.
        double c = 0; for (int i = 0; i + 1 < n; i++) c += z[i] * z[i + 1];
        Assert.InRange(c / (n - 1), -4 / Math.Sqrt(n), 4 / Math.Sqrt(n));
    }

    [Fact]
    public void GaussianDrawsPassAndersonDarlingAndHitTheZigguratTailAtTheRightRate()
    {
        const int n = 1_000_000;
        var z = new double[n];
        new Rng(2718).FillGaussian(z);
        // The whole distribution (a wrong ziggurat table or wedge test shows up here) ...
        Assert.True(AndersonDarling.TestNormal(z, 0, 1).PValue > 1e-3);
        // ... and the tail beyond the base layer R = 3.6541528853610088, drawn by a separate code path.
        foreach (double t in new[] { 3.6541528853610088, 4.5 })
        {
            double p = 2 * (1 - AndersonDarling.NormalCdf(t));
            double observed = z.Count(v => Math.Abs(v) > t) / (double)n;
            double se = Math.Sqrt(p * (1 - p) / n);
            Assert.True(Math.Abs(observed - p) <= 4 * se, $"P(|z| > {t}): {observed} vs {p} ± {se}");
        }
        // Single draws follow the same law as bulk draws.
        var rng = new Rng(5);
        var single = Enumerable.Range(0, 200_000).Select(_ => rng.NextGaussian()).ToArray();
        Assert.True(AndersonDarling.TestNormal(single, 0, 1).PValue > 1e-3);
    }

    [Fact]
    public void OddLengthsAndScaleAreHandled()
    {
        var z = new double[7];
        new Rng(4).FillGaussian(z, 0.0);
        Assert.All(z, v => Assert.Equal(0.0, v));
        var u = new double[513];
        new Rng(4).FillGaussian(u, 2.0);
        Assert.All(u, v => Assert.True(double.IsFinite(v)));
        Assert.NotEqual(0.0, u[^1]);
    }
}
