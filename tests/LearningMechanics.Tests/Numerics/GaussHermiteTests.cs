using LearningMechanics.Numerics;

namespace LearningMechanics.Tests.Numerics;

public class GaussHermiteTests
{
    [Theory]
    [InlineData(5)]
    [InlineData(20)]
    [InlineData(96)]
    public void RuleIsExactForPolynomialsUpToDegree2qMinus1(int q)
    {
        var (x, w) = GaussHermite.Rule(q);
        Assert.Equal(1.0, w.Sum(), 1e-14);
        double dfact = 1;   // (2k − 1)!!
        for (int k = 1; 2 * k <= 2 * q - 1 && k <= 12; k++)
        {
            dfact *= 2 * k - 1;
            double moment = 0; for (int i = 0; i < q; i++) moment += w[i] * Math.Pow(x[i], 2 * k);
            Assert.Equal(dfact, moment, dfact * 1e-12);
        }
    }

    [Fact]
    public void CorrelatedPairMomentsAreExact()
    {
        double k11 = 1.7;
        double k22 = 0.6;
        double k12 = -0.8;
        Assert.Equal(k12, GaussHermite.Expect2(u => u, v => v, k11, k12, k22, 10), 1e-13);
        Assert.Equal(k11 * k22 + 2 * k12 * k12, GaussHermite.Expect2(u => u * u, v => v * v, k11, k12, k22, 10), 1e-12);
        // Perfectly (anti)correlated inputs: the clamp makes v = ±√(k22/k11)·u exactly.
        Assert.Equal(-3 * 2.0 * 2.0, GaussHermite.Expect2(u => u * u * u, v => v, 2, -2, 2, 10), 1e-12);
    }
}
