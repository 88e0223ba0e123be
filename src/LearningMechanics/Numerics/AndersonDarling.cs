using MathNet.Numerics;

namespace LearningMechanics.Numerics;

/// <summary>
/// Anderson–Darling goodness-of-fit test against a fully specified normal distribution N(μ, σ²) ("case 0":
/// no parameter estimated from the sample). p-value from Marsaglia &amp; Marsaglia (2004), "Evaluating the
/// Anderson–Darling distribution", J. Stat. Softw. 9(2): the asymptotic distribution (adinf) with the
/// finite-n correction (errfix).
/// </summary>
public static class AndersonDarling
{
    public static (double Statistic, double PValue) TestNormal(ReadOnlySpan<double> sample, double mean, double sd)
    {
        int n = sample.Length;
        if (n < 5) throw new ArgumentException($"Anderson–Darling needs at least 5 values, got {n}.");
        if (!(sd > 0)) throw new ArgumentOutOfRangeException(nameof(sd), $"Standard deviation {sd} must be positive.");
        var u = new double[n];
        for (int i = 0; i < n; i++) u[i] = NormalCdf((sample[i] - mean) / sd);
        Array.Sort(u);
        double s = 0;
        for (int i = 0; i < n; i++)
        {
            double lo = Math.Max(u[i], 1e-300);
            double hi = Math.Max(1 - u[n - 1 - i], 1e-300);
            s += (2 * i + 1) * (Math.Log(lo) + Math.Log(hi));
        }
        double a2 = -n - s / n;
        return (a2, 1 - Cdf(a2, n));
    }

    /// <summary>Φ(z), the standard normal distribution function.</summary>
    public static double NormalCdf(double z) => 0.5 * SpecialFunctions.Erfc(-z / Math.Sqrt(2));

    /// <summary>P(A² ≤ z) for sample size n (Marsaglia &amp; Marsaglia 2004, AD(n, z)).</summary>
    public static double Cdf(double z, int n)
    {
        double x = AdInf(z);
        return Math.Clamp(x + ErrFix(n, x), 0, 1);
    }

    private static double AdInf(double z)
    {
        if (z <= 0) return 0;
        if (z < 2)
            return Math.Exp(-1.2337141 / z) / Math.Sqrt(z) *
                   (2.00012 + (0.247105 - (0.0649821 - (0.0347962 - (0.011672 - 0.00168691 * z) * z) * z) * z) * z);
        return Math.Exp(-Math.Exp(1.0776 - (2.30695 - (0.43424 - (0.082433 - (0.008056 - 0.0003146 * z) * z) * z) * z) * z));
    }

    private static double ErrFix(int n, double x)
    {
        double c = 0.01265 + 0.1757 / n;
        if (x < c)
        {
            double t = x / c;
            t = Math.Sqrt(t) * (1 - t) * (49 * t - 102);
            return t * (0.0037 / (n * n) + 0.00078 / n + 0.00006) / n;
        }
        if (x < 0.8)
        {
            double t = (x - c) / (0.8 - c);
            t = -0.00022633 + (6.54034 - (14.6538 - (14.458 - (8.259 - 1.91864 * t) * t) * t) * t) * t;
            return t * (0.04213 / n + 0.01365 / (n * n)) / n;
        }
        double g3 = -130.2137 + (745.2337 - (1705.091 - (1950.646 - (1116.360 - 255.7844 * x) * x) * x) * x) * x;
        return g3 / n;
    }
}
