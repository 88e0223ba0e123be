using LearningMechanics.Numerics;
using LearningMechanics.Theory.KernelRegime;

namespace LearningMechanics.Tests.Theory.KernelRegime;

/// <summary>
/// The pure functions of the activation-flip law (docs/notes/relu-flips.md): its Gaussian integrals, the flip probability,
/// and the slope and crossover of the two-part movement. Real networks are in Measurement/Observables/ActivationFlipMovementTests.
/// </summary>
public class ActivationFlipsTests
{
    [Theory]
    [InlineData(-0.9)]
    [InlineData(-0.3)]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(0.97)]
    public void GateSquareExpectationIsTheGaussianIntegral(double rho)
    {
        double quadrature = GaussLegendre.ExpectPairKinked(u => u > 0 ? 1 : 0, v => v > 0 ? v * v : 0, 1, rho, 1);
        Assert.Equal(quadrature, ActivationFlips.GateSquareExpectation(rho), 1e-9);
    }

    /// <summary>
    /// For a Gaussian shift δ ~ N(0, σ²) the exact sign-change probability is the orthant value arctan(σ/√q)/π; the first-order
    /// p(0)·E|δ| must agree to O(σ²/q), and a Monte Carlo count must agree with both within 4 SE.
    /// </summary>
    [Theory]
    [InlineData(0.001)]
    [InlineData(0.01)]
    [InlineData(0.1)]
    public void FlipProbabilityIsTheFirstOrderOfTheOrthantProbability(double ratio)
    {
        const double q = 2.1;
        double sigma = ratio * Math.Sqrt(q), exact = Math.Atan(ratio) / Math.PI;
        double first = ActivationFlips.FlipProbability(q, sigma * Math.Sqrt(2 / Math.PI));
        Assert.InRange(first / exact - 1, 0, ratio * ratio / 3 * 1.01 + 1e-12);
        const int samples = 1_000_000;
        var rng = new Rng(17);
        int flips = 0;
        for (int i = 0; i < samples; i++)
        {
            double z = Math.Sqrt(q) * rng.NextGaussian(), shifted = z + sigma * rng.NextGaussian();
            if (z > 0 != shifted > 0) flips++;
        }
        double p = (double)flips / samples, se = Math.Sqrt(exact * (1 - exact) / samples);
        Assert.True(Math.Abs(p - exact) <= 4 * se, $"Monte Carlo {p} vs arctan(σ/√q)/π = {exact} (SE {se:G3})");
    }

    [Fact]
    public void LocalSlopeRunsFromMinusOneToMinusAHalfThroughTheCrossover()
    {
        const double a = 0.02, b = 0.03;
        double crossover = ActivationFlips.Crossover(a, b);
        Assert.Equal(a * a / (b * b), crossover, 1e-15);
        Assert.Equal(-0.75, ActivationFlips.LocalSlope(crossover, a, b), 1e-12);
        Assert.Equal(-1, ActivationFlips.LocalSlope(1e-6 * crossover, a, b), 1e-5);
        Assert.Equal(-0.5, ActivationFlips.LocalSlope(1e6 * crossover, a, b), 1e-5);
        Assert.Equal(Math.Sqrt(2) * a / crossover, ActivationFlips.Movement(crossover, a, b), 1e-15);
        foreach (var alpha in new[] { 0.1, 1, 3, 30, 300 })
        {
            const double h = 1e-5;
            double numeric = (Math.Log(ActivationFlips.Movement(alpha * Math.Exp(h), a, b))
                - Math.Log(ActivationFlips.Movement(alpha * Math.Exp(-h), a, b))) / (2 * h);
            Assert.Equal(numeric, ActivationFlips.LocalSlope(alpha, a, b), 1e-8);
        }
    }

    /// <summary>A ∝ 1/n and B ∝ n^{−3/4} put the crossover at α_c ∝ n^{−1/2}: four times the width halves it.</summary>
    [Fact]
    public void CrossoverMovesAsTheInverseSquareRootOfTheWidth()
    {
        const double a0 = 10, b0 = 2.3;
        double At(int n) => a0 * Math.Pow(n, ActivationFlips.SmoothWidthExponent);
        double Bt(int n) => b0 * Math.Pow(n, ActivationFlips.FlipWidthExponent);
        double at128 = ActivationFlips.Crossover(At(128), Bt(128)), at512 = ActivationFlips.Crossover(At(512), Bt(512));
        Assert.Equal(at128 / 2, at512, 1e-12 * at128);
        Assert.Equal(at512, ActivationFlips.CrossoverAtWidth(at128, 128, 512), 1e-12 * at128);
        Assert.Throws<BadInputException>(() => ActivationFlips.Crossover(1, 0));
    }
}
