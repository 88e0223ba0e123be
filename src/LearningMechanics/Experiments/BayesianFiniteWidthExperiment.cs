using System.Diagnostics;
using System.Globalization;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab;
using LearningMechanics.Measurement.Ensembles;
using LearningMechanics.Measurement.Inference;
using LearningMechanics.Numerics;
using LearningMechanics.Theory;
using LearningMechanics.Theory.FiniteWidth;
using LearningMechanics.Training;

namespace LearningMechanics.Experiments;

/// <summary>
/// <c>bayesian-finite-width</c> (Roberts &amp; Yaida 2022, §6.4.2, eqs. 6.79–6.89): exact Bayesian inference
/// with a finite MLP prior on a small data set against the 1/n expansion of the posterior mean
/// (<see cref="FiniteWidthPosterior"/>). The exact posterior comes from importance sampling over the prior,
/// Rao–Blackwellised over the readout (<see cref="BayesianEnsemble"/>), at several widths; the prior draws come from the
/// exact layer-by-layer Gaussian chain (<see cref="ConditionalGaussianChain"/>, O(n) per layer instead of O(n²)), which
/// the first claim checks against real networks with full weight matrices at the smallest width. Targets are i.i.d.
/// N(0, scale²·K_αα), typical draws of the prior: the 1/n expansion is one in V/(nK²)·(y²/K)^k, and atypically large
/// targets push the next orders up. Claims per activation: the measured 1/n coefficient n·(exact − GP), extrapolated
/// over widths, equals the predicted one (the share of the deviation the corrected mean removes at the middle width is
/// reported as a fact); and the output components "wire together": the prediction for component i moves when the targets of
/// component j ≠ i are switched on, as predicted (eq. 6.89), while the GP's does not move at all. A second part
/// (Lee et al. 2018) checks the infinite-width end on a teacher regression: the NNGP posterior's 90 % intervals cover
/// held-out targets 85–95 % of the time (<see cref="NngpCalibration"/>), with the NTK-GP ensemble of trained networks
/// reported next to it.
/// </summary>
public sealed class BayesianFiniteWidthExperiment : IExperiment
{
    private const string Reference = "Roberts & Yaida 2022, §6.3–6.4 (eqs. 6.79–6.89); Lee et al. 2018";

    public string Id => "bayesian-finite-width";
    public string Title => "Bayesian inference at finite width: the 1/n correction to the GP posterior";
    public string Summary => "exact Bayesian posterior of finite networks (importance sampling) = NNGP posterior + 1/n vertex and " +
        "NLO-metric corrections to its mean and variance; output components wire together";
    public string Source => Reference;

    public IReadOnlyList<SettingInfo> Settings { get; } =
    [
        new("acts", "activations (at their critical σ_w², σ_b² = 0)", "relu,tanh", "relu,tanh"),
        new("depth", "hidden layers", "3", "3"),
        new("widths", "hidden widths n (≥ 3 for the 1/n fit)", "32,64,128,256", "32,64,128,256,512"),
        new("nets", "prior draws (networks) per width", "200000", "1000000"),
        new("real_nets", "real networks (full weight matrices) at the smallest width, to check the sampler", "100000", "400000"),
        new("n_train", "training inputs N_A", "2", "2"),
        new("n_test", "test inputs", "3", "3"),
        new("outputs", "output components", "2", "2"),
        new("dim", "input dimension d (inputs on the sphere |x|² = d)", "4", "4"),
        new("noise", "observation noise variance σ_ε² (0: exact observations, as in Roberts & Yaida 2022, §6.4)", "0", "0"),
        new("target_scale", "targets are i.i.d. N(0, scale²·K_αα), K the output kernel (scale 1: typical prior draws)", "1", "1"),
        new("calib_acts", "calibration task: activations of the NNGP (closed-form kernels keep it fast)", "relu,erf", "relu,erf"),
        new("calib_train", "calibration task (Lee et al. 2018): training points of the teacher regression", "100", "400"),
        new("calib_test", "calibration task: held-out test points", "500", "2000"),
        new("calib_dim", "calibration task: input dimension", "8", "8"),
        new("calib_noise", "calibration task: label noise sd (teacher outputs have sd ≈ 0.5)", "0.1", "0.1"),
        new("calib_tasks", "calibration task: independent teacher regressions averaged (≥ 3)", "16", "16"),
    ];

    private static readonly ClaimDeclaration Sampler = new("sampler-{act}",
        "{act}: the layer-by-layer Gaussian chain gives the same exact posterior means as real networks with full weight matrices " +
        "at n = {width} (worst of {count} shown)", Reference, ClaimRule.TwoSided,
        "4·SE of the difference (both SEs combined) at the test input × component furthest from agreement in SE")
    {
        Competitor = "the chain loses the finite-width effect: its posterior mean is the GP's",
    };

    private static readonly ClaimDeclaration Correction = new("correction-{act}",
        "{act}, {depth} hidden layers at criticality: the exact posterior mean of finite networks is the GP posterior mean + c/n, " +
        "with c from the four-point vertex and the NLO metric (eq. 6.88); n·(exact − GP) extrapolated to n → ∞ over the widths " +
        "(worst of {count} test inputs × components shown)", Reference, ClaimRule.TwoSided,
        "4·SE of the fitted intercept of n·(exact − GP) at the test input × component furthest from c in SE")
    {
        Competitor = "no 1/n correction: the exact posterior mean is the GP's (c = 0)",
    };

    private static readonly ClaimDeclaration Wiring = new("wiring-{act}",
        "{act}: the components wire together (eq. 6.89): switching on the other components' targets moves component i's posterior " +
        "mean by d/n with d from the vertex's Σ_j terms (the GP's moves by 0); n·shift extrapolated over the widths (worst of " +
        "{count} shown)", Reference, ClaimRule.TwoSided, "4·SE of the fitted intercept of n·shift at the worst test input × component")
    {
        Competitor = "no wiring: the components are independent, as in the GP (d = 0)",
    };

    private static readonly ClaimDeclaration VarianceCorrection = new("variance-{act}",
        "{act}: the exact posterior variance is the GP posterior variance + c_var/n, with c_var from the NLO metric and the vertex " +
        "(the second-order Edgeworth term, derived here; Roberts & Yaida give the mean); n·(exact − GP) extrapolated over the widths " +
        "(worst of {count} shown)", Reference, ClaimRule.TwoSided,
        "4·SE of the fitted intercept of n·(exact − GP) at the worst test input × component")
    {
        Competitor = "the GP posterior variance (c_var = 0)",
    };

    private static readonly ClaimDeclaration NngpCoverage = new("nngp-coverage-{act}",
        "{act} NNGP ({depth} hidden layers, output scale and noise by maximum marginal likelihood): the 90 % posterior predictive " +
        "interval covers 85–95 % of held-out targets (calibrated)", "Lee et al. 2018; Neal 1996", ClaimRule.TwoSided,
        "4·binomial SE around 0.9")
    {
        Competitor = "an over-confident posterior whose sd is half the true one: coverage 2Φ(1.645/2) − 1 = 0.59",
    };

    public IReadOnlyList<ClaimDeclaration> Claims { get; } =
        [Sampler, Correction, Wiring, VarianceCorrection, NngpCoverage];

    public void Validate(Settings settings) => Setup.From(settings);

    /// <summary>Random stream of the inputs; the chain of width index w and activation a uses stream (w, a).</summary>
    private const ulong InputStream = ulong.MaxValue;

    /// <summary>Random stream of the unit targets ξ (shared by every activation).</summary>
    private const ulong TargetStream = ulong.MaxValue - 1;

    /// <summary>Random stream of the real networks that check the sampler.</summary>
    private const ulong RealNetworkStream = ulong.MaxValue - 2;

    /// <summary>Random stream of the calibration task.</summary>
    private const ulong CalibrationStream = ulong.MaxValue - 3;

    /// <summary>Sub-stream of the calibration stream: the inputs.</summary>
    private const ulong CalibrationInputStream = 0;

    /// <summary>Sub-stream of the calibration stream: the teacher network and its label noise.</summary>
    private const ulong CalibrationTeacherStream = 1;

    private sealed record Setup(Activation[] Acts, int Depth, int Nets, int RealNets, int NTrain, int NTest, int Outputs, int Dim,
        int[] Widths, double Noise, double Scale, Calibration Calibration)
    {
        public static Setup From(Settings s)
        {
            var acts = s.GetList("acts").Select(Activation.Parse).ToArray();
            int depth = s.GetInt("depth", 1);
            int nets = s.GetInt("nets", 100);
            int realNets = s.GetInt("real_nets", 100);
            int na = s.GetInt("n_train", 1);
            int nb = s.GetInt("n_test", 1);
            int outputs = s.GetInt("outputs", 1);
            int d = s.GetInt("dim", 1);
            int[] widths = s.GetIntList("widths", 2).Distinct().Order().ToArray();
            double noise = s.GetDouble("noise", 0);
            double scale = s.GetDouble("target_scale", 0);
            return new Setup(acts, depth, nets, realNets, na, nb, outputs, d, widths, noise, scale, Calibration.From(s));
        }
    }

    /// <summary>The calibration task's settings (Lee et al. 2018's teacher regressions).</summary>
    private sealed record Calibration(Activation[] Acts, int Train, int Test, int Dim, double Noise, int Tasks)
    {
        public static Calibration From(Settings s)
        {
            int tasks = s.GetInt("calib_tasks", 3);
            if (tasks < 3) throw new BadInputException($"Setting calib_tasks={tasks} must be ≥ 3 (the SE comes from their spread).");
            return new Calibration(s.GetList("calib_acts").Select(Activation.Parse).ToArray(), s.GetInt("calib_train", 2),
                s.GetInt("calib_test", 10), s.GetInt("calib_dim", 1), s.GetDouble("calib_noise", 0), tasks);
        }
    }

    /// <summary>
    /// The exact chain per activation, width and draw (per layer and neuron m Gaussian draws and an m × m update, m the
    /// train and test inputs; a Cholesky per layer), the importance-weighted posteriors (per test input and component pass,
    /// an N_A × N_A Cholesky and solves per draw), the real networks at the smallest width (a weight draw and a forward pass
    /// per activation), and the calibration (per task and activation the kernels, 121 Cholesky factorisations of the
    /// training kernel for the noise profile, the NTK's eigendecomposition). In memory one chain's kernels (m(m+1)/2 per
    /// draw), the real networks' output kernels, the posterior's per-draw arrays and per thread a network.
    /// </summary>
    public ResourceEstimate? Estimate(Settings settings)
    {
        var p = Setup.From(settings);
        double m = (double)p.NTrain + p.NTest;
        double pairs = m * (m + 1) / 2;
        double na = p.NTrain;
        int acts = p.Acts.Length;
        double chain = (double)p.Nets * p.Depth * p.Widths.Sum(n => n * (20 * m + 2 * m * m) + WorkEstimate.Cholesky(m));
        double posterior = (double)p.Nets * p.Widths.Length * p.NTest * (2.0 + p.Outputs)
            * (WorkEstimate.Cholesky(na) + na * na * p.Outputs + m * p.Outputs);
        double w0 = WorkEstimate.MlpWeights(p.Dim, p.Widths[0], p.Depth, p.Outputs);
        double real = (double)p.RealNets * (WorkEstimate.Draw(w0) + acts * (WorkEstimate.Forward(w0, m) + 2 * m * m * p.Widths[0]));
        var c = p.Calibration;
        double tr = c.Train;
        double all = tr + c.Test;
        double calibration = (double)c.Tasks * (c.Acts.Length * (WorkEstimate.Kernel(all, tr, c.Dim, p.Depth)
            + 121 * WorkEstimate.Cholesky(tr) + WorkEstimate.Eigen(tr) + 4 * c.Test * tr * tr) + 90 * all * c.Dim);
        double flops = acts * (chain + posterior) + real + calibration;
        double bytes = WorkEstimate.Float64 * p.Nets * (pairs + 2 * (p.Outputs + 2.0))
            + WorkEstimate.Float64 * acts * (double)p.RealNets * (pairs + 1)
            + WorkEstimate.Threads * (acts * WorkEstimate.Activations(p.Widths[0] * (double)p.Depth, m)
                + WorkEstimate.Float64 * w0 + 5 * WorkEstimate.Matrix(m, m))
            + 3 * WorkEstimate.Matrix(tr, tr) + 2 * WorkEstimate.Matrix(c.Test, tr) + 4 * WorkEstimate.Matrix(all, c.Dim + 1);
        return new ResourceEstimate(flops, bytes);
    }

    /// <summary>The 1/n expansion for the full targets and, per component i, with every other component switched off.</summary>
    private sealed record Prediction(PosteriorExpansion Full, PosteriorExpansion[] Alone);

    /// <summary>Largest predicted correction, as a share of its scale at width n, at which the 1/n expansion is tested.</summary>
    private const double MaxRelativeCorrection = 0.25;

    private sealed record Row(string Act, int Width, int Test, int Component, double Exact, double ExactSe, double Ess, double Gp,
        double GpSd, double Coefficient, double Metric, double Vertex, double Wiring, double WiringSe, double WiringCoefficient,
        double ExactVar, double ExactVarSe, double VarCoefficient);

    /// <summary>The per-(test input, component) intercept fits behind one activation's claims, for the coefficient plot.</summary>
    private sealed record Fits(List<Claim> Correction, List<Claim> Wiring, List<Claim> Variance);

    public ExperimentOutput Run(RunContext ctx)
    {
        var p = Setup.From(ctx.Settings);
        var root = new Rng(ctx.Seed);
        var x = Inputs.ToSphere(Synthetic.GaussianInputs(p.NTrain + p.NTest, p.Dim, root.Split(InputStream)));
        var xi = root.Split(TargetStream);
        var unitTargets = new Matrix(p.NTrain, p.Outputs);
        for (int i = 0; i < unitTargets.Data.Length; i++) unitTargets.Data[i] = p.Scale * xi.NextGaussian();
        var output = new ExperimentOutput();
        output.Facts["inputs"] = $"{p.NTrain} training and {p.NTest} test inputs, Gaussian in d = {p.Dim}, on the sphere |x|² = d";
        var specs = p.Acts.Select(a => new MlpSpec(p.Dim, p.Widths[0], p.Depth, a, Criticality.CriticalWeightVariance(a), 0, p.Outputs)
            .Validated()).ToArray();
        var targets = specs.Select(sp => Targets(output, p, sp, x, unitTargets)).ToArray();

        var clock = Stopwatch.StartNew();
        var theory = specs.Select((sp, a) => Predict(p, sp, x, targets[a])).ToArray();
        output.Timings["theory_s"] = clock.Elapsed.TotalSeconds;
        clock.Restart();
        // The sampler against real networks at the smallest width: the same posterior means within their joint SE.
        var real = ConditionalKernelEnsemble.Sample(specs, [p.Widths[0]], p.RealNets, x, root.Split(RealNetworkStream), outputOnly: true,
            progress: ctx.Progress, cancellation: ctx.Cancellation)[0];
        output.Timings["real_networks_s"] = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var samplerChecks = p.Acts.Select(_ => new List<Claim>()).ToArray();
        var rows = new List<Row>();
        for (int wi = 0; wi < p.Widths.Length; wi++)
            for (int a = 0; a < p.Acts.Length; a++)
                rows.AddRange(Measure(ctx, p, specs[a], wi, a, x, root, targets[a], theory[a], wi == 0 ? (real, samplerChecks[a]) : null));
        output.Timings["sampling_s"] = clock.Elapsed.TotalSeconds;

        var fits = p.Acts.Select((act, a) => Judge(output, p, act.Name, samplerChecks[a], rows.Where(r => r.Act == act.Name).ToList()))
            .ToArray();
        clock.Restart();
        Calibrate(p.Calibration, p.Depth, root.Split(CalibrationStream), output);
        output.Timings["calibration_s"] = clock.Elapsed.TotalSeconds;
        Report(output, p, rows, fits);
        return output;
    }

    /// <summary>Targets y_{α,i} = ξ_{α,i}·√K_αα with the same ξ for every activation.</summary>
    private static Matrix Targets(ExperimentOutput output, Setup p, MlpSpec sp, Matrix x, Matrix unitTargets)
    {
        var gramTrain = Inputs.Gram(x.RowRange(0, p.NTrain));
        var y = unitTargets.Clone();
        for (int a = 0; a < p.NTrain; a++)
        {
            var k = MultiInputVertex.Compute(sp.Initialization, new Matrix(1, 1, [gramTrain[a, a]]), p.Depth + 1)[^1].K[0];
            for (int i = 0; i < p.Outputs; i++) y[a, i] *= Math.Sqrt(k);
        }
        output.Facts[$"targets.{sp.Activation.Name}"] = string.Join("; ", Enumerable.Range(0, p.NTrain).Select(a =>
            string.Join(", ", Enumerable.Range(0, p.Outputs).Select(i => y[a, i].ToString("G4", CultureInfo.InvariantCulture)))));
        return y;
    }

    private static Prediction Predict(Setup p, MlpSpec sp, Matrix x, Matrix y)
    {
        var layers = FiniteWidthPosterior.OutputLayers(sp.Initialization, p.Depth, x.RowRange(0, p.NTrain),
            x.RowRange(p.NTrain, p.NTest));
        return new Prediction(FiniteWidthPosterior.Mean(layers, y, p.Noise),
            [.. Enumerable.Range(0, p.Outputs).Select(i => FiniteWidthPosterior.Mean(layers, OnlyColumn(y, i), p.Noise))]);
    }

    /// <summary>
    /// The exact posterior of one activation at width index <paramref name="wi"/> by importance sampling over the chain's
    /// prior draws: mean, variance and the wiring shift per test input and component. At the smallest width the same
    /// posterior from the real networks is compared with it (<paramref name="check"/>).
    /// </summary>
    private static List<Row> Measure(RunContext ctx, Setup p, MlpSpec spec, int wi, int a, Matrix x, Rng root, Matrix y, Prediction th,
        (WidthDraws Real, List<Claim> Claims)? check)
    {
        int n = p.Widths[wi];
        int inputs = p.NTrain + p.NTest;
        var kernels = ConditionalGaussianChain.OutputKernels(spec with { Width = n }, p.Nets, x, root.Split((ulong)wi, (ulong)a),
            $"{spec.Activation.Name} n = {n}", ctx.Progress, ctx.Cancellation);
        var sampler = Sampler.With(("act", spec.Activation.Name), ("width", p.Widths[0]), ("count", p.NTest * p.Outputs));
        var rows = new List<Row>();
        for (int b = 0; b < p.NTest; b++)
        {
            var (full, fullVar) = BayesianEnsemble.Posterior(kernels, inputs, y, p.NTrain + b, p.Noise);
            if (check is (var real, var claims))
            {
                var fromNets = BayesianEnsemble.Posterior(real.Kc[a][0], inputs, y, p.NTrain + b, p.Noise).Mean;
                for (int i = 0; i < p.Outputs; i++)
                {
                    double se = Math.Sqrt(full[i].StdErr * full[i].StdErr + fromNets[i].StdErr * fromNets[i].StdErr);
                    claims.Add(sampler.Compare(fromNets[i].Value, full[i].Value, se, 4 * se,
                        $"test input {b}, component {i}: {p.RealNets} real networks {fromNets[i].Value:G5} ± {fromNets[i].StdErr:G2}, " +
                        $"{p.Nets} chain draws {full[i].Value:G5} ± {full[i].StdErr:G2}; tolerance 4·SE.", th.Full.GpMean[b, i]));
                }
            }
            for (int i = 0; i < p.Outputs; i++)
            {
                var single = BayesianEnsemble.Posterior(kernels, inputs, OnlyColumn(y, i), p.NTrain + b, p.Noise).Mean[i];
                var (wire, wireSe) = ImportanceEstimate.Difference(full[i], single);
                var t = th.Full;
                rows.Add(new Row(spec.Activation.Name, n, b, i, full[i].Value, full[i].StdErr, full[i].EffectiveSamples / p.Nets,
                    t.GpMean[b, i], Math.Sqrt(t.GpVariance[b]), t.Correction(b, i), t.Metric[b, i], t.Vertex[b, i], wire, wireSe,
                    t.Correction(b, i) - th.Alone[i].Correction(b, i), fullVar[i].Value, fullVar[i].StdErr, t.VarianceCorrection[b, i]));
            }
        }
        return rows;
    }

    private static Fits Judge(ExperimentOutput output, Setup p, string act, List<Claim> samplerChecks, List<Row> mine)
    {
        output.Claims.Add(ScalingFits.Decisive(samplerChecks));
        var keys = mine.Select(r => (r.Test, r.Component)).Distinct().ToList();
        // A (test input, component) tests the expansion only where the predicted correction at the smallest width is at most
        // MaxRelativeCorrection of its scale (the GP posterior sd, or variance): where it is larger the 1/n series is far from
        // its asymptotic regime and the fit over the widths is biased by the orders it leaves out.
        List<Claim> Fit(DeclaredClaim claim, Func<Row, double> value, Func<Row, double> se, Func<Row, double> predicted,
            Func<Row, double> scale)
        {
            var points = new List<Claim>();
            foreach (var k in keys)
            {
                var g = mine.Where(r => (r.Test, r.Component) == k).OrderBy(r => r.Width).ToList();
                if (Math.Abs(predicted(g[0])) > MaxRelativeCorrection * g[0].Width * scale(g[0])) continue;
                points.Add(ScalingFits.Intercept(claim, g.Select(r => (double)r.Width).ToArray(),
                    g.Select(r => r.Width * value(r)).ToArray(), g.Select(r => r.Width * se(r)).ToArray(),
                    $"test input {k.Test}, component {k.Component}", predicted(g[0]), competitor: 0));
            }
            output.Claims.Add(points.Count > 0
                ? ScalingFits.Decisive(points)
                : claim.Inconclusive(null, $"At every test input × component the predicted correction exceeds " +
                    $"{MaxRelativeCorrection} of its scale at the smallest width; use larger widths."));
            return points;
        }
        var corr = Fit(Correction.With(("act", act), ("depth", p.Depth), ("count", keys.Count)), r => r.Exact - r.Gp,
            r => r.ExactSe, r => r.Coefficient, r => r.GpSd);
        var wire = Fit(Wiring.With(("act", act), ("count", keys.Count)), r => r.Wiring, r => r.WiringSe,
            r => r.WiringCoefficient, r => r.GpSd);
        var variance = Fit(VarianceCorrection.With(("act", act), ("count", keys.Count)), r => r.ExactVar - r.GpSd * r.GpSd,
            r => r.ExactVarSe, r => r.VarCoefficient, r => r.GpSd * r.GpSd);
        ReportImprovement(output, p, act, mine);
        return new Fits(corr, wire, variance);
    }

    /// <summary>
    /// How much of the finite-width deviation the corrected mean removes at the middle width, RMS(exact − corrected)/RMS(exact − GP):
    /// a descriptive number (the expansion predicts no value for it without its next order), not a claim.
    /// </summary>
    private static void ReportImprovement(ExperimentOutput output, Setup p, string act, List<Row> mine)
    {
        int nMid = p.Widths[p.Widths.Length / 2];
        var mid = mine.Where(r => r.Width == nMid).ToList();
        double gpRms = Rms(mid.Select(r => r.Exact - r.Gp));
        double corrRms = Rms(mid.Select(r => r.Exact - r.Gp - r.Coefficient / r.Width));
        // SE of the ratio from the sampling errors of the residuals (delta method on the RMS).
        double ratio = corrRms / gpRms;
        double seCorr = Math.Sqrt(mid.Sum(r => Math.Pow((r.Exact - r.Gp - r.Coefficient / r.Width) * r.ExactSe, 2)))
            / (mid.Count * corrRms);
        double seGp = Math.Sqrt(mid.Sum(r => Math.Pow((r.Exact - r.Gp) * r.ExactSe, 2))) / (mid.Count * gpRms);
        double ratioSe = ratio * Math.Sqrt(Math.Pow(seCorr / corrRms, 2) + Math.Pow(seGp / gpRms, 2));
        output.Facts[$"improvement.{act}"] =
            FormattableString.Invariant($"n = {nMid}: RMS(exact − corrected)/RMS(exact − GP) = {ratio:G3} ± {ratioSe:G2}; ") +
            FormattableString.Invariant($"RMS(exact − GP) = {gpRms:G3}, RMS(exact − corrected) = {corrRms:G3} ") +
            FormattableString.Invariant($"(GP posterior sd ≈ {mid.Average(r => r.GpSd):G3}); the next order is of relative size ") +
            FormattableString.Invariant($"~L/n = {(p.Depth + 1.0) / nMid:G2}.");
    }

    /// <summary>
    /// Calibration of the infinite-width posterior (Lee et al. 2018) on <c>calib_tasks</c> independent teacher regressions
    /// (teacher, inputs, noise and split drawn afresh for each). The coverage of one task scatters far beyond its binomial SE
    /// (sd ≈ 0.04 over tasks against 0.013: the teacher and the fitted scale and noise are shared by its test points), so the
    /// claim is the mean coverage over the tasks, with the SE of that mean and a Student-t tolerance at the gallery's
    /// two-sided 4σ rate (6.3·10⁻⁵) for its tasks − 1 degrees of freedom. The first task is plotted and tabulated.
    /// </summary>
    private static void Calibrate(Calibration c, int depth, Rng calibRng, ExperimentOutput output)
    {
        int calibTrain = c.Train;
        int calibTest = c.Test;
        int calibDim = c.Dim;
        int tasks = c.Tasks;
        double calibNoise = c.Noise;
        output.Facts["calibration_task"] = $"{tasks} teachers dense(32)-tanh-dense(1) on the sphere in d = {calibDim}, " +
            $"label noise sd {calibNoise}; {calibTrain} training, {calibTest} held-out points each";
        var acts = c.Acts;
        var results = acts.Select(_ => new CalibrationResult[tasks]).ToArray();
        for (int t = 0; t < tasks; t++)
        {
            var rng = calibRng.Split((ulong)t);
            var calibX = Inputs.ToSphere(Synthetic.GaussianInputs(calibTrain + calibTest, calibDim, rng.Split(CalibrationInputStream)));
            var task = Teacher.Label(calibX, "dense(32)-tanh-dense(1)", rng.Split(CalibrationTeacherStream), calibNoise);
            var (train, test) = (task.Take(calibTrain), task.Subset([.. Enumerable.Range(calibTrain, calibTest)]));
            for (int a = 0; a < acts.Length; a++)
            {
                var sp = new MlpSpec(calibDim, 512, depth, acts[a], Criticality.CriticalWeightVariance(acts[a]), 0).Validated();
                results[a][t] = NngpCalibration.Run(sp.ToNetworkSpec(), train, test);
            }
        }
        double tQuantile = MathNet.Numerics.Distributions.StudentT.InvCDF(0, 1, tasks - 1, 1 - Claim.FalseFailRate / 2);
        double overConfident = 2 * AndersonDarling.NormalCdf(1.6448536269514722 / 2) - 1;
        for (int a = 0; a < acts.Length; a++)
        {
            var r = results[a];
            int at90 = Array.IndexOf(r[0].Nominal, 0.9);
            var coverage = r.Select(x => x.CoverageGp[at90]).ToArray();
            double se = Statistics.StandardError(coverage);
            output.Claims.Add(NngpCoverage.With(("act", acts[a].Name), ("depth", depth)).Compare(0.9, Statistics.Mean(coverage), se,
                tQuantile * se,
                Note(tasks, r, coverage, tQuantile, at90), overConfident));
        }
        ReportCalibration(output, [.. acts.Select((act, a) => (act.Name, results[a][0]))]);
    }

    private static string Note(int tasks, CalibrationResult[] r, double[] coverage, double t, int at90) =>
        FormattableString.Invariant($"mean over {tasks} tasks of {r[0].Test} held-out targets (coverages ") +
        string.Join(", ", coverage.Select(c => c.ToString("F3", System.Globalization.CultureInfo.InvariantCulture))) +
        FormattableString.Invariant($"); tolerance t·SE with t = {t:G3} ({tasks - 1} degrees of freedom, two-sided rate 6.3e-5); ") +
        FormattableString.Invariant($"task 0: fitted s² = {r[0].Scale:G3}, noise variance {r[0].NoiseVariance:G3}, mean NLL NNGP ") +
        FormattableString.Invariant($"{r[0].NllGp:G4} ± {r[0].NllGpSe:G2}, NTK-GP ensemble {r[0].NllEnsemble:G4} ± ") +
        FormattableString.Invariant($"{r[0].NllEnsembleSe:G2} (reported, not a criterion); mean ensemble coverage at 90 %: ") +
        FormattableString.Invariant($"{r.Average(x => x.CoverageEnsemble[at90]):G3}.");


    private static void ReportCalibration(ExperimentOutput output, List<(string Act, CalibrationResult R)> calibration)
    {
        var rows = calibration.SelectMany(c => c.R.Nominal.Select((p, i) => (c.Act, P: p, I: i, c.R))).ToList();
        output.Tables["calibration"] = SeriesTable.FromRows(rows, ("activation", r => r.Act), ("nominal", r => r.P),
            ("coverage_nngp", r => r.R.CoverageGp[r.I]), ("coverage_ntk_ensemble", r => r.R.CoverageEnsemble[r.I]),
            ("nll_nngp", r => r.R.NllGp), ("nll_ntk_ensemble", r => r.R.NllEnsemble));
        output.Plots.Add(new PlotSpec("Calibration on held-out targets (Lee et al. 2018)", "nominal level of the central interval",
            "empirical coverage",
        [
            .. calibration.SelectMany(c => new[]
            {
                new SeriesSpec($"{c.Act} NNGP posterior", c.R.Nominal, c.R.CoverageGp, SeriesKind.Points,
                    [.. c.R.Nominal.Select(p => Math.Sqrt(p * (1 - p) / c.R.Test))]),
                new SeriesSpec($"{c.Act} NTK-GP ensemble", c.R.Nominal, c.R.CoverageEnsemble, SeriesKind.Points),
            }),
            new SeriesSpec("calibrated", [0.5, 0.99], [0.5, 0.99], SeriesKind.Line, Dashed: true),
        ], Caption: "Points on the diagonal are calibrated; below it the intervals are too narrow (over-confident). " +
            "Both predictors share the fitted output scale and noise."));
    }

    private static void Report(ExperimentOutput output, Setup p, List<Row> rows, Fits[] fits)
    {
        output.Tables["posterior"] = SeriesTable.FromRows(rows, ("activation", r => r.Act), ("width", r => r.Width), ("test", r => r.Test),
            ("component", r => r.Component), ("exact_mean", r => r.Exact), ("exact_se", r => r.ExactSe), ("ess_fraction", r => r.Ess),
            ("gp_mean", r => r.Gp), ("gp_sd", r => r.GpSd), ("coefficient_predicted", r => r.Coefficient),
            ("coefficient_metric", r => r.Metric), ("coefficient_vertex", r => r.Vertex),
            ("corrected_mean", r => r.Gp + r.Coefficient / r.Width),
            ("n_exact_minus_gp", r => r.Width * (r.Exact - r.Gp)), ("wiring_shift", r => r.Wiring), ("wiring_se", r => r.WiringSe),
            ("wiring_predicted", r => r.WiringCoefficient / r.Width), ("exact_variance", r => r.ExactVar),
            ("exact_variance_se", r => r.ExactVarSe), ("gp_variance", r => r.GpSd * r.GpSd),
            ("variance_coefficient_predicted", r => r.VarCoefficient),
            ("corrected_variance", r => r.GpSd * r.GpSd + r.VarCoefficient / r.Width));
        for (int a = 0; a < p.Acts.Length; a++)
        {
            output.Plots.Add(CoefficientPlot(p, p.Acts[a].Name, fits[a]));
            output.Plots.Add(PosteriorMeanPlot(p, p.Acts[a].Name, rows));
        }
    }

    private static PlotSpec CoefficientPlot(Setup p, string act, Fits f)
    {
        var all = f.Correction.Concat(f.Wiring).Concat(f.Variance).Where(c => c.Measured is not null).ToList();
        double lo = all.Min(c => Math.Min(c.Predicted!.Value, c.Measured!.Value));
        double hi = all.Max(c => Math.Max(c.Predicted!.Value, c.Measured!.Value));
        static SeriesSpec Points(string label, List<Claim> cs) => new(label, [.. cs.Select(c => c.Predicted ?? double.NaN)],
            [.. cs.Select(c => c.Measured ?? double.NaN)], SeriesKind.Points, [.. cs.Select(c => c.StdErr ?? 0)]);
        return new PlotSpec($"{act}: measured vs predicted 1/n coefficients", "predicted (eq. 6.88)", "measured (n → ∞ extrapolation)",
        [
            Points("posterior-mean correction c", f.Correction), Points("wiring shift d", f.Wiring),
            Points("posterior-variance correction c_var", f.Variance),
            new SeriesSpec("measured = predicted", [lo, hi], [lo, hi], SeriesKind.Line, Dashed: true),
        ], Caption: "One point per test input × output component: the intercept of n·(exact − GP) (and of n·wiring shift) fitted " +
            $"over widths {p.Widths[0]}…{p.Widths[^1]}, ± its SE.");
    }

    private static PlotSpec PosteriorMeanPlot(Setup p, string act, List<Row> rows)
    {
        var first = rows.Where(r => r.Act == act && r.Test == 0 && r.Component == 0).OrderBy(r => r.Width).ToList();
        int[] widths = p.Widths;
        var ns = Enumerable.Range(0, 40)
            .Select(i => widths[0] * 0.75 * Math.Pow(widths[^1] * 1.5 / (widths[0] * 0.75), i / 39.0)).ToArray();
        return new PlotSpec($"{act}: posterior mean at test input 0, component 0", "width n", "posterior mean",
        [
            new SeriesSpec("exact (importance sampling)", first.Select(r => (double)r.Width).ToArray(),
                first.Select(r => r.Exact).ToArray(), SeriesKind.Points, first.Select(r => r.ExactSe).ToArray()),
            new SeriesSpec("GP (n = ∞)", ns, ns.Select(_ => first[0].Gp).ToArray(), SeriesKind.Line, Dashed: true),
            new SeriesSpec("GP + c/n", ns, ns.Select(n => first[0].Gp + first[0].Coefficient / n).ToArray(), SeriesKind.Line),
        ], LogX: true,
            Caption: $"GP posterior sd {first[0].GpSd:G3}. Exact observations of {p.NTrain} training points, " +
            $"{p.Outputs} output components.");
    }

    private static double Rms(IEnumerable<double> v) => Math.Sqrt(v.Average(t => t * t));

    /// <summary>The targets with every component but <paramref name="keep"/> set to 0.</summary>
    private static Matrix OnlyColumn(Matrix y, int keep)
    {
        var r = new Matrix(y.Rows, y.Cols);
        for (int a = 0; a < y.Rows; a++) r[a, keep] = y[a, keep];
        return r;
    }
}
