using LearningMechanics.Architecture;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.FiniteWidth;

namespace LearningMechanics.Tests.Theory.FiniteWidth;

public class OptimalAspectRatioTests
{
    [Theory]
    [InlineData("relu", 5.0)]
    [InlineData("linear", 2.0)]
    [InlineData("tanh", 2.0 / 3)]
    [InlineData("erf", 2.0 / 3)]
    public void NuMatchesTheSeedAndTheVertexRecursion(string name, double nu)
    {
        var act = Activation.Parse(name);
        Assert.Equal(nu, OptimalAspectRatio.Nu(act), 1e-9);
        // Independent route: the large-ℓ slope of V/K² from the recursion at criticality (Roberts & Yaida 2022, eqs. 5.130–5.131).
        var layers = FourPointVertex.SingleInput(new(act, LearningMechanics.Theory.Criticality.CriticalWeightVariance(act), 0), 1, 10_001);
        Assert.Equal(nu, layers[^1].NormalisedVertex / 10_000, act.IsScaleInvariant ? 1e-9 : 2e-3);
        Assert.Throws<BadInputException>(() => OptimalAspectRatio.Nu(new Sigmoid()));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 9)]
    [InlineData(32, 32)]
    public void RStarMaximisesTheMutualInformation(int m1, int m2)
    {
        double nu = 5;
        double r = OptimalAspectRatio.RStar(nu, m1, m2);
        double h = 1e-6 * r;
        double i0 = OptimalAspectRatio.MutualInformation(nu, r, m1, m2);
        Assert.True(i0 > 0);
        Assert.True(i0 > OptimalAspectRatio.MutualInformation(nu, r - h, m1, m2)
            && i0 > OptimalAspectRatio.MutualInformation(nu, r + h, m1, m2));
        // With m₁ = m₂ = n/2 the maximum is (1/6)(n/(20 + 3n))² (Roberts & Yaida 2022, eq. A.74).
        if (m1 == m2) Assert.Equal((2 * m1) * (2.0 * m1) / 6 / Math.Pow(20 + 6.0 * m1, 2), i0, 1e-12);
        if (m1 == m2) Assert.Equal(OptimalAspectRatio.RStar(nu, 2 * m1), r, 1e-15);
    }

    [Theory]
    [InlineData("relu", 0.5)]
    [InlineData("relu", 0.9)]
    [InlineData("tanh", 0.5)]
    [InlineData("erf", 0.8)]
    public void ResidualNuMatchesTheLargeDepthSlopeOfTheResidualVertexRecursion(string name, double gamma)
    {
        // Independent route for eqs. B.29/B.35: the slope of V/K² in ℓ from the residual recursion (B.12, B.15, B.26) at C_W(γ).
        var act = Activation.Parse(name);
        double nu = OptimalAspectRatio.Nu(act, gamma);
        double cw = OptimalAspectRatio.ResidualCriticalWeightVariance(act, gamma);
        var layers = FourPointVertex.SingleInput(new(act, cw, 0), 1, 20_001, gamma, book: true);
        double slope = layers[^1].NormalisedVertex / 20_000;
        Assert.Equal(nu, slope, act.IsScaleInvariant ? 1e-9 : 5e-3 * nu);
        Assert.True(nu < OptimalAspectRatio.Nu(act), "by the book's B.26, residual connections lower ν, raising r*");
    }

    /// <remarks>
    /// The corrected residual recursion (B.26 + the memory term, docs/notes/residual-vertex.md) against residual networks
    /// built by <see cref="Network{T}"/>: dense(n)-[res(relu-dense(n),1,γ)]×6-dense(1), output kurtosis at n = 144. The book's
    /// B.26 alone predicts 0.33; 20 000 networks rule it out (measured ≈ 0.59).
    /// </remarks>
    [Fact]
    public void ResidualVertexRecursionPredictsTheKurtosisOfResidualNetworks()
    {
        const double gamma = 0.7;
        const int n = 144;
        const int blocks = 6;
        const int m = 20000;
        var act = new Relu();
        double cw = OptimalAspectRatio.ResidualCriticalWeightVariance(act, gamma);
        // Linear readout dense(1, sw2 = 1): K_out = K, V_out = V + 2K² (σ = identity: ⟨z⁴⟩ − K² = 2K²).
        double Kurtosis(VertexLayer h) => 3 * (h.V + 2 * h.K * h.K) / (n * h.K * h.K);
        var hidden = FourPointVertex.SingleInput(new(act, cw, 0), 1, blocks + 1, gamma)[^1];
        double kOut = hidden.K;
        double predicted = Kurtosis(hidden);
        double book = Kurtosis(FourPointVertex.SingleInput(new(act, cw, 0), 1, blocks + 1, gamma, book: true)[^1]);
        string arch = $"dense({n})-" + string.Join("-", Enumerable.Repeat($"res(relu-dense({n}),1,{gamma})", blocks)) + "-dense(1,sw2=1)";
        var spec = NetworkSpec.Parse(arch, Parameterization.Ntk, cw, 0);
        var x = LearningMechanics.Data.Inputs.ToSphere(TestData.RandomMatrix(1, 8, 2));
        // Rao–Blackwellised: given the last block, the readout is exactly N(0, K̂) with K̂ = |z|²/n, so the output kurtosis is
        // 3(E[K̂²]/E[K̂]² − 1), K̂ from the readout's input z.
        var kHat = new double[m];
        Blas.SingleThreaded(() => Parallel.For(0, m, () => new Network<double>(spec, 8), (i, _, net) =>
        {
            net.Initialize(new Rng(5).Split((ulong)i));
            var z = LearningMechanics.Measurement.Observables.Representations.Penultimate(net, x);
            kHat[i] = z.Data.Sum(v => v * v) / n;
            return net;
        }, _ => { }));
        var (kurt, se) = LearningMechanics.Measurement.Ensembles.ConditionalKernelEnsemble.Kurtosis(kHat);
        Assert.Equal(kOut, kHat.Average(), 4 * Statistics.StandardError(kHat) + kOut * predicted);
        // Tolerance: 4·SE + the next order. If every layer multiplies E[z⁴]/3E[z²]² by (1 + c/n) (exact for deep linear
        // networks, Π(1 + 2/n_ℓ)), then κ = 3[(1 + c/n)^L − 1] = κ₁ + κ₁²(1 − 1/L)/6 + O(n⁻³) with κ₁ = 3cL/n the
        // leading order: the next order is at most κ₁²/6. A vertex twice the recursion's (κ = 2κ₁) lies κ₁ away, beyond it.
        double nextOrder = predicted * predicted / 6;
        Assert.True(4 * se + nextOrder < predicted, $"the test cannot tell the recursion from twice it: SE {se}, κ₁ {predicted}");
        Assert.True(Math.Abs(kurt - predicted) <= 4 * se + nextOrder, $"kurtosis {kurt} ± {se}, predicted {predicted}");
        Assert.True(Math.Abs(kurt - book) > 4 * se + book * book / 6, $"kurtosis {kurt} ± {se} does not rule out B.26's {book}");
    }

    [Theory]
    [InlineData("relu", 0.5, new[] { 2.25, 5.4775, 9.3684, 13.719, 18.391, 23.290 }, 71.018)]
    [InlineData("tanh", 0.75, new[] { 0.4792, 0.9319, 1.3605 }, 5.4295)]
    public void ResidualMemoryTermMatchesAnIndependentImplementation(string name, double gamma2, double[] early, double at16)
    {
        // V/K² at ℓ = 2, 3, … and ℓ = 16 (x·x/d = 1, C_b = 0, C_W = (1 − γ²)·C_W*) from the one-step Hermite form of the
        // corrected recursion, a separate implementation (Python, docs/notes/residual-vertex.md §4) that agrees with 10⁶
        // exact Monte Carlo networks per point. Five significant digits are quoted there.
        var act = Activation.Parse(name);
        double gamma = Math.Sqrt(gamma2);
        var layers = FourPointVertex.SingleInput(new(act, OptimalAspectRatio.ResidualCriticalWeightVariance(act, gamma), 0), 1, 16,
            gamma);
        for (int i = 0; i < early.Length; i++) Assert.Equal(early[i], layers[i + 1].NormalisedVertex, 5e-5 * early[i] + 1e-4);
        Assert.Equal(at16, layers[15].NormalisedVertex, 5e-5 * at16);
    }

    [Theory]
    [InlineData("relu", 0.5)]
    [InlineData("leaky_relu(0.2)", 0.6)]
    [InlineData("linear", 0.5)]
    public void CorrectedResidualNuIsTheLargeDepthSlopeOfTheCorrectedRecursion(string name, double gamma)
    {
        // Independent route: the slope of V/K² per layer of the corrected recursion between ℓ = 40 and 80, where the
        // memory has reached its geometric fixed point (it settles as γ^ℓ: 0.6⁴⁰ ≈ 1.3·10⁻⁹).
        var act = Activation.Parse(name);
        var init = new Initialization(act, OptimalAspectRatio.ResidualCriticalWeightVariance(act, gamma), 0);
        var layers = FourPointVertex.SingleInput(init, 1, 80, gamma);
        double slope = (layers[79].NormalisedVertex - layers[39].NormalisedVertex) / 40;
        double nu = OptimalAspectRatio.ResidualNu(act, gamma);
        Assert.Equal(nu, slope, 1e-6 * nu);
        if (name == "linear") Assert.Equal(OptimalAspectRatio.Nu(act, gamma), nu, 1e-9);
        // The lab's finding against the book: for ReLU at γ² = 0.25 residual connections raise ν above the plain MLP's 5
        // (measured 6.43 ± 0.04 over ℓ = 10…16 in docs/notes/residual-vertex.md), where B.29 says they lower it to 3.56.
        if (name == "relu") Assert.True(nu > OptimalAspectRatio.Nu(act), $"ν(γ) = {nu} vs plain {OptimalAspectRatio.Nu(act)}");
    }

    /// <remarks>
    /// For the K* = 0 class (tanh at criticality, K_ℓ ~ 1/ℓ) the memory term's share of V/K² falls with depth (≈ 1.7/ℓ at
    /// γ² = 0.5, docs/notes/residual-vertex.md §5b) while V/K² grows linearly, so ν stays the book's B.35. A share that
    /// changed ν would grow like ℓ; here it must shrink from ℓ = 20 to ℓ = 40 and stay below 1 % of V/K².
    /// </remarks>
    [Fact]
    public void TheMemoryTermLeavesTheSlopeOfTheKStarZeroClassUnchanged()
    {
        var act = new Tanh();
        double gamma = Math.Sqrt(0.5);
        var init = new Initialization(act, OptimalAspectRatio.ResidualCriticalWeightVariance(act, gamma), 0);
        var corrected = FourPointVertex.SingleInput(init, 1, 40, gamma);
        var book = FourPointVertex.SingleInput(init, 1, 40, gamma, book: true);
        double Share(int l) => corrected[l - 1].NormalisedVertex - book[l - 1].NormalisedVertex;
        Assert.True(Share(20) > 0 && Share(40) < Share(20), $"memory share {Share(20)} at ℓ = 20, {Share(40)} at ℓ = 40");
        Assert.True(Share(40) < 0.01 * corrected[39].NormalisedVertex, $"share {Share(40)} of V/K² = {corrected[39].NormalisedVertex}");
    }

    [Theory]
    [InlineData("linear", 0.6)]
    [InlineData("relu", 0)]
    [InlineData("tanh", 0)]
    public void TheMemoryTermVanishesForTheLinearNetworkAndThePlainMlp(string name, double gamma)
    {
        var act = Activation.Parse(name);
        var init = new Initialization(act, OptimalAspectRatio.ResidualCriticalWeightVariance(act, gamma), 0);
        var corrected = FourPointVertex.SingleInput(init, 1, 12, gamma);
        var book = FourPointVertex.SingleInput(init, 1, 12, gamma, book: true);
        for (int l = 0; l < 12; l++) Assert.Equal(book[l].V, corrected[l].V, 1e-9 * (1 + book[l].V));
    }
}
