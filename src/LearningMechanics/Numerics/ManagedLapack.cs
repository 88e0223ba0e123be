namespace LearningMechanics.Numerics;

/// <summary>
/// Managed fallbacks for <see cref="Lapack"/>: cyclic Jacobi for symmetric eigenproblems, Cholesky–Banachiewicz,
/// and one-sided Jacobi (Hestenes) SVD. O(n³) per sweep, accurate to working precision; meant for machines
/// without LAPACK and for cross-checking it, not for large matrices.
/// </summary>
public static class ManagedLapack
{
    public static (double[] Values, Matrix Vectors) SymmetricEigen(Matrix a)
    {
        int n = a.Rows;
        var s = a.Clone();
        var v = Matrix.Identity(n);
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            double total = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) { double x = s[i, j] * s[i, j]; total += x; if (i != j) off += x; }
            if (off <= 1e-30 * total || off == 0) break;
            for (int p = 0; p < n - 1; p++)
                for (int q = p + 1; q < n; q++)
                {
                    double apq = s[p, q];
                    if (apq == 0) continue;
                    double theta = (s[q, q] - s[p, p]) / (2 * apq);
                    double t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.Sqrt(t * t + 1);
                    double sn = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double skp = s[k, p];
                        double skq = s[k, q];
                        s[k, p] = c * skp - sn * skq; s[k, q] = sn * skp + c * skq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double spk = s[p, k];
                        double sqk = s[q, k];
                        s[p, k] = c * spk - sn * sqk; s[q, k] = sn * spk + c * sqk;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double vkp = v[k, p];
                        double vkq = v[k, q];
                        v[k, p] = c * vkp - sn * vkq; v[k, q] = sn * vkp + c * vkq;
                    }
                }
        }
        var order = Enumerable.Range(0, n).OrderBy(i => s[i, i]).ToArray();
        var values = order.Select(i => s[i, i]).ToArray();
        var vectors = new Matrix(n, n);
        for (int c = 0; c < n; c++)
            for (int r = 0; r < n; r++) vectors[r, c] = v[r, order[c]];
        return (values, vectors);
    }

    public static Matrix Cholesky(Matrix a)
    {
        int n = a.Rows;
        var l = new Matrix(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double sum = a[i, j];
                for (int k = 0; k < j; k++) sum -= l[i, k] * l[j, k];
                if (i == j)
                {
                    if (!(sum > 0))
                        throw new NotPositiveDefiniteException($"Matrix is not positive definite (leading minor {i + 1} of {n}).");
                    l[i, i] = Math.Sqrt(sum);
                }
                else l[i, j] = sum / l[j, j];
            }
        return l;
    }

    /// <summary>
    /// Lower Cholesky factor of a small positive semidefinite m×m matrix (row-major <paramref name="a"/> into
    /// <paramref name="l"/>): a pivot ≤ <paramref name="relativeTolerance"/>·a_kk (a direction without variance, e.g. a
    /// repeated input or more inputs than dimensions) gets a zero column instead of failing.
    /// </summary>
    public static void SemidefiniteCholesky(ReadOnlySpan<double> a, Span<double> l, int m, double relativeTolerance)
    {
        l[..(m * m)].Clear();
        for (int k = 0; k < m; k++)
        {
            double akk = a[k * m + k];
            double d = akk;
            if (!(akk >= 0)) throw new ArgumentException($"Diagonal entry {k} is {akk}; a covariance needs ≥ 0.");
            for (int j = 0; j < k; j++) d -= l[k * m + j] * l[k * m + j];
            if (!(d > relativeTolerance * akk && d > 0)) continue;
            double lkk = Math.Sqrt(d);
            l[k * m + k] = lkk;
            for (int i = k + 1; i < m; i++)
            {
                double s = a[i * m + k];
                for (int j = 0; j < k; j++) s -= l[i * m + j] * l[k * m + j];
                l[i * m + k] = s / lkk;
            }
        }
    }

    public static Matrix CholeskySolve(Matrix l, Matrix b)
    {
        int n = l.Rows;
        var x = b.Clone();
        for (int c = 0; c < b.Cols; c++)
        {
            for (int i = 0; i < n; i++)
            {
                double s = x[i, c];
                for (int k = 0; k < i; k++) s -= l[i, k] * x[k, c];
                x[i, c] = s / l[i, i];
            }
            for (int i = n - 1; i >= 0; i--)
            {
                double s = x[i, c];
                for (int k = i + 1; k < n; k++) s -= l[k, i] * x[k, c];
                x[i, c] = s / l[i, i];
            }
        }
        return x;
    }

    public static (Matrix U, double[] S, Matrix Vt) Svd(Matrix a)
    {
        bool wide = a.Cols > a.Rows;
        var w = wide ? a.Transposed() : a.Clone();       // w is m×n with m ≥ n; orthogonalise its columns
        int m = w.Rows;
        int n = w.Cols;
        var v = Matrix.Identity(n);
        for (int sweep = 0; sweep < 100; sweep++)
        {
            bool rotated = false;
            for (int p = 0; p < n - 1; p++)
                for (int q = p + 1; q < n; q++)
                {
                    double alpha = 0;
                    double beta = 0;
                    double gamma = 0;
                    for (int i = 0; i < m; i++) { alpha += w[i, p] * w[i, p]; beta += w[i, q] * w[i, q]; gamma += w[i, p] * w[i, q]; }
                    if (Math.Abs(gamma) <= 1e-15 * Math.Sqrt(alpha * beta) || gamma == 0) continue;
                    rotated = true;
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = Math.Sign(zeta) / (Math.Abs(zeta) + Math.Sqrt(1 + zeta * zeta));
                    if (zeta == 0) t = 1;
                    double c = 1 / Math.Sqrt(1 + t * t);
                    double s = c * t;
                    for (int i = 0; i < m; i++)
                    {
                        double x = w[i, p];
                        double y = w[i, q];
                        w[i, p] = c * x - s * y;
                        w[i, q] = s * x + c * y;
                    }
                    for (int i = 0; i < n; i++)
                    {
                        double x = v[i, p];
                        double y = v[i, q];
                        v[i, p] = c * x - s * y;
                        v[i, q] = s * x + c * y;
                    }
                }
            if (!rotated) break;
        }
        var sv = new double[n];
        for (int j = 0; j < n; j++) { double ss = 0; for (int i = 0; i < m; i++) ss += w[i, j] * w[i, j]; sv[j] = Math.Sqrt(ss); }
        var order = Enumerable.Range(0, n).OrderByDescending(j => sv[j]).ToArray();
        var u = new Matrix(m, n);
        var vt = new Matrix(n, n);
        var s2 = new double[n];
        for (int c = 0; c < n; c++)
        {
            int j = order[c]; s2[c] = sv[j];
            for (int i = 0; i < m; i++) u[i, c] = sv[j] > 0 ? w[i, j] / sv[j] : 0;
            for (int i = 0; i < n; i++) vt[c, i] = v[i, j];
        }
        // A = U S Vᵀ; for a wide A we decomposed Aᵀ = U S Vᵀ, so A = V S Uᵀ.
        return wide ? (vt.Transposed(), s2, u.Transposed()) : (u, s2, vt);
    }
}
