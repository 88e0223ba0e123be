using System.Globalization;
using LearningMechanics.Lab;
using LearningMechanics.Numerics;

namespace LearningMechanics.Experiments;

/// <summary>
/// <c>scaling-laws</c> (Hoffmann et al. 2022; Kaplan et al. 2020): does the fitting procedure behind the compute-optimal
/// scaling rules recover a known law? Runs on a grid of model sizes N and data sizes D get losses from
/// L(N, D) = E + A/N^α + B/D^β with Hoffmann et al.'s fitted values as the truth and multiplicative noise; <see
/// cref="ScalingLawFit"/> (approach 3, the procedure of <c>lmech scaling-fit</c>) must recover E, α, β and the allocation
/// exponent β/(α + β) within its bootstrap errors, at several noise levels.
/// </summary>
public sealed class ScalingLawsExperiment : IExperiment
{
    private const string Reference = "Hoffmann et al. 2022";

    public string Id => "scaling-laws";
    public string Title => "Scaling-law fits recover a known law and its compute-optimal allocation";
    public string Summary => "Hoffmann et al.'s approach 3 (Huber on log L, L-BFGS, bootstrap) recovers E, α, β and " +
        "N_opt ∝ C^{β/(α+β)} from noisy runs";
    public string Source => Reference;

    public IReadOnlyList<SettingInfo> Settings { get; } =
    [
        new("noise", "multiplicative noise levels σ (loss × e^{σξ})", "0.005,0.02", "0.002,0.005,0.01,0.02"),
        new("grid", "model sizes × data sizes (log-spaced N = 10⁷…10¹⁰, D = 10⁸…10¹¹)", "8", "12"),
        new("bootstrap", "bootstrap refits", "100", "400"),
        new("truth", "E, A, α, B, β of the generating law (Hoffmann et al. 2022, their fitted values)", "1.69,406.4,0.34,410.7,0.28",
            "1.69,406.4,0.34,410.7,0.28"),
    ];

    private static readonly ClaimDeclaration Parameters = new("parameters-noise{noise}",
        "noise σ = {noise}: the fit recovers the generating E, α and β, each within 4 bootstrap SE (worst shown)", Reference,
        ClaimRule.TwoSided, "4·SE (bootstrap over the runs) at the parameter furthest from its true value")
    {
        Competitor = "a pure power law per axis, as fitted without the irreducible term: E = 0, and α, β the log–log slopes of " +
            "the loss against N and against D over all runs",
    };

    private static readonly ClaimDeclaration Allocation = new("allocation-noise{noise}",
        "noise σ = {noise}: the fitted compute-optimal exponent β/(α + β) of N_opt ∝ C^a is the generating law's {truth}",
        Reference, ClaimRule.TwoSided, "4·SE (bootstrap)")
    {
        Competitor = "Kaplan et al. 2020's allocation N_opt ∝ C^0.73",
    };

    public IReadOnlyList<ClaimDeclaration> Claims { get; } = [Parameters, Allocation];

    private const double KaplanExponent = 0.73;

    private sealed record Setup(double[] Noise, ScalingLaw Truth, int Grid, int Replicates)
    {
        public static Setup From(Settings s)
        {
            double[] noise = s.GetDoubleList("noise", 0, minInclusive: true);
            double[] t = s.GetDoubleList("truth", 0, minInclusive: true);
            if (t.Length != 5) throw new BadInputException($"Setting truth needs five numbers E, A, α, B, β; got {t.Length}.");
            return new Setup(noise, new ScalingLaw(t[0], t[1], t[2], t[3], t[4]), s.GetInt("grid", 3), s.GetInt("bootstrap", 2));
        }
    }

    public void Validate(Settings settings) => Setup.From(settings);

    /// <summary>L-BFGS iterations assumed per minimisation, each with about two evaluations of the objective, for the estimate.
    /// </summary>
    private const double IterationsPerFit = 1000;

    /// <summary>
    /// Per noise level: the fit from every start of Hoffmann et al.'s grid and the bootstrap refits from five starts each,
    /// every minimisation ≈ 1000 L-BFGS iterations of two evaluations over the grid² runs (≈ 100 operations per run); in
    /// memory the runs and the bootstrap's fitted laws.
    /// </summary>
    public ResourceEstimate? Estimate(Settings settings)
    {
        var p = Setup.From(settings);
        double runs = (double)p.Grid * p.Grid;
        double fits = ScalingLawFit.HoffmannGrid.Count + 5.0 * p.Replicates;
        double flops = p.Noise.Length * fits * IterationsPerFit * 2 * 100 * runs;
        double bytes = WorkEstimate.Float64 * (10 * runs + 20.0 * p.Replicates + 10.0 * ScalingLawFit.HoffmannGrid.Count);
        return new ResourceEstimate(flops, bytes);
    }

    public ExperimentOutput Run(RunContext ctx)
    {
        var p = Setup.From(ctx.Settings);
        double[] noise = p.Noise;
        var truth = p.Truth;
        int grid = p.Grid;
        int replicates = p.Replicates;
        var root = new Rng(ctx.Seed);
        var output = new ExperimentOutput();
        var rows = new List<(double Noise, string Parameter, double Truth, double Fit, double Se)>();
        ScalingLaw? first = null;
        double[] n0 = [], d0 = [], l0 = [];
        for (int k = 0; k < noise.Length; k++)
        {
            ctx.Cancellation.ThrowIfCancellationRequested();
            ctx.Progress?.Report(new ProgressInfo("noise levels", k, noise.Length));
            var rng = root.Split((ulong)k);
            var (n, d, l) = Runs(truth, grid, noise[k], rng.Split(0));
            var est = ScalingLawFit.WithBootstrap(n, d, l, replicates, rng.Split(1), ct: ctx.Cancellation);
            if (first is null) { first = est.Fit; n0 = n; d0 = d; l0 = l; }
            Judge(output, truth, noise[k], n, d, l, est);
            var fit = est.Fit.ToArray();
            var tr = truth.ToArray();
            for (int q = 0; q < 5; q++) rows.Add((noise[k], ScalingLaw.Names[q], tr[q], fit[q], est.StdErr[q]));
            rows.Add((noise[k], "allocation", truth.ParameterExponent, est.Fit.ParameterExponent, est.ExponentStdErr));
        }
        output.Tables["recovery"] = SeriesTable.FromRows(rows, ("noise", r => r.Noise), ("parameter", r => r.Parameter),
            ("truth", r => r.Truth), ("fit", r => r.Fit), ("bootstrap_se", r => r.Se));
        output.Plots.AddRange(ScalingLawPlots.Of(first!, n0, d0, l0, []));
        return output;
    }


    /// <summary>A log-spaced grid of (N, D) with losses L(N, D)·e^{σξ}, ξ ~ N(0, 1).</summary>
    private static (double[] N, double[] D, double[] L) Runs(ScalingLaw truth, int grid, double noise, Rng rng)
    {
        var n = new List<double>();
        var d = new List<double>();
        var l = new List<double>();
        for (int i = 0; i < grid; i++)
            for (int j = 0; j < grid; j++)
            {
                double nv = 1e7 * Math.Pow(1000, i / (grid - 1.0)), dv = 1e8 * Math.Pow(1000, j / (grid - 1.0));
                n.Add(nv);
                d.Add(dv);
                l.Add(truth.Loss(nv, dv) * Math.Exp(noise * rng.NextGaussian()));
            }
        return ([.. n], [.. d], [.. l]);
    }

    private static void Judge(ExperimentOutput output, ScalingLaw truth, double noise, double[] n, double[] d, double[] l,
        ScalingLawEstimate est)
    {
        string sigma = noise.ToString("G3", CultureInfo.InvariantCulture);
        var logL = l.Select(v => Math.Log(v)).ToArray();
        var ones = l.Select(_ => 1.0).ToArray();
        double naiveAlpha = -Statistics.FitLine([.. n.Select(v => Math.Log(v))], logL, ones).Slope;
        double naiveBeta = -Statistics.FitLine([.. d.Select(v => Math.Log(v))], logL, ones).Slope;
        var claim = Parameters.With(("noise", sigma));
        (string Name, int Index, double Competitor)[] checks = [("E", 0, 0), ("α", 2, naiveAlpha), ("β", 4, naiveBeta)];
        var fit = est.Fit.ToArray();
        var tr = truth.ToArray();
        output.Claims.Add(ScalingFits.Decisive(checks.Select(c => claim.Compare(tr[c.Index], fit[c.Index], est.StdErr[c.Index],
            4 * est.StdErr[c.Index], string.Create(CultureInfo.InvariantCulture,
                $"{c.Name}: {n.Length} runs, {est.Replicates} bootstrap refits; 95 % interval [{est.Lower[c.Index]:G4}, " +
                $"{est.Upper[c.Index]:G4}]; tolerance 4·SE."), competitor: c.Competitor)).ToList()));
        output.Claims.Add(Allocation.With(("noise", sigma), ("truth", truth.ParameterExponent.ToString("F4", CultureInfo.InvariantCulture)))
            .Compare(truth.ParameterExponent, est.Fit.ParameterExponent, est.ExponentStdErr, 4 * est.ExponentStdErr,
                string.Create(CultureInfo.InvariantCulture, $"95 % interval [{est.ExponentLower:G4}, {est.ExponentUpper:G4}]; " +
                    $"tolerance 4·SE."), competitor: KaplanExponent));
    }
}
