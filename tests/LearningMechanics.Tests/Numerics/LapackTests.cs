using LearningMechanics.Numerics;

namespace LearningMechanics.Tests.Numerics;

/// <summary>LAPACKE against the managed Jacobi/Cholesky fallbacks, and both against reconstruction identities.</summary>
public class LapackTests
{
    private static Matrix RandomMatrix(int r, int c, ulong seed) => TestData.RandomMatrix(r, c, seed);

    private static Matrix RandomSpd(int n, ulong seed)
    {
        var a = RandomMatrix(n, n + 3, seed);
        var s = Matrix.Multiply(a, a, Transpose.No, Transpose.Yes);
        for (int i = 0; i < n; i++) s[i, i] += 0.1;
        return s;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    [InlineData(40)]
    public void SymmetricEigenAgreesAndReconstructs(int n)
    {
        var a = RandomSpd(n, 5);
        foreach (var (values, v) in new[] { Lapack.SymmetricEigen(a), ManagedLapack.SymmetricEigen(a) })
        {
            for (int i = 1; i < n; i++) Assert.True(values[i] >= values[i - 1]);
            var rec = new Matrix(n, n);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int k = 0; k < n; k++) s += v[i, k] * values[k] * v[j, k];
                    rec[i, j] = s;
                }
            Assert.True(rec.MaxAbsDifference(a) < 1e-10 * values[^1], $"reconstruction error {rec.MaxAbsDifference(a)}");
            var vtv = Matrix.Multiply(v, v, Transpose.Yes);
            Assert.True(vtv.MaxAbsDifference(Matrix.Identity(n)) < 1e-12);
        }
        var native = Lapack.SymmetricEigen(a).Values;
        var managed = ManagedLapack.SymmetricEigen(a).Values;
        for (int i = 0; i < n; i++) Assert.Equal(native[i], managed[i], 1e-10 * native[^1]);
    }

    [Fact]
    public void CholeskyFactorAndSolveAgree()
    {
        int n = 30;
        var a = RandomSpd(n, 9);
        var b = RandomMatrix(n, 3, 10);
        var ln = Lapack.Cholesky(a);
        var lm = ManagedLapack.Cholesky(a);
        Assert.True(ln.MaxAbsDifference(lm) < 1e-11);
        Assert.True(Matrix.Multiply(ln, ln, Transpose.No, Transpose.Yes).MaxAbsDifference(a) < 1e-10);
        var x = Lapack.CholeskySolve(ln, b);
        Assert.True(x.MaxAbsDifference(ManagedLapack.CholeskySolve(lm, b)) < 1e-9);
        Assert.True((a * x).MaxAbsDifference(b) < 1e-9);
    }

    [Fact]
    public void CholeskyRejectsIndefiniteMatrices()
    {
        var a = Matrix.FromRows([[1.0, 2.0], [2.0, 1.0]]);
        Assert.Throws<NotPositiveDefiniteException>(() => Lapack.Cholesky(a));
        Assert.Throws<NotPositiveDefiniteException>(() => ManagedLapack.Cholesky(a));
    }

    [Theory]
    [InlineData(12, 7)]
    [InlineData(7, 12)]
    [InlineData(9, 9)]
    public void SvdAgreesAndReconstructs(int m, int n)
    {
        var a = RandomMatrix(m, n, 21);
        var (un, sn, vtn) = Lapack.Svd(a);
        var (um, sm, vtm) = ManagedLapack.Svd(a);
        for (int i = 0; i < sn.Length; i++) Assert.Equal(sn[i], sm[i], 1e-10);
        var values = Lapack.SingularValues(a);
        Assert.Equal(sn.Length, values.Length);
        for (int i = 0; i < sn.Length; i++) Assert.Equal(sn[i], values[i], 1e-10);
        foreach (var (u, s, vt) in new[] { (un, sn, vtn), (um, sm, vtm) })
        {
            var us = u.Clone();
            for (int i = 0; i < us.Rows; i++) for (int j = 0; j < s.Length; j++) us[i, j] *= s[j];
            Assert.True((us * vt).MaxAbsDifference(a) < 1e-10);
        }
    }

    [Fact]
    public void SemidefiniteCholeskyReconstructsRankDeficientMatrices()
    {
        // A = BBᵀ with B 4×2 (rank 2): two pivots vanish, and L·Lᵀ still reproduces A.
        var rng = new Rng(8);
        var b = new Matrix(4, 2);
        rng.FillGaussian(b.Data);
        var a = Matrix.Multiply(b, b, Transpose.No, Transpose.Yes);
        var l = new double[16];
        ManagedLapack.SemidefiniteCholesky(a.Data, l, 4, 1e-12);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
            {
                double s = 0;
                for (int k = 0; k < 4; k++) s += l[i * 4 + k] * l[j * 4 + k];
                Assert.Equal(a[i, j], s, 1e-12);
            }
        Assert.Equal(2, Enumerable.Range(0, 4).Count(k => l[k * 4 + k] == 0));
        Assert.Throws<ArgumentException>(() => ManagedLapack.SemidefiniteCholesky(new double[] { -1 }, new double[1], 1, 1e-12));
    }
}
