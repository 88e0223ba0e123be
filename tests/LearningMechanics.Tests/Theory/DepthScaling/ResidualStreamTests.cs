using System.Globalization;
using LearningMechanics.Architecture;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.DepthScaling;
using LearningMechanics.Theory.Kernels;

namespace LearningMechanics.Tests.Theory.DepthScaling;

/// <summary>
/// The residual stream's product formula (Yang et al. 2023; Bordelon et al. 2024) against an independent route: the kernel
/// engine's NNGP of the same residual MLP, whose Residual layer runs K′ = K + s²·K_block step by step; and its depth limits.
/// </summary>
public class ResidualStreamTests
{
    [Theory]
    [InlineData("relu", 0.0, 3)]
    [InlineData("relu", 0.5, 8)]
    [InlineData("relu", 1.0, 8)]
    [InlineData("leaky_relu(0.2)", 0.5, 5)]
    [InlineData("linear", 1.0, 3)]
    public void TheProductFormulaIsTheKernelEnginesRecursion(string act, double alpha, int depth)
    {
        const double sw2 = 1.7;
        var phi = Activation.Parse(act);
        string scale = ResidualStream.BranchScale(depth, alpha).ToString("R", CultureInfo.InvariantCulture);
        string text = "dense(8)-" + string.Join("-", Enumerable.Repeat($"res({phi.Name}-dense(8),{scale})", depth)) + "-dense(1)";
        var x = LearningMechanics.Data.Inputs.ToSphere(TestData.RandomMatrix(1, 5, 2));
        var (k, _) = NeuralKernels.Compute(NetworkSpec.Parse(text, Parameterization.Standard, sw2, 0), x);
        // Readout: K_out = σ_w²·q_L; first layer on |x|² = d: q_0 = σ_w².
        Assert.Equal(ResidualStream.VarianceGrowth(depth, alpha, sw2, phi), k[0, 0] / (sw2 * sw2), 1e-10);
    }

    [Fact]
    public void DepthMupSaturatesCompletePVanishesAndNoScalingExplodes()
    {
        var relu = new Relu();
        Assert.Equal(0.5, ResidualStream.SecondMomentRatio(relu), 1e-12);
        Assert.Equal(Math.E, ResidualStream.VarianceGrowth(1_000_000, 0.5, 2, relu), 1e-5);
        Assert.Equal(1.0, ResidualStream.VarianceGrowth(1_000_000, 1, 2, relu), 1e-5);
        Assert.Equal(Math.Pow(2, 20), ResidualStream.VarianceGrowth(20, 0, 2, relu), 1e-6);
        // α = 1: the quadratic variation is (1 + 1/L²)^L − 1 = 1/L + 1/(2L²) + O(1/L³) at σ_w²c = 1: Θ(1/L), an ODE.
        Assert.Equal(1e-4 + 0.5e-8, ResidualStream.QuadraticVariation(10_000, 1, 2, relu), 1e-12);
        Assert.Equal(Math.E - 1, ResidualStream.QuadraticVariation(1_000_000, 0.5, 2, relu), 1e-5);
    }

    [Fact]
    public void ANonScaleInvariantActivationIsRefused() =>
        Assert.Contains("scale-invariant", Assert.Throws<BadInputException>(() =>
            ResidualStream.VarianceGrowth(4, 0.5, 1, new Tanh())).Message);
}
