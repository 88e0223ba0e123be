using System.Numerics.Tensors;

namespace LearningMechanics.Numerics;

/// <summary>
/// The Lanczos iteration for a symmetric operator given only as a matrix-vector product (Golub &amp; Van Loan 2013, §10.1),
/// with full reorthogonalisation (the basis is kept, so Ritz values do not duplicate). After m steps from a unit start q₁,
/// Qᵀ A Q = T is tridiagonal (α on the diagonal, β off it); the Ritz values (eigenvalues of T) approximate the extreme
/// eigenvalues of A, and the squared first components of T's eigenvectors are the Gauss quadrature weights of the
/// spectral measure of A seen from q₁ (used by stochastic Lanczos quadrature, Ghorbani et al. 2019).
/// </summary>
public static class Lanczos
{
    /// <summary>Ritz values (ascending), the quadrature weights τ_j = (e₁ᵀ s_j)², and Ritz vectors in the original space
    /// (one per row, only when asked).</summary>
    public sealed record Result(double[] Values, double[] Weights, Matrix? Vectors, int Steps);

    /// <param name="multiply">y ← A·x for vectors of length <paramref name="n"/>.</param>
    /// <param name="start">q₁ (normalised here); random Gaussian from <paramref name="rng"/> when null.</param>
    public static Result Run(Action<double[], double[]> multiply, int n, int steps, Rng rng, double[]? start = null, bool vectors = false)
    {
        if (steps < 1) throw new BadInputException($"Lanczos steps {steps} must be ≥ 1.");
        int m = Math.Min(steps, n);
        var q = new Matrix(m, n);
        var alpha = new double[m];
        var beta = new double[m];
        var w = new double[n];
        var q0 = q.Row(0);
        if (start is null) rng.FillGaussian(q0); else start.AsSpan().CopyTo(q0);
        Scale(q0, 1 / Norm(q0));
        var qi = new double[n];
        int used = m;
        for (int i = 0; i < m; i++)
        {
            q.Row(i).CopyTo(qi);
            multiply(qi, w);
            alpha[i] = Dot(w, qi);
            // Full reorthogonalisation (twice is enough, Parlett's "twice is enough").
            for (int pass = 0; pass < 2; pass++)
                for (int j = 0; j <= i; j++)
                {
                    var qj = q.Row(j);
                    TensorPrimitives.MultiplyAdd(qj, -Dot(w, qj), w, w);
                }
            if (i == m - 1) break;
            double b = Norm(w);
            beta[i] = b;
            if (b <= 1e-12 * Math.Max(1, Math.Abs(alpha[i]))) { used = i + 1; break; } // invariant subspace found
            var next = q.Row(i + 1);
            TensorPrimitives.Multiply(w, 1 / b, next);
        }
        var t = new Matrix(used, used);
        for (int i = 0; i < used; i++)
        {
            t[i, i] = alpha[i];
            if (i + 1 < used) { t[i, i + 1] = beta[i]; t[i + 1, i] = beta[i]; }
        }
        var (values, s) = Lapack.SymmetricEigen(t);
        var weights = new double[used];
        for (int j = 0; j < used; j++) weights[j] = s[0, j] * s[0, j];
        Matrix? ritz = null;
        if (vectors)
        {
            ritz = new Matrix(used, n);
            // Ritz vector j = Σ_i s_ij q_i
            for (int j = 0; j < used; j++)
            {
                var r = ritz.Row(j);
                for (int i = 0; i < used; i++)
                {
                    TensorPrimitives.MultiplyAdd(q.Row(i), s[i, j], r, r);
                }
            }
        }
        return new Result(values, weights, ritz, used);
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b) => TensorPrimitives.Dot(a, b);
    private static double Norm(ReadOnlySpan<double> a) => Math.Sqrt(Dot(a, a));
    private static void Scale(Span<double> a, double s) => TensorPrimitives.Multiply(a, s, a);
}
