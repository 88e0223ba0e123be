using LearningMechanics.Lab;
using LearningMechanics.Numerics;

namespace LearningMechanics.Tests.Lab;

/// <summary>
/// The scaling-law fitter (Hoffmann et al. 2022, approach 3): analytic gradient against finite differences, exact recovery
/// from noiseless data, bootstrap intervals that cover the truth under noise, the compute-optimal allocation against a
/// numerical minimisation, and bad tables refused.
/// </summary>
public class ScalingLawFitTests
{
    /// <summary>Hoffmann et al. 2022's fitted values, used as a known truth.</summary>
    private static readonly ScalingLaw Chinchilla = new(1.69, 406.4, 0.34, 410.7, 0.28);

    private static (double[] N, double[] D, double[] L) Grid(ScalingLaw truth, double noise, Rng rng)
    {
        var rows = from i in Enumerable.Range(0, 8) from j in Enumerable.Range(0, 8)
            select (N: 1e7 * Math.Pow(10, i * 3.0 / 7), D: 1e8 * Math.Pow(10, j * 3.0 / 7));
        var list = rows.ToList();
        return ([.. list.Select(r => r.N)], [.. list.Select(r => r.D)],
            [.. list.Select(r => truth.Loss(r.N, r.D) * Math.Exp(noise * rng.NextGaussian()))]);
    }

    [Fact]
    public void GradientMatchesFiniteDifferences()
    {
        var (n, d, l) = Grid(Chinchilla, 0.02, new Rng(1));
        double[] x = [5.5, 0.3, 6.2, 0.25, 0.4];
        foreach (double delta in new[] { 1e-3, 10.0 })
        {
            var (_, g) = ScalingLawFit.Objective(x, n, d, l, delta);
            for (int k = 0; k < 5; k++)
            {
                const double h = 1e-6;
                var plus = (double[])x.Clone();
                var minus = (double[])x.Clone();
                plus[k] += h;
                minus[k] -= h;
                double fd = (ScalingLawFit.Objective(plus, n, d, l, delta).Value - ScalingLawFit.Objective(minus, n, d, l, delta).Value)
                    / (2 * h);
                Assert.Equal(fd, g[k], 1e-6 * Math.Max(1, Math.Abs(fd)));
            }
        }
    }

    [Fact]
    public void NoiselessDataAreRecoveredExactly()
    {
        var (n, d, l) = Grid(Chinchilla, 0, new Rng(1));
        var (law, objective) = ScalingLawFit.Fit(n, d, l);
        Assert.True(objective < 1e-12, $"objective {objective}");
        var fit = law.ToArray();
        var truth = Chinchilla.ToArray();
        for (int k = 0; k < 5; k++) Assert.Equal(truth[k], fit[k], 1e-4 * Math.Abs(truth[k]));
    }

    [Fact]
    public void BootstrapIntervalsCoverTheTruth()
    {
        var (n, d, l) = Grid(Chinchilla, 0.01, new Rng(5));
        var est = ScalingLawFit.WithBootstrap(n, d, l, 40, new Rng(6));
        var truth = Chinchilla.ToArray();
        var fit = est.Fit.ToArray();
        for (int k = 0; k < 5; k++)
            Assert.True(Math.Abs(fit[k] - truth[k]) <= 4 * est.StdErr[k],
                $"{ScalingLaw.Names[k]}: fit {fit[k]} vs truth {truth[k]}, bootstrap SE {est.StdErr[k]}");
        Assert.InRange(Chinchilla.ParameterExponent, est.Fit.ParameterExponent - 4 * est.ExponentStdErr,
            est.Fit.ParameterExponent + 4 * est.ExponentStdErr);
    }

    /// <summary>N_opt(C) against a direct minimisation of L(N, C/(6N)) over N (Brent on the derivative of the log).</summary>
    [Fact]
    public void ComputeOptimalAllocationMinimisesTheLossAtFixedCompute()
    {
        const double c = 5.76e23;
        double Loss(double logN) => Chinchilla.Loss(Math.Exp(logN), c / (6 * Math.Exp(logN)));
        double best = RootFinding.Brent(x => (Loss(x + 1e-5) - Loss(x - 1e-5)) / 2e-5, Math.Log(1e8), Math.Log(1e13), 1e-10);
        Assert.Equal(best, Math.Log(Chinchilla.OptimalParameters(c)), 1e-4);
    }

    [Fact]
    public void BadTablesAreRefused()
    {
        var (n, d, l) = Grid(Chinchilla, 0, new Rng(1));
        Assert.Contains("Row 3", Assert.Throws<BadInputException>(() => ScalingLawFit.Validate(n, d, [.. l.Select((v, i) =>
            i == 2 ? -1 : v)])).Message);
        Assert.Contains("Row 1: N", Assert.Throws<BadInputException>(() => ScalingLawFit.Validate([.. n.Select((v, i) =>
            i == 0 ? double.NaN : v)], d, l)).Message);
        Assert.Contains("need ≥ 6", Assert.Throws<BadInputException>(() => ScalingLawFit.Validate(n[..5], d[..5], l[..5])).Message);
    }
}
