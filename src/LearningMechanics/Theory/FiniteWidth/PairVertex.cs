using LearningMechanics.Architecture;
using LearningMechanics.Numerics;

namespace LearningMechanics.Theory.FiniteWidth;

/// <summary>
/// The four-point vertex and NLO metric for two inputs (Roberts &amp; Yaida 2022, eqs. 4.90, 4.115): <see cref="MultiInputVertex"/> with
/// m = 2, whose pairs are aa, ab, bb (indices 0, 1, 2), so that E[z_{i;p₁}z_{i;p₂}z_{j;q₁}z_{j;q₂}] −
/// E[z_{p₁}z_{p₂}]E[z_{q₁}z_{q₂}] = V[p, q]/n for neurons i ≠ j (eq. 4.77). Also home of the pair expectation's diagonal
/// derivative ∂E[σσ]/∂K_{aa} that the multi-input Jacobian uses. For a single input it reduces to eq. 5.109
/// (V′ = χ∥²V + C_W²(⟨σ⁴⟩ − g²)).
/// </summary>
public static class PairVertex
{
    /// <summary>Layers 1…<paramref name="layers"/> for inputs with x_a·x_a/d, x_a·x_b/d, x_b·x_b/d given.</summary>
    public static IReadOnlyList<MultiInputVertexLayer> Compute(Initialization init, double aa, double ab, double bb, int layers)
    {
        if (!(aa > 0 && bb > 0) || ab * ab > aa * bb * (1 + 1e-12))
            throw new BadInputException($"Input Gram ({aa}, {ab}, {bb}) is not positive semidefinite.");
        var gram = new Matrix(2, 2, [aa, ab, ab, bb]);
        return MultiInputVertex.Compute(init, gram, layers);
    }

    /// <summary>
    /// ∂E[σ(u)σ(v)]/∂K_{uu} (or ∂/∂K_{vv}): a central difference of the pair expectation inside the PSD cone; at its edge
    /// (|c| → 1, where lowering K_{uu} leaves it) Price's form ½E[σ″(u)σ(v)], with the kink's delta function written out.
    /// </summary>
    internal static double PartialDiagonal(Activation act, double k11, double k12, double k22, bool first)
    {
        double kk = first ? k11 : k22;
        double room = first ? k11 - k12 * k12 / k22 : k22 - k12 * k12 / k11;
        double At(double dh) => first ? act.PairExpectation(k11 + dh, k12, k22) : act.PairExpectation(k11, k12, k22 + dh);
        if (room > 1e-6 * kk)
        {
            double h = Math.Min(1e-4 * kk, 0.5 * room);
            return (At(h) - At(-h)) / (2 * h);
        }
        // Price at the edge: ½E[σ″(u)σ(v)] with σ″ = its regular part plus Δσ′(0)·δ(u) for a kink at 0 (ReLU, leaky ReLU,
        // abs): the delta contributes ½Δσ′·p_u(0)·E[σ(v) | u = 0], v | u = 0 ~ N(0, K_vv − K_uv²/K_uu).
        double jump = act.Derivative(1e-12) - act.Derivative(-1e-12);
        double ku = first ? k11 : k22;
        double kv = first ? k22 : k11;
        double regular = first ? GaussLegendre.ExpectPairKinked(act.SecondDerivative, act.Apply, k11, k12, k22)
                               : GaussLegendre.ExpectPairKinked(act.Apply, act.SecondDerivative, k11, k12, k22);
        double sd = Math.Sqrt(Math.Max(kv - k12 * k12 / ku, 0));
        double delta = jump == 0 ? 0 : jump / Math.Sqrt(2 * Math.PI * ku) * GaussLegendre.ExpectNormal(z => act.Apply(sd * z));
        return 0.5 * (regular + delta);
    }
}
