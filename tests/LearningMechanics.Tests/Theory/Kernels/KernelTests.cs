using LearningMechanics.Architecture;
using LearningMechanics.Numerics;
using LearningMechanics.Theory;
using LearningMechanics.Theory.Kernels;

namespace LearningMechanics.Tests.Theory.Kernels;

/// <summary>Closed forms against quadrature, quadrature against Monte Carlo, and known exact properties of the recursion.</summary>
public class KernelTests
{
    /// <summary>Gauss–Legendre rule on [a, b] by Golub–Welsch (Jacobi matrix β_k = k/√(4k² − 1)): an independent route.</summary>
    private static (double[] X, double[] W) Legendre(int q, double a, double b)
    {
        var j = new Matrix(q, q);
        for (int k = 1; k < q; k++) j[k, k - 1] = j[k - 1, k] = k / Math.Sqrt(4.0 * k * k - 1);
        var (x, v) = ManagedLapack.SymmetricEigen(j);
        return (x.Select(t => 0.5 * (b - a) * t + 0.5 * (a + b)).ToArray(),
            Enumerable.Range(0, q).Select(i => (b - a) * v[0, i] * v[0, i]).ToArray());
    }

    private static double Phi(double z) => AndersonDarling.NormalCdf(z);
    private static double Pdf(double z) => Math.Exp(-z * z / 2) / Math.Sqrt(2 * Math.PI);

    /// <summary>
    /// E[relu(u)relu(v)] by conditioning on z₁: u = s₁z₁ > 0 only for z₁ > 0, and E_{z₂}[relu(a + bz₂)] = aΦ(a/b) + bφ(a/b).
    /// The remaining 1-D integral over z₁ ∈ [0, 12] is smooth and done by composite Gauss–Legendre.
    /// </summary>
    private static double ReluByConditioning(double k11, double k12, double k22)
    {
        double s1 = Math.Sqrt(k11);
        double s2 = Math.Sqrt(k22);
        double c = Math.Clamp(k12 / (s1 * s2), -1, 1);
        double sc = Math.Sqrt(1 - c * c);
        double total = 0;
        for (int panel = 0; panel < 12; panel++)
        {
            var (x, w) = Legendre(40, panel, panel + 1);
            for (int i = 0; i < x.Length; i++)
            {
                double z1 = x[i];
                double a = s2 * c * z1;
                double b = s2 * sc;
                double inner = b > 0 ? a * Phi(a / b) + b * Pdf(a / b) : Math.Max(a, 0);
                total += w[i] * Pdf(z1) * s1 * z1 * inner;
            }
        }
        return total;
    }

    public static IEnumerable<object[]> Triples()
    {
        var rng = new Rng(77);
        for (int t = 0; t < 40; t++)
        {
            double k11 = 0.2 + 2.5 * rng.NextDouble();
            double k22 = 0.2 + 2.5 * rng.NextDouble();
            double c = t switch { 0 => 1, 1 => -1, 2 => 0.9999, 3 => -0.999, 4 => 0, _ => 2 * rng.NextDouble() - 1 };
            yield return [k11, c * Math.Sqrt(k11 * k22), k22];
        }
    }

    [Theory]
    [MemberData(nameof(Triples))]
    public void ReluArcCosineAgreesWithAnIndependentQuadrature(double k11, double k12, double k22)
    {
        double closed = new Relu().PairExpectation(k11, k12, k22);
        double numeric = ReluByConditioning(k11, k12, k22);
        Assert.True(Math.Abs(closed - numeric) <= 1e-10 * Math.Abs(closed) + 1e-15, $"closed {closed} vs quadrature {numeric}");
    }

    [Fact]
    public void ReluNearlyOppositeInputsKeepRelativeAccuracy()
    {
        // δ = π − θ small: E = √(k11k22)(sin δ − δ cos δ)/(2π) ≈ √(k11k22)·δ³/(6π); compare with the leading two
        // series terms.
        foreach (double delta in new[] { 1e-2, 1e-3, 1e-5 })
        {
            double c = -Math.Cos(delta);
            double expected = (Math.Pow(delta, 3) / 3 - Math.Pow(delta, 5) / 30) / (2 * Math.PI);
            double got = new Relu().PairExpectation(1, c, 1);
            Assert.True(Math.Abs(got - expected) <= 1e-6 * expected + Math.Pow(delta, 7) / 840, $"δ={delta}: {got} vs {expected}");
        }
        Assert.Equal(0.0, new Relu().PairExpectation(2, -2, 2));
        Assert.Equal(1.0, new Relu().PairExpectation(2, 2, 2), 1e-15);   // opposite and identical inputs exactly
    }

    [Theory]
    [MemberData(nameof(Triples))]
    public void ErfClosedFormAgreesWithGaussHermite(double k11, double k12, double k22)
    {
        var erf = new Erf();
        double closed = erf.PairExpectation(k11, k12, k22);
        double numeric = erf.Quadrature(k11, k12, k22, 160);
        Assert.True(Math.Abs(closed - numeric) <= 1e-10 * Math.Max(Math.Abs(closed), 1e-3), $"closed {closed} vs quadrature {numeric}");
    }

    [Fact]
    public void ScaleInvariantMomentsAgreeWithQuadrature()
    {
        var relu = new Relu();
        Assert.Equal(0.5 * 1.3, relu.Moment(2, 1.3), 1e-14);
        Assert.Equal(1.5 * 1.3 * 1.3, relu.Moment(4, 1.3), 1e-13);
        Assert.Equal(3 * 1.3 * 1.3, new Linear().Moment(4, 1.3), 1e-13);
        Assert.Equal(new Tanh().Moment(2, 0.8), new Tanh().Quadrature(0.8, 0.8, 0.8, 96), 1e-12);
    }

    [Fact]
    public void TanhQuadratureIsConvergedInTheOrder()
    {
        // Monte Carlo for every quadrature activation: QuadratureMonteCarloTests.
        var tanh = new Tanh();
        double q = tanh.PairExpectation(1.4, 0.6, 0.7);
        Assert.True(Math.Abs(q - tanh.Quadrature(1.4, 0.6, 0.7, 256)) <= 1e-10 * Math.Abs(q));
    }

    [Fact]
    public void ReluAtCriticalityPreservesTheDiagonalThroughDepth()
    {
        Assert.Equal(2.0, Criticality.CriticalWeightVariance(new Relu()), 1e-12);
        Assert.Equal(1.0, Criticality.CriticalWeightVariance(new Tanh()), 1e-12);
        Assert.Equal(Math.PI / 4, Criticality.CriticalWeightVariance(new Erf()), 1e-12);
        var x = Matrix.FromRows([[1.0, 2.0, -0.5], [0.3, -1.0, 2.0]]);
        var ks = Nngp.Layers(new MlpSpec(3, 1, 30, new Relu(), 2.0, 0.0), x);
        foreach (var k in ks)
        {
            Assert.Equal(ks[0][0, 0], k[0, 0], 1e-12);
            Assert.Equal(ks[0][1, 1], k[1, 1], 1e-12);
        }
        // Off-diagonal correlations approach 1 with depth (the ReLU fixed point c* = 1).
        double Corr(Matrix k) => k[0, 1] / Math.Sqrt(k[0, 0] * k[1, 1]);
        Assert.True(Corr(ks[30]) > Corr(ks[10]) && Corr(ks[10]) > Corr(ks[0]));
    }

    [Fact]
    public void LinearNetworkKernelIsExactlyScaledInputKernel()
    {
        var x = Matrix.FromRows([[1.0, 0.0], [0.6, 0.8], [-1.0, 0.5]]);
        var k = Nngp.Kernel(new MlpSpec(2, 1, 3, new Linear(), 1.5, 0.0), x);
        var k1 = Nngp.InputKernel(x, 1.5, 0.0);
        for (int i = 0; i < k.Data.Length; i++) Assert.Equal(Math.Pow(1.5, 3) * k1.Data[i], k.Data[i], 1e-13);
    }

    [Theory]
    [InlineData("relu")]
    [InlineData("erf")]
    [InlineData("tanh")]
    public void KernelMatrixIsSymmetricPositiveSemidefinite(string act)
    {
        var x = new Matrix(25, 5);
        new Rng(3).FillGaussian(x.Data);
        var k = Nngp.Kernel(new MlpSpec(5, 1, 4, Activation.Parse(act), 1.8, 0.1), x);
        Assert.Equal(0.0, k.AsymmetryNorm());
        var (values, _) = Lapack.SymmetricEigen(k);
        Assert.True(values[0] >= -1e-12 * values[^1], $"smallest eigenvalue {values[0]}");
    }

    [Fact]
    public void UnknownActivationIsBadInputNamingTheAllowedOnes()
    {
        var e = Assert.Throws<BadInputException>(() => Activation.Parse("swishy"));
        Assert.Contains("swishy", e.Message);
        Assert.Contains("relu", e.Message);
    }
}
