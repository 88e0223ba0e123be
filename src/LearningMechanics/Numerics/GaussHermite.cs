using System.Collections.Concurrent;

namespace LearningMechanics.Numerics;

/// <summary>
/// Gauss–Hermite quadrature for Gaussian expectations, nodes and weights by Golub–Welsch: the nodes are the
/// eigenvalues of the Jacobi matrix of the probabilists' Hermite polynomials (off-diagonal √k) and the weights
/// the squared first components of its eigenvectors, so Σ wᵢ f(xᵢ) ≈ E_{z~N(0,1)}[f(z)], exact for
/// polynomials of degree ≤ 2q − 1.
/// </summary>
public static class GaussHermite
{
    private static readonly ConcurrentDictionary<int, (double[] X, double[] W)> cache = new();

    /// <summary>Nodes and weights of order <paramref name="order"/> for the standard normal weight.</summary>
    public static (double[] Nodes, double[] Weights) Rule(int order)
    {
        if (order is < 1 or > 400) throw new ArgumentOutOfRangeException(nameof(order), $"Quadrature order {order} must be in 1…400.");
        return cache.GetOrAdd(order, static q =>
        {
            var j = new Matrix(q, q);
            for (int k = 1; k < q; k++) j[k, k - 1] = j[k - 1, k] = Math.Sqrt(k);
            var (values, vectors) = Lapack.SymmetricEigen(j);
            var w = new double[q];
            for (int i = 0; i < q; i++) w[i] = vectors[0, i] * vectors[0, i];
            double sum = w.Sum();
            for (int i = 0; i < q; i++) w[i] /= sum;
            // Symmetrise: the rule is exactly symmetric about 0; average mirror pairs to remove eigen-solver noise.
            for (int i = 0; i < q / 2; i++)
            {
                double x = 0.5 * (values[q - 1 - i] - values[i]), ww = 0.5 * (w[i] + w[q - 1 - i]);
                values[i] = -x; values[q - 1 - i] = x; w[i] = w[q - 1 - i] = ww;
            }
            if (q % 2 == 1) values[q / 2] = 0;
            return (values, w);
        });
    }

    /// <summary>E[f(z)] for z ~ N(0, variance).</summary>
    public static double Expect(Func<double, double> f, double variance = 1.0, int order = 64)
    {
        if (!(variance >= 0)) throw new ArgumentOutOfRangeException(nameof(variance), $"Variance {variance} must be ≥ 0.");
        var (x, w) = Rule(order);
        double sd = Math.Sqrt(variance), s = 0;
        for (int i = 0; i < x.Length; i++) s += w[i] * f(sd * x[i]);
        return s;
    }

    /// <summary>
    /// E[f(u)·g(v)] for (u, v) ~ N(0, [[k11, k12], [k12, k22]]), by the tensor-product rule on
    /// u = √k11·z₁, v = √k22·(c·z₁ + √(1 − c²)·z₂) with the correlation c clamped to [−1, 1].
    /// </summary>
    public static double Expect2(Func<double, double> f, Func<double, double> g, double k11, double k12, double k22, int order = 64)
    {
        if (!(k11 >= 0) || !(k22 >= 0)) throw new ArgumentOutOfRangeException(nameof(k11), $"Variances ({k11}, {k22}) must be ≥ 0.");
        var (x, w) = Rule(order);
        double s1 = Math.Sqrt(k11), s2 = Math.Sqrt(k22);
        double c = s1 > 0 && s2 > 0 ? Math.Clamp(k12 / (s1 * s2), -1, 1) : 0;
        double sc = Math.Sqrt(Math.Max(0, 1 - c * c));
        int q = x.Length;
        Span<double> gz = stackalloc double[q];
        double total = 0;
        for (int i = 0; i < q; i++)
        {
            double fu = f(s1 * x[i]);
            if (fu == 0) continue;
            double inner = 0;
            for (int j = 0; j < q; j++) inner += w[j] * g(s2 * (c * x[i] + sc * x[j]));
            total += w[i] * fu * inner;
        }
        return total;
    }
}
