using System.Globalization;
using System.Text.Json;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.DepthScaling;
using LearningMechanics.Training;

namespace LearningMechanics.Experiments;

/// <summary>
/// <c>depth-mup</c> (Yang et al. 2023, Tensor Programs VI; Bordelon et al. 2024; Dey et al. 2025): residual MLPs
/// h_{l+1} = h_l + L^{−α}·W_l φ(h_l) at depths L, with the branch multiplier of Depth-μP (α = ½), of CompleteP (α = 1) and
/// none (α = 0). At initialisation the residual stream's second moment follows the product over blocks of
/// <see cref="ResidualStream"/> (bounded at α = ½, exponential at α = 0) and its quadratic variation is Θ(1) at α = ½ (a
/// diffusion) and Θ(1/L) at α = 1 (an ODE). Trained with Adam on Fashion-MNIST under each paper's learning-rate rule for
/// the blocks (L^{α−1}), the optimal base learning rate does not move with depth. A grid experiment: one unit per (α, L)
/// ensemble and one per training run (α, rule, L, log₂ η, seed).
/// </summary>
public sealed class DepthMupExperiment : IGridExperiment
{
    private const string Reference = "Yang et al. 2023 (Tensor Programs VI); Bordelon et al. 2024; Dey et al. 2025";

    public string Id => "depth-mup";
    public string Title => "Depth-μP: a 1/√L branch keeps the residual stream finite; 1/L makes it an ODE";
    public string Summary => "residual stream variance = (1 + σ²c/L^{2α})^L at every depth (α = 0, ½, 1); quadratic variation " +
        "Θ(1) at α = ½, Θ(1/L) at α = 1; the optimal Adam rate transfers across depth under the L^{α−1} block rule";
    public string Source => Reference;

    public IReadOnlyList<SettingInfo> Settings { get; } =
    [
        new("width", "hidden width n of the residual stream", "256", "512"),
        new("depths", "numbers of residual blocks L", "2,4,8,16,32,64", "2,4,8,16,32,64,128,256"),
        new("alphas", "branch exponents α (multiplier L^−α): 0 none, 0.5 Depth-μP, 1 CompleteP", "0,0.5,1", "0,0.5,1"),
        new("activation", "block activation φ (scale-invariant: relu, leaky_relu(a), linear)", "relu", "relu"),
        new("sw2", "weight variance σ_w² (every dense layer; entries σ_w²/fan-in)", "2", "2"),
        new("d_in", "input dimension (inputs on the sphere |x|² = d)", "16", "16"),
        new("inputs", "inputs per network", "4", "4"),
        new("nets", "random networks per (α, L)", "96", "400"),
        new("train_width", "training: width of the residual MLP", "64", "128"),
        new("train_depths", "training: numbers of residual blocks L", "2,4,8,16,32", "2,4,8,16,32,64"),
        new("train_alphas", "training: branch exponents α (each with its Adam rule L^{α−1} for the blocks)", "0.5", "0.5,1"),
        new("controls", "training: also run without the depth rule (block rate = base rate), as the foil", "1", "1"),
        new("adam_log2_lr", "training: Adam's log₂ base learning-rate grid FROM:TO (step 1)", "-9:-5", "-11:-4"),
        new("seeds", "training: seeds per grid point (initialisation and batch order)", "5", "8"),
        new("steps", "training: Adam steps", "60", "300"),
        new("batch", "training: mini-batch size", "64", "128"),
        new("n_train", "training: Fashion-MNIST images (2×2-pooled to 14×14, standardised)", "1024", "8192"),
    ];

    private static readonly ClaimDeclaration Variance = new("stream-variance-{a}",
        "α = {alpha}: the residual stream's second moment after L blocks is E‖h_L‖²/E‖h_0‖² = (1 + σ_w²c/L^{2α})^L, c = " +
        "E[φ(z)²]/E[z²] (worst of {count} depths shown; {limit})", Reference, ClaimRule.TwoSided,
        "4·SE over the networks (per-input ratio ‖h_L‖²/‖h_0‖², averaged over the inputs of each network)")
    {
        Competitor = "{rival}",
    };

    private static readonly ClaimDeclaration Variation = new("quadratic-variation-{a}",
        "α = {alpha}: the quadratic variation Σ_l ‖h_{l+1} − h_l‖²/‖h_0‖² has the expectation " +
        "(1 + σ_w²c/L^{2α})^L − 1, whose " +
        "log–log slope against L over {range} is {slope:F3} ({limit})", Reference, ClaimRule.TwoSided,
        "4·SE of the end-to-end slope ln(QV_max/QV_min)/ln(L_max/L_min) (delta method from the two ensembles)")
    {
        Competitor = "{rival}",
    };

    private static readonly ClaimDeclaration Transfer = new("transfer-{a}",
        "α = {alpha} with Adam, block learning rate L^{α−1} times the base rate ({rule}): the optimal log₂ base rate (training " +
        "loss after T steps) does not move with depth: slope 0 against log₂ L", Reference, ClaimRule.TwoSided,
        "4·SE of the slope (bootstrap over seeds) + half a grid step over the depth range, 0.5/log₂(L_max/L_min)")
    {
        Competitor = "the blocks' updates add up like a random walk (√L of them, not L): the rule over-corrects and the optimal base " +
            "rate grows as L^{1/2}, slope +0.5 (the measured slope without the rule is in the note)",
    };

    public IReadOnlyList<ClaimDeclaration> Claims { get; } = [Variance, Variation, Transfer];

    public void Validate(Settings settings) => Setup.From(settings);

    /// <summary>
    /// The stream ensembles (α × L × networks: drawing the d_in → n → L blocks → 1 network and its forward pass on the inputs,
    /// one network and workspace per thread) and the training grid (α × rule × L × learning rate × seed runs of the
    /// 196 → n → L blocks → 10 network on batches, then the loss on the data); in memory the data subset and its copy, and
    /// the deepest training network with its activations.
    /// </summary>
    public ResourceEstimate? Estimate(Settings settings)
    {
        var p = Setup.From(settings);
        var t = p.Train;
        double StreamWeights(int depth) => WorkEstimate.MlpWeights(p.DIn, p.Width, depth + 1);
        double TrainWeights(int depth) => WorkEstimate.MlpWeights(196, t.Width, depth + 1, FashionMnist.Classes);
        double flops = (double)p.Alphas.Length * p.Nets * p.Depths.Sum(l =>
            WorkEstimate.Draw(StreamWeights(l)) + WorkEstimate.Forward(StreamWeights(l), p.Inputs));
        flops += t.Alphas.Sum(a => (double)Rules(t, a).Length) * t.Lrs.Length * t.Seeds
            * t.Depths.Sum(l => WorkEstimate.Training(TrainWeights(l), t.Steps, t.Batch, t.NTrain));
        int deepest = p.Depths[^1];
        int trainDeepest = t.Depths[^1];
        double bytes = WorkEstimate.Threads * (WorkEstimate.Float64 * StreamWeights(deepest)
                + WorkEstimate.Activations(3.0 * p.Width * (deepest + 1), p.Inputs))
            + WorkEstimate.Matrix(p.Inputs, p.DIn) + 2 * WorkEstimate.Float64 * p.Nets * p.Alphas.Length * p.Depths.Length
            + WorkEstimate.FashionMnistSubset(t.NTrain) + WorkEstimate.Matrix(t.NTrain, 196)
            + WorkEstimate.TrainedNetwork(TrainWeights(trainDeepest))
            + WorkEstimate.Activations(3.0 * t.Width * (trainDeepest + 1), Math.Max(t.Batch, 1024));
        return new ResourceEstimate(flops, bytes);
    }

    /// <summary>Stream of ensemble (α index a, depth index l): (EnsembleStream + a, l); network k splits it once more.</summary>
    private const ulong EnsembleStream = 0x5EED;

    /// <summary>Stream of the inputs.</summary>
    private const ulong InputStream = 1;

    /// <summary>Stream of the Fashion-MNIST subset.</summary>
    private const ulong DataStream = 2;

    /// <summary>Training run (seed s, depth index l) draws its network and batches from (TrainStream + s, l), the same at every
    /// learning rate, α and rule (common random numbers).</summary>
    private const ulong TrainStream = 0x7A1;

    private sealed record Setup(int Width, int[] Depths, double[] Alphas, Activation Act, double Sw2, int DIn, int Inputs,
        int Nets, Training Train)
    {
        public static Setup From(Settings s)
        {
            var depths = s.GetIntList("depths", 1).Distinct().Order().ToArray();
            if (depths.Length < 3)
                throw new BadInputException($"Setting depths needs ≥ 3 distinct depths (slopes), has {depths.Length}.");
            var alphas = s.GetDoubleList("alphas", 0, 2, minInclusive: true).Distinct().Order().ToArray();
            var act = Activation.Parse(s.GetString("activation"));
            ResidualStream.SecondMomentRatio(act);
            return new Setup(s.GetInt("width", 4), depths, alphas, act, s.GetDouble("sw2", 0), s.GetInt("d_in", 1),
                s.GetInt("inputs", 1), s.GetInt("nets", 4), Training.From(s));
        }

        public NetworkSpec Spec(double alpha, int depth) => ResidualMlp(Act, Width, alpha, depth, 1, Sw2);
    }

    /// <summary>The training grid's settings.</summary>
    private sealed record Training(int Width, int[] Depths, double[] Alphas, bool Controls, int[] Lrs, int Seeds, int Steps, int Batch,
        int NTrain)
    {
        public static Training From(Settings s)
        {
            var depths = s.GetIntList("train_depths", 1).Distinct().Order().ToArray();
            if (depths.Length < 3)
                throw new BadInputException($"Setting train_depths needs ≥ 3 distinct depths (a slope), has {depths.Length}.");
            int nTrain = FashionMnist.TrainSubset("n_train", s.GetInt("n_train", 16));
            int batch = s.GetInt("batch", 1);
            if (batch > nTrain) throw new BadInputException($"Setting batch={batch} must be ≤ n_train={nTrain}.");
            int controls = s.GetInt("controls", 0);
            if (controls > 1) throw new BadInputException($"Setting controls={controls} must be 0 (no foil) or 1 (the foil too).");
            return new Training(s.GetInt("train_width", 4), depths, s.GetDoubleList("train_alphas", 0, 2, minInclusive: true)
                .Distinct().Order().ToArray(), controls != 0, [.. s.GetLog2Grid("adam_log2_lr").Select(v => (int)v)],
                s.GetInt("seeds", 2), s.GetInt("steps", 1), batch, nTrain);
        }

        /// <summary>The rules trained per α: the paper's (true) and, with controls, none (false).</summary>
        public bool[] Rules => Controls ? [true, false] : [true];
    }

    /// <summary>dense(n), L blocks res(φ-dense(n), L^−α) and a readout dense(outputs) on the stream; the stream is the output of
    /// each block.</summary>
    private static NetworkSpec ResidualMlp(Activation act, int width, double alpha, int depth, int outputs, double sw2)
    {
        string scale = ResidualStream.BranchScale(depth, alpha).ToString("R", CultureInfo.InvariantCulture);
        string block = string.Create(CultureInfo.InvariantCulture, $"res({act.Name}-dense({width}),{scale})");
        string text = string.Create(CultureInfo.InvariantCulture, $"dense({width})-")
            + string.Join("-", Enumerable.Repeat(block, depth)) + string.Create(CultureInfo.InvariantCulture, $"-dense({outputs})");
        return NetworkSpec.Parse(text, Parameterization.Standard, sw2, 0);
    }

    /// <summary>One network's per-input ratios, averaged over its inputs: ‖h_L‖²/‖h_0‖² and
    /// Σ_l ‖h_{l+1} − h_l‖²/‖h_0‖².</summary>
    private sealed record StreamSample(double Growth, double Variation);

    public ExperimentOutput Run(RunContext ctx) => Grid.Run(this, ctx);

    private static string StreamKey(double alpha, int depth) => string.Create(CultureInfo.InvariantCulture, $"stream,a={alpha},L={depth}");

    private static string TrainKey(double alpha, bool rule, int depth, int lr, int seed) => string.Create(CultureInfo.InvariantCulture,
        $"train,a={alpha},rule={(rule ? 1 : 0)},L={depth},log2lr={lr},seed={seed}");

    /// <summary>The rules trained at α: with controls also none, except at α = 1 where the rule L^{α−1} = 1 is none.</summary>
    private static bool[] Rules(Training t, double alpha) => alpha == 1 ? [true] : t.Rules;

    /// <summary>The Adam learning-rate factor of the blocks' weights: L^{α−1} under the rule, 1 without.</summary>
    private static double HiddenFactor(double alpha, bool rule, int depth) => rule ? Math.Pow(depth, alpha - 1) : 1;

    public IReadOnlyList<string> Units(RunContext ctx)
    {
        var p = Setup.From(ctx.Settings);
        var t = p.Train;
        return
        [
            .. p.Alphas.SelectMany(a => p.Depths.Select(l => StreamKey(a, l))),
            .. from a in t.Alphas from rule in Rules(t, a) from l in t.Depths from lr in t.Lrs from seed in Enumerable.Range(0, t.Seeds)
               select TrainKey(a, rule, l, lr, seed),
        ];
    }

    public JsonElement Measure(RunContext ctx, string unit)
    {
        var p = Setup.From(ctx.Settings);
        var x = Inputs.ToSphere(Synthetic.GaussianInputs(p.Inputs, p.DIn, new Rng(ctx.Seed).Split(InputStream)));
        for (int a = 0; a < p.Alphas.Length; a++)
            for (int l = 0; l < p.Depths.Length; l++)
                if (StreamKey(p.Alphas[a], p.Depths[l]) == unit)
                    return Grid.ToJson(Stream(p.Spec(p.Alphas[a], p.Depths[l]), p.Depths[l], x, p.Nets,
                        new Rng(ctx.Seed).Split(EnsembleStream + (ulong)a, (ulong)l), ctx.Cancellation));
        var t = p.Train;
        foreach (double alpha in t.Alphas)
            foreach (bool rule in Rules(t, alpha))
                foreach (var (depth, l) in t.Depths.Select((d, l) => (d, l)))
                    foreach (int lr in t.Lrs)
                        for (int seed = 0; seed < t.Seeds; seed++)
                            if (TrainKey(alpha, rule, depth, lr, seed) == unit)
                                return Grid.ToJson(LearningRateRun.Train(
                                    ResidualMlp(p.Act, t.Width, alpha, depth, FashionMnist.Classes, p.Sw2), data.Get(ctx),
                                    new OptimizerSettings(OptimizerKind.Adam, Math.Pow(2, lr),
                                        HiddenFactor: HiddenFactor(alpha, rule, depth)),
                                    t.Steps, t.Batch, new Rng(ctx.Seed).Split(TrainStream + (ulong)seed, (ulong)l)));
        throw new BadInputException($"Unit '{unit}' is not a unit of {Id} with these settings.");
    }

    /// <summary>The Fashion-MNIST subset, loaded once per run.</summary>
    private readonly RunCache<Dataset> data = new(ctx => FashionMnist.Pooled(FashionMnist.Load("train",
        Training.From(ctx.Settings).NTrain, new Rng(ctx.Seed).Split(DataStream))).Standardized());

    /// <summary>Networks drawn and run forward in parallel (one per core, BLAS single-threaded), each from its own stream.</summary>
    private static StreamSample[] Stream(NetworkSpec spec, int depth, Matrix x, int nets, Rng rng, CancellationToken cancel)
    {
        var samples = new StreamSample[nets];
        Blas.SingleThreaded(() => Parallel.For(0, nets, Parallelism.Options(cancel), () =>
        {
            var net = new Network<double>(spec, x.Cols);
            return (net, net.CreateWorkspace(x.Rows));
        }, (k, _, local) =>
        {
            local.net.Initialize(rng.Split((ulong)k));
            samples[k] = Sample(local.net, local.Item2, x, depth);
            return local;
        }, _ => { }));
        return samples;
    }

    /// <summary>Reads the stream from the workspace: block l's dense layer (index l + 1) reads φ(h_l); the buffer before it is
    /// h_l, the one after its output W_lφ(h_l), the next one h_{l+1}.</summary>
    private static StreamSample Sample(Network<double> net, Network<double>.Workspace ws, Matrix x, int depth)
    {
        net.Forward(x.Data, ws);
        int n = ws.Activations(net.DenseInputIndex(1)).Length / x.Rows;
        double growth = 0;
        double variation = 0;
        for (int i = 0; i < x.Rows; i++)
        {
            double h0 = SquaredNorm(ws.Activations(net.DenseInputIndex(1) - 1).Slice(i * n, n));
            double qv = 0;
            for (int l = 0; l < depth; l++)
            {
                int k = net.DenseInputIndex(l + 1);
                qv += SquaredDifference(ws.Activations(k + 2).Slice(i * n, n), ws.Activations(k - 1).Slice(i * n, n));
            }
            growth += SquaredNorm(ws.Activations(net.DenseInputIndex(depth) + 2).Slice(i * n, n)) / h0;
            variation += qv / h0;
        }
        return new StreamSample(growth / x.Rows, variation / x.Rows);
    }

    private static double SquaredNorm(ReadOnlySpan<double> v) => System.Numerics.Tensors.TensorPrimitives.Dot(v, v);

    private static double SquaredDifference(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (int j = 0; j < a.Length; j++) s += (a[j] - b[j]) * (a[j] - b[j]);
        return s;
    }

    private sealed record Point(double Alpha, int Depth, double Growth, double GrowthSe, double Variation, double VariationSe);

    public ExperimentOutput Judge(RunContext ctx, IReadOnlyDictionary<string, JsonElement> measurements)
    {
        var p = Setup.From(ctx.Settings);
        var points = new List<Point>();
        foreach (double alpha in p.Alphas)
            foreach (int depth in p.Depths)
            {
                var s = Grid.FromJson<StreamSample[]>(measurements[StreamKey(alpha, depth)]);
                double[] g = [.. s.Select(v => v.Growth)];
                double[] q = [.. s.Select(v => v.Variation)];
                points.Add(new Point(alpha, depth, g.Average(), Statistics.StandardError(g), q.Average(), Statistics.StandardError(q)));
            }
        var output = new ExperimentOutput();
        output.Facts["networks"] = string.Create(CultureInfo.InvariantCulture,
            $"{p.Nets} per (α, L), width {p.Width}, {p.Inputs} inputs on the sphere in d = {p.DIn}, {p.Act.Name}, σ_w² = {p.Sw2}, " +
            $"c = {ResidualStream.SecondMomentRatio(p.Act):G4}");
        foreach (double alpha in p.Alphas)
        {
            var mine = points.Where(q => q.Alpha == alpha).ToList();
            JudgeVariance(output, p, alpha, mine);
            if (alpha > 0) JudgeVariation(output, p, alpha, mine);
        }
        Report(output, p, points);
        JudgeTraining(output, p.Train, measurements, new Rng(ctx.Seed).Split(0xB007));
        return output;
    }

    private static readonly double Chance = Math.Log(FashionMnist.Classes);

    /// <summary>
    /// Per α and rule: the seeds' mean loss per (depth, log₂ η), a diverged run at the chance level ln 10; the optimum per depth
    /// and its slope against log₂ L with a bootstrap SE over seeds (<see cref="LearningRateOptimum"/>). The rule's slope is
    /// the claim (0 within 4·SE + half a grid step over the depth range; competitor +½); the control's is reported.
    /// </summary>
    private static void JudgeTraining(ExperimentOutput output, Training t, IReadOnlyDictionary<string, JsonElement> measurements,
        Rng bootstrap)
    {
        var curves = new List<(double Alpha, bool Rule, int Depth, int Lr, double Loss, double Se)>();
        double[] x = [.. t.Depths.Select(d => Math.Log2(d))];
        double span = x[^1] - x[0];
        foreach (var (alpha, a) in t.Alphas.Select((v, i) => (v, i)))
        {
            var slopes = new Dictionary<bool, (double? Slope, double Se, string Optima, string Best)>();
            foreach (bool rule in Rules(t, alpha))
            {
                var loss = t.Depths.Select(d => t.Lrs.Select(lr => Enumerable.Range(0, t.Seeds).Select(seed => Math.Min(Chance,
                    Grid.FromJson<LearningRateRun>(measurements[TrainKey(alpha, rule, d, lr, seed)]).FinalLoss ?? Chance)).ToArray())
                    .ToArray()).ToArray();
                for (int l = 0; l < t.Depths.Length; l++)
                    for (int i = 0; i < t.Lrs.Length; i++)
                        curves.Add((alpha, rule, t.Depths[l], t.Lrs[i], loss[l][i].Average(), Statistics.StandardError(loss[l][i])));
                var (slope, se, optima) = LearningRateOptimum.WithBootstrap(x, [.. t.Lrs.Select(v => (double)v)], loss, t.Seeds,
                    bootstrap.Split((ulong)a, rule ? 1UL : 0UL));
                string optimaText = string.Join(", ", t.Depths.Zip(optima).Select(o => o.Second is { } v
                    ? string.Create(CultureInfo.InvariantCulture, $"L = {o.First}: {v:F2}") : $"L = {o.First}: edge"));
                string best = string.Join(", ", t.Depths.Select((d, l) => string.Create(CultureInfo.InvariantCulture,
                    $"L = {d}: {loss[l].Min(r => r.Average()):F4}")));
                slopes[rule] = (slope, se, optimaText, best);
                string name = $"{Tag(alpha)}.{(rule ? "rule" : "no_rule")}";
                output.Facts[$"optima.{name}"] = optimaText;
                output.Facts[$"best_loss.{name}"] = best;
                output.Facts[$"optimum_slope.{name}"] = slope is { } v
                    ? string.Create(CultureInfo.InvariantCulture, $"{v:F3} ± {se:F3}") : "optimum at the grid edge";
            }
            var claim = Transfer.With(("a", Tag(alpha)), ("alpha", alpha), ("rule", alpha == 1
                ? "CompleteP, Dey et al. 2025: L^0, the base rate itself"
                : string.Create(CultureInfo.InvariantCulture, $"L^{alpha - 1:G3}{(alpha == 0.5 ? ", Depth-μP, Yang et al. 2023" : "")}")));
            var (s, sSe, sOptima, sBest) = slopes[true];
            string control = slopes.TryGetValue(false, out var c)
                ? c.Slope is { } cv
                    ? string.Create(CultureInfo.InvariantCulture,
                        $" Without the rule the optimum's slope is {cv:F2} ± {c.Se:F2} ({c.Optima}).")
                    : " Without the rule the optimum lies at the grid's edge."
                : "";
            if (s is null)
            {
                output.Claims.Add(claim.Inconclusive(0, $"The loss minimum lies at the edge of the log₂ η grid [{t.Lrs[0]}, " +
                    $"{t.Lrs[^1]}] at some depth ({sOptima}): widen adam_log2_lr."));
                continue;
            }
            output.Claims.Add(claim.Compare(0, s.Value, sSe, 4 * sSe + 0.5 / span, string.Create(CultureInfo.InvariantCulture,
                $"Optima (log₂ base rate) {sOptima}; SE from bootstrap resamples of the {t.Seeds} seeds; tolerance 4·SE + " +
                $"{0.5 / span:G3} (half a grid step over the depth range). Best loss per depth: {sBest}.") + control, 0.5));
        }
        ReportTraining(output, t, curves);
    }

    private static void ReportTraining(ExperimentOutput output, Training t,
        List<(double Alpha, bool Rule, int Depth, int Lr, double Loss, double Se)> curves)
    {
        output.Tables["training"] = SeriesTable.FromRows(curves, ("alpha", c => c.Alpha), ("rule", c => c.Rule ? 1 : 0),
            ("depth", c => c.Depth), ("log2_lr", c => c.Lr), ("train_loss", c => c.Loss), ("stderr", c => c.Se));
        foreach (double alpha in t.Alphas)
            foreach (bool rule in Rules(t, alpha))
            {
                var series = t.Depths.Select(d =>
                {
                    var c = curves.Where(q => q.Alpha == alpha && q.Rule == rule && q.Depth == d).ToList();
                    return new SeriesSpec($"L = {d}", [.. c.Select(q => (double)q.Lr)], [.. c.Select(q => q.Loss)], SeriesKind.Line,
                        [.. c.Select(q => q.Se)]);
                }).ToList();
                string a = alpha.ToString("G3", CultureInfo.InvariantCulture);
                output.Plots.Add(new PlotSpec($"α = {a}, Adam {(rule ? $"with the block rule L^(α−1)" : "without a depth rule")}: " +
                    "training loss vs base learning rate", "log₂ base learning rate", "training loss after T steps", series,
                    Caption: "One curve per depth (mean ± SE over seeds; diverged runs at ln 10). With the rule the minimum stays " +
                        "put as the network deepens (Yang et al. 2023; Dey et al. 2025)."));
            }
    }

    private static string Tag(double alpha) => alpha switch
    {
        0 => "none",
        0.5 => "depth-mup",
        1 => "completep",
        _ => "a" + alpha.ToString("G4", CultureInfo.InvariantCulture),
    };

    private static string Limit(double alpha, Setup p)
    {
        double e = Math.Exp(p.Sw2 * ResidualStream.SecondMomentRatio(p.Act));
        return alpha switch
        {
            < 0.5 => "grows without bound in L",
            0.5 => string.Create(CultureInfo.InvariantCulture, $"→ e^(σ_w²c) = {e:G4} as L → ∞"),
            _ => "→ 1 as L → ∞",
        };
    }

    /// <summary>At every depth the per-network ratio against the product; competitor: the other side of α = ½ (the unscaled
    /// product for α ≥ ½, Depth-μP's for α &lt; ½).</summary>
    private static void JudgeVariance(ExperimentOutput output, Setup p, double alpha, List<Point> mine)
    {
        double rivalAlpha = alpha >= 0.5 ? 0 : 0.5;
        var claim = Variance.With(("a", Tag(alpha)), ("alpha", alpha), ("count", mine.Count), ("limit", Limit(alpha, p)),
            ("rival", string.Create(CultureInfo.InvariantCulture,
                $"the product of {(rivalAlpha == 0 ? "an unscaled residual network (α = 0)" : "Depth-μP (α = ½)")} at the same L")));
        output.Claims.Add(ScalingFits.Decisive(mine.Select(q =>
        {
            double predicted = ResidualStream.VarianceGrowth(q.Depth, alpha, p.Sw2, p.Act);
            return claim.Compare(predicted, q.Growth, q.GrowthSe, 4 * q.GrowthSe, string.Create(CultureInfo.InvariantCulture,
                $"L = {q.Depth}: {p.Nets} networks; tolerance 4·SE."),
                competitor: ResidualStream.VarianceGrowth(q.Depth, rivalAlpha, p.Sw2, p.Act));
        }).ToList()));
    }

    /// <summary>
    /// The log–log slope of QV between the shallowest and the deepest network, ln(QV_max/QV_min)/ln(L_max/L_min), measured
    /// (SE by the delta method from the two ensembles, which are independent) against the product formula's on the same
    /// two depths; the curve is not a power law at small L, so a straight-line fit through every depth would judge its
    /// curvature. Competitor: the other limit's slope (the ODE's for α = ½, the diffusion's for α = 1).
    /// </summary>
    private static void JudgeVariation(ExperimentOutput output, Setup p, double alpha, List<Point> mine)
    {
        var (first, last) = (mine[0], mine[^1]);
        double span = Math.Log((double)last.Depth / first.Depth);
        double Slope(double a) => Math.Log(ResidualStream.QuadraticVariation(last.Depth, a, p.Sw2, p.Act)
            / ResidualStream.QuadraticVariation(first.Depth, a, p.Sw2, p.Act)) / span;
        double predicted = Slope(alpha);
        double rivalAlpha = alpha >= 0.75 ? 0.5 : 1;
        double rival = Slope(rivalAlpha);
        double measured = Math.Log(last.Variation / first.Variation) / span;
        double se = Math.Sqrt(Math.Pow(first.VariationSe / first.Variation, 2) + Math.Pow(last.VariationSe / last.Variation, 2)) / span;
        var claim = Variation.With(("a", Tag(alpha)), ("alpha", alpha), ("range", $"L = {first.Depth}…{last.Depth}"),
            ("slope", predicted), ("limit", alpha switch
            {
                0.5 => "→ 0: Θ(1), a diffusion",
                1 => "→ −1: Θ(1/L), an ODE",
                _ => "→ 1 − 2α",
            }),
            ("rival", string.Create(CultureInfo.InvariantCulture,
                $"the {(rivalAlpha == 1 ? "ODE limit's (α = 1)" : "diffusion's (α = ½)")} slope on the same depths, {rival:F3}")));
        string perDepth = string.Join(", ", mine.Select(q => string.Create(CultureInfo.InvariantCulture,
            $"L = {q.Depth}: {q.Variation:G4} ± {q.VariationSe:G2} (formula ") + string.Create(CultureInfo.InvariantCulture,
            $"{ResidualStream.QuadraticVariation(q.Depth, alpha, p.Sw2, p.Act):G4})")));
        output.Claims.Add(claim.Compare(predicted, measured, se, 4 * se, $"QV per depth: {perDepth}.", competitor: rival));
    }

    private static void Report(ExperimentOutput output, Setup p, List<Point> points)
    {
        output.Tables["stream"] = SeriesTable.FromRows(points, ("alpha", q => q.Alpha), ("depth", q => q.Depth),
            ("variance_growth", q => q.Growth), ("variance_growth_se", q => q.GrowthSe),
            ("variance_growth_predicted", q => ResidualStream.VarianceGrowth(q.Depth, q.Alpha, p.Sw2, p.Act)),
            ("quadratic_variation", q => q.Variation), ("quadratic_variation_se", q => q.VariationSe),
            ("quadratic_variation_predicted", q => ResidualStream.QuadraticVariation(q.Depth, q.Alpha, p.Sw2, p.Act)));
        var grid = Enumerable.Range(0, 121).Select(i => p.Depths[0] * Math.Pow((double)p.Depths[^1] / p.Depths[0], i / 120.0)).ToArray();
        List<SeriesSpec> Series(Func<Point, double> y, Func<Point, double> se, Func<double, double, double> theory) =>
        [
            .. p.Alphas.SelectMany(a => new[]
            {
                new SeriesSpec($"α = {a.ToString("G3", CultureInfo.InvariantCulture)}", [.. p.Depths.Select(d => (double)d)],
                    [.. points.Where(q => q.Alpha == a).Select(y)], SeriesKind.Points, [.. points.Where(q => q.Alpha == a).Select(se)]),
                new SeriesSpec($"α = {a.ToString("G3", CultureInfo.InvariantCulture)}, product formula", grid,
                    [.. grid.Select(l => theory(l, a))], SeriesKind.Line, Dashed: true),
            }),
        ];
        double c = p.Sw2 * ResidualStream.SecondMomentRatio(p.Act);
        output.Plots.Add(new PlotSpec("Residual stream second moment after L blocks", "depth L (blocks)", "E‖h_L‖² / E‖h_0‖²",
            Series(q => q.Growth, q => q.GrowthSe, (l, a) => Math.Pow(1 + c * Math.Pow(l, -2 * a), l)), LogX: true, LogY: true,
            Caption: "Points: mean ± SE over networks; dashed: (1 + σ_w²c/L^{2α})^L. Without a branch multiplier the stream grows " +
                "exponentially; with 1/√L it saturates at e^{σ_w²c} (Yang et al. 2023)."));
        output.Plots.Add(new PlotSpec("Quadratic variation of the residual stream", "depth L (blocks)",
            "Σ_l ‖h_{l+1} − h_l‖² / ‖h_0‖²",
            Series(q => q.Variation, q => q.VariationSe, (l, a) => double.ExpM1(l * Math.Log(1 + c * Math.Pow(l, -2 * a)))),
            LogX: true, LogY: true,
            Caption: "Θ(1) with 1/√L branches (the stream diffuses, an SDE in the depth limit), Θ(1/L) with 1/L branches (an " +
                "ODE; Bordelon et al. 2024, Dey et al. 2025)."));
    }
}
