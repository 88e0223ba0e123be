using System.Globalization;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Experiments;

/// <summary>
/// <c>neural-collapse</c> (Papyan et al. 2020; Han et al. 2022 for the MSE loss): trained past 100 % training accuracy,
/// in the terminal phase of training (TPT), the last hidden layer's class means and the classifier collapse onto a
/// symmetric structure. NC1: within-class variability tr(Σ_W Σ_B⁺)/C → 0; NC2: the centred class means form a simplex
/// equiangular tight frame; NC3: the classifier's rows align with the class means; NC4: the network decides as the
/// nearest class mean does. The metrics are those of <see cref="NeuralCollapse"/>, on the training set, every few
/// steps, for several independently initialised networks; the ratios over the TPT are judged against stated levels.
/// </summary>
public sealed class NeuralCollapseExperiment : IExperiment
{
    private const string Reference = "Papyan et al. 2020; Han et al. 2022";

    public string Id => "neural-collapse";
    public string Title => "Neural collapse in the terminal phase of training";
    public string Summary => "past 100 % training accuracy the features' within-class variability, the class means' distance " +
        "from a simplex ETF and the classifier's misalignment with them fall, and the network decides by the nearest class mean";
    public string Source => Reference;

    public IReadOnlyList<SettingInfo> Settings { get; } =
    [
        new("per_class", "training examples per class (a balanced Fashion-MNIST subset)", "10", "50"),
        new("width", "hidden width (three ReLU layers, standard parameterisation, σ_w² = 2)", "256", "512"),
        new("steps", "full-batch steps (MSE on one-hot targets, heavy ball)", "2000", "10000"),
        new("lr", "learning rate η", "0.05", "0.05"),
        new("momentum", "heavy-ball momentum", "0.9", "0.9"),
        new("weight_decay", "weight decay λ (Papyan et al. 2020 train with it)", "5e-4", "5e-4"),
        new("seeds", "independently initialised networks", "3", "5"),
        new("records", "measurements of NC1–NC4 per run", "20", "40"),
    ];

    private static readonly ClaimDeclaration Nc1 = new("nc1-within-class",
        "NC1 = tr(Σ_W Σ_B⁺)/C falls over the terminal phase of training: NC1(end)/NC1(TPT onset) ≤ {level} (geometric " +
        "mean over {seeds} networks)", Reference, ClaimRule.AtMost,
        "4·SE of the ratio over networks (delta method on log ratios)")
    {
        Competitor = "no collapse: the features' within-class variability stays where it is at 100 % accuracy (ratio 1)",
    };

    private static readonly ClaimDeclaration Nc2 = new("nc2-simplex-etf",
        "NC2 = ‖M̃ᵀM̃/‖M̃ᵀM̃‖ − ETF‖ falls over the terminal phase: the centred class means move towards a simplex " +
        "equiangular tight frame, NC2(end)/NC2(TPT onset) ≤ {level}", Reference, ClaimRule.AtMost,
        "4·SE of the ratio over networks (delta method on log ratios)")
    {
        Competitor = "the class means keep the geometry they have at 100 % accuracy (ratio 1)",
    };

    private static readonly ClaimDeclaration Nc3 = new("nc3-self-duality",
        "NC3 = ‖W/‖W‖ − M̃/‖M̃‖‖ falls over the terminal phase: the classifier aligns with the class means, " +
        "NC3(end)/NC3(TPT onset) ≤ {level}", Reference, ClaimRule.AtMost, "4·SE of the ratio over networks (delta method on log ratios)")
    {
        Competitor = "classifier and class means stay as misaligned as at 100 % accuracy (ratio 1)",
    };

    private static readonly ClaimDeclaration Nc4 = new("nc4-nearest-class-mean",
        "NC4: at the end the network's decision equals the nearest-class-mean rule on all but ≤ {level} of the training " +
        "examples (mean over networks)", Reference, ClaimRule.AtMost, "4·SE over networks")
    {
        Competitor = "the decisions are unrelated to the nearest class mean: the mismatch at initialisation",
    };

    public IReadOnlyList<ClaimDeclaration> Claims { get; } = [Nc1, Nc2, Nc3, Nc4];

    public void Validate(Settings settings) => Setup.From(settings);

    /// <summary>
    /// Per network: full-batch steps of the 784 → n → n → n → 10 MLP on the N = 10·per_class examples, and at every record the
    /// features, Σ_W (N·n² operations), the eigendecomposition of Σ_B (n × n) and the predictions; in memory the drawn pool,
    /// the network in training with its full-batch activations, and the n × n matrices of the metrics.
    /// </summary>
    public ResourceEstimate? Estimate(Settings settings)
    {
        var p = Setup.From(settings);
        double n = p.Width;
        double examples = (double)p.PerClass * FashionMnist.Classes;
        double w = WorkEstimate.MlpWeights(FashionMnist.Pixels, n, 3, FashionMnist.Classes);
        double record = 2 * examples * n * n + WorkEstimate.Eigen(n) + 2 * FashionMnist.Classes * n * n
            + 2 * WorkEstimate.Forward(w, examples);
        double flops = p.Seeds * (WorkEstimate.Training(w, p.Steps, examples, 0) + (p.Records + 2.0) * record);
        double bytes = WorkEstimate.FashionMnistSubset(Math.Min(FashionMnist.TrainCount, 40 * examples))
            + WorkEstimate.Matrix(examples, FashionMnist.Pixels + FashionMnist.Classes) + WorkEstimate.TrainedNetwork(w)
            + WorkEstimate.Activations(3 * n + FashionMnist.Classes, examples) + 4 * WorkEstimate.Matrix(n, n)
            + 2 * WorkEstimate.Matrix(examples, n);
        return new ResourceEstimate(flops, bytes);
    }

    /// <summary>Stated levels: NC1 must at least halve; NC2 and NC3 must fall by 10 %; NC4's mismatch at most 2 %.</summary>
    private const double Nc1Level = 0.5;

    private const double FallLevel = 0.9;
    private const double Nc4Level = 0.02;

    /// <summary>Random stream of the data subset; network s uses stream (NetStream, s).</summary>
    private const ulong DataStream = 0;

    private const ulong NetStream = 1;

    private sealed record Setup(int PerClass, int Width, int Steps, double Lr, double Momentum, double WeightDecay, int Seeds,
        int Records)
    {
        public static Setup From(Settings s)
        {
            var p = new Setup(s.GetInt("per_class", 2), s.GetInt("width", 2), s.GetInt("steps", 10), s.GetDouble("lr", 1e-12),
                s.GetDouble("momentum", 0), s.GetDouble("weight_decay", 0), s.GetInt("seeds", 2), s.GetInt("records", 4));
            if (p.Records > p.Steps) throw new BadInputException($"Setting records={p.Records} must be ≤ steps={p.Steps}.");
            int most = FashionMnist.TrainCount / FashionMnist.Classes;
            if (p.PerClass > most)
                throw new BadInputException($"Setting per_class={p.PerClass} exceeds the {most} training images of each " +
                    "Fashion-MNIST class.");
            return p;
        }

        public NetworkSpec Spec =>
            NetworkSpec.Parse($"dense({Width})-relu-dense({Width})-relu-dense({Width})-relu-dense({FashionMnist.Classes})",
                Parameterization.Standard, 2, 0);
    }

    /// <summary>One network's trajectory: steps, training accuracy and NC1–NC4 at each record; why training stopped early
    /// (divergence), if it did.</summary>
    private sealed record Trajectory(int[] Steps, double[] Accuracy, double[][] Nc, string? Stopped = null);

    public ExperimentOutput Run(RunContext ctx)
    {
        var p = Setup.From(ctx.Settings);
        var root = new Rng(ctx.Seed);
        var data = Balanced(p.PerClass, root.Split(DataStream));
        var runs = new List<Trajectory>();
        for (int s = 0; s < p.Seeds; s++)
        {
            ctx.Cancellation.ThrowIfCancellationRequested();
            ctx.Progress?.Report(new ProgressInfo("networks", s, p.Seeds));
            runs.Add(Train(p, data, root.Split(NetStream, (ulong)s)));
        }
        ctx.Progress?.Report(new ProgressInfo("networks", p.Seeds, p.Seeds));
        var output = new ExperimentOutput();
        var onsets = runs.Select(Onset).ToArray();
        if (runs.Any(t => t.Stopped is not null) || onsets.Any(o => o < 0))
        {
            string why = runs.FirstOrDefault(t => t.Stopped is not null) is { } bad
                ? $"{runs.Count(t => t.Stopped is not null)} of {p.Seeds} networks stopped early ({bad.Stopped}); lower lr."
                : $"{onsets.Count(o => o < 0)} of {p.Seeds} networks did not reach 100 % training accuracy before the last " +
                    "record: there is no terminal phase to measure; train longer (steps) or faster (lr).";
            output.Claims.Add(Nc1.With(("level", Nc1Level), ("seeds", p.Seeds)).Inconclusive(Nc1Level, why));
            output.Claims.Add(Nc2.With(("level", FallLevel)).Inconclusive(FallLevel, why));
            output.Claims.Add(Nc3.With(("level", FallLevel)).Inconclusive(FallLevel, why));
            output.Claims.Add(Nc4.With(("level", Nc4Level)).Inconclusive(Nc4Level, why));
        }
        else
        {
            JudgeFall(output, Nc1, 0, Nc1Level, runs, onsets, p);
            JudgeFall(output, Nc2, 1, FallLevel, runs, onsets, p);
            JudgeFall(output, Nc3, 2, FallLevel, runs, onsets, p);
            JudgeNc4(output, runs, p);
        }
        Report(output, runs, onsets, p, data.Count);
        return output;
    }

    /// <summary>per_class examples of each class, from a random draw of the training split (in the draw's order).</summary>
    private static Dataset Balanced(int perClass, Rng rng)
    {
        var pool = FashionMnist.Load("train", Math.Min(60000, 40 * perClass * FashionMnist.Classes), rng);
        var rows = new List<int>();
        for (int c = 0; c < FashionMnist.Classes; c++)
        {
            var mine = Enumerable.Range(0, pool.Count).Where(i => pool.Labels![i] == c).Take(perClass).ToList();
            if (mine.Count < perClass)
                throw new BadInputException($"Setting per_class={perClass}: only {mine.Count} examples of class {c} were drawn.");
            rows.AddRange(mine);
        }
        rows.Sort();
        return pool.Subset(rows);
    }

    private static Trajectory Train(Setup p, Dataset data, Rng rng)
    {
        var net = new Network<double>(p.Spec, data.InputDim);
        net.Initialize(rng.Split(0));
        var steps = new List<int>();
        var accuracy = new List<double>();
        var nc = Enumerable.Range(0, 4).Select(_ => new List<double>()).ToArray();
        void Record(int step)
        {
            var r = NeuralCollapse.Measure(net, data.X, data.Labels!, data.Classes);
            steps.Add(step);
            accuracy.Add(Classification.Accuracy(Trainer<double>.Predict(net, data.X), data.Y));
            nc[0].Add(r.Nc1); nc[1].Add(r.Nc2); nc[2].Add(r.Nc3); nc[3].Add(r.Nc4);
        }
        var options = new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Momentum, p.Lr, p.Momentum,
            WeightDecay: p.WeightDecay), p.Steps);
        int every = Math.Max(1, p.Steps / p.Records);
        Record(0);
        var result = new Trainer<double>(net, data, options).Run(s => { if (s.Step > 0) Record(s.Step); }, every);
        string? stopped = result.Status == TrainingStatus.Completed ? null : $"{result.StatusText} {result.Note}".Trim();
        if (stopped is null && steps[^1] != result.StepsTaken) Record(result.StepsTaken);
        return new Trajectory([.. steps], [.. accuracy], [.. nc.Select(l => l.ToArray())], stopped);
    }

    /// <summary>Index of the first record from which the training accuracy stays at 100 % (−1 when it never does before the
    /// last record).</summary>
    private static int Onset(Trajectory t)
    {
        int onset = -1;
        for (int i = t.Accuracy.Length - 1; i >= 0 && t.Accuracy[i] == 1; i--) onset = i;
        return onset == t.Accuracy.Length - 1 ? -1 : onset;
    }

    /// <summary>Geometric mean over networks of metric(end)/metric(onset), its SE by the delta method, and the mean TPT
    /// log–log slope with its SE (for the note and the table).</summary>
    private static (double Ratio, double Se, double Slope, double SlopeSe) Fall(int metric, List<Trajectory> runs, int[] onsets)
    {
        var logRatios = runs.Select((t, s) => Math.Log(t.Nc[metric][^1] / t.Nc[metric][onsets[s]])).ToArray();
        var slopes = runs.Select((t, s) =>
        {
            double[] x = [.. t.Steps.Skip(onsets[s]).Select(v => Math.Log(Math.Max(1, v)))];
            double[] y = [.. t.Nc[metric].Skip(onsets[s]).Select(v => Math.Log(v))];
            return Statistics.FitLine(x, y, [.. x.Select(_ => 1.0)]).Slope;
        }).ToArray();
        double ratio = Math.Exp(Statistics.Mean(logRatios));
        double se = runs.Count > 1 ? ratio * Statistics.StandardError(logRatios) : double.NaN;
        return (ratio, se, Statistics.Mean(slopes), runs.Count > 1 ? Statistics.StandardError(slopes) : double.NaN);
    }

    private static void JudgeFall(ExperimentOutput output, ClaimDeclaration claim, int metric, double level, List<Trajectory> runs,
        int[] onsets, Setup p)
    {
        var (ratio, se, slope, slopeSe) = Fall(metric, runs, onsets);
        string onsetSteps = string.Join(", ", runs.Select((t, s) => t.Steps[onsets[s]]));
        var declared = claim == Nc1 ? claim.With(("level", level), ("seeds", p.Seeds)) : claim.With(("level", level));
        output.Claims.Add(declared.Compare(level, ratio, se, 4 * se,
            string.Create(CultureInfo.InvariantCulture, $"TPT onset (100 % accuracy) at step {onsetSteps} of {p.Steps}; ratio " +
                $"{ratio:G3} ± {se:G2}; TPT log–log slope {slope:F3} ± {slopeSe:F3}; tolerance 4·SE."), competitor: 1));
    }

    private static void JudgeNc4(ExperimentOutput output, List<Trajectory> runs, Setup p)
    {
        double[] end = [.. runs.Select(t => t.Nc[3][^1])];
        double[] start = [.. runs.Select(t => t.Nc[3][0])];
        double mean = Statistics.Mean(end);
        double se = runs.Count > 1 ? Statistics.StandardError(end) : double.NaN;
        output.Claims.Add(Nc4.With(("level", Nc4Level)).Compare(Nc4Level, mean, se, 4 * se,
            string.Create(CultureInfo.InvariantCulture, $"mismatch with the nearest-class-mean rule at step {p.Steps}: {mean:G3} ± " +
                $"{se:G2} (at initialisation {Statistics.Mean(start):G3}); tolerance 4·SE."), competitor: Statistics.Mean(start)));
    }

    private static void Report(ExperimentOutput output, List<Trajectory> runs, int[] onsets, Setup p, int n)
    {
        string[] names = ["NC1", "NC2", "NC3", "NC4"];
        var table = new SeriesTable()
            .Add("network", [.. runs.SelectMany((t, s) => t.Steps.Select(_ => (double)s))])
            .Add("step", [.. runs.SelectMany(t => t.Steps.Select(v => (double)v))])
            .Add("train_accuracy", [.. runs.SelectMany(t => t.Accuracy)]);
        for (int m = 0; m < 4; m++) table.Add(names[m].ToLowerInvariant(), [.. runs.SelectMany(t => t.Nc[m])]);
        output.Tables["collapse"] = table;
        string caption = string.Create(CultureInfo.InvariantCulture,
            $"{p.Seeds} networks, {n} training examples, {p.Steps} steps; the dotted lines mark 100 % training accuracy.");
        for (int m = 0; m < 4; m++)
        {
            int metric = m;
            var series = runs.Select((t, s) => new SeriesSpec($"network {s}", [.. t.Steps.Skip(1).Select(v => (double)v)],
                [.. t.Nc[metric].Skip(1)], SeriesKind.Line)).ToList();
            series.AddRange(runs.Select((t, s) => (t, s)).Where(r => onsets[r.s] >= 0).Select(r =>
            {
                double at = r.t.Steps[Math.Max(onsets[r.s], 1)];
                return new SeriesSpec($"onset {r.s}", [at, at], MinMax(runs, metric), SeriesKind.Line, Dashed: true);
            }));
            output.Plots.Add(new PlotSpec($"{names[m]} against training steps", "step", names[m], series, LogX: true,
                LogY: metric < 3, Caption: caption));
        }
    }

    private static double[] MinMax(List<Trajectory> runs, int metric)
    {
        var all = runs.SelectMany(t => t.Nc[metric].Skip(1)).Where(v => v > 0).ToArray();
        return all.Length == 0 ? [0, 1] : [all.Min(), all.Max()];
    }
}
