using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace LearningMechanics.Numerics;

/// <summary>
/// Pure managed BLAS used when OpenBLAS is absent: a packed, register-blocked GEMM (4 rows × 2 SIMD vectors
/// per micro-tile, Goto-style kc×nc blocking) generic over float/double, plus SYRK and GEMV built on it.
/// </summary>
public static class ManagedBlas
{
    private const int MR = 4;
    private const int KC = 256;
    private const int MC = 128;

    /// <summary>C ← α·op(A)·op(B) + β·C, row-major (same contract as
    /// <see cref="Blas.Gemm(Transpose, Transpose, int, int, int, double, ReadOnlySpan{double}, int,
    /// ReadOnlySpan{double}, int, double, Span{double}, int)"/>).</summary>
    public static void Gemm<T>(Transpose ta, Transpose tb, int m, int n, int k, T alpha, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            if (beta == T.Zero) row.Clear();
            else if (beta != T.One) TensorPrimitives.Multiply(row, beta, row);
        }
        if (k == 0 || alpha == T.Zero || m == 0 || n == 0) return;

        int nr = 2 * Vector256<T>.Count;
        int nPanels = (n + nr - 1) / nr;
        int nBlocks = (m + MC - 1) / MC;
        T[] bPack = ArrayPool<T>.Shared.Rent(KC * nPanels * nr);
        // Row blocks run in parallel when the product is large enough to pay for it (and threads are allowed).
        int threads = (double)m * n * k >= 2e6 ? Math.Min(Threads, nBlocks) : 1;
        try
        {
            for (int p0 = 0; p0 < k; p0 += KC)
            {
                int kc = Math.Min(KC, k - p0);
                PackB(tb, b, ldb, p0, kc, n, nr, bPack);
                if (threads <= 1)
                    for (int blk = 0; blk < nBlocks; blk++) RowBlock(ta, a, lda, alpha, c, ldc, m, n, p0, kc, blk, bPack);
                else
                    unsafe
                    {
                        // Spans cannot enter a lambda: pin the operands and rebuild the spans inside each task.
                        fixed (T* pa = a) fixed (T* pc = c)
                        {
                            nint aPtr = (nint)pa;
                            nint cPtr = (nint)pc;
                            int aLen = a.Length;
                            int cLen = c.Length;
                            int pk = p0;
                            int kk = kc;
                            Parallel.For(0, nBlocks, new ParallelOptions { MaxDegreeOfParallelism = threads },
                                blk => RowBlock(ta, new ReadOnlySpan<T>((void*)aPtr, aLen), lda, alpha, new Span<T>((void*)cPtr, cLen),
                                    ldc, m, n, pk, kk, blk, bPack));
                        }
                    }
            }
        }
        finally { ArrayPool<T>.Shared.Return(bPack); }
    }

    /// <summary>Threads the managed GEMM may use (set through <see cref="Blas.Threads"/>).</summary>
    internal static int Threads { get; set; } = Environment.ProcessorCount;

    /// <summary>C[rows of block blk] += α·op(A)[block, p0:p0+kc]·op(B)[p0:p0+kc, :] with B already packed.</summary>
    private static void RowBlock<T>(Transpose ta, ReadOnlySpan<T> a, int lda, T alpha, Span<T> c, int ldc, int m, int n,
        int p0, int kc, int blk, T[] bPack) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int nr = 2 * Vector256<T>.Count;
        int nPanels = (n + nr - 1) / nr;
        int i0 = blk * MC;
        int mc = Math.Min(MC, m - i0);
        T[] aPack = ArrayPool<T>.Shared.Rent(kc * (MC + MR));
        Span<T> tile = stackalloc T[MR * nr];
        try
        {
            PackA(ta, a, lda, i0, mc, p0, kc, alpha, aPack);
            for (int jp = 0; jp < nPanels; jp++)
            {
                int j0 = jp * nr;
                int nb = Math.Min(nr, n - j0);
                ReadOnlySpan<T> bPanel = bPack.AsSpan(jp * kc * nr, kc * nr);
                for (int ii = 0; ii < mc; ii += MR)
                {
                    int mb = Math.Min(MR, mc - ii);
                    MicroKernel(aPack.AsSpan(ii * kc, kc * MR), bPanel, kc, tile);
                    for (int r = 0; r < mb; r++)
                    {
                        var dst = c.Slice((i0 + ii + r) * ldc + j0, nb);
                        TensorPrimitives.Add(dst, tile.Slice(r * nr, nb), dst);
                    }
                }
            }
        }
        finally { ArrayPool<T>.Shared.Return(aPack); }
    }

    /// <summary>Packs op(B)[p0:p0+kc, :] into column panels of width nr, zero-padded at the right edge.</summary>
    private static void PackB<T>(Transpose tb, ReadOnlySpan<T> b, int ldb, int p0, int kc, int n, int nr, Span<T> dst)
        where T : unmanaged, INumber<T>
    {
        int nPanels = (n + nr - 1) / nr;
        for (int jp = 0; jp < nPanels; jp++)
        {
            int j0 = jp * nr;
            int nb = Math.Min(nr, n - j0);
            var panel = dst.Slice(jp * kc * nr, kc * nr);
            for (int p = 0; p < kc; p++)
            {
                var d = panel.Slice(p * nr, nr);
                if (tb == Transpose.No) b.Slice((p0 + p) * ldb + j0, nb).CopyTo(d);
                else for (int j = 0; j < nb; j++) d[j] = b[(j0 + j) * ldb + p0 + p];
                d.Slice(nb).Clear();
            }
        }
    }

    /// <summary>Packs α·op(A)[i0:i0+mc, p0:p0+kc] into row strips of height MR (interleaved by p), zero-padded.</summary>
    private static void PackA<T>(Transpose ta, ReadOnlySpan<T> a, int lda, int i0, int mc, int p0, int kc, T alpha, Span<T> dst)
        where T : unmanaged, INumber<T>
    {
        for (int ii = 0; ii < mc; ii += MR)
        {
            var strip = dst.Slice(ii * kc, kc * MR);
            for (int r = 0; r < MR; r++)
            {
                int i = i0 + ii + r;
                bool inside = ii + r < mc;
                for (int p = 0; p < kc; p++)
                    strip[p * MR + r] = !inside ? T.Zero
                        : alpha * (ta == Transpose.No ? a[i * lda + p0 + p] : a[(p0 + p) * lda + i]);
            }
        }
    }

    /// <summary>tile[MR × nr] = Σ_p aStrip[p, 0:MR] ⊗ bPanel[p, 0:nr], eight accumulators in registers.</summary>
    private static void MicroKernel<T>(ReadOnlySpan<T> aStrip, ReadOnlySpan<T> bPanel, int kc, Span<T> tile) where T : unmanaged, INumber<T>
    {
        int w = Vector256<T>.Count;
        Vector256<T> c00 = default;
        Vector256<T> c01 = default;
        Vector256<T> c10 = default;
        Vector256<T> c11 = default;
        Vector256<T> c20 = default;
        Vector256<T> c21 = default;
        Vector256<T> c30 = default;
        Vector256<T> c31 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Create(bPanel.Slice(p * 2 * w, w));
            var b1 = Vector256.Create(bPanel.Slice(p * 2 * w + w, w));
            var av = aStrip.Slice(p * MR, MR);
            var a0 = Vector256.Create(av[0]); c00 += a0 * b0; c01 += a0 * b1;
            var a1 = Vector256.Create(av[1]); c10 += a1 * b0; c11 += a1 * b1;
            var a2 = Vector256.Create(av[2]); c20 += a2 * b0; c21 += a2 * b1;
            var a3 = Vector256.Create(av[3]); c30 += a3 * b0; c31 += a3 * b1;
        }
        c00.CopyTo(tile.Slice(0 * w)); c01.CopyTo(tile.Slice(1 * w));
        c10.CopyTo(tile.Slice(2 * w)); c11.CopyTo(tile.Slice(3 * w));
        c20.CopyTo(tile.Slice(4 * w)); c21.CopyTo(tile.Slice(5 * w));
        c30.CopyTo(tile.Slice(6 * w)); c31.CopyTo(tile.Slice(7 * w));
    }

    /// <summary>C ← α·A·Aᵀ + β·C (A n×k), full symmetric result.</summary>
    public static void Syrk(int n, int k, double alpha, ReadOnlySpan<double> a, int lda, double beta, Span<double> c, int ldc) =>
        Gemm(Transpose.No, Transpose.Yes, n, n, k, alpha, a, lda, a, lda, beta, c, ldc);

    /// <summary>y ← α·op(A)·x + β·y.</summary>
    public static void Gemv(Transpose ta, int m, int n, double alpha, ReadOnlySpan<double> a, int lda,
        ReadOnlySpan<double> x, double beta, Span<double> y)
    {
        int rows = ta == Transpose.No ? m : n;
        if (beta == 0) y.Slice(0, rows).Clear(); else if (beta != 1) TensorPrimitives.Multiply(y.Slice(0, rows), beta, y.Slice(0, rows));
        if (ta == Transpose.No)
            for (int i = 0; i < m; i++) y[i] += alpha * TensorPrimitives.Dot(a.Slice(i * lda, n), x.Slice(0, n));
        else
            for (int i = 0; i < m; i++)
            {
                double s = alpha * x[i];
                var yy = y.Slice(0, n);
                TensorPrimitives.MultiplyAdd(a.Slice(i * lda, n), s, yy, yy);
            }
    }
}
