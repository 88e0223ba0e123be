using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.KernelRegime;
using Normal = MathNet.Numerics.Distributions.Normal;

namespace LearningMechanics.Measurement.Inference;

/// <summary>Calibration of two predictive distributions on held-out targets (<see cref="NngpCalibration"/>).</summary>
/// <param name="Scale">Fitted output scale s² (kernel s²K).</param>
/// <param name="NoiseVariance">Fitted observation noise variance s²r.</param>
/// <param name="Nominal">Nominal central-interval levels p.</param>
/// <param name="CoverageGp">Fraction of test targets inside the NNGP posterior's central p-interval.</param>
/// <param name="CoverageEnsemble">The same for the NTK-GP ensemble of trained networks.</param>
public sealed record CalibrationResult(double Scale, double NoiseVariance, int Test, double[] Nominal, double[] CoverageGp,
    double[] CoverageEnsemble, double NllGp, double NllGpSe, double NllEnsemble, double NllEnsembleSe, double NllDifferenceSe);

/// <summary>
/// The infinite-width end of docs/claims.md, bayesian-finite-width (Lee et al. 2018): exact Bayesian inference with the NNGP gives
/// calibrated predictive uncertainty. The NNGP of <c>spec</c> with output scale s² and noise variance s²r fitted by maximum marginal
/// likelihood (s² = yᵀ(K + rI)⁻¹y/N in closed form, r on a log grid; Rasmussen &amp; Williams 2006, eq. 5.8) predicts
/// N(μ, s²(v + r)) at each test input; the ensemble of networks trained to convergence by gradient descent, at infinite width,
/// predicts N(μ_NTK, s²(v_NTK + r)) with the NTK-GP mean and variance over initialisations (<see cref="KernelDynamics"/> at t = ∞;
/// Lee et al. 2019), given the same noise. Reported: the empirical coverage of central intervals at several levels and the mean
/// Gaussian negative log-likelihood of the held-out targets.
/// </summary>
public static class NngpCalibration
{
    public static readonly double[] Levels = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99];

    public static CalibrationResult Run(NetworkSpec spec, Dataset train, Dataset test)
    {
        if (train.Y.Cols != 1 || test.Y.Cols != 1) throw new BadInputException("Calibration is for one output.");
        var predictor = new KernelPredictor(spec, train.X, test.X);
        var kTrain = predictor.KTrain;
        int n = train.X.Rows;
        // Profile likelihood in r: with s² at its optimum, log p = −(N/2)(1 + log(2π s²)) − ½ log det(K + rI).
        double best = double.NegativeInfinity;
        double bestR = double.NaN;
        double bestS2 = double.NaN;
        for (int g = 0; g <= 120; g++)
        {
            double r = Math.Pow(10, -6 + 7.0 * g / 120);
            var k = kTrain.Clone();
            for (int i = 0; i < n; i++) k[i, i] += r;
            Matrix l;
            try { l = Lapack.Cholesky(k); } catch (NotPositiveDefiniteException) { continue; }
            var alpha = Lapack.CholeskySolve(l, train.Y);
            double fit = 0;
            double logDet = 0;
            for (int i = 0; i < n; i++) { fit += train.Y[i, 0] * alpha[i, 0]; logDet += 2 * Math.Log(l[i, i]); }
            double s2 = fit / n;
            double lml = -0.5 * n * (1 + Math.Log(2 * Math.PI * s2)) - 0.5 * logDet;
            if (lml > best) { best = lml; bestR = r; bestS2 = s2; }
        }
        if (!double.IsFinite(best)) throw new ArithmeticException("The marginal likelihood could not be evaluated for any noise level.");
        var gp = predictor.Posterior(train.Y, bestR);
        var eMean = predictor.Mean(train.Y, TrainingTime.Infinite);
        var eVar = predictor.Variance(TrainingTime.Infinite);
        int m = test.X.Rows;
        var gpSd = Enumerable.Range(0, m).Select(i => Math.Sqrt(bestS2 * (gp.Variance[i] + bestR))).ToArray();
        var eSd = Enumerable.Range(0, m).Select(i => Math.Sqrt(bestS2 * (eVar[i] + bestR))).ToArray();
        double[] Coverage(Matrix mean, double[] sd) => [.. Levels.Select(p =>
        {
            double z = Normal.InvCDF(0, 1, (1 + p) / 2);
            return Enumerable.Range(0, m).Count(i => Math.Abs(test.Y[i, 0] - mean[i, 0]) <= z * sd[i]) / (double)m;
        })];
        double[] Nll(Matrix mean, double[] sd) => [.. Enumerable.Range(0, m).Select(i =>
        {
            double e = (test.Y[i, 0] - mean[i, 0]) / sd[i];
            return 0.5 * Math.Log(2 * Math.PI) + Math.Log(sd[i]) + 0.5 * e * e;
        })];
        var nllGp = Nll(gp.Mean, gpSd);
        var nllE = Nll(eMean, eSd);
        var diff = nllGp.Zip(nllE, (a, b) => a - b).ToArray();
        return new CalibrationResult(bestS2, bestS2 * bestR, m, Levels, Coverage(gp.Mean, gpSd), Coverage(eMean, eSd),
            nllGp.Average(), Statistics.StandardError(nllGp), nllE.Average(), Statistics.StandardError(nllE),
            Statistics.StandardError(diff));
    }
}
