using LearningMechanics.Data;
using LearningMechanics.Lab;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.KernelRegime;

namespace LearningMechanics.Experiments;

/// <summary>
/// <c>eigenlearning</c> (claims.md B7, §2.5; seed 001 §2.1): kernel ridge regression on a synthetic task with a known
/// eigenstructure against the eigenlearning prediction. Features x_i = √λ_i·g_i (g ~ N(0, 1), M modes) with the linear
/// kernel K(x, x′) = Σ x_i x′_i have eigenvalues λ_i = i^{−α} and eigenfunctions φ_i = g_i; the target is
/// f* = Σ v_i φ_i with v_i² = i^{−β}. The KRR predictor f̂ = Σ ĉ_i φ_i (ĉ = √λ ⊙ Xᵀ(K + δI)⁻¹y) gives the test MSE
/// Σ (ĉ_i − v_i)² exactly (no test-set noise) and the learnability of each mode ĉ_i/v_i.
/// </summary>
public sealed class EigenlearningExperiment : IExperiment
{
    public string Id => "eigenlearning";
    public string Title => "Kernel regression's learning curve from the eigenspectrum";
    public string Summary => "KRR test error and per-mode learnabilities predicted from the kernel eigenvalues and the target's coefficients";
    public string Source => "seed 001 §2.1; Simon et al. 2023; claims.md B7, §2.5";

    public IReadOnlyList<SettingInfo> Settings { get; } =
    [
        new("modes", "number of eigenmodes M", "1000", "4000"),
        new("alpha", "eigenvalue decay λ_i = i^−α", "1.5", "1.5"),
        new("beta", "target decay v_i² = i^−β", "2", "2"),
        new("ns", "sample sizes n", "16,32,64,128,256,512", "16,32,64,128,256,512,1024,2048"),
        new("draws", "training sets per n", "60", "200"),
        new("ridge", "ridge δ", "0", "0"),
        new("pool", "Fashion-MNIST pool size M for the real-data part (0 skips it)", "1500", "4000"),
        new("pool_ns", "training-set sizes n drawn from the pool", "16,32,64,128,256", "16,32,64,128,256,512,1024"),
        new("pool_ridge", "ridge δ for the real-data part (training points are drawn with replacement)", "0.001", "0.001"),
    ];

    public ExperimentOutput Run(RunContext ctx)
    {
        var s = ctx.Settings;
        int m = s.GetInt("modes", 8), draws = s.GetInt("draws", 3);
        double alpha = s.GetDouble("alpha", 0.01), beta = s.GetDouble("beta", 0.01), ridge = s.GetDouble("ridge", 0);
        int[] ns = s.GetIntList("ns", 2).Distinct().Order().ToArray();
        if (ridge == 0 && ns[^1] >= m) throw new BadInputException($"Ridgeless KRR needs n < modes: n = {ns[^1]}, modes = {m}.");
        var lambda = Enumerable.Range(1, m).Select(i => Math.Pow(i, -alpha)).ToArray();
        var v = Enumerable.Range(1, m).Select(i => Math.Pow(i, -beta / 2)).ToArray();
        var v2 = v.Select(t => t * t).ToArray();
        var root = new Rng(ctx.Seed);
        var output = new ExperimentOutput();

        var results = new List<(int N, double Mse, double Se, double Predicted, double[] Learn, double[] LearnSe, EigenlearningPrediction Theory)>();
        long done = 0, total = (long)ns.Length * draws;
        foreach (var (n, ni) in ns.Select((n, i) => (n, i)))
        {
            var theory = Eigenlearning.Predict(lambda, v2, n, ridge);
            var mse = new double[draws];
            var learn = Enumerable.Range(0, m).Select(_ => new double[draws]).ToArray();
            Parallel.For(0, draws, new ParallelOptions { CancellationToken = ctx.Cancellation }, d =>
            {
                var rng = root.Split((ulong)d, (ulong)ni);
                var g = new Matrix(n, m);
                rng.FillGaussian(g.Data);
                var x = g.Clone();
                var y = new Matrix(n, 1);
                for (int r = 0; r < n; r++)
                    for (int i = 0; i < m; i++) { y[r, 0] += v[i] * g[r, i]; x[r, i] *= Math.Sqrt(lambda[i]); }
                var k = new Matrix(n, n);
                Blas.Syrk(n, m, 1.0, x.Data, m, 0.0, k.Data, n);
                for (int r = 0; r < n; r++) k[r, r] += ridge;
                var a = Lapack.CholeskySolve(Lapack.Cholesky(k), y);
                var c = Matrix.Multiply(x, a, Transpose.Yes);        // M × 1
                double err = 0;
                for (int i = 0; i < m; i++)
                {
                    double ci = c[i, 0] * Math.Sqrt(lambda[i]);
                    err += (ci - v[i]) * (ci - v[i]);
                    learn[i][d] = ci / v[i];
                }
                mse[d] = err;
                ctx.Progress?.Report(new ProgressInfo($"n = {n}", Interlocked.Increment(ref done), total));
            });
            results.Add((n, Statistics.Mean(mse), Statistics.StandardError(mse), theory.TestMse,
                learn.Select(l => Statistics.Mean(l)).ToArray(), learn.Select(l => Statistics.StandardError(l)).ToArray(), theory));
        }

        // (1) Test MSE for n ≥ 32 within max(4 SE, 10 %) (claims.md B7).
        var fitted = results.Where(r => r.N >= 32).ToList();
        var w = fitted.MaxBy(r => Math.Abs(r.Mse - r.Predicted) / Math.Max(4 * r.Se, 0.1 * r.Predicted));
        output.Claims.Add(Claim.Compare("test-mse", "KRR test MSE = E₀·Σ(1 − L_i)²v_i² at every n ≥ 32 (worst n shown)",
            Source, w.Predicted, w.Mse, w.Se, Math.Max(4 * w.Se, 0.1 * w.Predicted),
            $"n = {w.N}; {draws} training sets per n; tolerance max(4·SE, 10 %) as in claims.md B7."));
        // (2) Per-mode learnabilities at the middle sample size.
        var mid = results[results.Count / 2];
        int[] probe = [.. new[] { 1, 3, 10, 30, 100, 300 }.Where(i => i <= m)];
        int wi = probe.MaxBy(i => Math.Abs(mid.Learn[i - 1] - mid.Theory.Learnabilities[i - 1]) / mid.LearnSe[i - 1]);
        output.Claims.Add(Claim.Compare("learnability", $"at n = {mid.N}, the measured learnability of each eigenmode is L_i = λ_i/(λ_i + κ) (worst of modes {string.Join(", ", probe)})",
            Source, mid.Theory.Learnabilities[wi - 1], mid.Learn[wi - 1], mid.LearnSe[wi - 1], 4 * mid.LearnSe[wi - 1], $"mode i = {wi}; tolerance 4·SE."));
        // (3) The conservation law Σ L_i = n (δ = 0) holds for the solved κ.
        if (ridge == 0)
        {
            double sum = mid.Theory.Learnabilities.Sum();
            output.Claims.Add(Claim.Compare("conservation", $"Σ_i L_i = n for the solved κ (ridgeless, n = {mid.N})", Source, mid.N, sum, 0,
                1e-10 * mid.N, "numerical tolerance 1e-10·n."));
        }
        // (4) Learning-curve exponent: the fitted log–log slope of the measured MSE against that of the prediction.
        var xs = fitted.Select(r => (double)r.N).ToArray();
        var fit = Statistics.LogLogSlope(xs, fitted.Select(r => r.Mse).ToArray(), fitted.Select(r => r.Se).ToArray());
        var fitPred = Statistics.LogLogSlope(xs, fitted.Select(r => r.Predicted).ToArray(), fitted.Select(r => r.Se).ToArray());
        output.Claims.Add(Claim.Compare("learning-curve-exponent", "the learning curve is a power law with the predicted exponent",
            Source, fitPred.Slope, fit.Slope, fit.SlopeStdErr, Math.Max(4 * fit.SlopeStdErr, 0.05 * Math.Abs(fitPred.Slope)),
            $"fits over n = {xs.Min()}…{xs.Max()}; asymptotic exponent −min(β − 1, 2α) = {-Math.Min(beta - 1, 2 * alpha):G3}; tolerance max(4·SE, 5 %)."));

        output.Tables["learning_curve"] = SeriesTable.FromRows(results, ("n", r => r.N), ("test_mse", r => r.Mse), ("stderr", r => r.Se),
            ("predicted", r => r.Predicted), ("kappa", r => r.Theory.Kappa), ("E0", r => r.Theory.OverfittingCoefficient));
        var modes = Enumerable.Range(1, Math.Min(m, 400)).ToList();
        output.Tables["learnability"] = SeriesTable.FromRows(modes, ("mode", i => i), ("measured", i => mid.Learn[i - 1]),
            ("stderr", i => mid.LearnSe[i - 1]), ("predicted", i => mid.Theory.Learnabilities[i - 1]));
        output.Plots.Add(new PlotSpec("Learning curve", "samples n", "test MSE", [
            new SeriesSpec("KRR measured", xsAll(results), results.Select(r => r.Mse).ToArray(), SeriesKind.Points, results.Select(r => r.Se).ToArray()),
            new SeriesSpec("eigenlearning", xsAll(results), results.Select(r => r.Predicted).ToArray(), SeriesKind.Line)], LogX: true, LogY: true,
            Caption: $"λ_i = i^−{alpha}, v_i² = i^−{beta}, {m} modes, ridge {ridge}; mean over {draws} training sets ± SE."));
        output.Plots.Add(new PlotSpec($"Learnability per eigenmode (n = {mid.N})", "mode i", "L_i", [
            new SeriesSpec("KRR measured", modes.Select(i => (double)i).ToArray(), modes.Select(i => mid.Learn[i - 1]).ToArray(), SeriesKind.Points, modes.Select(i => mid.LearnSe[i - 1]).ToArray()),
            new SeriesSpec("eigenlearning", modes.Select(i => (double)i).ToArray(), modes.Select(i => mid.Theory.Learnabilities[i - 1]).ToArray(), SeriesKind.Line)], LogX: true,
            Caption: "L_i = λ_i/(λ_i + κ): modes with λ_i ≫ κ are learned, modes with λ_i ≪ κ are not."));
        FashionMnistPart(ctx, output, root.Split(ulong.MaxValue));
        return output;

        static double[] xsAll(List<(int N, double Mse, double Se, double Predicted, double[] Learn, double[] LearnSe, EigenlearningPrediction Theory)> r) =>
            r.Select(t => (double)t.N).ToArray();
    }

    /// <summary>
    /// Eigenlearning on real data (Simon et al. 2023 §6): the NTK of a depth-2 ReLU MLP on a pool of M Fashion-MNIST images
    /// (standardised, on the sphere), eigendecomposed once (<see cref="Eigenlearning.SampleSpectrum"/>); the target is ±1 for
    /// upper-body clothing (T-shirt, pullover, dress, coat, shirt) vs the rest. KRR trained on n points drawn with
    /// replacement from the pool and evaluated on the whole pool (the population of the prediction) against eigenlearning.
    /// </summary>
    private void FashionMnistPart(RunContext ctx, ExperimentOutput output, Rng rng)
    {
        var s = ctx.Settings;
        int pool = s.GetInt("pool", 0);
        if (pool == 0) return;
        const string id = "fmnist-test-mse";
        const string statement = "Fashion-MNIST, NTK of a depth-2 ReLU MLP: KRR test MSE over the pool equals the eigenlearning prediction from the kernel's sample spectrum at every n ≥ 32 (worst n shown)";
        if (!FashionMnist.Available())
        {
            output.Claims.Add(new Claim(id, statement, Source, null, null, null, null, Verdict.Inconclusive,
                "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist, or set LMECH_FASHION_MNIST)."));
            return;
        }
        if (pool < 64) throw new BadInputException($"Setting pool={pool} must be 0 or ≥ 64.");
        int[] ns = s.GetIntList("pool_ns", 2).Distinct().Order().ToArray();
        double ridge = s.GetDouble("pool_ridge", 0);
        if (!(ridge > 0)) throw new BadInputException("Setting pool_ridge must be > 0: training points are drawn with replacement, so duplicates make the kernel singular.");
        int draws = s.GetInt("draws", 3);
        var data = FashionMnist.Load("train", pool, rng.Split(1));
        var x = Inputs.ToSphere(data.Standardized().X);
        var y = new Matrix(pool, 1);
        for (int i = 0; i < pool; i++) y[i, 0] = data.Labels![i] is 0 or 2 or 3 or 4 or 6 ? 1 : -1;
        var spec = Architecture.NetworkSpec.Parse("dense(512)-relu-dense(512)-relu-dense(1)", Architecture.Parameterization.Ntk, 2, 0);
        var (_, theta) = Theory.Kernels.NeuralKernels.Compute(spec, x);
        var (lambda, v2) = Eigenlearning.SampleSpectrum(theta!, y);
        output.Facts["fmnist_pool"] = $"{pool} training images, target +1 for T-shirt/pullover/dress/coat/shirt, −1 otherwise; NTK of {spec.ToText()} (σ_w² = 2)";
        var results = new List<(int N, double Mse, double Se, double Predicted)>();
        foreach (var (n, ni) in ns.Select((n, i) => (n, i)))
        {
            var mse = new double[draws];
            Parallel.For(0, draws, new ParallelOptions { CancellationToken = ctx.Cancellation }, d =>
            {
                var r = rng.Split(2 + (ulong)ni, (ulong)d);
                var rows = Enumerable.Range(0, n).Select(_ => r.NextInt(pool)).ToArray();
                var k = new Matrix(n, n); var yn = new Matrix(n, 1); var kStar = new Matrix(pool, n);
                for (int a = 0; a < n; a++)
                {
                    yn[a, 0] = y[rows[a], 0];
                    for (int b = 0; b < n; b++) k[a, b] = theta![rows[a], rows[b]];
                    k[a, a] += ridge;
                }
                for (int p = 0; p < pool; p++) for (int b = 0; b < n; b++) kStar[p, b] = theta![p, rows[b]];
                var f = kStar * Lapack.CholeskySolve(Lapack.Cholesky(k), yn);
                double err = 0;
                for (int p = 0; p < pool; p++) err += Math.Pow(f[p, 0] - y[p, 0], 2);
                mse[d] = err / pool;
            });
            results.Add((n, Statistics.Mean(mse), Statistics.StandardError(mse), Eigenlearning.Predict(lambda, v2, n, ridge).TestMse));
            ctx.Progress?.Report(new ProgressInfo("Fashion-MNIST KRR", ni + 1, ns.Length));
        }
        var fitted = results.Where(r => r.N >= 32).ToList();
        var w = fitted.MaxBy(r => Math.Abs(r.Mse - r.Predicted) / Math.Max(4 * r.Se, 0.1 * r.Predicted));
        output.Claims.Add(Claim.Compare(id, statement, Source, w.Predicted, w.Mse, w.Se, Math.Max(4 * w.Se, 0.1 * w.Predicted),
            $"n = {w.N}; pool M = {pool}; {draws} training sets per n; ridge {ridge}; tolerance max(4·SE, 10 %) as in claims.md B7."));
        output.Tables["fmnist_learning_curve"] = SeriesTable.FromRows(results, ("n", r => r.N), ("test_mse", r => r.Mse), ("stderr", r => r.Se), ("predicted", r => r.Predicted));
        var xs = results.Select(r => (double)r.N).ToArray();
        output.Plots.Add(new PlotSpec("Fashion-MNIST learning curve (NTK regression)", "samples n", "test MSE over the pool", [
            new SeriesSpec("KRR measured", xs, results.Select(r => r.Mse).ToArray(), SeriesKind.Points, results.Select(r => r.Se).ToArray()),
            new SeriesSpec("eigenlearning (sample spectrum)", xs, results.Select(r => r.Predicted).ToArray(), SeriesKind.Line)], LogX: true, LogY: true,
            Caption: $"Kernel eigenvalues and target coefficients from the {pool}-image pool's Gram matrix; mean over {draws} training sets ± SE."));
    }
}
