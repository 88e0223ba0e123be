using System.Globalization;
using System.Text.Json;
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
/// <c>lazy-training</c> (Jacot et al. 2018; Lee et al. 2019; Roberts &amp; Yaida 2022, ch. 10–11):
/// MLPs in NTK parameterisation trained by full-batch GD on MSE follow the closed-form dynamics of their linearisation.
/// For every width, an ensemble of networks is trained for T steps at η = 0.5·N/λ_max(Θ∞) and compared with
/// (i) the infinite-width prediction (mean Θ*·A·y and variance over initialisations from Θ∞ and K∞, <see cref="KernelDynamics"/>),
/// (ii) each network's own linearisation f₀ + Θ̂₀*·A(Θ̂₀)·(y − f₀) with its empirical NTK Θ̂₀ at initialisation.
/// Claims (docs/claims.md, lazy-training): power counting for the movement during training — hidden n×n weights
/// ‖ΔW‖/‖W‖ ∝ n^{−1}, readout ∝ n^{−1/2}, each preactivation ∝ n^{−1/2}; the relative NTK change vanishes with slope
/// −1 by power counting (dNTK = O(1/n), Roberts &amp; Yaida 2022, ch. 11) or at least −1/2 (the bound of Lee et al. 2019),
/// and the distance to the linearisation with slope ≤ −0.4; at the largest width the ensemble's test outputs, their
/// variance and the final training loss equal the infinite-width predictions; the t = ∞ predictor is kernel
/// regression; and a finite network does not diverge below the linearised threshold N/λ_max(Θ̂₀) (above it lies the
/// catapult phase, Lewkowycz et al. 2020).
/// </summary>
public sealed class LazyTrainingExperiment : IGridExperiment
{
    private const string Reference = "Jacot et al. 2018; Lee et al. 2019; Roberts & Yaida 2022, ch. 10–11";

    public string Id => "lazy-training";
    public string Title => "Wide networks train like their linearisation";
    public string Summary =>
        "GD-trained wide MLPs follow the closed-form NTK dynamics; weights, features and the NTK move by power-counting amounts " +
        "that vanish with width";
    public string Source => Reference;

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

    private static readonly ClaimDeclaration NtkChangeSlope = new("ntk-change-slope",
        "the empirical NTK's relative change ‖Θ̂_T − Θ̂₀‖/‖Θ̂₀‖ vanishes with width as n^{−1} (power counting: the " +
            "dNTK is O(1/n))",
        Reference, ClaimRule.TwoSided, "4·SE of the fitted slope")
    {
        Competitor = "slope −1/2 (the n^{−1/2} bound of Lee et al. 2019 as the actual rate)",
        ExpectedRefutation = "the per-network NTK change does not decay as n^{−1} at these widths: the fitted slope lies " +
            "between −1 and −1/2, within 4·SE of −1/2 (see the note)",
    };

    private static readonly ClaimDeclaration LinearisationSlope = new("linearisation-slope",
        "the relative distance RMS(f_T − f_T^lin)/RMS(f_T) of trained test outputs from the network's own linearisation decays " +
        "as n^{−1} (power counting: the correction is driven by the O(1/n) dNTK)", Reference, ClaimRule.TwoSided,
        "4·SE of the fitted slope")
    {
        Competitor = "slope −1/2 (the n^{−1/2} bound of Lee et al. 2019 as the actual rate)",
        ExpectedRefutation = "the distance to the linearisation does not decay as n^{−1} at these widths: like the NTK change, " +
            "its fitted slope lies between −1 and −1/2 (≈ −0.7 to −0.8 at quick settings)",
    };

    private static readonly ClaimDeclaration HiddenWeightSlope = new("hidden-weight-slope",
        "the hidden n×n weights' relative Frobenius change ‖ΔW‖/‖W‖ decays as n^{−1}", Reference, ClaimRule.TwoSided,
        "4·SE of the slope + 0.15 pre-asymptotic curvature (docs/claims.md, lazy-training)")
    {
        Competitor = "slope −1/2 (the hidden weights move at the readout's rate)",
    };

    private static readonly ClaimDeclaration ReadoutWeightSlope = new("readout-weight-slope",
        "the readout weights' relative change decays as n^{−1/2}", Reference, ClaimRule.TwoSided,
        "4·SE of the slope + 0.15 pre-asymptotic curvature (docs/claims.md, lazy-training)")
    {
        Competitor = "slope −1 (the readout moves at the hidden weights' power-counting rate)",
    };

    private static readonly ClaimDeclaration PreactivationSlope = new("preactivation-slope",
        "each last-layer preactivation moves by O(n^{−1/2}) during training (RMS per coordinate)", Reference, ClaimRule.TwoSided,
        "4·SE of the slope + 0.15 pre-asymptotic curvature (docs/claims.md, lazy-training)")
    {
        Competitor = "slope 0 (features move by O(1), as in the mean-field/μP feature-learning regime)",
    };

    private static readonly ClaimDeclaration TestMean = new("test-mean",
        "at widths ≥ {width} (the three widest, pooled), the ensemble mean of the trained test outputs is the infinite-width " +
        "NTK prediction μ = Θ*·A·y: their projection Σ_i f(x_i)μ_i/Σ_i μ_i² on it is 1 ({points} test points)", Reference,
        ClaimRule.TwoSided, "4·SE of the projection over the networks")
    {
        Competitor = "no learning: the ensemble mean stays at the initial mean 0",
    };

    private static readonly ClaimDeclaration TestVariance = new("test-variance",
        "at widths ≥ {width} (pooled), the variance of trained test outputs over initialisations equals the prediction " +
        "K** + Θ*AKAΘ*ᵀ − 2Θ*AK*ᵀ (pooled over test points)", Reference, ClaimRule.TwoSided,
        "4·SE of the pooled variance ratio, SE from Var(s²) = 2σ⁴/(m − 1)")
    {
        Competitor = "training leaves the spread over initialisations at the prior (NNGP) variance K**",
    };

    private static readonly ClaimDeclaration TrainLoss = new("train-loss",
        "at widths ≥ {width} (pooled), the mean training loss after {steps} steps (where the predicted loss first falls to 1 % of " +
        "its start) equals the predicted E[L_t] = (‖μ_t − y‖² + tr Σ_t)/N", Reference, ClaimRule.TwoSided,
        "4·SE over the networks")
    {
        Competitor = "the mean path alone, ‖μ_t − y‖²/N (no initialisation variance tr Σ_t)",
    };

    private static readonly ClaimDeclaration MaxLearningRate = new("max-lr",
        "a width-{width} ReLU network diverges at η_div ≈ 6·η_crit, η_crit = N/λ_max(Θ̂₀) (Lewkowycz et al. 2020's ReLU value " +
        "≈ 12/λ₀ over the lazy edge 2/λ₀)", "Lewkowycz et al. 2020; Zhu et al. 2022", ClaimRule.TwoSided,
        "4·SE over the networks + model error 1 (the literature's ≈ 12/λ₀ is an empirical value, read as ±2/λ₀)")
    {
        Competitor = "the uv-model catapult bound η_max = 2·η_crit (Lewkowycz et al. 2020; Zhu et al. 2022)",
    };

    public IReadOnlyList<ClaimDeclaration> Claims { get; } =
    [
        NtkChangeSlope, LinearisationSlope, HiddenWeightSlope, ReadoutWeightSlope, PreactivationSlope,
        TestMean, TestVariance, TrainLoss, MaxLearningRate,
    ];

    public void Validate(Settings settings) => Setup.From(settings);

    /// <summary>
    /// The infinite-width kernels and GD dynamics (the train and test-train kernels, the eigendecomposition of Θ, 21 points of
    /// the loss curve); per width and network the empirical NTK on the train and test points twice, the linearisation and
    /// the full-batch GD steps; the divergence unit: per network up to 16 trials of the same steps at the middle width. In
    /// memory the widest network in training with its activations on every point, and the kernel matrices.
    /// </summary>
    public ResourceEstimate? Estimate(Settings settings)
    {
        var p = Setup.From(settings);
        string data = settings.GetString("data").Trim().ToLowerInvariant();
        double d = data == "fashion-mnist" ? FashionMnist.Pixels : 16;
        double train = p.NTrain;
        double points = train + p.NTest;
        double Weights(int n) => WorkEstimate.MlpWeights(d, n, p.Depth);
        double theory = WorkEstimate.Kernel(train, points, d, p.Depth) + WorkEstimate.Eigen(train) + 100 * train * train * points;
        double Unit(int n) => 2 * WorkEstimate.EmpiricalNtk(Weights(n), points) + WorkEstimate.Eigen(train)
            + WorkEstimate.Training(Weights(n), p.Steps, train, 6 * points);
        const int trials = 16;
        double divergence = WorkEstimate.EmpiricalNtk(Weights(p.Widths[p.Widths.Length / 2]), train) + WorkEstimate.Eigen(train)
            + trials * WorkEstimate.Training(Weights(p.Widths[p.Widths.Length / 2]), p.Steps, train, 0);
        double flops = theory + (double)p.Nets * (p.Widths.Sum(Unit) + divergence);
        int widest = p.Widths[^1];
        double bytes = (WorkEstimate.TrainedNetwork(Weights(widest)) + WorkEstimate.Activations((double)widest * p.Depth, points))
                * Math.Min(p.Nets, WorkEstimate.Threads)
            + 8 * WorkEstimate.Matrix(points, points) + WorkEstimate.Matrix(points, d)
            + (double)p.Nets * p.Widths.Length * 32 * (p.NTest + 30.0);
        return new ResourceEstimate(flops, bytes);
    }

    /// <summary>Random stream of the data set; network r of width index w uses stream (r, w).</summary>
    private const ulong DataStream = ulong.MaxValue;

    /// <summary>Second part of the streams (i, ·) of the networks whose divergence learning rate is measured.</summary>
    private const ulong LearningRateNetStream = ulong.MaxValue - 1;

    /// <summary>Sub-stream of the data stream: the inputs (synthetic) or the Fashion-MNIST sample.</summary>
    private const ulong InputStream = 1;

    /// <summary>Sub-stream of the data stream: the teacher network (synthetic).</summary>
    private const ulong TeacherStream = 2;

    private sealed record Setup(int[] Widths, int Depth, int Nets, int NTrain, int NTest, int Steps, double Fraction, double Sw2,
        double Sb2)
    {
        public static Setup From(Settings s)
        {
            int[] widths = s.GetIntList("widths", 2).Distinct().Order().ToArray();
            int depth = s.GetInt("depth", 2);
            int nets = s.GetInt("nets", 2);
            int nTrain = s.GetInt("n_train", 2);
            int nTest = s.GetInt("n_test", 1);
            int steps = s.GetInt("steps", 1);
            double frac = s.GetDouble("lr_fraction", 1e-6);
            double sw2 = s.GetDouble("sw2", 1e-9);
            double sb2 = s.GetDouble("sb2", 0);
            if (frac >= 1) throw new BadInputException($"Setting lr_fraction={frac} must be < 1 (GD diverges at η ≥ N/λ_max).");
            return new Setup(widths, depth, nets, nTrain, nTest, steps, frac, sw2, sb2);
        }

        public string Arch(int n) => string.Join("-", Enumerable.Repeat($"dense({n})-relu", Depth)) + "-dense(1)";

        public NetworkSpec Spec(int n) => NetworkSpec.Parse(Arch(n), Parameterization.Ntk, Sw2, Sb2);
    }

    /// <summary>The infinite-width prediction: kernels, the GD dynamics and what they give at step T.</summary>
    private sealed record Prediction(Matrix KTrain, Matrix TTrain, Matrix TTestTrain, KernelDynamics Dynamics, double Eta,
        TrainingTime When, Matrix MeanTest, double[] VarTest, double[] PriorVarTest, int[] CurveSteps, double[] Loss,
        double[] MeanPathLoss);

    private sealed record Row(int Width, int Net, double NtkChange, double LinDev, double HiddenChange, double ReadoutChange,
        double PreactivationChange, double FinalLoss, double[] TestOut, double[] Losses);

    /// <summary>RMS over the networks of each width, with its SE.</summary>
    private sealed record RmsSeries(double[] Rms, double[] Se);

    private sealed record Movement(RmsSeries Ntk, RmsSeries Linearisation, RmsSeries Hidden, RmsSeries Readout, RmsSeries Preactivation);

    private sealed record PointStats(double Mean, double Se, double Var);

    public ExperimentOutput Run(RunContext ctx) => Grid.Run(this, ctx);

    private const string DivergenceUnit = "divergence";

    private static string UnitKey(int width, int net) => string.Create(CultureInfo.InvariantCulture, $"width={width},net={net}");

    /// <summary>One unit per trained network (width, index), and one for the divergence learning rates.</summary>
    public IReadOnlyList<string> Units(RunContext ctx)
    {
        var p = Setup.From(ctx.Settings);
        return [.. p.Widths.SelectMany(n => Enumerable.Range(0, p.Nets).Select(r => UnitKey(n, r))), DivergenceUnit];
    }

    public JsonElement Measure(RunContext ctx, string unit)
    {
        var (p, train, test, theory) = Prepare(ctx);
        var root = new Rng(ctx.Seed);
        if (unit == DivergenceUnit) return Grid.ToJson(MeasureDivergence(ctx, p, train, root).Networks);
        var probe = Matrix.Stack(train.X, test.X);
        foreach (var (n, wi) in p.Widths.Select((n, i) => (n, i)))
            for (int r = 0; r < p.Nets; r++)
                if (UnitKey(n, r) == unit)
                    return Grid.ToJson(TrainOne(p, train, test, probe, theory, n, r, root.Split((ulong)r, (ulong)wi)));
        throw new BadInputException($"Unit '{unit}' is not a unit of {Id} with these settings.");
    }

    public ExperimentOutput Judge(RunContext ctx, IReadOnlyDictionary<string, JsonElement> measurements)
    {
        var (p, train, _, theory) = Prepare(ctx);
        var output = new ExperimentOutput();
        output.Facts["data"] = train.Name;
        output.Facts["learning_rate"] = theory.Eta.ToString("R", CultureInfo.InvariantCulture);
        output.Facts["max_stable_learning_rate"] = theory.Dynamics.MaxStableLearningRate.ToString("R", CultureInfo.InvariantCulture);
        var rows = p.Widths.SelectMany(n => Enumerable.Range(0, p.Nets).Select(r => Grid.FromJson<Row>(measurements[UnitKey(n, r)])))
            .ToList();
        var byWidth = p.Widths.Select(n => rows.Where(r => r.Width == n).ToList()).ToList();
        var movement = MovementOf(byWidth);
        JudgeScaling(output, p, movement);
        var perPoint = JudgeWide(output, p, theory, byWidth.TakeLast(WideWidths).SelectMany(w => w).ToList());
        output.Facts["linearisation_distance_widest"] = string.Create(CultureInfo.InvariantCulture,
            $"{movement.Linearisation.Rms[^1]:G4} ± {movement.Linearisation.Se[^1]:G2} (width {p.Widths[^1]}, relative RMS)");
        JudgeDivergence(output, p, new DivergenceThresholdResult(Grid.FromJson<NetworkDivergence[]>(measurements[DivergenceUnit])));
        Report(output, p, theory, rows, byWidth, movement, perPoint);
        return output;
    }

    private readonly RunCache<(Setup, Dataset, Dataset, Prediction)> prepared = new(ctx =>
    {
        var p = Setup.From(ctx.Settings);
        var (train, test) = LoadData(ctx.Settings.GetString("data"), p.NTrain, p.NTest, new Rng(ctx.Seed).Split(DataStream));
        return (p, train, test, Predict(p, train, test));
    });

    /// <summary>Settings, data and the infinite-width prediction, shared by every unit of one run.</summary>
    private (Setup P, Dataset Train, Dataset Test, Prediction Theory) Prepare(RunContext ctx) => prepared.Get(ctx);

    private static Prediction Predict(Setup p, Dataset train, Dataset test)
    {
        var spec = p.Spec(1);
        var (kTrain, tTrain) = NeuralKernels.Compute(spec, train.X);
        var (kTestTrain, tTestTrain) = NeuralKernels.Compute(spec, test.X, train.X);
        var kTestDiag = NeuralKernels.Diagonal(spec, test.X, ntk: false).Nngp;
        var dynamics = new KernelDynamics(tTrain!);
        double eta = p.Fraction * dynamics.MaxStableLearningRate;
        var when = TrainingTime.Discrete(p.Steps, eta);
        var meanTest = dynamics.Mean(tTestTrain!, train.Y, when);
        var varTest = dynamics.Variance(tTestTrain!, kTrain, kTestTrain, kTestDiag, when);
        var curveSteps = Enumerable.Range(0, 21).Select(i => i * p.Steps / 20).Distinct().ToArray();
        var loss = curveSteps.Select(k => ExpectedTrainLoss(dynamics, tTrain!, kTrain, train.Y, TrainingTime.Discrete(k, eta))).ToArray();
        var meanPath = curveSteps.Select(k =>
        {
            var meanTrain = dynamics.Mean(tTrain!, train.Y, TrainingTime.Discrete(k, eta));
            return Enumerable.Range(0, p.NTrain).Average(i => Math.Pow(meanTrain[i, 0] - train.Y[i, 0], 2));
        }).ToArray();
        return new Prediction(kTrain, tTrain!, tTestTrain!, dynamics, eta, when, meanTest, varTest, kTestDiag, curveSteps, loss,
            meanPath);
    }

    /// <summary>One network of width n: its movement during training and its distance from its own linearisation.</summary>
    private static Row TrainOne(Setup p, Dataset train, Dataset test, Matrix probe, Prediction theory, int n, int r, Rng rng)
    {
        var net = new Network<double>(p.Spec(n), train.InputDim);
        net.Initialize(rng);
        var theta0Params = (double[])net.Parameters.Clone();
        int lastHidden = net.DenseInputIndex(net.DenseCount - 1) - 1;   // the last hidden preactivation
        var z0 = Representations.At(net, probe, lastHidden);
        var ntk = new EmpiricalNtk(net, probe.Rows);
        var theta0 = ntk.Compute(probe);
        var f0 = Trainer<double>.Predict(net, probe);
        // The network's own linearisation: f₀ + Θ̂₀(·, X)·A(Θ̂₀)·(y − f₀(X)).
        var (t0Train, t0TestTrain) = KernelBlocks.Split(theta0, p.NTrain);
        var residual = train.Y.Clone();
        for (int i = 0; i < p.NTrain; i++) residual[i, 0] -= f0[i, 0];
        var linear = new KernelDynamics(t0Train).Mean(t0TestTrain, residual, theory.When);
        var options = new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Gd, theory.Eta), p.Steps);
        var result = new Trainer<double>(net, train, options).Run();
        if (result.Status != TrainingStatus.Completed)
            throw new InvalidOperationException($"Training diverged at width {n} ({result.Note}); lower lr_fraction.");
        var thetaT = ntk.Compute(probe);
        var fT = Trainer<double>.Predict(net, test.X);
        double change = EmpiricalNtk.RelativeChange(KernelBlocks.Split(theta0, p.NTrain).Train, KernelBlocks.Split(thetaT, p.NTrain).Train);
        double dev = 0;
        double size = 0;
        for (int i = 0; i < p.NTest; i++)
        {
            dev += Math.Pow(fT[i, 0] - (f0[p.NTrain + i, 0] + linear[i, 0]), 2);
            size += fT[i, 0] * fT[i, 0];
        }
        var losses = theory.CurveSteps.Select(k => k < result.Losses.Count ? result.Losses[k] : result.FinalLoss!.Value).ToArray();
        var zT = Representations.At(net, probe, lastHidden);
        double moved = Math.Sqrt(zT.Data.Zip(z0.Data).Average(q => (q.First - q.Second) * (q.First - q.Second)));
        return new Row(n, r, change, Math.Sqrt(dev / size), RelativeChange(net, theta0Params, p.Depth / 2),
            RelativeChange(net, theta0Params, p.Depth), moved, result.FinalLoss!.Value, fT.Data.ToArray(), losses);
    }

    private static Movement MovementOf(List<List<Row>> byWidth)
    {
        RmsSeries RmsOf(Func<Row, double> f)
        {
            // RMS over networks; SE by the delta method from the SE of the mean square.
            var rms = byWidth.Select(g => Math.Sqrt(g.Average(r => f(r) * f(r)))).ToArray();
            var se = byWidth.Select((g, i) => Statistics.StandardError(g.Select(r => f(r) * f(r)).ToArray()) / (2 * rms[i])).ToArray();
            return new RmsSeries(rms, se);
        }
        return new Movement(RmsOf(r => r.NtkChange), RmsOf(r => r.LinDev), RmsOf(r => r.HiddenChange), RmsOf(r => r.ReadoutChange),
            RmsOf(r => r.PreactivationChange));
    }

    /// <summary>Scaling claims (docs/claims.md, lazy-training): power counting against the fitted log–log slopes.</summary>
    private static void JudgeScaling(ExperimentOutput output, Setup p, Movement m)
    {
        double[] ns = p.Widths.Select(n => (double)n).ToArray();
        // A network whose ReLUs all died outputs 0 and has a zero kernel: its relative changes are undefined (x/0).
        RmsSeries[] all = [m.Ntk, m.Linearisation, m.Hidden, m.Readout, m.Preactivation];
        int bad = Enumerable.Range(0, ns.Length)
            .FirstOrDefault(i => all.Any(s => !double.IsFinite(s.Rms[i]) || !double.IsFinite(s.Se[i])), -1);
        if (bad >= 0)
        {
            string why = $"At width {ns[bad]} a network has a zero output or kernel (every ReLU dead), so its relative changes are " +
                "undefined: raise the smallest width.";
            output.Claims.AddRange([NtkChangeSlope.With().Inconclusive(-1, why), LinearisationSlope.With().Inconclusive(-1, why),
                HiddenWeightSlope.With().Inconclusive(-1, why), ReadoutWeightSlope.With().Inconclusive(-0.5, why),
                PreactivationSlope.With().Inconclusive(-0.5, why)]);
            return;
        }
        var ntkFit = Statistics.LogLogSlope(ns, m.Ntk.Rms, m.Ntk.Se);
        output.Claims.Add(NtkChangeSlope.With().Compare(-1, ntkFit.Slope, ntkFit.SlopeStdErr, 4 * ntkFit.SlopeStdErr,
            $"weighted fit over widths {ns[0]}…{ns[^1]} (reduced χ² = {ntkFit.ReducedChiSquare:G3}); tolerance " +
                $"4·SE.", competitor: -0.5));
        var linFit = Statistics.LogLogSlope(ns, m.Linearisation.Rms, m.Linearisation.Se);
        output.Claims.Add(LinearisationSlope.With().Compare(-1, linFit.Slope, linFit.SlopeStdErr, 4 * linFit.SlopeStdErr,
            $"weighted fit over widths {ns[0]}…{ns[^1]} (reduced χ² = {linFit.ReducedChiSquare:G3}); tolerance " +
                $"4·SE.", competitor: -0.5));
        const string curvature = "pre-asymptotic curvature, ±0.15 (docs/claims.md, lazy-training)";
        output.Claims.Add(ScalingFits.Slope(HiddenWeightSlope.With(), ns, m.Hidden.Rms, m.Hidden.Se, -1, 0.15, curvature, -0.5));
        output.Claims.Add(ScalingFits.Slope(ReadoutWeightSlope.With(), ns, m.Readout.Rms, m.Readout.Se, -0.5, 0.15, curvature, -1));
        output.Claims.Add(ScalingFits.Slope(PreactivationSlope.With(), ns, m.Preactivation.Rms, m.Preactivation.Se, -0.5, 0.15,
            curvature, 0));
    }

    /// <summary>
    /// Claims at the largest width (Lee et al. 2019): ensemble mean and variance of the test outputs, final training loss.
    /// </summary>
    /// <summary>Widest widths whose networks are pooled for the claims about the trained ensemble (3 × nets networks).</summary>
    private const int WideWidths = 3;

    /// <summary>
    /// The trained ensemble against the infinite-width dynamics, pooled over the <see cref="WideWidths"/> widest widths (their
    /// O(1/n) deviations are far below the SE). The training loss is compared at the first curve step where the predicted
    /// loss has fallen to 1 % of its initial value: late enough for the initialisation variance to matter, early enough to
    /// stay above the finite-width floor the loss reaches at the end (≈ 10⁻⁷ after 200 steps).
    /// </summary>
    private static PointStats[] JudgeWide(ExperimentOutput output, Setup p, Prediction theory, List<Row> pooled)
    {
        int m = pooled.Count;
        int width = pooled.Min(r => r.Width);
        var perPoint = Enumerable.Range(0, p.NTest).Select(i =>
        {
            var v = pooled.Select(r => r.TestOut[i]).ToArray();
            return new PointStats(Statistics.Mean(v), Statistics.StandardError(v), Statistics.Variance(v));
        }).ToArray();
        // Each network's projection on the predicted mean (one number per network, so correlations between points are kept).
        double norm = Enumerable.Range(0, p.NTest).Sum(i => theory.MeanTest[i, 0] * theory.MeanTest[i, 0]);
        var projections = pooled.Select(r => Enumerable.Range(0, p.NTest).Sum(i => r.TestOut[i] * theory.MeanTest[i, 0]) / norm).ToArray();
        double projSe = Statistics.StandardError(projections);
        int worst = Enumerable.Range(0, p.NTest).MaxBy(i => Math.Abs(perPoint[i].Mean - theory.MeanTest[i, 0]) / perPoint[i].Se);
        double worstZ = (perPoint[worst].Mean - theory.MeanTest[worst, 0]) / perPoint[worst].Se;
        output.Claims.Add(TestMean.With(("width", width), ("points", p.NTest)).Compare(1, Statistics.Mean(projections), projSe,
            4 * projSe, $"{m} networks; tolerance 4·SE; the point furthest from its prediction is point {worst} at {worstZ:F2} SE.",
            competitor: 0));
        // Pooled variance ratio: Σ sample variances / Σ predicted variances, SE from the chi-square spread of sample variances.
        double varRatio = perPoint.Sum(q => q.Var) / theory.VarTest.Sum();
        double varRatioSe = Math.Sqrt(2.0 / (m - 1) * perPoint.Sum(q => q.Var * q.Var)) / theory.VarTest.Sum();
        double priorRatio = theory.PriorVarTest.Sum() / theory.VarTest.Sum();
        output.Claims.Add(TestVariance.With(("width", width)).Compare(1, varRatio, varRatioSe, 4 * varRatioSe,
            $"ratio of summed sample variances ({m} networks) to summed predictions; SE from Var(s²) = 2σ⁴/(m − 1), " +
            "ignoring correlations between test points.", competitor: priorRatio));
        int at = Array.FindIndex(theory.Loss, l => l <= 0.01 * theory.Loss[0]);
        if (at < 0) at = theory.Loss.Length - 1;
        var losses = pooled.Select(r => r.Losses[at]).ToArray();
        double lossSe = Statistics.StandardError(losses);
        output.Claims.Add(TrainLoss.With(("width", width), ("steps", theory.CurveSteps[at])).Compare(theory.Loss[at],
            Statistics.Mean(losses), lossSe, 4 * lossSe,
            $"{m} networks; step {theory.CurveSteps[at]} of {p.Steps}, the first where the predicted loss is ≤ 1 % of its start; " +
            "tolerance 4·SE.", competitor: theory.MeanPathLoss[at]));
        return perPoint;
    }

    /// <summary>
    /// The divergence learning rate (docs/claims.md, lazy-training): per network of the middle width, by bisection in log η
    /// against its own η_crit = N/λ_max(Θ̂₀) (<see cref="DivergenceThreshold"/>), mean ratio ± SE over the networks, against
    /// the ReLU catapult edge ≈ 6 and the uv-model bound 2 (<see cref="CatapultPhase"/>).
    /// </summary>
    private static DivergenceThresholdResult MeasureDivergence(RunContext ctx, Setup p, Dataset train, Rng root) =>
        DivergenceThreshold.Ensemble(p.Spec(DivergenceWidth(p)), train, p.Nets, root, LearningRateNetStream, new DivergenceSearch(p.Steps),
            ctx.Progress, ctx.Cancellation);

    private static int DivergenceWidth(Setup p) => p.Widths[p.Widths.Length / 2];

    private static void JudgeDivergence(ExperimentOutput output, Setup p, DivergenceThresholdResult result)
    {
        int n = DivergenceWidth(p);
        var search = new DivergenceSearch(p.Steps);
        output.Facts["divergence_lr_ratio"] = string.Create(CultureInfo.InvariantCulture,
            $"{result.MeanRatio:G4} ± {result.StandardError:G2} (width {n}, {p.Nets} networks)");
        double se = result.StandardError;
        output.Claims.Add(MaxLearningRate.With(("width", n)).Compare(CatapultPhase.ReluMaximum, result.MeanRatio, se,
            4 * se + ReluModelError,
            $"{p.Nets} networks, each bisected in log η over [{search.Lower}, {search.Upper}]·η_crit ({search.Halvings} halvings, " +
            $"resolution ≤ {result.Resolution:P1}; {result.Censored} censored), {p.Steps} GD steps per trial; SE over the networks " +
            $"on one data set (the data set's own spread, sd ≈ 0.4 across seeds, is covered by the model error); tolerance 4·SE + " +
            $"{ReluModelError}; the linearised threshold is {CatapultPhase.LazyEdge}.", competitor: CatapultPhase.UvModelMaximum));
    }

    /// <summary>
    /// Stated precision of the ReLU catapult edge η_max ≈ 12/λ₀ (Lewkowycz et al. 2020, read off their experiments): ±2/λ₀,
    /// i.e. ±1 in η_div/η_crit.
    /// </summary>
    private const double ReluModelError = 1;

    private static void Report(ExperimentOutput output, Setup p, Prediction theory, List<Row> rows, List<List<Row>> byWidth, Movement m,
        PointStats[] perPoint)
    {
        output.Tables["networks"] = SeriesTable.FromRows(rows, ("width", r => r.Width), ("net", r => r.Net),
            ("ntk_relative_change", r => r.NtkChange), ("relative_distance_to_linearisation", r => r.LinDev),
            ("hidden_weight_change", r => r.HiddenChange), ("readout_weight_change", r => r.ReadoutChange),
            ("preactivation_change", r => r.PreactivationChange), ("final_train_loss", r => r.FinalLoss));
        output.Tables["scaling"] = SeriesTable.FromRows(Enumerable.Range(0, p.Widths.Length).ToList(), ("width", i => p.Widths[i]),
            ("ntk_change_rms", i => m.Ntk.Rms[i]), ("ntk_change_se", i => m.Ntk.Se[i]), ("linearisation_rms", i => m.Linearisation.Rms[i]),
            ("linearisation_se", i => m.Linearisation.Se[i]), ("hidden_weight_rms", i => m.Hidden.Rms[i]),
            ("readout_weight_rms", i => m.Readout.Rms[i]), ("preactivation_rms", i => m.Preactivation.Rms[i]));
        output.Tables["test_outputs"] = SeriesTable.FromRows(Enumerable.Range(0, p.NTest).ToList(), ("point", i => i),
            ("predicted_mean", i => theory.MeanTest[i, 0]), ("predicted_sd", i => Math.Sqrt(theory.VarTest[i])),
            ("measured_mean", i => perPoint[i].Mean), ("measured_se", i => perPoint[i].Se),
            ("measured_sd", i => Math.Sqrt(perPoint[i].Var)));
        output.Plots.Add(MovementPlot(p, m));
        var xs = theory.CurveSteps.Select(k => (double)k).ToArray();
        var curves = new List<SeriesSpec> { new("predicted E[L] (n = ∞)", xs, theory.Loss, SeriesKind.Line) };
        foreach (var (n, g) in p.Widths.Zip(byWidth))
            curves.Add(new SeriesSpec($"n={n}", xs, Enumerable.Range(0, xs.Length).Select(k => g.Average(r => r.Losses[k])).ToArray(),
                SeriesKind.Points));
        output.Plots.Add(new PlotSpec("Training loss: networks vs closed form", "GD step", "training MSE (mean over networks)", curves,
            LogY: true));
        var pts = Enumerable.Range(0, p.NTest).Select(i => (double)i).ToArray();
        output.Plots.Add(new PlotSpec($"Test outputs at width {p.Widths[^1]}", "test point", "output after training",
        [
            new SeriesSpec("predicted mean ± sd", pts, Enumerable.Range(0, p.NTest).Select(i => theory.MeanTest[i, 0]).ToArray(),
                SeriesKind.Points, theory.VarTest.Select(Math.Sqrt).ToArray()),
            new SeriesSpec("ensemble mean ± SE", pts, perPoint.Select(q => q.Mean).ToArray(), SeriesKind.Points,
                perPoint.Select(q => q.Se).ToArray()),
        ]));
    }

    private static PlotSpec MovementPlot(Setup p, Movement m)
    {
        double[] ns = p.Widths.Select(n => (double)n).ToArray();
        return new PlotSpec("Departure from the kernel regime vs width", "width n", "RMS over networks",
        [
            new SeriesSpec("NTK: ‖Θ̂_T − Θ̂₀‖/‖Θ̂₀‖", ns, m.Ntk.Rms, SeriesKind.Points, m.Ntk.Se),
            new SeriesSpec("linearisation: relative distance", ns, m.Linearisation.Rms, SeriesKind.Points, m.Linearisation.Se),
            new SeriesSpec("hidden: ‖ΔW‖/‖W‖", ns, m.Hidden.Rms, SeriesKind.Points, m.Hidden.Se),
            new SeriesSpec("readout: ‖Δw‖/‖w‖", ns, m.Readout.Rms, SeriesKind.Points, m.Readout.Se),
            new SeriesSpec("n^−1 guide", ns, ns.Select(n => m.Hidden.Rms[0] * ns[0] / n).ToArray(), SeriesKind.Line, Dashed: true),
            new SeriesSpec("n^−1/2 guide", ns, ns.Select(n => m.Ntk.Rms[0] * Math.Sqrt(ns[0] / n)).ToArray(), SeriesKind.Line,
                Dashed: true),
        ], LogX: true, LogY: true,
            Caption: $"{p.Nets} networks per width, depth {p.Depth} ReLU, NTK parameterisation, GD for {p.Steps} steps at " +
            $"η = {p.Fraction}·N/λ_max.");
    }

    /// <summary>‖W_T − W₀‖_F/‖W₀‖_F of dense layer <paramref name="dense"/>'s weights.</summary>
    private static double RelativeChange(Network<double> net, double[] initial, int dense)
    {
        var t = net.Tensors[2 * dense];
        double d = 0;
        double w = 0;
        for (int i = t.Offset; i < t.Offset + t.Length; i++)
        {
            d += Math.Pow(net.Parameters[i] - initial[i], 2);
            w += initial[i] * initial[i];
        }
        return Math.Sqrt(d / w);
    }

    /// <summary>E[L] = (1/N)(‖μ − y‖² + Σ_i Var f(x_i)) on the training set under the linearised infinite-width
    /// dynamics.</summary>
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
                    var all = Teacher.Label(Synthetic.Sphere(nTrain + nTest, 16, rng.Split(InputStream)), "dense(32)-tanh-dense(1)",
                        rng.Split(TeacherStream), sw2: 2);
                    return (all.Take(nTrain), all.Subset(Enumerable.Range(nTrain, nTest).ToArray()));
                }
            case "fashion-mnist":
                {
                    // Two classes (T-shirt/top = 0 → −1, trouser = 1 → +1), pixels projected onto the sphere of radius √784.
                    var pool = FashionMnist.Load("train", 4000, rng.Split(InputStream));
                    var rows = Enumerable.Range(0, pool.Count).Where(i => pool.Labels![i] is 0 or 1).Take(nTrain + nTest).ToArray();
                    if (rows.Length < nTrain + nTest)
                        throw new BadInputException($"Fashion-MNIST subset has only {rows.Length} T-shirts and trousers.");
                    var x = Inputs.ToSphere(pool.Subset(rows).Standardized().X);
                    var y = new Matrix(rows.Length, 1);
                    for (int i = 0; i < rows.Length; i++) y[i, 0] = pool.Labels![rows[i]] == 1 ? 1 : -1;
                    var all = new Dataset(x, y, Name: "fashion-mnist (T-shirt vs trouser)");
                    return (all.Take(nTrain), all.Subset(Enumerable.Range(nTrain, nTest).ToArray()));
                }
            default: throw new BadInputException($"Setting data='{name}' is not allowed. Allowed: synthetic, fashion-mnist.");
        }
    }
}
