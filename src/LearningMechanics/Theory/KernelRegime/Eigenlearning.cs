using LearningMechanics.Numerics;

namespace LearningMechanics.Theory.KernelRegime;

/// <summary>Eigenlearning predictions for n samples.</summary>
/// <param name="Kappa">Effective regulariser κ.</param>
/// <param name="Learnabilities">L_i = λ_i/(λ_i + κ) per eigenmode.</param>
/// <param name="OverfittingCoefficient">E₀ = n/(n − Σ L_i²).</param>
public sealed record EigenlearningPrediction(int N, double Ridge, double Kappa, double[] Learnabilities, double OverfittingCoefficient,
    double TestMse, double TrainMse);

/// <summary>
/// The eigenlearning framework (Simon et al. 2023; Bordelon et al. 2020; one of the solvable settings of Simon et al. 2026, §2.1):
/// for kernel eigenvalues λ_i (with respect to the data distribution), target coefficients v_i, n samples, ridge δ and label noise ε²,
/// κ solves Σ λ_i/(λ_i + κ) + δ/κ = n; L_i = λ_i/(λ_i + κ); E₀ = n/(n − Σ L_i²); test MSE = E₀(Σ (1 − L_i)² v_i² +
/// ε²); train MSE = (δ/(nκ))²·test MSE.
/// </summary>
public static class Eigenlearning
{
    /// <summary>κ from Σ λ_i/(λ_i + κ) + δ/κ = n (Brent on ln κ).</summary>
    public static double Kappa(IReadOnlyList<double> lambda, int n, double ridge)
    {
        if (n < 1) throw new BadInputException($"Sample size {n} must be ≥ 1.");
        if (!(ridge >= 0)) throw new BadInputException($"Ridge {ridge} must be ≥ 0.");
        if (lambda.Any(l => !(l >= 0) || !double.IsFinite(l))) throw new BadInputException("Eigenvalues must be finite and ≥ 0.");
        int positive = lambda.Count(l => l > 0);
        if (ridge == 0 && n >= positive)
            throw new BadInputException(
                $"Ridgeless eigenlearning needs fewer samples ({n}) than nonzero eigenvalues ({positive}); add a ridge.");
        double f(double lnK)
        {
            double k = Math.Exp(lnK);
            double s = ridge / k;
            foreach (var l in lambda) s += l / (l + k);
            return s - n;
        }
        double max = lambda.Max();
        double lo = Math.Log(max) - 60;
        double hi = Math.Log(max + ridge) + 5;
        while (f(hi) > 0) hi += 5;
        while (f(lo) < 0) lo -= 20;
        return Math.Exp(RootFinding.Brent(f, lo, hi, 1e-14));
    }

    public static EigenlearningPrediction Predict(IReadOnlyList<double> lambda, IReadOnlyList<double> v2, int n, double ridge = 0,
        double noise = 0)
    {
        if (v2.Count != lambda.Count) throw new BadInputException($"{v2.Count} target coefficients for {lambda.Count} eigenvalues.");
        double k = Kappa(lambda, n, ridge);
        var learn = lambda.Select(l => l / (l + k)).ToArray();
        double sumL2 = learn.Sum(l => l * l);
        double e0 = n / (n - sumL2);
        double bias = 0;
        for (int i = 0; i < learn.Length; i++) bias += (1 - learn[i]) * (1 - learn[i]) * v2[i];
        double test = e0 * (bias + noise);
        double train = Math.Pow(ridge / (n * k), 2) * test;
        return new EigenlearningPrediction(n, ridge, k, learn, e0, test, train);
    }

    /// <summary>
    /// The kernel's eigenvalues and the target's coefficients with respect to the empirical distribution of a sample of M
    /// points (Simon et al. 2023 §6): with K = UΛUᵀ the M × M Gram matrix, λ_i = Λ_i/M and v_i = u_iᵀy/√M (so Σ_i v_i² is the
    /// mean of y², summed over output columns). Sorted by decreasing λ; negative rounding noise is clipped to 0.
    /// </summary>
    public static (double[] Lambda, double[] V2) SampleSpectrum(Numerics.Matrix kernel, Numerics.Matrix y)
    {
        int m = kernel.Rows;
        if (kernel.Cols != m || y.Rows != m)
            throw new BadInputException(
                $"Sample spectrum needs an M×M kernel and M target rows; got {kernel.Rows}×{kernel.Cols} and {y.Rows}.");
        var (values, vectors) = Numerics.Lapack.SymmetricEigen(kernel);
        var proj = Numerics.Matrix.Multiply(vectors, y, Numerics.Transpose.Yes);   // Uᵀy, M × outputs
        var lambda = new double[m];
        var v2 = new double[m];
        for (int k = 0; k < m; k++)
        {
            int i = m - 1 - k;   // descending
            lambda[k] = Math.Max(values[i], 0) / m;
            double sq = 0;
            for (int c = 0; c < proj.Cols; c++) sq += proj[i, c] * proj[i, c];
            v2[k] = sq / m;
        }
        return (lambda, v2);
    }
}
