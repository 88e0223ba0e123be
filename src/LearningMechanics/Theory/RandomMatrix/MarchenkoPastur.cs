namespace LearningMechanics.Theory.RandomMatrix;

/// <summary>
/// The Marchenko–Pastur law (Marchenko &amp; Pastur 1967; weight spectra: Lauditi et al. 2026): for X (m × n) with iid entries of
/// variance σ² and q = m/n ≤ 1, the eigenvalues of (1/n)·X Xᵀ have density
/// ρ(λ) = √((λ₊ − λ)(λ − λ₋)) / (2π σ² q λ) on [λ₋, λ₊], λ± = σ²(1 ± √q)², with mean σ².
/// A rank-one spike of strength θ (in the same units) detaches from the bulk when θ &gt; σ²√q (BBP transition,
/// Baik et al. 2005).
/// </summary>
public static class MarchenkoPastur
{
    public static (double Lower, double Upper) Edges(double q, double sigma2)
    {
        Require(q, sigma2);
        double s = Math.Sqrt(q);
        return (sigma2 * (1 - s) * (1 - s), sigma2 * (1 + s) * (1 + s));
    }

    /// <summary>The outlier threshold for an m × n matrix: the upper edge λ₊ plus a few Tracy–Widom widths,
    /// λ₊·(1 + 3·m^{−2/3}) (the edge fluctuates on the scale m^{−2/3}: Johnstone 2001).</summary>
    public static double OutlierThreshold(double q, double sigma2, int m) => Edges(q, sigma2).Upper * (1 + 3 * Math.Pow(m, -2.0 / 3));

    public static double Density(double lambda, double q, double sigma2)
    {
        var (lo, hi) = Edges(q, sigma2);
        if (lambda <= lo || lambda >= hi) return 0;
        return Math.Sqrt((hi - lambda) * (lambda - lo)) / (2 * Math.PI * sigma2 * q * lambda);
    }

    /// <summary>CDF by the substitution λ = c + r·cos t (which removes the square-root edges), midpoint rule in t.</summary>
    public static double Cdf(double lambda, double q, double sigma2)
    {
        var (lo, hi) = Edges(q, sigma2);
        if (lambda <= lo) return 0;
        if (lambda >= hi) return 1;
        double c = (lo + hi) / 2;
        double r = (hi - lo) / 2;
        double tMax = Math.PI;
        double tMin = Math.Acos(Math.Clamp((lambda - c) / r, -1, 1));
        const int steps = 400;
        double h = (tMax - tMin) / steps;
        double sum = 0;
        for (int i = 0; i < steps; i++)
        {
            double t = tMin + (i + 0.5) * h;
            double l = c + r * Math.Cos(t);
            double sin = Math.Sin(t);
            sum += r * sin * r * sin / (2 * Math.PI * sigma2 * q * l);
        }
        return Math.Clamp(sum * h, 0, 1);
    }

    private static void Require(double q, double sigma2)
    {
        if (!(q > 0 && q <= 1)) throw new ArgumentOutOfRangeException(nameof(q), $"Aspect ratio q = {q} must be in (0, 1].");
        if (!(sigma2 > 0)) throw new ArgumentOutOfRangeException(nameof(sigma2), $"σ² = {sigma2} must be > 0.");
    }
}
