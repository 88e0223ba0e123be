using LearningMechanics.Architecture;
using LearningMechanics.Measurement.Ensembles;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.FiniteWidth;
using Xunit.Abstractions;

namespace LearningMechanics.Tests.Theory.FiniteWidth;

public class MultiInputVertexTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("relu", 2.0, 0.0)]
    [InlineData("tanh", 1.3, 0.2)]
    [InlineData("erf", 1.0, 0.1)]
    public void OneInputIsTheSingleInputRecursion(string name, double sw2, double sb2)
    {
        var act = Activation.Parse(name);
        var multi = MultiInputVertex.Compute(new(act, sw2, sb2), new Matrix(1, 1, [1.1]), 6);
        var single = FourPointVertex.SingleInput(new(act, sw2, sb2), 1.1, 6);
        for (int l = 0; l < 6; l++)
        {
            Assert.Equal(single[l].K, multi[l].K[0], 1e-12 * single[l].K);
            Assert.Equal(single[l].V, multi[l].V[0, 0], 1e-9 * Math.Max(1, single[l].V));
            Assert.Equal(single[l].G1, multi[l].G1[0], 1e-9 * Math.Max(1, Math.Abs(single[l].G1)));
        }
    }

    /// <summary>Three inputs on the sphere in d = 3 (pairwise cosines 0.5, −0.2, 0.3).</summary>
    private static Matrix ThreeInputs()
    {
        var x = new Matrix(3, 3, [1, 0, 0, 0.5, Math.Sqrt(0.75), 0, -0.2, 0, 0]);
        // Third input: cosine −0.2 with the first and 0.3 with the second, unit norm.
        double b = (0.3 - 0.5 * -0.2) / Math.Sqrt(0.75);
        x[2, 1] = b; x[2, 2] = Math.Sqrt(1 - 0.04 - b * b);
        for (int i = 0; i < 9; i++) x.Data[i] *= Math.Sqrt(3);   // x·x/d = 1
        return x;
    }

    /// <remarks>
    /// Monte Carlo route through real networks: the output layer's conditional kernel
    /// Ĝ_{ab} = C_b + C_W·(1/n)Σ_j σ(z_{j;a})σ(z_{j;b}) has E[Ĝ_p] = K_p + G¹_p/n and Cov(Ĝ_p, Ĝ_q) = V_{pq}/n to order 1/n
    /// (Roberts &amp; Yaida 2022, eqs. 4.70, 4.76, 4.104). Three distinct inputs exercise the three-input integrals of eq. 4.90.
    /// The next order is taken of relative size max_p V_pp/(nK_p²) of the typical entry √(V_pp V_qq) (a small entry from a
    /// cancellation keeps the absolute next-order term of its neighbours: at n = 24 → 96 the tanh entry V_(00)(22) moves
    /// from 3× to 1.4× its prediction, as 1/n).
    /// </remarks>
    [Theory]
    [InlineData("relu", 2.0, 0.0, 64, 20_000)]
    [InlineData("tanh", 1.0, 0.05, 12, 100_000)]
    public void ThreeInputVertexAndMetricMatchNetworks(string name, double sw2, double sb2, int n, int m)
    {
        const int depth = 3;
        var act = Activation.Parse(name);
        var x = ThreeInputs();
        var theory = MultiInputVertex.Compute(new(act, sw2, sb2), LearningMechanics.Data.Inputs.Gram(x), depth + 1)[^1];
        var spec = new MlpSpec(3, n, depth, act, sw2, sb2);
        var g = ConditionalKernelEnsemble.Sample([spec], [n], m, x, new Rng(31), outputOnly: true)[0].Kc[0][0];
        var pairs = ConditionalKernelEnsemble.Pairs(3);
        double relNext = Enumerable.Range(0, pairs.Length).Max(p => theory.V[p, p] / (n * theory.K[p] * theory.K[p]));
        for (int p = 0; p < pairs.Length; p++)
        {
            int tp = theory.PairIndex(pairs[p].I, pairs[p].J);
            double shift = (g[p].Average() - theory.K[tp]) * n;
            double shiftSe = Statistics.StandardError(g[p]) * n;
            output.WriteLine($"G1 {pairs[p]}: measured {shift:F4} ± {shiftSe:F4}, predicted {theory.G1[tp]:F4}");
            Assert.True(Math.Abs(shift - theory.G1[tp]) <= 4 * shiftSe + Math.Abs(theory.G1[tp]) * relNext,
                $"G¹ {pairs[p]}: measured {shift} ± {shiftSe}, predicted {theory.G1[tp]}");
            for (int q = p; q < pairs.Length; q++)
            {
                int tq = theory.PairIndex(pairs[q].I, pairs[q].J);
                double mp = g[p].Average();
                double mq = g[q].Average();
                var prod = g[p].Zip(g[q]).Select(t => (t.First - mp) * (t.Second - mq) * n).ToArray();
                double measured = prod.Average();
                double se = Statistics.StandardError(prod);
                double predicted = theory.V[tp, tq];
                output.WriteLine($"V {pairs[p]}{pairs[q]}: measured {measured:F4} ± {se:F4}, predicted {predicted:F4}");
                double model = Math.Sqrt(theory.V[tp, tp] * theory.V[tq, tq]) * relNext;
                Assert.True(Math.Abs(measured - predicted) <= 4 * se + model,
                    $"V {pairs[p]}{pairs[q]}: measured {measured} ± {se}, predicted {predicted}");
            }
        }
    }
}
