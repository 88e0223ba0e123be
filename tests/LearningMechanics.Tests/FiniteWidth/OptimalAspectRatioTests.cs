using LearningMechanics.Theory.FiniteWidth;
using LearningMechanics.Theory.Kernels;

namespace LearningMechanics.Tests.FiniteWidth;

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
        // Independent route: the large-ℓ slope of V/K² from the recursion at criticality (seed 004 eqs. 5.130–5.131).
        var layers = FourPointVertex.SingleInput(act, LearningMechanics.Theory.Criticality.CriticalWeightVariance(act), 0, 1, 10_001);
        Assert.Equal(nu, layers[^1].NormalisedVertex / 10_000, act.IsScaleInvariant ? 1e-9 : 2e-3);
        Assert.Throws<BadInputException>(() => OptimalAspectRatio.Nu(new Sigmoid()));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 9)]
    [InlineData(32, 32)]
    public void RStarMaximisesTheMutualInformation(int m1, int m2)
    {
        double nu = 5, r = OptimalAspectRatio.RStar(nu, m1, m2), h = 1e-6 * r;
        double i0 = OptimalAspectRatio.MutualInformation(nu, r, m1, m2);
        Assert.True(i0 > 0);
        Assert.True(i0 > OptimalAspectRatio.MutualInformation(nu, r - h, m1, m2) && i0 > OptimalAspectRatio.MutualInformation(nu, r + h, m1, m2));
        // With m₁ = m₂ = n/2 the maximum is (1/6)(n/(20 + 3n))² (seed 004 eq. A.74).
        if (m1 == m2) Assert.Equal((2 * m1) * (2.0 * m1) / 6 / Math.Pow(20 + 6.0 * m1, 2), i0, 1e-12);
        if (m1 == m2) Assert.Equal(OptimalAspectRatio.RStar(nu, 2 * m1), r, 1e-15);
    }
}
