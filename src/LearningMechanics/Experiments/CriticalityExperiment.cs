using System.Globalization;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Theory;
using LearningMechanics.Theory.Kernels;

namespace LearningMechanics.Experiments;

/// <summary>
/// <c>criticality</c> (Poole et al. 2016; Schoenholz et al. 2017; Roberts &amp; Yaida 2022, ch. 5): two inputs at
/// correlation c₀ are propagated through deep random networks (explicit weights, batched forward pass) on and off the
/// critical line, and the measured per-layer variance q_ℓ = |z|²/n and correlation c_ℓ are compared with the
/// infinite-width recursion and with the predicted depth scale ξ_c = −1/ln χ_c. Configurations per activation:
/// critical (σ_b² = 0, σ_w² critical), ordered (σ_w² = 0.75× the critical line at σ_b² = <c>sb2</c>), and, where the
/// kernel stays finite, chaotic (1.5×). ξ_c describes the linearised approach to the fixed point, so the ordered
/// configuration starts there: input norms chosen so that K¹ = K*, input correlation 0.9, and the fit uses the layers
/// where the predicted |c_ℓ − c*| &gt; 0.01 (signal well above the O(1/n) finite-width bias).
/// </summary>
public sealed class CriticalityExperiment : IExperiment
{
    private const string MapReference = "Poole et al. 2016; Schoenholz et al. 2017; Roberts & Yaida 2022, eq. 4.118, ch. 5";

    public string Id => "criticality";
    public string Title => "Order, chaos and criticality in deep random networks";
    public string Summary =>
        "signals propagate at criticality (ReLU: q_ℓ = q₀); off it correlations converge exponentially with depth scale ξ_c = " +
            "−1/ln χ_c";
    public string Source => "Poole et al. 2016; Schoenholz et al. 2017; Roberts & Yaida 2022, ch. 5 (eqs. 5.50–5.51)";

    public IReadOnlyList<SettingInfo> Settings { get; } =
    [
        new("width", "hidden width n", "512", "2048"),
        new("depth", "hidden layers L", "30", "64"),
        new("nets", "networks per configuration", "40", "200"),
        new("acts", "activations", "relu,tanh", "relu,tanh,erf"),
        new("sb2", "σ_b² of the ordered and chaotic configurations", "0.2", "0.2"),
        new("c0", "input correlation", "0.3", "0.3"),
    ];

    private static readonly ClaimDeclaration CorrelationMap = new("correlation-map-{act}-{config}",
        "{act}, {config} (σ_b² = {sb2:G3}, σ_w² = {sw2:G4}): layer-by-layer input correlation c_ℓ follows the NNGP recursion",
        MapReference, ClaimRule.TwoSided,
        "4·SE + model error ℓ/n·|c| (the O(1/n) correction) at the layer furthest beyond it, among the layers that rule out the " +
            "competitor")
    {
        Competitor = "no propagation: the correlation stays at its input value, c_ℓ = c₀",
    };

    private static readonly ClaimDeclaration VariancePreserved = new("variance-preserved-{act}",
        "{act} at criticality: the preactivation variance is preserved with depth, q_ℓ = q₁",
        "He et al. 2015; Roberts & Yaida 2022, §5.2", ClaimRule.TwoSided,
        "4·SE at the layer furthest from q₁ in SE (exact at any width for ReLU-like φ), among the layers that rule out the competitor")
    {
        Competitor = "the linear network's variance map q_ℓ = σ_w²^(ℓ−1)·q₁ (no halving by the rectifier)",
    };

    private static readonly ClaimDeclaration VarianceDecay = new("variance-decay-{act}",
        "{act} at criticality (K* = 0 class, σ_b² = 0): the preactivation variance follows the NNGP map, falling as " +
            "q_ℓ ≈ 1/((−a₁)ℓ) instead of staying put", "Roberts & Yaida 2022, §5.3.3, eq. 5.92", ClaimRule.TwoSided,
        "4·SE + model error ℓ/n·q_ℓ (the O(1/n) correction) at the layer furthest beyond it, among the layers that rule out the " +
            "competitor")
    {
        Competitor = "the scale-invariant class's behaviour at criticality: the variance is preserved, q_ℓ = q₁",
    };

    private static readonly ClaimDeclaration DepthScale = new("depth-scale-{act}-ordered",
        "{act}, ordered (χ_c = {chi_c:G4}): |c_ℓ − c*| decays exponentially with the depth scale of the predicted correlation map",
        MapReference, ClaimRule.TwoSided, "max(4·SE, 10 % of the predicted depth scale), as in docs/claims.md, criticality")
    {
        Competitor = "correlations converge on the variance map's depth scale ξ∥ = −1/ln χ∥ (Schoenholz et al. 2017 show that " +
            "ξ_c and the variance depth scale differ; for ReLU-like φ they coincide with the asymptote −1/ln χ_c)",
    };

    private static readonly ClaimDeclaration ChaoticFixedPoint = new("chaotic-fixed-point-{act}",
        "{act}, chaotic (χ⊥ = {chi_perp:G4} > 1): correlations converge to c* < 1",
        MapReference, ClaimRule.TwoSided, "4·SE + model error L/n·|c*| at the last layer")
    {
        Competitor = "the ordered phase's fixed point c* = 1 (inputs collapse)",
    };

    public IReadOnlyList<ClaimDeclaration> Claims { get; } =
        [CorrelationMap, VariancePreserved, VarianceDecay, DepthScale, ChaoticFixedPoint];

    public void Validate(Settings settings) => Setup.From(settings);

    /// <summary>Per configuration (at most 3 per activation: critical, ordered, chaotic) and network: drawing the weights and
    /// propagating two inputs (d = 16); per layer and network two values (q, c) are kept, and each thread holds a network and
    /// its workspace.</summary>
    public ResourceEstimate? Estimate(Settings settings)
    {
        var p = Setup.From(settings);
        double w = WorkEstimate.MlpWeights(16, p.Width, p.Depth);
        double configs = 3.0 * p.Acts.Length;
        double flops = configs * p.Nets * (WorkEstimate.Draw(w) + WorkEstimate.Forward(w, 2) + 6.0 * p.Width * p.Depth);
        double bytes = 2 * WorkEstimate.Float64 * p.Depth * (double)p.Nets
            + WorkEstimate.Threads * (WorkEstimate.Float64 * w + WorkEstimate.Activations((double)p.Width * p.Depth, 2));
        return new ResourceEstimate(flops, bytes);
    }

    /// <summary>Input correlation of the ordered configuration (close to its fixed point c* = 1, inputs at |x|² = K*).</summary>
    private const double OrderedInputCorrelation = 0.9;

    private sealed record Setup(int Width, int Depth, int Nets, double Sb2, double C0, Activation[] Acts)
    {
        public static Setup From(Settings s)
        {
            int width = s.GetInt("width", 2);
            int depth = s.GetInt("depth", 2);
            int nets = s.GetInt("nets", 5);
            double sb2 = s.GetDouble("sb2", 1e-6);
            double c0 = s.GetDouble("c0", -0.99);
            if (c0 > 0.99) throw new BadInputException($"Setting c0={c0} must be in [−0.99, 0.99].");
            return new Setup(width, depth, nets, sb2, c0, s.GetList("acts").Select(Activation.Parse).ToArray());
        }
    }

    private sealed record Config(string Activation, string Name, double Sb2, double Sw2, CriticalityPoint Theory);

    private sealed record LayerStats(double[] Q, double[] QSe, double[] C, double[] CSe, double[] QPred, double[] CPred, double CInput);

    public ExperimentOutput Run(RunContext ctx)
    {
        var p = Setup.From(ctx.Settings);
        var output = new ExperimentOutput();
        var configs = Predict(p);
        foreach (var cfg in configs)
            output.Facts[$"{cfg.Activation}.{cfg.Name}"] = string.Create(CultureInfo.InvariantCulture,
                $"σ_b²={cfg.Sb2:G4}, σ_w²={cfg.Sw2:G6}, K*={cfg.Theory.KStar:G4}, χ⊥={cfg.Theory.ChiPerp:G4}, " +
                $"c*={cfg.Theory.CStar:G4}, ξ_c={cfg.Theory.DepthCorrelation:G4}");
        var stats = Measure(ctx, p, configs);
        foreach (var cfg in configs) Judge(output, cfg, stats[cfg], p.Width, p.Depth);
        Report(output, configs, stats, p.Depth);
        return output;
    }

    /// <summary>The configurations per activation with their infinite-width fixed points, χ's and depth scales.</summary>
    private static List<Config> Predict(Setup p)
    {
        var configs = new List<Config>();
        foreach (var act in p.Acts)
        {
            double wc = Criticality.CriticalWeightVariance(act);
            configs.Add(new Config(act.Name, "critical", 0, wc, Criticality.Analyse(new(act, wc, 0))));
            double line = Criticality.CriticalWeightVariance(act, p.Sb2)
                ?? throw new BadInputException($"{act.Name} has no critical line at σ_b² = {p.Sb2}; choose another sb2.");
            configs.Add(new Config(act.Name, "ordered", p.Sb2, 0.75 * line, Criticality.Analyse(new(act, 0.75 * line, p.Sb2))));
            var chaotic = Criticality.Analyse(new(act, 1.5 * line, p.Sb2));
            if (chaotic.KStar is not null) configs.Add(new Config(act.Name, "chaotic", p.Sb2, 1.5 * line, chaotic));
        }
        return configs;
    }

    /// <summary>Two inputs at correlation c (on the sphere |x|² = d, rescaled so that K¹ = K* when asked).</summary>
    private static Matrix TwoInputs(double c, double? kOne, Config cfg)
    {
        var x = new Matrix(2, 16);
        x[0, 0] = 1;
        x[1, 0] = c;
        x[1, 1] = Math.Sqrt(1 - c * c);
        x = Inputs.ToSphere(x);
        if (kOne is { } k && k > cfg.Sb2) for (int i = 0; i < x.Data.Length; i++) x.Data[i] *= Math.Sqrt((k - cfg.Sb2) / cfg.Sw2);
        return x;
    }

    private static Dictionary<Config, LayerStats> Measure(RunContext ctx, Setup p, List<Config> configs)
    {
        var root = new Rng(ctx.Seed);
        var stats = new Dictionary<Config, LayerStats>();
        long done = 0;
        long total = (long)configs.Count * p.Nets;
        for (int ci = 0; ci < configs.Count; ci++)
        {
            var cfg = configs[ci];
            var spec = new MlpSpec(16, p.Width, p.Depth, Activation.Parse(cfg.Activation), cfg.Sw2, cfg.Sb2);
            double cInput = cfg.Name == "ordered" ? OrderedInputCorrelation : p.C0;
            var x = cfg.Name == "ordered" ? TwoInputs(cInput, cfg.Theory.KStar, cfg) : TwoInputs(cInput, null, cfg);
            var predicted = NeuralKernels.PerLayer(spec.ToNetworkSpec(), x).Select(k => k.Nngp).ToArray();
            var q = new double[p.Depth][];
            var c = new double[p.Depth][];
            for (int l = 0; l < p.Depth; l++)
            {
                q[l] = new double[p.Nets];
                c[l] = new double[p.Nets];
            }
            Propagate(ctx, spec, x, root, (ulong)ci, q, c, () => ctx.Progress?.Report(
                new ProgressInfo($"{cfg.Activation} {cfg.Name}", Interlocked.Increment(ref done), total)));
            stats[cfg] = new LayerStats(
                q.Select(v => Statistics.Mean(v)).ToArray(), q.Select(v => Statistics.StandardError(v)).ToArray(),
                c.Select(v => Statistics.Mean(v)).ToArray(), c.Select(v => Statistics.StandardError(v)).ToArray(),
                Enumerable.Range(0, p.Depth).Select(l => predicted[l][0, 0]).ToArray(),
                Enumerable.Range(0, p.Depth)
                    .Select(l => predicted[l][0, 1] / Math.Sqrt(predicted[l][0, 0] * predicted[l][1, 1])).ToArray(), cInput);
        }
        return stats;
    }

    /// <summary>Per-layer q = |z|²/n of input 0 and the correlation c of the two inputs in each of the networks.</summary>
    private static void Propagate(RunContext ctx, MlpSpec spec, Matrix x, Rng root, ulong config, double[][] q, double[][] c,
        Action netDone)
    {
        int width = spec.Width;
        Blas.SingleThreaded(() => Parallel.For(0, q[0].Length, new ParallelOptions { CancellationToken = ctx.Cancellation },
            () => (Net: new Mlp(spec), Ws: (Mlp.Workspace?)null),
            (i, _, local) =>
            {
                var ws = local.Ws ?? local.Net.CreateWorkspace(2);
                local.Net.Initialize(root.Split((ulong)i, config));
                local.Net.Forward(x, ws);
                for (int l = 0; l < q.Length; l++)
                {
                    var z = ws.Pre[l];
                    double a = 0;
                    double b = 0;
                    double ab = 0;
                    for (int j = 0; j < width; j++)
                    {
                        a += z[0, j] * z[0, j];
                        b += z[1, j] * z[1, j];
                        ab += z[0, j] * z[1, j];
                    }
                    q[l][i] = a / width;
                    c[l][i] = ab / Math.Sqrt(a * b);
                }
                netDone();
                return (local.Net, ws);
            }, _ => { }));
    }

    private static void Judge(ExperimentOutput output, Config cfg, LayerStats st, int width, int depth)
    {
        // At criticality the K* = 0 class moves correlations only as a power of ℓ (δK⊥ ∝ ℓ^(−b₁/a₁), Roberts & Yaida 2022,
        // eq. 5.99): for tanh 0.3 → 0.26 over 30 layers, which a few dozen networks cannot tell from c₀. Its critical
        // signature is the variance decay instead.
        bool decaying = cfg.Name == "critical" && cfg.Theory.KStar == 0;
        if (!decaying) output.Claims.Add(CorrelationMapClaim(cfg, st, width, depth));
        if (decaying)
        {
            var claim = VarianceDecay.With(("act", cfg.Activation));
            output.Claims.Add(ScalingFits.Decisive(Enumerable.Range(0, depth).Select(l =>
            {
                double m = (l + 1.0) / width * st.QPred[l];
                return claim.Compare(st.QPred[l], st.Q[l], st.QSe[l], 4 * st.QSe[l] + m,
                    $"layer ℓ = {l + 1} of {depth}; tolerance 4·SE + model error ℓ/n·q = {m:G3}.", competitor: st.QPred[0]);
            }).ToList()));
        }
        if (cfg.Name == "critical" && cfg.Theory.KStar is > 0)
        {
            // Scale-invariant class at criticality: E[q_ℓ] = q₀ exactly at any width (E[relu(z)²] = E[z²]/2 for symmetric z).
            var claim = VariancePreserved.With(("act", cfg.Activation));
            output.Claims.Add(ScalingFits.Decisive(Enumerable.Range(0, depth).Select(l => claim.Compare(st.QPred[0], st.Q[l], st.QSe[l],
                4 * st.QSe[l], $"layer ℓ = {l + 1} of {depth}; exact at any width for ReLU-like φ, tolerance 4·SE.",
                competitor: st.QPred[0] * Math.Pow(cfg.Sw2, l))).ToList()));
        }
        if (cfg.Name == "ordered") output.Claims.Add(DepthScaleClaim(cfg, st, depth));
        if (cfg.Name == "chaotic")
        {
            double model = (double)depth / width * Math.Abs(cfg.Theory.CStar);
            output.Claims.Add(ChaoticFixedPoint.With(("act", cfg.Activation), ("chi_perp", cfg.Theory.ChiPerp))
                .Compare(cfg.Theory.CStar, st.C[^1], st.CSe[^1], 4 * st.CSe[^1] + model,
                    $"at ℓ = {depth}; tolerance 4·SE + model error L/n·|c*| = {model:G3}.", competitor: 1));
        }
    }

    /// <summary>
    /// The measured per-layer correlation follows the infinite-width map; model error ℓ/n·|c| for the O(1/n) finite-width
    /// correction of Roberts &amp; Yaida 2022, §5.4 (it grows with depth ℓ).
    /// </summary>
    private static Claim CorrelationMapClaim(Config cfg, LayerStats st, int width, int depth)
    {
        var claim = CorrelationMap.With(("act", cfg.Activation), ("config", cfg.Name), ("sb2", cfg.Sb2), ("sw2", cfg.Sw2));
        return ScalingFits.Decisive(Enumerable.Range(0, depth).Select(l =>
        {
            double m = (l + 1.0) / width * Math.Abs(st.CPred[l]);
            return claim.Compare(st.CPred[l], st.C[l], st.CSe[l], 4 * st.CSe[l] + m,
                $"layer ℓ = {l + 1} of {depth}; tolerance 4·SE + model error ℓ/n·|c| = {m:G3}.", competitor: st.CInput);
        }).ToList());
    }

    /// <summary>
    /// Depth scale: |c_ℓ − c*| ∝ exp(−ℓ/ξ_c), fitted where the predicted |Δc| &gt; 0.01 and the measured one exceeds 5 SE.
    /// ln|c_ℓ − c*| against ℓ, weighted by σ_ln = SE/|Δc|: the slope is −1/ξ. The same fit on the predicted map over the
    /// same layers gives the prediction; −1/ln χ_c is its asymptote (checked in the unit tests), reached only for |Δc| → 0,
    /// which for ReLU (a (1 − c)^{3/2} term in the arc-cosine map) lies below the finite-width bias.
    /// </summary>
    private static Claim DepthScaleClaim(Config cfg, LayerStats st, int depth)
    {
        double cStar = cfg.Theory.CStar;
        double xi = cfg.Theory.DepthCorrelation;
        double xiParallel = cfg.Theory.DepthParallel;
        var claim = DepthScale.With(("act", cfg.Activation), ("chi_c", cfg.Theory.ChiC));
        var pts = Enumerable.Range(0, depth)
            .Where(l => Math.Abs(st.C[l] - cStar) > 5 * st.CSe[l] && Math.Abs(st.CPred[l] - cStar) > 0.01).ToList();
        if (pts.Count < 3)
            return claim.Inconclusive(xi, $"Only {pts.Count} layers have |c_ℓ − c*| above 5 SE; use more networks or a smaller depth.");
        double[] layersFit = pts.Select(l => l + 1.0).ToArray();
        double[] sigma = pts.Select(l => st.CSe[l] / Math.Abs(st.C[l] - cStar)).ToArray();
        var fit = Statistics.FitLine(layersFit, pts.Select(l => Math.Log(Math.Abs(st.C[l] - cStar))).ToArray(), sigma);
        var fitPred = Statistics.FitLine(layersFit, pts.Select(l => Math.Log(Math.Abs(st.CPred[l] - cStar))).ToArray(), sigma);
        double xiMeas = -1 / fit.Slope;
        double xiSe = fit.SlopeStdErr / (fit.Slope * fit.Slope);
        double xiPred = -1 / fitPred.Slope;
        return claim.Compare(xiPred, xiMeas, xiSe, Math.Max(4 * xiSe, 0.1 * xiPred),
            $"weighted fit of ln|c_ℓ − c*| over {pts.Count} layers ({pts.Min() + 1}…{pts.Max() + 1}), the same fit on the " +
            $"predicted map gives {xiPred:G4}; asymptotic ξ_c = −1/ln χ_c = {xi:G4}; variance depth scale ξ∥ = " +
            $"{xiParallel:G4}. Tolerance max(4·SE, 10 %) (docs/claims.md, criticality).",
            competitor: xiParallel);
    }

    private static void Report(ExperimentOutput output, List<Config> configs, Dictionary<Config, LayerStats> stats, int depth)
    {
        var layers = Enumerable.Range(1, depth).Select(l => (double)l).ToArray();
        var rows = configs.SelectMany(cfg => Enumerable.Range(0, depth).Select(l => (Cfg: cfg, St: stats[cfg], L: l))).ToList();
        output.Tables["layers"] = SeriesTable.FromRows(rows, ("activation", r => r.Cfg.Activation), ("config", r => r.Cfg.Name),
            ("layer", r => r.L + 1), ("q", r => r.St.Q[r.L]), ("q_stderr", r => r.St.QSe[r.L]), ("q_predicted", r => r.St.QPred[r.L]),
            ("c", r => r.St.C[r.L]), ("c_stderr", r => r.St.CSe[r.L]), ("c_predicted", r => r.St.CPred[r.L]));
        foreach (var act in configs.Select(c => c.Activation).Distinct())
        {
            var mine = configs.Where(c => c.Activation == act).ToList();
            var cs = mine.SelectMany(cfg => new[]
            {
                new SeriesSpec($"{cfg.Name} measured", layers, stats[cfg].C, SeriesKind.Points, stats[cfg].CSe),
                new SeriesSpec($"{cfg.Name} predicted", layers, stats[cfg].CPred, SeriesKind.Line),
            }).ToList();
            output.Plots.Add(new PlotSpec($"{act}: correlation of two inputs vs depth", "layer ℓ", "c_ℓ", cs,
                Caption: "Points: mean over random networks ± SE; lines: the infinite-width correlation map."));
            var qs = mine.SelectMany(cfg => new[]
            {
                new SeriesSpec($"{cfg.Name} measured", layers, stats[cfg].Q, SeriesKind.Points, stats[cfg].QSe),
                new SeriesSpec($"{cfg.Name} predicted", layers, stats[cfg].QPred, SeriesKind.Line),
            }).ToList();
            output.Plots.Add(new PlotSpec($"{act}: preactivation variance vs depth", "layer ℓ", "q_ℓ = |z|²/n", qs, LogY: true,
                Caption: "At criticality ReLU keeps q constant and tanh decays as 1/(2ℓ) towards K* = 0 " +
                    "(Roberts & Yaida 2022, eq. 5.92)."));
        }
    }
}
