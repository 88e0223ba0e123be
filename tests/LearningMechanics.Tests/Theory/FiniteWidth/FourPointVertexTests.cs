using LearningMechanics.Architecture;
using LearningMechanics.Experiments;
using LearningMechanics.Measurement.Ensembles;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.FiniteWidth;
using LearningMechanics.Theory.Kernels;

namespace LearningMechanics.Tests.Theory.FiniteWidth;

/// <summary>
/// The vertex recursion (Roberts &amp; Yaida 2022, eq. 5.109) against its asymptotic solutions, exact results and networks.
/// </summary>
public class FourPointVertexTests
{
    [Theory]
    [InlineData("relu", 2.0, 5.0, 1e-9)]              // 3A₄/A₂² − 1 with A₂ = 1/2, A₄ = 1/2 (eq. 5.130)
    [InlineData("linear", 1.0, 2.0, 1e-9)]            // deep linear network: a₊ = a₋ = 1
    [InlineData("leaky_relu(0.5)", 1.6, 3.08, 1e-9)]               // A₂ = (1 + 0.25)/2, A₄ = (1 + 0.0625)/2: 3A₄/A₂² − 1 = 3.08
    [InlineData("tanh", 1.0, 2.0 / 3, 2e-3)]          // K* = 0 class (eq. 5.131), approached with log(ℓ)/ℓ corrections
    public void LargeDepthCoefficientsMatchTheSeed(string act, double sw2, double coefficient, double tolerance)
    {
        var layers = FourPointVertex.SingleInput(new(Activation.Parse(act), sw2, 0), 1, 10_001);
        Assert.Equal(coefficient, layers[^1].NormalisedVertex / (layers.Count - 1), tolerance);
    }

    [Fact]
    public void ReluVertexIsTheLeadingTermOfTheExactKurtosisAndItsMetricCorrectionVanishes()
    {
        var layers = FourPointVertex.SingleInput(new(new Relu(), 2, 0), 1, 6);
        for (int l = 1; l < layers.Count; l++)
        {
            Assert.Equal(5.0 * l, layers[l].NormalisedVertex, 1e-10);        // exact: 3((1 + 5/n)^ℓ − 1) = 15ℓ/n + O(1/n²)
            Assert.Equal(0.0, layers[l].G1, 1e-12);                            // E[relu(z)²] = E[z²]/2: no 1/n shift of K
        }
    }

    [Fact]
    public void OneLayerVertexEqualsTheExactOneLayerKurtosis()
    {
        var spec = new MlpSpec(2, 64, 1, new Tanh(), 1.3, 0.2);
        var k1 = Nngp.InputKernel(Matrix.FromRows([[1.0, 1.0]]), 1.3, 0.2);
        var layers = FourPointVertex.SingleInput(new(new Tanh(), 1.3, 0.2), 1.0, 2);
        // Written out: K̂ = σ_b² + σ_w²Σφ(z_j)²/n with z_j iid N(0, K¹), so κ = 3Var(K̂)/E[K̂]² = 3σ_w⁴Var(φ²)/(n(σ_b²
        // + σ_w²E[φ²])²).
        var tanh = new Tanh();
        double q = k1[0, 0];
        double e2 = LearningMechanics.Numerics.GaussHermite.Expect(z => Math.Pow(Math.Tanh(z), 2), q, 200);
        double e4 = LearningMechanics.Numerics.GaussHermite.Expect(z => Math.Pow(Math.Tanh(z), 4), q, 200);
        double expected = 3 * 1.3 * 1.3 * (e4 - e2 * e2) / (64 * Math.Pow(0.2 + 1.3 * e2, 2));
        Assert.Equal(expected, layers[1].ExcessKurtosis(64), 1e-12);
        Assert.Equal(expected, GpLimitExperiment.ExactKurtosis(spec, k1, 1, 64)!.Value, 1e-12);
    }

    [Fact]
    public void NloMetricPredictsTheMeanKernelShiftOfTanhNetworks()
    {
        // E[K̂] − K = G¹/n + O(1/n²): measured at width 32 and depth 3 (the shift is ~1 % of K, the SE ~0.1 %).
        var spec = new MlpSpec(16, 32, 3, new Tanh(), 1.0, 0.0);
        var x = LearningMechanics.Data.Inputs.ToSphere(Matrix.FromRows([Enumerable.Range(0, 16).Select(i => Math.Cos(i + 0.5)).ToArray()]));
        var draws = ConditionalKernelEnsemble.Sample([spec], [32], 20_000, x, new Rng(11));
        var kc = draws[0].Kc[0][2][0];
        var theory = FourPointVertex.SingleInput(new(new Tanh(), 1.0, 0.0), 1.0, 4)[3];
        double shift = Statistics.Mean(kc) - theory.K;
        double se = Statistics.StandardError(kc);
        double predicted = theory.G1 / 32;
        Assert.True(predicted < 0 && Math.Abs(predicted) > 3 * se, $"the test needs a resolvable shift: G¹/n = {predicted}, SE {se}");
        // Tolerance: 4 SE plus the next order, estimated as (V/K²)/n times the predicted shift.
        Assert.True(Math.Abs(shift - predicted) <= 4 * se + Math.Abs(predicted) * theory.NormalisedVertex / 32,
            $"measured shift {shift} ± {se}, predicted G¹/n = {predicted}");
    }
}
