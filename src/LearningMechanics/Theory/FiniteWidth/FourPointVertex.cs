using LearningMechanics.Architecture;

namespace LearningMechanics.Theory.FiniteWidth;

/// <summary>Single-input finite-width data of one layer ℓ (preactivations z^{(ℓ)}).</summary>
/// <param name="Layer">ℓ = 1 for the first layer's preactivations; the output of L hidden layers is ℓ = L + 1.</param>
/// <param name="K">Leading-order kernel K^{(ℓ)}.</param>
/// <param name="V">Four-point vertex V^{(ℓ)}: E[z⁴] − 3E[z²]² = 3V/n at order 1/n (Roberts &amp; Yaida 2022, eqs. 4.90,
/// 5.109).</param>
/// <param name="G1">NLO metric G^{{1}(ℓ)}: E[z²] = K + G^{{1}}/n + O(1/n²) (Roberts &amp; Yaida 2022, eq. 5.110).</param>
public sealed record VertexLayer(int Layer, double K, double V, double G1)
{
    /// <summary>V/(nK²)·n = V/K², the normalised vertex per 1/n (Roberts &amp; Yaida 2022, eqs. 5.130–5.131).</summary>
    public double NormalisedVertex => K > 0 ? V / (K * K) : double.NaN;

    /// <summary>Predicted excess kurtosis E[z⁴]/E[z²]² − 3 = 3V/(nK²) at width n (leading order in 1/n).</summary>
    public double ExcessKurtosis(int n) => 3 * NormalisedVertex / n;
}

/// <summary>
/// The single-input 1/n expansion of an MLP (Roberts &amp; Yaida 2022, §5.4): kernel K^{(ℓ+1)} = C_b + C_W g(K^{(ℓ)}), four-point
/// vertex V^{(ℓ+1)} = χ∥(K^{(ℓ)})² V^{(ℓ)} + C_W²[⟨σ⁴⟩ − ⟨σ²⟩²]_{K^{(ℓ)}} (eq. 5.109) and NLO metric
/// G^{{1}(ℓ+1)} = χ∥(K^{(ℓ)}) G^{{1}(ℓ)} + (1/8) j(K^{(ℓ)}) V^{(ℓ)}/K^{(ℓ)2} (eq. 5.110), with
/// j(K) = C_W⟨σ(z)σ(z)[(z²/K)² − 6z²/K + 3]⟩_K (eq. 5.111); first layer K^{(1)} = C_b + C_W·x·x/d, V^{(1)} = G^{{1}(1)} = 0.
/// C_W = σ_w², C_b = σ_b² (fan-in normalised weights, as everywhere in lmech).
/// With residual connections z^{(ℓ+1)} = γ·z^{(ℓ)} + W·σ(z^{(ℓ)}) + b in the hidden layers (Roberts &amp; Yaida 2022, App. B, eq.
/// B.3 with ξ = 1): K′ = C_b + C_W g + γ²K (eq. B.12), the shifted χ∥ = γ² + (C_W/2K²)⟨σσ(z² − K)⟩ (eq. B.15) and
/// V′ = C_W²(⟨σ⁴⟩ − g²) + χ∥²V + 4γ²(χ∥ − γ²)K² (eq. B.26). B.26 is wrong for γ ≠ 0 unless σ² is quadratic:
/// it takes the pair distribution of two neurons for a Gaussian scale mixture, but each residual neuron keeps its own history γz, and
/// its past σ(z^{(p)})² fed into the shared variance. The corrected recursion adds that memory (docs/notes/residual-vertex.md,
/// checked against 10⁶ exact Monte Carlo networks per point and the tests' brute-force residual networks):
/// V′ = B.26 + 2C_Wχ∥Δ_ℓ, Δ_ℓ = C_W Σ_{p&lt;ℓ} X_{ℓp}[⟨σ(x)²σ(y)²⟩ − g_ℓg_p − 2c²g′_ℓg′_p], (x, y) ~
/// N(0, [[K_ℓ, c], [c, K_p]]), c = γ^{ℓ−p}K_p, X_{ℓp} = Π_{m=p+1}^{ℓ−1} χ∥_m. Δ ≡ 0 for γ = 0 and for the linear
/// network. The NLO metric is only given for γ = 0 (NaN otherwise).
/// </summary>
public static class FourPointVertex
{
    /// <summary>
    /// Layers 1…<paramref name="layers"/> for an input with x·x/d = <paramref name="inputNorm"/>; with
    /// <paramref name="gamma"/> ≠ 0 every step is a residual one (γ = 0: the plain MLP). <paramref name="book"/>: the book's
    /// B.26 without the memory term (for comparison; it is wrong for residual networks).
    /// </summary>
    public static IReadOnlyList<VertexLayer> SingleInput(Initialization init, double inputNorm, int layers, double gamma = 0,
        bool book = false)
    {
        var (act, sw2, sb2) = init;
        if (layers < 1) throw new BadInputException($"Depth {layers} must be ≥ 1.");
        if (!(Math.Abs(gamma) < 1))
            throw new BadInputException(
                $"Residual scale γ = {gamma} must satisfy γ² < 1 (Roberts & Yaida 2022, App. B: criticality needs C_W ∝ 1 − γ²).");
        double g2 = gamma * gamma;
        var result = new List<VertexLayer>(layers);
        double k = sb2 + sw2 * inputNorm;
        double v = 0;
        double g1 = gamma == 0 ? 0 : double.NaN;
        var history = new List<(double K, double G, double GPrime, double Chi)>();
        for (int l = 1; l <= layers; l++)
        {
            result.Add(new VertexLayer(l, k, v, g1));
            if (l == layers) break;
            double chi = g2 + Criticality.ChiParallel(init, k);
            double s2 = act.Moment(2, k);
            double s4 = act.Moment(4, k);
            double vNext = chi * chi * v + sw2 * sw2 * (s4 - s2 * s2) + 4 * g2 * (chi - g2) * k * k;
            if (gamma != 0 && !book && sw2 > 0)
            {
                double gPrime = (chi - g2) / sw2;
                vNext += 2 * sw2 * chi * Memory(act, sw2, gamma, k, s2, gPrime, history);
                history.Add((k, s2, gPrime, chi));
            }
            if (gamma == 0)
            {
                double j = sw2 * act.ExpectHe4(act.Apply, k);
                g1 = chi * g1 + (k > 0 ? j * v / (8 * k * k) : 0);
            }
            k = sb2 + sw2 * s2 + g2 * k; v = vNext;
            if (!double.IsFinite(k) || !double.IsFinite(v)) throw new ArithmeticException($"Vertex recursion diverged at layer {l + 1}.");
        }
        return result;
    }

    /// <summary>
    /// Δ_ℓ = C_W Σ_{p&lt;ℓ} X_{ℓp}[⟨σ(x)²σ(y)²⟩ − g_ℓg_p − 2c²g′_ℓg′_p] (docs/notes/residual-vertex.md, §4),
    /// the sum cut where |X_{ℓp}γ^{ℓ−p}| &lt; 10⁻¹³: the memory of layer p fades as γ^{ℓ−p}.
    /// </summary>
    private static double Memory(Activation act, double cw, double gamma, double k, double g, double gPrime,
        List<(double K, double G, double GPrime, double Chi)> history)
    {
        double delta = 0;
        double x = 1;
        double power = 1;
        for (int p = history.Count - 1; p >= 0; p--)
        {
            power *= gamma;
            if (Math.Abs(power * x) < 1e-13) break;
            var h = history[p];
            double c = power * h.K;
            double e2 = act.ExpectSquaredPair(k, c, h.K);
            delta += x * (e2 - g * h.G - 2 * c * c * gPrime * h.GPrime);
            x *= h.Chi;
        }
        return cw * delta;
    }
}
