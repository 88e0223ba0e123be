using LearningMechanics.Architecture;

namespace LearningMechanics.Tests.Architecture;

/// <summary>The kernel recursion's dense-layer coefficients are the finite networks' parameterisation table, read another way.</summary>
public class ParameterRuleTests
{
    [Theory]
    [InlineData(Parameterization.Ntk, 3, 0.7, 0.0)]
    [InlineData(Parameterization.Ntk, 64, 2.0, 0.3)]
    [InlineData(Parameterization.Ntk, 1000, 1.3, 1.0)]
    [InlineData(Parameterization.Standard, 3, 0.7, 0.0)]
    [InlineData(Parameterization.Standard, 64, 2.0, 0.3)]
    [InlineData(Parameterization.Standard, 1000, 1.3, 1.0)]
    public void DenseKernelCoefficientsFollowFromTheTable(Parameterization p, int fanIn, double sw2, double sb2)
    {
        var kernel = ParameterRule.DenseKernel(p, fanIn, sw2, sb2);
        foreach (var (weightRole, biasRole) in new[]
        {
            (ParameterRole.InputWeight, ParameterRole.HiddenBias),
            (ParameterRole.HiddenWeight, ParameterRole.HiddenBias),
            (ParameterRole.ReadoutWeight, ParameterRole.ReadoutBias),
        })
        {
            var w = ParameterRule.For(p, weightRole, fanIn, fanIn, sw2, sb2);
            var b = ParameterRule.For(p, biasRole, fanIn, fanIn, sw2, sb2);
            // Variance of z: (m_W·s_W)²·k·K + (m_b·s_b)²; tangent of the layer's own parameters: m_W²·k·c_W·K + m_b²·c_b.
            AssertClose(Math.Pow(w.Multiplier * w.InitStd, 2) * fanIn, kernel.Sw2);
            AssertClose(Math.Pow(b.Multiplier * b.InitStd, 2), kernel.Sb2);
            double weightTangent = w.Multiplier * w.Multiplier * fanIn * w.SgdFactor;
            double biasTangent = b.Multiplier * b.Multiplier * b.SgdFactor;
            AssertClose(weightTangent, kernel.WeightTangent);
            AssertClose(biasTangent, kernel.BiasTangent);
            if (kernel.TangentIsOutputKernel)
            {
                AssertClose(kernel.Sw2, kernel.WeightTangent);
                AssertClose(kernel.Sb2, kernel.BiasTangent);
            }
        }
    }

    [Theory]
    [InlineData(Parameterization.MuP)]
    [InlineData(Parameterization.MeanField)]
    public void FeatureLearningParameterisationsHaveNoKernel(Parameterization p)
    {
        var e = Assert.Throws<BadInputException>(() => ParameterRule.DenseKernel(p, 16, 2, 0));
        Assert.Contains("learns features", e.Message);
    }

    private static void AssertClose(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-13 * Math.Max(1, Math.Abs(expected)), $"expected {expected}, got {actual}");
}
