namespace LearningMechanics.Numerics;

/// <summary>Thrown when a matrix that must be symmetric positive definite is not (Cholesky pivot ≤ 0).</summary>
public sealed class NotPositiveDefiniteException(string message) : ArithmeticException(message);

/// <summary>
/// Dense factorisations through LAPACKE (OpenBLAS's LAPACK on Debian) with managed fallbacks in
/// <see cref="ManagedLapack"/> when the native library is absent. Inputs are never modified.
/// </summary>
public static unsafe class Lapack
{
    /// <summary>Eigen-decomposition of a symmetric matrix: eigenvalues ascending, eigenvectors as the columns of V.</summary>
    public static (double[] Values, Matrix Vectors) SymmetricEigen(Matrix a)
    {
        RequireSquare(a);
        if (!OpenBlas.LapackAvailable) return ManagedLapack.SymmetricEigen(a);
        var v = a.Clone();
        var w = new double[a.Rows];
        if (a.Rows == 0) return (w, v);
        int info;
        fixed (double* pv = v.Data) fixed (double* pw = w)
            info = OpenBlas.LAPACKE_dsyevd(OpenBlas.RowMajor, (byte)'V', (byte)'L', a.Rows, pv, a.Rows, pw);
        if (info != 0) throw new ArithmeticException($"dsyevd failed (info={info}).");
        return (w, v);
    }

    /// <summary>Lower Cholesky factor L with A = L·Lᵀ.</summary>
    public static Matrix Cholesky(Matrix a)
    {
        RequireSquare(a);
        if (!OpenBlas.LapackAvailable) return ManagedLapack.Cholesky(a);
        var l = a.Clone();
        int n = a.Rows;
        int info = 0;
        if (n > 0)
            fixed (double* pl = l.Data) info = OpenBlas.LAPACKE_dpotrf(OpenBlas.RowMajor, (byte)'L', n, pl, n);
        if (info > 0) throw new NotPositiveDefiniteException($"Matrix is not positive definite (leading minor {info} of {n}).");
        if (info < 0) throw new ArgumentException($"dpotrf: bad argument {-info}.");
        for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) l[i, j] = 0;
        return l;
    }

    /// <summary>Solves A·X = B given the lower Cholesky factor L of A.</summary>
    public static Matrix CholeskySolve(Matrix l, Matrix b)
    {
        RequireSquare(l);
        if (b.Rows != l.Rows) throw new ArgumentException($"Right-hand side has {b.Rows} rows, factor is {l.Rows}×{l.Rows}.");
        if (!OpenBlas.LapackAvailable) return ManagedLapack.CholeskySolve(l, b);
        var x = b.Clone();
        if (l.Rows == 0 || b.Cols == 0) return x;
        int info;
        fixed (double* pl = l.Data) fixed (double* px = x.Data)
            info = OpenBlas.LAPACKE_dpotrs(OpenBlas.RowMajor, (byte)'L', l.Rows, b.Cols, pl, l.Rows, px, b.Cols);
        if (info != 0) throw new ArithmeticException($"dpotrs failed (info={info}).");
        return x;
    }

    /// <summary>Thin SVD A = U·diag(S)·Vᵀ with S descending; U is m×r, Vt is r×n, r = min(m, n).</summary>
    public static (Matrix U, double[] S, Matrix Vt) Svd(Matrix a)
    {
        if (!OpenBlas.LapackAvailable) return ManagedLapack.Svd(a);
        int m = a.Rows;
        int n = a.Cols;
        int r = Math.Min(m, n);
        var work = a.Clone();
        var u = new Matrix(m, r);
        var s = new double[r];
        var vt = new Matrix(r, n);
        if (r == 0) return (u, s, vt);
        int info;
        fixed (double* pa = work.Data) fixed (double* ps = s) fixed (double* pu = u.Data) fixed (double* pvt = vt.Data)
            info = OpenBlas.LAPACKE_dgesdd(OpenBlas.RowMajor, (byte)'S', m, n, pa, n, ps, pu, r, pvt, n);
        if (info != 0) throw new ArithmeticException($"dgesdd failed to converge (info={info}).");
        return (u, s, vt);
    }

    /// <summary>Singular values of A, descending (LAPACK dgesdd without vectors: several times cheaper than <see cref="Svd"/>).</summary>
    public static double[] SingularValues(Matrix a)
    {
        if (!OpenBlas.LapackAvailable) return ManagedLapack.Svd(a).S;
        int m = a.Rows;
        int n = a.Cols;
        var s = new double[Math.Min(m, n)];
        if (s.Length == 0) return s;
        var work = a.Clone();
        int info;
        fixed (double* pa = work.Data) fixed (double* ps = s)
            info = OpenBlas.LAPACKE_dgesdd(OpenBlas.RowMajor, (byte)'N', m, n, pa, n, ps, null, m, null, n);
        if (info != 0) throw new ArithmeticException($"dgesdd failed to converge (info={info}).");
        return s;
    }

    private static void RequireSquare(Matrix a)
    {
        if (a.Rows != a.Cols) throw new ArgumentException($"Expected a square matrix, got {a.Rows}×{a.Cols}.");
    }
}
