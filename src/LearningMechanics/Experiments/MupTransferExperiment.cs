using System.Globalization;
using System.Text.Json;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab;
using LearningMechanics.Lab.Observables;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Experiments;

/// <summary>
/// <c>mup-transfer</c> (Yang et al. 2022, Tensor Programs V, Table 3, Figs. 1 and 5): MLPs with two hidden ReLU layers on
/// a Fashion-MNIST subset (2×2-pooled to 14×14, standardised), softmax cross-entropy, trained at every (width, log₂ learning
/// rate, seed) under SP and μP with Adam and SGD with momentum. Claims (μP's; SP is the foil, measured and reported): the
/// optimal learning rate does not move with width, and the coordinate check (every layer's update size flat in width). A
/// grid experiment: each training run is a unit, so <c>--executor slurm</c> sends the grid to a cluster.
/// </summary>
public sealed class MupTransferExperiment : IGridExperiment
{
    public string Id => "mup-transfer";
    public string Title => "μP: the optimal learning rate transfers across width; under SP it moves";
    public string Summary => "μP's optimal log₂ η vs log₂ width has slope 0 (SP's drift reported; Adam, SGD+momentum); coord check";
    public string Source => "Yang et al. 2022 (Tensor Programs V), Table 3, Figs. 1, 5; Yang & Hu 2021";

    public IReadOnlyList<SettingInfo> Settings { get; } =
    [
        new("widths", "hidden widths n (two hidden layers)", "64,128,256,512", "64,128,256,512,1024,2048,4096"),
        new("params", "parameterisations: mup (claimed) and sp (the foil)", "sp,mup", "sp,mup"),
        new("optimizers", "adam and/or momentum (SGD, β = 0.9)", "adam,momentum", "adam,momentum"),
        new("adam_log2_lr", "Adam's log₂ learning-rate grid FROM:TO (step 1)", "-11:-3", "-14:-2"),
        new("momentum_log2_lr", "SGD+momentum's log₂ learning-rate grid FROM:TO (step 1)", "-8:-1", "-10:1"),
        new("seeds", "seeds per grid point (initialisation and batch order)", "4", "6"),
        new("steps", "optimiser steps", "60", "400"),
        new("batch", "mini-batch size", "64", "128"),
        new("n_train", "training images", "2048", "10000"),
        new("coord_log2_lr", "log₂ of Adam's learning rate in the coordinate check", "-8", "-8"),
    ];

    private static readonly ClaimDeclaration Transfer = new("transfer-{o}",
        "μP with {opt}: the optimal log₂ learning rate (training loss after T steps) does not move with width: slope 0 against " +
            "log₂ n",
        "Yang et al. 2022 (Tensor Programs V), Table 3 and Fig. 1", ClaimRule.TwoSided,
        "4·SE of the slope (bootstrap over seeds) + half a grid step over the width range, 0.5/log₂(n_max/n_min)")
    {
        Competitor = "SP's rule at large width: slope −1 (a global learning rate must follow the hidden layers' stable rate ∝ 1/n; " +
            "SP's own measured slope is in the note)",
    };

    private static readonly ClaimDeclaration CoordCheck = new("coord-check",
        "μP with Adam: every layer's update size RMS(h_t − h_0) over the first steps is flat in width: slope 0 against log₂ n",
        "Yang et al. 2022, §D.1 (the coordinate check); Yang & Hu 2021", ClaimRule.TwoSided,
        "4·SE over seeds + the O(n^−1/2) finite-width bend, at the (layer, step 1–4) furthest beyond it")
    {
        Competitor = "SP's scaling under Adam: slope 0 for the input layer, 1 for the layers with fan-in n (SP's measured slopes " +
            "are in the facts)",
    };

    public IReadOnlyList<ClaimDeclaration> Claims { get; } = [Transfer, CoordCheck];

    public void Validate(Settings settings) => Setup.From(settings);

    /// <summary>
    /// Every training run (parameterisation × optimiser × width × learning rate × seed: steps on batches of the
    /// 196 → n → n → 10 MLP, then the loss on the training set) and the coordinate checks (4 Adam steps at every width per
    /// parameterisation and seed); in memory the data subset, its copy in the trainer and the widest network in training.
    /// </summary>
    public ResourceEstimate? Estimate(Settings settings)
    {
        var p = Setup.From(settings);
        const int inputs = 196;
        double Weights(int n) => WorkEstimate.MlpWeights(inputs, n, 2, FashionMnist.Classes);
        double flops = p.Params.Length * p.Optimizers.Sum(o => (double)p.Lrs(o).Length * p.Seeds
            * p.Widths.Sum(n => WorkEstimate.Training(Weights(n), p.Steps, p.Batch, p.NTrain)));
        flops += (double)p.Params.Length * p.Seeds * p.Widths.Sum(n => WorkEstimate.Training(Weights(n), CoordSteps, p.Batch, 0));
        int widest = p.Widths[^1];
        double bytes = WorkEstimate.FashionMnistSubset(p.NTrain) + WorkEstimate.Matrix(p.NTrain, inputs)
            + WorkEstimate.TrainedNetwork(Weights(widest)) + WorkEstimate.Activations(2.0 * widest + 10, Math.Max(p.Batch, 1024));
        return new ResourceEstimate(flops, bytes);
    }

    /// <summary>The MLP of every run, {n} the width.</summary>
    private const string Architecture = "dense({n})-relu-dense({n})-relu-dense(10)";

    /// <summary>Stream of the data subset; network (seed s, width index w) draws from (s, w).</summary>
    private const ulong DataStream = ulong.MaxValue;

    private sealed record Setup(int[] Widths, string[] Params, string[] Optimizers, int[] AdamLrs, int[] MomentumLrs, int Seeds,
        int Steps, int Batch, int NTrain, int CoordLr)
    {
        public static Setup From(Settings s)
        {
            int[] widths = s.GetIntList("widths", 8).Distinct().Order().ToArray();
            if (widths.Length < 3) throw new BadInputException($"Setting widths needs ≥ 3 distinct widths, has {widths.Length}.");
            var ps = s.GetList("params").Select(v => v.Trim().ToLowerInvariant()).Distinct().ToArray();
            foreach (var v in ps)
                if (v is not ("sp" or "mup")) throw new BadInputException($"Setting params: '{v}' is not allowed. Allowed: sp, mup.");
            if (!ps.Contains("mup")) throw new BadInputException("Setting params must include mup (the claims are μP's; sp is its foil).");
            var opts = s.GetList("optimizers").Select(v => v.Trim().ToLowerInvariant()).Distinct().ToArray();
            foreach (var v in opts)
                if (v is not ("adam" or "momentum"))
                    throw new BadInputException($"Setting optimizers: '{v}' is not allowed. Allowed: adam, momentum.");
            int seeds = s.GetInt("seeds", 2);
            int nTrain = FashionMnist.TrainSubset("n_train", s.GetInt("n_train", 16));
            int batch = s.GetInt("batch", 1);
            if (batch > nTrain) throw new BadInputException($"Setting batch={batch} must be ≤ n_train={nTrain}.");
            return new Setup(widths, ps, opts, Range(s, "adam_log2_lr"), Range(s, "momentum_log2_lr"), seeds, s.GetInt("steps", 1),
                batch, nTrain, s.GetInt("coord_log2_lr"));
        }

        private static int[] Range(Settings s, string key) => [.. s.GetLog2Grid(key).Select(v => (int)v)];

        public int[] Lrs(string opt) => opt == "adam" ? AdamLrs : MomentumLrs;

        public static Parameterization Param(string p) => p == "mup" ? Parameterization.MuP : Parameterization.Standard;

        /// <summary>μP's base width is the smallest width: there μP is SP, so one learning-rate grid serves both.</summary>
        public double? BaseWidth(string param) => param == "mup" ? Widths[0] : null;

        public NetworkSpec Spec(string param, int n) =>
            NetworkSpec.Parse(Architecture.Replace("{n}", n.ToString(CultureInfo.InvariantCulture)), Param(param), 2, 0)
                with { BaseWidth = BaseWidth(param) };
    }

    public ExperimentOutput Run(RunContext ctx) => Grid.Run(this, ctx);

    private static string TrainKey(string param, string opt, int n, int lr, int seed) =>
        string.Create(CultureInfo.InvariantCulture, $"{param},{opt},n={n},log2lr={lr},seed={seed}");

    private static string CoordKey(string param, int seed) => string.Create(CultureInfo.InvariantCulture, $"coord,{param},seed={seed}");

    /// <summary>One unit per training run (parameterisation, optimiser, width, learning rate, seed) and one coordinate check
    /// per (parameterisation, seed).</summary>
    public IReadOnlyList<string> Units(RunContext ctx)
    {
        var p = Setup.From(ctx.Settings);
        var units = new List<string>();
        foreach (var param in p.Params)
        {
            foreach (var opt in p.Optimizers)
                foreach (int n in p.Widths)
                    foreach (int lr in p.Lrs(opt))
                        for (int s = 0; s < p.Seeds; s++) units.Add(TrainKey(param, opt, n, lr, s));
            for (int s = 0; s < p.Seeds; s++) units.Add(CoordKey(param, s));
        }
        return units;
    }

    public JsonElement Measure(RunContext ctx, string unit)
    {
        var (p, data) = Prepare(ctx);
        var root = new Rng(ctx.Seed);
        foreach (var param in p.Params)
        {
            for (int s = 0; s < p.Seeds; s++)
                if (CoordKey(param, s) == unit)
                    return Grid.ToJson(CoordinateCheck.Run(Architecture, p.Widths, Setup.Param(param), data,
                        new OptimizerSettings(OptimizerKind.Adam, Math.Pow(2, p.CoordLr)), CoordSteps, p.Batch,
                        root.Split((ulong)s, 0xC0).NextUInt64(), new CrossEntropyLoss(), sw2: 2, baseWidth: p.BaseWidth(param),
                        zeroReadout: true));
            foreach (var opt in p.Optimizers)
                foreach (var (n, w) in p.Widths.Select((n, w) => (n, w)))
                    foreach (int lr in p.Lrs(opt))
                        for (int s = 0; s < p.Seeds; s++)
                            if (TrainKey(param, opt, n, lr, s) == unit)
                                return Grid.ToJson(Train(p.Spec(param, n), data, opt, lr, p, root.Split((ulong)s, (ulong)w)));
        }
        throw new BadInputException($"Unit '{unit}' is not a unit of {Id} with these settings.");
    }

    /// <summary>One run from a zero readout (used for SP too, so that both agree at the base width).</summary>
    private static LearningRateRun Train(NetworkSpec spec, Dataset data, string opt, int log2Lr, Setup p, Rng rng)
    {
        double lr = Math.Pow(2, log2Lr);
        var settings = opt == "adam" ? new OptimizerSettings(OptimizerKind.Adam, lr) : new OptimizerSettings(OptimizerKind.Momentum, lr);
        return LearningRateRun.Train(spec, data, settings, p.Steps, p.Batch, rng);
    }

    private readonly RunCache<(Setup, Dataset)> prepared = new(ctx =>
    {
        var p = Setup.From(ctx.Settings);
        return (p, FashionMnist.Pooled(FashionMnist.Load("train", p.NTrain, new Rng(ctx.Seed).Split(DataStream))).Standardized());
    });

    /// <summary>Settings and the data subset, shared by every unit of one run.</summary>
    private (Setup P, Dataset Data) Prepare(RunContext ctx) => prepared.Get(ctx);

    public ExperimentOutput Judge(RunContext ctx, IReadOnlyDictionary<string, JsonElement> measurements)
    {
        var (p, data) = Prepare(ctx);
        var output = new ExperimentOutput();
        output.Facts["data"] = $"{data.Name}, {data.Count} images, {p.Steps} steps of batch {p.Batch}; μP base width {p.Widths[0]}";
        var bootstrap = new Rng(ctx.Seed).Split(0xB007);
        var curves = new List<(string Param, string Opt, int Width, int Lr, double Loss, double Se)>();
        foreach (var (opt, o) in p.Optimizers.Select((opt, o) => (opt, o)))
        {
            var slopes = new Dictionary<string, (double? Slope, double Se, string Optima)>();
            foreach (var param in p.Params)
            {
                // loss[w][lr][seed]; a diverged run counts at the chance level ln 10 (an untrained classifier).
                var runs = p.Widths.Select(n => p.Lrs(opt).Select(lr => Enumerable.Range(0, p.Seeds)
                    .Select(s => Grid.FromJson<LearningRateRun>(measurements[TrainKey(param, opt, n, lr, s)])).ToArray()).ToArray())
                    .ToArray();
                var capped = runs.Select(w => w.Select(l => l.Select(r => Math.Min(r.FinalLoss ?? Chance, Chance)).ToArray()).ToArray())
                    .ToArray();
                for (int w = 0; w < p.Widths.Length; w++)
                    for (int i = 0; i < p.Lrs(opt).Length; i++)
                        curves.Add((param, opt, p.Widths[w], p.Lrs(opt)[i], capped[w][i].Average(),
                            Statistics.StandardError(capped[w][i])));
                slopes[param] = OptimumSlope(p, p.Lrs(opt), capped, bootstrap.Split((ulong)o, param == "mup" ? 1UL : 0UL));
                output.Facts[$"optima.{param}.{opt}"] = slopes[param].Optima;
                output.Facts[$"optimum_slope.{param}.{opt}"] = slopes[param].Slope is { } v
                    ? string.Create(CultureInfo.InvariantCulture, $"{v:F3} ± {slopes[param].Se:F3}") : "optimum at the grid edge";
                output.Facts[$"max_stable_log2_lr.{param}.{opt}"] = MaxStable(p, p.Lrs(opt), runs);
            }
            JudgeTransfer(output, p, opt, slopes);
        }
        var coords = new List<(string Param, CoordinateCheck.Row Row, int Seed)>();
        foreach (var param in p.Params)
            for (int s = 0; s < p.Seeds; s++)
                coords.AddRange(Grid.FromJson<List<CoordinateCheck.Row>>(measurements[CoordKey(param, s)]).Select(r => (param, r, s)));
        JudgeCoordinates(output, p, coords);
        Report(output, p, curves, coords);
        return output;
    }

    private static readonly double Chance = Math.Log(10);

    /// <summary>Steps of the coordinate check: from a zero readout the hidden layers first move at step 2, so steps 1–4 give
    /// every layer three steps with an update.</summary>
    private const int CoordSteps = 4;

    /// <summary>The optima's slope against log₂ width with its bootstrap SE (<see cref="LearningRateOptimum"/>), and the optima
    /// as text.</summary>
    private static (double? Slope, double Se, string Optima) OptimumSlope(Setup p, int[] lrs, double[][][] capped, Rng rng)
    {
        var (slope, se, optima) = LearningRateOptimum.WithBootstrap(p.Widths.Select(n => Math.Log2(n)).ToArray(),
            lrs.Select(l => (double)l).ToArray(), capped, p.Seeds, rng);
        static string Text(double? o) => o is { } v ? v.ToString("F2", CultureInfo.InvariantCulture) : "edge";
        return (slope, se, string.Join(", ", p.Widths.Zip(optima).Select(t => $"n = {t.First}: {Text(t.Second)}")));
    }

    /// <summary>μP's optimum slope is 0 within 4·SE (bootstrap) + half a grid step over the width range (the finite-width
    /// drift a tuned rate tolerates); competitor SP's large-width −1. SP's measured slope is reported next to it: at small
    /// widths it sits between −1 and 0, since SP's input layer wants a width-free rate.</summary>
    private static void JudgeTransfer(ExperimentOutput output, Setup p, string opt,
        Dictionary<string, (double? Slope, double Se, string Optima)> slopes)
    {
        var claim = Transfer.With(("o", opt), ("opt", opt == "adam" ? "Adam" : "SGD+momentum"));
        var (slope, se, optima) = slopes["mup"];
        string sp = slopes.TryGetValue("sp", out var s)
            ? s.Slope is { } v
                ? string.Create(CultureInfo.InvariantCulture, $" SP's slope on the same grid: {v:F2} ± {s.Se:F2} ({s.Optima}).")
                : " SP's optimum lies at the grid's edge."
            : "";
        if (slope is null)
        {
            output.Claims.Add(claim.Inconclusive(0, $"μP's loss minimum lies at the edge of the log₂ η grid [{p.Lrs(opt)[0]}, " +
                $"{p.Lrs(opt)[^1]}] at some width ({optima}): widen {opt}_log2_lr."));
            return;
        }
        double span = Math.Log2((double)p.Widths[^1] / p.Widths[0]);
        output.Claims.Add(claim.Compare(0, slope.Value, se, 4 * se + 0.5 / span, string.Create(CultureInfo.InvariantCulture,
            $"μP optima {optima} (parabola through the grid minimum of the seeds' mean training loss); SE from bootstrap " +
            $"resamples of the {p.Seeds} seeds; tolerance 4·SE + {0.5 / span:G3}: a rate tuned at n = {p.Widths[0]} may drift by " +
            $"less than half a grid step (½ octave) up to n = {p.Widths[^1]}, the precision transfer is used at.{sp}"), -1));
    }

    /// <summary>Per width, the largest grid learning rate stable for every seed (no divergence, final loss below the initial).</summary>
    private static string MaxStable(Setup p, int[] lrs, LearningRateRun[][][] runs) =>
        string.Join(", ", p.Widths.Select((n, w) =>
        {
            int last = -1;
            for (int i = 0; i < lrs.Length; i++)
                if (runs[w][i].All(r => r is { Diverged: false, FinalLoss: { } f } && f < r.InitialLoss)) last = i; else break;
            return last < 0 ? $"n = {n}: none" : $"n = {n}: {lrs[last]}{(last == lrs.Length - 1 ? " (grid top)" : "")}";
        }));

    /// <summary>
    /// Per (layer, step 1–3): slope of log₂ RMS(Δh) against log₂ n per seed, mean ± SE over seeds. μP: 0 for every layer
    /// within 4·SE + the finite-width bend: coordinates are Θ(1)·(1 + a n^−½) (Yang &amp; Hu 2021), which with |a| ≤ 1 tilts the
    /// slope by at most (n_min^−½ − n_max^−½)/(ln 2 · log₂(n_max/n_min)). Competitor: SP's Adam scaling (0 for the input layer,
    /// 1 behind a fan-in n); SP's measured slopes are facts.
    /// </summary>
    private static void JudgeCoordinates(ExperimentOutput output, Setup p, List<(string Param, CoordinateCheck.Row Row, int Seed)> rows)
    {
        var x = p.Widths.Select(n => Math.Log2(n)).ToArray();
        double span = x[^1] - x[0];
        double bend = (1 / Math.Sqrt(p.Widths[0]) - 1 / Math.Sqrt(p.Widths[^1])) / (Math.Log(2) * span);
        var claim = CoordCheck.With();
        var points = new List<Claim>();
        foreach (var param in p.Params)
        {
            var mine = rows.Where(r => r.Param == param).ToList();
            foreach (int layer in mine.Select(r => r.Row.Layer).Distinct().Order())
                for (int step = 1; step <= CoordSteps; step++)
                {
                    // A layer that has not moved yet (behind the zero readout at step 1) has nothing to scale.
                    if (mine.Any(r => r.Row.Layer == layer && r.Row.Step == step && !(r.Row.ChangeRms > 0))) continue;
                    var slopes = Enumerable.Range(0, p.Seeds).Select(s => Statistics.FitLine(x, p.Widths.Select(n => Math.Log2(
                        mine.Single(r => r.Seed == s && r.Row.Layer == layer && r.Row.Step == step && r.Row.Width == n).Row.ChangeRms))
                        .ToArray(), [.. Enumerable.Repeat(1.0, x.Length)]).Slope).ToArray();
                    double se = Statistics.StandardError(slopes);
                    if (param == "mup")
                        points.Add(claim.Compare(0, slopes.Average(), se, 4 * se + bend, string.Create(CultureInfo.InvariantCulture,
                            $"layer {layer} (0 = input), step {step}: slope over widths {p.Widths[0]}…{p.Widths[^1]}, {p.Seeds} seeds; " +
                            $"tolerance 4·SE + finite-width bend {bend:G2}."), layer == 0 ? 0 : 1));
                    else
                        output.Facts[$"coord_slope.{param}.layer{layer}.step{step}"] =
                            string.Create(CultureInfo.InvariantCulture, $"{slopes.Average():F3} ± {se:F3}");
                }
        }
        if (points.Count > 0) output.Claims.Add(ScalingFits.Decisive(points));
    }

    private static void Report(ExperimentOutput output, Setup p,
        List<(string Param, string Opt, int Width, int Lr, double Loss, double Se)> curves,
        List<(string Param, CoordinateCheck.Row Row, int Seed)> coords)
    {
        output.Tables["loss"] = SeriesTable.FromRows(curves, ("param", c => c.Param), ("optimizer", c => c.Opt), ("width", c => c.Width),
            ("log2_lr", c => c.Lr), ("train_loss", c => c.Loss), ("stderr", c => c.Se));
        foreach (var opt in p.Optimizers)
            foreach (var param in p.Params)
            {
                var series = p.Widths.Select(n =>
                {
                    var c = curves.Where(q => q.Param == param && q.Opt == opt && q.Width == n).ToList();
                    return new SeriesSpec($"n = {n}", c.Select(q => (double)q.Lr).ToArray(), c.Select(q => q.Loss).ToArray(),
                        SeriesKind.Line, c.Select(q => q.Se).ToArray());
                }).ToList();
                output.Plots.Add(new PlotSpec($"{(param == "mup" ? "μP" : "SP")}, {(opt == "adam" ? "Adam" : "SGD+momentum")}: " +
                    "training loss vs learning rate", "log₂ learning rate", "training loss after T steps", series,
                    Caption: "One curve per width (mean ± SE over seeds; diverged runs at ln 10). Under μP the minimum stays put as " +
                    "the width grows; under SP it moves left (Yang et al. 2022, Fig. 1)."));
            }
        output.Tables["coordinates"] = SeriesTable.FromRows(coords, ("param", c => c.Param), ("seed", c => c.Seed),
            ("width", c => c.Row.Width), ("step", c => c.Row.Step), ("layer", c => c.Row.Layer), ("rms", c => c.Row.Rms),
            ("change_rms", c => c.Row.ChangeRms));
        foreach (var param in p.Params)
            output.Plots.Add(CoordinateCheckPlot.At(coords.Where(c => c.Param == param).Select(c => c.Row), CoordSteps,
                $"Coordinate check, {(param == "mup" ? "μP" : "SP")} (Adam, step {CoordSteps})",
                $"Mean over seeds of every dense layer's output change after {CoordSteps} Adam steps (zero readout). Flat in width " +
                "under μP; growing under SP (Yang et al. 2022, Fig. 5)."));
    }
}
