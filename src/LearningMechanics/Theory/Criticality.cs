using LearningMechanics.Numerics;
using LearningMechanics.Theory.Kernels;

namespace LearningMechanics.Theory;

/// <summary>Critical initialisation (seed 004 ch. 5; seed 002 §2.3; claims.md §2.3).</summary>
public static class Criticality
{
    /// <summary>
    /// The critical weight variance at σ_b² = 0. Scale-invariant class (seed 004 §5.2): χ = σ_w²·E[φ′(z)²] = 1
    /// independently of K, so σ_w² = 1/E[φ′(z)²] (ReLU: 2, linear: 1). K* = 0 class (φ(0) = 0, φ′(0) ≠ 0;
    /// seed 004 §5.3): at the fixed point K* = 0 the susceptibilities reduce to σ_w²φ′(0)², so σ_w² = 1/φ′(0)²
    /// (tanh: 1, erf: π/4).
    /// </summary>
    public static double CriticalWeightVariance(Activation act)
    {
        if (act.IsScaleInvariant)
            return 1 / GaussHermite.Expect(z => act.Derivative(z) * act.Derivative(z), 1, 200);
        double d0 = act.Derivative(0);
        if (act.Apply(0) == 0 && d0 != 0) return 1 / (d0 * d0);
        throw new BadInputException($"Activation '{act.Name}' has no critical point at σ_b² = 0; give σ_w² and σ_b² explicitly.");
    }
}
