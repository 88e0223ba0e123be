using LearningMechanics.Architecture;
using LearningMechanics.Theory;

namespace LearningMechanics.Tests.Theory;

/// <summary>
/// Criticality against hand-derived Taylor coefficients (Roberts &amp; Yaida 2022, eqs. 5.86–5.90) and against iterating the maps.
/// </summary>
public class CriticalityTests
{
    [Theory]
    // tanh = z − z³/3 + 2z⁵/15: σ₁ = 1, σ₃ = −2, σ₅ = 16 ⇒ a₁ = −2, a₂ = 17/3, b₁ = −2 (Roberts & Yaida 2022,
    // below eq. 5.88).
    [InlineData("tanh", 1.0, -2.0, 17.0 / 3, -2.0)]
    // sin: σ₁ = 1, σ₃ = −1, σ₅ = 1 ⇒ a₁ = −1, a₂ = 1/4 + 5/12 = 2/3, b₁ = −1.
    [InlineData("sin", 1.0, -1.0, 2.0 / 3, -1.0)]
    // erf = (2/√π)(z − z³/3 + z⁵/10): σ₃/σ₁ = −2, σ₅/σ₁ = 12 ⇒ a₁ = −2, a₂ = 3 + 5/3, b₁ = −2; C_W =
    // π/4.
    [InlineData("erf", Math.PI / 4, -2.0, 14.0 / 3, -2.0)]
    public void KStarZeroClassMatchesHandDerivedCoefficients(string name, double sw2, double a1, double a2, double b1)
    {
        var r = Criticality.Classify(Activation.Parse(name));
        Assert.Equal(UniversalityClass.KStarZero, r.Class);
        Assert.Equal(0.0, r.CriticalSb2);
        Assert.Equal(sw2, r.CriticalSw2!.Value, 1e-8);
        Assert.Equal(a1, r.TaylorA1!.Value, 1e-6);
        Assert.Equal(b1, r.TaylorB1!.Value, 1e-6);
        Assert.Equal(a2, r.TaylorA2!.Value, 1e-3);
        Assert.Equal(1.0, r.Exponents["p_perp"], 1e-6);   // odd activations: p⊥ = 1 (Roberts & Yaida 2022, after eq. 5.99)
    }

    [Fact]
    public void ScaleInvariantAndRepelledClasses()
    {
        var relu = Criticality.Classify(new Relu());
        Assert.Equal(UniversalityClass.ScaleInvariant, relu.Class);
        Assert.Equal(2.0, relu.CriticalSw2!.Value, 1e-12);
        // 1/E[φ′²] = 2/(a₊² + a₋²)
        Assert.Equal(2 / (1 + 0.2 * 0.2), Criticality.Classify(new LeakyRelu(0.2)).CriticalSw2!.Value, 1e-10);
        // ReLU: χ∥ = χ⊥ = σ_w²/2 for every K.
        foreach (double k in new[] { 0.3, 1.0, 7.0 })
        {
            Assert.Equal(0.75, Criticality.ChiParallel(new(new Relu(), 1.5, 0), k), 1e-12);
            Assert.Equal(0.75, Criticality.ChiPerp(new(new Relu(), 1.5, 0), k), 1e-12);
        }
        // GELU and SiLU vanish at 0 with φ′(0) ≠ 0 but (−a₁) < 0: K* = 0 repels (Roberts & Yaida 2022, §5.3).
        foreach (var name in new[] { "gelu", "silu" })
        {
            var r = Criticality.Classify(Activation.Parse(name));
            Assert.Equal(UniversalityClass.Other, r.Class);
            Assert.True(r.TaylorA1 > 0);
        }
        Assert.Equal(UniversalityClass.Other, Criticality.Classify(new Sigmoid()).Class);
    }

    [Theory]
    [InlineData("tanh", 0.05, 1.5)]
    [InlineData("tanh", 0.3, 3.5)]
    [InlineData("erf", 0.1, 1.0)]
    public void SusceptibilitiesAreTheSlopesOfTheIteratedMaps(string name, double sb2, double sw2)
    {
        var act = Activation.Parse(name);
        var p = Criticality.Analyse(new(act, sw2, sb2));
        double kStar = p.KStar!.Value;
        // Single-input map: (K_{ℓ+1} − K*)/(K_ℓ − K*) → χ∥ (Roberts & Yaida 2022, eq. 5.10).
        double k = kStar * 1.05;
        double d0 = k - kStar;
        k = sb2 + sw2 * Criticality.G(act, k);
        double d1 = k - kStar;
        k = sb2 + sw2 * Criticality.G(act, k); double d2 = k - kStar;
        Assert.Equal(p.ChiParallel, d2 / d1, 2e-3 + Math.Abs(d2 / d1 - d1 / d0));   // converging ratio; tolerance from its drift
        // Correlation map near c*: (c_{ℓ+1} − c*)/(c_ℓ − c*) → χ_c.
        double c = p.CStar - 1e-4;
        double Map(double cc) => (sb2 + sw2 * act.PairExpectation(kStar, cc * kStar, kStar)) / kStar;
        double r1 = (Map(c) - p.CStar) / (c - p.CStar);
        Assert.Equal(p.ChiC, r1, 1e-3);
        Assert.Equal(-1 / Math.Log(p.ChiC), p.DepthCorrelation, 1e-9);
    }

    [Fact]
    public void CriticalLineSeparatesOrderFromChaos()
    {
        var tanh = new Tanh();
        foreach (double sb2 in new[] { 0.05, 0.2, 0.5 })
        {
            double w = Criticality.CriticalWeightVariance(tanh, sb2)!.Value;
            var on = Criticality.Analyse(new(tanh, w, sb2));
            Assert.Equal(1.0, on.ChiPerp, 1e-8);
            Assert.Equal("ordered", Criticality.Analyse(new(tanh, 0.9 * w, sb2)).Phase);
            Assert.Equal("chaotic", Criticality.Analyse(new(tanh, 1.1 * w, sb2)).Phase);
            Assert.True(Criticality.Analyse(new(tanh, 1.1 * w, sb2)).CStar < 1);
        }
        // tanh's critical line tends to (σ_b², σ_w²) = (0, 1) as σ_b² → 0 (Roberts & Yaida 2022, eq. 5.90).
        double w1 = Criticality.CriticalWeightVariance(tanh, 1e-3)!.Value;
        double w2 = Criticality.CriticalWeightVariance(tanh, 1e-4)!.Value;
        Assert.True(w2 < w1 && w1 < 1.2 && Math.Abs(w2 - 1) < Math.Abs(w1 - 1), $"σ_w²(1e-3) = {w1}, σ_w²(1e-4) = {w2}");
        Assert.Null(Criticality.FixedPoint(new(new Relu(), 2.5, 0.1)));          // ReLU above σ_w² = 2: the kernel diverges
        Assert.Equal(0.0, Criticality.FixedPoint(new(new Tanh(), 1, 0))!.Value);  // tanh at criticality: K* = 0
    }
}
