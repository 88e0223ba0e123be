using LearningMechanics.Architecture;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.FiniteWidth;

namespace LearningMechanics.Tests.Theory.FiniteWidth;

public class PairVertexTests
{
    [Theory]
    [InlineData("relu", 2.0, 0.0)]
    [InlineData("tanh", 1.3, 0.2)]
    [InlineData("erf", 1.0, 0.1)]
    public void IdenticalInputsReduceToTheSingleInputRecursion(string name, double sw2, double sb2)
    {
        var act = Activation.Parse(name);
        var pair = PairVertex.Compute(new(act, sw2, sb2), 1.1, 1.1, 1.1, 6);
        var single = FourPointVertex.SingleInput(new(act, sw2, sb2), 1.1, 6);
        for (int l = 0; l < 6; l++)
            for (int p = 0; p < 3; p++)
            {
                Assert.Equal(single[l].K, pair[l].K[p], 1e-9 * single[l].K);
                for (int q = 0; q < 3; q++) Assert.Equal(single[l].V, pair[l].V[p, q], 1e-6 * Math.Max(1e-3, single[l].V));
            }
    }

    /// <remarks>
    /// Monte Carlo route: given the last hidden layer, the output layer's conditional kernel is
    /// Ĝ_{ab} = C_b + C_W·(1/n)Σ_j σ(z_{j;a})σ(z_{j;b}), and V_{(p)(q)}/n = Cov(Ĝ_p, Ĝ_q) over initialisations
    /// (Roberts &amp; Yaida 2022, eqs. 4.70, 4.76).
    /// </remarks>
    [Theory]
    [InlineData("relu", 2.0, 0.0, 0.6)]
    [InlineData("tanh", 1.0, 0.05, -0.4)]
    public void PairVertexMatchesTheCovarianceOfConditionalKernelsOfNetworks(string name, double sw2, double sb2, double cosine)
    {
        const int n = 64;
        const int depth = 3;
        const int m = 6000;
        var act = Activation.Parse(name);
        // Two inputs on the sphere with the given cosine.
        var x = new Matrix(2, 16);
        for (int j = 0; j < 16; j++)
        {
            x[0, j] = j == 0 ? 4 : 0;
            x[1, j] = j == 0 ? 4 * cosine : j == 1 ? 4 * Math.Sqrt(1 - cosine * cosine) : 0;
        }
        var theory = PairVertex.Compute(new(act, sw2, sb2), 1, cosine, 1, depth + 1)[^1];
        var spec = new MlpSpec(16, n, depth, act, sw2, sb2).ToNetworkSpec();
        var g = new double[3][];
        for (int p = 0; p < 3; p++) g[p] = new double[m];
        Blas.SingleThreaded(() => Parallel.For(0, m, () => new Network<double>(spec, 16), (i, _, net) =>
        {
            net.Initialize(new Rng(21).Split((ulong)i));
            var h = Representations.Penultimate(net, x);
            double saa = 0;
            double sab = 0;
            double sbb = 0;
            for (int j = 0; j < n; j++) { saa += h[0, j] * h[0, j]; sab += h[0, j] * h[1, j]; sbb += h[1, j] * h[1, j]; }
            g[0][i] = sb2 + sw2 * saa / n; g[1][i] = sb2 + sw2 * sab / n; g[2][i] = sb2 + sw2 * sbb / n;
            return net;
        }, _ => { }));
        for (int p = 0; p < 3; p++)
            for (int q = p; q < 3; q++)
            {
                double mp = g[p].Average();
                double mq = g[q].Average();
                var prod = g[p].Zip(g[q]).Select(t => (t.First - mp) * (t.Second - mq) * n).ToArray();
                double measured = prod.Average();
                double se = Statistics.StandardError(prod);
                double predicted = theory.V[p, q];
                // Next order: relative size V/(nK²) of the leading term.
                double model = Math.Abs(predicted) * theory.V[p, p] / (n * theory.K[p] * theory.K[p]);
                Assert.True(Math.Abs(measured - predicted) <= 4 * se + model,
                    $"V[{p},{q}]: measured {measured} ± {se}, predicted {predicted}");
            }
    }
}
