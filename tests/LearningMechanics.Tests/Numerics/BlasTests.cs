using LearningMechanics.Numerics;

namespace LearningMechanics.Tests.Numerics;

/// <summary>The OpenBLAS path against the managed fallback (and both against a naive triple loop).</summary>
public class BlasTests
{
    private static double[] Random(Rng rng, int n) { var a = new double[n]; rng.FillGaussian(a); return a; }

    private static double[] Naive(Transpose ta, Transpose tb, int m, int n, int k, double alpha, double[] a, int lda, double[] b, int ldb,
        double beta, double[] c0, int ldc)
    {
        var c = (double[])c0.Clone();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                    s += (ta == Transpose.No ? a[i * lda + p] : a[p * lda + i]) * (tb == Transpose.No ? b[p * ldb + j] : b[j * ldb + p]);
                c[i * ldc + j] = alpha * s + beta * c[i * ldc + j];
            }
        return c;
    }

    [Fact]
    public void NativeBackendIsLoadedUnlessManagedIsForced()
    {
        if (Environment.GetEnvironmentVariable("LMECH_BLAS") == "managed") Assert.Equal("managed", Blas.Backend);
        else Assert.Equal("openblas", Blas.Backend);   // the test script installs libopenblas0-pthread
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 5, 7)]
    [InlineData(17, 33, 9)]
    [InlineData(130, 67, 300)]   // crosses the managed kernel's MC and KC block edges
    public void GemmAgreesAcrossBackendsForAllTransposes(int m, int n, int k)
    {
        var rng = new Rng(7);
        foreach (var ta in new[] { Transpose.No, Transpose.Yes })
            foreach (var tb in new[] { Transpose.No, Transpose.Yes })
            {
                int lda = ta == Transpose.No ? k : m;
                int ldb = tb == Transpose.No ? n : k;
                var a = Random(rng, m * k);
                var b = Random(rng, k * n);
                var c = Random(rng, m * n);
                var expected = Naive(ta, tb, m, n, k, 0.7, a, lda, b, ldb, -0.3, c, n);
                var native = (double[])c.Clone();
                var managed = (double[])c.Clone();
                Blas.Gemm(ta, tb, m, n, k, 0.7, a, lda, b, ldb, -0.3, native, n);
                ManagedBlas.Gemm(ta, tb, m, n, k, 0.7, a, lda, b, ldb, -0.3, managed, n);
                double scale = Math.Sqrt(k) * 4;
                for (int i = 0; i < expected.Length; i++)
                {
                    Assert.True(Math.Abs(native[i] - expected[i]) <= 1e-13 * scale,
                        $"native {ta}{tb} entry {i}: {native[i]} vs {expected[i]}");
                    Assert.True(Math.Abs(managed[i] - expected[i]) <= 1e-13 * scale,
                        $"managed {ta}{tb} entry {i}: {managed[i]} vs {expected[i]}");
                }
            }
    }

    [Fact]
    public void GemmWithZeroBetaIgnoresNaNInOutput()
    {
        var a = new double[] { 1, 2, 3, 4 };
        var b = new double[] { 1, 0, 0, 1 };
        var c1 = new double[] { double.NaN, double.NaN, double.NaN, double.NaN };
        var c2 = (double[])c1.Clone();
        Blas.Gemm(Transpose.No, Transpose.No, 2, 2, 2, 1, a, 2, b, 2, 0, c1, 2);
        ManagedBlas.Gemm(Transpose.No, Transpose.No, 2, 2, 2, 1.0, a, 2, b, 2, 0.0, c2, 2);
        Assert.Equal(a, c1); Assert.Equal(a, c2);
    }

    [Fact]
    public void SinglePrecisionGemmAgrees()
    {
        var rng = new Rng(3);
        int m = 37;
        int n = 45;
        int k = 61;
        var a = Random(rng, m * k).Select(v => (float)v).ToArray();
        var b = Random(rng, k * n).Select(v => (float)v).ToArray();
        var native = new float[m * n];
        var managed = new float[m * n];
        Blas.Gemm(Transpose.No, Transpose.Yes, m, n, k, 1f, a, k, b, k, 0f, native, n);
        ManagedBlas.Gemm(Transpose.No, Transpose.Yes, m, n, k, 1f, a, k, b, k, 0f, managed, n);
        for (int i = 0; i < native.Length; i++) Assert.True(Math.Abs(native[i] - managed[i]) < 1e-4f * 8, $"{native[i]} vs {managed[i]}");
    }

    [Fact]
    public void SyrkAndGemvAgreeWithManaged()
    {
        var rng = new Rng(11);
        int n = 23;
        int k = 41;
        var a = Random(rng, n * k);
        var c1 = new double[n * n];
        var c2 = new double[n * n];
        Blas.Syrk(n, k, 0.5, a, k, 0, c1, n);
        ManagedBlas.Syrk(n, k, 0.5, a, k, 0, c2, n);
        for (int i = 0; i < c1.Length; i++) Assert.Equal(c2[i], c1[i], 1e-12);
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) Assert.Equal(c1[i * n + j], c1[j * n + i]);

        var x = Random(rng, k);
        var xt = Random(rng, n);
        var y1 = Random(rng, n);
        var y2 = (double[])y1.Clone();
        Blas.Gemv(Transpose.No, n, k, 1.5, a, k, x, 0.5, y1);
        ManagedBlas.Gemv(Transpose.No, n, k, 1.5, a, k, x, 0.5, y2);
        for (int i = 0; i < n; i++) Assert.Equal(y2[i], y1[i], 1e-12);
        var z1 = Random(rng, k);
        var z2 = (double[])z1.Clone();
        Blas.Gemv(Transpose.Yes, n, k, 1.5, a, k, xt, 0.5, z1);
        ManagedBlas.Gemv(Transpose.Yes, n, k, 1.5, a, k, xt, 0.5, z2);
        for (int i = 0; i < k; i++) Assert.Equal(z2[i], z1[i], 1e-12);
    }

    [Fact]
    public void GemmRejectsInconsistentSizes()
    {
        var small = new double[3];
        Assert.Throws<ArgumentException>(() => Blas.Gemm(Transpose.No, Transpose.No, 2, 2, 2, 1, small, 2, small, 2, 0, new double[4], 2));
    }
}
