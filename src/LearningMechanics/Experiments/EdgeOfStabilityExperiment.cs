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
/// <c>edge-of-stability</c> (Cohen et al. 2021, who also treat heavy-ball momentum): full-batch gradient descent with
/// the mean squared error on a Fashion-MNIST subset, a tanh MLP at several learning rates η. The sharpness S (the top
/// eigenvalue of the Hessian of the loss actually minimised, by Lanczos on exact Hessian-vector products) first rises
/// (progressive sharpening) and, once it reaches the stability threshold of the quadratic model, 2/η for GD and (2 + 2β)/η
/// for heavy-ball momentum, stops there and hovers, while the loss keeps falling non-monotonically. Classical stability
/// theory says GD with S &gt; 2/η diverges; a sharpening that ignored η would carry S past the threshold. A grid experiment:
/// one unit per (optimiser, η) run.
/// </summary>
public sealed class EdgeOfStabilityExperiment : IGridExperiment
{
    private const string Reference = "Cohen et al. 2021";

    public string Id => "edge-of-stability";
    public string Title => "Edge of stability: gradient descent's sharpness rises to 2/η and stays there";
    public string Summary => "full-batch GD: the sharpness hovers at 2/η after progressive sharpening (at every η, so ∝ 1/η); " +
        "heavy-ball momentum at (2 + 2β)/η";
    public string Source => Reference;

    public IReadOnlyList<SettingInfo> Settings { get; } =
    [
        new("gd_lrs", "learning rates η of full-batch GD (2/η above the initial sharpness, 4–5.5)", "0.15,0.2,0.3",
            "0.1,0.15,0.2,0.25,0.3"),
        new("momentum_lrs", "learning rates η of heavy-ball momentum (β below)", "0.4", "0.25,0.4"),
        new("beta", "momentum β", "0.9", "0.9"),
        new("adam_lrs", "learning rates η of full-batch Adam (β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸)", "0.003", "0.0003,0.003"),
        new("steps", "optimiser steps per run", "2500", "6000"),
        new("every", "steps between sharpness measurements", "100", "25"),
        new("lanczos", "Lanczos steps per sharpness measurement", "20", "30"),
        new("n_train", "Fashion-MNIST training images (pixels in [0, 1], one-hot targets, all 10 classes)", "500", "2000"),
        new("width", "hidden width of the MLP dense(n)-tanh-dense(n)-tanh-dense(10)", "64", "128"),
        new("sw2", "σ_w² of the SP initialisation (1/3: PyTorch's default uniform initialisation)", "0.3333333333333333",
            "0.3333333333333333"),
        new("blocks", "time blocks of the edge-of-stability phase for the standard error", "5", "5"),
    ];

    /// <summary>The stated model error of the edge-of-stability claims: Cohen et al. 2021 find the sharpness hovering "at, or
    /// just above" the threshold, oscillating around it; ±15 % of the threshold is allowed for that, beyond 4·SE.</summary>
    private const double ModelError = 0.15;

    private static readonly ClaimDeclaration GdEdge = new("gd-lr{lr}",
        "full-batch GD at η = {lr}: after the sharpness first reaches 2/η = {threshold:G4} it stays there: median of S/(2/η) over " +
        "the rest of training = 1", Reference, ClaimRule.TwoSided,
        "4·SE of the median over time blocks + 0.15, the stated model error (the sharpness oscillates around the threshold and " +
        "sits at, or just above, it)")
    {
        Competitor = "the sharpening goes on regardless of η: S/(2/η) keeps rising at its rate just before the crossing " +
            "(classical stability theory: GD with S > 2/η diverges); its value at the median time is the competitor",
    };

    private static readonly ClaimDeclaration Scaling = new("gd-scaling",
        "the sharpness GD settles at scales as 2/η: slope −1 of ln(median S) against ln η over η = {lrs}", Reference,
        ClaimRule.TwoSided, "4·SE of the weighted slope + the model error's share, ln(1.15/0.85)/ln(η_max/η_min)")
    {
        Competitor = "the sharpness is set by the data and the architecture, not by η: slope 0",
    };

    private static readonly ClaimDeclaration MomentumEdge = new("momentum-lr{lr}",
        "heavy-ball momentum (β = {beta}) at η = {lr}: the sharpness settles at its own threshold (2 + 2β)/η = {threshold:G4}: " +
        "median of S/((2 + 2β)/η) after the first crossing = 1", Reference, ClaimRule.TwoSided,
        "4·SE of the median over time blocks + 0.15, the stated model error")
    {
        Competitor = "GD's threshold 2/η without the momentum factor: S/((2 + 2β)/η) = 1/(1 + β)",
    };

    private static readonly ClaimDeclaration AdamEdge = new("adam-lr{lr}",
        "full-batch Adam (β₁ = {beta1}) at η = {lr}: the preconditioned sharpness λ_max(P⁻¹H) settles at " +
        "(2 + 2β₁)/((1 − β₁)η) = {threshold:G4}: median of λ_max(P⁻¹H)/threshold after the first crossing = 1",
        "Cohen et al. 2022", ClaimRule.TwoSided,
        "4·SE of the median over time blocks + 0.15, the stated model error")
    {
        Competitor = "the preconditioned sharpening goes on regardless of η: its rate just before the crossing, continued to the " +
            "median time (as for GD)",
    };

    public IReadOnlyList<ClaimDeclaration> Claims { get; } = [GdEdge, Scaling, MomentumEdge, AdamEdge];

    /// <summary>Adam's β₁ (PyTorch's default, Cohen et al. 2022's setting).</summary>
    private const double AdamBeta1 = 0.9;

    /// <summary>Adam's stability threshold for λ_max(P⁻¹H) (Cohen et al. 2022): 38/η at β₁ = 0.9.</summary>
    private static double AdamThreshold(double lr) => (2 + 2 * AdamBeta1) / ((1 - AdamBeta1) * lr);

    public void Validate(Settings settings) => Setup.From(settings);

    /// <summary>
    /// Every run (one per learning rate): full-batch steps of the 784 → n → n → 10 MLP on the whole training set, and at every
    /// measurement the Lanczos steps, each an exact Hessian-vector product over the training set (≈ two gradients) plus the
    /// reorthogonalisation against the previous vectors; in memory the data with the trainer's and the Hessian's copies and
    /// workspaces, and the Lanczos vectors.
    /// </summary>
    public ResourceEstimate? Estimate(Settings settings)
    {
        var p = Setup.From(settings);
        const int inputs = FashionMnist.Pixels;
        double w = WorkEstimate.MlpWeights(inputs, p.Width, 2, FashionMnist.Classes);
        double measurements = p.Steps / p.Every + 1.0;
        double perRun = WorkEstimate.Training(w, p.Steps, p.NTrain, p.NTrain)
            + measurements * p.Lanczos * (WorkEstimate.HessianVector(w, p.NTrain) + 4.0 * p.Lanczos * w);
        double flops = (p.GdLrs.Length + p.MomentumLrs.Length + p.AdamLrs.Length) * perRun;
        double bytes = WorkEstimate.FashionMnistSubset(p.NTrain) + 2 * WorkEstimate.Matrix(p.NTrain, inputs + FashionMnist.Classes)
            + 3 * WorkEstimate.Activations(2.0 * p.Width + FashionMnist.Classes, p.NTrain)
            + WorkEstimate.TrainedNetwork(w) + (p.Lanczos + 2.0) * WorkEstimate.Float64 * w + 40.0 * p.Steps;
        return new ResourceEstimate(flops, bytes);
    }

    /// <summary>Stream of the data subset; every run starts from the same network (stream NetStream) and measures the
    /// sharpness from Lanczos starts of stream (LanczosStream, step).</summary>
    private const ulong DataStream = ulong.MaxValue;

    private const ulong NetStream = 1;

    private const ulong LanczosStream = 2;

    /// <summary>Lanczos starts of the Gauss–Newton top eigenvalue: stream (GaussNewtonStream, step), apart from the sharpness's.
    /// </summary>
    private const ulong GaussNewtonStream = 3;

    private sealed record Setup(double[] GdLrs, double[] MomentumLrs, double[] AdamLrs, double Beta, int Steps, int Every, int Lanczos,
        int NTrain, int Width, double Sw2, int Blocks)
    {
        public static Setup From(Settings s)
        {
            int steps = s.GetInt("steps", 10);
            int every = s.GetInt("every", 1);
            if (steps / every < 20)
                throw new BadInputException($"Settings steps={steps}, every={every} give {steps / every} sharpness measurements; " +
                    "at least 20 are needed.");
            double beta = s.GetDouble("beta", 0);
            if (beta >= 1) throw new BadInputException($"Setting beta={beta} must lie in [0, 1).");
            int blocks = s.GetInt("blocks", 2);
            if (2 * blocks > steps / every)
                throw new BadInputException($"Setting blocks={blocks} needs ≥ {2 * blocks} sharpness measurements (two per block), " +
                    $"more than the {steps / every} that steps={steps}, every={every} give.");
            return new Setup(s.GetDoubleList("gd_lrs", 0), s.GetDoubleList("momentum_lrs", 0), s.GetDoubleList("adam_lrs", 0), beta,
                steps, every, s.GetInt("lanczos", 2), FashionMnist.TrainSubset("n_train", s.GetInt("n_train", 2)), s.GetInt("width", 1),
                s.GetDouble("sw2", 0), blocks);
        }

        /// <summary>λ_max(Θ̂)/λ_max(G) for the MSE over N images and k = 10 outputs: N·k/2.</summary>
        public double NtkScale => NTrain * FashionMnist.Classes / 2.0;

        public NetworkSpec Spec => NetworkSpec.Parse(string.Create(CultureInfo.InvariantCulture,
            $"dense({Width})-tanh-dense({Width})-tanh-dense(10)"), Parameterization.Standard, Sw2, 0);
    }

    /// <summary>One run: the sharpness at the measured steps, the loss at every step (null when it diverged).</summary>
    private sealed record RunTrace(int[] Steps, double[] Sharpness, double[] Loss, bool Diverged, double[]? GaussNewton);

    public ExperimentOutput Run(RunContext ctx) => Grid.Run(this, ctx);

    private static string Key(string opt, double lr) => string.Create(CultureInfo.InvariantCulture, $"{opt},lr={lr:R}");

    public IReadOnlyList<string> Units(RunContext ctx)
    {
        var p = Setup.From(ctx.Settings);
        return [.. p.GdLrs.Select(lr => Key("gd", lr)), .. p.MomentumLrs.Select(lr => Key("momentum", lr)),
            .. p.AdamLrs.Select(lr => Key("adam", lr))];
    }

    private readonly RunCache<Dataset> data = new(ctx =>
        FashionMnist.Load("train", Setup.From(ctx.Settings).NTrain, new Rng(ctx.Seed).Split(DataStream)));

    public JsonElement Measure(RunContext ctx, string unit)
    {
        var p = Setup.From(ctx.Settings);
        foreach (double lr in p.GdLrs)
            if (Key("gd", lr) == unit) return Grid.ToJson(Train(p, data.Get(ctx), new OptimizerSettings(OptimizerKind.Gd, lr), ctx.Seed));
        foreach (double lr in p.MomentumLrs)
            if (Key("momentum", lr) == unit)
                return Grid.ToJson(Train(p, data.Get(ctx), new OptimizerSettings(OptimizerKind.Momentum, lr, p.Beta), ctx.Seed));
        foreach (double lr in p.AdamLrs)
            if (Key("adam", lr) == unit)
                return Grid.ToJson(Train(p, data.Get(ctx), new OptimizerSettings(OptimizerKind.Adam, lr, Beta1: AdamBeta1), ctx.Seed));
        throw new BadInputException($"Unit '{unit}' is not a unit of {Id} with these settings.");
    }

    /// <summary>Full-batch training from the seed's network; the sharpness of the loss on the whole training set every
    /// <c>every</c> steps (at the parameters the step is about to move); for Adam the preconditioned sharpness λ_max(P⁻¹H)
    /// with P the preconditioner of that step.</summary>
    private static RunTrace Train(Setup p, Dataset d, OptimizerSettings opt, ulong seed)
    {
        var net = new Network<double>(p.Spec, d.InputDim);
        net.Initialize(new Rng(seed).Split(NetStream));
        var loss = new MseLoss();
        var steps = new List<int>();
        var sharpness = new List<double>();
        var gaussNewton = new List<double>();
        var gnStarts = new Rng(seed).Split(GaussNewtonStream);
        var lanczos = new Rng(seed).Split(LanczosStream);
        // One Hessian (its copy of the data and its workspaces) per run; it reads the network's current parameters.
        var hessian = new Hessian(net, d, loss);
        var preconditioner = opt.Kind == OptimizerKind.Adam ? new double[net.ParameterCount] : null;
        void Record(TrainingState<double> state)
        {
            if (state.Step % p.Every != 0) return;
            steps.Add(state.Step);
            var rng = lanczos.Split((ulong)state.Step);
            // The top Gauss–Newton eigenvalue, (2/(N·k))·λ_max of the empirical NTK on the training set: well separated, so
            // half the Lanczos steps.
            gaussNewton.Add(hessian.GaussNewtonTop(Math.Max(5, p.Lanczos / 2), gnStarts.Split((ulong)state.Step)));
            if (preconditioner is null) sharpness.Add(hessian.Sharpness(p.Lanczos, rng));
            else
            {
                state.Optimizer!.AdamPreconditioner(state.Gradient, preconditioner);
                sharpness.Add(hessian.PreconditionedSharpness(preconditioner, p.Lanczos, rng));
            }
        }
        var result = new Trainer<double>(net, d, new TrainingOptions(loss, opt, p.Steps, DivergenceFactor: 1e4)).Run(Record, 1);
        return new RunTrace([.. steps], [.. sharpness], [.. result.Losses], result.Status == TrainingStatus.Diverged, [.. gaussNewton]);
    }

    /// <summary>What one run shows: the threshold, the first crossing, the median ratio after it with its SE over time
    /// blocks, and the competitor's ratio (the pre-crossing trend extrapolated to the median time).</summary>
    private sealed record Edge(double Threshold, int? Crossing, double Ratio, double Se, double Trend, double Initial, int Rises);

    /// <summary>Measurements before the crossing whose chord gives the competitor's sharpening rate.</summary>
    private const int TrendSpan = 5;

    /// <summary>
    /// The edge-of-stability phase is every measurement after the first crossing of the threshold; the median of S/threshold
    /// over it, and its SE as the spread of the medians of <c>blocks</c> equal time blocks / √blocks. The competitor's trend
    /// continues the sharpening at its rate just before the crossing (the chord over the last <see cref="TrendSpan"/>
    /// measurements: progressive sharpening speeds up, so the chord from S(0) would understate it) to the phase's median time.
    /// A run whose sharpness starts at or above the threshold (crossing at the first measurement) shows no sharpening.
    /// </summary>
    private static Edge Analyse(RunTrace r, double threshold, int blocks, int first = 0)
    {
        int rises = 0;
        for (int t = 1; t < r.Loss.Length; t++) if (r.Loss[t] > r.Loss[t - 1]) rises++;
        if (r.Sharpness.Length <= first) return new Edge(threshold, null, double.NaN, double.NaN, double.NaN, double.NaN, rises);
        int c = Array.FindIndex(r.Sharpness, first, s => s >= threshold);
        if (c <= first || r.Sharpness.Length - c < 2 * blocks) return new Edge(threshold, c == first ? 0 : null, double.NaN,
            double.NaN, double.NaN, r.Sharpness[first], rises);
        double[] ratios = [.. r.Sharpness.Skip(c).Select(s => s / threshold)];
        int size = ratios.Length / blocks;
        double[] medians = [.. Enumerable.Range(0, blocks).Select(b => Statistics.Median(ratios.Skip(b * size).Take(size)))];
        double se = Math.Sqrt(Statistics.Variance(medians) / blocks);
        double midTime = r.Steps[c + ratios.Length / 2];
        int from = Math.Max(first, c - TrendSpan);
        double rate = (r.Sharpness[c] - r.Sharpness[from]) / (r.Steps[c] - r.Steps[from]);
        return new Edge(threshold, r.Steps[c], Statistics.Median(ratios), se, (r.Sharpness[c] + rate * (midTime - r.Steps[c])) / threshold,
            r.Sharpness[0], rises);
    }

    public ExperimentOutput Judge(RunContext ctx, IReadOnlyDictionary<string, JsonElement> measurements)
    {
        var p = Setup.From(ctx.Settings);
        var output = new ExperimentOutput();
        var gd = p.GdLrs.Select(lr => (lr, r: Grid.FromJson<RunTrace>(measurements[Key("gd", lr)]))).ToList();
        var momentum = p.MomentumLrs.Select(lr => (lr, r: Grid.FromJson<RunTrace>(measurements[Key("momentum", lr)]))).ToList();
        var adam = p.AdamLrs.Select(lr => (lr, r: Grid.FromJson<RunTrace>(measurements[Key("adam", lr)]))).ToList();
        var gdEdges = new List<(double Lr, Edge E)>();
        foreach (var (lr, r) in gd)
        {
            var e = Analyse(r, 2 / lr, p.Blocks);
            gdEdges.Add((lr, e));
            var claim = GdEdge.With(("lr", lr), ("threshold", 2 / lr));
            output.Claims.Add(JudgeEdge(claim, e, r, null, p));
            Facts(output, $"gd.lr{lr.ToString(CultureInfo.InvariantCulture)}", e, r, p);
        }
        JudgeScaling(output, p, gdEdges);
        foreach (var (lr, r) in momentum)
        {
            double threshold = (2 + 2 * p.Beta) / lr;
            var e = Analyse(r, threshold, p.Blocks);
            var claim = MomentumEdge.With(("lr", lr), ("beta", p.Beta), ("threshold", threshold));
            output.Claims.Add(JudgeEdge(claim, e, r, 1 / (1 + p.Beta), p));
            Facts(output, $"momentum.lr{lr.ToString(CultureInfo.InvariantCulture)}", e, r, p);
        }
        foreach (var (lr, r) in adam)
        {
            // Step 0's preconditioner is built from one gradient (P = (1 − β₁)(|g| + ε)): that measurement is left out.
            var e = Analyse(r, AdamThreshold(lr), p.Blocks, first: 1);
            var claim = AdamEdge.With(("lr", lr), ("beta1", AdamBeta1), ("threshold", AdamThreshold(lr)));
            output.Claims.Add(JudgeEdge(claim, e, r, null, p));
            Facts(output, $"adam.lr{lr.ToString(CultureInfo.InvariantCulture)}", e, r, p, preconditioned: true);
        }
        Report(output, p, gd, momentum, adam);
        return output;
    }

    /// <summary>The median ratio against 1 (4·SE + the model error); the competitor is <paramref name="rival"/> (momentum: GD's
    /// threshold in units of its own), or the extrapolated pre-crossing trend when null (GD).</summary>
    private static Claim JudgeEdge(DeclaredClaim claim, Edge e, RunTrace r, double? rival, Setup p)
    {
        if (r.Diverged) return claim.Inconclusive(1, "The run diverged: lower the learning rate.");
        if (e.Crossing == 0)
            return claim.Inconclusive(1, string.Create(CultureInfo.InvariantCulture,
                $"The sharpness started at {e.Initial:G4}, already at or above the threshold {e.Threshold:G4}: no sharpening to " +
                $"judge; lower the learning rate."));
        if (e.Crossing is null)
            return claim.Inconclusive(1, string.Create(CultureInfo.InvariantCulture,
                $"The sharpness never reached the threshold {e.Threshold:G4} early enough to leave {2 * p.Blocks} measurements " +
                $"after it (it started at {e.Initial:G4}): raise steps or the learning rate."));
        double competitor = rival ?? e.Trend;
        return claim.Compare(1, e.Ratio, e.Se, 4 * e.Se + ModelError, string.Create(CultureInfo.InvariantCulture,
            $"S(0) = {e.Initial:G4}, first at the threshold at step {e.Crossing}; {p.Blocks} time blocks after it; the loss " +
            $"rose at {e.Rises} of {r.Loss.Length - 1} steps."), competitor);
    }

    /// <summary>Facts of one run, with the top empirical-NTK eigenvalue on the training set, λ_max(Θ̂) = (N·k/2)·λ_max(G)
    /// (k = 10 outputs), at the first and last measurement and, for GD and the heavy ball, the median of S/λ_max(G) over
    /// the measurements: how much of the sharpness the Gauss–Newton (NTK) part carries.</summary>
    private static void Facts(ExperimentOutput output, string name, Edge e, RunTrace r, Setup p, bool preconditioned = false)
    {
        var ci = CultureInfo.InvariantCulture;
        // A unit measured by an earlier build (a resumed sweep) has no Gauss–Newton series.
        if (r.GaussNewton is { Length: > 0 })
        {
            output.Facts[$"{name}.ntk_top"] =
                string.Create(ci, $"{p.NtkScale * r.GaussNewton[0]:G4} → {p.NtkScale * r.GaussNewton[^1]:G4}");
            if (!preconditioned && r.Sharpness.Length == r.GaussNewton.Length)
                output.Facts[$"{name}.sharpness_over_gauss_newton"] =
                    Statistics.Median(r.Sharpness.Zip(r.GaussNewton, (a, b) => a / b)).ToString("G4", ci);
        }
        output.Facts[$"{name}.sharpness_initial"] = e.Initial.ToString("G4", CultureInfo.InvariantCulture);
        output.Facts[$"{name}.first_crossing_step"] = e.Crossing?.ToString(CultureInfo.InvariantCulture) ?? "never";
        output.Facts[$"{name}.loss"] = r.Loss.Length == 0 ? "—" : string.Create(CultureInfo.InvariantCulture,
            $"{r.Loss[0]:G4} → {r.Loss[^1]:G4}, rising at {e.Rises} of {r.Loss.Length - 1} steps");
    }

    /// <summary>ln(median S) against ln η over the GD runs that reached their edge, weighted by the SEs (σ_ln S = SE of the
    /// ratio / ratio).</summary>
    private static void JudgeScaling(ExperimentOutput output, Setup p, List<(double Lr, Edge E)> edges)
    {
        var ok = edges.Where(t => t.E.Crossing > 0 && t.E.Se > 0).ToList();
        var claim = Scaling.With(("lrs", string.Join(", ", p.GdLrs.Select(v => v.ToString(CultureInfo.InvariantCulture)))));
        if (ok.Count < 2)
        {
            output.Claims.Add(claim.Inconclusive(-1, "Fewer than two GD runs reached the edge of stability."));
            return;
        }
        var fit = Statistics.LogLogSlope([.. ok.Select(t => t.Lr)], [.. ok.Select(t => t.E.Ratio * t.E.Threshold)],
            [.. ok.Select(t => t.E.Se * t.E.Threshold)]);
        double allowance = Math.Log((1 + ModelError) / (1 - ModelError)) / Math.Log(ok.Max(t => t.Lr) / ok.Min(t => t.Lr));
        output.Claims.Add(claim.Compare(-1, fit.Slope, fit.SlopeStdErr, 4 * fit.SlopeStdErr + allowance,
            string.Create(CultureInfo.InvariantCulture, $"{ok.Count} learning rates; tolerance 4·SE + {allowance:G3} (the ±15 % model " +
            $"error of each median over the η range)."), 0));
    }

    private static void Report(ExperimentOutput output, Setup p, List<(double Lr, RunTrace R)> gd,
        List<(double Lr, RunTrace R)> momentum, List<(double Lr, RunTrace R)> adam)
    {
        var runs = gd.Select(t => ("gd", t.Lr, t.R, 2 / t.Lr))
            .Concat(momentum.Select(t => ("momentum", t.Lr, t.R, (2 + 2 * p.Beta) / t.Lr)))
            .Concat(adam.Select(t => ("adam", t.Lr, t.R, AdamThreshold(t.Lr)))).ToList();
        output.Tables["sharpness"] = SeriesTable.FromRows(
            [.. runs.SelectMany(u => u.R.Steps.Select((s, i) => (u.Item1, u.Lr, Step: s, S: u.R.Sharpness[i], Threshold: u.Item4,
                Gn: i < (u.R.GaussNewton?.Length ?? 0) ? u.R.GaussNewton![i] : double.NaN)))],
            ("optimizer", v => v.Item1), ("lr", v => v.Lr), ("step", v => v.Step), ("sharpness", v => v.S),
            ("threshold", v => v.Threshold), ("gauss_newton_top", v => v.Gn),
            ("ntk_top", v => v.Gn * p.NtkScale));
        List<SeriesSpec> Series(bool adaptive)
        {
            var series = new List<SeriesSpec>();
            foreach (var (opt, lr, r, threshold) in runs.Where(u => (u.Item1 == "adam") == adaptive))
            {
                string name = string.Create(CultureInfo.InvariantCulture, $"{opt}, η = {lr}");
                series.Add(new SeriesSpec(name, [.. r.Steps.Select(s => (double)s)], r.Sharpness, SeriesKind.Line));
                series.Add(new SeriesSpec($"{name}: threshold", [0.0, p.Steps], [threshold, threshold], SeriesKind.Line, Dashed: true));
            }
            return series;
        }
        output.Plots.Add(new PlotSpec("Sharpness during full-batch training", "step", "sharpness S (top Hessian eigenvalue)",
            Series(false), Caption: "Dashed: the stability thresholds 2/η (GD) and (2 + 2β)/η (heavy ball). The sharpness rises " +
                "until it meets its threshold and then hovers there (Cohen et al. 2021)."));
        if (adam.Count > 0)
            output.Plots.Add(new PlotSpec("Preconditioned sharpness of full-batch Adam", "step", "λ_max(P⁻¹H)", Series(true),
                LogY: true, Caption: "Dashed: Adam's threshold (2 + 2β₁)/((1 − β₁)η) = 38/η (Cohen et al. 2022)."));
        output.Plots.Add(new PlotSpec("Training loss", "step", "MSE", [.. runs.Select(u => new SeriesSpec(
            string.Create(CultureInfo.InvariantCulture, $"{u.Item1}, η = {u.Lr}"),
            [.. Enumerable.Range(0, u.R.Loss.Length).Select(i => (double)i)], u.R.Loss, SeriesKind.Line))], LogY: true,
            Caption: "The loss keeps falling over long times while it oscillates at the edge of stability."));
    }
}
