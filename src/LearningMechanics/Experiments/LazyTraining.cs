using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.KernelRegime;
using LearningMechanics.Theory.Kernels;
using LearningMechanics.Training;

namespace LearningMechanics.Experiments;

/// <summary>
/// <c>lazy-training</c> (claims.md B1–B3; seed 002 "NTK and kernel regression"; seed 004 ch. 10–11; Lee et al. 2019):
/// MLPs in NTK parameterisation trained by full-batch GD on MSE follow the closed-form dynamics of their linearisation.
/// For every width, an ensemble of networks is trained for T steps at η = 0.5·N/λ_max(Θ∞) and compared with
/// (i) the infinite-width prediction (mean Θ*·A·y and variance over initialisations from Θ∞ and K∞, <see cref="KernelDynamics"/>),
/// (ii) each network's own linearisation f₀ + Θ̂₀*·A(Θ̂₀)·(y − f₀) with its empirical NTK Θ̂₀ at initialisation.
/// Claims (claims.md B1–B4): power counting for the movement during training — hidden n×n weights ‖ΔW‖/‖W‖ ∝ n^{−1},
/// readout ∝ n^{−1/2}, each preactivation ∝ n^{−1/2}; the relative NTK change vanishes with slope −1 by power counting
/// (dNTK = O(1/n), seed 004 ch. 11) or at least −1/2 (Lee et al.'s bound), and the distance to the linearisation with
/// slope ≤ −0.4; at the largest width the ensemble's test outputs, their variance and the final training loss equal the
/// infinite-width predictions; the t = ∞ predictor is kernel regression; and a finite network does not diverge below the
/// linearised threshold N/λ_max(Θ̂₀) (above it lies the catapult phase).
/// </summary>
public sealed class LazyTraining : IExperiment
{
    public string Id => "lazy-training";
    public string Title => "Wide networks train like their linearisation";
    public string Summary => "GD-trained wide MLPs follow the closed-form NTK dynamics; weights, features and the NTK move by power-counting amounts that vanish with width";
    public string Source => "seed 002 §NTK and kernel regression; seed 004 ch. 10–11; Lee et al. 2019; claims.md B1–B3";

    public IReadOnlyList<SettingInfo> Settings { get; } =
    [
        new("widths", "hidden widths n", "128,256,512,1024,2048", "64,128,256,512,1024,2048,4096"),
        new("depth", "hidden layers (ReLU)", "2", "2"),
        new("nets", "networks per width", "6", "20"),
        new("n_train", "training points", "32", "64"),
        new("n_test", "test points", "16", "32"),
        new("steps", "GD steps T", "200", "400"),
        new("lr_fraction", "η as a fraction of the maximal stable N/λ_max(Θ∞)", "0.5", "0.5"),
        new("data", "synthetic (16-d sphere, tanh teacher) or fashion-mnist (T-shirt vs trouser, ±1 targets)", "synthetic", "synthetic"),
        new("sw2", "σ_w²", "2", "2"),
        new("sb2", "σ_b²", "0.1", "0.1"),
    ];

    public ExperimentOutput Run(RunContext ctx)
    {
        var s = ctx.Settings;
        int[] widths = s.GetIntList("widths", 2).Distinct().Order().ToArray();
        int depth = s.GetInt("depth", 2), nets = s.GetInt("nets", 2), nTrain = s.GetInt("n_train", 2), nTest = s.GetInt("n_test", 1), steps = s.GetInt("steps", 1);
        double frac = s.GetDouble("lr_fraction", 1e-6), sw2 = s.GetDouble("sw2", 1e-9), sb2 = s.GetDouble("sb2", 0);
        if (frac >= 1) throw new BadInputException($"Setting lr_fraction={frac} must be < 1 (GD diverges at η ≥ N/λ_max).");
        var root = new Rng(ctx.Seed);
        var (train, test) = LoadData(s.GetString("data"), nTrain, nTest, root.Split(ulong.MaxValue));
        var output = new ExperimentOutput();
        output.Facts["data"] = train.Name;
        string Arch(int n) => string.Join("-", Enumerable.Repeat($"dense({n})-relu", depth)) + "-dense(1)";

        // Infinite-width prediction.
        var spec = NetworkSpec.Parse(Arch(1), Parameterization.Ntk, sw2, sb2);
        var (kTrain, tTrain) = NeuralKernels.Compute(spec, train.X);
        var (kTestTrain, tTestTrain) = NeuralKernels.Compute(spec, test.X, train.X);
        var kTestDiag = NeuralKernels.Diagonal(spec, test.X, ntk: false).Nngp;
        var dynamics = new KernelDynamics(tTrain!);
        double eta = frac * dynamics.MaxStableLearningRate;
        var when = TrainingTime.Discrete(steps, eta);
        var meanTest = dynamics.Mean(tTestTrain!, train.Y, when);
        var varTest = dynamics.Variance(tTestTrain!, kTrain, kTestTrain, kTestDiag, when);
        var curveSteps = Enumerable.Range(0, 21).Select(i => i * steps / 20).Distinct().ToArray();
        var predictedLoss = curveSteps.Select(k => ExpectedTrainLoss(dynamics, tTrain!, kTrain, train.Y, TrainingTime.Discrete(k, eta))).ToArray();
        output.Facts["learning_rate"] = eta.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        output.Facts["max_stable_learning_rate"] = dynamics.MaxStableLearningRate.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

        var probe = Matrix.Stack(train.X, test.X);
        var rows = new List<Row>();
        long done = 0, total = (long)widths.Length * nets;
        foreach (var (n, wi) in widths.Select((n, i) => (n, i)))
            for (int r = 0; r < nets; r++)
            {
                ctx.Cancellation.ThrowIfCancellationRequested();
                var net = new Network<double>(NetworkSpec.Parse(Arch(n), Parameterization.Ntk, sw2, sb2), train.InputDim);
                net.Initialize(root.Split((ulong)r, (ulong)wi));
                var theta0Params = (double[])net.Parameters.Clone();
                int lastHidden = net.DenseInputIndex(net.DenseCount - 1) - 1;   // the last hidden preactivation
                var z0 = Representations.At(net, probe, lastHidden);
                var ntk = new EmpiricalNtk(net, probe.Rows);
                var theta0 = ntk.Compute(probe);
                var f0 = Trainer<double>.Predict(net, probe);
                // The network's own linearisation: f₀ + Θ̂₀(·, X)·A(Θ̂₀)·(y − f₀(X)).
                var (t0Train, t0TestTrain) = Split(theta0, nTrain);
                var residual = train.Y.Clone();
                for (int i = 0; i < nTrain; i++) residual[i, 0] -= f0[i, 0];
                var linear = new KernelDynamics(t0Train).Mean(t0TestTrain, residual, when);
                var result = new Trainer<double>(net, train, new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Gd, eta), steps)).Run();
                if (result.Status != TrainingStatus.Completed)
                    throw new InvalidOperationException($"Training diverged at width {n} ({result.Note}); lower lr_fraction.");
                var thetaT = ntk.Compute(probe);
                var fT = Trainer<double>.Predict(net, test.X);
                double change = EmpiricalNtk.RelativeChange(Split(theta0, nTrain).Train, Split(thetaT, nTrain).Train);
                double dev = 0, size = 0;
                for (int i = 0; i < nTest; i++) { dev += Math.Pow(fT[i, 0] - (f0[nTrain + i, 0] + linear[i, 0]), 2); size += fT[i, 0] * fT[i, 0]; }
                var losses = curveSteps.Select(k => k < result.Losses.Count ? result.Losses[k] : result.FinalLoss!.Value).ToArray();
                var zT = Representations.At(net, probe, lastHidden);
                double moved = Math.Sqrt(zT.Data.Zip(z0.Data).Average(p => (p.First - p.Second) * (p.First - p.Second)));
                rows.Add(new Row(n, r, change, Math.Sqrt(dev / size), RelativeChange(net, theta0Params, depth / 2), RelativeChange(net, theta0Params, depth),
                    moved, result.FinalLoss!.Value, fT.Data.ToArray(), losses));
                ctx.Progress?.Report(new ProgressInfo($"width {n}", Interlocked.Increment(ref done), total));
            }

        // Scaling claims (claims.md B1, B2): power counting against the fitted log–log slopes.
        var byWidth = widths.Select(n => rows.Where(r => r.Width == n).ToList()).ToList();
        double[] ns = widths.Select(n => (double)n).ToArray();
        (double[] Rms, double[] Se) RmsOf(Func<Row, double> f)
        {
            // RMS over networks; SE by the delta method from the SE of the mean square.
            var rms = byWidth.Select(g => Math.Sqrt(g.Average(r => f(r) * f(r)))).ToArray();
            var se = byWidth.Select((g, i) => Statistics.StandardError(g.Select(r => f(r) * f(r)).ToArray()) / (2 * rms[i])).ToArray();
            return (rms, se);
        }
        var (chg, chgSe) = RmsOf(r => r.NtkChange);
        var (lin, linSe) = RmsOf(r => r.LinDev);
        var (hid, hidSe) = RmsOf(r => r.HiddenChange);
        var (rdo, rdoSe) = RmsOf(r => r.ReadoutChange);
        var (dz, dzSe) = RmsOf(r => r.PreactivationChange);
        var ntkFit = Statistics.LogLogSlope(ns, chg, chgSe);
        string supported = Math.Abs(ntkFit.Slope + 1) < Math.Abs(ntkFit.Slope + 0.5) ? "−1 (power counting)" : "−1/2 (Lee et al.'s bound)";
        output.Claims.Add(OneSided("ntk-change-slope", "the empirical NTK's relative change ‖Θ̂_T − Θ̂₀‖/‖Θ̂₀‖ vanishes with width: log–log slope −1 by power counting (dNTK = O(1/n)), at most −1/2 by Lee et al.'s bound",
            -1, ntkFit.Slope, ntkFit.SlopeStdErr, -0.3, $"pass unless the slope is ≥ −0.3 (claims.md B1: both −1 and −1/2 are lazy); the data are closer to {supported}; widths {ns[0]}…{ns[^1]}"));
        var linFit = Statistics.LogLogSlope(ns, lin, linSe);
        output.Claims.Add(OneSided("linearisation-slope", "the relative distance RMS(f_T − f_T^lin)/RMS(f_T) of trained test outputs from the network's own linearisation decays with slope ≤ −0.4 (−1/2 bound, −1 power counting)",
            -0.5, linFit.Slope, linFit.SlopeStdErr, -0.4, $"pass if the slope is ≤ −0.4 (claims.md B2); widths {ns[0]}…{ns[^1]}"));
        output.Claims.Add(OneSided("linearisation-size", $"at width {widths[^1]} the trained network is within 5 % of its linearisation (relative RMS on the test set)",
            0, lin[^1], linSe[^1], 0.05, "pass if ≤ 0.05 (claims.md B2)"));
        output.Claims.Add(ScalingFits.Slope("hidden-weight-slope", "the hidden n×n weights' relative Frobenius change ‖ΔW‖/‖W‖ decays as n^{−1}",
            Source, ns, hid, hidSe, -1, 0.15, "pre-asymptotic curvature; claims.md B1 allows ±0.15"));
        output.Claims.Add(ScalingFits.Slope("readout-weight-slope", "the readout weights' relative change decays as n^{−1/2}",
            Source, ns, rdo, rdoSe, -0.5, 0.15, "pre-asymptotic curvature; claims.md B1 allows ±0.15"));
        output.Claims.Add(ScalingFits.Slope("preactivation-slope", "each last-layer preactivation moves by O(n^{−1/2}) during training (RMS per coordinate)",
            Source, ns, dz, dzSe, -0.5, 0.15, "pre-asymptotic curvature; claims.md B1 allows ±0.15"));

        // Claims at the largest width (claims.md B3): ensemble mean and variance of the test outputs, final training loss.
        var widest = byWidth[^1];
        int m = widest.Count;
        var perPoint = Enumerable.Range(0, nTest).Select(i =>
        {
            var v = widest.Select(r => r.TestOut[i]).ToArray();
            return (Mean: Statistics.Mean(v), Se: Statistics.StandardError(v), Var: Statistics.Variance(v));
        }).ToArray();
        var meanClaims = Enumerable.Range(0, nTest).Select(i => Claim.Compare("test-mean", "", Source, meanTest[i, 0], perPoint[i].Mean, perPoint[i].Se, 4 * perPoint[i].Se)).ToList();
        int worst = meanClaims.IndexOf(ScalingFits.Worst(meanClaims));
        output.Claims.Add(Claim.Compare("test-mean", $"at width {widths[^1]}, the ensemble mean of the trained test outputs is the infinite-width NTK prediction Θ*·A·y (worst of {nTest} test points)",
            Source, meanTest[worst, 0], perPoint[worst].Mean, perPoint[worst].Se, 4 * perPoint[worst].Se, $"test point {worst}; {m} networks; tolerance 4·SE (the O(1/n) bias is far below it)."));
        // Pooled variance ratio: Σ sample variances / Σ predicted variances, SE from the chi-square spread of sample variances.
        double varRatio = perPoint.Sum(p => p.Var) / varTest.Sum();
        double varRatioSe = Math.Sqrt(2.0 / (m - 1) * perPoint.Sum(p => p.Var * p.Var)) / varTest.Sum();
        output.Claims.Add(Claim.Compare("test-variance", $"at width {widths[^1]}, the variance of trained test outputs over initialisations equals the prediction K** + Θ*AKAΘ*ᵀ − 2Θ*AK*ᵀ (pooled over test points)",
            Source, 1, varRatio, varRatioSe, 4 * varRatioSe, $"ratio of summed sample variances ({m} networks) to summed predictions; SE from Var(s²) = 2σ⁴/(m − 1), ignoring correlations between test points."));
        var finalLosses = widest.Select(r => r.FinalLoss).ToArray();
        double lossSe = Statistics.StandardError(finalLosses);
        output.Claims.Add(Claim.Compare("train-loss", $"at width {widths[^1]}, the mean training loss after {steps} steps equals the predicted E[L_T] = (‖μ_T − y‖² + tr Σ_T)/N",
            Source, predictedLoss[^1], Statistics.Mean(finalLosses), lossSe, 4 * lossSe, $"{m} networks; tolerance 4·SE."));
        // Solver check: the t = ∞ predictor is kernel regression Θ*Θ⁻¹y (direct Cholesky solve).
        var krr = tTestTrain! * Lapack.CholeskySolve(Lapack.Cholesky(tTrain!), train.Y);
        var inf = dynamics.Mean(tTestTrain!, train.Y, TrainingTime.Infinite);
        double krrErr = krr.MaxAbsDifference(inf) / krr.Data.Max(Math.Abs);
        output.Claims.Add(Claim.Compare("krr-limit", "the t = ∞ NTK predictor equals kernel regression Θ*Θ⁻¹y (eigendecomposition vs Cholesky)",
            Source, 0, krrErr, 0, 1e-8, "largest relative difference over test points; tolerance 1e-8 (claims.md B3)."));

        // Maximum stable learning rate (claims.md B4): bisect the LR at which a finite network diverges within the run.
        int nLr = widths[widths.Length / 2];
        var lrNet = new Network<double>(NetworkSpec.Parse(Arch(nLr), Parameterization.Ntk, sw2, sb2), train.InputDim);
        lrNet.Initialize(root.Split(0, ulong.MaxValue - 1));
        var init = (double[])lrNet.Parameters.Clone();
        var own = new EmpiricalNtk(lrNet, nTrain).Compute(train.X);
        double etaCrit = new KernelDynamics(own).MaxStableLearningRate;
        bool Diverges(double lr)
        {
            init.CopyTo(lrNet.Parameters, 0);
            var r = new Trainer<double>(lrNet, train, new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Gd, lr), steps, DivergenceFactor: 1e4)).Run();
            return r.Status == TrainingStatus.Diverged || !(r.FinalLoss < r.Losses[0]);
        }
        double lo = 0.5 * etaCrit, hi = 8 * etaCrit;
        if (Diverges(lo)) hi = lo;
        else if (!Diverges(hi)) lo = hi;
        else
            for (int it = 0; it < 8; it++) { double mid = Math.Sqrt(lo * hi); if (Diverges(mid)) hi = mid; else lo = mid; }
        double ratio = Math.Sqrt(lo * hi) / etaCrit;
        output.Facts["divergence_lr_ratio"] = ratio.ToString("G4", System.Globalization.CultureInfo.InvariantCulture);
        output.Claims.Add(OneSided("max-lr", $"a width-{nLr} network trains stably below the linearised threshold η_crit = N/λ_max(Θ̂₀): the LR at which it diverges (or stops decreasing the loss) is ≥ 0.95·η_crit",
            1, ratio, 0, 0.95, $"measured η_div/η_crit = {ratio:G3} by bisection in log η over [0.5, 8]·η_crit (8 halvings, ≈ 1 % resolution), {steps} steps per trial; ratios above 1 are the catapult phase (Lewkowycz et al. 2020), ≈ 2 expected for smooth φ, larger for ReLU", lowerBound: true));

        // Tables and plots.
        output.Tables["networks"] = SeriesTable.FromRows(rows, ("width", r => r.Width), ("net", r => r.Net), ("ntk_relative_change", r => r.NtkChange),
            ("relative_distance_to_linearisation", r => r.LinDev), ("hidden_weight_change", r => r.HiddenChange), ("readout_weight_change", r => r.ReadoutChange),
            ("preactivation_change", r => r.PreactivationChange), ("final_train_loss", r => r.FinalLoss));
        output.Tables["scaling"] = SeriesTable.FromRows(Enumerable.Range(0, widths.Length).ToList(), ("width", i => widths[i]), ("ntk_change_rms", i => chg[i]),
            ("ntk_change_se", i => chgSe[i]), ("linearisation_rms", i => lin[i]), ("linearisation_se", i => linSe[i]),
            ("hidden_weight_rms", i => hid[i]), ("readout_weight_rms", i => rdo[i]), ("preactivation_rms", i => dz[i]));
        output.Tables["test_outputs"] = SeriesTable.FromRows(Enumerable.Range(0, nTest).ToList(), ("point", i => i), ("predicted_mean", i => meanTest[i, 0]),
            ("predicted_sd", i => Math.Sqrt(varTest[i])), ("measured_mean", i => perPoint[i].Mean), ("measured_se", i => perPoint[i].Se), ("measured_sd", i => Math.Sqrt(perPoint[i].Var)));
        output.Plots.Add(new PlotSpec("Departure from the kernel regime vs width", "width n", "RMS over networks", [
            new SeriesSpec("NTK: ‖Θ̂_T − Θ̂₀‖/‖Θ̂₀‖", ns, chg, SeriesKind.Points, chgSe),
            new SeriesSpec("linearisation: relative distance", ns, lin, SeriesKind.Points, linSe),
            new SeriesSpec("hidden: ‖ΔW‖/‖W‖", ns, hid, SeriesKind.Points, hidSe),
            new SeriesSpec("readout: ‖Δw‖/‖w‖", ns, rdo, SeriesKind.Points, rdoSe),
            new SeriesSpec("n^−1 guide", ns, ns.Select(n => hid[0] * ns[0] / n).ToArray(), SeriesKind.Line, Dashed: true),
            new SeriesSpec("n^−1/2 guide", ns, ns.Select(n => chg[0] * Math.Sqrt(ns[0] / n)).ToArray(), SeriesKind.Line, Dashed: true)], LogX: true, LogY: true,
            Caption: $"{nets} networks per width, depth {depth} ReLU, NTK parameterisation, GD for {steps} steps at η = {frac}·N/λ_max."));
        var xs = curveSteps.Select(k => (double)k).ToArray();
        var curves = new List<SeriesSpec> { new("predicted E[L] (n = ∞)", xs, predictedLoss, SeriesKind.Line) };
        foreach (var (n, g) in widths.Zip(byWidth))
            curves.Add(new SeriesSpec($"n={n}", xs, Enumerable.Range(0, xs.Length).Select(k => g.Average(r => r.Losses[k])).ToArray(), SeriesKind.Points));
        output.Plots.Add(new PlotSpec("Training loss: networks vs closed form", "GD step", "training MSE (mean over networks)", curves, LogY: true));
        var pts = Enumerable.Range(0, nTest).Select(i => (double)i).ToArray();
        output.Plots.Add(new PlotSpec($"Test outputs at width {widths[^1]}", "test point", "output after training", [
            new SeriesSpec("predicted mean ± sd", pts, Enumerable.Range(0, nTest).Select(i => meanTest[i, 0]).ToArray(), SeriesKind.Points, varTest.Select(Math.Sqrt).ToArray()),
            new SeriesSpec("ensemble mean ± SE", pts, perPoint.Select(p => p.Mean).ToArray(), SeriesKind.Points, perPoint.Select(p => p.Se).ToArray())]));
        return output;
    }

    private sealed record Row(int Width, int Net, double NtkChange, double LinDev, double HiddenChange, double ReadoutChange,
        double PreactivationChange, double FinalLoss, double[] TestOut, double[] Losses);

    /// <summary>‖W_T − W₀‖_F/‖W₀‖_F of dense layer <paramref name="dense"/>'s weights.</summary>
    private static double RelativeChange(Network<double> net, double[] initial, int dense)
    {
        var t = net.Tensors[2 * dense];
        double d = 0, w = 0;
        for (int i = t.Offset; i < t.Offset + t.Length; i++) { d += Math.Pow(net.Parameters[i] - initial[i], 2); w += initial[i] * initial[i]; }
        return Math.Sqrt(d / w);
    }

    /// <summary>A one-sided claim from claims.md's pass rules: measured ≤ bound (≥ bound with <paramref name="lowerBound"/>).</summary>
    private Claim OneSided(string id, string statement, double predicted, double measured, double se, double bound, string note, bool lowerBound = false) =>
        Claim.Compare(id, statement, Source, predicted, measured, se, Math.Abs(bound - predicted), $"{note}; bound {bound:G3}.",
            lowerBound ? ClaimRule.AtLeast : ClaimRule.AtMost);

    /// <summary>E[L] = (1/N)(‖μ − y‖² + Σ_i Var f(x_i)) on the training set under the linearised infinite-width dynamics.</summary>
    internal static double ExpectedTrainLoss(KernelDynamics dynamics, Matrix theta, Matrix k, Matrix y, TrainingTime when)
    {
        int n = theta.Rows;
        var mean = dynamics.Mean(theta, y, when);
        var diag = Enumerable.Range(0, n).Select(i => k[i, i]).ToArray();
        var var = dynamics.Variance(theta, k, k, diag, when);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.Pow(mean[i, 0] - y[i, 0], 2) + var[i];
        return sum / n;
    }

    internal static (Dataset Train, Dataset Test) LoadData(string name, int nTrain, int nTest, Rng rng)
    {
        switch (name.Trim().ToLowerInvariant())
        {
            case "synthetic":
                {
                    var all = Teacher.Label(Synthetic.Sphere(nTrain + nTest, 16, rng.Split(1)), "dense(32)-tanh-dense(1)", rng.Split(2), sw2: 2);
                    return (all.Take(nTrain), all.Subset(Enumerable.Range(nTrain, nTest).ToArray()));
                }
            case "fashion-mnist":
                {
                    // Two classes (T-shirt/top = 0 → −1, trouser = 1 → +1), pixels projected onto the sphere of radius √784.
                    var pool = FashionMnist.Load("train", 4000, rng.Split(1));
                    var rows = Enumerable.Range(0, pool.Count).Where(i => pool.Labels![i] is 0 or 1).Take(nTrain + nTest).ToArray();
                    if (rows.Length < nTrain + nTest) throw new BadInputException($"Fashion-MNIST subset has only {rows.Length} T-shirts and trousers.");
                    var x = Inputs.ToSphere(pool.Subset(rows).Standardized().X);
                    var y = new Matrix(rows.Length, 1);
                    for (int i = 0; i < rows.Length; i++) y[i, 0] = pool.Labels![rows[i]] == 1 ? 1 : -1;
                    var all = new Dataset(x, y, Name: "fashion-mnist (T-shirt vs trouser)");
                    return (all.Take(nTrain), all.Subset(Enumerable.Range(nTrain, nTest).ToArray()));
                }
            default: throw new BadInputException($"Setting data='{name}' is not allowed. Allowed: synthetic, fashion-mnist.");
        }
    }

    /// <summary>A kernel on [train; test] inputs split into its train×train and test×train blocks.</summary>
    internal static (Matrix Train, Matrix TestTrain) Split(Matrix theta, int nTrain)
    {
        int nTest = theta.Rows - nTrain;
        var a = new Matrix(nTrain, nTrain); var b = new Matrix(nTest, nTrain);
        for (int i = 0; i < nTrain; i++) for (int j = 0; j < nTrain; j++) a[i, j] = theta[i, j];
        for (int i = 0; i < nTest; i++) for (int j = 0; j < nTrain; j++) b[i, j] = theta[nTrain + i, j];
        return (a, b);
    }

}
