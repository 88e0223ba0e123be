using LearningMechanics.Architecture;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;

namespace LearningMechanics.Measurement.Ensembles;

/// <summary>Raw ensemble draws at one width: conditional kernels K̂[spec][depth−1][pair][net] (only the output layer's, at index 0,
/// when sampled with <c>outputOnly</c>) and sampled outputs z[spec][net] at input 0.</summary>
public sealed record WidthDraws(int Width, double[][][][] Kc, double[][] Z);

/// <summary>
/// Ensembles of real random MLPs measured through their conditional kernels. Given the last hidden layer φ(z^ℓ), the
/// readout z = (σ_w/√n)·w·φ + σ_b·b is exactly Gaussian with covariance K̂(x, x′) = σ_b² +
/// σ_w²·φ(z^ℓ(x))·φ(z^ℓ(x′))/n, so E[z z′] = E[K̂] and E[z⁴] = 3E[K̂²] exactly: averaging K̂ (Rao–Blackwellisation)
/// measures covariances and kurtosis with far smaller errors than raw outputs, at every depth ℓ ≤ L of one network. All specs share
/// each weight draw (same layer shapes, their own activation and σ's), and network i at width index w draws from stream (i, w) of the
/// root generator, so results do not depend on thread scheduling.
/// </summary>
public static class ConditionalKernelEnsemble
{
    /// <summary>All pairs (i ≤ j) of <paramref name="p"/> inputs, in row order: the theory's pair layout
    /// (<see cref="LearningMechanics.Theory.FiniteWidth.MultiInputVertex.Pairs"/>), so measured and predicted pairs line up.</summary>
    public static (int I, int J)[] Pairs(int p) => LearningMechanics.Theory.FiniteWidth.MultiInputVertex.Pairs(p);

    public static WidthDraws[] Sample(MlpSpec[] specs, int[] widths, int nets, Matrix x, Rng root, bool outputOnly = false,
        IProgress<ProgressInfo>? progress = null, CancellationToken cancellation = default)
    {
        int depth = specs[0].Depth;
        int nSpecs = specs.Length;
        int kept = outputOnly ? 1 : depth;
        var pairs = Pairs(x.Rows);
        long total = widths.Sum(n => (long)nets * n * n);
        long done = 0;
        var result = new WidthDraws[widths.Length];
        Blas.SingleThreaded(() =>
        {
            for (int wi = 0; wi < widths.Length; wi++)
            {
                int n = widths[wi];
                int wIndex = wi;
                var kc = Enumerable.Range(0, nSpecs).Select(_ => Enumerable.Range(0, kept).Select(_ =>
                    Enumerable.Range(0, pairs.Length).Select(_ => new double[nets]).ToArray()).ToArray()).ToArray();
                var z = Enumerable.Range(0, nSpecs).Select(_ => new double[nets]).ToArray();
                Parallel.For(0, nets, Parallelism.Options(cancellation),
                    () => new Worker(specs, n, x.Rows),
                    (i, _, worker) =>
                    {
                        worker.Draw(root.Split((ulong)i, (ulong)wIndex), x, pairs, kc, z, i);
                        long now = Interlocked.Add(ref done, (long)n * n);
                        if (i % 64 == 0) progress?.Report(new ProgressInfo($"width {n}", now, total));
                        return worker;
                    },
                    _ => { });
                result[wi] = new WidthDraws(n, kc, z);
            }
        });
        progress?.Report(new ProgressInfo("networks", total, total));
        return result;
    }

    /// <summary>Per-thread buffers: one parameter set shared by all specs, one workspace per spec.</summary>
    private sealed class Worker
    {
        private readonly Mlp[] nets;
        private readonly Mlp.Workspace[] ws;
        private readonly double[] gram;
        private readonly int p;

        public Worker(MlpSpec[] specs, int width, int inputs)
        {
            var shared = new Mlp(specs[0] with { Width = width });
            nets = specs.Select(sp => shared.SharingParameters(sp with { Width = width })).ToArray();
            ws = nets.Select(m => m.CreateWorkspace(inputs)).ToArray();
            p = inputs;
            gram = new double[inputs * inputs];
        }

        public void Draw(Rng rng, Matrix x, (int I, int J)[] pairs, double[][][][] kc, double[][] z, int index)
        {
            nets[0].Initialize(rng);
            for (int a = 0; a < nets.Length; a++)
            {
                var spec = nets[a].Spec;
                z[a][index] = nets[a].Forward(x, ws[a])[0, 0];
                int kept = kc[a].Length;
                for (int l = spec.Depth - kept; l < spec.Depth; l++)
                {
                    Blas.Syrk(p, spec.Width, spec.Sw2 / spec.Width, ws[a].Post[l].Data, spec.Width, 0.0, gram, p);
                    for (int q = 0; q < pairs.Length; q++)
                        kc[a][l - (spec.Depth - kept)][q][index] = spec.Sb2 + gram[pairs[q].I * p + pairs[q].J];
                }
            }
        }
    }

    /// <summary>Excess kurtosis of the output from conditional variances: κ = 3(E[K̂²]/E[K̂]² − 1), SE by the delta
    /// method.</summary>
    public static (double Kappa, double StdErr) Kurtosis(ReadOnlySpan<double> k)
    {
        int m = k.Length;
        double m1 = 0;
        double m2 = 0;
        foreach (var v in k) { m1 += v; m2 += v * v; }
        m1 /= m; m2 /= m;
        double v11 = 0;
        double v12 = 0;
        double v22 = 0;
        foreach (var v in k)
        {
            double a = v - m1;
            double b = v * v - m2;
            v11 += a * a; v12 += a * b; v22 += b * b;
        }
        v11 /= m - 1; v12 /= m - 1; v22 /= m - 1;
        double g1 = -6 * m2 / (m1 * m1 * m1);
        double g2 = 3 / (m1 * m1);
        double var = (g1 * g1 * v11 + 2 * g1 * g2 * v12 + g2 * g2 * v22) / m;
        return (3 * (m2 / (m1 * m1) - 1), Math.Sqrt(Math.Max(var, 0)));
    }
}
