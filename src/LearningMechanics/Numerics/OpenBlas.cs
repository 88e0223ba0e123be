using System.Runtime.InteropServices;

namespace LearningMechanics.Numerics;

/// <summary>
/// P/Invoke binding to Debian's OpenBLAS (<c>libopenblas.so.0</c>, CBLAS) and LAPACKE
/// (<c>liblapacke.so.3</c>, which Debian routes to OpenBLAS's LAPACK). Row-major layout throughout.
/// Thread count and core type are read by OpenBLAS from <c>OPENBLAS_NUM_THREADS</c> and
/// <c>OPENBLAS_CORETYPE</c> when the library is loaded, so set those before the process starts.
/// </summary>
internal static unsafe partial class OpenBlas
{
    private const string BlasLib = "libopenblas.so.0";
    private const string LapackeLib = "liblapacke.so.3";
    internal const int RowMajor = 101;
    internal const int NoTrans = 111;
    internal const int Trans = 112;
    internal const int Upper = 121;
    internal const int Lower = 122;

    private static readonly Lazy<bool> blasLoaded = new(() => TryLoad(BlasLib));
    private static readonly Lazy<bool> lapackeLoaded = new(() => TryLoad(LapackeLib));

    /// <summary>True when <c>libopenblas.so.0</c> can be loaded and <c>LMECH_BLAS</c> is not <c>managed</c>.</summary>
    public static bool BlasAvailable => !ForcedManaged && blasLoaded.Value;

    /// <summary>True when LAPACKE can be loaded (and the managed path is not forced).</summary>
    public static bool LapackAvailable => !ForcedManaged && lapackeLoaded.Value;

    internal static bool ForcedManaged =>
        string.Equals(Environment.GetEnvironmentVariable("LMECH_BLAS"), "managed", StringComparison.OrdinalIgnoreCase);

    private static bool TryLoad(string name)
    {
        if (!NativeLibrary.TryLoad(name, out var handle)) return false;
        NativeLibrary.Free(handle);
        return true;
    }

    [LibraryImport(BlasLib)] internal static partial void cblas_dgemm(int layout, int transA, int transB, int m, int n, int k,
        double alpha, double* a, int lda, double* b, int ldb, double beta, double* c, int ldc);
    [LibraryImport(BlasLib)] internal static partial void cblas_sgemm(int layout, int transA, int transB, int m, int n, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);
    [LibraryImport(BlasLib)] internal static partial void cblas_dsyrk(int layout, int uplo, int trans, int n, int k,
        double alpha, double* a, int lda, double beta, double* c, int ldc);
    [LibraryImport(BlasLib)] internal static partial void cblas_dgemv(int layout, int trans, int m, int n,
        double alpha, double* a, int lda, double* x, int incx, double beta, double* y, int incy);
    [LibraryImport(BlasLib)] internal static partial void openblas_set_num_threads(int n);
    [LibraryImport(BlasLib)] internal static partial int openblas_get_num_threads();

    [LibraryImport(LapackeLib)] internal static partial int LAPACKE_dsyevd(int layout, byte jobz, byte uplo, int n, double* a, int lda,
        double* w);
    [LibraryImport(LapackeLib)] internal static partial int LAPACKE_dpotrf(int layout, byte uplo, int n, double* a, int lda);
    [LibraryImport(LapackeLib)] internal static partial int LAPACKE_dpotrs(int layout, byte uplo, int n, int nrhs, double* a, int lda,
        double* b, int ldb);
    [LibraryImport(LapackeLib)] internal static partial int LAPACKE_dgesdd(int layout, byte jobz, int m, int n, double* a, int lda,
        double* s, double* u, int ldu, double* vt, int ldvt);
}
