using System.Diagnostics;
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
/// <c>bayesian-finite-width</c> (seed 004 §6.4.2, eqs. 6.79–6.89; claims.md B5's gallery entry): exact Bayesian inference
/// with a finite MLP prior on a small data set against the 1/n expansion of the posterior mean
/// (<see cref="FiniteWidthPosterior"/>). The exact posterior comes from importance sampling over the prior,
/// Rao–Blackwellised over the readout (<see cref="BayesianEnsemble"/>), at several widths; the prior draws come from the
/// exact layer-by-layer Gaussian chain (<see cref="ConditionalGaussianChain"/>, O(n) per layer instead of O(n²)), which
/// the first claim checks against real networks with full weight matrices at the smallest width. Targets are i.i.d.
/// N(0, scale²·K_αα), typical draws of the prior: the 1/n expansion is one in V/(nK²)·(y²/K)^k, and atypically large
/// targets push the next orders up. Claims per activation: the measured 1/n coefficient n·(exact − GP), extrapolated
/// over widths, equals the predicted one; the corrected mean removes most of the finite-width deviation at the middle
/// width; and the output components "wire together": the prediction for component i moves when the targets of
/// component j ≠ i are switched on, as predicted (eq. 6.89), while the GP's does not move at all. A second part
/// (claims.md B5) checks the infinite-width end on a teacher regression: the NNGP posterior's 90 % intervals cover
/// held-out targets 85–95 % of the time (<see cref="NngpCalibration"/>), with the NTK-GP ensemble of trained networks
/// reported next to it.
/// </summary>
public sealed class BayesianFiniteWidth : IExperiment
{
    public string Id => "bayesian-finite-width";
    public string Title => "Bayesian inference at finite width: the 1/n correction to the GP posterior";
    public string Summary => "exact Bayesian posterior of finite networks (importance sampling) = NNGP posterior + 1/n vertex and NLO-metric corrections to its mean and variance; output components wire together";
    public string Source => "seed 004 §6.3–6.4 (eqs. 6.79–6.89); claims.md B5";

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
        new("noise", "observation noise variance σ_ε² (0: exact observations, as in the seed)", "0", "0"),
        new("target_scale", "targets are i.i.d. N(0, scale²·K_αα), K the output kernel (scale 1: typical prior draws)", "1", "1"),
        new("calib_acts", "calibration task: activations of the NNGP (closed-form kernels keep it fast)", "relu,erf", "relu,erf"),
        new("calib_train", "calibration task (claims.md B5): training points of the teacher regression", "100", "400"),
        new("calib_test", "calibration task: held-out test points", "500", "2000"),
        new("calib_dim", "calibration task: input dimension", "8", "8"),
        new("calib_noise", "calibration task: label noise sd (teacher outputs have sd ≈ 0.5)", "0.1", "0.1"),
    ];

    public ExperimentOutput Run(RunContext ctx)
    {
        var s = ctx.Settings;
        var acts = s.GetList("acts").Select(Activation.Parse).ToArray();
        int depth = s.GetInt("depth", 1), nets = s.GetInt("nets", 100), realNets = s.GetInt("real_nets", 100), na = s.GetInt("n_train", 1), nb = s.GetInt("n_test", 1);
        int outputs = s.GetInt("outputs", 1), d = s.GetInt("dim", 1);
        int[] widths = s.GetIntList("widths", 2).Distinct().Order().ToArray();
        double noise = s.GetDouble("noise", 0), scale = s.GetDouble("target_scale", 0);
        var root = new Rng(ctx.Seed);
        var x = Inputs.ToSphere(Synthetic.GaussianInputs(na + nb, d, root.Split(ulong.MaxValue)));
        var xi = root.Split(ulong.MaxValue - 1);
        var unitTargets = new Matrix(na, outputs);
        for (int i = 0; i < unitTargets.Data.Length; i++) unitTargets.Data[i] = scale * xi.NextGaussian();
        var xTrain = x.RowRange(0, na); var xTest = x.RowRange(na, nb);
        var output = new ExperimentOutput();
        output.Facts["inputs"] = $"{na} training and {nb} test inputs, Gaussian in d = {d}, on the sphere |x|² = d";

        var specs = acts.Select(a => new MlpSpec(d, widths[0], depth, a, Criticality.CriticalWeightVariance(a), 0, outputs).Validated()).ToArray();
        // Targets y_{α,i} = ξ_{α,i}·√K_αα with the same ξ for every activation.
        var gramTrain = Inputs.Gram(xTrain);
        var targets = specs.Select(sp =>
        {
            var y = unitTargets.Clone();
            for (int a = 0; a < na; a++)
            {
                var k = MultiInputVertex.Compute(sp.Activation, sp.Sw2, sp.Sb2, new Matrix(1, 1, [gramTrain[a, a]]), depth + 1)[^1].K[0];
                for (int i = 0; i < outputs; i++) y[a, i] *= Math.Sqrt(k);
            }
            output.Facts[$"targets.{sp.Activation.Name}"] = string.Join("; ", Enumerable.Range(0, na).Select(a =>
                string.Join(", ", Enumerable.Range(0, outputs).Select(i => y[a, i].ToString("G4", System.Globalization.CultureInfo.InvariantCulture)))));
            return y;
        }).ToArray();

        // Theory: the full targets and, per component i, the targets with every other component switched off.
        var clock = Stopwatch.StartNew();
        var vertexData = specs.Select(sp => FiniteWidthPosterior.OutputLayers(sp.Activation, sp.Sw2, sp.Sb2, depth, xTrain, xTest)).ToArray();
        var theory = specs.Select((_, a) => FiniteWidthPosterior.Mean(vertexData[a], targets[a], noise)).ToArray();
        var alone = specs.Select((_, a) => Enumerable.Range(0, outputs).Select(i => FiniteWidthPosterior.Mean(vertexData[a], OnlyColumn(targets[a], i), noise)).ToArray()).ToArray();
        output.Timings["theory_s"] = clock.Elapsed.TotalSeconds;
        clock.Restart();

        // The sampler against real networks at the smallest width: the same posterior means within their joint SE.
        var real = ConditionalKernelEnsemble.Sample(specs, [widths[0]], realNets, x, root.Split(ulong.MaxValue - 2), outputOnly: true,
            progress: ctx.Progress, cancellation: ctx.Cancellation)[0];
        var samplerChecks = acts.Select(_ => new List<Claim>()).ToArray();
        output.Timings["real_networks_s"] = clock.Elapsed.TotalSeconds;
        clock.Restart();

        var rows = new List<Row>();
        for (int wi = 0; wi < widths.Length; wi++)
        {
            int n = widths[wi];
            for (int a = 0; a < acts.Length; a++)
            {
                var kernels = ConditionalGaussianChain.OutputKernels(specs[a] with { Width = n }, nets, x, root.Split((ulong)wi, (ulong)a),
                    $"{acts[a].Name} n = {n}", ctx.Progress, ctx.Cancellation);
                var y = targets[a];
                for (int b = 0; b < nb; b++)
                {
                    var (full, fullVar) = BayesianEnsemble.Posterior(kernels, na + nb, y, na + b, noise);
                    if (wi == 0)
                    {
                        var fromNets = BayesianEnsemble.Posterior(real.Kc[a][0], na + nb, y, na + b, noise).Mean;
                        for (int i = 0; i < outputs; i++)
                        {
                            double se = Math.Sqrt(full[i].StdErr * full[i].StdErr + fromNets[i].StdErr * fromNets[i].StdErr);
                            samplerChecks[a].Add(Claim.Compare($"sampler-{acts[a].Name}", "", Source, fromNets[i].Value, full[i].Value, se, 4 * se,
                                $"test input {b}, component {i}: {realNets} real networks {fromNets[i].Value:G5} ± {fromNets[i].StdErr:G2}, {nets} chain draws {full[i].Value:G5} ± {full[i].StdErr:G2}; tolerance 4·SE."));
                        }
                    }
                    for (int i = 0; i < outputs; i++)
                    {
                        var single = BayesianEnsemble.Posterior(kernels, na + nb, OnlyColumn(y, i), na + b, noise).Mean[i];
                        var (wire, wireSe) = ImportanceEstimate.Difference(full[i], single);
                        var th = theory[a]; var th1 = alone[a][i];
                        rows.Add(new Row(acts[a].Name, n, b, i, full[i].Value, full[i].StdErr, full[i].EffectiveSamples / nets, th.GpMean[b, i],
                            Math.Sqrt(th.GpVariance[b]), th.Correction(b, i), th.Metric[b, i], th.Vertex[b, i], wire, wireSe, th.Correction(b, i) - th1.Correction(b, i),
                            fullVar[i].Value, fullVar[i].StdErr, th.VarianceCorrection[b, i]));
                    }
                }
            }
        }
        output.Timings["sampling_s"] = clock.Elapsed.TotalSeconds;

        var coefficientPlots = new List<PlotSpec>();
        foreach (var (act, ai) in acts.Select((a, i) => (a, i)))
        {
            var worstSampler = ScalingFits.Worst(samplerChecks[ai]);
            output.Claims.Add(worstSampler with
            {
                Statement = $"{act.Name}: the layer-by-layer Gaussian chain gives the same exact posterior means as real networks with full weight matrices at n = {widths[0]} (worst of {samplerChecks[ai].Count} shown)",
            });
            var mine = rows.Where(r => r.Act == act.Name).ToList();
            var keys = mine.Select(r => (r.Test, r.Component)).Distinct().ToList();
            List<Claim> Fits(string id, Func<Row, double> value, Func<Row, double> se, Func<Row, double> predicted) => keys.Select(k =>
            {
                var g = mine.Where(r => (r.Test, r.Component) == k).OrderBy(r => r.Width).ToList();
                return ScalingFits.Intercept(id, "", Source, g.Select(r => (double)r.Width).ToArray(), g.Select(r => r.Width * value(r)).ToArray(),
                    g.Select(r => r.Width * se(r)).ToArray(), $"test input {k.Test}, component {k.Component}", predicted(g[0]));
            }).ToList();
            var corr = Fits($"correction-{act.Name}", r => r.Exact - r.Gp, r => r.ExactSe, r => r.Coefficient);
            var wc = ScalingFits.Worst(corr);
            output.Claims.Add(wc with
            {
                Statement = $"{act.Name}, {depth} hidden layers at criticality: the exact posterior mean of finite networks is the GP posterior mean + c/n, " +
                    $"with c from the four-point vertex and the NLO metric (eq. 6.88); n·(exact − GP) extrapolated to n → ∞ over the widths (worst of {corr.Count} test inputs × components shown)",
            });
            var wire = Fits($"wiring-{act.Name}", r => r.Wiring, r => r.WiringSe, r => r.WiringCoefficient);
            var ww = ScalingFits.Worst(wire);
            output.Claims.Add(ww with
            {
                Statement = $"{act.Name}: the components wire together (eq. 6.89): switching on the other components' targets moves component i's posterior mean by d/n " +
                    $"with d from the vertex's Σ_j terms (the GP's moves by 0); n·shift extrapolated over the widths (worst of {wire.Count} shown)",
            });
            var variance = Fits($"variance-{act.Name}", r => r.ExactVar - r.GpSd * r.GpSd, r => r.ExactVarSe, r => r.VarCoefficient);
            var wv = ScalingFits.Worst(variance);
            output.Claims.Add(wv with
            {
                Statement = $"{act.Name}: the exact posterior variance is the GP posterior variance + c_var/n, with c_var from the NLO metric and the vertex " +
                    $"(the second-order Edgeworth term, derived here; the seed gives the mean); n·(exact − GP) extrapolated over the widths (worst of {variance.Count} shown)",
            });
            var all = corr.Concat(wire).Concat(variance).Where(c => c.Measured is not null).ToList();
            double lo = all.Min(c => Math.Min(c.Predicted!.Value, c.Measured!.Value)), hi = all.Max(c => Math.Max(c.Predicted!.Value, c.Measured!.Value));
            SeriesSpec Points(string label, List<Claim> cs) => new(label, [.. cs.Select(c => c.Predicted ?? double.NaN)], [.. cs.Select(c => c.Measured ?? double.NaN)],
                SeriesKind.Points, [.. cs.Select(c => c.StdErr ?? 0)]);
            coefficientPlots.Add(new PlotSpec($"{act.Name}: measured vs predicted 1/n coefficients", "predicted (eq. 6.88)", "measured (n → ∞ extrapolation)",
            [
                Points("posterior-mean correction c", corr), Points("wiring shift d", wire), Points("posterior-variance correction c_var", variance),
                new SeriesSpec("measured = predicted", [lo, hi], [lo, hi], SeriesKind.Line, Dashed: true),
            ], Caption: $"One point per test input × output component: the intercept of n·(exact − GP) (and of n·wiring shift) fitted over widths {widths[0]}…{widths[^1]}, ± its SE."));
            // At the middle width the corrected mean should remove most of the deviation: RMS residual ≤ ½ RMS(exact − GP).
            int nMid = widths[widths.Length / 2];
            var mid = mine.Where(r => r.Width == nMid).ToList();
            double gpRms = Rms(mid.Select(r => r.Exact - r.Gp)), corrRms = Rms(mid.Select(r => r.Exact - r.Gp - r.Coefficient / r.Width));
            // SE of the ratio from the sampling errors of the residuals (delta method on the RMS).
            double ratio = corrRms / gpRms;
            double seCorr = Math.Sqrt(mid.Sum(r => Math.Pow((r.Exact - r.Gp - r.Coefficient / r.Width) * r.ExactSe, 2))) / (mid.Count * corrRms);
            double seGp = Math.Sqrt(mid.Sum(r => Math.Pow((r.Exact - r.Gp) * r.ExactSe, 2))) / (mid.Count * gpRms);
            double ratioSe = ratio * Math.Sqrt(Math.Pow(seCorr / corrRms, 2) + Math.Pow(seGp / gpRms, 2));
            output.Claims.Add(Claim.Compare($"improvement-{act.Name}",
                $"{act.Name} at n = {nMid}: the 1/n-corrected posterior mean is at least twice as close to the exact one as the GP mean (RMS over test inputs × components)",
                Source, 0.5, ratio, ratioSe, 4 * ratioSe,
                $"RMS(exact − GP) = {gpRms:G3}, RMS(exact − corrected) = {corrRms:G3} (GP posterior sd ≈ {mid.Average(r => r.GpSd):G3}); at_most: the next order is of relative size ~L/n = {(depth + 1.0) / nMid:G2}.",
                ClaimRule.AtMost));
        }

        clock.Restart();
        Calibrate(s, depth, root.Split(ulong.MaxValue - 3), output);
        output.Timings["calibration_s"] = clock.Elapsed.TotalSeconds;

        output.Tables["posterior"] = SeriesTable.FromRows(rows, ("activation", r => r.Act), ("width", r => r.Width), ("test", r => r.Test), ("component", r => r.Component),
            ("exact_mean", r => r.Exact), ("exact_se", r => r.ExactSe), ("ess_fraction", r => r.Ess), ("gp_mean", r => r.Gp), ("gp_sd", r => r.GpSd),
            ("coefficient_predicted", r => r.Coefficient), ("coefficient_metric", r => r.Metric), ("coefficient_vertex", r => r.Vertex),
            ("corrected_mean", r => r.Gp + r.Coefficient / r.Width), ("n_exact_minus_gp", r => r.Width * (r.Exact - r.Gp)),
            ("wiring_shift", r => r.Wiring), ("wiring_se", r => r.WiringSe), ("wiring_predicted", r => r.WiringCoefficient / r.Width),
            ("exact_variance", r => r.ExactVar), ("exact_variance_se", r => r.ExactVarSe), ("gp_variance", r => r.GpSd * r.GpSd),
            ("variance_coefficient_predicted", r => r.VarCoefficient), ("corrected_variance", r => r.GpSd * r.GpSd + r.VarCoefficient / r.Width));
        foreach (var act in acts)
        {
            var mine = rows.Where(r => r.Act == act.Name).ToList();
            output.Plots.Add(coefficientPlots[Array.IndexOf(acts, act)]);
            var first = mine.Where(r => r.Test == 0 && r.Component == 0).OrderBy(r => r.Width).ToList();
            var ns = Enumerable.Range(0, 40).Select(i => widths[0] * 0.75 * Math.Pow(widths[^1] * 1.5 / (widths[0] * 0.75), i / 39.0)).ToArray();
            output.Plots.Add(new PlotSpec($"{act.Name}: posterior mean at test input 0, component 0", "width n", "posterior mean",
            [
                new SeriesSpec("exact (importance sampling)", first.Select(r => (double)r.Width).ToArray(), first.Select(r => r.Exact).ToArray(), SeriesKind.Points, first.Select(r => r.ExactSe).ToArray()),
                new SeriesSpec("GP (n = ∞)", ns, ns.Select(_ => first[0].Gp).ToArray(), SeriesKind.Line, Dashed: true),
                new SeriesSpec("GP + c/n", ns, ns.Select(n => first[0].Gp + first[0].Coefficient / n).ToArray(), SeriesKind.Line),
            ], LogX: true, Caption: $"GP posterior sd {first[0].GpSd:G3}. Exact observations of {na} training points, {outputs} output components."));
        }
        return output;
    }

    /// <summary>claims.md B5: calibration of the infinite-width posterior on a teacher regression task.</summary>
    private static void Calibrate(Settings s, int depth, Rng calibRng, ExperimentOutput output)
    {
        int calibTrain = s.GetInt("calib_train", 2), calibTest = s.GetInt("calib_test", 10), calibDim = s.GetInt("calib_dim", 1);
        double calibNoise = s.GetDouble("calib_noise", 0);
        var calibX = Inputs.ToSphere(Synthetic.GaussianInputs(calibTrain + calibTest, calibDim, calibRng.Split(0)));
        var task = Teacher.Label(calibX, "dense(32)-tanh-dense(1)", calibRng.Split(1), calibNoise);
        var (calibTrainSet, calibTestSet) = (task.Take(calibTrain), task.Subset([.. Enumerable.Range(calibTrain, calibTest)]));
        output.Facts["calibration_task"] = $"teacher dense(32)-tanh-dense(1) on the sphere in d = {calibDim}, label noise sd {calibNoise}; {calibTrain} training, {calibTest} held-out points";
        var calibration = new List<(string Act, CalibrationResult R)>();
        foreach (var calibAct in s.GetList("calib_acts").Select(Activation.Parse))
        {
            var sp = new MlpSpec(calibDim, 512, depth, calibAct, Criticality.CriticalWeightVariance(calibAct), 0).Validated();
            var student = sp.ToNetworkSpec();
            var r = NngpCalibration.Run(student, calibTrainSet, calibTestSet);
            calibration.Add((sp.Activation.Name, r));
            int at90 = Array.IndexOf(r.Nominal, 0.9);
            double cov = r.CoverageGp[at90], se = Math.Sqrt(0.9 * 0.1 / r.Test);
            output.Claims.Add(Claim.Compare($"nngp-coverage-{sp.Activation.Name}",
                $"{sp.Activation.Name} NNGP ({depth} hidden layers, output scale and noise by maximum marginal likelihood): the 90 % posterior predictive interval covers 85–95 % of held-out targets (calibrated)",
                "seed 002 §9.1; claims.md B5", 0.9, cov, se, Math.Max(0.05, 4 * se),
                $"{r.Test} held-out targets; fitted s² = {r.Scale:G3}, noise variance {r.NoiseVariance:G3}; mean NLL: NNGP {r.NllGp:G4} ± {r.NllGpSe:G2}, NTK-GP ensemble of trained networks {r.NllEnsemble:G4} ± {r.NllEnsembleSe:G2} (difference SE {r.NllDifferenceSe:G2}; claims.md: reported, not a criterion); ensemble coverage at 90 %: {r.CoverageEnsemble[at90]:G3}; tolerance max(0.05, 4·binomial SE)."));
        }
        output.Tables["calibration"] = SeriesTable.FromRows([.. calibration.SelectMany(c => c.R.Nominal.Select((p, i) => (c.Act, p, Gp: c.R.CoverageGp[i], Ens: c.R.CoverageEnsemble[i], c.R)))],
            ("activation", r => r.Act), ("nominal", r => r.p), ("coverage_nngp", r => r.Gp), ("coverage_ntk_ensemble", r => r.Ens),
            ("nll_nngp", r => r.R.NllGp), ("nll_ntk_ensemble", r => r.R.NllEnsemble));
        output.Plots.Add(new PlotSpec("Calibration on held-out targets (claims.md B5)", "nominal level of the central interval", "empirical coverage",
        [
            .. calibration.SelectMany(c => new[]
            {
                new SeriesSpec($"{c.Act} NNGP posterior", c.R.Nominal, c.R.CoverageGp, SeriesKind.Points, [.. c.R.Nominal.Select(p => Math.Sqrt(p * (1 - p) / c.R.Test))]),
                new SeriesSpec($"{c.Act} NTK-GP ensemble", c.R.Nominal, c.R.CoverageEnsemble, SeriesKind.Points),
            }),
            new SeriesSpec("calibrated", [0.5, 0.99], [0.5, 0.99], SeriesKind.Line, Dashed: true),
        ], Caption: "Points on the diagonal are calibrated; below it the intervals are too narrow (over-confident). Both predictors share the fitted output scale and noise."));
    }

    private sealed record Row(string Act, int Width, int Test, int Component, double Exact, double ExactSe, double Ess, double Gp, double GpSd,
        double Coefficient, double Metric, double Vertex, double Wiring, double WiringSe, double WiringCoefficient,
        double ExactVar, double ExactVarSe, double VarCoefficient);

    private static double Rms(IEnumerable<double> v) => Math.Sqrt(v.Average(t => t * t));

    /// <summary>The targets with every component but <paramref name="keep"/> set to 0.</summary>
    private static Matrix OnlyColumn(Matrix y, int keep)
    {
        var r = new Matrix(y.Rows, y.Cols);
        for (int a = 0; a < y.Rows; a++) r[a, keep] = y[a, keep];
        return r;
    }
}
