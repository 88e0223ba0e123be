using LearningMechanics.Architecture;

namespace LearningMechanics.Theory.FiniteWidth;

/// <summary>
/// Single-input NTK statistics of layer ℓ at leading order in 1/n (Roberts &amp; Yaida 2022, §9.1): the frozen NTK Θ, the NTK variance
/// tensors A, B with E[ΔĤ_{i1i2}ΔĤ_{i3i4}] = (δ₁₂δ₃₄A + δ₁₃δ₂₄B + δ₁₄δ₂₃B)/n (eq. 8.82) and the
/// NTK–preactivation cross-correlations D, F with E[ΔĤ_{i1i2} z_{i3} z_{i4}] = (δ₁₂δ₃₄D + (δ₁₃δ₂₄ +
/// δ₁₄δ₂₃)F)/n, next to K and V.
/// </summary>
public sealed record NtkLayer(int Layer, double K, double V, double Theta, double A, double B, double D, double F, double H1 = 0)
{
    /// <summary>E[Ĥ_ii] = Θ + H¹/n: the NTK mean at order 1/n.</summary>
    public double Mean(int n) => Theta + H1 / n;

    /// <summary>Var(Ĥ_ii) = (A + 2B)/n: the variance of one output's NTK over initialisations.</summary>
    public double Variance(int n) => (A + 2 * B) / n;

    /// <summary>Var(Ĥ_ii)/Θ²: the relative variance.</summary>
    public double RelativeVariance(int n) => Variance(n) / (Theta * Theta);

    /// <summary>Cov(Ĥ_ii, z_i²) = (D + 2F)/n.</summary>
    public double CrossCovariance(int n) => (D + 2 * F) / n;
}

/// <summary>
/// The leading-order single-input recursions for the NTK's finite-width fluctuations (Roberts &amp; Yaida 2022, eqs. 9.6, 9.13–9.16 in
/// the compact forms 9.20–9.21), in lmech's NTK parameterisation, where the learning rates of the book are
/// λ_b = C_b = σ_b², λ_W = C_W = σ_w² at every layer (so λ_W/C_W = 1 and Θ^{(1)} = K^{(1)}):
/// <list type="bullet">
/// <item>Θ′ = C_b + C_W g + χ⊥Θ;  V′ = χ∥²V + C_W²(⟨σ⁴⟩ − g²);</item>
/// <item>D′ = χ⊥χ∥D + V′ + Θ[C_W²⟨σ²σ′²⟩ − C_W g χ⊥ + 2hχ∥V];  F′ = χ∥²F +
/// C_W²⟨σ²σ′²⟩Θ;</item>
/// <item>B′ = χ⊥²B + C_W²⟨σ′⁴⟩Θ²;  A′ = χ⊥²A − V′ + 2D′ + 4hχ⊥ΘD + Θ²[C_W²⟨σ′⁴⟩ − χ⊥² +
/// 2h²V];</item>
/// </list>
/// with g = ⟨σ²⟩, χ∥ = (C_W/2K²)⟨σ²(z² − K)⟩, χ⊥ = C_W⟨σ′²⟩, h = (C_W/4K²)⟨σ′²(z² − K)⟩ = ½
/// dχ⊥/dK (eqs. 9.8–9.11), all at K^{(ℓ)}, and A = B = D = F = 0 in the first layer (eq. 9.17).
/// The NTK mean's 1/n correction H¹ (E[Ĥ] = Θ + H¹/n) is not written out by Roberts &amp; Yaida (eq. 8.63 stops at O(1/n)); it is
/// derived here from the exact E[Ĥ′_ii] = λ_b + λ_W E[σ²] + C_W E[σ′_j² Ĥ_jj] with the single-neuron Gram–Charlier
/// marginal E[f(z)] = ⟨f⟩_{K+G¹/n} + (V/8nK²)⟨f·He₄⟩, He₄ = z⁴/K² − 6z²/K + 3 (as behind eq. 5.110), and
/// E[f(z_j)ΔĤ_jj] = (D + 2F)/(2nK²)·⟨f(z² − K)⟩ (Stein, as in eqs. 8.59–8.62):
/// H¹′ = χ⊥H¹ + χ∥G¹ + 2hΘG¹ + 2h(D + 2F) + (V/8K²)·C_W[⟨σ²He₄⟩ + Θ⟨σ′²He₄⟩], with H¹ = G¹ = 0 in the
/// first layer. It is checked against Monte Carlo networks in the tests (it vanishes for ReLU at criticality).
/// </summary>
public static class NtkFluctuations
{
    /// <summary>Layers 1…<paramref name="layers"/> for an input with x·x/d = <paramref name="inputNorm"/>.</summary>
    public static IReadOnlyList<NtkLayer> SingleInput(Initialization init, double inputNorm, int layers)
    {
        var (act, sw2, sb2) = init;
        if (layers < 1) throw new BadInputException($"Depth {layers} must be ≥ 1.");
        if (!act.IsDifferentiable) throw new BadInputException($"Activation '{act.Name}' has no derivative: the NTK is undefined.");
        // K, V and the NLO metric G¹ come from the vertex recursion (eqs. 5.109–5.110); this adds Θ, A, B, D, F, H¹.
        var vertex = FourPointVertex.SingleInput(init, inputNorm, layers);
        var result = new List<NtkLayer>(layers);
        double cw = sw2;
        double theta = vertex[0].K;
        double a = 0;
        double b = 0;
        double d = 0;
        double f = 0;
        double h1 = 0;
        for (int l = 1; l <= layers; l++)
        {
            var here = vertex[l - 1];
            result.Add(new NtkLayer(l, here.K, here.V, theta, a, b, d, f, h1));
            if (l == layers) break;
            double kk = here.K;
            double v = here.V;
            double g1 = here.G1;
            double vNext = vertex[l].V;
            double g = act.Moment(2, kk);
            double chiPar = Criticality.ChiParallel(init, kk);
            double chiPerp = Criticality.ChiPerp(init, kk);
            double h = cw / (4 * kk * kk) * act.Expect(z => { double p = act.Derivative(z); return p * p * (z * z - kk); }, kk);
            double ss = act.Expect(z =>
            {
                double s = act.Apply(z);
                double p = act.Derivative(z);
                return s * s * p * p;
            }, kk);
            double p4 = act.Expect(z => { double p = act.Derivative(z); return p * p * p * p; }, kk);
            double dNext = chiPerp * chiPar * d + vNext + theta * (cw * cw * ss - cw * g * chiPerp + 2 * h * chiPar * v);
            double fNext = chiPar * chiPar * f + cw * cw * ss * theta;
            double bNext = chiPerp * chiPerp * b + cw * cw * p4 * theta * theta;
            double aNext = chiPerp * chiPerp * a - vNext + 2 * dNext + 4 * h * chiPerp * theta * d
                + theta * theta * (cw * cw * p4 - chiPerp * chiPerp + 2 * h * h * v);
            double he4S = act.ExpectHe4(act.Apply, kk);
            double he4P = act.ExpectHe4(act.Derivative, kk);
            h1 = chiPerp * h1 + chiPar * g1 + 2 * h * theta * g1 + 2 * h * (d + 2 * f) + v / (8 * kk * kk) * cw * (he4S + theta * he4P);
            theta = sb2 + cw * g + chiPerp * theta;
            a = aNext; b = bNext; d = dNext; f = fNext;
            if (!double.IsFinite(theta) || !double.IsFinite(a) || !double.IsFinite(b))
                throw new ArithmeticException($"NTK fluctuation recursion diverged at layer {l + 1}.");
        }
        return result;
    }
}
