using System.Collections.Concurrent;

namespace LearningMechanics.Numerics;

/// <summary>
/// Gauss–Legendre quadrature and Gaussian expectations of piecewise-smooth functions. Nodes by Golub–Welsch
/// (Jacobi matrix β_k = k/√(4k² − 1)), Newton-polished; weights 2/((1 − x²)P′_q(x)²). For functions with a kink or
/// jump at a known point, <see cref="ExpectNormal"/> integrates over a mesh graded geometrically towards that point,
/// so the rule converges at the spectral rate of each smooth piece instead of Gauss–Hermite's algebraic rate.
/// </summary>
public static class GaussLegendre
{
    private static readonly ConcurrentDictionary<int, (double[] X, double[] W)> cache = new();

    /// <summary>The integration domain, ±13 standard deviations (the Gaussian tail beyond is below 1e-37).</summary>
    private const double Limit = 13;

    /// <summary>Distances from the kink at which the mesh panels end; reaching 2·Limit, so that from any kink inside the
    /// domain the panels cover all of it.</summary>
    private static readonly double[] Grading =
        [0, 1e-4, 1e-3, 4e-3, 0.015, 0.04, 0.1, 0.2, 0.4, 0.7, 1.1, 1.7, 2.5, 3.5, 5, 7, 9.5, 13, 18, 26];

    /// <summary>Nodes and weights on [−1, 1].</summary>
    public static (double[] Nodes, double[] Weights) Rule(int order)
    {
        if (order is < 1 or > 200) throw new ArgumentOutOfRangeException(nameof(order), $"Order {order} must be in 1…200.");
        return cache.GetOrAdd(order, static q =>
        {
            var j = new Matrix(q, q);
            for (int k = 1; k < q; k++) j[k, k - 1] = j[k - 1, k] = k / Math.Sqrt(4.0 * k * k - 1);
            var x = Lapack.SymmetricEigen(j).Values;
            var w = new double[q];
            for (int i = 0; i < q; i++)
            {
                double dp = 0;
                for (int it = 0; it < 3; it++)
                {
                    var (p, pd) = Legendre(q, x[i]);
                    x[i] -= p / pd; dp = pd;
                }
                dp = Legendre(q, x[i]).Derivative;
                w[i] = 2 / ((1 - x[i] * x[i]) * dp * dp);
            }
            return (x, w);
        });
    }

    /// <summary>P_q(x) and P′_q(x) by the three-term recurrence.</summary>
    private static (double Value, double Derivative) Legendre(int q, double x)
    {
        double p0 = 1;
        double p1 = x;
        if (q == 0) return (1, 0);
        for (int k = 1; k < q; k++) { double p2 = ((2 * k + 1) * x * p1 - k * p0) / (k + 1); p0 = p1; p1 = p2; }
        return (p1, q * (x * p1 - p0) / (x * x - 1));
    }

    /// <summary>
    /// The panels (midpoint, half-width) on both sides of <paramref name="kink"/> with ends at kink ± <paramref name="grading"/>,
    /// clipped to [−limit, limit] (a kink outside the domain is moved to its edge: the function is smooth on it).
    /// </summary>
    private static int Panels(double kink, double[] grading, double limit, Span<(double Mid, double Half)> panels)
    {
        kink = Math.Clamp(kink, -limit, limit);
        int count = 0;
        for (int side = -1; side <= 1; side += 2)
            for (int p = 0; p + 1 < grading.Length; p++)
            {
                double a = kink + side * grading[p];
                double b = kink + side * grading[p + 1];
                if (side < 0) (a, b) = (b, a);
                a = Math.Max(a, -limit); b = Math.Min(b, limit);
                if (b > a) panels[count++] = ((a + b) / 2, (b - a) / 2);
            }
        return count;
    }

    /// <summary>E[h(z)] for z ~ N(0, 1), h smooth except at <paramref name="kink"/> (graded mesh, 12 points per panel).</summary>
    public static double ExpectNormal(Func<double, double> h, double kink = 0, int pointsPerPanel = 12)
    {
        var (x, w) = Rule(pointsPerPanel);
        Span<(double Mid, double Half)> panels = stackalloc (double, double)[2 * Grading.Length];
        double total = 0;
        foreach (var (mid, half) in panels[..Panels(kink, Grading, Limit, panels)])
            for (int i = 0; i < x.Length; i++)
            {
                double z = mid + half * x[i];
                total += w[i] * half * h(z) * Math.Exp(-z * z / 2);
            }
        return total / Math.Sqrt(2 * Math.PI);
    }

    /// <summary>
    /// E[f(u)·g(v)] for (u, v) ~ N(0, [[k11, k12], [k12, k22]]) with f, g smooth except at 0: u = √k11·z₁,
    /// v = √k22·(c z₁ + √(1 − c²) z₂); the inner integral over z₂ is graded towards g's kink at z₂ = −c z₁/√(1 −
    /// c²), the outer one towards f's kink at z₁ = 0.
    /// </summary>
    public static double ExpectPairKinked(Func<double, double> f, Func<double, double> g, double k11, double k12, double k22,
        int pointsPerPanel = 12)
    {
        double s1 = Math.Sqrt(k11);
        double s2 = Math.Sqrt(k22);
        double c = s1 > 0 && s2 > 0 ? Math.Clamp(k12 / (s1 * s2), -1, 1) : 0;
        double sc = Math.Sqrt((1 - c) * (1 + c));
        return ExpectNormal(z1 =>
        {
            double fu = f(s1 * z1);
            if (fu == 0) return 0;
            double inner = sc == 0 ? g(s2 * c * z1) : ExpectNormal(z2 => g(s2 * (c * z1 + sc * z2)), -c * z1 / sc, pointsPerPanel);
            return fu * inner;
        }, 0, pointsPerPanel);
    }

    /// <summary>Panel ends for the nested rule of <see cref="ExpectProduct"/>: distances from the level's kink, coarser than
    /// <see cref="Grading"/> because each piece is smooth (the kink sits on a panel end) and the cost is (points per level)^m.</summary>
    private static readonly double[] NestedGrading = [0, 2.5, 6, 11, 18, 26];

    /// <summary>
    /// E[Π_k f_k(z_k)] for z ~ N(0, <paramref name="cov"/>) in m dimensions, each f_k smooth except at 0. With the lower
    /// Cholesky factor z_k = Σ_{j&lt;k} L_kj ξ_j + L_kk ξ_k the integral is nested over ξ₁…ξ_m; at level k the only kink is
    /// f_k's, at ξ_k = −μ_k/L_kk, because the inner levels' Gaussian integrals are smooth in ξ_k. Each level splits there
    /// and integrates Gauss–Legendre panels on both sides (about 1e-11 absolute for ReLU and erf products of unit-scale
    /// variables). A variable whose conditional variance vanishes (L_kk ≤ 1e-12·√cov_kk, e.g. a repeated input) is fixed
    /// at its conditional mean. Cost ∝ (≈ 4q)^m evaluations.
    /// </summary>
    public static double ExpectProduct(IReadOnlyList<Func<double, double>> f, double[,] cov, int pointsPerPanel = 12)
    {
        int m = f.Count;
        if (cov.GetLength(0) != m || cov.GetLength(1) != m)
            throw new ArgumentException($"Covariance is {cov.GetLength(0)}×{cov.GetLength(1)} for {m} functions.");
        var flat = new double[m * m];
        for (int i = 0; i < m; i++) for (int j = 0; j < m; j++) flat[i * m + j] = cov[i, j];
        var l = new double[m * m];
        ManagedLapack.SemidefiniteCholesky(flat, l, m, 1e-24);
        var (x, w) = Rule(pointsPerPanel);
        var xi = new double[m];
        double Level(int k)
        {
            if (k == m) return 1;
            double mu = 0;
            for (int j = 0; j < k; j++) mu += l[k * m + j] * xi[j];
            double s = l[k * m + k];
            if (s == 0)
            {
                xi[k] = 0;
                double fk = f[k](mu);
                return fk == 0 ? 0 : fk * Level(k + 1);
            }
            const double range = 9;   // ±9 standard deviations: the tail beyond is below 1e-18
            Span<(double Mid, double Half)> panels = stackalloc (double, double)[2 * NestedGrading.Length];
            double total = 0;
            foreach (var (mid, half) in panels[..Panels(-mu / s, NestedGrading, range, panels)])
                for (int i = 0; i < x.Length; i++)
                {
                    double t = mid + half * x[i];
                    double fk = f[k](mu + s * t);
                    if (fk == 0) continue;
                    xi[k] = t;
                    total += w[i] * half * Math.Exp(-t * t / 2) * fk * Level(k + 1);
                }
            return total / Math.Sqrt(2 * Math.PI);
        }
        return Level(0);
    }
}
