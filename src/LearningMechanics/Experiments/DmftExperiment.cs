using System.Globalization;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.KernelRegime;
using LearningMechanics.Theory.Kernels;
using LearningMechanics.Theory.MeanField;
using LearningMechanics.Training;

namespace LearningMechanics.Experiments;

/// <summary>
/// <c>dmft</c> (Bordelon &amp; Pehlevan 2022; Lauditi et al. 2026, Figs. 1, 11): the infinite-width limit of a two-layer
/// mean-field network dense(N)-φ-dense(1) with richness γ₀ (<see cref="TwoLayerDmft"/>) against finite networks trained by
/// full-batch GD on P points of a single-index cubic target, at several widths and initialisations, and against the lazy
/// (NTK kernel-dynamics) prediction. Claims: the loss curve and the feature-kernel movement of the networks extrapolate
/// (1/N) to the DMFT's; the deviation of the learned kernel from the DMFT's falls as N^−1/2; as γ₀ → 0 the DMFT equals
/// the NTK kernel dynamics; the top NTK eigenvalue at the end is the DMFT's (not the initial one); and the NTK's movement is
/// width-independent under μP (mean field) but shrinks as 1/N under NTK parameterisation (the dNTK; Roberts &amp; Yaida 2022).
/// </summary>
public sealed class DmftExperiment : IExperiment
{
    private const string Reference = "Bordelon & Pehlevan 2022; Lauditi et al. 2026, Figs. 1, 11";

    public string Id => "dmft";
    public string Title => "Dynamical mean-field theory predicts feature learning in wide two-layer networks";
    public string Summary => "mean-field (μP) two-layer nets at γ₀ = 1 converge to the DMFT's loss curve, kernel movement and top " +
        "NTK eigenvalue (deviation ∝ N^−1/2); γ₀ → 0 is the NTK; the NTK moves width-independently under μP, " +
        "∝ N^−1/2 under NTP";
    public string Source => Reference;

    public IReadOnlyList<SettingInfo> Settings { get; } =
    [
        new("widths", "hidden widths N (≥ 3: the 1/N extrapolation and the slopes)", "128,256,512,1024,2048",
            "128,256,512,1024,2048,4096,8192"),
        new("nets", "networks (initialisations) per width and parameterisation", "10", "16"),
        new("points", "training points P (Gaussian inputs, single-index cubic target)", "16", "32"),
        new("dim", "input dimension D", "10", "10"),
        new("act", "hidden activation", "tanh", "tanh"),
        new("gamma0", "richness γ₀ of the rich run", "1", "1"),
        new("lazy_gamma0", "γ₀ of the DMFT run compared with the NTK kernel dynamics", "0.01", "0.01"),
        new("lr", "GD learning rate η (μP: every parameter stepped by η·γ₀²·N times its gradient)", "0.5", "0.5"),
        new("steps", "GD steps T", "400", "1000"),
        new("records", "recorded times besides t = 0", "15", "40"),
        new("samples", "DMFT Monte Carlo neurons S (split over the replicas)", "65536", "262144"),
        new("replicas", "independent DMFT replicas (their spread is the solver's SE)", "8", "8"),
    ];

    private static readonly ClaimDeclaration LossLimit = new("loss-limit",
        "the networks' loss curve (mean over the recorded times) extrapolated to N → ∞ (fit a + b/N) equals the DMFT's at " +
        "γ₀ = {gamma0}", Reference, ClaimRule.TwoSided, "4·SE of the extrapolation and of the DMFT")
    {
        Competitor = "the lazy NTK kernel dynamics (lmech predict) of the same network",
    };

    private static readonly ClaimDeclaration KernelConvergence = new("kernel-convergence",
        "the learned feature kernel's deviation ‖ΔΦ_N − ΔΦ_∞‖_F/‖ΔΦ_∞‖_F (ΔΦ = Φ(T) − Φ(0)) falls as N^−1/2: " +
        "log–log slope " +
        "−1/2", Reference, ClaimRule.TwoSided, "4·SE of the fitted slope + 0.1 (the O(1/N) bias at these widths)")
    {
        Competitor = "no convergence to the DMFT's kernel movement, slope 0",
    };

    private static readonly ClaimDeclaration MovementLimit = new("movement-limit",
        "the relative feature-kernel movement ‖Φ(T) − Φ(0)‖_F/‖Φ(0)‖_F extrapolated to N → ∞ equals the DMFT's at " +
        "γ₀ = {gamma0}",
        Reference, ClaimRule.TwoSided, "4·SE of the extrapolation and of the DMFT (jackknife over replicas)")
    {
        Competitor = "lazy training: no movement (0)",
    };

    private static readonly ClaimDeclaration LazyLimit = new("lazy-limit",
        "at γ₀ = {lazy} the DMFT loss curve (mean over the recorded times) equals the NTK kernel dynamics' (kernels in closed " +
        "form, no sampling)", "Bordelon & Pehlevan 2022; Jacot et al. 2018", ClaimRule.TwoSided,
        "4·SE of the DMFT (the O(γ₀²) feature correction is ~10⁻⁴ of the rich run's)")
    {
        Competitor = "the rich DMFT at γ₀ = {gamma0}",
    };

    private static readonly ClaimDeclaration NtkTop = new("ntk-top-limit",
        "the top eigenvalue of the empirical NTK after training, extrapolated to N → ∞, equals the DMFT's λ_max(Θ(T))",
        Reference, ClaimRule.TwoSided, "4·SE of the extrapolation and of the DMFT (jackknife over replicas)")
    {
        Competitor = "a frozen kernel: λ_max(Θ(0)) of the infinite-width NTK",
    };

    private static readonly ClaimDeclaration NtkMovementMup = new("ntk-movement-mup",
        "under μP (mean field) the NTK's relative movement ‖Θ̂(T) − Θ̂(0)‖_F/‖Θ̂(0)‖_F is width-independent: " +
        "log–log slope 0",
        "Lauditi et al. 2026 (super-consistency); Yang & Hu 2021", ClaimRule.TwoSided,
        "4·SE of the fitted slope + 0.1 (finite-width drift)")
    {
        Competitor = "NTK parameterisation's 1/N (the dNTK, Roberts & Yaida 2022, ch. 11), slope −1",
    };

    private static readonly ClaimDeclaration NtkMovementNtp = new("ntk-movement-ntp",
        "under NTK parameterisation (same η, same initial NTK) the NTK's relative movement shrinks as 1/N (the dNTK is " +
        "O(1/n)): log–log slope −1", "Roberts & Yaida 2022, ch. 11; Dyer & Gur-Ari 2020", ClaimRule.TwoSided,
        "4·SE of the fitted slope + 0.1 (finite-width drift)")
    {
        Competitor = "the N^−1/2 of the bound sup_t ‖Θ_t − Θ_0‖ = O(N^−1/2) (Lee et al. 2019, Theorem 2.1)",
    };

    public IReadOnlyList<ClaimDeclaration> Claims { get; } =
        [LossLimit, KernelConvergence, MovementLimit, LazyLimit, NtkTop, NtkMovementMup, NtkMovementNtp];

    public void Validate(Settings settings) => Setup.From(settings);

    /// <summary>Two DMFT solves (S·P·(2P + 3) multiply–adds a step), 2·nets·widths training runs with a feature kernel per
    /// record and two empirical NTKs each; memory: the DMFT state S·(4P + 2) doubles and the networks.</summary>
    public ResourceEstimate? Estimate(Settings settings)
    {
        var p = Setup.From(settings);
        double dmft = 2 * 2.0 * p.Samples * p.Points * (2.0 * p.Points + 3) * p.Steps;
        double nets = 0;
        foreach (int n in p.Widths)
        {
            double w = WorkEstimate.MlpWeights(p.Dim, n, 1);
            nets += 2.0 * p.Nets * (WorkEstimate.Training(w, p.Steps, p.Points, p.Points)
                + 2 * WorkEstimate.EmpiricalNtk(w, p.Points) + (p.Records + 1) * 2.0 * n * p.Points * p.Points);
        }
        double widest = WorkEstimate.MlpWeights(p.Dim, p.Widths[^1], 1);
        double bytes = WorkEstimate.Float64 * p.Samples * (4.0 * p.Points + 2)
            + WorkEstimate.Threads * (WorkEstimate.TrainedNetwork(widest) + WorkEstimate.Activations(p.Widths[^1], p.Points)
                + WorkEstimate.Float64 * widest * p.Points);
        return new ResourceEstimate(dmft + nets, bytes);
    }

    private const ulong DataStream = 0;
    private const ulong NetStream = 1;
    private const ulong DmftStream = 2;

    private sealed record Setup(int[] Widths, int Nets, int Points, int Dim, Activation Act, double Gamma0, double LazyGamma0,
        double Lr, int Steps, int Records, int Samples, int Replicas)
    {
        public static Setup From(Settings s)
        {
            var widths = s.GetIntList("widths", 8).Distinct().Order().ToArray();
            if (widths.Length < 3) throw new BadInputException("Setting widths needs at least 3 distinct widths (the fits).");
            int steps = s.GetInt("steps", 1);
            int records = s.GetInt("records", 1);
            if (records > steps) throw new BadInputException($"Setting records = {records} must be ≤ steps = {steps}.");
            var act = Activation.Parse(s.GetString("act"));
            if (!act.IsDifferentiable) throw new BadInputException($"Setting act: '{act.Name}' has no derivative (GD cannot train it).");
            int replicas = s.GetInt("replicas", 2);
            if (replicas > 64) throw new BadInputException($"Setting replicas = {replicas} must be ≤ 64.");
            int samples = s.GetInt("samples", 2 * replicas);
            if (samples > TwoLayerDmft.MaxSamples)
                throw new BadInputException($"Setting samples = {samples} is above {TwoLayerDmft.MaxSamples:N0}.");
            return new Setup(widths, s.GetInt("nets", 2), s.GetInt("points", 2), s.GetInt("dim", 1), act,
                s.GetDouble("gamma0", 1e-12), s.GetDouble("lazy_gamma0", 1e-12), s.GetDouble("lr", 1e-12), steps, records, samples,
                replicas);
        }

        public int Every => Steps / Records;

        public string Arch(int width) => $"dense({width})-{Act.Name}-dense(1)";
    }

    /// <summary>One network's record: losses and feature kernels at the recorded steps, the empirical NTK at both ends.</summary>
    private sealed record NetRun(Parameterization Param, int Width, int Seed, double[] Loss, Matrix[] Phi, Matrix Ntk0, Matrix NtkT,
        string? Failure)
    {
        public double MeanLoss => Loss.Average();
        public double Movement => Norm(Phi[^1], Phi[0]) / Norm(Phi[0]);
        public double NtkMovement => Norm(NtkT, Ntk0) / Norm(Ntk0);
        public double NtkTop => Lapack.SymmetricEigen(NtkT).Values[^1];
    }

    /// <summary>‖a − b‖_F (b = null: ‖a‖_F).</summary>
    private static double Norm(Matrix a, Matrix? b = null)
    {
        double s = 0;
        for (int i = 0; i < a.Data.Length; i++) { double d = a.Data[i] - (b?.Data[i] ?? 0); s += d * d; }
        return Math.Sqrt(s);
    }

    /// <summary>P standard Gaussian inputs in D dimensions and y = He₃(z)/√6, z = β·x with a random unit β (a single-index
    /// cubic target of unit variance).</summary>
    public static Dataset SingleIndexTask(int points, int dim, Rng rng)
    {
        var x = new Matrix(points, dim);
        rng.Split(0).FillGaussian(x.Data);
        var beta = new double[dim];
        rng.Split(1).FillGaussian(beta);
        double norm = Math.Sqrt(beta.Sum(b => b * b));
        var y = new Matrix(points, 1);
        for (int i = 0; i < points; i++)
        {
            double z = 0;
            for (int j = 0; j < dim; j++) z += beta[j] * x[i, j] / norm;
            y[i, 0] = (z * z * z - 3 * z) / Math.Sqrt(6);
        }
        return new Dataset(x, y, Name: "single-index cubic");
    }

    public ExperimentOutput Run(RunContext ctx)
    {
        var p = Setup.From(ctx.Settings);
        var root = new Rng(ctx.Seed);
        var data = SingleIndexTask(p.Points, p.Dim, root.Split(DataStream));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var rich = TwoLayerDmft.Solve(new TwoLayerProblem(data.X, data.Y, p.Act, p.Gamma0, p.Lr, p.Steps), p.Samples, p.Replicas,
            p.Every, root.Split(DmftStream, 0), ctx.Progress, ctx.Cancellation);
        var lazy = TwoLayerDmft.Solve(new TwoLayerProblem(data.X, data.Y, p.Act, p.LazyGamma0, p.Lr, p.Steps), p.Samples, p.Replicas,
            p.Every, root.Split(DmftStream, 1), ctx.Progress, ctx.Cancellation);
        double dmftSeconds = clock.Elapsed.TotalSeconds;
        var ntk = NeuralKernels.Compute(NetworkSpec.Parse(p.Arch(1)), data.X).Ntk!;
        var kernel = new KernelDynamics(ntk);
        var kernelLoss = rich.Steps.Select(t =>
        {
            var f = kernel.Mean(ntk, data.Y, TrainingTime.Discrete(t, p.Lr));
            return Enumerable.Range(0, p.Points).Average(i => (f[i, 0] - data.Y[i, 0]) * (f[i, 0] - data.Y[i, 0]));
        }).ToArray();
        Parameterization[] parameterizations = [Parameterization.MeanField, Parameterization.Ntk];
        var jobs = (from param in parameterizations from w in p.Widths.Reverse() from s in Enumerable.Range(0, p.Nets)
                    select (param, w, s)).ToArray();
        var runs = new NetRun[jobs.Length];
        int done = 0;
        Blas.SingleThreaded(() => Parallel.For(0, jobs.Length, Parallelism.Options(ctx.Cancellation), j =>
        {
            var (param, w, s) = jobs[j];
            runs[j] = Train(p, data, rich.Steps, param, w, root.Split(NetStream, (ulong)param).Split((ulong)w, (ulong)s), s);
            ctx.Progress?.Report(new ProgressInfo("networks", Interlocked.Increment(ref done), jobs.Length));
        }));
        var output = new ExperimentOutput();
        output.Timings["dmft_s"] = dmftSeconds;
        output.Timings["training_s"] = clock.Elapsed.TotalSeconds - dmftSeconds;
        output.Facts["dmft_status"] = rich.Diverged ? $"diverged at step {rich.DivergedAt}" : rich.Status;
        output.Facts["lazy_dmft_status"] = lazy.Diverged ? $"diverged at step {lazy.DivergedAt}" : lazy.Status;
        var failed = runs.Where(r => r.Failure is not null).ToArray();
        if (failed.Length > 0)
            output.Facts["failed_runs"] = string.Join("; ",
                failed.Select(r => $"{r.Param.ToText()} N={r.Width} seed {r.Seed}: {r.Failure}"));
        Judge(output, p, [.. runs.Where(r => r.Failure is null)], rich, lazy, kernelLoss, ntk, failed.Length);
        Tabulate(output, rich, lazy, kernelLoss, runs);
        Plot(output, p, rich, kernelLoss, [.. runs.Where(r => r.Failure is null)]);
        return output;
    }

    private static NetRun Train(Setup p, Dataset data, int[] record, Parameterization param, int width, Rng rng, int seed)
    {
        var spec = NetworkSpec.Parse(p.Arch(width), param) with
        {
            Gamma0 = param == Parameterization.Ntk ? 1 : p.Gamma0,
        };
        var net = new Network<double>(spec, data.InputDim);
        net.Initialize(rng);
        var probe = new EmpiricalNtk(net, data.Count, stepKernel: true);
        var ntk0 = probe.Compute(data.X);
        var phi = new List<Matrix>();
        var options = new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Gd, p.Lr), p.Steps);
        var result = new Trainer<double>(net, data, options).Run(state =>
        {
            if (phi.Count < record.Length && record[phi.Count] == state.Step) phi.Add(FeatureKernel(state.Network, data.X));
        }, p.Every);
        if (result.Status != TrainingStatus.Completed)
            return new NetRun(param, width, seed, [], [], ntk0, ntk0, $"{result.StatusText} {result.Note}".Trim());
        if (phi.Count < record.Length) phi.Add(FeatureKernel(net, data.X));
        var loss = record.Select(t => t < p.Steps ? result.Losses[t] : result.FinalLoss!.Value).ToArray();
        return new NetRun(param, width, seed, loss, [.. phi], ntk0, probe.Compute(data.X), null);
    }

    /// <summary>Φ_N = φ(h)φ(h)ᵀ/N on the training points (the readout's input).</summary>
    private static Matrix FeatureKernel(Network<double> net, Matrix x)
    {
        var f = Representations.Penultimate(net, x);
        var k = Matrix.Multiply(f, f, Transpose.No, Transpose.Yes);
        for (int i = 0; i < k.Data.Length; i++) k.Data[i] /= f.Cols;
        return k;
    }

    private static void Judge(ExperimentOutput output, Setup p, NetRun[] runs, DmftSolution rich, DmftSolution lazy,
        double[] kernelLoss, Matrix ntk, int failures)
    {
        string lost = failures > 0 ? $" {failures} runs failed and were left out (facts: failed_runs)." : "";
        var mf = runs.Where(r => r.Param == Parameterization.MeanField).ToArray();
        var ntp = runs.Where(r => r.Param == Parameterization.Ntk).ToArray();
        double kernelMean = kernelLoss.Average();
        var (richMean, richSe) = rich.Jackknife(r => r.Loss.Average());
        var (lazyMean, lazySe) = lazy.Jackknife(r => r.Loss.Average());
        var (movement, movementSe) = rich.Jackknife(r => Norm(r.Phi[^1], r.Phi[0]) / Norm(r.Phi[0]));
        var (top, topSe) = rich.Jackknife(r => Lapack.SymmetricEigen(r.Ntk[^1]).Values[^1]);
        double top0 = Lapack.SymmetricEigen(ntk).Values[^1];
        string dmftNote = Text($"DMFT: {rich.Samples} neurons in {rich.Replicas.Length} replicas, {rich.Seconds:F1} s.");
        if (rich.Diverged || lazy.Diverged)
        {
            string why = $"The DMFT diverged (rich: {rich.Status} {rich.DivergedAt}; lazy: {lazy.Status} {lazy.DivergedAt}): lower lr.";
            foreach (var c in new[] { LossLimit, KernelConvergence, MovementLimit, LazyLimit, NtkTop })
                output.Claims.Add(c.With(("gamma0", p.Gamma0), ("lazy", p.LazyGamma0)).Inconclusive(null, why));
        }
        else
        {
            output.Claims.Add(Extrapolated(LossLimit.With(("gamma0", p.Gamma0)), p, mf, r => r.MeanLoss, richMean, richSe, kernelMean,
                Text($"mean loss over {rich.Steps.Length} recorded times; DMFT {richMean:G5} ± {richSe:G2}; lazy NTK {kernelMean:G5}. ")
                + dmftNote + lost));
            output.Claims.Add(WidthSlope(KernelConvergence.With(), p, mf, r => Norm(Sub(r.Phi[^1], r.Phi[0]),
                Sub(rich.Phi[^1], rich.Phi[0])) / Norm(rich.Phi[^1], rich.Phi[0]), -0.5, 0, lost));
            output.Claims.Add(Extrapolated(MovementLimit.With(("gamma0", p.Gamma0)), p, mf, r => r.Movement, movement, movementSe, 0,
                Text($"DMFT movement {movement:G4} ± {movementSe:G2}; at γ₀ = {p.LazyGamma0} it is ") +
                Text($"{Norm(lazy.Phi[^1], lazy.Phi[0]) / Norm(lazy.Phi[0]):G3}. ") + dmftNote + lost));
            var lazyClaim = LazyLimit.With(("lazy", p.LazyGamma0), ("gamma0", p.Gamma0));
            output.Claims.Add(lazyClaim.Compare(kernelMean, lazyMean, lazySe, 4 * lazySe, Text(
                $"mean loss over {lazy.Steps.Length} recorded times: DMFT at γ₀ = {p.LazyGamma0} {lazyMean:G6} ± {lazySe:G2}, NTK ") +
                Text($"kernel dynamics {kernelMean:G6}; final losses {lazy.Loss[^1]:G4} and {kernelLoss[^1]:G4}. ") + dmftNote,
                richMean));
            output.Claims.Add(Extrapolated(NtkTop.With(), p, mf, r => r.NtkTop, top, topSe, top0,
                Text($"DMFT λ_max(Θ(T)) = {top:G5} ± {topSe:G2}; λ_max(Θ(0)) = {top0:G5} (closed-form NTK). ") + dmftNote + lost));
        }
        output.Claims.Add(WidthSlope(NtkMovementMup.With(), p, mf, r => r.NtkMovement, 0, -1, lost));
        output.Claims.Add(WidthSlope(NtkMovementNtp.With(), p, ntp, r => r.NtkMovement, -1, -0.5, lost));
    }

    private static Matrix Sub(Matrix a, Matrix b)
    {
        var c = new Matrix(a.Rows, a.Cols);
        for (int i = 0; i < c.Data.Length; i++) c.Data[i] = a.Data[i] - b.Data[i];
        return c;
    }

    /// <summary>The networks' per-width mean of <paramref name="value"/> extrapolated (a + b/N) against the DMFT's value.</summary>
    private static Claim Extrapolated(DeclaredClaim claim, Setup p, NetRun[] runs, Func<NetRun, double> value, double predicted,
        double predictedSe, double competitor, string context)
    {
        var widths = p.Widths.Where(w => runs.Count(r => r.Width == w) >= 2).ToArray();
        if (widths.Length < 3) return claim.Inconclusive(predicted, $"Fewer than 3 widths with 2 finished networks. {context}");
        var mean = widths.Select(w => runs.Where(r => r.Width == w).Average(value)).ToArray();
        var se = widths.Select(w => Statistics.StandardError([.. runs.Where(r => r.Width == w).Select(value)])).ToArray();
        // a + b/N over every width (three or four widths do not pin a 1/N² term down; its absence shows in the reduced χ²,
        // which inflates the SE when above 1).
        var fit = Statistics.FitLine([.. widths.Select(w => 1.0 / w)], mean, se);
        double total = Math.Sqrt(fit.InterceptStdErr * fit.InterceptStdErr + predictedSe * predictedSe);
        return claim.Compare(predicted, fit.Intercept, total, 4 * total,
            Text($"N → ∞ fit a + b/N: {fit.Intercept:G5} ± {fit.InterceptStdErr:G2} (b = {fit.Slope:G3} ± {fit.SlopeStdErr:G2}, ") +
            Text($"reduced χ² {fit.ReducedChiSquare:G3}); by width: ")
            + string.Join("; ", widths.Select((w, i) => Text($"{w}: {mean[i]:G5} ± {se[i]:G2}")))
            + ". " + context, competitor);
    }

    private static Claim WidthSlope(DeclaredClaim claim, Setup p, NetRun[] runs, Func<NetRun, double> value, double predicted,
        double competitor, string lost)
    {
        var widths = p.Widths.Where(w => runs.Count(r => r.Width == w) >= 2).ToArray();
        var mean = widths.Select(w => runs.Where(r => r.Width == w).Average(value)).ToArray();
        var se = widths.Select(w => Statistics.StandardError([.. runs.Where(r => r.Width == w).Select(value)])).ToArray();
        var fit = ScalingFits.Slope(claim, [.. widths.Select(w => (double)w)], mean, se, predicted, 0.1,
            "the O(1/N) bias at these widths", competitor);
        return fit with
        {
            Note = $"{fit.Note} Values by width: " + string.Join("; ", widths.Select((w, i) => Text($"{w}: {mean[i]:G4} ± {se[i]:G2}")))
                + "." + lost,
        };
    }

    private static string Text(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static void Tabulate(ExperimentOutput output, DmftSolution rich, DmftSolution lazy, double[] kernelLoss, NetRun[] runs)
    {
        var k = Enumerable.Range(0, rich.Steps.Length).ToArray();
        output.Tables["dmft"] = SeriesTable.FromRows(k,
            ("step", i => (double)rich.Steps[i]), ("loss", i => rich.Loss[i]), ("loss_se", i => rich.LossSe[i]),
            ("lazy_dmft_loss", i => lazy.Loss[i]), ("lazy_dmft_loss_se", i => lazy.LossSe[i]), ("ntk_loss", i => kernelLoss[i]),
            ("phi_00", i => rich.Phi[i][0, 0]), ("phi_01", i => rich.Phi[i][0, 1]),
            ("ntk_top", i => Lapack.SymmetricEigen(rich.Ntk[i]).Values[^1]));
        output.Tables["runs"] = SeriesTable.FromRows(runs,
            ("param", r => r.Param.ToText()), ("width", r => (double)r.Width), ("seed", r => (double)r.Seed),
            ("mean_loss", r => r.Failure is null ? r.MeanLoss : double.NaN),
            ("final_loss", r => r.Failure is null ? r.Loss[^1] : double.NaN),
            ("kernel_movement", r => r.Failure is null ? r.Movement : double.NaN),
            ("ntk_movement", r => r.Failure is null ? r.NtkMovement : double.NaN),
            ("ntk_top_final", r => r.Failure is null ? r.NtkTop : double.NaN));
        var rows = (from r in runs where r.Failure is null from i in k select (r, i)).ToArray();
        output.Tables["curves"] = SeriesTable.FromRows(rows,
            ("param", x => x.r.Param.ToText()), ("width", x => (double)x.r.Width), ("seed", x => (double)x.r.Seed),
            ("step", x => (double)rich.Steps[x.i]), ("loss", x => x.r.Loss[x.i]), ("phi_00", x => x.r.Phi[x.i][0, 0]),
            ("phi_01", x => x.r.Phi[x.i][0, 1]));
    }

    private static void Plot(ExperimentOutput output, Setup p, DmftSolution rich, double[] kernelLoss, NetRun[] runs)
    {
        double[] t = [.. rich.Steps.Select(s => (double)s)];
        var loss = new List<SeriesSpec>
        {
            new("DMFT", t, rich.Loss, SeriesKind.Line, rich.LossSe),
            new("lazy (NTK)", t, kernelLoss, SeriesKind.Line, Dashed: true),
        };
        var phi = new List<SeriesSpec> { new("DMFT Φ₀₀", t, [.. rich.Phi.Select(m => m[0, 0])], SeriesKind.Line) };
        phi.Add(new SeriesSpec("DMFT Φ₀₁", t, [.. rich.Phi.Select(m => m[0, 1])], SeriesKind.Line));
        foreach (int w in p.Widths)
        {
            var at = runs.Where(r => r.Param == Parameterization.MeanField && r.Width == w).ToArray();
            if (at.Length == 0) continue;
            loss.Add(new SeriesSpec($"μP N = {w}", t, [.. t.Select((_, i) => at.Average(r => r.Loss[i]))], SeriesKind.Points));
            phi.Add(new SeriesSpec($"Φ₀₀ N = {w}", t, [.. t.Select((_, i) => at.Average(r => r.Phi[i][0, 0]))], SeriesKind.Points));
            phi.Add(new SeriesSpec($"Φ₀₁ N = {w}", t, [.. t.Select((_, i) => at.Average(r => r.Phi[i][0, 1]))], SeriesKind.Points));
        }
        output.Plots.Add(new PlotSpec("Training loss: DMFT, finite μP networks and the lazy limit", "GD step", "MSE", loss, LogY: true,
            Caption: Text($"γ₀ = {p.Gamma0}, η = {p.Lr}; networks averaged over {p.Nets} initialisations per width; DMFT ± SE ") +
                "over replicas (Bordelon & Pehlevan 2022)."));
        output.Plots.Add(new PlotSpec("Feature kernel entries Φ(t, t)", "GD step", "Φ", phi,
            Caption: "Two entries of the hidden feature kernel: DMFT (lines) and the mean over networks (points)."));
        var dev = new List<SeriesSpec>();
        var widths = p.Widths.Where(w => runs.Any(r => r.Param == Parameterization.MeanField && r.Width == w)).ToArray();
        var dPhi = Sub(rich.Phi[^1], rich.Phi[0]);
        dev.Add(new SeriesSpec("‖ΔΦ_N − ΔΦ_∞‖/‖ΔΦ_∞‖", [.. widths.Select(w => (double)w)], [.. widths.Select(w => runs
            .Where(r => r.Param == Parameterization.MeanField && r.Width == w)
            .Average(r => Norm(Sub(r.Phi[^1], r.Phi[0]), dPhi) / Norm(dPhi)))], SeriesKind.Points));
        output.Plots.Add(new PlotSpec("Deviation of the learned feature kernel from the DMFT", "width N", "relative deviation", dev,
            LogX: true, LogY: true, Caption: "Predicted slope −1/2 (the networks' O(N^−1/2) fluctuations around the limit)."));
    }
}
