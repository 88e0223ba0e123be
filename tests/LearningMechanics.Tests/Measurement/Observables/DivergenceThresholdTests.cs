using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Tests.Measurement.Observables;

/// <summary>Bisection of the divergence learning rate: its bracket arithmetic, and a model whose answer is known exactly.</summary>
public class DivergenceThresholdTests
{
    [Fact]
    public void BisectionHalvesTheLogBracketAroundTheSwitchPoint()
    {
        int calls = 0;
        var b = DivergenceThreshold.Bisect(x => { calls++; return x >= 3.7; }, 1, 16, 10);
        Assert.True(b.Bracketed);
        Assert.InRange(3.7, b.Lower, b.Upper);
        Assert.Equal(Math.Pow(16, 1.0 / 1024), b.Upper / b.Lower, 1e-12);
        Assert.Equal(Math.Pow(16, 1.0 / 2048) - 1, b.Resolution, 1e-12);
        Assert.Equal(2 + 10, calls);
    }

    [Theory]
    [InlineData(100.0, 7, true, 0)]
    [InlineData(100.0, 2, false, 8.0)]
    [InlineData(0.01, 2, false, 0.25)]
    [InlineData(0.3, 2, true, 0)]
    public void BisectionMovesTheBracketUntilItHoldsTheSwitchPoint(double at, int expansions, bool bracketed, double censoredAt)
    {
        var b = DivergenceThreshold.Bisect(x => x >= at, 1, 2, 6, expansions);
        Assert.Equal(bracketed, b.Bracketed);
        if (bracketed) Assert.InRange(at, b.Lower, b.Upper);
        else { Assert.Equal(censoredAt, b.Lower); Assert.Equal(censoredAt, b.Upper); }
    }

    /// <summary>N points on the sphere in 5 dimensions with targets from a tanh teacher.</summary>
    private static Dataset Data(int count) =>
        Teacher.Label(Synthetic.Sphere(count, 5, new Rng(11)), "dense(8)-tanh-dense(1)", new Rng(12), sw2: 2);

    [Fact]
    public void ALinearModelDivergesAtItsLinearThreshold()
    {
        // f = w·x/√d + σ_b·b is linear in its parameters: GD on MSE is exactly r ← (I − (2η/N)Θ)r with constant Θ. Below
        // η_crit = N/λ_max every mode decays, so the loss falls: η_div ≥ η_crit. Above, the top mode grows by
        // (2η/η_crit − 1)^{2T} in T steps, so once it exceeds 1/p (p: its share of the initial loss) the final loss is above the
        // initial one: η_div ≤ η_crit·(1 + ((1/p)^{1/(2T)} − 1)/2).
        var train = Data(16);
        var net = new Network<double>(NetworkSpec.Parse("dense(1)", Parameterization.Ntk, 2, 0.1), train.InputDim);
        net.Initialize(new Rng(5));
        var theta = new EmpiricalNtk(net, train.Count).Compute(train.X);
        var residual = Trainer<double>.Predict(net, train.X);
        for (int i = 0; i < train.Count; i++) residual[i, 0] -= train.Y[i, 0];
        var (values, vectors) = Lapack.SymmetricEigen(theta);
        double top = 0, all = residual.Data.Sum(v => v * v);
        for (int i = 0; i < train.Count; i++) top += vectors[i, train.Count - 1] * residual[i, 0];
        const int steps = 100;
        double excess = (Math.Pow(all / (top * top), 1.0 / (2 * steps)) - 1) / 2;
        Assert.InRange(excess, 1e-4, 0.02);

        var r = DivergenceThreshold.Measure(net, train, theta, new DivergenceSearch(steps, Halvings: 14));
        Assert.Equal(train.Count / values[^1], r.CriticalLearningRate, 1e-12 * r.CriticalLearningRate);
        Assert.True(r.Bracket.Bracketed);
        Assert.True(r.Bracket.Upper >= r.CriticalLearningRate, $"diverged at {r.Bracket.Upper / r.CriticalLearningRate}·η_crit < " +
            $"η_crit");
        Assert.True(r.Bracket.Lower <= r.CriticalLearningRate * (1 + excess),
            $"stable at {r.Bracket.Lower / r.CriticalLearningRate}·η_crit > 1 + {excess}");
        Assert.True(r.Bracket.Resolution < 1e-3);
    }

    [Fact]
    public void EnsembleMeasuresEachNetworkAgainstItsOwnThreshold()
    {
        var train = Data(12);
        var spec = NetworkSpec.Parse("dense(16)-tanh-dense(1)", Parameterization.Ntk, 2, 0.1);
        var search = new DivergenceSearch(30, Halvings: 4);
        var root = new Rng(21);
        var result = DivergenceThreshold.Ensemble(spec, train, 3, root, 9, search);
        var again = DivergenceThreshold.Ensemble(spec, train, 3, new Rng(21), 9, search);
        // Same seed, same ratios, to rounding: OpenBLAS's thread count is process-wide and other tests running at the same
        // time change it (Blas.SingleThreaded), which can move the last bit of an eigenvalue (seen once: 4e-16 relative).
        Assert.Equal(result.Ratios.Length, again.Ratios.Length);
        foreach (var (a, b) in result.Ratios.Zip(again.Ratios)) Assert.Equal(a, b, 1e-12 * Math.Abs(a));
        Assert.Equal([0, 1, 2], result.Networks.Select(r => r.Net));
        for (int i = 0; i < 3; i++)
        {
            var net = new Network<double>(spec, train.InputDim);
            net.Initialize(root.Split((ulong)i, 9));
            var theta = new EmpiricalNtk(net, train.Count).Compute(train.X);
            double own = train.Count / Lapack.SymmetricEigen(theta).Values[^1];
            Assert.Equal(own, result.Networks[i].CriticalLearningRate, 1e-9 * own);
        }
        Assert.NotEqual(result.Networks[0].CriticalLearningRate, result.Networks[1].CriticalLearningRate);
        Assert.Equal(Statistics.Mean(result.Ratios), result.MeanRatio, 1e-15);
        Assert.Equal(Statistics.StandardError(result.Ratios), result.StandardError, 1e-15);
        Assert.Equal(Math.Pow(16, 1.0 / 32) - 1, result.Resolution, 1e-12);
    }
}
