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
/// Claims (docs/claims.md, lazy-vs-rich): the kernel movement ‖Θ̂_T − Θ̂₀‖/‖Θ̂₀‖ falls as α^{−1} for α ≥ 3 for
/// smooth activations (against the flip law α^{−1/2}); for ReLU that literature claim is refuted, and the refined prediction
/// √(S_lin² + J_lin²) of docs/notes/relu-flips.md (smooth part plus activation-pattern flips, from the initial network and
/// its lazy displacement) must hold for α ≥ 10; the feature movement 1 − CKA(h_T, h₀) falls as α^{−2} (it is quadratic in
/// the O(1/α) feature change; against no change); for α ≥ 30 the test MSE equals the kernel predictor's (the network's own
/// Θ̂₀ dynamics run for the same number of steps) up to O(1/α), against the rich end's test MSE.
/// </summary>
public sealed class LazyVsRichExperiment : IExperiment
{
    private const string Reference = "Chizat et al. 2019; Simon et al. 2026, §2.2";

    public string Id => "lazy-vs-rich";
    public string Title => "The output scale switches between lazy and rich training";
    public string Summary =>
        "centred output scale α with LR η/α²: kernel movement ∝ 1/α, features freeze as α grows, large α trains like the NTK " +
            "predictor";
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

    private const string FlipLaw = "activation-pattern flips dominate: slope −1/2 (docs/notes/relu-flips.md)";

    private static readonly ClaimDeclaration KernelMovementSlope = new("kernel-movement-slope-{act}",
        "{act}: for α ≥ 3 the relative NTK movement ‖Θ̂_T − Θ̂₀‖/‖Θ̂₀‖ falls as " +
            "α^{−1}", Reference, ClaimRule.TwoSided,
        "4·SE of the slope + 0.15, the next order in 1/α (docs/claims.md, lazy-vs-rich)")
    {
        Competitor = FlipLaw,
    };

    private static readonly ClaimDeclaration KernelMovementSlopeRelu = new("kernel-movement-slope-relu",
        "relu: for α ≥ 3 the relative NTK movement ‖Θ̂_T − Θ̂₀‖/‖Θ̂₀‖ falls as α^{−1} (Chizat et al. " +
            "2019)", Reference,
        ClaimRule.TwoSided, "4·SE of the slope + 0.15, the next order in 1/α (docs/claims.md, lazy-vs-rich)")
    {
        Competitor = FlipLaw,
        ExpectedRefutation = "activation-pattern flips add a part ∝ α^{−1/2} to the kernel movement of a ReLU network (a Poisson " +
            "number of gates flip, each by O(1); docs/notes/relu-flips.md), which dominates above α_c = A²/B² ≈ 1 at width 512; " +
            "see kernel-movement-flips-relu.",
    };

    private static readonly ClaimDeclaration KernelMovementFlips = new("kernel-movement-flips-relu",
        "relu: for α ≥ 10 the squared kernel movement M² equals S_lin² + J_lin², the smooth part plus the activation-flip part " +
        "predicted from the initial network and its lazy displacement θ₀ + J₀ᵀ·A·y (docs/notes/relu-flips.md): mean M²/P² = 1",
        Reference, ClaimRule.TwoSided,
        "4·SE of the mean ratio over runs + 0.05, the smooth part's next order in 1/α (docs/notes/relu-flips.md)")
    {
        Competitor = "the pure α^{−1} law: the smooth part S_lin alone (mean S_lin²/P²)",
    };

    private static readonly ClaimDeclaration FeatureMovementSlope = new("feature-movement-slope-{act}",
        "{act}: for α ≥ 3 the feature movement 1 − CKA(h_T, h₀) falls as α^{−2} (CKA is stationary at h_T = h₀, so its loss " +
        "is quadratic in the O(1/α) feature change)", Reference, ClaimRule.TwoSided,
        "4·SE of the slope + 0.3, the next order in 1/α (twice the kernel's; docs/claims.md, lazy-vs-rich)")
    {
        Competitor = "the features do not freeze: slope 0",
    };

    private static readonly ClaimDeclaration LazyTestMse = new("lazy-test-mse-{act}",
        "{act}: for α ≥ 30 the test MSE equals the kernel predictor's (the network's own Θ̂₀ dynamics for the same steps) up to " +
        "O(1/α); worst α shown", Reference, ClaimRule.TwoSided,
        "4·SE of the mean ratio over networks + 1/α, the linearisation's error (docs/claims.md, lazy-vs-rich)")
    {
        Competitor = "the output scale does not matter: the test MSE of the rich end (smallest α), over the kernel predictor's",
    };

    public IReadOnlyList<ClaimDeclaration> Claims { get; } =
        [KernelMovementSlope, KernelMovementSlopeRelu, KernelMovementFlips, FeatureMovementSlope, LazyTestMse];

    public void Validate(Settings settings) => Setup.From(settings);

    /// <summary>
    /// Per activation, network and α: the empirical NTK on the train and test points twice, the eigendecomposition of Θ̂₀,
    /// up to max_steps full-batch GD steps of the 16 → n → 1 network, and the measurements after it (CKA's n-wide Grams, the
    /// AGOP, the activation flips: a few passes over the points); in memory two networks with their activations on every
    /// point and the kernel matrices.
    /// </summary>
    public ResourceEstimate? Estimate(Settings settings)
    {
        var p = Setup.From(settings);
        double points = (double)p.NTrain + p.NTest;
        double w = WorkEstimate.MlpWeights(16, p.Width, 1);
        double perRun = 2 * WorkEstimate.EmpiricalNtk(w, points) + WorkEstimate.Eigen(p.NTrain)
            + WorkEstimate.Training(w, p.MaxSteps, p.NTrain, 20 * points) + 4.0 * p.NTrain * p.NTrain * p.Width;
        double flops = (double)p.Acts.Length * p.Nets * p.Alphas.Length * perRun;
        double bytes = 2 * (WorkEstimate.TrainedNetwork(w) + WorkEstimate.Activations(p.Width + 1.0, points))
            + 4 * WorkEstimate.Matrix(points, points) + 4 * WorkEstimate.Matrix(points, p.Width) + 2 * WorkEstimate.Matrix(points, 17);
        return new ResourceEstimate(flops, bytes);
    }

    /// <summary>
    /// Random stream of the initialisations: activation k, initialisation r uses its sub-stream (k, r) for every α, so the
    /// claims of different activations do not share weight draws.
    /// </summary>
    private const ulong InitialisationStream = 0;

    /// <summary>Random stream of the data.</summary>
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
        double KernelTestMse, double NfaCosine, FlipDecomposition? Lazy = null, double FlipTotal = double.NaN)
    {
        /// <summary>M²/P²: the measured squared movement over the smooth-plus-flip prediction (NaN without one).</summary>
        public double FlipRatio => Lazy is { } l ? FlipTotal * FlipTotal / (l.PredictedTotal * l.PredictedTotal) : double.NaN;

        /// <summary>S_lin²/P²: what the pure α^{−1} law (the smooth part alone) predicts for <see cref="FlipRatio"/>.</summary>
        public double SmoothRatio => Lazy is { } l ? l.Smooth * l.Smooth / (l.PredictedTotal * l.PredictedTotal) : double.NaN;
    }

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
        foreach (var (act, sweep) in p.Acts.Zip(sweeps)) Judge(output, p, act, sweep, rows);
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
        var init = root.Split(InitialisationStream);
        foreach (var (act, k) in p.Acts.Select((a, k) => (a, k)))
            for (int r = 0; r < p.Nets; r++)
                foreach (var alpha in p.Alphas)
                {
                    ctx.Cancellation.ThrowIfCancellationRequested();
                    var rng = init.Split((ulong)k).Split((ulong)r);
                    rows.Add(Train(alpha, act.Name, p.Width, train, test, rng, p.Fraction, p.MaxSteps, targetLoss));
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

    private static void Judge(ExperimentOutput output, Setup p, Activation act, Sweep s, List<Row> rows)
    {
        var alphas = p.Alphas;
        // (1) Kernel movement ∝ 1/α on the lazy side; for ReLU the flips' α^{−1/2} (refined claim below).
        var lazy = Enumerable.Range(0, alphas.Length).Where(i => alphas[i] >= 3 && s.Move[i] > 0).ToArray();
        bool relu = act is Relu;
        var slope = relu ? KernelMovementSlopeRelu.With() : KernelMovementSlope.With(("act", s.Act));
        output.Claims.Add(ScalingFits.Slope(slope, lazy.Select(i => alphas[i]).ToArray(), lazy.Select(i => s.Move[i]).ToArray(),
            lazy.Select(i => Math.Max(s.MoveSe[i], 1e-12)).ToArray(), ActivationFlips.SmoothAlphaExponent, 0.15,
            "the next order in 1/α (docs/claims.md, lazy-vs-rich)", competitor: ActivationFlips.FlipAlphaExponent));
        if (relu) JudgeFlips(output, rows.Where(r => r.Act == s.Act && !r.Diverged && r.Alpha >= FlipAlphaMin).ToList());
        // (2) The features freeze as α^{−2}.
        var feat = Enumerable.Range(0, alphas.Length).Where(i => alphas[i] >= 3 && s.Feat[i] > 0).ToArray();
        output.Claims.Add(ScalingFits.Slope(FeatureMovementSlope.With(("act", s.Act)), feat.Select(i => alphas[i]).ToArray(),
            feat.Select(i => s.Feat[i]).ToArray(), feat.Select(i => Math.Max(s.FeatSe[i], 1e-15)).ToArray(),
            2 * ActivationFlips.SmoothAlphaExponent, 0.3, "the next order in 1/α, twice the kernel's (docs/claims.md, lazy-vs-rich)",
            competitor: 0));
        // (3) The lazy end trains like the kernel predictor, up to O(1/α).
        var claim = LazyTestMse.With(("act", s.Act));
        var far = Enumerable.Range(0, alphas.Length).Where(i => alphas[i] >= 30 && double.IsFinite(s.Mse[i])).ToArray();
        int rich = Array.FindIndex(s.Mse, double.IsFinite);
        if (far.Length == 0 || rich < 0 || alphas[rich] >= 30)
        {
            output.Claims.Add(claim.Inconclusive(1, "No α ≥ 30 and smaller α in the sweep (or every such run diverged)."));
            return;
        }
        var sub = far.Select(i =>
        {
            var ratios = rows.Where(r => r.Act == s.Act && r.Alpha == alphas[i] && !r.Diverged)
                .Select(r => r.TestMse / r.KernelTestMse).ToArray();
            double se = ratios.Length < 2 ? double.NaN : Statistics.StandardError(ratios);
            return claim.Compare(1, ratios.Average(), se, 4 * se + 1 / alphas[i],
                $"α = {alphas[i]}; mean ratio of test MSEs over {ratios.Length} networks; tolerance 4·SE + 1/α; competitor: the rich " +
                $"end α = {alphas[rich]} (docs/claims.md, lazy-vs-rich).", competitor: s.Mse[rich] / s.KMse[i]);
        });
        output.Claims.Add(ScalingFits.Decisive(sub));
    }

    /// <summary>The smallest α at which the smooth-plus-flip prediction is made (below, the smooth part's next order matters).</summary>
    private const double FlipAlphaMin = 10;

    /// <summary>The refined ReLU claim: M² = S_lin² + J_lin² over every run with α ≥ 10 (docs/notes/relu-flips.md).</summary>
    private static void JudgeFlips(ExperimentOutput output, List<Row> runs)
    {
        var claim = KernelMovementFlips.With();
        if (runs.Count < 2)
        {
            output.Claims.Add(claim.Inconclusive(1, $"Need ≥ 2 converged ReLU runs with α ≥ {FlipAlphaMin}, have {runs.Count}."));
            return;
        }
        var ratios = runs.Select(r => r.FlipRatio).ToArray();
        double se = Statistics.StandardError(ratios);
        double smooth = runs.Average(r => r.SmoothRatio);
        output.Claims.Add(claim.Compare(1, ratios.Average(), se, 4 * se + 0.05,
            $"mean of M²/P² over {runs.Count} runs (α ≥ {FlipAlphaMin}); tolerance 4·SE + 0.05, the smooth part's next order in " +
            $"1/α; mean flip fraction of the lazy displacement {runs.Average(r => r.Lazy!.FlipFraction):G2}.", competitor: smooth));
        // Amplitudes of the two-part law M(α) = √(A²/α² + B²/α): A = α·S_lin, B = √α·J_lin, crossover α_c = A²/B².
        double a = runs.Average(r => r.Alpha * r.Lazy!.Smooth);
        double b = runs.Average(r => Math.Sqrt(r.Alpha) * r.Lazy!.PredictedFlip);
        output.Facts["relu_smooth_amplitude_A"] = a.ToString("G3", CultureInfo.InvariantCulture);
        output.Facts["relu_flip_amplitude_B"] = b.ToString("G3", CultureInfo.InvariantCulture);
        output.Facts["relu_flip_crossover_alpha_c"] = ActivationFlips.Crossover(a, b).ToString("G3", CultureInfo.InvariantCulture);
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
            ("test_mse", r => r.TestMse), ("kernel_test_mse", r => r.KernelTestMse), ("nfa_cosine", r => r.NfaCosine),
            ("flip_ratio_m2_p2", r => r.FlipRatio), ("smooth_ratio_s2_p2", r => r.SmoothRatio));
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
        var net0 = new Network<double>(spec, train.InputDim);
        Array.Copy(net.Parameters, net0.Parameters, net.ParameterCount);
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
        double movement = EmpiricalNtk.RelativeChange(theta0, thetaT);
        if (spec.Layers[1] is not ActivationLayer { Activation: Relu })
            return new Row(act, alpha, steps, false, movement, cka, mse / test.Count, kmse / test.Count, nfa);
        // ReLU: the kernel movement predicted from the initial network and its lazy displacement (docs/notes/relu-flips.md).
        var lazy = ActivationFlipMovement.LazyDisplacement(net0, train.X, dynamics, train.Y, TrainingTime.Discrete(steps, eta));
        var predicted = ActivationFlipMovement.Measure(net0, lazy, probe);
        double measured = ActivationFlipMovement.Measure(net0, net, probe).Total;
        return new Row(act, alpha, steps, false, movement, cka, mse / test.Count, kmse / test.Count, nfa, predicted, measured);
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
}
