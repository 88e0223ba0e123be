using System.Globalization;
using System.Text.Json;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Experiments;

/// <summary>
/// <c>linear-scaling</c> (Goyal et al. 2017; McCandlish et al. 2018): plain SGD on a Fashion-MNIST subset at batch sizes B
/// and a log₂ learning-rate grid; each run trains until its training loss (on a fixed probe of the training set) reaches a
/// target. Per B the learning rate that needs the fewest steps is the optimum. McCandlish et al.'s noisy-quadratic model
/// gives the optimal rate η*(B) = η_max/(1 + B_noise/B) and the steps S(B) = S_min(1 + B_crit/B): below the critical
/// batch size the optimal rate grows ∝ B (the linear scaling rule) and the steps fall ∝ 1/B; B_crit is predicted by the
/// gradient noise scale B_simple = tr(Σ)/|G|², measured from per-example gradients where the runs reach the target.
/// A grid experiment: one unit per run (B, log₂ η, seed).
/// </summary>
public sealed class LinearScalingExperiment : IGridExperiment
{
    private const string Reference = "Goyal et al. 2017; McCandlish et al. 2018";

    public string Id => "linear-scaling";
    public string Title => "SGD's linear scaling rule and the critical batch size";
    public string Summary => "optimal SGD rate ∝ B below the critical batch size; B_crit from steps-to-target vs B agrees with " +
        "the gradient noise scale tr(Σ)/|G|²";
    public string Source => Reference;

    public IReadOnlyList<SettingInfo> Settings { get; } =
    [
        new("batches", "batch sizes B", "1,2,4,8,16,32,64,128,256", "1,2,4,8,16,32,64,128,256,512"),
        new("log2_lr", "log₂ learning-rate grid FROM:TO (integers)", "-8:0", "-9:1"),
        new("lr_steps_per_octave", "grid points per octave of the learning rate", "2", "4"),
        new("seeds", "seeds per grid point (initialisation and batch order)", "3", "5"),
        new("width", "hidden width of the MLP dense(n)-relu-dense(10)", "64", "128"),
        new("n_train", "Fashion-MNIST training images (2×2-pooled to 14×14, standardised)", "2048", "8192"),
        new("probe", "training images on which the target is checked (a fixed subset of the training set)", "256", "1024"),
        new("target", "target training cross-entropy (on the probe)", "0.7", "0.55"),
        new("max_examples", "examples a run may process before it counts as not reaching the target", "40000", "400000"),
    ];

    private static readonly ClaimDeclaration LinearRule = new("linear-rule",
        "below the critical batch size the optimal SGD learning rate follows η*(B) = η_max/(1 + B_crit/B), ∝ B for B ≪ B_crit " +
        "(the linear scaling rule), with B_crit from the steps to the target: log₂ η* against log₂ B over B = {range} has " +
        "slope {slope:F3}", Reference, ClaimRule.TwoSided,
        "4·SE of measured − predicted slope (bootstrap over seeds) + half a grid step over the batch range")
    {
        Competitor = "the square-root rule η* ∝ √B (Krizhevsky 2014; Malladi et al. 2022's rule for adaptive optimisers): slope ½",
    };

    private static readonly ClaimDeclaration CriticalBatch = new("critical-batch",
        "the critical batch size B_crit of the steps-to-target curve S(B) = S_min(1 + B_crit/B) equals the gradient noise " +
        "scale B_simple = tr(Σ)/|G|² at the target, within McCandlish et al.'s stated order of magnitude: " +
        "|ln(B_crit/B_simple)| ≤ ln 3", Reference, ClaimRule.TwoSided,
        "ln 3 (the factor McCandlish et al. 2018 report) + 4·SE of ln(B_crit/B_simple) (bootstrap over seeds)")
    {
        Competitor = "no critical batch below the data set: S ∝ 1/B up to the full batch, B_crit = N (the training set's size)",
    };

    public IReadOnlyList<ClaimDeclaration> Claims { get; } = [LinearRule, CriticalBatch];

    public void Validate(Settings settings) => Setup.From(settings);

    /// <summary>
    /// Every run (B × learning rate × seed) at its most: SGD on max_examples examples of the 196 → n → 10 MLP, the probe's
    /// loss at its ≈ 8·log₂(steps) checkpoints, and per-example gradients over the training set for the noise scale where the
    /// target is reached; in memory the data subset, its copy in the trainer and the network in training.
    /// </summary>
    public ResourceEstimate? Estimate(Settings settings)
    {
        var p = Setup.From(settings);
        double w = WorkEstimate.MlpWeights(196, p.Width, 1, FashionMnist.Classes);
        double Run(int batch)
        {
            double steps = Math.Max(1, p.MaxExamples / batch);
            double checks = 8 * Math.Log2(steps) + 1;
            return WorkEstimate.Training(w, steps, batch, 0) + checks * WorkEstimate.Forward(w, p.Probe)
                + WorkEstimate.Training(w, p.NTrain, 1, 0);
        }
        double flops = (double)p.Lrs.Length * p.Seeds * p.Batches.Sum(Run);
        double bytes = WorkEstimate.FashionMnistSubset(p.NTrain) + WorkEstimate.Matrix(p.NTrain, 196)
            + WorkEstimate.TrainedNetwork(w) + WorkEstimate.Activations(p.Width + 10.0, Math.Max(p.Batches[^1], 1024));
        return new ResourceEstimate(flops, bytes);
    }

    /// <summary>Stream of the data subset; run (seed s) draws its network and batches from (RunStream + s): the same at
    /// every B and learning rate (common random numbers).</summary>
    private const ulong DataStream = ulong.MaxValue;

    private const ulong RunStream = 0x5CA1E;

    private sealed record Setup(int[] Batches, double[] Lrs, int Seeds, int Width, int NTrain, int Probe, double Target,
        long MaxExamples)
    {
        public static Setup From(Settings s)
        {
            int[] batches = s.GetIntList("batches", 1).Distinct().Order().ToArray();
            if (batches.Length < 4)
                throw new BadInputException($"Setting batches needs ≥ 4 distinct batch sizes, has {batches.Length}.");
            int nTrain = FashionMnist.TrainSubset("n_train", s.GetInt("n_train", 16));
            if (batches[^1] > nTrain) throw new BadInputException($"Setting batches: B = {batches[^1]} exceeds n_train = {nTrain}.");
            int probe = s.GetInt("probe", 2);
            if (probe > nTrain) throw new BadInputException($"Setting probe={probe} must be ≤ n_train={nTrain}.");
            return new Setup(batches, s.GetLog2Grid("log2_lr", s.GetInt("lr_steps_per_octave", 1)),
                s.GetInt("seeds", 2), s.GetInt("width", 1), nTrain, probe, s.GetDouble("target", 0), s.GetInt("max_examples", 1));
        }

        public NetworkSpec Spec => NetworkSpec.Parse(string.Create(CultureInfo.InvariantCulture, $"dense({Width})-relu-dense(10)"),
            Parameterization.Standard, 2, 0);
    }

    /// <summary>A run's outcome: the steps to the target (null: not reached within the example budget, or diverged) and the
    /// gradient noise scale where it was reached.</summary>
    private sealed record RunOutcome(int? Steps, bool Diverged, double? BSimple);

    public ExperimentOutput Run(RunContext ctx) => Grid.Run(this, ctx);

    private static string Key(int batch, double lr, int seed) =>
        string.Create(CultureInfo.InvariantCulture, $"B={batch},log2lr={lr:R},seed={seed}");

    public IReadOnlyList<string> Units(RunContext ctx)
    {
        var p = Setup.From(ctx.Settings);
        return [.. from b in p.Batches from lr in p.Lrs from s in Enumerable.Range(0, p.Seeds) select Key(b, lr, s)];
    }

    private readonly RunCache<(Dataset Train, Dataset Probe)> data = new(ctx =>
    {
        var p = Setup.From(ctx.Settings);
        var train = FashionMnist.Pooled(FashionMnist.Load("train", p.NTrain, new Rng(ctx.Seed).Split(DataStream))).Standardized();
        return (train, train.Take(p.Probe));
    });

    public JsonElement Measure(RunContext ctx, string unit)
    {
        var p = Setup.From(ctx.Settings);
        foreach (int b in p.Batches)
            foreach (double lr in p.Lrs)
                for (int s = 0; s < p.Seeds; s++)
                    if (Key(b, lr, s) == unit)
                        return Grid.ToJson(Train(p, data.Get(ctx), b, lr, new Rng(ctx.Seed).Split(RunStream + (ulong)s)));
        throw new BadInputException($"Unit '{unit}' is not a unit of {Id} with these settings.");
    }

    /// <summary>
    /// SGD at batch B and rate 2^log2Lr until the probe's loss is at or below the target, checked at geometrically spaced
    /// steps (ratio 2^{1/8}, so a step count is read to within 9 %), and B_simple over the whole training set there.
    /// </summary>
    private static RunOutcome Train(Setup p, (Dataset Train, Dataset Probe) d, int batch, double log2Lr, Rng rng)
    {
        var net = new Network<double>(p.Spec, d.Train.InputDim);
        net.Initialize(rng.Split(1));
        var loss = new CrossEntropyLoss();
        int maxSteps = (int)Math.Max(1, p.MaxExamples / batch);
        var checks = Checkpoints(maxSteps);
        using var stop = new CancellationTokenSource();
        int? reached = null;
        double? noise = null;
        var px = d.Probe.X.Data;
        var py = d.Probe.Y.Data;
        void Check(TrainingState<double> state)
        {
            if (reached is not null || !checks.Contains(state.Step)) return;
            if (Trainer<double>.Evaluate(state.Network, px, py, d.Probe.Count, loss) <= p.Target)
            {
                reached = state.Step;
                noise = new GradientNoiseScale(net, d.Train, loss).Measure().BSimple;
                stop.Cancel();
            }
        }
        var options = new TrainingOptions(loss, new OptimizerSettings(OptimizerKind.Sgd, Math.Pow(2, log2Lr)), maxSteps, batch,
            Seed: rng.Split(2).NextUInt64(), DivergenceFactor: 10);
        var result = new Trainer<double>(net, d.Train, options).Run(Check, 1, ct: stop.Token);
        if (result.Status == TrainingStatus.Diverged) return new RunOutcome(null, true, null);
        return new RunOutcome(reached, false, noise);
    }

    /// <summary>Steps ⌈2^{k/8}⌉ below <paramref name="maxSteps"/>, distinct.</summary>
    private static HashSet<int> Checkpoints(int maxSteps)
    {
        var set = new HashSet<int>();
        for (int k = 0; ; k++)
        {
            int t = (int)Math.Ceiling(Math.Pow(2, k / 8.0));
            if (t > maxSteps) break;
            set.Add(t);
        }
        return set;
    }

    public ExperimentOutput Judge(RunContext ctx, IReadOnlyDictionary<string, JsonElement> measurements)
    {
        var p = Setup.From(ctx.Settings);
        var runs = p.Batches.Select(b => p.Lrs.Select(lr => Enumerable.Range(0, p.Seeds)
            .Select(s => Grid.FromJson<RunOutcome>(measurements[Key(b, lr, s)])).ToArray()).ToArray()).ToArray();
        var output = new ExperimentOutput();
        var all = Enumerable.Range(0, p.Seeds).ToArray();
        var fit = Fit(p, runs, all);
        var rng = new Rng(ctx.Seed).Split(0xB007);
        var boot = Enumerable.Range(0, 200).Select(_ => Fit(p, runs, [.. Enumerable.Range(0, p.Seeds).Select(_ => rng.NextInt(p.Seeds))]))
            .ToList();
        output.Facts["optima"] = string.Join(", ", p.Batches.Select((b, i) => fit.Optima[i] is { } o
            ? string.Create(CultureInfo.InvariantCulture, $"B = {b}: log₂ η* = {o.Log2Lr:F2}, S = {o.Steps:F0}")
            : $"B = {b}: none"));
        output.Facts["b_simple"] = fit.BSimple is { } bs ? bs.ToString("G4", CultureInfo.InvariantCulture) : "not reached";
        JudgeLinearRule(output, p, fit, boot);
        JudgeCriticalBatch(output, p, fit, boot);
        Report(output, p, runs, fit);
        return output;
    }

    /// <summary>The optimum at one batch size: log₂ η* (parabola vertex of log S through the grid minimum) and the steps
    /// there (the minimum's).</summary>
    private sealed record Optimum(double Log2Lr, double Steps);

    /// <summary>Everything judged, from one (re)sample of the seeds.</summary>
    private sealed record FitResult(Optimum?[] Optima, double? BSimple, double? SMin, double? BCrit);

    /// <summary>Per B the seeds' mean log S over the learning rates (a run that missed the target or diverged makes its
    /// rate unusable); the optimum (none at the grid's edge); B_simple averaged over the runs at each B's best grid rate;
    /// and S = a + b/B fitted to the optima by least squares in 1/B (S_min = a, B_crit = b/a).</summary>
    private static FitResult Fit(Setup p, RunOutcome[][][] runs, int[] seeds)
    {
        var optima = new Optimum?[p.Batches.Length];
        var noise = new List<double>();
        for (int i = 0; i < p.Batches.Length; i++)
        {
            var logS = runs[i].Select(r => seeds.All(s => r[s].Steps is not null)
                ? seeds.Average(s => Math.Log(r[s].Steps!.Value)) : double.PositiveInfinity).ToArray();
            int best = Array.IndexOf(logS, logS.Min());
            if (double.IsPositiveInfinity(logS[best])) continue;
            noise.AddRange(seeds.Select(s => runs[i][best][s].BSimple!.Value));
            if (best == 0 || best == logS.Length - 1) continue;
            // A neighbour that missed the target (typically the next rate diverged: SGD's fastest rate sits near its stability
            // edge) leaves no parabola; the grid point itself is then the optimum, within the half-step tolerance.
            bool inside = double.IsFinite(logS[best - 1]) && double.IsFinite(logS[best + 1]);
            double log2Lr = inside ? LearningRateOptimum.Vertex(p.Lrs, logS)!.Value : p.Lrs[best];
            optima[i] = new Optimum(log2Lr, Math.Exp(logS[best]));
        }
        double? bSimple = noise.Count > 0 ? noise.Average() : null;
        var usable = optima.Select((o, i) => (o, b: p.Batches[i])).Where(t => t.o is not null).ToArray();
        if (usable.Length < 3) return new FitResult(optima, bSimple, null, null);
        var line = Statistics.FitLine([.. usable.Select(t => 1.0 / t.b)], [.. usable.Select(t => t.o!.Steps)],
            [.. usable.Select(t => t.o!.Steps)]);
        double sMin = line.Intercept;
        return new FitResult(optima, bSimple, sMin, sMin > 0 ? line.Slope / sMin : null);
    }

    /// <summary>
    /// The optima's log–log slope over the batch sizes below the critical one (B ≤ B_crit, at least 3 with an optimum)
    /// against McCandlish et al.'s curve η*(B) = η_max/(1 + B_crit/B) with B_crit from the steps (a second observable), whose
    /// slope over the same B is fitted the same way (→ 1, the linear rule, for B ≪ B_crit). SE of the difference from the
    /// bootstrap over seeds, which moves B_crit and the optima together.
    /// </summary>
    private static void JudgeLinearRule(ExperimentOutput output, Setup p, FitResult fit, List<FitResult> boot)
    {
        if (fit.BCrit is not { } bc)
        {
            output.Claims.Add(LinearRule.With(("range", "—"), ("slope", double.NaN)).Inconclusive(1,
                "No critical batch size: fewer than 3 batch sizes reached the target, or S(B) has no positive S_min."));
            return;
        }
        int[] small = [.. Enumerable.Range(0, p.Batches.Length).Where(i => p.Batches[i] <= bc)];
        (double Measured, double Predicted)? Slopes(FitResult f, int[] rows)
        {
            if (rows.Length < 3 || f.BCrit is not > 0 || rows.Any(i => f.Optima[i] is null)) return null;
            double[] x = [.. rows.Select(i => Math.Log2(p.Batches[i]))];
            double[] w = [.. rows.Select(_ => 1.0)];
            double measured = Statistics.FitLine(x, [.. rows.Select(i => f.Optima[i]!.Log2Lr)], w).Slope;
            double predicted = Statistics.FitLine(x, [.. rows.Select(i => -Math.Log2(1 + f.BCrit!.Value / p.Batches[i]))], w).Slope;
            return (measured, predicted);
        }
        var range = small.Length == 0 ? "—" : $"{p.Batches[small[0]]}…{p.Batches[small[^1]]}";
        if (Slopes(fit, small) is not { } s)
        {
            output.Claims.Add(LinearRule.With(("range", range), ("slope", double.NaN)).Inconclusive(1, string.Create(
                CultureInfo.InvariantCulture, $"Fewer than 3 batch sizes ≤ B_crit = {bc:G3} with an optimum inside the grid: ") +
                "widen log2_lr or add smaller batches."));
            return;
        }
        var diffs = boot.Select(f => Slopes(f, small)).OfType<(double Measured, double Predicted)>()
            .Select(v => v.Measured - v.Predicted).ToArray();
        double se = diffs.Length > 1 ? Math.Sqrt(Statistics.Variance(diffs)) : double.NaN;
        double step = p.Lrs[1] - p.Lrs[0];
        double span = Math.Log2((double)p.Batches[small[^1]] / p.Batches[small[0]]);
        var claim = LinearRule.With(("range", range), ("slope", s.Predicted));
        output.Claims.Add(claim.Compare(s.Predicted, s.Measured, se, 4 * se + 0.5 * step / span, string.Create(
            CultureInfo.InvariantCulture, $"B_crit = {bc:G4} (from the steps); slope over {small.Length} batch sizes; SE of " +
            $"measured − predicted from 200 bootstrap resamples of the {p.Seeds} seeds; tolerance 4·SE + " +
            $"{0.5 * step / span:G3} (half a grid step over the batch range)."), 0.5));
    }

    private static void JudgeCriticalBatch(ExperimentOutput output, Setup p, FitResult fit, List<FitResult> boot)
    {
        var claim = CriticalBatch.With();
        if (fit.BCrit is not { } bc || fit.BSimple is not { } bs)
        {
            output.Claims.Add(claim.Inconclusive(0, "Fewer than 3 batch sizes reached the target, or S(B) has no positive S_min."));
            return;
        }
        var reps = boot.Where(f => f.BCrit is > 0 && f.BSimple is > 0).Select(f => Math.Log(f.BCrit!.Value / f.BSimple!.Value))
            .ToArray();
        double se = reps.Length > 1 ? Math.Sqrt(Statistics.Variance(reps)) : double.NaN;
        double measured = Math.Log(bc / bs);
        output.Facts["critical_batch"] = string.Create(CultureInfo.InvariantCulture,
            $"B_crit = {bc:G4} (S_min = {fit.SMin:G4} steps), B_simple = {bs:G4}");
        output.Claims.Add(claim.Compare(0, measured, se, Math.Log(3) + 4 * se, string.Create(CultureInfo.InvariantCulture,
            $"ln(B_crit/B_simple) with B_crit = {bc:G4} from S = S_min(1 + B_crit/B) fitted to the optima's steps (relative " +
            $"weights), B_simple = {bs:G4} averaged over the best runs where they reached the target; SE from 200 bootstrap " +
            $"resamples of the {p.Seeds} seeds."), Math.Log(p.NTrain / bs)));
    }

    private static void Report(ExperimentOutput output, Setup p, RunOutcome[][][] runs, FitResult fit)
    {
        var rows = new List<(int B, double Lr, double Steps, int Reached)>();
        for (int i = 0; i < p.Batches.Length; i++)
            for (int j = 0; j < p.Lrs.Length; j++)
            {
                var r = runs[i][j];
                var got = r.Where(o => o.Steps is not null).Select(o => (double)o.Steps!.Value).ToArray();
                rows.Add((p.Batches[i], p.Lrs[j], got.Length > 0 ? got.Average() : double.NaN, got.Length));
            }
        output.Tables["runs"] = SeriesTable.FromRows(rows, ("batch", r => r.B), ("log2_lr", r => r.Lr), ("mean_steps", r => r.Steps),
            ("seeds_reached", r => r.Reached));
        var usable = p.Batches.Select((b, i) => (b, o: fit.Optima[i])).Where(t => t.o is not null).ToArray();
        var series = new List<SeriesSpec>
        {
            new("steps to target at the best rate", [.. usable.Select(t => (double)t.b)], [.. usable.Select(t => t.o!.Steps)],
                SeriesKind.Points),
        };
        if (fit.SMin is { } sMin && fit.BCrit is { } bCrit)
        {
            var grid = Enumerable.Range(0, 100).Select(k => p.Batches[0] * Math.Pow((double)p.Batches[^1] / p.Batches[0], k / 99.0))
                .ToArray();
            series.Add(new SeriesSpec("S_min(1 + B_crit/B), fitted", grid, [.. grid.Select(b => sMin * (1 + bCrit / b))], SeriesKind.Line));
            if (fit.BSimple is { } bs)
                series.Add(new SeriesSpec("S_min(1 + B_simple/B), predicted", grid, [.. grid.Select(b => sMin * (1 + bs / b))],
                    SeriesKind.Line, Dashed: true));
        }
        output.Plots.Add(new PlotSpec("Steps to the target loss against batch size", "batch size B", "steps S", series,
            LogX: true, LogY: true, Caption: "Each point: the fewest steps over the learning-rate grid (mean over seeds). Below " +
                "the critical batch size doubling B halves the steps; above it the steps saturate at S_min (McCandlish et al. 2018)."));
        output.Plots.Add(new PlotSpec("Optimal learning rate against batch size", "batch size B", "log₂ η*",
        [
            new SeriesSpec("measured", [.. usable.Select(t => (double)t.b)], [.. usable.Select(t => t.o!.Log2Lr)], SeriesKind.Points),
        ], LogX: true, Caption: "The linear scaling rule: slope 1 in log₂ η* vs log₂ B below the critical batch size."));
    }
}
