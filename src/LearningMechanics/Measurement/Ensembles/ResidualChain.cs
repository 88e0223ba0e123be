using System.Numerics.Tensors;
using LearningMechanics.Architecture;
using LearningMechanics.Numerics;

namespace LearningMechanics.Measurement.Ensembles;

/// <summary>
/// Exact sampling of a residual MLP's preactivations on one input without weight matrices (docs/notes/residual-vertex.md §1).
/// Layer 1 is dense, z¹_i = √K¹ ξ_i with K¹ = C_b + C_W·x·x/d; every later layer is a residual step
/// z′_i = γ z_i + Σ_j W_ij σ(z_j) + b_i with fresh W ~ N(0, C_W/n), b ~ N(0, C_b) (Roberts &amp; Yaida 2022, App. B, eq. B.1).
/// Given layer ℓ the branch Σ_j W_ij σ(z_j) + b_i is exactly N(0, Ĝ) and independent over i, with
/// Ĝ = C_b + (C_W/n)Σ_j σ(z_j)², so z′ = γz + √Ĝ ξ: O(n) work per layer and network instead of O(n²), with each neuron's own
/// history γz kept (the tests compare it with explicit-weight networks built by <c>Network</c>).
/// </summary>
/// <remarks>
/// Per network and layer it records m = S₂/n and the all-pairs estimator P = (S₂² − S₄)/(n(n − 1)) of E[z_i²z_k²], i ≠ k
/// (S_p = Σ_i z_iᵖ), summed over <see cref="ResidualChainDraws.Batches"/> batches of networks for a jackknife. Network i
/// draws from stream <c>root.Split(i)</c>, so a result does not depend on the thread count.
/// </remarks>
public static class ResidualChain
{
    /// <summary>Batches of networks in the jackknife.</summary>
    public const int DefaultBatches = 64;

    /// <summary>Layers 1…<paramref name="layers"/> of <paramref name="nets"/> residual networks of width
    /// <paramref name="width"/> with identity scale <paramref name="gamma"/> (γ = 0: the plain MLP) on an input with
    /// x·x/d = <paramref name="inputNorm"/>.</summary>
    public static ResidualChainDraws Sample(Initialization init, double gamma, double inputNorm, int width, int layers, int nets,
        Rng root, int batches = DefaultBatches, string stage = "networks", IProgress<ProgressInfo>? progress = null,
        CancellationToken cancellation = default)
    {
        var (act, cw, cb) = init;
        if (width < 2) throw new BadInputException($"Width {width} must be ≥ 2 (the pair estimator needs two neurons).");
        if (layers < 1) throw new BadInputException($"Depth {layers} must be ≥ 1.");
        if (nets < 2 * batches) throw new BadInputException($"Networks {nets} must be ≥ {2 * batches} (two per jackknife batch).");
        if (!(Math.Abs(gamma) < 1)) throw new BadInputException($"Residual scale γ = {gamma} must satisfy γ² < 1.");
        double k1 = cb + cw * inputNorm;
        var m = new double[batches][];
        var pairs = new double[batches][];
        long done = 0;
        Parallel.For(0, batches, Parallelism.Options(cancellation), b =>
        {
            var (sumM, sumP) = (new double[layers], new double[layers]);
            var (z, xi, buf) = (new double[width], new double[width], new double[width]);
            for (int i = (int)((long)nets * b / batches); i < (int)((long)nets * (b + 1) / batches); i++)
            {
                var rng = root.Split((ulong)i);
                rng.FillGaussian(z, Math.Sqrt(k1));
                for (int l = 0; l < layers; l++)
                {
                    if (l > 0)
                    {
                        act.Apply(z, buf);
                        double g = cb + cw * TensorPrimitives.SumOfSquares<double>(buf) / width;
                        rng.FillGaussian(xi, Math.Sqrt(g));
                        TensorPrimitives.MultiplyAdd(z, gamma, xi, z);
                    }
                    double s2 = TensorPrimitives.SumOfSquares<double>(z);
                    TensorPrimitives.Multiply(z, z, buf);
                    double s4 = TensorPrimitives.SumOfSquares<double>(buf);
                    sumM[l] += s2 / width;
                    sumP[l] += (s2 * s2 - s4) / ((double)width * (width - 1));
                }
                long now = Interlocked.Increment(ref done);
                if (now % 8192 == 0) progress?.Report(new ProgressInfo(stage, now, nets));
            }
            (m[b], pairs[b]) = (sumM, sumP);
        });
        var counts = Enumerable.Range(0, batches).Select(b => (int)((long)nets * (b + 1) / batches) - (int)((long)nets * b / batches))
            .ToArray();
        return new ResidualChainDraws(width, layers, counts, m, pairs);
    }
}

/// <summary>Batch sums of a <see cref="ResidualChain"/> run: <c>M[b][ℓ−1]</c> = Σ S₂/n and <c>P[b][ℓ−1]</c> = Σ P over the
/// networks of batch b.</summary>
public sealed record ResidualChainDraws(int Width, int Layers, int[] Counts, double[][] M, double[][] P)
{
    public int Batches => Counts.Length;

    /// <summary>n·Cov(z_i², z_k²)/K² at layer <paramref name="layer"/> (i ≠ k; → V/K² as n → ∞, Roberts &amp; Yaida 2022,
    /// eq. 4.43) with its jackknife standard error over the batches.</summary>
    public (double Value, double Se) NormalisedVertex(int layer) => Jackknife(layer, 0);

    /// <summary>The same estimator's increment from layer <paramref name="from"/> to <paramref name="layer"/>, with a
    /// jackknife SE that accounts for both layers coming from the same networks.</summary>
    public (double Value, double Se) NormalisedVertexIncrement(int from, int layer) => Jackknife(layer, from);

    /// <summary>K = E[z²] at layer <paramref name="layer"/> with its SE.</summary>
    public (double Value, double Se) Variance(int layer)
    {
        var means = Enumerable.Range(0, Batches).Select(b => M[b][layer - 1] / Counts[b]).ToArray();
        return (M.Sum(r => r[layer - 1]) / Counts.Sum(), Statistics.StandardError(means));
    }

    private (double Value, double Se) Jackknife(int layer, int from)
    {
        if (layer < 1 || layer > Layers || from < 0 || from > Layers)
            throw new ArgumentOutOfRangeException(nameof(layer), $"Layers 1…{Layers}, asked {layer} (from {from}).");
        double Statistic(int skip)
        {
            double At(int l)
            {
                if (l == 0) return 0;
                double sm = 0, sp = 0;
                long count = 0;
                for (int b = 0; b < Batches; b++)
                    if (b != skip) { sm += M[b][l - 1]; sp += P[b][l - 1]; count += Counts[b]; }
                double k = sm / count;
                return Width * (sp / count - k * k) / (k * k);
            }
            return At(layer) - At(from);
        }
        double full = Statistic(-1);
        var leaveOut = Enumerable.Range(0, Batches).Select(Statistic).ToArray();
        double mean = leaveOut.Average();
        double se = Math.Sqrt((Batches - 1.0) / Batches * leaveOut.Sum(v => (v - mean) * (v - mean)));
        return (Batches * full - (Batches - 1) * mean, se);
    }
}
