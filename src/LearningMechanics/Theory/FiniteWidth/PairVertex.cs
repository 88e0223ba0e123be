using LearningMechanics.Numerics;
using LearningMechanics.Theory.Kernels;

namespace LearningMechanics.Theory.FiniteWidth;

/// <summary>
/// Kernel and four-point vertex of one layer for a pair of inputs a, b. Pair indices p ∈ {aa, ab, bb} (0, 1, 2):
/// K[p] = K_{aa}, K_{ab}, K_{bb}; V[p, q] = V_{(p)(q)}, so that for neurons i ≠ j the preactivations satisfy
/// E[z_{i;p₁}z_{i;p₂}z_{j;q₁}z_{j;q₂}] − E[z_{p₁}z_{p₂}]E[z_{q₁}z_{q₂}] = V_{(p)(q)}/n (seed 004 eq. 4.77).
/// </summary>
public sealed record PairVertexLayer(int Layer, double[] K, double[,] V);

/// <summary>
/// The multi-input four-point vertex recursion (seed 004 eq. 4.90) for two inputs:
/// V′_{(α₁α₂)(α₃α₄)} = C_W²[⟨σ_{α₁}σ_{α₂}σ_{α₃}σ_{α₄}⟩ − ⟨σ_{α₁}σ_{α₂}⟩⟨σ_{α₃}σ_{α₄}⟩]
///   + (C_W²/4) Σ_{γδγ′δ′} V_{(γδ)(γ′δ′)}⟨∂_γ∂_δ(σ_{α₁}σ_{α₂})⟩⟨∂_{γ′}∂_{δ′}(σ_{α₃}σ_{α₄})⟩,
/// where the seed's ⟨σσ(z_{β₁}z_{β₂} − K_{β₁β₂})⟩ contracted with the inverse kernels of the raised indices has been
/// reduced by Wick/Stein to the second-derivative form. The second derivatives come from Price's theorem:
/// ⟨∂_a∂_b(σ_aσ_b)⟩ = ∂E[σσ]/∂K_{ab} (the NTK's ⟨σ′σ′⟩), ⟨∂_a²(σ_aσ_b)⟩ = 2∂E[σσ]/∂K_{aa} (central differences of the
/// pair expectation), ⟨∂_a²σ_a²⟩ = 2g′(K_{aa}). Four-function expectations are 2-D integrals (kink-aware Gauss–Legendre).
/// For a single input it reduces to eq. 5.109 (V′ = χ∥²V + C_W²(⟨σ⁴⟩ − g²)). First layer: V = 0.
/// </summary>
public static class PairVertex
{
    /// <summary>Layers 1…<paramref name="layers"/> for inputs with x_a·x_a/d, x_a·x_b/d, x_b·x_b/d given.</summary>
    public static IReadOnlyList<PairVertexLayer> Compute(Activation act, double sw2, double sb2, double aa, double ab, double bb, int layers)
    {
        if (layers < 1) throw new BadInputException($"Depth {layers} must be ≥ 1.");
        if (!(aa > 0 && bb > 0) || ab * ab > aa * bb * (1 + 1e-12)) throw new BadInputException($"Input Gram ({aa}, {ab}, {bb}) is not positive semidefinite.");
        double cw = sw2;
        var k = new[] { sb2 + cw * aa, sb2 + cw * ab, sb2 + cw * bb };
        var v = new double[3, 3];
        var result = new List<PairVertexLayer>(layers);
        int[] mult = [1, 2, 1];
        for (int l = 1; l <= layers; l++)
        {
            result.Add(new PairVertexLayer(l, (double[])k.Clone(), (double[,])v.Clone()));
            if (l == layers) break;
            double k11 = k[0], k12 = k[1], k22 = k[2];
            // Two-point expectations ⟨σσ⟩_p.
            var two = new[] { act.Moment(2, k11), act.PairExpectation(k11, k12, k22), act.Moment(2, k22) };
            // Four-point expectations ⟨σσσσ⟩_{pq}: powers (i, j) of (σ_a, σ_b) with i + j = 4.
            double E(int i, int j) => i == 4 ? act.Moment(4, k11) : j == 4 ? act.Moment(4, k22)
                : GaussLegendre.ExpectPairKinked(z => Math.Pow(act.Apply(z), i), z => Math.Pow(act.Apply(z), j), k11, k12, k22);
            int[] pa = [2, 1, 0];   // power of σ_a in pair p: aa → 2, ab → 1, bb → 0
            var four = new double[3, 3];
            for (int p = 0; p < 3; p++) for (int q = p; q < 3; q++) four[p, q] = four[q, p] = E(pa[p] + pa[q], 4 - pa[p] - pa[q]);
            // d[p, r] = ⟨∂_γ∂_δ F_p⟩ for the unordered derivative pair r ∈ {aa, ab, bb}.
            var d = new double[3, 3];
            d[0, 0] = 2 * Criticality.ChiParallel(act, 1, k11);            // ⟨∂²σ²⟩ = 2g′(K)
            d[2, 2] = 2 * Criticality.ChiParallel(act, 1, k22);
            d[1, 1] = act.DerivativePairExpectation(k11, k12, k22);          // ∂E[σσ]/∂K_ab
            d[1, 0] = 2 * PartialDiagonal(act, k11, k12, k22, first: true);  // 2∂E[σσ]/∂K_aa
            d[1, 2] = 2 * PartialDiagonal(act, k11, k12, k22, first: false);
            var next = new double[3, 3];
            for (int p = 0; p < 3; p++)
                for (int q = p; q < 3; q++)
                {
                    double s = 0;
                    for (int r = 0; r < 3; r++)
                        for (int t = 0; t < 3; t++) s += mult[r] * mult[t] * v[r, t] * d[p, r] * d[q, t];
                    next[p, q] = next[q, p] = cw * cw * (four[p, q] - two[p] * two[q]) + cw * cw / 4 * s;
                }
            k = [sb2 + cw * two[0], sb2 + cw * two[1], sb2 + cw * two[2]];
            v = next;
        }
        return result;
    }

    /// <summary>
    /// ∂E[σ(u)σ(v)]/∂K_{uu} (or ∂/∂K_{vv}): a central difference of the pair expectation inside the PSD cone; at its edge
    /// (|c| → 1, where lowering K_{uu} leaves it) Price's form ½E[σ″(u)σ(v)], with the kink's delta function written out.
    /// </summary>
    private static double PartialDiagonal(Activation act, double k11, double k12, double k22, bool first)
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
        double ku = first ? k11 : k22, kv = first ? k22 : k11;
        double regular = first ? GaussLegendre.ExpectPairKinked(act.SecondDerivative, act.Apply, k11, k12, k22)
                               : GaussLegendre.ExpectPairKinked(act.Apply, act.SecondDerivative, k11, k12, k22);
        double sd = Math.Sqrt(Math.Max(kv - k12 * k12 / ku, 0));
        double delta = jump == 0 ? 0 : jump / Math.Sqrt(2 * Math.PI * ku) * GaussLegendre.ExpectNormal(z => act.Apply(sd * z));
        return 0.5 * (regular + delta);
    }
}
