using LearningMechanics.Architecture;
using LearningMechanics.Lab;
using LearningMechanics.Measurement.Ensembles;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.FiniteWidth;

namespace LearningMechanics.Tests.Measurement.Ensembles;

public class ResidualChainTests
{
    /// <remarks>
    /// The chain claims the exact law of residual networks: K and n·Cov(z_i², z_k²)/K² at the last hidden layer of
    /// explicit-weight networks dense(n)-[res(φ-dense(n),1,γ)]×5-dense(1) built by <see cref="Network{T}"/> agree with the
    /// chain's within 4 joint SE. Width 16, where the finite-width effects are large; the bias C_b = 0.1 in the tanh case.
    /// </remarks>
    [Theory]
    [InlineData("relu", 0.5, 0.0)]
    [InlineData("tanh", 0.25, 0.1)]
    public void ChainHasTheLawOfExplicitWeightResidualNetworks(string name, double gamma2, double cb)
    {
        const int n = 16;
        const int blocks = 5;
        const int nets = 60_000;
        const int batches = 60;
        var act = Activation.Parse(name);
        double gamma = Math.Sqrt(gamma2);
        double cw = OptimalAspectRatio.ResidualCriticalWeightVariance(act, gamma);
        string arch = $"dense({n})-" + string.Join("-", Enumerable.Repeat($"res({name}-dense({n}),1,{gamma:R})", blocks)) +
            "-dense(1,sw2=1)";
        var spec = NetworkSpec.Parse(arch, Parameterization.Ntk, cw, cb);
        var x = LearningMechanics.Data.Inputs.ToSphere(TestData.RandomMatrix(1, 8, 2));   // x·x/d = 1
        var m = new double[batches][];
        var p = new double[batches][];
        Blas.SingleThreaded(() => Parallel.For(0, batches, b =>
        {
            var net = new Network<double>(spec, 8);
            (m[b], p[b]) = (new double[1], new double[1]);
            for (int i = b * nets / batches; i < (b + 1) * nets / batches; i++)
            {
                net.Initialize(new Rng(7).Split((ulong)i));
                var z = Representations.Penultimate(net, x).Data;
                double s2 = z.Sum(v => v * v);
                double s4 = z.Sum(v => v * v * v * v);
                m[b][0] += s2 / n;
                p[b][0] += (s2 * s2 - s4) / (n * (n - 1.0));
            }
        }));
        var real = new ResidualChainDraws(n, 1, [.. Enumerable.Repeat(nets / batches, batches)], m, p);
        var chain = ResidualChain.Sample(new(act, cw, cb), gamma, 1, n, blocks + 1, nets, new Rng(8), batches);
        void Agree((double Value, double Se) a, (double Value, double Se) b, string what)
        {
            double se = Math.Sqrt(a.Se * a.Se + b.Se * b.Se);
            Assert.True(se < 0.05 * Math.Abs(b.Value), $"{what}: SE {se} too large to test {b.Value}");
            Assert.True(Math.Abs(a.Value - b.Value) <= 4 * se, $"{what}: chain {a.Value}, networks {b.Value} ± {se}");
        }
        Agree(chain.Variance(blocks + 1), real.Variance(1), "K");
        Agree(chain.NormalisedVertex(blocks + 1), real.NormalisedVertex(1), "n·Cov/K²");
    }

    /// <remarks>
    /// Widths 128, 256, 512 extrapolated in 1/n (a + b/n): ReLU at γ² = 0.5, ℓ = 6, where the corrected recursion gives
    /// V/K² = 18.39 and the book's B.26 gives 11.25. The chain must land on the first within 4 SE and rule out the second.
    /// </remarks>
    [Fact]
    public void ChainExtrapolatesToTheCorrectedRecursionAndRulesOutB26()
    {
        const int depth = 6;
        var act = new Relu();
        double gamma = Math.Sqrt(0.5);
        var init = new Initialization(act, OptimalAspectRatio.ResidualCriticalWeightVariance(act, gamma), 0);
        int[] widths = [128, 256, 512];
        var est = widths.Select((n, w) => ResidualChain.Sample(init, gamma, 1, n, depth, 40_000, new Rng(11).Split((ulong)w))
            .NormalisedVertex(depth)).ToArray();
        var fit = ScalingFits.Extrapolate([.. widths.Select(n => (double)n)], [.. est.Select(e => e.Value)], [.. est.Select(e => e.Se)]);
        double corrected = FourPointVertex.SingleInput(init, 1, depth, gamma)[^1].NormalisedVertex;
        double book = FourPointVertex.SingleInput(init, 1, depth, gamma, book: true)[^1].NormalisedVertex;
        Assert.True(Math.Abs(fit.A - corrected) <= 4 * fit.SeA, $"V/K² = {fit.A} ± {fit.SeA}, corrected recursion {corrected}");
        Assert.True(Math.Abs(fit.A - book) > 4 * fit.SeA, $"V/K² = {fit.A} ± {fit.SeA} does not rule out B.26's {book}");
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        var init = new Initialization(new Relu(), 1, 0);
        Assert.Throws<BadInputException>(() => ResidualChain.Sample(init, 0.5, 1, 1, 3, 1000, new Rng(1)));
        Assert.Throws<BadInputException>(() => ResidualChain.Sample(init, 1.0, 1, 16, 3, 1000, new Rng(1)));
        Assert.Throws<BadInputException>(() => ResidualChain.Sample(init, 0.5, 1, 16, 3, 10, new Rng(1)));
    }
}
