namespace LearningMechanics.Theory.RandomMatrix;

/// <summary>
/// The rank-one spiked Wigner model M = θvvᵀ + W, W symmetric with iid entries of variance 1/N (semicircle on [−2, 2]),
/// |v| = 1: as N → ∞ the top eigenvalue separates from the bulk iff θ &gt; 1, at θ + 1/θ, with squared
/// overlap |⟨v̂, v⟩|² = 1 − 1/θ²; for θ ≤ 1 it sticks to the edge 2 and the overlap vanishes (the BBP transition:
/// Baik et al. 2005; for Wigner matrices Péché 2006 and Benaych-Georges &amp; Nadakuditi 2011, §3.1).
/// </summary>
public static class SpikedWigner
{
    /// <summary>The spike strength at which the outlier appears.</summary>
    public const double Threshold = 1;

    /// <summary>The limiting top eigenvalue: θ + 1/θ above the threshold, the bulk edge 2 below it.</summary>
    public static double TopEigenvalue(double theta) => Check(theta) > Threshold ? theta + 1 / theta : 2;

    /// <summary>The limiting squared overlap of the top eigenvector with the spike: 1 − 1/θ² above the threshold, else 0.</summary>
    public static double Overlap(double theta) => Check(theta) > Threshold ? 1 - 1 / (theta * theta) : 0;

    private static double Check(double theta) => theta >= 0 && double.IsFinite(theta)
        ? theta : throw new ArgumentOutOfRangeException(nameof(theta), $"Spike strength θ = {theta} must be finite and ≥ 0.");
}
