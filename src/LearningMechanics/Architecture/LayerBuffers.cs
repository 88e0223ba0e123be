using System.Numerics;

namespace LearningMechanics.Architecture;

/// <summary>
/// The buffers a batch flows through in a finite network, allocated once: buffer k is the input of op k and the output of
/// op k − 1 (buffer 0 the network input, the last one its output), each with its gradient and, allocated on first use,
/// the R-operator's copies of both.
/// </summary>
public class LayerBuffers<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public int Batch { get; }
    /// <summary>The network's parameters (raw stored values), shared with the network.</summary>
    internal readonly T[] Parameters;
    /// <summary>Widths of the buffers: Dims[0] = input, Dims[^1] = output.</summary>
    internal readonly int[] Dims;
    internal readonly T[][] A;
    internal readonly T[][] G;
    internal T[][]? RA;
    internal T[][]? RG;
    internal T[] Scratch = [];
    /// <summary>A row of ones (batch long) for bias gradients as GEMMs.</summary>
    internal readonly T[] Ones;
    /// <summary>Per-sample statistics of op k (see <see cref="FiniteOp{T}.RowStatistics"/>).</summary>
    internal readonly T[][] RowStats;
    private readonly FiniteOp<T>[] ops;

    internal LayerBuffers(FiniteOp<T>[] ops, int[] dims, T[] parameters, int batch)
    {
        if (batch < 1) throw new BadInputException($"Batch size {batch} must be ≥ 1.");
        this.ops = ops;
        Dims = dims;
        Parameters = parameters;
        Batch = batch;
        int n = ops.Length;
        A = new T[n + 1][];
        G = new T[n + 1][];
        for (int k = 0; k <= n; k++)
        {
            A[k] = k > 0 && ops[k - 1].PassesThrough ? A[k - 1] : new T[checked(batch * dims[k])];
            G[k] = new T[checked(batch * dims[k])];
        }
        RowStats = ops.Select(o => new T[o.RowStatistics * batch]).ToArray();
        Ones = new T[batch];
        Array.Fill(Ones, T.One);
    }

    internal void EnsureR()
    {
        if (RA is not null) return;
        int n = ops.Length;
        RA = new T[n + 1][];
        RG = new T[n + 1][];
        for (int k = 0; k <= n; k++)
        {
            RA[k] = k > 0 && ops[k - 1].PassesThrough ? RA[k - 1] : new T[A[k].Length];
            RG[k] = new T[G[k].Length];
        }
        Scratch = new T[G.Max(g => g.Length)];
    }

    /// <summary>The output of op <paramref name="k"/> − 1 (k = 0: the input), batch × width, as last computed.</summary>
    public ReadOnlySpan<T> Activations(int k) => A[k];

    /// <summary>The network output of the last forward pass, batch × output width.</summary>
    public ReadOnlySpan<T> Output => A[^1];

    /// <summary>∂loss/∂(output of op k − 1) from the last backward pass.</summary>
    public ReadOnlySpan<T> Gradients(int k) => G[k];
}
