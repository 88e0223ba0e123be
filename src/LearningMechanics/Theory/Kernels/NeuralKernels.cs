using System.Collections.Concurrent;
using LearningMechanics.Architecture;
using LearningMechanics.Numerics;

namespace LearningMechanics.Theory.Kernels;

/// <summary>How to compute kernel matrices.</summary>
/// <param name="Ntk">Also compute the NTK Θ (else NNGP only).</param>
/// <param name="RowBlock">Rows per tile: memory is O(RowBlock × M) plus O((N + M) × layers) for the diagonal traces.</param>
/// <param name="Progress">Receives (rows done, rows) after each tile.</param>
/// <param name="Cancellation">Stops between tiles.</param>
public sealed record KernelOptions(bool Ntk = true, int RowBlock = 64, IProgress<ProgressInfo>? Progress = null,
    CancellationToken Cancellation = default);

/// <summary>
/// Infinite-width NNGP K and NTK Θ of any <see cref="NetworkSpec"/> (Lee et al. 2018; Jacot et al. 2018;
/// Roberts &amp; Yaida 2022, eqs. 4.118, 9.5), with the conventions below, for pairs of input sets X₁ (N×d) and X₂ (M×d):
/// <list type="bullet">
/// <item>input: K = x·x′/d, Θ = 0;</item>
/// <item>Dense, NTK parameterisation: K′ = σ_w²K + σ_b², Θ′ = σ_w²Θ + K′ (weights and biases trained), so Θ¹ = K¹;
/// standard parameterisation: Θ′ = σ_w²Θ + fan_in·K + 1 (∂z/∂W = h carries no 1/√fan_in; Θ grows with width);</item>
/// <item>activation: K′ = E[φ(u)φ(v)], Θ′ = E[φ′(u)φ′(v)]·Θ, (u, v) ~ N(0, [[K₁₁, K₁₂], [K₁₂, K₂₂]]);</item>
/// <item>LayerNorm: K′ = (K − m₁m₂)/√((K₁₁ − m₁²)(K₂₂ − m₂²)), Θ′ = Θ/√(…), m the feature mean
/// (E[φ(u)] after an activation);</item>
/// <item>Residual h + s·block(h), block ending in a Dense layer: K′ = K + s²K_block, Θ′ = Θ + s²Θ_block.</item>
/// </list>
/// Each entry (i, j) depends only on x_i·x_j and on per-input diagonal traces, so the recursion runs tile by tile
/// (rows in blocks, multi-threaded) and large matrices stream to disk without intermediate copies.
/// </summary>
public static class NeuralKernels
{
    /// <summary>
    /// Both kernel matrices in memory (N×M, or N×N when <paramref name="x2"/> is null; then only the upper triangle is
    /// computed and mirrored, which is exact since every entry is symmetric bit for bit).
    /// </summary>
    public static (Matrix Nngp, Matrix? Ntk) Compute(NetworkSpec spec, Matrix x1, Matrix? x2 = null, KernelOptions? options = null)
    {
        options ??= new KernelOptions();
        if (x2 is null) return ComputeSymmetric(spec, x1, options);
        int m = x2.Rows;
        var k = new Matrix(x1.Rows, m);
        var t = options.Ntk ? new Matrix(x1.Rows, m) : null;
        Stream(spec, x1, x2, options, (r0, rows, kb, tb) =>
        {
            Array.Copy(kb, 0, k.Data, (long)r0 * m, (long)rows * m);
            if (t is not null) Array.Copy(tb!, 0, t.Data, (long)r0 * m, (long)rows * m);
        });
        return (k, t);
    }

    /// <summary>
    /// K(x, x) and Θ(x, x) for each input alone (the diagonal of the N×N kernels, O(N) work): the last values of the
    /// per-input traces. Θ is null when <paramref name="ntk"/> is false.
    /// </summary>
    public static (double[] Nngp, double[]? Ntk) Diagonal(NetworkSpec spec, Matrix x, bool ntk = true)
    {
        ValidateInputs(x, "x");
        var net = CompiledNetwork.Compile(spec, x.Cols, ntk);
        var finals = net.Traces(x, default).Select(net.Final).ToArray();
        return (finals.Select(f => f.K).ToArray(), ntk ? finals.Select(f => f.T).ToArray() : null);
    }

    /// <summary>Per-thread buffers of a row: the residual stack, and K and Θ rows for the kernels not kept.</summary>
    /// <summary>
    /// One worker's row buffers (a K row, a Θ row, the nesting stack), kept across the row blocks of a run: each block's
    /// Parallel.For rents them per worker and returns them, so a run allocates them once per thread, not once per block.
    /// </summary>
    private sealed class RowBufferPool(CompiledNetwork net, int length)
    {
        private readonly ConcurrentBag<(double[] K, double[] T, double[][] Stack)> free = [];

        public (double[] K, double[] T, double[][] Stack) Rent() => free.TryTake(out var b)
            ? b
            : (new double[length], new double[length], [.. Enumerable.Range(0, 2 * net.MaxNesting).Select(_ => new double[length])]);

        public void Return((double[] K, double[] T, double[][] Stack) b) => free.Add(b);
    }

    /// <summary>What the symmetric paths share: checked inputs, the compiled network, the traces and the Gram matrix x·x′/d.</summary>
    private static (CompiledNetwork Net, double[][] Traces, Matrix Gram) PrepareSymmetric(NetworkSpec spec, Matrix x, bool ntk,
        CancellationToken ct)
    {
        ValidateInputs(x, "x");
        var net = CompiledNetwork.Compile(spec, x.Cols, ntk);
        var traces = net.Traces(x, ct);
        var gram = new Matrix(x.Rows, x.Rows);
        Blas.Syrk(x.Rows, x.Cols, 1.0 / x.Cols, x.Data, x.Cols, 0.0, gram.Data, x.Rows);
        return (net, traces, gram);
    }

    private static (Matrix Nngp, Matrix? Ntk) ComputeSymmetric(NetworkSpec spec, Matrix x, KernelOptions options)
    {
        var (k, t) = Triangle(spec, x, keepNngp: true, options);
        return (k!, t);
    }

    /// <summary>
    /// The kernels of x against itself as the upper triangle, mirrored (exact: every entry is symmetric bit for bit).
    /// Rows go in blocks of <see cref="KernelOptions.RowBlock"/>: one GEMM gives the block's base kernels x·x′/d for the
    /// columns j ≥ its first row (no N×N Gram matrix), then row i computes its part j ≥ i (the diagonal from the trace's
    /// own x·x/d) in place in the kept matrices, else in a per-thread row; rows interleave over threads.
    /// </summary>
    private static (Matrix? Nngp, Matrix? Ntk) Triangle(NetworkSpec spec, Matrix x, bool keepNngp, KernelOptions options)
    {
        ValidateInputs(x, "x");
        if (options.RowBlock < 1) throw new ArgumentOutOfRangeException(nameof(options), "RowBlock must be ≥ 1.");
        var net = CompiledNetwork.Compile(spec, x.Cols, options.Ntk);
        var traces = net.Traces(x, options.Cancellation);
        var byOp = net.ByOp(traces);
        int n = x.Rows;
        int d = x.Cols;
        var k = keepNngp ? new Matrix(n, n) : null;
        var t = options.Ntk ? new Matrix(n, n) : null;
        int block = Math.Min(options.RowBlock, Math.Max(n, 1));
        var gram = new double[(long)block * n];
        var pool = new RowBufferPool(net, n);
        for (int r0 = 0; r0 < n; r0 += block)
        {
            options.Cancellation.ThrowIfCancellationRequested();
            int rows = Math.Min(block, n - r0);
            int width = n - r0;
            Blas.Gemm(Transpose.No, Transpose.Yes, rows, width, d, 1.0 / d, x.Data.AsSpan(r0 * d, rows * d), d,
                x.Data.AsSpan(r0 * d), d, 0.0, gram, width);
            Parallel.For(0, rows, Parallelism.Options(options.Cancellation), pool.Rent, (r, _, buf) =>
            {
                int i = r0 + r;
                var kRow = k is null ? buf.K.AsSpan(0, n - i) : k.Data.AsSpan(i * n + i, n - i);
                var tRow = t is null ? buf.T.AsSpan(0, n - i) : t.Data.AsSpan(i * n + i, n - i);
                gram.AsSpan(r * width + r, n - i).CopyTo(kRow);
                kRow[0] = traces[i][0];
                net.Row(traces[i], byOp, i, kRow, tRow, buf.Stack);
                return buf;
            }, pool.Return);
            options.Progress?.Report(new ProgressInfo("kernel rows", r0 + rows, n));
        }
        if (k is not null) Matrix.Mirror(k.Data, n, n, upperToLower: true);
        if (t is not null) Matrix.Mirror(t.Data, n, n, upperToLower: true);
        return (k, t);
    }

    /// <summary>
    /// The one kernel matrix that <paramref name="options"/> asks for: the NTK when <see cref="KernelOptions.Ntk"/>, else the
    /// NNGP. For x against itself the NNGP is then not kept beside the NTK (a third of the memory).
    /// </summary>
    public static Matrix ComputeOne(NetworkSpec spec, Matrix x1, Matrix? x2 = null, KernelOptions? options = null)
    {
        options ??= new KernelOptions();
        if (x2 is null) return options.Ntk ? Triangle(spec, x1, keepNngp: false, options).Ntk! : Triangle(spec, x1, true, options).Nngp!;
        var (k, t) = Compute(spec, x1, x2, options);
        return options.Ntk ? t! : k;
    }

    /// <summary>
    /// Computes the kernels in row blocks and hands each block to <paramref name="sink"/> (row start, row count,
    /// NNGP block, NTK block or null), in order. The buffers are reused: the sink must consume them before returning.
    /// </summary>
    public static void Stream(NetworkSpec spec, Matrix x1, Matrix? x2, KernelOptions options, Action<int, int, double[], double[]?> sink)
    {
        ValidateInputs(x1, "x");
        if (x2 is not null)
        {
            ValidateInputs(x2, "x2");
            if (x2.Cols != x1.Cols) throw new BadInputException($"x has {x1.Cols} features but x2 has {x2.Cols}.");
        }
        if (options.RowBlock < 1) throw new ArgumentOutOfRangeException(nameof(options), "RowBlock must be ≥ 1.");
        var net = CompiledNetwork.Compile(spec, x1.Cols, options.Ntk);
        var traces1 = net.Traces(x1, options.Cancellation);
        var traces2 = x2 is null ? traces1 : net.Traces(x2, options.Cancellation);
        var byOp2 = net.ByOp(traces2);
        var right = x2 ?? x1;
        int n = x1.Rows;
        int m = right.Rows;
        int d = x1.Cols;
        int block = Math.Min(options.RowBlock, Math.Max(n, 1));
        var gram = new double[(long)block * m];
        var kBuf = new double[(long)block * m];
        var tBuf = options.Ntk ? new double[(long)block * m] : null;
        var pool = new RowBufferPool(net, m);
        for (int r0 = 0; r0 < n; r0 += block)
        {
            options.Cancellation.ThrowIfCancellationRequested();
            int rows = Math.Min(block, n - r0);
            Blas.Gemm(Transpose.No, Transpose.Yes, rows, m, d, 1.0 / d, x1.Data.AsSpan(r0 * d, rows * d), d, right.Data, d, 0.0, gram, m);
            Parallel.For(0, rows, Parallelism.Options(options.Cancellation), pool.Rent, (r, _, buf) =>
            {
                var a = traces1[r0 + r];
                var kRow = kBuf.AsSpan(r * m, m);
                var tRow = tBuf is null ? buf.T.AsSpan(0, m) : tBuf.AsSpan(r * m, m);
                gram.AsSpan(r * m, m).CopyTo(kRow);
                // Diagonal entries start from the trace's own x·x/d, so they stay bitwise equal to K(x, x) throughout.
                if (x2 is null) kRow[r0 + r] = a[0];
                net.Row(a, byOp2, 0, kRow, tRow, buf.Stack);
                return buf;
            }, pool.Return);
            sink(r0, rows, kBuf, tBuf);
            options.Progress?.Report(new ProgressInfo("kernel rows", r0 + rows, n));
        }
    }

    /// <summary>
    /// Kernels of the preactivations after every top-level Dense layer (index 0 = first layer; the last = the output)
    /// for a small input set, as (K, Θ) pairs.
    /// </summary>
    public static List<(Matrix Nngp, Matrix Ntk)> PerLayer(NetworkSpec spec, Matrix x)
    {
        var (net, traces, gram) = PrepareSymmetric(spec, x,
            spec.Layers.All(l => l is not ActivationLayer a || a.Activation.IsDifferentiable), default);
        var result = net.DenseOutputs.Select(_ => (new Matrix(x.Rows, x.Rows), new Matrix(x.Rows, x.Rows))).ToList();
        Span<double> stack = stackalloc double[2 * net.MaxNesting + 2];
        for (int i = 0; i < x.Rows; i++)
            for (int j = 0; j < x.Rows; j++)
            {
                int li = 0;
                net.Entry(i == j ? traces[i][0] : gram[i, j], traces[i], traces[j], stack, (op, kv, tv) =>
                {
                    if (li < net.DenseOutputs.Count && net.DenseOutputs[li] == op)
                    {
                        result[li].Item1[i, j] = kv;
                        result[li].Item2[i, j] = tv;
                        li++;
                    }
                });
            }
        return result;
    }

    /// <summary>
    /// Smallest eigenvalue of a symmetric kernel matrix; throws <see cref="BadInputException"/> when it is negative beyond
    /// rounding (−1e-9·λ_max·max(1, N/100)), e.g. for a user-supplied activation whose quadrature is unresolved.
    /// </summary>
    public static double RequirePositiveSemidefinite(Matrix k, string what = "kernel")
    {
        if (k.AsymmetryNorm() > 1e-12 * k.Data.Max(Math.Abs)) throw new BadInputException($"The {what} matrix is not symmetric.");
        var (values, _) = Lapack.SymmetricEigen(k);
        double scale = Math.Max(Math.Abs(values[^1]), double.Epsilon);
        if (values[0] < -1e-9 * scale * Math.Max(1, k.Rows / 100.0))
            throw new BadInputException(
                $"The {what} matrix is not positive semidefinite (smallest eigenvalue {values[0]:G4}, largest {values[^1]:G4}).");
        return values[0];
    }

    private static void ValidateInputs(Matrix x, string name)
    {
        if (x.Cols < 1) throw new BadInputException($"{name} has no features (0 columns).");
        for (int i = 0; i < x.Rows; i++)
            for (int j = 0; j < x.Cols; j++)
                if (!double.IsFinite(x[i, j]))
                    throw new BadInputException($"{name} contains {x[i, j]} at row {i}, column {j}: inputs must be finite.");
    }
}
