using LearningMechanics.Architecture;
using LearningMechanics.Numerics;

namespace LearningMechanics.Measurement.Ensembles;

/// <summary>
/// Exact sampling of an MLP's preactivations on a fixed set of m inputs without drawing weight matrices. Given layer ℓ,
/// the next layer's preactivations z^{(ℓ+1)}_{i;·} are i.i.d. over neurons i and exactly Gaussian with the conditional
/// kernel Ĝ^{(ℓ+1)}_{ab} = C_b + (C_W/n)Σ_j σ(z^{(ℓ)}_{j;a})σ(z^{(ℓ)}_{j;b}) (Roberts &amp; Yaida 2022, eq. 4.70; the first
/// layer's K^{(1)} = C_b + C_W·x_a·x_b/d is deterministic, §4.1). So the chain of m×m kernels Ĝ^{(1)} → Ĝ^{(2)} → … is sampled
/// by drawing n Gaussian m-vectors per layer: O(L·n·m) work per network instead of O(L·n²), with the same distribution as
/// <see cref="ConditionalKernelEnsemble"/>'s real networks (the tests compare the two). Network i draws from stream
/// <c>root.Split(i)</c>.
/// </summary>
public static class ConditionalGaussianChain
{
    /// <summary>The output layer's conditional kernel K̂[pair][net] (pairs in <see cref="ConditionalKernelEnsemble.Pairs"/>
    /// order) for <paramref name="nets"/> draws of <paramref name="spec"/> on the rows of <paramref name="x"/>.</summary>
    public static double[][] OutputKernels(MlpSpec spec, int nets, Matrix x, Rng root, string stage = "networks",
        IProgress<ProgressInfo>? progress = null, CancellationToken cancellation = default)
    {
        int m = x.Rows;
        int n = spec.Width;
        int d = x.Cols;
        var pairs = ConditionalKernelEnsemble.Pairs(m);
        var first = new double[m * m];
        for (int a = 0; a < m; a++)
            for (int b = 0; b < m; b++)
            {
                double s = 0;
                for (int c = 0; c < d; c++) s += x[a, c] * x[b, c];
                first[a * m + b] = spec.Sb2 + spec.Sw2 * s / d;
            }
        var result = pairs.Select(_ => new double[nets]).ToArray();
        long done = 0;
        var act = spec.Activation;
        Parallel.For(0, nets, Parallelism.Options(cancellation),
            () => (G: new double[m * m], L: new double[m * m], Xi: new double[m], Z: new double[m], Phi: new double[m]),
            (i, _, buf) =>
            {
                var rng = root.Split((ulong)i);
                Array.Copy(first, buf.G, first.Length);
                for (int layer = 0; layer < spec.Depth; layer++)
                {
                    ManagedLapack.SemidefiniteCholesky(buf.G, buf.L, m, 1e-13);
                    Array.Clear(buf.G);
                    for (int j = 0; j < n; j++)
                    {
                        for (int a = 0; a < m; a++) buf.Xi[a] = rng.NextGaussian();
                        for (int a = 0; a < m; a++)
                        {
                            double z = 0;
                            for (int c = 0; c <= a; c++) z += buf.L[a * m + c] * buf.Xi[c];
                            buf.Phi[a] = act.Apply(z);
                        }
                        for (int a = 0; a < m; a++)
                        {
                            double pa = buf.Phi[a];
                            for (int b = a; b < m; b++) buf.G[a * m + b] += pa * buf.Phi[b];
                        }
                    }
                    for (int a = 0; a < m; a++)
                        for (int b = a; b < m; b++) buf.G[a * m + b] = buf.G[b * m + a] = spec.Sb2 + spec.Sw2 * buf.G[a * m + b] / n;
                }
                for (int q = 0; q < pairs.Length; q++) result[q][i] = buf.G[pairs[q].I * m + pairs[q].J];
                long now = Interlocked.Increment(ref done);
                if (now % 4096 == 0) progress?.Report(new ProgressInfo(stage, now, nets));
                return buf;
            }, _ => { });
        return result;
    }
}
