using System.Globalization;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.RandomMatrix;
using LearningMechanics.Training;

namespace LearningMechanics.Experiments;

/// <summary>
/// <c>spectral-outliers</c> (Lauditi et al. 2026, Figs. 2–3): the spectrum of a hidden weight matrix during training. The
/// network dense(N)-tanh-dense(N)-tanh-dense(10) is trained by full-batch GD (MSE on one-hot Fashion-MNIST labels) in μP
/// and in NTK parameterisation at several widths; the eigenvalues of WᵀW of the effective N × N hidden weight (entries of
/// variance 1/N at initialisation, so Marchenko–Pastur with q = 1, σ² = 1: support [0, 4]) are recorded over training.
/// Claims: Marchenko–Pastur at initialisation; under μP the bulk stays while at most C outliers (C = 10 classes) detach;
/// the update ΔW = W(T) − W(0) has a width-independent operator norm under μP and shrinks as N^{−1/2} under NTK
/// parameterisation (power counting: Yang &amp; Hu 2021), so only μP's outliers are width-consistent.
/// </summary>
public sealed class SpectralOutliersExperiment : IExperiment
{
    private const string Reference = "Lauditi et al. 2026, Figs. 2–3";

    public string Id => "spectral-outliers";
    public string Title => "Spectral outliers: a Marchenko–Pastur bulk that stays and outliers that detach under μP";
    public string Summary => "hidden-weight spectra over training: MP at initialisation, a frozen bulk with at most C outliers under " +
        "μP, a width-independent spike ‖ΔW‖ under μP that shrinks as N^−1/2 under NTK parameterisation";
    public string Source => Reference + "; Marchenko & Pastur 1967; Yang & Hu 2021";

    public IReadOnlyList<SettingInfo> Settings { get; } =
    [
        new("widths", "hidden widths N (≥ 3: the width slopes)", "128,256,512", "256,512,1024,2048"),
        new("n_train", "Fashion-MNIST training images (2×2-pooled to 14×14, standardised; 10 classes, one-hot MSE targets)",
            "256", "1024"),
        new("steps", "full-batch GD steps", "600", "2000"),
        new("lr", "GD learning rate under μP", "6", "6"),
        new("ntk_lr", "GD learning rate under NTK parameterisation", "6", "6"),
        new("seeds", "independently initialised networks per (parameterisation, width)", "3", "4"),
        new("records", "spectra recorded over training, besides the initial one", "3", "8"),
        new("null_draws", "Gaussian N × N matrices per width for the null distribution of the KS distance to Marchenko–Pastur",
            "60", "40"),
    ];

    private static readonly ClaimDeclaration MpAtInit = new("mp-at-init",
        "at initialisation the eigenvalues of WᵀW (hidden N × N weight) follow Marchenko–Pastur (q = 1, σ² = 1): mean KS " +
        "distance at most that of Gaussian matrices (the worst width)", "Marchenko & Pastur 1967; " + Reference,
        ClaimRule.AtMost, "4·SE of the null's mean and of the measured mean")
    {
        Competitor = "a semicircle with the same mean and variance (the KS distance between the two laws)",
    };

    private static readonly ClaimDeclaration BulkEdge = new("bulk-edge-mup",
        "under μP the bulk stays: after training the largest non-outlier eigenvalue λ_(k+1)(T) equals the initial top " +
        "eigenvalue λ₁(0) (ratio 1; the worst width)", Reference, ClaimRule.TwoSided,
        "4·SE over networks + N^−2/3 (one level spacing at the edge)")
    {
        Competitor = "training inflates the whole spectrum with the weights (ratio Σλ(T)/Σλ(0))",
    };

    private static readonly ClaimDeclaration OutlierCount = new("outlier-count-mup",
        "under μP at most C = {classes} eigenvalues detach above the bulk edge 4(1 + 3N^−2/3) by the end (the largest count " +
        "over widths and networks)", Reference, ClaimRule.AtMost, "none (a count)")
    {
        Competitor = "no outliers (the lazy, kernel picture)",
    };

    private static readonly ClaimDeclaration SpikeMup = new("spike-mup",
        "under μP the operator norm of the update ‖W(T) − W(0)‖ is independent of the width: log–log slope 0",
        "Yang & Hu 2021; " + Reference, ClaimRule.TwoSided, "4·SE of the fitted slope + 0.1 (finite-width drift)")
    {
        Competitor = "NTK power counting, slope −1/2",
    };

    private static readonly ClaimDeclaration SpikeNtk = new("spike-ntk",
        "under NTK parameterisation the operator norm of the update ‖W(T) − W(0)‖ shrinks as N^−1/2: log–log slope −1/2",
        "Yang & Hu 2021; " + Reference, ClaimRule.TwoSided, "4·SE of the fitted slope + 0.1 (finite-width drift)")
    {
        Competitor = "a width-independent update (μP), slope 0",
    };

    private static readonly ClaimDeclaration OutlierMup = new("outlier-width-mup",
        "under μP the top outlier's distance from the bulk edge, λ₁(T) − 4, is independent of the width: log–log slope 0",
        Reference, ClaimRule.TwoSided, "4·SE of the fitted slope + 0.1 (finite-width drift)")
    {
        Competitor = "NTK power counting: a distance ∝ θ² with the spike θ ∝ N^−1/2, slope −1",
    };

    public IReadOnlyList<ClaimDeclaration> Claims { get; } = [MpAtInit, BulkEdge, OutlierCount, SpikeMup, SpikeNtk, OutlierMup];

    public void Validate(Settings settings) => Setup.From(settings);

    /// <summary>Training runs (6·weights·batch per step on the full batch), a values-only SVD of the N × N hidden weight per
    /// record and for the update, and the null's Gaussian matrices; memory: the data, per thread a network with its
    /// workspaces and three N × N matrices, and the recorded spectra.</summary>
    public ResourceEstimate? Estimate(Settings settings)
    {
        var p = Setup.From(settings);
        double runs = 2.0 * p.Seeds * p.Widths.Length;
        double flops = 0;
        double perThread = 0;
        foreach (int n in p.Widths)
        {
            double w = WorkEstimate.MlpWeights(PooledPixels, n, 2, FashionMnist.Classes);
            flops += 2.0 * p.Seeds * (WorkEstimate.Training(w, p.Steps, p.NTrain, p.NTrain) + (p.Records + 2) * WorkEstimate.Eigen(n))
                + p.NullDraws * WorkEstimate.Eigen(n);
            perThread = Math.Max(perThread, WorkEstimate.TrainedNetwork(w) + WorkEstimate.Activations(2.0 * n + 10, p.NTrain)
                + 3 * WorkEstimate.Matrix(n, n));
        }
        double bytes = WorkEstimate.FashionMnistSubset(p.NTrain) + WorkEstimate.Threads * perThread
            + runs * (p.Records + 1) * WorkEstimate.Float64 * p.Widths.Average();
        return new ResourceEstimate(flops, bytes);
    }

    /// <summary>Inputs after 2×2 pooling: 14 × 14.</summary>
    private const int PooledPixels = 196;

    /// <summary>Index of the hidden N × N weight among the dense layers.</summary>
    private const int Hidden = 1;

    /// <summary>MP edge of WᵀW at q = 1, σ² = 1.</summary>
    private const double Edge = 4;

    private const ulong DataStream = 0;
    private const ulong NetStream = 1;
    private const ulong NullStream = 2;

    private sealed record Setup(int[] Widths, int NTrain, int Steps, double Lr, double NtkLr, int Seeds, int Records, int NullDraws)
    {
        public static Setup From(Settings s)
        {
            var widths = s.GetIntList("widths", 4).Distinct().Order().ToArray();
            if (widths.Length < 3) throw new BadInputException("Setting widths needs at least 3 distinct widths (the slope fits).");
            if (widths[^1] > MaxWidth)
                throw new BadInputException($"Setting widths: {widths[^1]} is above {MaxWidth} (a dense SVD per record).");
            int nTrain = FashionMnist.TrainSubset("n_train", s.GetInt("n_train", 10));
            int steps = s.GetInt("steps", 1);
            int records = s.GetInt("records", 1);
            if (records > steps) throw new BadInputException($"Setting records = {records} must be ≤ steps = {steps}.");
            return new Setup(widths, nTrain, steps, s.GetDouble("lr", 1e-12), s.GetDouble("ntk_lr", 1e-12), s.GetInt("seeds", 2),
                records, s.GetInt("null_draws", 10));
        }

        public int Every => Steps / Records;

        public static NetworkSpec Spec(int width, Parameterization param) =>
            NetworkSpec.Parse($"dense({width})-tanh-dense({width})-tanh-dense({FashionMnist.Classes})", param, 1, 0);
    }

    /// <summary>Widest hidden layer accepted: 16384² weights, a dense SVD per record.</summary>
    private const int MaxWidth = 16384;

    /// <summary>
    /// One training run: the eigenvalues of WᵀW (descending) at each recorded step, the operator norm of the update, the final
    /// loss and whether training diverged.
    /// </summary>
    private sealed record SpectraRun(Parameterization Param, int Width, int Seed, int[] Steps, double[][] Eigenvalues, double Spike,
        double FinalLoss, string? Failure)
    {
        public double[] Initial => Eigenvalues[0];
        public double[] Final => Eigenvalues[^1];

        /// <summary>Eigenvalues above the bulk edge 4(1 + 3N^{−2/3}): a few Tracy–Widom widths (Johnstone 2001) above λ₊.</summary>
        public int Outliers(double[] eigenvalues) => eigenvalues.Count(l => l > Threshold(Width));

        /// <summary>λ_(k+1)(T)/λ₁(0), k the final number of outliers.</summary>
        public double EdgeRatio => Final[Math.Min(Outliers(Final), Width - 1)] / Initial[0];

        /// <summary>Σλ(T)/Σλ(0) = ‖W(T)‖²_F/‖W(0)‖²_F.</summary>
        public double Inflation => Final.Sum() / Initial.Sum();

        public double Distance => Final[0] - Edge;
    }

    public static double Threshold(int width) => MarchenkoPastur.OutlierThreshold(1, 1, width);

    public ExperimentOutput Run(RunContext ctx)
    {
        var p = Setup.From(ctx.Settings);
        var root = new Rng(ctx.Seed);
        var data = FashionMnist.Pooled(FashionMnist.Load("train", p.NTrain, root.Split(DataStream))).Standardized();
        Parameterization[] parameterizations = [Parameterization.MuP, Parameterization.Ntk];
        var jobs = (from param in parameterizations from w in p.Widths.Reverse() from s in Enumerable.Range(0, p.Seeds)
                    select (param, w, s)).ToArray();
        var runs = new SpectraRun[jobs.Length];
        int done = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Blas.SingleThreaded(() => Parallel.For(0, jobs.Length, Parallelism.Options(ctx.Cancellation), j =>
        {
            var (param, w, s) = jobs[j];
            runs[j] = Train(p, data, param, w, root.Split(NetStream, (ulong)param).Split((ulong)w, (ulong)s), s);
            ctx.Progress?.Report(new ProgressInfo("networks", Interlocked.Increment(ref done), jobs.Length));
        }));
        double trainSeconds = clock.Elapsed.TotalSeconds;
        var nulls = p.Widths.Select(w => NullKs(w, p.NullDraws, root.Split(NullStream, (ulong)w))).ToArray();
        var output = new ExperimentOutput();
        output.Timings["training_s"] = trainSeconds;
        output.Timings["null_s"] = clock.Elapsed.TotalSeconds - trainSeconds;
        var failed = runs.Where(r => r.Failure is not null).ToArray();
        if (failed.Length > 0)
            output.Facts["failed_runs"] = string.Join("; ", failed.Select(r =>
                $"{r.Param.ToText()} N={r.Width} seed {r.Seed}: {r.Failure}"));
        var ok = runs.Where(r => r.Failure is null).ToArray();
        Judge(output, p, ok, nulls, failed.Length);
        Tabulate(output, p, runs);
        Plot(output, p, ok);
        return output;
    }

    private static SpectraRun Train(Setup p, Dataset data, Parameterization param, int width, Rng rng, int seed)
    {
        var net = new Network<double>(Setup.Spec(width, param), data.InputDim);
        net.Initialize(rng);
        var w0 = net.EffectiveWeight(Hidden);
        var steps = new List<int>();
        var spectra = new List<double[]>();
        var options = new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Gd,
            param == Parameterization.MuP ? p.Lr : p.NtkLr), p.Steps);
        var trainer = new Trainer<double>(net, data, options);
        var result = trainer.Run(state =>
        {
            if (state.Step % p.Every != 0 || steps.Count >= p.Records) return;
            steps.Add(state.Step);
            spectra.Add(Eigenvalues(state.Network.EffectiveWeight(Hidden)));
        }, p.Every);
        if (result.Status != TrainingStatus.Completed)
            return new SpectraRun(param, width, seed, [], [], double.NaN, double.NaN, $"{result.StatusText} {result.Note}".Trim());
        var w = net.EffectiveWeight(Hidden);
        steps.Add(p.Steps);
        spectra.Add(Eigenvalues(w));
        for (int i = 0; i < w.Data.Length; i++) w.Data[i] -= w0.Data[i];
        double spike = Lapack.SingularValues(w)[0];
        return new SpectraRun(param, width, seed, [.. steps], [.. spectra], spike, result.FinalLoss ?? double.NaN, null);
    }

    /// <summary>Eigenvalues of WᵀW, descending: the squared singular values of W.</summary>
    private static double[] Eigenvalues(Matrix w) => [.. Lapack.SingularValues(w).Select(s => s * s)];

    private static double KsToMp(double[] descending) =>
        Statistics.KsDistance([.. descending.Reverse()], l => MarchenkoPastur.Cdf(l, 1, 1));

    /// <summary>Mean and standard deviation of the KS distance to MP of Gaussian N × N matrices (entries of variance 1/N).</summary>
    private static (double Mean, double Sd) NullKs(int width, int draws, Rng rng)
    {
        var ks = new double[draws];
        Blas.SingleThreaded(() => Parallel.For(0, draws, d =>
        {
            var g = new Matrix(width, width);
            rng.Split((ulong)d).FillGaussian(g.Data, 1 / Math.Sqrt(width));
            ks[d] = KsToMp(Eigenvalues(g));
        }));
        return (Statistics.Mean(ks), Math.Sqrt(Statistics.Variance(ks)));
    }

    /// <summary>sup |F_MP − F_SC| for MP (q = 1, σ² = 1, mean 1, variance 1) and the semicircle of the same mean and variance
    /// (centre 1, radius 2), on a fine grid.</summary>
    private static double SemicircleDistance()
    {
        double d = 0;
        for (int i = 1; i < 4000; i++)
        {
            double x = -1 + 5.0 * i / 4000;
            d = Math.Max(d, Math.Abs(MarchenkoPastur.Cdf(x, 1, 1) - WignerSemicircle.Cdf(x, 1, 2)));
        }
        return d;
    }

    private static void Judge(ExperimentOutput output, Setup p, SpectraRun[] runs, (double Mean, double Sd)[] nulls, int failures)
    {
        string lost = failures > 0 ? $" {failures} runs failed and were left out (facts: failed_runs)." : "";
        var mup = runs.Where(r => r.Param == Parameterization.MuP).ToArray();
        var ntk = runs.Where(r => r.Param == Parameterization.Ntk).ToArray();
        double semicircle = SemicircleDistance();
        output.Claims.Add(ScalingFits.Decisive(p.Widths.Select((w, i) =>
        {
            var ks = runs.Where(r => r.Width == w).Select(r => KsToMp(r.Initial)).ToArray();
            var claim = MpAtInit.With();
            if (ks.Length < 2) return claim.Inconclusive(nulls[i].Mean, $"N = {w}: fewer than 2 networks.{lost}");
            double se = Statistics.StandardError(ks);
            double tol = 4 * Math.Sqrt(nulls[i].Sd * nulls[i].Sd / ks.Length + nulls[i].Sd * nulls[i].Sd / p.NullDraws);
            string note = string.Create(CultureInfo.InvariantCulture, $"N = {w}: mean KS {ks.Average():G3} over " +
                $"{ks.Length} networks; Gaussian matrices {nulls[i].Mean:G3} ± {nulls[i].Sd:G3} (sd, {p.NullDraws} draws); the " +
                $"semicircle is {semicircle:G3} from MP.{lost}");
            return claim.Compare(nulls[i].Mean, ks.Average(), se, tol, note, semicircle);
        })));
        output.Claims.Add(ScalingFits.Decisive(p.Widths.Select(w =>
        {
            var at = mup.Where(r => r.Width == w).ToArray();
            var claim = BulkEdge.With();
            if (at.Length < 2) return claim.Inconclusive(1, $"N = {w}: fewer than 2 μP networks.{lost}");
            var ratio = at.Select(r => r.EdgeRatio).ToArray();
            double se = Statistics.StandardError(ratio);
            double model = Math.Pow(w, -2.0 / 3);
            string note = string.Create(CultureInfo.InvariantCulture, $"N = {w}: λ_(k+1)(T)/λ₁(0) = {ratio.Average():F4} " +
                $"± {se:F4} with k = {string.Join(",", at.Select(r => r.Outliers(r.Final)))} outliers; ‖W(T)‖²_F/‖W(0)‖²_F = " +
                $"{at.Average(r => r.Inflation):F4}; tolerance 4·SE + N^−2/3 = {4 * se + model:F4}.{lost}");
            return claim.Compare(1, ratio.Average(), se, 4 * se + model, note, at.Average(r => r.Inflation));
        })));
        var counts = mup.Select(r => r.Outliers(r.Final)).ToArray();
        string Counts(SpectraRun[] set) => string.Join("; ", p.Widths.Select(w =>
            $"N = {w}: " + string.Join(",", set.Where(r => r.Width == w).Select(r => r.Outliers(r.Final)))));
        var countClaim = OutlierCount.With(("classes", FashionMnist.Classes));
        output.Claims.Add(counts.Length == 0 ? countClaim.Inconclusive(FashionMnist.Classes, "No μP run finished." + lost)
            : countClaim.Compare(FashionMnist.Classes, counts.Max(), 0, 0,
                $"μP outliers by width: {Counts(mup)}; NTK parameterisation: {Counts(ntk)}.{lost}", 0));
        output.Claims.Add(WidthSlope(SpikeMup.With(), p, mup, r => r.Spike, 0, -0.5, lost));
        output.Claims.Add(WidthSlope(SpikeNtk.With(), p, ntk, r => r.Spike, -0.5, 0, lost));
        output.Claims.Add(WidthSlope(OutlierMup.With(), p, mup, r => r.Distance, 0, -1, lost));
    }

    private static Claim WidthSlope(DeclaredClaim claim, Setup p, SpectraRun[] runs, Func<SpectraRun, double> value, double predicted,
        double competitor, string lost)
    {
        var widths = p.Widths.Where(w => runs.Count(r => r.Width == w) >= 2).ToArray();
        var mean = widths.Select(w => runs.Where(r => r.Width == w).Average(value)).ToArray();
        var se = widths.Select(w => Statistics.StandardError([.. runs.Where(r => r.Width == w).Select(value)])).ToArray();
        var fit = ScalingFits.Slope(claim, [.. widths.Select(w => (double)w)], mean, se, predicted, 0.1,
            "widths this small drift", competitor);
        return fit with
        {
            Note = $"{fit.Note} Values by width: " + string.Join("; ", widths.Select((w, i) => Text($"{w}: {mean[i]:G4} ± {se[i]:G2}")))
                + "." + lost,
        };
    }

    private static string Text(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static void Tabulate(ExperimentOutput output, Setup p, SpectraRun[] runs)
    {
        output.Tables["runs"] = SeriesTable.FromRows(runs,
            ("param", r => r.Param.ToText()), ("width", r => (double)r.Width), ("seed", r => (double)r.Seed),
            ("final_loss", r => r.FinalLoss), ("outliers", r => r.Failure is null ? r.Outliers(r.Final) : double.NaN),
            ("spike", r => r.Spike), ("top_initial", r => r.Failure is null ? r.Initial[0] : double.NaN),
            ("top_final", r => r.Failure is null ? r.Final[0] : double.NaN),
            ("edge_ratio", r => r.Failure is null ? r.EdgeRatio : double.NaN),
            ("ks_initial", r => r.Failure is null ? KsToMp(r.Initial) : double.NaN));
        const int top = 12;
        var rows = (from r in runs where r.Failure is null
                    from t in Enumerable.Range(0, r.Steps.Length)
                    from k in Enumerable.Range(0, Math.Min(top, r.Width))
                    select (r, t, k)).ToArray();
        output.Tables["top_eigenvalues"] = SeriesTable.FromRows(rows,
            ("param", x => x.r.Param.ToText()), ("width", x => (double)x.r.Width), ("seed", x => (double)x.r.Seed),
            ("step", x => (double)x.r.Steps[x.t]), ("rank", x => (double)(x.k + 1)), ("eigenvalue", x => x.r.Eigenvalues[x.t][x.k]));
    }

    private static void Plot(ExperimentOutput output, Setup p, SpectraRun[] runs)
    {
        var widest = runs.Where(r => r.Param == Parameterization.MuP && r.Width == p.Widths[^1])
            .OrderBy(r => r.Seed).FirstOrDefault();
        if (widest is not null)
        {
            var series = new List<SeriesSpec>();
            double[] grid = [.. Enumerable.Range(1, 199).Select(i => 4.2 * i / 200)];
            series.Add(new SeriesSpec("Marchenko–Pastur", grid, [.. grid.Select(x => MarchenkoPastur.Density(x, 1, 1))], SeriesKind.Line,
                Dashed: true));
            foreach (int t in new[] { 0, widest.Steps.Length - 1 })
            {
                var (x, y) = Histogram(widest.Eigenvalues[t], 0.1);
                series.Add(new SeriesSpec($"step {widest.Steps[t]}", x, y, SeriesKind.Points));
            }
            output.Plots.Add(new PlotSpec($"Spectrum of WᵀW, μP, N = {widest.Width}", "eigenvalue λ", "density", series, LogY: true,
                Caption: $"Histogram (bins 0.1) at initialisation and after {p.Steps} GD steps; the bulk edge is 4, outliers lie " +
                    "beyond it (Lauditi et al. 2026, Figs. 2–3)."));
        }
        var trajectories = new List<SeriesSpec>();
        foreach (var param in new[] { Parameterization.MuP, Parameterization.Ntk })
            foreach (int w in p.Widths)
                if (runs.FirstOrDefault(r => r.Param == param && r.Width == w && r.Seed == 0) is { } r)
                    trajectories.Add(new SeriesSpec($"{param.ToText()} N = {w}", [.. r.Steps.Select(s => (double)s)],
                        [.. r.Eigenvalues.Select(e => e[0])], SeriesKind.Line, Dashed: param == Parameterization.Ntk));
        output.Plots.Add(new PlotSpec("Top eigenvalue of WᵀW over training", "GD step", "λ₁", trajectories,
            Caption: "Seed 0 of each width; solid μP, dashed NTK parameterisation; the MP edge is 4."));
        var spike = new List<SeriesSpec>();
        foreach (var param in new[] { Parameterization.MuP, Parameterization.Ntk })
        {
            var widths = p.Widths.Where(w => runs.Any(r => r.Param == param && r.Width == w)).ToArray();
            spike.Add(new SeriesSpec(param.ToText(), [.. widths.Select(w => (double)w)],
                [.. widths.Select(w => runs.Where(r => r.Param == param && r.Width == w).Average(r => r.Spike))], SeriesKind.Points));
        }
        output.Plots.Add(new PlotSpec("Operator norm of the update ‖W(T) − W(0)‖", "width N", "‖ΔW‖", spike, LogX: true,
            LogY: true,
            Caption: "μP: width-independent; NTK parameterisation: ∝ N^−1/2."));
    }

    /// <summary>Density histogram of the values (bins of the given width from 0), non-empty bins only.</summary>
    private static (double[] X, double[] Y) Histogram(double[] values, double bin)
    {
        var counts = values.GroupBy(v => (int)Math.Floor(v / bin)).OrderBy(g => g.Key).ToArray();
        return ([.. counts.Select(g => (g.Key + 0.5) * bin)], [.. counts.Select(g => g.Count() / (values.Length * bin))]);
    }
}
