using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.FiniteWidth;
using LearningMechanics.Training;

namespace LearningMechanics.Tests.Theory.FiniteWidth;

public class NtkFluctuationsTests
{
    [Fact]
    public void ReluAtCriticalityMatchesTheHandSolvedRecursions()
    {
        // ReLU, C_W = 2, C_b = 0: K constant, χ∥ = χ⊥ = 1, h = 0, g = K/2, ⟨σ⁴⟩ = 3K²/2, ⟨σ²σ′²⟩ = K/2,
        // ⟨σ′⁴⟩ = 1/2, so Θ^ℓ = ℓK, V′ = V + 5K², F′ = F + 2KΘ, B′ = B + 2Θ², D′ = D + V′ + KΘ, A′ = A −
        // V′ + 2D′ + Θ².
        const double k = 1.3;
        var layers = NtkFluctuations.SingleInput(new(new Relu(), 2, 0), k / 2, 12);
        double theta = k;
        double v = 0;
        double a = 0;
        double b = 0;
        double d = 0;
        double f = 0;
        for (int l = 1; l <= 12; l++)
        {
            var q = layers[l - 1];
            Assert.Equal(k, q.K, 1e-12);
            Assert.Equal(theta, q.Theta, 1e-10 * theta);
            Assert.Equal(b, q.B, 1e-9 * Math.Max(1, b));
            Assert.Equal(f, q.F, 1e-9 * Math.Max(1, f));
            Assert.Equal(d, q.D, 1e-9 * Math.Max(1, d));
            Assert.Equal(a, q.A, 1e-9 * Math.Max(1, a));
            double vNext = v + 5 * k * k;
            double dNext = d + vNext + k * theta;
            a = a - vNext + 2 * dNext + theta * theta; b += 2 * theta * theta; f += 2 * k * theta; d = dNext; v = vNext; theta += k;
        }
        // Large depth: (A + 2B)/Θ² → (11/3)·ℓ (A ≈ (7/3)ℓ³K², B ≈ (2/3)ℓ³K²).
        var deep = NtkFluctuations.SingleInput(new(new Relu(), 2, 0), 1, 4001)[^1];
        Assert.Equal(11.0 / 3, deep.RelativeVariance(1) / 4001, 1e-2);
    }

    /// <remarks>
    /// The erf case (σ_w² = 2, σ_b² = 0.3, L = 4, n = 256, 20 000 networks) is chosen so that the h-dependent terms of
    /// eq. 9.21 move Var(Θ̂) by 10 %, more than the tolerance (≈ 5 % + 1.8 %): a sign error there fails the test.
    /// </remarks>
    [Theory]
    [InlineData("relu", 2.0, 0.1, 64, 2, 4000)]
    [InlineData("tanh", 1.0, 0.1, 64, 3, 4000)]
    [InlineData("erf", 2.0, 0.3, 256, 3, 20000)]
    public void NtkVarianceAndOutputCovarianceMatchMonteCarloNetworks(string actName, double sw2, double sb2, int n, int depth, int m)
    {
        var act = Activation.Parse(actName);
        var q = NtkFluctuations.SingleInput(new(act, sw2, sb2), 1.0, depth + 1)[^1];
        var spec = new MlpSpec(8, n, depth, act, sw2, sb2).ToNetworkSpec();
        var x = Inputs.ToSphere(TestData.RandomMatrix(1, 8, 3));
        var th = new double[m];
        var z2 = new double[m];
        Blas.SingleThreaded(() => Parallel.For(0, m, () =>
        {
            var net = new Network<double>(spec, 8);
            return (net, new EmpiricalNtk(net, 1));
        }, (i, _, local) =>
        {
            local.net.Initialize(new Rng(11).Split((ulong)i));
            th[i] = local.Item2.Compute(x)[0, 0];
            double f = Trainer<double>.Predict(local.net, x)[0, 0];
            z2[i] = f * f;
            return local;
        }, _ => { }));
        double mean = th.Average();
        double var = Statistics.Variance(th);
        double varSe = Math.Sqrt((th.Select(t => Math.Pow(t - mean, 4)).Average() - var * var) / m);
        double mz = z2.Average();
        var prod = th.Zip(z2).Select(p => (p.First - mean) * (p.Second - mz)).ToArray();
        double rel = q.RelativeVariance(n);
        // Tolerance: 4·SE plus the next order, whose relative size is the leading relative variance itself.
        Assert.True(Math.Abs(var - q.Variance(n)) <= 4 * varSe + rel * q.Variance(n),
            $"Var(Θ̂): measured {var} ± {varSe}, predicted {q.Variance(n)}");
        Assert.True(
            Math.Abs(prod.Average() - q.CrossCovariance(n)) <= 4 * Statistics.StandardError(prod) + rel * Math.Abs(q.CrossCovariance(n)),
            $"Cov(Θ̂, z²): measured {prod.Average()} ± {Statistics.StandardError(prod)}, predicted {q.CrossCovariance(n)}");
        Assert.True(Math.Abs(mean - q.Theta) <= 4 * Math.Sqrt(var / m) + rel * q.Theta, $"E[Θ̂] {mean} vs frozen Θ {q.Theta}");
    }

    [Fact]
    public void TheNtkMeanShiftsByHOneOverNAsDerived()
    {
        // tanh at criticality, n = 16, L = 5: H¹/n = −0.0128 (1.8 % of Θ), 8 standard errors with 40 000 networks.
        var act = new Tanh();
        const int n = 16;
        const int depth = 4;
        const int m = 40000;
        var q = NtkFluctuations.SingleInput(new(act, 1, 0), 1, depth + 1)[^1];
        var spec = new MlpSpec(8, n, depth, act, 1, 0).ToNetworkSpec();
        var x = Inputs.ToSphere(TestData.RandomMatrix(1, 8, 4));
        var th = new double[m];
        Blas.SingleThreaded(() => Parallel.For(0, m, () =>
        {
            var net = new Network<double>(spec, 8);
            return (net, new EmpiricalNtk(net, 1));
        }, (i, _, local) =>
        {
            local.net.Initialize(new Rng(13).Split((ulong)i));
            th[i] = local.Item2.Compute(x)[0, 0];
            return local;
        }, _ => { }));
        double mean = th.Average();
        double se = Statistics.StandardError(th);
        double shift = q.H1 / n;
        double tolerance = 4 * se + Math.Abs(shift) * q.RelativeVariance(n);
        Assert.True(tolerance < Math.Abs(shift), "the test must be able to tell H¹ from 0");
        Assert.True(Math.Abs(mean - q.Mean(n)) <= tolerance, $"E[Θ̂] = {mean} ± {se}; predicted Θ + H¹/n = {q.Mean(n)} (Θ = " +
            $"{q.Theta})");
    }
}
