using LearningMechanics.Numerics;

namespace LearningMechanics.Measurement.Ensembles;

/// <summary>The excess test risks ‖β̂ − β‖² of one regression problem, for the ridgeless and one ridge estimator.</summary>
public readonly record struct RegressionRisks(double Ridgeless, double Ridge);

/// <summary>
/// Draws isotropic linear regression problems x ~ N(0, I_p), y = xᵀβ + ε (β uniform on the sphere ‖β‖² = r², ε ~ N(0, σ²))
/// and fits them, the measurement behind double descent (Hastie et al. 2022): the ridgeless fit is least squares for n &gt; p
/// and the minimum-norm interpolator Xᵀ(XXᵀ)⁻¹y for p &gt; n; the ridge fit solves (XᵀX/n + λI)β̂ = Xᵀy/n. For isotropic
/// features the excess test risk E[(x₀ᵀβ̂ − x₀ᵀβ)²] is exactly ‖β̂ − β‖², so no test set is drawn.
/// </summary>
public static class LinearRegressionRisk
{
    /// <summary>One problem of n samples in p dimensions: both estimators on the same data (Cholesky solves, LAPACK).</summary>
    public static RegressionRisks Draw(int n, int p, double r2, double sigma2, double ridge, Rng rng)
    {
        if (n < 1 || p < 1) throw new BadInputException($"Need n ≥ 1 samples and p ≥ 1 features, got n = {n}, p = {p}.");
        if (Math.Abs(n - p) < 2) throw new BadInputException($"n = {n} and p = {p} are too close: the ridgeless risk is infinite.");
        if (!(ridge > 0)) throw new BadInputException($"Ridge λ = {ridge} must be > 0.");
        var x = new Matrix(n, p);
        rng.FillGaussian(x.Data);
        var beta = new Matrix(p, 1);
        rng.FillGaussian(beta.Data);
        double norm = Math.Sqrt(beta.Data.Sum(b => b * b));
        for (int i = 0; i < p; i++) beta.Data[i] *= Math.Sqrt(r2) / norm;
        var y = Matrix.Multiply(x, beta);
        for (int i = 0; i < n; i++) y.Data[i] += Math.Sqrt(sigma2) * rng.NextGaussian();

        var xty = Matrix.Multiply(x, y, Transpose.Yes, Transpose.No);
        var gram = Matrix.Multiply(x, x, Transpose.Yes, Transpose.No);
        Matrix ridgeless;
        if (n > p) ridgeless = Lapack.CholeskySolve(Lapack.Cholesky(gram), xty);
        else
        {
            var outer = Matrix.Multiply(x, x, Transpose.No, Transpose.Yes);
            ridgeless = Matrix.Multiply(x, Lapack.CholeskySolve(Lapack.Cholesky(outer), y), Transpose.Yes, Transpose.No);
        }
        for (int i = 0; i < p; i++) gram[i, i] += n * ridge;
        var ridged = Lapack.CholeskySolve(Lapack.Cholesky(gram), xty);
        return new RegressionRisks(Distance(ridgeless, beta), Distance(ridged, beta));
    }

    private static double Distance(Matrix a, Matrix b)
    {
        double sum = 0;
        for (int i = 0; i < a.Data.Length; i++) sum += (a.Data[i] - b.Data[i]) * (a.Data[i] - b.Data[i]);
        return sum;
    }
}
