using LearningMechanics.Architecture;
using LearningMechanics.Numerics;

namespace LearningMechanics.Tests.Numerics;

public class ProductQuadratureTests
{
    private static readonly double[,] Cov3 = { { 1.2, 0.5, -0.3 }, { 0.5, 0.9, 0.4 }, { -0.3, 0.4, 1.1 } };

    [Fact]
    public void PolynomialsGiveWicksTheorem()
    {
        // E[z₁²z₂z₃] = K₁₁K₂₃ + 2K₁₂K₁₃; E[z₁z₂z₃z₄] = K₁₂K₃₄ + K₁₃K₂₄ + K₁₄K₂₃.
        double e3 = GaussLegendre.ExpectProduct([z => z * z, z => z, z => z], Cov3);
        Assert.Equal(1.2 * 0.4 + 2 * 0.5 * -0.3, e3, 1e-13);
        var c4 = new double[,] { { 1.2, 0.5, -0.3, 0.2 }, { 0.5, 0.9, 0.4, 0.1 }, { -0.3, 0.4, 1.1, 0.3 }, { 0.2, 0.1, 0.3, 1.0 } };
        double e4 = GaussLegendre.ExpectProduct([z => z, z => z, z => z, z => z], c4);
        Assert.Equal(0.5 * 0.3 + -0.3 * 0.1 + 0.2 * 0.4, e4, 1e-13);
    }

    [Fact]
    public void ReluPairMatchesTheArcCosineKernelAndTheGradedPairRule()
    {
        var relu = Activation.Parse("relu");
        Func<double, double> r = relu.Apply;
        Func<double, double> r2 = z => relu.Apply(z) * relu.Apply(z);
        var c = new double[,] { { 1.3, 0.7 }, { 0.7, 0.9 } };
        Assert.Equal(relu.PairExpectation(1.3, 0.7, 0.9), GaussLegendre.ExpectProduct([r, r], c), 1e-13);
        Assert.Equal(GaussLegendre.ExpectPairKinked(r2, r2, 1.3, 0.7, 0.9), GaussLegendre.ExpectProduct([r2, r2], c), 1e-13);
    }

    [Fact]
    public void RepeatedVariableIsFixedAtItsConditionalMean()
    {
        // z₃ = z₂ exactly: E[relu(z₁)²relu(z₂)relu(z₃)] = E[relu(z₁)²relu(z₂)²].
        var relu = Activation.Parse("relu");
        Func<double, double> r = relu.Apply;
        Func<double, double> r2 = z => relu.Apply(z) * relu.Apply(z);
        var dup = new double[,] { { 1.3, 0.7, 0.7 }, { 0.7, 0.9, 0.9 }, { 0.7, 0.9, 0.9 } };
        Assert.Equal(GaussLegendre.ExpectPairKinked(r2, r2, 1.3, 0.7, 0.9), GaussLegendre.ExpectProduct([r2, r, r], dup), 1e-13);
    }

    [Fact]
    public void SmoothThreeDimensionalIntegralMatchesATensorGaussHermiteRule()
    {
        Func<double, double> t = Math.Tanh;
        Func<double, double> t2 = z => Math.Tanh(z) * Math.Tanh(z);
        Func<double, double> s = z => Math.Sin(z) + 0.3;
        var l = Lapack.Cholesky(new Matrix(3, 3, [1.2, 0.5, -0.3, 0.5, 0.9, 0.4, -0.3, 0.4, 1.1]));
        var (x, w) = GaussHermite.Rule(80);
        double reference = 0;
        for (int i = 0; i < x.Length; i++)
            for (int j = 0; j < x.Length; j++)
                for (int k = 0; k < x.Length; k++)
                {
                    double z1 = l[0, 0] * x[i];
                    double z2 = l[1, 0] * x[i] + l[1, 1] * x[j];
                    double z3 = l[2, 0] * x[i] + l[2, 1] * x[j] + l[2, 2] * x[k];
                    reference += w[i] * w[j] * w[k] * t2(z1) * t(z2) * s(z3);
                }
        Assert.Equal(reference, GaussLegendre.ExpectProduct([t2, t, s], Cov3), 1e-7);
    }
}
