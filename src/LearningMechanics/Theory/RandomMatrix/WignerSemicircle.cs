namespace LearningMechanics.Theory.RandomMatrix;

/// <summary>
/// Wigner's semicircle law (Wigner 1958) centred at m with radius R: ρ(x) = 2√(R² − (x − m)²)/(πR²) on [m − R, m + R],
/// variance R²/4. A symmetric N × N matrix with iid entries of variance 1/N has m = 0, R = 2 (Potters &amp; Bouchaud 2020,
/// ch. 2).
/// </summary>
public static class WignerSemicircle
{
    public static double Density(double x, double center, double radius)
    {
        Require(radius);
        double u = (x - center) / radius;
        return Math.Abs(u) >= 1 ? 0 : 2 * Math.Sqrt(1 - u * u) / (Math.PI * radius);
    }

    /// <summary>F(x) = ½ + (u√(1 − u²) + arcsin u)/π with u = (x − m)/R clamped to [−1, 1].</summary>
    public static double Cdf(double x, double center, double radius)
    {
        Require(radius);
        double u = Math.Clamp((x - center) / radius, -1, 1);
        return Math.Clamp(0.5 + (u * Math.Sqrt(1 - u * u) + Math.Asin(u)) / Math.PI, 0, 1);
    }

    private static void Require(double radius)
    {
        if (!(radius > 0) || !double.IsFinite(radius))
            throw new ArgumentOutOfRangeException(nameof(radius), $"Radius {radius} must be a positive finite number.");
    }
}
