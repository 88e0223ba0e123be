using System.Globalization;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.SolvableModels;
using LearningMechanics.Training;

namespace LearningMechanics.Experiments;

/// <summary>
/// <c>deep-linear</c> (Saxe et al. 2014; Arora et al. 2018): deep linear networks trained by full-batch GD on a whitened
/// linear task learn the singular modes of Σ^{yx} one at a time, each along the trajectory of <see cref="DeepLinearModes"/>.
/// Two layers from a small random initialisation: every mode reaches s/2 at the closed-form half-time from its growing initial
/// strength, and the time scale is τ/(2s) (∝ 1/s, where a one-layer model relaxes every mode at the same rate). Depth D
/// from a decoupled balanced initialisation: the plateau before each mode is learned grows as u₀ shrinks like the flow
/// τu̇ = D·u^{2−2/D}(s − u) says, → u₀^{−(1−2/D)}, where two layers have only a logarithmic plateau.
/// </summary>
public sealed class DeepLinearExperiment : IExperiment
{
    private const string Reference = "Saxe et al. 2014; Arora et al. 2018";

    public string Id => "deep-linear";
    public string Title => "Deep linear networks learn one singular mode at a time";
    public string Summary => "mode strengths follow Saxe et al.'s sigmoids: half-time ∝ ln(s/u₀)/s for two layers, plateaus " +
        "∝ u₀^{−(1−2/D)} at depth D";
    public string Source => Reference;

    public IReadOnlyList<SettingInfo> Settings { get; } =
    [
        new("d_in", "input dimension (P = 2·d_in whitened inputs)", "16", "16"),
        new("d_out", "output dimension", "8", "8"),
        new("singular_values", "singular values s_α of Σ^{yx}", "4,2,1,0.5", "4,2,1,0.5,0.25"),
        new("hiddens", "hidden widths h of the two-layer networks (≥ 3, extrapolated to h → ∞)", "64,128,256", "256,512,1024"),
        new("init_std", "two layers: every weight N(0, ε²) at initialisation", "0.001", "0.001"),
        new("nets", "two layers: random initialisations", "8", "32"),
        new("lr", "two layers: learning rate η of L = ½E‖y − ŷ‖² (τ = 1/η)", "0.0025", "0.00125"),
        new("depths", "depths D of the decoupled networks", "3,4", "3,4,5,6"),
        new("u0s", "initial mode strengths u₀ of the decoupled networks", "0.1,0.01,0.001", "0.1,0.01,0.001,0.0001"),
        new("depth_hidden", "hidden width of the decoupled networks", "16", "16"),
        new("depth_lr", "decoupled networks: learning rate η of L", "0.01", "0.005"),
    ];

    private static readonly ClaimDeclaration HalfTimes = new("mode-half-times",
        "two layers from a small random initialisation: mode α reaches s_α/2 at t½ = τ·ln(s_α/u₀ − 1)/(2s_α), u₀ = " +
        "‖(W₁v_α + W₂ᵀu_α)/2‖² its growing initial strength: measured/predicted t½ = 1, extrapolated to h → ∞ " +
        "(the modes interfere at O(1/h); worst of {count} modes shown)", Reference, ClaimRule.TwoSided,
        "4·SE of the extrapolated mean ratio + GD's own shift of t½ (computed from the mode's gradient-descent recursion)")
    {
        Competitor = "a one-layer linear model: every mode relaxes at the same rate, t½ = τ·ln 2",
    };

    private static readonly ClaimDeclaration TimeScale = new("time-scale",
        "two layers: the time scale of mode α, t½/ln(s_α/u₀ − 1) = τ/(2s_α), is ∝ 1/s_α: log–log slope −1 over the " +
        "singular values (Saxe et al. 2014: larger modes are learned first)", Reference, ClaimRule.TwoSided,
        "4·SE of the mean slope over the initialisations + GD's own shift of the slope (computed)")
    {
        Competitor = "slope 0: a one-layer model learns every mode on the same time scale τ",
    };

    private static readonly ClaimDeclaration Plateau = new("plateau-depth{depth}",
        "depth {depth}, decoupled balanced initialisation: the half-time's log–log slope against u₀ is the flow's, " +
        "τu̇ = D·u^{2−2/D}(s − u) integrated exactly (→ −(1 − 2/D) = {exponent} as u₀ → 0; worst of {count} modes shown)",
        Reference, ClaimRule.TwoSided, "GD's own shift of the slope (computed from the mode's gradient-descent recursion) + 10⁻³ " +
        "for reading off the crossing")
    {
        Competitor = "the two-layer law t½ = τ·ln(s/u₀ − 1)/(2s): a plateau only logarithmic in 1/u₀",
    };

    public IReadOnlyList<ClaimDeclaration> Claims { get; } = [HalfTimes, TimeScale, Plateau];

    public void Validate(Settings settings) => Setup.From(settings);

    /// <summary>
    /// Every run's steps, as the run chooses them (1.6 or 1.3 × the slowest mode's predicted half-time over the learning rate;
    /// the two-layer initial strength taken as its mean h·ε²/2), each a full-batch step on the P = 2·d_in inputs and a
    /// measurement of the modes; in memory the trajectories of all two-layer runs (modes × steps each) and the widest network.
    /// </summary>
    public ResourceEstimate? Estimate(Settings settings)
    {
        var p = Setup.From(settings);
        double inputs = 2.0 * p.DIn;
        int modes = p.S.Length;
        double StepCost(double w) => WorkEstimate.Training(w, 1, inputs, 0) + 2.0 * modes * w;
        double flops = 0;
        double trajectories = 0;
        foreach (int h in p.Hiddens)
        {
            double w = (double)h * (p.DIn + p.DOut) + h + p.DOut;
            double steps = Math.Ceiling(1.6 * p.S.Max(s => TwoLayerHalfTime(s, h * p.InitStd * p.InitStd / 2)) / p.Lr);
            flops += p.Nets * steps * StepCost(w);
            trajectories += p.Nets * steps * modes * WorkEstimate.Float64;
        }
        double longest = 0;
        foreach (int depth in p.Depths)
        {
            double w = (double)p.DIn * p.DepthHidden + (depth - 2.0) * p.DepthHidden * p.DepthHidden + (double)p.DepthHidden * p.DOut;
            foreach (double u0 in p.U0s)
            {
                double steps = Math.Ceiling(1.3 * p.S.Max(s => DeepLinearModes.HalfTime(depth, s, u0)) / p.DepthLr);
                flops += steps * StepCost(w);
                longest = Math.Max(longest, steps);
            }
        }
        double widest = Math.Max((double)p.Hiddens[^1] * (p.DIn + p.DOut), p.DIn * p.DepthHidden
            + (p.Depths.Max() - 2.0) * p.DepthHidden * p.DepthHidden + (double)p.DepthHidden * p.DOut);
        double bytes = trajectories + longest * modes * WorkEstimate.Float64 + 2 * WorkEstimate.Matrix(inputs, p.DIn + p.DOut)
            + WorkEstimate.TrainedNetwork(widest) + WorkEstimate.Activations(Math.Max(p.Hiddens[^1], p.DepthHidden * (p.Depths.Max() - 1.0))
                + p.DOut, inputs);
        return new ResourceEstimate(flops, bytes);
    }

    /// <summary>The two-layer half-time from an initial strength clipped below s/4 (where the closed form holds), for the
    /// estimate.</summary>
    private static double TwoLayerHalfTime(double s, double u0)
    {
        double t = DeepLinearModes.TwoLayerHalfTime(s, Math.Clamp(u0, 1e-300, s / 4));
        return t > 0 && double.IsFinite(t) ? t : 1 / s;
    }

    /// <summary>Random stream of the task; two-layer network r uses stream (NetStream, r), decoupled ones (DepthStream, D).</summary>
    private const ulong TaskStream = 0;

    private const ulong NetStream = 1;

    private const ulong DepthStream = 2;

    /// <summary>Slack in reading the crossing of s/2 off a trajectory by linear interpolation between steps.</summary>
    private const double CrossingSlack = 1e-3;

    private sealed record Setup(int DIn, int DOut, double[] S, int[] Hiddens, double InitStd, int Nets, double Lr, int[] Depths,
        double[] U0s, int DepthHidden, double DepthLr)
    {
        public static Setup From(Settings s)
        {
            double[] sv = s.GetDoubleList("singular_values", 0);
            double[] u0s = s.GetDoubleList("u0s", 0);
            if (u0s.Length < 2) throw new BadInputException($"Setting u0s needs ≥ 2 values for a slope, got {u0s.Length}.");
            if (u0s.Any(u => !(u > 0) || u >= sv.Min() / 2))
                throw new BadInputException($"Setting u0s: every u₀ must lie in (0, s_min/2 = {sv.Min() / 2}).");
            int[] depths = s.GetIntList("depths", 2);
            return new Setup(s.GetInt("d_in", 1), s.GetInt("d_out", 1), sv, HiddenWidths(s), s.GetDouble("init_std", 1e-12),
                s.GetInt("nets", 3), s.GetDouble("lr", 1e-9), depths, u0s, s.GetInt("depth_hidden", 1), s.GetDouble("depth_lr", 1e-9));
        }

        private static int[] HiddenWidths(Settings s)
        {
            int[] h = [.. s.GetIntList("hiddens", 1).Distinct().Order()];
            return h.Length >= 3 ? h : throw new BadInputException($"Setting hiddens needs ≥ 3 widths for the 1/h extrapolation.");
        }

    }

    /// <summary>One two-layer network: each mode's growing initial strength, measured half-time and trajectory.</summary>
    private sealed record TwoLayerRun(int Hidden, double[] U0, double[] HalfTime, double[][] Trajectory);

    public ExperimentOutput Run(RunContext ctx)
    {
        var p = Setup.From(ctx.Settings);
        var root = new Rng(ctx.Seed);
        var teacher = LinearTeacher.Whitened(p.DIn, p.DOut, p.S, root.Split(TaskStream));
        var output = new ExperimentOutput();
        output.Facts["task"] = teacher.Data.Name + $"; {teacher.Data.Count} whitened inputs";
        var runs = new List<TwoLayerRun>();
        for (int w = 0; w < p.Hiddens.Length; w++)
            for (int r = 0; r < p.Nets; r++)
            {
                ctx.Cancellation.ThrowIfCancellationRequested();
                ctx.Progress?.Report(new ProgressInfo("two layers", runs.Count, p.Hiddens.Length * p.Nets));
                runs.Add(TrainTwoLayer(p, p.Hiddens[w], teacher, root.Split(NetStream, (ulong)(w * p.Nets + r))));
            }
        JudgeTwoLayer(output, p, runs);
        var depthRuns = new List<(int Depth, double U0, double[] HalfTime)>();
        foreach (int depth in p.Depths)
            foreach (double u0 in p.U0s)
            {
                ctx.Cancellation.ThrowIfCancellationRequested();
                ctx.Progress?.Report(new ProgressInfo($"depth {depth}", depthRuns.Count, p.Depths.Length * p.U0s.Length));
                depthRuns.Add((depth, u0, TrainDecoupled(p, teacher, depth, u0, root.Split(DepthStream, (ulong)depth))));
            }
        foreach (int depth in p.Depths) JudgeDepth(output, p, depth, depthRuns.Where(d => d.Depth == depth).ToList());
        Report(output, p, runs, depthRuns);
        return output;
    }

    /// <summary>GD with our loss (mean over P·d_out of squared errors = (2/d_out)·L) at the learning rate that is η on L.</summary>
    private static TrainingOptions Options(int steps, double eta, int dOut) =>
        new(new MseLoss(), new OptimizerSettings(OptimizerKind.Gd, eta * dOut / 2), steps);

    private static TwoLayerRun TrainTwoLayer(Setup p, int hidden, LinearTeacher teacher, Rng rng)
    {
        var spec = NetworkSpec.Parse($"dense({hidden})-dense({p.DOut})", Parameterization.Standard, 1, 0);
        var net = new Network<double>(spec, p.DIn);
        rng.FillGaussian(net.Parameters, p.InitStd);
        foreach (var t in net.Tensors.Where(t => !t.IsWeight)) Array.Clear(net.Parameters, t.Offset, t.Length);
        var modes = new LinearModes(net, teacher.OutputModes, teacher.InputModes);
        var u0 = modes.GrowingStrengths();
        // Run until the slowest mode is predicted to be at 1.6·t½ (≈ 99 % of s for these u₀).
        double longest = p.S.Select((s, a) => DeepLinearModes.TwoLayerHalfTime(s, u0[a])).Max();
        int steps = (int)Math.Ceiling(1.6 * longest / p.Lr);
        var trajectory = Trajectory(net, modes, teacher, Options(steps, p.Lr, p.DOut));
        return new TwoLayerRun(hidden, u0, CrossingTimes(trajectory, p.S, p.Lr), trajectory);
    }

    private static double[] TrainDecoupled(Setup p, LinearTeacher teacher, int depth, double u0, Rng rng)
    {
        string arch = string.Join("-", Enumerable.Repeat($"dense({p.DepthHidden})", depth - 1)) + $"-dense({p.DOut})";
        var net = new Network<double>(NetworkSpec.Parse(arch, Parameterization.Standard, 1, 0), p.DIn);
        var modes = new LinearModes(net, teacher.OutputModes, teacher.InputModes);
        modes.InitializeDecoupled(u0, rng);
        double longest = p.S.Max(s => DeepLinearModes.HalfTime(depth, s, u0));
        int steps = (int)Math.Ceiling(1.3 * longest / p.DepthLr);
        return CrossingTimes(Trajectory(net, modes, teacher, Options(steps, p.DepthLr, p.DOut)), p.S, p.DepthLr);
    }

    /// <summary>Mode strengths at every step, [mode][step].</summary>
    private static double[][] Trajectory(Network<double> net, LinearModes modes, LinearTeacher teacher, TrainingOptions options)
    {
        var u = Enumerable.Range(0, modes.Count).Select(_ => new double[options.Steps]).ToArray();
        var now = new double[modes.Count];
        var result = new Trainer<double>(net, teacher.Data, options).Run(state =>
        {
            modes.Measure(now);
            for (int a = 0; a < now.Length; a++) u[a][state.Step] = now[a];
        });
        if (result.Status != TrainingStatus.Completed)
            throw new InvalidOperationException($"Training stopped: {result.StatusText} {result.Note}; lower the learning rate.");
        return u;
    }

    /// <summary>First crossing of s_α/2 per mode, in units of τ, by linear interpolation between steps (NaN if never).</summary>
    private static double[] CrossingTimes(double[][] trajectory, double[] s, double eta) =>
        [.. s.Select((sv, a) => Crossing(trajectory[a], sv / 2) * eta)];

    private static double Crossing(double[] u, double level)
    {
        for (int k = 1; k < u.Length; k++)
            if (u[k] >= level) return k - 1 + (level - u[k - 1]) / (u[k] - u[k - 1]);
        return double.NaN;
    }

    private static void JudgeTwoLayer(ExperimentOutput output, Setup p, List<TwoLayerRun> all)
    {
        int modes = p.S.Length;
        var points = new List<Claim>();
        var h = p.Hiddens.Select(w => (double)w).ToArray();
        var runs = all.Where(r => r.Hidden == p.Hiddens[^1]).ToList();
        for (int a = 0; a < modes; a++)
        {
            double s = p.S[a];
            double[] Ratios(int width) => [.. all.Where(r => r.Hidden == width)
                .Select(r => r.HalfTime[a] / DeepLinearModes.TwoLayerHalfTime(s, r.U0[a]))];
            var mean = p.Hiddens.Select(w => Statistics.Mean(Ratios(w))).ToArray();
            var se = p.Hiddens.Select(w => Statistics.StandardError(Ratios(w))).ToArray();
            var fit = ScalingFits.Extrapolate(h, mean, se);
            var gdShift = all.Select(r =>
                DeepLinearModes.GdHalfTime(2, s, r.U0[a], p.Lr) / DeepLinearModes.TwoLayerHalfTime(s, r.U0[a]) - 1).ToArray();
            double disc = gdShift.Max(Math.Abs);
            double shallow = runs.Average(r => Math.Log(2) / DeepLinearModes.TwoLayerHalfTime(s, r.U0[a]));
            points.Add(HalfTimes.With(("count", modes)).Compare(1, fit.A, fit.SeA, 4 * fit.SeA + disc,
                string.Create(CultureInfo.InvariantCulture,
                    $"mode s = {s}: {p.Nets} initialisations per width, ratio {mean[^1]:F5} ± {se[^1]:G2} at h = {h[^1]}; fit a + b/h " +
                    $"over h = {string.Join(", ", p.Hiddens)}: interference b = {fit.B:G3} ± {fit.SeB:G2}, reduced χ² = " +
                    $"{fit.ReducedChiSquare:G3}; GD's own shift of t½ {gdShift.Average():+0.0000;-0.0000}; tolerance 4·SE + {disc:G2}."),
                competitor: shallow));
        }
        output.Claims.Add(ScalingFits.Decisive(points));

        // Time scale t½/ln(s/u₀ − 1) against s per initialisation; the flow predicts exactly 1/(2s).
        var logS = p.S.Select(s => Math.Log(s)).ToArray();
        double[] SlopeOf(Func<int, double, double> halfTime) =>
            [.. runs.Select((r, i) => Statistics.FitLine(logS, p.S.Select((s, a) => Math.Log(halfTime(i, s) /
                Math.Log(s / r.U0[a] - 1))).ToArray(), [.. logS.Select(_ => 1.0)]).Slope)];
        var slopes = SlopeOf((i, s) => runs[i].HalfTime[Array.IndexOf(p.S, s)]);
        var gdSlopes = SlopeOf((i, s) => DeepLinearModes.GdHalfTime(2, s, runs[i].U0[Array.IndexOf(p.S, s)], p.Lr));
        double slopeSe = Statistics.StandardError(slopes);
        double slopeDisc = gdSlopes.Max(g => Math.Abs(g + 1));
        output.Claims.Add(TimeScale.With().Compare(-1, Statistics.Mean(slopes), slopeSe, 4 * slopeSe + slopeDisc,
            string.Create(CultureInfo.InvariantCulture, $"h = {p.Hiddens[^1]}: mean of {runs.Count} per-initialisation fits over s = " +
                $"{string.Join(", ", p.S)}; GD's own slope {gdSlopes.Average():F4}; tolerance 4·SE + {slopeDisc:G2}."), competitor: 0));
        output.Facts["two_layer_u0_mean"] = string.Join(", ", Enumerable.Range(0, modes).Select(a =>
            string.Create(CultureInfo.InvariantCulture, $"s={p.S[a]}: {runs.Average(r => r.U0[a]):G3}")));
    }

    private static void JudgeDepth(ExperimentOutput output, Setup p, int depth, List<(int Depth, double U0, double[] HalfTime)> runs)
    {
        var logU = runs.Select(r => Math.Log(r.U0)).ToArray();
        var ones = logU.Select(_ => 1.0).ToArray();
        double Slope(Func<int, double> halfTime) =>
            Statistics.FitLine(logU, Enumerable.Range(0, runs.Count).Select(i => Math.Log(halfTime(i))).ToArray(), ones).Slope;
        var points = new List<Claim>();
        var claim = Plateau.With(("depth", depth), ("exponent", DeepLinearModes.PlateauExponent(depth).ToString("F3",
            CultureInfo.InvariantCulture)), ("count", p.S.Length));
        for (int a = 0; a < p.S.Length; a++)
        {
            double s = p.S[a];
            double measured = Slope(i => runs[i].HalfTime[a]);
            double flow = Slope(i => DeepLinearModes.HalfTime(depth, s, runs[i].U0));
            double gd = Slope(i => DeepLinearModes.GdHalfTime(depth, s, runs[i].U0, p.DepthLr));
            double twoLayer = Slope(i => DeepLinearModes.TwoLayerHalfTime(s, runs[i].U0));
            points.Add(claim.Compare(flow, measured, 0, Math.Abs(gd - flow) + CrossingSlack, string.Create(CultureInfo.InvariantCulture,
                $"mode s = {s}: deterministic (full-batch GD from a decoupled initialisation); GD's own slope {gd:F4}, the flow's " +
                $"{flow:F4}; tolerance |GD − flow| + {CrossingSlack}."), competitor: twoLayer));
        }
        output.Claims.Add(ScalingFits.Decisive(points));
    }

    private static void Report(ExperimentOutput output, Setup p, List<TwoLayerRun> all,
        List<(int Depth, double U0, double[] HalfTime)> depthRuns)
    {
        output.Tables["two_layer"] = SeriesTable.FromRows(
            [.. Enumerable.Range(0, all.Count).SelectMany(r => p.S.Select((s, a) => (r, a, s)))],
            ("hidden", q => all[q.r].Hidden), ("net", q => q.r % p.Nets), ("s", q => q.s), ("u0_growing", q => all[q.r].U0[q.a]),
            ("half_time", q => all[q.r].HalfTime[q.a]),
            ("half_time_predicted", q => DeepLinearModes.TwoLayerHalfTime(q.s, all[q.r].U0[q.a])));
        output.Tables["depth"] = SeriesTable.FromRows([.. depthRuns.SelectMany(d => p.S.Select((s, a) => (d, a, s)))],
            ("depth", q => q.d.Depth), ("u0", q => q.d.U0), ("s", q => q.s), ("half_time", q => q.d.HalfTime[q.a]),
            ("half_time_flow", q => DeepLinearModes.HalfTime(q.d.Depth, q.s, q.d.U0)));

        var first = all.First(r => r.Hidden == p.Hiddens[^1]);
        int steps = first.Trajectory[0].Length;
        int stride = Math.Max(1, steps / 200);
        var t = Enumerable.Range(0, steps).Where(k => k % stride == 0).Select(k => k * p.Lr).ToArray();
        var series = new List<SeriesSpec>();
        for (int a = 0; a < p.S.Length; a++)
        {
            double s = p.S[a];
            series.Add(new SeriesSpec($"s = {s} measured", t, [.. t.Select(x => first.Trajectory[a][(int)Math.Round(x / p.Lr)])],
                SeriesKind.Points));
            series.Add(new SeriesSpec($"s = {s} Saxe et al.", t,
                [.. t.Select(x => DeepLinearModes.TwoLayerStrength(s, first.U0[a], x))], SeriesKind.Line, Dashed: true));
        }
        output.Plots.Add(new PlotSpec($"Two-layer mode strengths u_α(t) (h = {first.Hidden}, first initialisation)", "t / τ",
            "u_α = u_αᵀW₂W₁v_α",
            series,
            Caption: "Points: the trained network; dashed: u(t) = s/(1 + (s/u₀ − 1)e^{−2st/τ}) from each mode's growing initial " +
                "strength u₀ (Saxe et al. 2014, eq. 6)."));

        double sMid = p.S[p.S.Length / 2];
        int mid = p.S.Length / 2;
        var grid = Enumerable.Range(0, 25).Select(i => p.U0s.Min() * Math.Pow(p.U0s.Max() / p.U0s.Min(), i / 24.0)).ToArray();
        var depthSeries = new List<SeriesSpec>();
        foreach (int depth in p.Depths)
        {
            var mine = depthRuns.Where(d => d.Depth == depth).ToList();
            depthSeries.Add(new SeriesSpec($"D = {depth} measured", [.. mine.Select(d => d.U0)], [.. mine.Select(d => d.HalfTime[mid])],
                SeriesKind.Points));
            depthSeries.Add(new SeriesSpec($"D = {depth} flow", grid, [.. grid.Select(u => DeepLinearModes.HalfTime(depth, sMid, u))],
                SeriesKind.Line, Dashed: true));
        }
        depthSeries.Add(new SeriesSpec("D = 2", grid, [.. grid.Select(u => DeepLinearModes.TwoLayerHalfTime(sMid, u))], SeriesKind.Line,
            Dashed: true));
        output.Plots.Add(new PlotSpec($"Plateau length against the initial strength (mode s = {sMid})", "u₀", "t½ / τ", depthSeries,
            LogX: true, LogY: true, Caption: "Points: decoupled networks trained by GD; dashed: the flow τu̇ = D·u^{2−2/D}(s − u) " +
                "integrated exactly (Saxe et al. 2014, §3)."));
    }
}
