using System.Diagnostics;
using System.Globalization;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab;
using LearningMechanics.Measurement.Ensembles;
using LearningMechanics.Numerics;
using LearningMechanics.Theory;
using LearningMechanics.Theory.FiniteWidth;
using LearningMechanics.Theory.Kernels;

namespace LearningMechanics.Experiments;

/// <summary>
/// <c>gp-limit</c> (docs/claims.md, gp-limit; Neal 1996; Lee et al. 2018): ensembles of independently initialised
/// finite MLPs against the NNGP kernel.
///
/// Measurement. For every ensemble member the hidden layers are real networks (explicit Gaussian weights, batched
/// GEMM forward pass). Given the last hidden layer φ(z^ℓ), the readout z = (σ_w/√n)·w·φ + σ_b·b is exactly Gaussian
/// with covariance K̂(x, x′) = σ_b² + σ_w²·φ(z^ℓ(x))·φ(z^ℓ(x′))/n ("conditional kernel"). Hence E[z z′] = E[K̂] and
/// E[z⁴] = 3·E[K̂²] exactly, and averaging K̂ instead of z z′ (Rao–Blackwellisation) measures covariance and
/// kurtosis with far smaller error at the same ensemble size; it also gives every depth ℓ ≤ L from one network.
/// The sampled outputs z themselves feed the normality test.
///
/// Predictions. (a) E[K̂] → K_NNGP with an O(1/n) correction (Lee et al. 2018; Roberts &amp; Yaida 2022, eq. 4.118
/// and the 1/n metric correction of §4.5): fitted as (E[K̂] − K)/√(KK) = a + b/n + c/n², claim a = 0. (b) excess
/// kurtosis ∝ 1/n at fixed depth (Roberts &amp; Yaida 2022, §4.3, §5.4). (c) exact finite-n kurtosis where it is
/// known in closed form: one hidden layer, any φ: κ = 3σ_w⁴·Var[φ(z)²]/(n·(σ_b² + σ_w²E[φ²])²); scale-invariant φ
/// with σ_b = 0 (ReLU, linear), any depth ℓ: κ = 3·((1 + (A₄/A₂² − 1)/n)^ℓ − 1), A_p = E[φ(z)^p] at unit variance
/// (the deep linear case is Roberts &amp; Yaida 2022, eq. 3.25; ReLU: 1 + 5/n). (d) at the largest width the output
/// is N(0, K_NNGP): Anderson–Darling not rejected at the 4σ two-sided false-rejection rate 6.3e-5.
///
/// Competitors. The covariance and normality claims are judged against the kernel of the linear network with the same
/// σ_w², σ_b² (no nonlinearity); the 1/n claims against no correction (G¹ = 0, κ = 0) and a 1/√n rate. Every activation
/// is sampled from its own random stream, so the claims of different activations are independent.
/// </summary>
public sealed class GpLimitExperiment : IExperiment
{
    private const string Reference = "Neal 1996; Lee et al. 2018; Roberts & Yaida 2022, ch. 4–5";

    public string Id => "gp-limit";
    public string Title => "Random networks are Gaussian processes at infinite width";
    public string Summary =>
        "random MLP outputs become Gaussian with covariance = NNGP kernel; kernel error and excess kurtosis shrink ∝ 1/n";
    public string Source => Reference;

    public IReadOnlyList<SettingInfo> Settings { get; } =
    [
        new("widths", "hidden widths n of the ensembles", "8,16,32,64,128,256,512,1024", "8,16,32,64,128,256,512,1024,2048"),
        new("depth", "hidden layers L (every depth 1…L is measured)", "3", "4"),
        new("nets", "networks per width", "3000", "10000"),
        new("acts", "activations (differentiable: the kurtosis claims need χ∥)", "relu,erf,tanh",
            "relu,leaky_relu(0.1),abs,erf,sin,cos,linear,tanh"),
        new("d", "input dimension", "16", "16"),
        new("sw2", "σ_w², or 'critical' for each activation's critical value at σ_b² = 0 (1 where it has " +
            "none)", "critical", "critical"),
        new("sb2", "σ_b²", "0", "0"),
        new("fit_min", "smallest width used in the 1/n fits", "32", "32"),
        new("nlo_widths", "widths of the NLO-metric fit (exact Gaussian-chain draws of the output variance)", "16,32,64,128,256",
            "16,32,64,128,256,512"),
        new("nlo_nets", "draws per width of the NLO-metric fit", "250000", "500000"),
    ];

    private static readonly ClaimDeclaration Covariance = new("cov-{act}",
        "{act}, depth {depth}: ensemble covariance → NNGP kernel; (Ĉ − K)/√(KK) = a + b/n + c/n² with a = 0 (worst input pair " +
            "shown)",
        "Lee et al. 2018; Roberts & Yaida 2022, eq. 4.118", ClaimRule.TwoSided,
        "4·SE of the fitted intercept a; the input pair furthest from its prediction in SE is shown")
    {
        Competitor = "the covariance is the linear network's kernel K_lin (same σ_w², σ_b², no nonlinearity): a = (K_lin − " +
            "K)/√(KK)",
    };

    private static readonly ClaimDeclaration NloMetric = new("nlo-metric-{act}",
        "{act}, depth {depth}: the O(1/n) shift of the output variance is the NLO metric, E[K̂] = K + G¹/n",
        "Roberts & Yaida 2022, eqs. 5.110–5.111", ClaimRule.TwoSided, "4·SE of the fitted 1/n coefficient b")
    {
        Competitor = "no 1/n correction of the variance (b = 0). Claimed only where G¹ ≠ 0: for ReLU-like φ at σ_b² = 0, " +
            "E[K̂] = K exactly at every width, the prediction is the null itself and is reported as a fact",
    };

    private static readonly ClaimDeclaration KurtosisSlope = new("kurtosis-slope-{act}",
        "{act}, depth {depth}: output excess kurtosis decays as 1/n (log–log slope −1)",
        "Roberts & Yaida 2022, §4.3, §5.4 (κ ∝ ℓ/n)", ClaimRule.TwoSided,
        "4·SE of the slope + (L−1)/n_min, the relative size of the next (ℓ/n)² term at the smallest fitted width")
    {
        Competitor = "a 1/√n decay (slope −1/2)",
    };

    private static readonly ClaimDeclaration KurtosisExact = new("kurtosis-exact-{act}",
        "{act}: output excess kurtosis equals its exact finite-width value at every width ≥ fit_min and depth where one is known " +
        "(below it K̂ is so heavy-tailed that the delta-method SE of κ̂ from a few thousand networks is unreliable)",
        "Roberts & Yaida 2022, §4.2 (one hidden layer), eq. 3.25 (deep linear; (1 + 5/n)^ℓ for ReLU)", ClaimRule.TwoSided,
        "4·SE + 1e-12 (rounding) at the (depth, width) point furthest from its prediction in SE, among the points that rule out "
        + "the Gaussian competitor (a failing point always decides)")
    {
        Competitor = "Gaussian output at every finite width (κ = 0)",
    };

    private static readonly ClaimDeclaration Normality = new("normal-{act}",
        "{act}, depth {depth}, width {width}: output at x0 ~ N(0, K_NNGP) (Anderson–Darling, 4σ two-sided false-rejection rate)",
        "Neal 1996; Lee et al. 2018", ClaimRule.TwoSided,
        "A² at most its critical value at the 4σ two-sided false-rejection rate 6.3e-5: predicted E[A²] = 1 under the null, "
        + "tolerance = critical value − 1")
    {
        Competitor = "Gaussian with the variance of the linear network's kernel K_lin(x0, x0) (no nonlinearity): E[A²] from theory",
    };

    public IReadOnlyList<ClaimDeclaration> Claims { get; } = [Covariance, NloMetric, KurtosisSlope, KurtosisExact, Normality];

    public void Validate(Settings settings) => Setup.From(settings);

    /// <summary>Random stream of the probe inputs (the ensembles use the root's other streams).</summary>
    private const ulong InputStream = ulong.MaxValue;

    /// <summary>Random streams of the ensembles: activation a uses root.Split(EnsembleStream + a).</summary>
    private const ulong EnsembleStream = 1UL << 40;

    /// <summary>Random streams of the NLO-metric draws: activation a, width index w uses root.Split(NloStream + a, w).</summary>
    private const ulong NloStream = 1UL << 41;

    private static readonly (int I, int J)[] Pairs = ConditionalKernelEnsemble.Pairs(4);

    private static readonly string[] InputNames = ["x0", "x1 (cos 0.95)", "x2 (⊥ x0)", "x3 = −x0"];

    private sealed record Setup(int[] Widths, int Depth, int Nets, int D, int FitMin, Activation[] Acts, MlpSpec[] Specs,
        int[] NloWidths, int NloNets)
    {
        public static Setup From(Settings s)
        {
            int[] widths = s.GetIntList("widths").Distinct().Order().ToArray();
            int depth = s.GetInt("depth", 1);
            int nets = s.GetInt("nets", 20);
            int d = s.GetInt("d", 2);
            int fitMin = s.GetInt("fit_min", 1);
            double sb2 = s.GetDouble("sb2", 0);
            var acts = s.GetList("acts").Select(Activation.Parse).ToArray();
            if (acts.Length == 0) throw new BadInputException($"Setting acts is empty. Allowed: {string.Join(", ", Activation.Names)}.");
            var specs = acts.Select(a => new MlpSpec(d, widths[0], depth, a, WeightVariance(s.GetString("sw2"), a), sb2).Validated())
                .ToArray();
            return new Setup(widths, depth, nets, d, fitMin, acts, specs, NloWidthsOf(s), s.GetInt("nlo_nets", 1000));
        }
    }

    private static int[] NloWidthsOf(Settings s) => s.GetIntList("nlo_widths", 3).Distinct().Order().ToArray();

    /// <summary>
    /// Per activation, width and network: drawing the weights and propagating the 4 probe inputs (d·n + (L − 1)·n² + n
    /// weights), with the conditional kernels of every depth kept ((10·L + 1)·nets values per width) and one network and
    /// workspace per thread; then the NLO fit's exact chain, ≈ 40 operations per neuron, layer and draw.
    /// </summary>
    public ResourceEstimate? Estimate(Settings settings)
    {
        var p = Setup.From(settings);
        double nets = p.Nets;
        double flops = nets * p.Acts.Length * p.Widths.Sum(n =>
        {
            double w = WorkEstimate.MlpWeights(p.D, n, p.Depth);
            return WorkEstimate.Draw(w) + WorkEstimate.Forward(w, 4);
        });
        flops += 40.0 * p.Acts.Length * p.NloNets * p.Depth * p.NloWidths.Sum(n => (double)n);
        double widest = p.Widths[^1];
        double bytes = WorkEstimate.Float64 * p.Acts.Length * p.Widths.Length * (Pairs.Length * p.Depth + 1.0) * nets
            + WorkEstimate.Threads * (WorkEstimate.Float64 * WorkEstimate.MlpWeights(p.D, widest, p.Depth)
                + WorkEstimate.Activations(widest * p.Depth, 4))
            + WorkEstimate.Matrix(4, p.D) + WorkEstimate.Float64 * p.NloNets;
        return new ResourceEstimate(flops, bytes);
    }

    private sealed record CovarianceRow(string Act, int Depth, int Width, int I, int J, double K, double Mean, double Se);

    private sealed record KurtosisRow(string Act, int Depth, int Width, double Kappa, double Se, double Exact);

    public ExperimentOutput Run(RunContext ctx)
    {
        var p = Setup.From(ctx.Settings);
        var output = new ExperimentOutput();
        var root = new Rng(ctx.Seed);
        var x = Inputs.ProbeSet(p.D, root.Split(InputStream));
        output.Facts["inputs"] = "x0 random on the sphere |x|² = d; x1 at cosine 0.95 to x0; x2 orthogonal to x0; x3 = −x0";
        output.Facts["blas"] = Blas.Backend;
        for (int a = 0; a < p.Acts.Length; a++)
            output.Facts[$"sigma_w2.{p.Acts[a].Name}"] = p.Specs[a].Sw2.ToString("R", CultureInfo.InvariantCulture);

        var clock = Stopwatch.StartNew();
        var theory = p.Specs.Select(sp => Nngp.Layers(sp, x)).ToArray();   // theory[a][ℓ] = kernel after ℓ hidden layers
        var linear = p.Specs.Select(sp => Nngp.Layers(sp with { Activation = new Linear() }, x)[p.Depth]).ToArray();
        output.Timings["theory_s"] = clock.Elapsed.TotalSeconds;

        clock.Restart();
        // sims[a][w]: every activation from its own stream, so its claims are independent of the others'.
        var sims = p.Specs.Select((sp, a) => ConditionalKernelEnsemble.Sample([sp], p.Widths, p.Nets, x,
            root.Split(EnsembleStream + (ulong)a), progress: ctx.Progress, cancellation: ctx.Cancellation)).ToArray();
        output.Timings["simulation_s"] = clock.Elapsed.TotalSeconds;

        clock.Restart();
        var (cov, kurt) = Measure(p, theory, sims);
        Judge(output, p, theory, linear, sims, cov, kurt);
        Report(output, p, theory, sims, cov, kurt);
        output.Timings["analysis_s"] = clock.Elapsed.TotalSeconds;

        clock.Restart();
        for (int a = 0; a < p.Acts.Length; a++) NloMetricClaim(ctx, output, p.Specs[a], root.Split(NloStream + (ulong)a));
        output.Timings["nlo_metric_s"] = clock.Elapsed.TotalSeconds;
        return output;
    }

    private static double WeightVariance(string setting, Activation act)
    {
        if (string.Equals(setting, "critical", StringComparison.OrdinalIgnoreCase))
            return Criticality.TryCriticalWeightVariance(act) ?? 1.0;
        if (double.TryParse(setting, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && double.IsFinite(v))
            return v;
        throw new BadInputException($"Setting sw2='{setting}' must be a positive number or 'critical'.");
    }

    /// <summary>
    /// Exact finite-width excess kurtosis of the depth-ℓ output where a closed form exists, else null: scale-invariant φ
    /// with σ_b² = 0 at any depth; any φ at one hidden layer, where the four-point vertex V^{(2)} (Roberts &amp; Yaida 2022, eq. 5.109)
    /// is exact because the first layer's preactivations are exactly Gaussian.
    /// </summary>
    internal static double? ExactKurtosis(MlpSpec spec, Matrix k1, int ell, int n)
    {
        var act = spec.Activation;
        if (act.IsScaleInvariant && spec.Sb2 == 0)
        {
            double r = act.Moment(4, 1) / Math.Pow(act.Moment(2, 1), 2);
            return 3 * (Math.Pow(1 + (r - 1) / n, ell) - 1);
        }
        if (ell != 1) return null;
        double inputNorm = (k1[0, 0] - spec.Sb2) / spec.Sw2;   // x·x/d of input 0
        return FourPointVertex.SingleInput(new(act, spec.Sw2, spec.Sb2), inputNorm, 2)[1].ExcessKurtosis(n);
    }

    /// <summary>Covariance (every input pair) and output kurtosis (input 0) per activation, width and depth.</summary>
    private static (List<CovarianceRow> Cov, List<KurtosisRow> Kurt) Measure(Setup p, Matrix[][] theory, WidthDraws[][] sims)
    {
        var cov = new List<CovarianceRow>();
        var kurt = new List<KurtosisRow>();
        for (int a = 0; a < p.Acts.Length; a++)
            foreach (var sim in sims[a])
                for (int l = 1; l <= p.Depth; l++)
                {
                    var kth = theory[a][l];
                    for (int q = 0; q < Pairs.Length; q++)
                    {
                        var draws = sim.Kc[0][l - 1][q];
                        cov.Add(new(p.Acts[a].Name, l, sim.Width, Pairs[q].I, Pairs[q].J, kth[Pairs[q].I, Pairs[q].J],
                            Statistics.Mean(draws), Statistics.StandardError(draws)));
                    }
                    var (kappa, se) = ConditionalKernelEnsemble.Kurtosis(sim.Kc[0][l - 1][0]);
                    double exact = ExactKurtosis(p.Specs[a], theory[a][0], l, sim.Width) ?? double.NaN;
                    kurt.Add(new(p.Acts[a].Name, l, sim.Width, kappa, se, exact));
                }
        return (cov, kurt);
    }

    private static void Judge(ExperimentOutput output, Setup p, Matrix[][] theory, Matrix[] linear, WidthDraws[][] sims,
        List<CovarianceRow> cov, List<KurtosisRow> kurt)
    {
        for (int a = 0; a < p.Acts.Length; a++)
        {
            string name = p.Acts[a].Name;
            var kOut = theory[a][p.Depth];
            var atDepth = cov.Where(r => r.Act == name && r.Depth == p.Depth && r.Width >= p.FitMin).ToList();
            output.Claims.Add(CovarianceClaim(p, name, kOut, linear[a], atDepth));
            var fitRows = kurt.Where(r => r.Act == name && r.Depth == p.Depth && r.Width >= p.FitMin).ToList();
            output.Claims.Add(ScalingFits.Slope(KurtosisSlope.With(("act", name), ("depth", p.Depth)),
                fitRows.Select(r => (double)r.Width).ToArray(), fitRows.Select(r => r.Kappa).ToArray(), fitRows.Select(r => r.Se).ToArray(),
                -1, (p.Depth - 1) / (double)p.FitMin,
                "(L−1)/n_min, the relative size of the next (ℓ/n)² term at the smallest fitted width", competitor: -0.5));
            output.Claims.Add(ExactKurtosisClaim(name,
                kurt.Where(r => r.Act == name && double.IsFinite(r.Exact) && r.Width >= p.FitMin).ToList()));
            output.Claims.Add(NormalityClaim(p, name, sims[a][^1].Z[0], Math.Sqrt(kOut[0, 0]), Math.Sqrt(linear[a][0, 0])));
        }
    }

    /// <summary>(a) Covariance → NNGP: the intercept of the 1/n fit, the input pair furthest from 0 in SE.</summary>
    private static Claim CovarianceClaim(Setup p, string act, Matrix kOut, Matrix kLinear, List<CovarianceRow> atDepth) =>
        ScalingFits.Decisive(Pairs.Select(pair =>
        {
            var (i, j) = pair;
            var rows = atDepth.Where(r => r.I == i && r.J == j).ToList();
            double norm = Math.Sqrt(kOut[i, i] * kOut[j, j]);
            return ScalingFits.Intercept(Covariance.With(("act", act), ("depth", p.Depth)), rows.Select(r => (double)r.Width).ToArray(),
                rows.Select(r => (r.Mean - r.K) / norm).ToArray(), rows.Select(r => r.Se / norm).ToArray(),
                $"pair ({InputNames[i]}, {InputNames[j]})", competitor: (kLinear[i, j] - kOut[i, j]) / norm);
        }).ToList());

    /// <summary>
    /// The 1/n correction itself: E[K̂(x, x)] = K + G¹/n + O(1/n²) with G¹ from the NLO-metric recursion (Roberts &amp;
    /// Yaida 2022, eq. 5.110). The shift is a few tenths of K/n, far below what a few thousand real networks resolve, so the
    /// output variance K̂ is drawn from the exact layer-by-layer Gaussian chain (<see cref="ConditionalGaussianChain"/>, the
    /// same distribution as the networks' at any width, O(L·n) per draw): (E[K̂] − K)/K = b/n + c/n² is fitted over the
    /// nlo_widths and b compared with G¹/K.
    /// </summary>
    private static void NloMetricClaim(RunContext ctx, ExperimentOutput output, MlpSpec spec, Rng root)
    {
        var s = ctx.Settings;
        int depth = spec.Depth;
        string act = spec.Activation.Name;
        var theory = FourPointVertex.SingleInput(spec.Initialization, 1.0, depth + 1)[depth];
        double predicted = theory.G1 / theory.K;
        if (Math.Abs(predicted) < 1e-12)
        {
            output.Facts[$"nlo_metric_{act}"] = $"G¹/K = {predicted:G3}: for {act} the output variance has no 1/n shift " +
                "(E[K̂] = K at every width), so no NLO-metric claim can discriminate it from the null.";
            return;
        }
        var claim = NloMetric.With(("act", act), ("depth", depth));
        int[] widths = NloWidthsOf(s);
        int nets = s.GetInt("nlo_nets", 1000);
        var x = new Matrix(1, 1);
        x[0, 0] = 1;   // x·x/d = 1, as in the theory above
        var mean = new double[widths.Length];
        var se = new double[widths.Length];
        for (int w = 0; w < widths.Length; w++)
        {
            var k = ConditionalGaussianChain.OutputKernels(spec with { Width = widths[w] }, nets, x, root.Split((ulong)w),
                $"{act} NLO metric, width {widths[w]}", ctx.Progress, ctx.Cancellation)[0];
            mean[w] = (Statistics.Mean(k) - theory.K) / theory.K;
            se[w] = Statistics.StandardError(k) / theory.K;
        }
        var design = new Matrix(widths.Length, 2);
        for (int r = 0; r < widths.Length; r++)
        {
            design[r, 0] = 1.0 / widths[r];
            design[r, 1] = 1.0 / ((double)widths[r] * widths[r]);
        }
        var (beta, cov, chi2) = Statistics.WeightedLeastSquares(design, mean, se);
        double bSe = Math.Sqrt(cov[0, 0]);
        output.Claims.Add(claim.Compare(predicted, beta[0], bSe, 4 * bSe,
            $"weighted fit (E[K̂] − K)/K = b/n + c/n² over widths {widths[0]}…{widths[^1]}, {nets} exact chain draws each " +
            $"(reduced χ² = {chi2:G3}); predicted b = G¹/K; tolerance 4·SE.", competitor: 0));
        output.Tables[$"nlo_metric_{act}"] = SeriesTable.FromRows(Enumerable.Range(0, widths.Length).ToList(),
            ("width", i => widths[i]), ("relative_shift", i => mean[i]), ("stderr", i => se[i]),
            ("predicted_leading", i => predicted / widths[i]));
    }

    /// <summary>(c) The exact finite-width kurtosis wherever it is known, the worst (depth, width) point.</summary>
    private static Claim ExactKurtosisClaim(string act, List<KurtosisRow> rows)
    {
        var claim = KurtosisExact.With(("act", act));
        if (rows.Count == 0) return claim.Inconclusive(null, "No exact formula applies to this configuration.");
        // 1e-12 absolute: the exact value is computed in floating point (for sign it is 0 up to rounding).
        return ScalingFits.Decisive(rows.Select(w => claim.Compare(w.Exact, w.Kappa, w.Se, 4 * w.Se + 1e-12,
            $"depth {w.Depth}, width {w.Width} of {rows.Count} (depth, width) points; tolerance 4·SE + 1e-12 (rounding).",
            competitor: 0)).ToList());
    }

    /// <summary>
    /// (d) Normality of the output at x0 at the largest width: A² against N(0, K) rejected when its p-value is below the 4σ
    /// two-sided rate. The competitor is N(0, K_lin); its expected A² is 1 + M·ω²(s), s = √(K_lin/K) (Anderson &amp; Darling 1952:
    /// the statistic's mean under a fixed alternative), and the resolution is the smallest ratio s the test detects.
    /// </summary>
    private static Claim NormalityClaim(Setup p, string act, double[] zs, double sd, double sdLinear)
    {
        var (a2, pValue) = AndersonDarling.TestNormal(zs, 0, sd);
        int m = zs.Length;
        double critical = Bisect(t => Claim.FalseFailRate - (1 - AndersonDarling.Cdf(t, m)), 1, 30);
        double competitor = 1 + m * WeightedCramerVonMises(sdLinear / sd);
        double smallest = Bisect(s => 1 + m * WeightedCramerVonMises(s) - critical, 1, 4);
        return Normality.With(("act", act), ("depth", p.Depth), ("width", p.Widths[^1])).Compare(1.0, a2, 0.76, critical - 1.0,
            $"A² = {a2:G4}, p = {pValue:G3} over {m} networks; under the null E[A²] = 1 (SD 0.76), reject when A² > {critical:G4} " +
            $"(p < {Claim.FalseFailRate:G2}); the test detects a Gaussian whose SD is ≥ {smallest:G3}× the predicted one.",
            competitor: competitor);
    }

    /// <summary>
    /// ω²(s) = ∫ (Φ(t/s) − Φ(t))² / (Φ(t)(1 − Φ(t))) φ(t) dt: the mean A² per sample of N(0, s²) tested against N(0, 1).
    /// The integrand is even in t, so it is integrated over t ≤ 0, where 1 − Φ(t) ≥ 1/2 does not lose precision.
    /// </summary>
    private static double WeightedCramerVonMises(double s)
    {
        const int steps = 4000;
        const double range = 12;
        double h = range / steps;
        double sum = 0;
        for (int k = 1; k <= steps; k++)
        {
            double t = -range + k * h;
            double f0 = AndersonDarling.NormalCdf(t);
            double d = AndersonDarling.NormalCdf(t / s) - f0;
            double weight = k == steps ? 0.5 : 1;
            sum += weight * d * d / (f0 * (1 - f0)) * Math.Exp(-t * t / 2) / Math.Sqrt(2 * Math.PI);
        }
        return 2 * sum * h;
    }

    /// <summary>The root of an increasing function on [lo, hi] by bisection.</summary>
    private static double Bisect(Func<double, double> f, double lo, double hi)
    {
        for (int k = 0; k < 100; k++)
        {
            double mid = 0.5 * (lo + hi);
            if (f(mid) < 0) lo = mid;
            else hi = mid;
        }
        return 0.5 * (lo + hi);
    }

    private static void Report(ExperimentOutput output, Setup p, Matrix[][] theory, WidthDraws[][] sims, List<CovarianceRow> cov,
        List<KurtosisRow> kurt)
    {
        double Norm(CovarianceRow r)
        {
            var k = theory[Array.FindIndex(p.Acts, a => a.Name == r.Act)][r.Depth];
            return Math.Sqrt(k[r.I, r.I] * k[r.J, r.J]);
        }
        output.Tables["covariance"] = SeriesTable.FromRows(cov, ("activation", r => r.Act), ("depth", r => r.Depth),
            ("width", r => r.Width), ("input_i", r => r.I), ("input_j", r => r.J), ("nngp", r => r.K), ("ensemble_mean", r => r.Mean),
            ("stderr", r => r.Se), ("normalised_deviation", r => (r.Mean - r.K) / Norm(r)));
        output.Tables["kurtosis"] = SeriesTable.FromRows(kurt, ("activation", r => r.Act), ("depth", r => r.Depth),
            ("width", r => r.Width), ("excess_kurtosis", r => r.Kappa), ("stderr", r => r.Se), ("exact_prediction", r => r.Exact));
        output.Plots.Add(CovariancePlot(p, cov, Norm));
        output.Plots.Add(KurtosisPlot(p, kurt));
        for (int a = 0; a < p.Acts.Length; a++)
            output.Plots.Add(Histogram(p.Acts[a].Name, p.Depth, p.Widths[^1], sims[a][^1].Z[0], Math.Sqrt(theory[a][p.Depth][0, 0])));
    }

    private static PlotSpec CovariancePlot(Setup p, List<CovarianceRow> cov, Func<CovarianceRow, double> norm)
    {
        var series = new List<SeriesSpec>();
        var wx = p.Widths.Select(w => (double)w).ToArray();
        foreach (var name in p.Acts.Select(a => a.Name))
        {
            var byWidth = p.Widths.Select(n => cov.Where(r => r.Act == name && r.Depth == p.Depth && r.Width == n).ToList()).ToList();
            series.Add(new SeriesSpec($"{name} deviation", wx, byWidth.Select(g => g.Max(r => Math.Abs(r.Mean - r.K) / norm(r))).ToArray(),
                SeriesKind.Points));
            series.Add(new SeriesSpec($"{name} SE", wx, byWidth.Select(g => g.Max(r => r.Se / norm(r))).ToArray(), SeriesKind.Line,
                Dashed: true));
        }
        return new PlotSpec($"Covariance error vs width (depth {p.Depth})", "width n", "|ensemble covariance − NNGP| / √(K K)",
            series, LogX: true, LogY: true, Caption: "Largest deviation over the 10 input pairs; dashed: the largest standard error. " +
            "Deviation above the SE line is the O(1/n) correction.");
    }

    private static PlotSpec KurtosisPlot(Setup p, List<KurtosisRow> kurt)
    {
        var series = new List<SeriesSpec>();
        foreach (var name in p.Acts.Select(a => a.Name))
        {
            var kr = kurt.Where(r => r.Act == name && r.Depth == p.Depth).ToList();
            var wx = kr.Select(r => (double)r.Width).ToArray();
            series.Add(new SeriesSpec($"{name} measured", wx, kr.Select(r => r.Kappa).ToArray(), SeriesKind.Points,
                kr.Select(r => r.Se).ToArray()));
            if (kr.All(r => double.IsFinite(r.Exact)))
                series.Add(new SeriesSpec($"{name} exact", wx, kr.Select(r => r.Exact).ToArray(), SeriesKind.Line));
        }
        return new PlotSpec($"Output excess kurtosis vs width (depth {p.Depth})", "width n", "excess kurtosis E[z⁴]/E[z²]² − 3",
            series, LogX: true, LogY: true, Caption: "Points: measured (conditional-variance estimator) ± SE. " +
            "Lines: exact finite-width formula where known. A 1/n law is a slope −1 line.");
    }

    private static PlotSpec Histogram(string act, int depth, int width, double[] z, double sd)
    {
        const int bins = 40;
        const double lo = -4;
        const double hi = 4;
        double h = (hi - lo) / bins;
        var counts = new double[bins];
        foreach (var v in z)
        {
            int b = (int)Math.Floor((v / sd - lo) / h);
            if (b >= 0 && b < bins) counts[b]++;
        }
        var centres = Enumerable.Range(0, bins).Select(b => lo + (b + 0.5) * h).ToArray();
        var density = counts.Select(c => c / (z.Length * h)).ToArray();
        var grid = Enumerable.Range(0, 161).Select(i => lo + i * (hi - lo) / 160).ToArray();
        var pdf = grid.Select(t => Math.Exp(-t * t / 2) / Math.Sqrt(2 * Math.PI)).ToArray();
        return new PlotSpec($"{act}: output distribution at width {width}, depth {depth}", "z / √K_NNGP", "density",
            [
                new SeriesSpec("networks", centres, density, SeriesKind.Bars),
                new SeriesSpec("N(0, 1) prediction", grid, pdf, SeriesKind.Line),
            ],
            Caption: $"{z.Length} independently initialised networks, output at x0 scaled by the predicted standard deviation.");
    }
}
