using System.Globalization;
using System.Text.Json;
using LearningMechanics.Architecture;
using LearningMechanics.Lab;
using LearningMechanics.Measurement.Ensembles;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.FiniteWidth;

namespace LearningMechanics.Experiments;

/// <summary>
/// <c>residual-vertex</c>: the four-point vertex of residual MLPs z′ = γz + W σ(z) + b at residual criticality
/// C_W(γ) = (1 − γ²)C_W* (Roberts &amp; Yaida 2022, App. B), measured as the n → ∞ limit of n·Cov(z_i², z_k²)/K² from exact
/// O(n) samples of residual networks (<see cref="ResidualChain"/>), against the book's recursion B.26 and the corrected one
/// (B.26 + the memory term, docs/notes/residual-vertex.md), and the sign of dν/dγ² near γ = 0.
/// </summary>
public sealed class ResidualVertexExperiment : IGridExperiment
{
    public string Id => "residual-vertex";
    public string Title => "Residual networks at finite width: the book's vertex recursion against exact Monte Carlo";
    public string Summary =>
        "V/K² of residual MLPs extrapolated in 1/n vs Roberts & Yaida's B.26 (refuted for ReLU) and B.26 + the memory term";
    public string Source => "Roberts & Yaida 2022, App. B (eqs. B.26, B.29); docs/notes/residual-vertex.md";

    public IReadOnlyList<SettingInfo> Settings { get; } =
    [
        new("widths", "widths n of the 1/n extrapolation", "128,256,512", "128,256,512,1024"),
        new("depth", "deepest layer ℓ measured (layer 1 is the dense input layer)", "10", "16"),
        new("nets", "networks per (activation, γ², width)", "64000", "300000"),
        new("gammas", "residual scales γ² (0 < γ² < 1); ReLU also runs γ = 0 for the slope shift", "0.25,0.5,0.75", "0.25,0.5,0.75"),
        new("acts", "activations", "relu,tanh,linear", "relu,tanh,linear"),
    ];

    private static readonly ClaimDeclaration Corrected = new("corrected-{config}",
        "{act}, γ² = {g2:G3}: the leading-order vertex V/K² of residual networks at criticality equals the corrected recursion " +
            "(B.26 + the memory term) at every depth",
        "Roberts & Yaida 2022, eq. B.26; memory term: docs/notes/residual-vertex.md §3.5", ClaimRule.TwoSided,
        "4·SE of the a + b/n extrapolation of n·Cov(z_i², z_k²)/K², at the depth furthest beyond it")
    {
        Competitor = "{rival}",
    };

    private static readonly ClaimDeclaration Book = new("book-{config}",
        "{act}, γ² = {g2:G3}: the book's residual vertex recursion B.26 gives the leading-order V/K² at every depth",
        "Roberts & Yaida 2022, App. B, eq. B.26", ClaimRule.TwoSided,
        "4·SE of the a + b/n extrapolation, at the depth furthest beyond it")
    {
        Competitor = "the corrected recursion, B.26 + 2C_Wχ∥Δ_ℓ (docs/notes/residual-vertex.md)",
        ExpectedRefutation = "B.26 treats two residual neurons as a Gaussian scale mixture, but a neuron's own past σ(z)² fed the " +
            "shared variance and stays correlated with its present through γz: the memory term Δ_ℓ (docs/notes/residual-vertex.md " +
            "§3.3) is missing, and measured V/K² lies above B.26 from ℓ = 3 on.",
    };

    private static readonly ClaimDeclaration NuShift = new("nu-shift-relu",
        "ReLU: the depth slope of V/K² at γ² = {g2:G3} minus the plain MLP's equals the corrected recursion's shift (positive over " +
            "deep enough layers: residual connections raise ν at small γ)",
        "docs/notes/residual-vertex.md §5; against Roberts & Yaida 2022, eq. B.29", ClaimRule.TwoSided,
        "4·SE of the difference of the two extrapolated slopes")
    {
        Competitor = "the book's B.26, whose slope at γ² = {g2:G3} is lower than the plain MLP's (residual connections lower ν)",
    };

    public IReadOnlyList<ClaimDeclaration> Claims { get; } = [Corrected, Book, NuShift];

    public void Validate(Settings settings) => Setup.From(settings);

    /// <summary>Per configuration, width and network: the exact O(n) chain, ≈ 50 operations per neuron and layer (a Gaussian
    /// draw, the activation, the sums); each thread holds three width-n buffers, and each unit keeps its batch sums.</summary>
    public ResourceEstimate? Estimate(Settings settings)
    {
        var p = Setup.From(settings);
        double flops = 50.0 * p.Configs.Length * p.Nets * p.Depth * p.Widths.Sum(n => (double)n);
        double bytes = WorkEstimate.Threads * 3 * WorkEstimate.Float64 * p.Widths[^1]
            + 2 * WorkEstimate.Float64 * p.Configs.Length * p.Widths.Length * ResidualChain.DefaultBatches * p.Depth * 4;
        return new ResourceEstimate(flops, bytes);
    }

    private sealed record Config(string Name, Activation Act, double Gamma2)
    {
        public double Gamma => Math.Sqrt(Gamma2);
        public Initialization Init => new(Act, OptimalAspectRatio.ResidualCriticalWeightVariance(Act, Gamma), 0);

        /// <summary>Scale-invariant and nonlinear (ReLU, leaky ReLU): the memory term is large and ν(γ) has a closed form.</summary>
        public bool Kinked => Act.IsScaleInvariant && Act is not Linear;
    }

    /// <summary>One (configuration, depth): the n → ∞ value of n·Cov/K² (or of its increment from layer <c>From</c>) and the
    /// two recursions' V/K².</summary>
    private sealed record Point(string Cfg, int Depth, double Measured, double Se, double Chi2, double Corrected, double Book);

    private sealed record Setup(int[] Widths, int Depth, int Nets, Config[] Configs)
    {
        public static Setup From(Settings s)
        {
            int[] widths = s.GetIntList("widths", 8).Distinct().Order().ToArray();
            if (widths.Length < 3)
                throw new BadInputException($"Setting widths needs ≥ 3 distinct widths for the 1/n fit, has {widths.Length}.");
            int depth = s.GetInt("depth", 3);
            int nets = s.GetInt("nets", 2 * ResidualChain.DefaultBatches);
            var gammas = s.GetList("gammas").Select(t =>
                double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double g) && g > 0 && g < 1
                    ? g : throw new BadInputException($"Setting gammas: '{t}' must be a number with 0 < γ² < 1."))
                .Distinct().Order().ToArray();
            var acts = s.GetList("acts").Select(Activation.Parse).ToArray();
            var configs = new List<Config>();
            foreach (var act in acts)
            {
                if (act.IsScaleInvariant && act is not Linear) configs.Add(new Config($"{act.Name}-g0", act, 0));
                configs.AddRange(gammas.Select(g =>
                    new Config(string.Create(CultureInfo.InvariantCulture, $"{act.Name}-g{g:G3}"), act, g)));
            }
            return new Setup(widths, depth, nets, [.. configs]);
        }
    }

    public ExperimentOutput Run(RunContext ctx) => Grid.Run(this, ctx);

    /// <summary>One unit per (configuration, width): an ensemble of <c>nets</c> networks.</summary>
    public IReadOnlyList<string> Units(RunContext ctx)
    {
        var p = Setup.From(ctx.Settings);
        return [.. p.Configs.SelectMany(c => p.Widths.Select(n => Key(c, n)))];
    }

    private static string Key(Config c, int width) => string.Create(CultureInfo.InvariantCulture, $"{c.Name},n={width}");

    public JsonElement Measure(RunContext ctx, string unit)
    {
        var p = Setup.From(ctx.Settings);
        for (int c = 0; c < p.Configs.Length; c++)
            for (int w = 0; w < p.Widths.Length; w++)
            {
                var cfg = p.Configs[c];
                if (Key(cfg, p.Widths[w]) != unit) continue;
                return Grid.ToJson(ResidualChain.Sample(cfg.Init, cfg.Gamma, 1, p.Widths[w], p.Depth, p.Nets,
                    new Rng(ctx.Seed).Split((ulong)c, (ulong)w), stage: unit, progress: ctx.Progress, cancellation: ctx.Cancellation));
            }
        throw new BadInputException($"Unit '{unit}' is not a unit of {Id} with these settings.");
    }

    public ExperimentOutput Judge(RunContext ctx, IReadOnlyDictionary<string, JsonElement> measurements)
    {
        var p = Setup.From(ctx.Settings);
        var output = new ExperimentOutput();
        var points = new List<Point>();
        var raw = new List<(string Cfg, int Depth, int Width, double Value, double Se)>();
        var slopes = new Dictionary<string, Point>();
        int lo = Math.Max(3, (p.Depth + 1) / 2);
        for (int c = 0; c < p.Configs.Length; c++)
        {
            var cfg = p.Configs[c];
            var corrected = FourPointVertex.SingleInput(cfg.Init, 1, p.Depth, cfg.Gamma);
            var book = FourPointVertex.SingleInput(cfg.Init, 1, p.Depth, cfg.Gamma, book: true);
            var draws = p.Widths.Select(n => Grid.FromJson<ResidualChainDraws>(measurements[Key(cfg, n)])).ToArray();
            double[] ns = p.Widths.Select(n => (double)n).ToArray();
            Point Fit(int depth, int from, Func<ResidualChainDraws, (double Value, double Se)> estimate)
            {
                var est = draws.Select(estimate).ToArray();
                var fit = ScalingFits.Extrapolate(ns, est.Select(e => e.Value).ToArray(), est.Select(e => e.Se).ToArray());
                double Of(IReadOnlyList<VertexLayer> r) => r[depth - 1].NormalisedVertex - (from > 0 ? r[from - 1].NormalisedVertex : 0);
                return new Point(cfg.Name, depth, fit.A, fit.SeA, fit.ReducedChiSquare, Of(corrected), Of(book));
            }
            var mine = new List<Point>();
            for (int l = 2; l <= p.Depth; l++)
            {
                int depth = l;
                foreach (var (d, n) in draws.Select(d => (d, d.Width)))
                {
                    var (v, se) = d.NormalisedVertex(depth);
                    raw.Add((cfg.Name, depth, n, v, se));
                }
                mine.Add(Fit(depth, 0, d => d.NormalisedVertex(depth)));
            }
            points.AddRange(mine);
            if (cfg.Kinked && p.Depth >= lo + 1)
                slopes[cfg.Name] = Fit(p.Depth, lo, d => d.NormalisedVertexIncrement(lo, p.Depth));
            Judge(output, cfg, mine);
        }
        if (slopes.Count > 0) JudgeSlopes(output, p, slopes, lo);
        Facts(output, p);
        Report(output, p, points, raw);
        return output;
    }

    /// <summary>The corrected recursion at every depth (and, for ReLU, the book's B.26) against the extrapolated V/K².</summary>
    private static void Judge(ExperimentOutput output, Config cfg, List<Point> mine)
    {
        if (cfg.Gamma2 == 0) return;   // the plain MLP only anchors the slope shift (finite-width-vertex covers it)
        bool reluLike = cfg.Kinked;
        string rival = reluLike
            ? "the book's B.26, without the memory term"
            : cfg.Act is Linear
                ? "no vertex, V = 0 (a Gaussian network; for the linear network the memory term vanishes and B.26 is exact)"
                : "no vertex, V = 0 (a Gaussian network; for this activation B.26 and the corrected recursion differ by ≤ 2 %, " +
                  "below a quick run's resolution; docs/notes/residual-vertex.md resolves it with 10⁶ networks)";
        var corrected = Corrected.With(("config", cfg.Name), ("act", cfg.Act.Name), ("g2", cfg.Gamma2), ("rival", rival));
        output.Claims.Add(ScalingFits.Decisive(mine.Select(q => corrected.Compare(q.Corrected, q.Measured, q.Se, 4 * q.Se,
            Context(q), reluLike ? q.Book : 0))));
        if (reluLike)
        {
            var book = Book.With(("config", cfg.Name), ("act", cfg.Act.Name), ("g2", cfg.Gamma2));
            output.Claims.Add(ScalingFits.Decisive(mine.Select(q => book.Compare(q.Book, q.Measured, q.Se, 4 * q.Se, Context(q),
                q.Corrected))));
        }
        else
        {
            var last = mine[^1];
            output.Facts[$"book_ratio.{cfg.Name}"] = string.Create(CultureInfo.InvariantCulture, 
                $"at ℓ = {last.Depth}: measured/B.26 = {last.Measured / last.Book:F4} ± {last.Se / last.Book:F4}, corrected/B.26 = " +
                $"{last.Corrected / last.Book:F4}");
        }
    }

    private static string Context(Point q) => string.Create(CultureInfo.InvariantCulture, 
        $"ℓ = {q.Depth}: n·Cov(z_i², z_k²)/K² extrapolated to n → ∞ (reduced χ² = {q.Chi2:G3}); corrected {q.Corrected:G5}, " +
        $"B.26 {q.Book:G5}");

    /// <summary>
    /// The depth slope's shift: [V/K²(L) − V/K²(ℓ₀)]/(L − ℓ₀) at the smallest γ² minus the plain MLP's, each
    /// extrapolated in 1/n, against the corrected recursion over the same layers; the book's B.26 predicts a shift of the other sign.
    /// </summary>
    private static void JudgeSlopes(ExperimentOutput output, Setup p, Dictionary<string, Point> slopes, int lo)
    {
        foreach (var act in p.Configs.Where(c => c.Gamma2 == 0).Select(c => c.Act))
        {
            var plain = slopes[$"{act.Name}-g0"];
            var cfg = p.Configs.Where(c => c.Act.Name == act.Name && c.Gamma2 > 0).MinBy(c => c.Gamma2);
            if (cfg is null || act.Name != "relu") continue;
            var res = slopes[cfg.Name];
            double span = p.Depth - lo;
            double measured = (res.Measured - plain.Measured) / span;
            double se = Math.Sqrt(res.Se * res.Se + plain.Se * plain.Se) / span;
            double predicted = (res.Corrected - plain.Corrected) / span;
            double book = (res.Book - plain.Book) / span;
            output.Claims.Add(NuShift.With(("g2", cfg.Gamma2)).Compare(predicted, measured, se, 4 * se,
                string.Create(CultureInfo.InvariantCulture,
                $"slopes over ℓ = {lo}…{p.Depth}, extrapolated in 1/n: γ² = {cfg.Gamma2:G3} {res.Measured / span:G4} ± " +
                $"{res.Se / span:G2}, γ = 0 {plain.Measured / span:G4} ± {plain.Se / span:G2}; corrected shift {predicted:G3}, " +
                $"B.26 shift {book:G3}."), book));
        }
    }

    /// <summary>The large-depth slopes ν(γ) and the optimal aspect ratio, corrected and as the book has them.</summary>
    private static void Facts(ExperimentOutput output, Setup p)
    {
        foreach (var cfg in p.Configs.Where(c => c.Kinked && c.Gamma2 > 0))
        {
            double nu = OptimalAspectRatio.ResidualNu(cfg.Act, cfg.Gamma);
            double book = OptimalAspectRatio.Nu(cfg.Act, cfg.Gamma);
            output.Facts[$"nu.{cfg.Name}"] = string.Create(CultureInfo.InvariantCulture, 
                $"corrected ν = {nu:G4} (r* = {OptimalAspectRatio.RStar(nu, 1000):G3} at n = 1000); book's B.29: ν = {book:G4} " +
                $"(r* = {OptimalAspectRatio.RStar(book, 1000):G3})");
        }
        foreach (var cfg in p.Configs.Where(c => !c.Kinked && c.Gamma2 > 0))
            output.Facts[$"C_W.{cfg.Name}"] = cfg.Init.Sw2.ToString("G6", CultureInfo.InvariantCulture);
    }

    private static void Report(ExperimentOutput output, Setup p, List<Point> points,
        List<(string Cfg, int Depth, int Width, double Value, double Se)> raw)
    {
        output.Tables["vertex"] = SeriesTable.FromRows(points, ("config", q => q.Cfg), ("depth", q => q.Depth),
            ("V_over_K2_measured", q => q.Measured), ("stderr", q => q.Se), ("reduced_chi2", q => q.Chi2),
            ("V_over_K2_corrected", q => q.Corrected), ("V_over_K2_book_B26", q => q.Book));
        output.Tables["finite_width"] = SeriesTable.FromRows(raw, ("config", r => r.Cfg), ("depth", r => r.Depth), ("width", r => r.Width),
            ("n_cov_over_K2", r => r.Value), ("stderr", r => r.Se));
        foreach (var act in p.Configs.Select(c => c.Act.Name).Distinct())
        {
            var series = new List<SeriesSpec>();
            foreach (var cfg in p.Configs.Where(c => c.Act.Name == act && c.Gamma2 > 0))
            {
                var mine = points.Where(q => q.Cfg == cfg.Name).ToList();
                var ls = mine.Select(q => (double)q.Depth).ToArray();
                string g = cfg.Gamma2.ToString("G3", CultureInfo.InvariantCulture);
                series.Add(new SeriesSpec($"γ² = {g} measured", ls, mine.Select(q => q.Measured).ToArray(), SeriesKind.Points,
                    mine.Select(q => q.Se).ToArray()));
                series.Add(new SeriesSpec($"γ² = {g} corrected", ls, mine.Select(q => q.Corrected).ToArray(), SeriesKind.Line));
                series.Add(new SeriesSpec($"γ² = {g} B.26 (book)", ls, mine.Select(q => q.Book).ToArray(), SeriesKind.Line,
                    Dashed: true));
            }
            output.Plots.Add(new PlotSpec($"{act}: residual vertex V/K² vs depth", "layer ℓ", "V/K² = lim n·κ/3", series,
                Caption: "Points: n·Cov(z_i², z_k²)/K² extrapolated to n → ∞ (a + b/n over the widths) ± SE; solid: corrected " +
                "recursion (B.26 + memory term); dashed: the book's B.26."));
        }
    }
}
