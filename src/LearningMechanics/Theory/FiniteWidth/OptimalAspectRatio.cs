using LearningMechanics.Architecture;

namespace LearningMechanics.Theory.FiniteWidth;

/// <summary>
/// The information-theoretic optimal depth-to-width ratio of an MLP at criticality (Roberts &amp; Yaida 2022, Appendix A). With the
/// normalised vertex at the last layer V/(nG²) = νr (eq. A.68), the mutual information between two groups of m₁ and
/// m₂ output neurons is I = m₁m₂ν²r²/8 − m₁m₂(20 + 3m₁ + 3m₂)ν³r³/48 + O(r⁴) (eq. A.71), maximal at
/// r* = 4/((20 + 3m₁ + 3m₂)ν) (eq. A.72); with m₁ = m₂ = n/2, r* = 4/((20 + 3n)ν) and I* = (1/6)(n/(20 + 3n))²
/// (eqs. A.73–A.74). ν = 2/3 for the K* = 0 class (eq. A.69) and 3A₄/A₂² − 1 for scale-invariant φ (eq. A.70:
/// 5 for ReLU, 2 for linear).
/// </summary>
public static class OptimalAspectRatio
{
    /// <summary>
    /// ν of eqs. A.69–A.70 for φ at criticality, V^{(L)}/(nK²) ≈ νL/n; with residual connections of identity scale γ
    /// (Roberts &amp; Yaida 2022, App. B, at the shifted criticality C_W(γ) ∝ 1 − γ²): ν(γ) = (1 − γ²)[(1 −
    /// γ²)(3A₄/A₂² − 1) + 4γ²] for the scale-invariant class (eq. B.29) and (2/3)(1 − γ⁴) for the K* = 0 class (eq. B.35).
    /// Throws for other activations. For γ ≠ 0 these are the book's values, the slope of B.26, which misses the memory term of
    /// residual networks (docs/notes/residual-vertex.md): for ReLU the measured slope is 6.43 ± 0.04 at γ² = 0.25, where
    /// this gives 3.56, so residual connections raise ν for ReLU instead of lowering it.
    /// </summary>
    public static double Nu(Activation act, double gamma = 0)
    {
        double g2 = gamma * gamma;
        if (!(g2 < 1)) throw new BadInputException($"Residual scale γ = {gamma} must satisfy γ² < 1.");
        if (act.IsScaleInvariant)
        {
            double x = act.Moment(4, 1) / Math.Pow(act.Moment(2, 1), 2) - 1;   // 3A₄/A₂² − 1
            return (1 - g2) * ((1 - g2) * x + 4 * g2);
        }
        if (Criticality.Classify(act).Class == UniversalityClass.KStarZero) return 2.0 / 3 * (1 - g2 * g2);
        throw new BadInputException(
            $"Activation '{act.Name}' is in neither the scale-invariant nor the K* = 0 class; Roberts & Yaida 2022 give no ν for it.");
    }

    /// <summary>
    /// ν(γ) of the corrected residual recursion (B.26 + the memory term, docs/notes/residual-vertex.md §5) for scale-invariant
    /// φ at C_W(γ): ν = ν_B.26(γ) + 2(1 − γ²)²/A₂² Σ_{k≥1}[C(γ^k) − 2A₂²γ^{2k}], C(ρ) = ⟨σ(u)²σ(v)²⟩_ρ −
    /// A₂² at unit variances and correlation ρ, A₂ = ⟨σ²⟩. Equals <see cref="Nu"/> at γ = 0 and for the linear network.
    /// </summary>
    public static double ResidualNu(Activation act, double gamma)
    {
        if (!act.IsScaleInvariant)
            throw new BadInputException(
                $"The corrected residual ν is derived for scale-invariant activations only; '{act.Name}' is not one.");
        double nu = Nu(act, gamma);
        double g2 = gamma * gamma;
        double a2 = act.Moment(2, 1);
        double memory = 0;
        double rho = 1;
        for (int k = 1; k < 10_000; k++)
        {
            rho *= gamma;
            if (Math.Abs(rho) < 1e-14) break;
            memory += act.ExpectSquaredPair(1, rho, 1) - a2 * a2 - 2 * a2 * a2 * rho * rho;
        }
        return nu + 2 * (1 - g2) * (1 - g2) / (a2 * a2) * memory;
    }

    /// <summary>The critical C_W of a residual MLP with identity scale γ (σ_b² = 0): (1 − γ²)/A₂ or (1 − γ²)/σ′(0)²
    /// (eqs. B.20–B.21).</summary>
    public static double ResidualCriticalWeightVariance(Activation act, double gamma) =>
        (1 - gamma * gamma) * Criticality.CriticalWeightVariance(act);

    /// <summary>I(r) = m₁m₂ν²r²/8 − m₁m₂(20 + 3m₁ + 3m₂)ν³r³/48 (eq. A.71, next-to-leading order).</summary>
    public static double MutualInformation(double nu, double r, int m1, int m2) =>
        m1 * (double)m2 * (nu * nu * r * r / 8 - (20.0 + 3 * m1 + 3 * m2) * Math.Pow(nu * r, 3) / 48);

    /// <summary>r* = 4/((20 + 3m₁ + 3m₂)ν) (eq. A.72).</summary>
    public static double RStar(double nu, int m1, int m2)
    {
        if (m1 < 1 || m2 < 1) throw new BadInputException($"Group sizes ({m1}, {m2}) must be ≥ 1.");
        if (!(nu > 0)) throw new BadInputException($"ν = {nu} must be positive.");
        return 4 / ((20.0 + 3 * m1 + 3 * m2) * nu);
    }

    /// <summary>r* for a last layer of width n split in halves (eq. A.73).</summary>
    public static double RStar(double nu, int width) => 4 / ((20.0 + 3 * width) * nu);
}
