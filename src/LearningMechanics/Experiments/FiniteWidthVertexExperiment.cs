using System.Globalization;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab;
using LearningMechanics.Measurement.Ensembles;
using LearningMechanics.Numerics;
using LearningMechanics.Theory;
using LearningMechanics.Theory.FiniteWidth;

namespace LearningMechanics.Experiments;

/// <summary>
/// <c>finite-width-vertex</c> (Roberts &amp; Yaida 2022, §5.4, eqs. 5.109, 5.130–5.131): the output's excess kurtosis
/// κ = 3V/(nK²) of random MLPs at every depth ℓ and width n against the four-point vertex recursion, for ReLU and
/// tanh at criticality (where V/K² grows linearly in ℓ with slope 3A₄/A₂² − 1 = 5 and → 2/3) and off criticality
/// (σ_b² = 0.2, σ_w² = 1.5, where the ℓ/n law breaks). Measurement: real networks through their conditional kernels
/// (<see cref="ConditionalKernelEnsemble"/>), every depth from one network.
/// </summary>
public sealed class FiniteWidthVertexExperiment : IExperiment
{
    public string Id => "finite-width-vertex";
    public string Title => "The four-point vertex: 1/n corrections grow with depth";
    public string Summary =>
        "output kurtosis = 3V/(nK²) with V from the vertex recursion; at criticality V/(nK²) ≈ 5ℓ/n (ReLU), (2/3)ℓ/n (tanh)";
    public string Source => "Roberts & Yaida 2022, §4.3, §5.4 (eqs. 5.109, 5.130, 5.131)";

    public IReadOnlyList<SettingInfo> Settings { get; } =
    [
        new("widths", "hidden widths n", "128,256,512", "128,256,512,1024"),
        new("depth", "hidden layers L (every ℓ ≤ L is measured)", "12", "24"),
        new("nets", "networks per width", "2000", "10000"),
        new("off_critical", "σ_b²:σ_w² of the off-critical configurations", "0.2:1.5", "0.2:1.5"),
    ];

    private static readonly ClaimDeclaration Vertex = new("vertex-{config}",
        "{act} (σ_b² = {sb2:G3}, σ_w² = {sw2:G4}): output excess kurtosis = 3V/(nK²) from the vertex recursion at every depth and " +
            "width",
        "Roberts & Yaida 2022, eq. 5.109; §4.3", ClaimRule.TwoSided,
        "4·SE + model error κ·(V/K²)/n (the next order in 1/n) at the (depth, width) point furthest beyond it")
    {
        Competitor = "no vertex: a Gaussian output, κ = 0 (the infinite-width limit)",
    };

    private static readonly ClaimDeclaration VertexSlope = new("vertex-slope-{config}",
        "{act} at criticality: the normalised vertex V/(nK²) grows linearly in ℓ/n with the recursion's coefficient",
        "Roberts & Yaida 2022, eqs. 5.130–5.131", ClaimRule.TwoSided, "4·SE of the fitted slope + slope·L/n (the next order)")
    {
        Competitor = "the other universality class's coefficient ν (2/3 of the K* = 0 class for scale-invariant φ, " +
            "2 of the deep linear network for K* = 0)",
    };

    public IReadOnlyList<ClaimDeclaration> Claims { get; } = [Vertex, VertexSlope];

    public void Validate(Settings settings) => Setup.From(settings);

    /// <summary>Per width and network: one weight draw shared by the five configurations, each propagating the input (d = 16)
    /// and its Gram per layer; the conditional kernels of every configuration, depth and network are kept for all widths,
    /// and each thread holds a network and five workspaces.</summary>
    public ResourceEstimate? Estimate(Settings settings)
    {
        var p = Setup.From(settings);
        int configs = p.Configs.Length;
        double flops = (double)p.Nets * p.Widths.Sum(n =>
        {
            double w = WorkEstimate.MlpWeights(16, n, p.Depth);
            return WorkEstimate.Draw(w) + configs * (WorkEstimate.Forward(w, 1) + 2.0 * n * p.Depth);
        });
        double widest = p.Widths[^1];
        double bytes = WorkEstimate.Float64 * p.Widths.Length * configs * (p.Depth + 1.0) * p.Nets
            + WorkEstimate.Threads * (WorkEstimate.Float64 * WorkEstimate.MlpWeights(16, widest, p.Depth)
                + configs * WorkEstimate.Activations(widest * p.Depth, 1));
        return new ResourceEstimate(flops, bytes);
    }

    private sealed record Config(string Name, Activation Act, double Sw2, double Sb2, bool Critical);

    private sealed record Row(string Cfg, int Depth, int Width, double Kappa, double Se, double Predicted, double VK2);

    private sealed record Coefficient(string Name, double Predicted, double Measured, double Se, double Asymptote);

    private sealed record Setup(int[] Widths, int Depth, int Nets, Config[] Configs)
    {
        public static Setup From(Settings s)
        {
            int[] widths = s.GetIntList("widths", 8).Distinct().Order().ToArray();
            // The depth-slope fit needs two depths ≥ max(2, L/2).
            int depth = s.GetInt("depth", 3);
            int nets = s.GetInt("nets", 50);
            var off = s.GetString("off_critical").Split(':');
            if (off.Length != 2 || !double.TryParse(off[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double offB) || offB < 0
                || !double.TryParse(off[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double offW) || offW <= 0)
                throw new BadInputException($"Setting off_critical='{s.GetString("off_critical")}' must be σ_b²:σ_w², e.g. 0.2:1.5.");
            Config[] configs =
            [
                new("relu-critical", new Relu(), Criticality.CriticalWeightVariance(new Relu()), 0, true),
                new("tanh-critical", new Tanh(), Criticality.CriticalWeightVariance(new Tanh()), 0, true),
                new("linear-critical", new Linear(), 1, 0, true),
                new("relu-off-critical", new Relu(), offW, offB, false),
                new("tanh-off-critical", new Tanh(), offW, offB, false),
            ];
            return new Setup(widths, depth, nets, configs);
        }
    }

    public ExperimentOutput Run(RunContext ctx)
    {
        var p = Setup.From(ctx.Settings);
        var output = new ExperimentOutput();
        var root = new Rng(ctx.Seed);
        var x = Inputs.ToSphere(Matrix.FromRows([Enumerable.Range(0, 16).Select(i => Math.Sin(i + 1.0)).ToArray()]));   // x·x/d = 1
        var specs = p.Configs.Select(c => new MlpSpec(16, p.Widths[0], p.Depth, c.Act, c.Sw2, c.Sb2)).ToArray();
        var sims = ConditionalKernelEnsemble.Sample(specs, p.Widths, p.Nets, x, root, progress: ctx.Progress,
            cancellation: ctx.Cancellation);
        var rows = new List<Row>();
        var coefficients = new List<Coefficient>();
        for (int c = 0; c < p.Configs.Length; c++)
        {
            var cfg = p.Configs[c];
            // theory[ℓ] = layer ℓ+1 = output after ℓ hidden layers
            var theory = FourPointVertex.SingleInput(new(cfg.Act, cfg.Sw2, cfg.Sb2), 1.0, p.Depth + 1);
            output.Facts[$"{cfg.Name}"] = FormattableString.Invariant($"σ_b² = {cfg.Sb2}, σ_w² = {cfg.Sw2:G6}");
            var mine = Measure(p, cfg, c, theory, sims);
            rows.AddRange(mine);
            output.Claims.Add(VertexClaim(cfg, mine));
            if (cfg.Critical)
            {
                var (claim, coefficient) = VertexSlopeClaim(p, cfg, mine);
                coefficients.Add(coefficient);
                output.Claims.Add(claim);
            }
        }
        Report(output, p, rows, coefficients);
        return output;
    }

    /// <summary>κ with its SE at every depth and width, next to the recursion's 3V/(nK²) and V/K².</summary>
    private static List<Row> Measure(Setup p, Config cfg, int c, IReadOnlyList<VertexLayer> theory, WidthDraws[] sims)
    {
        var rows = new List<Row>();
        foreach (var sim in sims)
            for (int l = 1; l <= p.Depth; l++)
            {
                var (kappa, se) = ConditionalKernelEnsemble.Kurtosis(sim.Kc[c][l - 1][0]);
                rows.Add(new Row(cfg.Name, l, sim.Width, kappa, se, theory[l].ExcessKurtosis(sim.Width), theory[l].NormalisedVertex));
            }
        return rows;
    }

    /// <summary>(1) κ at every (ℓ, n) equals 3V/(nK²): tolerance 4·SE + model error κ·(V/K²)/n, the size of the next
    /// order.</summary>
    private static Claim VertexClaim(Config cfg, List<Row> mine)
    {
        var vertex = Vertex.With(("config", cfg.Name), ("act", cfg.Act.Name), ("sb2", cfg.Sb2), ("sw2", cfg.Sw2));
        Claim At(Row r)
        {
            double model = r.Predicted * r.VK2 / r.Width;
            return vertex.Compare(r.Predicted, r.Kappa, r.Se, 4 * r.Se + model,
                $"worst of {mine.Count} (depth, width) points, each against the Gaussian null: ℓ = {r.Depth}, n = {r.Width}; " +
                $"tolerance 4·SE + model error κ·(V/K²)/n = {model:G3} (next order in 1/n).", competitor: 0);
        }
        return ScalingFits.Decisive(mine.Select(At));
    }

    /// <summary>
    /// (2) At criticality n·κ/3 = V/K² grows linearly in ℓ: fitted slope at the largest width against the recursion's
    /// slope over the same layers (its large-ℓ limit is 3A₄/A₂² − 1 = 5 for ReLU, 2/3 for tanh: eqs. 5.130–5.131).
    /// </summary>
    private static (Claim, Coefficient) VertexSlopeClaim(Setup p, Config cfg, List<Row> mine)
    {
        int nMax = p.Widths[^1];
        var last = mine.Where(r => r.Width == nMax && r.Depth >= Math.Max(2, p.Depth / 2)).ToList();
        double[] ls = last.Select(r => (double)r.Depth).ToArray();
        double[] sig = last.Select(r => r.Se * nMax / 3).ToArray();
        var fit = Statistics.FitLine(ls, last.Select(r => r.Kappa * nMax / 3).ToArray(), sig);
        var fitTheory = Statistics.FitLine(ls, last.Select(r => r.Predicted * nMax / 3).ToArray(), sig);
        double asymptote = OptimalAspectRatio.Nu(cfg.Act);
        // The rival: the large-depth coefficient of the other universality class (eqs. 5.130 vs 5.131).
        double rival = OptimalAspectRatio.Nu(cfg.Act.IsScaleInvariant ? new Tanh() : new Linear());
        var claim = VertexSlope.With(("config", cfg.Name), ("act", cfg.Act.Name)).Compare(fitTheory.Slope, fit.Slope, fit.SlopeStdErr,
            4 * fit.SlopeStdErr + fitTheory.Slope * p.Depth / nMax,
            $"fit of n·κ/3 against ℓ ∈ [{ls.Min()}, {ls.Max()}] at n = {nMax}; asymptotic coefficient {asymptote:G3}, " +
            $"the other class's {rival:G3}; tolerance 4·SE + slope·L/n (next order).", rival);
        return (claim, new Coefficient(cfg.Name, fitTheory.Slope, fit.Slope, fit.SlopeStdErr, asymptote));
    }

    private static void Report(ExperimentOutput output, Setup p, List<Row> rows, List<Coefficient> coefficients)
    {
        output.Tables["kurtosis"] = SeriesTable.FromRows(rows, ("config", r => r.Cfg), ("depth", r => r.Depth), ("width", r => r.Width),
            ("excess_kurtosis", r => r.Kappa), ("stderr", r => r.Se), ("predicted_3V_over_nK2", r => r.Predicted),
            ("V_over_K2", r => r.VK2));
        var series = new List<SeriesSpec>();
        foreach (var cfg in p.Configs)
        {
            var top = rows.Where(r => r.Cfg == cfg.Name && r.Width == p.Widths[^1]).ToList();
            var ls = top.Select(r => (double)r.Depth).ToArray();
            series.Add(new SeriesSpec($"{cfg.Name} measured", ls, top.Select(r => r.Kappa * r.Width / 3).ToArray(), SeriesKind.Points,
                top.Select(r => r.Se * r.Width / 3).ToArray()));
            series.Add(new SeriesSpec($"{cfg.Name} recursion", ls, top.Select(r => r.VK2).ToArray(), SeriesKind.Line));
        }
        output.Plots.Add(new PlotSpec($"Normalised vertex vs depth (n = {p.Widths[^1]})", "hidden layers ℓ", "n·κ/3 = V/K²", series,
            Caption: "Points: measured n·κ/3 ± SE; lines: the four-point vertex recursion. At criticality linear in ℓ; " +
            "off criticality it saturates."));
        var idx = Enumerable.Range(1, coefficients.Count).Select(i => (double)i).ToArray();
        output.Plots.Add(new PlotSpec("Vertex coefficient d(V/K²)/dℓ at criticality, per activation", "activation (see caption)",
            "coefficient",
        [
            new SeriesSpec("measured (fit)", idx, coefficients.Select(c => c.Measured).ToArray(), SeriesKind.Points,
                coefficients.Select(c => c.Se).ToArray()),
            new SeriesSpec("recursion over the same layers", idx, coefficients.Select(c => c.Predicted).ToArray(), SeriesKind.Points),
            new SeriesSpec("asymptotic ν (eqs. 5.130–5.131)", idx, coefficients.Select(c => c.Asymptote).ToArray(), SeriesKind.Points),
        ], Caption: string.Join("; ", coefficients.Select((c, i) => $"{i + 1} = {c.Name}")) +
            ". ν = 3A₄/A₂² − 1 (5 for ReLU, 2 for the deep linear network) or 2/3 (K* = 0 class)."));
        output.Tables["coefficients"] = SeriesTable.FromRows(coefficients, ("config", c => c.Name), ("predicted_slope", c => c.Predicted),
            ("measured_slope", c => c.Measured), ("stderr", c => c.Se), ("asymptotic_nu", c => c.Asymptote));
    }
}
