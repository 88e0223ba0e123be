using LearningMechanics.Theory.KernelRegime;

namespace LearningMechanics.Tests.Theory.KernelRegime;

public class EigenlearningTests
{
    [Fact]
    public void KappaSolvesItsEquationAsFoundByPlainBisection()
    {
        var lambda = Enumerable.Range(1, 500).Select(i => Math.Pow(i, -1.3)).ToArray();
        foreach (var (n, ridge) in new[] { (10, 0.0), (100, 0.0), (100, 0.5), (400, 1e-3) })
        {
            double Residual(double k) => lambda.Sum(l => l / (l + k)) + ridge / k - n;
            // The residual decreases in κ: bisection without logs or Brent.
            double lo = 1e-14;
            double hi = 1e3;
            for (int it = 0; it < 200; it++) { double mid = Math.Sqrt(lo * hi); if (Residual(mid) > 0) lo = mid; else hi = mid; }
            double kappa = Eigenlearning.Kappa(lambda, n, ridge);
            Assert.Equal(Math.Sqrt(lo * hi), kappa, 1e-9 * kappa);
            var p = Eigenlearning.Predict(lambda, lambda, n, ridge);
            if (ridge == 0) Assert.Equal(n, p.Learnabilities.Sum(), 1e-9);   // conservation law
            else Assert.True(p.Learnabilities.Sum() < n);
        }
        Assert.Throws<BadInputException>(() => Eigenlearning.Kappa([1.0, 0.5], 2, 0));
    }

    [Fact]
    public void IsotropicRidgelessRiskMatchesHastieEtAl()
    {
        // p equal eigenvalues, n < p samples: risk = r²(1 − n/p) + σ²·n/(p − n) (Hastie et al. 2022),
        // plus the irreducible σ² of noisy test labels that eigenlearning's test MSE includes.
        int p = 200;
        int n = 50;
        double r2 = 3.0;
        double noise = 0.4;
        var lambda = Enumerable.Repeat(1.0, p).ToArray();
        var v2 = Enumerable.Repeat(r2 / p, p).ToArray();
        var pred = Eigenlearning.Predict(lambda, v2, n, 0, noise);
        Assert.Equal(p / (double)n - 1, pred.Kappa, 1e-10);
        Assert.Equal(r2 * (1 - (double)n / p) + noise * n / (p - n) + noise, pred.TestMse, 1e-10);
    }

    [Fact]
    public void PowerLawSpectraGiveKappaProportionalToNToTheMinusAlpha()
    {
        double alpha = 1.5;
        var lambda = Enumerable.Range(1, 200_000).Select(i => Math.Pow(i, -alpha)).ToArray();
        double k1 = Eigenlearning.Kappa(lambda, 200, 0);
        double k2 = Eigenlearning.Kappa(lambda, 800, 0);
        Assert.Equal(-alpha, Math.Log(k2 / k1) / Math.Log(4), 0.02);
    }
}
