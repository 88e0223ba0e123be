using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Measurement.Ensembles;
using LearningMechanics.Numerics;

namespace LearningMechanics.Tests.Measurement.Ensembles;

public class ConditionalGaussianChainTests
{
    /// <remarks>
    /// The chain claims the exact law of real networks' output conditional kernels: means, covariances and third central
    /// moments of Ĝ over two independent samples (chain vs. full weight matrices) agree within 4 joint SE. Four inputs in
    /// d = 2 with σ_b² = 0 make the first kernel singular (rank 2), exercising the zero-pivot Cholesky.
    /// </remarks>
    [Theory]
    [InlineData("relu", 2.0, 0.0, 2)]
    [InlineData("tanh", 1.2, 0.1, 3)]
    public void ChainHasTheLawOfRealNetworks(string name, double sw2, double sb2, int d)
    {
        const int n = 12;
        const int depth = 2;
        const int m = 60_000;
        var x = Inputs.ToSphere(Synthetic.GaussianInputs(4, d, new Rng(2)));
        var spec = new MlpSpec(d, n, depth, Activation.Parse(name), sw2, sb2);
        var chain = ConditionalGaussianChain.OutputKernels(spec, m, x, new Rng(3));
        var real = ConditionalKernelEnsemble.Sample([spec], [n], m, x, new Rng(4), outputOnly: true)[0].Kc[0][0];
        void Agree(Func<double[], double[]> stat, string what)
        {
            for (int p = 0; p < chain.Length; p++)
            {
                var a = stat(chain[p]);
                var b = stat(real[p]);
                double se = Math.Sqrt(Math.Pow(Statistics.StandardError(a), 2) + Math.Pow(Statistics.StandardError(b), 2));
                Assert.True(Math.Abs(a.Average() - b.Average()) <= 4 * se,
                    $"{what} of pair {p}: chain {a.Average()}, networks {b.Average()} ± {se}");
            }
        }
        Agree(v => v, "mean");
        Agree(v => { double mu = v.Average(); return v.Select(t => (t - mu) * (t - mu)).ToArray(); }, "variance");
        Agree(v => { double mu = v.Average(); return v.Select(t => Math.Pow(t - mu, 3)).ToArray(); }, "third moment");
        // Cross-pair covariance of the first and last pair.
        double[] Cross(double[][] g)
        {
            double ma = g[0].Average();
            double mb = g[^1].Average();
            return g[0].Zip(g[^1]).Select(t => (t.First - ma) * (t.Second - mb)).ToArray();
        }
        var ca = Cross(chain);
        var cb = Cross(real);
        double seC = Math.Sqrt(Math.Pow(Statistics.StandardError(ca), 2) + Math.Pow(Statistics.StandardError(cb), 2));
        Assert.True(Math.Abs(ca.Average() - cb.Average()) <= 4 * seC,
            $"cross covariance: chain {ca.Average()}, networks {cb.Average()} ± {seC}");
    }
}
