using System.Numerics;
using System.Runtime.InteropServices;

namespace LearningMechanics.Numerics;

/// <summary>
/// Dense linear algebra entry points (row-major). Each call goes to OpenBLAS when it is loadable and to
/// <see cref="ManagedBlas"/> otherwise; set <c>LMECH_BLAS=managed</c> to force the managed path.
/// </summary>
public static unsafe class Blas
{
    /// <summary>"openblas" or "managed": the backend that
    /// <see cref="Gemm(Transpose, Transpose, int, int, int, double, ReadOnlySpan{double}, int,
    /// ReadOnlySpan{double}, int, double, Span{double}, int)"/> uses.</summary>
    public static string Backend => OpenBlas.BlasAvailable ? "openblas" : "managed";

    /// <summary>A warning for the user when OpenBLAS could not be loaded (and the managed path was not chosen with
    /// <c>LMECH_BLAS=managed</c>); null otherwise.</summary>
    public static string? FallbackWarning => OpenBlas.BlasAvailable || OpenBlas.ForcedManaged ? null
        : "libopenblas.so.0 was not found: using the managed BLAS, which gives the same results to rounding but is several times " +
            "slower. Install it with: apt-get install libopenblas0-pthread liblapacke (or set LMECH_BLAS=managed to silence this).";

    /// <summary>C ← α·op(A)·op(B) + β·C with op(A) m×k, op(B) k×n, all row-major with leading dimensions.</summary>
    public static void Gemm(Transpose ta, Transpose tb, int m, int n, int k, double alpha, ReadOnlySpan<double> a, int lda,
        ReadOnlySpan<double> b, int ldb, double beta, Span<double> c, int ldc)
    {
        CheckGemm(ta, tb, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0) return;
        if (!OpenBlas.BlasAvailable) { ManagedBlas.Gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); return; }
        fixed (double* pa = a) fixed (double* pb = b) fixed (double* pc = c)
            OpenBlas.cblas_dgemm(OpenBlas.RowMajor, Op(ta), Op(tb), m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
    }

    /// <summary>Single-precision GEMM, same contract as the double version.</summary>
    public static void Gemm(Transpose ta, Transpose tb, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        CheckGemm(ta, tb, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0) return;
        if (!OpenBlas.BlasAvailable) { ManagedBlas.Gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); return; }
        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
            OpenBlas.cblas_sgemm(OpenBlas.RowMajor, Op(ta), Op(tb), m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
    }

    /// <summary>GEMM for a generic element type: float64 or float32 (the networks' two precisions).</summary>
    public static void Gemm<T>(Transpose ta, Transpose tb, int m, int n, int k, T alpha, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double))
            Gemm(ta, tb, m, n, k, double.CreateTruncating(alpha), MemoryMarshal.Cast<T, double>(a), lda,
                MemoryMarshal.Cast<T, double>(b), ldb, double.CreateTruncating(beta), MemoryMarshal.Cast<T, double>(c), ldc);
        else if (typeof(T) == typeof(float))
            Gemm(ta, tb, m, n, k, float.CreateTruncating(alpha), MemoryMarshal.Cast<T, float>(a), lda,
                MemoryMarshal.Cast<T, float>(b), ldb, float.CreateTruncating(beta), MemoryMarshal.Cast<T, float>(c), ldc);
        else throw new NotSupportedException($"GEMM for {typeof(T).Name}: only float64 and float32 are supported.");
    }

    /// <summary>Symmetric rank-k update C ← α·A·Aᵀ + β·C (A n×k); both triangles of C are filled.</summary>
    public static void Syrk(int n, int k, double alpha, ReadOnlySpan<double> a, int lda, double beta, Span<double> c, int ldc)
    {
        CheckGemm(Transpose.No, Transpose.Yes, n, n, k, a.Length, lda, a.Length, lda, c.Length, ldc);
        if (n == 0) return;
        if (!OpenBlas.BlasAvailable) { ManagedBlas.Syrk(n, k, alpha, a, lda, beta, c, ldc); return; }
        fixed (double* pa = a) fixed (double* pc = c)
            OpenBlas.cblas_dsyrk(OpenBlas.RowMajor, OpenBlas.Lower, OpenBlas.NoTrans, n, k, alpha, pa, lda, beta, pc, ldc);
        Matrix.Mirror(c, n, ldc, upperToLower: false);
    }

    /// <summary>y ← α·op(A)·x + β·y with A m×n row-major.</summary>
    public static void Gemv(Transpose ta, int m, int n, double alpha, ReadOnlySpan<double> a, int lda,
        ReadOnlySpan<double> x, double beta, Span<double> y)
    {
        int rows = ta == Transpose.No ? m : n;
        int cols = ta == Transpose.No ? n : m;
        if (lda < n || (m > 0 && a.Length < (long)(m - 1) * lda + n) || x.Length < cols || y.Length < rows)
            throw new ArgumentException(
                $"Gemv: inconsistent sizes (m={m}, n={n}, lda={lda}, |A|={a.Length}, |x|={x.Length}, |y|={y.Length}).");
        if (rows == 0) return;
        if (!OpenBlas.BlasAvailable) { ManagedBlas.Gemv(ta, m, n, alpha, a, lda, x, beta, y); return; }
        fixed (double* pa = a) fixed (double* px = x) fixed (double* py = y)
            OpenBlas.cblas_dgemv(OpenBlas.RowMajor, Op(ta), m, n, alpha, pa, lda, px, 1, beta, py, 1);
    }

    /// <summary>Number of threads a single BLAS call may use (OpenBLAS's setting, or the managed GEMM's).</summary>
    public static int Threads
    {
        get => OpenBlas.BlasAvailable ? OpenBlas.openblas_get_num_threads() : ManagedBlas.Threads;
        set
        {
            ManagedBlas.Threads = Math.Max(1, value);
            if (OpenBlas.BlasAvailable) OpenBlas.openblas_set_num_threads(Math.Max(1, value));
        }
    }

    /// <summary>Runs <paramref name="work"/> with BLAS single-threaded (for callers that parallelise outside BLAS), then restores
    /// the count.</summary>
    public static void SingleThreaded(Action work)
    {
        int before = Threads;
        Threads = 1;
        try { work(); } finally { Threads = before; }
    }

    private static int Op(Transpose t) => t == Transpose.No ? OpenBlas.NoTrans : OpenBlas.Trans;

    private static void CheckGemm(Transpose ta, Transpose tb, int m, int n, int k, int la, int lda, int lb, int ldb, int lc, int ldc)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"Gemm: negative dimension (m={m}, n={n}, k={k}).");
        (int ar, int ac) = ta == Transpose.No ? (m, k) : (k, m);
        (int br, int bc) = tb == Transpose.No ? (k, n) : (n, k);
        if (lda < Math.Max(1, ac) || ldb < Math.Max(1, bc) || ldc < Math.Max(1, n))
            throw new ArgumentException($"Gemm: leading dimension too small (lda={lda}, ldb={ldb}, ldc={ldc}).");
        if ((ar > 0 && la < (long)(ar - 1) * lda + ac) || (br > 0 && lb < (long)(br - 1) * ldb + bc)
            || (m > 0 && lc < (long)(m - 1) * ldc + n))
            throw new ArgumentException($"Gemm: buffer too small for m={m}, n={n}, k={k}.");
    }
}
