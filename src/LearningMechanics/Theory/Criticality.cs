using LearningMechanics.Architecture;
using LearningMechanics.Numerics;

namespace LearningMechanics.Theory;

/// <summary>The universality classes of Roberts &amp; Yaida 2022, ch. 5.</summary>
public enum UniversalityClass
{
    /// <summary>φ(λz) = λφ(z): χ∥ = χ⊥ = σ_w²E[φ′²] for every K (§5.2; ReLU, leaky ReLU, linear).</summary>
    ScaleInvariant,
    /// <summary>φ(0) = 0, φ′(0) ≠ 0 and (−a₁) &gt; 0: a stable fixed point K* = 0 at (σ_b², σ_w²) = (0, 1/σ₁²)
    /// (§5.3; tanh, erf, sin).</summary>
    KStarZero,
    /// <summary>Neither: criticality, if any, is at a nonzero fixed point K* (half-stable for SWISH/GELU-like φ, §5.3.4).</summary>
    Other,
}

/// <summary>Fixed point and susceptibilities at one (σ_b², σ_w²).</summary>
/// <param name="KStar">Fixed point of the single-input kernel recursion (null when the kernel diverges).</param>
/// <param name="ChiParallel">χ∥(K*) = σ_w²·E[zφ′(z)φ(z)]/K* (Roberts &amp; Yaida 2022, eq. 5.50).</param>
/// <param name="ChiPerp">χ⊥(K*) = σ_w²·E[φ′(z)²] (Roberts &amp; Yaida 2022, eq. 5.51).</param>
/// <param name="CStar">Stable fixed point of the correlation map (1 in the ordered phase).</param>
/// <param name="ChiC">Slope of the correlation map at c*: σ_w²·E[φ′(u)φ′(v)] at (K*, c*K*, K*).</param>
/// <param name="DepthParallel">ξ∥ = −1/ln χ∥: depth scale of the approach of K to K* (∞ at criticality).</param>
/// <param name="DepthCorrelation">ξ_c = −1/ln χ_c (Schoenholz et al. 2017): depth scale of correlations approaching c*.</param>
public sealed record CriticalityPoint(double Sb2, double Sw2, double? KStar, double ChiParallel, double ChiPerp, double CStar, double ChiC,
    double DepthParallel, double DepthCorrelation)
{
    /// <summary>"ordered" (χ⊥ &lt; 1), "chaotic" (χ⊥ &gt; 1), "critical", or "divergent" when there is no fixed point.</summary>
    public string Phase => KStar is null ? "divergent" : Math.Abs(ChiPerp - 1) < 1e-6 ? "critical" : ChiPerp < 1 ? "ordered" : "chaotic";
}

/// <summary>The class, critical initialisation and exponents of an activation.</summary>
/// <param name="TaylorA1">a₁ = σ₃/σ₁ + ¾(σ₂/σ₁)² (Roberts &amp; Yaida 2022, eq. 5.86), for the K* = 0 analysis.</param>
/// <param name="TaylorA2">a₂ (eq. 5.87).</param>
/// <param name="TaylorB1">b₁ = σ₃/σ₁ + (σ₂/σ₁)² (eq. 5.88).</param>
/// <param name="Exponents">Critical exponents: for K* = 0, p₀ = 1 (ΔK ≈ 1/((−a₁)ℓ), eq. 5.92), p∥ = 2 (eq. 5.97),
/// p⊥ = b₁/a₁ (eq. 5.99); for the scale-invariant class the kernel is constant (p₀ = 0) and ΔK∥, ΔK⊥ do not decay.</param>
public sealed record CriticalityReport(string Activation, UniversalityClass Class, double? CriticalSb2, double? CriticalSw2,
    double? TaylorA1, double? TaylorA2, double? TaylorB1, IReadOnlyDictionary<string, double> Exponents, string Note);

/// <summary>
/// Criticality analysis (Roberts &amp; Yaida 2022, ch. 5; order and chaos: Poole et al. 2016, Schoenholz et al. 2017):
/// fixed points of K ↦ σ_b² + σ_w²·g(K), g(K) = E[φ(z)²]_{z~N(0,K)}, the susceptibilities χ∥ and χ⊥, the correlation map,
/// depth scales, the critical line χ⊥(K*) = 1 in the (σ_b², σ_w²) plane, and the universality class with its exponents.
/// </summary>
public static class Criticality
{
    /// <summary>g(K) = E[φ(z)²] for z ~ N(0, K) (Roberts &amp; Yaida 2022, eq. 5.5).</summary>
    public static double G(Activation act, double k) =>
        act.HasClosedForm ? act.PairExpectation(k, k, k) : act.Expect(z => act.Apply(z) * act.Apply(z), k);

    /// <summary>χ∥(K) = σ_w²·E[zφ′(z)φ(z)]_K / K (Roberts &amp; Yaida 2022, eq. 5.50).</summary>
    public static double ChiParallel(Initialization init, double k)
    {
        var (act, sw2, _) = init;
        return k <= 0
            ? sw2 * act.Derivative(0) * act.Derivative(0)
            : sw2 * act.Expect(z => z * act.Derivative(z) * act.Apply(z), k) / k;
    }

    /// <summary>χ⊥(K) = σ_w²·E[φ′(z)²]_K (Roberts &amp; Yaida 2022, eq. 5.51).</summary>
    public static double ChiPerp(Initialization init, double k)
    {
        var (act, sw2, _) = init;
        return k <= 0
            ? sw2 * act.Derivative(0) * act.Derivative(0)
            : sw2 * (act.HasClosedForm
                ? act.DerivativePairExpectation(k, k, k)
                : act.Expect(z => act.Derivative(z) * act.Derivative(z), k));
    }

    /// <summary>
    /// The fixed point K* reached from K = <paramref name="start"/> by the monotone recursion K ↦ σ_b² + σ_w²g(K): the
    /// first root of f(K) = σ_b² + σ_w²g(K) − K in the direction f points, found by bracketing on a geometric grid and
    /// Brent. Null when K grows past 10¹⁰ (no fixed point: the kernel diverges with depth); 0 when K decays below 10⁻⁶
    /// (the K* = 0 fixed point, approached as a power law at criticality); the start itself when f vanishes there
    /// (scale-invariant φ at criticality, where every K is a fixed point).
    /// </summary>
    public static double? FixedPoint(Initialization init, double start = 1.0)
    {
        var (act, sw2, sb2) = init;
        double f(double q) => sb2 + sw2 * G(act, q) - q;
        double f0 = f(start);
        if (Math.Abs(f0) <= 1e-12 * start) return start;
        double q = start;
        while (true)
        {
            double next = f0 > 0 ? q * 1.5 : q / 1.5;
            if (next > 1e10) return null;
            if (next < 1e-6) return 0;   // below this, f is at the level of quadrature noise: the K* = 0 fixed point
            double fn = f(next);
            if (f0 > 0 ? fn <= 0 : fn >= 0) return RootFinding.Brent(f, Math.Min(q, next), Math.Max(q, next), 1e-15 * Math.Max(q, next));
            q = next;
        }
    }

    /// <summary>Fixed point, susceptibilities, correlation fixed point and depth scales at (σ_b², σ_w²).</summary>
    public static CriticalityPoint Analyse(Initialization init)
    {
        var (act, sw2, sb2) = init;
        var kStar = FixedPoint(init);
        if (kStar is not { } k)
            return new CriticalityPoint(sb2, sw2, null, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        double chiPar = ChiParallel(init, k);
        double chiPerp = ChiPerp(init, k);
        double c = CorrelationFixedPoint(init, k);
        double chiC = k <= 0 ? chiPerp : sw2 * act.DerivativePairExpectation(k, c * k, k);
        return new CriticalityPoint(sb2, sw2, k, chiPar, chiPerp, c, chiC, DepthScale(chiPar), DepthScale(chiC));
    }

    /// <summary>ξ = −1/ln χ for 0 &lt; χ &lt; 1; ∞ at χ = 1 (to rounding); NaN where the fixed point is unstable (χ &gt;
    /// 1).</summary>
    private static double DepthScale(double chi) =>
        Math.Abs(chi - 1) < 1e-10 ? double.PositiveInfinity : chi is > 0 and < 1 ? -1 / Math.Log(chi) : double.NaN;

    /// <summary>
    /// Stable fixed point of the correlation map c ↦ (σ_b² + σ_w²·E[φ(u)φ(v)])/K* at correlation c, reached from c = 0.5:
    /// c = 1 is always a fixed point; a bracketed root below it is found on a grid of 0.02 and refined by Brent.
    /// </summary>
    public static double CorrelationFixedPoint(Initialization init, double kStar)
    {
        var (act, sw2, sb2) = init;
        if (kStar <= 0) return 1;
        double h(double c) => Math.Clamp((sb2 + sw2 * act.PairExpectation(kStar, c * kStar, kStar)) / kStar, -1, 1) - c;
        double c0 = 0.5;
        double h0 = h(c0);
        if (h0 == 0) return c0;
        double step = h0 > 0 ? 0.02 : -0.02;
        for (double c = c0; ; c += step)
        {
            double next = c + step;
            if (next >= 1 - 1e-12) return 1;
            if (next <= -1) return -1;
            double hn = h(next);
            if (h0 > 0 ? hn <= 0 : hn >= 0) return RootFinding.Brent(h, Math.Min(c, next), Math.Max(c, next), 1e-14);
        }
    }

    /// <summary>
    /// The σ_w² on the critical line χ⊥(K*) = 1 at a given σ_b²: the first crossing from ordered to chaotic in (0.05, 50].
    /// Null when there is none, or when χ⊥(K*) jumps across 1 (the fixed point reached from K = 1 changes branch,
    /// as for GELU and SiLU near σ_b² = 0) instead of crossing it continuously. Where K* grows without bound as the
    /// line is approached (ReLU-like φ with σ_b² &gt; 0) the returned value is that limit.
    /// </summary>
    public static double? CriticalWeightVariance(Activation act, double sb2)
    {
        double f(double sw2) => FixedPoint(new(act, sw2, sb2)) is { } k ? ChiPerp(new(act, sw2, sb2), k) - 1 : 1;
        double lo = 0.05;
        double flo = f(lo);
        for (double hi = 0.1; hi <= 50; hi *= 1.25)
        {
            double fhi = f(hi);
            if (flo < 0 && fhi >= 0)
            {
                double root = RootFinding.Brent(f, lo, hi, 1e-12);
                // A true crossing has χ⊥ = 1 at the root or as its left limit (K* → ∞ for ReLU-like φ); a jump has neither.
                return Math.Abs(f(root)) < 1e-6 || Math.Abs(f(root * (1 - 1e-9))) < 1e-6 ? root : null;
            }
            lo = hi; flo = fhi;
        }
        return null;
    }

    /// <summary>
    /// The critical weight variance at σ_b² = 0. Scale-invariant class (Roberts &amp; Yaida 2022, §5.2): χ = σ_w²·E[φ′(z)²] = 1
    /// independently of K, so σ_w² = 1/E[φ′(z)²] (ReLU: 2, linear: 1). K* = 0 class (eq. 5.90): σ_w² = 1/φ′(0)²
    /// (tanh: 1, erf: π/4).
    /// </summary>
    public static double CriticalWeightVariance(Activation act) => TryCriticalWeightVariance(act)
        ?? throw new BadInputException($"Activation '{act.Name}' has no critical point at σ_b² = 0; give σ_w² and σ_b² explicitly.");

    /// <summary>The critical σ_w² at σ_b² = 0 (see <see cref="CriticalWeightVariance(Activation)"/>), or null when φ has
    /// none.</summary>
    public static double? TryCriticalWeightVariance(Activation act)
    {
        if (act.IsScaleInvariant) return 1 / act.DerivativePairExpectation(1, 1, 1);
        if (!act.IsDifferentiable || act.Apply(0) != 0) return null;
        double d0 = act.Derivative(0);
        return d0 != 0 ? 1 / (d0 * d0) : null;
    }

    /// <summary>
    /// Taylor coefficients σ_p = φ^{(p)}(0), p = 0…5 (Roberts &amp; Yaida's σ(z) = Σ σ_p z^p/p!), from a least-squares polynomial
    /// of degree 11 through φ at 41 Chebyshev points of [−0.4, 0.4] (inside the convergence disc of tanh, erf, …).
    /// </summary>
    public static double[] TaylorCoefficients(Activation act)
    {
        const int points = 41;
        const int degree = 11;
        const double r = 0.4;
        var design = new Matrix(points, degree + 1);
        var y = new double[points];
        for (int i = 0; i < points; i++)
        {
            double t = Math.Cos(Math.PI * (i + 0.5) / points);
            for (int p = 0; p <= degree; p++) design[i, p] = Math.Pow(t, p);
            y[i] = act.Apply(r * t);
        }
        var (beta, _, _) = Statistics.WeightedLeastSquares(design, y, Enumerable.Repeat(1.0, points).ToArray());
        var sigma = new double[6];
        double factorial = 1;
        for (int p = 0; p < 6; p++)
        {
            if (p > 0) factorial *= p;
            sigma[p] = beta[p] / Math.Pow(r, p) * factorial;
        }
        return sigma;
    }

    /// <summary>Classifies φ and reports its critical initialisation and exponents (Roberts &amp; Yaida 2022, §5.2–5.3).</summary>
    public static CriticalityReport Classify(Activation act)
    {
        if (act.IsScaleInvariant)
        {
            double sw2 = CriticalWeightVariance(act);
            return new CriticalityReport(act.Name, UniversalityClass.ScaleInvariant, 0, sw2, null, null, null,
                new Dictionary<string, double> { ["p0"] = 0 },
                "χ∥ = χ⊥ = σ_w²(a₊² + a₋²)/2 for every K: at criticality the kernel is preserved exactly with depth " +
                "(Roberts & Yaida 2022, §5.2).");
        }
        if (!act.IsSmooth)
            return new CriticalityReport(act.Name, UniversalityClass.Other, null, null, null, null, null, new Dictionary<string, double>(),
                "Not smooth at 0, so the Taylor analysis of Roberts & Yaida 2022 (§5.3) does not apply; see the critical line.");
        var s = TaylorCoefficients(act);
        if (Math.Abs(s[0]) < 1e-10 && Math.Abs(s[1]) > 1e-10)
        {
            double r2 = s[2] / s[1];
            double r3 = s[3] / s[1];
            double r4 = s[4] / s[1];
            double r5 = s[5] / s[1];
            double a1 = r3 + 0.75 * r2 * r2;
            double a2 = 0.25 * r5 + 5.0 / 8 * r4 * r2 + 5.0 / 12 * r3 * r3;
            double b1 = r3 + r2 * r2;
            if (a1 < 0)
                return new CriticalityReport(act.Name, UniversalityClass.KStarZero, 0, 1 / (s[1] * s[1]), a1, a2, b1,
                    new Dictionary<string, double> { ["p0"] = 1, ["p_parallel"] = 2, ["p_perp"] = b1 / a1 },
                    $"K* = 0 class: at criticality ΔK ≈ 1/((−a₁)ℓ) = 1/({-a1:G4}ℓ), δK∥ ∝ 1/ℓ², δK⊥ ∝ " +
                    "ℓ^(−b₁/a₁) (Roberts & Yaida 2022, eqs. 5.92, 5.97, 5.99).");
            return new CriticalityReport(act.Name, UniversalityClass.Other, null, null, a1, a2, b1, new Dictionary<string, double>(),
                $"φ(0) = 0 but (−a₁) = {-a1:G4} < 0: the fixed point K* = 0 repels the kernel (Roberts & Yaida 2022, §5.3, as for " +
                "SWISH and GELU); see the critical line.");
        }
        return new CriticalityReport(act.Name, UniversalityClass.Other, null, null, null, null, null, new Dictionary<string, double>(),
            s[0] != 0
                ? $"φ(0) = {s[0]:G4} ≠ 0: no K* = 0 fixed point (Roberts & Yaida 2022, eq. 5.89); see the critical line."
                : "φ′(0) = 0: no K* = 0 fixed point.");
    }
}
