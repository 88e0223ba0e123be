using System.Runtime.Intrinsics;
using LearningMechanics.Architecture;
using LearningMechanics.Numerics;

namespace LearningMechanics.Tests.Architecture;

/// <summary>
/// The engine's own arccos against the C library's, its four-lane form against the scalar one bit for bit, and the
/// vectorised kernel row against the pair-by-pair recursion bit for bit (including the zero-variance, identical-input and
/// near-antipodal entries that take the special branches).
/// </summary>
public class ArcCosineTests
{
    private static double Ulps(double a, double b) =>
        Math.Abs(a - b) / Math.Max(double.Epsilon, Math.BitIncrement(Math.Abs(b)) - Math.Abs(b));

    [Fact]
    public void AcosAgreesWithTheCLibraryToAFewUlp()
    {
        var rng = new Rng(3);
        var xs = new List<double> { -1, -0.5, -0.4999999999, 0, 0.5, 0.5000000001, 1, Math.BitDecrement(1.0), Math.BitIncrement(-1.0) };
        for (int i = 0; i < 200_000; i++) xs.Add(2 * rng.NextDouble() - 1);
        for (int i = 0; i < 20_000; i++) xs.Add(1 - Math.Pow(10, -16 * rng.NextDouble()));    // close to ±1, where acos ~ √(1 − x)
        for (int i = 0; i < 20_000; i++) xs.Add(-1 + Math.Pow(10, -16 * rng.NextDouble()));
        double worst = 0;
        foreach (double x in xs) worst = Math.Max(worst, Ulps(ArcCosine.Acos(x), Math.Acos(x)));
        Assert.True(worst <= 3, $"worst error {worst} ulp");
    }

    [Fact]
    public void FourLanesGiveTheScalarResultBitForBit()
    {
        var rng = new Rng(4);
        for (int i = 0; i < 20_000; i++)
        {
            var x = Vector256.Create(2 * rng.NextDouble() - 1, 1 - rng.NextDouble() * 1e-9, -0.5, 2 * rng.NextDouble() - 1);
            var v = ArcCosine.Acos(x);
            for (int l = 0; l < 4; l++)
                Assert.Equal(BitConverter.DoubleToInt64Bits(ArcCosine.Acos(x[l])), BitConverter.DoubleToInt64Bits(v[l]));
        }
    }

    [Theory]
    [InlineData("relu")]
    [InlineData("leaky_relu(0.1)")]
    public void AVectorisedRowIsThePairRecursionBitForBit(string name)
    {
        var act = Activation.Parse(name);
        var rng = new Rng(5);
        const int n = 203;   // not a multiple of 4: the scalar tail runs too
        double v1 = 1.7;
        var v2 = new double[n];
        var k = new double[n];
        for (int j = 0; j < n; j++)
        {
            v2[j] = 0.2 + 3 * rng.NextDouble();
            double c = j % 17 == 0 ? -1 + 1e-5 * rng.NextDouble() : 2 * rng.NextDouble() - 1;   // some with δ < 0.1: the series
            k[j] = c * Math.Sqrt(v1 * v2[j]);
        }
        v2[5] = 0; k[5] = 0;            // a zero-variance input
        v2[6] = v1; k[6] = v1;          // the same input twice: c = 1 exactly
        var t = Enumerable.Range(0, n).Select(_ => 0.5 + rng.NextDouble()).ToArray();
        var kRow = (double[])k.Clone();
        var tRow = (double[])t.Clone();
        act.KernelRow(v1, v2, kRow, tRow);
        for (int j = 0; j < n; j++)
        {
            var (e, ed) = act.PairAndDerivativeExpectation(v1, k[j], v2[j]);
            Assert.Equal(BitConverter.DoubleToInt64Bits(e), BitConverter.DoubleToInt64Bits(kRow[j]));
            Assert.Equal(BitConverter.DoubleToInt64Bits(t[j] * ed), BitConverter.DoubleToInt64Bits(tRow[j]));
        }
        Assert.Equal(0, kRow[5]);
        Assert.Equal(v1 / 2 * (name == "relu" ? 1 : 0.81) + (name == "relu" ? 0 : 0.1 * v1), kRow[6], 1e-15);
    }
}
