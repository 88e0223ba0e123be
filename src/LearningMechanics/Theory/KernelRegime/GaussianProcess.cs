using LearningMechanics.Numerics;

namespace LearningMechanics.Theory.KernelRegime;

/// <summary>
/// Exact Bayesian inference with a kernel (the NNGP for a Bayesian network at infinite width; Neal 1996,
/// Lee et al. 2018; Roberts &amp; Yaida 2022, ch. 6; Rasmussen &amp; Williams 2006, Algorithm 2.1): with L = chol(K + σ²I) and
/// α = (K + σ²I)⁻¹y, posterior mean K*α, posterior variance K** − ‖L⁻¹K*ᵀ‖², and
/// log p(y) = −½yᵀα − Σ log L_ii − (N/2) log 2π.
/// </summary>
public static class GaussianProcess
{
    public sealed record Posterior(Matrix Mean, double[] Variance, double LogMarginalLikelihood);

    public static Posterior Infer(Matrix kTrain, Matrix kTestTrain, double[] kTestDiag, Matrix y, double noise)
    {
        int n = kTrain.Rows;
        if (y.Rows != n) throw new BadInputException($"Targets have {y.Rows} rows, expected {n}.");
        if (!(noise >= 0)) throw new BadInputException($"Noise variance {noise} must be ≥ 0.");
        var k = kTrain.Clone();
        for (int i = 0; i < n; i++) k[i, i] += noise;
        Matrix l;
        try { l = Lapack.Cholesky(k); }
        catch (NotPositiveDefiniteException)
        {
            throw new BadInputException("The training kernel is singular: give a positive noise (ridge) variance.");
        }
        var alpha = Lapack.CholeskySolve(l, y);
        var mean = kTestTrain * alpha;
        // v = L⁻¹K*ᵀ by forward substitution, column by column.
        var variance = new double[kTestTrain.Rows];
        var v = new double[n];
        for (int m = 0; m < kTestTrain.Rows; m++)
        {
            double s = 0;
            for (int i = 0; i < n; i++)
            {
                double acc = kTestTrain[m, i];
                for (int j = 0; j < i; j++) acc -= l[i, j] * v[j];
                v[i] = acc / l[i, i];
                s += v[i] * v[i];
            }
            variance[m] = Math.Max(kTestDiag[m] - s, 0);
        }
        double logDet = 0;
        for (int i = 0; i < n; i++) logDet += Math.Log(l[i, i]);
        double fit = 0;
        for (int c = 0; c < y.Cols; c++) for (int i = 0; i < n; i++) fit += y[i, c] * alpha[i, c];
        double lml = -0.5 * fit - y.Cols * (logDet + 0.5 * n * Math.Log(2 * Math.PI));
        return new Posterior(mean, variance, lml);
    }
}
