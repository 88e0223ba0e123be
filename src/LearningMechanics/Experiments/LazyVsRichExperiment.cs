using System.Globalization;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.KernelRegime;
using LearningMechanics.Training;

namespace LearningMechanics.Experiments;

/// <summary>
/// <c>lazy-vs-rich</c> (Chizat et al. 2019; Simon et al. 2026, §2.2): the centred model f̃_α = α·(f(θ) − f(θ₀)) of a
/// two-layer ReLU network (NTK parameterisation, width n), trained by GD on MSE with learning rate η/α² so that the
/// function moves at the same speed for every α. Large α linearises training (lazy: the NTK and the features stay
/// put, the trained function is the kernel predictor), small α lets the features move (rich).
/// Implementation: the readout's σ_w², σ_b² are multiplied by α² (so the network computes α·f with the same stored
/// parameters) and the targets are shifted by α·f(θ₀), so the trained α·f − α·f₀ fits y.
/// Claims (docs/claims.md, lazy-vs-rich): the kernel movement ‖Θ̂_T − Θ̂₀‖/‖Θ̂₀‖ falls as α^{−1} for α ≥ 3; the
/// feature movement 1 − CKA(h_T, h₀) decreases monotonically with α (Spearman ≤ −0.9); for α ≥ 30 the test MSE is
/// within 5 % of the kernel predictor's (the network's own Θ̂₀ dynamics run for the same number of steps).
/// </summary>
public sealed class LazyVsRichExperiment : IExperiment
{
    private const string Reference = "Chizat et al. 2019; Simon et al. 2026, §2.2";

    public string Id => "lazy-vs-rich";
    public string Title => "The output scale switches between lazy and rich training";
    public string Summary =>
        "centred output scale α with LR η/α²: kernel movement ∝ 1/α, features freeze as α grows, large α trains like the NTK predictor";
    public string Source => Reference;

    public IReadOnlyList<SettingInfo> Settings { get; } =
    [
        new("alphas", "output scales α", "0.03,0.1,0.3,1,3,10,30,100", "0.01,0.03,0.1,0.3,1,3,10,30,100"),
        new("acts", "activations (a smooth one for the α^−1 law, ReLU for what its kinks do to it)", "tanh,relu", "tanh,gelu,relu"),
        new("width", "hidden width n", "512", "1024"),
        new("nets", "networks (initialisations) per α", "3", "10"),
        new("n_train", "training points (single-index target, d = 16)", "256", "512"),
        new("n_test", "test points", "256", "1024"),
        new("max_steps", "GD step limit", "3000", "10000"),
        new("target", "stop when the training MSE falls below target × the variance of y", "0.01", "0.001"),
        new("lr_fraction", "η as a fraction of the maximal stable N/λ_max(Θ̂₀)", "0.5", "0.5"),
    ];

    private static readonly ClaimDeclaration KernelMovementSlope = new("kernel-movement-slope-{act}",
        "{act}: for α ≥ 3 the relative NTK movement ‖Θ̂_T − Θ̂₀‖/‖Θ̂₀‖ falls as α^{−1}", Reference, ClaimRule.TwoSided,
        "4·SE of the slope + 0.15, the next order in 1/α (docs/claims.md, lazy-vs-rich)");

    private static readonly ClaimDeclaration FeatureMovementMonotone = new("feature-movement-monotone-{act}",
        "{act}: the feature movement 1 − CKA(h_T, h₀) decreases monotonically as α grows (Spearman rank correlation ≤ −0.9)",
        Reference, ClaimRule.AtMost, "Spearman ρ ≤ −0.9 (docs/claims.md, lazy-vs-rich)");

    private static readonly ClaimDeclaration LazyTestMse = new("lazy-test-mse-{act}",
        "{act}: for α ≥ 30 the test MSE is within 5 % of the kernel predictor's (the network's own Θ̂₀ dynamics for the same " +
        "steps; worst α shown)", Reference, ClaimRule.TwoSided, "5 % of the kernel predictor's test MSE (docs/claims.md, lazy-vs-rich)");

    public IReadOnlyList<ClaimDeclaration> Claims { get; } = [KernelMovementSlope, FeatureMovementMonotone, LazyTestMse];

    /// <summary>Random stream of the data; initialisation r uses stream r for every α.</summary>
    private const ulong DataStream = ulong.MaxValue;

    /// <summary>Sub-stream of the data stream: the target direction w*.</summary>
    private const ulong DirectionStream = 1;

    /// <summary>Sub-stream of the data stream: the Gaussian inputs.</summary>
    private const ulong InputStream = 2;

    private sealed record Setup(double[] Alphas, int Width, int Nets, int NTrain, int NTest, int MaxSteps, double Target,
        double Fraction, Activation[] Acts)
    {
        public static Setup From(Settings s)
        {
            var alphas = s.GetList("alphas").Select(a =>
                double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && double.IsFinite(v)
                    ? v : throw new BadInputException($"Setting alphas: '{a}' is not a positive number.")).Distinct().Order().ToArray();
            if (alphas.Length < 3) throw new BadInputException("Setting alphas needs at least 3 values.");
            int width = s.GetInt("width", 2);
            int nets = s.GetInt("nets", 2);
            int nTrain = s.GetInt("n_train", 4);
            int nTest = s.GetInt("n_test", 1);
            int maxSteps = s.GetInt("max_steps", 1);
            double target = s.GetDouble("target", 1e-12);
            double frac = s.GetDouble("lr_fraction", 1e-6);
            if (frac >= 1) throw new BadInputException($"Setting lr_fraction={frac} must be < 1.");
            var acts = s.GetList("acts").Select(Activation.Parse).ToArray();
            return new Setup(alphas, width, nets, nTrain, nTest, maxSteps, target, frac, acts);
        }
    }

    private sealed record Row(string Act, double Alpha, int Steps, bool Diverged, double KernelMovement, double Cka, double TestMse,
        double KernelTestMse, double NfaCosine);

    /// <summary>Per α: mean over the converged networks (NaN where none) and its SE (NaN below two networks).</summary>
    private sealed record Sweep(string Act, double[] Move, double[] MoveSe, double[] Feat, double[] FeatSe, double[] Mse, double[] MseSe,
        double[] KMse, double[] Nfa, int[] Networks);

    public ExperimentOutput Run(RunContext ctx)
    {
        var p = Setup.From(ctx.Settings);
        var root = new Rng(ctx.Seed);
        var (train, test) = SingleIndex(p.NTrain, p.NTest, 16, root.Split(DataStream));
        double yVar = Statistics.Variance(train.Y.Data);
        var output = new ExperimentOutput();
        output.Facts["target_function"] = "y = He₂(u) + u = u² − 1 + u, u = w*·x/‖w*‖, x ~ N(0, I₁₆)";
        var rows = Measure(ctx, p, train, test, root, p.Target * yVar);
        var sweeps = p.Acts.Select(act => Summarise(p, act.Name, rows)).ToList();
        foreach (var (act, sweep) in p.Acts.Zip(sweeps)) Judge(output, p, act, sweep);
        if (rows.Any(r => r.Diverged))
            output.Facts["diverged_runs"] = string.Join(", ", rows.Where(r => r.Diverged).Select(r => $"{r.Act} α={r.Alpha}"));
        Report(output, p, rows, sweeps);
        return output;
    }

    private static List<Row> Measure(RunContext ctx, Setup p, Dataset train, Dataset test, Rng root, double targetLoss)
    {
        long done = 0;
        long total = (long)p.Acts.Length * p.Alphas.Length * p.Nets;
        var rows = new List<Row>();
        foreach (var act in p.Acts)
            for (int r = 0; r < p.Nets; r++)
                foreach (var alpha in p.Alphas)
                {
                    ctx.Cancellation.ThrowIfCancellationRequested();
                    rows.Add(Train(alpha, act.Name, p.Width, train, test, root.Split((ulong)r), p.Fraction, p.MaxSteps, targetLoss));
                    ctx.Progress?.Report(new ProgressInfo($"{act.Name} α = {alpha}", Interlocked.Increment(ref done), total));
                }
        return rows;
    }

    private static Sweep Summarise(Setup p, string act, List<Row> rows)
    {
        var byAlpha = p.Alphas.Select(al => rows.Where(r => r.Act == act && r.Alpha == al && !r.Diverged).ToList()).ToList();
        double[] Mean(Func<Row, double> f) => byAlpha.Select(g => g.Count == 0 ? double.NaN : g.Average(f)).ToArray();
        double[] Se(Func<Row, double> f) =>
            byAlpha.Select(g => g.Count < 2 ? double.NaN : Statistics.StandardError(g.Select(f).ToArray())).ToArray();
        return new Sweep(act, Mean(r => r.KernelMovement), Se(r => r.KernelMovement), Mean(r => 1 - r.Cka), Se(r => 1 - r.Cka),
            Mean(r => r.TestMse), Se(r => r.TestMse), Mean(r => r.KernelTestMse), Mean(r => r.NfaCosine),
            [.. byAlpha.Select(g => g.Count)]);
    }

    private static void Judge(ExperimentOutput output, Setup p, Activation act, Sweep s)
    {
        var alphas = p.Alphas;
        // (1) Kernel movement ∝ 1/α on the lazy side.
        var lazy = Enumerable.Range(0, alphas.Length).Where(i => alphas[i] >= 3 && s.Move[i] > 0).ToArray();
        string kink = act.IsSmooth && act is not Relu ? "" :
            " For ReLU the local slope flattens towards −1/2 at large α (smooth activations keep −1), consistent with the kernel then " +
            "changing mainly through a Poisson number of activation-pattern flips (weights moving less than the spacing of " +
            "preactivations near the kink), whose Frobenius norm scales as α^{−1/2}.";
        output.Claims.Add(ScalingFits.Slope(KernelMovementSlope.With(("act", s.Act)), lazy.Select(i => alphas[i]).ToArray(),
            lazy.Select(i => s.Move[i]).ToArray(), lazy.Select(i => Math.Max(s.MoveSe[i], 1e-12)).ToArray(), -1, 0.15,
            "±0.15: the next order in 1/α (docs/claims.md, lazy-vs-rich)." + kink));
        // (2) Monotone transition in the feature movement.
        var valid = Enumerable.Range(0, alphas.Length).Where(i => double.IsFinite(s.Feat[i])).ToArray();
        double rho = Spearman(valid.Select(i => alphas[i]).ToArray(), valid.Select(i => s.Feat[i]).ToArray());
        output.Claims.Add(FeatureMovementMonotone.With(("act", s.Act)).Compare(-1, rho, 0, 0.1,
            $"Spearman ρ over {valid.Length} values of α (docs/claims.md, lazy-vs-rich); rich end 1 − CKA = {s.Feat[valid[0]]:G3}, " +
            $"lazy end {s.Feat[valid[^1]]:G3}."));
        // (3) The lazy end trains like the kernel predictor.
        var claim = LazyTestMse.With(("act", s.Act));
        var far = Enumerable.Range(0, alphas.Length).Where(i => alphas[i] >= 30 && double.IsFinite(s.Mse[i])).ToArray();
        if (far.Length == 0)
        {
            output.Claims.Add(claim.Inconclusive(1, "No α ≥ 30 in the sweep (or every such run diverged).", tolerance: 0.05));
            return;
        }
        int w = far.MaxBy(i => Math.Abs(s.Mse[i] / s.KMse[i] - 1));
        output.Claims.Add(claim.Compare(1, s.Mse[w] / s.KMse[w], s.MseSe[w] / s.KMse[w], 0.05,
            $"α = {alphas[w]}; ratio of test MSEs, mean over {s.Networks[w]} networks; tolerance 5 % (docs/claims.md, lazy-vs-rich)."));
    }

    private static void Report(ExperimentOutput output, Setup p, List<Row> rows, List<Sweep> sweeps)
    {
        var alphas = p.Alphas;
        var sweepRows = sweeps.SelectMany(s => Enumerable.Range(0, alphas.Length).Select(i => (S: s, I: i))).ToList();
        output.Tables["sweep"] = SeriesTable.FromRows(sweepRows, ("activation", r => r.S.Act), ("alpha", r => alphas[r.I]),
            ("kernel_movement", r => r.S.Move[r.I]), ("kernel_movement_se", r => r.S.MoveSe[r.I]), ("feature_movement", r => r.S.Feat[r.I]),
            ("feature_movement_se", r => r.S.FeatSe[r.I]), ("test_mse", r => r.S.Mse[r.I]), ("test_mse_se", r => r.S.MseSe[r.I]),
            ("kernel_test_mse", r => r.S.KMse[r.I]), ("nfa_cosine", r => r.S.Nfa[r.I]));
        output.Tables["runs"] = SeriesTable.FromRows(rows, ("activation", r => r.Act), ("alpha", r => r.Alpha), ("steps", r => r.Steps),
            ("diverged", r => r.Diverged ? 1 : 0), ("kernel_movement", r => r.KernelMovement), ("cka", r => r.Cka),
            ("test_mse", r => r.TestMse), ("kernel_test_mse", r => r.KernelTestMse), ("nfa_cosine", r => r.NfaCosine));
        var movement = sweeps.SelectMany(s => new[]
        {
            new SeriesSpec($"{s.Act}: NTK movement", alphas, s.Move, SeriesKind.Points, s.MoveSe),
            new SeriesSpec($"{s.Act}: 1 − CKA", alphas, s.Feat, SeriesKind.Line),
        }).ToList();
        movement.Add(new SeriesSpec("α^−1 guide", alphas, alphas.Select(al => 0.05 * 3 / al).ToArray(), SeriesKind.Line, Dashed: true));
        output.Plots.Add(new PlotSpec("Lazy ↔ rich: movement vs output scale", "output scale α", "movement during training", movement,
            LogX: true, LogY: true, Caption: $"Two-layer networks, width {p.Width}, NTK parameterisation, centred output α(f − f₀), " +
            $"LR η/α², trained until the loss is {p.Target} × Var(y); mean ± SE over {p.Nets} initialisations."));
        var mse = sweeps.SelectMany(s => new[]
        {
            new SeriesSpec($"{s.Act}: network", alphas, s.Mse, SeriesKind.Points, s.MseSe),
            new SeriesSpec($"{s.Act}: kernel predictor", alphas, s.KMse, SeriesKind.Line, Dashed: true),
        }).ToList();
        output.Plots.Add(new PlotSpec("Test error vs output scale", "output scale α", "test MSE", mse, LogX: true,
            Caption: "Small α (rich) beats the kernel on this single-index target, where feature learning finds the direction w*; " +
            "large α trains like the kernel predictor."));
    }

    /// <summary>Trains one centred network at output scale α until the target loss; its movement and test error.</summary>
    private static Row Train(double alpha, string act, int width, Dataset train, Dataset test, Rng rng, double frac, int maxSteps,
        double targetLoss)
    {
        double a2 = alpha * alpha;
        var spec = NetworkSpec.Parse(FormattableString.Invariant($"dense({width})-{act}-dense(1,sw2={2 * a2:R},sb2={0.1 * a2:R})"),
            Parameterization.Ntk, 2, 0.1);
        var net = new Network<double>(spec, train.InputDim);
        net.Initialize(rng);   // identical stored parameters for every α
        var probe = Matrix.Stack(train.X, test.X);
        var ntk = new EmpiricalNtk(net, probe.Rows);
        var (theta0, theta0TestTrain) = KernelBlocks.Split(ntk.Compute(probe), train.Count);
        var h0 = Representations.Penultimate(net, train.X);
        var g0Train = Trainer<double>.Predict(net, train.X);
        var g0Test = Trainer<double>.Predict(net, test.X);
        // Shifted targets: the centred model α(f − f₀) fits y.
        var shifted = train.Y.Clone();
        for (int i = 0; i < shifted.Data.Length; i++) shifted.Data[i] += g0Train.Data[i];
        // Θ̂₀ of α·f is α²Θ̂₀(f); η/α² keeps the function-space step the same for every α.
        var dynamics = new KernelDynamics(theta0);
        double eta = frac * dynamics.MaxStableLearningRate;
        var options = new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Gd, eta), maxSteps, TargetLoss: targetLoss);
        var result = new Trainer<double>(net, train with { Y = shifted }, options).Run();
        if (result.Status == TrainingStatus.Diverged)
            return new Row(act, alpha, result.StepsTaken, true, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        int steps = result.StepsTaken;
        var (thetaT, _) = KernelBlocks.Split(ntk.Compute(probe), train.Count);
        double cka = Cka.Linear(h0, Representations.Penultimate(net, train.X));
        var gT = Trainer<double>.Predict(net, test.X);
        // Kernel predictor: the linearised centred model from 0 with the network's own Θ̂₀, the same LR and steps.
        var kernelPred = dynamics.Mean(theta0TestTrain, train.Y, TrainingTime.Discrete(steps, eta));
        double mse = 0;
        double kmse = 0;
        for (int i = 0; i < test.Count; i++)
        {
            double f = gT[i, 0] - g0Test[i, 0];
            mse += Math.Pow(f - test.Y[i, 0], 2);
            kmse += Math.Pow(kernelPred[i, 0] - test.Y[i, 0], 2);
        }
        double nfa = FeatureAnsatz.Measure(net, train.X).Cosine;
        return new Row(act, alpha, steps, false, EmpiricalNtk.RelativeChange(theta0, thetaT), cka, mse / test.Count, kmse / test.Count,
            nfa);
    }

    /// <summary>
    /// y = u² − 1 + u with u = w*·x/‖w*‖, x ~ N(0, I_d): a single-index target with a linear and a quadratic Hermite part.
    /// </summary>
    private static (Dataset Train, Dataset Test) SingleIndex(int nTrain, int nTest, int d, Rng rng)
    {
        var w = new double[d];
        rng.Split(DirectionStream).FillGaussian(w);
        double norm = Math.Sqrt(w.Sum(v => v * v));
        var x = Synthetic.GaussianInputs(nTrain + nTest, d, rng.Split(InputStream));
        var y = new Matrix(nTrain + nTest, 1);
        for (int i = 0; i < x.Rows; i++)
        {
            double u = 0;
            for (int j = 0; j < d; j++) u += w[j] * x[i, j] / norm;
            y[i, 0] = u * u - 1 + u;
        }
        var all = new Dataset(x, y, Name: "single-index (d = 16)");
        return (all.Take(nTrain), all.Subset(Enumerable.Range(nTrain, nTest).ToArray()));
    }

    /// <summary>Spearman rank correlation (no ties expected).</summary>
    private static double Spearman(double[] x, double[] y)
    {
        var rx = Ranks(x);
        var ry = Ranks(y);
        return Statistics.Covariance(rx, ry) / Math.Sqrt(Statistics.Variance(rx) * Statistics.Variance(ry));
    }

    private static double[] Ranks(double[] v)
    {
        var r = new double[v.Length];
        var order = Enumerable.Range(0, v.Length).OrderBy(i => v[i]).ToArray();
        for (int k = 0; k < v.Length; k++) r[order[k]] = k;
        return r;
    }
}
