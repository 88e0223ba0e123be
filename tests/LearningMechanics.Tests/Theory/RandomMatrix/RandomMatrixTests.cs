using LearningMechanics.Numerics;
using LearningMechanics.Theory.RandomMatrix;

namespace LearningMechanics.Tests.Theory.RandomMatrix;

/// <summary>
/// The random-matrix laws behind spectral-outliers against independent routes: the semicircle CDF against quadrature of its
/// density, and the BBP transition of the spiked Wigner model (Benaych-Georges &amp; Nadakuditi 2011) against Monte Carlo
/// matrices — the calibration the outlier claims rest on.
/// </summary>
public class RandomMatrixTests
{
    [Theory]
    [InlineData(0.0, 2.0)]
    [InlineData(1.0, 2.0)]
    [InlineData(-0.3, 0.7)]
    public void SemicircleCdfIsTheIntegralOfItsDensity(double center, double radius)
    {
        // x = c − R·cos φ removes the square-root edge: F(x) = ∫₀^φ ρ(c − R cos ψ)·R sin ψ dψ, Gauss–Legendre in ψ.
        var (nodes, weights) = GaussLegendre.Rule(64);
        foreach (double u in new[] { -0.9, -0.3, 0.0, 0.45, 0.99 })
        {
            double x = center + u * radius;
            double phi = Math.Acos(-u);
            double integral = nodes.Zip(weights).Sum(nw =>
            {
                double psi = phi * (nw.First + 1) / 2;
                return phi / 2 * nw.Second * WignerSemicircle.Density(center - radius * Math.Cos(psi), center, radius)
                    * radius * Math.Sin(psi);
            });
            Assert.Equal(integral, WignerSemicircle.Cdf(x, center, radius), 12);
        }
        Assert.Equal(0, WignerSemicircle.Cdf(center - 1.01 * radius, center, radius));
        Assert.Equal(1, WignerSemicircle.Cdf(center + 1.01 * radius, center, radius));
    }

    /// <summary>
    /// M = θvvᵀ + W at N = 600, W symmetric with entries of variance 1/N: above θ = 1 the top eigenvalue sits at θ + 1/θ
    /// (tolerance 4·SE over draws + 3/N for the finite-N bias) with squared overlap 1 − 1/θ²; below, it stays at the edge 2
    /// within three Tracy–Widom scales N^−2/3 — far from where an outlier would be.
    /// </summary>
    [Theory]
    [InlineData(2.0)]
    [InlineData(1.5)]
    [InlineData(0.5)]
    public void SpikedWignerTopEigenvalueFollowsTheBbpTransition(double theta)
    {
        const int n = 600;
        const int draws = 6;
        var rng = new Rng(20261203);
        var top = new double[draws];
        var overlap = new double[draws];
        for (int d = 0; d < draws; d++)
        {
            var m = new Matrix(n, n);
            var g = rng.Split((ulong)d);
            for (int i = 0; i < n; i++)
                for (int j = i; j < n; j++)
                {
                    double v = g.NextGaussian() / Math.Sqrt(n) * (i == j ? Math.Sqrt(2) : 1);
                    m[i, j] = v;
                    m[j, i] = v;
                }
            // v = e₁ without loss of generality (W is orthogonally invariant).
            m[0, 0] += theta;
            var (values, vectors) = Lapack.SymmetricEigen(m);
            int k = Array.IndexOf(values, values.Max());
            top[d] = values[k];
            overlap[d] = vectors[0, k] * vectors[0, k];
        }
        double se = Statistics.StandardError(top);
        if (theta > SpikedWigner.Threshold)
        {
            Assert.InRange(top.Average(), SpikedWigner.TopEigenvalue(theta) - 4 * se - 3.0 / n,
                SpikedWigner.TopEigenvalue(theta) + 4 * se + 3.0 / n);
            double overlapSe = Statistics.StandardError(overlap);
            Assert.InRange(overlap.Average(), SpikedWigner.Overlap(theta) - 4 * overlapSe - 3.0 / n,
                SpikedWigner.Overlap(theta) + 4 * overlapSe + 3.0 / n);
        }
        else
        {
            double scale = Math.Pow(n, -2.0 / 3);
            Assert.InRange(top.Average(), 2 - 3 * scale, 2 + 3 * scale);
            Assert.True(theta + 1 / theta - top.Average() > 10 * scale, "the would-be outlier θ + 1/θ is resolved");
            Assert.True(overlap.Average() < 0.05, $"overlap {overlap.Average()} below the transition");
        }
    }
}
