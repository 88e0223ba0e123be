using LearningMechanics.Measurement.Ensembles;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.SolvableModels;

namespace LearningMechanics.Tests.Theory.SolvableModels;

/// <summary>
/// Double descent's closed forms (Hastie et al. 2022) against independent routes: the Marchenko–Pastur Stieltjes transform
/// against quadrature of the density, the ridge risk's λ → 0 limit against the ridgeless formulas, λ* against a numerical
/// minimum, the finite-n expectations against their limit and against Monte Carlo regressions.
/// </summary>
public class IsotropicRegressionTests
{
    /// <summary>∫ dμ(s)/(s + λ) over the Marchenko–Pastur law of XᵀX/n (ratio γ), atom 1 − 1/γ at 0 for γ &gt; 1.</summary>
    private static double StieltjesByQuadrature(double gamma, double lambda)
    {
        double a = Math.Pow(1 - Math.Sqrt(gamma), 2), b = Math.Pow(1 + Math.Sqrt(gamma), 2);
        // s = (a + b)/2 + (b − a)/2·cos θ removes the square-root edges: ρ(s)ds = √((b − s)(s − a))/(2πγs)·ds.
        var (nodes, weights) = GaussLegendre.Rule(200);
        double sum = 0;
        foreach (var (x, w) in nodes.Zip(weights))
        {
            double theta = Math.PI * (x + 1) / 2;
            double s = (a + b) / 2 + (b - a) / 2 * Math.Cos(theta);
            double jac = (b - a) / 2 * Math.Sin(theta) * Math.PI / 2;
            double density = Math.Sqrt(Math.Max((b - s) * (s - a), 0)) / (2 * Math.PI * gamma * s);
            sum += w * jac * density / (s + lambda);
        }
        return sum + (gamma > 1 ? (1 - 1 / gamma) / lambda : 0);
    }

    [Theory]
    [InlineData(0.3, 0.05)]
    [InlineData(0.9, 0.5)]
    [InlineData(2.0, 0.1)]
    [InlineData(5.0, 2.0)]
    public void StieltjesTransformIsTheMarchenkoPasturIntegral(double gamma, double lambda) =>
        Assert.Equal(StieltjesByQuadrature(gamma, lambda), IsotropicRegression.MarchenkoPasturStieltjes(gamma, lambda), 1e-8);

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.8)]
    [InlineData(1.5)]
    [InlineData(4.0)]
    public void RidgeRiskTendsToTheRidgelessRisk(double gamma)
    {
        double ridgeless = IsotropicRegression.RidgelessRisk(gamma, 1.3, 0.4);
        Assert.Equal(ridgeless, IsotropicRegression.RidgeRisk(gamma, 1e-7, 1.3, 0.4), 1e-5 * ridgeless);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(1.0)]
    [InlineData(3.0)]
    public void OptimalRidgeMinimisesTheRisk(double gamma)
    {
        double best = IsotropicRegression.OptimalRidge(gamma, 1, 0.25);
        double at = IsotropicRegression.RidgeRisk(gamma, best, 1, 0.25);
        Assert.Equal(at, IsotropicRegression.OptimalRidgeRisk(gamma, 1, 0.25), 1e-12);
        double lo = RootFinding.Brent(l => (IsotropicRegression.RidgeRisk(gamma, l * 1.0001, 1, 0.25) -
            IsotropicRegression.RidgeRisk(gamma, l * 0.9999, 1, 0.25)), best / 3, best * 3, 1e-12);
        Assert.Equal(best, lo, 1e-3 * best);
        Assert.True(double.IsFinite(at) && at < IsotropicRegression.RidgelessRisk(gamma == 1 ? 1.01 : gamma, 1, 0.25));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(2.0)]
    public void FiniteExpectationTendsToTheLimit(double gamma)
    {
        double limit = IsotropicRegression.RidgelessRisk(gamma, 1, 0.25);
        double Gap(int p) => Math.Abs(IsotropicRegression.RidgelessRiskFinite((int)(p / gamma), p, 1, 0.25) - limit);
        Assert.InRange(Gap(200) / Gap(2000), 8, 12);
    }

    /// <summary>Monte Carlo regressions against the exact finite-n expectations, 4 SE, both sides of the threshold.</summary>
    [Theory]
    [InlineData(40, 12)]
    [InlineData(12, 40)]
    public void MonteCarloRisksMatchTheExactExpectation(int n, int p)
    {
        var rng = new Rng(17);
        var risks = Enumerable.Range(0, 4000).Select(i => LinearRegressionRisk.Draw(n, p, 1, 0.25, 0.1, rng.Split((ulong)i)).Ridgeless)
            .ToArray();
        double expected = IsotropicRegression.RidgelessRiskFinite(n, p, 1, 0.25);
        double se = Statistics.StandardError(risks);
        Assert.InRange(Statistics.Mean(risks), expected - 4 * se, expected + 4 * se);
    }

    /// <summary>On the same data, a vanishing ridge gives the ridgeless (least-squares or minimum-norm) fit.</summary>
    [Theory]
    [InlineData(30, 10)]
    [InlineData(10, 30)]
    public void VanishingRidgeIsTheRidgelessFit(int n, int p)
    {
        var r = LinearRegressionRisk.Draw(n, p, 1, 0.25, 1e-10, new Rng(3));
        Assert.Equal(r.Ridgeless, r.Ridge, 1e-6 * r.Ridgeless);
    }

    [Fact]
    public void BadInputIsRefused()
    {
        Assert.Throws<BadInputException>(() => LinearRegressionRisk.Draw(20, 21, 1, 0.25, 0.1, new Rng(1)));
        Assert.Throws<BadInputException>(() => LinearRegressionRisk.Draw(20, 10, 1, 0.25, 0, new Rng(1)));
        Assert.True(double.IsPositiveInfinity(IsotropicRegression.RidgelessRisk(1, 1, 0.25)));
    }
}
